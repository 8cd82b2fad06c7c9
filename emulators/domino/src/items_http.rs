//! The PIM API's universal item endpoints (openapi.pim.json 1.0.2, server `/api/pim-v1`):
//! searchPIM (`POST /search`, DQL or full text, `count`/`skip` paging) and getPimItem /
//! updatePimItem (`/pimitem/{unid}`, any document of the mailbox regardless of its type).
//! They reach the user's own mailbox with the `MAIL` scope, no schema needed — what a client
//! has for contacts and to-dos when the mail file has no REST API scope. Documents come back
//! as SearchResult's example shows them: flat `@unid`, `@noteid`, `@created`, `@lastmodified`
//! beside the items.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Map, Value, json};
use std::sync::Arc;

use crate::Shared;
use crate::auth;
use crate::dql;
use crate::error::{DominoError, Envelope};
use crate::mailfile::{Document, MailFile};

type Body = Result<Json<Value>, axum::extract::rejection::JsonRejection>;

pub fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/api/pim-v1/search", post(search))
        .route("/api/pim-v1/pimitem/{unid}", get(read).put(update))
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

/// A document as the PIM API answers it: flat `@` attributes, then its items (schema
/// coercion does not apply: the PIM API is not a schema's view).
fn render(mail: &MailFile, doc: &Document) -> Value {
    let mut out = Map::new();
    out.insert("@unid".into(), json!(doc.unid));
    out.insert("@noteid".into(), json!(doc.noteid));
    out.insert("@created".into(), json!(mail.format_time(doc.created)));
    out.insert(
        "@lastmodified".into(),
        json!(mail.format_time(doc.modified)),
    );
    out.insert("@etag".into(), json!(doc.etag()));
    for (name, value) in &doc.items {
        out.insert(name.clone(), value.clone());
    }
    Value::Object(out)
}

fn missing(unid: &str) -> DominoError {
    DominoError::not_found(&format!("no item {unid}")).pim()
}

/// searchPIM: SearchQuery `{type, query, count, skip}` → SearchResult `{count, result}`, where
/// `count` is the number of documents found and `result` the page asked for.
async fn search(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Value>, DominoError> {
    auth::session(&shared, &headers, &["MAIL"], Envelope::Pim)?;
    let request = object(body)?;
    let query = request
        .get("query")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("query is required"))?;
    match request.get("type").and_then(Value::as_str) {
        Some("DQL") => {}
        Some("FT") => {
            return Err(
                DominoError::new(StatusCode::NOT_IMPLEMENTED, "Not implemented")
                    .with_details("this emulator searches by DQL only")
                    .pim(),
            );
        }
        _ => return Err(bad("type must be DQL or FT")),
    }
    let number = |name: &str, default: usize| -> Result<usize, DominoError> {
        match request.get(name) {
            None => Ok(default),
            Some(v) => v
                .as_u64()
                .map(|n| n as usize)
                .ok_or_else(|| bad(format!("{name} must be a number ≥ 0"))),
        }
    };
    let skip = number("skip", 0)?;
    let count = number("count", i32::MAX as usize)?;
    let parsed = dql::Query::parse(query, &Map::new()).map_err(|e| bad(format!("DQL: {}", e.0)))?;
    let mail = shared.mail();
    let found: Vec<&Document> = mail
        .documents()
        .into_iter()
        .filter(|doc| parsed.matches(doc))
        .collect();
    let page: Vec<Value> = found
        .iter()
        .skip(skip)
        .take(count)
        .map(|doc| render(&mail, doc))
        .collect();
    Ok(Json(json!({ "count": found.len(), "result": page })))
}

/// getPimItem: "Universal document fetch".
async fn read(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(unid): Path<String>,
) -> Result<Json<Value>, DominoError> {
    auth::session(&shared, &headers, &["MAIL"], Envelope::Pim)?;
    let mail = shared.mail();
    let doc = mail.get(&unid).ok_or_else(|| missing(&unid))?;
    Ok(Json(render(&mail, doc)))
}

/// updatePimItem: "Will update fields on a document in mail regardless of the type of
/// document" — the fields given are set, the others stay (a `null` removes one, as the basis
/// API's PATCH does); the answer says "Updated Successfully", and no more.
async fn update(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(unid): Path<String>,
    body: Body,
) -> Result<Json<Value>, DominoError> {
    auth::session(&shared, &headers, &["MAIL"], Envelope::Pim)?;
    let fields: Map<String, Value> = object(body)?
        .into_iter()
        .filter(|(k, _)| !k.starts_with('@'))
        .collect();
    let mut mail = shared.mail();
    mail.update(&unid, fields, false)
        .ok_or_else(|| missing(&unid))?;
    Ok(Json(
        json!({ "status": "OK", "message": "Updated Successfully" }),
    ))
}
