//! What can go wrong between a Microsoft Graph item and a record's fields.

/// An item that cannot be read, or fields that cannot be written, as Graph items. Every variant
/// names the item kind (Graph's own name: `contact`, `todoTask`, `event`) or the record field,
/// and shows the offending value, so the message alone finds the data to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GraphMappingError {
    #[error(
        "a Graph {item} must be a JSON object, got {value}; pass the item itself, not the response around it"
    )]
    NotAnObject { item: &'static str, value: String },

    #[error("Graph {item} property `{property}`: expected {expected}, got {value}")]
    WrongType {
        item: &'static str,
        property: String,
        expected: &'static str,
        value: String,
    },

    #[error("Graph {item} property `{property}`: `{value}` is not {expected}")]
    BadValue {
        item: &'static str,
        property: String,
        value: String,
        expected: &'static str,
    },

    #[error("Graph {item} property `recurrence`: {reason}")]
    BadRecurrence { item: &'static str, reason: String },

    #[error("the {kind} fields are not a valid {kind}: {reason}")]
    InvalidFields { kind: &'static str, reason: String },

    #[error("the {kind} field `{field}` can't be sent to Outlook: {reason}")]
    BadRecordField {
        kind: &'static str,
        field: String,
        reason: String,
    },

    #[error("recurrence rule `{rule}` can't be sent to Outlook: {reason}")]
    UnsupportedRecurrence { rule: String, reason: String },

    #[error("Outlook series `{id}`: {reason}")]
    BadSeries { id: String, reason: String },
}

pub(crate) use crate::mapping::show;
