//! `tandem demo`: everything on one machine without an org — the Salesforce emulator with a
//! seeded demo org, the daemon (CalDAV/CardDAV server, local API, automatic runs) on a fresh data
//! directory, and a first reviewed sync run, after which a desktop client can connect.

use crate::app::AppError;
use crate::cli::commands::{Output, StoreCommand};
use crate::cli::sync::SyncCommand;
use crate::config::{self, ConfigError, SETTINGS_FILE};
use crate::daemon::{self, DaemonError, ServeOptions};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use tandem_salesforce_emulator::{Emulator, EmulatorConfig, EmulatorError};

#[derive(clap::Args, Debug)]
pub struct DemoArgs {
    /// Address of the CalDAV/CardDAV server.
    #[arg(long, default_value = "127.0.0.1:5232")]
    pub listen: SocketAddr,
    /// Seed of the demo org: the same seed gives the same accounts, contacts, events and tasks.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

/// `explicit`: the `--data` directory, which must be new or empty (the demo org lives in memory
/// and is made afresh on every start, so an old store would not match it).
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error(
        "{0} is not empty; the demo needs a new directory (leave out --data to use a fresh one)"
    )]
    NotEmpty(PathBuf),
    #[error("cannot start the Salesforce emulator: {0}")]
    Emulator(#[from] EmulatorError),
    #[error("cannot write the demo's settings: {0}")]
    Settings(std::io::Error),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Daemon(#[from] DaemonError),
    #[error(transparent)]
    App(#[from] AppError),
    #[error("the daemon did not start; see the message above")]
    DaemonDidNotStart,
    #[error("the daemon did not start within 30 seconds")]
    DaemonTooSlow,
    #[error("the daemon stopped: {0}")]
    DaemonStopped(tokio::task::JoinError),
    #[error("the first sync run failed; see above")]
    FirstRunFailed,
}

pub async fn run(explicit: Option<PathBuf>, args: DemoArgs) -> Result<(), DemoError> {
    let dir = match explicit {
        Some(dir) => dir,
        None => std::env::temp_dir().join(format!("tandem-demo-{}", std::process::id())),
    };
    if std::fs::read_dir(&dir).is_ok_and(|mut entries| entries.next().is_some()) {
        return Err(DemoError::NotEmpty(dir));
    }
    let emulator = Emulator::start(EmulatorConfig {
        seed: Some(args.seed),
        ..EmulatorConfig::default()
    })
    .await?;
    write_settings(&dir, &emulator)?;
    say(&format!(
        "Demo org: Salesforce emulator at {} (seed {}); data in {}\n",
        emulator.base_url(),
        args.seed,
        dir.display()
    ));
    let serve = tokio::spawn({
        let dir = dir.clone();
        async move {
            daemon::serve(
                &dir,
                ServeOptions {
                    listen: args.listen,
                    tls_cert: None,
                    tls_key: None,
                    user: None,
                    password: None,
                },
            )
            .await
        }
    });
    let client = wait_for_daemon(&dir, &serve).await?;
    for command in [
        SyncCommand::Preview {
            details: false,
            all: false,
            json: false,
        },
        SyncCommand::Apply {
            items: Vec::new(),
            json: false,
        },
    ] {
        let Output {
            stdout,
            stderr,
            code,
        } = {
            let command = StoreCommand::Sync { command };
            match client.call(&command.request()).await {
                Ok(reply) => command.format(&reply),
                Err(e) => Output::error(e),
            }
        };
        say(&stdout);
        let _ = std::io::Write::write_all(&mut std::io::stderr(), stderr.as_bytes());
        if code != 0 && !stderr.is_empty() {
            return Err(DemoError::FirstRunFailed);
        }
    }
    let (user, password) = config::ensure_server_credentials(&dir)?;
    say(&format!(
        "\nConnect a CalDAV/CardDAV client to {} with user {user} and password {password}.\n\
         Try `tandem --data {} sync preview` after editing on either side. Ctrl-C stops the demo.\n",
        client.dav_url(),
        dir.display()
    ));
    let result = serve.await.map_err(DemoError::DaemonStopped)?;
    emulator.shutdown().await;
    Ok(result?)
}

/// Print without panicking when whoever started the demo stopped reading: the demo keeps
/// serving regardless, like the daemon does.
fn say(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
}

fn write_settings(
    dir: &Path,
    emulator: &tandem_salesforce_emulator::EmulatorHandle,
) -> Result<(), DemoError> {
    std::fs::create_dir_all(dir).map_err(DemoError::Settings)?;
    let text = format!(
        "# Written by `tandem demo`: the local Salesforce emulator's demo org.\n\
         [salesforce]\n\
         login_url = \"{url}\"\n\
         instance_url = \"{url}\"\n\
         client_id = \"{id}\"\n\
         client_secret = \"{secret}\"\n\
         refresh_token = \"{token}\"\n",
        url = emulator.base_url(),
        id = emulator.client_id(),
        secret = emulator.client_secret(),
        token = emulator.initial_refresh_token(),
    );
    config::write_private(&dir.join(SETTINGS_FILE), text.as_bytes()).map_err(DemoError::Settings)
}

/// The daemon announces itself once it serves; until then, or until it fails to start, wait.
async fn wait_for_daemon(
    dir: &Path,
    serve: &tokio::task::JoinHandle<Result<(), DaemonError>>,
) -> Result<daemon::Client, DemoError> {
    for _ in 0..600 {
        if let Some(client) = daemon::Client::discover(dir).await {
            return Ok(client);
        }
        if serve.is_finished() {
            return Err(DemoError::DaemonDidNotStart);
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    Err(DemoError::DaemonTooSlow)
}
