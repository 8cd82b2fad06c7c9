//! The running daemon: it owns the store and its writer, serves the CalDAV/CardDAV server,
//! answers the local API the other commands use, and starts the automatic runs.
//!
//! redb lets one process open the store, so while `tandem serve` runs the other commands ask it
//! over HTTP on a loopback address (`api`), with the address and a bearer token announced in
//! `daemon.json` in the data directory, readable by the user only (`client` finds it).

mod api;
mod client;
mod front;
pub mod memory;
mod settings;

pub use client::Client;

use crate::app::{App, AppError, Serving};
use crate::config::{self, ConfigError, Settings};
use crate::dav::{self, DavError, DavState, auth::Credentials};
use crate::engine::scheduler::Scheduler;
use crate::store::{Store, StoreError, Writer, WriterError, system_clock};
use crate::web::guard::Hosts;
use crate::web::{Account, Web};
use serde::{Deserialize, Serialize};
use settings::Live;
use std::io::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::net::TcpListener;

pub const DAEMON_FILE: &str = "daemon.json";

/// Where the daemon listens, and how it tells the commands.
#[derive(Serialize, Deserialize)]
struct Announcement {
    pid: u32,
    addr: SocketAddr,
    token: String,
    /// Where desktop clients connect.
    #[serde(default)]
    dav_url: String,
}

/// How to run the daemon; what is not given comes from the settings file.
#[derive(Clone, Debug)]
pub struct ServeOptions {
    /// Address of the CalDAV/CardDAV server.
    pub listen: SocketAddr,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    pub user: Option<String>,
    pub password: Option<String>,
    /// Say nothing on start: the caller (the demo) says what matters itself.
    pub quiet: bool,
    /// Say where tandem listens but not the password: a service's output ends up in a journal
    /// or a file, and the password stays in `tandem.toml`.
    pub hide_password: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error("{}: {source}{}", dir.display(), crate::store::advice(source))]
    DataDir {
        dir: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Settings(#[from] ConfigError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Log(#[from] WriterError),
    #[error(transparent)]
    Dav(#[from] DavError),
    #[error(transparent)]
    App(#[from] AppError),
    #[error(
        "tandem serve is already running for {} (its CalDAV/CardDAV server is at {dav_url}); the other commands talk to it",
        dir.display()
    )]
    AlreadyRunning { dir: PathBuf, dav_url: String },
    #[error("TLS needs both a certificate (tls_cert) and its key (tls_key)")]
    HalfTls,
    #[error(
        "{0} is not a loopback address: listen on 127.0.0.1 (or ::1), or configure TLS (--tls-cert and --tls-key) so passwords do not cross the network in the clear"
    )]
    NotLoopback(SocketAddr),
    #[error("cannot open the local API: {0}")]
    Api(std::io::Error),
    #[error("cannot announce the daemon in {}: {source}", path.display())]
    Announce {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Run the daemon until interrupted (Ctrl-C or SIGTERM).
pub async fn serve(dir: &Path, options: ServeOptions) -> Result<(), DaemonError> {
    memory::keep_small();
    let configured = Settings::load(dir)?.server;
    let tls = match (
        options.tls_cert.or(configured.tls_cert),
        options.tls_key.or(configured.tls_key),
    ) {
        (Some(cert), Some(key)) => Some(dav::tls_acceptor(&cert, &key)?),
        (None, None) => None,
        _ => return Err(DaemonError::HalfTls),
    };
    if !options.listen.ip().is_loopback() && tls.is_none() {
        return Err(DaemonError::NotLoopback(options.listen));
    }
    if let Some(running) = Client::discover(dir).await {
        return Err(DaemonError::AlreadyRunning {
            dir: dir.to_path_buf(),
            dav_url: running.dav_url().to_string(),
        });
    }
    // Both listeners first: a serve that cannot listen leaves nothing behind (no store, no
    // generated password).
    let dav_listener = dav::listen(options.listen).await?;
    let dav_addr = dav_listener.local_addr().map_err(DaemonError::Api)?;
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(DaemonError::Api)?;
    let addr = listener.local_addr().map_err(DaemonError::Api)?;
    let data_dir = |source| DaemonError::DataDir {
        dir: dir.to_path_buf(),
        source,
    };
    if dir.exists() {
        for loose in crate::store::tighten(dir).map_err(data_dir)? {
            tracing::warn!(
                "{} could be read by other users of this computer (mode {:o}); it is its owner's alone again",
                loose.path.display(),
                loose.mode
            );
        }
    }
    crate::store::create_private_dir(dir).map_err(data_dir)?;
    let secrets = config::keep_secrets(dir)?;
    tracing::info!("passwords and tokens are kept {secrets}");
    let (user, password) = config::ensure_server_credentials(dir)?;
    let credentials = Credentials {
        user: options.user.unwrap_or(user),
        password: options.password.unwrap_or(password),
    };
    let settings = Settings::load(dir)?;
    let store = Arc::new(Store::open_or_create(dir)?);
    let writer = Writer::spawn(store.clone(), settings.policies(), system_clock())?;
    let dav_state = Arc::new(DavState::new(
        store.clone(),
        writer.clone(),
        credentials.clone(),
    ));
    let guesses = dav_state.guesses.clone();
    dav::ensure_default_collections(&dav_state).await?;
    let live = Live::new(App {
        dir: dir.to_path_buf(),
        store: store.clone(),
        writer: Some(writer.clone()),
        settings: settings.clone(),
        wall: system_clock(),
        serving: Serving::Daemon {
            settings_loaded_ms: chrono::Utc::now().timestamp_millis(),
            settings_error: None,
            awaiting_restart: Vec::new(),
        },
    });
    let token = hex::encode(rand::random::<[u8; 32]>());
    let scheme = if tls.is_some() { "https" } else { "http" };
    let dav_url = format!("{scheme}://{dav_addr}/dav/");
    let review = Web::new(
        live.clone(),
        Account {
            user: credentials.user.clone(),
            password: credentials.password.clone(),
            guesses: Arc::new(move || guesses.wrong()),
            base: format!("{scheme}://{dav_addr}"),
        },
        Hosts::of(dav_addr),
        tls.is_some(),
    );
    // From here on a stop is a clean shutdown: the handlers are in place before anyone is told
    // tandem runs (a service manager may stop it right after it starts).
    let stopped = shutdown_signal();
    let announcement = announce(
        dir,
        &Announcement {
            pid: std::process::id(),
            addr,
            token: token.clone(),
            dav_url: dav_url.clone(),
        },
    )?;
    tracing::info!(
        "tandem serve for {}: CalDAV/CardDAV server at {dav_url} (user {}), local API at http://{addr}",
        dir.display(),
        credentials.user
    );
    if !options.quiet {
        let reviewed = live.app().reviewed()?;
        greet(
            dir,
            addr,
            &dav_url,
            &credentials,
            &secrets,
            options.hide_password,
            reviewed,
        );
    }
    let stop_dav = Arc::new(tokio::sync::Notify::new());
    let dav_task = {
        let stop = stop_dav.clone();
        let review = review.clone();
        tokio::spawn(async move {
            front::serve(dav_listener, dav_state, review, tls, async move {
                stop.notified().await
            })
            .await
        })
    };
    let scheduler = tokio::spawn(
        Scheduler {
            store,
            writer: writer.clone(),
            settings,
            dir: dir.to_path_buf(),
            wall: system_clock(),
        }
        .run(live.subscribe()),
    );
    let watcher = tokio::spawn(live.clone().watch(dir.to_path_buf()));
    api::accept_until_stopped(
        listener,
        api::Api {
            live,
            web: review,
            token,
            hosts: Hosts::of(addr),
        },
        stopped,
    )
    .await;
    watcher.abort();
    scheduler.abort();
    stop_dav.notify_one();
    let _ = dav_task.await;
    let _ = std::fs::remove_file(announcement);
    writer.close().await?;
    Ok(())
}

/// Say where tandem serves, and the password unless it is hidden (a service). Printing must not
/// panic when whoever started the daemon has closed its stdout (a test that read the first line,
/// a detached service): it keeps serving anyway.
fn greet(
    dir: &Path,
    api: SocketAddr,
    dav_url: &str,
    credentials: &Credentials,
    secrets: &config::SecretsHome,
    hide_password: bool,
    reviewed: bool,
) {
    let mut out = std::io::stdout().lock();
    let password = if hide_password {
        let kept = match secrets {
            config::SecretsHome::Keychain => "in the OS keychain (service tandem)".to_string(),
            config::SecretsHome::File(_) => {
                format!(
                    "[server] password in {}",
                    dir.join(config::SETTINGS_FILE).display()
                )
            }
        };
        format!("password: {kept}, and on the review app's Connect page")
    } else {
        format!("password {}", credentials.password)
    };
    let app_url = format!("{}{}", dav_url.trim_end_matches("dav/"), "app/");
    let mut text = format!(
        "tandem is running on {}; local API at http://{api}\nCalDAV/CardDAV server at {dav_url} (user {}, {password})\nReview app at {app_url} (`tandem open` opens it, signed in)\n",
        dir.display(),
        credentials.user,
    );
    if !reviewed {
        text.push_str("No sync run yet: review one in the review app (or with `tandem sync preview`, then `tandem sync apply`); automatic runs start after that\n");
    }
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
}

/// Ctrl-C or SIGTERM, listened for from the call on (not from the first poll, which comes later).
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    let signals = {
        use tokio::signal::unix::{SignalKind, signal};
        signal(SignalKind::terminate())
            .and_then(|term| Ok((term, signal(SignalKind::interrupt())?)))
            .ok()
    };
    async move {
        #[cfg(unix)]
        if let Some((mut term, mut interrupt)) = signals {
            tokio::select! {
                _ = interrupt.recv() => {}
                _ = term.recv() => {}
            }
            return;
        }
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Write `daemon.json` atomically (write, then rename), readable by the user only.
fn announce(dir: &Path, announcement: &Announcement) -> Result<PathBuf, DaemonError> {
    let path = dir.join(DAEMON_FILE);
    let bytes = serde_json::to_vec_pretty(announcement).map_err(|e| DaemonError::Announce {
        path: path.clone(),
        source: e.into(),
    })?;
    config::write_private(&path, &bytes).map_err(|source| DaemonError::Announce {
        path: path.clone(),
        source,
    })?;
    Ok(path)
}
