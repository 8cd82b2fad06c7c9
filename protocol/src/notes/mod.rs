//! HCL Notes documents and calendar entries (Domino REST API) ⇄ record fields.
//!
//! Contacts and to-dos are mail-file documents (Form "Person", Form "Task") read and written
//! through the basis API: Notes items as JSON keys, names without regard to case, `@meta` beside
//! them. Calendar entries are JSCalendar `jsevent`s of the PIM API. Coming in, a document or an
//! entry becomes the record's fields ([`from_notes`]); a recurring entry with its overrides is
//! one record. Going out, fields become a create body, a PATCH of the items that must change
//! (documents), or the whole entry to PUT built on the entry as read (calendar) ([`to_notes`],
//! [`update`]). What tandem creates carries the record id ([`stamp`], [`stamped_record_id`]).
//!
//! Codemap: `contact`, `task`, `event` — one kind each; `document` — create and PATCH bodies of
//! documents; `body` — plain and HTML bodies; `time` — LocalDateTimes, Durations and days;
//! `zone` — IANA names and Notes zone strings; `recurrence` — RecurrenceRule ⇄ RRULE;
//! `overrides` — recurrenceOverrides ⇄ exdates and override VEVENTs; `stamp` — the record id;
//! `json` — reading Notes JSON.
//!
//! What does not map, in short: a contact's other phone, assistant's phone, account, owner and
//! manager; a to-do's reminder and repeat rule (Notes keeps them in items tandem does not
//! write), its who/what/owner links and `unmapped`; an entry's participants (never written:
//! Notes would mail them), attachments and links. Several values collapse: an entry's
//! out-of-office shows as busy, `secret` reads as private; a to-do's waiting reads back in
//! progress, deferred as not started, overdue as not started, rejected as cancelled (see
//! `task`). An occurrence's changes other than start, length, title, location and
//! description do not reach Notes.

mod body;
mod contact;
mod document;
mod error;
mod event;
mod json;
mod overrides;
mod recurrence;
mod stamp;
mod task;
mod time;
mod zone;

#[cfg(test)]
mod tests;

pub use error::NotesMappingError;
pub use stamp::{RECORD_ID_ITEM, RECORD_ID_PROPERTY, stamp, stamped_record_id};
pub use zone::zone;

use crate::record::{Fields, RecordKind, TaskStatus, When};
use chrono::{DateTime, Duration, Offset, TimeZone, Utc};
use chrono_tz::Tz;
use json::Item;
use serde_json::{Map, Value};

/// The Notes form of a record kind's documents.
pub fn form(kind: RecordKind) -> &'static str {
    match kind {
        RecordKind::Contact => contact::FORM,
        RecordKind::Event => "Appointment",
        RecordKind::Task => task::FORM,
    }
}

/// What is read, for errors.
pub(crate) fn item_name(kind: RecordKind) -> &'static str {
    match kind {
        RecordKind::Contact => contact::ITEM,
        RecordKind::Task => task::ITEM,
        RecordKind::Event => event::ITEM,
    }
}

/// The record fields Notes holds of `kind`: those this mapping writes and reads back the same.
/// What Notes has no item for (a contact's other and assistant's phone, a to-do's reminder),
/// links to Salesforce records, `unmapped`, and what tandem does not write (an entry's
/// participants) are not, so a plan never sends them and what Notes reports without them is not
/// taken as cleared.
pub fn holds(kind: RecordKind, field: &str) -> bool {
    let held: &[&str] = match kind {
        RecordKind::Contact => &[
            "salutation",
            "first_name",
            "middle_name",
            "last_name",
            "suffix",
            "company",
            "title",
            "department",
            "email",
            "phone",
            "mobile_phone",
            "home_phone",
            "fax",
            "assistant_name",
            "birthday",
            "mailing_address",
            "other_address",
            "description",
            "categories",
        ],
        RecordKind::Task => &[
            "subject",
            "description",
            "description_html",
            "start",
            "due",
            "status",
            "priority",
            "completed_at",
            "categories",
            "private",
        ],
        RecordKind::Event => &[
            "subject",
            "location",
            "description",
            "description_html",
            "start",
            "end",
            "rrule",
            "exdates",
            "reminder_minutes",
            "categories",
            "private",
            "show_as",
        ],
    };
    held.contains(&field)
}

/// A document (`GET /api/v1/document/{unid}`, a DQL answer) or a jsevent
/// (`/api/pim-v1/calendar/default/{uid}`) → the record's fields. `zone`: the user's zone, for
/// an entry whose zone Notes names in a way tandem cannot read. Empty items are absent fields.
pub fn from_notes(kind: RecordKind, item: &Value, zone: Tz) -> Result<Fields, NotesMappingError> {
    let fields = read(kind, item, zone)?;
    kind.check_changes(&fields).map_err(|e| invalid(kind, e))?;
    Ok(fields)
}

pub(crate) fn read(kind: RecordKind, item: &Value, zone: Tz) -> Result<Fields, NotesMappingError> {
    let item = Item::new(item_name(kind), item)?;
    match kind {
        RecordKind::Contact => contact::read(&item),
        RecordKind::Task => task::read(&item),
        RecordKind::Event => event::read(&item, zone),
    }
}

pub(crate) fn invalid(kind: RecordKind, reason: impl std::fmt::Display) -> NotesMappingError {
    NotesMappingError::InvalidFields {
        kind: kind.as_str(),
        reason: reason.to_string(),
    }
}

/// The body to send for `fields`. Documents: with `current: None` a create body (`Form` and the
/// items that have a value); with the document as read, a PATCH of the items whose value must
/// change (a cleared field's items `null`), empty when nothing must. Calendar entries: a create
/// body, or with the entry as read the whole entry to PUT, built on it.
pub fn to_notes(
    kind: RecordKind,
    fields: &Fields,
    current: Option<&Value>,
    zone: Tz,
) -> Result<Map<String, Value>, NotesMappingError> {
    kind.check_changes(fields).map_err(|e| invalid(kind, e))?;
    match kind {
        RecordKind::Event => event::write(fields, current, zone),
        RecordKind::Contact | RecordKind::Task => document::body(kind, fields, current, zone),
    }
}

pub use crate::update::Update;

/// The update of `current` (the document or entry as Notes holds it now) for a step's
/// `changes`: those changes laid over it, so what the user changed in other fields meanwhile
/// stays.
pub fn update(
    kind: RecordKind,
    had: &Fields,
    changes: &Fields,
    current: &Value,
    zone: Tz,
) -> Result<Update, NotesMappingError> {
    let now = from_notes(kind, current, zone)?;
    match crate::update::laid_over(had, changes, &now) {
        Some(want) => Ok(Update::Send(to_notes(kind, &want, Some(current), zone)?)),
        None => Ok(Update::ChangedMeanwhile),
    }
}

/// Notes answers some values in a form of its own that means what the record says. Where what
/// Notes `reported` means the same as `known` (the record, or what tandem knows Notes has),
/// the known spelling stays, so a round trip through Notes is no change:
/// - a rule Notes spells out differently (as for Outlook, `graph::keep_equivalent`);
/// - an out-of-office entry Notes shows as busy;
/// - a to-do waiting (in progress in Notes) or deferred (not started in Notes);
/// - a time in a zone Notes names otherwise (Europe/Vienna answered as its Notes string, read
///   as Europe/Berlin): the same instant in a zone with the same offsets;
/// - override VEVENTs with the UID the record's overrides already carry.
pub fn keep_equivalent(known: &Fields, reported: &mut Fields) {
    crate::graph::keep_equivalent(known, reported);
    let is = |fields: &Fields, field: &str, value: &str| {
        fields.get(field).and_then(Value::as_str) == Some(value)
    };
    if is(known, "show_as", "out_of_office") && is(reported, "show_as", "busy") {
        reported.insert("show_as".into(), known["show_as"].clone());
    }
    let status = |fields: &Fields| {
        fields
            .get("status")
            .and_then(|s| serde_json::from_value::<TaskStatus>(s.clone()).ok())
    };
    if let (Some(was), Some(now)) = (status(known), status(reported))
        && was != now
        && task::state_code(was) == task::state_code(now)
    {
        reported.insert("status".into(), known["status"].clone());
    }
    for field in ["start", "end"] {
        if let (Some(was), Some(now)) = (known.get(field), reported.get(field))
            && same_time(was, now)
        {
            reported.insert(field.into(), was.clone());
        }
    }
    if let (Some(Value::Array(was)), Some(Value::Array(now))) =
        (known.get("exdates"), reported.get("exdates"))
        && was.len() == now.len()
        && was.iter().zip(now).all(|(a, b)| a == b || same_time(a, b))
    {
        reported.insert("exdates".into(), Value::Array(was.clone()));
    }
    keep_override_uid(known, reported);
}

/// Two times that are the same instant in zones that agree on their offsets for a year around
/// it.
fn same_time(a: &Value, b: &Value) -> bool {
    let when = |v: &Value| serde_json::from_value::<When>(v.clone()).ok();
    let (
        Some(When::Time {
            utc: ua,
            tzid: Some(za),
            floating: false,
        }),
        Some(When::Time {
            utc: ub,
            tzid: Some(zb),
            floating: false,
        }),
    ) = (when(a), when(b))
    else {
        return false;
    };
    let (Some(ta), Some(tb)) = (zone(&za), zone(&zb)) else {
        return false;
    };
    ua == ub && same_offsets(ta, tb, ua)
}

fn same_offsets(a: Tz, b: Tz, around: DateTime<Utc>) -> bool {
    (-26..=26).all(|week| {
        let t = (around + Duration::weeks(week)).naive_utc();
        a.offset_from_utc_datetime(&t).fix() == b.offset_from_utc_datetime(&t).fix()
    })
}

/// Reported override VEVENTs get the UID the known ones carry: a Notes read names them by the
/// entry's UNID, the record by its own UID.
fn keep_override_uid(known: &Fields, reported: &mut Fields) {
    let lines = |fields: &Fields| -> Vec<String> {
        fields
            .get("unmapped")
            .and_then(|u| serde_json::from_value(u.clone()).ok())
            .unwrap_or_default()
    };
    let uid_of = |blocks: &[Vec<String>]| -> Option<String> {
        blocks
            .iter()
            .flatten()
            .find_map(|l| l.strip_prefix("UID:").map(str::to_string))
    };
    let Some(was) = uid_of(&crate::codec::overrides::blocks(&lines(known))) else {
        return;
    };
    let mut now = lines(reported);
    if uid_of(&crate::codec::overrides::blocks(&now)).is_none_or(|uid| uid == was) {
        return;
    }
    let mut depth = 0usize;
    let mut in_override = false;
    for line in now.iter_mut() {
        let upper = line.to_ascii_uppercase();
        if upper == "BEGIN:VEVENT" && depth == 0 {
            in_override = true;
        }
        if upper.starts_with("BEGIN:") {
            depth += 1;
        } else if upper.starts_with("END:") {
            depth = depth.saturating_sub(1);
            if depth == 0 {
                in_override = false;
            }
        } else if in_override && depth == 1 && line.starts_with("UID:") {
            *line = format!("UID:{was}");
        }
    }
    reported.insert(
        "unmapped".into(),
        serde_json::to_value(now).unwrap_or(Value::Null),
    );
}
