//! The DAV projection: collections, and the members a desktop client sees in them — their
//! bytes, ETags, UIDs and the per-collection change sequence behind sync tokens and getctag.

use super::StoreError;
use super::project::{bad, decode, encode};
use super::span::{self, Span};
use super::tables::*;
use redb::{ReadTransaction, ReadableTable};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::ops::ControlFlow;
use tandem_protocol::codec::Extent;
use tandem_protocol::dav::resource::{etag, split_member};
use tandem_protocol::event::{CollectionChange, CollectionKind, CollectionOp};
use tandem_protocol::{Hlc, Op, Payload, RecordId};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CollectionState {
    pub path: String,
    pub kind: CollectionKind,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub components: Vec<String>,
    /// Properties by Clark name → XML value (displayname, colour, dead properties…).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub props: BTreeMap<String, String>,
    /// Log position of the collection's creation: sync tokens older than that are invalid.
    pub created: u64,
    /// Log position of the last change to the collection's own properties.
    pub changed: u64,
}

/// A member as the DAV server lists it. Stored in `DAV_ITEMS` as postcard, not JSON (see
/// `ItemState::row`), so every field is always written: postcard has no field names to skip by.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ItemState {
    pub record: RecordId,
    pub etag: String,
    pub content_type: String,
    pub uid: Option<String>,
    pub length: u64,
    /// Log position of the member's latest change.
    pub seq: u64,
    pub deleted: bool,
    /// The record heads whose state these bytes show.
    pub seen: Vec<Hlc>,
    /// For a calendar member: where its instances lie (its row of `DAV_SPANS`).
    pub span: Option<Span>,
}

impl ItemState {
    pub fn live(&self) -> bool {
        !self.deleted
    }

    /// The member's `DAV_ITEMS` row. A listing decodes one row per member, and in JSON that was
    /// most of a PROPFIND's time (every ETag is quoted, so every one had escapes to undo);
    /// postcard reads it in a fraction of that.
    fn row(&self) -> Result<Vec<u8>, StoreError> {
        postcard::to_stdvec(self)
            .map_err(|e| StoreError::Storage(format!("cannot encode a DAV member: {e}")))
    }

    fn from_row(bytes: &[u8]) -> Result<ItemState, StoreError> {
        postcard::from_bytes(bytes).map_err(|e| bad("dav_items", e))
    }

    /// The newest event its bytes show: its Last-Modified.
    pub fn modified(&self) -> Hlc {
        self.seen.iter().max().copied().unwrap_or_default()
    }

    /// What a listing shows of it.
    fn listed(&self) -> Listed<'_> {
        Listed {
            etag: Cow::Borrowed(&self.etag),
            content_type: Cow::Borrowed(&self.content_type),
            length: self.length,
            modified: self.modified(),
        }
    }
}

/// What the DAV server shows of a member, its properties, without the parts of its row only a
/// change needs. A listing reads thousands of rows: decoding each whole (five strings, a list
/// and its span, all dropped again) was a quarter of a PROPFIND's time.
///
/// A listing's members borrow their text from the row they were read from; a member kept
/// beyond it owns its text (`into_owned`).
#[derive(Clone, Debug, PartialEq)]
pub struct Listed<'a> {
    pub etag: Cow<'a, str>,
    pub content_type: Cow<'a, str>,
    pub length: u64,
    pub modified: Hlc,
}

impl Listed<'_> {
    pub fn into_owned(self) -> Listed<'static> {
        Listed {
            etag: Cow::Owned(self.etag.into_owned()),
            content_type: Cow::Owned(self.content_type.into_owned()),
            ..self
        }
    }
}

impl From<ItemState> for Listed<'static> {
    fn from(item: ItemState) -> Listed<'static> {
        item.listed().into_owned()
    }
}

/// The leading fields of a `DAV_ITEMS` row as written by `ItemState::row`, borrowed: postcard
/// writes fields in order and without names, and reads a prefix without looking past it. What a
/// listing does not show is read past as bytes (postcard writes text as length and bytes), so it
/// is not checked as UTF-8 for nothing, and the seen heads are read down to the newest without a
/// list: per member of a listing, both were a measurable part of a PROPFIND.
#[derive(Deserialize)]
struct Leading<'a> {
    _record: &'a [u8],
    etag: &'a str,
    content_type: &'a str,
    _uid: Option<&'a [u8]>,
    length: u64,
    _seq: u64,
    deleted: bool,
    seen: Newest,
}

/// The newest of a row's seen heads: its Last-Modified.
struct Newest(Hlc);

impl<'de> Deserialize<'de> for Newest {
    fn deserialize<D: serde::Deserializer<'de>>(from: D) -> Result<Newest, D::Error> {
        struct Heads;
        impl<'de> serde::de::Visitor<'de> for Heads {
            type Value = Newest;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a member's seen heads")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Newest, A::Error> {
                let mut newest = Hlc::default();
                while let Some(head) = seq.next_element::<Hlc>()? {
                    newest = newest.max(head);
                }
                Ok(Newest(newest))
            }
        }
        from.deserialize_seq(Heads)
    }
}

impl<'a> Listed<'a> {
    /// A live member's properties from its row; `None` for a removed one.
    fn from_row(bytes: &'a [u8]) -> Result<Option<Listed<'a>>, StoreError> {
        let row: Leading = postcard::from_bytes(bytes).map_err(|e| bad("dav_items", e))?;
        Ok((!row.deleted).then_some(Listed {
            etag: Cow::Borrowed(row.etag),
            content_type: Cow::Borrowed(row.content_type),
            length: row.length,
            modified: row.seen.0,
        }))
    }
}

fn rejected(message: String) -> StoreError {
    StoreError::Conflict(message)
}

pub fn collection_in<T: ReadableTable<Text, &'static [u8]>>(
    table: &T,
    path: &str,
) -> Result<Option<CollectionState>, StoreError> {
    match table.get(path)? {
        Some(bytes) => Ok(Some(decode("collections", bytes.value())?)),
        None => Ok(None),
    }
}

pub fn item_in<T: ReadableTable<(Text, Text), &'static [u8]>>(
    table: &T,
    collection: &str,
    name: &str,
) -> Result<Option<ItemState>, StoreError> {
    match table.get((collection, name))? {
        Some(bytes) => Ok(Some(ItemState::from_row(bytes.value())?)),
        None => Ok(None),
    }
}

/// Apply a collection change. Checks first, then writes.
pub fn apply_collection(
    t: &mut Tables,
    seq: u64,
    change: &CollectionChange,
) -> Result<(), StoreError> {
    let collections = &mut t.collections;
    let existing = collection_in(collections, &change.path)?;
    match (&change.op, existing) {
        (CollectionOp::Create { .. }, Some(_)) => Err(rejected(format!(
            "a collection already exists at {}",
            change.path
        ))),
        (
            CollectionOp::Create {
                kind,
                components,
                props,
            },
            None,
        ) => {
            if !change.path.starts_with('/') || !change.path.ends_with('/') {
                return Err(rejected(format!(
                    "a collection path must start and end with `/`, not {}",
                    change.path
                )));
            }
            let state = CollectionState {
                path: change.path.clone(),
                kind: *kind,
                components: components.clone(),
                props: props.clone(),
                created: seq,
                changed: seq,
            };
            collections.insert(change.path.as_str(), encode(&state)?.as_slice())?;
            Ok(())
        }
        (_, None) => Err(rejected(format!(
            "there is no collection at {}",
            change.path
        ))),
        (CollectionOp::SetProps { set, remove }, Some(mut state)) => {
            for name in remove {
                state.props.remove(name);
            }
            state
                .props
                .extend(set.iter().map(|(k, v)| (k.clone(), v.clone())));
            state.changed = seq;
            collections.insert(change.path.as_str(), encode(&state)?.as_slice())?;
            Ok(())
        }
        (CollectionOp::Delete, Some(_)) => {
            collections.remove(change.path.as_str())?;
            remove_members(t, &change.path)
        }
    }
}

/// A deleted collection takes its index with it; its members' records were deleted by their
/// own events before.
fn remove_members(t: &mut Tables, collection: &str) -> Result<(), StoreError> {
    let names: Vec<String> = t
        .dav_items
        .range((collection, "")..)?
        .map_while(|row| {
            let row = row.ok()?;
            let (c, n) = row.0.value();
            (c == collection).then(|| n.to_string())
        })
        .collect();
    for name in &names {
        t.dav_items.remove((collection, name.as_str()))?;
        t.dav_bodies
            .remove(format!("{collection}{name}").as_str())?;
    }
    let seqs: Vec<u64> = t
        .dav_changes
        .range((collection, 0)..=(collection, u64::MAX))?
        .filter_map(|row| row.ok().map(|r| r.0.value().1))
        .collect();
    for seq in seqs {
        t.dav_changes.remove((collection, seq))?;
    }
    let keys: Vec<String> = t
        .dav_uids
        .range((collection, "")..)?
        .map_while(|row| {
            let row = row.ok()?;
            let (c, u) = row.0.value();
            (c == collection).then(|| u.to_string())
        })
        .collect();
    for uid in keys {
        t.dav_uids.remove((collection, uid.as_str()))?;
    }
    span::remove_collection(&mut t.dav_spans, collection)?;
    Ok(())
}

/// The DAV side of a desktop observation, computed before anything is written.
pub struct MemberEffects {
    collection: String,
    name: String,
    previous: Option<ItemState>,
    next: ItemState,
    body: Option<Vec<u8>>,
    /// Where the instances of a calendar member that is written lie: its row of the span index.
    extent: Option<Extent>,
}

/// A change to one DAV member: a client's observation, or a write tandem made to the desktop.
pub struct MemberChange<'a> {
    pub record: &'a RecordId,
    pub op: Op,
    pub href: Option<&'a str>,
    pub uid: Option<&'a str>,
    pub payload: Option<&'a Payload>,
    /// The record heads the new bytes show.
    pub seen: Vec<Hlc>,
    /// The payload's extent, when it was computed already (see `ObservationDraft::extent`).
    pub extent: Option<&'a Extent>,
}

/// What a desktop change does to the DAV index: `None` when it does not concern a member of a
/// known collection (e.g. a change reported by a script through `tandem ingest`).
pub fn member_effects(
    t: &Tables,
    o: &MemberChange<'_>,
) -> Result<Option<MemberEffects>, StoreError> {
    let Some((collection, name)) = o.href.and_then(split_member) else {
        return Ok(None);
    };
    let Some(state) = collection_in(&t.collections, collection)? else {
        return Ok(None);
    };
    let calendar = state.kind == CollectionKind::Calendar;
    let previous = item_in(&t.dav_items, collection, name)?;
    let (body, next, extent) = match (o.op, o.payload, &previous) {
        (Op::Delete, _, Some(previous)) => (
            None,
            ItemState {
                deleted: true,
                seen: o.seen.clone(),
                ..previous.clone()
            },
            None,
        ),
        (Op::Delete, _, None) | (_, None, _) => return Ok(None),
        (_, Some(payload), _) => {
            let extent = calendar.then(|| {
                o.extent
                    .cloned()
                    .unwrap_or_else(|| Extent::of(&payload.bytes))
            });
            let next = ItemState {
                record: o.record.clone(),
                etag: etag(&payload.bytes),
                content_type: payload.content_type.clone(),
                uid: o.uid.map(str::to_string),
                length: payload.bytes.len() as u64,
                seq: 0,
                deleted: false,
                seen: o.seen.clone(),
                span: extent.as_ref().map(Span::from),
            };
            (Some(payload.bytes.clone()), next, extent)
        }
    };
    Ok(Some(MemberEffects {
        collection: collection.to_string(),
        name: name.to_string(),
        previous,
        next,
        body,
        extent,
    }))
}

impl MemberEffects {
    pub fn write(mut self, t: &mut Tables, seq: u64) -> Result<(), StoreError> {
        let (collection, name) = (self.collection.as_str(), self.name.as_str());
        let href = format!("{collection}{name}");
        self.next.seq = seq;
        if let Some(previous) = &self.previous {
            t.dav_changes.remove((collection, previous.seq))?;
        }
        t.dav_changes.insert((collection, seq), name)?;
        // The UID a member holds: a tombstone holds none (another member may have taken it).
        fn held(item: &ItemState) -> Option<&str> {
            item.uid.as_deref().filter(|_| item.live())
        }
        let (before, after) = (self.previous.as_ref().and_then(held), held(&self.next));
        // A member that keeps its UID keeps its row: rewriting it would still copy its page
        // into the commit.
        if before != after {
            if let Some(old) = before {
                t.dav_uids.remove((collection, old))?;
            }
            if let Some(uid) = after {
                t.dav_uids.insert((collection, uid), name)?;
            }
        }
        match &self.body {
            Some(body) => t.dav_bodies.insert(href.as_str(), body.as_slice())?,
            None => t.dav_bodies.remove(href.as_str())?,
        };
        if let Some(old) = self.previous.as_ref().and_then(|p| p.span) {
            span::remove(&mut t.dav_spans, collection, name, old)?;
        }
        if let (false, Some(extent)) = (self.next.deleted, &self.extent) {
            span::insert(
                &mut t.dav_spans,
                collection,
                name,
                extent,
                &self.next.listed(),
            )?;
        }
        t.dav_items
            .insert((collection, name), self.next.row()?.as_slice())?;
        Ok(())
    }
}

// Reading, for the DAV server.

pub fn collection(
    txn: &ReadTransaction,
    path: &str,
) -> Result<Option<CollectionState>, StoreError> {
    collection_in(&txn.open_table(COLLECTIONS)?, path)
}

pub fn collections(txn: &ReadTransaction) -> Result<Vec<CollectionState>, StoreError> {
    let table = txn.open_table(COLLECTIONS)?;
    let mut out = Vec::new();
    for row in table.iter()? {
        out.push(decode("collections", row?.1.value())?);
    }
    Ok(out)
}

/// The members' rows, open for a reader that looks members up one by one (a multiget, the
/// matches of a query the span index does not answer): the table is opened once, and each row
/// read as a listing writes it.
pub struct MemberRows(redb::ReadOnlyTable<(Text, Text), &'static [u8]>);

impl MemberRows {
    pub fn open(txn: &ReadTransaction) -> Result<MemberRows, StoreError> {
        Ok(MemberRows(txn.open_table(DAV_ITEMS)?))
    }

    /// Hand `write` the live member `name` of `collection`, if there is one; what it gave back.
    pub fn with_listed<T>(
        &self,
        collection: &str,
        name: &str,
        write: impl FnOnce(Listed<'_>) -> Result<T, StoreError>,
    ) -> Result<Option<T>, StoreError> {
        let Some(row) = self.0.get((collection, name))? else {
            return Ok(None);
        };
        Listed::from_row(row.value())?.map(write).transpose()
    }
}

/// The members' bodies, open for a listing that writes them (calendar-data, address-data)
/// one member at a time: the table is opened once, and each body handed over as stored.
pub struct Bodies(redb::ReadOnlyTable<Text, &'static [u8]>);

impl Bodies {
    pub fn open(txn: &ReadTransaction) -> Result<Bodies, StoreError> {
        Ok(Bodies(txn.open_table(DAV_BODIES)?))
    }

    /// Hand `write` the body at `href`, if there is one; what it gave back.
    pub fn with_body<T>(
        &self,
        href: &str,
        write: impl FnOnce(&[u8]) -> T,
    ) -> Result<Option<T>, StoreError> {
        Ok(self.0.get(href)?.map(|body| write(body.value())))
    }
}

pub fn item(
    txn: &ReadTransaction,
    collection: &str,
    name: &str,
) -> Result<Option<ItemState>, StoreError> {
    item_in(&txn.open_table(DAV_ITEMS)?, collection, name)
}

/// The live members of a collection, by name.
pub fn members(
    txn: &ReadTransaction,
    collection: &str,
) -> Result<Vec<(String, ItemState)>, StoreError> {
    let mut out = Vec::new();
    each_member(txn, collection, |name, item| {
        out.push((name, item));
        Ok(())
    })?;
    Ok(out)
}

/// Hands each live member of a collection to `f`, by name, without collecting them: a
/// listing of 100,000 members then holds one at a time.
pub fn each_member(
    txn: &ReadTransaction,
    collection: &str,
    mut f: impl FnMut(String, ItemState) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    each_row(txn, collection, |name, row| {
        match Some(ItemState::from_row(row)?).filter(ItemState::live) {
            Some(item) => f(name.to_string(), item),
            None => Ok(()),
        }
    })
}

/// The same with what a listing shows of each member, borrowed from its row.
pub fn each_listed(
    txn: &ReadTransaction,
    collection: &str,
    mut f: impl FnMut(&str, Listed<'_>) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    each_row(txn, collection, |name, row| match Listed::from_row(row)? {
        Some(item) => f(name, item),
        None => Ok(()),
    })
}

/// Each row of a collection's members, by name.
fn each_row(
    txn: &ReadTransaction,
    collection: &str,
    mut f: impl FnMut(&str, &[u8]) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    let table = txn.open_table(DAV_ITEMS)?;
    for row in table.range((collection, "")..)? {
        let (key, value) = row?;
        let (c, name) = key.value();
        if c != collection {
            break;
        }
        f(name, value.value())?;
    }
    Ok(())
}

/// Hands the name and body of each live member of a collection to `f`, in name order, one at a
/// time: a whole-collection export or query then holds no body but the one it reads.
pub fn each_body(
    txn: &ReadTransaction,
    collection: &str,
    mut f: impl FnMut(&str, &[u8]) -> Result<ControlFlow<()>, StoreError>,
) -> Result<(), StoreError> {
    let table = txn.open_table(DAV_BODIES)?;
    for row in table.range(collection..)? {
        let (href, body) = row?;
        let Some(name) = href.value().strip_prefix(collection) else {
            break;
        };
        // A deleted member has no body; a collection below this one is not a member.
        if !name.contains('/') && f(name, body.value())?.is_break() {
            break;
        }
    }
    Ok(())
}

pub fn body(txn: &ReadTransaction, href: &str) -> Result<Option<Vec<u8>>, StoreError> {
    Ok(txn
        .open_table(DAV_BODIES)?
        .get(href)?
        .map(|b| b.value().to_vec()))
}

/// The member that holds a UID in a collection.
pub fn uid_holder(
    txn: &ReadTransaction,
    collection: &str,
    uid: &str,
) -> Result<Option<String>, StoreError> {
    Ok(txn
        .open_table(DAV_UIDS)?
        .get((collection, uid))?
        .map(|n| n.value().to_string()))
}

/// The members changed after log position `since`, in change order, with their state
/// (tombstones included), and the position of the last change.
pub fn changes_since(
    txn: &ReadTransaction,
    collection: &str,
    since: u64,
) -> Result<Vec<(u64, String, ItemState)>, StoreError> {
    let changes = txn.open_table(DAV_CHANGES)?;
    let items = txn.open_table(DAV_ITEMS)?;
    let mut out = Vec::new();
    for row in changes.range((collection, since.saturating_add(1))..=(collection, u64::MAX))? {
        let (key, name) = row?;
        let name = name.value().to_string();
        if let Some(state) = item_in(&items, collection, &name)? {
            out.push((key.value().1, name, state));
        }
    }
    Ok(out)
}

/// The collection's current sync position: its last member change or property change.
pub fn sync_position(txn: &ReadTransaction, state: &CollectionState) -> Result<u64, StoreError> {
    let changes = txn.open_table(DAV_CHANGES)?;
    let last = changes
        .range((state.path.as_str(), 0)..=(state.path.as_str(), u64::MAX))?
        .next_back()
        .transpose()?
        .map_or(0, |(key, _)| key.value().1);
    Ok(last.max(state.changed))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tandem_protocol::RecordKind;

    /// `Leading` must follow `ItemState`'s fields in order: a field moved or added before
    /// `seen` fails here, not in a listing.
    #[test]
    fn a_listing_reads_from_a_row_what_the_whole_row_shows() {
        let item = ItemState {
            record: RecordId::derive(RecordKind::Event, Hlc(7)),
            etag: "\"e1\"".into(),
            content_type: "text/calendar; charset=utf-8".into(),
            uid: Some("u1".into()),
            length: 321,
            seq: 9,
            deleted: false,
            seen: vec![Hlc(5), Hlc(11), Hlc(8)],
            span: Some(Span { first: 1, last: 2 }),
        };
        let row = item.row().unwrap();
        let listed = Listed::from_row(&row).unwrap();
        assert_eq!(listed, Some(Listed::from(item.clone())));
        assert_eq!(listed.unwrap().modified, Hlc(11));
        let removed = ItemState {
            deleted: true,
            ..item
        };
        assert_eq!(Listed::from_row(&removed.row().unwrap()).unwrap(), None);
    }
}
