//! The use cases every front calls — sync preview, apply, ignore and status; history, blame,
//! restore and the log; replay; the settings; signing in to Salesforce; appending events — with
//! typed results under one error. The command line formats them, the daemon's local API sends
//! them as JSON, and the review app renders them: one behaviour, three fronts.
//!
//! A front builds a [`Request`] and gets a [`Reply`], either from an [`App`] on the store it
//! opened itself or from the running daemon, which owns the store and answers the same request
//! with the same code.

mod advice;
mod audit;
mod error;
mod notes_signin;
mod outlook_signin;
mod point;
mod request;
mod settings;
mod signin;
mod sync;

pub use crate::engine::sync::{InFlight, Pulled, RunReport};
pub use advice::advice;
pub use audit::{
    Blame, BlameLine, ConflictNote, EXISTS, FieldChange, Found, History, HistoryEntry, Restored,
    describe,
};
pub use error::AppError;
pub use notes_signin::{
    NotesSignInArgs, NotesSignedIn, reach_text as notes_reach_text, sign_in as notes_sign_in,
};
pub use outlook_signin::{OutlookSignIn, OutlookSignInArgs};
pub use point::Point;
pub use request::{Ignoring, Logged, Reply, Request, Verified};
pub use settings::{FieldError, SettingsView};
pub use signin::{JwtSignIn, SignInArgs, SignedIn, WebSignIn, sign_out};
pub use sync::{Ignored, Status};

use crate::config::Settings;
use crate::engine::sync::{Reach, Selection, SyncEngine};
use crate::store::tail::Tail;
use crate::store::{
    Access, Projector, Store, WallClock, Writer, read, replay, system_clock, writer,
};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Ask the sync run in progress in this process to stop at its next safe point: the step in
/// flight finishes and is recorded, the rest waits for the next run. Whether one was running.
pub fn halt_run() -> bool {
    crate::engine::sync::halt_current_run()
}

/// The sync run in progress in this process, if one is, and how far it is.
pub fn in_flight() -> Option<InFlight> {
    crate::engine::sync::in_flight()
}

/// A count as a sentence says it: "1 step", "2 steps".
pub fn count<N: std::fmt::Display + PartialEq + From<u8>>(n: N, one: &str, many: &str) -> String {
    let word = if n == N::from(1) { one } else { many };
    format!("{n} {word}")
}

/// A store and what the use cases need around it.
#[derive(Clone)]
pub struct App {
    pub dir: PathBuf,
    pub store: Arc<Store>,
    /// The writer, for use cases that append; `None` on a store opened read-only.
    pub writer: Option<Writer>,
    pub settings: Settings,
    pub wall: WallClock,
    pub serving: Serving,
}

/// Who answers: a command on a store it opened, or the running daemon (whose automatic runs and
/// settings reloads happen only while it runs).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "by", rename_all = "snake_case")]
pub enum Serving {
    Local,
    Daemon {
        /// When the settings in force were read.
        settings_loaded_ms: i64,
        /// Why the settings file on disk is not in force, if it is not.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        settings_error: Option<String>,
        /// Changed settings that are read at start only and wait for a restart.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        awaiting_restart: Vec<String>,
    },
}

impl App {
    /// Open the existing store of a data directory (no daemon is running). A store of an older
    /// layout is brought up to date first, which writes to it even for a read.
    pub fn open(dir: &Path, access: Access) -> Result<App, AppError> {
        let settings = Settings::load(dir)?;
        let mut store = Store::open_existing(dir, access)?;
        if access == Access::ReadOnly && (store.needs_upgrade()? || Tail::pending(&store)?) {
            drop(store);
            let writable = Store::open_existing(dir, Access::ReadWrite)?;
            writer::prepare(&writable, &Projector::new(settings.policies()))?;
            drop(writable);
            store = Store::open_existing(dir, access)?;
        }
        let store = Arc::new(store);
        let writer = match access {
            Access::ReadOnly => None,
            Access::ReadWrite => Some(Writer::spawn(
                store.clone(),
                settings.policies(),
                system_clock(),
            )?),
        };
        Ok(App {
            dir: dir.to_path_buf(),
            store,
            writer,
            settings,
            wall: system_clock(),
            serving: Serving::Local,
        })
    }

    /// Open (or create) the store for appending: `tandem ingest` on a store no daemon holds.
    pub fn create(dir: &Path) -> Result<App, AppError> {
        let settings = Settings::load(dir)?;
        let store = Arc::new(Store::open_or_create(dir)?);
        let writer = Writer::spawn(store.clone(), settings.policies(), system_clock())?;
        Ok(App {
            dir: dir.to_path_buf(),
            store,
            writer: Some(writer),
            settings,
            wall: system_clock(),
            serving: Serving::Local,
        })
    }

    /// Finish appending and close the store cleanly.
    pub async fn close(self) -> Result<(), AppError> {
        if let Some(writer) = self.writer {
            writer.close().await?;
        }
        Ok(())
    }

    fn writer(&self) -> Result<&Writer, AppError> {
        self.writer.as_ref().ok_or(AppError::ReadOnly)
    }

    /// A sync engine on this store, reaching Salesforce with the settings' credentials.
    pub fn engine(&self) -> Result<SyncEngine, AppError> {
        Ok(SyncEngine {
            store: self.store.clone(),
            writer: self.writer()?.clone(),
            settings: self.settings.clone(),
            dir: self.dir.clone(),
            reach: Reach::Settings,
            outlook: None,
            wall: self.wall.clone(),
            only: Vec::new(),
            window: crate::engine::sync::WINDOW,
        })
    }

    /// Carry out a request. `progress` hears of an apply's steps as they finish (done, total).
    pub async fn handle(
        &self,
        request: Request,
        progress: &(dyn Fn(u64, u64) + Sync),
    ) -> Result<Reply, AppError> {
        Ok(match request {
            Request::Preview => Reply::Run(self.preview().await?),
            Request::Apply {
                records,
                fingerprints,
            } => Reply::Run(
                self.apply(
                    Selection {
                        records,
                        fingerprints,
                    },
                    progress,
                )
                .await?,
            ),
            Request::Ignore { records, how, side } => {
                Reply::Ignored(self.ignore(&records, how, side).await?)
            }
            Request::Status => Reply::Status(Box::new(self.status()?)),
            Request::History { record } => Reply::History(self.history(&record)?),
            Request::Blame { record } => Reply::Blame(self.blame(&record)?),
            Request::Restore { record, at } => Reply::Restored(self.restore(&record, &at).await?),
            Request::Log { since, limit } => Reply::Log(self.log(since.as_ref(), limit)?),
            Request::Verify => Reply::Verified(self.verify()?),
            Request::Append { draft } => {
                let side = draft.origin.side;
                use tandem_protocol::Side;
                if side != Side::TANDEM && !Side::KNOWN.contains(&side) {
                    return Err(AppError::UnknownSide(side.to_string()));
                }
                Reply::Appended(self.writer()?.append(*draft).await?)
            }
            Request::Settings => Reply::Settings(Box::new(SettingsView::of(&self.settings))),
            Request::Halt => Reply::Halted(halt_run()),
        })
    }

    /// Rebuild every projection from the log alone into a scratch store, and compare.
    pub fn verify(&self) -> Result<Verified, AppError> {
        let scratch = self
            .dir
            .join(format!(".replay-{}.redb", std::process::id()));
        let _ = std::fs::remove_file(&scratch);
        let result = replay::verify(&self.store, self.settings.policies(), &scratch);
        let _ = std::fs::remove_file(&scratch);
        Ok(result?.into())
    }

    /// Whether a manual sync run was ever applied (automatic runs wait for one).
    /// The plan as the store has it now, without reading Salesforce (what a shown review looks
    /// like after an ignore).
    pub fn replan(&self) -> Result<tandem_protocol::plan::Plan, AppError> {
        Ok(self.engine()?.plan()?)
    }

    pub fn reviewed(&self) -> Result<bool, AppError> {
        Ok(crate::engine::sync::reviewed_before(&self.store)?)
    }

    /// The events of the log from `since` on, at most `limit`.
    pub fn log(
        &self,
        since: Option<&Point>,
        limit: Option<usize>,
    ) -> Result<Vec<Logged>, AppError> {
        let txn = self.store.read()?;
        let from = match since {
            None => 1,
            Some(Point::Seq(n)) => *n,
            Some(Point::Time(t)) => {
                read::first_seq_since(&txn, tandem_protocol::Hlc::at(*t))?.unwrap_or(u64::MAX)
            }
        };
        Ok(read::events_from(&txn, from)?
            .into_iter()
            .take(limit.unwrap_or(usize::MAX))
            .map(|(seq, event)| Logged { seq, event })
            .collect())
    }
}

/// An event a producer hands in comes from a side tandem syncs, or from tandem itself: one
/// from any other name would make records no run plans for.
pub fn from_a_side(draft: &crate::store::Draft) -> Result<(), AppError> {
    use tandem_protocol::Side;
    let side = draft.origin.side;
    if side != Side::TANDEM && !Side::KNOWN.contains(&side) {
        return Err(AppError::UnknownSide(side.to_string()));
    }
    Ok(())
}
