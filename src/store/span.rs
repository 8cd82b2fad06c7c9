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
use super::dav::Listed;
use super::tables::{DAV_SPANS, Text};
use redb::{ReadTransaction, ReadableTable, Table};
use serde::de::{DeserializeSeed, Deserializer, Error as _, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use tandem_protocol::Hlc;
use tandem_protocol::codec::{Extent, Meets, instance_meets};

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

/// Index a member by its extent. The row holds the extent and what a listing shows of the
/// member (`listed`, as its `DAV_ITEMS` row has it), so a query writes the members the index is
/// sure of without looking each one up: at 100,000 events those lookups were most of a query.
pub fn insert(
    spans: &mut Spans,
    collection: &str,
    name: &str,
    extent: &Extent,
    listed: &Listed<'_>,
) -> Result<(), StoreError> {
    let Listed {
        etag,
        content_type,
        length,
        modified,
    } = listed;
    let row = postcard::to_stdvec(&(extent, etag, content_type, length, modified))
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

/// A member of a calendar whose instances may meet a range.
pub struct Meeting {
    pub name: String,
    /// What the index knows of it (`Extent::meets`).
    pub meets: Meets,
    pub listed: Listed<'static>,
}

/// The members of a calendar whose instances may meet `[start, end)` (ms since the epoch), in
/// name order.
pub fn meeting(
    txn: &ReadTransaction,
    collection: &str,
    start: i64,
    end: i64,
) -> Result<Vec<Meeting>, StoreError> {
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
            let row = SpanRow(MeetsRange { start, end })
                .deserialize(&mut postcard::Deserializer::from_bytes(value.value()))
                .map_err(|e| StoreError::Storage(format!("cannot decode a span: {e}")))?;
            if let Some((meets, listed)) = row {
                found.push(Meeting {
                    name: name.to_string(),
                    meets,
                    listed: listed.into_owned(),
                });
            }
        }
        match next {
            Some(k) => class = k,
            None => break,
        }
    }
    found.sort_unstable_by(|a, b| a.name.cmp(&b.name));
    Ok(found)
}

/// A row of the index, read for a range: the member as a listing shows it, borrowed from the
/// row, when it may meet the range.
struct SpanRow(MeetsRange);

type Found<'de> = Option<(Meets, Listed<'de>)>;

impl<'de> DeserializeSeed<'de> for SpanRow {
    type Value = Found<'de>;
    fn deserialize<D: Deserializer<'de>>(self, from: D) -> Result<Found<'de>, D::Error> {
        from.deserialize_tuple(5, self)
    }
}

impl<'de> Visitor<'de> for SpanRow {
    type Value = Found<'de>;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a row of the span index")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut fields: A) -> Result<Found<'de>, A::Error> {
        let missing = |i| A::Error::invalid_length(i, &"a span row's five fields");
        let Some(meets) = fields
            .next_element_seed(self.0)?
            .ok_or_else(|| missing(0))?
        else {
            return Ok(None);
        };
        let etag: &'de str = fields.next_element()?.ok_or_else(|| missing(1))?;
        let content_type: &'de str = fields.next_element()?.ok_or_else(|| missing(2))?;
        let length: u64 = fields.next_element()?.ok_or_else(|| missing(3))?;
        let modified: Hlc = fields.next_element()?.ok_or_else(|| missing(4))?;
        let listed = Listed {
            etag: Cow::Borrowed(etag),
            content_type: Cow::Borrowed(content_type),
            length,
            modified,
        };
        Ok(Some((meets, listed)))
    }
}

/// `Extent::meets(start, end)` of an encoded extent, read without building its list of
/// instances: a query reads one row per member that may meet its range.
#[derive(Clone, Copy)]
struct MeetsRange {
    start: i64,
    end: i64,
}

impl<'de> DeserializeSeed<'de> for MeetsRange {
    type Value = Option<Meets>;
    fn deserialize<D: Deserializer<'de>>(self, from: D) -> Result<Option<Meets>, D::Error> {
        from.deserialize_struct("Extent", &["first", "last", "instances"], self)
    }
}

impl<'de> Visitor<'de> for MeetsRange {
    type Value = Option<Meets>;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an extent")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut fields: A) -> Result<Option<Meets>, A::Error> {
        let missing = |i| A::Error::invalid_length(i, &"an extent's three fields");
        let first: i64 = fields.next_element()?.ok_or_else(|| missing(0))?;
        let last: i64 = fields.next_element()?.ok_or_else(|| missing(1))?;
        let listed = fields
            .next_element_seed(Instances(self))?
            .ok_or_else(|| missing(2))?;
        if first >= self.end || last < self.start {
            return Ok(None);
        }
        Ok(match listed {
            None => Some(Meets::Maybe),
            Some(true) => Some(Meets::Surely),
            Some(false) => None,
        })
    }
}

/// An extent's listed instances: whether one meets the range (`None` when none are listed).
struct Instances(MeetsRange);

impl<'de> DeserializeSeed<'de> for Instances {
    type Value = Option<bool>;
    fn deserialize<D: Deserializer<'de>>(self, from: D) -> Result<Option<bool>, D::Error> {
        from.deserialize_option(self)
    }
}

impl<'de> Visitor<'de> for Instances {
    type Value = Option<bool>;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an extent's instances")
    }

    fn visit_none<E: serde::de::Error>(self) -> Result<Option<bool>, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, from: D) -> Result<Option<bool>, D::Error> {
        from.deserialize_seq(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut instances: A) -> Result<Option<bool>, A::Error> {
        let MeetsRange { start, end } = self.0;
        let mut meets = false;
        while let Some((first, last)) = instances.next_element::<(i64, i64)>()? {
            meets |= instance_meets(first, last, start, end);
        }
        Ok(Some(meets))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn extent() -> impl Strategy<Value = Extent> {
        let instances =
            proptest::option::of(proptest::collection::vec((-50i64..50, 0i64..20), 0..6));
        (-60i64..60, 0i64..80, instances, any::<bool>()).prop_map(
            |(first, length, listed, open)| Extent {
                first: if open { i64::MIN } else { first },
                last: first + length,
                instances: listed.map(|list| list.into_iter().map(|(s, l)| (s, s + l)).collect()),
            },
        )
    }

    proptest! {
        /// A query reads a row's answer without decoding it whole; it is the answer the decoded
        /// extent gives.
        #[test]
        fn a_row_read_for_a_range_says_what_its_extent_says(
            extent in extent(),
            start in -80i64..80,
            length in 0i64..40,
        ) {
            let row = postcard::to_stdvec(&extent).unwrap();
            let end = start + length;
            let read = MeetsRange { start, end }
                .deserialize(&mut postcard::Deserializer::from_bytes(&row))
                .unwrap();
            prop_assert_eq!(read, extent.meets(start, end));
        }
    }
}
