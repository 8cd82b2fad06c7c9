//! The canonical records — Contact, Event, Task — and their stable ids.
//!
//! A record is a flat map of named fields (`Fields`): that map is what the merge works on, field
//! by field, and what the log's observations carry. The typed structs below define which fields
//! exist for each kind and what shape their values have; every change is checked against them
//! before it reaches the log. The fields are those that Salesforce and vCard/iCalendar share;
//! properties tandem does not map travel in `unmapped` so a client's data round-trips.

use crate::error::Error;
use crate::hlc::Hlc;
use chrono::{DateTime, NaiveDate, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt;

/// Field name → value. A `null` value in a change means "cleared".
pub type Fields = BTreeMap<String, Value>;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordKind {
    Contact,
    Event,
    Task,
}

impl RecordKind {
    pub const ALL: [RecordKind; 3] = [RecordKind::Contact, RecordKind::Event, RecordKind::Task];

    pub fn as_str(self) -> &'static str {
        match self {
            RecordKind::Contact => "contact",
            RecordKind::Event => "event",
            RecordKind::Task => "task",
        }
    }

    fn id_prefix(self) -> &'static str {
        match self {
            RecordKind::Contact => "con",
            RecordKind::Event => "evt",
            RecordKind::Task => "tsk",
        }
    }

    /// The names of this kind's fields, in the order of the struct.
    pub fn field_names(self) -> &'static [&'static str] {
        match self {
            RecordKind::Contact => Contact::FIELDS,
            RecordKind::Event => Event::FIELDS,
            RecordKind::Task => Task::FIELDS,
        }
    }

    /// Check a set of changes: every field must exist for this kind and every non-null value
    /// must have that field's shape. Nothing reaches the log without passing this.
    pub fn check_changes(self, changes: &Fields) -> Result<(), Error> {
        let known = self.field_names();
        if let Some(field) = changes.keys().find(|f| !known.contains(&f.as_str())) {
            return Err(Error::UnknownField {
                kind: self.as_str(),
                field: field.clone(),
                known: known.join(", "),
            });
        }
        // All the values in one pass, as nearly every change passes; only a refusal is checked
        // again field by field, to name the field.
        if self.shape(changes.iter()).is_ok() {
            return Ok(());
        }
        for (field, value) in changes {
            self.shape(std::iter::once((field, value)))
                .map_err(|e| Error::BadFieldValue {
                    kind: self.as_str(),
                    field: field.clone(),
                    reason: e.to_string(),
                })?;
        }
        Ok(())
    }

    /// Whether the non-null values have their fields' shapes: read as this kind's record,
    /// straight from the values, without copying them.
    fn shape<'a>(
        self,
        fields: impl Iterator<Item = (&'a String, &'a Value)>,
    ) -> Result<(), serde_json::Error> {
        let values = fields
            .filter(|(_, value)| !value.is_null())
            .map(|(field, value)| (field.as_str(), value));
        let record = serde::de::value::MapDeserializer::new(values);
        match self {
            RecordKind::Contact => Contact::deserialize(record).map(drop),
            RecordKind::Event => Event::deserialize(record).map(drop),
            RecordKind::Task => Task::deserialize(record).map(drop),
        }
    }
}

/// Turn a typed record into its field map, leaving out empty fields.
pub fn to_fields<T: Serialize>(record: &T) -> Fields {
    match serde_json::to_value(record) {
        Ok(Value::Object(map)) => map.into_iter().collect(),
        _ => Fields::new(),
    }
}

/// Read a field map as a typed record.
pub fn from_fields<T: DeserializeOwned>(fields: &Fields) -> Result<T, String> {
    serde_json::from_value(Value::Object(fields.clone().into_iter().collect()))
        .map_err(|e| e.to_string())
}

/// Lay `changes` over `fields`: a value sets its field, `null` removes it.
pub fn apply(fields: &mut Fields, changes: &Fields) {
    for (name, value) in changes {
        if value.is_null() {
            fields.remove(name);
        } else {
            fields.insert(name.clone(), value.clone());
        }
    }
}

/// `had` with `changes` laid over it.
pub fn overlay(had: &Fields, changes: &Fields) -> Fields {
    let mut out = had.clone();
    apply(&mut out, changes);
    out
}

/// The changes that turn `had` into `now`: changed and new fields, and `null` for removed ones.
/// `overlay(had, &difference(had, now)) == *now`.
pub fn difference(had: &Fields, now: &Fields) -> Fields {
    let mut changes: Fields = now
        .iter()
        .filter(|(field, value)| had.get(*field) != Some(*value))
        .map(|(field, value)| (field.clone(), value.clone()))
        .collect();
    for field in had.keys() {
        if !now.contains_key(field) {
            changes.insert(field.clone(), Value::Null);
        }
    }
    changes
}

impl fmt::Display for RecordKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A record's id inside tandem: `con-`, `evt-` or `tsk-` and 16 hex digits. It is derived from
/// the timestamp of the event that created the record, which is unique within a store, so no
/// randomness is needed and replay yields the same ids.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RecordId(String);

impl RecordId {
    pub fn derive(kind: RecordKind, created: Hlc) -> RecordId {
        RecordId(format!("{}-{:016x}", kind.id_prefix(), created.0))
    }

    pub fn parse(s: &str) -> Result<RecordId, Error> {
        let bad = || Error::BadRecordId(s.to_string());
        let (prefix, hex) = s.split_once('-').ok_or_else(bad)?;
        let known = RecordKind::ALL.iter().any(|k| k.id_prefix() == prefix);
        if !known || hex.len() != 16 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad());
        }
        Ok(RecordId(s.to_ascii_lowercase()))
    }

    pub fn kind(&self) -> Option<RecordKind> {
        let prefix = self.0.split('-').next()?;
        RecordKind::ALL
            .into_iter()
            .find(|k| k.id_prefix() == prefix)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RecordId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A postal address (vCard ADR, Salesforce Mailing*/Other*).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Address {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub street: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
}

/// A reference to a Salesforce record (Account, Contact, Opportunity…), with its display name
/// so a desktop client can show it without a lookup.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Link {
    pub salesforce_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// A point in time of an event or task: a whole day (all-day items), or an instant with the time
/// zone it was entered in (an IANA or Windows name, kept as given).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum When {
    Date(NaiveDate),
    Time {
        utc: DateTime<Utc>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        tzid: Option<String>,
        /// A floating time (RFC 5545 §3.3.5: no zone, "the same hour wherever you are"): `utc`
        /// holds the wall-clock time as if it were UTC, and Salesforce reads it in the user's
        /// zone.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        floating: bool,
    },
}

/// A meeting participant (iCalendar ATTENDEE/ORGANIZER, Salesforce EventRelation).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Attendee {
    pub email: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<AttendeeStatus>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttendeeStatus {
    NeedsAction,
    Accepted,
    Declined,
    Tentative,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShowAs {
    Busy,
    Free,
    OutOfOffice,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    NotStarted,
    InProgress,
    Completed,
    Waiting,
    Deferred,
    Cancelled,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    High,
    Normal,
    Low,
}

/// Declares a record struct and the list of its field names in one place, so the two cannot
/// drift apart.
macro_rules! record_struct {
    ($(#[$meta:meta])* $name:ident { $($(#[$fmeta:meta])* $field:ident : $ty:ty,)* }) => {
        $(#[$meta])*
        #[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            $(
                $(#[$fmeta])*
                #[serde(default, skip_serializing_if = "is_empty")]
                pub $field: $ty,
            )*
        }
        impl $name {
            pub const FIELDS: &'static [&'static str] = &[$(stringify!($field)),*];
        }
    };
}

/// Empty values are left out of the field map: "absent" and "empty" mean the same to both sides.
fn is_empty<T: Serialize>(value: &T) -> bool {
    serde_json::to_value(value).is_ok_and(|v| is_empty_value(&v))
}

/// Whether a field's value means "absent": null, false, "", [] or {}.
pub(crate) fn is_empty_value(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        Value::Number(_) => false,
    }
}

record_struct! {
    /// A person: vCard on the desktop, `Contact` in Salesforce.
    Contact {
        salutation: Option<String>,
        first_name: Option<String>,
        middle_name: Option<String>,
        last_name: Option<String>,
        suffix: Option<String>,
        /// The company name; on the way to Salesforce it links the contact to an Account.
        company: Option<String>,
        account: Option<Link>,
        title: Option<String>,
        department: Option<String>,
        email: Option<String>,
        phone: Option<String>,
        mobile_phone: Option<String>,
        home_phone: Option<String>,
        other_phone: Option<String>,
        fax: Option<String>,
        assistant_name: Option<String>,
        assistant_phone: Option<String>,
        birthday: Option<NaiveDate>,
        mailing_address: Option<Address>,
        other_address: Option<Address>,
        description: Option<String>,
        categories: Vec<String>,
        owner: Option<Link>,
        reports_to: Option<Link>,
        /// Content lines (unfolded) of vCard properties tandem does not map, kept verbatim.
        unmapped: Vec<String>,
    }
}

record_struct! {
    /// A calendar entry: VEVENT on the desktop, `Event` in Salesforce.
    Event {
        subject: Option<String>,
        location: Option<String>,
        /// Plain-text body.
        description: Option<String>,
        /// The rich alternative of the body (X-ALT-DESC / HTML), when the desktop has one.
        description_html: Option<String>,
        start: Option<When>,
        /// Exclusive end, as in iCalendar; an all-day event on one day ends the next day.
        end: Option<When>,
        /// RFC 5545 RRULE value (without the `RRULE:` prefix).
        rrule: Option<String>,
        exdates: Vec<When>,
        /// Minutes before the start at which to remind.
        reminder_minutes: Option<i64>,
        categories: Vec<String>,
        private: bool,
        show_as: Option<ShowAs>,
        organizer: Option<Attendee>,
        attendees: Vec<Attendee>,
        /// File names of attachments; the files themselves do not travel.
        attachments: Vec<String>,
        who: Vec<Link>,
        what: Option<Link>,
        owner: Option<Link>,
        unmapped: Vec<String>,
    }
}

record_struct! {
    /// A to-do: VTODO on the desktop, `Task` in Salesforce.
    Task {
        subject: Option<String>,
        description: Option<String>,
        description_html: Option<String>,
        start: Option<NaiveDate>,
        due: Option<NaiveDate>,
        status: Option<TaskStatus>,
        priority: Option<Priority>,
        completed_at: Option<DateTime<Utc>>,
        reminder_at: Option<DateTime<Utc>>,
        rrule: Option<String>,
        categories: Vec<String>,
        private: bool,
        who: Vec<Link>,
        what: Option<Link>,
        owner: Option<Link>,
        unmapped: Vec<String>,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A plan is made a window of records at a time in id order, and reads by kind: the two
    /// orders must be one.
    #[test]
    fn record_ids_sort_by_kind_first() {
        let ids: Vec<RecordId> = RecordKind::ALL
            .into_iter()
            .rev()
            .flat_map(|kind| [Hlc(u64::MAX), Hlc(0)].map(|at| RecordId::derive(kind, at)))
            .collect();
        let mut sorted = ids.clone();
        sorted.sort();
        let kinds: Vec<_> = sorted.iter().filter_map(RecordId::kind).collect();
        assert!(kinds.is_sorted(), "{sorted:?}");
    }

    #[test]
    fn typed_records_round_trip_through_fields() {
        let event = Event {
            subject: Some("Quarterly review".into()),
            start: Some(When::Time {
                utc: "2026-11-23T09:00:00Z".parse().unwrap(),
                tzid: Some("W. Europe Standard Time".into()),
                floating: false,
            }),
            end: Some(When::Date("2026-11-24".parse().unwrap())),
            private: true,
            attendees: vec![Attendee {
                email: "ana@example.com".into(),
                name: Some("Ana".into()),
                status: Some(AttendeeStatus::Accepted),
            }],
            unmapped: vec!["X-MICROSOFT-CDO-BUSYSTATUS:BUSY".into()],
            ..Event::default()
        };
        let fields = to_fields(&event);
        assert!(
            !fields.contains_key("location"),
            "empty fields are left out"
        );
        assert_eq!(fields["private"], json!(true));
        assert_eq!(from_fields::<Event>(&fields).unwrap(), event);
        RecordKind::Event.check_changes(&fields).unwrap();
    }

    #[test]
    fn unknown_fields_and_bad_shapes_are_named_in_the_error() {
        let unknown: Fields = [("nickname".to_string(), json!("Bob"))].into();
        let err = RecordKind::Contact
            .check_changes(&unknown)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("`nickname` is not one of the contact fields"),
            "{err}"
        );
        assert!(err.contains("last_name"), "lists the known fields: {err}");

        let bad: Fields = [("birthday".to_string(), json!("last spring"))].into();
        let err = RecordKind::Contact
            .check_changes(&bad)
            .unwrap_err()
            .to_string();
        assert!(err.contains("`birthday` of the contact"), "{err}");

        let cleared: Fields = [("birthday".to_string(), Value::Null)].into();
        RecordKind::Contact.check_changes(&cleared).unwrap();
    }

    #[test]
    fn record_ids_parse_strictly() {
        let id = RecordId::derive(RecordKind::Task, Hlc::new(1_700_000_000_000, 3));
        assert_eq!(RecordId::parse(id.as_str()).unwrap(), id);
        assert_eq!(id.kind(), Some(RecordKind::Task));
        for bad in [
            "",
            "con",
            "con-12",
            "xyz-0000000000000001",
            "con-000000000000000g",
        ] {
            assert!(RecordId::parse(bad).is_err(), "{bad} should be rejected");
        }
    }
}

#[cfg(test)]
mod field_tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_difference_laid_over_gives_the_new_fields() {
        let had: Fields = [("a".into(), json!(1)), ("b".into(), json!("x"))].into();
        let now: Fields = [("a".into(), json!(2)), ("c".into(), json!(true))].into();
        let changes = difference(&had, &now);
        assert_eq!(changes.get("b"), Some(&Value::Null));
        assert_eq!(changes.len(), 3);
        assert_eq!(overlay(&had, &changes), now);
        assert!(difference(&now, &now).is_empty());
    }
}
