//! The one error type of the protocol crate: every message says what is wrong and what to do.

use crate::hlc::Hlc;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "this event was written in log format {found}, but this tandem understands formats up to {supported}; upgrade tandem to read this store"
    )]
    FutureFormat { found: u64, supported: u16 },

    #[error("the event is not valid JSON for log format {format}: {reason}")]
    MalformedEvent { format: u64, reason: String },

    #[error("the event cannot be written as JSON ({0}); this is a bug in tandem")]
    Unencodable(String),

    #[error("field `{field}` is not one of the {kind} fields (known fields: {known})")]
    UnknownField {
        kind: &'static str,
        field: String,
        known: String,
    },

    #[error("field `{field}` of the {kind} has a value of the wrong shape: {reason}")]
    BadFieldValue {
        kind: &'static str,
        field: String,
        reason: String,
    },

    #[error(
        "record {record} has no earlier event {event}; an observation can only build on events already in the log"
    )]
    UnknownBase { record: String, event: Hlc },

    #[error("record {record} does not exist yet, so it cannot be {op}; send a create first")]
    NoSuchRecord { record: String, op: &'static str },

    #[error(
        "the merge document of record {record} is damaged: {reason}; run `tandem replay` to rebuild it from the log"
    )]
    DamagedDocument { record: String, reason: String },

    #[error("`{0}` is not a record id (expected con-, evt- or tsk- followed by 16 hex digits)")]
    BadRecordId(String),

    #[error(transparent)]
    Mapping(#[from] crate::mapping::MappingError),
}
