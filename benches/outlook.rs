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

use connector::{Measured, Rig, env_or};
use serde_json::{Map, Value, json};
use tandem::protocol::Side;
use tandem_graph_emulator::{GraphEmulator, Kind};

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
    let emu = connector::org().await;
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

    let outlook = Measured {
        side: Side::OUTLOOK,
        requests: &|| graph.requests(),
    };
    // First sync: everything in Outlook reaches Salesforce and the desktop.
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
    outlook.first_sync(&rig, fewest).await;

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
    // Fewest: the token and lookups, one delta page per container, and the writes to Outlook
    // in batches of 20 (tandem also reads the items it changes, 20 to a batch, to keep what it
    // does not map).
    outlook
        .incremental(&rig, &emu, (outlook_items.len(), changes), |to_outlook| {
            lookups + 4 + to_outlook.div_ceil(BATCH)
        })
        .await;
    outlook.idle(&rig, lookups + 4).await;
}
