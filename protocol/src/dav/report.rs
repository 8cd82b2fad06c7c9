//! REPORT request bodies: CalDAV, CardDAV, sync-collection and the principal reports.

use super::error::{FilterDialect, XmlError};
use super::filter::{
    AddressbookFilter, CalendarFilter, FilterTest, MatchType, parse_addressbook_filter,
    parse_calendar_filter,
};
use super::limits::Limits;
use super::name::{PropName, names, ns};
use super::prop::{
    AddressDataRequest, CalendarDataRequest, PropRequest, Selection, dedupe, parse_selection,
};
use super::reader::{expect_root, is_dav, parse_required, trim_xml};
use super::time_range::TimeRange;
use super::value::XmlElement;

/// A parsed REPORT body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Report {
    CalendarQuery(CalendarQuery),
    CalendarMultiget(Multiget),
    FreeBusyQuery(FreeBusyQuery),
    AddressbookQuery(AddressbookQuery),
    AddressbookMultiget(Multiget),
    SyncCollection(SyncCollection),
    ExpandProperty(ExpandProperty),
    PrincipalPropertySearch(PrincipalPropertySearch),
    PrincipalSearchPropertySet,
}

impl Report {
    /// The root element name, e.g. for logging or `supported-report-set` checks.
    pub fn name(&self) -> PropName {
        match self {
            Report::CalendarQuery(_) => names::CALENDAR_QUERY,
            Report::CalendarMultiget(_) => names::CALENDAR_MULTIGET,
            Report::FreeBusyQuery(_) => names::FREE_BUSY_QUERY,
            Report::AddressbookQuery(_) => names::ADDRESSBOOK_QUERY,
            Report::AddressbookMultiget(_) => names::ADDRESSBOOK_MULTIGET,
            Report::SyncCollection(_) => names::SYNC_COLLECTION,
            Report::ExpandProperty(_) => names::EXPAND_PROPERTY,
            Report::PrincipalPropertySearch(_) => names::PRINCIPAL_PROPERTY_SEARCH,
            Report::PrincipalSearchPropertySet => names::PRINCIPAL_SEARCH_PROPERTY_SET,
        }
    }
}

/// `CALDAV:calendar-query` (RFC 4791 §7.8).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarQuery {
    pub props: PropRequest,
    pub calendar_data: Option<CalendarDataRequest>,
    /// A missing `<filter>` becomes [`CalendarFilter::match_all`].
    pub filter: CalendarFilter,
    /// `CALDAV:timezone`: VTIMEZONE text for floating-time comparisons.
    pub timezone: Option<String>,
}

/// `CALDAV:calendar-multiget` / `CARDDAV:addressbook-multiget`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Multiget {
    pub props: PropRequest,
    pub calendar_data: Option<CalendarDataRequest>,
    pub address_data: Option<AddressDataRequest>,
    /// Hrefs as sent (trimmed, still percent-encoded; may be absolute URLs). Decode each with
    /// [`super::href::decode_href`]; one bad href is a 404 for it, not a failed request.
    pub hrefs: Vec<String>,
}

/// `CALDAV:free-busy-query` (RFC 4791 §7.10).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FreeBusyQuery {
    pub time_range: TimeRange,
}

/// `CARDDAV:addressbook-query` (RFC 6352 §8.6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressbookQuery {
    pub props: PropRequest,
    pub address_data: Option<AddressDataRequest>,
    pub filter: AddressbookFilter,
    /// `<limit><nresults>`: truncate and answer 507 for the rest.
    pub limit: Option<u32>,
}

/// `sync-level` of sync-collection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SyncLevel {
    One,
    Infinite,
}

/// `DAV:sync-collection` (RFC 6578 §6.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncCollection {
    /// `None` for an empty `<sync-token/>`: the initial sync (full listing, no removals).
    pub sync_token: Option<String>,
    /// `None` when omitted (pre-RFC drafts used the Depth header); treat as `One`.
    pub sync_level: Option<SyncLevel>,
    pub limit: Option<u32>,
    pub props: PropRequest,
    pub calendar_data: Option<CalendarDataRequest>,
    pub address_data: Option<AddressDataRequest>,
}

/// `DAV:expand-property` (RFC 3253 §3.8).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpandProperty {
    pub properties: Vec<ExpandItem>,
}

/// One `DAV:property` of expand-property: a property whose hrefs are followed, and which
/// properties to report for the resources they point to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpandItem {
    pub name: PropName,
    pub children: Vec<ExpandItem>,
}

/// `DAV:principal-property-search` (RFC 3744 §9.4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrincipalPropertySearch {
    /// Default `allof`, as RFC 3744 says.
    pub test: FilterTest,
    pub searches: Vec<PropertySearch>,
    pub props: PropRequest,
    pub apply_to_principal_collection_set: bool,
}

/// One `DAV:property-search`: any of `props` matching `text`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PropertySearch {
    pub props: Vec<PropName>,
    pub text: String,
    /// Apple and CalDav Synchronizer send `match-type="starts-with"`; RFC 3744 says contains.
    pub match_type: MatchType,
}

/// Parses any REPORT body, dispatching on its root element.
///
/// Unknown reports give [`XmlError::UnsupportedReport`] (403 + `DAV:supported-report`).
pub fn parse_report(body: &[u8], limits: &Limits) -> Result<Report, XmlError> {
    let root = parse_required(body, limits, "REPORT body")?;
    let n = &root.name;
    Ok(if *n == names::CALENDAR_QUERY {
        Report::CalendarQuery(calendar_query(&root)?)
    } else if *n == names::CALENDAR_MULTIGET {
        Report::CalendarMultiget(multiget(&root)?)
    } else if *n == names::FREE_BUSY_QUERY {
        Report::FreeBusyQuery(free_busy_query(&root)?)
    } else if *n == names::ADDRESSBOOK_QUERY {
        Report::AddressbookQuery(addressbook_query(&root)?)
    } else if *n == names::ADDRESSBOOK_MULTIGET {
        Report::AddressbookMultiget(multiget(&root)?)
    } else if *n == names::SYNC_COLLECTION {
        Report::SyncCollection(sync_collection(&root)?)
    } else if *n == names::EXPAND_PROPERTY {
        Report::ExpandProperty(expand_property(&root))
    } else if *n == names::PRINCIPAL_PROPERTY_SEARCH {
        Report::PrincipalPropertySearch(principal_property_search(&root)?)
    } else if *n == names::PRINCIPAL_SEARCH_PROPERTY_SET {
        Report::PrincipalSearchPropertySet
    } else {
        return Err(XmlError::UnsupportedReport(root.name.clone()));
    })
}

fn parse_specific<T>(
    body: &[u8],
    limits: &Limits,
    root_name: &PropName,
    f: impl FnOnce(&XmlElement) -> Result<T, XmlError>,
) -> Result<T, XmlError> {
    let root = parse_required(body, limits, "REPORT body")?;
    expect_root(&root, root_name)?;
    f(&root)
}

/// Parses a body that must be a calendar-query.
pub fn parse_calendar_query(body: &[u8], limits: &Limits) -> Result<CalendarQuery, XmlError> {
    parse_specific(body, limits, &names::CALENDAR_QUERY, calendar_query)
}

/// Parses a body that must be a calendar-multiget.
pub fn parse_calendar_multiget(body: &[u8], limits: &Limits) -> Result<Multiget, XmlError> {
    parse_specific(body, limits, &names::CALENDAR_MULTIGET, multiget)
}

/// Parses a body that must be a free-busy-query.
pub fn parse_free_busy_query(body: &[u8], limits: &Limits) -> Result<FreeBusyQuery, XmlError> {
    parse_specific(body, limits, &names::FREE_BUSY_QUERY, free_busy_query)
}

/// Parses a body that must be an addressbook-query.
pub fn parse_addressbook_query(body: &[u8], limits: &Limits) -> Result<AddressbookQuery, XmlError> {
    parse_specific(body, limits, &names::ADDRESSBOOK_QUERY, addressbook_query)
}

/// Parses a body that must be an addressbook-multiget.
pub fn parse_addressbook_multiget(body: &[u8], limits: &Limits) -> Result<Multiget, XmlError> {
    parse_specific(body, limits, &names::ADDRESSBOOK_MULTIGET, multiget)
}

/// Parses a body that must be a sync-collection.
pub fn parse_sync_collection(body: &[u8], limits: &Limits) -> Result<SyncCollection, XmlError> {
    parse_specific(body, limits, &names::SYNC_COLLECTION, sync_collection)
}

/// Absent `<prop>` in a REPORT: the RFCs leave it open; allprop is the conventional reading.
fn selection(root: &XmlElement) -> Result<Selection, XmlError> {
    parse_selection(
        root,
        PropRequest::AllProp {
            include: Vec::new(),
        },
    )
}

fn calendar_query(root: &XmlElement) -> Result<CalendarQuery, XmlError> {
    let sel = selection(root)?;
    let filter = match root.child(ns::CALDAV, "filter") {
        Some(f) => parse_calendar_filter(f)?,
        None => CalendarFilter::match_all(),
    };
    Ok(CalendarQuery {
        props: sel.request,
        calendar_data: sel.calendar_data,
        filter,
        timezone: root.child(ns::CALDAV, "timezone").map(XmlElement::text),
    })
}

fn multiget(root: &XmlElement) -> Result<Multiget, XmlError> {
    let sel = selection(root)?;
    let hrefs = root
        .elements()
        .filter(|e| is_dav(e, "href"))
        .map(|e| trim_xml(&e.text()).to_owned())
        .filter(|h| !h.is_empty())
        .collect::<Vec<_>>();
    // RFC 4791 §9.10 / RFC 6352 §8.7: a multiget names at least one resource.
    if hrefs.is_empty() {
        return Err(XmlError::Invalid(
            "a multiget names at least one DAV:href of the resources to fetch".into(),
        ));
    }
    Ok(Multiget {
        props: sel.request,
        calendar_data: sel.calendar_data,
        address_data: sel.address_data,
        hrefs,
    })
}

fn free_busy_query(root: &XmlElement) -> Result<FreeBusyQuery, XmlError> {
    let d = FilterDialect::Calendar;
    let Some(tr) = root.child(ns::CALDAV, "time-range") else {
        return Err(XmlError::InvalidFilter {
            dialect: d,
            message: "free-busy-query needs a <C:time-range start=… end=…/>".into(),
        });
    };
    let time_range =
        TimeRange::from_element(tr, false).map_err(|message| XmlError::InvalidFilter {
            dialect: d,
            message,
        })?;
    Ok(FreeBusyQuery { time_range })
}

fn addressbook_query(root: &XmlElement) -> Result<AddressbookQuery, XmlError> {
    let sel = selection(root)?;
    let filter = match root.child(ns::CARDDAV, "filter") {
        Some(f) => parse_addressbook_filter(f)?,
        None => AddressbookFilter {
            test: FilterTest::AnyOf,
            prop_filters: Vec::new(),
        },
    };
    Ok(AddressbookQuery {
        props: sel.request,
        address_data: sel.address_data,
        filter,
        limit: limit(root)?,
    })
}

/// `<limit><nresults>N</nresults></limit>`, in DAV: (RFC 5323, RFC 6578) or CARDDAV:
/// (RFC 6352) namespace; clients mix them up.
fn limit(root: &XmlElement) -> Result<Option<u32>, XmlError> {
    let Some(limit) = root
        .elements()
        .find(|e| e.name.local == "limit" && (e.name.ns == ns::DAV || e.name.ns == ns::CARDDAV))
    else {
        return Ok(None);
    };
    let Some(n) = limit.elements().find(|e| e.name.local == "nresults") else {
        return Ok(None);
    };
    let text = n.text();
    trim_xml(&text).parse::<u32>().map(Some).map_err(|_| {
        XmlError::Invalid(format!(
            "<nresults> must be a non-negative integer, got `{}`",
            trim_xml(&text)
        ))
    })
}

fn sync_collection(root: &XmlElement) -> Result<SyncCollection, XmlError> {
    let sel = selection(root)?;
    let sync_token = match root.child(ns::DAV, "sync-token") {
        None => None,
        Some(t) => {
            let text = t.text();
            let token = trim_xml(&text);
            if token.is_empty() {
                None
            } else if !looks_like_uri(token) {
                // RFC 6578 §6.2: tokens are URIs; anything else cannot be one we issued.
                return Err(XmlError::InvalidSyncToken(token.to_owned()));
            } else {
                Some(token.to_owned())
            }
        }
    };
    let sync_level = match root.child(ns::DAV, "sync-level") {
        None => None,
        Some(l) => {
            let text = l.text();
            match trim_xml(&text).to_ascii_lowercase().as_str() {
                "1" => Some(SyncLevel::One),
                "infinite" | "infinity" => Some(SyncLevel::Infinite),
                other => {
                    return Err(XmlError::Invalid(format!(
                        "<sync-level> must be 1 or infinite, got `{other}`"
                    )));
                }
            }
        }
    };
    Ok(SyncCollection {
        sync_token,
        sync_level,
        limit: limit(root)?,
        props: sel.request,
        calendar_data: sel.calendar_data,
        address_data: sel.address_data,
    })
}

/// A scheme (`ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )`), a colon, and no whitespace.
fn looks_like_uri(s: &str) -> bool {
    let Some((scheme, _)) = s.split_once(':') else {
        return false;
    };
    let mut bytes = scheme.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
        && !s.chars().any(|c| c.is_whitespace() || c.is_control())
}

fn expand_property(root: &XmlElement) -> ExpandProperty {
    ExpandProperty {
        properties: expand_items(root),
    }
}

fn expand_items(el: &XmlElement) -> Vec<ExpandItem> {
    el.elements()
        .filter(|e| is_dav(e, "property"))
        .filter_map(|e| {
            let local = trim_xml(e.attr("name")?);
            if local.is_empty() {
                return None;
            }
            // RFC 3253: the namespace attribute defaults to "DAV:".
            let namespace = e.attr("namespace").map(trim_xml).unwrap_or(ns::DAV);
            Some(ExpandItem {
                name: PropName::new(namespace, local),
                children: expand_items(e),
            })
        })
        .collect()
}

fn principal_property_search(root: &XmlElement) -> Result<PrincipalPropertySearch, XmlError> {
    let test = match root.attr("test").map(|t| trim_xml(t).to_ascii_lowercase()) {
        Some(t) if t == "anyof" => FilterTest::AnyOf,
        _ => FilterTest::AllOf,
    };
    let mut searches = Vec::new();
    for s in root.elements().filter(|e| is_dav(e, "property-search")) {
        let props = dedupe(
            s.elements()
                .filter(|e| is_dav(e, "prop"))
                .flat_map(|p| p.elements().map(|n| n.name.clone()))
                .collect(),
        );
        let Some(m) = s.child(ns::DAV, "match") else {
            continue;
        };
        let match_type = match m
            .attr("match-type")
            .map(|t| trim_xml(t).to_ascii_lowercase())
            .as_deref()
        {
            Some("starts-with") => MatchType::StartsWith,
            Some("ends-with") => MatchType::EndsWith,
            Some("equals") => MatchType::Equals,
            _ => MatchType::Contains,
        };
        searches.push(PropertySearch {
            props,
            text: m.text(),
            match_type,
        });
    }
    // The search's own <prop> (what to return) is a direct child; the per-search ones are not.
    let props = match root.child(ns::DAV, "prop") {
        Some(_) => selection(root)?.request,
        None => PropRequest::Prop(Vec::new()),
    };
    Ok(PrincipalPropertySearch {
        test,
        searches,
        props,
        apply_to_principal_collection_set: root
            .child(ns::DAV, "apply-to-principal-collection-set")
            .is_some(),
    })
}
