//! JSON batching (concepts/json-batching.md): up to 20 requests in one POST to `$batch`, each
//! answered with its own status, headers and body inside a 200; a request whose `dependsOn`
//! failed is not run and answers 424. Each request goes through the same routes as a call of its
//! own, so it is authenticated, throttled and counted the same.

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use std::collections::HashMap;
use tower::ServiceExt;

use crate::error::GraphError;

/// Requests in one batch, at most.
pub const MAX_REQUESTS: usize = 20;

/// Run a batch; `failure`: a request (by position) answered with a status instead of run.
pub async fn run(
    routes: Router,
    headers: HeaderMap,
    body: Value,
    failure: Option<(usize, u16)>,
) -> Response {
    match answer(routes, &headers, &body, failure).await {
        Ok(responses) => axum::Json(json!({"responses": responses})).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn answer(
    routes: Router,
    headers: &HeaderMap,
    body: &Value,
    failure: Option<(usize, u16)>,
) -> Result<Vec<Value>, GraphError> {
    let requests = body
        .get("requests")
        .and_then(Value::as_array)
        .ok_or_else(|| GraphError::bad_request("BadRequest", "The batch has no requests."))?;
    if requests.len() > MAX_REQUESTS {
        return Err(GraphError::bad_request(
            "BadRequest",
            format!(
                "A batch holds at most {MAX_REQUESTS} requests; this one has {}.",
                requests.len()
            ),
        ));
    }
    let mut ids = Vec::new();
    for request in requests {
        let id = request
            .get("id")
            .and_then(Value::as_str)
            .ok_or_else(|| GraphError::bad_request("BadRequest", "Every request needs an id."))?;
        if ids.contains(&id) {
            return Err(GraphError::bad_request(
                "BadRequest",
                format!("The request id '{id}' is used twice."),
            ));
        }
        ids.push(id);
    }
    let mut statuses: HashMap<String, u16> = HashMap::new();
    let mut responses = Vec::new();
    for (position, request) in requests.iter().enumerate() {
        let id = request["id"].as_str().unwrap_or_default().to_string();
        let failed_dependency = request
            .get("dependsOn")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .any(|d| statuses.get(d).is_none_or(|s| *s >= 400));
        let staged = failure
            .filter(|(at, _)| *at == position)
            .map(|(_, status)| status);
        let (status, headers, body) = if let Some(status) = staged {
            let code = if status == 503 {
                "serviceNotAvailable"
            } else {
                "generalException"
            };
            (
                status,
                json!({}),
                json!({"error": {"code": code, "message": "The service could not answer this request."}}),
            )
        } else if failed_dependency {
            (
                StatusCode::FAILED_DEPENDENCY.as_u16(),
                json!({}),
                json!({"error": {"code": "FailedDependency", "message": "A request this one depends on failed."}}),
            )
        } else {
            one(routes.clone(), headers, request).await?
        };
        statuses.insert(id.clone(), status);
        responses.push(json!({"id": id, "status": status, "headers": headers, "body": body}));
    }
    Ok(responses)
}

/// Run one request of the batch: its method, its URL under `/v1.0`, the batch's token, its
/// own headers and body.
async fn one(
    routes: Router,
    outer: &HeaderMap,
    request: &Value,
) -> Result<(u16, Value, Value), GraphError> {
    let bad = |what: &str| GraphError::bad_request("BadRequest", what.to_string());
    let method = request
        .get("method")
        .and_then(Value::as_str)
        .and_then(|m| Method::from_bytes(m.as_bytes()).ok())
        .ok_or_else(|| bad("A request of the batch has no valid method."))?;
    let url = request
        .get("url")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("A request of the batch has no url."))?;
    let mut builder = Request::builder()
        .method(method)
        .uri(format!("/v1.0/{}", url.trim_start_matches('/')));
    if let Some(auth) = outer.get(header::AUTHORIZATION) {
        builder = builder.header(header::AUTHORIZATION, auth);
    }
    for (name, value) in request
        .get("headers")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        if let Some(value) = value.as_str() {
            builder = builder.header(name.as_str(), value);
        }
    }
    let body = match request.get("body") {
        Some(body) => {
            builder = builder.header(header::CONTENT_TYPE, "application/json");
            Body::from(body.to_string())
        }
        None => Body::empty(),
    };
    let inner = builder
        .body(body)
        .map_err(|_| bad("A request of the batch is not a valid request."))?;
    let response = routes
        .oneshot(inner)
        .await
        .unwrap_or_else(|never| match never {});
    let status = response.status().as_u16();
    let headers: serde_json::Map<String, Value> = response
        .headers()
        .iter()
        .filter(|(name, _)| *name != header::CONTENT_LENGTH)
        .filter_map(|(name, value)| Some((name.to_string(), json!(value.to_str().ok()?))))
        .collect();
    let bytes = response
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Ok((status, Value::Object(headers), body))
}
