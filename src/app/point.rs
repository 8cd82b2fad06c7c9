//! A point in the log as a person names it: `#42` or `42` (a log position), or a time
//! (`2026-11-21T10:00:00Z`, `2026-11-21 10:00`, `2026-11-21`, taken as UTC).

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use std::str::FromStr;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Point {
    Seq(u64),
    Time(DateTime<Utc>),
}

/// Text that names no point of the log.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{0}` is neither a log position (#42) nor a time (2026-11-21T10:00:00Z, 2026-11-21 10:00, 2026-11-21)"
)]
pub struct NotAPoint(String);

impl FromStr for Point {
    type Err = NotAPoint;
    fn from_str(s: &str) -> Result<Point, NotAPoint> {
        let s = s.trim();
        if let Some(n) = s
            .strip_prefix('#')
            .or(Some(s))
            .and_then(|n| n.parse::<u64>().ok())
        {
            return Ok(Point::Seq(n));
        }
        if let Ok(t) = DateTime::parse_from_rfc3339(s) {
            return Ok(Point::Time(t.with_timezone(&Utc)));
        }
        for format in [
            "%Y-%m-%d %H:%M:%S",
            "%Y-%m-%d %H:%M",
            "%Y-%m-%dT%H:%M:%S",
            "%Y-%m-%dT%H:%M",
        ] {
            if let Ok(t) = NaiveDateTime::parse_from_str(s, format) {
                return Ok(Point::Time(t.and_utc()));
            }
        }
        if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
            return Ok(Point::Time(
                d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc(),
            ));
        }
        Err(NotAPoint(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_and_times() {
        assert_eq!("#42".parse::<Point>().unwrap(), Point::Seq(42));
        assert_eq!("7".parse::<Point>().unwrap(), Point::Seq(7));
        let t = "2026-11-21T10:00:00+01:00".parse::<Point>().unwrap();
        assert_eq!(t, Point::Time("2026-11-21T09:00:00Z".parse().unwrap()));
        let d = "2026-11-21".parse::<Point>().unwrap();
        assert_eq!(d, Point::Time("2026-11-21T00:00:00Z".parse().unwrap()));
        assert!("2026-11-21 10:00".parse::<Point>().is_ok());
    }

    #[test]
    fn nonsense_is_an_error_that_shows_the_accepted_forms() {
        let err = "yesterday-ish".parse::<Point>().unwrap_err().to_string();
        assert!(err.contains("#42") && err.contains("2026-11-21"), "{err}");
        assert!("#-3".parse::<Point>().is_err());
    }
}
