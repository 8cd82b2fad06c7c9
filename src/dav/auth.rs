//! HTTP Basic authentication of desktop clients against the user and password in the settings.

use base64::Engine as _;
use hyper::HeaderMap;
use hyper::header::AUTHORIZATION;

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
        let user = percent_decode(user);
        same(user.as_bytes(), self.user.as_bytes())
            & same(password.as_bytes(), self.password.as_bytes())
    }
}

fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn percent_decode(s: &str) -> String {
    tandem_protocol::dav::href::decode_href(&format!("/{s}"))
        .map(|p| p.trim_start_matches('/').to_string())
        .unwrap_or_else(|_| s.to_string())
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
