//! Writing a calendar object resource: fields into content lines, either editing the previous
//! body (unchanged lines are copied byte for byte) or writing a clean VCALENDAR.

use super::parse::{attachment_name, attendee};
use super::{Parsed, Record};

use crate::codec::render::{Splice, escape_text, param_value};
use crate::codec::tz::{self, Zones};
use crate::codec::unfold::{self, Line, fold, tokenize};
use crate::record::{
    Attendee, AttendeeStatus, Fields, Priority, RecordKind, ShowAs, TaskStatus, When, from_fields,
    to_fields,
};
use calcard::icalendar::{ICalendar, ICalendarComponentType};
use chrono::{DateTime, Datelike, NaiveDate, Utc};

/// Render fields as an iCalendar object. With `previous`, edit those bytes: unchanged fields give
/// `previous` byte for byte; otherwise only the properties of changed fields are rewritten. Without
/// `previous` (or when `unmapped` itself changed), write a clean VCALENDAR.
///
/// DTSTAMP, required by RFC 5545 in a VEVENT/VTODO, cannot come from a clock here; a clean render
/// derives it from the record (its start, due date or completion, else 1970-01-01), so the same
/// fields always give the same bytes. An edit keeps the previous DTSTAMP.
pub fn render_icalendar(
    kind: RecordKind,
    uid: &str,
    fields: &Fields,
    previous: Option<&[u8]>,
) -> Vec<u8> {
    let record = match kind {
        RecordKind::Task => from_fields(fields).map(|t| Record::Task(Box::new(t))),
        _ => from_fields(fields).map(|e| Record::Event(Box::new(e))),
    };
    // Fields are checked before they reach the log, so this only guards against a caller's
    // mistake: never overwrite a client's body with an empty record.
    let record = match (record, previous) {
        (Ok(record), _) => record,
        (Err(_), Some(previous)) => return previous.to_vec(),
        (Err(_), None) => match kind {
            RecordKind::Task => Record::Task(Box::default()),
            _ => Record::Event(Box::default()),
        },
    };
    if let Some(previous) = previous
        && let Ok(parsed) = Parsed::new(previous)
        && parsed.object.kind == kind
        && parsed.object.uid == uid
    {
        let old = match parsed.object.kind {
            RecordKind::Task => Record::Task(Box::new(
                from_fields(&parsed.object.fields).unwrap_or_default(),
            )),
            _ => Record::Event(Box::new(
                from_fields(&parsed.object.fields).unwrap_or_default(),
            )),
        };
        let (old_map, new_map) = (record_fields(&old), record_fields(&record));
        if old_map == new_map {
            return previous.to_vec();
        }
        if old_map.get("unmapped") == new_map.get("unmapped") {
            return edit(previous, &parsed, &old_map, &new_map, &record);
        }
    }
    clean(uid, &record)
}

fn record_fields(record: &Record) -> Fields {
    match record {
        Record::Event(e) => to_fields(&**e),
        Record::Task(t) => to_fields(&**t),
    }
}

/// Everything a line builder needs besides the record.
struct Ctx<'a> {
    zones: &'a Zones,
    busy_status: bool,
}

fn edit(previous: &[u8], parsed: &Parsed, old: &Fields, new: &Fields, record: &Record) -> Vec<u8> {
    let comp = &parsed.calendar.children[parsed.primary];
    let lines = &parsed.lines;
    let m = &parsed.mapping;
    let fallback = comp.children.first().map(|c| c.begin).unwrap_or(comp.end);
    let ctx = Ctx {
        zones: &parsed.zones,
        busy_status: m.busy_status,
    };
    let mut splice = Splice::new(previous, lines);
    let mut names: Vec<&String> = old.keys().chain(new.keys()).collect();
    names.sort();
    names.dedup();
    let mut tzids_needed: Vec<String> = Vec::new();
    for name in names {
        if old.get(name) == new.get(name) || name == "unmapped" {
            continue;
        }
        let old_lines = m.lines_of(name);
        match (name.as_str(), record) {
            ("attendees", Record::Event(e)) => {
                let kept = merge_people("ATTENDEE", &e.attendees, &old_lines, lines);
                splice.swap(&old_lines, kept, fallback);
            }
            ("organizer", Record::Event(e)) => {
                let kept = merge_people("ORGANIZER", e.organizer.as_slice(), &old_lines, lines);
                splice.swap(&old_lines, kept, fallback);
            }
            ("attachments", Record::Event(e)) => {
                let mut pool: Vec<(usize, Option<String>)> = old_lines
                    .iter()
                    .map(|&i| {
                        (
                            i,
                            tokenize(&lines[i].text).and_then(|p| attachment_name(&p)),
                        )
                    })
                    .collect();
                let mut out = Vec::new();
                for file in &e.attachments {
                    match pool.iter().position(|(_, n)| n.as_deref() == Some(file)) {
                        Some(p) => out.push(lines[pool.remove(p).0].text.clone()),
                        None => out.extend(attach_line(file)),
                    }
                }
                splice.swap(&old_lines, out, fallback);
            }
            ("reminder_minutes" | "reminder_at", _) => {
                let trigger = trigger_line(record);
                match (&m.alarm, trigger) {
                    (Some((_, t)), Some(line)) => splice.replace(*t, vec![line]),
                    (Some((alarm, _)), None) => {
                        for i in alarm.all_lines() {
                            splice.delete(i);
                        }
                    }
                    (None, Some(_)) => splice.insert_before(comp.end, alarm_block(record)),
                    (None, None) => {}
                }
            }
            _ => {
                let new_lines = field_lines(name, record, &ctx);
                if matches!(name.as_str(), "start" | "end" | "exdates") {
                    tzids_needed.extend(tzids_in(&new_lines));
                }
                splice.swap(&old_lines, new_lines, fallback);
            }
        }
    }
    // A TZID the body has no VTIMEZONE for gets one, placed before the component.
    for tzid in dedup(tzids_needed) {
        if !parsed.zones.names.contains(&tzid)
            && let Some(block) = vtimezone(&tzid, record)
        {
            splice.insert_before(comp.begin, block);
        }
    }
    splice.finish()
}

/// Rebuild ORGANIZER/ATTENDEE lines: a person already there keeps their line and its other
/// parameters (ROLE, RSVP, X-NUM-GUESTS…); only CN and PARTSTAT are rewritten when they changed.
fn merge_people(
    prop: &str,
    people: &[Attendee],
    old_lines: &[usize],
    lines: &[Line],
) -> Vec<String> {
    let mut pool: Vec<usize> = old_lines.to_vec();
    let mut out = Vec::new();
    for person in people {
        let found = pool.iter().position(|&i| {
            tokenize(&lines[i].text)
                .is_some_and(|p| attendee(&p).email.eq_ignore_ascii_case(&person.email))
        });
        let Some(pos) = found else {
            out.push(person_line(prop, person, &[]));
            continue;
        };
        let idx = pool.remove(pos);
        let Some(parts) = tokenize(&lines[idx].text) else {
            continue;
        };
        if attendee(&parts) == *person {
            out.push(lines[idx].text.clone());
        } else {
            let keep: Vec<&str> = parts
                .params
                .iter()
                .copied()
                .filter(|p| {
                    let n = p
                        .split('=')
                        .next()
                        .unwrap_or("")
                        .trim()
                        .to_ascii_uppercase();
                    n != "CN" && n != "PARTSTAT"
                })
                .collect();
            out.push(person_line(&parts.upper_name(), person, &keep));
        }
    }
    out
}

fn person_line(prop: &str, person: &Attendee, keep: &[&str]) -> String {
    let mut line = prop.to_string();
    if let Some(name) = &person.name {
        line.push_str(";CN=");
        line.push_str(&param_value(name));
    }
    if let Some(status) = person.status {
        line.push_str(";PARTSTAT=");
        line.push_str(match status {
            AttendeeStatus::NeedsAction => "NEEDS-ACTION",
            AttendeeStatus::Accepted => "ACCEPTED",
            AttendeeStatus::Declined => "DECLINED",
            AttendeeStatus::Tentative => "TENTATIVE",
        });
    }
    for p in keep {
        line.push(';');
        line.push_str(p);
    }
    line.push(':');
    if person.email.contains(':') {
        line.push_str(&person.email);
    } else {
        line.push_str("mailto:");
        line.push_str(&person.email);
    }
    line
}

fn attach_line(file: &str) -> Vec<String> {
    let encoded: String = file
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    vec![format!(
        "ATTACH;FILENAME={}:urn:tandem:attachment:{encoded}",
        param_value(file)
    )]
}

fn trigger_line(record: &Record) -> Option<String> {
    match record {
        Record::Event(e) => e.reminder_minutes.map(|m| {
            if m == 0 {
                "TRIGGER:-PT0M".to_string()
            } else if m > 0 {
                format!("TRIGGER:-PT{m}M")
            } else {
                format!("TRIGGER:PT{}M", -m)
            }
        }),
        Record::Task(t) => t
            .reminder_at
            .map(|at| format!("TRIGGER;VALUE=DATE-TIME:{}", utc_text(at))),
    }
}

fn alarm_block(record: &Record) -> Vec<String> {
    match trigger_line(record) {
        Some(trigger) => vec![
            "BEGIN:VALARM".to_string(),
            "ACTION:DISPLAY".to_string(),
            "DESCRIPTION:Reminder".to_string(),
            trigger,
            "END:VALARM".to_string(),
        ],
        None => Vec::new(),
    }
}

fn utc_text(at: DateTime<Utc>) -> String {
    at.format("%Y%m%dT%H%M%SZ").to_string()
}

fn date_text(d: NaiveDate) -> String {
    format!("{:04}{:02}{:02}", d.year(), d.month(), d.day())
}

/// `NAME;TZID=x:local`, `NAME;VALUE=DATE:date` or `NAME:utcZ` for a `When`.
fn when_line(name: &str, when: &When, zones: &Zones) -> String {
    match when {
        When::Date(d) => format!("{name};VALUE=DATE:{}", date_text(*d)),
        // A floating time stays floating: the wall-clock time, without a zone.
        When::Time {
            utc,
            floating: true,
            ..
        } => format!("{name}:{}", utc.naive_utc().format("%Y%m%dT%H%M%S")),
        When::Time { utc, tzid, .. } => {
            match tzid.as_deref().and_then(|t| Some((t, zones.resolve(t)?))) {
                Some((tzid, tz)) => format!(
                    "{name};TZID={}:{}",
                    param_value(tzid),
                    tz::to_local(*utc, tz).format("%Y%m%dT%H%M%S")
                ),
                // A zone nobody can resolve: write the instant in UTC.
                None => format!("{name}:{}", utc_text(*utc)),
            }
        }
    }
}

/// EXDATE lines: one per run of dates written the same way, so the order survives a round trip.
fn exdate_lines(dates: &[When], zones: &Zones) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut last_head: Option<String> = None;
    for d in dates {
        let line = when_line("EXDATE", d, zones);
        let (head, value) = match line.rsplit_once(':') {
            Some((h, v)) => (h.to_string(), v.to_string()),
            None => continue,
        };
        match (&last_head, out.last_mut()) {
            (Some(h), Some(prev)) if *h == head => {
                prev.push(',');
                prev.push_str(&value);
            }
            _ => {
                out.push(line);
                last_head = Some(head);
            }
        }
    }
    out
}

fn text_line(name: &str, value: &Option<String>) -> Vec<String> {
    value
        .iter()
        .map(|v| format!("{name}:{}", escape_text(v)))
        .collect()
}

fn categories_line(categories: &[String]) -> Vec<String> {
    if categories.is_empty() {
        return Vec::new();
    }
    let values: Vec<String> = categories.iter().map(|c| escape_text(c)).collect();
    vec![format!("CATEGORIES:{}", values.join(","))]
}

/// The content lines for one field (reminders are handled apart, as they are components).
fn field_lines(field: &str, record: &Record, ctx: &Ctx<'_>) -> Vec<String> {
    match record {
        Record::Event(e) => match field {
            "subject" => text_line("SUMMARY", &e.subject),
            "location" => text_line("LOCATION", &e.location),
            "description" => text_line("DESCRIPTION", &e.description),
            "description_html" => text_line("X-ALT-DESC;FMTTYPE=text/html", &e.description_html),
            "start" => e
                .start
                .iter()
                .map(|w| when_line("DTSTART", w, ctx.zones))
                .collect(),
            "end" => e
                .end
                .iter()
                .map(|w| when_line("DTEND", w, ctx.zones))
                .collect(),
            "rrule" => e.rrule.iter().map(|r| rrule_line(r)).collect(),
            "exdates" => exdate_lines(&e.exdates, ctx.zones),
            "categories" => categories_line(&e.categories),
            "private" => private_line(e.private),
            "show_as" => match e.show_as {
                None => Vec::new(),
                Some(ShowAs::Free) => {
                    let mut v = vec!["TRANSP:TRANSPARENT".to_string()];
                    if ctx.busy_status {
                        v.push("X-MICROSOFT-CDO-BUSYSTATUS:FREE".to_string());
                    }
                    v
                }
                Some(ShowAs::Busy) => {
                    let mut v = vec!["TRANSP:OPAQUE".to_string()];
                    if ctx.busy_status {
                        v.push("X-MICROSOFT-CDO-BUSYSTATUS:BUSY".to_string());
                    }
                    v
                }
                Some(ShowAs::OutOfOffice) => vec![
                    "TRANSP:OPAQUE".to_string(),
                    "X-MICROSOFT-CDO-BUSYSTATUS:OOF".to_string(),
                ],
            },
            "organizer" => e
                .organizer
                .iter()
                .map(|p| person_line("ORGANIZER", p, &[]))
                .collect(),
            "attendees" => e
                .attendees
                .iter()
                .map(|p| person_line("ATTENDEE", p, &[]))
                .collect(),
            "attachments" => e.attachments.iter().flat_map(|f| attach_line(f)).collect(),
            // who/what/owner travel to Salesforce only; a calendar client has no place for them.
            _ => Vec::new(),
        },
        Record::Task(t) => match field {
            "subject" => text_line("SUMMARY", &t.subject),
            "description" => text_line("DESCRIPTION", &t.description),
            "description_html" => text_line("X-ALT-DESC;FMTTYPE=text/html", &t.description_html),
            "start" => t
                .start
                .iter()
                .map(|d| format!("DTSTART;VALUE=DATE:{}", date_text(*d)))
                .collect(),
            "due" => t
                .due
                .iter()
                .map(|d| format!("DUE;VALUE=DATE:{}", date_text(*d)))
                .collect(),
            "status" => match t.status {
                None => Vec::new(),
                Some(TaskStatus::NotStarted) => vec!["STATUS:NEEDS-ACTION".to_string()],
                Some(TaskStatus::InProgress) => vec!["STATUS:IN-PROCESS".to_string()],
                Some(TaskStatus::Completed) => vec!["STATUS:COMPLETED".to_string()],
                Some(TaskStatus::Cancelled) => vec!["STATUS:CANCELLED".to_string()],
                // iCalendar has no such states: NEEDS-ACTION for clients, the nuance for tandem.
                Some(TaskStatus::Waiting) => vec![
                    "STATUS:NEEDS-ACTION".to_string(),
                    "X-TANDEM-STATUS:WAITING".to_string(),
                ],
                Some(TaskStatus::Deferred) => vec![
                    "STATUS:NEEDS-ACTION".to_string(),
                    "X-TANDEM-STATUS:DEFERRED".to_string(),
                ],
            },
            "priority" => t
                .priority
                .iter()
                .map(|p| {
                    format!(
                        "PRIORITY:{}",
                        match p {
                            Priority::High => 1,
                            Priority::Normal => 5,
                            Priority::Low => 9,
                        }
                    )
                })
                .collect(),
            "completed_at" => t
                .completed_at
                .iter()
                .map(|at| format!("COMPLETED:{}", utc_text(*at)))
                .collect(),
            "rrule" => t.rrule.iter().map(|r| rrule_line(r)).collect(),
            "categories" => categories_line(&t.categories),
            "private" => private_line(t.private),
            _ => Vec::new(),
        },
    }
}

fn rrule_line(rule: &str) -> String {
    let rule = rule.trim();
    let rule = match rule.get(..6) {
        Some(p) if p.eq_ignore_ascii_case("RRULE:") => &rule[6..],
        _ => rule,
    };
    format!("RRULE:{rule}")
}

fn private_line(private: bool) -> Vec<String> {
    if private {
        vec!["CLASS:PRIVATE".to_string()]
    } else {
        Vec::new()
    }
}

fn tzids_in(lines: &[String]) -> Vec<String> {
    lines
        .iter()
        .filter_map(|l| tokenize(l)?.param("TZID"))
        .collect()
}

fn dedup(mut v: Vec<String>) -> Vec<String> {
    let mut seen = Vec::new();
    v.retain(|x| {
        if seen.contains(x) {
            false
        } else {
            seen.push(x.clone());
            true
        }
    });
    v
}

/// A VTIMEZONE for an IANA or Windows TZID, generated by calcard from the tz database, covering
/// the years around the record's start.
fn vtimezone(tzid: &str, record: &Record) -> Option<Vec<String>> {
    let year = match record {
        Record::Event(e) => e.start.as_ref().map(|w| match w {
            When::Date(d) => d.year(),
            When::Time { utc, .. } => utc.year(),
        }),
        Record::Task(t) => t.start.or(t.due).map(|d| d.year()),
    }
    .unwrap_or(2000);
    let from = NaiveDate::from_ymd_opt(year - 1, 1, 1)?
        .and_hms_opt(0, 0, 0)?
        .and_utc()
        .timestamp();
    let to = NaiveDate::from_ymd_opt(year + 3, 1, 1)?
        .and_hms_opt(0, 0, 0)?
        .and_utc()
        .timestamp();
    let mut cal = ICalendar {
        components: vec![calcard::icalendar::ICalendarComponent {
            component_type: ICalendarComponentType::VCalendar,
            ..Default::default()
        }],
    };
    cal.add_timezone(tzid, from, to)?;
    let text = cal.to_string();
    let lines = unfold::split(text.as_bytes()).ok()?;
    let mut out = Vec::new();
    let mut inside = false;
    for line in lines {
        let upper = line.text.to_ascii_uppercase();
        if upper == "BEGIN:VTIMEZONE" {
            inside = true;
        }
        if inside {
            out.push(line.text);
        }
        if upper == "END:VTIMEZONE" {
            break;
        }
    }
    (!out.is_empty()).then_some(out)
}

/// A clean VCALENDAR for a record; see the module documentation for where `unmapped` goes.
fn clean(uid: &str, record: &Record) -> Vec<u8> {
    let zones = Zones::default();
    let (comp_name, unmapped) = match record {
        Record::Event(e) => ("VEVENT", &e.unmapped),
        Record::Task(t) => ("VTODO", &t.unmapped),
    };
    // Split `unmapped` into the component's own lines and the calendar-level part.
    let split_at = unmapped
        .iter()
        .position(|l| l.eq_ignore_ascii_case("BEGIN:VCALENDAR"))
        .unwrap_or(unmapped.len());
    let (own, calendar_level) = unmapped.split_at(split_at);
    let mut calendar_props = Vec::new();
    let mut blocks: &[String] = &[];
    if !calendar_level.is_empty() {
        let end = calendar_level
            .iter()
            .position(|l| l.eq_ignore_ascii_case("END:VCALENDAR"))
            .unwrap_or(calendar_level.len());
        calendar_props.extend(calendar_level[1..end].iter().cloned());
        blocks = calendar_level.get(end + 1..).unwrap_or(&[]);
    }

    let mut lines: Vec<String> = vec![
        "BEGIN:VCALENDAR".to_string(),
        "VERSION:2.0".to_string(),
        "PRODID:-//tandem//tandem//EN".to_string(),
    ];
    lines.extend(calendar_props);

    let ctx = Ctx {
        zones: &zones,
        busy_status: false,
    };
    let order: &[&str] = match record {
        Record::Event(_) => &[
            "subject",
            "location",
            "description",
            "description_html",
            "start",
            "end",
            "rrule",
            "exdates",
            "categories",
            "private",
            "show_as",
            "organizer",
            "attendees",
            "attachments",
        ],
        Record::Task(_) => &[
            "subject",
            "description",
            "description_html",
            "start",
            "due",
            "status",
            "priority",
            "completed_at",
            "rrule",
            "categories",
            "private",
        ],
    };
    let mut body = Vec::new();
    for field in order {
        body.extend(field_lines(field, record, &ctx));
    }
    for tzid in dedup(tzids_in(&body)) {
        if let Some(block) = vtimezone(&tzid, record) {
            lines.extend(block);
        }
    }
    lines.push(format!("BEGIN:{comp_name}"));
    lines.push(format!("UID:{uid}"));
    lines.push(format!("DTSTAMP:{}", utc_text(derived_stamp(record))));
    lines.extend(body);
    lines.extend(own.iter().cloned());
    lines.extend(alarm_block(record));
    lines.push(format!("END:{comp_name}"));
    lines.extend(blocks.iter().cloned());
    lines.push("END:VCALENDAR".to_string());

    let mut out = Vec::new();
    for line in &lines {
        fold(line, &mut out);
    }
    out
}

/// DTSTAMP for a clean render, derived from the record so rendering stays deterministic.
fn derived_stamp(record: &Record) -> DateTime<Utc> {
    let epoch = DateTime::<Utc>::UNIX_EPOCH;
    match record {
        Record::Event(e) => match &e.start {
            Some(When::Time { utc, .. }) => *utc,
            Some(When::Date(d)) => tz::date_start(*d),
            None => epoch,
        },
        Record::Task(t) => t
            .completed_at
            .or(t.due.map(tz::date_start))
            .or(t.start.map(tz::date_start))
            .unwrap_or(epoch),
    }
}
