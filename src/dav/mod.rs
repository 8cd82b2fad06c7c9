//! The CalDAV/CardDAV server desktop and phone clients connect to (hyper). It reads from the
//! store's projections and turns every PUT, DELETE and collection change into an event that is
//! acknowledged only once the writer has made it durable. Meaning (XML, iCalendar, vCard) comes
//! from `tandem_protocol`; this module does HTTP. Under `/dav/files/` it is also a plain
//! WebDAV server (collections, resources, COPY/MOVE, dead properties) for generic clients.

pub mod auth;
mod collection;
mod copymove;
mod file_props;
mod files;
mod listing;
mod member;
mod proppatch;
mod props;
mod query;
mod report;
mod respond;

use crate::store::{Store, StoreError, Writer, WriterError};
use auth::Credentials;
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode, header};
use hyper_util::rt::TokioIo;
use respond::{Body, Finish};
use std::sync::Arc;
use tandem_protocol::dav::Limits;
use tandem_protocol::dav::layout::{self as paths, Target};
use tandem_protocol::{Origin, Side};
use tokio::net::TcpListener;
use tokio_rustls::rustls;

/// Largest request body accepted (413 above): a calendar resource with attachments inline fits,
/// a runaway upload does not.
pub const MAX_BODY: usize = 10 * 1024 * 1024;

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum DavError {
    #[error(
        "cannot listen on {addr}: {source}; is another server using it? Pick another with --listen"
    )]
    Listen {
        addr: String,
        source: std::io::Error,
    },
    #[error("cannot read the {what} {path}: {source}")]
    TlsFile {
        what: &'static str,
        path: std::path::PathBuf,
        source: rustls::pki_types::pem::Error,
    },
    #[error("{0} holds no PEM certificate")]
    NoCertificate(std::path::PathBuf),
    #[error("the certificate and key do not make a TLS identity: {0}")]
    Tls(#[from] rustls::Error),
    #[error("cannot create the default collections: {0}")]
    Defaults(#[from] WriterError),
}

pub struct DavState {
    pub store: Arc<Store>,
    pub writer: Writer,
    pub credentials: Credentials,
    /// Wrong passwords, counted with the review app's sign-in (the daemon shares them).
    pub guesses: Arc<auth::Guesses>,
    pub limits: Limits,
    pub max_body: usize,
}

impl DavState {
    pub fn new(store: Arc<Store>, writer: Writer, credentials: Credentials) -> DavState {
        DavState {
            store,
            writer,
            credentials,
            guesses: Arc::default(),
            limits: Limits::default(),
            max_body: MAX_BODY,
        }
    }
}

/// Create the default collections — a calendar, a task list and an address book — the first
/// time the server starts on a store.
pub async fn ensure_default_collections(state: &DavState) -> Result<(), WriterError> {
    crate::store::ensure_default_collections(&state.store, &state.writer).await
}

/// The server's listening socket on `addr`.
pub async fn listen(addr: std::net::SocketAddr) -> Result<TcpListener, DavError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| DavError::Listen {
            addr: addr.to_string(),
            source,
        })
}

/// Serve plain HTTP connections until `stop` completes.
pub async fn serve(
    listener: TcpListener,
    state: Arc<DavState>,
    stop: impl std::future::Future<Output = ()>,
) {
    serve_with(listener, state, None, stop).await
}

/// A server on a loopback port the OS picks, serving until dropped: for tests, benchmarks and
/// tools that run tandem inside another program.
pub struct LocalServer {
    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub base: String,
    stop: Arc<tokio::sync::Notify>,
}

impl LocalServer {
    /// Serve `store` (its default collections created if it has none) to `credentials`.
    pub async fn start(
        store: Arc<Store>,
        writer: Writer,
        credentials: auth::Credentials,
    ) -> Result<LocalServer, DavError> {
        let state = Arc::new(DavState::new(store, writer, credentials));
        ensure_default_collections(&state).await?;
        let listener = listen(([127, 0, 0, 1], 0).into()).await?;
        let addr = listener.local_addr().map_err(|source| DavError::Listen {
            addr: "127.0.0.1:0".into(),
            source,
        })?;
        let base = format!("http://{addr}");
        let stop = Arc::new(tokio::sync::Notify::new());
        let stopped = stop.clone();
        tokio::spawn(async move {
            serve(listener, state, async move { stopped.notified().await }).await
        });
        Ok(LocalServer { base, stop })
    }
}

impl Drop for LocalServer {
    fn drop(&mut self) {
        self.stop.notify_one();
    }
}

/// HTTPS: a certificate chain and key from PEM files (Apple clients send passwords only over
/// HTTPS; a locally trusted certificate, e.g. from mkcert, works).
pub fn tls_acceptor(
    cert: &std::path::Path,
    key: &std::path::Path,
) -> Result<tokio_rustls::TlsAcceptor, DavError> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect())
        .map_err(|source| DavError::TlsFile {
            what: "certificate",
            path: cert.to_path_buf(),
            source,
        })?;
    if certs.is_empty() {
        return Err(DavError::NoCertificate(cert.to_path_buf()));
    }
    let key = PrivateKeyDer::from_pem_file(key).map_err(|source| DavError::TlsFile {
        what: "private key",
        path: key.to_path_buf(),
        source,
    })?;
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()?
    .with_no_client_auth()
    .with_single_cert(certs, key)?;
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
}

/// Serve connections, over TLS when an acceptor is given, until `stop` completes.
pub async fn serve_with(
    listener: TcpListener,
    state: Arc<DavState>,
    tls: Option<tokio_rustls::TlsAcceptor>,
    stop: impl std::future::Future<Output = ()>,
) {
    serve_requests(listener, tls, stop, move |req| {
        let state = state.clone();
        async move { handle(&state, req).await }
    })
    .await
}

/// Serve connections with `answer` answering each request (the daemon puts the review app and
/// this server on one listener), over TLS when an acceptor is given, until `stop` completes.
pub async fn serve_requests<A, F, B>(
    listener: TcpListener,
    tls: Option<tokio_rustls::TlsAcceptor>,
    stop: impl std::future::Future<Output = ()>,
    answer: A,
) where
    A: Fn(Request<Incoming>) -> F + Clone + Send + Sync + 'static,
    F: std::future::Future<Output = Response<B>> + Send + 'static,
    B: hyper::body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    tokio::pin!(stop);
    loop {
        tokio::select! {
            _ = &mut stop => return,
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let tls = tls.clone();
                let answer = answer.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req| {
                        let answer = answer.clone();
                        async move { Ok::<_, std::convert::Infallible>(answer(req).await) }
                    });
                    let http = hyper::server::conn::http1::Builder::new();
                    match tls {
                        None => {
                            let _ = http.serve_connection(TokioIo::new(stream), service).await;
                        }
                        Some(acceptor) => {
                            // A client that fails the handshake just goes away.
                            if let Ok(stream) = acceptor.accept(stream).await {
                                let _ = http.serve_connection(TokioIo::new(stream), service).await;
                            }
                        }
                    }
                });
            }
        }
    }
}

/// What a request asked for, with its body read.
pub(crate) struct Call {
    pub method: Method,
    pub target: Target,
    pub path: String,
    pub headers: hyper::HeaderMap,
    pub body: Vec<u8>,
    pub origin: Origin,
}

impl Call {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

pub async fn handle(state: &DavState, req: Request<Incoming>) -> Response<Body> {
    // OPTIONS answers without credentials: it reveals nothing but the server's capabilities,
    // and some clients probe with it before they authenticate.
    if req.method() == Method::OPTIONS {
        return respond::builder(StatusCode::OK)
            .header(header::ALLOW, respond::ALLOW)
            .finish(Default::default());
    }
    let authorized = state.credentials.admit(req.headers());
    // A request without credentials is a client asking for the dialog; one with wrong ones is
    // a guess.
    let guessed = !authorized && req.headers().contains_key(header::AUTHORIZATION);
    let path = req.uri().path().to_string();
    let method = req.method().clone();
    let headers = req.headers().clone();
    // Read the body before answering, a refusal included: a response over an unread body ends
    // in a connection reset, which clients report as a network error instead of asking for the
    // password.
    let body = match Limited::new(req.into_body(), state.max_body)
        .collect()
        .await
    {
        Ok(body) => body.to_bytes().to_vec(),
        Err(_) => {
            return respond::text(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("request bodies are limited to {} bytes", state.max_body),
            );
        }
    };
    if guessed && let Err(wait) = state.guesses.wrong() {
        return respond::builder(StatusCode::TOO_MANY_REQUESTS)
            .header(header::RETRY_AFTER, wait.to_string())
            .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
            .finish(
                format!("Too many wrong passwords; wait {wait} seconds. The password is in tandem.toml in tandem's data directory ([server] password).\n")
                    .into(),
            );
    }
    if !authorized {
        return respond::builder(StatusCode::UNAUTHORIZED)
            .header(header::WWW_AUTHENTICATE, "Basic realm=\"tandem\", charset=\"UTF-8\"")
            .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
            .finish(
                "Wrong or missing user name and password. They are in tandem.toml in tandem's data directory ([server] user, password).\n"
                    .into(),
            );
    }
    let target = match paths::resolve(&path) {
        Ok(target) => target,
        Err(paths::BadPath(message)) => return respond::text(StatusCode::BAD_REQUEST, message),
    };
    let text = |name| {
        headers
            .get(name)
            .and_then(|v: &header::HeaderValue| v.to_str().ok())
    };
    if let Err(malformed) = tandem_protocol::dav::conditional::check_syntax(
        text(header::IF_MATCH),
        text(header::IF_NONE_MATCH),
    ) {
        return respond::text(StatusCode::BAD_REQUEST, malformed);
    }
    // The plain file area is generic WebDAV, not a calendar client: say so in the log.
    let protocol = if matches!(target, Target::File(_)) {
        "webdav"
    } else {
        "caldav"
    };
    let origin = Origin::new(
        Side::DESKTOP,
        format!(
            "{protocol}:{}",
            headers
                .get(header::USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("unknown client")
        ),
    );
    let call = Call {
        method,
        target,
        path,
        headers,
        body,
        origin,
    };
    if let Target::File(path) = &call.target {
        return files::route(state, &call, path).await;
    }
    match call.method.as_str() {
        "COPY" | "MOVE" => copymove::refused_outside(&call),
        "PROPFIND" => props::propfind(state, &call),
        "PROPPATCH" => collection::proppatch(state, &call).await,
        "MKCALENDAR" | "MKCOL" => collection::make(state, &call).await,
        "REPORT" => report::report(state, &call),
        "GET" | "HEAD" => match &call.target {
            Target::Member { .. } => member::get(state, &call),
            Target::Collection(path) => collection::export(state, &call, path),
            Target::WellKnown => redirect_to_root(),
            Target::Elsewhere => respond::text(
                StatusCode::NOT_FOUND,
                format!("there is nothing at {}", call.path),
            ),
            _ => respond::text(
                StatusCode::OK,
                "tandem CalDAV/CardDAV server. Point your calendar or contacts app at this address.",
            ),
        },
        "PUT" => member::put(state, &call).await,
        "DELETE" => match &call.target {
            Target::Member { .. } => member::delete(state, &call).await,
            Target::Collection(path) => collection::delete(state, &call, path).await,
            _ => respond::text(StatusCode::FORBIDDEN, "this resource cannot be deleted"),
        },
        _ => respond::builder(StatusCode::METHOD_NOT_ALLOWED)
            .header(header::ALLOW, respond::ALLOW)
            .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
            .finish(format!("{} is not supported here\n", call.method).into()),
    }
}

/// RFC 6764: the well-known URIs point at the server's context path.
fn redirect_to_root() -> Response<Body> {
    respond::builder(StatusCode::MOVED_PERMANENTLY)
        .header(header::LOCATION, paths::DAV_ROOT)
        .finish(Default::default())
}

/// Map a store error from an append to the HTTP answer.
fn store_failure(e: &StoreError) -> Response<Body> {
    match e {
        StoreError::PreconditionFailed(message) => {
            respond::text(StatusCode::PRECONDITION_FAILED, message)
        }
        StoreError::Conflict(message) => respond::text(StatusCode::CONFLICT, message),
        StoreError::Rejected(e) => respond::text(StatusCode::BAD_REQUEST, e),
        // RFC 4918 §11.5: the server could not store the representation.
        StoreError::DiskFull => respond::text(
            StatusCode::INSUFFICIENT_STORAGE,
            format!("the change was not saved: {e}"),
        ),
        other => respond::text(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("the change was not saved: {other}"),
        ),
    }
}
