//! Which properties a PROPFIND or REPORT asks for, including CalDAV/CardDAV data selections.

use super::error::XmlError;
use super::name::{PropName, ns};
use super::reader::is_dav;
use super::time_range::TimeRange;
use super::value::XmlElement;

/// The property selection of a PROPFIND or REPORT (RFC 4918 §14.20).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PropRequest {
    /// `<allprop/>`, optionally with `<include>` naming extra (expensive) properties.
    AllProp { include: Vec<PropName> },
    /// `<propname/>`: names only, no values.
    PropName,
    /// `<prop>`: exactly these properties, in request order, without duplicates.
    Prop(Vec<PropName>),
}

impl PropRequest {
    /// True when the property's value must be produced (explicitly named or included).
    pub fn names(&self, name: &PropName) -> bool {
        match self {
            PropRequest::AllProp { include } => include.contains(name),
            PropRequest::PropName => false,
            PropRequest::Prop(list) => list.contains(name),
        }
    }
}

/// A `CALDAV:calendar-data` element inside `<prop>` of a REPORT (RFC 4791 §9.6).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CalendarDataRequest {
    pub content_type: Option<String>,
    pub version: Option<String>,
    /// Partial retrieval; `None` returns the whole object.
    pub comp: Option<CompSelection>,
    pub expand: Option<TimeRange>,
    pub limit_recurrence_set: Option<TimeRange>,
    pub limit_freebusy_set: Option<TimeRange>,
}

/// `CALDAV:comp` in a calendar-data selection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompSelection {
    /// Component name, upper-cased (`VCALENDAR`, `VEVENT`, …).
    pub name: String,
    /// `None` = `<allprop/>`; otherwise only these properties.
    pub props: Option<Vec<PropSelection>>,
    /// `None` = `<allcomp/>`; otherwise only these sub-components.
    pub comps: Option<Vec<CompSelection>>,
}

/// `CALDAV:prop` / `CARDDAV:prop` in a data selection: an iCalendar or vCard property name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PropSelection {
    /// Property name, upper-cased (`SUMMARY`, `EMAIL`, …).
    pub name: String,
    /// `novalue="yes"`: return the property without its value.
    pub novalue: bool,
}

/// A `CARDDAV:address-data` element inside `<prop>` (RFC 6352 §10.4).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddressDataRequest {
    /// e.g. `text/vcard`; `version` `3.0` or `4.0` (DAVx5 asks for 4.0 when it is advertised).
    pub content_type: Option<String>,
    pub version: Option<String>,
    /// `None` = the whole vCard; otherwise only these properties.
    pub props: Option<Vec<PropSelection>>,
}

/// The selection part shared by PROPFIND and every REPORT body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Selection {
    pub request: PropRequest,
    pub calendar_data: Option<CalendarDataRequest>,
    pub address_data: Option<AddressDataRequest>,
}

/// Reads the allprop/propname/prop children of `parent`. The first of them decides the kind;
/// further `<prop>` elements are merged (some clients split long lists). With none present the
/// result is `default`.
pub(super) fn parse_selection(
    parent: &XmlElement,
    default: PropRequest,
) -> Result<Selection, XmlError> {
    let mut request: Option<PropRequest> = None;
    let mut include: Vec<PropName> = Vec::new();
    let mut calendar_data = None;
    let mut address_data = None;
    for child in parent.elements() {
        if is_dav(child, "prop") {
            let mut list = match request.take() {
                None => Vec::new(),
                Some(PropRequest::Prop(list)) => list,
                Some(other) => {
                    request = Some(other);
                    continue;
                }
            };
            for p in child.elements() {
                list.push(p.name.clone());
                if p.name.is_caldav("calendar-data") {
                    calendar_data = Some(parse_calendar_data(p)?);
                } else if p.name.is_carddav("address-data") {
                    address_data = Some(parse_address_data(p));
                }
            }
            request = Some(PropRequest::Prop(list));
        } else if is_dav(child, "allprop") {
            request.get_or_insert(PropRequest::AllProp {
                include: Vec::new(),
            });
        } else if is_dav(child, "propname") {
            request.get_or_insert(PropRequest::PropName);
        } else if is_dav(child, "include") {
            include.extend(child.elements().map(|p| p.name.clone()));
        }
    }
    let request = match request {
        Some(PropRequest::AllProp { .. }) => PropRequest::AllProp {
            include: dedupe(include),
        },
        Some(PropRequest::Prop(list)) => PropRequest::Prop(dedupe(list)),
        Some(r) => r,
        None => default,
    };
    Ok(Selection {
        request,
        calendar_data,
        address_data,
    })
}

/// Removes repeated names, keeping the first occurrence. Hash-based because a hostile body may
/// list tens of thousands of names.
pub(super) fn dedupe(list: Vec<PropName>) -> Vec<PropName> {
    let mut seen = std::collections::HashSet::with_capacity(list.len());
    list.into_iter()
        .filter(|n| seen.insert(n.clone()))
        .collect()
}

fn parse_calendar_data(el: &XmlElement) -> Result<CalendarDataRequest, XmlError> {
    let mut req = CalendarDataRequest {
        content_type: el.attr("content-type").map(str::to_owned),
        version: el.attr("version").map(str::to_owned),
        ..Default::default()
    };
    for child in el.elements() {
        if !child.name.ns.eq(ns::CALDAV) {
            continue;
        }
        let range = || TimeRange::from_element(child, true).map_err(XmlError::Invalid);
        match child.name.local.as_ref() {
            "comp" => req.comp = Some(parse_comp_selection(child)),
            "expand" => req.expand = Some(range()?),
            "limit-recurrence-set" => req.limit_recurrence_set = Some(range()?),
            "limit-freebusy-set" => req.limit_freebusy_set = Some(range()?),
            _ => {}
        }
    }
    Ok(req)
}

fn parse_comp_selection(el: &XmlElement) -> CompSelection {
    let mut props: Option<Vec<PropSelection>> = Some(Vec::new());
    let mut comps: Option<Vec<CompSelection>> = Some(Vec::new());
    for child in el.elements().filter(|c| c.name.ns == ns::CALDAV) {
        match child.name.local.as_ref() {
            "allprop" => props = None,
            "allcomp" => comps = None,
            "prop" => {
                if let (Some(list), Some(sel)) = (props.as_mut(), prop_selection(child)) {
                    list.push(sel);
                }
            }
            "comp" => {
                if let Some(list) = comps.as_mut() {
                    list.push(parse_comp_selection(child));
                }
            }
            _ => {}
        }
    }
    CompSelection {
        name: el.attr("name").unwrap_or_default().to_ascii_uppercase(),
        props,
        comps,
    }
}

fn prop_selection(el: &XmlElement) -> Option<PropSelection> {
    let name = el.attr("name")?.to_ascii_uppercase();
    Some(PropSelection {
        name,
        novalue: el.attr("novalue").is_some_and(is_yes),
    })
}

fn parse_address_data(el: &XmlElement) -> AddressDataRequest {
    let mut props = Vec::new();
    let mut all = false;
    for child in el.elements().filter(|c| c.name.ns == ns::CARDDAV) {
        match child.name.local.as_ref() {
            "allprop" => all = true,
            "prop" => props.extend(prop_selection(child)),
            _ => {}
        }
    }
    AddressDataRequest {
        content_type: el.attr("content-type").map(str::to_owned),
        version: el.attr("version").map(str::to_owned),
        props: if all || props.is_empty() {
            None
        } else {
            Some(props)
        },
    }
}

/// `yes`/`true`/`1`, case-insensitively (clients are not consistent).
pub(super) fn is_yes(v: &str) -> bool {
    let v = super::reader::trim_xml(v);
    v.eq_ignore_ascii_case("yes") || v.eq_ignore_ascii_case("true") || v == "1"
}
