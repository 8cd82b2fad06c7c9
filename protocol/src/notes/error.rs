//! What can go wrong between a Notes document or calendar entry and a record's fields.

/// A document or entry that cannot be read, or fields that cannot be written to Notes. Every
/// variant names what it was reading (`Person document`, `Task document`, `jsevent`) and the
/// item or property, and shows the offending value, so the message alone finds the data to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotesMappingError {
    #[error(
        "a Notes {item} must be a JSON object, got {value}; pass the document or entry itself, not the response around it"
    )]
    NotAnObject { item: &'static str, value: String },

    #[error("Notes {item} `{name}`: expected {expected}, got {value}")]
    WrongType {
        item: &'static str,
        name: String,
        expected: &'static str,
        value: String,
    },

    #[error("Notes {item} `{name}`: `{value}` is not {expected}")]
    BadValue {
        item: &'static str,
        name: String,
        value: String,
        expected: &'static str,
    },

    #[error("Notes {item} `recurrenceRules`: {reason}")]
    BadRecurrence { item: &'static str, reason: String },

    #[error("the {kind} fields are not a valid {kind}: {reason}")]
    InvalidFields { kind: &'static str, reason: String },

    #[error("the {kind} field `{field}` can't be sent to Notes: {reason}")]
    BadRecordField {
        kind: &'static str,
        field: String,
        reason: String,
    },
}

pub(crate) use crate::mapping::show;
