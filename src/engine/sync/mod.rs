//! Sync runs: pull the remote sides into the log, plan, and carry the plan out on every side,
//! recording the run.
//!
//! A manual run is two steps: `preview` pulls, plans and records which items it showed; `apply`
//! plans again from the same log (it does not pull, so it sees what the preview saw) and carries
//! out only the items the preview listed in the same state — anything that changed since waits
//! for the next preview. An automatic run pulls, plans and applies in one go, and only once a
//! manual run has been applied. Errors of one item never stop the others; an error that ends a
//! remote side's part (offline, login, limits) leaves the other sides running.
//!
//! A run that carries steps out never holds its whole plan: it chooses what to carry out in one
//! pass over the plan, made a window at a time, keeping only the chosen records' ids, then plans
//! those again a window at a time and carries each window out before planning the next. What it
//! holds is bounded by the window, not by the number of records.
//!
//! Each side of a run is reached through its kind of adapter: the desktop through the DAV
//! server's projection in the store, Salesforce through its connection. The plan itself names
//! sides, never adapters.

mod choice;
mod connector;
pub mod desktop;
mod detached;
pub mod inputs;
mod ledger;
pub mod notes;
pub mod outlook;
mod pull;
pub mod salesforce;

use choice::{Choice, Taken};
use connector::Connector;
use inputs::Planner;
pub use ledger::LogLedger;
pub use notes::NotesConnection;
pub use outlook::OutlookConnection;
pub use pull::{PullSummary, pull_into_log, stored_watermark, watermark_scope};
pub use salesforce::Connection;

use crate::config::Settings;
use crate::engine::SyncError;
use crate::salesforce::client::{ClientError, Halt};
use crate::store::{
    Draft, DraftBody, ObservationDraft, Store, StoreError, WallClock, Writer, read,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, VecDeque};
use std::path::PathBuf;
use std::sync::Arc;
use tandem_protocol::plan::{Item, Plan};
use tandem_protocol::run::{ApiUse, RunMode, RunRecord, StepResult, Tally};
use tandem_protocol::{Decision, Hlc, Op, Origin, RecordId, RecordKind, Side};

/// How many items of the plan a run plans and carries out at a time. Besides the ids of the
/// records it chose, a window's items are all a run holds of the plan: creates carry whole
/// records, and the plan of a first sync of 100,000 records took 200 MB whole. Each window's
/// Salesforce steps still go out in full batches (200 a call).
pub const WINDOW: usize = 2_000;

/// Desktop writes queued at most before the oldest is awaited (the writer commits up to 1,024
/// events in one transaction).
const DESKTOP_WRITES_IN_FLIGHT: usize = 1_024;

/// One run at a time per process: a scheduled run waits for a manual one and the other way round.
static RUNNING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The run in progress, if one is: its halt, and how far it is (for a front that shows it).
static CURRENT: std::sync::Mutex<Option<Current>> = std::sync::Mutex::new(None);

struct Current {
    halt: Halt,
    state: InFlight,
}

/// How far the run in progress is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InFlight {
    pub mode: RunMode,
    pub started_ms: i64,
    /// Steps carried out so far, of `total`; both 0 while the run reads the sides.
    pub done: u64,
    pub total: u64,
}

fn current() -> std::sync::MutexGuard<'static, Option<Current>> {
    CURRENT.lock().unwrap_or_else(|e| e.into_inner())
}

/// Ask the run in progress to stop at its next safe point: the step in flight finishes and is
/// recorded, the rest waits for the next run. Whether a run was in progress.
pub fn halt_current_run() -> bool {
    match current().as_ref() {
        Some(run) => {
            run.halt.raise();
            true
        }
        None => false,
    }
}

/// The run in progress in this process, if one is, and how far it is.
pub fn in_flight() -> Option<InFlight> {
    current().as_ref().map(|run| run.state.clone())
}

/// The run in progress, registered while the run lasts.
struct Running(Halt);

impl Running {
    fn start(mode: RunMode, started: DateTime<Utc>) -> Running {
        let halt = Halt::default();
        *current() = Some(Current {
            halt: halt.clone(),
            state: InFlight {
                mode,
                started_ms: started.timestamp_millis(),
                done: 0,
                total: 0,
            },
        });
        Running(halt)
    }

    /// Steps done of the total, as the run reports them.
    fn advance(done: u64, total: u64) {
        if let Some(run) = current().as_mut() {
            run.state.done = done;
            run.state.total = total;
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        *current() = None;
    }
}

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
    /// An already made Outlook client (tests, benchmarks); otherwise the settings' sign-in.
    pub outlook: Option<crate::outlook::OutlookClient>,
    pub wall: WallClock,
    /// Limit the run to these kinds (the automatic runs that are due); empty: every enabled kind.
    pub only: Vec<RecordKind>,
    /// How many items a run plans and carries out at a time: `WINDOW`, or fewer where a test
    /// makes a few records cross windows.
    pub window: usize,
}

/// What one pull of one kind took in.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pulled {
    pub created: usize,
    pub updated: usize,
    pub deleted: usize,
    pub unchanged: usize,
}

/// What a run did.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RunReport {
    /// What a preview shows. A run that carries steps out leaves it empty (it never holds its
    /// whole plan): its record says what each step did.
    pub plan: Plan,
    pub record: Option<RunRecord>,
    /// What each pull took in, per side and kind.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub pulled: BTreeMap<Side, BTreeMap<RecordKind, Pulled>>,
    /// Items the preview did not show in their current state, left for the next preview.
    pub held_back: usize,
    /// The run was stopped on request before it carried out every step.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub halted: bool,
    /// Sides tandem is connected to that it could not read in this run: the plan does not show
    /// what changed there.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unread: Vec<Side>,
}

/// Which items `apply` carries out.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Selection {
    /// Only these records (by id, UID, href or Salesforce id); empty: all reviewed items.
    pub records: Vec<String>,
    /// Only these items, as a front showed them (`Item::fingerprint`); empty: all reviewed
    /// items. One whose record changed since is held back.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fingerprints: Vec<String>,
}

/// A run under way: the sides it reaches, and what it did so far.
struct Carrying<'a> {
    connection: Option<Connection>,
    connectors: Vec<Connector>,
    reached: Reached,
    results: Vec<StepResult>,
    progress: Progress<'a>,
    /// Stopped on request.
    halted: bool,
}

/// How the remote sides went in a run: why one could not be reached, and the calls each took.
#[derive(Default)]
struct Reached {
    unreachable: BTreeMap<Side, String>,
    api: BTreeMap<Side, ApiUse>,
    /// Sides tandem is signed in to that it could not read.
    unread: Vec<Side>,
}

impl Reached {
    fn unread(&self) -> Vec<Side> {
        self.unread.clone()
    }

    fn failed(&mut self, side: Side, why: impl ToString) {
        self.unreachable.insert(side, why.to_string());
        if !self.unread.contains(&side) {
            self.unread.push(side);
        }
    }

    /// Why a step for `side` is not sent: why it was not reached, or `otherwise`.
    fn why_not(&self, side: Side, otherwise: SyncError) -> String {
        self.unreachable
            .get(&side)
            .cloned()
            .unwrap_or_else(|| otherwise.to_string())
    }

    /// The side is not a side of this run at all (tandem is not signed in to it).
    fn not_connected(&mut self, side: Side) {
        self.unreachable
            .insert(side, SyncError::NotConnected.to_string());
    }

    fn used_connector(&mut self, connector: &Connector) {
        let calls = connector.calls();
        self.api
            .insert(connector.side(), ApiUse { calls, usage: None });
    }

    fn used(&mut self, side: Side, connection: &Connection) {
        let stats = connection.client.stats();
        self.api.insert(
            side,
            ApiUse {
                calls: stats.run_calls,
                usage: stats.api_usage,
            },
        );
    }
}

/// Whether a manual run was ever applied: automatic runs wait for one.
pub fn reviewed_before(store: &Store) -> Result<bool, StoreError> {
    Ok(read::runs(&store.read()?, usize::MAX)?
        .iter()
        .any(|(_, r)| r.mode == RunMode::Manual))
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

    /// The sides a run plans for.
    fn sides(&self) -> Vec<Side> {
        self.settings.sides()
    }

    async fn connect(&self, halt: &Halt) -> Result<Option<Connection>, SyncError> {
        let client = match &self.reach {
            Reach::Client(client) => client.clone(),
            Reach::Settings if !self.settings.salesforce.signed_in() => return Ok(None),
            Reach::Settings => crate::salesforce::client::SalesforceClient::new(
                self.settings.salesforce.clone(),
                Some(crate::salesforce::client::CredentialsFile::in_dir(
                    &self.dir,
                )),
            )?,
        };
        client.halt_on(halt.clone());
        Ok(Some(
            Connection::with_client(client, self.store.clone(), self.writer.clone()).await?,
        ))
    }

    /// Log in to Salesforce; when that fails the run goes on without it, saying why.
    async fn reach_salesforce(&self, reached: &mut Reached, halt: &Halt) -> Option<Connection> {
        match self.connect(halt).await {
            Ok(Some(connection)) => Some(connection),
            Ok(None) => {
                reached.not_connected(Side::SALESFORCE);
                None
            }
            Err(e) => {
                reached.failed(Side::SALESFORCE, e);
                None
            }
        }
    }

    /// Sign in to the connector sides tandem is signed in to (Outlook, Notes); one that fails
    /// is left out of the run, saying why.
    async fn reach_connectors(&self, reached: &mut Reached) -> Vec<Connector> {
        let mut connectors = Vec::new();
        let outlook = match &self.outlook {
            Some(client) => OutlookConnection::with_client(client.clone())
                .await
                .map(Some)
                .map_err(SyncError::from),
            None => OutlookConnection::open(&self.settings, &self.dir).await,
        };
        match outlook {
            Ok(connection) => connectors.extend(connection.map(Connector::Outlook)),
            Err(e) => reached.failed(Side::OUTLOOK, e),
        }
        match NotesConnection::open(&self.settings).await {
            Ok(connection) => connectors.extend(connection.map(Connector::Notes)),
            Err(e) => reached.failed(Side::NOTES, e),
        }
        connectors
    }

    /// Read a connector side into the log: first what an earlier run may have created without
    /// recording it, then every enabled kind. A kind the side cannot reach is said, the others
    /// are read.
    async fn pull_connector(
        &self,
        connector: &Connector,
        report: &mut RunReport,
    ) -> Result<(), SyncError> {
        let events = self.settings.rules(RecordKind::Event);
        connector
            .adopt_pending(&self.store, &self.writer, &events, self.now())
            .await?;
        for kind in self.kinds() {
            let pulled = connector
                .pull(
                    &self.store,
                    &self.writer,
                    kind,
                    &self.settings.rules(kind),
                    self.now(),
                )
                .await?;
            report
                .pulled
                .entry(connector.side())
                .or_default()
                .insert(kind, pulled);
        }
        Ok(())
    }

    /// Pull every enabled kind; the error says why Salesforce could not be read.
    async fn pull(&self, connection: &Connection, report: &mut RunReport) -> Result<(), SyncError> {
        // First the creates a killed run may have made without recording them, so that the pull
        // finds them known instead of taking them for records new in Salesforce.
        let pending = read::pending_creates(&self.store.read()?, Side::SALESFORCE)?;
        if !pending.is_empty() {
            connection
                .adopt_pending(&self.store, &self.plan_for(inputs::Purpose::Run)?)
                .await?;
        }
        for kind in self.kinds() {
            let summary = connection
                .pull(&self.store, &self.writer, kind, &self.settings.rules(kind))
                .await?;
            report.pulled.entry(Side::SALESFORCE).or_default().insert(
                kind,
                Pulled {
                    created: summary.created,
                    updated: summary.updated,
                    deleted: summary.deleted,
                    unchanged: summary.unchanged,
                },
            );
        }
        Ok(())
    }

    /// The plan as a person reviews it: each item says what Salesforce will not hold of it.
    pub fn plan(&self) -> Result<Plan, SyncError> {
        self.plan_for(inputs::Purpose::Review)
    }

    fn plan_for(&self, purpose: inputs::Purpose) -> Result<Plan, SyncError> {
        Ok(self.planner(purpose).all(&self.store)?)
    }

    fn planner(&self, purpose: inputs::Purpose) -> Planner {
        Planner::new(
            &self.settings,
            self.sides(),
            self.kinds(),
            self.now(),
            purpose,
        )
    }

    /// `tandem sync preview`: pull, plan, and record what was shown.
    pub async fn preview(&self) -> Result<RunReport, SyncError> {
        let _running = RUNNING.lock().await;
        let started = self.now();
        let running = Running::start(RunMode::Preview, started);
        let mut report = RunReport::default();
        let mut reached = Reached::default();
        if let Some(connection) = self.reach_salesforce(&mut reached, &running.0).await {
            if let Err(e) = self.pull(&connection, &mut report).await {
                reached.failed(Side::SALESFORCE, e);
            }
            reached.used(Side::SALESFORCE, &connection);
        }
        for connector in self.reach_connectors(&mut reached).await {
            if let Err(e) = self.pull_connector(&connector, &mut report).await {
                reached.failed(connector.side(), e);
            }
            reached.used_connector(&connector);
        }
        report.unread = reached.unread();
        report.plan = self.plan()?;
        let reviewed = report
            .plan
            .items
            .iter()
            .filter(|i| i.runs())
            .map(Item::fingerprint)
            .collect();
        let record = self.run_record(
            RunMode::Preview,
            started,
            report.plan.tally(),
            reached,
            reviewed,
        );
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
        let choice = Choice::Reviewed {
            // Sets, not lists: every item is looked up, and scanning a list of 20,000
            // fingerprints for each of 20,000 items took seconds (quadratic in the run's size).
            reviewed: reviewed.iter().map(String::as_str).collect(),
            records: self.resolve_selection(selection)?.into_iter().collect(),
            shown: selection.fingerprints.iter().map(String::as_str).collect(),
        };
        let running = Running::start(RunMode::Manual, self.now());
        self.execute(RunMode::Manual, &choice, progress, &running.0)
            .await
    }

    /// A scheduled run: pull, plan, apply everything that is not ignored.
    pub async fn automatic(&self) -> Result<RunReport, SyncError> {
        let _running = RUNNING.lock().await;
        if !self.reviewed_before()? {
            return Err(SyncError::NotReviewed);
        }
        let running = Running::start(RunMode::Automatic, self.now());
        self.execute(
            RunMode::Automatic,
            &Choice::Everything,
            &|_, _| {},
            &running.0,
        )
        .await
    }

    /// When the last automatic or manual run that included `kind` finished.
    pub fn last_run(&self, kind: RecordKind) -> Result<Option<DateTime<Utc>>, SyncError> {
        let runs = read::runs(&self.store.read()?, usize::MAX)?;
        Ok(runs
            .iter()
            .find(|(_, r)| r.mode != RunMode::Preview && r.kinds.contains(&kind))
            .and_then(|(_, r)| DateTime::from_timestamp_millis(r.finished_ms)))
    }

    /// Whether a manual run was applied before (automatic runs wait for one).
    pub fn reviewed_before(&self) -> Result<bool, SyncError> {
        Ok(reviewed_before(&self.store)?)
    }

    /// The fingerprints the latest preview showed, unless a run was applied after it.
    fn last_preview(&self) -> Result<Option<Vec<String>>, SyncError> {
        let runs = read::runs(&self.store.read()?, 1)?;
        Ok(runs
            .into_iter()
            .next()
            .filter(|(_, r)| r.mode == RunMode::Preview)
            .map(|(_, r)| r.reviewed))
    }

    fn resolve_selection(&self, selection: &Selection) -> Result<Vec<RecordId>, SyncError> {
        let txn = self.store.read()?;
        selection
            .records
            .iter()
            .map(|name| {
                read::find_record(&txn, name)?.ok_or_else(|| SyncError::UnknownRecord(name.clone()))
            })
            .collect()
    }

    /// Carry out the chosen items of the plan, a window of records at a time: choose in one pass
    /// over the plan, then plan each window of the chosen records again and carry out its steps
    /// on every side before the next. An automatic run pulls first.
    async fn execute(
        &self,
        mode: RunMode,
        choice: &Choice<'_>,
        progress: &(dyn Fn(u64, u64) + Sync),
        halt: &Halt,
    ) -> Result<RunReport, SyncError> {
        let started = self.now();
        let mut report = RunReport::default();
        let mut reached = Reached::default();
        let connection = self.reach_salesforce(&mut reached, halt).await;
        let connectors = self.reach_connectors(&mut reached).await;
        if mode == RunMode::Automatic {
            if let Some(connection) = &connection
                && let Err(e) = self.pull(connection, &mut report).await
            {
                reached.failed(Side::SALESFORCE, e);
            }
            for connector in &connectors {
                if let Err(e) = self.pull_connector(connector, &mut report).await {
                    reached.failed(connector.side(), e);
                }
            }
            report.unread = reached.unread();
        }
        crate::store::ensure_default_collections(&self.store, &self.writer).await?;
        let planner = self.planner(inputs::Purpose::Run);
        let size = self.window.max(1);
        let chosen = choice::choose(&self.store, &planner, choice, size)?;
        report.held_back = chosen.held_back;
        Running::advance(0, chosen.steps);
        let mut run = Carrying {
            connection,
            connectors,
            reached,
            results: Vec::new(),
            progress: Progress {
                done: 0,
                total: chosen.steps,
                report: progress,
            },
            halted: false,
        };
        let confirmed = format!("run-{}", self.now().timestamp_millis());
        for records in chosen.records.chunks(size) {
            if run.halted {
                break;
            }
            // Planned again as the store holds them now: an earlier window's writes may have
            // moved a record on, and then it is no longer what was chosen.
            let mut window = planner.records(&self.store, records)?;
            window.items.retain(|item| choice.take(item) == Taken::Kept);
            if mode == RunMode::Manual && !window.items.is_empty() {
                let confirm = Draft {
                    origin: Origin::new(Side::TANDEM, "cli:sync-apply"),
                    body: DraftBody::Decision(Decision::Confirm {
                        run: confirmed.clone(),
                        records: window.items.iter().map(|i| i.record.clone()).collect(),
                    }),
                };
                self.writer.append(confirm).await?;
            }
            self.carry_out(&mut run, &window, halt).await;
        }
        let total = chosen.steps;
        Running::advance(total, total);
        (run.progress.report)(total, total);
        let mut reached = run.reached;
        if let Some(connection) = &run.connection {
            reached.used(Side::SALESFORCE, connection);
        }
        for connector in &run.connectors {
            reached.used_connector(connector);
        }
        let mut record = self.run_record(mode, started, chosen.tally, reached, Vec::new());
        record.results = run.results;
        self.record(&record).await?;
        report.halted = run.halted;
        report.record = Some(record);
        Ok(report)
    }

    /// Carry out the steps of one window of the plan on every side: the desktop's through the
    /// log, then Salesforce's and each connector's in batches. A side that ended its part in an
    /// earlier window (offline, limits) gets each step back as not sent, saying why.
    async fn carry_out(&self, run: &mut Carrying<'_>, plan: &Plan, halt: &Halt) {
        let mut to_salesforce = Vec::new();
        let mut to_connectors: BTreeMap<Side, Vec<_>> = BTreeMap::new();
        // Desktop writes are queued and their outcomes awaited later (each fills in its own
        // result): awaiting each before the next cost one commit, an fsync, per record — 10,000
        // in a first sync. The writer still appends them in order, each on its own condition.
        let mut queued: VecDeque<(usize, desktop::Queued)> = VecDeque::new();
        let results = &mut run.results;
        for item in &plan.items {
            if halt.raised() {
                run.halted = true;
                break;
            }
            let rules = self.settings.rules(item.kind);
            let running: Vec<(Side, &tandem_protocol::plan::Step)> =
                item.steps().filter(|(_, s)| s.runs()).collect();
            let mut written = item.heads.clone();
            if running.iter().any(|(_, s)| s.restore) {
                // A deletion could not travel: bring the record back to life first.
                match self.undelete(item, &written).await {
                    Ok(heads) => written = heads,
                    Err(e) => {
                        for (side, step) in running {
                            results.push(result(item, side, step.op, Some(e.to_string())));
                        }
                        continue;
                    }
                }
            }
            for (side, step) in running {
                if side == Side::DESKTOP {
                    match desktop::submit(
                        &self.store,
                        &self.writer,
                        &rules,
                        item,
                        step,
                        written.clone(),
                    )
                    .await
                    {
                        Ok(write) => {
                            queued.push_back((results.len(), write));
                            results.push(result(item, side, step.op, None));
                        }
                        Err(e) => {
                            results.push(result(item, side, step.op, Some(e.to_string())));
                            run.progress.step();
                        }
                    }
                    // A window, so progress moves and a long run does not hold every write.
                    settle(
                        &mut queued,
                        results,
                        DESKTOP_WRITES_IN_FLIGHT,
                        &mut run.progress,
                    )
                    .await;
                } else if side == Side::SALESFORCE {
                    to_salesforce.push((item, step, written.clone()));
                } else {
                    to_connectors
                        .entry(side)
                        .or_default()
                        .push((item, step, written.clone()));
                }
            }
        }
        settle(&mut queued, results, 0, &mut run.progress).await;
        let reached = &mut run.reached;
        match (&run.connection, to_salesforce.is_empty()) {
            (_, true) => {}
            (Some(connection), false) if !reached.unreachable.contains_key(&Side::SALESFORCE) => {
                let rules = |kind| self.settings.rules(kind);
                let (pushed, stopped) = connection
                    .push(&self.store, &self.writer, to_salesforce, &rules)
                    .await;
                results.extend(pushed);
                match stopped {
                    Some(ClientError::Halted) => run.halted = true,
                    Some(stopped) => reached.failed(Side::SALESFORCE, stopped),
                    None => {}
                }
            }
            _ => {
                let why = reached.why_not(Side::SALESFORCE, SyncError::NotConnected);
                for (item, step, _) in to_salesforce {
                    results.push(not_sent(item, Side::SALESFORCE, step.op, &why));
                }
            }
        }
        for (side, steps) in to_connectors {
            let connector = run.connectors.iter().find(|c| c.side() == side);
            match connector {
                Some(connector) if !reached.unreachable.contains_key(&side) => {
                    let (pushed, stopped) = connector.push(&self.store, &self.writer, steps).await;
                    results.extend(pushed);
                    if let Some(stopped) = stopped {
                        reached.failed(side, stopped);
                    }
                }
                _ => {
                    let why = reached.why_not(side, SyncError::NoConnector(side));
                    for (item, step, _) in steps {
                        results.push(not_sent(item, side, step.op, &why));
                    }
                }
            }
        }
    }

    fn run_record(
        &self,
        mode: RunMode,
        started: DateTime<Utc>,
        tally: Tally,
        reached: Reached,
        reviewed: Vec<String>,
    ) -> RunRecord {
        RunRecord {
            mode,
            started_ms: started.timestamp_millis(),
            finished_ms: self.now().timestamp_millis(),
            kinds: self.kinds(),
            tally,
            reviewed,
            results: Vec::new(),
            unreachable: reached.unreachable,
            api: reached.api,
        }
    }

    /// Append a tandem change that un-deletes a record, on top of `heads`; the new heads.
    async fn undelete(&self, item: &Item, heads: &[Hlc]) -> Result<Vec<Hlc>, SyncError> {
        let draft = Draft {
            origin: Origin::new(Side::TANDEM, "sync:restore"),
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
            origin: Origin::new(Side::TANDEM, format!("sync:{}", run.mode.as_str())),
            body: DraftBody::Run(run.clone()),
        };
        self.writer.append(draft).await?;
        Ok(())
    }
}

/// Steps done out of the run's total, reported as they finish.
struct Progress<'a> {
    done: u64,
    total: u64,
    report: &'a (dyn Fn(u64, u64) + Sync),
}

impl Progress<'_> {
    fn step(&mut self) {
        self.done += 1;
        Running::advance(self.done, self.total);
        (self.report)(self.done, self.total);
    }
}

/// Await the outcomes of the queued desktop writes but the newest `keep`, filling in their
/// results.
async fn settle(
    queued: &mut VecDeque<(usize, desktop::Queued)>,
    results: &mut [StepResult],
    keep: usize,
    progress: &mut Progress<'_>,
) {
    let ready = queued.len().saturating_sub(keep);
    for (at, write) in queued.drain(..ready) {
        results[at].error = write.outcome().await.err().map(|e| e.to_string());
        progress.step();
    }
}

fn not_sent(item: &Item, side: Side, op: Op, why: &str) -> StepResult {
    result(item, side, op, Some(format!("not sent: {why}")))
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
