//! Errors of sync runs, worded for the person who has to act on them.

use crate::salesforce::client::ClientError;
use crate::store::{StoreError, WriterError};

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Log(#[from] WriterError),
    #[error(transparent)]
    Salesforce(#[from] ClientError),
    #[error(transparent)]
    Outlook(#[from] crate::outlook::OutlookError),
    #[error(transparent)]
    OutlookMapping(#[from] tandem_protocol::graph::GraphMappingError),
    #[error(transparent)]
    Notes(#[from] crate::notes::NotesError),
    #[error(transparent)]
    NotesMapping(#[from] tandem_protocol::notes::NotesMappingError),
    #[error(transparent)]
    Mapping(#[from] tandem_protocol::mapping::MappingError),
    #[error(transparent)]
    Occurrences(#[from] crate::salesforce::client::RowsNotWritten),
    #[error(transparent)]
    Desktop(#[from] crate::engine::sync::desktop::DesktopError),
    #[error(
        "there is no preview to apply: run `tandem sync preview` first and review what it lists"
    )]
    NoPreview,
    #[error(
        "automatic sync starts after a first manual run: run `tandem sync preview`, review it, then `tandem sync apply`"
    )]
    NotReviewed,
    #[error("tandem is not connected to Salesforce: run `tandem login`")]
    NotConnected,
    #[error("tandem is not signed in to {title}: run `tandem login {side}`", title = .0.title(), side = .0)]
    NoConnector(tandem_protocol::Side),
    #[error("no record is known as {0}")]
    UnknownRecord(String),
    #[error(
        "the stored watermark of {scope} (`{value}`) is not a time; run `tandem replay --verify` to check the store"
    )]
    BadWatermark { scope: String, value: String },
}
