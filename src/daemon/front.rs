//! The listener desktop clients and the browser share: the review app answers what it claims
//! (`/app/…`, a browser's GET of `/`), the CalDAV/CardDAV server everything else — so clients
//! keep discovering the server at `/` and `/.well-known/`, and the user opens the same address.
//! On loopback the DAV server passes the review app's Host/Origin guard too: any page the user
//! opens can reach 127.0.0.1, and a DNS-rebinding page names its own host. On a LAN address
//! (TLS only) phones name the machine as they know it, and the certificate guards the name.

use crate::dav::{self, DavState};
use crate::web::{self, Web};
use axum::body::Body;
use hyper::Request;
use hyper::body::Incoming;
use std::sync::Arc;
use tokio::net::TcpListener;
use tower::ServiceExt as _;

/// Serve both on `listener` until `stop` completes.
pub async fn serve(
    listener: TcpListener,
    dav: Arc<DavState>,
    web: Arc<Web>,
    tls: Option<tokio_rustls::TlsAcceptor>,
    stop: impl std::future::Future<Output = ()>,
) {
    let router = web.router();
    let loopback = listener.local_addr().is_ok_and(|a| a.ip().is_loopback());
    dav::serve_requests(listener, tls, stop, move |request: Request<Incoming>| {
        let (dav, router, web) = (dav.clone(), router.clone(), web.clone());
        async move {
            if web::claims(request.method(), request.uri().path()) {
                return match router.oneshot(request).await {
                    Ok(response) => response,
                    Err(never) => match never {},
                };
            }
            if loopback && let Err(refusal) = web.admits(request.headers()) {
                tracing::warn!("CalDAV/CardDAV server: {refusal}");
                return hyper::Response::builder()
                    .status(hyper::StatusCode::FORBIDDEN)
                    .header(hyper::header::CONTENT_TYPE, "text/plain; charset=utf-8")
                    .body(Body::from(refusal.to_string()))
                    .unwrap_or_default();
            }
            dav::handle(&dav, request).await.map(Body::new)
        }
    })
    .await
}
