//! The Graph endpoints of a mailbox's contacts and To Do tasks over HTTP (the calendar's are
//! events_http.rs's, sign-in's signin.rs's), with what every API request goes through first:
//! the bearer token and its permissions, the throttling faults, and Outlook's limit of 4
//! requests in flight per mailbox (throttling-limits.md, "Outlook service limits").

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::sync::Arc;

use crate::Shared;
use crate::delta::{self, Token};
use crate::error::GraphError;
use crate::grants::{Access, Resource};
use crate::mailbox::{Folder, IdType, Item, Kind, Mailbox};

/// Delta pages hold this many items unless `Prefer: odata.maxpagesize` asks for fewer.
pub(crate) const PAGE_SIZE: usize = 10;

/// The API: its routes, and `$batch`, which runs requests through them.
pub fn router(shared: Arc<Shared>) -> Router {
    let routes = routes(shared.clone());
    let inner = routes.clone();
    let faults = shared.clone();
    routes
        .route(
            "/v1.0/$batch",
            post(move |headers: HeaderMap, body: Json<Value>| {
                let failure = faults.lock_faults().take_batch_failure();
                crate::batch::run(inner.clone(), headers, body.0, failure)
            }),
        )
        .layer(axum::middleware::from_fn_with_state(shared, answer_gate))
}

/// Counts requests, and holds the answers of writes while a test asks (the write is made; the
/// answer waits).
async fn answer_gate(
    State(shared): State<Arc<Shared>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    use std::sync::atomic::Ordering;
    shared.requests.fetch_add(1, Ordering::SeqCst);
    // Sign-in answers are never held: the fault is the mailbox's.
    let write =
        request.method() != axum::http::Method::GET && request.uri().path().starts_with("/v1.0/");
    let response = next.run(request).await;
    if write && *shared.answers_held.borrow() {
        let _waiting = Waiting::count(&shared.answers_waiting);
        let mut held = shared.answers_held.subscribe();
        // The sender lives as long as the server, so waiting cannot fail for another reason.
        let _ = held.wait_for(|held| !held).await;
    }
    response
}

/// One answer counted as waiting while it waits: also when the client goes away and the
/// server drops the request unanswered.
struct Waiting<'a>(&'a std::sync::atomic::AtomicU64);

impl<'a> Waiting<'a> {
    fn count(counter: &'a std::sync::atomic::AtomicU64) -> Waiting<'a> {
        counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Waiting(counter)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }
}

fn routes(shared: Arc<Shared>) -> Router {
    let api = crate::events_http::mount(mount::<Tasks>(mount::<Contacts>(Router::new())));
    crate::signin::routes(api)
        .fallback(|| async {
            GraphError::bad_request(
                "BadRequest",
                "Resource not found for the segment (this emulator serves contacts, events, To Do tasks and sign-in).",
            )
        })
        .with_state(shared)
}

/// Which part of the mailbox a route serves: contact folders, or To Do lists; and where.
trait Part: Send + 'static {
    const KIND: Kind;
    /// The containers; under a container (`{folder}`), its items and its delta rounds; an item
    /// (`{id}`).
    const CONTAINERS: &'static str;
    const ITEMS: &'static str;
    const DELTA: &'static str;
    const ITEM: &'static str;

    /// Where a container's delta rounds are, for the links in their pages.
    fn delta_path(folder: &str) -> String {
        Self::DELTA.replace("{folder}", folder)
    }

    /// The permission its requests need (permissions-reference.md).
    fn resource() -> Resource {
        match Self::KIND {
            Kind::Contact => Resource::Contacts,
            Kind::Task => Resource::Tasks,
            Kind::Event => Resource::Calendars,
        }
    }
}

struct Contacts;
struct Tasks;

impl Part for Contacts {
    const KIND: Kind = Kind::Contact;
    const CONTAINERS: &'static str = "/v1.0/me/contactFolders";
    const ITEMS: &'static str = "/v1.0/me/contactFolders/{folder}/contacts";
    const DELTA: &'static str = "/v1.0/me/contactFolders/{folder}/contacts/delta";
    const ITEM: &'static str = "/v1.0/me/contacts/{id}";
}

impl Part for Tasks {
    const KIND: Kind = Kind::Task;
    const CONTAINERS: &'static str = "/v1.0/me/todo/lists";
    const ITEMS: &'static str = "/v1.0/me/todo/lists/{folder}/tasks";
    const DELTA: &'static str = "/v1.0/me/todo/lists/{folder}/tasks/delta";
    const ITEM: &'static str = "/v1.0/me/todo/lists/{folder}/tasks/{id}";
}

/// The routes of one part of the mailbox.
fn mount<P: Part>(router: Router<Arc<Shared>>) -> Router<Arc<Shared>> {
    router
        .route(
            P::CONTAINERS,
            get(list_folders::<P>).post(create_folder::<P>),
        )
        .route(P::ITEMS, get(list_items::<P>).post(create_item::<P>))
        .route(P::DELTA, get(delta_round::<P>))
        .route(
            P::ITEM,
            get(get_item::<P>)
                .patch(update_item::<P>)
                .delete(delete_item::<P>),
        )
}

/// The path's names: `folder` (a contact folder or a list) and `id` (an item), as the route has
/// them.
type Names = Path<HashMap<String, String>>;

fn name(names: &HashMap<String, String>, key: &str) -> String {
    names.get(key).cloned().unwrap_or_default()
}

pub(crate) type Params = HashMap<String, String>;

/// What every API request passes before its handler: a known, unexpired bearer token that
/// holds the permission the request needs, no throttling fault waiting, and a free slot among
/// the mailbox's 4.
pub(crate) async fn admit(
    shared: &Shared,
    headers: &HeaderMap,
    resource: Resource,
    access: Access,
) -> Result<tokio::sync::OwnedSemaphorePermit, GraphError> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(|| GraphError::unauthenticated("Access token is empty."))?;
    let allowed = {
        let tokens = shared.lock_tokens();
        let grant = tokens.get(token).ok_or_else(|| {
            GraphError::unauthenticated(
                "Access token validation failure. Invalid audience or expired.",
            )
        })?;
        if grant.expired((shared.clock)()) {
            return Err(GraphError::unauthenticated(
                "Lifetime validation failed, the token is expired.",
            ));
        }
        grant.allows(resource, access)
    };
    if !allowed {
        return Err(GraphError::access_denied());
    }
    if let Some(retry_after) = shared.lock_faults().take_throttle() {
        return Err(GraphError::throttled(retry_after));
    }
    let permit = shared
        .in_flight
        .clone()
        .try_acquire_owned()
        .map_err(|_| GraphError::throttled(Some(1)))?;
    let mut held = shared.held.subscribe();
    // The sender lives as long as the server, so waiting cannot fail for another reason.
    let _ = held.wait_for(|held| !held).await;
    Ok(permit)
}

/// The `Prefer` header's preferences, lower-cased names.
pub(crate) fn preferences(headers: &HeaderMap) -> HashMap<String, String> {
    headers
        .get_all("prefer")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|p| {
            let (name, value) = p.split_once('=')?;
            Some((
                name.trim().to_ascii_lowercase(),
                value.trim().trim_matches('"').to_string(),
            ))
        })
        .collect()
}

pub(crate) fn id_type(headers: &HeaderMap) -> IdType {
    match preferences(headers).get("idtype").map(String::as_str) {
        Some("ImmutableId") => IdType::Immutable,
        _ => IdType::Rest,
    }
}

pub(crate) fn object(body: Value) -> Result<Map<String, Value>, GraphError> {
    match body {
        Value::Object(map) => Ok(map),
        _ => Err(GraphError::bad_request(
            "RequestBodyRead",
            "The request body must be a JSON object.",
        )),
    }
}

fn folder_json(folder: &Folder) -> Value {
    match folder.kind {
        Kind::Contact => {
            json!({"id": folder.id, "displayName": folder.name, "parentFolderId": null})
        }
        Kind::Task => json!({
            "id": folder.id,
            "displayName": folder.name,
            "wellknownListName": folder.wellknown.unwrap_or("none"),
            "isOwner": true,
            "isShared": false,
        }),
        Kind::Event => json!({"id": folder.id, "name": folder.name, "isDefaultCalendar": true}),
    }
}

async fn list_folders<P: Part>(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
) -> Result<Json<Value>, GraphError> {
    let kind = P::KIND;
    let _permit = admit(&shared, &headers, P::resource(), Access::Read).await?;
    let mailbox = shared.lock_mailbox();
    let value: Vec<Value> = mailbox
        .folders
        .iter()
        .filter(|f| f.kind == kind)
        .map(folder_json)
        .collect();
    Ok(Json(json!({"value": value})))
}

async fn create_folder<P: Part>(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Result<Response, GraphError> {
    let kind = P::KIND;
    let _permit = admit(&shared, &headers, P::resource(), Access::Write).await?;
    let name = body
        .get("displayName")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let folder = shared.lock_mailbox().create_folder(&name, kind)?;
    Ok((StatusCode::CREATED, Json(folder_json(&folder))).into_response())
}

/// `$filter` on one single-value extended property (the way a client finds the item it made,
/// singlevaluelegacyextendedproperty-get.md), and `$expand` of extended properties.
pub(crate) fn extended_filter(filter: &str) -> Result<(String, String), GraphError> {
    let quoted = |after: &str| -> Option<String> {
        let start = filter.find(after)? + after.len();
        let rest = &filter[start..];
        Some(rest[..rest.find('\'')?].to_string())
    };
    match (quoted("ep/id eq '"), quoted("ep/value eq '")) {
        (Some(id), Some(value)) => Ok((id, value)),
        _ => Err(GraphError::bad_request(
            "ErrorInvalidUrlQueryFilter",
            "The query filter contains one or more invalid nodes (this emulator filters on one single-value extended property).",
        )),
    }
}

pub(crate) fn expanded(query: &Params) -> Option<String> {
    let expand = query.get("$expand")?;
    if expand == crate::mailbox::LINKED_RESOURCES {
        return Some(expand.clone());
    }
    let rest = expand.strip_prefix("singleValueExtendedProperties")?;
    Some(
        rest.split("id eq '")
            .nth(1)
            .and_then(|s| s.split('\'').next())
            .unwrap_or_default()
            .to_string(),
    )
}

async fn list_items<P: Part>(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(names): Names,
    Query(query): Query<Params>,
) -> Result<Json<Value>, GraphError> {
    let (kind, folder) = (P::KIND, name(&names, "folder"));
    let _permit = admit(&shared, &headers, P::resource(), Access::Read).await?;
    let ids = id_type(&headers);
    let filter = query
        .get("$filter")
        .map(|f| extended_filter(f))
        .transpose()?;
    let expand = expanded(&query);
    let mailbox = shared.lock_mailbox();
    mailbox.folder(&folder, kind)?;
    let value: Vec<Value> = mailbox
        .in_folder(&folder)
        .into_iter()
        .filter(|i| {
            filter
                .as_ref()
                .is_none_or(|(id, value)| i.extended.get(id) == Some(value))
        })
        .map(|i| i.to_json(ids, expand.as_deref()))
        .collect();
    Ok(Json(json!({"value": value})))
}

async fn create_item<P: Part>(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(names): Names,
    Json(body): Json<Value>,
) -> Result<Response, GraphError> {
    let (kind, folder) = (P::KIND, name(&names, "folder"));
    let _permit = admit(&shared, &headers, P::resource(), Access::Write).await?;
    let body = object(body)?;
    let now = (shared.clock)();
    let item = shared.lock_mailbox().create(&folder, kind, &body, now)?;
    Ok((
        StatusCode::CREATED,
        Json(item.to_json(id_type(&headers), None)),
    )
        .into_response())
}

/// The item `id` of `kind`, which must be in `folder` when the URL names one (a task's does).
fn located<'m>(
    mailbox: &'m Mailbox,
    kind: Kind,
    folder: Option<&str>,
    id: &str,
) -> Result<&'m Item, GraphError> {
    let item = mailbox.find(id, kind)?;
    match folder {
        Some(folder) if item.folder != folder => Err(GraphError::not_found()),
        _ => Ok(item),
    }
}

async fn get_item<P: Part>(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(names): Names,
    Query(query): Query<Params>,
) -> Result<Json<Value>, GraphError> {
    let (kind, folder, id) = (P::KIND, names.get("folder"), name(&names, "id"));
    let _permit = admit(&shared, &headers, P::resource(), Access::Read).await?;
    let mailbox = shared.lock_mailbox();
    let item = located(&mailbox, kind, folder.map(String::as_str), &id)?;
    Ok(Json(
        item.to_json(id_type(&headers), expanded(&query).as_deref()),
    ))
}

async fn update_item<P: Part>(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(names): Names,
    Json(body): Json<Value>,
) -> Result<Json<Value>, GraphError> {
    let (kind, folder, id) = (P::KIND, names.get("folder"), name(&names, "id"));
    let _permit = admit(&shared, &headers, P::resource(), Access::Write).await?;
    let body = object(body)?;
    let if_match = headers
        .get(header::IF_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let now = (shared.clock)();
    let race = shared.lock_faults().take_race(&id);
    let mut mailbox = shared.lock_mailbox();
    located(&mailbox, kind, folder.map(String::as_str), &id)?;
    if let Some(edit) = race {
        mailbox.update(&id, kind, &edit, None, now)?;
    }
    let item = mailbox.update(&id, kind, &body, if_match.as_deref(), now)?;
    Ok(Json(item.to_json(id_type(&headers), None)))
}

async fn delete_item<P: Part>(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(names): Names,
) -> Result<StatusCode, GraphError> {
    let (kind, folder, id) = (P::KIND, names.get("folder"), name(&names, "id"));
    let _permit = admit(&shared, &headers, P::resource(), Access::Write).await?;
    let mut mailbox = shared.lock_mailbox();
    located(&mailbox, kind, folder.map(String::as_str), &id)?;
    mailbox.delete(&id, kind)?;
    Ok(StatusCode::NO_CONTENT)
}

async fn delta_round<P: Part>(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(names): Names,
    Query(query): Query<Params>,
) -> Result<Json<Value>, GraphError> {
    let (kind, folder) = (P::KIND, name(&names, "folder"));
    let path = P::delta_path(&folder);
    let _permit = admit(&shared, &headers, P::resource(), Access::Read).await?;
    let size = preferences(&headers)
        .get("odata.maxpagesize")
        .and_then(|s| s.parse().ok())
        .unwrap_or(PAGE_SIZE);
    let mailbox = shared.lock_mailbox();
    mailbox.folder(&folder, kind)?;
    let empty = shared.lock_faults().empty_pages;
    let token = match (query.get("$skiptoken"), query.get("$deltatoken")) {
        (Some(t), _) | (None, Some(t)) => {
            let token = Token::decode(t)?;
            if token.folder != folder {
                return Err(GraphError::sync_state_not_found());
            }
            match (query.contains_key("$deltatoken"), token.since) {
                // A new round from a delta token: it reads up to now.
                (true, Some(_)) => Token {
                    upto: mailbox.seq,
                    empty,
                    ..token
                },
                _ => token,
            }
        }
        (None, None) => Token {
            folder: folder.clone(),
            since: None,
            upto: mailbox.seq,
            offset: 0,
            empty,
        },
    };
    let page = delta::page(&mailbox, kind, &token, size, id_type(&headers))?;
    let link =
        |name: &str, token: &Token| format!("{}{path}?{name}={}", shared.base_url, token.encode());
    let mut body = json!({
        "@odata.context": format!("https://graph.microsoft.com/v1.0/$metadata#Collection({})", kind.type_name().trim_start_matches("microsoft.graph.")),
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
