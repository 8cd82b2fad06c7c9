//! Who may ask: a page on localhost is reachable by every other page the user opens, so a request
//! is answered only when its `Host` names this server (a DNS-rebinding page names its own host)
//! and, when a browser says where it comes from (`Origin`), that is this server too. The local
//! API applies the same check.

use hyper::HeaderMap;
use hyper::header::{HOST, ORIGIN};
use std::net::SocketAddr;

/// The names under which this server may be asked for: its address, and the loopback names of
/// its port.
#[derive(Clone, Debug)]
pub struct Hosts {
    allowed: Vec<String>,
}

/// Why a request was refused before it was read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("this server answers only as {0}; the request named another host")]
    ForeignHost(String),
    #[error("the request has no Host header")]
    NoHost,
    #[error("requests from other sites are refused (Origin {0})")]
    ForeignOrigin(String),
}

impl Hosts {
    /// The names of a server listening on `addr`: the address itself and, on loopback,
    /// `localhost` and both loopback addresses with its port.
    pub fn of(addr: SocketAddr) -> Hosts {
        let port = addr.port();
        let mut allowed = vec![addr.to_string()];
        if addr.ip().is_loopback() {
            for name in [
                format!("localhost:{port}"),
                format!("127.0.0.1:{port}"),
                format!("[::1]:{port}"),
            ] {
                if !allowed.contains(&name) {
                    allowed.push(name);
                }
            }
        }
        Hosts { allowed }
    }

    /// Also answer as `name:port` (a name the user gave the machine, with TLS).
    pub fn with(mut self, host: String) -> Hosts {
        self.allowed.push(host);
        self
    }

    /// Whether the request may be answered: its Host is one of ours, and so is its Origin
    /// (`scheme://host`) when it has one. `Origin: null` (sandboxed pages, some redirects) is
    /// foreign.
    pub fn admit(&self, headers: &HeaderMap) -> Result<(), Refusal> {
        let host = headers
            .get(HOST)
            .and_then(|v| v.to_str().ok())
            .ok_or(Refusal::NoHost)?;
        if !self.names(host) {
            return Err(Refusal::ForeignHost(self.allowed[0].clone()));
        }
        if let Some(origin) = headers.get(ORIGIN) {
            let origin = origin.to_str().unwrap_or("(unreadable)");
            let host = origin
                .strip_prefix("http://")
                .or_else(|| origin.strip_prefix("https://"));
            if !host.is_some_and(|h| self.names(h)) {
                return Err(Refusal::ForeignOrigin(origin.to_string()));
            }
        }
        Ok(())
    }

    fn names(&self, host: &str) -> bool {
        self.allowed.iter().any(|a| a.eq_ignore_ascii_case(host))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (name, value) in pairs {
            h.insert(*name, value.parse().unwrap());
        }
        h
    }

    #[test]
    fn only_this_servers_names_are_answered() {
        let hosts = Hosts::of("127.0.0.1:5232".parse().unwrap());
        assert_eq!(hosts.admit(&headers(&[("host", "127.0.0.1:5232")])), Ok(()));
        assert_eq!(hosts.admit(&headers(&[("host", "LOCALHOST:5232")])), Ok(()));
        assert_eq!(
            hosts.admit(&headers(&[("host", "evil.example:5232")])),
            Err(Refusal::ForeignHost("127.0.0.1:5232".into()))
        );
        assert_eq!(
            hosts.admit(&headers(&[("host", "localhost:80")])),
            Err(Refusal::ForeignHost("127.0.0.1:5232".into()))
        );
        assert_eq!(hosts.admit(&headers(&[])), Err(Refusal::NoHost));
    }

    #[test]
    fn a_browser_from_another_site_is_refused() {
        let hosts = Hosts::of("127.0.0.1:5232".parse().unwrap());
        let ours = [
            ("host", "localhost:5232"),
            ("origin", "http://localhost:5232"),
        ];
        assert_eq!(hosts.admit(&headers(&ours)), Ok(()));
        for origin in ["https://evil.example", "null", "http://localhost:5233"] {
            assert_eq!(
                hosts.admit(&headers(&[("host", "localhost:5232"), ("origin", origin)])),
                Err(Refusal::ForeignOrigin(origin.into())),
                "{origin}"
            );
        }
    }
}
