//! Graph's `patternedRecurrence` ⇄ an RRULE (resources/patternedrecurrence.md,
//! recurrencepattern.md, recurrencerange.md).
//!
//! Coming in, every Graph pattern has an RRULE, written in one spelling (parts in a fixed order,
//! INTERVAL only above 1, WKST only when the week does not start on Monday) so reading the same
//! pattern twice gives the same text. Going out, the rule is read by calcard and refused with
//! its reason when Outlook cannot repeat that way (by the hour, every Monday of a month, …).

use super::error::GraphMappingError;
use super::json::Item;
use super::time::{parse_date, resolve, to_local, to_utc};
use crate::codec::weekday;
use calcard::icalendar::ICalendarFrequency;
use chrono::{Datelike, Duration, NaiveDate, NaiveTime, Weekday};
use chrono_tz::Tz;
use serde_json::{Map, Value, json};

/// What a rule takes from the item it repeats.
#[derive(Clone, Debug)]
pub(crate) struct Anchor {
    /// All-day event or To Do task: UNTIL is a date.
    pub all_day: bool,
    /// The zone the series repeats in, for an UNTIL in UTC.
    pub zone: Tz,
    /// Sent as `recurrenceTimeZone`.
    pub zone_name: String,
    /// The series' first day in `zone`: Graph's `range.startDate`, and the day, weekday and month
    /// a rule takes from its start when it names none (RFC 5545 §3.3.10).
    pub first: NaiveDate,
    /// The start's time of day in `zone`, for a timed series.
    pub time: Option<NaiveTime>,
}

/// Graph's day names and RFC 5545's, Monday first (the order rules are written in).
const DAYS: [(&str, &str, Weekday); 7] = [
    ("monday", "MO", Weekday::Mon),
    ("tuesday", "TU", Weekday::Tue),
    ("wednesday", "WE", Weekday::Wed),
    ("thursday", "TH", Weekday::Thu),
    ("friday", "FR", Weekday::Fri),
    ("saturday", "SA", Weekday::Sat),
    ("sunday", "SU", Weekday::Sun),
];

/// Graph's `index` and the RFC ordinal it means.
const INDEXES: [(&str, i16); 5] = [
    ("first", 1),
    ("second", 2),
    ("third", 3),
    ("fourth", 4),
    ("last", -1),
];

fn code_of(graph_day: &str) -> Option<&'static str> {
    DAYS.iter()
        .find(|(g, _, _)| g.eq_ignore_ascii_case(graph_day))
        .map(|(_, c, _)| *c)
}

fn graph_day(day: Weekday) -> &'static str {
    DAYS.iter()
        .find(|(_, _, w)| *w == day)
        .map_or("monday", |(g, _, _)| *g)
}

/// The item's `recurrence` as an RRULE (without `RRULE:`), `None` when it has none.
pub(crate) fn rule_from_graph(
    item: &Item,
    anchor: &Anchor,
) -> Result<Option<String>, GraphMappingError> {
    let Some(rec) = item.object("recurrence", "recurrence.")? else {
        return Ok(None);
    };
    let bad = |reason: String| GraphMappingError::BadRecurrence {
        item: item.kind,
        reason,
    };
    let Some(pattern) = rec.object("pattern", "recurrence.pattern.")? else {
        return Err(bad("it has no pattern".into()));
    };
    let kind = pattern
        .text("type")?
        .ok_or_else(|| bad("the pattern has no type".into()))?;
    let mut days: Vec<&str> = Vec::new();
    for day in pattern.texts("daysOfWeek")? {
        let code =
            code_of(&day).ok_or_else(|| pattern.bad("daysOfWeek", &day, "a day of the week"))?;
        if !days.contains(&code) {
            days.push(code);
        }
    }
    days.sort_by_key(|c| DAYS.iter().position(|(_, d, _)| d == c));
    let index = match pattern.text("index")? {
        None => 1,
        Some(name) => INDEXES
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(&name))
            .map(|(_, o)| *o)
            .ok_or_else(|| pattern.bad("index", &name, "first, second, third, fourth or last"))?,
    };
    let month = || -> Result<i64, GraphMappingError> {
        match pattern.int("month")? {
            Some(m) if (1..=12).contains(&m) => Ok(m),
            other => Err(pattern.bad(
                "month",
                &show_int(other),
                "a month 1-12 (a yearly pattern needs one)",
            )),
        }
    };
    let month_day = || -> Result<i64, GraphMappingError> {
        match pattern.int("dayOfMonth")? {
            Some(d) if (1..=31).contains(&d) => Ok(d),
            other => Err(pattern.bad(
                "dayOfMonth",
                &show_int(other),
                "a day 1-31 (an absolute pattern needs one)",
            )),
        }
    };
    let weekdays = |days: &[&str]| -> Result<String, GraphMappingError> {
        match days {
            [] => Err(pattern.bad(
                "daysOfWeek",
                "[]",
                "at least one day (a weekly or relative pattern needs some)",
            )),
            _ => Ok(days.join(",")),
        }
    };
    // "The second Thursday or Friday": the first day of the set that matches, as BYSETPOS says.
    let relative = |days: &[&str]| -> Result<Vec<String>, GraphMappingError> {
        Ok(match days {
            [one] => vec![format!("BYDAY={index}{one}")],
            _ => vec![
                format!("BYDAY={}", weekdays(days)?),
                format!("BYSETPOS={index}"),
            ],
        })
    };

    let (freq, by): (&str, Vec<String>) = match kind.to_ascii_lowercase().as_str() {
        "daily" => ("DAILY", Vec::new()),
        "weekly" => {
            let mut by = vec![format!("BYDAY={}", weekdays(&days)?)];
            // Graph's default week start is Sunday; RFC 5545's is Monday.
            let first = pattern
                .text("firstDayOfWeek")?
                .unwrap_or_else(|| "sunday".into());
            let code = code_of(&first)
                .ok_or_else(|| pattern.bad("firstDayOfWeek", &first, "a day of the week"))?;
            if code != "MO" {
                by.push(format!("WKST={code}"));
            }
            ("WEEKLY", by)
        }
        "absolutemonthly" => ("MONTHLY", vec![format!("BYMONTHDAY={}", month_day()?)]),
        "relativemonthly" => ("MONTHLY", relative(&days)?),
        "absoluteyearly" => (
            "YEARLY",
            vec![
                format!("BYMONTH={}", month()?),
                format!("BYMONTHDAY={}", month_day()?),
            ],
        ),
        "relativeyearly" => {
            let mut by = vec![format!("BYMONTH={}", month()?)];
            by.extend(relative(&days)?);
            ("YEARLY", by)
        }
        other => {
            return Err(pattern.bad(
                "type",
                other,
                "daily, weekly, absoluteMonthly, relativeMonthly, absoluteYearly or relativeYearly",
            ));
        }
    };

    let mut parts = vec![format!("FREQ={freq}")];
    if let Some(n) = pattern.int("interval")?.filter(|n| *n > 1) {
        parts.push(format!("INTERVAL={n}"));
    }
    if let Some(range) = rec.object("range", "recurrence.range.")? {
        match range
            .text("type")?
            .map(|t| t.to_ascii_lowercase())
            .as_deref()
        {
            None | Some("noend") => {}
            Some("numbered") => match range.int("numberOfOccurrences")? {
                Some(n) if n > 0 => parts.push(format!("COUNT={n}")),
                other => {
                    return Err(range.bad(
                        "numberOfOccurrences",
                        &show_int(other),
                        "a positive count",
                    ));
                }
            },
            Some("enddate") => {
                let text = range.text("endDate")?.unwrap_or_default();
                let end = parse_date(&text)
                    .ok_or_else(|| range.bad("endDate", &text, "a date like 2026-12-31"))?;
                let zone = range
                    .text("recurrenceTimeZone")?
                    .and_then(|name| resolve(&name))
                    .unwrap_or(anchor.zone);
                parts.push(format!("UNTIL={}", until_text(end, anchor.all_day, zone)));
            }
            Some(other) => {
                return Err(range.bad("type", other, "endDate, noEnd or numbered"));
            }
        }
    }
    parts.extend(by);
    Ok(Some(parts.join(";")))
}

fn show_int(n: Option<i64>) -> String {
    n.map_or_else(|| "null".into(), |n| n.to_string())
}

/// UNTIL for a series that ends on `end`: the date for an all-day series (RFC 5545 wants the
/// type of DTSTART); for a timed one the last second of that day in the series' zone, in UTC,
/// so an occurrence on the end date is kept as Graph keeps it.
fn until_text(end: NaiveDate, all_day: bool, zone: Tz) -> String {
    if all_day {
        return end.format("%Y%m%d").to_string();
    }
    let last = end.and_time(NaiveTime::from_hms_opt(23, 59, 59).unwrap_or(NaiveTime::MIN));
    to_utc(last, zone).format("%Y%m%dT%H%M%SZ").to_string()
}

/// The `patternedRecurrence` to send for a record's rule.
pub(crate) fn rule_to_graph(rule: &str, anchor: &Anchor) -> Result<Value, GraphMappingError> {
    let refuse = |reason: &str| GraphMappingError::UnsupportedRecurrence {
        rule: rule.to_string(),
        reason: reason.to_string(),
    };
    let parsed = crate::codec::rrule(rule).map_err(|reason| refuse(&reason))?;
    let mut pattern = Map::new();
    let interval = parsed.interval.unwrap_or(1).max(1);
    pattern.insert("interval".into(), json!(interval));

    if !parsed.byhour.is_empty() || !parsed.byminute.is_empty() || !parsed.bysecond.is_empty() {
        return Err(refuse(
            "BYHOUR, BYMINUTE and BYSECOND can't be kept: an Outlook series has one occurrence a day, at its start time",
        ));
    }
    if !parsed.byyearday.is_empty() || !parsed.byweekno.is_empty() {
        return Err(refuse(
            "Outlook can't repeat by day of the year (BYYEARDAY) or week number (BYWEEKNO)",
        ));
    }
    if parsed.rscale.is_some() || parsed.skip.is_some() {
        return Err(refuse(
            "Outlook repeats in the Gregorian calendar only (no RSCALE or SKIP)",
        ));
    }
    if parsed.bysetpos.len() > 1 {
        return Err(refuse(
            "BYSETPOS with several positions can't be kept: Outlook picks one occurrence a month (first, second, third, fourth or last)",
        ));
    }
    let plain_days = || -> Result<Vec<Weekday>, GraphMappingError> {
        if parsed.byday.iter().any(|d| d.ordwk.is_some()) {
            return Err(refuse(
                "numbered BYDAY values (like 2MO) need FREQ=MONTHLY or FREQ=YEARLY in Outlook",
            ));
        }
        Ok(parsed.byday.iter().map(|d| weekday(&d.weekday)).collect())
    };
    let days_json =
        |days: &[Weekday]| json!(days.iter().map(|d| graph_day(*d)).collect::<Vec<_>>());
    let week_start = parsed.wkst.as_ref().map_or(Weekday::Mon, weekday);

    match parsed.freq {
        ICalendarFrequency::Daily => {
            if !parsed.bymonthday.is_empty()
                || !parsed.bymonth.is_empty()
                || !parsed.bysetpos.is_empty()
            {
                return Err(refuse(
                    "FREQ=DAILY can't take BYMONTHDAY, BYMONTH or BYSETPOS in Outlook",
                ));
            }
            let days = plain_days()?;
            if days.is_empty() {
                pattern.insert("type".into(), json!("daily"));
            } else if interval == 1 {
                // Every weekday, spelled FREQ=DAILY;BYDAY=MO,…: the same days as a weekly pattern.
                pattern.insert("type".into(), json!("weekly"));
                pattern.insert("daysOfWeek".into(), days_json(&days));
                pattern.insert("firstDayOfWeek".into(), json!(graph_day(week_start)));
            } else {
                return Err(refuse(
                    "FREQ=DAILY with BYDAY and INTERVAL above 1 can't be kept: Outlook repeats such days weekly",
                ));
            }
        }
        ICalendarFrequency::Weekly => {
            if !parsed.bymonthday.is_empty()
                || !parsed.bymonth.is_empty()
                || !parsed.bysetpos.is_empty()
            {
                return Err(refuse(
                    "FREQ=WEEKLY can't take BYMONTHDAY, BYMONTH or BYSETPOS in Outlook",
                ));
            }
            let mut days = plain_days()?;
            if days.is_empty() {
                days.push(anchor.first.weekday());
            }
            pattern.insert("type".into(), json!("weekly"));
            pattern.insert("daysOfWeek".into(), days_json(&days));
            pattern.insert("firstDayOfWeek".into(), json!(graph_day(week_start)));
        }
        ICalendarFrequency::Monthly | ICalendarFrequency::Yearly => {
            let yearly = parsed.freq == ICalendarFrequency::Yearly;
            if yearly {
                let month = match parsed.bymonth.as_slice() {
                    [] => anchor.first.month(),
                    [m] if !m.is_leap() => u32::from(m.month()),
                    _ => {
                        return Err(refuse(
                            "Outlook repeats a yearly series in one month (a single BYMONTH)",
                        ));
                    }
                };
                pattern.insert("month".into(), json!(month));
            } else if !parsed.bymonth.is_empty() {
                return Err(refuse("FREQ=MONTHLY can't take BYMONTH in Outlook"));
            }
            let absolute = if yearly {
                "absoluteYearly"
            } else {
                "absoluteMonthly"
            };
            let relative = if yearly {
                "relativeYearly"
            } else {
                "relativeMonthly"
            };
            let index = |n: i32| -> Result<&'static str, GraphMappingError> {
                INDEXES
                    .iter()
                    .find(|(_, o)| i32::from(*o) == n)
                    .map(|(name, _)| *name)
                    .ok_or_else(|| {
                        refuse(&format!(
                            "Outlook counts first, second, third, fourth or last, not {n}"
                        ))
                    })
            };
            match (
                parsed.bymonthday.as_slice(),
                parsed.byday.as_slice(),
                parsed.bysetpos.as_slice(),
            ) {
                ([], [], []) => {
                    pattern.insert("type".into(), json!(absolute));
                    pattern.insert("dayOfMonth".into(), json!(anchor.first.day()));
                }
                ([d], [], []) if (1..=31).contains(d) => {
                    pattern.insert("type".into(), json!(absolute));
                    pattern.insert("dayOfMonth".into(), json!(d));
                }
                // The last day of the month: Outlook's "last day" (every weekday, last one).
                ([-1], [], []) => {
                    pattern.insert("type".into(), json!(relative));
                    pattern.insert("daysOfWeek".into(), days_json(&DAYS.map(|(_, _, w)| w)));
                    pattern.insert("index".into(), json!("last"));
                }
                ([_, ..], _, _) => {
                    return Err(refuse(
                        "Outlook repeats on one day of the month (a single BYMONTHDAY from 1 to 31, or -1), without BYDAY",
                    ));
                }
                ([], [one], []) => {
                    let Some(n) = one.ordwk else {
                        return Err(refuse(
                            "every such weekday of a month can't be kept: Outlook repeats on one of them (like 2MO or BYSETPOS)",
                        ));
                    };
                    pattern.insert("type".into(), json!(relative));
                    pattern.insert("daysOfWeek".into(), days_json(&[weekday(&one.weekday)]));
                    pattern.insert("index".into(), json!(index(i32::from(n))?));
                }
                ([], [_, _, ..], []) => {
                    return Err(refuse(
                        "several weekdays of a month can't be kept: Outlook repeats on one of them (add BYSETPOS)",
                    ));
                }
                ([], days, [pos]) if !days.is_empty() => {
                    let days = plain_days()?;
                    pattern.insert("type".into(), json!(relative));
                    pattern.insert("daysOfWeek".into(), days_json(&days));
                    pattern.insert("index".into(), json!(index(*pos)?));
                }
                _ => return Err(refuse("BYSETPOS needs BYDAY in Outlook")),
            }
        }
        ICalendarFrequency::Hourly
        | ICalendarFrequency::Minutely
        | ICalendarFrequency::Secondly => {
            return Err(refuse(
                "Outlook repeats a series daily, weekly, monthly or yearly, not by the hour, minute or second",
            ));
        }
    }

    let mut range = Map::new();
    range.insert(
        "startDate".into(),
        json!(anchor.first.format("%Y-%m-%d").to_string()),
    );
    range.insert("recurrenceTimeZone".into(), json!(anchor.zone_name));
    match (parsed.count, &parsed.until) {
        (Some(_), Some(_)) => return Err(refuse("COUNT and UNTIL can't both be given (RFC 5545)")),
        (Some(0), None) => return Err(refuse("COUNT must be at least 1")),
        (Some(n), None) => {
            range.insert("type".into(), json!("numbered"));
            range.insert("numberOfOccurrences".into(), json!(n));
        }
        (None, Some(until)) => {
            let end = end_date(until, anchor)
                .ok_or_else(|| refuse("UNTIL is not a date or a date-time"))?;
            if end < anchor.first {
                return Err(refuse("UNTIL is before the series starts"));
            }
            range.insert("type".into(), json!("endDate"));
            range.insert("endDate".into(), json!(end.format("%Y-%m-%d").to_string()));
        }
        (None, None) => {
            range.insert("type".into(), json!("noEnd"));
        }
    }
    Ok(json!({"pattern": pattern, "range": range}))
}

/// Graph's end date for an UNTIL: the last day an occurrence may fall on, in the series' zone.
/// An UNTIL earlier in the day than the start time ends the series the day before.
fn end_date(until: &calcard::common::PartialDateTime, anchor: &Anchor) -> Option<NaiveDate> {
    let result = until.to_date_time()?;
    if !until.has_time() {
        return Some(result.date_time.date());
    }
    let local = match result.offset {
        Some(offset) => {
            let instant = result
                .date_time
                .checked_sub_signed(Duration::seconds(i64::from(offset.local_minus_utc())))?
                .and_utc();
            to_local(instant, anchor.zone)
        }
        None => result.date_time,
    };
    match anchor.time {
        Some(start) if local.time() < start => local.date().pred_opt(),
        _ => Some(local.date()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn anchor(first: &str, time: Option<&str>, zone: Tz) -> Anchor {
        Anchor {
            all_day: time.is_none(),
            zone,
            zone_name: zone.name().to_string(),
            first: first.parse().unwrap(),
            time: time.map(|t| t.parse().unwrap()),
        }
    }

    fn read(recurrence: Value, anchor: &Anchor) -> Option<String> {
        let event = json!({ "recurrence": recurrence });
        let item = Item::new("event", &event).unwrap();
        rule_from_graph(&item, anchor).unwrap()
    }

    #[test]
    fn graph_patterns_read_as_rrules() {
        let berlin = chrono_tz::Europe::Berlin;
        let timed = anchor("2026-01-05", Some("09:00:00"), berlin);
        // As Graph returns a pattern: every property, unused ones zero.
        let weekly = json!({
            "pattern": {"type": "weekly", "interval": 2, "month": 0, "dayOfMonth": 0,
                        "daysOfWeek": ["wednesday", "monday"], "firstDayOfWeek": "sunday", "index": "first"},
            "range": {"type": "endDate", "startDate": "2026-01-05", "endDate": "2026-06-29",
                      "recurrenceTimeZone": "W. Europe Standard Time", "numberOfOccurrences": 0}
        });
        assert_eq!(
            read(weekly, &timed).unwrap(),
            "FREQ=WEEKLY;INTERVAL=2;UNTIL=20260629T215959Z;BYDAY=MO,WE;WKST=SU"
        );
        let relative = json!({
            "pattern": {"type": "relativeMonthly", "interval": 1, "daysOfWeek": ["thursday"], "index": "second",
                        "firstDayOfWeek": "sunday", "month": 0, "dayOfMonth": 0},
            "range": {"type": "numbered", "startDate": "2026-01-08", "numberOfOccurrences": 10,
                      "endDate": "0001-01-01", "recurrenceTimeZone": ""}
        });
        assert_eq!(
            read(relative, &timed).unwrap(),
            "FREQ=MONTHLY;COUNT=10;BYDAY=2TH"
        );
        let yearly = json!({
            "pattern": {"type": "relativeYearly", "interval": 1, "month": 11,
                        "daysOfWeek": ["thursday", "friday"], "index": "last"},
            "range": {"type": "noEnd", "startDate": "2026-11-27"}
        });
        assert_eq!(
            read(yearly, &timed).unwrap(),
            "FREQ=YEARLY;BYMONTH=11;BYDAY=TH,FR;BYSETPOS=-1"
        );
        let all_day = anchor("2026-03-15", None, berlin);
        let absolute = json!({
            "pattern": {"type": "absoluteYearly", "interval": 1, "month": 3, "dayOfMonth": 15},
            "range": {"type": "endDate", "startDate": "2026-03-15", "endDate": "2030-03-15"}
        });
        assert_eq!(
            read(absolute, &all_day).unwrap(),
            "FREQ=YEARLY;UNTIL=20300315;BYMONTH=3;BYMONTHDAY=15"
        );
        assert_eq!(read(Value::Null, &all_day), None);
    }

    #[test]
    fn rrules_go_out_as_graph_patterns() {
        let berlin = chrono_tz::Europe::Berlin;
        let timed = anchor("2026-01-05", Some("09:00:00"), berlin);
        assert_eq!(
            rule_to_graph(
                "FREQ=WEEKLY;INTERVAL=2;UNTIL=20260629T215959Z;BYDAY=MO,WE;WKST=SU",
                &timed
            )
            .unwrap(),
            json!({
                "pattern": {"type": "weekly", "interval": 2, "daysOfWeek": ["monday", "wednesday"],
                            "firstDayOfWeek": "sunday"},
                "range": {"type": "endDate", "startDate": "2026-01-05", "endDate": "2026-06-29",
                          "recurrenceTimeZone": "Europe/Berlin"}
            })
        );
        // The last occurrence's own instant as UNTIL ends on that day; midnight before it, the day before.
        let until = |u: &str| {
            rule_to_graph(&format!("FREQ=DAILY;UNTIL={u}"), &timed).unwrap()["range"]["endDate"]
                .clone()
        };
        assert_eq!(until("20260110T080000Z"), "2026-01-10");
        assert_eq!(until("20260109T230000Z"), "2026-01-09");
        assert_eq!(until("20260110"), "2026-01-10");
        let monthly = rule_to_graph("RRULE:FREQ=MONTHLY;BYDAY=-1FR;COUNT=6", &timed).unwrap();
        assert_eq!(
            monthly["pattern"],
            json!({"type": "relativeMonthly", "interval": 1, "daysOfWeek": ["friday"], "index": "last"})
        );
        assert_eq!(monthly["range"]["numberOfOccurrences"], 6);
        let last_day = rule_to_graph("FREQ=MONTHLY;BYMONTHDAY=-1", &timed).unwrap();
        assert_eq!(last_day["pattern"]["index"], "last");
        assert_eq!(
            last_day["pattern"]["daysOfWeek"].as_array().unwrap().len(),
            7
        );
        // What a rule leaves to its start is written down.
        let yearly = rule_to_graph("FREQ=YEARLY", &timed).unwrap();
        assert_eq!(
            yearly["pattern"],
            json!({"type": "absoluteYearly", "interval": 1, "month": 1, "dayOfMonth": 5})
        );
        let weekdays = rule_to_graph("FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR", &timed).unwrap();
        assert_eq!(weekdays["pattern"]["type"], "weekly");
        assert_eq!(weekdays["pattern"]["firstDayOfWeek"], "monday");
    }

    #[test]
    fn rules_outlook_cannot_keep_are_refused_with_the_reason() {
        let timed = anchor("2026-01-05", Some("09:00:00"), Tz::UTC);
        for (rule, reason) in [
            ("FREQ=HOURLY;INTERVAL=2", "not by the hour"),
            (
                "FREQ=MONTHLY;BYDAY=MO,TU;BYSETPOS=1,3",
                "one occurrence a month",
            ),
            ("FREQ=MONTHLY;BYDAY=MO", "one of them"),
            ("FREQ=MONTHLY;BYDAY=5MO", "not 5"),
            ("FREQ=WEEKLY;BYDAY=MO;BYHOUR=9,17", "one occurrence a day"),
            ("FREQ=YEARLY;BYWEEKNO=20", "week number"),
            ("FREQ=YEARLY;BYMONTH=1,7", "one month"),
            ("FREQ=DAILY;INTERVAL=2;BYDAY=MO", "weekly"),
            ("not a rule", "not an RRULE"),
        ] {
            let err = rule_to_graph(rule, &timed).unwrap_err().to_string();
            assert!(err.contains(&format!("`{rule}`")), "{err}");
            assert!(err.contains(reason), "{rule}: {err}");
        }
    }

    #[test]
    fn a_round_trip_keeps_the_rule_text() {
        let zone = chrono_tz::America::New_York;
        let timed = anchor("2026-02-10", Some("14:30:00"), zone);
        for rule in [
            "FREQ=DAILY;INTERVAL=3;COUNT=20",
            "FREQ=WEEKLY;BYDAY=TU,TH",
            "FREQ=WEEKLY;INTERVAL=2;UNTIL=20261231T045959Z;BYDAY=TU;WKST=SU",
            "FREQ=MONTHLY;BYMONTHDAY=10",
            "FREQ=MONTHLY;INTERVAL=2;BYDAY=2TU",
            "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=10",
            "FREQ=YEARLY;BYMONTH=2;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=2",
        ] {
            let graph = rule_to_graph(rule, &timed).unwrap();
            assert_eq!(read(graph, &timed).unwrap(), rule);
        }
    }
}
