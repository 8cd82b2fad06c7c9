//! The store file's journal: a durable commit (a checkpoint of the log's tail, see `tail`) costs
//! one sequential write to the journal instead of a flush of the pages redb scattered over the
//! store file.
//!
//! redb makes a commit durable by writing its pages in place and syncing the file. A tandem
//! commit touches a dozen B-trees, about 25 pages spread over the file, and a disk flushes
//! scattered pages one request each: on the development VM 32 scattered pages take 0.78 ms to
//! sync, the same bytes written in one piece 0.13 ms. So redb writes through `Journaled`:
//!
//! - every write goes to the store file at once, as before (readers, and redb itself, read it
//!   back from there), and is also kept;
//! - when redb asks for a sync, what was kept since the last one is appended to the journal as
//!   one checksummed record, and only the journal is synced;
//! - at a checkpoint the store file itself is synced and the journal emptied: when the journal
//!   is full, when a transaction wrote more than it holds, and when the store is closed.
//!
//! After a crash the store file holds its last checkpoint plus some of the writes made since;
//! `settle` writes every complete record back over it, in order, and syncs it. That leaves the
//! file as redb's own protocol would have left it — everything up to the last sync, plus part
//! of what came after — which redb's recovery is built for. The journal is opened with an
//! exclusive lock for as long as the store is, so a second process can neither settle nor write
//! under a running one.
//!
//! Layout (`framing`): a header block, then records, each one sync's writes and length changes.

use super::framing::{Framing, RECORD_HEAD, RECORDS};
use redb::StorageBackend;
use redb::backends::FileBackend;
use std::fs::{File, OpenOptions, TryLockError};
use std::io;
use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The journal beside a store file.
pub fn path_of(store: &Path) -> PathBuf {
    let mut name = store.as_os_str().to_owned();
    name.push("-journal");
    PathBuf::from(name)
}

/// The most the journal grows to before a checkpoint empties it. A commit writes about 100 KB of
/// pages, so one checkpoint (one sync of the store file) serves up to about 160 commits; a
/// transaction that writes more than this (a rebuild, a first sync) is made durable by syncing
/// the store file directly. It is also the most a transaction keeps in memory.
const CAPACITY: u64 = 16 << 20;
/// The least the journal may grow to: a small store's journal is still worth a few commits.
const FLOOR: u64 = 1 << 20;

/// How far the journal may grow beside a store file of `store` bytes: a quarter of it, so the
/// journal never takes much of the disk beside the store (a disk that had room for the store
/// alone filled up when the journal took 16 MB beside a 3 MB store), within `FLOOR..CAPACITY`.
fn limit(store: u64) -> u64 {
    (store / 4).clamp(FLOOR, CAPACITY)
}

const FRAMING: Framing = Framing {
    header: b"TNDMJRN1",
    record: b"TJR1",
    capacity: CAPACITY,
};

const WRITE: u8 = 0;
const SET_LEN: u8 = 1;
/// An operation's kind, offset and (for a write) length.
const OP_HEAD: usize = 1 + 8 + 8;

/// The storage redb writes the store file through.
#[derive(Debug)]
pub struct Journaled {
    store: FileBackend,
    /// Locked exclusively: dropping it (when redb drops this) lets the next handle in.
    journal: FileBackend,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    epoch: u64,
    /// The sequence number of the next record.
    seq: u64,
    /// Where the next record goes.
    end: u64,
    /// The record the writes since the last sync make: room for its head (filled in when it is
    /// written), then its body. Empty when nothing was written since.
    record: Vec<u8>,
    /// More was written since the last sync than the journal holds: the next sync is a
    /// checkpoint.
    overflowed: bool,
}

impl State {
    /// Add a write (or, with `SET_LEN`, a length change to `offset`) to the next record.
    fn keep(&mut self, op: u8, offset: u64, data: &[u8]) {
        if self.overflowed {
            return;
        }
        if (self.record.len() + RECORD_HEAD + OP_HEAD + data.len()) as u64 > CAPACITY - RECORDS {
            self.overflowed = true;
            self.record = Vec::new();
            return;
        }
        if self.record.is_empty() {
            self.record.resize(RECORD_HEAD, 0);
        }
        self.record.push(op);
        self.record.extend_from_slice(&offset.to_le_bytes());
        if op == WRITE {
            self.record
                .extend_from_slice(&(data.len() as u64).to_le_bytes());
            self.record.extend_from_slice(data);
        }
    }
}

impl Journaled {
    /// Open the store file at `path` for redb, with its journal; whatever a crashed session left
    /// in the journal is written back first. With `create`, the file is new, and a journal left
    /// beside it belonged to a store that is gone: it is emptied unread. Fails with `WouldBlock`
    /// while another handle has the store open.
    pub fn open(path: &Path, create: bool) -> io::Result<Journaled> {
        let journal = open_journal(path)?;
        let epoch = if create {
            let epoch = FRAMING.read_header(&journal)?.wrapping_add(1);
            FRAMING.write_header(&journal, epoch)?;
            epoch
        } else {
            settle_locked(path, &journal)?
        };
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(create)
            .truncate(false)
            .open(path)?;
        let store = FileBackend::new(file).map_err(io::Error::other)?;
        Ok(Journaled {
            store,
            journal,
            state: Mutex::new(State {
                epoch,
                seq: 0,
                end: RECORDS,
                record: Vec::new(),
                overflowed: false,
            }),
        })
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Sync the store file and empty the journal: everything written so far is in the store
    /// file for good, so no record is needed any more.
    fn checkpoint(&self, state: &mut State) -> io::Result<()> {
        self.store.sync_data()?;
        state.epoch = state.epoch.wrapping_add(1);
        FRAMING.write_header(&self.journal, state.epoch)?;
        state.seq = 0;
        state.end = RECORDS;
        state.overflowed = false;
        forget(&mut state.record);
        Ok(())
    }
}

/// Drop a record that is no longer needed, and the memory of a large transaction with it.
fn forget(record: &mut Vec<u8>) {
    if record.capacity() > 1 << 20 {
        *record = Vec::new();
    } else {
        record.clear();
    }
}

impl StorageBackend for Journaled {
    fn len(&self) -> io::Result<u64> {
        self.store.len()
    }

    fn read(&self, offset: u64, out: &mut [u8]) -> io::Result<()> {
        self.store.read(offset, out)
    }

    fn set_len(&self, len: u64) -> io::Result<()> {
        let mut state = self.state();
        self.store.set_len(len)?;
        state.keep(SET_LEN, len, &[]);
        Ok(())
    }

    fn write(&self, offset: u64, data: &[u8]) -> io::Result<()> {
        // Under the lock, so the records keep the order the writes reached the file in.
        let mut state = self.state();
        self.store.write(offset, data)?;
        state.keep(WRITE, offset, data);
        Ok(())
    }

    fn sync_data(&self) -> io::Result<()> {
        let mut state = self.state();
        if state.record.is_empty() && !state.overflowed {
            return Ok(());
        }
        let length = state.record.len() as u64;
        if state.overflowed || state.end + length > limit(self.store.len()?) {
            return self.checkpoint(&mut state);
        }
        let (epoch, seq) = (state.epoch, state.seq);
        FRAMING.seal(&mut state.record, epoch, seq);
        match self.journal.write(state.end, &state.record) {
            Ok(()) => {}
            // No room for the journal to grow: the store file is synced instead, and the disk
            // gets back what the journal held.
            Err(e) if super::error::is_disk_full(&e) => {
                self.checkpoint(&mut state)?;
                return self.journal.set_len(RECORDS);
            }
            Err(e) => return Err(e),
        }
        self.journal.sync_data()?;
        state.end += length;
        state.seq += 1;
        forget(&mut state.record);
        Ok(())
    }

    fn close(&self) -> io::Result<()> {
        let checkpoint = {
            let mut state = self.state();
            self.checkpoint(&mut state)
        };
        // A journal that was not emptied is written back at the next open.
        let closed = self.store.close();
        checkpoint.and(closed)
    }

    fn try_lock_range(
        &self,
        start: Bound<u64>,
        end: Bound<u64>,
    ) -> Result<bool, redb::BackendError> {
        self.store.try_lock_range(start, end)
    }

    fn try_lock_shared_range(
        &self,
        start: Bound<u64>,
        end: Bound<u64>,
    ) -> Result<bool, redb::BackendError> {
        self.store.try_lock_shared_range(start, end)
    }

    fn lock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<(), redb::BackendError> {
        self.store.lock_range(start, end)
    }

    fn lock_shared_range(
        &self,
        start: Bound<u64>,
        end: Bound<u64>,
    ) -> Result<(), redb::BackendError> {
        self.store.lock_shared_range(start, end)
    }

    fn unlock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<(), redb::BackendError> {
        self.store.unlock_range(start, end)
    }

    fn query_lock_range(
        &self,
        start: Bound<u64>,
        end: Bound<u64>,
    ) -> Result<bool, redb::BackendError> {
        self.store.query_lock_range(start, end)
    }
}

/// Write back into the store file at `path` whatever a session that ended without closing it
/// left in the journal, and sync it, so the file holds every commit that was acknowledged. An
/// empty or missing journal (the store was closed) leaves both files untouched, so a read-only
/// command on a closed store writes nothing. Fails with `WouldBlock` while another handle has
/// the store open.
pub fn settle(path: &Path) -> io::Result<()> {
    let Ok(probe) = File::open(path_of(path)) else {
        return Ok(());
    };
    lock(&probe)?;
    let probe = FileBackend::new(probe).map_err(io::Error::other)?;
    let pending = FRAMING.holds_records(&probe)?;
    // The lock goes with the handle; the writable one takes it again.
    drop(probe);
    if pending {
        settle_locked(path, &open_journal(path)?)?;
    }
    Ok(())
}

fn lock(file: &File) -> io::Result<()> {
    match file.try_lock() {
        Ok(()) => Ok(()),
        Err(TryLockError::WouldBlock) => Err(io::ErrorKind::WouldBlock.into()),
        Err(TryLockError::Error(e)) => Err(e),
    }
}

/// Open the journal (creating it, durably, if it is missing), locked for this handle alone.
fn open_journal(store: &Path) -> io::Result<FileBackend> {
    FRAMING.open(&path_of(store), lock)
}

/// Replay the records of `journal` into the store file and empty the journal; the epoch the
/// journal goes on with.
fn settle_locked(store: &Path, journal: &FileBackend) -> io::Result<u64> {
    let epoch = FRAMING.read_header(journal)?;
    let mut file: Option<FileBackend> = None;
    let (records, _) = FRAMING.each_record(journal, epoch, |body| {
        let file = match &mut file {
            Some(file) => file,
            None => {
                let opened = OpenOptions::new().read(true).write(true).open(store)?;
                file.insert(FileBackend::new(opened).map_err(io::Error::other)?)
            }
        };
        apply(file, body)
    })?;
    let Some(file) = file else {
        return Ok(epoch);
    };
    file.sync_data()?;
    tracing::info!(
        records,
        "the store's journal was written back after an unclean stop"
    );
    let next = epoch.wrapping_add(1);
    FRAMING.write_header(journal, next)?;
    Ok(next)
}

/// Carry out a record's writes and length changes on the store file.
fn apply(file: &FileBackend, body: &[u8]) -> io::Result<()> {
    let damaged = || io::Error::new(io::ErrorKind::InvalidData, "a journal record is malformed");
    let mut rest = body;
    while let Some((&op, after)) = rest.split_first() {
        let (offset, after) = take_u64(after).ok_or_else(damaged)?;
        rest = after;
        match op {
            WRITE => {
                let (len, after) = take_u64(rest).ok_or_else(damaged)?;
                let len = usize::try_from(len).map_err(|_| damaged())?;
                let data = after.get(..len).ok_or_else(damaged)?;
                file.write(offset, data)?;
                rest = &after[len..];
            }
            SET_LEN => file.set_len(offset)?,
            _ => return Err(damaged()),
        }
    }
    Ok(())
}

fn take_u64(bytes: &[u8]) -> Option<(u64, &[u8])> {
    let (head, rest) = bytes.split_first_chunk::<8>()?;
    Some((u64::from_le_bytes(*head), rest))
}

#[cfg(test)]
mod tests {
    use super::*;
    use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};

    const ROWS: TableDefinition<u64, &[u8]> = TableDefinition::new("rows");
    const PAGE: usize = 4096;

    fn open(path: &Path, create: bool) -> Database {
        let backend = Journaled::open(path, create).expect("the store and its journal open");
        Database::builder()
            .create_with_backend(backend)
            .expect("redb opens it")
    }

    /// One durable commit per row; a row is big enough that each commit writes several pages.
    fn commit(db: &Database, rows: std::ops::Range<u64>) {
        for row in rows {
            let txn = db.begin_write().unwrap();
            txn.open_table(ROWS)
                .unwrap()
                .insert(row, vec![row as u8; 3000].as_slice())
                .unwrap();
            txn.commit().unwrap();
        }
    }

    /// A new store in a directory of its own, after one durable commit per row of `rows`.
    fn created(rows: std::ops::Range<u64>) -> (tempfile::TempDir, PathBuf, Database) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.redb");
        let db = open(&path, true);
        commit(&db, rows);
        (dir, path, db)
    }

    fn rows(path: &Path) -> Vec<u64> {
        settle(path).expect("settled");
        let db = open(path, false);
        let txn = db.begin_read().unwrap();
        let table = txn.open_table(ROWS).unwrap();
        table
            .iter()
            .unwrap()
            .map(|row| {
                let (key, value) = row.unwrap();
                let whole = value.value().iter().all(|&b| b == key.value() as u8);
                assert!(whole, "row {} reads back as written", key.value());
                key.value()
            })
            .collect()
    }

    /// A copy of the store as a power cut could leave it: `store` as the disk holds it, and
    /// the journal as synced (possibly cut short by `torn` bytes).
    fn crashed(dir: &Path, name: &str, store: &[u8], journal: &[u8], torn: usize) -> PathBuf {
        let crash = dir.join(name);
        std::fs::create_dir(&crash).unwrap();
        let path = crash.join("store.redb");
        std::fs::write(&path, store).unwrap();
        std::fs::write(path_of(&path), &journal[..journal.len() - torn]).unwrap();
        path
    }

    #[test]
    fn every_synced_commit_survives_a_power_cut_that_kept_any_of_the_store_files_later_pages() {
        // Closed after its first commit: the store file is synced and the journal empty.
        let (dir, path, db) = created(0..1);
        drop(db);
        let synced = std::fs::read(&path).unwrap();
        assert_eq!(rows(&path), [0]);

        // Forty more durable commits, none of which syncs the store file itself.
        let db = open(&path, false);
        commit(&db, 1..41);
        let written = std::fs::read(&path).unwrap();
        let journal = std::fs::read(path_of(&path)).unwrap();
        let every_other_page: Vec<u8> = (0..written.len())
            .map(|i| match (i / PAGE) % 2 {
                0 => written[i],
                _ => synced.get(i).copied().unwrap_or(0),
            })
            .collect();

        for (name, store) in [
            ("none reached the disk", &synced),
            ("half did", &every_other_page),
        ] {
            let crash = crashed(dir.path(), name, store, &journal, 0);
            assert_eq!(rows(&crash), (0..41).collect::<Vec<_>>(), "{name}");
        }
        // The record being written when the power went: that commit was never acknowledged.
        let torn = crashed(dir.path(), "torn", &synced, &journal, 10);
        assert_eq!(rows(&torn), (0..40).collect::<Vec<_>>());

        // What the journal is for: without it the store file alone has lost them.
        let lost = crashed(dir.path(), "no journal", &synced, &journal, 0);
        std::fs::remove_file(path_of(&lost)).unwrap();
        assert_eq!(rows(&lost), [0]);
        drop(db);
    }

    #[test]
    fn a_store_in_use_is_neither_settled_nor_opened_twice() {
        let (_dir, path, db) = created(0..3);
        let in_use = |e: io::Error| e.kind() == io::ErrorKind::WouldBlock;
        assert!(settle(&path).is_err_and(in_use));
        assert!(Journaled::open(&path, false).is_err_and(in_use));
        drop(db);
        // Closed: the journal is empty, and settling writes nothing.
        let closed = std::fs::read(&path).unwrap();
        settle(&path).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), closed);
        assert_eq!(rows(&path), [0, 1, 2]);
    }

    #[test]
    fn a_small_stores_journal_stays_small() {
        let (_dir, path, db) = created(0..300);
        let store = std::fs::metadata(&path).unwrap().len();
        let journal = std::fs::metadata(path_of(&path)).unwrap().len();
        assert!(
            journal <= 2 * FLOOR,
            "a journal of {journal} bytes beside a store of {store}"
        );
        drop(db);
        assert_eq!(rows(&path).len(), 300);
    }

    #[test]
    fn a_transaction_larger_than_the_journal_is_made_durable_in_the_store_file() {
        let (_dir, path, db) = created(0..0);
        let txn = db.begin_write().unwrap();
        {
            let mut table = txn.open_table(ROWS).unwrap();
            for row in 0..(CAPACITY >> 20) + 2 {
                table
                    .insert(row, vec![row as u8; 1 << 20].as_slice())
                    .unwrap();
            }
        }
        txn.commit().unwrap();
        // Synced in place, so the journal holds nothing to replay: the store file alone has it.
        let journal = FileBackend::new(File::open(path_of(&path)).unwrap()).unwrap();
        assert!(FRAMING.read_epoch(&journal).unwrap().is_some());
        assert!(!FRAMING.holds_records(&journal).unwrap());
        commit(&db, 100..101);
        drop(db);
        assert_eq!(rows(&path).len() as u64, (CAPACITY >> 20) + 3);
    }
}
