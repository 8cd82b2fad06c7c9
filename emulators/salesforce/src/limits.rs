//! The org's rolling 24-hour API request allocation, the `Sforce-Limit-Info` header and the `/limits` resource.

use std::collections::VecDeque;

use chrono::{DateTime, Duration, Utc};

use super::errors::ApiError;
use super::value::Doc;

/// Counts API calls in a rolling 24-hour window, like the org-wide daily allocation.
#[derive(Debug)]
pub struct ApiUsage {
    pub max: u64,
    calls: VecDeque<DateTime<Utc>>,
}

/// Usage after counting a call: (used, max).
pub type Usage = (u64, u64);

impl ApiUsage {
    pub fn new(max: u64) -> Self {
        ApiUsage {
            max,
            calls: VecDeque::new(),
        }
    }

    fn prune(&mut self, now: DateTime<Utc>) {
        let cutoff = now - Duration::hours(24);
        while self.calls.front().is_some_and(|t| *t <= cutoff) {
            self.calls.pop_front();
        }
    }

    pub fn used(&mut self, now: DateTime<Utc>) -> Usage {
        self.prune(now);
        (self.calls.len() as u64, self.max)
    }

    /// Counts one call, or refuses it with 403 REQUEST_LIMIT_EXCEEDED when the allocation is used up
    /// (or `exhausted` is forced by fault injection). Refused calls are not counted.
    pub fn count(
        &mut self,
        now: DateTime<Utc>,
        exhausted: bool,
    ) -> Result<Usage, (ApiError, Usage)> {
        self.prune(now);
        if exhausted || self.calls.len() as u64 >= self.max {
            let used = if exhausted {
                self.max
            } else {
                self.calls.len() as u64
            };
            return Err((ApiError::daily_limit(), (used, self.max)));
        }
        self.calls.push_back(now);
        Ok((self.calls.len() as u64, self.max))
    }

    pub fn reset(&mut self) {
        self.calls.clear();
    }
}

pub fn header_value((used, max): Usage) -> String {
    format!("api-usage={used}/{max}")
}

fn entry(max: u64, remaining: u64) -> Doc {
    Doc::object().with("Max", max).with("Remaining", remaining)
}

/// `GET /limits/`: DailyApiRequests reflects the real counter (this call included); the rest are plausible constants.
pub fn limits_doc((used, max): Usage) -> Doc {
    Doc::object()
        .with("ConcurrentAsyncGetReportInstances", entry(200, 200))
        .with("ConcurrentSyncReportRuns", entry(20, 20))
        .with("DailyApiRequests", entry(max, max.saturating_sub(used)))
        .with("DailyAsyncApexExecutions", entry(250_000, 250_000))
        .with("DailyBulkApiBatches", entry(15_000, 15_000))
        .with("DailyBulkV2QueryJobs", entry(10_000, 10_000))
        .with("DailyDeliveredPlatformEvents", entry(10_000, 10_000))
        .with("DataStorageMB", entry(5, 5))
        .with("FileStorageMB", entry(20, 20))
        .with("HourlyTimeBasedWorkflow", entry(50, 50))
        .with("SingleEmail", entry(15, 15))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn rolling_window_and_refusal() {
        let t0 = Utc
            .with_ymd_and_hms(2024, 1, 1, 0, 0, 0)
            .single()
            .expect("t");
        let mut u = ApiUsage::new(2);
        assert_eq!(u.count(t0, false).ok(), Some((1, 2)));
        assert_eq!(u.count(t0, false).ok(), Some((2, 2)));
        let (e, usage) = u.count(t0, false).expect_err("limit");
        assert_eq!(e.status, 403);
        assert_eq!(usage, (2, 2));
        assert_eq!(u.count(t0 + Duration::hours(25), false).ok(), Some((1, 2)));
        assert!(u.count(t0 + Duration::hours(25), true).is_err());
    }
}
