//! The two error envelopes DRAPI answers with: the basis API's `ErrorMessage`
//! `{status, message, details}` (openapi.basis.json) and the PIM API's `ErrorMessage`
//! `{code, message}` (openapi.pim.json); one error type renders as either, by the API asked.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// Which API's envelope an error is answered in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Envelope {
    /// `/api/v1`: `{status, message, details}`.
    Basis,
    /// `/api/pim-v1`: `{code, message}`.
    Pim,
}

/// An error answer of the emulator.
#[derive(Debug, Clone, PartialEq)]
pub struct DominoError {
    pub status: StatusCode,
    pub message: String,
    pub details: Option<String>,
    pub envelope: Envelope,
}

impl std::fmt::Display for DominoError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status.as_u16(), self.message)
    }
}

impl std::error::Error for DominoError {}

impl DominoError {
    /// An error in the basis envelope; [`DominoError::pim`] switches it.
    pub fn new(status: StatusCode, message: impl Into<String>) -> DominoError {
        DominoError {
            status,
            message: message.into(),
            details: None,
            envelope: Envelope::Basis,
        }
    }

    pub fn with_details(mut self, details: impl Into<String>) -> DominoError {
        self.details = Some(details.into());
        self
    }

    /// The same error, answered by the PIM API.
    pub fn pim(mut self) -> DominoError {
        self.envelope = Envelope::Pim;
        self
    }

    /// The text of the spec's 401 example (openapi.basis.json, authLogin).
    pub fn bad_credentials() -> DominoError {
        DominoError::new(
            StatusCode::UNAUTHORIZED,
            "Invalid credentials or account locked",
        )
    }

    pub fn unauthorized(details: &str) -> DominoError {
        DominoError::new(StatusCode::UNAUTHORIZED, "Unauthorized").with_details(details)
    }

    pub fn forbidden(details: &str) -> DominoError {
        DominoError::new(StatusCode::FORBIDDEN, "Forbidden").with_details(details)
    }

    pub fn not_found(details: &str) -> DominoError {
        DominoError::new(StatusCode::NOT_FOUND, "Not found").with_details(details)
    }

    pub fn bad_request(details: impl Into<String>) -> DominoError {
        DominoError::new(StatusCode::BAD_REQUEST, "Bad request").with_details(details)
    }
}

impl IntoResponse for DominoError {
    fn into_response(self) -> Response {
        let body = match self.envelope {
            Envelope::Basis => json!({
                "status": self.status.as_u16(),
                "message": self.message,
                "details": self.details.unwrap_or_default(),
            }),
            Envelope::Pim => {
                let message = match self.details {
                    Some(details) => format!("{}: {details}", self.message),
                    None => self.message,
                };
                json!({ "code": self.status.as_u16(), "message": message })
            }
        };
        (self.status, axum::Json(body)).into_response()
    }
}
