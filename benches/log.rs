//! Benchmark of the core: appending to the log with group commit, merging concurrent edits,
//! replaying the log, and reading a record's history. Prints figures; asserts nothing.
//!
//! Run with `cargo bench --bench log` (release build). Sizes can be changed with
//! `TANDEM_BENCH_EVENTS` (default 20000). Last, the figures the performance issue sets targets
//! for, next to them; CPU time comes from /proc (Linux only).

use serde_json::json;
use std::sync::Arc;
use std::time::Instant;
use tandem::app::App;
use tandem::cli::audit;
use tandem::config::Settings;
use tandem::protocol::{Op, Origin, RecordKind, Side};
use tandem::store::Store;
use tandem::store::system_clock;
use tandem::store::{Draft, DraftBody, ObservationDraft, Writer};

#[path = "common/proc.rs"]
mod proc;

/// The whole process's CPU seconds so far (the writer's thread does nearly all the work).
fn cpu() -> Option<f64> {
    proc::process_cpu(std::path::Path::new(proc::SELF))
}

/// CPU seconds since `before` (a reading of [`cpu`]).
fn cpu_since(before: Option<f64>) -> Option<f64> {
    Some(cpu()? - before?)
}

fn draft(
    side: Side,
    op: Op,
    external_id: String,
    base: Option<Vec<tandem::protocol::Hlc>>,
    record: Option<tandem::protocol::RecordId>,
    i: usize,
) -> Draft {
    let changes = match side {
        Side::DESKTOP => {
            json!({"last_name": format!("Name {i}"), "phone": format!("+1 555 {i:04}"), "title": "Desk"})
        }
        _ => json!({"email": format!("p{i}@example.com"), "title": "Salesforce"}),
    };
    Draft {
        origin: Origin::new(side, "bench"),
        body: DraftBody::Observation(ObservationDraft {
            record,
            kind: RecordKind::Contact,
            op,
            external_id: Some(external_id),
            uid: None,
            version: None,
            changed_at_ms: None,
            base,
            changes: serde_json::from_value(changes).unwrap(),
            payload: None,
            snapshot: None,
            guard: None,
            extent: None,
        }),
    }
}

/// What one append run measured.
struct Appended {
    secs: f64,
    cpu: Option<f64>,
    commits: u64,
    acks: Vec<tandem::store::Ack>,
}

/// Append `n` creates with at most `in_flight` unacknowledged at once.
async fn append(writer: &Writer, n: usize, in_flight: usize, offset: usize) -> Appended {
    let commits_before = writer.commits();
    let cpu_before = cpu();
    let start = Instant::now();
    let mut acks = Vec::with_capacity(n);
    let mut pending = std::collections::VecDeque::new();
    for i in 0..n {
        let d = draft(
            Side::DESKTOP,
            Op::Create,
            format!("/dav/c/{}.vcf", offset + i),
            None,
            None,
            i,
        );
        pending.push_back(writer.submit(d).await.unwrap());
        if pending.len() >= in_flight {
            acks.push(pending.pop_front().unwrap().await.unwrap());
        }
    }
    while let Some(p) = pending.pop_front() {
        acks.push(p.await.unwrap());
    }
    Appended {
        secs: start.elapsed().as_secs_f64(),
        cpu: cpu_since(cpu_before),
        commits: writer.commits() - commits_before,
        acks,
    }
}

#[tokio::main]
async fn main() {
    let n: usize = std::env::var("TANDEM_BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open_or_create(dir.path()).unwrap());
    let writer = Writer::spawn(
        store.clone(),
        Settings::default().policies(),
        system_clock(),
    )
    .unwrap();

    println!(
        "tandem core benchmark ({n} events per run, store on {})",
        dir.path().display()
    );
    println!("\nappend (create observations, durable before acknowledged):");
    let mut offset = 0;
    let mut created = Vec::new();
    // The many-producers run's events per second and CPU µs per event.
    let mut busiest = (0.0, None);
    for in_flight in [1usize, 16, 256, 4096] {
        let count = if in_flight == 1 { n / 10 } else { n };
        let run = append(&writer, count, in_flight, offset).await;
        offset += count;
        let per_event = run.cpu.map(|cpu| cpu * 1e6 / count as f64);
        println!(
            "  {in_flight:>5} producers in flight: {count:>6} events in {:6.2} s = {:>8.0} events/s, {:>6} fsyncs ({:.1} events per fsync), {} CPU per event",
            run.secs,
            count as f64 / run.secs,
            run.commits,
            count as f64 / run.commits.max(1) as f64,
            micros(per_event)
        );
        busiest = (count as f64 / run.secs, per_event);
        created.extend(run.acks);
    }

    let app = App {
        dir: dir.path().to_path_buf(),
        store: store.clone(),
        writer: None,
        settings: Settings::default(),
        wall: system_clock(),
        serving: tandem::app::Serving::Local,
    };
    // Every edit so far was made on its record's current state: merged without automerge.
    let on_current = replay(&app, offset);

    println!(
        "\nconcurrent updates (both sides edit the same records from the same base; causal merge):"
    );
    let targets: Vec<_> = created.iter().take(n / 2).collect();
    let start = Instant::now();
    let cpu_before = cpu();
    let commits_before = writer.commits();
    let mut pending = Vec::new();
    for (i, ack) in targets.iter().enumerate() {
        for side in [Side::DESKTOP, Side::SALESFORCE] {
            let d = draft(
                side,
                Op::Update,
                format!("bench-{side}-{i}"),
                Some(vec![ack.hlc]),
                ack.record.clone(),
                i,
            );
            pending.push(writer.submit(d).await.unwrap());
        }
        if pending.len() >= 512 {
            for p in pending.drain(..) {
                p.await.unwrap();
            }
        }
    }
    for p in pending.drain(..) {
        p.await.unwrap();
    }
    let secs = start.elapsed().as_secs_f64();
    let updates = targets.len() * 2;
    let update_cpu = cpu_since(cpu_before).map(|cpu| cpu * 1e6 / updates as f64);
    println!(
        "  {updates} updates in {secs:.2} s = {:.0} updates/s ({:.1} µs each), {} fsyncs, {} CPU per update",
        updates as f64 / secs,
        secs * 1e6 / updates as f64,
        writer.commits() - commits_before,
        micros(update_cpu)
    );
    writer.close().await.expect("the store closes");
    drop(writer);
    let size = std::fs::metadata(store.path())
        .map(|m| m.len())
        .unwrap_or(0);

    let events = offset + updates;
    let replay_rate = replay(&app, events);
    println!(
        "store size: {:.1} MB ({:.0} bytes per event)",
        size as f64 / 1e6,
        size as f64 / events as f64
    );

    let record = targets[0].record.as_ref().unwrap().to_string();
    let start = Instant::now();
    for _ in 0..100 {
        audit::history(&app.history(&record).expect("a history"), true);
    }
    println!(
        "\nhistory of a record with a conflict: {:.0} µs",
        start.elapsed().as_secs_f64() * 1e4
    );
    let start = Instant::now();
    for _ in 0..100 {
        audit::blame(&app.blame(&record).expect("a blame"), true);
    }
    println!(
        "blame of that record: {:.0} µs",
        start.elapsed().as_secs_f64() * 1e4
    );

    let merge = merge_alone(n);
    println!(
        "\nthe merge alone, in memory: {} per create and {} per update made on the current state (merged values, no automerge); {} per update made on an older state (the document built from the record's events)",
        micros(merge.create),
        micros(merge.on_current),
        micros(merge.on_older)
    );

    println!("\nagainst the performance issue's targets:");
    println!(
        "  CPU per event, 4,096 producers in flight: {} (target ≤ 30 µs); per concurrent update: {}",
        micros(busiest.1),
        micros(update_cpu)
    );
    println!(
        "  events/s with 4,096 producers in flight: {:.0} (target ≥ 20,000)",
        busiest.0
    );
    println!(
        "  replay: {replay_rate:.0} events/s (target ≥ 50,000); 1,000,000 events at this rate: {:.0} s (target ≤ 20 s); of a log whose every edit was made on the current state: {on_current:.0} events/s, {:.0} s",
        1e6 / replay_rate,
        1e6 / on_current
    );
}

/// `replay --verify` of the whole log (`events` long): events rebuilt per second. The comparison
/// that follows is timed apart: it reads every row of both stores, and is no part of a replay.
fn replay(app: &App, events: usize) -> f64 {
    let verified = app.verify().expect("replay runs");
    let rate = events as f64 / verified.rebuild_secs;
    println!(
        "\nreplay: {events} events rebuilt in {:.2} s = {rate:.0} events/s; then {} rows compared in {:.2} s, {} differences",
        verified.rebuild_secs,
        verified.rows,
        verified.compare_secs,
        verified.differences.len()
    );
    assert!(verified.differences.is_empty(), "replay must be identical");
    rate
}

/// CPU µs per event of the merge alone, as the projector makes it, without the store or JSON:
/// a create and an update made on the current state (by `Merged` alone), and an update made on
/// an older state (the document built from the record's events, the edit applied, its merged
/// values read back).
struct MergeAlone {
    create: Option<f64>,
    on_current: Option<f64>,
    on_older: Option<f64>,
}

fn merge_alone(n: usize) -> MergeAlone {
    use tandem::protocol::{ConflictPolicy, Edit, Fields, Hlc, Merged, RecordDoc, RecordId};
    let fields = |i: usize| -> Fields {
        serde_json::from_value(json!({"last_name": format!("Name {i}"), "phone": format!("+1 555 {i:04}"), "title": "Desk"}))
            .unwrap()
    };
    let at = |i: usize| Hlc::new(1_800_000_000_000 + i as u64, 0);
    fn edit<'a>(event: Hlc, side: Side, op: Op, base: &'a [Hlc], changes: &'a Fields) -> Edit<'a> {
        Edit {
            event,
            side,
            op,
            changed_at_ms: None,
            base,
            changes,
        }
    }
    let (creates, updates) = (
        (0..n).map(fields).collect::<Vec<_>>(),
        (n..2 * n).map(fields).collect::<Vec<_>>(),
    );
    let mut merges = Vec::with_capacity(n);
    let before = cpu();
    for (i, changes) in creates.iter().enumerate() {
        let mut merged = Merged::default();
        assert!(merged.advance(&edit(at(i), Side::DESKTOP, Op::Create, &[], changes)));
        merged.resolve(ConflictPolicy::NewestWins);
        merges.push(merged);
    }
    let create = cpu_since(before).map(|s| s * 1e6 / n as f64);
    let before = cpu();
    for (i, merged) in merges.iter_mut().enumerate() {
        let heads = merged.heads.clone();
        assert!(merged.advance(&edit(
            at(n + i),
            Side::DESKTOP,
            Op::Update,
            &heads,
            &updates[i]
        )));
        merged.resolve(ConflictPolicy::NewestWins);
    }
    let on_current = cpu_since(before).map(|s| s * 1e6 / n as f64);
    let before = cpu();
    for (i, changes) in updates.iter().enumerate() {
        let mut doc = RecordDoc::new(RecordId::derive(RecordKind::Contact, at(i)));
        let created = [at(i)];
        doc.apply(&edit(at(i), Side::DESKTOP, Op::Create, &[], &creates[i]))
            .unwrap();
        doc.apply(&edit(
            at(n + i),
            Side::DESKTOP,
            Op::Update,
            &created,
            changes,
        ))
        .unwrap();
        doc.apply(&edit(
            at(2 * n + i),
            Side::SALESFORCE,
            Op::Update,
            &created,
            changes,
        ))
        .unwrap();
        doc.merged().unwrap().resolve(ConflictPolicy::NewestWins);
    }
    let on_older = cpu_since(before).map(|s| s * 1e6 / n as f64);
    MergeAlone {
        create,
        on_current,
        on_older,
    }
}

fn micros(v: Option<f64>) -> String {
    v.map(|us| format!("{us:.0} µs"))
        .unwrap_or_else(|| "n/a (no /proc)".into())
}
