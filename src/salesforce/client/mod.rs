//! The Salesforce REST client: login and tokens, request execution with safe retries, limits and
//! a per-run budget, incremental pull, and push with exactly-once creates.
//!
//! It works at the JSON level (`Row` = one record as Salesforce renders it); turning rows into
//! records is the mapping's job. Rules for retries (see `http`): a call is repeated only when
//! repeating it cannot change the outcome (reads, upserts by external id, deletes) or when the
//! server said it did nothing; a create whose answer was lost is reconciled, never resent blindly.

pub mod credentials;
pub mod http;
pub mod oauth;
pub mod pull;
pub mod push;
pub mod query;
pub mod session;

use std::fmt;

pub use credentials::CredentialsFile;
pub use http::{Request, Response, Safety, SalesforceClient, Stats};
pub use oauth::{TokenResponse, WebLogin};
pub use pull::{Deletion, FullReason, PullRequest, PullResult};
pub use push::{Create, Delete, ItemOutcome, ItemResult, PushReport, Pusher, Update};
pub use query::{Page, QueryPager};
pub use session::{AccessToken, Session};

/// One record as Salesforce renders it (with `attributes`, `Id` and the selected fields).
pub type Row = serde_json::Map<String, serde_json::Value>;

/// A Salesforce error body: `[{"message","errorCode","fields"}]` for REST resources,
/// `{"statusCode",...}` inside collection results, `{"error","error_description"}` from OAuth.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiError {
    pub status: u16,
    pub code: String,
    pub message: String,
    pub fields: Vec<String>,
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.status, self.code, self.message)?;
        if !self.fields.is_empty() {
            write!(f, " (fields: {})", self.fields.join(", "))?;
        }
        Ok(())
    }
}

impl ApiError {
    /// Reads an error body; anything that is not a Salesforce error shape (a proxy's HTML page)
    /// becomes `HTTP_<status>` with the start of the text, so the user sees what came back.
    pub fn from_body(status: u16, body: &[u8]) -> ApiError {
        let json: Option<serde_json::Value> = serde_json::from_slice(body).ok();
        let item = match &json {
            Some(serde_json::Value::Array(a)) => a.first(),
            Some(v @ serde_json::Value::Object(_)) => Some(v),
            _ => None,
        };
        if let Some(e) = item.and_then(|i| ApiError::from_item(status, i)) {
            return e;
        }
        let text = String::from_utf8_lossy(body);
        let text: String = text.chars().take(200).collect();
        ApiError {
            status,
            code: format!("HTTP_{status}"),
            message: if text.trim().is_empty() {
                "(empty body)".into()
            } else {
                text.trim().to_string()
            },
            fields: Vec::new(),
        }
    }

    /// One error object, in any of Salesforce's three spellings.
    pub fn from_item(status: u16, item: &serde_json::Value) -> Option<ApiError> {
        let s = |k: &str| item.get(k).and_then(serde_json::Value::as_str);
        let code = s("errorCode")
            .or_else(|| s("statusCode"))
            .or_else(|| s("error"))?;
        let message = s("message")
            .or_else(|| s("error_description"))
            .unwrap_or("");
        let fields = item
            .get("fields")
            .and_then(serde_json::Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(serde_json::Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        Some(ApiError {
            status,
            code: code.to_string(),
            message: message.to_string(),
            fields,
        })
    }
}

/// Everything that can stop a Salesforce call or a run. Messages say what to do.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error(
        "Salesforce refused tandem's login ({reason}). Syncing has stopped: run `tandem login` again"
    )]
    LoginRequired { reason: String },
    #[error(
        "Salesforce's API request limit for the org is used up ({message}). The run stopped; it can continue once the org's rolling 24-hour usage goes down"
    )]
    LimitExceeded { message: String },
    #[error(
        "this run's API budget is used up: {detail}. The run stopped cleanly and continues on the next run (raise [salesforce] max_calls_per_run or max_org_usage_percent to allow more)"
    )]
    BudgetExhausted { detail: String },
    #[error("Salesforce answered {call} with an error: {error}")]
    Api { call: String, error: ApiError },
    /// The call may or may not have been carried out (`ambiguous`): the connection broke after
    /// the request was sent, or the server failed in the middle.
    #[error("{call} failed: {message}{}", if *.ambiguous { " (Salesforce may have carried it out)" } else { "" })]
    Transport {
        call: String,
        message: String,
        ambiguous: bool,
    },
    #[error("Salesforce's answer to {call} is not what tandem expects: {message}")]
    Malformed { call: String, message: String },
    #[error("the Salesforce login settings are incomplete: {0}")]
    Setup(String),
    #[error("cannot save the Salesforce credentials: {0}")]
    Credentials(String),
    #[error("cannot record the Salesforce write in the log: {0}")]
    Log(String),
}

impl ClientError {
    pub fn malformed(call: &str, message: impl Into<String>) -> ClientError {
        ClientError::Malformed {
            call: call.to_string(),
            message: message.into(),
        }
    }

    /// True when the failure leaves open whether Salesforce carried the call out.
    pub fn is_ambiguous(&self) -> bool {
        match self {
            ClientError::Transport { ambiguous, .. } => *ambiguous,
            // The call was answered, but the answer could not be read.
            ClientError::Malformed { .. } => true,
            ClientError::Api { error, .. } => error.status >= 500,
            _ => false,
        }
    }

    /// True when the whole run must stop (as opposed to one call or one record failing).
    pub fn stops_run(&self) -> bool {
        matches!(
            self,
            ClientError::LoginRequired { .. }
                | ClientError::LimitExceeded { .. }
                | ClientError::BudgetExhausted { .. }
                | ClientError::Setup(_)
                | ClientError::Credentials(_)
                | ClientError::Log(_)
        )
    }

    /// The Salesforce error code, if Salesforce gave one.
    pub fn api_code(&self) -> Option<&str> {
        match self {
            ClientError::Api { error, .. } => Some(error.code.as_str()),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_bodies_in_every_shape() {
        let e = ApiError::from_body(
            401,
            br#"[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]"#,
        );
        assert_eq!(e.code, "INVALID_SESSION_ID");
        assert!(e.fields.is_empty());
        let e = ApiError::from_body(
            400,
            br#"[{"message":"Required fields are missing: [LastName]","errorCode":"REQUIRED_FIELD_MISSING","fields":["LastName"]}]"#,
        );
        assert_eq!(e.fields, vec!["LastName".to_string()]);
        let e = ApiError::from_body(
            400,
            br#"{"error":"invalid_grant","error_description":"expired access/refresh token"}"#,
        );
        assert_eq!(e.code, "invalid_grant");
        let e = ApiError::from_body(502, b"<html>Bad Gateway</html>");
        assert_eq!(e.code, "HTTP_502");
        assert!(e.message.contains("Bad Gateway"));
        let e = ApiError::from_body(500, b"");
        assert_eq!(e.message, "(empty body)");
    }
}
