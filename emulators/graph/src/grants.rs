//! The access tokens the API accepts and what each one may do: the delegated permissions
//! (scopes, permissions-reference.md) it was granted, and when it stops working. The identity
//! platform issues them (identity.rs); every API request checks them (`http::admit`).

use chrono::{DateTime, Utc};
use std::collections::{BTreeSet, HashMap};

/// The Graph resource every scope in a token request names, when it names one
/// (permissions-overview.md: `https://graph.microsoft.com/Calendars.ReadWrite` and
/// `Calendars.ReadWrite` are the same permission).
pub const GRAPH_RESOURCE: &str = "https://graph.microsoft.com/";

/// What an app registration for tandem is configured with: the permissions `.default` stands
/// for (scopes-oidc.md, "The /.default scope").
const CONFIGURED: [&str; 4] = [
    "contacts.readwrite",
    "calendars.readwrite",
    "tasks.readwrite",
    "user.read",
];

/// The part of the mailbox a request reads or writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    Contacts,
    Calendars,
    Tasks,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Read,
    Write,
}

impl Resource {
    fn name(self) -> &'static str {
        match self {
            Resource::Contacts => "contacts",
            Resource::Calendars => "calendars",
            Resource::Tasks => "tasks",
        }
    }
}

/// A scope as the platform compares it: without the Graph resource, lower-case.
pub fn normalize(scope: &str) -> String {
    let lower = scope.trim().to_ascii_lowercase();
    lower
        .strip_prefix(GRAPH_RESOURCE)
        .map(str::to_string)
        .unwrap_or(lower)
}

/// The permissions a list of requested scopes amounts to: `.default` is the app's configured
/// set; OpenID scopes (`openid`, `profile`, `email`, `offline_access`) grant no API access.
pub fn permissions(scopes: &[String]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for scope in scopes.iter().map(|s| normalize(s)) {
        match scope.as_str() {
            ".default" => out.extend(CONFIGURED.iter().map(|s| s.to_string())),
            "openid" | "profile" | "email" | "offline_access" => {}
            _ => {
                out.insert(scope);
            }
        }
    }
    out
}

/// The `scope` of a token response: the scopes granted, without the Graph resource, `.default`
/// spelled out.
pub fn display(scopes: &[String]) -> String {
    let mut out: Vec<String> = Vec::new();
    for scope in scopes {
        let trimmed = scope.trim();
        // `get` rather than slicing: a scope is the client's text, not always ASCII.
        let short = match (
            trimmed.get(..GRAPH_RESOURCE.len()),
            trimmed.get(GRAPH_RESOURCE.len()..),
        ) {
            (Some(head), Some(rest)) if head.eq_ignore_ascii_case(GRAPH_RESOURCE) => rest,
            _ => trimmed,
        };
        if short == ".default" {
            out.extend(
                [
                    "Contacts.ReadWrite",
                    "Calendars.ReadWrite",
                    "Tasks.ReadWrite",
                    "User.Read",
                ]
                .map(String::from),
            );
        } else {
            out.push(short.to_string());
        }
    }
    out.join(" ")
}

/// What one access token may do.
#[derive(Debug, Clone)]
pub struct Grant {
    /// Lower-cased permissions (`contacts.readwrite`); `None`: every permission (the tokens of
    /// `GraphHandle::issue_token`, which tests use when sign-in is not what they test).
    permissions: Option<BTreeSet<String>>,
    /// When it stops working, on the emulator's clock; `None`: only `expire_tokens` ends it.
    expires: Option<DateTime<Utc>>,
}

impl Grant {
    pub fn everything() -> Grant {
        Grant {
            permissions: None,
            expires: None,
        }
    }

    pub fn scoped(permissions: BTreeSet<String>, expires: Option<DateTime<Utc>>) -> Grant {
        Grant {
            permissions: Some(permissions),
            expires,
        }
    }

    /// `Resource.ReadWrite` allows reading and writing, `Resource.Read` reading
    /// (permissions-reference.md; the `.Shared` and `.Basic` variants are not modelled).
    pub fn allows(&self, resource: Resource, access: Access) -> bool {
        let Some(granted) = &self.permissions else {
            return true;
        };
        let write = format!("{}.readwrite", resource.name());
        let read = format!("{}.read", resource.name());
        granted.contains(&write) || (access == Access::Read && granted.contains(&read))
    }

    pub fn expired(&self, now: DateTime<Utc>) -> bool {
        self.expires.is_some_and(|at| now >= at)
    }
}

/// The tokens given so far.
#[derive(Debug, Default)]
pub struct Tokens {
    grants: HashMap<String, Grant>,
    /// Tokens ever issued: each new one is numbered after them, so none is given twice.
    issued: u64,
}

impl Tokens {
    /// A new access token in a JWT's outward shape (clients must treat it as opaque,
    /// access-tokens.md).
    pub fn issue(&mut self, grant: Grant) -> String {
        self.issued += 1;
        let token = format!("eyJ0eXAiOiJKV1QiLCJ-emulated-{:04}", self.issued);
        self.grants.insert(token.clone(), grant);
        token
    }

    pub fn get(&self, token: &str) -> Option<&Grant> {
        self.grants.get(token)
    }

    pub fn clear(&mut self) {
        self.grants.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_write_covers_read_and_default_is_the_configured_set() {
        let grant = Grant::scoped(
            permissions(&[
                "https://graph.microsoft.com/Contacts.ReadWrite".into(),
                "Calendars.Read".into(),
                "offline_access".into(),
            ]),
            None,
        );
        assert!(grant.allows(Resource::Contacts, Access::Write));
        assert!(grant.allows(Resource::Calendars, Access::Read));
        assert!(!grant.allows(Resource::Calendars, Access::Write));
        assert!(!grant.allows(Resource::Tasks, Access::Read));
        let all = Grant::scoped(permissions(&[".default".into()]), None);
        assert!(all.allows(Resource::Tasks, Access::Write));
    }
}
