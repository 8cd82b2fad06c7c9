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

#[path = "common/connector.rs"]
mod connector;
#[path = "../tests/common/outlook.rs"]
mod outlook;

use connector::{Rig, env_or, failures, measured, salesforce_edits};
use serde_json::{Map, Value, json};
use tandem::engine::sync::Selection;
use tandem::protocol::Side;
use tandem_graph_emulator::{GraphEmulator, Kind};
use tandem_salesforce_emulator::{Emulator, EmulatorConfig};

/// Items per delta page tandem asks for, and writes per `$batch`.
const PAGE: u64 = 200;
const BATCH: u64 = 20;

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
    let mailbox = &graph;
    let rig = Rig::start(
        &emu,
        |dir| async move { outlook::sign_in(mailbox, &dir).await },
    )
    .await;
    println!(
        "tandem Outlook benchmark: a mailbox of {contacts} contacts (nine in ten categorised), {events} events (every tenth a weekly series of ten), {tasks} tasks"
    );

    // First sync: everything in Outlook reaches Salesforce and the desktop.
    let engine = rig.engine();
    let (preview, preview_requests, preview_time) =
        measured(|| graph.requests(), engine.preview()).await;
    let preview = preview.unwrap();
    let (applied, apply_requests, apply_time) = measured(
        || graph.requests(),
        engine.apply(&Selection::default(), &|_, _| {}),
    )
    .await;
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
    let sf_ids = salesforce_edits(&emu, changes);
    let desktop = rig.desktop_edits(changes, changes).await;
    let (run, requests, time) = measured(|| graph.requests(), engine.automatic()).await;
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
    let (idle, requests, time) = measured(|| graph.requests(), idle_engine.preview()).await;
    let idle = idle.unwrap();
    println!(
        "idle preview: {:.2} s, {} items to do; Graph requests {requests} (fewest {})",
        time.as_secs_f64(),
        idle.plan.items.iter().filter(|i| i.runs()).count(),
        lookups + 4,
    );
}
