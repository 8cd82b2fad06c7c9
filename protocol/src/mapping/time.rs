//! Salesforce's date and datetime formats, and the conversions all-day and local times need.

use super::error::MappingError;
use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

/// `2024-05-06T10:00:00.000+0000`: what Salesforce returns, and what we send so a value read back
/// compares equal as text too. Salesforce keeps milliseconds as `.000`, so they are dropped.
pub fn salesforce_datetime(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S.000+0000").to_string()
}

/// Parses what Salesforce returns (`+0000`) and what it accepts on input (`Z`, `+hh:mm`,
/// `+hhmm`, with or without fractional seconds).
pub fn parse_salesforce_datetime(s: &str) -> Result<DateTime<Utc>, MappingError> {
    parse_datetime(s).ok_or_else(|| MappingError::BadTemporal {
        object: "Salesforce",
        field: "datetime".into(),
        expected: "datetime",
        format: "yyyy-MM-ddTHH:mm:ss.SSS+0000",
        value: s.to_string(),
    })
}

pub(crate) fn parse_datetime(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    for format in ["%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%dT%H:%M:%S%.f%:z"] {
        if let Ok(t) = DateTime::parse_from_str(s, format) {
            return Some(t.with_timezone(&Utc));
        }
    }
    let naive = s.strip_suffix('Z').or_else(|| s.strip_suffix('z'))?;
    NaiveDateTime::parse_from_str(naive, "%Y-%m-%dT%H:%M:%S%.f")
        .ok()
        .map(|t| Utc.from_utc_datetime(&t))
}

pub(crate) fn parse_date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok()
}

pub(crate) fn salesforce_date(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// Salesforce stores the days of all-day events as midnight UTC, whatever the user's zone.
pub(crate) fn midnight_utc(d: NaiveDate) -> DateTime<Utc> {
    Utc.from_utc_datetime(&d.and_time(NaiveTime::MIN))
}

/// Whole seconds: Salesforce keeps no more, and durations must be computed on what it keeps.
pub(crate) fn whole_seconds(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp(t.timestamp(), 0).unwrap_or(t)
}

/// The first instant of a local day. A day that starts inside a DST gap (a few zones switch at
/// midnight) starts at the first valid instant after it.
pub(crate) fn local_midnight(d: NaiveDate, tz: Tz) -> DateTime<Utc> {
    let mut t = d.and_time(NaiveTime::MIN);
    for _ in 0..4 {
        if let Some(local) = tz.from_local_datetime(&t).earliest() {
            return local.with_timezone(&Utc);
        }
        match t.checked_add_signed(chrono::Duration::minutes(30)) {
            Some(next) => t = next,
            None => break,
        }
    }
    midnight_utc(d)
}

/// A time-zone name Salesforce understands (Java/IANA ids), if the given one is one.
pub(crate) fn iana_zone(name: &str) -> Option<Tz> {
    name.trim().parse::<Tz>().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_salesforce_and_parses_its_input_forms() {
        let t = Utc.with_ymd_and_hms(2024, 5, 6, 10, 0, 0).unwrap();
        assert_eq!(salesforce_datetime(t), "2024-05-06T10:00:00.000+0000");
        for s in [
            "2024-05-06T10:00:00.000+0000",
            "2024-05-06T10:00:00Z",
            "2024-05-06T12:00:00+02:00",
            "2024-05-06T12:00:00.000+0200",
            "2024-05-06T10:00:00.123Z",
        ] {
            assert_eq!(
                whole_seconds(parse_salesforce_datetime(s).unwrap()),
                t,
                "{s}"
            );
        }
        for bad in ["", "2024-05-06", "yesterday", "2024-13-06T10:00:00Z"] {
            let err = parse_salesforce_datetime(bad).unwrap_err().to_string();
            assert!(err.contains(&format!("`{bad}`")), "{err}");
        }
    }

    #[test]
    fn local_midnight_respects_the_zone() {
        let berlin: Tz = "Europe/Berlin".parse().unwrap();
        let d = NaiveDate::from_ymd_opt(2024, 3, 31).unwrap();
        assert_eq!(
            salesforce_datetime(local_midnight(d, berlin)),
            "2024-03-30T23:00:00.000+0000"
        );
        // Santiago springs forward at midnight: the day starts at 01:00 local.
        let santiago: Tz = "America/Santiago".parse().unwrap();
        let d = NaiveDate::from_ymd_opt(2024, 9, 8).unwrap();
        assert_eq!(
            salesforce_datetime(local_midnight(d, santiago)),
            "2024-09-08T04:00:00.000+0000"
        );
    }
}
