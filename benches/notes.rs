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

use connector::{Measured, Rig, env_or};
use serde_json::{Map, Value, json};
use tandem::protocol::Side;
use tandem_domino_emulator::DominoEmulator;

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
    let emu = connector::org().await;
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

    let notes = Measured {
        side: Side::NOTES,
        requests: &|| domino.requests(),
    };
    // First sync: everything in Notes in scope reaches Salesforce and the desktop.
    // Fewest: a login, then one DQL round per document kind (pages of 1,000; a kind whose
    // last page is full takes one more, empty) and the window's calendar listing. tandem also
    // probes what the server lets it reach (the calendar, the scope), in the preview and again
    // in the apply with its login. Nothing is written to Notes.
    let dql = |n: usize| n as u64 / PAGE + 1;
    let fewest = 1 + dql(contacts) + dql(tasks) + 1;
    notes.first_sync(&rig, fewest).await;

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
    // Fewest: a login, one DQL page per kind (the calendar's changes included), one bulk ETag
    // check per 1,000 documents of a kind tandem holds, and one write per change to Notes.
    // tandem also probes what the server lets it reach (2), and reads each document it
    // changes first, to write on its revision and check the user did not change the same
    // field meanwhile (the API has no conditional write unless the scope requires revisions).
    let held = |n: usize| (n as u64).div_ceil(PAGE);
    let steady = 1 + 3 + held(contacts / 2) + held(tasks) + held(events);
    notes
        .incremental(&rig, &emu, (notes_items.len(), changes), |to_notes| {
            steady + to_notes
        })
        .await;
    notes.idle(&rig, steady).await;
}
