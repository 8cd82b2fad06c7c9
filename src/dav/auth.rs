//! HTTP Basic authentication of desktop clients against the user and password in the settings.

use base64::Engine as _;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use hyper::HeaderMap;
use hyper::header::AUTHORIZATION;
use std::num::NonZeroU32;
use subtle::ConstantTimeEq;

/// Wrong passwords a minute before the next one is answered "wait" (429): enough for a client
/// whose password was changed to show its dialog a few times, too few to guess one.
const GUESSES_PER_MINUTE: u32 = 10;

/// Wrong passwords, slowed down: every listener of tandem's is on this machine, so the limit is
/// the server's, not a client address's. The right password always gets in, so someone guessing
/// cannot lock the user out.
pub struct Guesses(DefaultDirectRateLimiter);

impl Default for Guesses {
    fn default() -> Guesses {
        let per_minute = NonZeroU32::new(GUESSES_PER_MINUTE).unwrap_or(NonZeroU32::MIN);
        Guesses(RateLimiter::direct(Quota::per_minute(per_minute)))
    }
}

impl Guesses {
    /// Count a wrong password; `Err(seconds)` to wait when too many came.
    pub fn wrong(&self) -> Result<(), u64> {
        self.0.check().map_err(|not_until| {
            not_until
                .wait_time_from(DefaultClock::default().now())
                .as_secs()
                .max(1)
        })
    }
}

#[derive(Clone)]
pub struct Credentials {
    pub user: String,
    pub password: String,
}

impl Credentials {
    /// Whether the request carries this user's credentials. The user name is compared after
    /// percent-decoding (iOS encodes `@`), the password in constant time.
    pub fn admit(&self, headers: &HeaderMap) -> bool {
        let Some(value) = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok()) else {
            return false;
        };
        let Some(encoded) = value
            .strip_prefix("Basic ")
            .or_else(|| value.strip_prefix("basic "))
        else {
            return false;
        };
        let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(encoded.trim()) else {
            return false;
        };
        let Ok(text) = String::from_utf8(decoded) else {
            return false;
        };
        let Some((user, password)) = text.split_once(':') else {
            return false;
        };
        let user = percent_encoding::percent_decode_str(user).decode_utf8_lossy();
        let same_user = user.as_bytes().ct_eq(self.user.as_bytes());
        let same_password = password.as_bytes().ct_eq(self.password.as_bytes());
        (same_user & same_password).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(AUTHORIZATION, value.parse().unwrap());
        h
    }

    fn basic(user: &str, password: &str) -> String {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
        )
    }

    #[test]
    fn admits_the_right_user_only() {
        let c = Credentials {
            user: "ana@example.com".into(),
            password: "s3cret".into(),
        };
        assert!(c.admit(&headers(&basic("ana@example.com", "s3cret"))));
        assert!(c.admit(&headers(&basic("ana%40example.com", "s3cret"))));
        assert!(!c.admit(&headers(&basic("ana@example.com", "wrong"))));
        assert!(!c.admit(&headers(&basic("bob", "s3cret"))));
        assert!(!c.admit(&headers("Basic !!!")));
        assert!(!c.admit(&headers("Bearer abc")));
        assert!(!c.admit(&HeaderMap::new()));
    }
}
