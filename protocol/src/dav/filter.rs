//! Filter trees of calendar-query (RFC 4791 §9.7) and addressbook-query (RFC 6352 §10.5).
//!
//! Component, property and parameter names are upper-cased here (iCalendar and vCard names
//! are case-insensitive), so evaluators can compare with `==`.

use super::error::{FilterDialect, XmlError};
use super::name::ns;
use super::prop::is_yes;
use super::reader::trim_xml;
use super::time_range::TimeRange;
use super::value::XmlElement;

/// A text comparison rule (RFC 4790 collation names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Collation {
    /// `i;ascii-casemap`: ASCII letters compare case-insensitively. CalDAV's default.
    AsciiCasemap,
    /// `i;octet`: byte-exact.
    Octet,
    /// `i;unicode-casemap` (RFC 5051): Unicode case folding. CardDAV's default.
    UnicodeCasemap,
}

impl Collation {
    fn parse(value: &str, dialect: FilterDialect) -> Result<Self, XmlError> {
        match trim_xml(value).to_ascii_lowercase().as_str() {
            "i;ascii-casemap" => Ok(Collation::AsciiCasemap),
            "i;octet" => Ok(Collation::Octet),
            "i;unicode-casemap" => Ok(Collation::UnicodeCasemap),
            _ => Err(XmlError::UnsupportedCollation {
                dialect,
                collation: value.to_owned(),
            }),
        }
    }
}

/// How text is compared (CardDAV `match-type`; CalDAV text-match is always `Contains`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MatchType {
    Equals,
    Contains,
    StartsWith,
    EndsWith,
}

/// `text-match`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextMatch {
    /// The text to look for, exactly as sent (not trimmed: leading spaces may be intended).
    pub text: String,
    pub collation: Collation,
    /// `negate-condition="yes"`.
    pub negate: bool,
    pub match_type: MatchType,
}

/// `param-filter`: a parameter must exist (optionally matching text), or must not exist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamFilter {
    pub name: String,
    pub is_not_defined: bool,
    pub text_match: Option<TextMatch>,
}

/// A calendar-query filter; `comp` is the `VCALENDAR` comp-filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarFilter {
    pub comp: CompFilter,
}

impl CalendarFilter {
    /// The filter that matches every calendar object (used when a client omits `<filter>`).
    pub fn match_all() -> Self {
        Self {
            comp: CompFilter::named("VCALENDAR"),
        }
    }
}

/// `comp-filter`: all of its conditions must hold (RFC 4791 §9.7.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompFilter {
    pub name: String,
    /// `<is-not-defined/>`: matches when no such component exists; other conditions are moot.
    pub is_not_defined: bool,
    pub time_range: Option<TimeRange>,
    pub prop_filters: Vec<CalPropFilter>,
    pub comp_filters: Vec<CompFilter>,
}

impl CompFilter {
    pub fn named(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            is_not_defined: false,
            time_range: None,
            prop_filters: Vec::new(),
            comp_filters: Vec::new(),
        }
    }
}

/// A CalDAV `prop-filter` (RFC 4791 §9.7.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalPropFilter {
    pub name: String,
    pub is_not_defined: bool,
    pub time_range: Option<TimeRange>,
    pub text_match: Option<TextMatch>,
    pub param_filters: Vec<ParamFilter>,
}

/// `test="anyof|allof"` of CardDAV filters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FilterTest {
    AnyOf,
    AllOf,
}

/// An addressbook-query filter (RFC 6352 §10.5). No prop-filters matches every card.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressbookFilter {
    pub test: FilterTest,
    pub prop_filters: Vec<CardPropFilter>,
}

/// A CardDAV `prop-filter` (RFC 6352 §10.5.1): its text-matches and param-filters combine by
/// `test`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardPropFilter {
    pub name: String,
    pub test: FilterTest,
    pub is_not_defined: bool,
    pub text_matches: Vec<TextMatch>,
    pub param_filters: Vec<ParamFilter>,
}

fn invalid(dialect: FilterDialect, message: impl Into<String>) -> XmlError {
    XmlError::InvalidFilter {
        dialect,
        message: message.into(),
    }
}

fn required_name(el: &XmlElement, dialect: FilterDialect) -> Result<String, XmlError> {
    match el.attr("name").map(trim_xml) {
        Some(n) if !n.is_empty() => Ok(n.to_ascii_uppercase()),
        _ => Err(invalid(
            dialect,
            format!("<{}> needs a name attribute", el.name.local),
        )),
    }
}

fn children_in<'a>(el: &'a XmlElement, namespace: &'a str) -> impl Iterator<Item = &'a XmlElement> {
    el.elements().filter(move |c| c.name.ns == namespace)
}

fn parse_test(el: &XmlElement, dialect: FilterDialect) -> Result<FilterTest, XmlError> {
    match el.attr("test").map(|t| trim_xml(t).to_ascii_lowercase()) {
        None => Ok(FilterTest::AnyOf),
        Some(t) if t == "anyof" => Ok(FilterTest::AnyOf),
        Some(t) if t == "allof" => Ok(FilterTest::AllOf),
        Some(t) => Err(invalid(
            dialect,
            format!("test=\"{t}\" must be anyof or allof"),
        )),
    }
}

fn parse_text_match(el: &XmlElement, dialect: FilterDialect) -> Result<TextMatch, XmlError> {
    let collation = match el.attr("collation") {
        Some(c) => Collation::parse(c, dialect)?,
        None => match dialect {
            FilterDialect::Calendar => Collation::AsciiCasemap,
            FilterDialect::Addressbook => Collation::UnicodeCasemap,
        },
    };
    // CalDAV has no match-type, but accepting it costs nothing and some clients send it.
    let match_type = match el
        .attr("match-type")
        .map(|m| trim_xml(m).to_ascii_lowercase())
    {
        None => MatchType::Contains,
        Some(m) => match m.as_str() {
            "equals" => MatchType::Equals,
            "contains" => MatchType::Contains,
            "starts-with" => MatchType::StartsWith,
            "ends-with" => MatchType::EndsWith,
            _ => {
                return Err(invalid(
                    dialect,
                    format!(
                        "match-type=\"{m}\" must be equals, contains, starts-with or ends-with"
                    ),
                ));
            }
        },
    };
    Ok(TextMatch {
        text: el.text(),
        collation,
        negate: el.attr("negate-condition").is_some_and(is_yes),
        match_type,
    })
}

fn parse_param_filter(
    el: &XmlElement,
    namespace: &str,
    dialect: FilterDialect,
) -> Result<ParamFilter, XmlError> {
    let mut f = ParamFilter {
        name: required_name(el, dialect)?,
        is_not_defined: false,
        text_match: None,
    };
    for c in children_in(el, namespace) {
        match c.name.local.as_ref() {
            "is-not-defined" => f.is_not_defined = true,
            "text-match" => f.text_match = Some(parse_text_match(c, dialect)?),
            _ => {}
        }
    }
    Ok(f)
}

/// Parses `CALDAV:filter`.
///
/// Lenient where it is safe: a top-level comp-filter that is not `VCALENDAR` (a common client
/// slip) is wrapped in one, and a filter without any comp-filter matches everything.
pub(super) fn parse_calendar_filter(el: &XmlElement) -> Result<CalendarFilter, XmlError> {
    let Some(top) = children_in(el, ns::CALDAV).find(|c| c.name.local == "comp-filter") else {
        return Ok(CalendarFilter::match_all());
    };
    let comp = parse_comp_filter(top)?;
    if comp.name == "VCALENDAR" {
        return Ok(CalendarFilter { comp });
    }
    let mut wrapper = CompFilter::named("VCALENDAR");
    wrapper.comp_filters.push(comp);
    Ok(CalendarFilter { comp: wrapper })
}

fn parse_comp_filter(el: &XmlElement) -> Result<CompFilter, XmlError> {
    let d = FilterDialect::Calendar;
    let mut f = CompFilter::named(&required_name(el, d)?);
    for c in children_in(el, ns::CALDAV) {
        match c.name.local.as_ref() {
            "is-not-defined" => f.is_not_defined = true,
            "time-range" => {
                f.time_range = Some(TimeRange::from_element(c, false).map_err(|m| invalid(d, m))?)
            }
            "prop-filter" => f.prop_filters.push(parse_cal_prop_filter(c)?),
            "comp-filter" => f.comp_filters.push(parse_comp_filter(c)?),
            _ => {}
        }
    }
    Ok(f)
}

fn parse_cal_prop_filter(el: &XmlElement) -> Result<CalPropFilter, XmlError> {
    let d = FilterDialect::Calendar;
    let mut f = CalPropFilter {
        name: required_name(el, d)?,
        is_not_defined: false,
        time_range: None,
        text_match: None,
        param_filters: Vec::new(),
    };
    for c in children_in(el, ns::CALDAV) {
        match c.name.local.as_ref() {
            "is-not-defined" => f.is_not_defined = true,
            "time-range" => {
                f.time_range = Some(TimeRange::from_element(c, false).map_err(|m| invalid(d, m))?)
            }
            "text-match" => f.text_match = Some(parse_text_match(c, d)?),
            "param-filter" => f.param_filters.push(parse_param_filter(c, ns::CALDAV, d)?),
            _ => {}
        }
    }
    Ok(f)
}

/// Parses `CARDDAV:filter`.
pub(super) fn parse_addressbook_filter(el: &XmlElement) -> Result<AddressbookFilter, XmlError> {
    let d = FilterDialect::Addressbook;
    let mut f = AddressbookFilter {
        test: parse_test(el, d)?,
        prop_filters: Vec::new(),
    };
    for c in children_in(el, ns::CARDDAV).filter(|c| c.name.local == "prop-filter") {
        let mut p = CardPropFilter {
            name: required_name(c, d)?,
            test: parse_test(c, d)?,
            is_not_defined: false,
            text_matches: Vec::new(),
            param_filters: Vec::new(),
        };
        for g in children_in(c, ns::CARDDAV) {
            match g.name.local.as_ref() {
                "is-not-defined" => p.is_not_defined = true,
                "text-match" => p.text_matches.push(parse_text_match(g, d)?),
                "param-filter" => p.param_filters.push(parse_param_filter(g, ns::CARDDAV, d)?),
                _ => {}
            }
        }
        f.prop_filters.push(p);
    }
    Ok(f)
}
