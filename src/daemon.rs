//! The daemon's local API. redb lets one process open the store, so while `tandem serve` runs,
//! the other commands ask it over HTTP on a loopback address. The address and a bearer token
//! are announced in `daemon.json` in the data directory, readable by the user only.

use crate::cli::{Context, Output, StoreCommand, commands};
use crate::config::{self, Settings};
use crate::dav::{self, DavState, auth::Credentials};
use crate::store::Store;
use crate::store::system_clock;
use crate::store::{Ack, Draft, Writer};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, Response, StatusCode, header};
use hyper_util::rt::TokioIo;
use serde::{Deserialize, Serialize};
use std::io::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::net::{TcpListener, TcpStream};

pub const DAEMON_FILE: &str = "daemon.json";
/// Larger requests are refused (413): the API carries commands and single events.
const MAX_BODY: usize = 16 * 1024 * 1024;

#[derive(Serialize, Deserialize)]
struct Announcement {
    pid: u32,
    addr: SocketAddr,
    token: String,
    /// Where desktop clients connect.
    #[serde(default)]
    dav_url: String,
}

struct Api {
    context: Context,
    writer: Writer,
    token: String,
}

#[derive(clap::Args, Debug)]
pub struct ServeArgs {
    /// Address of the CalDAV/CardDAV server. A loopback address unless TLS is configured:
    /// passwords never cross a network in the clear.
    #[arg(long, default_value = "127.0.0.1:5232")]
    pub listen: SocketAddr,
    /// PEM certificate chain for HTTPS (default: [server] tls_cert in tandem.toml).
    #[arg(long, requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key for HTTPS (default: [server] tls_key in tandem.toml).
    #[arg(long, requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// User name for the CalDAV/CardDAV server (default: [server] user in tandem.toml).
    #[arg(long)]
    pub user: Option<String>,
    /// Password for the CalDAV/CardDAV server (default: [server] password in tandem.toml,
    /// generated on first start).
    #[arg(long)]
    pub password: Option<String>,
}

/// Run the daemon until interrupted (Ctrl-C or SIGTERM).
pub async fn serve(dir: &Path, args: ServeArgs) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let configured = Settings::load(dir).map_err(|e| e.to_string())?.server;
    let tls = match (
        args.tls_cert.or(configured.tls_cert),
        args.tls_key.or(configured.tls_key),
    ) {
        (Some(cert), Some(key)) => Some(dav::tls_acceptor(&cert, &key).map_err(|e| e.to_string())?),
        (None, None) => None,
        _ => return Err("TLS needs both a certificate (tls_cert) and its key (tls_key)".into()),
    };
    if !args.listen.ip().is_loopback() && tls.is_none() {
        return Err(format!(
            "{} is not a loopback address: listen on 127.0.0.1 (or ::1), or configure TLS (--tls-cert and --tls-key) so passwords do not cross the network in the clear",
            args.listen
        ));
    }
    let (user, password) = config::ensure_server_credentials(dir).map_err(|e| e.to_string())?;
    let credentials = Credentials {
        user: args.user.unwrap_or(user),
        password: args.password.unwrap_or(password),
    };
    let settings = Settings::load(dir).map_err(|e| e.to_string())?;
    let store = Arc::new(Store::open_or_create(dir).map_err(|e| e.to_string())?);
    let writer = Writer::spawn(store.clone(), settings.policies(), system_clock())
        .map_err(|e| e.to_string())?;
    let dav_state = Arc::new(DavState::new(
        store.clone(),
        writer.clone(),
        credentials.clone(),
    ));
    dav::ensure_default_collections(&dav_state)
        .await
        .map_err(|e| e.to_string())?;
    let dav_listener = TcpListener::bind(args.listen).await.map_err(|e| {
        format!(
            "cannot listen on {}: {e}; is another server using it? Pick another with --listen",
            args.listen
        )
    })?;
    let dav_addr = dav_listener.local_addr().map_err(|e| e.to_string())?;
    let context = Context {
        dir: dir.to_path_buf(),
        store,
        writer: Some(writer.clone()),
        settings,
        progress: false,
    };
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| format!("cannot open the local API: {e}"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let token = hex::encode(rand::random::<[u8; 32]>());
    let scheme = if tls.is_some() { "https" } else { "http" };
    let announcement = announce(
        dir,
        &Announcement {
            pid: std::process::id(),
            addr,
            token: token.clone(),
            dav_url: format!("{scheme}://{dav_addr}/dav/"),
        },
    )?;
    // `println!` would panic when whoever started the daemon has closed its stdout (a test
    // that read the first line, a detached service): the daemon must keep serving regardless.
    {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(
            out,
            "tandem is running on {}; local API at http://{addr}",
            dir.display()
        )
        .and_then(|()| {
            writeln!(
                out,
                "CalDAV/CardDAV server at {scheme}://{dav_addr}/dav/ (user {}, password {})",
                credentials.user, credentials.password
            )
        })
        .and_then(|()| {
            let reviewed = crate::store::read::runs(&context.store.read().map_err(std::io::Error::other)?, usize::MAX)
                .map(|runs| runs.iter().any(|(_, r)| r.mode == tandem_protocol::run::RunMode::Manual))
                .unwrap_or(false);
            if reviewed {
                Ok(())
            } else {
                writeln!(
                    out,
                    "No sync run yet: review one with `tandem sync preview`, then `tandem sync apply`; automatic runs start after that"
                )
            }
        })
        .and_then(|()| out.flush());
    }
    let api = Arc::new(Api {
        context,
        writer,
        token,
    });
    let stop_dav = Arc::new(tokio::sync::Notify::new());
    let dav_task = {
        let stop = stop_dav.clone();
        tokio::spawn(async move {
            dav::serve_with(dav_listener, dav_state, tls, async move {
                stop.notified().await
            })
            .await
        })
    };
    let scheduler = tokio::spawn(schedule(dir.to_path_buf(), api.clone()));
    let result = accept_until_stopped(listener, api.clone()).await;
    scheduler.abort();
    stop_dav.notify_one();
    let _ = dav_task.await;
    let _ = std::fs::remove_file(announcement);
    api.writer.close().await;
    result
}

async fn accept_until_stopped(listener: TcpListener, api: Arc<Api>) -> Result<(), String> {
    let stop = shutdown_signal();
    tokio::pin!(stop);
    loop {
        tokio::select! {
            _ = &mut stop => return Ok(()),
            accepted = listener.accept() => {
                let (stream, _) = match accepted {
                    Ok(conn) => conn,
                    Err(e) => {
                        tracing::warn!("accepting a local API connection failed: {e}");
                        continue;
                    }
                };
                let api = api.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req| {
                        let api = api.clone();
                        async move { Ok::<_, std::convert::Infallible>(api.handle(req).await) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        }
    }
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

/// Write `daemon.json` atomically (write, then rename), readable by the user only.
fn announce(dir: &Path, announcement: &Announcement) -> Result<PathBuf, String> {
    let path = dir.join(DAEMON_FILE);
    let partial = dir.join(format!(".{DAEMON_FILE}.{}", std::process::id()));
    let bytes = serde_json::to_vec_pretty(announcement).map_err(|e| e.to_string())?;
    write_private(&partial, &bytes).map_err(|e| format!("{}: {e}", partial.display()))?;
    std::fs::rename(&partial, &path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(path)
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

fn json_response(status: StatusCode, value: &impl Serialize) -> Response<Full<Bytes>> {
    let body = serde_json::to_vec(value).unwrap_or_default();
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from(body)))
        .unwrap_or_default()
}

fn error_response(status: StatusCode, message: impl std::fmt::Display) -> Response<Full<Bytes>> {
    json_response(status, &serde_json::json!({ "error": message.to_string() }))
}

/// Constant-time comparison, so the token cannot be guessed byte by byte from response times.
/// Automatic runs: once a minute, run the kinds whose interval has passed inside their hours,
/// once a manual run has been applied. A failed run is logged and tried again when next due.
async fn schedule(dir: PathBuf, api: Arc<Api>) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
    loop {
        tick.tick().await;
        let context = &api.context;
        let mut engine = crate::engine::sync::SyncEngine {
            store: context.store.clone(),
            writer: api.writer.clone(),
            settings: context.settings.clone(),
            dir: dir.clone(),
            reach: crate::engine::sync::Reach::Settings,
            wall: system_clock(),
            only: Vec::new(),
        };
        if !engine.reviewed_before().unwrap_or(false) {
            continue;
        }
        let now = chrono::Utc::now();
        let local = chrono::Local::now().time();
        engine.only = tandem_protocol::RecordKind::ALL
            .into_iter()
            .filter(|kind| {
                let last = engine.last_run(*kind).ok().flatten();
                context.settings.rules(*kind).due(last, now, local)
            })
            .collect();
        if engine.only.is_empty() {
            continue;
        }
        match engine.automatic().await {
            Ok(report) => {
                let failed = report.record.as_ref().map_or(0, |r| r.failures().count());
                tracing::info!(failed, "automatic sync run finished");
            }
            Err(e) => tracing::warn!("automatic sync run failed: {e}"),
        }
    }
}

fn same_secret(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl Api {
    async fn handle(&self, req: Request<Incoming>) -> Response<Full<Bytes>> {
        let expected = format!("Bearer {}", self.token);
        let authorized = req
            .headers()
            .get(header::AUTHORIZATION)
            .is_some_and(|v| same_secret(v.as_bytes(), expected.as_bytes()));
        let (method, path) = (req.method().clone(), req.uri().path().to_string());
        // The body is read before answering, even a refusal: a response sent over an unread
        // body makes the connection close with a reset the client sees instead of the answer.
        let body = match Limited::new(req.into_body(), MAX_BODY).collect().await {
            Ok(body) => body.to_bytes(),
            Err(_) => {
                return error_response(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    format!("request bodies are limited to {MAX_BODY} bytes"),
                );
            }
        };
        if !authorized {
            return error_response(
                StatusCode::UNAUTHORIZED,
                "missing or wrong token; the token is in daemon.json in the data directory",
            );
        }
        match (method, path.as_str()) {
            (Method::GET, "/api/v1/status") => json_response(
                StatusCode::OK,
                &serde_json::json!({ "pid": std::process::id(), "data": self.context.dir }),
            ),
            (Method::POST, "/api/v1/run") => match serde_json::from_slice::<StoreCommand>(&body) {
                Ok(command) => json_response(
                    StatusCode::OK,
                    &commands::execute(&command, &self.context).await,
                ),
                Err(e) => error_response(StatusCode::BAD_REQUEST, format!("not a command: {e}")),
            },
            (Method::POST, "/api/v1/append") => match serde_json::from_slice::<Draft>(&body) {
                Ok(draft) => match self.writer.append(draft).await {
                    Ok(ack) => json_response(StatusCode::OK, &ack),
                    Err(e) => error_response(StatusCode::UNPROCESSABLE_ENTITY, e),
                },
                Err(e) => error_response(
                    StatusCode::BAD_REQUEST,
                    format!("not a valid event draft: {e}"),
                ),
            },
            _ => error_response(
                StatusCode::NOT_FOUND,
                format!("no such API endpoint: {path}"),
            ),
        }
    }
}

/// A command line's way to the running daemon.
pub struct Client {
    addr: SocketAddr,
    token: String,
    dav_url: String,
}

impl Client {
    /// The daemon serving `dir`, if one is running and answers.
    pub async fn discover(dir: &Path) -> Option<Client> {
        let bytes = std::fs::read(dir.join(DAEMON_FILE)).ok()?;
        let announcement: Announcement = serde_json::from_slice(&bytes).ok()?;
        let client = Client {
            addr: announcement.addr,
            token: announcement.token,
            dav_url: announcement.dav_url,
        };
        let (status, _) = client
            .request(Method::GET, "/api/v1/status", Vec::new())
            .await
            .ok()?;
        (status == StatusCode::OK).then_some(client)
    }

    async fn request(
        &self,
        method: Method,
        path: &str,
        body: Vec<u8>,
    ) -> Result<(StatusCode, Bytes), String> {
        let unreachable = |e: &dyn std::fmt::Display| {
            format!("the tandem daemon at {} did not answer: {e}", self.addr)
        };
        let stream = TcpStream::connect(self.addr)
            .await
            .map_err(|e| unreachable(&e))?;
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| unreachable(&e))?;
        tokio::spawn(connection);
        let request = Request::builder()
            .method(method)
            .uri(path)
            .header(header::HOST, self.addr.to_string())
            .header(header::AUTHORIZATION, format!("Bearer {}", self.token))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| e.to_string())?;
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| unreachable(&e))?;
        let status = response.status();
        let bytes = response
            .into_body()
            .collect()
            .await
            .map_err(|e| unreachable(&e))?
            .to_bytes();
        Ok((status, bytes))
    }

    fn error_of(status: StatusCode, body: &[u8]) -> String {
        serde_json::from_slice::<serde_json::Value>(body)
            .ok()
            .and_then(|v| v["error"].as_str().map(str::to_string))
            .unwrap_or_else(|| format!("the daemon answered {status}"))
    }

    /// The CalDAV/CardDAV server's URL.
    pub fn dav_url(&self) -> &str {
        &self.dav_url
    }

    pub async fn run(&self, command: &StoreCommand) -> Result<Output, String> {
        let body = serde_json::to_vec(command).map_err(|e| e.to_string())?;
        let (status, bytes) = self.request(Method::POST, "/api/v1/run", body).await?;
        if status != StatusCode::OK {
            return Err(Client::error_of(status, &bytes));
        }
        serde_json::from_slice(&bytes)
            .map_err(|e| format!("the daemon's answer is not readable: {e}"))
    }

    pub async fn append(&self, draft: &Draft) -> Result<Ack, String> {
        let body = serde_json::to_vec(draft).map_err(|e| e.to_string())?;
        let (status, bytes) = self.request(Method::POST, "/api/v1/append", body).await?;
        if status != StatusCode::OK {
            return Err(Client::error_of(status, &bytes));
        }
        serde_json::from_slice(&bytes)
            .map_err(|e| format!("the daemon's answer is not readable: {e}"))
    }
}
