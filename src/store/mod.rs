//! The store: one redb file holding the append-only log and the projections rebuilt from it, and
//! the single writer that appends to it. redb writes the file through its journal (`journal`),
//! which makes a commit durable with one sequential write.
//!
//! The log is the truth. Every other table is a projection that `project` derives from the log,
//! in the same transaction as the append, so a reader never sees an event without its effects
//! or effects without their event; `replay` rebuilds them all from the log alone.

mod alias;
pub mod dav;
mod defaults;
pub mod draft;
mod error;
pub mod files;
mod framing;
mod journal;
pub mod project;
pub mod read;
pub mod replay;
pub mod span;
mod tables;
pub mod tail;
pub mod writer;

pub use defaults::ensure_default_collections;
pub use draft::{
    DesktopWrite, Draft, DraftBody, FileDraft, FileGuard, Guard, ObservationDraft, VersionCondition,
};
pub use error::{StoreError, advice};
pub use project::{IgnoreState, Projector, RecordState, SideState};
pub use tables::Text;
pub use writer::{Ack, Pending, WallClock, Writer, WriterError, system_clock};

use redb::{Database, ReadOnlyDatabase, ReadTransaction, ReadableDatabase};
use std::path::{Path, PathBuf};

pub const STORE_FILE: &str = "tandem.redb";

pub struct Store {
    handle: Handle,
    path: PathBuf,
    /// How many times the file was opened again (see `reopen_if_broken`): the writer resumes its
    /// positions from the log when this moves.
    openings: std::sync::atomic::AtomicU64,
    /// A write failed on the disk: the file is opened again before its next use.
    broken: std::sync::atomic::AtomicBool,
    /// The conflict policies the writer projects under: a file opened again takes in the log's
    /// tail under them before anyone reads it (`tail::take_in`).
    policies: std::sync::OnceLock<tandem_protocol::Policies>,
}

enum Handle {
    /// Empty while the file is opened again after a failed write (see `reopen_if_broken`).
    ReadWrite(std::sync::RwLock<Option<Database>>),
    /// Commands that only read open the file read-only: they leave it exactly as it was.
    ReadOnly(ReadOnlyDatabase),
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Access {
    ReadOnly,
    ReadWrite,
}

/// redb's page cache: its default (1 GiB) is sized for a server, not a desktop daemon that
/// should stay small next to the user's own programs; what does not fit is read from the OS
/// page cache. The sync benchmark (20,000 records) runs as fast with it and peaks 57 MB lower.
const CACHE_BYTES: usize = 64 << 20;

/// How every handle on the store is opened.
fn builder() -> redb::Builder {
    let mut builder = Database::builder();
    builder.set_cache_size(CACHE_BYTES);
    builder
}

/// Create the data directory (and what is missing above it) and make it its owner's alone: it
/// holds a salesperson's customer data, the password and the tokens. An existing one is
/// tightened too, as the store file is when it is opened for writing.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
    }
    #[cfg(not(unix))]
    std::fs::create_dir_all(dir)
}

/// A part of the data directory other local users could read (or enter), as it was found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Loosened {
    pub path: std::path::PathBuf,
    /// Its permission bits before they were tightened.
    pub mode: u32,
}

/// Make the data directory, every directory in it and every file in them (the store, the
/// settings with their secrets, the daemon's announcement, the logs) their owner's alone; what
/// was looser, so the user hears of it. Symbolic links are left as they are.
pub fn tighten(dir: &Path) -> std::io::Result<Vec<Loosened>> {
    let mut loosened = Vec::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mut dirs = vec![dir.to_path_buf()];
        while let Some(current) = dirs.pop() {
            let mut entries = vec![(current.clone(), std::fs::symlink_metadata(&current)?)];
            for entry in std::fs::read_dir(&current)? {
                let entry = entry?;
                let meta = entry.metadata()?;
                if meta.is_dir() {
                    dirs.push(entry.path());
                } else if meta.is_file() {
                    entries.push((entry.path(), meta));
                }
            }
            for (path, meta) in entries {
                let mode = meta.permissions().mode() & 0o777;
                let private = if meta.is_dir() { 0o700 } else { 0o600 };
                if mode & 0o077 != 0 {
                    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(private))?;
                    loosened.push(Loosened { path, mode });
                }
            }
        }
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(loosened)
}

/// The store file readable and writable by its owner only.
fn make_private(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        Ok(())
    }
}

impl Store {
    /// Open the store of a data directory for writing, creating directory and store if needed.
    pub fn open_or_create(dir: &Path) -> Result<Store, StoreError> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| StoreError::Io { path, source }
        };
        create_private_dir(dir).map_err(io(dir))?;
        let path = dir.join(STORE_FILE);
        if path.exists() {
            make_private(&path).map_err(io(&path))?;
            return Store::open_file(&path, Access::ReadWrite);
        }
        let db = open_journaled(&path, true)?;
        make_private(&path).map_err(io(&path))?;
        let store = Store {
            handle: Handle::ReadWrite(Some(db).into()),
            path,
            openings: 0.into(),
            broken: false.into(),
            policies: std::sync::OnceLock::new(),
        };
        store.init_tables()?;
        Ok(store)
    }

    /// Open an existing store; a missing one is an error that says how to make one.
    pub fn open_existing(dir: &Path, access: Access) -> Result<Store, StoreError> {
        let path = dir.join(STORE_FILE);
        if !path.exists() {
            return Err(StoreError::Missing {
                dir: dir.to_path_buf(),
            });
        }
        Store::open_file(&path, access)
    }

    fn open_file(path: &Path, access: Access) -> Result<Store, StoreError> {
        // Probe read-only first: that never writes, so a damaged file is refused untouched, and
        // only a file that needs crash recovery (or is healthy) is ever opened for writing.
        let handle = match access {
            Access::ReadOnly => {
                // As in `open_writable`, the journal goes back into the file before redb reads it.
                settle(path)?;
                match contain(path, || builder().open_read_only(path))? {
                    Ok(db) => Handle::ReadOnly(db),
                    Err(redb::DatabaseError::RepairAborted) => {
                        Handle::ReadWrite(Some(Store::open_writable(path)?).into())
                    }
                    Err(e) => return Err(StoreError::from_database(path, e)),
                }
            }
            Access::ReadWrite => Handle::ReadWrite(Some(Store::open_writable(path)?).into()),
        };
        let store = Store {
            handle,
            path: path.to_path_buf(),
            openings: 0.into(),
            broken: false.into(),
            policies: std::sync::OnceLock::new(),
        };
        store.check_format()?;
        if access == Access::ReadWrite && !store.needs_upgrade()? {
            // Tables this build added are created empty in a store from an older build (an
            // older layout gets them with its upgrade).
            store.init_tables()?;
        }
        Ok(store)
    }

    /// Open the file for writing. Probe read-only first: that never writes, so a damaged file is
    /// refused untouched, and only a file that needs crash recovery (or is healthy) is ever
    /// opened for writing.
    fn open_writable(path: &Path) -> Result<Database, StoreError> {
        // What a crashed session left in the journal goes back into the file before redb reads
        // it: without it the file may hold only part of its last commits.
        settle(path)?;
        match contain(path, || builder().open_read_only(path))? {
            Ok(probe) => {
                drop(probe);
                contain(path, || open_journaled(path, false))?
            }
            // Not closed cleanly: only a writable open can recover it.
            Err(redb::DatabaseError::RepairAborted) => Store::recover(path),
            Err(e) => Err(StoreError::from_database(path, e)),
        }
    }

    /// A write failed on the disk (it was full, or the device failed): redb refuses every read
    /// and write after such a failure until the file is opened anew, which also repairs whatever
    /// the failed write left. The next use of the store opens it again.
    pub fn mark_broken(&self) {
        self.broken.store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// Open the file again if a write failed on it. Until that succeeds (the disk may still be
    /// full) the store is closed and says why; each later use tries again.
    fn reopen_if_broken(
        &self,
        lock: &std::sync::RwLock<Option<Database>>,
    ) -> Result<(), StoreError> {
        use std::sync::atomic::Ordering::SeqCst;
        if !self.broken.load(SeqCst) {
            return Ok(());
        }
        let mut db = lock
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        // Another thread may have reopened it while this one waited for the lock.
        if !self.broken.load(SeqCst) {
            return Ok(());
        }
        // The old handle must be gone first: redb locks the file against a second opening.
        drop(db.take());
        let reopened = Store::open_writable(&self.path)?;
        // It holds its last checkpoint: what was committed since is in the tail.
        if let Some(policies) = self.policies.get() {
            let projector = Projector::new(*policies);
            tail::take_in(&reopened, &self.path, &projector, true)?;
        }
        *db = Some(reopened);
        self.openings.fetch_add(1, SeqCst);
        self.broken.store(false, SeqCst);
        tracing::info!("the store was opened again after a failed write; writing resumes");
        Ok(())
    }

    /// Say the conflict policies the writer projects under (see `policies`).
    pub fn project_under(&self, policies: tandem_protocol::Policies) {
        let _ = self.policies.set(policies);
    }

    /// How many times the file was opened again since this `Store` was made.
    pub fn openings(&self) -> u64 {
        self.openings.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// The store was not closed cleanly (tandem was killed, the machine lost power) and redb must
    /// repair it, which writes to the file. Keep the original aside until the repair has
    /// succeeded, and put it back if it fails, so a damaged file is never made worse.
    fn recover(path: &Path) -> Result<Database, StoreError> {
        let backup = path.with_extension("redb.before-recovery");
        let io = |source| StoreError::Io {
            path: backup.clone(),
            source,
        };
        if let Err(e) = std::fs::copy(path, &backup) {
            let _ = std::fs::remove_file(&backup);
            if error::is_disk_full(&e) {
                let size = std::fs::metadata(path).map_or(0, |m| m.len());
                return Err(StoreError::NoRoomToRecover {
                    path: path.to_path_buf(),
                    megabytes: size.div_ceil(1 << 20),
                });
            }
            return Err(io(e));
        }
        let failure = match contain(path, || open_journaled(path, false)).and_then(|db| db) {
            Ok(db) => {
                let _ = std::fs::remove_file(&backup);
                return Ok(db);
            }
            Err(e) => e,
        };
        std::fs::rename(&backup, path).map_err(io)?;
        Err(failure)
    }

    /// Make sure every table exists, so readers never have to handle a missing one.
    fn init_tables(&self) -> Result<(), StoreError> {
        let txn = self.begin_write()?;
        tables::create_all(&txn)?;
        txn.commit()?;
        Ok(())
    }

    /// Refuse a store written by a newer tandem with a different layout, or a redb file that is
    /// not a tandem store at all.
    fn check_format(&self) -> Result<(), StoreError> {
        let found = read::store_format(&self.read()?).map_err(|e| StoreError::Damaged {
            path: self.path.clone(),
            reason: e.to_string(),
        })?;
        if found > tables::STORE_FORMAT {
            return Err(StoreError::FutureStore {
                path: self.path.clone(),
                found,
                supported: tables::STORE_FORMAT,
            });
        }
        Ok(())
    }

    /// Whether the store has an older layout, whose projections the writer rebuilds from the log
    /// before it appends anything (`replay::upgrade`).
    pub fn needs_upgrade(&self) -> Result<bool, StoreError> {
        Ok(read::store_format(&self.read()?)? < tables::STORE_FORMAT)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Work with the writable database; a store opened read-only has none, and one being
    /// reopened has none for the moment.
    pub fn with_db<T>(
        &self,
        work: impl FnOnce(&Database) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let Handle::ReadWrite(lock) = &self.handle else {
            return Err(read_only_bug());
        };
        self.reopen_if_broken(lock)?;
        let db = lock.read().unwrap_or_else(|poisoned| poisoned.into_inner());
        let result = work(db.as_ref().ok_or(StoreError::AfterFailedWrite)?);
        if matches!(
            result,
            Err(StoreError::AfterFailedWrite | StoreError::DiskFull)
        ) {
            self.mark_broken();
        }
        result
    }

    pub fn begin_write(&self) -> Result<redb::WriteTransaction, StoreError> {
        self.with_db(|db| Ok(db.begin_write()?))
    }

    pub fn read(&self) -> Result<ReadTransaction, StoreError> {
        match &self.handle {
            Handle::ReadWrite(_) => self.with_db(|db| Ok(db.begin_read()?)),
            Handle::ReadOnly(db) => Ok(db.begin_read()?),
        }
    }
}

/// Open the store file for writing, through its journal (see `journal`).
fn open_journaled(path: &Path, create: bool) -> Result<Database, StoreError> {
    let backend = journal::Journaled::open(path, create).map_err(|e| journal_error(path, e))?;
    builder()
        .create_with_backend(backend)
        .map_err(|e| StoreError::from_database(path, e))
}

/// Write back what a crashed session left in the store's journal (see `journal::settle`).
fn settle(path: &Path) -> Result<(), StoreError> {
    journal::settle(path).map_err(|e| journal_error(path, e))
}

fn journal_error(path: &Path, source: std::io::Error) -> StoreError {
    if source.kind() == std::io::ErrorKind::WouldBlock {
        return StoreError::InUse {
            path: path.to_path_buf(),
        };
    }
    StoreError::Io {
        path: journal::path_of(path),
        source,
    }
}

fn read_only_bug() -> StoreError {
    StoreError::Storage("the store was opened read-only; this is a bug in tandem".into())
}

/// Run a redb open that may panic on a badly damaged file (redb asserts on some inconsistent
/// allocator states) and turn the panic into a "damaged" error, without the panic's message.
fn contain<T>(path: &Path, open: impl FnOnce() -> T) -> Result<T, StoreError> {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(open));
    std::panic::set_hook(hook);
    result.map_err(|panic| StoreError::Damaged {
        path: path.to_path_buf(),
        reason: panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "the storage engine gave up reading it".into()),
    })
}
