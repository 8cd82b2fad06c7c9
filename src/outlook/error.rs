//! What can go wrong talking to Microsoft Graph and its sign-in, each saying what to do.

/// Why a call to Outlook failed.
#[derive(Debug, thiserror::Error)]
pub enum OutlookError {
    #[error("tandem is not signed in to Outlook; run `tandem login outlook`")]
    NotSignedIn,
    #[error(
        "Outlook refused the sign-in ({error}: {description}); run `tandem login outlook` again"
    )]
    SignIn { error: String, description: String },
    #[error(
        "cannot save the Outlook token in {path}: {why}; check the data directory's permissions"
    )]
    Credentials { path: String, why: String },
    #[error("Outlook could not be reached ({0}); tandem tries again on the next run")]
    Unreachable(#[source] reqwest::Error),
    #[error("Outlook answered {status} to {call}: {code}: {message}")]
    Api {
        call: String,
        status: u16,
        code: String,
        message: String,
    },
    #[error(
        "Outlook kept throttling {call} after {tries} tries; tandem tries again on the next run"
    )]
    Throttled { call: String, tries: u32 },
    #[error("Outlook's answer to {call} is not what Graph documents: {why}")]
    Malformed { call: String, why: String },
    #[error("the {what} `{name}` is not in the mailbox and could not be created: {why}")]
    NoContainer {
        what: &'static str,
        name: String,
        why: String,
    },
    #[error(
        "Outlook gave no answer to {call} ({why}); whether it was carried out is found out on the next run"
    )]
    NoAnswer { call: String, why: String },
    #[error(
        "{0} changed in Outlook since tandem read it, in a field this step writes; the next run takes the change in and merges both"
    )]
    ChangedMeanwhile(String),
    #[error("{0} has no Outlook id to write to; this is a bug in tandem, please report it")]
    NoId(String),
    #[error("the run was stopped on request")]
    Halted,
}

impl OutlookError {
    /// The same failure for each request of a `$batch` that failed as a whole. One without an
    /// answer may have been carried out: it stays ambiguous.
    pub fn for_each_request(&self) -> OutlookError {
        match self {
            OutlookError::Api {
                call,
                status,
                code,
                message,
            } => OutlookError::Api {
                call: call.clone(),
                status: *status,
                code: code.clone(),
                message: message.clone(),
            },
            OutlookError::Throttled { call, tries } => OutlookError::Throttled {
                call: call.clone(),
                tries: *tries,
            },
            OutlookError::SignIn { error, description } => OutlookError::SignIn {
                error: error.clone(),
                description: description.clone(),
            },
            OutlookError::NotSignedIn => OutlookError::NotSignedIn,
            OutlookError::Halted => OutlookError::Halted,
            other => OutlookError::NoAnswer {
                call: "$batch".into(),
                why: other.to_string(),
            },
        }
    }

    /// No answer came, or a server error did: the request may or may not have been carried
    /// out (a create is then found by its stamp, never made again blindly).
    pub fn is_ambiguous(&self) -> bool {
        match self {
            OutlookError::Unreachable(_) | OutlookError::NoAnswer { .. } => true,
            OutlookError::Api { status, .. } => *status >= 500,
            _ => false,
        }
    }

    /// The item changed in Outlook since tandem read it (`If-Match` failed).
    pub fn is_conflict(&self) -> bool {
        matches!(self, OutlookError::Api { status: 412, .. })
    }

    pub fn is_not_found(&self) -> bool {
        matches!(self, OutlookError::Api { status: 404, .. })
    }

    /// The delta token is no longer valid: the round starts over.
    pub fn is_sync_reset(&self) -> bool {
        match self {
            OutlookError::Api { status: 410, .. } => true,
            OutlookError::Api { code, .. } => code == "syncStateNotFound",
            _ => false,
        }
    }

    /// Whether the whole side is out of reach for this run (not one item's problem).
    pub fn stops_run(&self) -> bool {
        match self {
            OutlookError::Api { status, .. } => *status == 401 || *status == 403 || *status >= 500,
            OutlookError::Malformed { .. }
            | OutlookError::ChangedMeanwhile(_)
            | OutlookError::NoId(_) => false,
            _ => true,
        }
    }
}
