//! Salesforce REST JSON (Contact, Event, Task) ⇄ canonical record fields, driven by the tables
//! in `protocol/mapping/*.toml`.
//!
//! Coming in, a queried row (with `attributes` and relationship names such as `Account.Name`)
//! becomes record fields. Going out, record fields become a create body or, for an update, only
//! what changed, with the groups Salesforce wants together (an event's times, a reminder).
//! Everything Salesforce would reject for a reason we can see beforehand is fixed here with a
//! warning (too long, malformed email, private event with relations) or refused with an error
//! naming object, field and value (an event over 14 days, an unsupported recurrence).

mod account;
mod annotate;
mod contact;
pub mod detached;
mod error;
mod event;
mod limits;
mod occurrence;
mod recurrence;
mod soql;
mod table;
mod task;
mod time;

pub use account::{AccountCandidate, AccountMatch, account_query, pick_account};
pub use annotate::{Annotations, annotate_description, strip_annotations};
pub(crate) use error::show;
pub use error::{MappingError, Warning};
pub use limits::{is_salesforce_email, truncate};
pub use occurrence::{
    as_single, cancellation_of, cancellations_to_send, cancelled_rows, deleted_rows_query,
    first_row_left, head_at_query, head_of_deleted_query, head_of_exception_query, is_cancelled,
    remaining_rows_query, remakes_series, series_head_query, series_rows_query, with_cancelled,
};
pub use recurrence::{normalize_rrule, salesforce_pattern, same_recurrence, same_recurrence_from};
pub use soql::{
    pull_condition, select_fields, soql_datetime, soql_literal, soql_quote, soql_select,
    soql_select_for,
};
pub use table::{Direction, Row, SfType, Table, object_name, table};
pub use time::{parse_salesforce_datetime, salesforce_datetime};

use crate::record::{Fields, RecordKind};
use chrono_tz::Tz;
use serde_json::{Map, Value};
use table::{SfRow, read_plain, write_plain};

/// What the mapping needs to know about the org and the user, read once per sync run
/// (`User.TimeZoneSidKey`, the `TaskStatus` table, `describe`).
#[derive(Debug, Clone, PartialEq)]
pub struct SalesforceContext {
    /// The user's `TimeZoneSidKey`: the zone of timed events read from Salesforce and of
    /// all-day reminders — never the machine's zone.
    pub user_time_zone: Tz,
    /// `SELECT MasterLabel FROM TaskStatus WHERE IsClosed = true`.
    pub closed_task_statuses: Vec<String>,
    /// The `IsDefault` open status (`Not Started` in a new org).
    pub default_open_status: String,
    /// The closed status written for a completed or cancelled task (`Completed` in a new org).
    pub default_closed_status: String,
    /// Optional fields the org has switched on (`MiddleName`, `Suffix`); others are neither
    /// queried nor sent, because Salesforce answers INVALID_FIELD for them.
    pub enabled_optional_fields: Vec<String>,
    /// The running user as a link (`{salesforce_id, name}`): the owner Salesforce gives a
    /// record tandem creates without naming one.
    pub user: Option<Value>,
    /// The external-id field of Event that keys the standalone rows of detached occurrences
    /// (`[salesforce] external_id_field`, when the org has it on Event). Without one a series'
    /// changed occurrences stay on the desktop.
    pub row_key_field: Option<String>,
}

impl SalesforceContext {
    /// A new org's settings: the standard TaskStatus values, no optional fields.
    pub fn standard(user_time_zone: Tz) -> SalesforceContext {
        SalesforceContext {
            user_time_zone,
            closed_task_statuses: vec!["Completed".into()],
            default_open_status: "Not Started".into(),
            default_closed_status: "Completed".into(),
            enabled_optional_fields: Vec::new(),
            user: None,
            row_key_field: None,
        }
    }
}

/// A body to send, and what in it differs from the record.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outgoing {
    pub fields: Map<String, Value>,
    pub warnings: Vec<Warning>,
}

/// Whether a body is for a create (required fields filled in) or one side of an update diff.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Create,
    Update,
}

/// The record kind of an sObject name (`attributes.type` of a row): Contact, Event or Task.
pub fn kind_for_object(object: &str) -> Result<RecordKind, MappingError> {
    RecordKind::ALL
        .into_iter()
        .find(|k| object_name(*k).eq_ignore_ascii_case(object))
        .ok_or_else(|| MappingError::UnknownKind(object.to_string()))
}

/// A queried row → record fields. Empty values are left out, as everywhere in the record.
pub fn from_salesforce(
    kind: RecordKind,
    sobject: &Map<String, Value>,
    ctx: &SalesforceContext,
) -> Result<Fields, MappingError> {
    let object = object_name(kind);
    if let Some(found) = sobject
        .get("attributes")
        .and_then(|a| a.get("type"))
        .and_then(Value::as_str)
        && found != object
    {
        return Err(MappingError::WrongObject {
            expected: object,
            found: found.to_string(),
            kind: kind.as_str(),
        });
    }
    let table = table(kind)?;
    let row = SfRow {
        object,
        map: sobject,
    };
    let mut fields = Fields::new();
    read_plain(table, &row, &mut fields)?;
    match kind {
        RecordKind::Contact => contact::read(&row, &mut fields)?,
        RecordKind::Event => event::read(&row, ctx, &mut fields)?,
        RecordKind::Task => task::read(&row, ctx, &mut fields)?,
    }
    // The invitee list and attachment names tandem appended are not the user's text.
    if let Some(Value::String(text)) = fields.get("description") {
        match strip_annotations(text) {
            Some(own) => fields.insert("description".into(), Value::String(own)),
            None => fields.remove("description"),
        };
    }
    prune(&mut fields);
    kind.check_changes(&fields)
        .map_err(|e| record_error(kind, e))?;
    Ok(fields)
}

/// Record fields → the full writable body of a create.
pub fn to_salesforce(
    kind: RecordKind,
    fields: &Fields,
    ctx: &SalesforceContext,
) -> Result<Outgoing, MappingError> {
    body(kind, fields, ctx, Mode::Create)
}

/// Only what changed between two versions of a record, for a PATCH. Groups Salesforce wants
/// together travel together (start, end, duration and the all-day flag; a reminder's flag
/// and time; a series' pattern and zone); required fields that were cleared get the value
/// Salesforce would default to; a series pattern that only changed in spelling is not sent.
pub fn changes_to_salesforce(
    kind: RecordKind,
    before: &Fields,
    after: &Fields,
    ctx: &SalesforceContext,
) -> Result<Outgoing, MappingError> {
    let old = body(kind, before, ctx, Mode::Update)?;
    let new = body(kind, after, ctx, Mode::Update)?;
    let table = table(kind)?;
    let held_back: Vec<&str> = new
        .warnings
        .iter()
        .filter_map(|w| match w {
            Warning::NotSent { field, .. } => Some(field.as_str()),
            _ => None,
        })
        .collect();

    let mut names: Vec<&String> = old.fields.keys().chain(new.fields.keys()).collect();
    names.sort();
    names.dedup();
    let mut changed: Vec<String> = names
        .into_iter()
        .filter(|n| old.fields.get(*n) != new.fields.get(*n))
        .filter(|n| !held_back.contains(&n.as_str()))
        .cloned()
        .collect();

    if kind == RecordKind::Event {
        if changed.iter().any(|n| n == "IsRecurrence2") {
            return Err(MappingError::NeedsRecreate {
                object: "Event",
                what: "the event became or stopped being a series",
            });
        }
        let same_pattern = match (
            old.fields
                .get("Recurrence2PatternText")
                .and_then(Value::as_str),
            new.fields
                .get("Recurrence2PatternText")
                .and_then(Value::as_str),
        ) {
            (Some(a), Some(b)) => same_recurrence(a, b),
            _ => false,
        };
        if same_pattern {
            changed.retain(|n| n != "Recurrence2PatternText");
        }
    }

    let mut out = Outgoing::default();
    for name in &changed {
        let group = groups(kind)
            .iter()
            .find(|g| g.contains(&name.as_str()))
            .copied()
            .unwrap_or(&[]);
        let members: Vec<&str> = if group.is_empty() {
            vec![name.as_str()]
        } else {
            group.to_vec()
        };
        for member in members {
            let create_only = table.row(member).is_some_and(|r| r.create_only);
            if create_only || out.fields.contains_key(member) {
                continue;
            }
            // A timed event's ActivityDate is derived by Salesforce: never cleared by us.
            let derived = kind == RecordKind::Event && member == "ActivityDate";
            match new.fields.get(member) {
                Some(v) => {
                    out.fields.insert(member.to_string(), v.clone());
                }
                None if old.fields.contains_key(member) && !derived => {
                    out.fields.insert(member.to_string(), Value::Null);
                }
                None => {}
            }
        }
    }

    // Salesforce refuses null for required fields: send what it would default to.
    let cleared: Vec<String> = out
        .fields
        .iter()
        .filter(|(_, v)| v.is_null())
        .map(|(k, _)| k.clone())
        .collect();
    for field in cleared {
        match (kind, field.as_str()) {
            (RecordKind::Contact, "LastName") => {
                let (filled, warning) = contact::fill_last_name(after, &mut out.fields);
                out.fields.insert("LastName".into(), Value::String(filled));
                out.warnings.push(warning);
            }
            (RecordKind::Task, "Status") => {
                out.fields.insert(
                    "Status".into(),
                    Value::String(ctx.default_open_status.clone()),
                );
            }
            (RecordKind::Task, "Priority") => {
                out.fields
                    .insert("Priority".into(), Value::String("Normal".into()));
            }
            // Every record has an owner; a link the record lost is not a reason to unassign.
            (_, "OwnerId") => {
                out.fields.remove("OwnerId");
            }
            (RecordKind::Event, "ShowAs") => {
                out.fields
                    .insert("ShowAs".into(), Value::String("Busy".into()));
            }
            _ => {}
        }
    }

    for warning in new.warnings {
        let relevant = match &warning {
            Warning::Truncated { field, .. } => out.fields.contains_key(field),
            Warning::NotSent { field, .. } => {
                old.fields.get(field) != new.fields.get(field) || !old.warnings.contains(&warning)
            }
            Warning::PrivateEventUnlinked { .. } => ["IsPrivate", "WhoId", "WhatId"]
                .iter()
                .any(|f| out.fields.contains_key(*f)),
            Warning::TimeZoneReplaced { .. } => {
                out.fields.contains_key("Recurrence2PatternTimeZone")
            }
            Warning::LastNameFilled { .. } => out.fields.contains_key("LastName"),
        };
        if relevant && !out.warnings.contains(&warning) {
            out.warnings.push(warning);
        }
    }
    Ok(out)
}

/// Fields Salesforce wants in the same request when one of them changes.
fn groups(kind: RecordKind) -> &'static [&'static [&'static str]] {
    match kind {
        RecordKind::Contact => &[],
        RecordKind::Event => &[
            &[
                "IsAllDayEvent",
                "StartDateTime",
                "EndDateTime",
                "DurationInMinutes",
                "ActivityDate",
            ],
            &["IsReminderSet", "ReminderDateTime"],
            &["Recurrence2PatternText", "Recurrence2PatternTimeZone"],
        ],
        RecordKind::Task => &[&["IsReminderSet", "ReminderDateTime"]],
    }
}

fn body(
    kind: RecordKind,
    fields: &Fields,
    ctx: &SalesforceContext,
    mode: Mode,
) -> Result<Outgoing, MappingError> {
    // Salesforce's copy of a series holds its detached occurrences, which are rows of their own
    // and no field of the record (see `detached`).
    let fields = &*detached::record_fields(fields);
    kind.check_changes(fields)
        .map_err(|e| record_error(kind, e))?;
    let object = object_name(kind);
    let mut out = Outgoing::default();
    write_plain(
        table(kind)?,
        object,
        fields,
        &ctx.enabled_optional_fields,
        &mut out.fields,
        &mut out.warnings,
    );
    match kind {
        RecordKind::Contact => contact::write(fields, mode, &mut out)?,
        RecordKind::Event => event::write(fields, ctx, &mut out)?,
        RecordKind::Task => task::write(fields, ctx, &mut out)?,
    }
    Ok(out)
}

/// A record field that is unknown or has the wrong shape, named.
fn record_error(kind: RecordKind, e: crate::Error) -> MappingError {
    MappingError::BadRecordField {
        kind: kind.as_str(),
        field: match &e {
            crate::Error::UnknownField { field, .. }
            | crate::Error::BadFieldValue { field, .. } => field.clone(),
            _ => String::new(),
        },
        reason: e.to_string(),
    }
}

/// Read a typed record from fields that passed `check_changes`.
pub(crate) fn typed<T: serde::de::DeserializeOwned>(
    kind: RecordKind,
    fields: &Fields,
) -> Result<T, MappingError> {
    crate::record::from_fields(fields).map_err(|reason| MappingError::BadRecordField {
        kind: kind.as_str(),
        field: String::new(),
        reason,
    })
}

/// "Absent" and "empty" mean the same in a record: drop nulls, false, "", [] and {}.
fn prune(fields: &mut Fields) {
    use crate::record::is_empty_value as empty;
    for value in fields.values_mut() {
        if let Value::Object(inner) = value {
            inner.retain(|_, v| !empty(v));
        }
    }
    fields.retain(|_, v| !empty(v));
}

/// The record fields Salesforce holds and tandem writes: those a row maps both ways. A field
/// Salesforce only reports (a contact's company, from its Account) is not one of them: tandem
/// never sends it, so it is never a reason to update Salesforce.
pub fn salesforce_fields(kind: RecordKind) -> Vec<&'static str> {
    let mut names: Vec<&'static str> = match table(kind) {
        Ok(table) => table
            .rows
            .iter()
            .filter(|row| row.direction == Direction::Both)
            .filter_map(|row| row.record.as_deref())
            .map(|path| path.split('.').next().unwrap_or(path))
            .collect(),
        Err(_) => Vec::new(),
    };
    // An event's cancelled occurrences: Salesforce has no EXDATE, they are sent as deletions of
    // the occurrences' rows (see `occurrence`), and a pull keeps what was sent.
    // Its detached occurrences are standalone rows (see `detached`).
    if kind == RecordKind::Event {
        names.push("exdates");
        names.push(detached::FIELD);
    }
    names.sort_unstable();
    names.dedup();
    names
}

/// Whether a queried Event row is one occurrence of a Lightning event series other than its
/// first. Salesforce stores a series as one Event per occurrence, all carrying the pattern, and
/// exposes no series id in SOQL; the occurrence that starts at `Recurrence2PatternStartDate`
/// stands for the series (with its RRULE), so the others must not become records of their own —
/// on the desktop they would be a dozen copies of the same series.
pub fn is_later_series_occurrence(row: &Map<String, Value>) -> bool {
    if row.get("IsRecurrence2").and_then(Value::as_bool) != Some(true) {
        return false;
    }
    let time = |field: &str| {
        row.get(field)
            .and_then(Value::as_str)
            .and_then(|t| parse_salesforce_datetime(t).ok())
    };
    match (time("StartDateTime"), time("Recurrence2PatternStartDate")) {
        (Some(start), Some(first)) => start != first,
        _ => false,
    }
}

/// The record as Salesforce will report it after tandem writes `fields`: the written values
/// read back through the mapping, so Salesforce's own spelling of them (an event's times in the
/// user's zone, a default show-as) is not taken for a change made in Salesforce. Fields the
/// mapping does not write keep their value.
pub fn read_back(kind: RecordKind, ctx: &SalesforceContext, fields: &Fields) -> Fields {
    let read =
        to_salesforce(kind, fields, ctx).and_then(|out| from_salesforce(kind, &out.fields, ctx));
    let mut out = fields.clone();
    for (name, value) in read.unwrap_or_default() {
        // A link reads back as its id alone (the name is Salesforce's, from the row it points
        // to): the written one, with its name, is what Salesforce will report.
        let same_link = |was: &Value| {
            was.get("salesforce_id").is_some()
                && was.get("salesforce_id") == value.get("salesforce_id")
        };
        if out.get(&name).is_some_and(same_link) {
            continue;
        }
        out.insert(name, value);
    }
    out
}

/// The record as Salesforce will report it after tandem creates it from `fields`: as
/// [`read_back`], with what Salesforce fills in itself — the owner (the running user, when the
/// record names none), the defaults of what was not sent (an event shows as busy, a task is
/// normal and not started), and a linked Account's name, which it reports as the contact's
/// company. Without them the first read after a sync took every record tandem created for
/// changed.
pub fn read_back_created(kind: RecordKind, ctx: &SalesforceContext, fields: &Fields) -> Fields {
    let mut copy = read_back(kind, ctx, fields);
    for (name, value) in crate::plan::defaults(kind) {
        if salesforce_fields(kind).contains(&name) {
            copy.entry(name.to_string()).or_insert(value);
        }
    }
    if let Some(user) = &ctx.user
        && !copy.contains_key("owner")
        && salesforce_fields(kind).contains(&"owner")
    {
        copy.insert("owner".into(), user.clone());
    }
    let account_name = fields
        .get("account")
        .and_then(|a| a.get("name"))
        .filter(|n| n.as_str().is_some_and(|n| !n.is_empty()))
        .cloned();
    if let (RecordKind::Contact, Some(name)) = (kind, account_name) {
        if let Some(Value::Object(account)) = copy.get_mut("account") {
            account.insert("name".into(), name.clone());
        }
        copy.insert("company".into(), name);
    }
    copy
}

/// What a summary says about sending a record to Salesforce: each warning of the mapping (a
/// value cut, a time zone replaced, something not sent), or why Salesforce would refuse it.
/// Neither depends on the org, so a plan made without a connection says the same;
/// `row_key_field` is the external-id field settings name (see [`SalesforceContext`]).
pub fn notes(kind: RecordKind, fields: &Fields, row_key_field: Option<&str>) -> Vec<String> {
    let ctx = SalesforceContext {
        row_key_field: row_key_field.map(str::to_string),
        ..SalesforceContext::standard(chrono_tz::UTC)
    };
    match to_salesforce(kind, fields, &ctx) {
        Ok(out) => out.warnings.iter().map(ToString::to_string).collect(),
        Err(e) => vec![format!("Salesforce would refuse it: {e}")],
    }
}

/// What Salesforce holds but cannot report, kept from its copy (`copy`, as tandem last wrote or
/// read it) in a row just read (`now`): a series' cancelled occurrences are rows deleted, and
/// its detached occurrences rows of their own, not fields of the series.
pub fn keep_unreported(kind: RecordKind, copy: &Fields, now: &mut Fields) {
    if kind != RecordKind::Event || !now.get("rrule").is_some_and(Value::is_string) {
        return;
    }
    for field in ["exdates", detached::FIELD] {
        if let Some(kept) = copy.get(field) {
            now.insert(field.into(), kept.clone());
        }
    }
}

/// Salesforce stamps a task's CompletedDateTime itself whenever the task is saved closed — also
/// when tandem closes it for a desktop client that said when it was completed. So a stamp on a
/// task whose record already has a completion time (`record`) is Salesforce's bookkeeping, not a
/// change: the known time stays in `now`, the row as read. A task first closed in Salesforce
/// takes Salesforce's stamp.
pub fn keep_known_stamps(kind: RecordKind, record: &Fields, now: &mut Fields) {
    if kind != RecordKind::Task {
        return;
    }
    if let (Some(known), Some(stamp)) = (record.get("completed_at"), now.get_mut("completed_at")) {
        *stamp = known.clone();
    }
}

/// An event's Salesforce body with the invitee list and attachment names appended to its
/// description, as `options` ask; `record` is the whole record, whose attendees and
/// attachments are listed. Other bodies are returned as they are.
pub fn annotate_body(
    kind: RecordKind,
    mut body: Map<String, Value>,
    record: &Fields,
    options: Annotations,
) -> Map<String, Value> {
    if kind != RecordKind::Event || !(options.invitees || options.attachments) {
        return body;
    }
    let Ok(event) = crate::record::from_fields::<crate::record::Event>(record) else {
        return body;
    };
    if event.attendees.is_empty() && event.attachments.is_empty() {
        return body;
    }
    let text = annotate_description(
        event.description.as_deref(),
        &event.attendees,
        &event.attachments,
        options,
    );
    body.insert(
        "Description".into(),
        text.map(Value::String).unwrap_or(Value::Null),
    );
    body
}

#[cfg(test)]
mod stamp_tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_known_completion_time_outlives_salesforces_stamp() {
        let had: Fields = [("completed_at".into(), json!("2026-12-05T19:00:00Z"))].into();
        let mut now: Fields = [
            ("completed_at".into(), json!("2026-12-05T19:35:55Z")),
            ("status".into(), json!("completed")),
        ]
        .into();
        keep_known_stamps(RecordKind::Task, &had, &mut now);
        assert_eq!(now["completed_at"], json!("2026-12-05T19:00:00Z"));
        // Closed in Salesforce: its stamp is the time.
        let mut closed: Fields = [("completed_at".into(), json!("2026-12-05T19:35:55Z"))].into();
        keep_known_stamps(RecordKind::Task, &Fields::new(), &mut closed);
        assert_eq!(closed["completed_at"], json!("2026-12-05T19:35:55Z"));
        // Reopened: no time any more.
        let mut open = Fields::new();
        keep_known_stamps(RecordKind::Task, &had, &mut open);
        assert!(open.is_empty());
    }
}

#[cfg(test)]
mod read_back_tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn read_back_spells_values_as_salesforce_will() {
        let ctx = SalesforceContext::standard(chrono_tz::Europe::Berlin);
        let fields: Fields = [
            ("subject".to_string(), json!("Review")),
            (
                "start".to_string(),
                json!({"time": {"utc": "2026-11-25T09:00:00Z"}}),
            ),
            (
                "end".to_string(),
                json!({"time": {"utc": "2026-11-25T10:00:00Z"}}),
            ),
            ("unmapped".to_string(), json!(["X-FOO:1"])),
        ]
        .into();
        let back = read_back(RecordKind::Event, &ctx, &fields);
        assert_eq!(back["start"]["time"]["tzid"], json!("Europe/Berlin"));
        assert_eq!(
            back["unmapped"],
            json!(["X-FOO:1"]),
            "what is not written is kept"
        );
        assert_eq!(back["subject"], json!("Review"));
    }
}
