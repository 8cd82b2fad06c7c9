//! Reading the store: the log in order, records by any of their names, a record's events and
//! merge document. Works on any transaction, read or write.

use super::StoreError;
use super::project::{IgnoreState, RecordState, SideState, decode, record_merged, record_state};
use super::tables::*;
use redb::{ReadTransaction, ReadableTable, ReadableTableMetadata};
use std::ops::{Bound, ControlFlow};
use tandem_protocol::{Event, Hlc, Merged, RecordDoc, RecordId, RecordKind, Side};

pub fn store_format(txn: &ReadTransaction) -> Result<u64, StoreError> {
    Ok(txn
        .open_table(META)?
        .get("format")?
        .map(|v| v.value())
        .unwrap_or(0))
}

/// The last log position and event, if any.
pub fn last_event(txn: &ReadTransaction) -> Result<Option<(u64, Event)>, StoreError> {
    let log = txn.open_table(LOG)?;
    match log.last()? {
        Some((seq, bytes)) => {
            let seq = seq.value();
            let event = Event::decode(bytes.value())
                .map_err(|source| StoreError::BadEvent { seq, source })?;
            Ok(Some((seq, event)))
        }
        None => Ok(None),
    }
}

/// How many events the log holds (it has no holes, so also the last position).
pub fn log_len(txn: &ReadTransaction) -> Result<u64, StoreError> {
    Ok(txn.open_table(LOG)?.len()?)
}

/// Events from log position `from` on, in order.
pub fn events_from(txn: &ReadTransaction, from: u64) -> Result<Vec<(u64, Event)>, StoreError> {
    let log = txn.open_table(LOG)?;
    let mut out = Vec::new();
    for row in log.range(from..)? {
        let (seq, bytes) = row?;
        let seq = seq.value();
        let event =
            Event::decode(bytes.value()).map_err(|source| StoreError::BadEvent { seq, source })?;
        out.push((seq, event));
    }
    Ok(out)
}

pub fn event_at(txn: &ReadTransaction, seq: u64) -> Result<Option<Event>, StoreError> {
    let log = txn.open_table(LOG)?;
    match log.get(seq)? {
        Some(bytes) => Event::decode(bytes.value())
            .map(Some)
            .map_err(|source| StoreError::BadEvent { seq, source }),
        None => Ok(None),
    }
}

/// The first log position at or after a time. The writer stamps timestamps and positions
/// together, in the same order, so the log is sorted by both and is searched by halves.
pub fn first_seq_since(txn: &ReadTransaction, since: Hlc) -> Result<Option<u64>, StoreError> {
    let log = txn.open_table(LOG)?;
    let (Some((first, _)), Some((last, _))) = (log.first()?, log.last()?) else {
        return Ok(None);
    };
    let hlc_at = |seq: u64| -> Result<Option<Hlc>, StoreError> {
        match log.range(seq..)?.next().transpose()? {
            Some((at, bytes)) => Ok(Some(
                Event::decode(bytes.value())
                    .map_err(|source| StoreError::BadEvent {
                        seq: at.value(),
                        source,
                    })?
                    .hlc,
            )),
            None => Ok(None),
        }
    };
    // The answer is in first..=last + 1 (past the end: nothing that late).
    let (mut low, mut high) = (first.value(), last.value() + 1);
    while low < high {
        let middle = low + (high - low) / 2;
        match hlc_at(middle)? {
            Some(hlc) if hlc < since => low = middle + 1,
            _ => high = middle,
        }
    }
    if low > last.value() {
        return Ok(None);
    }
    Ok(log
        .range(low..)?
        .next()
        .transpose()?
        .map(|(seq, _)| seq.value()))
}

pub fn record(txn: &ReadTransaction, id: &RecordId) -> Result<Option<RecordState>, StoreError> {
    match txn.open_table(RECORDS)?.get(id.as_str())? {
        Some(row) => Ok(Some(record_state(row.value())?)),
        None => Ok(None),
    }
}

pub fn side_state(
    txn: &ReadTransaction,
    id: &RecordId,
    side: Side,
) -> Result<Option<SideState>, StoreError> {
    match txn.open_table(SIDES)?.get((id.as_str(), side.as_str()))? {
        Some(bytes) => Ok(Some(decode("sides", bytes.value())?)),
        None => Ok(None),
    }
}

fn alias(txn: &ReadTransaction, key: &str) -> Result<Option<RecordId>, StoreError> {
    match txn.open_table(ALIASES)?.get(key)? {
        Some(id) => RecordId::parse(id.value())
            .map(Some)
            .map_err(|e| StoreError::BadProjection {
                what: "aliases".into(),
                reason: e.to_string(),
            }),
        None => Ok(None),
    }
}

/// The record a side knows by `id` (a DAV href, a Salesforce id).
pub fn record_on(
    txn: &ReadTransaction,
    side: Side,
    id: &str,
) -> Result<Option<RecordId>, StoreError> {
    alias(txn, &super::alias::on_side(side, id))
}

/// Every id tandem holds on `side` for records of `kind`.
pub fn ids_on(
    txn: &ReadTransaction,
    side: Side,
    kind: RecordKind,
) -> Result<Vec<String>, StoreError> {
    let (start, end) = super::alias::side_range(side);
    let table = txn.open_table(ALIASES)?;
    let mut out = Vec::new();
    for row in table.range(start.as_str()..end.as_str())? {
        let (key, record) = row?;
        let of_kind = RecordId::parse(record.value()).ok().and_then(|r| r.kind()) == Some(kind);
        if let (true, Some(id)) = (of_kind, super::alias::id_in(side, key.value())) {
            out.push(id.to_string());
        }
    }
    Ok(out)
}

/// The value of a side's watermark (how far tandem has read it) for `scope`.
pub fn watermark(
    txn: &ReadTransaction,
    side: Side,
    scope: &str,
) -> Result<Option<String>, StoreError> {
    Ok(txn
        .open_table(WATERMARKS)?
        .get((side.as_str(), scope))?
        .map(|v| v.value().to_string()))
}

/// Find a record by any of its names: its tandem id, its UID, its DAV href (a path or a full
/// URL), or its id on any side.
pub fn find_record(txn: &ReadTransaction, name: &str) -> Result<Option<RecordId>, StoreError> {
    if let Ok(id) = RecordId::parse(name)
        && record(txn, &id)?.is_some()
    {
        return Ok(Some(id));
    }
    if let Some(id) = alias(txn, &super::alias::uid(name))? {
        return Ok(Some(id));
    }
    let path = url_path(name);
    for side in Side::KNOWN {
        for candidate in [name, path] {
            if let Some(id) = record_on(txn, side, candidate)? {
                return Ok(Some(id));
            }
        }
    }
    Ok(None)
}

/// A record with what every side holds of it and whether the user ignores it: what the planner
/// reads.
pub struct Stored {
    pub state: RecordState,
    pub sides: Vec<(Side, SideState)>,
    /// The user's ignores: of the whole record (`None`) or of its step on one side.
    pub ignores: Vec<(Option<Side>, IgnoreState)>,
}

/// Every record of `kinds` after `after` (all of them: `None`), with its sides and ignore state,
/// handed to `visit` one at a time in record id order until it says to stop: a caller that needs
/// one record at a time (the planner) never holds them all, and one that works a window at a
/// time goes on after the last record it was handed.
pub fn each_record(
    txn: &ReadTransaction,
    kinds: &[RecordKind],
    after: Option<&RecordId>,
    mut visit: impl FnMut(Stored) -> Result<ControlFlow<()>, StoreError>,
) -> Result<(), StoreError> {
    let records = txn.open_table(RECORDS)?;
    let sides = txn.open_table(SIDES)?;
    let ignores = txn.open_table(IGNORES)?;
    let start = after.map(RecordId::as_str);
    let (records, sides, ignores) = match start {
        Some(id) => (
            records.range::<&str>((Bound::Excluded(id), Bound::Unbounded))?,
            sides.range((id, "")..)?,
            ignores.range((id, "")..)?,
        ),
        None => (records.iter()?, sides.iter()?, ignores.iter()?),
    };
    let mut sides = ByRecord::new(sides);
    let mut ignores = ByRecord::new(ignores);
    for row in records {
        let (key, bytes) = row?;
        let id = key.value();
        // Ids start with their kind: the others are skipped without decoding them.
        if !RecordId::parse(id)
            .ok()
            .and_then(|r| r.kind())
            .is_some_and(|kind| kinds.contains(&kind))
        {
            continue;
        }
        let next = visit(stored(id, bytes.value(), &mut sides, &mut ignores)?)?;
        if next.is_break() {
            break;
        }
    }
    Ok(())
}

/// The records `ids`, with their sides and ignore state, handed to `visit` one at a time; an id
/// the store does not hold is passed over. For a few records of many: each is looked up.
pub fn each_of(
    txn: &ReadTransaction,
    ids: &[RecordId],
    mut visit: impl FnMut(Stored) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    let records = txn.open_table(RECORDS)?;
    let sides = txn.open_table(SIDES)?;
    let ignores = txn.open_table(IGNORES)?;
    for id in ids {
        let Some(bytes) = records.get(id.as_str())? else {
            continue;
        };
        let id = id.as_str();
        visit(stored(
            id,
            bytes.value(),
            &mut ByRecord::new(sides.range((id, "")..)?),
            &mut ByRecord::new(ignores.range((id, "")..)?),
        )?)?;
    }
    Ok(())
}

/// Record `id` (its row `bytes`) with what each side holds of it and the user's ignores, read
/// from where `sides` and `ignores` stand.
fn stored(
    id: &str,
    bytes: &[u8],
    sides: &mut ByRecord,
    ignores: &mut ByRecord,
) -> Result<Stored, StoreError> {
    let held = sides.rows_of(id, |side, bytes| match Side::parse(side) {
        Some(side) => Ok(Some((side, decode("sides", bytes)?))),
        // A side tandem no longer knows.
        None => Ok(None),
    })?;
    Ok(Stored {
        state: record_state(bytes)?,
        sides: held.into_iter().flatten().collect(),
        ignores: ignores.rows_of(id, |side, bytes| {
            Ok((Side::parse(side), decode("ignores", bytes)?))
        })?,
    })
}

/// A table keyed (record id, name), walked once in key order alongside the records, which are
/// read in id order too: one pass over each table instead of a lookup per record.
struct ByRecord<'a> {
    rows: redb::Range<'a, (Text, Text), &'static [u8]>,
    next: Option<Row<'a>>,
}

type Row<'a> = (
    redb::AccessGuard<'a, (Text, Text)>,
    redb::AccessGuard<'a, &'static [u8]>,
);

impl<'a> ByRecord<'a> {
    fn new(rows: redb::Range<'a, (Text, Text), &'static [u8]>) -> Self {
        ByRecord { rows, next: None }
    }

    /// The rows of record `id`, each read by `read` from its name and bytes; rows of records
    /// before it are passed over.
    fn rows_of<T>(
        &mut self,
        id: &str,
        mut read: impl FnMut(&str, &[u8]) -> Result<T, StoreError>,
    ) -> Result<Vec<T>, StoreError> {
        let mut out = Vec::new();
        loop {
            let row = match self.next.take() {
                Some(row) => row,
                None => match self.rows.next() {
                    Some(row) => row?,
                    None => break,
                },
            };
            let (record, name) = row.0.value();
            match record.cmp(id) {
                std::cmp::Ordering::Less => {}
                std::cmp::Ordering::Equal => out.push(read(name, row.1.value())?),
                std::cmp::Ordering::Greater => {
                    self.next = Some(row);
                    break;
                }
            }
        }
        Ok(out)
    }
}

/// `http://127.0.0.1:5232/dav/x.ics` → `/dav/x.ics`; anything else is returned as it is.
fn url_path(name: &str) -> &str {
    name.split_once("://")
        .and_then(|(_, rest)| rest.find('/').map(|i| &rest[i..]))
        .unwrap_or(name)
}

/// The events that touched a record, oldest first.
pub fn record_events(
    txn: &ReadTransaction,
    id: &RecordId,
) -> Result<Vec<(u64, Event)>, StoreError> {
    events_of(&txn.open_table(RECORD_EVENTS)?, &txn.open_table(LOG)?, id)
}

/// The events that touched a record, oldest first, from its event index and the log: any
/// transaction's, read or write.
fn events_of(
    index: &impl ReadableTable<(Text, u64), ()>,
    log: &impl ReadableTable<u64, &'static [u8]>,
    id: &RecordId,
) -> Result<Vec<(u64, Event)>, StoreError> {
    let mut out = Vec::new();
    for row in index.range((id.as_str(), 0)..=(id.as_str(), u64::MAX))? {
        let seq = row?.0.value().1;
        if let Some(bytes) = log.get(seq)? {
            let event = Event::decode(bytes.value())
                .map_err(|source| StoreError::BadEvent { seq, source })?;
            out.push((seq, event));
        }
    }
    Ok(out)
}

/// Every value of every field of the record, with provenance, as merged so far.
pub fn merged(txn: &ReadTransaction, id: &RecordId) -> Result<Option<Merged>, StoreError> {
    match txn.open_table(RECORDS)?.get(id.as_str())? {
        Some(row) => Ok(Some(record_merged(row.value())?)),
        None => Ok(None),
    }
}

/// The record's merge document, built from its events; `None` if the record has none.
pub fn doc(txn: &ReadTransaction, id: &RecordId) -> Result<Option<RecordDoc>, StoreError> {
    let doc = doc_from(&txn.open_table(RECORD_EVENTS)?, &txn.open_table(LOG)?, id)?;
    Ok((!doc.is_empty()).then_some(doc))
}

/// The record's merge document, built by applying its logged edits in log order: what the
/// projector merged them into, one event at a time.
pub(super) fn doc_from(
    index: &impl ReadableTable<(Text, u64), ()>,
    log: &impl ReadableTable<u64, &'static [u8]>,
    id: &RecordId,
) -> Result<RecordDoc, StoreError> {
    let mut doc = RecordDoc::new(id.clone());
    for (_, event) in events_of(index, log, id)? {
        doc.apply_event(&event)?;
    }
    Ok(doc)
}

/// The sync runs, newest first, at most `limit`. A store from before runs were kept has none.
pub fn runs(
    txn: &ReadTransaction,
    limit: usize,
) -> Result<Vec<(u64, tandem_protocol::run::RunRecord)>, StoreError> {
    let table = match txn.open_table(RUNS) {
        Ok(table) => table,
        Err(redb::TableError::TableDoesNotExist(_)) => return Ok(Vec::new()),
        Err(e) => return Err(e.into()),
    };
    let mut out = Vec::new();
    for row in table.iter()?.rev().take(limit) {
        let (seq, bytes) = row?;
        out.push((seq.value(), decode("runs", bytes.value())?));
    }
    Ok(out)
}

/// The user's ignores of a record: of the whole record (`None`) or of its step on one side.
pub fn ignores_of(
    txn: &ReadTransaction,
    record: &RecordId,
) -> Result<Vec<(Option<Side>, IgnoreState)>, StoreError> {
    let id = record.as_str();
    let mut out = Vec::new();
    for row in txn.open_table(IGNORES)?.range((id, "")..)? {
        let (key, bytes) = row?;
        let (of, side) = key.value();
        if of != id {
            break;
        }
        out.push((Side::parse(side), decode("ignores", bytes.value())?));
    }
    Ok(out)
}

/// The records whose create on `side` was announced and never recorded (a killed run).
pub fn pending_creates(txn: &ReadTransaction, side: Side) -> Result<Vec<RecordId>, StoreError> {
    let table = txn.open_table(PENDING_CREATES)?;
    let mut out = Vec::new();
    for row in table.range((side.as_str(), "")..)? {
        let (key, _) = row?;
        let (of, record) = key.value();
        if of != side.as_str() {
            break;
        }
        if let Ok(id) = RecordId::parse(record) {
            out.push(id);
        }
    }
    Ok(out)
}
