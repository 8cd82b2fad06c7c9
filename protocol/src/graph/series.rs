//! Recurring events from an events delta round, gathered into one record per series.
//!
//! `/me/calendarView/delta` returns a series expanded: its master (`type: seriesMaster`, the
//! only item with a `recurrence`), its occurrences (`occurrence`) and the occurrences changed
//! apart from it (`exception`), each linked by `seriesMasterId`. A deleted occurrence is simply
//! not listed. A series becomes one record: the master's fields with its RRULE; as `exdates`,
//! the occurrences its pattern produces inside the window that Outlook no longer lists; and
//! the exceptions, each with the start it replaces (its RECURRENCE-ID) and its own fields.
//!
//! Which occurrences the pattern produces is the codec's recurrence expansion, run on the
//! master rendered as iCalendar, so a series is expanded here exactly as a CalDAV client's is.

use super::error::GraphMappingError;
use super::json::Item;
use super::time::{day_of, parse_offset, read_stamp};
use crate::codec::{expansion, parse_icalendar, render_icalendar};
use crate::record::{Event, Fields, RecordKind, When, from_fields, to_fields};
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use serde_json::Value;
use std::collections::BTreeMap;

/// At most this many occurrences of one series are expanded inside a window.
const MAX_OCCURRENCES: usize = 10_000;

/// A delta round's items sorted by what they are.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EventRound {
    /// Events that do not repeat (`singleInstance`, or no `type`).
    pub singles: Vec<Value>,
    /// Series masters.
    pub masters: Vec<Value>,
    /// Occurrences and exceptions, by their `seriesMasterId`.
    pub instances: BTreeMap<String, Vec<Value>>,
    /// Ids of the `@removed` entries (deleted, or changed to fall outside the window).
    pub removed: Vec<String>,
}

/// Sort a delta round's items (the `value` arrays of all its pages, in order).
pub fn split_event_round(items: &[Value]) -> EventRound {
    let mut round = EventRound::default();
    for item in items {
        let text = |name: &str| item.get(name).and_then(Value::as_str).unwrap_or("");
        if item.get("@removed").is_some() {
            round.removed.push(text("id").to_string());
            continue;
        }
        match text("type") {
            "seriesMaster" => round.masters.push(item.clone()),
            "occurrence" | "exception" => round
                .instances
                .entry(text("seriesMasterId").to_string())
                .or_default()
                .push(item.clone()),
            _ => round.singles.push(item.clone()),
        }
    }
    round
}

/// One recurring series as one record.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    /// The master's Graph id: the series' id in Outlook.
    pub master_id: String,
    /// The master's fields (`from_graph`) with `rrule`, and `exdates`: the occurrences the rule
    /// produces inside the window that Outlook does not list or lists as cancelled. Outside the
    /// window nothing is known, so nothing is said.
    pub fields: Fields,
    /// Occurrences changed apart from the series, in the order of the starts they replace.
    pub exceptions: Vec<SeriesException>,
}

/// An occurrence changed apart from its series (Graph `type: exception`).
#[derive(Clone, Debug, PartialEq)]
pub struct SeriesException {
    /// The exception's own Graph id (PATCH it to change this occurrence).
    pub id: String,
    /// The start of the occurrence it replaces, its RECURRENCE-ID: a date for an all-day
    /// series, else the instant with the master's zone.
    pub original_start: When,
    /// Its fields as `from_graph` reads them (its own start, subject, …; no rule).
    pub fields: Fields,
}

/// Gather one series. `master` is the series master as Graph returns it (from the round, or a
/// GET of `seriesMasterId` when the round did not list it); `instances` are ALL its
/// occurrences and exceptions inside `window` — the window of the delta query, `[start, end)`
/// in UTC. A first (full) round lists them all; an incremental round lists only what changed,
/// so after one, fetch `/me/events/{master}/instances?startDateTime=…&endDateTime=…` for the
/// window instead: an occurrence missing from `instances` is taken as deleted. `zone` is the
/// user's zone, as for `from_graph`.
pub fn gather_series(
    master: &Value,
    instances: &[Value],
    window: (DateTime<Utc>, DateTime<Utc>),
    zone: Tz,
) -> Result<Series, GraphMappingError> {
    let item = Item::new(super::event::ITEM, master)?;
    let master_id = item.text("id")?.unwrap_or_default();
    let fail = |reason: String| GraphMappingError::BadSeries {
        id: master_id.clone(),
        reason,
    };
    let mut fields = super::from_graph(RecordKind::Event, master, zone)?;
    let event: Event = from_fields(&fields).map_err(&fail)?;
    let (Some(start), Some(_)) = (&event.start, &event.rrule) else {
        return Err(fail(
            "it is not a series master (it has no start or no recurrence); pass the item whose type is seriesMaster".into(),
        ));
    };
    let all_day = matches!(start, When::Date(_));
    let tzid = match start {
        When::Time { tzid, .. } => tzid.clone(),
        When::Date(_) => None,
    };
    let key = |t: DateTime<Utc>| -> Key {
        if all_day {
            Key::Day(day_of(t.naive_utc(), Some(Tz::UTC), zone))
        } else {
            Key::At(t)
        }
    };

    // What the rule produces inside the window, expanded by the codec.
    let pattern_only = Event {
        start: event.start.clone(),
        end: event.end.clone(),
        rrule: event.rrule.clone(),
        ..Event::default()
    };
    let ics = render_icalendar(RecordKind::Event, "series", &to_fields(&pattern_only), None);
    let object =
        parse_icalendar(&ics).map_err(|e| fail(format!("its rule could not be expanded: {e}")))?;
    let found = expansion(&object, window.0, window.1, MAX_OCCURRENCES);
    let expected: Vec<Key> = found
        .occurrences
        .iter()
        .filter(|o| found.searched_until.is_none_or(|until| o.start <= until))
        .map(|o| {
            if all_day {
                Key::Day(o.start.date_naive())
            } else {
                Key::At(o.start)
            }
        })
        .collect();

    let mut listed: Vec<Key> = Vec::new();
    let mut exceptions = Vec::new();
    for value in instances {
        let instance = Item::new(super::event::ITEM, value)?;
        // Another series' instance, passed by mistake, says nothing about this one.
        if instance
            .text("seriesMasterId")?
            .is_some_and(|m| m != master_id)
        {
            continue;
        }
        let id = instance.text("id")?.unwrap_or_default();
        let original = match instance.text("originalStart")? {
            Some(text) => parse_offset(&text).ok_or_else(|| {
                instance.bad(
                    "originalStart",
                    &text,
                    "a date and time like 2026-11-23T08:00:00Z",
                )
            })?,
            // An occurrence that never moved starts where the pattern put it.
            None => match read_stamp(&instance, "start")? {
                Some(stamp) => stamp.utc(&instance, "start")?,
                None => {
                    return Err(instance.bad(
                        "originalStart",
                        "null",
                        "the start of the occurrence it stands for",
                    ));
                }
            },
        };
        if instance.flag("isCancelled")? {
            continue;
        }
        let original = key(original);
        listed.push(original.clone());
        if instance.text("type")?.as_deref() == Some("exception") {
            let mut own = super::from_graph(RecordKind::Event, value, zone)?;
            own.remove("rrule");
            exceptions.push(SeriesException {
                id,
                original_start: original.when(tzid.as_deref()),
                fields: own,
            });
        }
    }
    let mut exdates: Vec<Key> = expected
        .into_iter()
        .filter(|k| !listed.contains(k))
        .collect();
    exdates.sort();
    exdates.dedup();
    if !exdates.is_empty() {
        let whens: Vec<When> = exdates.iter().map(|k| k.when(tzid.as_deref())).collect();
        fields.insert(
            "exdates".into(),
            serde_json::to_value(whens).unwrap_or(Value::Null),
        );
    }
    exceptions.sort_by_key(|e| match &e.original_start {
        When::Date(d) => Key::Day(*d),
        When::Time { utc, .. } => Key::At(*utc),
    });
    Ok(Series {
        master_id,
        fields,
        exceptions,
    })
}

/// An occurrence's identity: its day in an all-day series, its start instant otherwise.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Key {
    Day(NaiveDate),
    At(DateTime<Utc>),
}

impl Key {
    fn when(&self, tzid: Option<&str>) -> When {
        match self {
            Key::Day(d) => When::Date(*d),
            Key::At(t) => When::Time {
                utc: *t,
                tzid: tzid.map(str::to_string),
                floating: false,
            },
        }
    }
}

/// A round says which occurrences are cancelled inside its window only: the cancellations
/// tandem `known` of outside it stay in `fields`.
pub fn keep_exdates_outside(
    fields: &mut Fields,
    known: &Fields,
    window: (DateTime<Utc>, DateTime<Utc>),
) {
    let outside = |when: &Value| {
        crate::plan::day_of(when)
            .is_some_and(|d| d < window.0.date_naive() || d >= window.1.date_naive())
    };
    let kept: Vec<&Value> = known
        .get("exdates")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|w| outside(w))
        .collect();
    if kept.is_empty() {
        return;
    }
    let mut all: Vec<Value> = fields
        .get("exdates")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for when in kept {
        if !all.contains(when) {
            all.push(when.clone());
        }
    }
    fields.insert("exdates".into(), Value::Array(all));
}

/// Where to look for the occurrences `exdates` cancel: from the day before the first to the
/// day after the last (a zone can move an instant's day by one).
pub fn exdate_window(exdates: &[Value]) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    let days: Vec<NaiveDate> = exdates.iter().filter_map(crate::plan::day_of).collect();
    let (first, last) = (days.iter().min()?, days.iter().max()?);
    let midnight = |d: NaiveDate| d.and_time(chrono::NaiveTime::MIN).and_utc();
    Some((
        midnight(*first - chrono::Days::new(1)),
        midnight(*last + chrono::Days::new(2)),
    ))
}

/// Whether an occurrence whose `originalStart` (Graph's, in UTC) is this one is cancelled by
/// one of `exdates`: the same instant, or for an all-day series the same day.
pub fn cancels(exdates: &[Value], original_start: &str) -> bool {
    let Ok(original) = DateTime::parse_from_rfc3339(original_start) else {
        return false;
    };
    exdates.iter().any(|when| {
        match when
            .get("time")
            .and_then(|t| t.get("utc"))
            .and_then(Value::as_str)
        {
            Some(utc) => DateTime::parse_from_rfc3339(utc).is_ok_and(|t| t == original),
            None => crate::plan::day_of(when) == Some(original.date_naive()),
        }
    })
}

impl SeriesException {
    /// This exception as an iCalendar override (a VEVENT with RECURRENCE-ID), unfolded lines
    /// rendered by the codec, for the series record's `unmapped`: that is where the codec keeps
    /// a CalDAV series' overrides (see `codec`'s module documentation). `uid` must be the UID
    /// the series is rendered with.
    pub fn override_lines(&self, uid: &str) -> Vec<String> {
        crate::codec::overrides::lines(uid, &self.original_start, &self.fields)
    }
}

impl Series {
    /// The series' fields with its exceptions kept as overrides in `unmapped`, as the codec
    /// keeps a CalDAV series' overrides, so rendering the record for a CalDAV client writes
    /// them. `uid` must be the UID the record is rendered with.
    pub fn fields_with_overrides(&self, uid: &str) -> Fields {
        let mut fields = self.fields.clone();
        if self.exceptions.is_empty() {
            return fields;
        }
        let mut unmapped: Vec<String> = fields
            .get("unmapped")
            .and_then(|u| serde_json::from_value(u.clone()).ok())
            .unwrap_or_default();
        if !unmapped
            .iter()
            .any(|l| l.eq_ignore_ascii_case("BEGIN:VCALENDAR"))
        {
            unmapped.push("BEGIN:VCALENDAR".into());
            unmapped.push("END:VCALENDAR".into());
        }
        for exception in &self.exceptions {
            unmapped.extend(exception.override_lines(uid));
        }
        fields.insert(
            "unmapped".into(),
            serde_json::to_value(unmapped).unwrap_or(Value::Null),
        );
        fields
    }
}
