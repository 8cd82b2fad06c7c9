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

    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("storage error: {0}")]
    Storage(String),
}

impl StoreError {
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
    ($($t:ty),*) => {$(
        impl From<$t> for StoreError {
            fn from(e: $t) -> StoreError {
                StoreError::Storage(e.to_string())
            }
        }
    )*};
}
storage_errors!(
    redb::TransactionError,
    redb::TableError,
    redb::StorageError,
    redb::CommitError
);
