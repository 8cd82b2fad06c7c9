//! Time zones as Notes names them: IANA names, and Notes' own zone strings.
//!
//! Domino reads a calendar entry's zone back in Notes notation even when it was written as an
//! IANA name: `Z=5$DO=1$DL=3 2 1 11 1 1$ZX=40$ZN=Eastern`. `Z` is the standard offset in hours
//! WEST of UTC (negative east of it, possibly fractional: `Z=-5.5`); `DO=1` says daylight
//! saving time is observed, by the rule `DL=<start month> <week> <weekday> <end month> <week>
//! <weekday>` (week `-1` is the last, weekday 1 is Sunday); `ZN` names the zone like Windows
//! does without " Standard Time". Such a string becomes an IANA zone: its `ZN` through the
//! Windows table (calcard's, the one the codec uses) when that zone has the same standard
//! offset; else a zone that keeps the same standard offset and the same DST rule; else, when
//! no DST is observed, the fixed `Etc/GMT±N` zone.

use calcard::common::timezone::Tz as AnyTz;
use chrono::{Datelike, Duration, NaiveDate, Offset, TimeZone, Weekday};
use chrono_tz::Tz;
use std::str::FromStr;

/// The zone `name` means: an IANA name, a Notes zone string, or a Windows name.
pub fn zone(name: &str) -> Option<Tz> {
    let name = name.trim();
    if name.starts_with("Z=") {
        return NotesZone::parse(name)?.resolve();
    }
    if let Ok(tz) = name.parse::<Tz>() {
        return Some(tz);
    }
    match AnyTz::from_str(name).ok()? {
        AnyTz::Tz(tz) => Some(tz),
        _ => None,
    }
}

/// Zones tried first for a rule, so a common zone is picked over an obscure one with the same
/// offsets (the scan of every zone below would otherwise pick the first by name).
const PREFERRED: &[&str] = &[
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Phoenix",
    "America/Los_Angeles",
    "America/Anchorage",
    "Pacific/Honolulu",
    "America/Halifax",
    "America/St_Johns",
    "America/Sao_Paulo",
    "Atlantic/Azores",
    "Europe/London",
    "Europe/Berlin",
    "Europe/Athens",
    "Europe/Moscow",
    "Asia/Dubai",
    "Asia/Karachi",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Asia/Dhaka",
    "Asia/Bangkok",
    "Asia/Shanghai",
    "Asia/Tokyo",
    "Australia/Brisbane",
    "Australia/Sydney",
    "Pacific/Auckland",
];

/// A parsed Notes zone string.
#[derive(Clone, Debug, PartialEq)]
struct NotesZone {
    /// Standard offset east of UTC, in seconds (Notes writes hours west).
    standard: i32,
    dst: Option<DstRule>,
    name: Option<String>,
}

/// When DST starts and ends: (month, week, weekday) twice.
#[derive(Clone, Copy, Debug, PartialEq)]
struct DstRule {
    start: (u32, i32, u32),
    end: (u32, i32, u32),
}

impl NotesZone {
    fn parse(text: &str) -> Option<NotesZone> {
        let mut hours_west: Option<f64> = None;
        let mut observed = false;
        let mut rule = None;
        let mut name = None;
        for part in text.split('$') {
            let (key, value) = part.split_once('=')?;
            match key.trim().to_ascii_uppercase().as_str() {
                // Offsets on Earth lie within 14 hours of UTC; anything else names no zone
                // (and would overflow the arithmetic below).
                "Z" => {
                    hours_west = value
                        .trim()
                        .parse::<f64>()
                        .ok()
                        .filter(|h| h.is_finite() && h.abs() <= 14.0)
                }
                "DO" => observed = value.trim() == "1",
                "DL" => {
                    let n: Vec<i32> = value
                        .split_whitespace()
                        .map(|v| v.parse().ok())
                        .collect::<Option<_>>()?;
                    if let [sm, sw, sd, em, ew, ed] = n[..] {
                        let month = |m: i32| u32::try_from(m).ok().filter(|m| (1..=12).contains(m));
                        let day = |d: i32| u32::try_from(d).ok().filter(|d| (1..=7).contains(d));
                        rule = Some(DstRule {
                            start: (month(sm)?, sw, day(sd)?),
                            end: (month(em)?, ew, day(ed)?),
                        });
                    }
                }
                "ZN" => name = Some(value.trim().to_string()).filter(|n| !n.is_empty()),
                _ => {}
            }
        }
        let standard = (-hours_west? * 3600.0).round() as i32;
        Some(NotesZone {
            standard,
            dst: if observed { rule } else { None },
            name,
        })
    }

    fn resolve(&self) -> Option<Tz> {
        let named = self.name.as_deref().and_then(|n| {
            [format!("{n} Standard Time"), n.to_string()]
                .iter()
                .find_map(|candidate| match AnyTz::from_str(candidate) {
                    Ok(AnyTz::Tz(tz)) => Some(tz),
                    _ => None,
                })
        });
        // The name wins when it agrees on the standard offset: the DST rule Notes writes for a
        // zone is its current one, which the IANA zone knows better.
        if let Some(tz) = named.filter(|tz| standard_offset(*tz) == self.standard) {
            return Some(tz);
        }
        let preferred = PREFERRED.iter().filter_map(|n| n.parse::<Tz>().ok());
        let all = chrono_tz::TZ_VARIANTS
            .iter()
            .copied()
            .filter(|tz| tz.name().contains('/') && !tz.name().starts_with("Etc/"));
        if let Some(tz) = preferred.chain(all).find(|tz| self.matches(*tz)) {
            return Some(tz);
        }
        if self.dst.is_none() && self.standard % 3600 == 0 {
            let hours = -self.standard / 3600;
            if hours == 0 {
                return Some(Tz::UTC);
            }
            // POSIX sign: Etc/GMT+5 is five hours WEST of Greenwich, as Notes' Z=5.
            return format!("Etc/GMT{hours:+}").parse().ok();
        }
        None
    }

    /// Whether `tz` keeps this standard offset and DST rule, checked on the days around each
    /// change in a few years (and mid-winter and mid-summer when no DST is observed).
    fn matches(&self, tz: Tz) -> bool {
        let at = |day: NaiveDate| -> Option<i32> {
            let noon = day.and_hms_opt(12, 0, 0)?.and_utc();
            Some(
                tz.offset_from_utc_datetime(&noon.naive_utc())
                    .fix()
                    .local_minus_utc(),
            )
        };
        let standard = Some(self.standard);
        let summer = Some(self.standard + 3600);
        (2024..=2027).all(|year| match self.dst {
            None => [(1, 15), (4, 15), (7, 15), (10, 15)]
                .iter()
                .all(|(m, d)| NaiveDate::from_ymd_opt(year, *m, *d).and_then(at) == standard),
            Some(rule) => {
                let (Some(start), Some(end)) = (nth(year, rule.start), nth(year, rule.end)) else {
                    return false;
                };
                let one = Duration::days(1);
                at(start - one) == standard
                    && at(start + one) == summer
                    && at(end - one) == summer
                    && at(end + one) == standard
            }
        })
    }
}

/// The standard (winter) offset of a zone: the smaller of its January and July offsets.
fn standard_offset(tz: Tz) -> i32 {
    [1, 7]
        .iter()
        .filter_map(|m| NaiveDate::from_ymd_opt(2026, *m, 1)?.and_hms_opt(12, 0, 0))
        .map(|t| tz.offset_from_utc_datetime(&t).fix().local_minus_utc())
        .min()
        .unwrap_or(0)
}

/// The `week`th `weekday` (1 = Sunday) of `month` in `year`; week -1 (or 5) is the last.
fn nth(year: i32, (month, week, weekday): (u32, i32, u32)) -> Option<NaiveDate> {
    let weekday = Weekday::try_from(u8::try_from((weekday + 5) % 7).ok()?).ok()?;
    let last = !(0..5).contains(&week);
    if last {
        let next = if month == 12 {
            NaiveDate::from_ymd_opt(year + 1, 1, 1)?
        } else {
            NaiveDate::from_ymd_opt(year, month + 1, 1)?
        };
        let mut day = next.pred_opt()?;
        while day.weekday() != weekday {
            day = day.pred_opt()?;
        }
        return Some(day);
    }
    NaiveDate::from_weekday_of_month_opt(year, month, weekday, u8::try_from(week).ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_weekday_one_is_sunday() {
        // The second Sunday of March 2026 (US DST starts), the last Sunday of October (EU ends).
        assert_eq!(nth(2026, (3, 2, 1)), NaiveDate::from_ymd_opt(2026, 3, 8));
        assert_eq!(
            nth(2026, (10, -1, 1)),
            NaiveDate::from_ymd_opt(2026, 10, 25)
        );
        assert_eq!(nth(2026, (11, 1, 1)), NaiveDate::from_ymd_opt(2026, 11, 1));
    }
}
