//! The pages of the review app, one module each, and the few routes they share.

pub mod connect;
pub mod history;
pub mod runs;
pub mod settings;
pub mod setup;
pub mod signin;
pub mod summary;

use super::Web;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use std::sync::Arc;

/// The start page: the setup path until a first sync was reviewed and applied, then the
/// Synchronization Summary.
pub async fn home(State(web): State<Arc<Web>>) -> Response {
    match web.app().reviewed() {
        Ok(true) => Redirect::to("/app/summary").into_response(),
        _ => Redirect::to("/app/setup").into_response(),
    }
}

/// The stylesheet and the script, built in: the app works with no network.
pub async fn asset(Path(name): Path<String>) -> Response {
    let (body, kind) = match name.as_str() {
        "app.css" => (include_str!("../assets/app.css"), "text/css; charset=utf-8"),
        "app.js" => (
            include_str!("../assets/app.js"),
            "text/javascript; charset=utf-8",
        ),
        _ => return (StatusCode::NOT_FOUND, "no such file").into_response(),
    };
    ([(header::CONTENT_TYPE, kind)], body).into_response()
}
