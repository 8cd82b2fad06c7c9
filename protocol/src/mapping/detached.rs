//! Occurrences moved or changed apart from their series. Salesforce keeps a series as one Event
//! row per occurrence, and since API 58 an edit of a future occurrence edits the series from
//! there on: the one faithful way to carry a single changed occurrence is to detach it — delete
//! its row and make a standalone Event of it (what Riva documents). The standalone row carries
//! a key in the org's external-id field — the series' record id and the recurrence id — so
//! writing it is an upsert (exactly-once across crashes) and a pull knows which occurrence of
//! which series the row stands for.
//!
//! The planner sees a series' detached occurrences as one field Salesforce holds, `occurrences`:
//! derived from the override blocks of the record's `unmapped`, and kept in Salesforce's copy as
//! tandem last wrote it. It is never a field of the record itself.

use super::occurrence::{exdates, is_cancelled};
use super::soql_quote;
use crate::codec::overrides::{self, same_occurrence};
use crate::record::{Fields, RecordId, When};
use chrono::{NaiveDate, NaiveDateTime, TimeDelta};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The field Salesforce's copy of a series holds its detached occurrences in.
pub const FIELD: &str = "occurrences";

/// What a standalone row takes from the occurrence itself; the rest (links, owner) is the
/// series'.
const OWN: &[&str] = &[
    "subject",
    "location",
    "description",
    "start",
    "end",
    "reminder_minutes",
    "private",
    "show_as",
];

/// What of a series is no field of a standalone row.
const SERIES_ONLY: &[&str] = &["rrule", "exdates", "unmapped", FIELD];

/// One detached occurrence: the start the rule gives it and what its row holds of its own.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Occurrence {
    pub recurrence_id: When,
    pub fields: Fields,
    /// Its row is still the series' own: an occurrence changed in Salesforce, which marks it
    /// `IsRecurrence2Exception`. Changed on the desktop, it is detached like any other.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub in_series: bool,
}

impl Occurrence {
    /// The same occurrence with the same values, wherever its row is.
    fn same(&self, other: &Occurrence) -> bool {
        same_occurrence(&self.recurrence_id, &other.recurrence_id) && self.fields == other.fields
    }
}

/// A series' detached occurrences: as Salesforce's copy holds them, or derived from the
/// record's overrides (those not cancelled), earliest first.
pub fn occurrences(fields: &Fields) -> Vec<Occurrence> {
    if let Some(held) = fields.get(FIELD) {
        return serde_json::from_value(held.clone()).unwrap_or_default();
    }
    if !fields.get("rrule").is_some_and(Value::is_string) {
        return Vec::new();
    }
    let exdates = exdates(fields);
    let mut out: Vec<Occurrence> = overrides::of(fields)
        .into_iter()
        .filter(|o| !is_cancelled(&exdates, &o.recurrence_id))
        .map(|o| Occurrence {
            recurrence_id: o.recurrence_id,
            fields: own(&o.fields),
            in_series: false,
        })
        .collect();
    out.sort_by_key(|o| instant(&o.recurrence_id));
    out.dedup_by(|a, b| same_occurrence(&a.recurrence_id, &b.recurrence_id));
    out
}

/// The `occurrences` field for the planner's view of what Salesforce should hold; `None` when
/// the record has none.
pub fn projection(fields: &Fields) -> Option<Value> {
    let all = occurrences(fields);
    (!all.is_empty()).then(|| serde_json::to_value(all).unwrap_or(Value::Null))
}

/// `fields` without the occurrences a side's copy keeps: the record's own fields, for a
/// mapping that writes them. Borrowed when there is nothing to leave out.
pub fn record_fields(fields: &Fields) -> std::borrow::Cow<'_, Fields> {
    match fields.contains_key(FIELD) {
        true => {
            let mut own = fields.clone();
            own.remove(FIELD);
            std::borrow::Cow::Owned(own)
        }
        false => std::borrow::Cow::Borrowed(fields),
    }
}

/// `fields` with the occurrences it has as the field Salesforce's copy keeps (none: no field).
pub fn with_field(mut fields: Fields, occurrences: &[Occurrence]) -> Fields {
    fields.remove(FIELD);
    if !occurrences.is_empty() {
        fields.insert(
            FIELD.into(),
            serde_json::to_value(occurrences).unwrap_or(Value::Null),
        );
    }
    fields
}

/// What a standalone row holds of an occurrence's fields. Times are instants: sides spell an
/// occurrence's zone their own way (Outlook names one, a client may write UTC), and that is no
/// change of the occurrence.
pub fn own(fields: &Fields) -> Fields {
    fields
        .iter()
        .filter(|(k, _)| OWN.contains(&k.as_str()))
        .map(|(k, v)| {
            let instant = match serde_json::from_value::<When>(v.clone()) {
                Ok(When::Time { utc, floating, .. }) if k == "start" || k == "end" => {
                    serde_json::to_value(When::Time {
                        utc,
                        tzid: None,
                        floating,
                    })
                    .ok()
                }
                _ => None,
            };
            (k.clone(), instant.unwrap_or_else(|| v.clone()))
        })
        .collect()
}

/// A write to the standalone rows of a series.
#[derive(Clone, Debug, PartialEq)]
pub enum RowChange {
    /// Write the row with these record fields; `detach`: the occurrence's row in the series is
    /// to be deleted first (it is not detached yet).
    Write {
        recurrence_id: When,
        fields: Fields,
        detach: bool,
    },
    /// Delete the row: its occurrence is cancelled.
    Delete { recurrence_id: When },
}

impl RowChange {
    pub fn recurrence_id(&self) -> &When {
        match self {
            RowChange::Write { recurrence_id, .. } | RowChange::Delete { recurrence_id } => {
                recurrence_id
            }
        }
    }
}

/// What the standalone rows need for Salesforce's copy `had` to become `target`. An
/// occurrence no longer changed apart goes back to the series' own values at its time (its row
/// in the series is gone for good); one cancelled is deleted. (A series Salesforce makes anew
/// is compared from a copy without any, see `remakes_series`.)
pub fn row_changes(had: &Fields, target: &Fields) -> Vec<RowChange> {
    let had_all = occurrences(had);
    let want = occurrences(target);
    let find = |list: &[Occurrence], rid: &When| -> Option<Occurrence> {
        list.iter()
            .find(|o| same_occurrence(&o.recurrence_id, rid))
            .cloned()
    };
    let mut out = Vec::new();
    for w in &want {
        let before = find(&had_all, &w.recurrence_id);
        if before.as_ref().is_some_and(|b| b.same(w)) {
            continue;
        }
        out.push(RowChange::Write {
            recurrence_id: w.recurrence_id.clone(),
            fields: standalone(target, &w.fields),
            detach: before.is_none_or(|b| b.in_series),
        });
    }
    let exdates = exdates(target);
    for h in had_all {
        if find(&want, &h.recurrence_id).is_some() {
            continue;
        }
        let recurrence_id = h.recurrence_id.clone();
        if is_cancelled(&exdates, &recurrence_id) {
            out.push(RowChange::Delete { recurrence_id });
        } else if let Some(regular) = regular(target, &recurrence_id) {
            out.push(RowChange::Write {
                recurrence_id,
                fields: standalone(target, &regular),
                detach: false,
            });
        }
    }
    out
}

/// Whether a side `reported` the occurrences it `held` (as tandem last wrote or read them):
/// the same occurrences, each with every value tandem knows — a side may add its own defaults.
pub fn reported_as_held(held: &[Occurrence], reported: &[Occurrence]) -> bool {
    held.len() == reported.len()
        && held.iter().all(|h| {
            reported.iter().any(|r| {
                same_occurrence(&h.recurrence_id, &r.recurrence_id)
                    && h.fields.iter().all(|(k, v)| r.fields.get(k) == Some(v))
            })
        })
}

/// A standalone row's record fields: the series' links and owner, the occurrence's own values.
pub fn standalone(series: &Fields, own_fields: &Fields) -> Fields {
    let mut out: Fields = series
        .iter()
        .filter(|(k, _)| !OWN.contains(&k.as_str()) && !SERIES_ONLY.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    out.extend(own(own_fields));
    out
}

/// The series' own values for the occurrence at `recurrence_id`: its start there, its length.
fn regular(series: &Fields, recurrence_id: &When) -> Option<Fields> {
    let start: When = serde_json::from_value(series.get("start")?.clone()).ok()?;
    let end: Option<When> = series
        .get("end")
        .and_then(|v| serde_json::from_value(v.clone()).ok());
    let at = in_zone_of(&start, recurrence_id);
    let mut fields = own(series);
    fields.insert("start".into(), serde_json::to_value(&at).ok()?);
    if let Some(end) = end {
        let end = shifted(&at, instant(&end) - instant(&start));
        fields.insert("end".into(), serde_json::to_value(end).ok()?);
    }
    Some(fields)
}

/// `when` written like the series' `start`: in its zone, or as a day.
pub fn in_zone_of(start: &When, when: &When) -> When {
    match (start, when) {
        (When::Time { tzid, floating, .. }, When::Time { utc, .. }) => When::Time {
            utc: *utc,
            tzid: tzid.clone(),
            floating: *floating,
        },
        _ => when.clone(),
    }
}

/// The record's fields once Salesforce's standalone row of `recurrence_id` reads `row` (its
/// own fields), or was deleted (`None`: the occurrence is cancelled). `uid` names the series in
/// the override it writes. `None` when that changes nothing.
pub fn fold(
    record: &Fields,
    uid: &str,
    recurrence_id: &When,
    row: Option<&Fields>,
) -> Option<Fields> {
    let start: When = serde_json::from_value(record.get("start")?.clone()).ok()?;
    let rid = in_zone_of(&start, recurrence_id);
    let unmapped = overrides::unmapped(record);
    let known = overrides::of(record)
        .into_iter()
        .find(|o| same_occurrence(&o.recurrence_id, &rid));
    let mut out = Fields::new();
    match row {
        Some(row) => {
            // The override keeps what Salesforce does not hold (attendees, alarms, its own
            // unknown lines); a new one starts from the series.
            let mut fields = match known {
                Some(o) => o.fields,
                None => record
                    .iter()
                    .filter(|(k, _)| !SERIES_ONLY.contains(&k.as_str()))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            };
            let mut row = own(row);
            if own(&fields) == row {
                return None;
            }
            // Times keep the zone the override was written in.
            for name in ["start", "end"] {
                let zone = |f: &Fields| {
                    f.get(name)
                        .and_then(|v| serde_json::from_value::<When>(v.clone()).ok())
                };
                if let (Some(was), Some(now)) = (zone(&fields), zone(&row)) {
                    row.insert(
                        name.into(),
                        serde_json::to_value(in_zone_of(&was, &now)).ok()?,
                    );
                }
            }
            fields.retain(|k, _| !OWN.contains(&k.as_str()));
            fields.extend(row);
            let block = overrides::lines(uid, &rid, &fields);
            let now = overrides::with_block(&unmapped, &rid, Some(block));
            out.insert("unmapped".into(), serde_json::to_value(now).ok()?);
        }
        None => {
            let mut exdates = exdates(record);
            if known.is_none() && is_cancelled(&exdates, &rid) {
                return None;
            }
            if known.is_some() {
                let now = overrides::with_block(&unmapped, &rid, None);
                out.insert("unmapped".into(), serde_json::to_value(now).ok()?);
            }
            if !is_cancelled(&exdates, &rid) {
                exdates.push(rid);
                out.insert("exdates".into(), serde_json::to_value(exdates).ok()?);
            }
        }
    }
    Some(out)
}

/// Whether the record changed the occurrence at `when` apart from its series (then its row's
/// deletion in Salesforce is tandem's detaching it, not a cancellation).
pub fn is_detached(record: &Fields, when: &When) -> bool {
    occurrences_of_record(record)
        .iter()
        .any(|o| same_occurrence(&o.recurrence_id, when))
}

/// Whether the deleted occurrence `row` of the series `record` is one the record changed apart
/// from the series: then tandem deleted the row to detach it, and it is no cancellation.
pub fn row_was_detached(record: &Fields, row: &serde_json::Map<String, Value>) -> bool {
    let Some(start) = record
        .get("start")
        .and_then(|s| serde_json::from_value::<When>(s.clone()).ok())
    else {
        return false;
    };
    super::cancellation_of(row, &start).is_some_and(|when| is_detached(record, &when))
}

/// Salesforce's copy `copy` once it holds what `record` now has of the occurrence at `when`
/// (`in_series`: as an exception row of the series): that one entry of its detached
/// occurrences, and the occurrence's cancellation. Other entries stay as they are, since they
/// may still wait to be sent.
pub fn held_after(copy: &Fields, record: &Fields, when: &When, in_series: bool) -> Fields {
    let mut held: Vec<Occurrence> = occurrences(copy)
        .into_iter()
        .filter(|o| !same_occurrence(&o.recurrence_id, when))
        .collect();
    held.extend(
        occurrences_of_record(record)
            .into_iter()
            .filter(|o| same_occurrence(&o.recurrence_id, when))
            .map(|o| Occurrence { in_series, ..o }),
    );
    held.sort_by_key(|o| instant(&o.recurrence_id));
    let mut out = with_field(copy.clone(), &held);
    let cancelled = exdates(record);
    let mut exdates = exdates(copy);
    if is_cancelled(&cancelled, when) && !is_cancelled(&exdates, when) {
        exdates.extend(cancelled.into_iter().filter(|c| same_occurrence(c, when)));
        out.insert(
            "exdates".into(),
            serde_json::to_value(exdates).unwrap_or(Value::Null),
        );
    }
    out
}

/// A record's detached occurrences, derived from its overrides (never a held field).
fn occurrences_of_record(record: &Fields) -> Vec<Occurrence> {
    if record.contains_key(FIELD) {
        let mut own = record.clone();
        own.remove(FIELD);
        return occurrences(&own);
    }
    occurrences(record)
}

/// Whether the series' rule (its start, rule and end; cancellations aside) makes an occurrence
/// at `when`: an exception row moved in Salesforce no longer tells its place in the series.
pub fn is_rule_occurrence(series: &Fields, when: &When) -> bool {
    let pattern: Fields = series
        .iter()
        .filter(|(k, _)| ["start", "end", "rrule"].contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let ics =
        crate::codec::render_icalendar(crate::record::RecordKind::Event, "series", &pattern, None);
    let Ok(object) = crate::codec::parse_icalendar(&ics) else {
        return false;
    };
    let at = instant(when);
    crate::codec::occurrences(&object, at, at + TimeDelta::seconds(1), 2)
        .iter()
        .any(|o| o.start == at)
}

/// The external-id key of the standalone row of a series' occurrence.
pub fn row_key(record: &RecordId, recurrence_id: &When) -> String {
    let rid = match recurrence_id {
        When::Date(d) => d.format("%Y%m%d").to_string(),
        When::Time { utc, .. } => utc.format("%Y%m%dT%H%M%SZ").to_string(),
    };
    format!("{record}@{rid}")
}

/// The series and occurrence a standalone row's key names; `None` for any other key (a
/// record's own id, or none).
pub fn parse_row_key(key: &str) -> Option<(RecordId, When)> {
    let (record, rid) = key.split_once('@')?;
    let record = RecordId::parse(record).ok()?;
    let when = match rid.strip_suffix('Z') {
        Some(time) => When::Time {
            utc: NaiveDateTime::parse_from_str(time, "%Y%m%dT%H%M%S")
                .ok()?
                .and_utc(),
            tzid: None,
            floating: false,
        },
        None => When::Date(NaiveDate::parse_from_str(rid, "%Y%m%d").ok()?),
    };
    Some((record, when))
}

/// The query for the ids of the standalone rows with these keys in `field`.
pub fn rows_query(field: &str, keys: &[String]) -> String {
    let keys: Vec<String> = keys.iter().map(|k| soql_quote(k)).collect();
    format!(
        "SELECT Id FROM Event WHERE {field} IN ({})",
        keys.join(", ")
    )
}

fn instant(when: &When) -> chrono::DateTime<chrono::Utc> {
    match when {
        When::Date(d) => d.and_time(chrono::NaiveTime::MIN).and_utc(),
        When::Time { utc, .. } => *utc,
    }
}

/// `when` moved by `length`, in the same zone.
fn shifted(when: &When, length: TimeDelta) -> When {
    match when {
        When::Date(d) => When::Date(*d + length),
        When::Time {
            utc,
            tzid,
            floating,
        } => When::Time {
            utc: *utc + length,
            tzid: tzid.clone(),
            floating: *floating,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn when(v: Value) -> When {
        serde_json::from_value(v).unwrap()
    }

    /// A weekly series at 09:00 UTC from 10 March 2027, with the occurrence of the 17th moved
    /// to 14:00 and retitled.
    fn series(moved: bool) -> Fields {
        let mut unmapped = vec!["BEGIN:VCALENDAR".to_string(), "END:VCALENDAR".into()];
        if moved {
            unmapped.extend(overrides::lines(
                "u",
                &when(json!({"time": {"utc": "2027-03-17T09:00:00Z"}})),
                &serde_json::from_value(json!({
                    "subject": "Moved",
                    "start": {"time": {"utc": "2027-03-17T14:00:00Z"}},
                    "end": {"time": {"utc": "2027-03-17T15:00:00Z"}},
                }))
                .unwrap(),
            ));
        }
        serde_json::from_value(json!({
            "subject": "Weekly",
            "rrule": "FREQ=WEEKLY;COUNT=6",
            "start": {"time": {"utc": "2027-03-10T09:00:00Z"}},
            "end": {"time": {"utc": "2027-03-10T10:00:00Z"}},
            "what": {"salesforce_id": "001A", "name": "Acme"},
            "unmapped": unmapped,
        }))
        .unwrap()
    }

    #[test]
    fn a_row_key_names_the_series_and_the_occurrence() {
        let record = RecordId::parse("evt-0123456789abcdef").unwrap();
        for rid in [
            when(json!({"time": {"utc": "2027-03-17T09:00:00Z", "tzid": "Europe/Berlin"}})),
            when(json!({"date": "2027-03-17"})),
        ] {
            let key = row_key(&record, &rid);
            let (back, at) = parse_row_key(&key).unwrap();
            assert_eq!(back, record);
            assert!(same_occurrence(&at, &rid), "{key}");
        }
        assert_eq!(
            parse_row_key("evt-0123456789abcdef"),
            None,
            "a record's own key"
        );
    }

    #[test]
    fn an_override_is_detached_once_rewritten_when_changed_and_deleted_when_cancelled() {
        let moved = series(true);
        let had = Fields::new();
        let changes = row_changes(&had, &moved);
        let [
            RowChange::Write {
                fields,
                detach: true,
                ..
            },
        ] = changes.as_slice()
        else {
            panic!("{changes:?}");
        };
        assert_eq!(fields["subject"], "Moved");
        assert_eq!(fields["what"]["salesforce_id"], "001A", "the series' links");
        assert!(fields.get("rrule").is_none());

        let held = with_field(Fields::new(), &occurrences(&moved));
        assert!(row_changes(&held, &moved).is_empty(), "sent already");

        let mut cancelled = series(false);
        cancelled.insert(
            "exdates".into(),
            json!([{"time": {"utc": "2027-03-17T09:00:00Z"}}]),
        );
        assert!(matches!(
            row_changes(&held, &cancelled).as_slice(),
            [RowChange::Delete { .. }]
        ));
        // Back in line with the series: the row takes the series' values at its time.
        let back = row_changes(&held, &series(false));
        let [
            RowChange::Write {
                fields,
                detach: false,
                ..
            },
        ] = back.as_slice()
        else {
            panic!("{back:?}");
        };
        assert_eq!(fields["subject"], "Weekly");
        assert_eq!(fields["start"]["time"]["utc"], "2027-03-17T09:00:00Z");
        assert_eq!(fields["end"]["time"]["utc"], "2027-03-17T10:00:00Z");
    }

    #[test]
    fn a_rows_edit_or_deletion_comes_back_as_the_override() {
        let moved = series(true);
        let rid = when(json!({"time": {"utc": "2027-03-17T09:00:00Z"}}));
        let mut row = occurrences(&moved)[0].fields.clone();
        assert_eq!(fold(&moved, "u", &rid, Some(&row)), None, "no news");
        row.insert("subject".into(), json!("Moved (room B)"));
        let changes = fold(&moved, "u", &rid, Some(&row)).unwrap();
        let now = crate::record::overlay(&moved, &changes);
        assert_eq!(occurrences(&now)[0].fields["subject"], "Moved (room B)");
        assert_eq!(overrides::of(&now).len(), 1);

        let gone = fold(&now, "u", &rid, None).unwrap();
        let now = crate::record::overlay(&now, &gone);
        assert!(overrides::of(&now).is_empty());
        assert!(is_cancelled(
            &serde_json::from_value::<Vec<When>>(now["exdates"].clone()).unwrap(),
            &rid
        ));
        assert_eq!(fold(&now, "u", &rid, None), None, "cancelled already");
    }

    #[test]
    fn only_the_rules_own_times_are_occurrences() {
        let series = series(false);
        assert!(is_rule_occurrence(
            &series,
            &when(json!({"time": {"utc": "2027-03-24T09:00:00Z"}}))
        ));
        assert!(!is_rule_occurrence(
            &series,
            &when(json!({"time": {"utc": "2027-03-24T11:00:00Z"}}))
        ));
    }
}
