//! Namespace-qualified XML names (`{ns}local`) and the well-known DAV property names.

use std::borrow::Cow;
use std::fmt;

/// XML namespace URIs used by WebDAV, CalDAV, CardDAV and their common extensions.
pub mod ns {
    /// RFC 4918 WebDAV.
    pub const DAV: &str = "DAV:";
    /// RFC 4791 CalDAV.
    pub const CALDAV: &str = "urn:ietf:params:xml:ns:caldav";
    /// RFC 6352 CardDAV.
    pub const CARDDAV: &str = "urn:ietf:params:xml:ns:carddav";
    /// Apple CalendarServer extensions (getctag, calendar-proxy-*).
    pub const CALENDARSERVER: &str = "http://calendarserver.org/ns/";
    /// Apple iCal extensions (calendar-color, calendar-order).
    pub const APPLE_ICAL: &str = "http://apple.com/ns/ical/";
    /// The `xml:` prefix namespace (`xml:lang`); bound implicitly, never declared.
    pub const XML: &str = "http://www.w3.org/XML/1998/namespace";
}

/// A namespace-qualified element name, e.g. `{DAV:}getetag`.
///
/// Comparison is by namespace URI and local name only; the prefix a client used is irrelevant,
/// which is what makes `<D:getetag/>` and `<getetag xmlns="DAV:"/>` the same property.
/// An empty `ns` means "no namespace" (an unprefixed name with no default namespace in scope).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PropName {
    pub ns: Cow<'static, str>,
    pub local: Cow<'static, str>,
}

impl PropName {
    /// A name from static strings, usable in `const` items.
    pub const fn new_static(ns: &'static str, local: &'static str) -> Self {
        Self {
            ns: Cow::Borrowed(ns),
            local: Cow::Borrowed(local),
        }
    }

    /// A name from runtime strings (e.g. parsed from a request).
    pub fn new(ns: impl Into<String>, local: impl Into<String>) -> Self {
        Self {
            ns: Cow::Owned(ns.into()),
            local: Cow::Owned(local.into()),
        }
    }

    pub fn ns(&self) -> &str {
        &self.ns
    }

    pub fn local(&self) -> &str {
        &self.local
    }

    /// True when this name has namespace `ns` and local name `local`.
    pub fn is(&self, ns: &str, local: &str) -> bool {
        self.ns == ns && self.local == local
    }

    pub fn is_dav(&self, local: &str) -> bool {
        self.is(ns::DAV, local)
    }

    pub fn is_caldav(&self, local: &str) -> bool {
        self.is(ns::CALDAV, local)
    }

    pub fn is_carddav(&self, local: &str) -> bool {
        self.is(ns::CARDDAV, local)
    }
}

impl fmt::Debug for PropName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{{{}}}{}", self.ns, self.local)
    }
}

/// Clark notation `{ns}local`, the conventional unambiguous spelling in messages.
impl fmt::Display for PropName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{{{}}}{}", self.ns, self.local)
    }
}

macro_rules! names {
    ($($(#[$doc:meta])* $ident:ident = ($ns:expr, $local:literal);)*) => {
        $($(#[$doc])* pub const $ident: PropName = PropName::new_static($ns, $local);)*
    };
}

/// Well-known names: live properties, resource types, reports and request elements.
pub mod names {
    use super::{PropName, ns};

    names! {
        // RFC 4918 live properties
        CREATIONDATE = (ns::DAV, "creationdate");
        DISPLAYNAME = (ns::DAV, "displayname");
        GETCONTENTLANGUAGE = (ns::DAV, "getcontentlanguage");
        GETCONTENTLENGTH = (ns::DAV, "getcontentlength");
        GETCONTENTTYPE = (ns::DAV, "getcontenttype");
        GETETAG = (ns::DAV, "getetag");
        GETLASTMODIFIED = (ns::DAV, "getlastmodified");
        LOCKDISCOVERY = (ns::DAV, "lockdiscovery");
        RESOURCETYPE = (ns::DAV, "resourcetype");
        SUPPORTEDLOCK = (ns::DAV, "supportedlock");
        // RFC 5397 / RFC 3744 / RFC 3253 / RFC 6578
        CURRENT_USER_PRINCIPAL = (ns::DAV, "current-user-principal");
        PRINCIPAL_URL = (ns::DAV, "principal-URL");
        PRINCIPAL_COLLECTION_SET = (ns::DAV, "principal-collection-set");
        OWNER = (ns::DAV, "owner");
        CURRENT_USER_PRIVILEGE_SET = (ns::DAV, "current-user-privilege-set");
        ACL = (ns::DAV, "acl");
        SUPPORTED_REPORT_SET = (ns::DAV, "supported-report-set");
        SYNC_TOKEN = (ns::DAV, "sync-token");
        QUOTA_AVAILABLE_BYTES = (ns::DAV, "quota-available-bytes");
        QUOTA_USED_BYTES = (ns::DAV, "quota-used-bytes");
        ADD_MEMBER = (ns::DAV, "add-member");
        // Resource types
        COLLECTION = (ns::DAV, "collection");
        PRINCIPAL = (ns::DAV, "principal");
        CALENDAR = (ns::CALDAV, "calendar");
        ADDRESSBOOK = (ns::CARDDAV, "addressbook");
        // RFC 4791 CalDAV properties
        CALENDAR_DESCRIPTION = (ns::CALDAV, "calendar-description");
        CALENDAR_TIMEZONE = (ns::CALDAV, "calendar-timezone");
        SUPPORTED_CALENDAR_COMPONENT_SET = (ns::CALDAV, "supported-calendar-component-set");
        SUPPORTED_CALENDAR_DATA = (ns::CALDAV, "supported-calendar-data");
        MAX_RESOURCE_SIZE = (ns::CALDAV, "max-resource-size");
        MIN_DATE_TIME = (ns::CALDAV, "min-date-time");
        MAX_DATE_TIME = (ns::CALDAV, "max-date-time");
        MAX_INSTANCES = (ns::CALDAV, "max-instances");
        MAX_ATTENDEES_PER_INSTANCE = (ns::CALDAV, "max-attendees-per-instance");
        CALENDAR_HOME_SET = (ns::CALDAV, "calendar-home-set");
        CALENDAR_USER_ADDRESS_SET = (ns::CALDAV, "calendar-user-address-set");
        SCHEDULE_INBOX_URL = (ns::CALDAV, "schedule-inbox-URL");
        SCHEDULE_OUTBOX_URL = (ns::CALDAV, "schedule-outbox-URL");
        CALENDAR_DATA = (ns::CALDAV, "calendar-data");
        // RFC 6352 CardDAV properties
        ADDRESSBOOK_DESCRIPTION = (ns::CARDDAV, "addressbook-description");
        SUPPORTED_ADDRESS_DATA = (ns::CARDDAV, "supported-address-data");
        ADDRESSBOOK_HOME_SET = (ns::CARDDAV, "addressbook-home-set");
        PRINCIPAL_ADDRESS = (ns::CARDDAV, "principal-address");
        ADDRESS_DATA = (ns::CARDDAV, "address-data");
        CARDDAV_MAX_RESOURCE_SIZE = (ns::CARDDAV, "max-resource-size");
        // Apple extensions
        GETCTAG = (ns::CALENDARSERVER, "getctag");
        CALENDAR_COLOR = (ns::APPLE_ICAL, "calendar-color");
        CALENDAR_ORDER = (ns::APPLE_ICAL, "calendar-order");
        ME_CARD = (ns::CALENDARSERVER, "me-card");
        EMAIL_ADDRESS_SET = (ns::CALENDARSERVER, "email-address-set");
        // Reports (root elements of REPORT bodies)
        CALENDAR_QUERY = (ns::CALDAV, "calendar-query");
        CALENDAR_MULTIGET = (ns::CALDAV, "calendar-multiget");
        FREE_BUSY_QUERY = (ns::CALDAV, "free-busy-query");
        ADDRESSBOOK_QUERY = (ns::CARDDAV, "addressbook-query");
        ADDRESSBOOK_MULTIGET = (ns::CARDDAV, "addressbook-multiget");
        SYNC_COLLECTION = (ns::DAV, "sync-collection");
        EXPAND_PROPERTY = (ns::DAV, "expand-property");
        PRINCIPAL_PROPERTY_SEARCH = (ns::DAV, "principal-property-search");
        PRINCIPAL_SEARCH_PROPERTY_SET = (ns::DAV, "principal-search-property-set");
        // Privileges (RFC 3744)
        PRIV_READ = (ns::DAV, "read");
        PRIV_WRITE = (ns::DAV, "write");
        PRIV_WRITE_PROPERTIES = (ns::DAV, "write-properties");
        PRIV_WRITE_CONTENT = (ns::DAV, "write-content");
        PRIV_BIND = (ns::DAV, "bind");
        PRIV_UNBIND = (ns::DAV, "unbind");
        PRIV_READ_CURRENT_USER_PRIVILEGE_SET = (ns::DAV, "read-current-user-privilege-set");
        PRIV_ALL = (ns::DAV, "all");
        PRIV_READ_FREE_BUSY = (ns::CALDAV, "read-free-busy");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn static_and_owned_names_compare_equal() {
        assert_eq!(names::GETETAG, PropName::new("DAV:", "getetag"));
        assert!(names::GETCTAG.is(ns::CALENDARSERVER, "getctag"));
        assert_eq!(
            names::CALENDAR_COLOR.to_string(),
            "{http://apple.com/ns/ical/}calendar-color"
        );
    }
}
