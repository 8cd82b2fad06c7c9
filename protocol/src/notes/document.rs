//! The body to send for a Notes document (a contact or a to-do): a create body, or a PATCH of
//! the items that must change.
//!
//! A PATCH sends an item when a record field it feeds differs between the document as it is
//! and the record: an item whose meaning did not change is left as the user wrote it (a to-do
//! overdue in Notes is not rewritten "not started", a due time of 17:00 is not moved to noon).
//! A cleared field's items go as `null`, which removes them; items tandem does not map are not
//! in the body, so they stay. An item is sent under the name the document spells it with.

use super::error::NotesMappingError;
use super::json::Item;
use super::{contact, task};
use crate::record::{Fields, RecordKind, is_empty_value};
use chrono_tz::Tz;
use serde_json::{Map, Value, json};

fn feeds(kind: RecordKind, item: &str) -> &'static [&'static str] {
    match kind {
        RecordKind::Contact => contact::feeds(item),
        RecordKind::Task => task::feeds(item),
        RecordKind::Event => &[],
    }
}

pub(crate) fn body(
    kind: RecordKind,
    fields: &Fields,
    current: Option<&Value>,
    zone: Tz,
) -> Result<Map<String, Value>, NotesMappingError> {
    let full = match kind {
        RecordKind::Contact => contact::write(fields)?,
        RecordKind::Task => task::write(fields, current, zone)?,
        RecordKind::Event => {
            return Err(super::invalid(kind, "a calendar entry is not a document"));
        }
    };
    let Some(current) = current else {
        let mut body = Map::new();
        body.insert("Form".into(), json!(super::form(kind)));
        if kind == RecordKind::Task {
            // PIM23's create example: a to-do of the user's own, not one assigned to others.
            body.insert("TaskType".into(), json!("1"));
        }
        if kind == RecordKind::Contact
            && let Some(name) = contact::full_name(fields)
        {
            body.insert("FullName".into(), json!(name));
        }
        body.extend(full.into_iter().filter(|(_, v)| !is_empty_value(v)));
        return Ok(body);
    };
    let item = Item::new(super::item_name(kind), current)?;
    let now = super::read(kind, current, zone)?;
    let mut body = Map::new();
    for (name, value) in full {
        let changed = feeds(kind, &name)
            .iter()
            .any(|f| now.get(*f) != fields.get(*f));
        if !changed {
            continue;
        }
        let key = item.key(&name).unwrap_or(&name).to_string();
        let there = item.get(&name);
        if value.is_null() {
            if there.is_some() {
                body.insert(key, Value::Null);
            }
        } else if there != Some(&value) {
            body.insert(key, value);
        }
    }
    if kind == RecordKind::Contact {
        let parts = [
            "first_name",
            "middle_name",
            "last_name",
            "suffix",
            "company",
        ];
        let renamed = parts.iter().any(|f| now.get(*f) != fields.get(*f));
        let shown = item.texts("FullName")?.into_iter().next();
        // A name the user chose stays; the one tandem would have written follows the parts.
        if renamed && (shown.is_none() || shown == contact::full_name(&now)) {
            let key = item.key("FullName").unwrap_or("FullName").to_string();
            body.insert(
                key,
                contact::full_name(fields).map_or(Value::Null, Value::String),
            );
        }
    }
    Ok(body)
}
