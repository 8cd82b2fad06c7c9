//! The listener desktop clients and the browser share: the review app answers what it claims
//! (`/app/…`, a browser's GET of `/`), the CalDAV/CardDAV server everything else — so clients
//! keep discovering the server at `/` and `/.well-known/`, and the user opens the same address.

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
    dav::serve_requests(listener, tls, stop, move |request: Request<Incoming>| {
        let (dav, router) = (dav.clone(), router.clone());
        async move {
            if web::claims(request.method(), request.uri().path()) {
                match router.oneshot(request).await {
                    Ok(response) => response,
                    Err(never) => match never {},
                }
            } else {
                dav::handle(&dav, request).await.map(Body::new)
            }
        }
    })
    .await
}
