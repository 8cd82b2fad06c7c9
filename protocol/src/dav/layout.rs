//! The DAV server's layout: which resource a request path names, the collections a new store
//! starts with, and where and how a record tandem writes to the desktop is stored.
//!
//! One user, one principal: `/dav/principal/`, calendars under `/dav/calendars/`, address books
//! under `/dav/addressbooks/`, each collection one segment deep and its members one level below.
//! Plain WebDAV collections and resources, nested to any depth, live under `/dav/files/`.

use super::href::decode_href;
use crate::event::{CollectionKind, Payload};
use crate::record::{Fields, RecordId, RecordKind};
use crate::rules::Rules;

pub const DAV_ROOT: &str = "/dav/";
pub const PRINCIPAL: &str = "/dav/principal/";
pub const CALENDAR_HOME: &str = "/dav/calendars/";
pub const ADDRESSBOOK_HOME: &str = "/dav/addressbooks/";
pub const DEFAULT_CALENDAR: &str = "/dav/calendars/calendar/";
pub const DEFAULT_TASKS: &str = "/dav/calendars/tasks/";
pub const DEFAULT_CONTACTS: &str = "/dav/addressbooks/contacts/";
pub const FILES_HOME: &str = "/dav/files/";
/// The plain file area as the store keys it: decoded, without a trailing slash.
pub const FILES_ROOT: &str = "/dav/files";

/// The content types members are served with: one spelling per kind, whoever wrote the member.
pub const VCARD: &str = "text/vcard; charset=utf-8";
pub const ICALENDAR: &str = "text/calendar; charset=utf-8";

/// A collection every store starts with.
pub struct DefaultCollection {
    pub path: &'static str,
    pub kind: CollectionKind,
    pub components: &'static [&'static str],
    pub name: &'static str,
}

/// A calendar, a task list and an address book: what the server offers on its first start, and
/// where records from other sides land.
pub const DEFAULT_COLLECTIONS: [DefaultCollection; 3] = [
    DefaultCollection {
        path: DEFAULT_CALENDAR,
        kind: CollectionKind::Calendar,
        components: &["VEVENT"],
        name: "Calendar",
    },
    DefaultCollection {
        path: DEFAULT_TASKS,
        kind: CollectionKind::Calendar,
        components: &["VTODO"],
        name: "Tasks",
    },
    DefaultCollection {
        path: DEFAULT_CONTACTS,
        kind: CollectionKind::Addressbook,
        components: &[],
        name: "Contacts",
    },
];

/// The collection records of `kind` that the desktop does not have yet are put in.
pub fn home_collection(kind: RecordKind, rules: &Rules) -> &str {
    match kind {
        RecordKind::Contact => &rules.address_book,
        RecordKind::Event => DEFAULT_CALENDAR,
        RecordKind::Task => DEFAULT_TASKS,
    }
}

/// The UID a record is written with: its own, or one made from its id when it never had one.
pub fn uid_for(record: &RecordId, uid: Option<&str>) -> String {
    uid.map_or_else(|| format!("tandem-{record}"), str::to_string)
}

/// Where tandem puts a new member for a record with `uid`: the UID made safe as a name (anything
/// but letters, digits, `-`, `_`, `.`, `@` becomes `_`) with the kind's extension.
pub fn member_href(collection: &str, kind: RecordKind, uid: &str) -> String {
    let name: String = uid
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.@".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let extension = match kind {
        RecordKind::Contact => "vcf",
        RecordKind::Event | RecordKind::Task => "ics",
    };
    format!("{collection}{name}.{extension}")
}

/// The body of a member with `fields`: the client's `previous` bytes edited in place (what tandem
/// does not map stays), or a new vCard/iCalendar object.
pub fn member_body(
    kind: RecordKind,
    uid: &str,
    fields: &Fields,
    previous: Option<&[u8]>,
) -> Payload {
    let (bytes, content_type) = match kind {
        RecordKind::Contact => (crate::codec::render_vcard(uid, fields, previous), VCARD),
        _ => (
            crate::codec::render_icalendar(kind, uid, fields, previous),
            ICALENDAR,
        ),
    };
    Payload {
        content_type: content_type.to_string(),
        bytes,
    }
}

/// The fields a client reading a member's bytes finds: what the desktop side holds.
pub fn member_fields(kind: RecordKind, bytes: &[u8]) -> Result<Fields, crate::codec::CodecError> {
    match kind {
        RecordKind::Contact => crate::codec::parse_vcard(bytes).map(|c| c.fields),
        _ => crate::codec::parse_icalendar(bytes).map(|o| o.fields),
    }
}

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

/// The longest name of a collection or member, in bytes.
pub const MAX_NAME: usize = 255;

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
    // As a file on the client's disk, and in every server tandem is compared with.
    if let Some(long) = path.split('/').find(|s| s.len() > MAX_NAME) {
        return Err(BadPath(format!(
            "a name in the path is {} bytes long; names are at most {MAX_NAME} bytes",
            long.len()
        )));
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
        _ if path == FILES_ROOT || path.starts_with(FILES_HOME) => file_target(&path)?,
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
