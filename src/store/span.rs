//! The span index of calendar members: where each member's instances lie, kept so that a
//! time-range finds the members that may meet it in O(classes · log n + hits), not by reading
//! every member or every member that ends after the range starts.
//!
//! An index keyed by first start alone would have to look back from a range's start as far as
//! the longest event reaches; one keyed by last end reads every member ending after the range,
//! which is most of a calendar for a week in its first half. So members are grouped by the length
//! of their span, in powers of two (a class), and keyed by first start within their group: in a
//! class whose spans are shorter than 2^k ms, a member that reaches into a range starts less
//! than 2^k ms before it. A query seeks each class present once, from that far before the range,
//! to the range's end. Spans without a bound (an endless rule, an object that does not parse)
//! are a class of their own, read from the beginning.

use super::StoreError;
use super::tables::{DAV_SPANS, Text};
use redb::{ReadTransaction, ReadableTable, Table};
use serde::{Deserialize, Serialize};
use tandem_protocol::codec::{Extent, Meets};

/// The index, open for writing.
type Spans<'t> = Table<'t, (Text, u8, i64, Text), &'static [u8]>;

/// The class of spans with no bound on one side.
const BOUNDLESS: u8 = u8::MAX;

/// The first start and last end of a calendar member's instances (see `Extent`): where its row
/// of the index is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Span {
    pub first: i64,
    pub last: i64,
}

impl From<&Extent> for Span {
    fn from(extent: &Extent) -> Span {
        Span {
            first: extent.first,
            last: extent.last,
        }
    }
}

impl Span {
    /// Its class: `k` when its length is below 2^k ms.
    fn class(&self) -> u8 {
        if self.first == i64::MIN || self.last == i64::MAX {
            return BOUNDLESS;
        }
        let length = self.last.saturating_sub(self.first).max(0) as u64;
        (u64::BITS - length.leading_zeros()) as u8
    }

    /// Where a class's query starts: members of shorter spans that start earlier end before
    /// `start` (the boundless class, and any as long as time itself, is read from the beginning).
    fn reach(class: u8, start: i64) -> i64 {
        match class {
            k if k >= 63 => i64::MIN,
            k => start.saturating_sub(1 << k),
        }
    }
}

/// Index a member by its extent (kept whole as the row's value).
pub fn insert(
    spans: &mut Spans,
    collection: &str,
    name: &str,
    extent: &Extent,
) -> Result<(), StoreError> {
    let row = postcard::to_stdvec(extent)
        .map_err(|e| StoreError::Storage(format!("cannot encode a span: {e}")))?;
    let span = Span::from(extent);
    spans.insert((collection, span.class(), span.first, name), row.as_slice())?;
    Ok(())
}

pub fn remove(
    spans: &mut Spans,
    collection: &str,
    name: &str,
    span: Span,
) -> Result<(), StoreError> {
    spans.remove((collection, span.class(), span.first, name))?;
    Ok(())
}

/// Forget every member of a collection.
pub fn remove_collection(spans: &mut Spans, collection: &str) -> Result<(), StoreError> {
    let keys: Vec<(u8, i64, String)> = spans
        .range((collection, 0, i64::MIN, "")..)?
        .map_while(|row| {
            let row = row.ok()?;
            let (c, class, first, name) = row.0.value();
            (c == collection).then(|| (class, first, name.to_string()))
        })
        .collect();
    for (class, first, name) in keys {
        spans.remove((collection, class, first, name.as_str()))?;
    }
    Ok(())
}

/// The names of the members of a calendar whose instances may meet `[start, end)` (ms since
/// the epoch), in name order, with what the index knows of each (`Extent::meets`).
pub fn meeting(
    txn: &ReadTransaction,
    collection: &str,
    start: i64,
    end: i64,
) -> Result<Vec<(String, Meets)>, StoreError> {
    let spans = txn.open_table(DAV_SPANS)?;
    let mut found = Vec::new();
    let mut class = 0u8;
    loop {
        // Read this class from its reach to `end`, and learn which class comes next.
        let mut next = None;
        for row in spans.range((collection, class, Span::reach(class, start), "")..)? {
            let (key, value) = row?;
            let (c, k, first, name) = key.value();
            if c != collection {
                break;
            }
            if k != class {
                next = Some(k);
                break;
            }
            if first >= end {
                next = class.checked_add(1);
                break;
            }
            let extent: Extent = postcard::from_bytes(value.value())
                .map_err(|e| StoreError::Storage(format!("cannot decode a span: {e}")))?;
            if let Some(meets) = extent.meets(start, end) {
                found.push((name.to_string(), meets));
            }
        }
        match next {
            Some(k) => class = k,
            None => break,
        }
    }
    found.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    Ok(found)
}
