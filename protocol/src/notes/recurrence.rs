//! JSCalendar RecurrenceRule objects (RFC 8984 §4.3.3) ⇄ the record's RRULE.
//!
//! A RecurrenceRule is a RECUR value spelled as JSON, part for part, so the rule is carried
//! through calcard's `ICalendarRecurrenceRule`: parsed from the record's text, written back by
//! calcard's writer. Two parts differ in kind: `until` is a LocalDateTime in the entry's zone
//! where RRULE's UNTIL is a UTC time (a DATE for an all-day series), and an NDay's
//! `nthOfPeriod` is BYDAY's ordinal. An `interval` is written when the rule says INTERVAL and
//! read back the same, so a rule's own spelling survives.

use super::error::NotesMappingError;
use super::json::Item;
use super::time::{local_text, parse_local, to_local, to_utc};
use calcard::common::{IanaParse, IanaString, PartialDateTime};
use calcard::icalendar::{
    ICalendarDay, ICalendarFrequency, ICalendarMonth, ICalendarRecurrenceRule, ICalendarWeekday,
};
use chrono::{NaiveTime, TimeDelta};
use chrono_tz::Tz;
use serde_json::{Map, Value, json};

/// How the entry the rule repeats is timed.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Anchor {
    pub all_day: bool,
    /// The entry's zone; `None` for a floating entry.
    pub zone: Option<Tz>,
}

/// A RecurrenceRule object → RRULE text.
pub(crate) fn rule_from_js(rule: &Item, anchor: Anchor) -> Result<String, NotesMappingError> {
    let bad = |reason: String| NotesMappingError::BadRecurrence {
        item: rule.kind,
        reason,
    };
    let frequency = rule
        .text("frequency")?
        .ok_or_else(|| bad("a rule has no frequency".into()))?;
    let freq = ICalendarFrequency::parse(frequency.as_bytes()).ok_or_else(|| {
        rule.bad(
            "frequency",
            &frequency,
            "yearly, monthly, weekly, daily, hourly, minutely or secondly",
        )
    })?;
    if let Some(scale) = rule.text("rscale")?
        && !scale.eq_ignore_ascii_case("gregorian")
    {
        return Err(bad(format!(
            "the calendar system `{scale}` is not kept by records"
        )));
    }
    let ints = |name: &str| -> Result<Vec<i64>, NotesMappingError> {
        match rule.get(name) {
            None => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| {
                    v.as_i64()
                        .ok_or_else(|| rule.wrong(name, "a list of whole numbers", v))
                })
                .collect(),
            Some(other) => Err(rule.wrong(name, "a list of whole numbers", other)),
        }
    };
    let mut parsed = ICalendarRecurrenceRule {
        freq,
        ..ICalendarRecurrenceRule::default()
    };
    if let Some(n) = rule.int("interval")? {
        parsed.interval =
            Some(u16::try_from(n).map_err(|_| rule.bad("interval", &n.to_string(), "1 or more"))?);
    }
    if let Some(n) = rule.int("count")? {
        parsed.count =
            Some(u32::try_from(n).map_err(|_| rule.bad("count", &n.to_string(), "1 or more"))?);
    }
    if let Some(text) = rule.text("until")? {
        let local = parse_local(&text)
            .or_else(|| super::time::day_part(&text).map(|d| d.and_time(NaiveTime::MIN)))
            .ok_or_else(|| rule.bad("until", &text, "a LocalDateTime like 2026-12-31T23:59:59"))?;
        parsed.until = Some(if anchor.all_day {
            PartialDateTime::from_date_timestamp(local.and_utc().timestamp())
        } else {
            match anchor.zone {
                Some(tz) => PartialDateTime::from_utc_timestamp(to_utc(local, tz).timestamp()),
                None => PartialDateTime::from_naive_timestamp(local.and_utc().timestamp()),
            }
        });
    }
    for (i, value) in rule.list_of("byDay")?.into_iter().enumerate() {
        let Value::Object(day) = value else {
            return Err(rule.wrong("byDay", "a list of NDay objects", value));
        };
        let nday = Item {
            kind: rule.kind,
            path: format!("{}byDay/{i}/", rule.path),
            map: day,
        };
        let name = nday.text("day")?.unwrap_or_default();
        let weekday = ICalendarWeekday::parse(name.as_bytes())
            .ok_or_else(|| nday.bad("day", &name, "mo, tu, we, th, fr, sa or su"))?;
        let ordwk = nday
            .int("nthOfPeriod")?
            .map(|n| {
                i16::try_from(n).map_err(|_| nday.bad("nthOfPeriod", &n.to_string(), "-53 to 53"))
            })
            .transpose()?;
        parsed.byday.push(ICalendarDay { ordwk, weekday });
    }
    let small = ints;
    let conv = |name: &str, n: i64| rule.bad(name, &n.to_string(), "a number in range");
    parsed.bymonthday = small("byMonthDay")?
        .into_iter()
        .map(|n| i8::try_from(n).map_err(|_| conv("byMonthDay", n)))
        .collect::<Result<_, _>>()?;
    parsed.byyearday = small("byYearDay")?
        .into_iter()
        .map(|n| i16::try_from(n).map_err(|_| conv("byYearDay", n)))
        .collect::<Result<_, _>>()?;
    parsed.byweekno = small("byWeekNo")?
        .into_iter()
        .map(|n| i8::try_from(n).map_err(|_| conv("byWeekNo", n)))
        .collect::<Result<_, _>>()?;
    parsed.byhour = small("byHour")?
        .into_iter()
        .map(|n| u8::try_from(n).map_err(|_| conv("byHour", n)))
        .collect::<Result<_, _>>()?;
    parsed.byminute = small("byMinute")?
        .into_iter()
        .map(|n| u8::try_from(n).map_err(|_| conv("byMinute", n)))
        .collect::<Result<_, _>>()?;
    parsed.bysecond = small("bySecond")?
        .into_iter()
        .map(|n| u8::try_from(n).map_err(|_| conv("bySecond", n)))
        .collect::<Result<_, _>>()?;
    parsed.bysetpos = small("bySetPosition")?
        .into_iter()
        .map(|n| i32::try_from(n).map_err(|_| conv("bySetPosition", n)))
        .collect::<Result<_, _>>()?;
    for month in rule.texts("byMonth")? {
        let (number, leap) = match month.strip_suffix('L') {
            Some(n) => (n, true),
            None => (month.as_str(), false),
        };
        let n: u8 = number
            .parse()
            .ok()
            .filter(|m| (1..=12).contains(m))
            .ok_or_else(|| rule.bad("byMonth", &month, "a month \"1\" to \"12\""))?;
        parsed.bymonth.push(ICalendarMonth::new(n, leap));
    }
    if let Some(first) = rule.text("firstDayOfWeek")? {
        parsed.wkst =
            Some(ICalendarWeekday::parse(first.as_bytes()).ok_or_else(|| {
                rule.bad("firstDayOfWeek", &first, "mo, tu, we, th, fr, sa or su")
            })?);
    }
    Ok(parsed.to_string())
}

/// The record's RRULE → a RecurrenceRule object.
pub(crate) fn rule_to_js(rule: &str, anchor: Anchor) -> Result<Value, NotesMappingError> {
    let refuse = |reason: String| NotesMappingError::BadRecordField {
        kind: "event",
        field: "rrule".into(),
        reason: format!("`{rule}`: {reason}"),
    };
    let parsed = crate::codec::rrule(rule).map_err(refuse)?;
    if parsed.rscale.is_some() || parsed.skip.is_some() {
        return Err(refuse(
            "RSCALE and SKIP are not written to Notes; remove them from the rule".into(),
        ));
    }
    let mut out = Map::new();
    out.insert("@type".into(), json!("RecurrenceRule"));
    out.insert(
        "frequency".into(),
        json!(parsed.freq.as_str().to_ascii_lowercase()),
    );
    if let Some(n) = parsed.interval {
        out.insert("interval".into(), json!(n));
    }
    if let Some(n) = parsed.count.filter(|c| *c > 0) {
        out.insert("count".into(), json!(n));
    }
    if let Some(until) = &parsed.until {
        let result = until
            .to_date_time()
            .ok_or_else(|| refuse("its UNTIL is not a date".into()))?;
        let local = if !until.has_time() {
            // A DATE: the whole day is in the series (the last second of it for a timed one).
            let day = result.date_time.date();
            if anchor.all_day {
                day.and_time(NaiveTime::MIN)
            } else {
                day.and_time(NaiveTime::from_hms_opt(23, 59, 59).unwrap_or(NaiveTime::MIN))
            }
        } else {
            match (result.offset, anchor.zone) {
                (Some(offset), zone) => {
                    let instant = (result.date_time
                        - TimeDelta::seconds(i64::from(offset.local_minus_utc())))
                    .and_utc();
                    match zone {
                        Some(tz) => to_local(instant, tz),
                        None => instant.naive_utc(),
                    }
                }
                (None, _) => result.date_time,
            }
        };
        out.insert("until".into(), json!(local_text(local)));
    }
    if !parsed.byday.is_empty() {
        let days: Vec<Value> = parsed
            .byday
            .iter()
            .map(|d| {
                let mut day = Map::new();
                day.insert("@type".into(), json!("NDay"));
                day.insert("day".into(), json!(d.weekday.as_str().to_ascii_lowercase()));
                if let Some(n) = d.ordwk {
                    day.insert("nthOfPeriod".into(), json!(n));
                }
                Value::Object(day)
            })
            .collect();
        out.insert("byDay".into(), Value::Array(days));
    }
    let mut list = |name: &str, values: Vec<Value>| {
        if !values.is_empty() {
            out.insert(name.into(), Value::Array(values));
        }
    };
    list(
        "byMonthDay",
        parsed.bymonthday.iter().map(|n| json!(n)).collect(),
    );
    list(
        "byMonth",
        parsed
            .bymonth
            .iter()
            .map(|m| {
                json!(format!(
                    "{}{}",
                    m.month(),
                    if m.is_leap() { "L" } else { "" }
                ))
            })
            .collect(),
    );
    list(
        "byYearDay",
        parsed.byyearday.iter().map(|n| json!(n)).collect(),
    );
    list(
        "byWeekNo",
        parsed.byweekno.iter().map(|n| json!(n)).collect(),
    );
    list("byHour", parsed.byhour.iter().map(|n| json!(n)).collect());
    list(
        "byMinute",
        parsed.byminute.iter().map(|n| json!(n)).collect(),
    );
    list(
        "bySecond",
        parsed.bysecond.iter().map(|n| json!(n)).collect(),
    );
    list(
        "bySetPosition",
        parsed.bysetpos.iter().map(|n| json!(n)).collect(),
    );
    if let Some(wkst) = &parsed.wkst {
        out.insert(
            "firstDayOfWeek".into(),
            json!(wkst.as_str().to_ascii_lowercase()),
        );
    }
    Ok(Value::Object(out))
}
