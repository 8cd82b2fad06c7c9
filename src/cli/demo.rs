//! `tandem demo`: everything on one machine without an org — the Salesforce emulator with a
//! seeded demo org kept beside the store, the daemon (CalDAV/CardDAV server, review app, local
//! API, automatic runs), and the first sync reviewed, waiting to be applied in the review app (or
//! with `tandem sync apply`); run again on the same directory, it resumes with the org and the
//! store as they were.

use crate::app::{
    AppError, NotesSignInArgs, OutlookSignIn, OutlookSignInArgs, Reply, Request, RunReport, count,
};
use crate::cli::sync::planned;
use crate::config::{self, ConfigError, SETTINGS_FILE};
use crate::daemon::{self, DaemonError, ServeOptions};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use tandem_domino_emulator::{DominoEmulator, DominoHandle};
use tandem_graph_emulator::{DEFAULT_CLIENT_ID, GraphEmulator, GraphHandle};
use tandem_salesforce_emulator::{
    DEFAULT_API_VERSION, Emulator, EmulatorConfig, EmulatorError, EmulatorHandle, Snapshot,
    SnapshotError,
};

/// The emulator's org, kept beside the store: its presence makes a directory the demo's own.
pub const ORG_FILE: &str = "demo-org.json";

#[derive(clap::Args, Debug)]
pub struct DemoArgs {
    /// Address of the CalDAV/CardDAV server.
    #[arg(long, default_value = "127.0.0.1:5232")]
    pub listen: SocketAddr,
    /// Seed of a new demo org: the same seed gives the same accounts, contacts, events and tasks
    /// [default: 1]. A resumed demo keeps the org it has.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Also an Outlook mailbox, in the Graph emulator, signed in to as a user would (with a
    /// device code): Outlook joins the sync as a third side. The mailbox lives as long as this
    /// demo runs, so only a new demo has it.
    #[arg(long)]
    pub outlook: bool,
    /// Also a Notes mail file, in the Domino REST API emulator, logged in to as a user would
    /// (`tandem login notes`): Notes joins the sync as a side of its own. The mail file lives
    /// as long as this demo runs, so only a new demo has it.
    #[arg(long)]
    pub notes: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error(
        "{} holds something other than a tandem demo (there is no {ORG_FILE} in it); give the demo a new directory, or one an earlier demo made",
        .0.display()
    )]
    NotADemo(PathBuf),
    #[error(
        "{} holds the demo org of seed {kept}, not {asked}; leave out --seed to resume it, or give another --data directory for a new org",
        dir.display()
    )]
    SeedDiffers { dir: PathBuf, kept: u64, asked: u64 },
    #[error("cannot find a home directory for the demo's data; pass --data DIR")]
    NoHome,
    #[error("cannot make the demo's directory {}: {source}", dir.display())]
    Dir {
        dir: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Org(#[from] SnapshotError),
    #[error("cannot start the Salesforce emulator: {0}")]
    Emulator(#[from] EmulatorError),
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
    #[error("the demo's review failed: {0}")]
    ReviewFailed(String),
    #[error(
        "the demo's Outlook mailbox lives only as long as the demo that made it: start a new demo with --outlook (`tandem demo --outlook --data NEW_DIR`)"
    )]
    OutlookOnResume,
    #[error(
        "the demo's Notes mail file lives only as long as the demo that made it: start a new demo with --notes (`tandem demo --notes --data NEW_DIR`)"
    )]
    NotesOnResume,
    #[error("cannot start the Domino emulator: {0}")]
    DominoEmulator(String),
    #[error("cannot start the Graph emulator: {0}")]
    GraphEmulator(String),
}

/// Where the demo lives without `--data`: a directory of its own, never the real store's, so
/// that `tandem demo` again resumes it.
fn default_dir() -> Result<PathBuf, DemoError> {
    directories::ProjectDirs::from("", "", "tandem-demo")
        .map(|dirs| dirs.data_dir().to_path_buf())
        .ok_or(DemoError::NoHome)
}

pub async fn run(explicit: Option<PathBuf>, args: DemoArgs) -> Result<(), DemoError> {
    let dir = match explicit {
        Some(dir) => dir,
        None => default_dir()?,
    };
    let org_file = dir.join(ORG_FILE);
    let kept = Snapshot::read(&org_file)?;
    let seed = match (&kept, args.seed) {
        (None, asked) => {
            if std::fs::read_dir(&dir).is_ok_and(|mut entries| entries.next().is_some()) {
                return Err(DemoError::NotADemo(dir));
            }
            asked.unwrap_or(1)
        }
        (Some(kept), Some(asked)) if kept.seed != Some(asked) => {
            return Err(DemoError::SeedDiffers {
                dir,
                kept: kept.seed.unwrap_or(0),
                asked,
            });
        }
        (Some(kept), _) => kept.seed.unwrap_or(0),
    };
    let resuming = kept.is_some();
    drop(kept);
    crate::store::create_private_dir(&dir).map_err(|source| DemoError::Dir {
        dir: dir.clone(),
        source,
    })?;
    let mut config = EmulatorConfig {
        seed: Some(seed),
        org_file: Some(org_file),
        listen: previous_address(&dir),
        ..EmulatorConfig::default()
    };
    // A resumed org listens where it did before when it can, so the URLs the user has still work.
    let emulator = match Emulator::start(config.clone()).await {
        Err(EmulatorError::Bind { .. }) if config.listen.is_some() => {
            config.listen = None;
            Emulator::start(config.clone()).await?
        }
        started => started?,
    };
    connect(&dir, &emulator)?;
    let outlook = match (args.outlook, resuming) {
        (true, true) => return Err(DemoError::OutlookOnResume),
        (true, false) => Some(outlook_mailbox(&dir).await?),
        (false, _) => {
            // A mailbox of an earlier run is gone with it: no run should look for it.
            sign_out_of_outlook(&dir)?;
            None
        }
    };
    let notes = match (args.notes, resuming) {
        (true, true) => return Err(DemoError::NotesOnResume),
        (true, false) => Some(notes_mail_file(&dir).await?),
        (false, _) => {
            sign_out_of_notes(&dir)?;
            None
        }
    };
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
                    quiet: true,
                    hide_password: false,
                },
            )
            .await
        }
    });
    let client = wait_for_daemon(&dir, &serve).await?;
    let preview = run_report(client.call(&Request::Preview).await?)?;
    if let Some((side, why)) = preview.record.iter().flat_map(|r| &r.unreachable).next() {
        return Err(DemoError::ReviewFailed(format!(
            "{} could not be reached: {why}",
            side.title()
        )));
    }
    let data = format!("--data {}", dir.display());
    say(&if resuming {
        format!(
            "Resumed the demo in {}: the demo org (seed {seed}) and the store as they were.\n",
            dir.display()
        )
    } else {
        format!(
            "New demo in {}: a demo org of seed {seed} in the Salesforce emulator, and a fresh store.\n",
            dir.display()
        )
    });
    say(&waiting(&preview));
    let (user, password) = config::ensure_server_credentials(&dir)?;
    say(&format!(
        "\nConnect a CalDAV/CardDAV client to {} with user {user} and password {password}.\n",
        client.dav_url()
    ));
    say(&org_access(&emulator, &config));
    if let Some(graph) = &outlook {
        say(&format!(
            "The Outlook mailbox (Graph emulator) is at {}/v1.0/me, signed in as the demo user.\n",
            graph.base_url()
        ));
    }
    if let Some(domino) = &notes {
        say(&format!(
            "The Notes mail file (Domino REST API emulator) is at {}/api, logged in to as {NOTES_USER}.\n",
            domino.base_url()
        ));
    }
    say(&format!(
        "\nIn a terminal: `tandem {data} sync preview` reviews, `… sync apply` carries it out, `… sync status`,\n\
         `… history ITEM` and `… blame ITEM` show what happened. Ctrl-C stops the demo; `tandem demo{}` resumes it.\n",
        if dir == default_dir().unwrap_or_default() {
            String::new()
        } else {
            format!(" {data}")
        }
    ));
    say(&format!(
        "Open the review app (this link signs you in once): {}\n",
        client.sign_in_link().await?
    ));
    let result = serve.await.map_err(DemoError::DaemonStopped)?;
    emulator.shutdown().await;
    drop(outlook);
    drop(notes);
    Ok(result?)
}

/// What the review of the demo's sync found, in a few lines.
fn waiting(preview: &RunReport) -> String {
    let items = preview.plan.items.iter().filter(|i| i.runs()).count();
    if items == 0 {
        return "Both sides are in step.\n".to_string();
    }
    format!(
        "{} for review; nothing is written until you apply it:\n{}",
        count(items, "item waits", "items wait"),
        planned(&preview.plan)
    )
}

/// How to reach the demo org as a Salesforce user would: its REST API, with the credentials the
/// emulator's connected app accepts.
fn org_access(emulator: &EmulatorHandle, config: &EmulatorConfig) -> String {
    let url = emulator.base_url();
    format!(
        "The demo org is the Salesforce REST API at {url} (user {user}); edit it as you would an org:\n  \
         curl -s {url}/services/oauth2/token -d grant_type=refresh_token -d client_id={id} -d client_secret={secret} -d refresh_token={token}\n  \
         curl -s -H \"Authorization: Bearer ACCESS_TOKEN\" '{url}/services/data/v{DEFAULT_API_VERSION}/query?q=SELECT+Id,Name,Email+FROM+Contact'\n",
        user = config.username,
        id = emulator.client_id(),
        secret = emulator.client_secret(),
        token = emulator.initial_refresh_token(),
    )
}

/// The run report of a preview or apply reply.
fn run_report(reply: Reply) -> Result<RunReport, DemoError> {
    match reply {
        Reply::Run(report) => Ok(report),
        other => Err(DemoError::ReviewFailed(format!(
            "the daemon answered {other:?} instead of a run"
        ))),
    }
}

/// Print without panicking when whoever started the demo stopped reading: the demo keeps
/// serving regardless, like the daemon does.
fn say(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
}

/// Where the demo's emulator listened last time: the address in the URL `connect` wrote.
fn previous_address(dir: &Path) -> Option<SocketAddr> {
    let settings = config::Settings::load(dir).ok()?;
    settings
        .salesforce
        .login_url
        .strip_prefix("http://")?
        .parse()
        .ok()
}

/// Point the settings at the emulator (a resumed demo's emulator listens on a new port), keeping
/// everything else in the file.
fn connect(dir: &Path, emulator: &EmulatorHandle) -> Result<(), DemoError> {
    let path = dir.join(SETTINGS_FILE);
    if !path.exists() {
        config::write_private(
            &path,
            b"# Written by `tandem demo`: the local Salesforce emulator's demo org.\n[salesforce]\n\n\
              # The demo's tokens are the emulators' and its directory a throwaway: they stay\n\
              # here, out of the OS keychain.\n[secrets]\nstore = \"file\"\n",
        )
        .map_err(|source| ConfigError::Write {
            path: path.clone(),
            source,
        })?;
    }
    let url = emulator.base_url();
    let (id, secret, token) = (
        emulator.client_id(),
        emulator.client_secret(),
        emulator.initial_refresh_token(),
    );
    config::set(
        &path,
        "salesforce",
        &[
            ("login_url", Some(&url)),
            ("instance_url", Some(&url)),
            ("client_id", Some(&id)),
            ("client_secret", Some(&secret)),
            ("refresh_token", Some(&token)),
            // The demo org has tandem's external-id field, as an org set up for tandem does:
            // creates are upserts, and a series' moved occurrences are detached (see the README).
            ("external_id_field", Some("Tandem_Id__c")),
        ],
    )?;
    Ok(())
}

/// A mailbox with a few contacts, events and tasks in the Graph emulator, and tandem signed
/// in to it the way a user without a browser signs in: a device code, entered (here, by the
/// demo itself) on the emulated sign-in page.
async fn outlook_mailbox(dir: &Path) -> Result<GraphHandle, DemoError> {
    let graph = GraphEmulator::start()
        .await
        .map_err(|e| DemoError::GraphEmulator(e.to_string()))?;
    graph
        .seed(12, 10, 6)
        .map_err(|e| DemoError::GraphEmulator(e.to_string()))?;
    sign_in_to_mailbox(&graph, dir).await?;
    Ok(graph)
}

/// `tandem login outlook --device-code` against the Graph emulator, the code entered on its
/// sign-in page at once: `dir`'s settings file holds the refresh token afterwards. The demo's
/// sign-in, and the tests' and benchmark's.
pub async fn sign_in_to_mailbox(graph: &GraphHandle, dir: &Path) -> Result<(), DemoError> {
    // The sign-in polls the token endpoint without waiting between polls.
    graph.device_code_interval(0);
    let sign_in = OutlookSignIn::prepare(
        dir,
        &OutlookSignInArgs {
            login_url: Some(graph.base_url()),
            graph_url: Some(graph.base_url()),
            client_id: Some(DEFAULT_CLIENT_ID.into()),
            ..OutlookSignInArgs::default()
        },
    )?;
    let code = sign_in.device_code().await?;
    graph
        .approve_device_code(&code.user_code)
        .map_err(|e| DemoError::GraphEmulator(e.to_string()))?;
    sign_in.finish_device(&code).await?;
    Ok(())
}

/// The Notes user the demo's mail file belongs to.
const NOTES_USER: &str = "Ann Lee";

/// A mail file with contacts (half of them in the CRM category), calendar entries and to-dos
/// in the Domino emulator, and tandem logged in to it as `tandem login notes` does.
async fn notes_mail_file(dir: &Path) -> Result<DominoHandle, DemoError> {
    let domino = DominoEmulator::start()
        .await
        .map_err(|e| DemoError::DominoEmulator(e.to_string()))?;
    domino.seed(12, 10, 6);
    log_in_to_mail_file(&domino, dir).await?;
    Ok(domino)
}

/// `tandem login notes` against the Domino emulator, as the demo user: `dir`'s settings file
/// holds the account afterwards. The demo's login, and the tests' and benchmark's.
pub async fn log_in_to_mail_file(domino: &DominoHandle, dir: &Path) -> Result<(), DemoError> {
    let password = "demo-password";
    domino.add_user(NOTES_USER, password, "CN=Ann Lee/O=Demo");
    crate::app::notes_sign_in(
        dir,
        &NotesSignInArgs {
            url: Some(domino.base_url()),
            username: Some(NOTES_USER.into()),
            password: Some(password.into()),
            data_source: None,
        },
    )
    .await?;
    Ok(())
}

/// Forget the Notes account of an earlier demo run.
fn sign_out_of_notes(dir: &Path) -> Result<(), DemoError> {
    let path = dir.join(SETTINGS_FILE);
    if config::Settings::load(dir)?.notes.password.is_some() {
        config::set(&path, "notes", &[("password", None)])?;
    }
    Ok(())
}

/// Forget the Outlook sign-in of an earlier demo run.
fn sign_out_of_outlook(dir: &Path) -> Result<(), DemoError> {
    let path = dir.join(SETTINGS_FILE);
    if config::Settings::load(dir)?.outlook.refresh_token.is_some() {
        config::set(&path, "outlook", &[("refresh_token", None)])?;
    }
    Ok(())
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
