//! CalDAV and CardDAV query filters (RFC 4791 §9.7, RFC 6352 §10.5) evaluated against a
//! resource's own bytes: components, properties, parameters, text matches and time ranges.

use super::ical::CalendarObject;
use super::recur::overlaps;
use super::unfold::{Comp, Line, split, tokenize, tree};
use crate::dav::{
    AddressbookFilter, CalPropFilter, CardPropFilter, Collation, CompFilter, FilterTest, MatchType,
    ParamFilter, TextMatch, TimeRange,
};
use chrono::{DateTime, Utc};

/// Whether a calendar object resource matches a calendar-query filter.
pub fn calendar_matches(bytes: &[u8], object: &CalendarObject, filter: &CompFilter) -> bool {
    let Ok(lines) = split(bytes) else {
        return false;
    };
    let Ok(roots) = tree(&lines) else {
        return false;
    };
    let named: Vec<&Comp> = roots.iter().filter(|c| c.name == filter.name).collect();
    comp_matches(&lines, &named, object, filter)
}

/// The range every member a calendar-query matches must have an event in: the time-range of a
/// VEVENT comp-filter right under the VCALENDAR one (each child filter must hold, so a member
/// out of that range cannot match). `None` when the filter asks no such thing.
pub fn event_range(filter: &CompFilter) -> Option<EventRange> {
    if filter.name != "VCALENDAR" || filter.is_not_defined {
        return None;
    }
    let (start, end) = filter
        .comp_filters
        .iter()
        .filter(|child| child.name == "VEVENT" && !child.is_not_defined)
        .find_map(|child| child.time_range.as_ref())
        .map(bounds)?;
    // The VEVENT filter found is then the only one, and asks nothing but its range.
    let only = filter.time_range.is_none()
        && filter.prop_filters.is_empty()
        && matches!(filter.comp_filters.as_slice(),
            [child] if child.prop_filters.is_empty() && child.comp_filters.is_empty());
    Some(EventRange { start, end, only })
}

/// The time-range a calendar-query asks of its events (see [`event_range`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EventRange {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// The filter asks nothing else: a calendar object resource with an event matches exactly
    /// when the event meets the range, whatever else its bytes say.
    pub only: bool,
}

/// Whether the components named by a comp-filter (all siblings of that name) satisfy it.
fn comp_matches(
    lines: &[Line],
    comps: &[&Comp],
    object: &CalendarObject,
    filter: &CompFilter,
) -> bool {
    if filter.is_not_defined {
        return comps.is_empty();
    }
    comps.iter().any(|comp| {
        let in_range = match (&filter.time_range, comp.name.as_str()) {
            (Some(range), "VEVENT" | "VTODO") => {
                let (start, end) = bounds(range);
                overlaps(object, start, end)
            }
            _ => true,
        };
        // A prop-filter right under VCALENDAR names a property of the event or task in it
        // (clients leave out the component type); look there too.
        let holds = |p: &CalPropFilter| {
            cal_prop_matches(lines, comp, p)
                || (comp.name == "VCALENDAR"
                    && !p.is_not_defined
                    && comp
                        .children
                        .iter()
                        .any(|child| cal_prop_matches(lines, child, p)))
        };
        in_range
            && filter.prop_filters.iter().all(holds)
            && filter.comp_filters.iter().all(|child| {
                let named: Vec<&Comp> = comp
                    .children
                    .iter()
                    .filter(|c| c.name == child.name)
                    .collect();
                comp_matches(lines, &named, object, child)
            })
    })
}

/// The range as instants. An open end stands for a far but finite date: expansion stops there,
/// and date arithmetic never reaches chrono's limits.
pub fn bounds(range: &TimeRange) -> (DateTime<Utc>, DateTime<Utc>) {
    const FAR_PAST: i64 = -2_208_988_800; // 1900-01-01
    const FAR_FUTURE: i64 = 7_258_118_400; // 2200-01-01
    let at = |t: Option<i64>, default: i64| {
        let secs = t.unwrap_or(default).clamp(FAR_PAST, FAR_FUTURE);
        DateTime::from_timestamp(secs, 0).unwrap_or_default()
    };
    (
        at(range.start.map(|t| t.timestamp()), FAR_PAST),
        at(range.end.map(|t| t.timestamp()), FAR_FUTURE),
    )
}

/// The property lines directly in a component with this (upper-case) name.
fn props_named<'a>(
    lines: &'a [Line],
    comp: &'a Comp,
    name: &'a str,
) -> impl Iterator<Item = &'a Line> + 'a {
    comp.props
        .iter()
        .filter_map(|&i| lines.get(i))
        .filter(move |line| tokenize(&line.text).is_some_and(|p| p.name.eq_ignore_ascii_case(name)))
}

fn cal_prop_matches(lines: &[Line], comp: &Comp, filter: &CalPropFilter) -> bool {
    let found: Vec<&Line> = props_named(lines, comp, &filter.name).collect();
    if filter.is_not_defined {
        return found.is_empty();
    }
    found.iter().any(|line| {
        let Some(parts) = tokenize(&line.text) else {
            return false;
        };
        filter
            .text_match
            .as_ref()
            .is_none_or(|m| text_matches(&unescape(parts.value), m))
            && filter
                .param_filters
                .iter()
                .all(|p| param_matches(&parts, p))
    })
}

fn param_matches(parts: &super::unfold::Parts<'_>, filter: &ParamFilter) -> bool {
    let value = parts.param(&filter.name);
    if filter.is_not_defined {
        return value.is_none();
    }
    match (value, &filter.text_match) {
        (None, _) => false,
        (Some(_), None) => true,
        (Some(v), Some(m)) => v.split(',').any(|one| text_matches(one, m)),
    }
}

/// Whether a vCard matches an addressbook-query filter.
pub fn card_matches(bytes: &[u8], filter: &AddressbookFilter) -> bool {
    let Ok(lines) = split(bytes) else {
        return false;
    };
    let Ok(roots) = tree(&lines) else {
        return false;
    };
    let Some(card) = roots.iter().find(|c| c.name == "VCARD") else {
        return false;
    };
    if filter.prop_filters.is_empty() {
        return true;
    }
    let mut results = filter
        .prop_filters
        .iter()
        .map(|p| card_prop_matches(&lines, card, p));
    match filter.test {
        FilterTest::AnyOf => results.any(|m| m),
        FilterTest::AllOf => results.all(|m| m),
    }
}

fn card_prop_matches(lines: &[Line], card: &Comp, filter: &CardPropFilter) -> bool {
    let found: Vec<&Line> = props_named(lines, card, &filter.name).collect();
    if filter.is_not_defined {
        return found.is_empty();
    }
    if found.is_empty() {
        return false;
    }
    if filter.text_matches.is_empty() && filter.param_filters.is_empty() {
        return true;
    }
    found.iter().any(|line| {
        let Some(parts) = tokenize(&line.text) else {
            return false;
        };
        let value = unescape(parts.value);
        let tests = filter
            .text_matches
            .iter()
            .map(|m| text_matches(&value, m))
            .chain(
                filter
                    .param_filters
                    .iter()
                    .map(|p| param_matches(&parts, p)),
            );
        let mut tests = tests;
        match filter.test {
            FilterTest::AnyOf => tests.any(|t| t),
            FilterTest::AllOf => tests.all(|t| t),
        }
    })
}

fn text_matches(value: &str, m: &TextMatch) -> bool {
    let (value, wanted) = match m.collation {
        Collation::Octet => (value.to_string(), m.text.clone()),
        Collation::AsciiCasemap => (value.to_ascii_lowercase(), m.text.to_ascii_lowercase()),
        Collation::UnicodeCasemap => (value.to_lowercase(), m.text.to_lowercase()),
    };
    let hit = match m.match_type {
        MatchType::Equals => value == wanted,
        MatchType::Contains => value.contains(&wanted),
        MatchType::StartsWith => value.starts_with(&wanted),
        MatchType::EndsWith => value.ends_with(&wanted),
    };
    hit != m.negate
}

/// TEXT values are compared as the person wrote them: without RFC 5545/6350 escapes.
fn unescape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n' | 'N') => out.push('\n'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}
