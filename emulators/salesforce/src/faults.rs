//! Fault injection per emulator: latency, seeded shares of 503/502/dropped connections and
//! UNABLE_TO_LOCK_ROW, a forced daily-limit exhaustion, and a one-shot queue of faults for exact tests.

use std::collections::VecDeque;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use super::errors::ApiError;

/// Standing fault settings. Rates are probabilities in 0..=1, drawn from a seeded RNG so a test run is reproducible.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct FaultSettings {
    /// Added before every Salesforce API response.
    pub latency_ms: u64,
    /// Share of API requests answered 503 Service Unavailable.
    pub unavailable_rate: f64,
    /// Share of API requests answered 502 with an HTML body (a proxy in the way).
    pub bad_gateway_rate: f64,
    /// Share of API requests whose connection drops mid-response (after the request was processed).
    pub drop_connection_rate: f64,
    /// Share of data writes that fail with UNABLE_TO_LOCK_ROW (nothing is written).
    pub lock_row_rate: f64,
    /// Every data call gets 403 REQUEST_LIMIT_EXCEEDED until switched off.
    pub daily_limit_exhausted: bool,
}

/// One injected failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum FaultKind {
    /// 503 Service Unavailable.
    Unavailable,
    /// 502 Bad Gateway with an HTML body.
    BadGateway,
    /// 500 UNKNOWN_EXCEPTION.
    ServerError,
    /// 403 REQUEST_LIMIT_EXCEEDED "ConcurrentRequests ..." (transient).
    ConcurrentLimit,
    /// 403 REQUEST_LIMIT_EXCEEDED "TotalRequests Limit exceeded." for this one call.
    DailyLimit,
    /// 401 INVALID_SESSION_ID for this one call (the token itself stays valid).
    InvalidSession,
    /// The next write fails with UNABLE_TO_LOCK_ROW (reads pass this entry by).
    UnableToLockRow,
    /// The response is cut off mid-body and the connection closed.
    DropConnection,
}

impl FaultKind {
    /// Faults answered at the edge, before authentication and without touching the org.
    pub fn edge_reply(self) -> Option<(u16, &'static str, Vec<u8>)> {
        let json = |e: ApiError| e.body().to_bytes();
        match self {
            FaultKind::Unavailable => Some((
                503,
                "application/json",
                json(ApiError::new(503, "SERVER_UNAVAILABLE", "Server temporarily unavailable. Please try again later.")),
            )),
            FaultKind::BadGateway => Some((
                502,
                "text/html",
                b"<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>".to_vec(),
            )),
            FaultKind::ServerError => Some((
                500,
                "application/json",
                json(ApiError::new(
                    500,
                    "UNKNOWN_EXCEPTION",
                    "An unexpected error occurred. Please include this ErrorId if you contact support: 1234567890-12345 (-1234567890)",
                )),
            )),
            FaultKind::ConcurrentLimit => Some((
                403,
                "application/json",
                json(ApiError::new(
                    403,
                    "REQUEST_LIMIT_EXCEEDED",
                    "ConcurrentRequests (Concurrent API Requests) Limit exceeded.",
                )),
            )),
            _ => None,
        }
    }
}

pub fn lock_row_error(ids: &[&str]) -> ApiError {
    ApiError::bad_request(
        "UNABLE_TO_LOCK_ROW",
        format!(
            "unable to obtain exclusive access to this record or {} records: {}",
            ids.len().max(1),
            ids.join(",")
        ),
    )
    .with_fields(&[])
}

#[derive(Debug)]
pub struct Faults {
    pub settings: FaultSettings,
    queue: VecDeque<FaultKind>,
    rng: StdRng,
    seed: u64,
}

impl Faults {
    pub fn new(seed: u64) -> Self {
        Faults {
            settings: FaultSettings::default(),
            queue: VecDeque::new(),
            rng: StdRng::seed_from_u64(seed),
            seed,
        }
    }

    pub fn reseed(&mut self, seed: u64) {
        self.seed = seed;
        self.rng = StdRng::seed_from_u64(seed);
    }

    pub fn seed(&self) -> u64 {
        self.seed
    }

    pub fn enqueue(&mut self, kind: FaultKind, count: usize) {
        let room = 100_000usize.saturating_sub(self.queue.len());
        self.queue
            .extend(std::iter::repeat_n(kind, count.min(room)));
    }

    pub fn clear_queue(&mut self) {
        self.queue.clear();
    }

    pub fn queued(&self) -> Vec<FaultKind> {
        self.queue.iter().copied().collect()
    }

    /// The fault for one API request, if any: the queue first (FIFO), then the seeded shares.
    /// One draw per request (plus one per data write) keeps sequences reproducible for a given seed.
    pub fn draw(&mut self, is_write: bool) -> Option<FaultKind> {
        if let Some(&front) = self.queue.front()
            && (front != FaultKind::UnableToLockRow || is_write)
        {
            self.queue.pop_front();
            return Some(front);
        }
        let s = &self.settings;
        let (unavailable, bad_gateway, drop) = (
            s.unavailable_rate,
            s.bad_gateway_rate,
            s.drop_connection_rate,
        );
        let lock_row = s.lock_row_rate;
        let u: f64 = self.rng.random();
        let fault = if u < unavailable {
            Some(FaultKind::Unavailable)
        } else if u < unavailable + bad_gateway {
            Some(FaultKind::BadGateway)
        } else if u < unavailable + bad_gateway + drop {
            Some(FaultKind::DropConnection)
        } else {
            None
        };
        if fault.is_some() {
            return fault;
        }
        if is_write {
            let w: f64 = self.rng.random();
            if w < lock_row {
                return Some(FaultKind::UnableToLockRow);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_is_fifo_and_lock_row_waits_for_a_write() {
        let mut f = Faults::new(1);
        f.enqueue(FaultKind::UnableToLockRow, 1);
        f.enqueue(FaultKind::Unavailable, 1);
        assert_eq!(f.draw(false), None);
        assert_eq!(f.draw(true), Some(FaultKind::UnableToLockRow));
        assert_eq!(f.draw(false), Some(FaultKind::Unavailable));
        assert_eq!(f.draw(false), None);
    }

    #[test]
    fn rates_are_reproducible_per_seed() {
        let run = |seed| {
            let mut f = Faults::new(seed);
            f.settings.unavailable_rate = 0.3;
            (0..200)
                .map(|_| f.draw(false).is_some())
                .collect::<Vec<_>>()
        };
        assert_eq!(run(7), run(7));
        assert_ne!(run(7), run(8));
        let hits = run(7).iter().filter(|x| **x).count();
        assert!((30..90).contains(&hits), "{hits}");
    }
}
