//! The mail file: its documents (Notes items as JSON values, keyed by UNID, with a note id, a
//! revision and a weak ETag), and the schema that says which items are multi-value
//! (docs/references/usingdominorestapi/dataformats.md: a single-value item holding more
//! values is read as its first one).

use chrono::{DateTime, FixedOffset, Utc};
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, HashSet};

/// One Notes document. Items are stored as written: a JSON array is a multi-value item.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    /// 32 upper-case hex digits.
    pub unid: String,
    pub noteid: u64,
    pub created: DateTime<Utc>,
    pub modified: DateTime<Utc>,
    /// Bumped at every save; part of `revision` and the ETag.
    pub sequence: u32,
    /// The items, `Form` among them; names keep the case they were written with.
    pub items: Map<String, Value>,
    /// A calendar entry's JSCalendar body (documents of Form "Appointment" made through the
    /// PIM API or [`MailFile::create_entry`]).
    pub event: Option<Map<String, Value>>,
}

impl Document {
    /// `Form`, looked up without regard to case as Notes item names are.
    pub fn form(&self) -> Option<&str> {
        self.item("Form").and_then(Value::as_str)
    }

    /// An item by name, regardless of case.
    pub fn item(&self, name: &str) -> Option<&Value> {
        self.items
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    /// `@meta.revision`: "a 32-character hex-encoded string" (DocumentMeta); here the save
    /// sequence, the modification time and the note id, so every save changes it.
    pub fn revision(&self) -> String {
        format!(
            "{:08X}{:016X}{:08X}",
            self.sequence,
            self.modified.timestamp_millis(),
            self.noteid
        )
    }

    /// `@meta.etag`, weak as DocumentMeta says (`W/"…"`), new at every save.
    pub fn etag(&self) -> String {
        let mix = (self.modified.timestamp_millis() as u64)
            .wrapping_mul(0x9E37_79B9)
            .wrapping_add(u64::from(self.sequence) << 32 | self.noteid);
        format!("W/\"{:08x}\"", mix & 0xFFFF_FFFF_FFFF)
    }
}

/// The mail file's schema: the items it declares multi-value. Others holding a list are read
/// as their first value.
#[derive(Debug, Clone)]
pub struct Schema {
    multi_value: HashSet<String>,
    /// The schema's `requireRevisionToUpdate` (howto/database/enablingadb.md).
    pub require_revision: bool,
}

impl Default for Schema {
    /// `Categories` multi-value (what a connector needs the administrator to configure), and
    /// revisions not required (DRAPI's default).
    fn default() -> Schema {
        Schema {
            multi_value: ["categories".to_string()].into_iter().collect(),
            require_revision: false,
        }
    }
}

impl Schema {
    pub fn set_multi_value(&mut self, item: &str, multi: bool) {
        let item = item.to_ascii_lowercase();
        if multi {
            self.multi_value.insert(item);
        } else {
            self.multi_value.remove(&item);
        }
    }

    pub fn is_multi_value(&self, item: &str) -> bool {
        self.multi_value.contains(&item.to_ascii_lowercase())
    }

    /// An item as the API reads it: a list under a single-value item is its first value.
    pub fn coerce(&self, name: &str, value: &Value) -> Value {
        match value {
            Value::Array(values) if !self.is_multi_value(name) => {
                values.first().cloned().unwrap_or(Value::Null)
            }
            other => other.clone(),
        }
    }
}

/// The mail file's documents; deleted ones are gone (no deletion stubs are exposed).
pub struct MailFile {
    docs: BTreeMap<String, Document>,
    next_noteid: u64,
    pub schema: Schema,
    /// The server's zone, which `@meta` times are written in (they carry an offset).
    pub offset: FixedOffset,
    now: DateTime<Utc>,
}

impl MailFile {
    pub fn new(offset: FixedOffset) -> MailFile {
        MailFile {
            docs: BTreeMap::new(),
            // Note ids of data notes are multiples of 4 in a real NSF; start past the design.
            next_noteid: 0x8F6,
            schema: Schema::default(),
            offset,
            now: DateTime::<Utc>::MIN_UTC,
        }
    }

    /// Sets the time the next saves are stamped with; a save never goes back in time, so two
    /// saves at the same clock reading still order.
    pub(crate) fn set_now(&mut self, now: DateTime<Utc>) {
        self.now = now.max(self.now);
    }

    fn stamp(&mut self) -> DateTime<Utc> {
        self.now
    }

    /// A new document with these items (`Form` among them); its UNID.
    pub fn create(&mut self, items: Map<String, Value>) -> String {
        self.insert(items, None)
    }

    pub(crate) fn insert(
        &mut self,
        items: Map<String, Value>,
        event: Option<Map<String, Value>>,
    ) -> String {
        let unid = loop {
            let candidate = format!("{:032X}", rand::random::<u128>());
            if !self.docs.contains_key(&candidate) {
                break candidate;
            }
        };
        let now = self.stamp();
        self.next_noteid += 4;
        let items = strip_nulls(items);
        self.docs.insert(
            unid.clone(),
            Document {
                unid: unid.clone(),
                noteid: self.next_noteid,
                created: now,
                modified: now,
                sequence: 1,
                items,
                event,
            },
        );
        unid
    }

    pub fn get(&self, unid: &str) -> Option<&Document> {
        self.docs.get(&unid.to_ascii_uppercase())
    }

    /// Every document, in note id order (the order of creation).
    pub fn documents(&self) -> Vec<&Document> {
        let mut docs: Vec<&Document> = self.docs.values().collect();
        docs.sort_by_key(|d| d.noteid);
        docs
    }

    /// Replaces every item (PUT) or merges them, a `null` removing one (PATCH); bumps the
    /// revision. `None` if there is no such document.
    pub fn update(
        &mut self,
        unid: &str,
        items: Map<String, Value>,
        replace: bool,
    ) -> Option<&Document> {
        let now = self.stamp();
        let doc = self.docs.get_mut(&unid.to_ascii_uppercase())?;
        if replace {
            doc.items = strip_nulls(items);
        } else {
            for (name, value) in items {
                let existing = doc
                    .items
                    .keys()
                    .find(|k| k.eq_ignore_ascii_case(&name))
                    .cloned();
                if let Some(existing) = existing {
                    doc.items.remove(&existing);
                }
                if !value.is_null() {
                    doc.items.insert(name, value);
                }
            }
        }
        doc.modified = now;
        doc.sequence += 1;
        Some(doc)
    }

    /// Replaces a calendar entry's JSCalendar body, and the items that mirror it.
    pub(crate) fn update_event(
        &mut self,
        unid: &str,
        items: Map<String, Value>,
        event: Map<String, Value>,
    ) -> Option<&Document> {
        self.update(unid, items, false)?;
        let doc = self.docs.get_mut(&unid.to_ascii_uppercase())?;
        doc.event = Some(event);
        Some(doc)
    }

    /// Removes a document; whether there was one.
    pub fn delete(&mut self, unid: &str) -> bool {
        self.docs.remove(&unid.to_ascii_uppercase()).is_some()
    }

    /// A time as `@meta` writes it: in the server's zone, with its offset and milliseconds.
    pub fn format_time(&self, t: DateTime<Utc>) -> String {
        t.with_timezone(&self.offset)
            .format("%Y-%m-%dT%H:%M:%S%.3f%:z")
            .to_string()
    }

    /// A document as the basis API answers it: `@meta`, then the items the schema lets
    /// through (a missing item is an absent key).
    pub fn render(&self, doc: &Document) -> Value {
        let mut out = Map::new();
        out.insert(
            "@meta".into(),
            json!({
                "unid": doc.unid,
                "noteid": doc.noteid,
                "created": self.format_time(doc.created),
                "lastmodified": self.format_time(doc.modified),
                "lastmodifiedinfile": self.format_time(doc.modified),
                "addedtofile": self.format_time(doc.created),
                "noteclass": ["DATA", "DOCUMENT"],
                "revision": doc.revision(),
                "etag": doc.etag(),
                "isEditable": true,
            }),
        );
        for (name, value) in &doc.items {
            out.insert(name.clone(), self.schema.coerce(name, value));
        }
        Value::Object(out)
    }
}

/// A `null` item is no item (DominoDocument allows null values; PATCH uses them to remove).
fn strip_nulls(items: Map<String, Value>) -> Map<String, Value> {
    items.into_iter().filter(|(_, v)| !v.is_null()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file() -> MailFile {
        let mut f = MailFile::new(FixedOffset::west_opt(5 * 3600).unwrap());
        f.set_now(
            DateTime::parse_from_rfc3339("2026-12-01T10:00:00Z")
                .unwrap()
                .to_utc(),
        );
        f
    }

    #[test]
    fn every_save_changes_revision_and_etag() {
        let mut f = file();
        let mut items = Map::new();
        items.insert("Form".into(), json!("Person"));
        let unid = f.create(items);
        assert_eq!(unid.len(), 32);
        let before = f.get(&unid).unwrap().clone();
        assert_eq!(before.revision().len(), 32);
        f.update(&unid, Map::new(), false);
        let after = f.get(&unid).unwrap();
        assert_ne!(before.revision(), after.revision());
        assert_ne!(before.etag(), after.etag());
        assert!(after.etag().starts_with("W/\""));
    }

    #[test]
    fn single_value_items_read_as_their_first_value() {
        let mut schema = Schema::default();
        let list = json!(["CRM", "VIP"]);
        assert_eq!(schema.coerce("Categories", &list), list);
        schema.set_multi_value("Categories", false);
        assert_eq!(schema.coerce("Categories", &list), json!("CRM"));
    }

    #[test]
    fn meta_times_carry_the_server_offset() {
        let f = file();
        let t = DateTime::parse_from_rfc3339("2026-12-01T10:00:00Z")
            .unwrap()
            .to_utc();
        assert_eq!(f.format_time(t), "2026-12-01T05:00:00.000-05:00");
    }
}
