//! Salesforce error bodies: the `[{message, errorCode, fields}]` arrays of the REST API and the
//! `{statusCode, message, fields}` items of collection/composite results.

use serde_json::Value as Json;

use super::value::Doc;

/// One REST API error. Rendered as a one-element JSON array with the HTTP status.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub status: u16,
    pub code: String,
    pub message: String,
    /// `None` renders without a `fields` key (INVALID_SESSION_ID, NOT_FOUND, REQUEST_LIMIT_EXCEEDED).
    pub fields: Option<Vec<String>>,
}

impl ApiError {
    pub fn new(status: u16, code: &str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code: code.to_string(),
            message: message.into(),
            fields: None,
        }
    }

    pub fn with_fields(mut self, fields: &[&str]) -> Self {
        self.fields = Some(fields.iter().map(|f| f.to_string()).collect());
        self
    }

    pub fn bad_request(code: &str, message: impl Into<String>) -> Self {
        Self::new(400, code, message)
    }

    pub fn invalid_session() -> Self {
        Self::new(401, "INVALID_SESSION_ID", "Session expired or invalid")
    }

    pub fn not_found() -> Self {
        Self::new(404, "NOT_FOUND", "The requested resource does not exist")
    }

    pub fn entity_is_deleted() -> Self {
        Self::new(404, "ENTITY_IS_DELETED", "entity is deleted").with_fields(&[])
    }

    pub fn daily_limit() -> Self {
        Self::new(
            403,
            "REQUEST_LIMIT_EXCEEDED",
            "TotalRequests Limit exceeded.",
        )
    }

    pub fn json_parser(message: impl Into<String>) -> Self {
        Self::new(400, "JSON_PARSER_ERROR", message)
    }

    pub fn required_missing(fields: &[&str]) -> Self {
        Self::new(
            400,
            "REQUIRED_FIELD_MISSING",
            format!("Required fields are missing: [{}]", fields.join(", ")),
        )
        .with_fields(fields)
    }

    pub fn integrity(message: impl Into<String>, fields: &[&str]) -> Self {
        Self::new(400, "FIELD_INTEGRITY_EXCEPTION", message).with_fields(fields)
    }

    pub fn method_not_allowed(method: &str, allowed: &str) -> Self {
        Self::new(
            405,
            "METHOD_NOT_ALLOWED",
            format!("HTTP Method '{method}' not allowed. Allowed are {allowed}"),
        )
    }

    /// The single-resource body: `[{"message":..,"errorCode":..,"fields":[..]}]`.
    /// NOT_FOUND is captured in the wild with `errorCode` first, so that order is kept for it.
    pub fn body(&self) -> Doc {
        let mut item = Doc::object();
        if self.code == "NOT_FOUND" {
            item.push("errorCode", self.code.as_str());
            item.push("message", self.message.as_str());
        } else {
            item.push("message", self.message.as_str());
            item.push("errorCode", self.code.as_str());
        }
        if let Some(fields) = &self.fields {
            item.push("fields", fields_doc(fields));
        }
        Doc::Array(vec![item])
    }

    /// The collection/composite SaveResult error item: note `statusCode`, not `errorCode`.
    pub fn save_error(&self) -> Doc {
        Doc::object()
            .with("statusCode", self.code.as_str())
            .with("message", self.message.as_str())
            .with("fields", fields_doc(self.fields.as_deref().unwrap_or(&[])))
    }
}

fn fields_doc(fields: &[String]) -> Doc {
    Doc::Array(fields.iter().map(|f| Doc::from(f.as_str())).collect())
}

/// A SaveResult: `{"id":..,"success":..,"errors":[..]}` (plus `created` for upserts).
pub fn save_result(id: Option<&str>, errors: &[ApiError], created: Option<bool>) -> Doc {
    let mut d = Doc::object()
        .with("id", id.map(Doc::from).unwrap_or(Doc::Scalar(Json::Null)))
        .with("success", errors.is_empty())
        .with(
            "errors",
            Doc::Array(errors.iter().map(ApiError::save_error).collect()),
        );
    if let Some(c) = created {
        d.push("created", c);
    }
    d
}

/// The error given to every other record when an allOrNone collection request fails.
pub fn rolled_back() -> ApiError {
    ApiError::bad_request(
        "ALL_OR_NONE_OPERATION_ROLLED_BACK",
        "Record rolled back because not all records were valid and the request was using AllOrNone header",
    )
    .with_fields(&[])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_body_matches_reference() {
        let b = ApiError::invalid_session().body().to_bytes();
        assert_eq!(
            String::from_utf8_lossy(&b),
            r#"[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]"#
        );
    }

    #[test]
    fn deleted_and_not_found_bodies() {
        assert_eq!(
            String::from_utf8_lossy(&ApiError::entity_is_deleted().body().to_bytes()),
            r#"[{"message":"entity is deleted","errorCode":"ENTITY_IS_DELETED","fields":[]}]"#
        );
        assert_eq!(
            String::from_utf8_lossy(&ApiError::not_found().body().to_bytes()),
            r#"[{"errorCode":"NOT_FOUND","message":"The requested resource does not exist"}]"#
        );
    }

    #[test]
    fn save_errors_use_status_code() {
        let e = ApiError::required_missing(&["LastName"]);
        let r = save_result(None, &[e], None).to_json();
        assert_eq!(r["errors"][0]["statusCode"], "REQUIRED_FIELD_MISSING");
        assert_eq!(r["errors"][0]["fields"][0], "LastName");
        assert_eq!(r["id"], Json::Null);
    }
}
