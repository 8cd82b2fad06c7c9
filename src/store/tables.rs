//! The tables of the store. `LOG` is the truth; every other table but `META` is a projection
//! derived from it, and is what `replay --verify` rebuilds and compares.

use super::StoreError;
use redb::{Key, ReadableTable, Table, TableDefinition, TypeName, Value, WriteTransaction};
use std::borrow::Cow;
use std::cmp::Ordering;

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
/// 9: text keys are [`Text`], compared as bytes (the same bytes, in the same order).
/// 10: a row of the span index carries what a listing shows of its member.
pub const STORE_FORMAT: u64 = 10;

/// Text in a key, compared as its bytes. redb's `&str` checks both sides' UTF-8 at every
/// comparison, which took a tenth of a replay; UTF-8 orders as its bytes, so the order is the
/// same, and the text is checked where it is read out.
#[derive(Debug)]
pub struct Text;

impl Value for Text {
    type SelfType<'a> = &'a str;
    type AsBytes<'a> = &'a [u8];

    fn fixed_width() -> Option<usize> {
        None
    }

    fn from_bytes<'a>(data: &'a [u8]) -> &'a str
    where
        Self: 'a,
    {
        // Only ever written from a `&str`: anything else is a damaged file, as for redb's `&str`.
        std::str::from_utf8(data).expect("a text key holds UTF-8")
    }

    fn as_bytes<'a, 'b: 'a>(value: &'a &'b str) -> &'a [u8]
    where
        Self: 'b,
    {
        value.as_bytes()
    }

    fn type_name() -> TypeName {
        TypeName::new("tandem::Text")
    }
}

impl Key for Text {
    fn compare(data1: &[u8], data2: &[u8]) -> Ordering {
        data1.cmp(data2)
    }

    /// The shortest head of `right` above `left`, cut at a character boundary so that it is
    /// text too: branch pages then hold short keys, as they do for `&str`.
    fn separator<'a>(left: &'a [u8], right: &'a [u8]) -> Cow<'a, [u8]> {
        let common = left.iter().zip(right).take_while(|(a, b)| a == b).count();
        let mut end = common + 1;
        while end < right.len() && right[end] & 0xC0 == 0x80 {
            end += 1;
        }
        if end < left.len() && end < right.len() {
            Cow::Borrowed(&right[..end])
        } else {
            Cow::Borrowed(left)
        }
    }

    fn min_encoded_key() -> Option<Cow<'static, [u8]>> {
        Some(Cow::Borrowed(&[]))
    }
}

/// seq → event (JSON, see `tandem_protocol::Event`).
pub const LOG: TableDefinition<u64, &[u8]> = TableDefinition::new("log");
/// Facts about the store itself (format), not derived from the log.
pub const META: TableDefinition<&str, u64> = TableDefinition::new("meta");

/// record id → the record's row (see `project::record_row`): its `RecordState` (JSON), served
/// without any merge, then its `Merged` values (JSON): every value of every field with its
/// provenance, and the heads. An edit made on the current state is merged from these alone; the
/// automerge document is built from the record's events only for one made on an older state.
pub const RECORDS: TableDefinition<Text, &[u8]> = TableDefinition::new("records");
/// (record id, seq) → (): the events that touched each record.
pub const RECORD_EVENTS: TableDefinition<(Text, u64), ()> = TableDefinition::new("record_events");
/// alias → record id. Aliases: `uid:UID`, `desktop:HREF`, `salesforce:ID`.
pub const ALIASES: TableDefinition<Text, &str> = TableDefinition::new("aliases");
/// (record id, side) → `SideState` (JSON): what each side has of the record.
pub const SIDES: TableDefinition<(Text, Text), &[u8]> = TableDefinition::new("sides");
/// (side, scope) → watermark value.
pub const WATERMARKS: TableDefinition<(Text, Text), &str> = TableDefinition::new("watermarks");
/// (record id, side or "" for every side) → ignore decision (JSON).
pub const IGNORES: TableDefinition<(Text, Text), &[u8]> = TableDefinition::new("ignores");

/// collection path → `CollectionState` (JSON): calendars and address books of the DAV server.
pub const COLLECTIONS: TableDefinition<Text, &[u8]> = TableDefinition::new("collections");
/// (collection path, member name) → `ItemState` (postcard); deleted members stay as tombstones so
/// sync-collection can report them.
pub const DAV_ITEMS: TableDefinition<(Text, Text), &[u8]> = TableDefinition::new("dav_items");
/// member path → the bytes served to clients (the client's own bytes until another side changes
/// the record).
pub const DAV_BODIES: TableDefinition<Text, &[u8]> = TableDefinition::new("dav_bodies");
/// (collection path, seq) → member name: each member once, at the seq of its latest change
/// (sync tokens and getctag).
pub const DAV_CHANGES: TableDefinition<(Text, u64), &str> = TableDefinition::new("dav_changes");
/// (collection path, UID) → member name: one UID per collection.
pub const DAV_UIDS: TableDefinition<(Text, Text), &str> = TableDefinition::new("dav_uids");

/// seq → `RunRecord` (JSON): the sync runs, newest last.
pub const RUNS: TableDefinition<u64, &[u8]> = TableDefinition::new("runs");

/// (side, record id) → (): creates announced (an intent) whose outcome is not in the log — what
/// a killed run may have left behind, checked before the next pull of that side.
pub const PENDING_CREATES: TableDefinition<(Text, Text), ()> =
    TableDefinition::new("pending_creates");

/// path (decoded, no trailing slash) → `FileState` (JSON): the plain WebDAV area `/dav/files`.
pub const FILES: TableDefinition<Text, &[u8]> = TableDefinition::new("files");
/// path → the bytes of a plain resource, as the client sent them.
pub const FILE_BODIES: TableDefinition<Text, &[u8]> = TableDefinition::new("file_bodies");

/// (collection path, length class, first start, member name) → the member's `codec::Extent`
/// (postcard; ms since the epoch, `i64::MIN` / `i64::MAX` where a side has no bound): every
/// calendar member, so a time-range query reads only the members whose instances may reach into
/// its range (see `span.rs`).
pub const DAV_SPANS: TableDefinition<(Text, u8, i64, Text), &[u8]> =
    TableDefinition::new("dav_spans");

/// Make every table of a new (or upgraded) store, and record its layout if none is recorded.
pub fn create_all(txn: &WriteTransaction) -> Result<(), StoreError> {
    let mut meta = txn.open_table(META)?;
    if meta.get("format")?.is_none() {
        meta.insert("format", STORE_FORMAT)?;
    }
    drop(meta);
    Tables::open(txn)?;
    Ok(())
}

/// Every table an event can write, opened once for a write transaction. An event touches up to
/// ten of them, and opening one (finding it by name, checking its types, staging its root on
/// close) cost more than most of the lookups made in it.
pub struct Tables<'t> {
    pub log: Table<'t, u64, &'static [u8]>,
    pub records: Table<'t, Text, &'static [u8]>,
    pub record_events: Table<'t, (Text, u64), ()>,
    pub aliases: Table<'t, Text, &'static str>,
    pub sides: Table<'t, (Text, Text), &'static [u8]>,
    pub watermarks: Table<'t, (Text, Text), &'static str>,
    pub ignores: Table<'t, (Text, Text), &'static [u8]>,
    pub collections: Table<'t, Text, &'static [u8]>,
    pub dav_items: Table<'t, (Text, Text), &'static [u8]>,
    pub dav_bodies: Table<'t, Text, &'static [u8]>,
    pub dav_changes: Table<'t, (Text, u64), &'static str>,
    pub dav_uids: Table<'t, (Text, Text), &'static str>,
    pub dav_spans: Table<'t, (Text, u8, i64, Text), &'static [u8]>,
    pub runs: Table<'t, u64, &'static [u8]>,
    pub pending_creates: Table<'t, (Text, Text), ()>,
    pub files: Table<'t, Text, &'static [u8]>,
    pub file_bodies: Table<'t, Text, &'static [u8]>,
}

impl<'t> Tables<'t> {
    pub fn open(txn: &'t WriteTransaction) -> Result<Tables<'t>, redb::TableError> {
        Ok(Tables {
            log: txn.open_table(LOG)?,
            records: txn.open_table(RECORDS)?,
            record_events: txn.open_table(RECORD_EVENTS)?,
            aliases: txn.open_table(ALIASES)?,
            sides: txn.open_table(SIDES)?,
            watermarks: txn.open_table(WATERMARKS)?,
            ignores: txn.open_table(IGNORES)?,
            collections: txn.open_table(COLLECTIONS)?,
            dav_items: txn.open_table(DAV_ITEMS)?,
            dav_bodies: txn.open_table(DAV_BODIES)?,
            dav_changes: txn.open_table(DAV_CHANGES)?,
            dav_uids: txn.open_table(DAV_UIDS)?,
            dav_spans: txn.open_table(DAV_SPANS)?,
            runs: txn.open_table(RUNS)?,
            pending_creates: txn.open_table(PENDING_CREATES)?,
            files: txn.open_table(FILES)?,
            file_bodies: txn.open_table(FILE_BODIES)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_separator_lies_between_its_keys_and_is_text() {
        let words = [
            "",
            "a",
            "ab",
            "abc",
            "abd",
            "b",
            "é",
            "éa",
            "éb",
            "ü",
            "üé",
            "日本",
            "日本語",
            "日",
            "z",
            "日本語xyz",
            "書a",
            "書",
            "record/contact/01",
            "record/contact/02",
            "record/event/01",
        ];
        let mut checked = 0;
        for left in words {
            for right in words {
                if left >= right {
                    continue;
                }
                let cut = Text::separator(left.as_bytes(), right.as_bytes());
                let cut = std::str::from_utf8(&cut).expect("a separator is text");
                assert!(left <= cut && cut < right, "{left:?} ≤ {cut:?} < {right:?}");
                assert!(cut.len() <= left.len(), "{cut:?} for {left:?}");
                checked += 1;
            }
        }
        assert_eq!(checked, words.len() * (words.len() - 1) / 2);
    }
}
