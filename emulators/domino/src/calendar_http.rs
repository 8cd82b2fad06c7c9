//! The PIM calendar over HTTP (openapi.pim.json 1.0.2, server `/api/pim-v1`): getOneCalendar
//! and createCalendarEntry on `/calendar/{calid}`, getCalendarEntry, updateCalendarEntry,
//! modifyCalendarEntry and deleteCalendarEntry on `/calendar/{calid}/{calentryid}`. Only the
//! mail file's calendar, `default`, exists. Writes to a meeting mail its attendees (implicit
//! scheduling), unless `send=false`.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use axum::{Json, Router};
use chrono::NaiveDate;
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::sync::Arc;

use crate::auth;
use crate::calendar::{self, Notice, NoticeKind};
use crate::error::{DominoError, Envelope};
use crate::{Shared, lock};

type Params = Query<HashMap<String, String>>;
type Body = Result<Json<Value>, axum::extract::rejection::JsonRejection>;

pub fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/api/pim-v1/calendar/{calid}", get(list).post(create))
        .route(
            "/api/pim-v1/calendar/{calid}/{entry}",
            get(read).put(replace).patch(modify).delete(delete),
        )
}

/// A PIM request on the `default` calendar by a token with the `MAIL` scope.
fn admit(
    shared: &Shared,
    headers: &HeaderMap,
    calid: &str,
    params: &HashMap<String, String>,
) -> Result<(), DominoError> {
    auth::session(shared, headers, &["MAIL"], Envelope::Pim)?;
    if calid != "default" {
        return Err(DominoError::not_found(&format!("no calendar {calid}")).pim());
    }
    if params.get("ical").is_some_and(|v| v == "true") {
        return Err(
            DominoError::new(StatusCode::NOT_IMPLEMENTED, "Not implemented")
                .with_details("this emulator answers JSON only")
                .pim(),
        );
    }
    Ok(())
}

fn bad(details: impl Into<String>) -> DominoError {
    DominoError::bad_request(details).pim()
}

fn object(body: Body) -> Result<Map<String, Value>, DominoError> {
    match body {
        Ok(Json(Value::Object(map))) => Ok(map),
        Ok(_) => Err(bad("the body must be a JSON object")),
        Err(e) => Err(bad(e.body_text())),
    }
}

fn date(params: &HashMap<String, String>, name: &str) -> Result<Option<NaiveDate>, DominoError> {
    params
        .get(name)
        .map(|v| {
            NaiveDate::parse_from_str(v, "%Y-%m-%d")
                .map_err(|_| bad(format!("{name} must be a date (YYYY-MM-DD)")))
        })
        .transpose()
}

/// `send`: "Should the calendar entry be sent out to the invitees or stay as draft". The
/// spec gives no default; Notes schedules implicitly (connectors.md C pitfall 4), so an
/// absent `send` sends — a client that means a draft must say `send=false`.
fn send(params: &HashMap<String, String>) -> Result<bool, DominoError> {
    match params.get("send").map(String::as_str) {
        None | Some("true") => Ok(true),
        Some("false") => Ok(false),
        Some(other) => Err(bad(format!("send must be true or false, got {other}"))),
    }
}

fn notify(
    shared: &Shared,
    kind: NoticeKind,
    uid: &str,
    event: &Map<String, Value>,
    recipients: Vec<String>,
) {
    if recipients.is_empty() {
        return;
    }
    lock(&shared.notices).push(Notice {
        kind,
        uid: uid.to_string(),
        title: calendar::title(event),
        recipients,
    });
}

fn entry_missing(entry: &str) -> DominoError {
    DominoError::not_found(&format!("no calendar entry {entry}")).pim()
}

/// getOneCalendar: the entries from `startdate` to `enddate` (days, inclusive), in note id
/// order; without them, every entry.
async fn list(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(calid): Path<String>,
    Query(params): Params,
) -> Result<Json<Value>, DominoError> {
    admit(&shared, &headers, &calid, &params)?;
    let from = date(&params, "startdate")?;
    let to = date(&params, "enddate")?;
    let mail = shared.mail();
    let entries: Vec<Value> = mail
        .documents()
        .into_iter()
        .filter(|doc| {
            doc.event
                .as_ref()
                .is_some_and(|e| calendar::in_range(e, from, to))
        })
        .map(calendar::render)
        .collect();
    Ok(Json(Value::Array(entries)))
}

/// createCalendarEntry: the new entry (the spec's 200 has no schema; the entry, with its
/// `uid`, is what a client needs back).
async fn create(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(calid): Path<String>,
    Query(params): Params,
    body: Body,
) -> Result<Json<Value>, DominoError> {
    admit(&shared, &headers, &calid, &params)?;
    let send = send(&params)?;
    let event = calendar::accept(object(body)?).map_err(bad)?;
    let attendees = calendar::attendees(&event);
    let rendered = {
        let mut mail = shared.mail();
        let unid = mail.create_entry(event.clone()).map_err(bad)?;
        let doc = mail.get(&unid).ok_or_else(|| entry_missing(&unid))?;
        calendar::render(doc)
    };
    if send {
        let uid = rendered["uid"].as_str().unwrap_or_default();
        notify(&shared, NoticeKind::Invitation, uid, &event, attendees);
    }
    Ok(Json(rendered))
}

async fn read(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path((calid, entry)): Path<(String, String)>,
    Query(params): Params,
) -> Result<Json<Value>, DominoError> {
    admit(&shared, &headers, &calid, &params)?;
    let mail = shared.mail();
    let doc = mail
        .get(&entry)
        .filter(|d| d.event.is_some())
        .ok_or_else(|| entry_missing(&entry))?;
    Ok(Json(calendar::render(doc)))
}

/// Stores a changed entry; the entry as read back.
fn store(shared: &Shared, entry: &str, event: Map<String, Value>) -> Result<Value, DominoError> {
    let mut mail = shared.mail();
    let items = calendar::items(&event);
    let doc = mail
        .update_event(entry, items, event)
        .ok_or_else(|| entry_missing(entry))?;
    Ok(calendar::render(doc))
}

fn current(shared: &Shared, entry: &str) -> Result<Map<String, Value>, DominoError> {
    shared
        .mail()
        .get(entry)
        .and_then(|d| d.event.clone())
        .ok_or_else(|| entry_missing(entry))
}

/// updateCalendarEntry: the whole entry replaced; with `send` (see [`send`]) the attendees,
/// old and new, get an update.
async fn replace(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path((calid, entry)): Path<(String, String)>,
    Query(params): Params,
    body: Body,
) -> Result<Json<Value>, DominoError> {
    admit(&shared, &headers, &calid, &params)?;
    let send = send(&params)?;
    let event = calendar::accept(object(body)?).map_err(bad)?;
    let before = calendar::attendees(&current(&shared, &entry)?);
    let rendered = store(&shared, &entry, event.clone())?;
    if send {
        let mut recipients = calendar::attendees(&event);
        for gone in before {
            if !recipients.contains(&gone) {
                recipients.push(gone);
            }
        }
        let uid = rendered["uid"].as_str().unwrap_or_default();
        notify(&shared, NoticeKind::Update, uid, &event, recipients);
    }
    Ok(Json(rendered))
}

/// modifyCalendarEntry: `{add, update, remove}` lists of `{email, roles}`, matched by email;
/// it returns the full entry. Added invitees are invited and removed ones cancelled, as Notes
/// does when a chair edits the invitee list (the operation has no `send` parameter).
async fn modify(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path((calid, entry)): Path<(String, String)>,
    Query(params): Params,
    body: Body,
) -> Result<Json<Value>, DominoError> {
    admit(&shared, &headers, &calid, &params)?;
    let change = object(body)?;
    let mut event = current(&shared, &entry)?;
    let mut participants = event
        .get("participants")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let list = |name: &str| -> Result<Vec<(String, Value)>, DominoError> {
        let Some(items) = change.get(name) else {
            return Ok(Vec::new());
        };
        let items = items
            .as_array()
            .ok_or_else(|| bad(format!("{name} must be a list")))?;
        items
            .iter()
            .map(|p| {
                let email = p
                    .get("email")
                    .and_then(Value::as_str)
                    .ok_or_else(|| bad(format!("each of {name} needs an email")))?;
                Ok((
                    email.to_string(),
                    p.get("roles").cloned().unwrap_or(json!({"attendee": true})),
                ))
            })
            .collect()
    };
    let (add, update, remove) = (list("add")?, list("update")?, list("remove")?);
    let key_of = |participants: &Map<String, Value>, email: &str| {
        participants
            .iter()
            .find(|(_, p)| {
                p.get("email")
                    .and_then(Value::as_str)
                    .is_some_and(|e| e.eq_ignore_ascii_case(email))
            })
            .map(|(k, _)| k.clone())
    };
    let mut invited = Vec::new();
    for (email, roles) in add {
        if key_of(&participants, &email).is_none() {
            let key = uuid();
            participants.insert(
                key,
                json!({"@type": "Participant", "email": email, "roles": roles, "participationStatus": "needs-action"}),
            );
            invited.push(email);
        }
    }
    for (email, roles) in update {
        if let Some(key) = key_of(&participants, &email)
            && let Some(Value::Object(p)) = participants.get_mut(&key)
        {
            p.insert("roles".into(), roles);
        }
    }
    let mut removed = Vec::new();
    for (email, _) in remove {
        if let Some(key) = key_of(&participants, &email) {
            participants.remove(&key);
            removed.push(email);
        }
    }
    event.insert("participants".into(), Value::Object(participants));
    let rendered = store(&shared, &entry, event.clone())?;
    let uid = rendered["uid"].as_str().unwrap_or_default().to_string();
    notify(&shared, NoticeKind::Invitation, &uid, &event, invited);
    notify(&shared, NoticeKind::Cancellation, &uid, &event, removed);
    Ok(Json(rendered))
}

/// deleteCalendarEntry, "Removes a calendar entry and its replies"; a meeting's attendees are
/// sent a cancellation (the operation has no `send` parameter: Notes always tells them).
async fn delete(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path((calid, entry)): Path<(String, String)>,
    Query(params): Params,
) -> Result<Json<Value>, DominoError> {
    admit(&shared, &headers, &calid, &params)?;
    let event = current(&shared, &entry)?;
    let uid = entry.to_ascii_uppercase();
    if !shared.mail().delete(&uid) {
        return Err(entry_missing(&entry));
    }
    notify(
        &shared,
        NoticeKind::Cancellation,
        &uid,
        &event,
        calendar::attendees(&event),
    );
    Ok(Json(
        json!({ "status": "OK", "message": "deletion complete", "uid": uid }),
    ))
}

/// A random UUID (v4 layout) for a new participant's key, as the spec's examples use.
fn uuid() -> String {
    let n: u128 = rand::random();
    let hex = format!(
        "{:032x}",
        (n & !(0xF << 76) & !(0x3 << 62)) | (0x4 << 76) | (0x2 << 62)
    );
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}
