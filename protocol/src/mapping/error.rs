//! What can go wrong between Salesforce JSON and a record, and the warnings a write carries.

use std::fmt;

/// A row or a record that cannot be mapped. Every variant names the object and the field, and
/// shows the offending value, so the message alone is enough to find the data that needs fixing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MappingError {
    #[error("{object}.{field}: expected {expected}, got {value}")]
    WrongType {
        object: &'static str,
        field: String,
        expected: &'static str,
        value: String,
    },

    #[error("{object}.{field}: `{value}` is not a Salesforce {expected} (expected {format})")]
    BadTemporal {
        object: &'static str,
        field: String,
        expected: &'static str,
        format: &'static str,
        value: String,
    },

    #[error(
        "the row is a Salesforce {found}, not a {expected}; query {expected} rows for a {kind}"
    )]
    WrongObject {
        expected: &'static str,
        found: String,
        kind: &'static str,
    },

    #[error("`{0}` is not an object tandem syncs (Contact, Event or Task)")]
    UnknownKind(String),

    #[error("{kind} field `{field}` has a value of the wrong shape: {reason}")]
    BadRecordField {
        kind: &'static str,
        field: String,
        reason: String,
    },

    #[error("{object}: {reason}")]
    BadEvent {
        object: &'static str,
        reason: String,
    },

    #[error(
        "{object}: the event lasts {minutes} minutes; Salesforce events can't exceed 14 days (20160 minutes), shorten it or split it"
    )]
    EventTooLong { object: &'static str, minutes: i64 },

    #[error("recurrence rule `{rule}` can't be used for a Salesforce event series: {reason}")]
    UnsupportedRecurrence { rule: String, reason: String },

    #[error(
        "{object}: {what}; Salesforce can't change this on an existing event, delete it and create it again"
    )]
    NeedsRecreate {
        object: &'static str,
        what: &'static str,
    },

    #[error("the {table} mapping table is broken: {reason}")]
    BadTable { table: &'static str, reason: String },
}

/// Something a write will do differently from what the record says, so a user can be told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Warning {
    /// A value longer than the Salesforce field was cut at a character boundary.
    Truncated {
        object: &'static str,
        field: String,
        from: usize,
        to: usize,
    },
    /// Contact.LastName is required; it was filled from another field.
    LastNameFilled { source: &'static str, value: String },
    /// A private event can't be related to records; these fields were not sent.
    PrivateEventUnlinked { fields: Vec<String> },
    /// A value Salesforce would reject was left out rather than fail the whole write.
    NotSent {
        object: &'static str,
        field: String,
        reason: String,
    },
    /// The record's time zone is not one Salesforce knows; another was used.
    TimeZoneReplaced { given: String, used: String },
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Warning::Truncated {
                object,
                field,
                from,
                to,
            } => write!(
                f,
                "{object}.{field} was truncated from {from} to {to} characters"
            ),
            Warning::LastNameFilled { source, value } => write!(
                f,
                "Contact.LastName is required and the contact has none; sent `{value}` from the {source}"
            ),
            Warning::PrivateEventUnlinked { fields } => write!(
                f,
                "a private event can't be related to other records; {} not sent",
                fields.join(" and ")
            ),
            Warning::NotSent {
                object,
                field,
                reason,
            } => write!(f, "{object}.{field} was not sent: {reason}"),
            Warning::TimeZoneReplaced { given, .. } => write!(
                f,
                "time zone `{given}` is not a Salesforce (IANA) time zone; the series repeats in your Salesforce time zone"
            ),
        }
    }
}

/// Show a JSON value in an error without flooding the message.
pub(crate) fn show(value: &serde_json::Value) -> String {
    let text = value.to_string();
    if text.chars().count() > 80 {
        let cut: String = text.chars().take(77).collect();
        format!("{cut}...")
    } else {
        text
    }
}
