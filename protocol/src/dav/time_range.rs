//! `CALDAV:time-range` and friends: iCalendar UTC date-times (`20240131T080000Z`) as epoch seconds.

use std::fmt;

use super::value::XmlElement;

/// A UTC instant with second precision, stored as seconds since 1970-01-01T00:00:00Z.
///
/// Own type instead of a date library: the XML layer only needs parse, compare and print, and
/// staying dependency-free keeps the sans-IO crate small. Convert with `timestamp()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UtcDateTime(i64);

impl UtcDateTime {
    pub const fn from_timestamp(secs: i64) -> Self {
        Self(secs)
    }

    pub const fn timestamp(self) -> i64 {
        self.0
    }

    /// Parses `YYYYMMDDTHHMMSSZ` (RFC 5545 "date with UTC time").
    ///
    /// Lenient where it costs nothing: a lowercase `t`/`z`, a missing trailing `Z` (treated as
    /// UTC, as the RFC only allows UTC here), and a bare `YYYYMMDD` date (midnight UTC).
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = super::reader::trim_xml(s);
        let b = s.as_bytes();
        let bad = || format!("`{s}` is not an iCalendar UTC date-time like 20240131T080000Z");
        let digits = |range: std::ops::Range<usize>| -> Result<i64, String> {
            let part = b.get(range).ok_or_else(bad)?;
            if part.is_empty() || !part.iter().all(u8::is_ascii_digit) {
                return Err(bad());
            }
            Ok(part
                .iter()
                .fold(0i64, |acc, d| acc * 10 + i64::from(d - b'0')))
        };
        let (year, month, day) = (digits(0..4)?, digits(4..6)?, digits(6..8)?);
        let (hour, minute, second) = match b.len() {
            8 => (0, 0, 0),
            15 | 16 => {
                if !matches!(b[8], b'T' | b't') || (b.len() == 16 && !matches!(b[15], b'Z' | b'z'))
                {
                    return Err(bad());
                }
                (digits(9..11)?, digits(11..13)?, digits(13..15)?)
            }
            _ => return Err(bad()),
        };
        if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
            return Err(format!("`{s}` is not a valid calendar date"));
        }
        // 60 allows a leap second; it simply rolls into the next minute.
        if hour > 23 || minute > 59 || second > 60 {
            return Err(format!("`{s}` is not a valid time of day"));
        }
        let days = days_from_civil(year, month, day);
        Ok(Self(days * 86_400 + hour * 3_600 + minute * 60 + second))
    }

    /// `(year, month, day, hour, minute, second)`.
    pub fn to_parts(self) -> (i64, i64, i64, i64, i64, i64) {
        let days = self.0.div_euclid(86_400);
        let secs = self.0.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        (y, m, d, secs / 3_600, secs % 3_600 / 60, secs % 60)
    }
}

/// Prints in the same `YYYYMMDDTHHMMSSZ` form it parses.
impl fmt::Display for UtcDateTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, mo, d, h, mi, s) = self.to_parts();
        write!(f, "{y:04}{mo:02}{d:02}T{h:02}{mi:02}{s:02}Z")
    }
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(y) => 29,
        2 => 28,
        _ => 0,
    }
}

/// Days since 1970-01-01 for a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (
        if m <= 2 {
            yoe + era * 400 + 1
        } else {
            yoe + era * 400
        },
        m,
        d,
    )
}

/// A half-open interval `[start, end)`; a missing bound is -∞ / +∞ (RFC 4791 §9.9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TimeRange {
    pub start: Option<UtcDateTime>,
    pub end: Option<UtcDateTime>,
}

impl TimeRange {
    /// Reads `start`/`end` attributes. `both_required` is for `expand`, `limit-recurrence-set`
    /// and `limit-freebusy-set`, where RFC 4791 §9.6 requires both.
    pub(super) fn from_element(el: &XmlElement, both_required: bool) -> Result<Self, String> {
        let parse = |attr: &str| -> Result<Option<UtcDateTime>, String> {
            el.attr(attr)
                .map(|v| {
                    UtcDateTime::parse(v)
                        .map_err(|m| format!("{} attribute {attr}: {m}", el.name.local))
                })
                .transpose()
        };
        let range = Self {
            start: parse("start")?,
            end: parse("end")?,
        };
        match (range.start, range.end) {
            (None, None) => Err(format!(
                "<{}> needs a start or an end attribute",
                el.name.local
            )),
            (Some(_), None) | (None, Some(_)) if both_required => Err(format!(
                "<{}> needs both start and end attributes",
                el.name.local
            )),
            (Some(s), Some(e)) if e <= s => Err(format!(
                "<{}> end ({e}) must be later than start ({s})",
                el.name.local
            )),
            _ => Ok(range),
        }
    }

    /// True when the instant lies inside the range.
    pub fn contains(&self, t: UtcDateTime) -> bool {
        self.start.is_none_or(|s| t >= s) && self.end.is_none_or(|e| t < e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_utc_date_times() {
        assert_eq!(
            UtcDateTime::parse("19700101T000000Z").unwrap().timestamp(),
            0
        );
        assert_eq!(
            UtcDateTime::parse("20240229T123456Z").unwrap().timestamp(),
            1_709_210_096
        );
        assert_eq!(
            UtcDateTime::parse("20240229t123456z").unwrap().timestamp(),
            1_709_210_096
        );
        assert_eq!(
            UtcDateTime::parse("20240229T123456").unwrap().timestamp(),
            1_709_210_096
        );
        assert_eq!(
            UtcDateTime::parse("20240229").unwrap().timestamp(),
            1_709_164_800
        );
        assert_eq!(
            UtcDateTime::parse("19691231T235959Z").unwrap().timestamp(),
            -1
        );
        assert_eq!(
            UtcDateTime::parse("20240229T123456Z").unwrap().to_string(),
            "20240229T123456Z"
        );
    }

    #[test]
    fn rejects_malformed_date_times() {
        for bad in [
            "",
            "2024",
            "20230229T000000Z",
            "20241301T000000Z",
            "20240101T240000Z",
            "20240101 000000Z",
            "2024-01-01T00:00:00Z",
            "20240101T000000ZZ",
            "+2024010T000000Z",
            "２０２４0101T000000Z",
        ] {
            assert!(UtcDateTime::parse(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn round_trips_through_display() {
        for t in [
            -62_135_596_800i64,
            -1,
            0,
            951_782_400,
            4_102_444_799,
            253_402_300_799,
        ] {
            let dt = UtcDateTime::from_timestamp(t);
            assert_eq!(UtcDateTime::parse(&dt.to_string()).unwrap(), dt);
        }
    }
}
