//! Outlook calendar events (resources/event.md) ⇄ `Event` fields.
//!
//! A timed event's instant comes from `start`/`end` (in whatever zone Graph answered), its zone
//! from `originalStartTimeZone`, the zone it was created in, kept by name (Windows or IANA). A
//! legacy custom zone (`tzone://Microsoft/Custom`) names no zone: the user's zone stands in.
//! An all-day event is midnight to midnight, so the record's exclusive end is Graph's end.
//!
//! Writing attendees has a side effect outside tandem: Outlook sends invitations (or updates)
//! from the user's mailbox for a meeting the user organizes.

use super::body;
use super::error::GraphMappingError;
use super::json::{Item, put};
use super::recurrence::{Anchor, rule_from_graph, rule_to_graph};
use super::time::{
    CUSTOM_ZONE, SendZone, UTC_ZONE, date_time_zone, day_of, read_stamp, resolve, send_zone,
    to_local,
};
use crate::record::{
    Attendee, AttendeeStatus, Event, Fields, RecordKind, ShowAs, When, from_fields,
};
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;
use serde_json::{Map, Value, json};

pub(crate) const ITEM: &str = "event";

pub(crate) const FEEDS: &[(&str, &[&str])] = &[
    ("subject", &["subject"]),
    ("body", &["description", "description_html"]),
    ("start", &["start"]),
    ("end", &["end"]),
    ("isAllDay", &["start", "end"]),
    ("location", &["location"]),
    ("sensitivity", &["private"]),
    ("showAs", &["show_as"]),
    ("isReminderOn", &["reminder_minutes"]),
    ("reminderMinutesBeforeStart", &["reminder_minutes"]),
    ("categories", &["categories"]),
    ("attendees", &["attendees"]),
    ("recurrence", &["rrule"]),
];

/// Sent together: an event's times and its all-day flag; a reminder's flag and its minutes.
pub(crate) const GROUPS: &[&[&str]] = &[
    &["start", "end", "isAllDay"],
    &["isReminderOn", "reminderMinutesBeforeStart"],
];

const SHOW_AS: [(&str, Option<ShowAs>); 6] = [
    ("free", Some(ShowAs::Free)),
    ("busy", Some(ShowAs::Busy)),
    ("oof", Some(ShowAs::OutOfOffice)),
    // The record has no "tentative" or "working elsewhere": both block the time.
    ("tentative", Some(ShowAs::Busy)),
    ("workingElsewhere", Some(ShowAs::Busy)),
    ("unknown", None),
];

const RESPONSES: [(&str, Option<AttendeeStatus>); 6] = [
    ("none", None),
    ("notResponded", Some(AttendeeStatus::NeedsAction)),
    ("accepted", Some(AttendeeStatus::Accepted)),
    ("declined", Some(AttendeeStatus::Declined)),
    ("tentativelyAccepted", Some(AttendeeStatus::Tentative)),
    ("organizer", Some(AttendeeStatus::Accepted)),
];

pub(crate) fn read(item: &Item, zone: Tz) -> Result<Fields, GraphMappingError> {
    let mut fields = Fields::new();
    put(&mut fields, "subject", item.text("subject")?);
    body::read(item, &mut fields)?;
    let (start, end) = times(item, zone)?;
    put(&mut fields, "start", &start);
    put(&mut fields, "end", &end);
    if let Some(location) = item.object("location", "location.")? {
        put(&mut fields, "location", location.text("displayName")?);
    }
    if let Some(sensitivity) = item.text("sensitivity")? {
        let private = match sensitivity.to_ascii_lowercase().as_str() {
            "private" | "confidential" => true,
            "normal" | "personal" => false,
            _ => {
                return Err(item.bad(
                    "sensitivity",
                    &sensitivity,
                    "normal, personal, private or confidential",
                ));
            }
        };
        put(&mut fields, "private", private);
    }
    if let Some(show_as) = item.text("showAs")? {
        let found = SHOW_AS
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(&show_as))
            .ok_or_else(|| {
                item.bad(
                    "showAs",
                    &show_as,
                    "free, tentative, busy, oof, workingElsewhere or unknown",
                )
            })?;
        put(&mut fields, "show_as", found.1);
    }
    if item.flag("isReminderOn")? {
        put(
            &mut fields,
            "reminder_minutes",
            Some(item.int("reminderMinutesBeforeStart")?.unwrap_or(0)),
        );
    }
    put(&mut fields, "categories", item.texts("categories")?);
    if let Some(organizer) = item.object("organizer", "organizer.")? {
        put(&mut fields, "organizer", person(&organizer, None)?);
    }
    let mut attendees = Vec::new();
    for (i, value) in item.list("attendees")?.into_iter().enumerate() {
        let path = format!("attendees[{i}].");
        let attendee = item.element("attendees", value, &path)?;
        let status = match attendee.object("status", "status.")? {
            Some(s) => match s.text("response")? {
                Some(r) => RESPONSES
                    .iter()
                    .find(|(n, _)| n.eq_ignore_ascii_case(&r))
                    .map(|(_, st)| *st)
                    .ok_or_else(|| {
                        s.bad(
                            "response",
                            &r,
                            "none, organizer, tentativelyAccepted, accepted, declined or notResponded",
                        )
                    })?,
                None => None,
            },
            None => None,
        };
        attendees.extend(person(&attendee, status)?);
    }
    put(&mut fields, "attendees", attendees);
    if let Some(anchor) = anchor_of(&start, zone) {
        put(&mut fields, "rrule", rule_from_graph(item, &anchor)?);
    }
    Ok(fields)
}

/// A `recipient`/`attendee`'s e-mail address as an `Attendee`. A name that only repeats the
/// address is no name (Graph fills one in when none was sent).
fn person(
    item: &Item,
    status: Option<AttendeeStatus>,
) -> Result<Option<Attendee>, GraphMappingError> {
    let Some(email) = item.object("emailAddress", "emailAddress.")? else {
        return Ok(None);
    };
    let Some(address) = email.text("address")? else {
        return Ok(None);
    };
    let name = email
        .text("name")?
        .filter(|n| !n.eq_ignore_ascii_case(&address));
    Ok(Some(Attendee {
        email: address,
        name,
        status,
    }))
}

/// Whether a zone name (IANA, Windows, or Outlook's own) means UTC itself.
fn is_utc(name: &str) -> bool {
    [
        "UTC",
        "Etc/UTC",
        "Etc/Universal",
        "Universal",
        "Zulu",
        "tzone://Microsoft/Utc",
    ]
    .iter()
    .any(|utc| utc.eq_ignore_ascii_case(name.trim()))
}

/// The event's start and end.
fn times(item: &Item, zone: Tz) -> Result<(Option<When>, Option<When>), GraphMappingError> {
    let all_day = item.flag("isAllDay")?;
    let start = read_stamp(item, "start")?;
    let end = read_stamp(item, "end")?;
    if all_day {
        let day = |s: &super::time::Stamp| When::Date(day_of(s.local, s.zone, zone));
        return Ok((start.as_ref().map(day), end.as_ref().map(day)));
    }
    let start_zone = zone_name(item, "originalStartTimeZone", start.as_ref(), zone)?;
    let end_zone = match item.text("originalEndTimeZone")? {
        Some(_) => zone_name(item, "originalEndTimeZone", end.as_ref(), zone)?,
        None => start_zone.clone(),
    };
    let at = |stamp: Option<super::time::Stamp>,
              property: &str,
              tzid: String|
     -> Result<Option<When>, GraphMappingError> {
        stamp
            .map(|s| {
                Ok(When::Time {
                    utc: s.utc(item, property)?,
                    // A time in UTC is a `Z` time on the desktop, not one with a zone named
                    // UTC: the same instant either way, and written the same, so a round trip
                    // does not read as a change.
                    tzid: (!is_utc(&tzid)).then_some(tzid),
                    floating: false,
                })
            })
            .transpose()
    };
    Ok((at(start, "start", start_zone)?, at(end, "end", end_zone)?))
}

/// The zone a time was entered in: `originalStartTimeZone` when it names a zone, else the zone
/// Graph answered in when that is not just its UTC default, else the user's zone (a legacy
/// custom zone of Outlook desktop, which tandem cannot read, is most likely the user's own).
fn zone_name(
    item: &Item,
    property: &str,
    stamp: Option<&super::time::Stamp>,
    zone: Tz,
) -> Result<String, GraphMappingError> {
    if let Some(name) = item.text(property)? {
        if name.eq_ignore_ascii_case(UTC_ZONE) {
            return Ok("UTC".into());
        }
        if name != CUSTOM_ZONE && resolve(&name).is_some() {
            return Ok(name);
        }
    }
    if let Some(s) = stamp
        && s.zone.is_some_and(|z| z != Tz::UTC)
    {
        return Ok(s.zone_name.clone());
    }
    Ok(zone.name().to_string())
}

/// Where a series' rule is anchored: all-day series in the user's zone, timed ones in their own.
fn anchor_of(start: &Option<When>, zone: Tz) -> Option<Anchor> {
    match start.as_ref()? {
        When::Date(day) => Some(Anchor {
            all_day: true,
            zone,
            zone_name: send_zone(zone.name(), midnight(*day)).name,
            first: *day,
            time: None,
        }),
        When::Time {
            utc,
            tzid,
            floating,
        } => {
            // The zone the start is sent in (`time_value`), so the range starts on its day.
            let sent = match (tzid, floating) {
                (Some(t), false) => send_zone(t, *utc),
                (None, false) => SendZone::utc(),
                (_, true) => send_zone(zone.name(), *utc),
            };
            let local = if *floating {
                utc.naive_utc()
            } else {
                to_local(*utc, sent.tz)
            };
            Some(Anchor {
                all_day: false,
                zone: sent.tz,
                zone_name: sent.name,
                first: local.date(),
                time: Some(local.time()),
            })
        }
    }
}

fn midnight(day: NaiveDate) -> DateTime<Utc> {
    day.and_time(NaiveTime::MIN).and_utc()
}

/// A time as `dateTimeTimeZone`: in its own zone when Graph accepts it, a floating time at its
/// wall-clock time in the user's zone.
fn time_value(utc: DateTime<Utc>, tzid: Option<&str>, floating: bool, zone: Tz) -> Value {
    let sent = match (tzid, floating) {
        (Some(t), false) => send_zone(t, utc),
        (None, false) => SendZone::utc(),
        (_, true) => send_zone(zone.name(), utc),
    };
    let local = if floating {
        utc.naive_utc()
    } else {
        to_local(utc, sent.tz)
    };
    date_time_zone(local, &sent.name)
}

fn record_error(field: &str, reason: impl Into<String>) -> GraphMappingError {
    GraphMappingError::BadRecordField {
        kind: RecordKind::Event.as_str(),
        field: field.into(),
        reason: reason.into(),
    }
}

/// The properties for `fields`: all of them with `current` (cleared ones empty or at Outlook's
/// default, attendees keeping their responses), only those with a value without.
pub(crate) fn write(
    fields: &Fields,
    current: Option<&Value>,
    zone: Tz,
) -> Result<Map<String, Value>, GraphMappingError> {
    let event: Event =
        from_fields(fields).map_err(|reason| super::invalid(RecordKind::Event, reason))?;
    let cur_text = |p: &str| {
        current
            .and_then(|c| c.get(p))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let mut body = Map::new();
    body.insert(
        "subject".into(),
        json!(event.subject.clone().unwrap_or_default()),
    );
    if let Some(b) = body::write(fields, current) {
        body.insert("body".into(), b);
    }

    let Some(start) = &event.start else {
        return Err(record_error(
            "start",
            "an Outlook event needs a start; give the event one",
        ));
    };
    match (start, &event.end) {
        (When::Date(first), end) => {
            let last = match end {
                Some(When::Date(d)) if d > first => *d,
                // Clients write DTEND = DTSTART for a one-day event too.
                Some(When::Date(_)) | None => first.succ_opt().unwrap_or(*first),
                Some(When::Time { .. }) => return Err(mixed()),
            };
            let sent = send_zone(zone.name(), midnight(*first));
            body.insert("isAllDay".into(), json!(true));
            body.insert("start".into(), super::time::day_value(*first, &sent));
            body.insert("end".into(), super::time::day_value(last, &sent));
        }
        (
            When::Time {
                utc,
                tzid,
                floating,
            },
            end,
        ) => {
            let start_value = time_value(*utc, tzid.as_deref(), *floating, zone);
            let end_value = match end {
                None => start_value.clone(),
                Some(When::Time {
                    utc: e,
                    tzid: etz,
                    floating: ef,
                }) => {
                    let begins = if *floating {
                        to_utc_floating(*utc, zone)
                    } else {
                        *utc
                    };
                    let ends = if *ef { to_utc_floating(*e, zone) } else { *e };
                    if ends < begins {
                        return Err(record_error(
                            "end",
                            format!(
                                "the event ends ({ends}) before it starts ({begins}); fix its end"
                            ),
                        ));
                    }
                    let etz = etz.as_deref().or(tzid.as_deref()).map(str::to_string);
                    time_value(*e, etz.as_deref(), *ef, zone)
                }
                Some(When::Date(_)) => return Err(mixed()),
            };
            body.insert("isAllDay".into(), json!(false));
            body.insert("start".into(), start_value);
            body.insert("end".into(), end_value);
        }
    }

    body.insert(
        "location".into(),
        json!({"displayName": event.location.clone().unwrap_or_default()}),
    );
    // What the record cannot tell apart is left as Outlook has it.
    let sensitivity = match (event.private, cur_text("sensitivity").as_str()) {
        (true, "confidential") => "confidential",
        (true, _) => "private",
        (false, "personal") => "personal",
        (false, _) => "normal",
    };
    body.insert("sensitivity".into(), json!(sensitivity));
    let current_show = cur_text("showAs");
    let show_as = match event.show_as {
        Some(ShowAs::Free) => "free".to_string(),
        Some(ShowAs::OutOfOffice) => "oof".to_string(),
        Some(ShowAs::Busy) if matches!(current_show.as_str(), "tentative" | "workingElsewhere") => {
            current_show
        }
        None if current_show == "unknown" => current_show,
        Some(ShowAs::Busy) | None => "busy".to_string(),
    };
    body.insert("showAs".into(), json!(show_as));
    // Outlook turns a reminder on for a new event unless told otherwise.
    match event.reminder_minutes {
        Some(minutes) => {
            body.insert("isReminderOn".into(), json!(true));
            body.insert("reminderMinutesBeforeStart".into(), json!(minutes));
        }
        None => {
            body.insert("isReminderOn".into(), json!(false));
        }
    }
    body.insert("categories".into(), json!(event.categories));
    body.insert("attendees".into(), attendees(&event.attendees, current));
    let recurrence = match (&event.rrule, anchor_of(&event.start, zone)) {
        (Some(rule), Some(anchor)) => rule_to_graph(rule, &anchor)?,
        _ => Value::Null,
    };
    body.insert("recurrence".into(), recurrence);

    if current.is_none() {
        body.retain(|name, v| {
            let default = matches!(
                (name.as_str(), v.as_str()),
                ("sensitivity", Some("normal")) | ("showAs", Some("busy"))
            ) || (name == "isAllDay" && *v == json!(false));
            name == "isReminderOn" || !(super::json::is_blank(v) || default)
        });
    }
    Ok(body)
}

fn to_utc_floating(wall: DateTime<Utc>, zone: Tz) -> DateTime<Utc> {
    super::time::to_utc(wall.naive_utc(), zone)
}

fn mixed() -> GraphMappingError {
    record_error(
        "end",
        "the start and the end must both be dates (all-day) or both be times",
    )
}

/// The attendee list to send: those Outlook has keep their entry (type, response), in
/// Outlook's order; new ones are required attendees; those the record dropped are removed.
fn attendees(wanted: &[Attendee], current: Option<&Value>) -> Value {
    let address = |v: &Value| {
        v.get("emailAddress")
            .and_then(|e| e.get("address"))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let find = |list: &[Attendee], email: &str| {
        list.iter()
            .find(|a| a.email.eq_ignore_ascii_case(email))
            .cloned()
    };
    let mut out = Vec::new();
    let mut kept: Vec<String> = Vec::new();
    for entry in current
        .and_then(|c| c.get("attendees"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let email = address(entry);
        let Some(want) = find(wanted, &email) else {
            continue;
        };
        let mut entry = entry.clone();
        let shown = entry
            .get("emailAddress")
            .and_then(|e| e.get("name"))
            .and_then(Value::as_str)
            .unwrap_or("");
        if let Some(name) = want.name.filter(|n| n != shown)
            && let Some(e) = entry.get_mut("emailAddress").and_then(Value::as_object_mut)
        {
            e.insert("name".into(), json!(name));
        }
        kept.push(email.to_ascii_lowercase());
        out.push(entry);
    }
    for a in wanted {
        if kept.contains(&a.email.to_ascii_lowercase()) {
            continue;
        }
        kept.push(a.email.to_ascii_lowercase());
        let mut email = Map::new();
        email.insert("address".into(), json!(a.email));
        if let Some(name) = &a.name {
            email.insert("name".into(), json!(name));
        }
        out.push(json!({"emailAddress": email, "type": "required"}));
    }
    Value::Array(out)
}
