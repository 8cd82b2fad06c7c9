//! Notes date values: JSCalendar LocalDateTimes and Durations of calendar entries, and the
//! date-time items of documents (`DueDateTime`, `CompletedDateTime`, `Birthday`).
//!
//! A day a document keeps (a to-do's due or start date, a birthday) is read as the date part
//! of the value as written, never as the UTC date of the instant: `2026-12-01T17:00:00Z` and
//! `2026-12-01T12:00:00+09:00` are both due on the 1st wherever the user is. A day goes out at
//! noon in the user's zone, with its offset, so a server that normalizes to UTC keeps the date
//! too for every zone from UTC−11 to UTC+11.

use calcard::common::IanaParse;
use calcard::icalendar::ICalendarDuration;
use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, SecondsFormat, TimeDelta, Utc};
use chrono_tz::Tz;

pub(crate) use crate::graph::{to_local, to_utc};

/// A JSCalendar LocalDateTime: `2026-12-10T09:00:00`, no offset (fractions tolerated).
pub(crate) fn parse_local(text: &str) -> Option<NaiveDateTime> {
    NaiveDateTime::parse_from_str(text.trim(), "%Y-%m-%dT%H:%M:%S%.f").ok()
}

pub(crate) fn local_text(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%dT%H:%M:%S").to_string()
}

/// The date part of a date or date-time value as written.
pub(crate) fn day_part(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text.trim().get(..10)?, "%Y-%m-%d").ok()
}

/// A day as a document keeps it: noon that day in the user's zone, with the offset.
pub(crate) fn day_value(day: NaiveDate, zone: Tz) -> String {
    let noon = day.and_time(NaiveTime::from_hms_opt(12, 0, 0).unwrap_or(NaiveTime::MIN));
    to_utc(noon, zone)
        .with_timezone(&zone)
        .to_rfc3339_opts(SecondsFormat::Secs, false)
}

/// A date-time item with an offset or `Z` (`2020-06-12T12:01:00.000-04:00`).
pub(crate) fn parse_instant(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text.trim())
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

pub(crate) fn instant_text(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// A JSCalendar Duration (RFC 8984 §1.4.6, the iCalendar DURATION grammar), read by calcard.
pub(crate) fn parse_duration(text: &str) -> Option<ICalendarDuration> {
    ICalendarDuration::parse(text.trim().as_bytes())
}

/// An exact length of time as a Duration of hours, minutes and seconds only: days in a
/// Duration are nominal (a day across a DST change is 23 or 25 hours), a timed entry's length
/// is not.
pub(crate) fn exact_duration(length: TimeDelta) -> String {
    let seconds = length.num_seconds();
    let abs = seconds.unsigned_abs();
    let part = |n: u64| u32::try_from(n).unwrap_or(u32::MAX);
    ICalendarDuration {
        neg: seconds < 0,
        weeks: 0,
        days: 0,
        hours: part(abs / 3600),
        minutes: part(abs % 3600 / 60),
        seconds: part(abs % 60),
    }
    .to_string()
}

/// The end of an entry that starts at `start` (local, in `tz`) and lasts `duration`: the days
/// added to the wall-clock time, then the hours, minutes and seconds as elapsed time (RFC 8984
/// §5.1.2 "the greatest order components first", as iCalendar's DURATION).
pub(crate) fn end_of(
    start: NaiveDateTime,
    tz: Option<Tz>,
    duration: &ICalendarDuration,
) -> Option<DateTime<Utc>> {
    let days = i64::from(duration.weeks) * 7 + i64::from(duration.days);
    let exact = i64::from(duration.hours) * 3600
        + i64::from(duration.minutes) * 60
        + i64::from(duration.seconds);
    let sign = if duration.neg { -1 } else { 1 };
    // A duration that ends beyond the calendar (`PT11111111111H`) has no end: None.
    let local = start.checked_add_signed(TimeDelta::try_days(sign * days)?)?;
    let at = match tz {
        Some(tz) => to_utc(local, tz),
        None => local.and_utc(),
    };
    at.checked_add_signed(TimeDelta::try_seconds(sign * exact)?)
}
