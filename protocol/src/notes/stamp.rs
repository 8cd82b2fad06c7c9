//! The record id tandem stamps on the documents and entries it creates in Notes, so a create
//! whose answer was lost is found again.
//!
//! A document carries it as an item of its own, [`RECORD_ID_ITEM`]; a calendar entry, which
//! the PIM API writes as JSCalendar, as a vendor-specific property (RFC 8984 §3.3: a name
//! prefixed with the vendor's domain), [`RECORD_ID_PROPERTY`]. An update of an entry is built
//! on the entry as read, so the property stays.

use super::json::key_in;
use crate::record::RecordKind;
use serde_json::{Map, Value, json};

/// Notes item (Person/Task documents) holding the tandem record id of a document tandem created.
pub const RECORD_ID_ITEM: &str = "TandemRecordId";
/// JSCalendar vendor property (RFC 8984 §3.3 vendor-specific property) holding it on a calendar entry.
pub const RECORD_ID_PROPERTY: &str = "tandem.app:recordId";

fn name(kind: RecordKind) -> &'static str {
    match kind {
        RecordKind::Contact | RecordKind::Task => RECORD_ID_ITEM,
        RecordKind::Event => RECORD_ID_PROPERTY,
    }
}

/// Add the record id to a create body of `kind`.
pub fn stamp(kind: RecordKind, body: &mut Map<String, Value>, record_id: &str) {
    body.insert(name(kind).into(), json!(record_id));
}

/// The record id tandem stamped on a document or entry of `kind` (an item name is read
/// without regard to case, as Notes does; a one-value list is its value).
pub fn stamped_record_id(kind: RecordKind, item: &Value) -> Option<String> {
    let map = item.as_object()?;
    let value = map.get(key_in(map, name(kind))?)?;
    let text = match value {
        Value::String(s) => s.as_str(),
        Value::Array(items) => items.first()?.as_str()?,
        _ => return None,
    };
    Some(text.trim().to_string()).filter(|t| !t.is_empty())
}
