//! The store: one redb file holding the append-only log and the projections rebuilt from it.
//!
//! The log is the truth. Every other table is a projection that `project` derives from the log,
//! in the same transaction as the append, so a reader never sees an event without its effects
//! or effects without their event; `replay` rebuilds them all from the log alone.

mod error;
pub mod project;
pub mod read;
pub mod replay;
pub mod tables;

pub use error::StoreError;
pub use project::{Projector, RecordState, SideState};

use redb::{Database, ReadTransaction, ReadableDatabase};
use std::path::{Path, PathBuf};

pub const STORE_FILE: &str = "tandem.redb";

pub struct Store {
    db: Database,
    path: PathBuf,
}

impl Store {
    /// Open the store of a data directory, creating directory and store if they do not exist.
    pub fn open_or_create(dir: &Path) -> Result<Store, StoreError> {
        std::fs::create_dir_all(dir).map_err(|source| StoreError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let path = dir.join(STORE_FILE);
        if path.exists() {
            return Store::open_file(&path);
        }
        let db = Database::create(&path).map_err(|e| StoreError::from_database(&path, e))?;
        let store = Store { db, path };
        store.init_tables()?;
        Ok(store)
    }

    /// Open an existing store; a missing one is an error that says how to make one.
    pub fn open_existing(dir: &Path) -> Result<Store, StoreError> {
        let path = dir.join(STORE_FILE);
        if !path.exists() {
            return Err(StoreError::Missing {
                dir: dir.to_path_buf(),
            });
        }
        Store::open_file(&path)
    }

    fn open_file(path: &Path) -> Result<Store, StoreError> {
        let db = Database::builder()
            // A damaged file is not "repaired" in place: that could overwrite the only copy of
            // the user's history. Repair after an interrupted write (a crash) is different and
            // safe: redb's commits are atomic, so it only recovers the last committed state.
            .open(path)
            .map_err(|e| StoreError::from_database(path, e))?;
        let store = Store {
            db,
            path: path.to_path_buf(),
        };
        store.init_tables()?;
        store.check_format()?;
        Ok(store)
    }

    /// Make sure every table exists, so readers never have to handle a missing one.
    fn init_tables(&self) -> Result<(), StoreError> {
        let txn = self.db.begin_write()?;
        tables::create_all(&txn)?;
        txn.commit()?;
        Ok(())
    }

    /// Refuse a store written by a newer tandem with a different layout.
    fn check_format(&self) -> Result<(), StoreError> {
        let found = read::store_format(&self.read()?)?;
        if found > tables::STORE_FORMAT {
            return Err(StoreError::FutureStore {
                path: self.path.clone(),
                found,
                supported: tables::STORE_FORMAT,
            });
        }
        Ok(())
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn db(&self) -> &Database {
        &self.db
    }

    pub fn read(&self) -> Result<ReadTransaction, StoreError> {
        Ok(self.db.begin_read()?)
    }
}
