//! The log's tail: the events committed since the last checkpoint, durable in a file of their
//! own while redb holds them in memory only.
//!
//! A durable redb commit writes every page the commit changed and syncs them: for a DAV PUT
//! about 28 pages (115 KB) over a dozen B-trees, for an event of 1–2 KB. So the writer commits
//! a batch to redb without syncing (`Durability::None`; readers see it at once) and makes it
//! durable by appending the batch's events to the tail as one checksummed record, then syncing
//! the tail alone. Now and then (a checkpoint) one durable redb commit makes everything so far
//! durable in the store file, and the tail is emptied.
//!
//! After a crash the store file holds its last checkpoint, and the tail the batches committed
//! since; the tail's events the log lacks are projected, in order, as a replay would
//! (`take_in`), before anything is read or appended: when the writer starts, before a command
//! that only reads opens the store (`writer::prepare`), and by the store itself when it opens
//! its file again after a failed write. A record is one batch, so a batch comes back whole or not at all, as
//! `Writer::append_together` promises.
//!
//! A batch whose redb commit fails after its record was synced is in the log for good: the
//! store is opened again and takes it in from the tail, as after a crash between a commit and
//! its acknowledgement.

use super::framing::{Framing, RECORD_HEAD, RECORDS};
use super::project::Projector;
use super::tables::Tables;
use super::{Store, StoreError};
use redb::backends::FileBackend;
use redb::{Database, ReadableTable, StorageBackend};
use std::io;
use std::path::{Path, PathBuf};

/// The most the tail holds before a checkpoint; a batch larger than this is made durable by a
/// checkpoint of its own. Its events are projected again in a fraction of a second after a
/// crash.
pub const LIMIT: u64 = 1 << 20;

/// The most events the tail holds before a checkpoint. Until one, redb keeps every page the
/// commits since changed in its write buffer, which may take half its cache: past that it
/// evicts what readers had cached and writes pages out early. At 100,000 records an event
/// changes some eight leaves of keys spread over their tables, so 256 events are about 8 MB;
/// with 1 MB of events (700 PUTs) a calendar-query at 100,000 events took twice as long.
const MAX_EVENTS: usize = 256;

const FRAMING: Framing = Framing {
    header: b"TNDMTAL1",
    record: b"TTL1",
    capacity: LIMIT,
};

/// seq, length.
const EVENT_HEAD: usize = 8 + 4;

/// The tail beside a store file.
pub fn path_of(store: &Path) -> PathBuf {
    let mut name = store.as_os_str().to_owned();
    name.push("-tail");
    PathBuf::from(name)
}

/// An event as the log holds it: its position and its bytes.
pub type Logged = (u64, Vec<u8>);

pub struct Tail {
    file: FileBackend,
    epoch: u64,
    /// The sequence number of the next record.
    seq: u64,
    /// Where the next record goes.
    end: u64,
    /// The next record, built here so its memory is reused.
    record: Vec<u8>,
    /// Events held since the last checkpoint.
    events: usize,
}

impl Tail {
    /// Open the tail beside the store file `store` (making it if it is missing), with the events
    /// its records hold, oldest first.
    pub fn open(store: &Path) -> io::Result<(Tail, Vec<Logged>)> {
        let file = FRAMING.open(&path_of(store), |_| Ok(()))?;
        let epoch = FRAMING.read_header(&file)?;
        let mut events = Vec::new();
        let (seq, end) = FRAMING.each_record(&file, epoch, |body| {
            events.extend(parse(body)?);
            Ok(())
        })?;
        let tail = Tail {
            file,
            epoch,
            seq,
            end,
            record: Vec::new(),
            events: events.len(),
        };
        Ok((tail, events))
    }

    /// Whether the tail beside `store` may hold events the store file lacks: a command that
    /// only reads has the writer recover them first.
    pub fn pending(store: &Store) -> Result<bool, StoreError> {
        let path = path_of(store.path());
        let Ok(file) = std::fs::File::open(&path) else {
            return Ok(false);
        };
        FileBackend::new(file)
            .map_err(io::Error::other)
            .and_then(|file| FRAMING.holds_records(&file))
            .map_err(|source| StoreError::Io { path, source })
    }

    /// Bytes held since the last checkpoint.
    pub fn held(&self) -> u64 {
        self.end - RECORDS
    }

    /// Whether `batch` still fits.
    pub fn fits(&self, batch: &[Logged]) -> bool {
        let bytes: usize = batch.iter().map(|(_, e)| EVENT_HEAD + e.len()).sum();
        self.held() + (RECORD_HEAD + bytes) as u64 <= LIMIT
            && self.events + batch.len() <= MAX_EVENTS
    }

    /// Append one batch's events as one record and sync it: when this returns they are durable.
    /// On failure nothing counts as appended, and the next record is written over this one.
    pub fn append<'e>(
        &mut self,
        events: impl IntoIterator<Item = (u64, &'e [u8])>,
    ) -> io::Result<()> {
        self.record.clear();
        self.record.resize(RECORD_HEAD, 0);
        let mut count = 0;
        for (seq, bytes) in events {
            count += 1;
            self.record.extend_from_slice(&seq.to_le_bytes());
            self.record
                .extend_from_slice(&(bytes.len() as u32).to_le_bytes());
            self.record.extend_from_slice(bytes);
        }
        FRAMING.seal(&mut self.record, self.epoch, self.seq);
        self.file.write(self.end, &self.record)?;
        self.file.sync_data()?;
        self.end += self.record.len() as u64;
        self.seq += 1;
        self.events += count;
        Ok(())
    }

    /// Empty the tail, once a checkpoint made everything in it durable in the store file. The
    /// file keeps its length: the next records are written into blocks it has already.
    pub fn clear(&mut self) -> io::Result<()> {
        if self.seq == 0 {
            return Ok(());
        }
        self.epoch = self.epoch.wrapping_add(1);
        FRAMING.write_header(&self.file, self.epoch)?;
        self.seq = 0;
        self.end = RECORDS;
        self.events = 0;
        Ok(())
    }
}

/// The events of a record's body.
fn parse(body: &[u8]) -> io::Result<Vec<Logged>> {
    let damaged = || io::Error::new(io::ErrorKind::InvalidData, "a tail record is malformed");
    let mut events = Vec::new();
    let mut rest = body;
    while !rest.is_empty() {
        let (seq, after) = rest.split_first_chunk::<8>().ok_or_else(damaged)?;
        let (len, after) = after.split_first_chunk::<4>().ok_or_else(damaged)?;
        let len = u32::from_le_bytes(*len) as usize;
        let bytes = after.get(..len).ok_or_else(damaged)?;
        events.push((u64::from_le_bytes(*seq), bytes.to_vec()));
        rest = &after[len..];
    }
    Ok(events)
}

/// Open the tail beside the store file `path` and bring `db` up to its end (see `recover`),
/// emptying it once that is durable in the store file. Returns the tail, empty.
pub fn take_in(
    db: &Database,
    path: &Path,
    projector: &Projector,
    project: bool,
) -> Result<Tail, StoreError> {
    let (mut tail, logged) = Tail::open(path).map_err(|e| error(path, e))?;
    if !logged.is_empty() {
        recover(db, path, projector, logged, project)?;
        tail.clear().map_err(|e| error(path, e))?;
    }
    Ok(tail)
}

/// Append and project, in one durable commit, the events of `events` the log lacks, exactly as
/// they were logged. With `project` false (a store of an older layout, whose projections the
/// upgrade rebuilds from the log next) they are appended to the log alone.
fn recover(
    db: &Database,
    path: &Path,
    projector: &Projector,
    events: Vec<Logged>,
    project: bool,
) -> Result<(), StoreError> {
    let damaged = |reason: String| StoreError::Damaged {
        path: path_of(path),
        reason,
    };
    let txn = db.begin_write()?;
    let mut tables = Tables::open(&txn)?;
    let mut next = tables.log.last()?.map_or(1, |(seq, _)| seq.value() + 1);
    let mut missing = 0;
    for (seq, bytes) in events {
        if seq < next {
            // Made durable by a checkpoint whose emptying of the tail a crash cut short.
            continue;
        }
        if seq > next {
            return Err(damaged(format!(
                "the tail goes on at event {seq}, but the log ends before event {next}"
            )));
        }
        if project {
            let event = tandem_protocol::Event::decode(&bytes)
                .map_err(|e| damaged(format!("event {seq} in the tail does not read: {e}")))?;
            projector.project(&mut tables, seq, &event, None)?;
        }
        tables.log.insert(seq, bytes.as_slice())?;
        next += 1;
        missing += 1;
    }
    drop(tables);
    txn.commit()?;
    if missing > 0 {
        tracing::info!(
            events = missing,
            "the events of the log's tail were taken into the store after an unclean stop"
        );
    }
    Ok(())
}

/// A failure of the tail's file, said as the store's: a full disk as a full disk.
pub fn error(store: &Path, source: io::Error) -> StoreError {
    if super::error::is_disk_full(&source) {
        return StoreError::DiskFull;
    }
    StoreError::Io {
        path: path_of(store),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Access, Writer, read, replay, system_clock};
    use std::sync::Arc;
    use tandem_protocol::Policies;

    /// An ingest line: a contact created, or (`update`) changed, on the desktop.
    fn draft(op: &str, i: usize, name: &str) -> crate::store::draft::Draft {
        serde_json::from_value(serde_json::json!({
            "origin": {"side": "desktop", "agent": "tail-test"},
            "type": "observation", "kind": "contact", "op": op,
            "external_id": format!("/dav/c/{i}.vcf"),
            "changes": {"last_name": name},
        }))
        .unwrap()
    }

    /// Open the store of `dir` with a writer, append `drafts` one at a time and close it.
    async fn append(dir: &Path, drafts: Vec<crate::store::draft::Draft>) {
        let store = Arc::new(Store::open_or_create(dir).unwrap());
        let writer = Writer::spawn(store, Policies::default(), system_clock()).unwrap();
        for draft in drafts {
            writer.append(draft).await.unwrap();
        }
        writer.close().await.unwrap();
    }

    /// The log of the store of `dir` from `from` on, as logged.
    fn logged(dir: &Path, from: u64) -> Vec<Logged> {
        let store = Store::open_existing(dir, Access::ReadOnly).unwrap();
        let txn = store.read().unwrap();
        let log = txn.open_table(crate::store::tables::LOG).unwrap();
        log.range(from..)
            .unwrap()
            .map(|row| {
                let (seq, bytes) = row.unwrap();
                (seq.value(), bytes.value().to_vec())
            })
            .collect()
    }

    #[tokio::test]
    async fn a_store_as_its_last_checkpoint_left_it_and_the_tail_make_the_store_the_writer_made() {
        let dir = tempfile::tempdir().unwrap();
        let (live, cut) = (dir.path().join("live"), dir.path().join("cut"));
        append(
            &live,
            (0..20).map(|i| draft("create", i, "first")).collect(),
        )
        .await;
        // A power cut after a checkpoint: the store file as it was synced then.
        std::fs::create_dir(&cut).unwrap();
        let file = |dir: &Path| dir.join(crate::store::STORE_FILE);
        std::fs::copy(file(&live), file(&cut)).unwrap();
        let checkpointed = logged(&live, 0).len() as u64;

        // What came after it, updates and creates, is what the tail held, batch by batch.
        let mut later: Vec<_> = (0..20)
            .step_by(3)
            .map(|i| draft("update", i, "second"))
            .collect();
        later.extend((20..30).map(|i| draft("create", i, "new")));
        append(&live, later).await;
        let since = logged(&live, checkpointed + 1);
        assert!(
            since.len() >= 17,
            "{} events after the checkpoint",
            since.len()
        );
        let (mut tail, held) = Tail::open(&file(&cut)).unwrap();
        assert!(held.is_empty());
        for batch in since.chunks(4) {
            tail.append(batch.iter().map(|(seq, bytes)| (*seq, bytes.as_slice())))
                .unwrap();
        }
        drop(tail);

        // A command that only reads takes the tail in first, and finds what the writer made.
        let app = crate::app::App::open(&cut, Access::ReadOnly).unwrap();
        drop(app);
        assert_eq!(
            logged(&cut, 0),
            logged(&live, 0),
            "the same log, byte for byte"
        );
        let store = Store::open_existing(&cut, Access::ReadOnly).unwrap();
        let scratch = dir.path().join("scratch.redb");
        let verified = replay::verify(&store, Policies::default(), &scratch).unwrap();
        assert!(
            verified.differences.is_empty(),
            "{:?}",
            verified.differences
        );
        let last = read::last_event(&store.read().unwrap()).unwrap().unwrap().0;
        assert_eq!(last, logged(&live, 0).len() as u64);
        // Taken in, the tail is empty: opening the store again projects nothing twice.
        assert!(!Tail::pending(&store).unwrap());
    }

    #[test]
    fn the_tail_keeps_its_records_in_order_until_cleared_and_a_torn_one_ends_it() {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("store.redb");
        let (mut tail, events) = Tail::open(&store).unwrap();
        assert!(events.is_empty());

        tail.append([(1, &b"one"[..]), (2, &b"two"[..])]).unwrap();
        tail.append([(3, &b"three"[..])]).unwrap();
        drop(tail);

        let logged = |n: u64, s: &str| (n, s.as_bytes().to_vec());
        let (mut tail, events) = Tail::open(&store).unwrap();
        assert_eq!(
            events,
            [logged(1, "one"), logged(2, "two"), logged(3, "three")]
        );
        // Opened again, it goes on after its last record.
        tail.append([(4, &b"four"[..])]).unwrap();
        drop(tail);

        // The last record torn by a power cut: the batch is gone whole, the others are kept.
        let path = path_of(&store);
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() - 2]).unwrap();
        let (mut tail, events) = Tail::open(&store).unwrap();
        assert_eq!(events.len(), 3);

        // Cleared, its old records are never read again, though their bytes are still there.
        tail.clear().unwrap();
        tail.append([(9, &b"nine"[..])]).unwrap();
        drop(tail);
        assert_eq!(Tail::open(&store).unwrap().1, [logged(9, "nine")]);
    }
}
