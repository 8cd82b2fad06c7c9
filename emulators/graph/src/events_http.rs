//! The Graph endpoints of the default calendar over HTTP: the calendar, its events (with
//! their occurrences and series), calendar views and their delta rounds. Every request goes
//! through the same `admit` as contacts and tasks (token and `Calendars.*` permission,
//! throttling, 4 in flight).

use axum::Json;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;

use crate::Shared;
use crate::error::GraphError;
use crate::event_delta::{self, Start, Token, Window};
use crate::events::Instance;
use crate::grants::{Access, Resource};
use crate::http::{self, PAGE_SIZE, Params};
use crate::mailbox::Mailbox;
use crate::timezone::{self, OutZone};

const CALENDARS: &str = "/v1.0/me/calendars";
const CALENDAR: &str = "/v1.0/me/calendar";
const EVENTS: &str = "/v1.0/me/events";
const CALENDAR_EVENTS: &str = "/v1.0/me/calendars/{calendar}/events";
const DEFAULT_CALENDAR_EVENTS: &str = "/v1.0/me/calendar/events";
const EVENT: &str = "/v1.0/me/events/{id}";
const INSTANCES: &str = "/v1.0/me/events/{id}/instances";
const VIEW: &str = "/v1.0/me/calendarView";
const CALENDAR_VIEW: &str = "/v1.0/me/calendars/{calendar}/calendarView";
const DELTA: &str = "/v1.0/me/calendarView/delta";
const CALENDAR_DELTA: &str = "/v1.0/me/calendars/{calendar}/calendarView/delta";

pub fn mount(router: Router<Arc<Shared>>) -> Router<Arc<Shared>> {
    router
        .route(CALENDARS, get(list_calendars))
        .route(CALENDAR, get(default_calendar))
        .route(EVENTS, get(list_events).post(create_event))
        .route(CALENDAR_EVENTS, get(list_events).post(create_event))
        .route(DEFAULT_CALENDAR_EVENTS, get(list_events).post(create_event))
        .route(
            EVENT,
            get(get_event).patch(update_event).delete(delete_event),
        )
        .route(INSTANCES, get(list_instances))
        .route(VIEW, get(calendar_view))
        .route(CALENDAR_VIEW, get(calendar_view))
        .route(DELTA, get(delta_round))
        .route(CALENDAR_DELTA, get(delta_round))
}

type Names = Path<HashMap<String, String>>;

type Permit = tokio::sync::OwnedSemaphorePermit;

/// Reads need `Calendars.Read` (or `.ReadWrite`), writes `Calendars.ReadWrite`
/// (api/event-delta.md, api/user-post-events.md, "Permissions").
async fn read(shared: &Shared, headers: &HeaderMap) -> Result<Permit, GraphError> {
    http::admit(shared, headers, Resource::Calendars, Access::Read).await
}

async fn write(shared: &Shared, headers: &HeaderMap) -> Result<Permit, GraphError> {
    http::admit(shared, headers, Resource::Calendars, Access::Write).await
}

/// The zone reads answer in (`Prefer: outlook.timezone`, UTC by default).
fn out_zone(headers: &HeaderMap) -> OutZone {
    OutZone::preferred(
        http::preferences(headers)
            .get("outlook.timezone")
            .map(String::as_str),
    )
}

/// The calendar a path names, which must be the mailbox's (this emulator has one calendar).
fn calendar(mailbox: &Mailbox, names: &HashMap<String, String>) -> Result<String, GraphError> {
    let id = mailbox
        .calendar_id()
        .ok_or_else(GraphError::not_found)?
        .to_string();
    match names.get("calendar") {
        Some(named) if *named != id => Err(GraphError::not_found()),
        _ => Ok(id),
    }
}

fn calendar_json(mailbox: &Mailbox) -> Result<Value, GraphError> {
    let id = mailbox.calendar_id().ok_or_else(GraphError::not_found)?;
    // resources/calendar.md
    Ok(json!({
        "id": id,
        "name": "Calendar",
        "color": "auto",
        "hexColor": "",
        "isDefaultCalendar": true,
        "changeKey": "DxYSthXJXEWwAQSYQnXvIgAAIxGttg==",
        "canShare": true,
        "canViewPrivateItems": true,
        "canEdit": true,
        "allowedOnlineMeetingProviders": [],
        "defaultOnlineMeetingProvider": "none",
        "isTallyingResponses": false,
        "isRemovable": false,
        "owner": {"name": crate::events::OWNER_NAME, "address": crate::events::OWNER_ADDRESS},
    }))
}

async fn list_calendars(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
) -> Result<Json<Value>, GraphError> {
    let _permit = read(&shared, &headers).await?;
    let mailbox = shared.lock_mailbox();
    Ok(Json(json!({"value": [calendar_json(&mailbox)?]})))
}

async fn default_calendar(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
) -> Result<Json<Value>, GraphError> {
    let _permit = read(&shared, &headers).await?;
    Ok(Json(calendar_json(&shared.lock_mailbox())?))
}

fn rendered(
    mailbox: &Mailbox,
    instances: &[Instance],
    headers: &HeaderMap,
    expand: Option<&str>,
) -> Result<Vec<Value>, GraphError> {
    let (ids, zone) = (http::id_type(headers), out_zone(headers));
    instances
        .iter()
        .map(|i| mailbox.event_json(i, ids, &zone, expand))
        .collect()
}

/// `GET /me/events` (api/user-list-events.md): single events and series masters, with
/// `$filter` on a single-value extended property and its `$expand`, as contacts have them.
async fn list_events(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(names): Names,
    Query(query): Query<Params>,
) -> Result<Json<Value>, GraphError> {
    let _permit = read(&shared, &headers).await?;
    let filter = query
        .get("$filter")
        .map(|f| http::extended_filter(f))
        .transpose()?;
    let expand = http::expanded(&query);
    let mailbox = shared.lock_mailbox();
    calendar(&mailbox, &names)?;
    let mut instances = Vec::new();
    for item in mailbox.events().filter(|i| {
        filter
            .as_ref()
            .is_none_or(|(id, value)| i.extended.get(id) == Some(value))
    }) {
        let target = crate::events::Target::Event(item.immutable_id.clone());
        if let Ok(instance) = mailbox.instance(&target) {
            instances.push(instance);
        }
    }
    let value = rendered(&mailbox, &instances, &headers, expand.as_deref())?;
    Ok(Json(json!({"value": value})))
}

async fn create_event(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(names): Names,
    Json(body): Json<Value>,
) -> Result<Response, GraphError> {
    let _permit = write(&shared, &headers).await?;
    let body = http::object(body)?;
    let now = (shared.clock)();
    let mut mailbox = shared.lock_mailbox();
    let calendar = calendar(&mailbox, &names)?;
    let (instance, _created) = mailbox.create_event(&calendar, &body, now)?;
    let value = mailbox.event_json(
        &instance,
        http::id_type(&headers),
        &out_zone(&headers),
        None,
    )?;
    Ok((StatusCode::CREATED, Json(value)).into_response())
}

async fn get_event(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(names): Names,
    Query(query): Query<Params>,
) -> Result<Json<Value>, GraphError> {
    let _permit = read(&shared, &headers).await?;
    let mailbox = shared.lock_mailbox();
    let target = mailbox.event_target(names.get("id").map_or("", String::as_str))?;
    let instance = mailbox.instance(&target)?;
    let expand = http::expanded(&query);
    Ok(Json(mailbox.event_json(
        &instance,
        http::id_type(&headers),
        &out_zone(&headers),
        expand.as_deref(),
    )?))
}

async fn update_event(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(names): Names,
    Json(body): Json<Value>,
) -> Result<Json<Value>, GraphError> {
    let _permit = write(&shared, &headers).await?;
    let body = http::object(body)?;
    let if_match = headers
        .get(header::IF_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let now = (shared.clock)();
    let mut mailbox = shared.lock_mailbox();
    let id = names.get("id").map_or("", String::as_str);
    let instance = mailbox.update_event(id, &body, if_match.as_deref(), now)?;
    Ok(Json(mailbox.event_json(
        &instance,
        http::id_type(&headers),
        &out_zone(&headers),
        None,
    )?))
}

async fn delete_event(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(names): Names,
) -> Result<StatusCode, GraphError> {
    let _permit = write(&shared, &headers).await?;
    let mut mailbox = shared.lock_mailbox();
    mailbox.delete_event(names.get("id").map_or("", String::as_str))?;
    Ok(StatusCode::NO_CONTENT)
}

/// A query parameter by name, whatever its case (the docs write `startDateTime` and, in
/// event-delta.md's example, `startdatetime`).
fn param<'q>(query: &'q Params, name: &str) -> Option<&'q str> {
    query
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// The window a request names, if it names one.
fn window(query: &Params) -> Result<Option<Window>, GraphError> {
    let (start, end) = (param(query, "startDateTime"), param(query, "endDateTime"));
    if start.is_none() && end.is_none() {
        return Ok(None);
    }
    let bad = |what: &str, text: Option<&str>| {
        GraphError::bad_request(
            "ErrorInvalidParameter",
            format!(
                "The value '{}' of parameter '{what}' is invalid.",
                text.unwrap_or_default()
            ),
        )
    };
    let start_at = start
        .and_then(timezone::parse_instant)
        .ok_or_else(|| bad("StartDateTime", start))?;
    let end_at = end
        .and_then(timezone::parse_instant)
        .ok_or_else(|| bad("EndDateTime", end))?;
    if end_at < start_at {
        return Err(bad("EndDateTime", end));
    }
    Ok(Some(Window {
        start: start_at,
        end: end_at,
    }))
}

/// The time window a view needs (the message Graph answers without one).
fn required_window(query: &Params) -> Result<Window, GraphError> {
    window(query)?.ok_or_else(|| {
        GraphError::bad_request(
            "ErrorInvalidParameter",
            "This request requires a time window specified by the query string parameters StartDateTime and EndDateTime.",
        )
    })
}

/// `GET /me/events/{id}/instances` (api/event-list-instances.md).
async fn list_instances(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(names): Names,
    Query(query): Query<Params>,
) -> Result<Json<Value>, GraphError> {
    let _permit = read(&shared, &headers).await?;
    let window = required_window(&query)?;
    let mailbox = shared.lock_mailbox();
    let instances = mailbox.event_instances(
        names.get("id").map_or("", String::as_str),
        window.start,
        window.end,
    )?;
    let value = rendered(&mailbox, &instances, &headers, None)?;
    Ok(Json(json!({"value": value})))
}

/// `GET /me/calendarView` (api/user-list-calendarview.md): single events, occurrences and
/// exceptions in the window.
async fn calendar_view(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(names): Names,
    Query(query): Query<Params>,
) -> Result<Json<Value>, GraphError> {
    let _permit = read(&shared, &headers).await?;
    let window = required_window(&query)?;
    let mailbox = shared.lock_mailbox();
    calendar(&mailbox, &names)?;
    let instances = mailbox.calendar_view(window.start, window.end, false);
    let value = rendered(&mailbox, &instances, &headers, None)?;
    Ok(Json(json!({"value": value})))
}

/// `GET /me/calendarView/delta` (api/event-delta.md).
async fn delta_round(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(names): Names,
    Query(query): Query<Params>,
) -> Result<Json<Value>, GraphError> {
    let _permit = read(&shared, &headers).await?;
    // event-delta.md: "You cannot use $select"; "$expand, $filter, $orderby, and $search" are
    // not supported either.
    if let Some(name) = query.keys().find(|k| {
        ["$select", "$filter", "$expand", "$orderby", "$search"]
            .iter()
            .any(|n| k.eq_ignore_ascii_case(n))
    }) {
        return Err(GraphError::bad_request(
            "ErrorInvalidUrlQuery",
            format!(
                "The query parameter '{name}' is not supported with change tracking over the calendar view."
            ),
        ));
    }
    let prefer = http::preferences(&headers);
    let size = prefer
        .get("odata.maxpagesize")
        .and_then(|s| s.parse().ok())
        .unwrap_or(PAGE_SIZE);
    let asked = window(&query)?;
    let start = match (param(&query, "$skiptoken"), param(&query, "$deltatoken")) {
        (Some(t), _) => Start::Skip(Token::decode(t)?),
        (None, Some(t)) => Start::Delta(Token::decode(t)?, asked),
        (None, None) => Start::Fresh(required_window(&query)?),
    };
    let empty = shared.lock_faults().empty_pages;
    let mut mailbox = shared.lock_mailbox();
    let calendar_path = match names.get("calendar") {
        Some(_) => CALENDAR_DELTA.replace("{calendar}", &calendar(&mailbox, &names)?),
        None => DELTA.to_string(),
    };
    let page = event_delta::page(
        &mut mailbox,
        start,
        empty,
        size,
        http::id_type(&headers),
        &out_zone(&headers),
    )?;
    let link = |name: &str, token: &Token| {
        format!(
            "{}{calendar_path}?{name}={}",
            shared.base_url,
            token.encode()
        )
    };
    let mut body = json!({
        "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#Collection(event)",
        "value": page.value,
    });
    if let Some(next) = &page.next {
        body["@odata.nextLink"] = json!(link("$skiptoken", next));
    }
    if let Some(delta) = &page.delta {
        body["@odata.deltaLink"] = json!(link("$deltatoken", delta));
    }
    Ok(Json(body))
}
