//! Replay: rebuild every projection from the log alone, in a fresh store, and compare the result
//! with the live projections byte for byte. A difference means a projection no longer follows
//! from the log — a bug or damage — and is reported table by table.

use super::project::Projector;
use super::tables::*;
use super::{Store, StoreError};
use redb::{
    Database, Key, ReadTransaction, ReadableDatabase, ReadableTable, TableDefinition, TableHandle,
    Value,
};
use std::path::Path;
use std::time::{Duration, Instant};
use tandem_protocol::Policies;

/// Events applied per transaction while rebuilding: large enough to amortise commits.
const REPLAY_BATCH: usize = 2_000;

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Difference {
    pub table: String,
    pub key: String,
    pub kind: DifferenceKind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum DifferenceKind {
    /// The live store has a row the replay does not.
    Extra,
    /// The replay has a row the live store lacks.
    Missing,
    /// Both have the row, with different bytes.
    Changed,
}

pub struct Verification {
    pub events: u64,
    pub rows: u64,
    pub differences: Vec<Difference>,
    /// How long rebuilding the projections took, and comparing them.
    pub rebuilt_in: Duration,
    pub compared_in: Duration,
}

/// Rebuild the projections of `source` into a new store at `scratch` (a file that must not
/// exist yet) and compare.
pub fn verify(
    source: &Store,
    policies: Policies,
    scratch: &Path,
) -> Result<Verification, StoreError> {
    let live = source.read()?;
    let fresh = Database::create(scratch).map_err(|e| StoreError::from_database(scratch, e))?;
    let txn = fresh.begin_write()?;
    create_all(&txn)?;
    txn.commit()?;
    let start = Instant::now();
    let events = rebuild(&live, &fresh, policies)?;
    let rebuilt_in = start.elapsed();
    let rebuilt = fresh.begin_read()?;
    let mut differences = Vec::new();
    let mut rows = 0;
    rows += compare(&live, &rebuilt, RECORDS, "records", &mut differences)?;
    rows += compare(
        &live,
        &rebuilt,
        RECORD_EVENTS,
        "record_events",
        &mut differences,
    )?;
    rows += compare(&live, &rebuilt, ALIASES, "aliases", &mut differences)?;
    rows += compare(&live, &rebuilt, SIDES, "sides", &mut differences)?;
    rows += compare(&live, &rebuilt, WATERMARKS, "watermarks", &mut differences)?;
    rows += compare(&live, &rebuilt, IGNORES, "ignores", &mut differences)?;
    rows += compare(
        &live,
        &rebuilt,
        COLLECTIONS,
        "collections",
        &mut differences,
    )?;
    rows += compare(&live, &rebuilt, DAV_ITEMS, "dav_items", &mut differences)?;
    rows += compare(&live, &rebuilt, DAV_BODIES, "dav_bodies", &mut differences)?;
    rows += compare(
        &live,
        &rebuilt,
        DAV_CHANGES,
        "dav_changes",
        &mut differences,
    )?;
    rows += compare(&live, &rebuilt, DAV_UIDS, "dav_uids", &mut differences)?;
    rows += compare(&live, &rebuilt, DAV_SPANS, "dav_spans", &mut differences)?;
    rows += compare(&live, &rebuilt, FILES, "files", &mut differences)?;
    rows += compare(&live, &rebuilt, RUNS, "runs", &mut differences)?;
    rows += compare(
        &live,
        &rebuilt,
        PENDING_CREATES,
        "pending_creates",
        &mut differences,
    )?;
    rows += compare(
        &live,
        &rebuilt,
        FILE_BODIES,
        "file_bodies",
        &mut differences,
    )?;
    Ok(Verification {
        events,
        rows,
        differences,
        rebuilt_in,
        compared_in: start.elapsed() - rebuilt_in,
    })
}

/// Bring a store of an older layout up to this one: every projection is dropped and rebuilt
/// from the log, then the layout is recorded. The log is read, never written, so an upgrade that
/// is interrupted starts over on the next open. Returns the number of events replayed.
pub fn upgrade(store: &Store, policies: Policies) -> Result<u64, StoreError> {
    store.with_db(|db| upgrade_in(db, policies))
}

fn upgrade_in(db: &Database, policies: Policies) -> Result<u64, StoreError> {
    let txn = db.begin_write()?;
    let projections: Vec<_> = txn
        .list_tables()?
        .filter(|t| !matches!(t.name(), "log" | "meta"))
        .collect();
    for table in projections {
        txn.delete_table(table)?;
    }
    create_all(&txn)?;
    txn.commit()?;
    let events = rebuild(&db.begin_read()?, db, policies)?;
    let txn = db.begin_write()?;
    txn.open_table(META)?.insert("format", STORE_FORMAT)?;
    txn.commit()?;
    Ok(events)
}

/// Feed every event of `live`'s log through the projector into `target`, whose tables exist
/// and hold no projection yet. The projector reads a record's earlier events (to merge an edit
/// made on an older state) from `live`, so `target` gets no copy of the log. The log is read
/// and its events decoded on a second thread, a batch ahead of the projector: decoding is a
/// sixth of an event's cost, and needs no store.
fn rebuild(
    live: &ReadTransaction,
    target: &Database,
    policies: Policies,
) -> Result<u64, StoreError> {
    let (batches, decoded) = std::sync::mpsc::sync_channel(1);
    std::thread::scope(|scope| {
        scope.spawn(move || read_log(live, &batches));
        let projector = Projector::replaying(policies, live.open_table(LOG)?);
        let mut count = 0;
        for batch in decoded {
            let txn = target.begin_write()?;
            let mut tables = Tables::open(&txn)?;
            for (seq, event) in batch? {
                projector.project(&mut tables, seq, &event, None)?;
                count += 1;
            }
            drop(tables);
            txn.commit()?;
        }
        Ok(count)
    })
}

/// A batch of logged events, with their positions.
type Batch = Vec<(u64, tandem_protocol::Event)>;

/// Read and decode the log in batches of `REPLAY_BATCH`, until its end, an error (sent on), or
/// the projector stopping (the channel closed).
fn read_log(
    live: &ReadTransaction,
    batches: &std::sync::mpsc::SyncSender<Result<Batch, StoreError>>,
) {
    let read = || -> Result<(), StoreError> {
        let log = live.open_table(LOG)?;
        let mut batch = Vec::with_capacity(REPLAY_BATCH);
        for row in log.iter()? {
            let (seq, bytes) = row?;
            let seq = seq.value();
            let event = tandem_protocol::Event::decode(bytes.value())
                .map_err(|source| StoreError::BadEvent { seq, source })?;
            batch.push((seq, event));
            if batch.len() == REPLAY_BATCH {
                let full = std::mem::replace(&mut batch, Vec::with_capacity(REPLAY_BATCH));
                if batches.send(Ok(full)).is_err() {
                    return Ok(());
                }
            }
        }
        if !batch.is_empty() {
            let _ = batches.send(Ok(batch));
        }
        Ok(())
    };
    if let Err(e) = read() {
        let _ = batches.send(Err(e));
    }
}

fn compare<K: Key + 'static, V: Value + 'static>(
    live: &ReadTransaction,
    rebuilt: &ReadTransaction,
    table: TableDefinition<K, V>,
    name: &'static str,
    differences: &mut Vec<Difference>,
) -> Result<u64, StoreError> {
    let a = rows(live, table)?;
    let b = rows(rebuilt, table)?;
    let (mut i, mut j) = (0, 0);
    let mut push = |key: &[u8], kind| {
        differences.push(Difference {
            table: name.to_string(),
            key: String::from_utf8_lossy(key).into_owned(),
            kind,
        })
    };
    while i < a.len() || j < b.len() {
        match (a.get(i), b.get(j)) {
            (Some((ka, va)), Some((kb, vb))) if ka == kb => {
                if va != vb {
                    push(ka, DifferenceKind::Changed);
                }
                i += 1;
                j += 1;
            }
            (Some((ka, _)), Some((kb, _))) if K::compare(ka, kb).is_lt() => {
                push(ka, DifferenceKind::Extra);
                i += 1;
            }
            (Some(_), Some((kb, _))) | (None, Some((kb, _))) => {
                push(kb, DifferenceKind::Missing);
                j += 1;
            }
            (Some((ka, _)), None) => {
                push(ka, DifferenceKind::Extra);
                i += 1;
            }
            (None, None) => break,
        }
    }
    Ok(a.len() as u64)
}

type Row = (Vec<u8>, Vec<u8>);

fn rows<K: Key + 'static, V: Value + 'static>(
    txn: &ReadTransaction,
    table: TableDefinition<K, V>,
) -> Result<Vec<Row>, StoreError> {
    let table = txn.open_table(table)?;
    let mut out = Vec::new();
    for row in table.iter()? {
        let (k, v) = row?;
        out.push((
            K::as_bytes(&k.value()).as_ref().to_vec(),
            V::as_bytes(&v.value()).as_ref().to_vec(),
        ));
    }
    Ok(out)
}
