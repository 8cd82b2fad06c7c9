//! How long to wait before sending a call again: exponential backoff with jitter. The chance is
//! passed in, so the delay is a pure function that tests can pin.

/// Delays grow from `base_ms`, doubling per attempt, up to `max_ms`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backoff {
    pub base_ms: u64,
    pub max_ms: u64,
}

impl Backoff {
    /// The delay before retry number `attempt` (0 for the first retry). `jitter` in `[0, 1]`
    /// places it between half and all of the exponential delay, so clients that failed together
    /// do not retry together.
    pub fn delay_ms(self, attempt: u32, jitter: f64) -> u64 {
        let full = self
            .base_ms
            .saturating_mul(1u64 << attempt.min(20))
            .min(self.max_ms);
        let half = full / 2;
        half + ((full - half) as f64 * jitter.clamp(0.0, 1.0)) as u64
    }

    /// The wait before try `tries + 1` of a call the server refused for now (throttled,
    /// unavailable): as long as it asked (`Retry-After`, in seconds), or else the backoff.
    pub fn wait_ms(self, tries: u32, retry_after_seconds: Option<u64>, jitter: f64) -> u64 {
        match retry_after_seconds {
            Some(seconds) => seconds.saturating_mul(1000),
            None => self.delay_ms(tries.saturating_sub(1), jitter),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_server_that_names_its_wait_is_waited_for_as_long_as_it_says() {
        let b = Backoff {
            base_ms: 500,
            max_ms: 30_000,
        };
        assert_eq!(b.wait_ms(3, Some(7), 1.0), 7_000);
        assert_eq!(b.wait_ms(1, None, 1.0), 500, "the first retry");
        assert_eq!(b.wait_ms(3, None, 1.0), 2_000);
    }

    #[test]
    fn delays_double_up_to_the_maximum_with_jitter_in_the_upper_half() {
        let b = Backoff {
            base_ms: 500,
            max_ms: 30_000,
        };
        assert_eq!(b.delay_ms(0, 1.0), 500);
        assert_eq!(b.delay_ms(0, 0.0), 250);
        assert_eq!(b.delay_ms(3, 1.0), 4_000);
        assert_eq!(b.delay_ms(40, 1.0), 30_000);
        assert_eq!(b.delay_ms(40, 0.5), 22_500);
        let zero = Backoff {
            base_ms: 0,
            max_ms: 0,
        };
        assert_eq!(zero.delay_ms(5, 0.7), 0);
    }
}
