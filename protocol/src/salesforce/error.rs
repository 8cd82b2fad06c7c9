//! A Salesforce error body, in each of the API's spellings.

use serde_json::Value;
use std::fmt;

/// `[{"message","errorCode","fields"}]` for REST resources, `{"statusCode",...}` inside
/// collection results, `{"error","error_description"}` from OAuth.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiError {
    pub status: u16,
    pub code: String,
    pub message: String,
    pub fields: Vec<String>,
}

/// The error code of a row Salesforce could not lock: nothing was done, send it again.
pub const UNABLE_TO_LOCK_ROW: &str = "UNABLE_TO_LOCK_ROW";

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
        let json: Option<Value> = serde_json::from_slice(body).ok();
        let item = match &json {
            Some(Value::Array(a)) => a.first(),
            Some(v @ Value::Object(_)) => Some(v),
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
    pub fn from_item(status: u16, item: &Value) -> Option<ApiError> {
        let s = |k: &str| item.get(k).and_then(Value::as_str);
        let code = s("errorCode")
            .or_else(|| s("statusCode"))
            .or_else(|| s("error"))?;
        let message = s("message")
            .or_else(|| s("error_description"))
            .unwrap_or("");
        let fields = item
            .get("fields")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
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

    /// Salesforce could not lock a row the call touches: nothing was done.
    pub fn is_lock(&self) -> bool {
        self.code == UNABLE_TO_LOCK_ROW
    }

    /// Whether a later run may try the write again with a chance of success: the server failed,
    /// or a row was locked. A validation error, say, fails the same way every time.
    pub fn retryable(&self) -> bool {
        self.status >= 500 || self.is_lock()
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

    #[test]
    fn only_server_failures_and_locks_are_retryable() {
        let e = |status, code: &str| ApiError {
            status,
            code: code.into(),
            message: String::new(),
            fields: vec![],
        };
        assert!(e(503, "SERVER_UNAVAILABLE").retryable());
        assert!(e(400, UNABLE_TO_LOCK_ROW).retryable());
        assert!(!e(400, "REQUIRED_FIELD_MISSING").retryable());
        assert!(!e(404, "NOT_FOUND").retryable());
    }
}
