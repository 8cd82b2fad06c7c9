//! The basis API over the mail file (openapi.basis.json 1.3.7, server `/api/v1`):
//! `/document` (createDocument), `/document/{unid}` (getDocument, updateDocument,
//! patchDocument, deleteDocument), `/query` (DQL, offset paging) and `/bulk/etag`
//! (bulkDocumentEtagByUnid, how a client finds deletions). Each needs `dataSource` naming the
//! mail file's scope, and a token with `$DATA` or that scope.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::sync::Arc;

use crate::auth;
use crate::dql;
use crate::error::{DominoError, Envelope};
use crate::jwt::Claims;
use crate::mailfile::MailFile;
use crate::{Shared, lock};

type Params = Query<HashMap<String, String>>;
type Body = Result<Json<Value>, axum::extract::rejection::JsonRejection>;

pub fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/api/v1/document", post(create))
        .route(
            "/api/v1/document/{unid}",
            get(read).put(replace).patch(patch).delete(delete),
        )
        .route("/api/v1/query", post(query))
        .route("/api/v1/bulk/etag", post(bulk_etag))
}

/// The claims of a basis request on the mail file's scope.
fn admit(
    shared: &Shared,
    headers: &HeaderMap,
    params: &HashMap<String, String>,
) -> Result<Claims, DominoError> {
    let scope = lock(&shared.data_source).clone();
    // `MAIL` is the reserved scope of the user's own mailbox through the PIM API
    // (docs/references/schemacomponents/scopes.md); a data source that happens to be called
    // "mail" is reached with `$DATA` or by that name only when the name is not `MAIL`.
    let scopes: &[&str] = if scope.eq_ignore_ascii_case("MAIL") {
        &["$DATA"]
    } else {
        &["$DATA", &scope]
    };
    let claims = auth::session(shared, headers, scopes, Envelope::Basis)?;
    match params.get("dataSource") {
        None => Err(DominoError::bad_request("dataSource is required")),
        Some(name) if name.eq_ignore_ascii_case(&scope) => Ok(claims),
        // What DRAPI answers for an unknown scope is not in the spec; a 404 names the cause.
        Some(name) => Err(DominoError::not_found(&format!("no scope named {name}"))),
    }
}

fn object(body: Body) -> Result<Map<String, Value>, DominoError> {
    match body {
        Ok(Json(Value::Object(items))) => Ok(items),
        Ok(_) => Err(DominoError::bad_request("the body must be a JSON object")),
        Err(e) => Err(DominoError::bad_request(e.body_text())),
    }
}

/// Items as written: `@meta` and other `@` attributes are read-only and not items.
fn items_of(body: Map<String, Value>) -> Map<String, Value> {
    body.into_iter()
        .filter(|(k, _)| !k.starts_with('@'))
        .collect()
}

fn has_form(items: &Map<String, Value>) -> bool {
    items
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("Form") && v.as_str().is_some_and(|f| !f.is_empty()))
}

async fn create(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Query(params): Params,
    body: Body,
) -> Result<Json<Value>, DominoError> {
    admit(&shared, &headers, &params)?;
    let items = items_of(object(body)?);
    // createDocument: "'Form' is required".
    if !has_form(&items) {
        return Err(DominoError::bad_request("'Form' is required"));
    }
    let mut mail = shared.mail();
    let unid = mail.create(items);
    answer(&mail, &unid)
}

async fn read(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(unid): Path<String>,
    Query(params): Params,
) -> Result<Json<Value>, DominoError> {
    admit(&shared, &headers, &params)?;
    let mail = shared.mail();
    answer(&mail, &unid)
}

async fn replace(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(unid): Path<String>,
    Query(params): Params,
    body: Body,
) -> Result<Json<Value>, DominoError> {
    write(&shared, &headers, &unid, &params, body, true)
}

async fn patch(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(unid): Path<String>,
    Query(params): Params,
    body: Body,
) -> Result<Json<Value>, DominoError> {
    write(&shared, &headers, &unid, &params, body, false)
}

/// PUT (every item replaced; "'Form' is required") or PATCH (items merged, `null` removes).
/// With the schema's `requireRevisionToUpdate`, the `revision` parameter must name the
/// current revision; without it, the parameter is not checked (updateDocument: "If db config
/// "requireRevisionToUpdate" is enabled, then revision is required").
fn write(
    shared: &Shared,
    headers: &HeaderMap,
    unid: &str,
    params: &HashMap<String, String>,
    body: Body,
    replace: bool,
) -> Result<Json<Value>, DominoError> {
    admit(shared, headers, params)?;
    let items = items_of(object(body)?);
    if replace && !has_form(&items) {
        return Err(DominoError::bad_request("'Form' is required"));
    }
    let mut mail = shared.mail();
    if std::mem::take(&mut lock(&shared.faults).save_before_next_update) {
        mail.update(unid, Map::new(), false);
    }
    let current = mail
        .get(unid)
        .ok_or_else(|| DominoError::not_found(&format!("no document {unid}")))?
        .revision();
    if mail.schema.require_revision {
        match params.get("revision") {
            None => {
                return Err(DominoError::bad_request(
                    "revision is required to update this document",
                ));
            }
            // The status DRAPI gives a stale revision is undocumented (connectors.md C5);
            // 409 says "conflict" without claiming an If-Match precondition.
            Some(given) if !given.eq_ignore_ascii_case(&current) => {
                return Err(DominoError::new(
                    StatusCode::CONFLICT,
                    "The document was modified since the given revision",
                )
                .with_details(format!("current revision {current}")));
            }
            Some(_) => {}
        }
    }
    mail.update(unid, items, replace);
    answer(&mail, unid)
}

async fn delete(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(unid): Path<String>,
    Query(params): Params,
) -> Result<Json<Value>, DominoError> {
    admit(&shared, &headers, &params)?;
    let unid = unid.to_ascii_uppercase();
    if !shared.mail().delete(&unid) {
        return Err(DominoError::not_found(&format!("no document {unid}")));
    }
    // StatusMessage, as deleteDocument's example.
    Ok(Json(json!({
        "status": "OK",
        "statusCode": 200,
        "message": "deletion complete",
        "unid": unid,
    })))
}

fn number(params: &HashMap<String, String>, name: &str) -> Result<Option<usize>, DominoError> {
    params
        .get(name)
        .map(|v| {
            v.parse::<usize>()
                .map_err(|_| DominoError::bad_request(format!("{name} must be a number ≥ 0")))
        })
        .transpose()
}

/// `POST /query?dataSource&action=execute&start&count`: the documents matching the DQL, in
/// note id order, `count` of them from offset `start` (zero based). There is no next link: a
/// page shorter than `count` is the last.
async fn query(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Query(params): Params,
    body: Body,
) -> Result<Response, DominoError> {
    admit(&shared, &headers, &params)?;
    match params.get("action").map(String::as_str) {
        Some("execute") => {}
        Some("explain" | "parse") => {
            return Err(
                DominoError::new(StatusCode::NOT_IMPLEMENTED, "Not implemented")
                    .with_details("this emulator only executes queries"),
            );
        }
        _ => {
            return Err(DominoError::bad_request(
                "action must be execute, explain or parse",
            ));
        }
    }
    let start = number(&params, "start")?.unwrap_or(0);
    let count = number(&params, "count")?.unwrap_or(i32::MAX as usize);
    let request = object(body)?;
    let text = request
        .get("query")
        .and_then(Value::as_str)
        .ok_or_else(|| DominoError::bad_request("query is required"))?;
    let variables = match request.get("variables") {
        Some(Value::Object(v)) => v.clone(),
        _ => Map::new(),
    };
    let parsed = dql::Query::parse(text, &variables)
        .map_err(|e| DominoError::bad_request(format!("DQL: {}", e.0)))?;
    let mail = shared.mail();
    let page: Vec<Value> = mail
        .documents()
        .into_iter()
        .filter(|doc| parsed.matches(doc))
        .skip(start)
        .take(count)
        .map(|doc| mail.render(doc))
        .collect();
    Ok(Json(Value::Array(page)).into_response())
}

/// `POST /bulk/etag {unids}`: per UNID, whether the document exists and its ETag
/// (DocumentExistencePayload: `{"UNID": {"exists": true, "etag": "…"}}`).
async fn bulk_etag(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Query(params): Params,
    body: Body,
) -> Result<Json<Value>, DominoError> {
    admit(&shared, &headers, &params)?;
    let request = object(body)?;
    let unids = request
        .get("unids")
        .and_then(Value::as_array)
        .ok_or_else(|| DominoError::bad_request("unids is required"))?;
    let mail = shared.mail();
    let mut out = Map::new();
    for unid in unids {
        let unid = unid
            .as_str()
            .ok_or_else(|| DominoError::bad_request("unids must be strings"))?;
        let answer = match mail.get(unid) {
            Some(doc) => json!({ "exists": true, "etag": doc.etag() }),
            None => json!({ "exists": false }),
        };
        out.insert(unid.to_string(), answer);
    }
    Ok(Json(Value::Object(out)))
}

/// The document as the API answers it, or a 404 naming it.
fn answer(mail: &MailFile, unid: &str) -> Result<Json<Value>, DominoError> {
    let doc = mail
        .get(unid)
        .ok_or_else(|| DominoError::not_found(&format!("no document {unid}")))?;
    Ok(Json(mail.render(doc)))
}
