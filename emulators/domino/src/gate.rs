//! The router, and what every request goes through before its handler: the request count,
//! held requests and answers, injected failures (in the envelope of the API asked), and the 302 of a
//! mailbox on another server (openapi.pim.json info.description: "If the mailbox is located
//! on a different server, a 302 redirect reply gets issued").

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use std::sync::Arc;

use crate::error::DominoError;
use crate::{Shared, lock};

pub fn router(shared: Arc<Shared>) -> Router {
    let routes = Router::new()
        .route("/api/v1/auth", post(crate::auth::login))
        .merge(crate::basis_http::routes())
        .merge(crate::calendar_http::routes())
        .merge(crate::items_http::routes())
        .fallback(unknown)
        .with_state(shared.clone());
    routes.layer(axum::middleware::from_fn_with_state(shared, gate))
}

/// A path this emulator does not serve: 404, in the envelope of the API the path is under.
async fn unknown(uri: axum::http::Uri) -> DominoError {
    let e = DominoError::not_found(
        "this emulator serves auth, document, query, bulk/etag, the PIM calendar, pimitem and search",
    );
    if uri.path().starts_with("/api/pim-v1/") {
        e.pim()
    } else {
        e
    }
}

async fn gate(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    shared
        .requests
        .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let pim = request.uri().path().starts_with("/api/pim-v1/");
    let in_envelope = |e: DominoError| if pim { e.pim() } else { e };
    if *shared.held.borrow() {
        let mut held = shared.held.subscribe();
        // The sender lives as long as the server, so waiting cannot fail for another reason.
        let _ = held.wait_for(|held| !held).await;
    }
    let (failure, moved) = {
        let mut faults = lock(&shared.faults);
        let failure = if faults.fail.is_empty() {
            None
        } else {
            Some(faults.fail.remove(0))
        };
        (failure, faults.mailbox_server.clone())
    };
    if let Some(status) = failure {
        let message = status.canonical_reason().unwrap_or("Failure");
        return in_envelope(DominoError::new(status, message)).into_response();
    }
    if let (true, Some(server)) = (pim, moved) {
        let target = request
            .uri()
            .path_and_query()
            .map(|pq| pq.as_str())
            .unwrap_or("/");
        let location = format!("{}{target}", server.trim_end_matches('/'));
        return (StatusCode::FOUND, [(header::LOCATION, location)]).into_response();
    }
    let response = next.run(request).await;
    if *shared.answers_held.borrow() {
        // Carried out, the answer not sent: a client killed now never learns of the write.
        shared
            .answers_waiting
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let mut held = shared.answers_held.subscribe();
        let _ = held.wait_for(|held| !held).await;
        shared
            .answers_waiting
            .fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }
    response
}
