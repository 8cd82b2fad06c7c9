//! Extended MKCOL (RFC 5689) and MKCALENDAR (RFC 4791 §5.3.1) request bodies.

use super::error::XmlError;
use super::limits::Limits;
use super::name::{PropName, names, ns};
use super::reader::{expect_root, is_dav, parse_document};
use super::value::XmlValue;

const MKCOL: PropName = PropName::new_static(ns::DAV, "mkcol");
const MKCALENDAR: PropName = PropName::new_static(ns::CALDAV, "mkcalendar");

/// The properties to set on a new collection.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MkCol {
    /// Children of `DAV:resourcetype` (extended MKCOL), e.g. `{DAV:}collection`,
    /// `{urn:ietf:params:xml:ns:caldav}calendar`. Empty for MKCALENDAR or a plain MKCOL.
    pub resource_type: Vec<PropName>,
    /// Every other property in document order, values as XML.
    pub props: Vec<(PropName, XmlValue)>,
}

impl MkCol {
    /// The value set for `name`, if any.
    pub fn get(&self, name: &PropName) -> Option<&XmlValue> {
        self.props.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    fn text(&self, name: &PropName) -> Option<String> {
        self.get(name).and_then(XmlValue::as_text)
    }

    pub fn displayname(&self) -> Option<String> {
        self.text(&names::DISPLAYNAME)
    }

    pub fn calendar_description(&self) -> Option<String> {
        self.text(&names::CALENDAR_DESCRIPTION)
    }

    pub fn addressbook_description(&self) -> Option<String> {
        self.text(&names::ADDRESSBOOK_DESCRIPTION)
    }

    /// Apple `calendar-color`, e.g. `#FF2968FF` (trimmed).
    pub fn calendar_color(&self) -> Option<String> {
        self.text(&names::CALENDAR_COLOR)
            .map(|s| super::reader::trim_xml(&s).to_owned())
    }

    /// The iCalendar VTIMEZONE text of `calendar-timezone`.
    pub fn calendar_timezone(&self) -> Option<String> {
        self.text(&names::CALENDAR_TIMEZONE)
    }

    /// Component names from `supported-calendar-component-set`, upper-cased
    /// (`["VEVENT", "VTODO"]`). `None` when the property was not sent.
    pub fn supported_components(&self) -> Option<Vec<String>> {
        let value = self.get(&names::SUPPORTED_CALENDAR_COMPONENT_SET)?;
        Some(
            value
                .elements()
                .filter(|e| e.name.is_caldav("comp"))
                .filter_map(|e| e.attr("name"))
                .map(|n| super::reader::trim_xml(n).to_ascii_uppercase())
                .collect(),
        )
    }

    /// True when the extended MKCOL asks for a calendar collection.
    pub fn is_calendar(&self) -> bool {
        self.resource_type.contains(&names::CALENDAR)
    }

    /// True when the extended MKCOL asks for an address book collection.
    pub fn is_addressbook(&self) -> bool {
        self.resource_type.contains(&names::ADDRESSBOOK)
    }
}

/// Parses an extended MKCOL body. An empty body is a plain MKCOL (no properties).
pub fn parse_mkcol(body: &[u8], limits: &Limits) -> Result<MkCol, XmlError> {
    parse_with_root(body, limits, &MKCOL)
}

/// Parses a MKCALENDAR body. An empty body is allowed (RFC 4791 §5.3.1).
pub fn parse_mkcalendar(body: &[u8], limits: &Limits) -> Result<MkCol, XmlError> {
    parse_with_root(body, limits, &MKCALENDAR)
}

fn parse_with_root(body: &[u8], limits: &Limits, root_name: &PropName) -> Result<MkCol, XmlError> {
    let Some(root) = parse_document(body, limits)? else {
        return Ok(MkCol::default());
    };
    expect_root(&root, root_name)?;
    let mut out = MkCol::default();
    for set in root.elements().filter(|e| is_dav(e, "set")) {
        for prop in set.elements().filter(|e| is_dav(e, "prop")) {
            for p in prop.elements() {
                if p.name == names::RESOURCETYPE {
                    out.resource_type
                        .extend(p.elements().map(|t| t.name.clone()));
                } else {
                    out.props
                        .push((p.name.clone(), XmlValue::from_nodes(p.children.clone())));
                }
            }
        }
    }
    out.resource_type = super::prop::dedupe(out.resource_type);
    Ok(out)
}
