//! Benchmark of the Outlook connector: a seeded mailbox in the Graph emulator (5,000 contacts,
//! 2,000 events, 1,000 tasks by default), the Salesforce emulator and the CalDAV/CardDAV server
//! on a scratch store, and the sync engine between the three. It measures the first sync
//! (preview + apply) and an incremental automatic run after 100 changes on each side (Outlook,
//! Salesforce, and the desktop over HTTP): wall time and the Graph requests each made, next to
//! the fewest the API allows (delta pages of 200, then one `$batch` per 20 writes). Prints
//! figures; asserts nothing.
//!
//! Run with `cargo bench --bench outlook` (release build). Sizes: `TANDEM_BENCH_CONTACTS`,
//! `TANDEM_BENCH_EVENTS`, `TANDEM_BENCH_TASKS`; changes per side: `TANDEM_BENCH_CHANGES` (100).

#[path = "../tests/common/outlook.rs"]
mod outlook;

use serde_json::{Map, Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tandem::config::{OutlookSettings, SalesforceSettings, Settings};
use tandem::dav;
use tandem::dav::auth::Credentials;
use tandem::engine::sync::{Reach, RunReport, Selection, SyncEngine};
use tandem::protocol::Side;
use tandem::salesforce::client::SalesforceClient;
use tandem::store::{Store, Writer, system_clock};
use tandem_graph_emulator::{GraphEmulator, GraphHandle, Kind};
use tandem_salesforce_emulator::{Emulator, EmulatorConfig, EmulatorHandle};

const USER: &str = "bench";
const PASSWORD: &str = "bench";
const CONTACTS: &str = "/dav/addressbooks/contacts/";
/// Items per delta page tandem asks for, and writes per `$batch`.
const PAGE: u64 = 200;
const BATCH: u64 = 20;

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

struct Rig {
    store: Arc<Store>,
    writer: Writer,
    settings: Settings,
    dir: tempfile::TempDir,
    base: String,
    http: reqwest::Client,
    _server: dav::LocalServer,
}

impl Rig {
    async fn start(emu: &EmulatorHandle, graph: &GraphHandle) -> Rig {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(Store::open_or_create(dir.path()).unwrap());
        outlook::sign_in(graph, dir.path()).await;
        let mut settings = Settings::load(dir.path()).unwrap();
        settings.outlook = OutlookSettings {
            backoff_base_ms: 0,
            backoff_max_ms: 0,
            ..settings.outlook
        };
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

    fn engine(&self) -> SyncEngine {
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
}

fn failures(report: &RunReport) -> usize {
    report.record.as_ref().map_or(0, |r| r.failures().count())
}

/// Graph requests made while `f` ran, and its wall time.
async fn measured<F: std::future::Future<Output = T>, T>(
    graph: &GraphHandle,
    f: F,
) -> (T, u64, Duration) {
    let (before, started) = (graph.requests(), Instant::now());
    let out = f.await;
    (out, graph.requests() - before, started.elapsed())
}

fn main() {
    let contacts = env_or("TANDEM_BENCH_CONTACTS", 5_000usize);
    let events = env_or("TANDEM_BENCH_EVENTS", 2_000usize);
    let tasks = env_or("TANDEM_BENCH_TASKS", 1_000usize);
    let changes = env_or("TANDEM_BENCH_CHANGES", 100usize);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    runtime.block_on(bench(contacts, events, tasks, changes));
}

async fn bench(contacts: usize, events: usize, tasks: usize, changes: usize) {
    let emu = Emulator::start(EmulatorConfig {
        daily_api_limit: 10_000_000,
        ..EmulatorConfig::default()
    })
    .await
    .unwrap();
    let graph = GraphEmulator::start().await.unwrap();
    graph.seed(contacts, events, tasks).unwrap();
    let rig = Rig::start(&emu, &graph).await;
    println!(
        "tandem Outlook benchmark: a mailbox of {contacts} contacts (nine in ten categorised), {events} events (every tenth a weekly series of ten), {tasks} tasks"
    );

    // First sync: everything in Outlook reaches Salesforce and the desktop.
    let engine = rig.engine();
    let (preview, preview_requests, preview_time) = measured(&graph, engine.preview()).await;
    let preview = preview.unwrap();
    let (applied, apply_requests, apply_time) =
        measured(&graph, engine.apply(&Selection::default(), &|_, _| {})).await;
    let applied = applied.unwrap();
    let steps = applied.record.as_ref().map_or(0, |r| r.results.len());
    let pulled: usize = preview
        .pulled
        .get(&Side::OUTLOOK)
        .map(|kinds| kinds.values().map(|p| p.created).sum())
        .unwrap_or(0);
    // Fewest: a token, the container lookups (contact folders, lists, calendar), then each
    // container's delta pages: the main contact folder, the synced folder (empty: one page),
    // the list, and the calendar view — which lists a series' master and each occurrence (the
    // seed makes every tenth event a series of ten: twice as many items as events). Nothing
    // is written to Outlook.
    let lookups = 1 + 3;
    let view_items = 2 * events as u64;
    let fewest = lookups
        + (contacts as u64).div_ceil(PAGE)
        + 1
        + (tasks as u64).div_ceil(PAGE)
        + view_items.div_ceil(PAGE);
    println!(
        "first sync: {:.2} s (preview {:.2} s + apply {:.2} s); {pulled} items read from Outlook, {steps} steps ({} failed); Graph requests {} (fewest {fewest})",
        (preview_time + apply_time).as_secs_f64(),
        preview_time.as_secs_f64(),
        apply_time.as_secs_f64(),
        failures(&applied),
        preview_requests + apply_requests,
    );

    // Incremental: `changes` on each side, then one automatic run.
    let main = graph.mailbox(|m| {
        m.folders
            .iter()
            .find(|f| f.name == "Contacts" && f.kind == Kind::Contact)
            .map(|f| f.id.clone())
            .unwrap()
    });
    let now = graph.now();
    let outlook_items: Vec<String> = graph.mailbox(|m| {
        m.in_folder(&main)
            .into_iter()
            .filter(|i| {
                i.fields
                    .get("categories")
                    .is_some_and(|c| c.as_array().is_some_and(|a| !a.is_empty()))
            })
            .take(changes)
            .map(|i| i.immutable_id.clone())
            .collect()
    });
    for id in &outlook_items {
        let body: Map<String, Value> = json!({"jobTitle": "changed in Outlook"})
            .as_object()
            .cloned()
            .unwrap();
        graph
            .mailbox(|m| m.update(id, Kind::Contact, &body, None, now))
            .unwrap();
    }
    let sf_ids: Vec<String> = emu.org().with(|org| {
        let object = org.schema.object_index("Contact").unwrap();
        org.records(object).map(|r| r.id.clone()).collect()
    });
    for id in sf_ids.iter().rev().take(changes) {
        emu.org()
            .update(
                "Contact",
                id,
                json!({"Department": "changed in Salesforce"}),
            )
            .unwrap();
    }
    let listing = rig
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
    let mut desktop = 0;
    for href in hrefs.iter().skip(changes).take(changes) {
        let card = rig
            .dav("GET", href)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let edited = card.replace("END:VCARD", "NOTE:changed on the desktop\r\nEND:VCARD");
        let status = rig
            .dav("PUT", href)
            .header("Content-Type", "text/vcard")
            .body(edited)
            .send()
            .await
            .unwrap()
            .status();
        desktop += usize::from(status.is_success());
    }
    let (run, requests, time) = measured(&graph, engine.automatic()).await;
    let run = run.unwrap();
    let record = run.record.as_ref().unwrap();
    let to_outlook = record
        .results
        .iter()
        .filter(|r| r.side == Side::OUTLOOK)
        .count() as u64;
    // Fewest: the token and lookups, one delta page per container, and the writes to Outlook
    // in batches of 20 (tandem also reads the items it changes, 20 to a batch, to keep what it
    // does not map).
    let fewest = lookups + 4 + to_outlook.div_ceil(BATCH);
    println!(
        "incremental run ({} Outlook, {} Salesforce, {desktop} desktop changes): {:.2} s; {} steps ({} failed), {to_outlook} to Outlook; Graph requests {requests} (fewest {fewest})",
        outlook_items.len(),
        changes.min(sf_ids.len()),
        time.as_secs_f64(),
        record.results.len(),
        failures(&run),
    );
    let idle_engine = rig.engine();
    let (idle, requests, time) = measured(&graph, idle_engine.preview()).await;
    let idle = idle.unwrap();
    println!(
        "idle preview: {:.2} s, {} items to do; Graph requests {requests} (fewest {})",
        time.as_secs_f64(),
        idle.plan.items.iter().filter(|i| i.runs()).count(),
        lookups + 4,
    );
}
