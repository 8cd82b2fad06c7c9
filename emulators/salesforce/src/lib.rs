//! A faithful Salesforce REST API emulator (hyper server): OAuth, limits, SOQL with paging, replication,
//! sObject rows/collections/composite, event series and fault injection, for tests, benchmarks and the demo.

pub mod clock;
pub mod collections;
pub mod composite;
pub mod control;
pub mod describe;
pub mod errors;
pub mod faults;
pub mod http;
pub mod ids;
pub mod limits;
pub mod oauth;
pub mod org;
pub mod query;
pub mod replication;
pub mod rows;
pub mod rules;
pub mod schema;
pub mod seed;
pub mod series;
pub mod snapshot;
pub mod soql;
pub mod validate;
pub mod value;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};

use chrono::{DateTime, Duration, Utc};
use serde_json::{Map, Value as Json};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use clock::{Clock, FixedClock, SystemClock};
pub use control::ControlRequest;
pub use errors::ApiError;
pub use faults::{FaultKind, FaultSettings};
pub use schema::{ExternalIdField, TaskStatusDef};
pub use snapshot::{Snapshot, SnapshotError};

use clock::ShiftedClock;
use faults::Faults;
use limits::ApiUsage;
use oauth::{AuthConfig, Sessions};
use org::{Org, WriteCtx};
use query::Cursors;

/// The API version tests and the demo use by default.
pub const DEFAULT_API_VERSION: &str = "60.0";

#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid emulator configuration: {0}")]
    Config(String),
    #[error(transparent)]
    Kept(#[from] SnapshotError),
}

/// How to start an emulator. `Default` gives an empty org on 127.0.0.1:0 with a Developer Edition limit.
#[derive(Clone)]
pub struct EmulatorConfig {
    /// Where to listen; `None` = 127.0.0.1 on a free port.
    pub listen: Option<SocketAddr>,
    /// Seed of the demo org; `None` = only users and the TaskStatus table.
    pub seed: Option<u64>,
    /// Daily (rolling 24 h) API request allocation; Developer Edition has 15,000.
    pub daily_api_limit: u64,
    /// Session timeout; Salesforce's default is 2 hours after the last activity.
    pub access_token_ttl: Duration,
    /// Refresh-token rotation: a refresh returns a new refresh token and spends the old one.
    pub rotate_refresh_tokens: bool,
    pub clock: Arc<dyn Clock>,
    /// The connected app's consumer key and secret, and the refresh token the org starts with.
    pub client_id: String,
    pub client_secret: String,
    pub refresh_token: String,
    /// Username and time zone of the user every token acts as (JWT `sub` must name an active user).
    pub username: String,
    pub user_time_zone: String,
    /// Custom external-id fields the org has (default: non-unique `Tandem_Id__c` on Contact, Event, Task).
    pub external_id_fields: Vec<ExternalIdField>,
    /// The TaskStatus table (which Task.Status values close a task).
    pub task_statuses: Vec<TaskStatusDef>,
    /// Seed of the fault-injection RNG.
    pub fault_seed: u64,
    /// How far ahead open-ended event series are materialised.
    pub series_horizon_days: i64,
    /// Keep the org in this file: start from it when it exists (the seed is then not used), and
    /// write every change to it. `None`: the org lives in memory only.
    pub org_file: Option<PathBuf>,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        EmulatorConfig {
            listen: None,
            seed: None,
            daily_api_limit: 15_000,
            access_token_ttl: Duration::hours(2),
            rotate_refresh_tokens: false,
            clock: Arc::new(SystemClock),
            client_id: "tandem-demo".into(),
            client_secret: "tandem-demo-secret".into(),
            refresh_token: "5Aep861tandemDemoRefreshToken".into(),
            username: "demo@tandem.example".into(),
            user_time_zone: "Europe/Berlin".into(),
            external_id_fields: schema::default_external_ids(),
            task_statuses: schema::default_task_statuses(),
            fault_seed: 0,
            series_horizon_days: 365,
            org_file: None,
        }
    }
}

impl std::fmt::Debug for EmulatorConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmulatorConfig")
            .field("listen", &self.listen)
            .field("seed", &self.seed)
            .field("daily_api_limit", &self.daily_api_limit)
            .field("access_token_ttl", &self.access_token_ttl)
            .field("rotate_refresh_tokens", &self.rotate_refresh_tokens)
            .field("client_id", &self.client_id)
            .field("username", &self.username)
            .field("user_time_zone", &self.user_time_zone)
            .field("external_id_fields", &self.external_id_fields)
            .field("fault_seed", &self.fault_seed)
            .field("org_file", &self.org_file)
            .finish_non_exhaustive()
    }
}

/// Everything a running emulator shares between connections. Locks are taken one at a time, in the
/// order org → cursors when both are needed, and never across an `.await`.
pub struct State {
    pub clock: ShiftedClock,
    pub org: Mutex<Org>,
    pub sessions: Mutex<Sessions>,
    pub usage: Mutex<ApiUsage>,
    pub faults: Mutex<Faults>,
    pub cursors: Mutex<Cursors>,
    pub base_url: String,
    /// Where the org is kept, if it is.
    pub kept: Option<Kept>,
}

/// The file an org is kept in, and how far it is written.
pub struct Kept {
    pub path: PathBuf,
    pub seed: Option<u64>,
    /// `Org::changes` when the file was last written.
    written: Mutex<u64>,
}

impl State {
    /// Write the org to its file if it changed since the last write. Called after every request,
    /// with the org locked, so files are written in the order of the changes.
    pub fn keep(&self) {
        let Some(kept) = &self.kept else {
            return;
        };
        let org = lock(&self.org);
        let mut written = lock(&kept.written);
        if org.changes == *written {
            return;
        }
        match Snapshot::of(&org, kept.seed).write(&kept.path) {
            Ok(()) => *written = org.changes,
            Err(e) => tracing::warn!("{e}; the org's changes are kept in memory only"),
        }
    }
}

/// Locks a mutex, recovering the data if a panicking thread poisoned it.
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

pub struct Emulator;

impl Emulator {
    /// Builds the org (and the demo data for `config.seed`) and starts serving.
    pub async fn start(config: EmulatorConfig) -> Result<EmulatorHandle, EmulatorError> {
        if config.user_time_zone.parse::<chrono_tz::Tz>().is_err() {
            return Err(EmulatorError::Config(format!(
                "user_time_zone '{}' is not a time zone id",
                config.user_time_zone
            )));
        }
        if config.task_statuses.is_empty() {
            return Err(EmulatorError::Config(
                "task_statuses must not be empty".into(),
            ));
        }
        let addr = config
            .listen
            .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 0)));
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| EmulatorError::Bind { addr, source })?;
        let local = listener
            .local_addr()
            .map_err(|source| EmulatorError::Bind { addr, source })?;
        let base_url = format!("http://{local}");
        let clock = ShiftedClock::new(config.clock.clone());
        let now = clock.now();
        let (org, kept) = match &config.org_file {
            None => (seed::build_org(&config, now), None),
            Some(path) => {
                let (org, seed) = match Snapshot::read(path)? {
                    Some(snapshot) => {
                        let seed = snapshot.seed;
                        let schema = Arc::new(schema::Schema::new(
                            &config.external_id_fields,
                            &config.task_statuses,
                        ));
                        let org = snapshot.into_org(
                            schema,
                            config.task_statuses.clone(),
                            config.series_horizon_days.max(1),
                            path,
                        )?;
                        (org, seed)
                    }
                    None => {
                        let org = seed::build_org(&config, now);
                        Snapshot::of(&org, config.seed).write(path)?;
                        (org, config.seed)
                    }
                };
                let kept = Kept {
                    path: path.clone(),
                    seed,
                    written: Mutex::new(org.changes),
                };
                (org, Some(kept))
            }
        };
        let sessions = Sessions::new(
            AuthConfig {
                client_id: config.client_id.clone(),
                client_secret: config.client_secret.clone(),
                refresh_token: config.refresh_token.clone(),
                access_token_ttl: config.access_token_ttl,
                rotate_refresh_tokens: config.rotate_refresh_tokens,
            },
            &org.current_user,
            config.seed.unwrap_or(0),
        );
        let state = Arc::new(State {
            clock,
            org: Mutex::new(org),
            sessions: Mutex::new(sessions),
            usage: Mutex::new(ApiUsage::new(config.daily_api_limit)),
            faults: Mutex::new(Faults::new(config.fault_seed)),
            cursors: Mutex::new(Cursors::default()),
            base_url,
            kept,
        });
        let (tx, rx) = oneshot::channel();
        let task = tokio::spawn(http::serve(listener, state.clone(), rx));
        tracing::info!(addr = %local, "Salesforce emulator listening");
        Ok(EmulatorHandle {
            state,
            addr: local,
            shutdown: Some(tx),
            task: Some(task),
        })
    }
}

/// A running emulator. Dropping it stops the server.
pub struct EmulatorHandle {
    state: Arc<State>,
    addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl EmulatorHandle {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`: both the login URL and the instance URL.
    pub fn base_url(&self) -> String {
        self.state.base_url.clone()
    }

    /// `{base}/services/data/v60.0{path}`.
    pub fn data_url(&self, path: &str) -> String {
        format!(
            "{}/services/data/v{DEFAULT_API_VERSION}{path}",
            self.state.base_url
        )
    }

    pub fn faults(&self) -> FaultControl<'_> {
        FaultControl { state: &self.state }
    }

    pub fn org(&self) -> OrgControl<'_> {
        OrgControl { state: &self.state }
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.state.clock.now()
    }

    /// Moves the emulator's clock forward (token expiry, replication windows, recycle-bin purge).
    pub fn advance_clock(&self, by: Duration) {
        self.state.clock.advance(by);
    }

    /// Every access token stops working now (the next data call gets 401 INVALID_SESSION_ID).
    pub fn expire_access_tokens(&self) {
        lock(&self.state.sessions).expire_all_access();
    }

    /// Every refresh token is revoked (the next refresh gets 400 invalid_grant).
    pub fn revoke_refresh_tokens(&self) {
        lock(&self.state.sessions).revoke_all_refresh();
    }

    /// An access token for the logged-in user, without going through the token endpoint.
    pub fn issue_access_token(&self) -> String {
        let (org_id, user) = {
            let org = lock(&self.state.org);
            (org.org_id.clone(), org.current_user.clone())
        };
        let client = lock(&self.state.sessions).config.client_id.clone();
        lock(&self.state.sessions).issue_access(&org_id, &user, &client, self.now())
    }

    pub fn client_id(&self) -> String {
        lock(&self.state.sessions).config.client_id.clone()
    }

    pub fn client_secret(&self) -> String {
        lock(&self.state.sessions).config.client_secret.clone()
    }

    /// The refresh token the org was configured with (spent after its first use when rotation is on).
    pub fn initial_refresh_token(&self) -> String {
        lock(&self.state.sessions).config.refresh_token.clone()
    }

    /// API usage in the rolling 24-hour window: (used, max).
    pub fn api_usage(&self) -> (u64, u64) {
        lock(&self.state.usage).used(self.now())
    }

    /// Applies a control request (the same JSON as `POST /__emulator/faults`) and returns the state dump.
    pub fn control(&self, req: &ControlRequest) -> Json {
        control::apply(&self.state, req);
        control::state_json(&self.state)
    }

    /// The debugging dump served at `GET /__emulator/state`.
    pub fn state_json(&self) -> Json {
        control::state_json(&self.state)
    }

    /// Stops accepting connections and waits for the server task to end.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for EmulatorHandle {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// In-process fault control (same effect as `POST /__emulator/faults`).
pub struct FaultControl<'a> {
    state: &'a State,
}

impl FaultControl<'_> {
    pub fn settings(&self) -> FaultSettings {
        lock(&self.state.faults).settings.clone()
    }

    pub fn set(&self, settings: FaultSettings) {
        lock(&self.state.faults).settings = settings;
    }

    pub fn update(&self, f: impl FnOnce(&mut FaultSettings)) {
        f(&mut lock(&self.state.faults).settings);
    }

    /// The next `count` API requests fail with `kind` (UnableToLockRow waits for writes).
    pub fn enqueue(&self, kind: FaultKind, count: usize) {
        lock(&self.state.faults).enqueue(kind, count);
    }

    /// Clears settings and queue.
    pub fn clear(&self) {
        let mut f = lock(&self.state.faults);
        f.settings = FaultSettings::default();
        f.clear_queue();
    }

    pub fn reseed(&self, seed: u64) {
        lock(&self.state.faults).reseed(seed);
    }
}

/// In-process access to the org, for tests that set up or inspect data without API calls.
pub struct OrgControl<'a> {
    state: &'a State,
}

impl OrgControl<'_> {
    fn ctx(&self, org: &Org) -> WriteCtx {
        WriteCtx {
            now: self.state.clock.now(),
            user_id: org.current_user.clone(),
        }
    }

    /// Runs `f` with the org locked. Don't call back into the emulator's HTTP API from inside.
    pub fn with<R>(&self, f: impl FnOnce(&mut Org) -> R) -> R {
        f(&mut lock(&self.state.org))
    }

    pub fn current_user_id(&self) -> String {
        lock(&self.state.org).current_user.clone()
    }

    pub fn org_id(&self) -> String {
        lock(&self.state.org).org_id.clone()
    }

    /// The id of the user with this username.
    pub fn user_id(&self, username: &str) -> Option<String> {
        seed::user_by_username(&lock(&self.state.org), username)
    }

    /// Number of records of an object, with or without the recycle bin.
    pub fn count(&self, object: &str, include_deleted: bool) -> usize {
        let org = lock(&self.state.org);
        let Some(obj) = org.schema.object_index(object) else {
            return 0;
        };
        org.records(obj)
            .filter(|r| include_deleted || r.deleted_at.is_none())
            .count()
    }

    /// A record as sObject Rows GET would render it (recycle bin included), or `None` once purged/unknown.
    pub fn get(&self, id: &str) -> Option<Json> {
        let org = lock(&self.state.org);
        let now = self.state.clock.now();
        org.any(id)
            .map(|r| org.render(r, None, DEFAULT_API_VERSION, now).to_json())
    }

    pub fn is_deleted(&self, id: &str) -> Option<bool> {
        lock(&self.state.org)
            .any(id)
            .map(|r| r.deleted_at.is_some())
    }

    /// Creates a record as the logged-in user, with the same validation as the API.
    pub fn create(&self, object: &str, fields: Json) -> Result<String, ApiError> {
        let mut org = lock(&self.state.org);
        let obj = org
            .schema
            .object_index(object)
            .ok_or_else(ApiError::not_found)?;
        let ctx = self.ctx(&org);
        org.create(obj, &as_map(fields), &ctx)
    }

    pub fn update(&self, object: &str, id: &str, fields: Json) -> Result<(), ApiError> {
        let mut org = lock(&self.state.org);
        let obj = org
            .schema
            .object_index(object)
            .ok_or_else(ApiError::not_found)?;
        let ctx = self.ctx(&org);
        org.update(obj, id, &as_map(fields), &ctx)
    }

    pub fn delete(&self, id: &str) -> Result<(), ApiError> {
        let mut org = lock(&self.state.org);
        let ctx = self.ctx(&org);
        org.delete(None, id, &ctx)
    }

    pub fn undelete(&self, id: &str) -> Result<(), ApiError> {
        let mut org = lock(&self.state.org);
        let ctx = self.ctx(&org);
        org.undelete(id, &ctx)
    }

    /// Hard-deletes everything in the recycle bin; `deleted` then reports a later `earliestDateAvailable`.
    pub fn empty_recycle_bin(&self) {
        let now = self.state.clock.now();
        lock(&self.state.org).empty_recycle_bin(now);
    }
}

fn as_map(fields: Json) -> Map<String, Json> {
    match fields {
        Json::Object(m) => m,
        _ => Map::new(),
    }
}
