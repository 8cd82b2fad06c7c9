//! The emulator's notion of "now": injectable and advanceable so tests can expire tokens and cross replication windows without sleeping.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, Duration, TimeZone, Utc};

/// A source of the current time. The emulator never calls `Utc::now()` directly.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

/// Wall-clock time.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock frozen at one instant (moved only through [`ShiftedClock::advance`]); makes tests reproducible.
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub DateTime<Utc>);

impl FixedClock {
    /// A fixed clock at the given UTC calendar time; falls back to the Unix epoch for impossible dates.
    pub fn at(year: i32, month: u32, day: u32, hour: u32, minute: u32, second: u32) -> Self {
        let t = Utc
            .with_ymd_and_hms(year, month, day, hour, minute, second)
            .single()
            .unwrap_or(DateTime::<Utc>::UNIX_EPOCH);
        FixedClock(t)
    }
}

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        self.0
    }
}

impl<F> Clock for F
where
    F: Fn() -> DateTime<Utc> + Send + Sync,
{
    fn now(&self) -> DateTime<Utc> {
        self()
    }
}

const MAX_SHIFT_MS: i64 = 1000 * 366 * 86_400 * 1000;

/// Wraps the configured clock with an offset that `advance` grows, so any base clock can be moved forward.
pub struct ShiftedClock {
    base: Arc<dyn Clock>,
    offset_ms: AtomicI64,
}

impl ShiftedClock {
    pub fn new(base: Arc<dyn Clock>) -> Self {
        ShiftedClock {
            base,
            offset_ms: AtomicI64::new(0),
        }
    }

    /// Moves the clock forward; the total shift is capped at about a thousand years.
    pub fn advance(&self, by: Duration) {
        let add = by.num_milliseconds().clamp(0, MAX_SHIFT_MS);
        let _ = self
            .offset_ms
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |o| {
                Some(o.saturating_add(add).min(MAX_SHIFT_MS))
            });
    }

    /// Now, truncated to whole seconds: Salesforce stores timestamps with second precision (`.000`).
    pub fn now(&self) -> DateTime<Utc> {
        let base = self.base.now();
        let t = base
            .checked_add_signed(Duration::milliseconds(
                self.offset_ms.load(Ordering::SeqCst),
            ))
            .unwrap_or(base);
        DateTime::from_timestamp(t.timestamp(), 0).unwrap_or(t)
    }
}

/// Salesforce's REST datetime format: `2024-05-06T10:00:00.000+0000`.
pub fn format_datetime(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3f+0000").to_string()
}

/// Parses the datetime spellings Salesforce accepts on input: `Z`, `+hh:mm`, `+hhmm`, with or without millis.
pub fn parse_datetime(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%dT%H:%M:%S%z"] {
        if let Ok(t) = DateTime::parse_from_str(s, fmt) {
            return Some(t.with_timezone(&Utc));
        }
    }
    None
}

/// HTTP-date (`Thu, 08 Sep 2022 15:54:11 GMT`) as used by Last-Modified / If-*-Since.
pub fn format_http_date(t: DateTime<Utc>) -> String {
    // HTTP-dates start at the epoch; an emulator clock set before it says the epoch.
    httpdate::fmt_http_date(t.max(DateTime::UNIX_EPOCH).into())
}

pub fn parse_http_date(s: &str) -> Option<DateTime<Utc>> {
    httpdate::parse_http_date(s.trim())
        .ok()
        .map(DateTime::<Utc>::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datetime_round_trips_in_salesforce_format() {
        let t = parse_datetime("2024-05-06T12:00:00+02:00").expect("parse");
        assert_eq!(format_datetime(t), "2024-05-06T10:00:00.000+0000");
        let t2 = parse_datetime("2024-05-06T10:00:00.000+0000").expect("parse");
        assert_eq!(t, t2);
        assert!(parse_datetime("2024-05-06").is_none());
        assert!(parse_datetime("yesterday").is_none());
    }

    #[test]
    fn shifted_clock_advances() {
        let c = ShiftedClock::new(Arc::new(FixedClock::at(2024, 1, 1, 0, 0, 0)));
        c.advance(Duration::days(16));
        assert_eq!(format_datetime(c.now()), "2024-01-17T00:00:00.000+0000");
    }

    #[test]
    fn http_dates() {
        let t = parse_http_date("Thu, 08 Sep 2022 15:54:11 GMT").expect("parse");
        assert_eq!(format_http_date(t), "Thu, 08 Sep 2022 15:54:11 GMT");
    }
}
