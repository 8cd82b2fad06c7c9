//! The commands that work on the store, and `ingest`. Each becomes an `app::Request`, answered
//! by the running daemon or by an `App` on the store opened here — the same code either way —
//! and its typed reply is formatted for the terminal.

use super::{audit, sync};
use crate::app::{App, AppError, Point, Reply, Request, count};
use crate::daemon;
use crate::store::{Ack, Draft};
use clap::Subcommand;
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;
use std::path::Path;
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
        /// Print it as one JSON document (for scripts).
        #[arg(long)]
        json: bool,
    },
    /// For each field of a record: its value, and which event and side set it, when.
    Blame {
        /// The record: tandem id, UID, DAV href or Salesforce id.
        record: String,
        /// Print it as one JSON document (for scripts).
        #[arg(long)]
        json: bool,
    },
    /// Bring a record (also a deleted one) back to an earlier state, by appending new events.
    Restore {
        /// The record: tandem id, UID, DAV href or Salesforce id.
        record: String,
        /// The point to go back to: a log position (#42) or a time (2026-11-21T10:00:00Z).
        #[arg(long)]
        at: Point,
    },
    /// Sync with Salesforce: preview, apply, ignore, status.
    Sync {
        #[command(subcommand)]
        command: sync::SyncCommand,
    },
    /// The events of the log, in order.
    Log {
        /// Start at a log position (#42) or a time.
        #[arg(long)]
        since: Option<Point>,
        /// Show at most this many events.
        #[arg(long)]
        limit: Option<usize>,
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
    },
}

/// What a command prints, and how it exits.
#[derive(Clone, Debug, Default, PartialEq)]
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

impl StoreCommand {
    pub fn request(&self) -> Request {
        match self {
            StoreCommand::Replay { .. } => Request::Verify,
            StoreCommand::History { record, .. } => Request::History {
                record: record.clone(),
            },
            StoreCommand::Blame { record, .. } => Request::Blame {
                record: record.clone(),
            },
            StoreCommand::Restore { record, at } => Request::Restore {
                record: record.clone(),
                at: at.clone(),
            },
            StoreCommand::Sync { command } => command.request(),
            StoreCommand::Log { since, limit, .. } => Request::Log {
                since: since.clone(),
                limit: *limit,
            },
        }
    }

    /// The reply as this command prints it.
    pub fn format(&self, reply: &Reply) -> Output {
        use sync::SyncCommand as S;
        match (self, reply) {
            (StoreCommand::Replay { .. }, Reply::Verified(v)) => verified(v),
            (StoreCommand::History { json, .. }, Reply::History(h)) => {
                Output::ok(audit::history(h, *json))
            }
            (StoreCommand::Blame { json, .. }, Reply::Blame(b)) => {
                Output::ok(audit::blame(b, *json))
            }
            (StoreCommand::Restore { .. }, Reply::Restored(r)) => Output::ok(audit::restored(r)),
            (StoreCommand::Log { json, .. }, Reply::Log(events)) => {
                Output::ok(audit::log(events, *json))
            }
            (StoreCommand::Sync { command }, reply) => match (command, reply) {
                (S::Preview { details, all, json }, Reply::Run(report)) => {
                    let (stdout, read) = sync::previewed(report, *details, *all, *json);
                    Output {
                        stdout,
                        code: u8::from(!read),
                        ..Output::default()
                    }
                }
                (S::Apply { json, .. }, Reply::Run(report)) => {
                    let (stdout, failed) = sync::applied(report, *json);
                    Output {
                        stdout,
                        // 130, as for a command interrupted by Ctrl-C.
                        code: if report.halted { 130 } else { u8::from(failed) },
                        ..Output::default()
                    }
                }
                (S::Ignore { .. }, Reply::Ignored(ignored)) => Output::ok(sync::ignored(ignored)),
                (S::Status { json }, Reply::Status(status)) => {
                    Output::ok(sync::status(status, *json))
                }
                _ => unexpected(),
            },
            _ => unexpected(),
        }
    }

    /// Ask the daemon serving `dir`, or open the store here, and format what comes back. A run
    /// (preview, apply) stops at its next safe point on Ctrl-C, and at once on a second one.
    pub async fn run(&self, dir: &Path, progress: bool) -> Output {
        let request = self.request();
        let daemon = daemon::Client::discover(dir).await.map(std::sync::Arc::new);
        let interruptible = matches!(request, Request::Preview | Request::Apply { .. });
        let watcher = interruptible.then(|| tokio::spawn(halt_on_ctrl_c(daemon.clone())));
        let reply = match &daemon {
            Some(daemon) => daemon.call(&request).await,
            None => local(dir, request, progress).await,
        };
        if let Some(watcher) = watcher {
            watcher.abort();
        }
        match reply {
            Ok(reply) => self.format(&reply),
            Err(e) => Output::error(e),
        }
    }
}

/// The first Ctrl-C asks the run to stop at a safe point (the daemon's run, or this process's);
/// a second one ends the process at once — the log never holds half a step either way.
async fn halt_on_ctrl_c(daemon: Option<std::sync::Arc<daemon::Client>>) {
    if tokio::signal::ctrl_c().await.is_err() {
        return;
    }
    eprintln!("tandem: finishing the step in flight… (Ctrl-C again stops at once)");
    match &daemon {
        Some(daemon) => {
            let _ = daemon.call(&Request::Halt).await;
        }
        None => {
            crate::app::halt_run();
        }
    }
    if tokio::signal::ctrl_c().await.is_ok() {
        eprintln!("tandem: stopped");
        std::process::exit(130);
    }
}

fn unexpected() -> Output {
    Output::error(AppError::Unexpected)
}

/// Answer a request on the store of `dir`, opened here (no daemon holds it).
async fn local(dir: &Path, request: Request, progress: bool) -> Result<Reply, AppError> {
    let app = App::open(dir, request.access())?;
    let bar = (progress && matches!(request, Request::Apply { .. })).then(|| {
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} steps {elapsed}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    });
    let report = |done: u64, total: u64| {
        if let Some(bar) = &bar {
            bar.set_length(total);
            bar.set_position(done);
        }
    };
    let reply = app.handle(request, &report).await;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let closed = app.close().await;
    let reply = reply?;
    closed?;
    Ok(reply)
}

fn verified(v: &crate::app::Verified) -> Output {
    let mut out = String::new();
    if v.differences.is_empty() {
        let _ = writeln!(
            out,
            "replay verified: {} rebuilt {}, identical byte for byte",
            count(v.events, "event", "events"),
            count(v.rows, "projection row", "projection rows")
        );
        return Output::ok(out);
    }
    let _ = writeln!(
        out,
        "replay found {} between the projections and the log ({}):",
        count(v.differences.len(), "difference", "differences"),
        count(v.events, "event", "events")
    );
    for d in v.differences.iter().take(50) {
        let _ = writeln!(out, "  {:<14} {:?} {}", d.table, d.kind, d.key);
    }
    Output {
        stdout: out,
        stderr: "tandem: the projections do not follow from the log; please report this, then rebuild the store from its log\n".into(),
        code: 2,
    }
}

/// `tandem ingest`: JSON-lines drafts in, one acknowledgement line out per durable event, in
/// input order. A line that cannot be parsed or is refused is reported on stderr with its line
/// number and changes nothing; the other lines go on.
pub async fn ingest(dir: &Path) -> Result<(), IngestError> {
    enum Sink {
        Daemon(daemon::Client),
        Local(Box<App>),
    }
    let sink = match daemon::Client::discover(dir).await {
        Some(client) => Sink::Daemon(client),
        None => Sink::Local(Box::new(App::create(dir)?)),
    };
    /// What becomes of one input line: its acknowledgement, or why it was refused.
    enum Line {
        Ack(String),
        Refused(String),
    }
    type Pending = tokio::task::JoinHandle<Line>;
    let (queue, mut acks) = tokio::sync::mpsc::channel::<(usize, Pending)>(256);
    let printer = tokio::spawn(async move {
        let mut stdout = tokio::io::stdout();
        let mut failures = 0usize;
        while let Some((line, pending)) = acks.recv().await {
            match pending
                .await
                .unwrap_or_else(|e| Line::Refused(e.to_string()))
            {
                Line::Ack(ack) => {
                    let _ = stdout.write_all(format!("{ack}\n").as_bytes()).await;
                    let _ = stdout.flush().await;
                }
                Line::Refused(message) => {
                    failures += 1;
                    eprintln!("tandem: line {line}: {message}");
                }
            }
        }
        failures
    });
    let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
    let mut number = 0;
    while let Some(line) = lines.next_line().await.map_err(IngestError::Stdin)? {
        number += 1;
        if line.trim().is_empty() {
            continue;
        }
        let pending: Pending = match serde_json::from_str::<Draft>(&line)
            .map_err(|e| format!("not a valid event draft: {e}"))
            .and_then(|draft| {
                crate::app::from_a_side(&draft)
                    .map(|()| draft)
                    .map_err(|e| e.to_string())
            }) {
            Err(message) => tokio::spawn(async move { Line::Refused(message) }),
            Ok(draft) => match &sink {
                // The daemon's API answers one request at a time per connection.
                Sink::Daemon(client) => {
                    let line = match client
                        .call(&Request::Append {
                            draft: Box::new(draft),
                        })
                        .await
                    {
                        Ok(Reply::Appended(ack)) => Line::Ack(ack_line(number, &ack)),
                        Ok(_) => Line::Refused(AppError::Unexpected.to_string()),
                        Err(e) => Line::Refused(e.to_string()),
                    };
                    tokio::spawn(async move { line })
                }
                // Locally, many appends are in flight at once and share the writer's commits;
                // submitting here, in line order, keeps the log in input order.
                Sink::Local(app) => {
                    let writer = app.writer.as_ref().ok_or(AppError::ReadOnly)?;
                    let ack = writer.submit(draft).await.map_err(AppError::from)?;
                    tokio::spawn(async move {
                        match ack.await {
                            Ok(ack) => Line::Ack(ack_line(number, &ack)),
                            Err(e) => Line::Refused(e.to_string()),
                        }
                    })
                }
            },
        };
        if queue.send((number, pending)).await.is_err() {
            break;
        }
    }
    drop(queue);
    let failures = printer.await.unwrap_or(usize::MAX);
    if let Sink::Local(app) = sink {
        app.close().await?;
    }
    if failures > 0 {
        return Err(IngestError::Refused(failures));
    }
    Ok(())
}

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error(transparent)]
    App(#[from] AppError),
    #[error("reading standard input: {0}")]
    Stdin(std::io::Error),
    #[error("{} refused; the others were appended", crate::app::count(*.0, "line was", "lines were"))]
    Refused(usize),
}

fn ack_line(line: usize, ack: &Ack) -> String {
    let mut value = serde_json::to_value(ack).unwrap_or_default();
    value["line"] = serde_json::json!(line);
    value.to_string()
}
