//! Microsoft To Do tasks (resources/todotask.md) ⇄ `Task` fields.
//!
//! To Do keeps a due or start date as midnight of that day in the zone it was set in, and Graph
//! may answer in another zone: the day is read as `time::day_of` says, never as the UTC date of
//! the instant. Dates go out as midnight in the user's zone.

use super::body;
use super::error::GraphMappingError;
use super::json::{Item, put};
use super::recurrence::{Anchor, rule_from_graph, rule_to_graph};
use super::time::{SendZone, day_of, day_value, instant_value, read_stamp, send_zone};
use crate::record::{Fields, Priority, RecordKind, Task, TaskStatus, from_fields};
use chrono::{NaiveDate, NaiveTime};
use chrono_tz::Tz;
use serde_json::{Map, Value, json};

pub(crate) const ITEM: &str = "todoTask";

pub(crate) const FEEDS: &[(&str, &[&str])] = &[
    ("title", &["subject"]),
    ("body", &["description", "description_html"]),
    ("status", &["status"]),
    ("importance", &["priority"]),
    ("dueDateTime", &["due"]),
    ("startDateTime", &["start"]),
    ("completedDateTime", &["completed_at"]),
    ("isReminderOn", &["reminder_at"]),
    ("reminderDateTime", &["reminder_at"]),
    ("categories", &["categories"]),
    ("recurrence", &["rrule"]),
];

/// Sent together: a reminder is its flag and its time.
pub(crate) const GROUPS: &[&[&str]] = &[&["isReminderOn", "reminderDateTime"]];

/// To Do's statuses and the record's. To Do has no "cancelled": a cancelled task is sent as
/// completed (it is closed either way) and reads back as completed.
const STATUSES: [(&str, TaskStatus); 5] = [
    ("notStarted", TaskStatus::NotStarted),
    ("inProgress", TaskStatus::InProgress),
    ("completed", TaskStatus::Completed),
    ("waitingOnOthers", TaskStatus::Waiting),
    ("deferred", TaskStatus::Deferred),
];

const PRIORITIES: [(&str, Priority); 3] = [
    ("low", Priority::Low),
    ("normal", Priority::Normal),
    ("high", Priority::High),
];

pub(crate) fn read(item: &Item, zone: Tz) -> Result<Fields, GraphMappingError> {
    let mut fields = Fields::new();
    put(&mut fields, "subject", item.text("title")?);
    body::read(item, &mut fields)?;
    if let Some(status) = item.text("status")? {
        let found = STATUSES
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(&status))
            .map(|(_, s)| *s)
            .ok_or_else(|| {
                item.bad(
                    "status",
                    &status,
                    "notStarted, inProgress, completed, waitingOnOthers or deferred",
                )
            })?;
        put(&mut fields, "status", found);
    }
    if let Some(importance) = item.text("importance")? {
        let found = PRIORITIES
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(&importance))
            .map(|(_, p)| *p)
            .ok_or_else(|| item.bad("importance", &importance, "low, normal or high"))?;
        put(&mut fields, "priority", found);
    }
    let due = day(item, "dueDateTime", zone)?;
    let start = day(item, "startDateTime", zone)?;
    put(&mut fields, "due", due);
    put(&mut fields, "start", start);
    if let Some(stamp) = read_stamp(item, "completedDateTime")? {
        put(
            &mut fields,
            "completed_at",
            stamp.utc(item, "completedDateTime")?,
        );
    }
    if item.flag("isReminderOn")?
        && let Some(stamp) = read_stamp(item, "reminderDateTime")?
    {
        put(
            &mut fields,
            "reminder_at",
            stamp.utc(item, "reminderDateTime")?,
        );
    }
    put(&mut fields, "categories", item.texts("categories")?);
    if let Some(first) = due.or(start) {
        let anchor = anchor(first, zone);
        put(&mut fields, "rrule", rule_from_graph(item, &anchor)?);
    }
    Ok(fields)
}

fn day(item: &Item, property: &str, zone: Tz) -> Result<Option<NaiveDate>, GraphMappingError> {
    Ok(read_stamp(item, property)?.map(|s| day_of(s.local, s.zone, zone)))
}

/// A task repeats in whole days from its due date, in the user's zone.
fn anchor(first: NaiveDate, zone: Tz) -> Anchor {
    let sent = user_zone(zone, first);
    Anchor {
        all_day: true,
        zone,
        zone_name: sent.name,
        first,
        time: None,
    }
}

/// The user's zone by a name Graph accepts, for dates around `day`.
fn user_zone(zone: Tz, day: NaiveDate) -> SendZone {
    send_zone(zone.name(), day.and_time(NaiveTime::MIN).and_utc())
}

fn day_in(day: NaiveDate, zone: Tz) -> Value {
    day_value(day, &user_zone(zone, day))
}

/// The properties for `fields`: all of them with `current` (cleared ones at To Do's empty or
/// default value), only those with a value without.
pub(crate) fn write(
    fields: &Fields,
    current: Option<&Value>,
    zone: Tz,
) -> Result<Map<String, Value>, GraphMappingError> {
    let task: Task =
        from_fields(fields).map_err(|reason| super::invalid(RecordKind::Task, reason))?;
    let mut body = Map::new();
    body.insert(
        "title".into(),
        json!(task.subject.clone().unwrap_or_default()),
    );
    if let Some(b) = body::write(fields, current) {
        body.insert("body".into(), b);
    }
    let status = task.status.map_or("notStarted", |s| match s {
        TaskStatus::Cancelled => "completed",
        other => STATUSES
            .iter()
            .find(|(_, t)| *t == other)
            .map_or("notStarted", |(n, _)| *n),
    });
    body.insert("status".into(), json!(status));
    let importance = task.priority.map_or("normal", |p| {
        PRIORITIES
            .iter()
            .find(|(_, q)| *q == p)
            .map_or("normal", |(n, _)| *n)
    });
    body.insert("importance".into(), json!(importance));
    body.insert(
        "dueDateTime".into(),
        task.due.map_or(Value::Null, |d| day_in(d, zone)),
    );
    body.insert(
        "startDateTime".into(),
        task.start.map_or(Value::Null, |d| day_in(d, zone)),
    );
    // To Do stamps the completion itself when a task is completed; tandem never clears it.
    if let Some(at) = task.completed_at {
        body.insert("completedDateTime".into(), instant_value(at));
    }
    match task.reminder_at {
        Some(at) => {
            body.insert("isReminderOn".into(), json!(true));
            body.insert("reminderDateTime".into(), instant_value(at));
        }
        None => {
            body.insert("isReminderOn".into(), json!(false));
        }
    }
    body.insert("categories".into(), json!(task.categories));
    let recurrence = match &task.rrule {
        None => Value::Null,
        Some(rule) => {
            let Some(first) = task.due.or(task.start) else {
                return Err(GraphMappingError::BadRecordField {
                    kind: RecordKind::Task.as_str(),
                    field: "rrule".into(),
                    reason: format!(
                        "a repeating To Do task needs a due date to repeat from; give the task a due date or remove its rule `{rule}`"
                    ),
                });
            };
            rule_to_graph(rule, &anchor(first, zone))?
        }
    };
    body.insert("recurrence".into(), recurrence);

    if current.is_none() {
        // Graph's defaults need not be sent on a create.
        body.retain(|name, v| {
            let default = matches!(
                (name.as_str(), v.as_str()),
                ("status", Some("notStarted")) | ("importance", Some("normal"))
            ) || (name == "isReminderOn" && *v == json!(false));
            !(super::json::is_blank(v) || default)
        });
    }
    Ok(body)
}
