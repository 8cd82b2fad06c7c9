//! The one error of the app layer: what went wrong in a use case, worded for the person who has
//! to act on it, whichever front asked.

use crate::config::ConfigError;
use crate::engine::SyncError;
use crate::salesforce::client::ClientError;
use crate::store::{StoreError, WriterError};
use tandem_protocol::RecordId;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Log(#[from] WriterError),
    #[error(transparent)]
    Sync(#[from] SyncError),
    #[error(transparent)]
    Settings(#[from] ConfigError),
    #[error(transparent)]
    Salesforce(#[from] ClientError),
    #[error(transparent)]
    Outlook(#[from] crate::outlook::OutlookError),
    #[error(transparent)]
    OutlookSetting(#[from] crate::config::BadOutlookSetting),
    #[error(
        "tandem needs the application (client) id of an app registration to sign in to Outlook: pass --client-id or set [outlook] client_id (README, \"Outlook\")"
    )]
    NoOutlookApp,
    #[error("nobody signed in to Outlook within {0}; run `tandem login outlook` again")]
    OutlookSignInTimedOut(String),
    #[error(transparent)]
    Notes(#[from] crate::notes::NotesError),
    #[error(transparent)]
    NotesSetting(#[from] crate::config::BadNotesSetting),
    #[error(
        "tandem needs the Domino REST API's address, your Notes user name and your HTTP password: pass --url and --username (the password is asked for, or read from TANDEM_NOTES_PASSWORD) (README, \"Notes\")"
    )]
    NoNotesAccount,
    #[error(transparent)]
    Record(#[from] tandem_protocol::Error),
    #[error(
        "no record is named `{0}` (looked for a tandem id, a UID, a DAV href and a Salesforce id); `tandem log` lists the records that exist"
    )]
    UnknownRecord(String),
    #[error("{0} has no kind")]
    NoKind(RecordId),
    #[error(
        "`{0}` is not a side tandem syncs; an event comes from desktop, salesforce, outlook, notes or tandem"
    )]
    UnknownSide(String),
    #[error("there is no event #{0} in the log")]
    NoSuchEvent(u64),
    #[error("{id} did not exist yet at {at}; `tandem history {id}` shows when it was created")]
    NotYet { id: RecordId, at: String },
    #[error("{0} has no merge document; run `tandem replay --verify`")]
    NoDocument(RecordId),
    #[error("the store was opened read-only; this is a bug in tandem")]
    ReadOnly,
    #[error("{0}: {1}")]
    Io(std::path::PathBuf, std::io::Error),
    #[error(transparent)]
    Setting(#[from] crate::config::BadSetting),
    #[error(
        "tandem logs in to Salesforce as a connected app, and none is named: in Salesforce Setup, App Manager, create a connected app (or an external client app) with OAuth enabled, callback URL {callback}, the scopes api, refresh_token and offline_access, and PKCE required; then run `tandem login --client-id <its consumer key>`"
    )]
    NoConnectedApp { callback: String },
    #[error("the browser did not come back in time; run `tandem login` again")]
    SignInTimedOut,
    #[error(
        "Salesforce gave no refresh token: add the `refresh_token` scope to the connected app and run `tandem login` again"
    )]
    NoRefreshToken,
    #[error("the answer does not fit the request; this is a bug in tandem")]
    Unexpected,
    #[error("the settings were not saved: {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    SettingsRejected(Vec<super::settings::FieldError>),
    /// The running daemon refused the request; its message, as it said it.
    #[error("{0}")]
    Daemon(String),
}
