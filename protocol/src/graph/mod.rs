//! Microsoft Graph items (Outlook contacts, calendar events, To Do tasks) ⇄ record fields.
//!
//! Coming in, an item as Graph returns it (a contact, a todoTask, an event) becomes the
//! record's fields ([`from_graph`]); a recurring event's master, occurrences and exceptions
//! become one record ([`gather_series`]). Going out, fields become a create body, or an update
//! body holding only what must change, built on the item as Graph last returned it so what
//! tandem does not map there stays ([`to_graph`]). Items tandem creates carry the record id
//! ([`stamp`], [`stamped_record_id`]) so a create whose answer was lost is found again.
//!
//! Codemap: `contact`, `task`, `event` — one kind each; `body` — itemBody; `time` —
//! dateTimeTimeZone, days stored as midnight, the zones Graph accepts; `recurrence` —
//! patternedRecurrence ⇄ RRULE; `series` — gathering a series; `diff` — what an update sends;
//! `stamp` — the record id on an item, and query options; `json` — reading Graph JSON.
//!
//! What does not map, and what several values collapse to, is said where it happens; in short:
//! a contact's fax, other phone, assistant's phone, owner, account and manager have no Graph
//! property (v1.0) and are neither read nor written; To Do has no "cancelled" (sent as
//! completed) and no privacy flag; an event's `tentative` and `workingElsewhere` read as busy,
//! `confidential` as private and `personal` as not private (and are kept when the record says
//! the same); attachments, who/what/owner links and `unmapped` do not travel.

mod body;
mod contact;
mod diff;
mod error;
mod event;
mod json;
mod recurrence;
mod series;
mod stamp;
mod task;
mod time;

#[cfg(test)]
mod tests;

pub use error::GraphMappingError;
pub use series::{
    EventRound, Series, SeriesException, cancels, exdate_window, gather_series,
    keep_exdates_outside, split_event_round,
};
pub use stamp::{
    LINK_APPLICATION, RECORD_ID_PROPERTY, expand, record_id_filter, select, stamp, stamp_for,
    stamped_record_id,
};

// The Notes mapping reads HTML bodies and local times the same way.
pub(crate) use body::{html_text, is_rich};
pub(crate) use time::{to_local, to_utc};

use crate::record::{Fields, RecordKind};
use chrono_tz::Tz;
use json::Item;
use serde_json::{Map, Value};

/// Graph's name of the item kind that holds a record kind.
pub(crate) fn item_kind(kind: RecordKind) -> &'static str {
    match kind {
        RecordKind::Contact => contact::ITEM,
        RecordKind::Task => task::ITEM,
        RecordKind::Event => event::ITEM,
    }
}

/// The record fields Outlook holds of `kind`: those this mapping writes and reads back the same.
/// What Graph has no property for (a contact's fax, a task's privacy, links to Salesforce
/// records, the lines of other clients in `unmapped`) and what tandem does not write (an
/// event's organizer, which Graph keeps read-only, and its attendees, since writing them sends
/// invitations from the user's mailbox) are not, so a plan never sends them and what Outlook
/// reports without them is not taken as cleared.
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
            "reminder_at",
            "rrule",
            "categories",
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

/// Outlook spells out what a record may leave implicit — a weekly rule's day (`BYDAY=MO` for a
/// client's `FREQ=WEEKLY` starting on a Monday). Where what Outlook `reported` means the same as
/// `known` (the record, or what tandem knows Outlook has), the known spelling stays, so a round
/// trip through Outlook is no change and the client's rule stays as it wrote it.
pub fn keep_equivalent(known: &Fields, reported: &mut Fields) {
    let first = reported
        .get("start")
        .and_then(|v| serde_json::from_value::<crate::record::When>(v.clone()).ok())
        .map(|when| match when {
            crate::record::When::Date(day) => day,
            crate::record::When::Time { utc, .. } => utc.date_naive(),
        });
    if let (Some(Value::String(was)), Some(Value::String(now)), Some(first)) =
        (known.get("rrule"), reported.get("rrule"), first)
        && was != now
        && crate::mapping::same_recurrence_from(was, now, first)
    {
        reported.insert("rrule".into(), Value::String(was.clone()));
    }
    // Exceptions tandem wrote, read back with what Outlook adds to an occurrence (its reminder,
    // its show-as), are the occurrences as tandem knows them.
    use crate::mapping::detached;
    let held = detached::occurrences(known);
    if !held.is_empty() && detached::reported_as_held(&held, &detached::occurrences(reported)) {
        for field in ["unmapped", detached::FIELD] {
            match known.get(field) {
                Some(value) => reported.insert(field.into(), value.clone()),
                None => reported.remove(field),
            };
        }
    }
}

/// Item JSON (as Graph returns it: contact / todoTask / event) → the record's fields.
/// `zone`: the user's zone, for an all-day or floating value that needs one. Unset properties
/// (`null`, `""`, `[]`, `{}`) are absent fields, as empty values are in every record.
pub fn from_graph(kind: RecordKind, item: &Value, zone: Tz) -> Result<Fields, GraphMappingError> {
    let fields = read(kind, item, zone)?;
    kind.check_changes(&fields).map_err(|e| invalid(kind, e))?;
    Ok(fields)
}

pub(crate) fn invalid(kind: RecordKind, reason: impl std::fmt::Display) -> GraphMappingError {
    GraphMappingError::InvalidFields {
        kind: kind.as_str(),
        reason: reason.to_string(),
    }
}

pub(crate) fn read(kind: RecordKind, item: &Value, zone: Tz) -> Result<Fields, GraphMappingError> {
    let item = Item::new(item_kind(kind), item)?;
    match kind {
        RecordKind::Contact => contact::read(&item, zone),
        RecordKind::Task => task::read(&item, zone),
        RecordKind::Event => event::read(&item, zone),
    }
}

/// The body to send for `fields`: with `current: None` a full create body (only properties
/// that have a value); with `current: Some(item as Graph last returned it)` an update body
/// holding only the properties whose value must change (a cleared field → the property's
/// empty value, or Outlook's default for a choice), built so that what tandem does not map in
/// the current item is kept (a contact's 2nd and 3rd e-mail address, a phone list's other
/// numbers, an event's attendees' responses, an HTML body whose text is the record's text).
/// Empty map = nothing to send.
pub fn to_graph(
    kind: RecordKind,
    fields: &Fields,
    current: Option<&Value>,
    zone: Tz,
) -> Result<Map<String, Value>, GraphMappingError> {
    // A series' exceptions are written occurrence by occurrence, not with the series.
    let fields = &*crate::mapping::detached::record_fields(fields);
    kind.check_changes(fields).map_err(|e| invalid(kind, e))?;
    match current {
        None => write(kind, fields, None, zone),
        Some(current) => diff::changes(kind, fields, current, zone),
    }
}

pub use crate::update::Update;

/// The update of `current` (the item as Outlook holds it now) for a step's `changes`: those
/// changes laid over it, so what the user changed in other fields meanwhile stays.
pub fn update(
    kind: RecordKind,
    had: &Fields,
    changes: &Fields,
    current: &Value,
    zone: Tz,
) -> Result<Update, GraphMappingError> {
    let now = from_graph(kind, current, zone).unwrap_or_default();
    let (had, changes) = (
        crate::mapping::detached::record_fields(had),
        crate::mapping::detached::record_fields(changes),
    );
    match crate::update::laid_over(&had, &changes, &now) {
        Some(want) => Ok(Update::Send(to_graph(kind, &want, Some(current), zone)?)),
        None => Ok(Update::ChangedMeanwhile),
    }
}

pub(crate) fn write(
    kind: RecordKind,
    fields: &Fields,
    current: Option<&Value>,
    zone: Tz,
) -> Result<Map<String, Value>, GraphMappingError> {
    match kind {
        RecordKind::Contact => contact::write(fields, current),
        RecordKind::Task => task::write(fields, current, zone),
        RecordKind::Event => event::write(fields, current, zone),
    }
}
