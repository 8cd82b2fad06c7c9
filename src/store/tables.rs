//! The tables of the store. `LOG` is the truth; every other table but `META` is a projection
//! derived from it, and is what `replay --verify` rebuilds and compares.

use redb::{ReadableTable, TableDefinition, WriteTransaction};

/// Layout version of the store file, kept in `META`. A store of an older layout has its
/// projections rebuilt from its log when it is first opened for writing (`upgrade`).
/// 2: ignores and pending creates are kept per side.
/// 3: a record's document grows by the change chunks of each event instead of being saved whole.
/// 4: calendar members are indexed by the span of their instances (`DAV_SPANS`).
/// 5: a record's document is saved whole every 32 changes, between them appended to.
/// 6: DAV members (`DAV_ITEMS`) are postcard, not JSON.
/// 7: the span index is grouped by length class and lists the instances of short series.
/// 8: a record's row keeps its merged values, not its automerge document (`docs`); the
///    change sequence (`changes`) and the event index (`event_seq`), which the log itself
///    answers, are gone.
pub const STORE_FORMAT: u64 = 8;

/// seq → event (JSON, see `tandem_protocol::Event`).
pub const LOG: TableDefinition<u64, &[u8]> = TableDefinition::new("log");
/// Facts about the store itself (format), not derived from the log.
pub const META: TableDefinition<&str, u64> = TableDefinition::new("meta");

/// record id → the record's row (see `project::record_row`): its `RecordState` (JSON), served
/// without any merge, then its `Merged` values (JSON): every value of every field with its
/// provenance, and the heads. An edit made on the current state is merged from these alone; the
/// automerge document is built from the record's events only for one made on an older state.
pub const RECORDS: TableDefinition<&str, &[u8]> = TableDefinition::new("records");
/// (record id, seq) → (): the events that touched each record.
pub const RECORD_EVENTS: TableDefinition<(&str, u64), ()> = TableDefinition::new("record_events");
/// alias → record id. Aliases: `uid:UID`, `desktop:HREF`, `salesforce:ID`.
pub const ALIASES: TableDefinition<&str, &str> = TableDefinition::new("aliases");
/// (record id, side) → `SideState` (JSON): what each side has of the record.
pub const SIDES: TableDefinition<(&str, &str), &[u8]> = TableDefinition::new("sides");
/// (side, scope) → watermark value.
pub const WATERMARKS: TableDefinition<(&str, &str), &str> = TableDefinition::new("watermarks");
/// (record id, side or "" for every side) → ignore decision (JSON).
pub const IGNORES: TableDefinition<(&str, &str), &[u8]> = TableDefinition::new("ignores");

/// collection path → `CollectionState` (JSON): calendars and address books of the DAV server.
pub const COLLECTIONS: TableDefinition<&str, &[u8]> = TableDefinition::new("collections");
/// (collection path, member name) → `ItemState` (postcard); deleted members stay as tombstones so
/// sync-collection can report them.
pub const DAV_ITEMS: TableDefinition<(&str, &str), &[u8]> = TableDefinition::new("dav_items");
/// member path → the bytes served to clients (the client's own bytes until another side changes
/// the record).
pub const DAV_BODIES: TableDefinition<&str, &[u8]> = TableDefinition::new("dav_bodies");
/// (collection path, seq) → member name: each member once, at the seq of its latest change
/// (sync tokens and getctag).
pub const DAV_CHANGES: TableDefinition<(&str, u64), &str> = TableDefinition::new("dav_changes");
/// (collection path, UID) → member name: one UID per collection.
pub const DAV_UIDS: TableDefinition<(&str, &str), &str> = TableDefinition::new("dav_uids");

/// seq → `RunRecord` (JSON): the sync runs, newest last.
pub const RUNS: TableDefinition<u64, &[u8]> = TableDefinition::new("runs");

/// (side, record id) → (): creates announced (an intent) whose outcome is not in the log — what
/// a killed run may have left behind, checked before the next pull of that side.
pub const PENDING_CREATES: TableDefinition<(&str, &str), ()> =
    TableDefinition::new("pending_creates");

/// path (decoded, no trailing slash) → `FileState` (JSON): the plain WebDAV area `/dav/files`.
pub const FILES: TableDefinition<&str, &[u8]> = TableDefinition::new("files");
/// path → the bytes of a plain resource, as the client sent them.
pub const FILE_BODIES: TableDefinition<&str, &[u8]> = TableDefinition::new("file_bodies");

/// (collection path, length class, first start, member name) → the member's `codec::Extent`
/// (postcard; ms since the epoch, `i64::MIN` / `i64::MAX` where a side has no bound): every
/// calendar member, so a time-range query reads only the members whose instances may reach into
/// its range (see `span.rs`).
pub const DAV_SPANS: TableDefinition<(&str, u8, i64, &str), &[u8]> =
    TableDefinition::new("dav_spans");

pub fn create_all(txn: &WriteTransaction) -> Result<(), redb::StorageError> {
    let err = |e: redb::TableError| redb::StorageError::Io(std::io::Error::other(e.to_string()));
    txn.open_table(LOG).map_err(err)?;
    let mut meta = txn.open_table(META).map_err(err)?;
    if meta.get("format")?.is_none() {
        meta.insert("format", STORE_FORMAT)?;
    }
    drop(meta);
    txn.open_table(RECORDS).map_err(err)?;
    txn.open_table(RECORD_EVENTS).map_err(err)?;
    txn.open_table(ALIASES).map_err(err)?;
    txn.open_table(SIDES).map_err(err)?;
    txn.open_table(WATERMARKS).map_err(err)?;
    txn.open_table(IGNORES).map_err(err)?;
    txn.open_table(COLLECTIONS).map_err(err)?;
    txn.open_table(DAV_ITEMS).map_err(err)?;
    txn.open_table(DAV_BODIES).map_err(err)?;
    txn.open_table(DAV_CHANGES).map_err(err)?;
    txn.open_table(DAV_UIDS).map_err(err)?;
    txn.open_table(DAV_SPANS).map_err(err)?;
    txn.open_table(FILES).map_err(err)?;
    txn.open_table(FILE_BODIES).map_err(err)?;
    txn.open_table(RUNS).map_err(err)?;
    txn.open_table(PENDING_CREATES).map_err(err)?;
    Ok(())
}
