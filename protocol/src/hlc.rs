//! Hybrid logical clock: timestamps that follow wall-clock time yet never go backwards, so the
//! log has one total order that stays close to the time a person would read on a clock.
//!
//! A timestamp packs milliseconds since the Unix epoch (upper 48 bits) and a counter (lower 16
//! bits) into one `u64`: it sorts as a number, keys the log's time index, and is unique among
//! the events one store issues, which is why it also serves as the event id.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Hlc(pub u64);

const COUNTER_BITS: u32 = 16;
const COUNTER_MAX: u64 = (1 << COUNTER_BITS) - 1;

impl Hlc {
    pub const ZERO: Hlc = Hlc(0);

    pub fn new(wall_ms: u64, counter: u16) -> Hlc {
        Hlc((wall_ms << COUNTER_BITS) | u64::from(counter))
    }

    pub fn wall_ms(self) -> u64 {
        self.0 >> COUNTER_BITS
    }

    pub fn counter(self) -> u16 {
        (self.0 & COUNTER_MAX) as u16
    }

    /// The wall-clock part as a UTC time, for people and for `--since`/`--at` lookups.
    pub fn time(self) -> DateTime<Utc> {
        DateTime::from_timestamp_millis(self.wall_ms() as i64).unwrap_or(DateTime::UNIX_EPOCH)
    }

    /// The first timestamp at or after a wall-clock time: `events >= Hlc::at(t)` are those of `t` or later.
    pub fn at(time: DateTime<Utc>) -> Hlc {
        Hlc::new(time.timestamp_millis().max(0) as u64, 0)
    }
}

impl fmt::Display for Hlc {
    /// `2026-11-21T04:33:18.123Z+2`: readable, and still unique thanks to the counter suffix.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.time().format("%Y-%m-%dT%H:%M:%S%.3fZ"))?;
        if self.counter() > 0 {
            write!(f, "+{}", self.counter())?;
        }
        Ok(())
    }
}

/// The clock of one store. It is fed the current wall time by the caller (`protocol` never reads
/// the system clock) and hands out strictly increasing timestamps even if wall time stalls or
/// jumps back, e.g. after an NTP correction.
#[derive(Clone, Debug, Default)]
pub struct HlcClock {
    last: Hlc,
}

impl HlcClock {
    /// Resume after the newest timestamp already in the log.
    pub fn resume(last: Hlc) -> HlcClock {
        HlcClock { last }
    }

    pub fn last(&self) -> Hlc {
        self.last
    }

    /// The timestamp for a new local event at wall time `now_ms`.
    pub fn tick(&mut self, now_ms: u64) -> Hlc {
        let next = if now_ms > self.last.wall_ms() {
            Hlc::new(now_ms, 0)
        } else if self.last.counter() < COUNTER_MAX as u16 {
            Hlc(self.last.0 + 1)
        } else {
            // 65,536 events within one millisecond: borrow the next millisecond rather than
            // repeat a timestamp.
            Hlc::new(self.last.wall_ms() + 1, 0)
        };
        self.last = next;
        next
    }

    /// Take a timestamp seen from elsewhere into account so later local events sort after it.
    pub fn observe(&mut self, seen: Hlc) {
        if seen > self.last {
            self.last = seen;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_strictly_increasing_even_when_wall_time_goes_back() {
        let mut clock = HlcClock::default();
        let a = clock.tick(1_000);
        let b = clock.tick(1_000);
        let c = clock.tick(900);
        let d = clock.tick(2_000);
        assert!(a < b && b < c && c < d);
        assert_eq!(c.wall_ms(), 1_000);
        assert_eq!(c.counter(), 2);
        assert_eq!(d, Hlc::new(2_000, 0));
    }

    #[test]
    fn counter_overflow_moves_to_the_next_millisecond() {
        let mut clock = HlcClock::resume(Hlc::new(5, u16::MAX));
        assert_eq!(clock.tick(5), Hlc::new(6, 0));
    }

    #[test]
    fn observe_pushes_the_clock_forward_only() {
        let mut clock = HlcClock::resume(Hlc::new(10, 0));
        clock.observe(Hlc::new(5, 0));
        assert_eq!(clock.last(), Hlc::new(10, 0));
        clock.observe(Hlc::new(20, 3));
        assert_eq!(clock.tick(15), Hlc::new(20, 4));
    }

    #[test]
    fn display_is_readable() {
        let t = Hlc::new(1_763_699_598_123, 2);
        assert_eq!(t.to_string(), "2025-11-21T04:33:18.123Z+2");
        assert_eq!(
            Hlc::new(1_763_699_598_123, 0).to_string(),
            "2025-11-21T04:33:18.123Z"
        );
    }
}
