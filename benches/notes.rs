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

#[path = "common/connector.rs"]
mod connector;
#[path = "../tests/common/notes.rs"]
mod notes;

use connector::{Rig, env_or, failures, measured, salesforce_edits};
use serde_json::{Map, Value, json};
use tandem::engine::sync::Selection;
use tandem::protocol::Side;
use tandem_domino_emulator::DominoEmulator;
use tandem_salesforce_emulator::{Emulator, EmulatorConfig};

/// Documents per DQL page and UNIDs per bulk ETag check.
const PAGE: u64 = 1000;

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
    let mail_file = &domino;
    let rig = Rig::start(
        &emu,
        |dir| async move { notes::log_in(mail_file, &dir).await },
    )
    .await;
    println!(
        "tandem Notes benchmark: a mail file of {contacts} contacts (half in the CRM category), {events} calendar entries, {tasks} to-dos"
    );

    // First sync: everything in Notes in scope reaches Salesforce and the desktop.
    let engine = rig.engine();
    let (preview, preview_requests, preview_time) =
        measured(|| domino.requests(), engine.preview()).await;
    let preview = preview.unwrap();
    let (applied, apply_requests, apply_time) = measured(
        || domino.requests(),
        engine.apply(&Selection::default(), &|_, _| {}),
    )
    .await;
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
    let sf_ids = salesforce_edits(&emu, changes);
    let desktop = rig.desktop_edits(changes, changes).await;
    let (run, requests, time) = measured(|| domino.requests(), engine.automatic()).await;
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
    let (idle, requests, time) = measured(|| domino.requests(), idle_engine.preview()).await;
    let idle = idle.unwrap();
    println!(
        "idle preview: {:.2} s, {} items to do; Domino requests {requests} (fewest {steady})",
        time.as_secs_f64(),
        idle.plan.items.iter().filter(|i| i.runs()).count(),
    );
}
