//! The daemon's local API: the commands' way to the store while the daemon holds it. One
//! endpoint carries every use case (`POST /api/v1/call`: an `app::Request` in, an `app::Reply`
//! out), so a command run against the daemon does exactly what it would do on its own; only a
//! client with the announced bearer token gets in, and only when it names the API's own address
//! (the review app's Host/Origin guard). `POST /api/v1/open` makes a one-time sign-in link to the
//! review app.

use super::settings::Live;
use crate::app::Request;
use crate::web::Web;
use crate::web::guard::Hosts;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Response, StatusCode, header};
use hyper_util::rt::TokioIo;
use serde::Serialize;
use std::sync::Arc;
use subtle::ConstantTimeEq;
use tokio::net::TcpListener;

/// Larger requests are refused (413): the API carries commands and single events.
const MAX_BODY: usize = 16 * 1024 * 1024;

pub const CALL: &str = "/api/v1/call";
pub const STATUS: &str = "/api/v1/status";
/// A link that signs in to the review app once (`tandem open`).
pub const OPEN: &str = "/api/v1/open";

/// What the API answers with.
pub struct Api {
    pub live: Live,
    /// The review app, which makes the one-time sign-in links `tandem open` asks for.
    pub web: Arc<Web>,
    pub token: String,
    /// The API's own address: a request naming another host is refused (DNS rebinding).
    pub hosts: Hosts,
}

/// Answer connections until `stop` completes.
pub async fn accept_until_stopped(
    listener: TcpListener,
    api: Api,
    stop: impl std::future::Future<Output = ()>,
) {
    let api = Arc::new(api);
    let expected = Arc::new(format!("Bearer {}", api.token));
    tokio::pin!(stop);
    loop {
        tokio::select! {
            _ = &mut stop => return,
            accepted = listener.accept() => {
                let (stream, _) = match accepted {
                    Ok(conn) => conn,
                    Err(e) => {
                        tracing::warn!("accepting a local API connection failed: {e}");
                        continue;
                    }
                };
                let (api, expected) = (api.clone(), expected.clone());
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req| {
                        let (api, expected) = (api.clone(), expected.clone());
                        async move {
                            Ok::<_, std::convert::Infallible>(handle(&api, &expected, req).await)
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        }
    }
}

fn json(status: StatusCode, value: &impl Serialize) -> Response<Full<Bytes>> {
    let (status, body) = match serde_json::to_vec(value) {
        Ok(body) => (status, body),
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            serde_json::json!({ "error": format!("the answer cannot be encoded: {e}") })
                .to_string()
                .into_bytes(),
        ),
    };
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    response
}

fn error(status: StatusCode, message: impl std::fmt::Display) -> Response<Full<Bytes>> {
    json(status, &serde_json::json!({ "error": message.to_string() }))
}

async fn handle(api: &Api, expected: &str, req: hyper::Request<Incoming>) -> Response<Full<Bytes>> {
    if let Err(refusal) = api.hosts.admit(req.headers()) {
        return error(StatusCode::FORBIDDEN, refusal);
    }
    // The app in force when the request comes: settings may have changed.
    let app = api.live.app();
    // Constant-time, so the token cannot be guessed byte by byte from response times.
    let authorized = req
        .headers()
        .get(header::AUTHORIZATION)
        .is_some_and(|v| bool::from(v.as_bytes().ct_eq(expected.as_bytes())));
    let (method, path) = (req.method().clone(), req.uri().path().to_string());
    // The body is read before answering, even a refusal: a response sent over an unread
    // body makes the connection close with a reset the client sees instead of the answer.
    let body = match Limited::new(req.into_body(), MAX_BODY).collect().await {
        Ok(body) => body.to_bytes(),
        Err(_) => {
            return error(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("request bodies are limited to {MAX_BODY} bytes"),
            );
        }
    };
    if !authorized {
        return error(
            StatusCode::UNAUTHORIZED,
            "missing or wrong token; the token is in daemon.json in the data directory",
        );
    }
    match (method, path.as_str()) {
        (Method::GET, STATUS) => json(
            StatusCode::OK,
            &serde_json::json!({ "pid": std::process::id(), "data": app.dir }),
        ),
        (Method::POST, OPEN) => json(
            StatusCode::OK,
            &serde_json::json!({ "url": api.web.sign_in_link() }),
        ),
        (Method::POST, CALL) => match Request::parse(&body) {
            Ok(request) => match app.handle(request, &|_, _| {}).await {
                Ok(reply) => json(StatusCode::OK, &reply),
                Err(e) => error(StatusCode::UNPROCESSABLE_ENTITY, e),
            },
            Err(e) => error(StatusCode::BAD_REQUEST, e),
        },
        _ => error(
            StatusCode::NOT_FOUND,
            format!("no such API endpoint: {path}"),
        ),
    }
}
