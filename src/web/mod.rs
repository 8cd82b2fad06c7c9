//! The review app in the browser: the Synchronization Summary, runs, settings, history and
//! restore, and how to connect — server-rendered pages over the app layer, so the browser, the
//! CLI and the local API can never disagree. Served by the daemon on the DAV listener under
//! `/app/` (the DAV tree stays under `/dav/`). Every request passes the Host/Origin guard; every
//! page but sign-in needs a session, and every state-changing request its CSRF token.

pub mod guard;
mod pages;
mod review;
pub mod session;
mod view;

use crate::app::App;
use axum::Router;
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use guard::Hosts;
use review::Review;
use session::{COOKIE, Session, Sessions};
use std::sync::Arc;

/// Where the review app lives on the listener.
pub const ROOT: &str = "/app/";

/// Where the web room gets the app in force (the daemon swaps it when the settings change).
pub trait AppSource: Send + Sync + 'static {
    fn app(&self) -> Arc<App>;
}

/// The CalDAV/CardDAV account: what signs in to the review app, and what the Connect page shows.
#[derive(Clone)]
pub struct Account {
    pub user: String,
    pub password: String,
    /// What a wrong password costs: `Err(seconds)` to wait when too many came. The daemon
    /// shares one count between the review app's sign-in and the DAV server, which take the
    /// same password.
    pub guesses: Guesses,
    /// Where the listener is, without a trailing slash (`http://127.0.0.1:5232`): the DAV server
    /// is under `/dav/`, the review app under `/app/`.
    pub base: String,
}

/// Counts a wrong password; `Err(seconds)` when the next one must wait.
pub type Guesses = std::sync::Arc<dyn Fn() -> Result<(), u64> + Send + Sync>;

impl Account {
    pub fn dav_url(&self) -> String {
        format!("{}/dav/", self.base)
    }
}

/// The review app's state, shared by every request.
pub struct Web {
    source: Box<dyn AppSource>,
    account: Account,
    hosts: Hosts,
    sessions: Sessions,
    review: Arc<Review>,
    sign_in: pages::connect::SignIn,
    /// The session cookie gets `Secure` when the listener speaks HTTPS.
    tls: bool,
}

impl Web {
    pub fn new(source: impl AppSource, account: Account, hosts: Hosts, tls: bool) -> Arc<Web> {
        Arc::new(Web {
            source: Box::new(source),
            account,
            hosts,
            sessions: Sessions::default(),
            review: Arc::new(Review::default()),
            sign_in: Default::default(),
            tls,
        })
    }

    fn app(&self) -> Arc<App> {
        self.source.app()
    }

    /// A link that signs in once (for `tandem open` and the demo).
    pub fn sign_in_link(&self) -> String {
        format!(
            "{}{ROOT}signin/once/{}",
            self.account.base,
            self.sessions.link()
        )
    }

    /// The routes, with the guard, session and CSRF checks around them.
    pub fn router(self: &Arc<Web>) -> Router {
        let signed_in = Router::new()
            .route("/app/", get(pages::home))
            .route("/app/setup", get(pages::setup::page))
            .route("/app/summary", get(pages::summary::page))
            .route("/app/summary/review", post(pages::summary::review))
            .route("/app/summary/act", post(pages::summary::act))
            .route("/app/progress", get(pages::runs::progress))
            .route("/app/runs", get(pages::runs::page))
            .route(
                "/app/settings",
                get(pages::settings::page).post(pages::settings::save),
            )
            .route("/app/history", get(pages::history::page))
            .route("/app/history/restore", post(pages::history::confirm))
            .route(
                "/app/history/restore/confirm",
                post(pages::history::restore),
            )
            .route("/app/connect", get(pages::connect::page))
            .route("/app/connect/salesforce", post(pages::connect::salesforce))
            .route("/app/connect/disconnect", post(pages::connect::disconnect))
            .route("/app/signout", post(pages::signin::sign_out))
            .route_layer(middleware::from_fn_with_state(self.clone(), signed_in));
        Router::new()
            .route("/", get(|| async { Redirect::to(ROOT) }))
            .route("/app", get(|| async { Redirect::to(ROOT) }))
            .route(
                "/app/signin",
                get(pages::signin::page).post(pages::signin::submit),
            )
            .route("/app/signin/once/{token}", get(pages::signin::once))
            .route("/app/assets/{name}", get(pages::asset))
            .merge(signed_in)
            .fallback(|| async {
                (
                    StatusCode::NOT_FOUND,
                    "There is no page here; the review app starts at /app/.",
                )
            })
            .layer(middleware::from_fn_with_state(self.clone(), guarded))
            .with_state(self.clone())
    }
}

impl Web {
    /// Whether a request names this server, as the review app's guard asks (see `guard`).
    pub fn admits(&self, headers: &hyper::HeaderMap) -> Result<(), guard::Refusal> {
        self.hosts.admit(headers)
    }
}

/// Whether a request belongs to the review app rather than the DAV server: everything under
/// `/app`, and a browser's GET of `/` (DAV clients ask `/` with PROPFIND).
pub fn claims(method: &Method, path: &str) -> bool {
    path == "/app"
        || path.starts_with(ROOT)
        || (path == "/" && (method == Method::GET || method == Method::HEAD))
}

/// Every request: refused unless its Host and Origin are this server's (DNS rebinding, other
/// sites). No CORS headers are ever sent.
async fn guarded(State(web): State<Arc<Web>>, request: Request, next: Next) -> Response {
    if let Err(refusal) = web.hosts.admit(request.headers()) {
        tracing::warn!("review app: {refusal}");
        return (StatusCode::FORBIDDEN, refusal.to_string()).into_response();
    }
    let method = request.method().clone();
    // A one-time sign-in link's token is a credential until used: it is not logged.
    let path = match request.uri().path() {
        p if p.starts_with("/app/signin/once/") => "/app/signin/once/…".to_string(),
        p => p.to_string(),
    };
    let mut response = next.run(request).await;
    // What the page asked and what it was told: with `TANDEM_LOG=tandem=debug`, a log shows
    // the clicks a person made (a body or a query, and so a form's contents, is never logged).
    tracing::debug!(%method, path, status = response.status().as_u16(), "review app");
    let headers = response.headers_mut();
    // The pages are never framed by another site, nor sniffed into something else.
    headers.insert("x-frame-options", "DENY".parse().expect("a header value"));
    headers.insert(
        "content-security-policy",
        "default-src 'self'; frame-ancestors 'none'"
            .parse()
            .expect("a header value"),
    );
    headers.insert(
        "x-content-type-options",
        "nosniff".parse().expect("a header value"),
    );
    headers.insert("cache-control", "no-store".parse().expect("a header value"));
    response
}

/// Pages behind sign-in: without a session, the sign-in page; a state-changing request without
/// the session's CSRF token (header `x-csrf-token` or form field `csrf`) changes nothing.
async fn signed_in(State(web): State<Arc<Web>>, request: Request, next: Next) -> Response {
    let jar = axum_extra::extract::CookieJar::from_headers(request.headers());
    let Some(session) = jar
        .get(COOKIE)
        .and_then(|cookie| web.sessions.find(cookie.value()))
    else {
        return if request.method() == Method::GET {
            Redirect::to("/app/signin").into_response()
        } else {
            (StatusCode::FORBIDDEN, "sign in first: /app/signin").into_response()
        };
    };
    let request = if request.method() == Method::POST {
        match csrf_checked(&session, request).await {
            Ok(request) => request,
            Err(response) => return response,
        }
    } else {
        request
    };
    let mut request = request;
    request.extensions_mut().insert(session);
    next.run(request).await
}

/// The request, if it carries the session's CSRF token; its body is read to find a form field
/// and put back for the handler.
async fn csrf_checked(session: &Session, request: Request) -> Result<Request, Response> {
    let refused = || {
        (
            StatusCode::FORBIDDEN,
            "the request lacks this page's security token (reload the page and try again)",
        )
            .into_response()
    };
    if let Some(sent) = request
        .headers()
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
    {
        return if session.vouches(sent) {
            Ok(request)
        } else {
            Err(refused())
        };
    }
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, view::MAX_FORM)
        .await
        .map_err(|_| (StatusCode::PAYLOAD_TOO_LARGE, "the form is too large").into_response())?;
    let vouched = form_urlencoded::parse(&bytes)
        .any(|(name, value)| name == "csrf" && session.vouches(&value));
    if !vouched {
        return Err(refused());
    }
    Ok(Request::from_parts(parts, axum::body::Body::from(bytes)))
}
