//! What can go wrong talking to a Domino REST API server, each saying what to do.

/// Why a call to Notes failed.
#[derive(Debug, thiserror::Error)]
pub enum NotesError {
    #[error("tandem is not signed in to Notes; run `tandem login notes`")]
    NotSignedIn,
    #[error(
        "the Domino server refused the user name or password ({message}); run `tandem login notes` again"
    )]
    SignIn { message: String },
    #[error("the Domino server could not be reached ({0}); tandem tries again on the next run")]
    Unreachable(#[source] reqwest::Error),
    #[error("Notes answered {status} to {call}: {message}{}", details.as_deref().map(|d| format!(" ({d})")).unwrap_or_default())]
    Api {
        call: String,
        status: u16,
        message: String,
        details: Option<String>,
    },
    #[error(
        "the Domino server kept failing {call} after {tries} tries; tandem tries again on the next run"
    )]
    Unavailable { call: String, tries: u32 },
    #[error("the Domino server's answer to {call} is not what the REST API documents: {why}")]
    Malformed { call: String, why: String },
    #[error(
        "the Domino server gave no answer to {call} ({why}); whether it was carried out is found out on the next run"
    )]
    NoAnswer { call: String, why: String },
    #[error(
        "your mail file's contacts and to-dos are not open to the REST API ({why}); ask your Domino administrator for a REST API scope for your mail file and set [notes] data_source to its name (README, \"Notes\")"
    )]
    NoDocuments { why: String },
    #[error(
        "Notes cannot {0} contacts or to-dos without a REST API scope for your mail file (the PIM API reads and updates them only); ask your Domino administrator for one and run `tandem login notes --data-source NAME` (README, \"Notes\")"
    )]
    NeedsScope(&'static str),
    #[error(
        "{0} changed in Notes since tandem read it, in a field this step writes; the next run takes the change in and merges both"
    )]
    ChangedMeanwhile(String),
    #[error("{0} has no Notes id to write to; this is a bug in tandem, please report it")]
    NoId(String),
}

impl NotesError {
    /// No answer came, or a server error did: the request may or may not have been carried
    /// out (a create is then found by its stamp, never made again blindly).
    pub fn is_ambiguous(&self) -> bool {
        match self {
            NotesError::Unreachable(_) | NotesError::NoAnswer { .. } => true,
            NotesError::Unavailable { .. } => true,
            NotesError::Api { status, .. } => *status >= 500,
            _ => false,
        }
    }

    /// The document changed since the revision tandem sent (DRAPI's status for this is not
    /// documented: a 409, or a 412 as HTTP's precondition).
    pub fn is_conflict(&self) -> bool {
        matches!(
            self,
            NotesError::Api {
                status: 409 | 412,
                ..
            }
        )
    }

    pub fn is_not_found(&self) -> bool {
        matches!(self, NotesError::Api { status: 404, .. })
    }

    /// Whether the whole side is out of reach for this run (not one item's problem).
    pub fn stops_run(&self) -> bool {
        match self {
            NotesError::Api { status, .. } => *status == 401 || *status == 403 || *status >= 500,
            NotesError::Malformed { .. }
            | NotesError::NeedsScope(_)
            | NotesError::ChangedMeanwhile(_)
            | NotesError::NoId(_) => false,
            _ => true,
        }
    }
}
