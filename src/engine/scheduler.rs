//! Automatic runs: per kind of record, once a manual run has been applied, every `every_minutes`
//! inside `hours`. The clock is passed in, so when a run is due is a question of time alone, and
//! tests move time instead of waiting for it.

use super::SyncError;
use super::sync::{Reach, RunReport, SyncEngine, reviewed_before};
use crate::config::Settings;
use crate::store::{Store, WallClock, Writer};
use chrono::{DateTime, Local};
use std::path::PathBuf;
use std::sync::Arc;
use tandem_protocol::RecordKind;

pub struct Scheduler {
    pub store: Arc<Store>,
    pub writer: Writer,
    pub settings: Settings,
    pub dir: PathBuf,
    pub wall: WallClock,
}

impl Scheduler {
    fn engine(&self, only: Vec<RecordKind>) -> SyncEngine {
        SyncEngine {
            store: self.store.clone(),
            writer: self.writer.clone(),
            settings: self.settings.clone(),
            dir: self.dir.clone(),
            reach: Reach::Settings,
            outlook: None,
            wall: self.wall.clone(),
            only,
            window: crate::engine::sync::WINDOW,
        }
    }

    /// The kinds whose automatic run is due now (none before a manual run was applied).
    pub fn due(&self) -> Result<Vec<RecordKind>, SyncError> {
        if !reviewed_before(&self.store)? {
            return Ok(Vec::new());
        }
        let now = DateTime::from_timestamp_millis((self.wall)() as i64).unwrap_or_default();
        let local = now.with_timezone(&Local).time();
        let engine = self.engine(Vec::new());
        let mut due = Vec::new();
        for kind in RecordKind::ALL {
            if self
                .settings
                .rules(kind)
                .due(engine.last_run(kind)?, now, local)
            {
                due.push(kind);
            }
        }
        Ok(due)
    }

    /// Run what is due now; `None` when nothing was.
    pub async fn tick(&self) -> Result<Option<RunReport>, SyncError> {
        let due = self.due()?;
        if due.is_empty() {
            return Ok(None);
        }
        self.engine(due).automatic().await.map(Some)
    }

    /// Look once a minute until the task is dropped, with the settings in force at each look. A
    /// failed run is logged and tried again when next due.
    pub async fn run(mut self, mut settings: tokio::sync::watch::Receiver<Settings>) {
        let mut minute = tokio::time::interval(std::time::Duration::from_secs(60));
        loop {
            minute.tick().await;
            if settings.has_changed().unwrap_or(false) {
                self.settings = settings.borrow_and_update().clone();
            }
            match self.tick().await {
                Ok(Some(report)) => {
                    let failed = report.record.as_ref().map_or(0, |r| r.failures().count());
                    tracing::info!(failed, "automatic sync run finished");
                }
                Ok(None) => {}
                Err(e) => tracing::warn!("automatic sync run failed: {e}"),
            }
        }
    }
}
