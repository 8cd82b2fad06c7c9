//! Cross-field rules and derived fields per object: Contact.Name, Event duration/all-day/private rules,
//! Task IsClosed via TaskStatus, activity AccountId, and invitee child events for EventRelation.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;

use super::errors::ApiError;
use super::org::{Org, Record, WriteCtx};
use super::schema::{self, ObjectDef};
use super::value::Value;

/// Events can't be longer than this (multi-day events enabled).
pub const MAX_EVENT_DAYS: i64 = 14;

/// Named access to a record being validated, remembering which fields the request set.
pub struct Row<'a> {
    pub def: &'a ObjectDef,
    pub values: &'a mut [Value],
    pub given: &'a [usize],
}

impl Row<'_> {
    pub fn get(&self, name: &str) -> &Value {
        static NULL: Value = Value::Null;
        self.def
            .field_index(name)
            .and_then(|i| self.values.get(i))
            .unwrap_or(&NULL)
    }

    pub fn set(&mut self, name: &str, v: Value) {
        if let Some(i) = self.def.field_index(name) {
            self.values[i] = v;
        }
    }

    /// The request set this field (possibly to null).
    pub fn touched(&self, name: &str) -> bool {
        self.def
            .field_index(name)
            .is_some_and(|i| self.given.contains(&i))
    }

    /// The request set this field to a value.
    pub fn given(&self, name: &str) -> bool {
        self.touched(name) && !self.get(name).is_null()
    }
}

pub fn apply(
    org: &Org,
    obj: usize,
    values: &mut [Value],
    given: &[usize],
    prev: Option<&[Value]>,
    ctx: &WriteCtx,
) -> Result<(), ApiError> {
    let def = org.def(obj);
    let mut row = Row { def, values, given };
    match def.name.as_str() {
        schema::CONTACT => {
            let name = [
                row.get("FirstName").as_text(),
                row.get("LastName").as_text(),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
            row.set("Name", Value::Text(name));
            Ok(())
        }
        schema::EVENT => {
            let tz = org.user_tz(&ctx.user_id);
            event(&mut row, prev.is_some(), tz)?;
            derive_account(org, &mut row);
            Ok(())
        }
        schema::TASK => {
            task(org, &mut row, prev, ctx);
            derive_account(org, &mut row);
            Ok(())
        }
        schema::EVENT_RELATION => relation(org, &mut row, prev.is_none()),
        _ => Ok(()),
    }
}

fn local_date(t: DateTime<Utc>, tz: Tz) -> NaiveDate {
    t.with_timezone(&tz).date_naive()
}

fn midnight_utc(d: NaiveDate) -> DateTime<Utc> {
    Utc.from_utc_datetime(&d.and_time(chrono::NaiveTime::MIN))
}

fn too_long() -> ApiError {
    ApiError::integrity(
        format!("Event duration can't be longer than {MAX_EVENT_DAYS} days."),
        &["EndDateTime"],
    )
}

fn ends_before_start() -> ApiError {
    ApiError::integrity(
        "End Date Time: The end time can't be before the start time.",
        &["EndDateTime"],
    )
}

/// The Event object's documented rules: start/ActivityDateTime/ActivityDate coherence, one of
/// DurationInMinutes/EndDateTime for timed events (both only if consistent), all-day events stored as
/// midnight-UTC dates with an inclusive last day, at most 14 days, private events without Who/What.
fn event(row: &mut Row, is_update: bool, tz: Tz) -> Result<(), ApiError> {
    let all_day = row.get("IsAllDayEvent").as_bool();
    let given_adt = row.given("ActivityDateTime");
    let given_start = row.given("StartDateTime");
    if given_adt && given_start && row.get("ActivityDateTime") != row.get("StartDateTime") {
        return Err(ApiError::integrity(
            "Activity Date Time: must match the Start Date Time.",
            &["ActivityDateTime"],
        ));
    }
    if given_adt && !given_start {
        // ActivityDateTime is the legacy spelling of the start.
        let adt = row.get("ActivityDateTime").clone();
        row.set("StartDateTime", adt);
    }
    let start_given = given_start || given_adt;
    let given_ad = row.given("ActivityDate");
    let given_end = row.given("EndDateTime");
    let given_dur = row.given("DurationInMinutes");
    // The duration as it stands after applying the request (given, or the stored one on update).
    let dur = row.get("DurationInMinutes").as_int();

    if all_day {
        let start = row.get("StartDateTime").as_datetime();
        let ad = row.get("ActivityDate").as_date();
        let first = match (start, ad) {
            (Some(s), Some(d)) if start_given && given_ad && s.date_naive() != d => {
                return Err(ApiError::integrity(
                    "Date: must match the date of the Start Date Time for an all-day event.",
                    &["ActivityDate"],
                ));
            }
            (_, Some(d)) if given_ad && !start_given => d,
            (Some(s), _) => s.date_naive(),
            (None, Some(d)) => d,
            (None, None) => return Err(ApiError::required_missing(&["ActivityDate"])),
        };
        let end = row.get("EndDateTime").as_datetime();
        let days = if given_end {
            let days = end
                .map(|e| (e.date_naive() - first).num_days() + 1)
                .unwrap_or(1);
            if given_dur && dur != Some(days * 1440) {
                return Err(ApiError::integrity(
                    "Duration: doesn't match the start and end of the all-day event.",
                    &["DurationInMinutes"],
                ));
            }
            days
        } else if given_dur {
            (dur.unwrap_or(1440) + 1439) / 1440
        } else if is_update {
            dur.map(|d| (d + 1439) / 1440).unwrap_or(1)
        } else {
            1
        };
        if days < 1 {
            return Err(ends_before_start());
        }
        if days > MAX_EVENT_DAYS {
            return Err(too_long());
        }
        let start = midnight_utc(first);
        let last = first + Duration::days(days - 1);
        row.set("StartDateTime", Value::DateTime(start));
        row.set("ActivityDateTime", Value::DateTime(start));
        row.set("ActivityDate", Value::Date(first));
        row.set("EndDateTime", Value::DateTime(midnight_utc(last)));
        row.set("EndDate", Value::Date(last));
        row.set("DurationInMinutes", Value::Int(days * 1440));
    } else {
        let Some(start) = row.get("StartDateTime").as_datetime() else {
            return Err(ApiError::required_missing(&["StartDateTime"]));
        };
        if given_ad && row.get("ActivityDate").as_date() != Some(local_date(start, tz)) {
            return Err(ApiError::integrity(
                "Date: must match the date of the Start Date Time.",
                &["ActivityDate"],
            ));
        }
        let end = row.get("EndDateTime").as_datetime();
        let minutes = match (given_end, given_dur) {
            (true, true) => {
                let m = end.map(|e| (e - start).num_minutes()).unwrap_or(0);
                if Some(m) != dur {
                    return Err(ApiError::integrity(
                        "Duration: doesn't match the difference between the start and end times.",
                        &["DurationInMinutes"],
                    ));
                }
                m
            }
            (true, false) => end.map(|e| (e - start).num_minutes()).unwrap_or(0),
            (false, true) => dur.unwrap_or(0),
            (false, false) => match (is_update, dur, end) {
                // Moving the start keeps the duration.
                (true, Some(d), _) => d,
                (true, None, Some(e)) => (e - start).num_minutes(),
                _ => return Err(ApiError::required_missing(&["EndDateTime"])),
            },
        };
        if minutes < 0 {
            return Err(ends_before_start());
        }
        if minutes > MAX_EVENT_DAYS * 1440 {
            return Err(too_long());
        }
        let end = start + Duration::minutes(minutes);
        row.set("ActivityDateTime", Value::DateTime(start));
        row.set("ActivityDate", Value::Date(local_date(start, tz)));
        row.set("EndDateTime", Value::DateTime(end));
        row.set("EndDate", Value::Date(local_date(end, tz)));
        row.set("DurationInMinutes", Value::Int(minutes));
    }

    if row.get("IsPrivate").as_bool()
        && (!row.get("WhoId").is_null() || !row.get("WhatId").is_null())
    {
        return Err(ApiError::integrity(
            "You can't relate a private event to a contact, lead or record (Name / Related To must be empty).",
            &["IsPrivate"],
        ));
    }
    let series = row.get("IsRecurrence2").as_bool();
    if !series && row.given("Recurrence2PatternText") {
        return Err(ApiError::integrity(
            "Recurrence2PatternText can only be set on an event series (IsRecurrence2 = true).",
            &["Recurrence2PatternText"],
        ));
    }
    if series && row.get("Recurrence2PatternText").is_null() {
        return Err(ApiError::required_missing(&["Recurrence2PatternText"]));
    }
    if row.get("GroupEventType").is_null() {
        row.set("GroupEventType", Value::Text("0".into()));
    }
    Ok(())
}

/// IsClosed follows Status through the TaskStatus table; CompletedDateTime is stamped on closing.
fn task(org: &Org, row: &mut Row, prev: Option<&[Value]>, ctx: &WriteCtx) {
    let status = row.get("Status").as_text().unwrap_or("").to_string();
    let closed = org.task_status_closed(&status);
    let was_closed = prev.is_some() && row.get("IsClosed").as_bool();
    row.set("IsClosed", Value::Bool(closed));
    if closed && !was_closed {
        row.set("CompletedDateTime", Value::DateTime(ctx.now));
    } else if !closed {
        row.set("CompletedDateTime", Value::Null);
    }
    let high = row.get("Priority").as_text() == Some("High");
    row.set("IsHighPriority", Value::Bool(high));
}

/// AccountId of an activity: the WhatId when it is an account, else the Who contact's account.
fn derive_account(org: &Org, row: &mut Row) {
    let what = row.get("WhatId").as_text().and_then(|id| org.live(id));
    let account = match what {
        Some(r) if org.def(r.object).name == schema::ACCOUNT => Some(r.id.clone()),
        _ => row
            .get("WhoId")
            .as_text()
            .and_then(|id| org.live(id))
            .and_then(|c| org.text(c, "AccountId").map(str::to_string)),
    };
    row.set("AccountId", account.map(Value::Text).unwrap_or(Value::Null));
}

fn relation(org: &Org, row: &mut Row, is_create: bool) -> Result<(), ApiError> {
    if !is_create {
        return Ok(());
    }
    let event_id = row.get("EventId").as_text().unwrap_or("").to_string();
    let relation_id = row.get("RelationId").as_text().unwrap_or("").to_string();
    let Some(event) = org.live(&event_id) else {
        return Err(ApiError::bad_request(
            "INVALID_CROSS_REFERENCE_KEY",
            "invalid cross reference id",
        )
        .with_fields(&["EventId"]));
    };
    if org.get(event, "IsChild").as_bool() {
        return Err(ApiError::integrity(
            "You can't add invitees to an invitee's copy of an event.",
            &["EventId"],
        ));
    }
    let er = org.schema.obj(schema::EVENT_RELATION);
    if let Some(other) = org.records(er).find(|r| {
        r.deleted_at.is_none()
            && org.text(r, "EventId") == Some(event_id.as_str())
            && org.text(r, "RelationId") == Some(relation_id.as_str())
    }) {
        return Err(ApiError::bad_request(
            "DUPLICATE_VALUE",
            format!(
                "duplicate value found: RelationId duplicates value on record with id: {}",
                other.id
            ),
        )
        .with_fields(&[]));
    }
    let account = org
        .live(&relation_id)
        .filter(|r| org.def(r.object).name == schema::CONTACT)
        .and_then(|c| org.text(c, "AccountId").map(str::to_string));
    row.set("AccountId", account.map(Value::Text).unwrap_or(Value::Null));
    if row.get("Status").is_null() {
        row.set("Status", Value::Text("New".into()));
    }
    Ok(())
}

/// Event fields an invitee's child event mirrors from its parent.
const MIRRORED: &[&str] = &[
    "Subject",
    "StartDateTime",
    "EndDateTime",
    "DurationInMinutes",
    "ActivityDateTime",
    "ActivityDate",
    "EndDate",
    "IsAllDayEvent",
    "Location",
    "Description",
    "IsPrivate",
    "WhoId",
    "WhatId",
    "AccountId",
    "Type",
];

pub fn after_insert(org: &mut Org, obj: usize, id: &str, ctx: &WriteCtx) -> Result<(), ApiError> {
    if org.def(obj).name != schema::EVENT_RELATION {
        return Ok(());
    }
    let Some(rel) = org.live(id).cloned() else {
        return Ok(());
    };
    let event_id = org.text(&rel, "EventId").unwrap_or("").to_string();
    let invitee = org.text(&rel, "RelationId").unwrap_or("").to_string();
    let Some(parent) = org.live(&event_id).cloned() else {
        return Ok(());
    };
    let is_user = org
        .live(&invitee)
        .is_some_and(|r| org.def(r.object).name == schema::USER);
    if !is_user
        || !org.get(&rel, "IsInvitee").as_bool()
        || org.text(&parent, "OwnerId") == Some(invitee.as_str())
    {
        return Ok(());
    }
    // A user invitee gets a child event owned by them; the parent becomes a group event.
    let ev = parent.object;
    let child_id = org.alloc_id(ev);
    let def = org.def(ev).clone();
    let mut values = parent.values.clone();
    values[def.idx("Id")] = Value::Text(child_id.clone());
    values[def.idx("OwnerId")] = Value::Text(invitee);
    values[def.idx("IsChild")] = Value::Bool(true);
    values[def.idx("IsGroupEvent")] = Value::Bool(true);
    values[def.idx("GroupEventType")] = Value::Text("1".into());
    values[def.idx("IsReminderSet")] = Value::Bool(false);
    values[def.idx("ReminderDateTime")] = Value::Null;
    // External ids identify the organiser's record; the copy must not match an upsert.
    for (i, fd) in def.fields.iter().enumerate() {
        if fd.external_id {
            values[i] = Value::Null;
        }
    }
    for f in ["CreatedDate", "LastModifiedDate", "SystemModstamp"] {
        values[def.idx(f)] = Value::DateTime(ctx.now);
    }
    org.put(Record {
        id: child_id,
        object: ev,
        values,
        deleted_at: None,
        series: None,
        parent_event: Some(parent.id.clone()),
        via_relation: Some(id.to_string()),
    });
    set_group_flags(org, &parent.id, true, ctx);
    Ok(())
}

fn set_group_flags(org: &mut Org, event_id: &str, group: bool, ctx: &WriteCtx) {
    let Some(mut ev) = org.live(event_id).cloned() else {
        return;
    };
    let def = org.def(ev.object);
    let (g, t, s) = (
        def.idx("IsGroupEvent"),
        def.idx("GroupEventType"),
        def.idx("SystemModstamp"),
    );
    if ev.values[g] == Value::Bool(group) {
        return;
    }
    ev.values[g] = Value::Bool(group);
    ev.values[t] = Value::Text(if group { "1" } else { "0" }.into());
    ev.values[s] = Value::DateTime(ctx.now);
    org.put(ev);
}

fn children_of(org: &Org, event_id: &str) -> Vec<Record> {
    let ev = org.schema.obj(schema::EVENT);
    org.records(ev)
        .filter(|r| r.deleted_at.is_none() && r.parent_event.as_deref() == Some(event_id))
        .cloned()
        .collect()
}

pub fn after_update(org: &mut Org, obj: usize, id: &str, ctx: &WriteCtx) -> Result<(), ApiError> {
    if org.def(obj).name != schema::EVENT {
        return Ok(());
    }
    let Some(parent) = org.live(id).cloned() else {
        return Ok(());
    };
    let def = org.def(obj).clone();
    for mut child in children_of(org, id) {
        for f in MIRRORED {
            let i = def.idx(f);
            child.values[i] = parent.values[i].clone();
        }
        for f in ["LastModifiedDate", "SystemModstamp"] {
            child.values[def.idx(f)] = Value::DateTime(ctx.now);
        }
        org.put(child);
    }
    Ok(())
}

pub fn after_delete(org: &mut Org, obj: usize, id: &str, ctx: &WriteCtx) {
    match org.def(obj).name.as_str() {
        schema::EVENT => {
            let er = org.schema.obj(schema::EVENT_RELATION);
            let relations: Vec<String> = org
                .records(er)
                .filter(|r| r.deleted_at.is_none() && org.text(r, "EventId") == Some(id))
                .map(|r| r.id.clone())
                .collect();
            for r in relations {
                org.soft_delete(&r, ctx);
            }
            for child in children_of(org, id) {
                org.soft_delete(&child.id, ctx);
            }
        }
        schema::EVENT_RELATION => {
            let ev = org.schema.obj(schema::EVENT);
            let child = org
                .records(ev)
                .find(|r| r.deleted_at.is_none() && r.via_relation.as_deref() == Some(id))
                .map(|r| (r.id.clone(), r.parent_event.clone()));
            if let Some((child_id, parent)) = child {
                org.soft_delete(&child_id, ctx);
                if let Some(parent) = parent
                    && children_of(org, &parent).is_empty()
                {
                    set_group_flags(org, &parent, false, ctx);
                }
            }
        }
        _ => {}
    }
}
