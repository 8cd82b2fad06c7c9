//! The Salesforce REST client: login and tokens, request execution with safe retries, limits and
//! a per-run budget, incremental pull, and push with exactly-once creates.
//!
//! It works at the JSON level (`Row` = one record as Salesforce renders it); turning rows into
//! records is the mapping's job. Rules for retries (see `http`): a call is repeated only when
//! repeating it cannot change the outcome (reads, upserts by external id, deletes) or when the
//! server said it did nothing; a create whose answer was lost is reconciled, never resent blindly.

pub mod credentials;
mod halt;
pub mod http;
pub mod oauth;
pub mod pull;
pub mod push;
pub mod query;
pub mod session;

pub use credentials::CredentialsFile;
pub use halt::Halt;
pub use http::{Request, Response, Safety, SalesforceClient, Stats};
pub use oauth::{TokenResponse, WebLogin};
pub use pull::{Deletion, FullReason, Pull, PullRequest};
pub use push::{
    Create, Delete, ItemResult, Ledger, LedgerError, PushReport, Pusher, RowsNotWritten, Update,
};
pub use query::{Page, QueryPager};
pub use session::{AccessToken, Session};
pub use tandem_protocol::salesforce::ApiError;
pub use tandem_protocol::salesforce::push::ItemOutcome;

/// One record as Salesforce renders it (with `attributes`, `Id` and the selected fields).
pub type Row = serde_json::Map<String, serde_json::Value>;

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
    Log(#[from] LedgerError),
    #[error("the run was stopped on request; what was not sent waits for the next run")]
    Halted,
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
                | ClientError::Halted
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
