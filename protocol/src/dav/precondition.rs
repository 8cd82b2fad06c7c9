//! DAV precondition/postcondition codes and the `<D:error>` response body that carries them.

use std::io;

use quick_xml::Writer;

use super::name::{PropName, ns};
use super::xml_writer::{self, Prefixes, XmlOut};

/// A precondition element (RFC 4918 §16), optionally with hrefs inside it
/// (e.g. `<C:no-uid-conflict><D:href>/cal/other.ics</D:href></C:no-uid-conflict>`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Precondition {
    pub name: PropName,
    /// Paths (or URIs) rendered as `<D:href>` children, percent-encoded like every href.
    pub hrefs: Vec<String>,
}

macro_rules! conditions {
    ($($(#[$doc:meta])* $fn:ident = ($ns:expr, $local:literal);)*) => {
        $($(#[$doc])* pub fn $fn() -> Self { Self::new(PropName::new_static($ns, $local)) })*
    };
}

impl Precondition {
    pub fn new(name: PropName) -> Self {
        Self {
            name,
            hrefs: Vec::new(),
        }
    }

    pub fn with_href(mut self, href: impl Into<String>) -> Self {
        self.hrefs.push(href.into());
        self
    }

    conditions! {
        /// RFC 6578 §3.2: unknown, expired or malformed sync-token (403).
        valid_sync_token = (ns::DAV, "valid-sync-token");
        /// RFC 5323 / RFC 6578 §3.7: results truncated (507 on the request-URI response).
        number_of_matches_within_limits = (ns::DAV, "number-of-matches-within-limits");
        /// RFC 3253 §3.6: the REPORT is not supported on this resource (403).
        supported_report = (ns::DAV, "supported-report");
        /// RFC 4918 §16: PROPPATCH of a protected live property (403 in the propstat).
        cannot_modify_protected_property = (ns::DAV, "cannot-modify-protected-property");
        /// RFC 4918 §16: MKCOL/MKCALENDAR target already exists.
        resource_must_be_null = (ns::DAV, "resource-must-be-null");
        /// RFC 4918 §9.1: Depth: infinity PROPFIND refused.
        propfind_finite_depth = (ns::DAV, "propfind-finite-depth");
        /// RFC 5689 §3: extended MKCOL with an unsupported resourcetype.
        valid_resourcetype = (ns::DAV, "valid-resourcetype");
        /// RFC 3744 §7.1.1: insufficient privileges.
        need_privileges = (ns::DAV, "need-privileges");
        caldav_valid_filter = (ns::CALDAV, "valid-filter");
        caldav_supported_filter = (ns::CALDAV, "supported-filter");
        caldav_supported_collation = (ns::CALDAV, "supported-collation");
        caldav_valid_calendar_data = (ns::CALDAV, "valid-calendar-data");
        caldav_valid_calendar_object_resource = (ns::CALDAV, "valid-calendar-object-resource");
        caldav_supported_calendar_data = (ns::CALDAV, "supported-calendar-data");
        caldav_supported_calendar_component = (ns::CALDAV, "supported-calendar-component");
        caldav_calendar_collection_location_ok = (ns::CALDAV, "calendar-collection-location-ok");
        caldav_max_resource_size = (ns::CALDAV, "max-resource-size");
        caldav_min_date_time = (ns::CALDAV, "min-date-time");
        caldav_max_date_time = (ns::CALDAV, "max-date-time");
        caldav_max_instances = (ns::CALDAV, "max-instances");
        caldav_initialize_calendar_collection = (ns::CALDAV, "initialize-calendar-collection");
        carddav_supported_filter = (ns::CARDDAV, "supported-filter");
        carddav_supported_collation = (ns::CARDDAV, "supported-collation");
        carddav_valid_address_data = (ns::CARDDAV, "valid-address-data");
        carddav_supported_address_data = (ns::CARDDAV, "supported-address-data");
        carddav_supported_address_data_conversion = (ns::CARDDAV, "supported-address-data-conversion");
        carddav_addressbook_collection_location_ok = (ns::CARDDAV, "addressbook-collection-location-ok");
        carddav_max_resource_size = (ns::CARDDAV, "max-resource-size");
    }

    /// RFC 4791 §5.3.2.1: another resource in the collection already has this UID.
    pub fn caldav_no_uid_conflict(existing_href: impl Into<String>) -> Self {
        Self::new(PropName::new_static(ns::CALDAV, "no-uid-conflict")).with_href(existing_href)
    }

    /// RFC 6352 §6.3.2.1: another vCard in the address book already has this UID.
    pub fn carddav_no_uid_conflict(existing_href: impl Into<String>) -> Self {
        Self::new(PropName::new_static(ns::CARDDAV, "no-uid-conflict")).with_href(existing_href)
    }

    /// Writes the precondition element itself (used inside `<D:error>` and multistatus).
    pub(super) fn write(&self, w: &mut XmlOut, p: &Prefixes) -> io::Result<()> {
        if self.hrefs.is_empty() {
            return xml_writer::empty(w, p, &self.name);
        }
        xml_writer::element(w, p, &self.name, |w| {
            for h in &self.hrefs {
                xml_writer::href(w, p, h)?;
            }
            Ok(())
        })
    }
}

const ERROR: PropName = PropName::new_static(ns::DAV, "error");

/// Renders a complete `<D:error>` body for a 403/409/412/507 response.
pub fn dav_error(precondition: &Precondition) -> Vec<u8> {
    let mut p = Prefixes::standard();
    p.add(&precondition.name.ns);
    let mut w = Writer::new(Vec::new());
    let result = (|| {
        let q = xml_writer::start_document(&mut w, &p, &ERROR)?;
        precondition.write(&mut w, &p)?;
        xml_writer::end(&mut w, &q)
    })();
    let _ = result; // writing into a Vec cannot fail
    w.into_inner()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_valid_sync_token_body_exactly() {
        let body = String::from_utf8(dav_error(&Precondition::valid_sync_token())).unwrap();
        assert_eq!(
            body,
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<D:error xmlns:D=\"DAV:\" xmlns:C=\"urn:ietf:params:xml:ns:caldav\" \
             xmlns:CR=\"urn:ietf:params:xml:ns:carddav\" xmlns:CS=\"http://calendarserver.org/ns/\" \
             xmlns:ICAL=\"http://apple.com/ns/ical/\"><D:valid-sync-token/></D:error>"
        );
    }

    #[test]
    fn renders_no_uid_conflict_with_encoded_href() {
        let body = String::from_utf8(dav_error(&Precondition::caldav_no_uid_conflict(
            "/cal/work/a b.ics",
        )))
        .unwrap();
        assert!(body.contains(
            "<C:no-uid-conflict><D:href>/cal/work/a%20b.ics</D:href></C:no-uid-conflict>"
        ));
    }

    #[test]
    fn renders_unknown_namespace_precondition() {
        let body = String::from_utf8(dav_error(&Precondition::new(PropName::new(
            "urn:x", "oops",
        ))))
        .unwrap();
        assert!(body.contains("xmlns:X0=\"urn:x\""));
        assert!(body.contains("<X0:oops/>"));
    }
}
