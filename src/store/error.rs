//! Errors of the store, worded for the person who has to act on them.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "there is no tandem store in {dir}; start `tandem serve --data {dir}` (or pass the right --data directory)"
    )]
    Missing { dir: PathBuf },

    #[error(
        "the store {path} is in use by another tandem process; stop it, or run this command while `tandem serve` is reachable so it can answer"
    )]
    InUse { path: PathBuf },

    #[error(
        "the store {path} is damaged or is not a tandem store ({reason}); it was left untouched — restore it from a backup, or move it aside to start afresh"
    )]
    Damaged { path: PathBuf, reason: String },

    #[error(
        "the store {path} was written by a newer tandem (store format {found}, this one reads up to {supported}); upgrade tandem"
    )]
    FutureStore {
        path: PathBuf,
        found: u64,
        supported: u64,
    },

    #[error("log entry #{seq} cannot be read: {source}")]
    BadEvent {
        seq: u64,
        source: tandem_protocol::Error,
    },

    #[error(
        "a projection row cannot be read ({what}): {reason}; run `tandem replay --verify` to check the store"
    )]
    BadProjection { what: String, reason: String },

    #[error("{0}")]
    Rejected(#[from] tandem_protocol::Error),

    /// The change contradicts the current state (a collection that exists already, a member
    /// of a collection that does not).
    #[error("{0}")]
    Conflict(String),

    /// A conditional request's condition (If-Match, If-None-Match) does not hold.
    #[error("the resource changed or does not match: {0}")]
    PreconditionFailed(String),

    /// Another member of the collection already has this UID.
    #[error("another resource in this collection already has UID {uid}: {existing}")]
    UidConflict { uid: String, existing: String },

    #[error("{}: {source}{}", path.display(), advice(source))]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },

    /// redb's own words (they begin "storage error").
    #[error("{0}")]
    Storage(String),

    #[error(
        "the disk holding tandem's data directory is full: tandem could not write its store. Free some space and run the command again; everything tandem acknowledged before is stored"
    )]
    DiskFull,

    /// redb refuses every write after one failed on the disk, until the store is opened again
    /// (which the next use of the store does).
    #[error(
        "an earlier write to the store failed (the message before this one says why); tandem opens the store again and retries at the next change"
    )]
    AfterFailedWrite,

    #[error(
        "{path} was not closed cleanly and is checked on a copy first, which needs {megabytes} MB free next to it; the disk is full: free that much space and run the command again (the store is untouched)"
    )]
    NoRoomToRecover { path: PathBuf, megabytes: u64 },
}

/// What to do about an I/O error on tandem's data directory, as the end of a sentence; empty
/// when there is nothing more to say than the error itself.
pub fn advice(e: &std::io::Error) -> &'static str {
    use std::io::ErrorKind::*;
    match e.kind() {
        ReadOnlyFilesystem => {
            "; tandem keeps its store in its data directory and must write there: mount that disk writable, or pass another --data directory"
        }
        PermissionDenied => {
            "; this user may not write tandem's data directory: make it the user's own, or pass another --data directory"
        }
        StorageFull | QuotaExceeded => {
            "; the disk is full: free some space and run the command again"
        }
        _ => "",
    }
}

/// Whether an I/O error means the disk (or the user's quota) is full.
pub fn is_disk_full(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded
    )
}

impl From<redb::StorageError> for StoreError {
    fn from(e: redb::StorageError) -> StoreError {
        match e {
            redb::StorageError::Io(io) if is_disk_full(&io) => StoreError::DiskFull,
            redb::StorageError::PreviousIo => StoreError::AfterFailedWrite,
            other => StoreError::Storage(other.to_string()),
        }
    }
}

impl StoreError {
    /// The storage itself failed (not the draft): whatever the transaction holds may be partial.
    pub fn is_storage_failure(&self) -> bool {
        matches!(
            self,
            StoreError::Storage(_) | StoreError::DiskFull | StoreError::AfterFailedWrite
        )
    }

    pub fn from_database(path: &std::path::Path, e: redb::DatabaseError) -> StoreError {
        match e {
            redb::DatabaseError::DatabaseAlreadyOpen => StoreError::InUse {
                path: path.to_path_buf(),
            },
            redb::DatabaseError::Storage(redb::StorageError::Io(source))
                if source.kind() != std::io::ErrorKind::InvalidData
                    && source.kind() != std::io::ErrorKind::UnexpectedEof =>
            {
                StoreError::Io {
                    path: path.to_path_buf(),
                    source,
                }
            }
            other => StoreError::Damaged {
                path: path.to_path_buf(),
                reason: other.to_string(),
            },
        }
    }
}

macro_rules! storage_errors {
    ($($t:ident),*) => {$(
        impl From<redb::$t> for StoreError {
            fn from(e: redb::$t) -> StoreError {
                match e {
                    redb::$t::Storage(storage) => storage.into(),
                    other => StoreError::Storage(other.to_string()),
                }
            }
        }
    )*};
}
storage_errors!(TransactionError, TableError, CommitError);
