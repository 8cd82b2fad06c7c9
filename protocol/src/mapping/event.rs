//! Event rules the table can't express: times and all-day days, the reminder relative to the
//! start, series patterns, and private events without relations.

use super::error::{MappingError, Warning};
use super::recurrence::{record_rule, salesforce_pattern};
use super::table::SfRow;
use super::time::{
    iana_zone, local_midnight, midnight_utc, salesforce_date, salesforce_datetime, whole_seconds,
};
use super::{Outgoing, SalesforceContext, typed};
use crate::record::{Event, Fields, RecordKind, When};
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use serde_json::Value;

const OBJECT: &str = "Event";

/// "Events can't exceed 14 days" (multi-day events enabled).
pub(crate) const MAX_MINUTES: i64 = 14 * 1440;

fn json<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

pub(crate) fn read(
    row: &SfRow,
    ctx: &SalesforceContext,
    fields: &mut Fields,
) -> Result<(), MappingError> {
    let all_day = row.flag("IsAllDayEvent")?;
    let start_time = match row.datetime("StartDateTime")? {
        Some(t) => Some(t),
        None => row.datetime("ActivityDateTime")?,
    };
    let end_time = row.datetime("EndDateTime")?;
    let duration = row.int("DurationInMinutes")?;
    let series = row.flag("IsRecurrence2")?;
    let pattern = row.text("Recurrence2PatternText")?;
    let pattern_zone = row.text("Recurrence2PatternTimeZone")?;
    // A series starts where its pattern starts: the row a series is linked to is its first
    // occurrence — or, once that one was deleted in Salesforce, the next one.
    let pattern_start = match series {
        true => row.datetime("Recurrence2PatternStartDate")?,
        false => None,
    };
    let moved_by = match (pattern_start, start_time) {
        (Some(first), Some(start)) if first != start => Some(first - start),
        _ => None,
    };
    let (start_time, end_time) = match moved_by {
        Some(by) => (start_time.map(|t| t + by), end_time.map(|t| t + by)),
        None => (start_time, end_time),
    };

    // The instant a reminder counts back from.
    let mut anchor: Option<DateTime<Utc>> = None;
    if all_day {
        // An all-day row starts at midnight UTC of its day, so the pattern start's UTC date is
        // the series' first day.
        let first = match (moved_by, row.date("ActivityDate")?) {
            (None, Some(d)) => Some(d),
            _ => start_time.map(|t| t.date_naive()),
        };
        if let Some(first) = first {
            // Salesforce's end is the last day itself; the record's end is the day after.
            let last = match (end_time, duration) {
                (Some(e), _) => e.date_naive(),
                (None, Some(d)) => {
                    add_days(first, (d.saturating_add(1439) / 1440 - 1).clamp(0, 13))
                }
                (None, None) => first,
            }
            .max(first);
            fields.insert("start".into(), json(&When::Date(first)));
            fields.insert("end".into(), json(&When::Date(add_days(last, 1))));
            anchor = Some(local_midnight(first, ctx.user_time_zone));
        }
    } else if let Some(start) = start_time {
        // A series repeats in its own zone; anything else is shown in the user's zone.
        let zone = pattern_zone
            .as_deref()
            .filter(|_| series)
            .and_then(iana_zone)
            .unwrap_or(ctx.user_time_zone);
        let tzid = Some(zone.name().to_string());
        let end = match (end_time, duration) {
            (Some(e), _) => e,
            (None, Some(d)) => add_minutes(start, d.clamp(0, MAX_MINUTES)).unwrap_or(start),
            (None, None) => start,
        };
        fields.insert(
            "start".into(),
            json(&When::Time {
                utc: start,
                tzid: tzid.clone(),
                floating: false,
            }),
        );
        fields.insert(
            "end".into(),
            json(&When::Time {
                utc: end,
                tzid,
                floating: false,
            }),
        );
        anchor = Some(start);
    }

    if row.flag("IsReminderSet")?
        && let (Some(at), Some(anchor)) = (row.datetime("ReminderDateTime")?, anchor)
    {
        fields.insert(
            "reminder_minutes".into(),
            Value::from((anchor - at).num_minutes()),
        );
    }
    if series && let Some(pattern) = pattern {
        fields.insert("rrule".into(), Value::String(record_rule(&pattern)));
    }
    Ok(())
}

/// The instant a time names: a floating time (its wall-clock time kept as UTC) is read in the
/// user's zone, as the user meant it.
fn instant(utc: DateTime<Utc>, floating: bool, zone: Tz) -> DateTime<Utc> {
    if !floating {
        return utc;
    }
    zone.from_local_datetime(&utc.naive_utc())
        .earliest()
        // A time the clocks skip (spring forward) is the hour after.
        .or_else(|| {
            zone.from_local_datetime(&(utc.naive_utc() + Duration::hours(1)))
                .earliest()
        })
        .map_or(utc, |t| t.with_timezone(&Utc))
}

pub(crate) fn write(
    fields: &Fields,
    ctx: &SalesforceContext,
    out: &mut Outgoing,
) -> Result<(), MappingError> {
    let event: Event = typed(RecordKind::Event, fields)?;
    let body = &mut out.fields;
    let Some(start) = &event.start else {
        return Err(MappingError::BadEvent {
            object: OBJECT,
            reason: "the event has no start (DTSTART); Salesforce requires one".into(),
        });
    };
    let anchor = match (start, &event.end) {
        (When::Date(first), end) => {
            let end = match end {
                None => add_days(*first, 1),
                Some(When::Date(d)) => *d,
                Some(When::Time { .. }) => return Err(mixed()),
            };
            // Clients write DTEND = DTSTART for a one-day event too.
            let days = (end - *first)
                .num_days()
                .max(if end == *first { 1 } else { 0 });
            if days < 1 {
                return Err(ends_before_start(
                    &salesforce_date(*first),
                    &salesforce_date(end),
                ));
            }
            if days * 1440 > MAX_MINUTES {
                return Err(MappingError::EventTooLong {
                    object: OBJECT,
                    minutes: days * 1440,
                });
            }
            let last = add_days(*first, days - 1);
            body.insert("IsAllDayEvent".into(), Value::Bool(true));
            body.insert(
                "ActivityDate".into(),
                Value::String(salesforce_date(*first)),
            );
            body.insert(
                "StartDateTime".into(),
                Value::String(salesforce_datetime(midnight_utc(*first))),
            );
            body.insert(
                "EndDateTime".into(),
                Value::String(salesforce_datetime(midnight_utc(last))),
            );
            body.insert("DurationInMinutes".into(), Value::from(days * 1440));
            local_midnight(*first, ctx.user_time_zone)
        }
        (When::Time { utc, floating, .. }, end) => {
            let start = whole_seconds(instant(*utc, *floating, ctx.user_time_zone));
            let end = match end {
                None => start,
                Some(When::Time { utc, floating, .. }) => {
                    whole_seconds(instant(*utc, *floating, ctx.user_time_zone))
                }
                Some(When::Date(_)) => return Err(mixed()),
            };
            let minutes = (end - start).num_minutes();
            if end < start {
                return Err(ends_before_start(
                    &salesforce_datetime(start),
                    &salesforce_datetime(end),
                ));
            }
            if minutes > MAX_MINUTES {
                return Err(MappingError::EventTooLong {
                    object: OBJECT,
                    minutes,
                });
            }
            body.insert("IsAllDayEvent".into(), Value::Bool(false));
            body.insert(
                "StartDateTime".into(),
                Value::String(salesforce_datetime(start)),
            );
            // Whole minutes: Salesforce derives the end from the duration.
            body.insert(
                "EndDateTime".into(),
                Value::String(salesforce_datetime(
                    add_minutes(start, minutes).unwrap_or(end),
                )),
            );
            body.insert("DurationInMinutes".into(), Value::from(minutes));
            start
        }
    };

    match event.reminder_minutes {
        Some(minutes) => {
            body.insert("IsReminderSet".into(), Value::Bool(true));
            let at = minutes
                .checked_neg()
                .and_then(|m| add_minutes(anchor, m))
                .ok_or_else(|| MappingError::BadEvent {
                    object: OBJECT,
                    reason: format!(
                        "a reminder {minutes} minutes before the start is out of range"
                    ),
                })?;
            body.insert(
                "ReminderDateTime".into(),
                Value::String(salesforce_datetime(at)),
            );
        }
        None => {
            body.insert("IsReminderSet".into(), Value::Bool(false));
        }
    }

    match &event.rrule {
        Some(rule) => {
            let zone = match start {
                When::Time {
                    tzid: Some(name), ..
                } => match iana_zone(name) {
                    Some(tz) => tz,
                    None => {
                        out.warnings.push(Warning::TimeZoneReplaced {
                            given: name.clone(),
                            used: ctx.user_time_zone.name().to_string(),
                        });
                        ctx.user_time_zone
                    }
                },
                // A `Z` time repeats in UTC (RFC 5545 §3.3.5): its weekday is UTC's, which
                // the user's zone would move across midnight.
                When::Time {
                    tzid: None,
                    floating: false,
                    ..
                } => Tz::GMT,
                _ => ctx.user_time_zone,
            };
            let first = match start {
                When::Date(day) => *day,
                When::Time { utc, .. } => utc.with_timezone(&zone).date_naive(),
            };
            let pattern = salesforce_pattern(rule, zone, first)?;
            // Overrides (RECURRENCE-ID) are kept whole in the record's unmapped lines; with a
            // key for their rows they are detached (see `detached`), else they stay there.
            let moved = event
                .unmapped
                .iter()
                .filter(|l| l.to_ascii_uppercase().starts_with("RECURRENCE-ID"))
                .count();
            if moved > 0 && ctx.row_key_field.is_none() {
                out.warnings.push(Warning::NotSent {
                    object: OBJECT,
                    field: "Recurrence2PatternText".into(),
                    reason: format!(
                        "{moved} occurrence{} moved or changed apart from the series stay{} on the desktop; Salesforce shows {} as the series has {} (set [salesforce] external_id_field to an external-id field of Event, such as Tandem_Id__c, to carry {})",
                        if moved == 1 { "" } else { "s" },
                        if moved == 1 { "s" } else { "" },
                        if moved == 1 { "it" } else { "them" },
                        if moved == 1 { "it" } else { "them" },
                        if moved == 1 { "it" } else { "them" },
                    ),
                });
            }
            body.insert("IsRecurrence2".into(), Value::Bool(true));
            body.insert("Recurrence2PatternText".into(), Value::String(pattern));
            body.insert(
                "Recurrence2PatternTimeZone".into(),
                Value::String(zone.name().to_string()),
            );
        }
        None => {
            body.insert("IsRecurrence2".into(), Value::Bool(false));
        }
    }

    if event.private {
        let removed: Vec<String> = ["WhoId", "WhatId"]
            .into_iter()
            .filter(|f| body.remove(*f).is_some())
            .map(str::to_string)
            .collect();
        if !removed.is_empty() {
            out.warnings
                .push(Warning::PrivateEventUnlinked { fields: removed });
        }
    }
    Ok(())
}

/// Date arithmetic that can't panic at the ends of the calendar: it stays put instead.
fn add_days(d: NaiveDate, days: i64) -> NaiveDate {
    Duration::try_days(days)
        .and_then(|delta| d.checked_add_signed(delta))
        .unwrap_or(d)
}

fn add_minutes(t: DateTime<Utc>, minutes: i64) -> Option<DateTime<Utc>> {
    Duration::try_minutes(minutes).and_then(|delta| t.checked_add_signed(delta))
}

fn mixed() -> MappingError {
    MappingError::BadEvent {
        object: OBJECT,
        reason: "the start and the end must both be dates (all-day) or both be times".into(),
    }
}

fn ends_before_start(start: &str, end: &str) -> MappingError {
    MappingError::BadEvent {
        object: OBJECT,
        reason: format!("the event ends ({end}) before it starts ({start})"),
    }
}
