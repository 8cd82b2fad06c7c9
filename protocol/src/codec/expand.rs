//! CALDAV:expand (RFC 4791 §9.6.5): a recurring event or task as its instances within a range,
//! each a component of its own with a RECURRENCE-ID, times in UTC, and no recurrence rules.

use super::error::CodecError;
use super::ical::{CalendarObject, Moment, Timing, parse_icalendar};
use super::recur::expansion;
use super::unfold::{Comp, split, tokenize, tree};
use crate::record::RecordKind;
use chrono::{DateTime, Utc};

/// Instances beyond this many in one answer are left out.
const MAX_INSTANCES: usize = 10_000;

/// Properties an expanded instance does not carry over from its component: its dates are
/// written anew and it recurs no more.
const REWRITTEN: [&str; 8] = [
    "DTSTART",
    "DTEND",
    "DURATION",
    "DUE",
    "RRULE",
    "RDATE",
    "EXDATE",
    "RECURRENCE-ID",
];

fn utc(t: DateTime<Utc>) -> String {
    t.format("%Y%m%dT%H%M%SZ").to_string()
}

/// The object's instances in `[start, end)`, expanded. A non-recurring object comes back as it is.
/// A rule that could not be searched through the whole range is an error rather than a short
/// list passing for the whole set: the caller can send the object unexpanded instead.
pub fn expand(
    bytes: &[u8],
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Result<Vec<u8>, CodecError> {
    let object: CalendarObject = parse_icalendar(bytes)?;
    let found = expansion(&object, start, end, MAX_INSTANCES);
    if let Some(searched_until) = found.searched_until {
        return Err(CodecError::RecurrenceCutShort { searched_until });
    }
    let instances = found.occurrences;
    if instances.iter().all(|o| o.recurrence_id.is_none()) && object.overrides.is_empty() {
        return Ok(bytes.to_vec());
    }
    let lines = split(bytes)?;
    let roots = tree(&lines)?;
    let Some(calendar) = roots.iter().find(|c| c.name == "VCALENDAR") else {
        return Err(CodecError::NotICalendar);
    };
    let name = if object.kind == RecordKind::Task {
        "VTODO"
    } else {
        "VEVENT"
    };
    let items: Vec<&Comp> = calendar
        .children
        .iter()
        .filter(|c| c.name == name)
        .collect();
    let has_rid = |comp: &Comp| {
        comp.props.iter().any(|&i| {
            tokenize(&lines[i].text).is_some_and(|p| p.name.eq_ignore_ascii_case("RECURRENCE-ID"))
        })
    };
    let primary = items.iter().position(|c| !has_rid(c)).unwrap_or(0);
    // Overrides were read in document order, leaving the primary component out.
    let overrides: Vec<&Comp> = items
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != primary)
        .map(|(_, c)| *c)
        .collect();

    let mut out = String::from("BEGIN:VCALENDAR\r\n");
    for &i in &calendar.props {
        out.push_str(&lines[i].text);
        out.push_str("\r\n");
    }
    // An all-day series keeps its instances all-day: DATE values, never midnight UTC (which a
    // client west of Greenwich shows the day before). A RECURRENCE-ID has the master's type.
    let dated = |timing: Option<&Timing>| {
        timing.is_some_and(|t| matches!(t.start.or(t.due), Some(Moment::Date(_))))
    };
    let master_dated = dated(Some(&object.primary));
    let stamp = |name: &str, t: DateTime<Utc>, date: bool| {
        if date {
            format!("{name};VALUE=DATE:{}\r\n", t.format("%Y%m%d"))
        } else {
            format!("{name}:{}\r\n", utc(t))
        }
    };
    for instance in &instances {
        let overriding = instance.recurrence_id.and_then(|rid| {
            object
                .overrides
                .iter()
                .position(|o| o.recurrence_id.map(|m| m.utc()) == Some(rid))
        });
        let (component, instance_dated) = match overriding
            .and_then(|k| Some((overrides.get(k).copied()?, object.overrides.get(k))))
        {
            Some((component, timing)) => (component, dated(timing)),
            None => (items[primary], master_dated),
        };
        out.push_str(&format!("BEGIN:{name}\r\n"));
        for &i in &component.props {
            let keep = tokenize(&lines[i].text)
                .is_some_and(|p| !REWRITTEN.iter().any(|r| p.name.eq_ignore_ascii_case(r)));
            if keep {
                out.push_str(&lines[i].text);
                out.push_str("\r\n");
            }
        }
        out.push_str(&stamp("DTSTART", instance.start, instance_dated));
        let end_name = if object.kind == RecordKind::Task {
            "DUE"
        } else {
            "DTEND"
        };
        if instance.end > instance.start {
            out.push_str(&stamp(end_name, instance.end, instance_dated));
        }
        if let Some(rid) = instance.recurrence_id {
            out.push_str(&stamp("RECURRENCE-ID", rid, master_dated));
        }
        for child in &component.children {
            for i in child.all_lines() {
                out.push_str(&lines[i].text);
                out.push_str("\r\n");
            }
        }
        out.push_str(&format!("END:{name}\r\n"));
    }
    out.push_str("END:VCALENDAR\r\n");
    let mut folded = Vec::with_capacity(out.len());
    for line in out.split("\r\n").filter(|l| !l.is_empty()) {
        super::unfold::fold(line, &mut folded);
    }
    Ok(folded)
}

#[cfg(test)]
mod tests {
    use super::*;

    const WEEKLY: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\nBEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\nBEGIN:STANDARD\r\nDTSTART:19701025T030000\r\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nEND:STANDARD\r\nBEGIN:DAYLIGHT\r\nDTSTART:19700329T020000\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nEND:DAYLIGHT\r\nEND:VTIMEZONE\r\nBEGIN:VEVENT\r\nUID:w\r\nDTSTAMP:20261101T000000Z\r\nDTSTART;TZID=Europe/Berlin:20261102T090000\r\nDTEND;TZID=Europe/Berlin:20261102T100000\r\nRRULE:FREQ=WEEKLY;COUNT=4\r\nSUMMARY:Weekly\r\nBEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER:-PT10M\r\nEND:VALARM\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:w\r\nDTSTAMP:20261101T000000Z\r\nRECURRENCE-ID;TZID=Europe/Berlin:20261109T090000\r\nDTSTART;TZID=Europe/Berlin:20261109T140000\r\nDTEND;TZID=Europe/Berlin:20261109T150000\r\nSUMMARY:Weekly (moved)\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn instances_in_range_with_the_override_in_place() {
        let out = String::from_utf8(
            expand(
                WEEKLY.as_bytes(),
                at("2026-11-01T00:00:00Z"),
                at("2026-11-20T00:00:00Z"),
            )
            .unwrap(),
        )
        .unwrap();
        assert_eq!(out.matches("BEGIN:VEVENT").count(), 3, "{out}");
        assert!(!out.contains("RRULE:FREQ=WEEKLY"), "{out}");
        assert!(
            out.contains("DTSTART:20261102T080000Z")
                && out.contains("RECURRENCE-ID:20261102T080000Z"),
            "{out}"
        );
        assert!(
            out.contains("SUMMARY:Weekly (moved)") && out.contains("DTSTART:20261109T130000Z"),
            "{out}"
        );
        assert!(out.contains("RECURRENCE-ID:20261109T080000Z"), "{out}");
        assert_eq!(
            out.matches("BEGIN:VALARM").count(),
            2,
            "alarms travel with their instances: {out}"
        );
        assert!(!out.contains("VTIMEZONE"), "{out}");
    }

    #[test]
    fn a_single_event_is_returned_as_it_is() {
        let single = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\nBEGIN:VEVENT\r\nUID:s\r\nDTSTAMP:20261101T000000Z\r\nDTSTART:20261102T090000Z\r\nSUMMARY:Once\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
        assert_eq!(
            expand(
                single.as_bytes(),
                at("2026-11-01T00:00:00Z"),
                at("2026-11-30T00:00:00Z")
            )
            .unwrap(),
            single.as_bytes()
        );
    }

    #[test]
    fn instances_of_an_all_day_series_stay_all_day() {
        // RFC 4791's own example shape (python-caldav's testRecurringDateSearch).
        let yearly = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\nBEGIN:VEVENT\r\nUID:y\r\nDTSTAMP:20261101T123000Z\r\nDTSTART;VALUE=DATE:19971102\r\nDTEND;VALUE=DATE:19971103\r\nRRULE:FREQ=YEARLY\r\nSUMMARY:Our Blissful Anniversary\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
        let out = String::from_utf8(
            expand(
                yearly.as_bytes(),
                at("2027-01-01T00:00:00Z"),
                at("2028-01-01T00:00:00Z"),
            )
            .unwrap(),
        )
        .unwrap();
        assert_eq!(out.matches("BEGIN:VEVENT").count(), 1, "{out}");
        assert!(out.contains("DTSTART;VALUE=DATE:20271102\r\n"), "{out}");
        assert!(out.contains("DTEND;VALUE=DATE:20271103\r\n"), "{out}");
        assert!(
            out.contains("RECURRENCE-ID;VALUE=DATE:20271102\r\n"),
            "{out}"
        );
        assert!(!out.contains("T000000Z"), "no midnight UTC: {out}");
    }
}
