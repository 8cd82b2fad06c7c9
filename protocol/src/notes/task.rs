//! Notes to-dos (Form "Task", PIM23's /task items) ⇄ `Task` fields.
//!
//! **Status.** A Notes to-do keeps its state in `DueState`. PIM23 calls it "Status of the
//! task" (TaskRequest) and lists the states "Completed", "In Progress", "Not Started",
//! "Overdue" and "Rejected" (TaskResponse); the documents hold them as the codes `0`–`4` in that
//! order (the create example's in-process draft has `DueState: 1`; the emulator seeds `1` and
//! `0`). So: `0` completed, `1` in progress, `2` not started, `3` overdue (a not-started to-do
//! past its due date: read as not started), `4` rejected (read as cancelled). The words
//! themselves are read too. The record's `waiting` is written as in progress and `deferred` as
//! not started (Notes has neither); `keep_equivalent` keeps the record's word when Notes
//! answers with the state it was written as. When it was completed is `CompletedDateTime`.
//!
//! `Importance` is the priority (`1` high, `2` normal, `3` low), `OrgConfidential` `1` marks
//! a private to-do, `Body` is plain text or HTML. Due and start dates are days (see `time`),
//! written to `DueDateTime`/`StartDateTime` and to the `DueDate`/`StartDate` the client's form
//! shows, as PIM23's examples carry both.

use super::body::{self, Body};
use super::error::NotesMappingError;
use super::json::{Item, put};
use super::time::{day_part, day_value, instant_text, parse_instant};
use crate::record::{Fields, Priority, RecordKind, Task, TaskStatus, from_fields};
use chrono::NaiveDate;
use chrono_tz::Tz;
use serde_json::{Map, Value, json};

pub(crate) const ITEM: &str = "Task document";
pub(crate) const FORM: &str = "Task";

/// `DueState` codes, their PIM23 words, and the record's status each reads as.
const STATES: [(&str, &str, TaskStatus); 5] = [
    ("0", "Completed", TaskStatus::Completed),
    ("1", "In Progress", TaskStatus::InProgress),
    ("2", "Not Started", TaskStatus::NotStarted),
    ("3", "Overdue", TaskStatus::NotStarted),
    ("4", "Rejected", TaskStatus::Cancelled),
];

const PRIORITIES: [(&str, Priority); 3] = [
    ("1", Priority::High),
    ("2", Priority::Normal),
    ("3", Priority::Low),
];

/// The code a status is written as.
pub(crate) fn state_code(status: TaskStatus) -> &'static str {
    match status {
        TaskStatus::Completed => "0",
        TaskStatus::InProgress | TaskStatus::Waiting => "1",
        TaskStatus::NotStarted | TaskStatus::Deferred => "2",
        TaskStatus::Cancelled => "4",
    }
}

/// Which record fields each item feeds, for telling what a PATCH must send.
pub(crate) fn feeds(item: &str) -> &'static [&'static str] {
    const FEEDS: &[(&str, &[&str])] = &[
        ("Subject", &["subject"]),
        ("Body", &["description", "description_html"]),
        ("StartDateTime", &["start"]),
        ("StartDate", &["start"]),
        ("DueDateTime", &["due"]),
        ("DueDate", &["due"]),
        ("DueState", &["status"]),
        ("CompletedDateTime", &["completed_at"]),
        ("Importance", &["priority"]),
        ("Categories", &["categories"]),
        ("OrgConfidential", &["private"]),
    ];
    FEEDS
        .iter()
        .find(|(i, _)| i.eq_ignore_ascii_case(item))
        .map_or(&[], |(_, f)| f)
}

pub(crate) fn read(item: &Item) -> Result<Fields, NotesMappingError> {
    let mut fields = Fields::new();
    put(&mut fields, "subject", item.text("Subject")?);
    if let Some(content) = item.text("Body")? {
        body::read(&content, body::looks_like_html(&content), &mut fields);
    }
    put(
        &mut fields,
        "start",
        day(item, "StartDateTime", "StartDate")?,
    );
    put(&mut fields, "due", day(item, "DueDateTime", "DueDate")?);
    if let Some(code) = item.code("DueState")? {
        let found = STATES
            .iter()
            .find(|(c, word, _)| *c == code.trim() || word.eq_ignore_ascii_case(code.trim()))
            .map(|(_, _, s)| *s)
            .ok_or_else(|| {
                item.bad(
                    "DueState",
                    &code,
                    "0 (completed), 1 (in progress), 2 (not started), 3 (overdue) or 4 (rejected)",
                )
            })?;
        put(&mut fields, "status", found);
    }
    if let Some(text) = item.text("CompletedDateTime")? {
        let at = parse_instant(&text).ok_or_else(|| {
            item.bad(
                "CompletedDateTime",
                &text,
                "a date and time like 2026-12-01T17:00:00Z",
            )
        })?;
        put(&mut fields, "completed_at", at);
    }
    if let Some(code) = item.code("Importance")? {
        let found = PRIORITIES
            .iter()
            .find(|(c, _)| *c == code.trim())
            .map(|(_, p)| *p)
            .ok_or_else(|| item.bad("Importance", &code, "1 (high), 2 (normal) or 3 (low)"))?;
        put(&mut fields, "priority", found);
    }
    put(&mut fields, "categories", item.texts("Categories")?);
    put(
        &mut fields,
        "private",
        item.code("OrgConfidential")?.as_deref() == Some("1"),
    );
    Ok(fields)
}

/// A day item, or the other spelling the client's form keeps.
fn day(item: &Item, name: &str, other: &str) -> Result<Option<NaiveDate>, NotesMappingError> {
    let (name, text) = match item.text(name)? {
        Some(text) => (name, text),
        None => match item.text(other)? {
            Some(text) => (other, text),
            None => return Ok(None),
        },
    };
    day_part(&text)
        .map(Some)
        .ok_or_else(|| item.bad(name, &text, "a date or a date and time"))
}

/// Every mapped item for `fields`, a cleared one as `null`. `current`: the document's body,
/// kept when it shows the record's text.
pub(crate) fn write(
    fields: &Fields,
    current: Option<&Value>,
    zone: Tz,
) -> Result<Map<String, Value>, NotesMappingError> {
    let task: Task =
        from_fields(fields).map_err(|reason| super::invalid(RecordKind::Task, reason))?;
    let mut body = Map::new();
    body.insert("Subject".into(), json!(task.subject));
    let current_body = current
        .and_then(|c| c.as_object())
        .and_then(|c| super::json::key_in(c, "Body").and_then(|k| c.get(k)))
        .and_then(Value::as_str)
        .map(|b| (b, body::looks_like_html(b)));
    let text = match body::write(fields, current_body) {
        Some(Body::Html(h) | Body::Text(h)) => json!(h),
        None => Value::Null,
    };
    body.insert("Body".into(), text);
    let day = |d: Option<NaiveDate>| d.map_or(Value::Null, |d| json!(day_value(d, zone)));
    body.insert("StartDateTime".into(), day(task.start));
    body.insert("StartDate".into(), day(task.start));
    body.insert("DueDateTime".into(), day(task.due));
    body.insert("DueDate".into(), day(task.due));
    body.insert(
        "DueState".into(),
        task.status.map_or(Value::Null, |s| json!(state_code(s))),
    );
    body.insert(
        "CompletedDateTime".into(),
        task.completed_at
            .map_or(Value::Null, |t| json!(instant_text(t))),
    );
    body.insert(
        "Importance".into(),
        task.priority.map_or(Value::Null, |p| {
            json!(
                PRIORITIES
                    .iter()
                    .find(|(_, q)| *q == p)
                    .map_or("2", |(c, _)| *c)
            )
        }),
    );
    body.insert(
        "Categories".into(),
        if task.categories.is_empty() {
            Value::Null
        } else {
            json!(task.categories)
        },
    );
    body.insert(
        "OrgConfidential".into(),
        if task.private {
            json!("1")
        } else {
            Value::Null
        },
    );
    Ok(body)
}
