//! Sync runs: pull Salesforce, plan, and carry out the plan on both sides, recording the run.
//!
//! A manual run is two steps: `preview` pulls, plans and records which items it showed; `apply`
//! plans again from the same log (it does not pull, so it sees what the preview saw) and carries
//! out only the items the preview listed in the same state — anything that changed since waits
//! for the next preview. An automatic run pulls, plans and applies in one go, and only once a
//! manual run has been applied. Errors of one item never stop the others; an error that ends the
//! Salesforce part (offline, login, limits) leaves the desktop part running.

pub mod desktop;
pub mod inputs;
mod ledger;
mod pull;
pub mod salesforce;

pub use ledger::LogLedger;
pub use pull::{PullSummary, pull_into_log, stored_watermark, watermark_scope};

use crate::config::Settings;
use crate::engine::SyncError;
use crate::store::WallClock;
use crate::store::{Draft, DraftBody, ObservationDraft, Writer};
use crate::store::{Store, read};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet, VecDeque};
use std::path::PathBuf;
use std::sync::Arc;
use tandem_protocol::plan::{Item, Plan};
use tandem_protocol::run::{RunMode, RunRecord, StepResult};
use tandem_protocol::{Decision, Op, Origin, RecordKind, Side};

pub use salesforce::Connection;

/// Desktop writes queued at most before the oldest is awaited (the writer commits up to 1,024
/// events in one transaction).
const DESKTOP_WRITES_IN_FLIGHT: usize = 1_024;

/// One run at a time per process: a scheduled run waits for a manual one and the other way round.
static RUNNING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// How a run reaches Salesforce.
pub enum Reach {
    /// Log in with the settings' credentials when the run starts.
    Settings,
    /// An already made client (tests, benchmarks).
    Client(crate::salesforce::client::SalesforceClient),
}

pub struct SyncEngine {
    pub store: Arc<Store>,
    pub writer: Writer,
    pub settings: Settings,
    pub dir: PathBuf,
    pub reach: Reach,
    pub wall: WallClock,
    /// Limit the run to these kinds (the automatic runs that are due); empty: every enabled kind.
    pub only: Vec<RecordKind>,
}

/// What a run did, for printing.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RunReport {
    pub plan: Plan,
    pub record: Option<RunRecord>,
    /// Pull counts per kind: (created, updated, deleted, unchanged).
    pub pulled: BTreeMap<String, (usize, usize, usize, usize)>,
    /// Items the preview did not show in their current state, left for the next preview.
    pub held_back: usize,
}

/// Which items `apply` carries out.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Selection {
    /// Only these records (by id, UID, href or Salesforce id); empty: all reviewed items.
    pub records: Vec<String>,
}

impl SyncEngine {
    fn now(&self) -> DateTime<Utc> {
        DateTime::from_timestamp_millis((self.wall)() as i64).unwrap_or_default()
    }

    fn kinds(&self) -> Vec<RecordKind> {
        let mut kinds = self.settings.enabled_kinds();
        kinds.retain(|k| self.only.is_empty() || self.only.contains(k));
        kinds
    }

    async fn connect(&self) -> Result<Option<Connection>, SyncError> {
        let client = match &self.reach {
            Reach::Client(client) => client.clone(),
            Reach::Settings if !salesforce::configured(&self.settings) => return Ok(None),
            Reach::Settings => crate::salesforce::client::SalesforceClient::new(
                self.settings.salesforce.clone(),
                Some(crate::salesforce::client::CredentialsFile::in_dir(
                    &self.dir,
                )),
            )?,
        };
        Ok(Some(
            Connection::with_client(client, self.store.clone(), self.writer.clone()).await?,
        ))
    }

    /// Pull every enabled kind; the error says why Salesforce could not be read.
    async fn pull(&self, connection: &Connection, report: &mut RunReport) -> Result<(), SyncError> {
        // First the creates a killed run may have made without recording them, so that the pull
        // finds them known instead of taking them for records new in Salesforce.
        let pending = {
            let txn = self.store.read()?;
            read::pending_creates(&txn)?
        };
        if !pending.is_empty() {
            connection.adopt_pending(&self.store, &self.plan()?).await?;
        }
        for kind in self.kinds() {
            let summary = connection
                .pull(&self.store, &self.writer, kind, &self.settings.rules(kind))
                .await?;
            report.pulled.insert(
                kind.as_str().to_string(),
                (
                    summary.created,
                    summary.updated,
                    summary.deleted,
                    summary.unchanged,
                ),
            );
        }
        Ok(())
    }

    pub fn plan(&self) -> Result<Plan, SyncError> {
        Ok(inputs::plan_from_store(
            &self.store,
            &self.settings,
            &self.kinds(),
            self.now(),
        )?)
    }

    /// `tandem sync preview`: pull, plan, and record what was shown.
    pub async fn preview(&self) -> Result<RunReport, SyncError> {
        let _running = RUNNING.lock().await;
        let started = self.now();
        let mut report = RunReport::default();
        let mut salesforce_error = None;
        let mut api = (0, None);
        if let Some(connection) = self
            .connect()
            .await
            .or_else(offline(&mut salesforce_error))?
        {
            if let Err(e) = self.pull(&connection, &mut report).await {
                salesforce_error = Some(e.to_string());
            }
            let stats = connection.client.stats();
            api = (stats.run_calls, stats.api_usage);
        } else if salesforce_error.is_none() {
            salesforce_error = Some(not_connected());
        }
        report.plan = self.plan()?;
        let record = RunRecord {
            mode: RunMode::Preview,
            started_ms: started.timestamp_millis(),
            finished_ms: self.now().timestamp_millis(),
            kinds: self.kinds(),
            tally: report.plan.tally(),
            reviewed: report
                .plan
                .items
                .iter()
                .filter(|i| i.runs())
                .map(Item::fingerprint)
                .collect(),
            results: Vec::new(),
            salesforce_error,
            api_calls: api.0,
            api_usage: api.1,
        };
        self.record(&record).await?;
        report.record = Some(record);
        Ok(report)
    }

    /// `tandem sync apply`: carry out what the last preview showed (or, with `selection`, only
    /// those of its items).
    pub async fn apply(
        &self,
        selection: &Selection,
        progress: &(dyn Fn(u64, u64) + Sync),
    ) -> Result<RunReport, SyncError> {
        let _running = RUNNING.lock().await;
        let reviewed = self.last_preview()?.ok_or(SyncError::NoPreview)?;
        // A set, not the list: every item is looked up, and scanning a list of 20,000
        // fingerprints for each of 20,000 items took seconds (quadratic in the run's size).
        let reviewed: HashSet<&str> = reviewed.iter().map(String::as_str).collect();
        let mut plan = self.plan()?;
        let wanted = self.resolve_selection(selection)?;
        let held_back = plan
            .items
            .iter()
            .filter(|i| i.runs() && !reviewed.contains(i.fingerprint().as_str()))
            .count();
        plan.items.retain(|item| {
            reviewed.contains(item.fingerprint().as_str())
                && (wanted.is_empty() || wanted.contains(&item.record))
        });
        let records = plan.items.iter().map(|i| i.record.clone()).collect();
        let confirm = Draft {
            origin: Origin::new(Side::Tandem, "cli:sync-apply"),
            body: DraftBody::Decision(Decision::Confirm {
                run: format!("run-{}", self.now().timestamp_millis()),
                records,
            }),
        };
        self.writer.append(confirm).await?;
        let mut report = self.execute(RunMode::Manual, plan, false, progress).await?;
        report.held_back = held_back;
        Ok(report)
    }

    /// A scheduled run: pull, plan, apply everything that is not ignored.
    pub async fn automatic(&self) -> Result<RunReport, SyncError> {
        let _running = RUNNING.lock().await;
        if !self.reviewed_before()? {
            return Err(SyncError::NotReviewed);
        }
        self.execute(RunMode::Automatic, Plan::default(), true, &|_, _| {})
            .await
    }

    /// When the last automatic or manual run that included `kind` finished.
    pub fn last_run(&self, kind: RecordKind) -> Result<Option<DateTime<Utc>>, SyncError> {
        let txn = self.store.read()?;
        let runs = read::runs(&txn, usize::MAX)?;
        Ok(runs
            .iter()
            .find(|(_, r)| r.mode != RunMode::Preview && r.kinds.contains(&kind))
            .and_then(|(_, r)| DateTime::from_timestamp_millis(r.finished_ms)))
    }

    /// Whether a manual run was applied before (automatic runs wait for one).
    pub fn reviewed_before(&self) -> Result<bool, SyncError> {
        let txn = self.store.read()?;
        let runs = read::runs(&txn, usize::MAX)?;
        Ok(runs.iter().any(|(_, r)| r.mode == RunMode::Manual))
    }

    /// The fingerprints the latest preview showed, unless a run was applied after it.
    fn last_preview(&self) -> Result<Option<Vec<String>>, SyncError> {
        let txn = self.store.read()?;
        let runs = read::runs(&txn, 1)?;
        Ok(runs
            .into_iter()
            .next()
            .filter(|(_, r)| r.mode == RunMode::Preview)
            .map(|(_, r)| r.reviewed))
    }

    fn resolve_selection(
        &self,
        selection: &Selection,
    ) -> Result<Vec<tandem_protocol::RecordId>, SyncError> {
        let txn = self.store.read()?;
        selection
            .records
            .iter()
            .map(|name| {
                read::find_record(&txn, name)?.ok_or_else(|| SyncError::UnknownRecord(name.clone()))
            })
            .collect()
    }

    async fn execute(
        &self,
        mode: RunMode,
        plan: Plan,
        pull_first: bool,
        progress: &(dyn Fn(u64, u64) + Sync),
    ) -> Result<RunReport, SyncError> {
        let started = self.now();
        let mut report = RunReport::default();
        let mut salesforce_error = None;
        let connection = self
            .connect()
            .await
            .or_else(offline(&mut salesforce_error))?;
        let mut plan = plan;
        if pull_first {
            if let Some(connection) = &connection
                && let Err(e) = self.pull(connection, &mut report).await
            {
                salesforce_error = Some(e.to_string());
            }
            plan = self.plan()?;
        }
        crate::store::ensure_default_collections(&self.store, &self.writer).await?;
        let total: u64 = plan
            .items
            .iter()
            .map(|i| i.steps().filter(|(_, s)| s.runs()).count() as u64)
            .sum();
        let mut done = 0u64;
        let mut results: Vec<StepResult> = Vec::new();
        let mut to_salesforce = Vec::new();
        // Desktop writes are queued and their outcomes awaited later (each fills in its own
        // result): awaiting each before the next cost one commit, an fsync, per record — 10,000
        // in a first sync. The writer still appends them in order, each on its own condition.
        let mut queued: VecDeque<(usize, desktop::Queued)> = VecDeque::new();
        let settle = |queued: &mut VecDeque<(usize, desktop::Queued)>, keep: usize| {
            let ready = queued.len().saturating_sub(keep);
            queued.drain(..ready).collect::<Vec<_>>()
        };
        for item in &plan.items {
            let rules = self.settings.rules(item.kind);
            let mut written = item.heads.clone();
            if let Some(step) = item.desktop.as_ref().filter(|s| s.runs()) {
                if step.restore {
                    // The deletion could not travel: bring the record back to life first.
                    match self.undelete(item, &written).await {
                        Ok(heads) => written = heads,
                        Err(e) => {
                            results.push(result(item, Side::Desktop, step.op, Some(e.to_string())));
                            continue;
                        }
                    }
                }
                let write = desktop::submit(
                    &self.store,
                    &self.writer,
                    &rules,
                    item,
                    step,
                    written.clone(),
                )
                .await;
                match write {
                    Ok(write) => {
                        queued.push_back((results.len(), write));
                        results.push(result(item, Side::Desktop, step.op, None));
                    }
                    Err(e) => {
                        results.push(result(item, Side::Desktop, step.op, Some(e.to_string())));
                        done += 1;
                        progress(done, total);
                    }
                }
                // A window, so progress moves and a long run does not hold every write.
                for (at, write) in settle(&mut queued, DESKTOP_WRITES_IN_FLIGHT) {
                    results[at].error = write.outcome().await.err().map(|e| e.to_string());
                    done += 1;
                    progress(done, total);
                }
            }
            if let Some(step) = item.salesforce.as_ref().filter(|s| s.runs()) {
                to_salesforce.push((item, step, written));
            }
        }
        for (at, write) in settle(&mut queued, 0) {
            results[at].error = write.outcome().await.err().map(|e| e.to_string());
            done += 1;
            progress(done, total);
        }
        let mut api = (0, None);
        match (&connection, to_salesforce.is_empty()) {
            (_, true) => {}
            (Some(connection), false) if salesforce_error.is_none() => {
                let rules = |kind| self.settings.rules(kind);
                let (pushed, stopped) = connection
                    .push(&self.store, &self.writer, to_salesforce, &rules)
                    .await;
                results.extend(pushed);
                if let Some(stopped) = stopped {
                    salesforce_error = Some(stopped.to_string());
                }
            }
            _ => {
                let why = salesforce_error.clone().unwrap_or_else(not_connected);
                for (item, step, _) in to_salesforce {
                    results.push(result(
                        item,
                        Side::Salesforce,
                        step.op,
                        Some(format!("not sent: {why}")),
                    ));
                }
            }
        }
        progress(total, total);
        if let Some(connection) = &connection {
            let stats = connection.client.stats();
            api = (stats.run_calls, stats.api_usage);
        }
        let record = RunRecord {
            mode,
            started_ms: started.timestamp_millis(),
            finished_ms: self.now().timestamp_millis(),
            kinds: self.kinds(),
            tally: plan.tally(),
            reviewed: Vec::new(),
            results,
            salesforce_error,
            api_calls: api.0,
            api_usage: api.1,
        };
        self.record(&record).await?;
        report.plan = plan;
        report.record = Some(record);
        Ok(report)
    }

    /// Append a tandem change that un-deletes a record, on top of `heads`; the new heads.
    async fn undelete(
        &self,
        item: &Item,
        heads: &[tandem_protocol::Hlc],
    ) -> Result<Vec<tandem_protocol::Hlc>, SyncError> {
        let draft = Draft {
            origin: Origin::new(Side::Tandem, "sync:restore"),
            body: DraftBody::Observation(ObservationDraft {
                record: Some(item.record.clone()),
                base: Some(heads.to_vec()),
                ..ObservationDraft::new(item.kind, Op::Create)
            }),
        };
        let ack = self.writer.append(draft).await?;
        Ok(vec![ack.hlc])
    }

    async fn record(&self, run: &RunRecord) -> Result<(), SyncError> {
        let draft = Draft {
            origin: Origin::new(Side::Tandem, format!("sync:{}", run.mode.as_str())),
            body: DraftBody::Run(run.clone()),
        };
        self.writer.append(draft).await?;
        Ok(())
    }
}

fn result(item: &Item, side: Side, op: Op, error: Option<String>) -> StepResult {
    StepResult {
        record: item.record.clone(),
        label: item.label.clone(),
        side,
        op,
        error,
    }
}

fn not_connected() -> String {
    "tandem is not connected to Salesforce: run `tandem login`".to_string()
}

/// Turn a failed connection into "offline": the run goes on for the desktop side.
fn offline(
    error: &mut Option<String>,
) -> impl FnOnce(SyncError) -> Result<Option<Connection>, SyncError> + '_ {
    move |e| {
        *error = Some(e.to_string());
        Ok(None)
    }
}
