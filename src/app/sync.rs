//! The reviewed sync: preview, apply, ignore and the status of runs.

use super::request::Ignoring;
use super::{App, AppError};
use super::{Serving, SettingsView};
use crate::engine::SyncError;
use crate::engine::sync::{RunReport, Selection, inputs};
use crate::store::{Draft, DraftBody, read};
use chrono::{DateTime, Local, Offset, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use tandem_protocol::plan::{Skip, label};
use tandem_protocol::run::{RunMode, RunRecord};
use tandem_protocol::{Decision, Origin, RecordId, Side};

/// A record left out of runs (or taken back in).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Ignored {
    pub record: RecordId,
    pub label: String,
    pub how: Ignoring,
    pub side: Option<Side>,
}

/// The sync at a glance: the last runs, and what the next one would do.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Status {
    pub last_run: Option<RunRecord>,
    /// The runs before it, newest first (at most ten).
    pub recent: Vec<RunRecord>,
    pub last_preview: Option<RunRecord>,
    /// The last preview is the newest run, so an apply carries it out. Told by the log's order,
    /// as the apply tells it, never by the runs' clock times: a clock set back between an apply
    /// and the next review (NTP stepping a fresh machine's clock) must not hide the review.
    #[serde(default)]
    pub review_waiting: bool,
    pub pending: usize,
    pub conflicts: usize,
    pub ignored: usize,
    /// Automatic runs may start: a manual run was applied.
    pub automatic: bool,
    /// Who answered: the running daemon (whose automatic runs happen while it runs) or a command
    /// on a stopped store.
    pub serving: Serving,
    /// The settings in force.
    pub settings: SettingsView,
    /// When the next automatic run may start, while the daemon runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_automatic_ms: Option<i64>,
}

impl App {
    /// Pull, plan, and record what was shown: the Synchronization Summary.
    pub async fn preview(&self) -> Result<RunReport, AppError> {
        Ok(self.engine()?.preview().await?)
    }

    /// Carry out what the last preview listed; with `records`, only those of its items.
    pub async fn apply(
        &self,
        selection: Selection,
        progress: &(dyn Fn(u64, u64) + Sync),
    ) -> Result<RunReport, AppError> {
        Ok(self.engine()?.apply(&selection, progress).await?)
    }

    /// Leave records out of runs (`side`: only their step on that side), or take that back.
    /// Every name is checked before anything is written: a typo changes nothing.
    pub async fn ignore(
        &self,
        records: &[String],
        how: Ignoring,
        side: Option<Side>,
    ) -> Result<Vec<Ignored>, AppError> {
        let writer = self.writer()?;
        let mut decided = Vec::new();
        {
            let txn = self.store.read()?;
            for name in records {
                let unknown = || AppError::Sync(SyncError::UnknownRecord(name.clone()));
                let record = read::find_record(&txn, name)?.ok_or_else(unknown)?;
                let state = read::record(&txn, &record)?.ok_or_else(unknown)?;
                let decision = match how {
                    Ignoring::Undo => Decision::Unignore {
                        record: record.clone(),
                        side,
                    },
                    Ignoring::Forever => Decision::IgnoreForever {
                        record: record.clone(),
                        side,
                    },
                    Ignoring::Once => Decision::IgnoreOnce {
                        record: record.clone(),
                        heads: state.heads,
                        side,
                    },
                };
                let ignored = Ignored {
                    record,
                    label: label(state.kind, &state.fields),
                    how,
                    side,
                };
                decided.push((ignored, decision));
            }
        }
        let mut out = Vec::new();
        for (ignored, decision) in decided {
            let draft = Draft {
                origin: Origin::new(Side::TANDEM, "cli:sync-ignore"),
                body: DraftBody::Decision(decision),
            };
            writer.append(draft).await?;
            out.push(ignored);
        }
        Ok(out)
    }

    pub fn status(&self) -> Result<Status, AppError> {
        let runs = read::runs(&self.store.read()?, usize::MAX)?;
        let mut applied = runs
            .iter()
            .filter(|(_, r)| r.mode != RunMode::Preview)
            .map(|(_, r)| r.clone());
        let last_run = applied.next();
        let recent: Vec<RunRecord> = applied.take(10).collect();
        let last_preview = runs
            .iter()
            .find(|(_, r)| r.mode == RunMode::Preview)
            .map(|(_, r)| r.clone());
        let review_waiting = runs
            .first()
            .is_some_and(|(_, r)| r.mode == RunMode::Preview);
        let automatic = self.reviewed()?;
        let now = DateTime::from_timestamp_millis((self.wall)() as i64).unwrap_or_default();
        let plan = inputs::plan_from_store(
            &self.store,
            &self.settings,
            &self.settings.sides(),
            &self.settings.enabled_kinds(),
            now,
            inputs::Purpose::Run,
        )?;
        let ignored = plan
            .items
            .iter()
            .filter(|i| {
                i.steps().any(|(_, s)| {
                    matches!(s.skipped, Some(Skip::IgnoredOnce | Skip::IgnoredForever))
                })
            })
            .count();
        let next_automatic_ms = self.next_automatic(now, automatic)?;
        Ok(Status {
            pending: plan.items.iter().filter(|i| i.runs()).count(),
            conflicts: plan.tally().conflicts,
            ignored,
            last_run,
            recent,
            last_preview,
            review_waiting,
            automatic,
            serving: self.serving.clone(),
            settings: SettingsView::of(&self.settings),
            next_automatic_ms,
        })
    }

    /// When the scheduler will next start a run: the earliest kind due, while the daemon runs.
    fn next_automatic(&self, now: DateTime<Utc>, reviewed: bool) -> Result<Option<i64>, AppError> {
        if !reviewed || self.serving == Serving::Local {
            return Ok(None);
        }
        let local = Local.offset_from_utc_datetime(&now.naive_utc()).fix();
        let engine = self.engine()?;
        let mut next: Option<DateTime<Utc>> = None;
        for kind in self.settings.enabled_kinds() {
            let due = self
                .settings
                .rules(kind)
                .next_due(engine.last_run(kind)?, now, local);
            next = match (next, due) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
        }
        Ok(next.map(|t| t.timestamp_millis()))
    }
}
