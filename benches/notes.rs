//! Benchmark of the Notes connector: a seeded mail file in the Domino emulator (3,000 contacts,
//! 2,000 calendar entries, 500 to-dos by default), the Salesforce emulator and the
//! CalDAV/CardDAV server on a scratch store, and the sync engine between the three. It measures
//! the first sync (preview + apply) and an incremental automatic run after 100 changes on each
//! side (Notes, Salesforce, and the desktop over HTTP): wall time and the Domino REST API
//! requests each made, next to the fewest the API allows (DQL pages of 1,000, bulk ETag checks
//! of 1,000, one request per write: the API has no batch that tandem's writes could use).
//! Prints figures; asserts nothing.
//!
//! Run with `cargo bench --bench notes` (release build). Sizes: `TANDEM_BENCH_CONTACTS`,
//! `TANDEM_BENCH_EVENTS`, `TANDEM_BENCH_TASKS`; changes per side: `TANDEM_BENCH_CHANGES` (100).

#[path = "../tests/common/notes.rs"]
mod notes;

use serde_json::{Map, Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tandem::config::{NotesSettings, SalesforceSettings, Settings};
use tandem::dav;
use tandem::dav::auth::Credentials;
use tandem::engine::sync::{Reach, RunReport, Selection, SyncEngine};
use tandem::protocol::Side;
use tandem::salesforce::client::SalesforceClient;
use tandem::store::{Store, Writer, system_clock};
use tandem_domino_emulator::{DominoEmulator, DominoHandle};
use tandem_salesforce_emulator::{Emulator, EmulatorConfig, EmulatorHandle};

const USER: &str = "bench";
const PASSWORD: &str = "bench";
const CONTACTS: &str = "/dav/addressbooks/contacts/";
/// Documents per DQL page and UNIDs per bulk ETag check.
const PAGE: u64 = 1000;

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
    async fn start(emu: &EmulatorHandle, domino: &DominoHandle) -> Rig {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(Store::open_or_create(dir.path()).unwrap());
        notes::log_in(domino, dir.path()).await;
        let mut settings = Settings::load(dir.path()).unwrap();
        settings.notes = NotesSettings {
            backoff_base_ms: 0,
            backoff_max_ms: 0,
            ..settings.notes
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

/// Domino requests made while `f` ran, and its wall time.
async fn measured<F: std::future::Future<Output = T>, T>(
    domino: &DominoHandle,
    f: F,
) -> (T, u64, Duration) {
    let (before, started) = (domino.requests(), Instant::now());
    let out = f.await;
    (out, domino.requests() - before, started.elapsed())
}

fn main() {
    let contacts = env_or("TANDEM_BENCH_CONTACTS", 3_000usize);
    let events = env_or("TANDEM_BENCH_EVENTS", 2_000usize);
    let tasks = env_or("TANDEM_BENCH_TASKS", 500usize);
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
    let domino = DominoEmulator::start().await.unwrap();
    domino.seed(contacts, events, tasks);
    let rig = Rig::start(&emu, &domino).await;
    println!(
        "tandem Notes benchmark: a mail file of {contacts} contacts (half in the CRM category), {events} calendar entries, {tasks} to-dos"
    );

    // First sync: everything in Notes in scope reaches Salesforce and the desktop.
    let engine = rig.engine();
    let (preview, preview_requests, preview_time) = measured(&domino, engine.preview()).await;
    let preview = preview.unwrap();
    let (applied, apply_requests, apply_time) =
        measured(&domino, engine.apply(&Selection::default(), &|_, _| {})).await;
    let applied = applied.unwrap();
    let steps = applied.record.as_ref().map_or(0, |r| r.results.len());
    let pulled: usize = preview
        .pulled
        .get(&Side::NOTES)
        .map(|kinds| kinds.values().map(|p| p.created).sum())
        .unwrap_or(0);
    // Fewest: a login, then one DQL round per document kind (pages of 1,000; a kind whose
    // last page is full takes one more, empty) and the window's calendar listing. tandem also
    // probes what the server lets it reach (the calendar, the scope), in the preview and again
    // in the apply with its login. Nothing is written to Notes.
    let dql = |n: usize| n as u64 / PAGE + 1;
    let fewest = 1 + dql(contacts) + dql(tasks) + 1;
    println!(
        "first sync: {:.2} s (preview {:.2} s + apply {:.2} s); {pulled} items read from Notes, {steps} steps ({} failed); Domino requests {} (fewest {fewest})",
        (preview_time + apply_time).as_secs_f64(),
        preview_time.as_secs_f64(),
        apply_time.as_secs_f64(),
        failures(&applied),
        preview_requests + apply_requests,
    );

    // Incremental: `changes` on each side, then one automatic run.
    let notes_items: Vec<String> = domino.mail_file(|m| {
        m.documents()
            .into_iter()
            .filter(|d| {
                d.form() == Some("Person")
                    && d.item("Categories")
                        .is_some_and(|c| c.to_string().contains("CRM"))
            })
            .take(changes)
            .map(|d| d.unid.clone())
            .collect()
    });
    for unid in &notes_items {
        let items: Map<String, Value> = json!({"JobTitle": "changed in Notes"})
            .as_object()
            .cloned()
            .unwrap();
        domino.mail_file(|m| m.update(unid, items, false).is_some());
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
    let (run, requests, time) = measured(&domino, engine.automatic()).await;
    let run = run.unwrap();
    let record = run.record.as_ref().unwrap();
    let to_notes = record
        .results
        .iter()
        .filter(|r| r.side == Side::NOTES)
        .count() as u64;
    // Fewest: a login, one DQL page per kind (the calendar's changes included), one bulk ETag
    // check per 1,000 documents of a kind tandem holds, and one write per change to Notes.
    // tandem also probes what the server lets it reach (2), and reads each document it
    // changes first, to write on its revision and check the user did not change the same
    // field meanwhile (the API has no conditional write unless the scope requires revisions).
    let held = |n: usize| (n as u64).div_ceil(PAGE);
    let steady = 1 + 3 + held(contacts / 2) + held(tasks) + held(events);
    let fewest = steady + to_notes;
    println!(
        "incremental run ({} Notes, {} Salesforce, {desktop} desktop changes): {:.2} s; {} steps ({} failed), {to_notes} to Notes; Domino requests {requests} (fewest {fewest})",
        notes_items.len(),
        changes.min(sf_ids.len()),
        time.as_secs_f64(),
        record.results.len(),
        failures(&run),
    );
    let idle_engine = rig.engine();
    let (idle, requests, time) = measured(&domino, idle_engine.preview()).await;
    let idle = idle.unwrap();
    println!(
        "idle preview: {:.2} s, {} items to do; Domino requests {requests} (fewest {steady})",
        time.as_secs_f64(),
        idle.plan.items.iter().filter(|i| i.runs()).count(),
    );
}
