//! The server's URL layout: which resource a request path names.
//!
//! One user, one principal: `/dav/principal/`, calendars under `/dav/calendars/`, address books
//! under `/dav/addressbooks/`, each collection one segment deep and its members one level below.
//! Plain WebDAV collections and resources, nested to any depth, live under `/dav/files/`.

use tandem_protocol::dav::href::decode_href;

pub const DAV_ROOT: &str = "/dav/";
pub const PRINCIPAL: &str = "/dav/principal/";
pub const CALENDAR_HOME: &str = "/dav/calendars/";
pub const ADDRESSBOOK_HOME: &str = "/dav/addressbooks/";
pub const DEFAULT_CALENDAR: &str = "/dav/calendars/calendar/";
pub const DEFAULT_TASKS: &str = "/dav/calendars/tasks/";
pub const DEFAULT_CONTACTS: &str = "/dav/addressbooks/contacts/";
pub const FILES_HOME: &str = "/dav/files/";

/// What a path names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// `/` and `/dav/`: answered so that discovery from the server's address works.
    Root,
    WellKnown,
    Principal,
    CalendarHome,
    AddressbookHome,
    /// A calendar or address book (it may not exist yet: MKCALENDAR).
    Collection(String),
    Member {
        collection: String,
        name: String,
    },
    /// A collection or resource of the plain file area, or its root: the decoded path without
    /// a trailing slash (`/dav/files/a/b`), as the store keys it.
    File(String),
    /// A path outside the layout.
    Elsewhere,
}

#[derive(Debug, PartialEq, Eq)]
pub struct BadPath(pub String);

/// Resolve a request path (still percent-encoded) to a target. `..` segments are refused rather
/// than resolved: no client needs them and they are how path traversal starts.
pub fn resolve(raw: &str) -> Result<Target, BadPath> {
    if raw
        .split('/')
        .any(|segment| segment == ".." || segment.eq_ignore_ascii_case("%2e%2e"))
    {
        return Err(BadPath(format!("the path {raw} contains a `..` segment")));
    }
    let path =
        decode_href(raw).map_err(|e| BadPath(format!("the path {raw} is not valid: {e}")))?;
    if path.contains('\0') {
        return Err(BadPath("the path contains a NUL character".into()));
    }
    Ok(match path.as_str() {
        "/" | "/dav" | DAV_ROOT => Target::Root,
        "/.well-known/caldav"
        | "/.well-known/carddav"
        | "/.well-known/caldav/"
        | "/.well-known/carddav/" => Target::WellKnown,
        "/dav/principal" | PRINCIPAL => Target::Principal,
        "/dav/calendars" | CALENDAR_HOME => Target::CalendarHome,
        "/dav/addressbooks" | ADDRESSBOOK_HOME => Target::AddressbookHome,
        _ if path == crate::store::files::ROOT || path.starts_with(FILES_HOME) => {
            file_target(&path)?
        }
        _ => under_home(&path, CALENDAR_HOME)
            .or_else(|| under_home(&path, ADDRESSBOOK_HOME))
            .unwrap_or(Target::Elsewhere),
    })
}

/// `/dav/files/a/b/` and `/dav/files/a/b` name the same entry; empty segments are refused so
/// one entry has one path.
fn file_target(path: &str) -> Result<Target, BadPath> {
    let trimmed = path.strip_suffix('/').unwrap_or(path);
    if trimmed.contains("//") || trimmed.split('/').any(|s| s == ".") {
        return Err(BadPath(format!(
            "the path {path} has an empty or `.` segment; name each collection once"
        )));
    }
    Ok(Target::File(trimmed.to_string()))
}

fn under_home(path: &str, home: &str) -> Option<Target> {
    let rest = path.strip_prefix(home)?;
    let mut parts = rest.splitn(2, '/');
    let collection = parts.next().filter(|c| !c.is_empty())?;
    let collection_path = format!("{home}{collection}/");
    match parts.next() {
        // `/dav/calendars/work` without the slash still names the collection.
        None | Some("") => Some(Target::Collection(collection_path)),
        Some(name) if !name.contains('/') => Some(Target::Member {
            collection: collection_path,
            name: name.to_string(),
        }),
        Some(_) => Some(Target::Elsewhere),
    }
}

/// Whether a collection path lies in the calendar home (else the address book home).
pub fn is_calendar_path(collection: &str) -> bool {
    collection.starts_with(CALENDAR_HOME)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_resolve_to_targets() {
        assert_eq!(resolve("/").unwrap(), Target::Root);
        assert_eq!(resolve("/.well-known/caldav").unwrap(), Target::WellKnown);
        assert_eq!(resolve("/dav/principal/").unwrap(), Target::Principal);
        assert_eq!(
            resolve("/dav/calendars/work").unwrap(),
            Target::Collection("/dav/calendars/work/".into())
        );
        assert_eq!(
            resolve("/dav/addressbooks/contacts/J%C3%BCrgen%20M.vcf").unwrap(),
            Target::Member {
                collection: "/dav/addressbooks/contacts/".into(),
                name: "Jürgen M.vcf".into()
            }
        );
        assert_eq!(resolve("/dav/calendars/a/b/c").unwrap(), Target::Elsewhere);
        assert_eq!(resolve("/etc/passwd").unwrap(), Target::Elsewhere);
        assert_eq!(
            resolve("/dav/files/").unwrap(),
            Target::File("/dav/files".into())
        );
        assert_eq!(
            resolve("/dav/files/a/res-%e2%82%ac/").unwrap(),
            Target::File("/dav/files/a/res-€".into())
        );
        assert!(resolve("/dav/files/a//b").is_err());
        assert_eq!(resolve("/dav/filesystem").unwrap(), Target::Elsewhere);
    }

    #[test]
    fn traversal_is_refused() {
        for bad in [
            "/dav/calendars/../../etc/passwd",
            "/dav/calendars/%2e%2e/x",
            "/dav/%2E%2E/",
        ] {
            assert!(resolve(bad).is_err(), "{bad}");
        }
    }
}
