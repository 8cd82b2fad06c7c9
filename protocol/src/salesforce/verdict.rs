//! What a failed answer says about sending the call again.
//!
//! A failure that proves nothing was done (401 INVALID_SESSION_ID, 403 ConcurrentRequests,
//! UNABLE_TO_LOCK_ROW) may be sent again whatever the call. A failure that leaves open whether
//! the call was carried out (500/502/503/504) may be sent again only by a call that is safe to
//! repeat. 403 REQUEST_LIMIT_EXCEEDED (TotalRequests) ends the run at once; anything else is a
//! definitive answer that a repetition would only get again.

use super::ApiError;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The access token expired: renew it once and send the call again.
    RenewToken,
    /// Nothing was done: safe to send again, whatever the call.
    NotDone,
    /// The org's daily API request limit is used up: the run stops.
    LimitExceeded,
    /// It may have been done: only a call that is safe to repeat goes again.
    Unclear,
    /// A definitive answer (400, 404, 412…): never sent again.
    Final,
}

/// The verdict on an error answer. `renewed`: the token was renewed for this call already, so a
/// second 401 is final.
pub fn verdict(error: &ApiError, renewed: bool) -> Verdict {
    match (error.status, error.code.as_str()) {
        (401, "INVALID_SESSION_ID") if !renewed => Verdict::RenewToken,
        (403, "REQUEST_LIMIT_EXCEEDED") if error.message.contains("Concurrent") => Verdict::NotDone,
        (403, "REQUEST_LIMIT_EXCEEDED") => Verdict::LimitExceeded,
        _ if error.is_lock() => Verdict::NotDone,
        (500 | 502 | 503 | 504, _) => Verdict::Unclear,
        _ => Verdict::Final,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(status: u16, code: &str, message: &str) -> ApiError {
        ApiError {
            status,
            code: code.into(),
            message: message.into(),
            fields: vec![],
        }
    }

    #[test]
    fn each_answer_gets_its_verdict() {
        let expired = error(401, "INVALID_SESSION_ID", "Session expired or invalid");
        assert_eq!(verdict(&expired, false), Verdict::RenewToken);
        assert_eq!(verdict(&expired, true), Verdict::Final);
        let concurrent = error(
            403,
            "REQUEST_LIMIT_EXCEEDED",
            "ConcurrentRequests (Concurrent API Requests)",
        );
        assert_eq!(verdict(&concurrent, false), Verdict::NotDone);
        let total = error(
            403,
            "REQUEST_LIMIT_EXCEEDED",
            "TotalRequests Limit exceeded.",
        );
        assert_eq!(verdict(&total, false), Verdict::LimitExceeded);
        assert_eq!(
            verdict(&error(400, "UNABLE_TO_LOCK_ROW", ""), false),
            Verdict::NotDone
        );
        for status in [500, 502, 503, 504] {
            assert_eq!(verdict(&error(status, "X", ""), false), Verdict::Unclear);
        }
        for status in [400, 404, 412, 501] {
            assert_eq!(verdict(&error(status, "X", ""), false), Verdict::Final);
        }
    }
}
