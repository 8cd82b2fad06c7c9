//! What the connector benchmarks (Outlook, Notes) share: a scratch store with the
//! CalDAV/CardDAV server, the Salesforce emulator's org signed in to, a sync engine over them,
//! the desktop's edits over HTTP, and measuring a run's wall time and requests.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tandem::config::{SalesforceSettings, Settings};
use tandem::dav;
use tandem::dav::auth::Credentials;
use tandem::engine::sync::{Reach, RunReport, Selection, SyncEngine};
use tandem::protocol::Side;
use tandem::salesforce::client::SalesforceClient;
use tandem::store::{Store, Writer, system_clock};
use tandem_salesforce_emulator::EmulatorHandle;

const USER: &str = "bench";
const PASSWORD: &str = "bench";
pub const CONTACTS: &str = "/dav/addressbooks/contacts/";

/// A size from the environment, or its default.
pub fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

pub struct Rig {
    store: Arc<Store>,
    writer: Writer,
    settings: Settings,
    dir: tempfile::TempDir,
    base: String,
    http: reqwest::Client,
    _server: dav::LocalServer,
}

impl Rig {
    /// A store in a new directory that `sign_in` signs the connector in to (its settings file
    /// then holds the connector's section), with `emu`'s org as Salesforce.
    pub async fn start<F: Future<Output = ()>>(
        emu: &EmulatorHandle,
        sign_in: impl FnOnce(std::path::PathBuf) -> F,
    ) -> Rig {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(Store::open_or_create(dir.path()).unwrap());
        sign_in(dir.path().to_path_buf()).await;
        let mut settings = Settings::load(dir.path()).unwrap();
        // Backoff would only measure sleeping.
        settings.outlook.backoff_base_ms = 0;
        settings.outlook.backoff_max_ms = 0;
        settings.notes.backoff_base_ms = 0;
        settings.notes.backoff_max_ms = 0;
        settings.salesforce = SalesforceSettings {
            login_url: emu.base_url(),
            client_id: Some(emu.client_id()),
            client_secret: Some(emu.client_secret()),
            refresh_token: Some(emu.initial_refresh_token()),
            max_calls_per_run: 1_000_000,
            ..SalesforceSettings::default()
        };
        let writer = Writer::spawn(store.clone(), settings.policies(), system_clock()).unwrap();
        let credentials = Credentials {
            user: USER.into(),
            password: PASSWORD.into(),
        };
        let server = dav::LocalServer::start(store.clone(), writer.clone(), credentials)
            .await
            .unwrap();
        Rig {
            base: server.base.clone(),
            store,
            writer,
            settings,
            dir,
            http: reqwest::Client::new(),
            _server: server,
        }
    }

    pub fn engine(&self) -> SyncEngine {
        SyncEngine {
            store: self.store.clone(),
            writer: self.writer.clone(),
            settings: self.settings.clone(),
            dir: self.dir.path().to_path_buf(),
            reach: Reach::Client(
                SalesforceClient::new(self.settings.salesforce.clone(), None).unwrap(),
            ),
            outlook: None,
            wall: system_clock(),
            only: Vec::new(),
            window: tandem::engine::sync::WINDOW,
        }
    }

    fn dav(&self, method: &str, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(
                reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
                format!("{}{path}", self.base),
            )
            .basic_auth(USER, Some(PASSWORD))
    }

    /// The desktop adds a note to `count` contacts (after skipping `skip`) with CardDAV PUTs;
    /// how many the server took.
    pub async fn desktop_edits(&self, skip: usize, count: usize) -> usize {
        let listing = self
            .dav("PROPFIND", CONTACTS)
            .header("Depth", "1")
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let hrefs: Vec<String> = listing
            .split("<D:href>")
            .skip(1)
            .filter_map(|s| s.split("</D:href>").next())
            .filter(|h| h.ends_with(".vcf"))
            .map(str::to_string)
            .collect();
        let mut done = 0;
        for href in hrefs.iter().skip(skip).take(count) {
            let card = self
                .dav("GET", href)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            let edited = card.replace("END:VCARD", "NOTE:changed on the desktop\r\nEND:VCARD");
            let status = self
                .dav("PUT", href)
                .header("Content-Type", "text/vcard")
                .body(edited)
                .send()
                .await
                .unwrap()
                .status();
            done += usize::from(status.is_success());
        }
        done
    }
}

/// Salesforce changes the department of its last `count` contacts; their ids.
fn salesforce_edits(emu: &EmulatorHandle, count: usize) -> Vec<String> {
    let ids: Vec<String> = emu.org().with(|org| {
        let object = org.schema.object_index("Contact").unwrap();
        org.records(object).map(|r| r.id.clone()).collect()
    });
    for id in ids.iter().rev().take(count) {
        emu.org()
            .update(
                "Contact",
                id,
                serde_json::json!({"Department": "changed in Salesforce"}),
            )
            .unwrap();
    }
    ids
}

fn failures(report: &RunReport) -> usize {
    report.record.as_ref().map_or(0, |r| r.failures().count())
}

/// The requests `requests` counted while `f` ran, and its wall time.
async fn measured<F: Future<Output = T>, T>(
    requests: &dyn Fn() -> u64,
    f: F,
) -> (T, u64, Duration) {
    let (before, started) = (requests(), Instant::now());
    let out = f.await;
    (out, requests() - before, started.elapsed())
}

/// The org a benchmark syncs with: its daily API limit out of the way.
pub async fn org() -> EmulatorHandle {
    tandem_salesforce_emulator::Emulator::start(tandem_salesforce_emulator::EmulatorConfig {
        daily_api_limit: 10_000_000,
        ..tandem_salesforce_emulator::EmulatorConfig::default()
    })
    .await
    .unwrap()
}

/// The connector side a benchmark measures, and what counts its requests.
pub struct Measured<'a> {
    pub side: Side,
    pub requests: &'a dyn Fn() -> u64,
}

impl Measured<'_> {
    fn requests_name(&self) -> &'static str {
        let (_, many) = self.side.call_name();
        many
    }

    /// The first sync of every side (a preview, then its apply), printed next to `fewest`.
    pub async fn first_sync(&self, rig: &Rig, fewest: u64) {
        let engine = rig.engine();
        let (preview, preview_requests, preview_time) =
            measured(self.requests, engine.preview()).await;
        let preview = preview.unwrap();
        let (applied, apply_requests, apply_time) = measured(
            self.requests,
            engine.apply(&Selection::default(), &|_, _| {}),
        )
        .await;
        let applied = applied.unwrap();
        let steps = applied.record.as_ref().map_or(0, |r| r.results.len());
        let pulled: usize = preview
            .pulled
            .get(&self.side)
            .map(|kinds| kinds.values().map(|p| p.created).sum())
            .unwrap_or(0);
        println!(
            "first sync: {:.2} s (preview {:.2} s + apply {:.2} s); {pulled} items read from {}, {steps} steps ({} failed); {} {} (fewest {fewest})",
            (preview_time + apply_time).as_secs_f64(),
            preview_time.as_secs_f64(),
            apply_time.as_secs_f64(),
            self.side.title(),
            failures(&applied),
            self.requests_name(),
            preview_requests + apply_requests,
        );
    }

    /// An automatic run after `changed` changes on the connector's side, `changes` in
    /// Salesforce and on the desktop over HTTP; printed next to `fewest`, which the writes it
    /// sent to the connector's side decide.
    pub async fn incremental(
        &self,
        rig: &Rig,
        emu: &EmulatorHandle,
        (changed, changes): (usize, usize),
        fewest: impl Fn(u64) -> u64,
    ) {
        let salesforce = salesforce_edits(emu, changes).len().min(changes);
        let desktop = rig.desktop_edits(changes, changes).await;
        let (run, requests, time) = measured(self.requests, rig.engine().automatic()).await;
        let run = run.unwrap();
        let record = run.record.as_ref().unwrap();
        let written = record
            .results
            .iter()
            .filter(|r| r.side == self.side)
            .count() as u64;
        let side = self.side.title();
        println!(
            "incremental run ({changed} {side}, {salesforce} Salesforce, {desktop} desktop changes): {:.2} s; {} steps ({} failed), {written} to {side}; {} {requests} (fewest {})",
            time.as_secs_f64(),
            record.results.len(),
            failures(&run),
            self.requests_name(),
            fewest(written),
        );
    }

    /// A preview with nothing to do, printed next to `fewest`.
    pub async fn idle(&self, rig: &Rig, fewest: u64) {
        let (idle, requests, time) = measured(self.requests, rig.engine().preview()).await;
        let idle = idle.unwrap();
        println!(
            "idle preview: {:.2} s, {} items to do; {} {requests} (fewest {fewest})",
            time.as_secs_f64(),
            idle.plan.items.iter().filter(|i| i.runs()).count(),
            self.requests_name(),
        );
    }
}
