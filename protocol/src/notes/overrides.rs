//! A series' `recurrenceOverrides` ⇄ the record's `exdates` and changed occurrences.
//!
//! Overrides are keyed by the recurrence id, the LocalDateTime the rule produced, in the
//! entry's zone. `{"excluded": true}` cancels an occurrence: an exdate. Any other patch changes
//! one: it becomes an override kept in the record's `unmapped` as a VEVENT with RECURRENCE-ID,
//! exactly as the Outlook mapping keeps an exception (`graph::Series::fields_with_overrides`),
//! so a CalDAV client sees the same series. Going out, those override VEVENTs are read back by
//! the codec and become patches of what the occurrence changes against the series: its start,
//! duration, title, location and description. An override that changes none of these has no
//! patch (Notes would show the occurrence as the series makes it anyway).
//!
//! The override lines carry a UID: the entry's `uid` (its UNID), as a Notes entry read knows no
//! other; `keep_equivalent` gives them the UID the record already has.

use super::error::NotesMappingError;
use super::json::Item;
use super::time::{local_text, parse_local, to_local, to_utc};
use crate::codec::overrides::blocks;
use crate::graph::{Series, SeriesException};
use crate::record::{Event, Fields, When, from_fields};
use chrono::{DateTime, NaiveDateTime, NaiveTime, TimeDelta, Utc};
use chrono_tz::Tz;
use serde_json::{Map, Value, json};

/// How a series' times are anchored: what its recurrence ids mean.
#[derive(Clone, Debug)]
pub(crate) struct Master {
    pub all_day: bool,
    /// The series' zone; `None` for an all-day or a floating series.
    pub zone: Option<Tz>,
    /// The zone name its times carry in the record.
    pub tzid: Option<String>,
}

impl Master {
    /// The occurrence a recurrence id names.
    fn when(&self, rid: NaiveDateTime) -> When {
        if self.all_day {
            return When::Date(rid.date());
        }
        When::Time {
            utc: self.zone.map_or(rid.and_utc(), |tz| to_utc(rid, tz)),
            tzid: self.tzid.clone(),
            floating: self.zone.is_none(),
        }
    }

    /// The recurrence id of an occurrence.
    fn rid(&self, when: &When) -> NaiveDateTime {
        match when {
            When::Date(d) => d.and_time(NaiveTime::MIN),
            When::Time { utc, floating, .. } => match (self.zone, floating) {
                (Some(tz), false) => to_local(*utc, tz),
                _ => utc.naive_utc(),
            },
        }
    }
}

/// The entry's overrides into `fields`: exdates, and changed occurrences in `unmapped`.
pub(crate) fn read(
    item: &Item,
    master: &Master,
    fields: &mut Fields,
    user: Tz,
) -> Result<(), NotesMappingError> {
    let Some(overrides) = item.object("recurrenceOverrides")? else {
        return Ok(());
    };
    let mut exdates: Vec<When> = Vec::new();
    let mut exceptions: Vec<SeriesException> = Vec::new();
    for (key, patch) in overrides.map {
        let rid = parse_local(key).ok_or_else(|| {
            overrides.bad(
                key,
                key,
                "a recurrence id (LocalDateTime like 2026-12-10T09:00:00)",
            )
        })?;
        let Value::Object(patch) = patch else {
            return Err(overrides.wrong(key, "a patch object", patch));
        };
        if patch.get("excluded").and_then(Value::as_bool) == Some(true) {
            exdates.push(master.when(rid));
            continue;
        }
        // The occurrence: the series without its rule, at its recurrence id, patched.
        let mut occurrence = item.map.clone();
        for name in [
            "recurrenceRules",
            "excludedRecurrenceRules",
            "recurrenceOverrides",
        ] {
            occurrence.remove(name);
        }
        occurrence.insert("start".into(), json!(local_text(rid)));
        for (pointer, value) in patch {
            apply(&mut occurrence, pointer, value);
        }
        let occurrence = Value::Object(occurrence);
        let (mut own, _) = super::event::read_one(&Item::new(item.kind, &occurrence)?, user)?;
        own.remove("rrule");
        exceptions.push(SeriesException {
            id: key.clone(),
            original_start: master.when(rid),
            fields: own,
        });
    }
    if !exdates.is_empty() {
        fields.insert(
            "exdates".into(),
            serde_json::to_value(exdates).unwrap_or(Value::Null),
        );
    }
    if !exceptions.is_empty() {
        let uid = item
            .text("uid")?
            .or(item.text(super::RECORD_ID_PROPERTY)?)
            .unwrap_or_else(|| "notes-entry".into());
        let series = Series {
            master_id: uid.clone(),
            fields: std::mem::take(fields),
            exceptions,
        };
        *fields = series.fields_with_overrides(&uid);
    }
    Ok(())
}

/// Apply one PatchObject entry (RFC 8984 §1.4.9): a JSON pointer, implicitly from the root,
/// set to a value; `null` removes it.
fn apply(target: &mut Map<String, Value>, pointer: &str, value: &Value) {
    let parts: Vec<String> = pointer
        .trim_start_matches('/')
        .split('/')
        .map(|p| p.replace("~1", "/").replace("~0", "~"))
        .collect();
    let Some((last, path)) = parts.split_last() else {
        return;
    };
    let mut map = target;
    for part in path {
        let next = map
            .entry(part.clone())
            .or_insert_with(|| Value::Object(Map::new()));
        if !next.is_object() {
            *next = Value::Object(Map::new());
        }
        let Value::Object(inner) = next else {
            return;
        };
        map = inner;
    }
    if value.is_null() {
        map.remove(last);
    } else {
        map.insert(last.clone(), value.clone());
    }
}

/// The `recurrenceOverrides` for a series record: its exdates excluded, and its override
/// VEVENTs as patches.
pub(crate) fn write(
    event: &Event,
    master: &Master,
) -> Result<Map<String, Value>, NotesMappingError> {
    let mut out = Map::new();
    for when in &event.exdates {
        out.insert(local_text(master.rid(when)), json!({"excluded": true}));
    }
    let length = |start: &Option<When>, end: &Option<When>| -> Option<TimeDelta> {
        match (start.as_ref()?, end.as_ref()?) {
            (When::Date(a), When::Date(b)) => Some(*b - *a),
            (When::Time { utc: a, .. }, When::Time { utc: b, .. }) => Some(*b - *a),
            _ => None,
        }
    };
    let series_length = length(&event.start, &event.end);
    for block in blocks(&event.unmapped) {
        let Some((rid, own)) = parse_override(&block) else {
            continue;
        };
        let key = local_text(match master.all_day {
            true => rid.date_naive().and_time(NaiveTime::MIN),
            false => master.rid(&master.when_utc(rid)),
        });
        if out.contains_key(&key) {
            continue;
        }
        let mut patch = Map::new();
        if let Some(start) = &own.start {
            let moved = master.rid(start);
            if local_text(moved) != key {
                patch.insert("start".into(), json!(local_text(moved)));
            }
        }
        let own_length = length(&own.start, &own.end);
        if own_length.is_some() && own_length != series_length {
            let length = own_length.unwrap_or_default();
            let text = if master.all_day {
                calcard::icalendar::ICalendarDuration::from_days(length.num_days().max(1))
                    .to_string()
            } else {
                super::time::exact_duration(length)
            };
            patch.insert("duration".into(), json!(text));
        }
        if own.subject != event.subject {
            patch.insert(
                "title".into(),
                json!(own.subject.clone().unwrap_or_default()),
            );
        }
        if own.location != event.location {
            let locations = match &own.location {
                Some(name) => json!({"tandem": {"@type": "Location", "name": name}}),
                None => json!({}),
            };
            patch.insert("locations".into(), locations);
        }
        if own.description != event.description {
            patch.insert(
                "description".into(),
                json!(own.description.clone().unwrap_or_default()),
            );
        }
        if !patch.is_empty() {
            out.insert(key, Value::Object(patch));
        }
    }
    Ok(out)
}

impl Master {
    fn when_utc(&self, utc: DateTime<Utc>) -> When {
        When::Time {
            utc,
            tzid: self.tzid.clone(),
            floating: self.zone.is_none(),
        }
    }
}

/// An override VEVENT read by the codec: the start it replaces (midnight UTC of the day for an
/// all-day series) and its own fields.
fn parse_override(block: &[String]) -> Option<(DateTime<Utc>, Event)> {
    let read = crate::codec::overrides::read(block)?;
    let rid = match read.recurrence_id {
        When::Date(d) => d.and_time(NaiveTime::MIN).and_utc(),
        When::Time { utc, .. } => utc,
    };
    Some((rid, from_fields(&read.fields).ok()?))
}
