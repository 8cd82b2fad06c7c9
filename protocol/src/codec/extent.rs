//! Where an event's instances lie, as an index of calendar members keeps it: its first start and
//! last end, and its instances when they are few. The index answers "which events may meet this
//! range" without reading every event, and answers an event whose instances it lists outright,
//! by the same RFC 4791 §9.9 test [`overlaps`](super::overlaps) makes of the bytes.

use super::ical::{CalendarObject, parse_icalendar};
use super::recur::{Instance, instances};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The most instances an [`Extent`] lists: a year of weekly meetings, not a daily one.
pub const LISTED: usize = 64;

/// Where every instance of an event lies, in ms since the epoch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Extent {
    /// The first start; `i64::MIN` where there is no bound (an object without a start, a task,
    /// whose time-range rules reach beyond its dates, bytes that do not parse).
    pub first: i64,
    /// The last end; `i64::MAX` where there is no bound (a rule without COUNT or UNTIL, a walk
    /// given up on, a task, bytes that do not parse).
    pub last: i64,
    /// Every instance's start and end, when the whole set is known and has at most [`LISTED`]
    /// instances (a single event, a short series).
    pub instances: Option<Vec<(i64, i64)>>,
}

/// Whether an event meets a range, as far as its [`Extent`] can say.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Meets {
    /// One of its listed instances is in the range: only a filter that asks more needs its
    /// bytes.
    Surely,
    /// Its instances reach into the range: its bytes decide.
    Maybe,
}

impl Extent {
    /// No bound either way, nothing listed: what the index keeps of bytes that do not parse
    /// (they cannot match a filter, but the query decides that, not the index).
    const UNBOUNDED: Extent = Extent {
        first: i64::MIN,
        last: i64::MAX,
        instances: None,
    };

    /// The extent of a calendar object resource's bytes.
    pub fn of(bytes: &[u8]) -> Extent {
        parse_icalendar(bytes).map_or(Extent::UNBOUNDED, |object| span(&object))
    }

    /// Whether the event meets `[start, end)` (ms since the epoch): `None` when it surely does
    /// not — its first start is not before `end`, its last end is before `start`, or none of its
    /// listed instances meets it.
    pub fn meets(&self, start: i64, end: i64) -> Option<Meets> {
        if self.first >= end || self.last < start {
            return None;
        }
        match &self.instances {
            None => Some(Meets::Maybe),
            Some(list) => list
                .iter()
                .any(|&(first, last)| instance_meets(first, last, start, end))
                .then_some(Meets::Surely),
        }
    }
}

/// Where every instance of an event lies: an event meets `[start, end)` by
/// [`overlaps`](super::overlaps) only if its first start is before `end` and its last end is not
/// before `start`; one whose instances are listed exactly when one of them meets it.
pub fn span(obj: &CalendarObject) -> Extent {
    let master = &obj.primary;
    if obj.kind != crate::record::RecordKind::Event || master.start.is_none() {
        return Extent::UNBOUNDED;
    }
    let endless = master.recurrence_id.is_none()
        && master
            .rrule
            .as_ref()
            .is_some_and(|rule| rule.count.is_none() && rule.until.is_none());
    // An endless rule is walked to its first instance only (overrides come whatever their
    // time); a finite one to its end, within the walk's bounds.
    let until = match master.start {
        Some(start) if endless => start.utc(),
        _ => DateTime::<Utc>::MAX_UTC,
    };
    let (found, searched_until) = instances(obj, until);
    let whole = !endless && searched_until.is_none();
    // An event's instance ends after it starts (a span) or where it starts (an instant).
    let ms = |i: &Instance| {
        (
            i.start.timestamp_millis(),
            i.end.max(i.start).timestamp_millis(),
        )
    };
    Extent {
        first: found.iter().map(|i| ms(i).0).min().unwrap_or(i64::MIN),
        last: found
            .iter()
            .map(|i| ms(i).1)
            .max()
            .filter(|_| whole)
            .unwrap_or(i64::MAX),
        instances: (whole && found.len() <= LISTED).then(|| found.iter().map(ms).collect()),
    }
}

/// Whether an event's instance from `first` to `last` meets `[start, end)`, all in ms since the
/// epoch: the test [`overlaps`](super::overlaps) makes (RFC 4791 §9.9). An instance is a span
/// when it ends after it starts, and an instant (which a range must start at or before) when it
/// ends where it starts.
pub fn instance_meets(first: i64, last: i64, start: i64, end: i64) -> bool {
    end > first && (start < last || (first == last && start <= first))
}
