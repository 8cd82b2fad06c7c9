//! The commands that work on the store, and `ingest`. Each produces an `Output` instead of
//! printing, so the daemon can run it for a client and send back exactly what it would print.

use super::audit;
use super::timeref::TimeRef;
use crate::config::Settings;
use crate::daemon;
use crate::store::system_clock;
use crate::store::{Access, Store, read, replay};
use crate::store::{Draft, Writer};
use clap::Subcommand;
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt};

#[derive(Subcommand, Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum StoreCommand {
    /// Rebuild every projection from the log alone and compare (exits non-zero on a difference).
    Replay {
        /// Compare the rebuilt projections with the live ones, byte for byte.
        #[arg(long, required = true)]
        verify: bool,
    },
    /// Every event that touched a record: time, origin, fields before and after, conflicts.
    History {
        /// The record: tandem id, UID, DAV href or Salesforce id.
        record: String,
        #[arg(long)]
        json: bool,
    },
    /// For each field of a record: its value, and which event and side set it, when.
    Blame {
        /// The record: tandem id, UID, DAV href or Salesforce id.
        record: String,
        #[arg(long)]
        json: bool,
    },
    /// Bring a record (also a deleted one) back to an earlier state, by appending new events.
    Restore {
        /// The record: tandem id, UID, DAV href or Salesforce id.
        record: String,
        /// The point to go back to: a log position (#42) or a time (2026-11-21T10:00:00Z).
        #[arg(long)]
        at: TimeRef,
    },
    /// Sync with Salesforce: preview, apply, ignore, status.
    Sync {
        #[command(subcommand)]
        command: super::sync::SyncCommand,
    },
    /// The events of the log, in order.
    Log {
        /// Start at a log position (#42) or a time.
        #[arg(long)]
        since: Option<TimeRef>,
        /// Show at most this many events.
        #[arg(long)]
        limit: Option<usize>,
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
    },
}

/// What a command prints, and how it exits.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Output {
    pub stdout: String,
    pub stderr: String,
    pub code: u8,
}

impl Output {
    pub fn ok(stdout: String) -> Output {
        Output {
            stdout,
            ..Output::default()
        }
    }

    pub fn error(message: impl std::fmt::Display) -> Output {
        Output {
            stderr: format!("tandem: {message}\n"),
            code: 1,
            ..Output::default()
        }
    }
}

/// What a command needs: the store, its writer (for commands that append), the settings.
pub struct Context {
    pub dir: PathBuf,
    pub store: Arc<Store>,
    pub writer: Option<Writer>,
    pub settings: Settings,
    /// Draw progress bars (a person at a terminal, not the daemon answering a client).
    pub progress: bool,
}

impl StoreCommand {
    /// Whether the command appends to the log; the others open the store read-only.
    pub fn access(&self) -> Access {
        match self {
            StoreCommand::Restore { .. } => Access::ReadWrite,
            StoreCommand::Sync { command } if command.writes() => Access::ReadWrite,
            _ => Access::ReadOnly,
        }
    }
}

impl Context {
    /// Open an existing store directly (no daemon is running).
    pub fn open(dir: &Path, access: Access) -> Result<Context, String> {
        let settings = Settings::load(dir).map_err(|e| e.to_string())?;
        let store = Arc::new(Store::open_existing(dir, access).map_err(|e| e.to_string())?);
        let writer = match access {
            Access::ReadOnly => None,
            Access::ReadWrite => Some(
                Writer::spawn(store.clone(), settings.policies(), system_clock())
                    .map_err(|e| e.to_string())?,
            ),
        };
        Ok(Context {
            dir: dir.to_path_buf(),
            store,
            writer,
            settings,
            progress: true,
        })
    }

    /// Finish appending and close the store cleanly.
    pub async fn close(self) {
        if let Some(writer) = self.writer {
            writer.close().await;
        }
    }
}

pub async fn execute(command: &StoreCommand, context: &Context) -> Output {
    let result = match command {
        StoreCommand::Replay { .. } => replay_verify(context),
        StoreCommand::History { record, json } => audit::history(context, record, *json),
        StoreCommand::Blame { record, json } => audit::blame(context, record, *json),
        StoreCommand::Restore { record, at } => audit::restore(context, record, at).await,
        StoreCommand::Log { since, limit, json } => log(context, since.as_ref(), *limit, *json),
        StoreCommand::Sync { command } => super::sync::execute(command, context).await,
    };
    result.unwrap_or_else(|e| e)
}

fn replay_verify(context: &Context) -> Result<Output, Output> {
    let scratch = context
        .dir
        .join(format!(".replay-{}.redb", std::process::id()));
    let _ = std::fs::remove_file(&scratch);
    let result = replay::verify(&context.store, context.settings.policies(), &scratch);
    let _ = std::fs::remove_file(&scratch);
    let verification = result.map_err(Output::error)?;
    let mut out = String::new();
    if verification.differences.is_empty() {
        let _ = writeln!(
            out,
            "replay verified: {} events rebuilt {} projection rows, identical byte for byte",
            verification.events, verification.rows
        );
        return Ok(Output::ok(out));
    }
    let _ = writeln!(
        out,
        "replay found {} difference(s) between the projections and the log ({} events):",
        verification.differences.len(),
        verification.events
    );
    for d in verification.differences.iter().take(50) {
        let _ = writeln!(out, "  {:<14} {:?} {}", d.table, d.kind, d.key);
    }
    Err(Output {
        stdout: out,
        stderr: "tandem: the projections do not follow from the log; please report this, then rebuild the store from its log\n".into(),
        code: 2,
    })
}

fn log(
    context: &Context,
    since: Option<&TimeRef>,
    limit: Option<usize>,
    json: bool,
) -> Result<Output, Output> {
    let txn = context.store.read().map_err(Output::error)?;
    let from = match since {
        None => 1,
        Some(TimeRef::Seq(n)) => *n,
        Some(TimeRef::Time(t)) => read::first_seq_since(&txn, tandem_protocol::Hlc::at(*t))
            .map_err(Output::error)?
            .unwrap_or(u64::MAX),
    };
    let events = read::events_from(&txn, from).map_err(Output::error)?;
    let mut out = String::new();
    for (seq, event) in events.iter().take(limit.unwrap_or(usize::MAX)) {
        if json {
            let line = serde_json::json!({ "seq": seq, "event": event });
            let _ = writeln!(out, "{line}");
        } else {
            let _ = writeln!(out, "{}", audit::log_line(*seq, event));
        }
    }
    Ok(Output::ok(out))
}

/// `tandem ingest`: JSON-lines drafts in, one acknowledgement line out per durable event, in
/// input order. A line that cannot be parsed or is refused is reported on stderr with its line
/// number and changes nothing; the other lines go on.
pub async fn ingest(dir: &Path) -> Result<(), String> {
    enum Sink {
        Daemon(daemon::Client),
        Local(Writer),
    }
    let sink = match daemon::Client::discover(dir).await {
        Some(client) => Sink::Daemon(client),
        None => {
            let settings = Settings::load(dir).map_err(|e| e.to_string())?;
            let store = Arc::new(Store::open_or_create(dir).map_err(|e| e.to_string())?);
            Sink::Local(
                Writer::spawn(store, settings.policies(), system_clock())
                    .map_err(|e| e.to_string())?,
            )
        }
    };
    type Pending = tokio::task::JoinHandle<Result<String, String>>;
    let (queue, mut acks) = tokio::sync::mpsc::channel::<(usize, Pending)>(256);
    let printer = tokio::spawn(async move {
        let mut stdout = tokio::io::stdout();
        let mut failures = 0usize;
        while let Some((line, pending)) = acks.recv().await {
            match pending.await.map_err(|e| e.to_string()).and_then(|r| r) {
                Ok(ack) => {
                    let _ = stdout.write_all(format!("{ack}\n").as_bytes()).await;
                    let _ = stdout.flush().await;
                }
                Err(message) => {
                    failures += 1;
                    eprintln!("tandem: line {line}: {message}");
                }
            }
        }
        failures
    });
    let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
    let mut number = 0;
    while let Some(line) = lines
        .next_line()
        .await
        .map_err(|e| format!("reading standard input: {e}"))?
    {
        number += 1;
        if line.trim().is_empty() {
            continue;
        }
        let pending: Pending = match serde_json::from_str::<Draft>(&line) {
            Err(e) => {
                let message = format!("not a valid event draft: {e}");
                tokio::spawn(async move { Err(message) })
            }
            Ok(draft) => match &sink {
                // The daemon's API answers one request at a time per connection.
                Sink::Daemon(client) => {
                    let result = client.append(&draft).await;
                    tokio::spawn(async move { result.map(|ack| ack_line(number, &ack)) })
                }
                // Locally, many appends are in flight at once and share the writer's commits;
                // submitting here, in line order, keeps the log in input order.
                Sink::Local(writer) => match writer.submit(draft).await {
                    Ok(ack) => tokio::spawn(async move {
                        ack.await
                            .map(|ack| ack_line(number, &ack))
                            .map_err(|e| e.to_string())
                    }),
                    Err(e) => return Err(e.to_string()),
                },
            },
        };
        if queue.send((number, pending)).await.is_err() {
            break;
        }
    }
    drop(queue);
    let failures = printer.await.map_err(|e| e.to_string())?;
    if let Sink::Local(writer) = sink {
        writer.close().await;
    }
    if failures > 0 {
        return Err(format!(
            "{failures} line(s) were refused; the others were appended"
        ));
    }
    Ok(())
}

fn ack_line(line: usize, ack: &crate::store::Ack) -> String {
    let mut value = serde_json::to_value(ack).unwrap_or_default();
    value["line"] = serde_json::json!(line);
    value.to_string()
}
