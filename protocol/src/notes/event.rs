//! Notes calendar entries (JSCalendar `jsevent`s of the PIM API) ⇄ `Event` fields.
//!
//! An entry starts at a LocalDateTime in its `timeZone` and lasts a `duration`; the record's
//! start and (exclusive) end are instants with the zone's IANA name, whatever notation Domino
//! answered in (see `zone`). No `timeZone` is a floating time. An all-day entry
//! (`showWithoutTime`) starts at midnight of its first day and lasts whole days.
//!
//! `privacy` `private` and `secret` read as private (a private record is sent as `private`, a
//! `secret` entry stays secret); `freeBusyStatus` knows only free and busy, so out-of-office
//! goes out as busy. The first location's name is the location; a cleared location removes
//! them all. The first alert with an offset before the start is the reminder. Categories are a
//! set (`{name: true}`; Domino's `{"null": true}` is the empty one).
//!
//! Participants are never written: writing them makes Notes mail invitations. An update is a
//! PUT of the whole entry, so it is built on the entry as Domino last returned it, keeping its
//! participants, vendor properties and whatever else tandem does not map; what the server sets
//! (`uid`, `created`, `updated`, `@type`, `referenceFolder`) is dropped.

use super::body::{self, Body};
use super::error::NotesMappingError;
use super::json::{Item, put};
use super::overrides::{self, Master};
use super::recurrence::{Anchor, rule_from_js, rule_to_js};
use super::time::{
    end_of, exact_duration, local_text, parse_duration, parse_local, to_local, to_utc,
};
use super::zone::zone;
use crate::record::{Event, Fields, RecordKind, ShowAs, When, from_fields};
use calcard::icalendar::ICalendarDuration;
use chrono::{NaiveTime, TimeDelta};
use chrono_tz::Tz;
use serde_json::{Map, Value, json};

pub(crate) const ITEM: &str = "jsevent";

/// What the server sets; a body's values for them are ignored, so they are not sent.
const SERVER_SET: [&str; 5] = ["uid", "created", "updated", "@type", "referenceFolder"];

/// A vendor property (RFC 8984 §3.3) with the RRULE as the record spells it: RecurrenceRule
/// parts have no order, RRULE text does, and a client's rule should come back as it wrote it.
/// It is read only while the entry's rule is still that rule.
const RULE_PROPERTY: &str = "tandem.app:rrule";

/// The id tandem gives the location and the alert it writes on an entry that has none.
const OWN_ID: &str = "tandem";

/// The entry's master: its fields, with the series' exdates and its changed occurrences (kept
/// in `unmapped` as overrides, see `overrides`).
pub(crate) fn read(item: &Item, user: Tz) -> Result<Fields, NotesMappingError> {
    let (mut fields, master) = read_one(item, user)?;
    if let Some(master) = master {
        overrides::read(item, &master, &mut fields, user)?;
    }
    Ok(fields)
}

/// One entry's own fields (an occurrence has no rule), and how its times are anchored.
pub(crate) fn read_one(
    item: &Item,
    user: Tz,
) -> Result<(Fields, Option<Master>), NotesMappingError> {
    let mut fields = Fields::new();
    put(&mut fields, "subject", item.text("title")?);
    if let Some(content) = item.text("description")? {
        let html = match item.text("descriptionContentType")? {
            Some(t) => t.to_ascii_lowercase().starts_with("text/html"),
            None => body::looks_like_html(&content),
        };
        body::read(&content, html, &mut fields);
    }
    let master = timing(item, user, &mut fields)?;
    for (_, location) in item.entries("locations")? {
        if let Some(name) = location.text("name")? {
            put(&mut fields, "location", name);
            break;
        }
    }
    if let Some(privacy) = item.text("privacy")? {
        // RFC 8984 §4.4.3: a value not understood is treated as private.
        put(
            &mut fields,
            "private",
            !privacy.eq_ignore_ascii_case("public"),
        );
    }
    if let Some(status) = item.text("freeBusyStatus")? {
        let show = match status.to_ascii_lowercase().as_str() {
            "free" => ShowAs::Free,
            "busy" => ShowAs::Busy,
            _ => return Err(item.bad("freeBusyStatus", &status, "free or busy")),
        };
        put(&mut fields, "show_as", show);
    }
    if let Some((_, minutes)) = reminder(item)? {
        put(&mut fields, "reminder_minutes", Some(minutes));
    }
    let categories: Vec<String> = match item.object("categories")? {
        Some(map) => map
            .map
            .iter()
            .filter(|(name, on)| on.as_bool() == Some(true) && name.as_str() != "null")
            .map(|(name, _)| name.clone())
            .collect(),
        None => Vec::new(),
    };
    put(&mut fields, "categories", categories);
    if let Some(master) = &master {
        let rules = item.list_of("recurrenceRules")?;
        match rules.as_slice() {
            [] => {}
            [one] => {
                let Value::Object(map) = one else {
                    return Err(item.wrong(
                        "recurrenceRules",
                        "a list of RecurrenceRule objects",
                        one,
                    ));
                };
                let rule = Item {
                    kind: item.kind,
                    path: "recurrenceRules/0/".into(),
                    map,
                };
                let read = rule_from_js(&rule, master.anchor())?;
                // The rule as the record spelled it, when it still is the entry's rule.
                let spelled = item.text(RULE_PROPERTY)?.filter(|text| {
                    rule_to_js(text, master.anchor()).is_ok_and(|js| same_rule(&js, one))
                });
                put(&mut fields, "rrule", spelled.unwrap_or(read));
            }
            _ => {
                return Err(NotesMappingError::BadRecurrence {
                    item: item.kind,
                    reason: format!(
                        "{} rules; a record keeps one RRULE, so an entry with several is not read",
                        rules.len()
                    ),
                });
            }
        }
    }
    Ok((fields, master))
}

/// The first alert that fires a fixed time before the start: its id and the minutes.
fn reminder(item: &Item) -> Result<Option<(String, i64)>, NotesMappingError> {
    for (id, alert) in item.entries("alerts")? {
        let Some(trigger) = alert.object("trigger")? else {
            continue;
        };
        let offset_trigger = trigger
            .text("@type")?
            .or(trigger.text("type")?)
            .is_none_or(|t| t.eq_ignore_ascii_case("OffsetTrigger"));
        let from_start = trigger
            .text("relativeTo")?
            .is_none_or(|r| r.eq_ignore_ascii_case("start"));
        let Some(offset) = trigger.text("offset")? else {
            continue;
        };
        let duration = parse_duration(&offset)
            .ok_or_else(|| trigger.bad("offset", &offset, "a signed duration like -PT15M"))?;
        let seconds = duration.as_seconds();
        if offset_trigger && from_start && seconds <= 0 {
            return Ok(Some((id.to_string(), -seconds / 60)));
        }
    }
    Ok(None)
}

/// Start and end into `fields`; `None` when the entry has no start.
fn timing(item: &Item, user: Tz, fields: &mut Fields) -> Result<Option<Master>, NotesMappingError> {
    let Some(text) = item.text("start")? else {
        return Ok(None);
    };
    let local = parse_local(&text)
        .ok_or_else(|| item.bad("start", &text, "a LocalDateTime like 2026-12-10T09:00:00"))?;
    let duration = match item.text("duration")? {
        Some(d) => Some(
            parse_duration(&d)
                .filter(|d| !d.neg)
                .ok_or_else(|| item.bad("duration", &d, "a positive duration like PT1H or P1D"))?,
        ),
        None => None,
    };
    if item.flag("showWithoutTime")? {
        let first = local.date();
        put(fields, "start", When::Date(first));
        let days = duration
            .map_or(1, |d| (d.as_seconds().saturating_add(86_399)) / 86_400)
            .max(1);
        let end = TimeDelta::try_days(days)
            .and_then(|days| first.checked_add_signed(days))
            .ok_or_else(|| record_error("end", "the duration ends beyond the calendar"))?;
        put(fields, "end", When::Date(end));
        return Ok(Some(Master {
            all_day: true,
            zone: None,
            tzid: None,
        }));
    }
    // A zone tandem cannot read is most likely the user's own.
    let tz = item
        .text("timeZone")?
        .map(|name| zone(&name).unwrap_or(user));
    let tzid = tz
        .filter(|tz| *tz != Tz::UTC)
        .map(|tz| tz.name().to_string());
    let at = |utc| When::Time {
        utc,
        tzid: tzid.clone(),
        floating: tz.is_none(),
    };
    let start = tz.map_or(local.and_utc(), |tz| to_utc(local, tz));
    put(fields, "start", at(start));
    if let Some(d) = duration {
        let end = end_of(local, tz, &d)
            .ok_or_else(|| record_error("end", "the duration ends beyond the calendar"))?;
        put(fields, "end", at(end));
    }
    Ok(Some(Master {
        all_day: false,
        zone: tz,
        tzid,
    }))
}

fn record_error(field: &str, reason: impl Into<String>) -> NotesMappingError {
    NotesMappingError::BadRecordField {
        kind: RecordKind::Event.as_str(),
        field: field.into(),
        reason: reason.into(),
    }
}

/// The entry for `fields`: a create body, or with `current` the whole entry to PUT.
pub(crate) fn write(
    fields: &Fields,
    current: Option<&Value>,
    user: Tz,
) -> Result<Map<String, Value>, NotesMappingError> {
    let event: Event =
        from_fields(fields).map_err(|reason| super::invalid(RecordKind::Event, reason))?;
    let mut body: Map<String, Value> = current
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    for name in SERVER_SET {
        body.remove(name);
    }
    if current.is_none() {
        body.insert("@type".into(), json!("jsevent"));
    }
    set(&mut body, "title", event.subject.clone().map(Value::String));

    let current_description = current
        .and_then(|c| c.get("description"))
        .and_then(Value::as_str)
        .map(|d| {
            let html = current
                .and_then(|c| c.get("descriptionContentType"))
                .and_then(Value::as_str)
                .map_or_else(|| body::looks_like_html(d), |t| t.starts_with("text/html"));
            (d, html)
        });
    let (description, content_type) = match body::write(fields, current_description) {
        Some(Body::Html(h)) => (Some(json!(h)), Some(json!("text/html"))),
        Some(Body::Text(t)) => (Some(json!(t)), Some(json!("text/plain"))),
        None => (None, None),
    };
    set(&mut body, "description", description);
    set(&mut body, "descriptionContentType", content_type);

    let master = write_timing(&event, user, &mut body)?;

    match &event.location {
        Some(name) => {
            let mut locations = body
                .get("locations")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default();
            match locations.values_mut().find(|l| l.is_object()) {
                Some(Value::Object(first)) => {
                    first.insert("name".into(), json!(name));
                }
                _ => {
                    locations.insert(OWN_ID.into(), json!({"@type": "Location", "name": name}));
                }
            }
            body.insert("locations".into(), Value::Object(locations));
        }
        None => {
            body.remove("locations");
        }
    }
    let privacy = match (event.private, body.get("privacy").and_then(Value::as_str)) {
        (true, Some(p)) if p.eq_ignore_ascii_case("secret") => "secret",
        (true, _) => "private",
        (false, _) => "public",
    };
    body.insert("privacy".into(), json!(privacy));
    let show = event.show_as.map(|s| {
        json!(match s {
            ShowAs::Free => "free",
            ShowAs::Busy | ShowAs::OutOfOffice => "busy",
        })
    });
    set(&mut body, "freeBusyStatus", show);
    let categories: Map<String, Value> = event
        .categories
        .iter()
        .map(|c| (c.clone(), Value::Bool(true)))
        .collect();
    set(
        &mut body,
        "categories",
        (!categories.is_empty()).then_some(Value::Object(categories)),
    );
    write_reminder(&mut body, current, event.reminder_minutes)?;

    match &event.rrule {
        Some(rule) => {
            body.insert(
                "recurrenceRules".into(),
                json!([rule_to_js(rule, master.anchor())?]),
            );
            body.insert(RULE_PROPERTY.into(), json!(rule));
            let changed = overrides::write(&event, &master)?;
            set(
                &mut body,
                "recurrenceOverrides",
                (!changed.is_empty()).then_some(Value::Object(changed)),
            );
        }
        None => {
            body.remove("recurrenceRules");
            body.remove("recurrenceOverrides");
            body.remove(RULE_PROPERTY);
        }
    }
    Ok(body)
}

/// Set a property, or remove it (`None`): a PUT replaces the entry, an absent property is
/// cleared.
fn set(body: &mut Map<String, Value>, name: &str, value: Option<Value>) {
    match value {
        Some(v) => {
            body.insert(name.into(), v);
        }
        None => {
            body.remove(name);
        }
    }
}

fn write_timing(
    event: &Event,
    user: Tz,
    body: &mut Map<String, Value>,
) -> Result<Master, NotesMappingError> {
    let Some(start) = &event.start else {
        return Err(record_error(
            "start",
            "a Notes calendar entry needs a start; give the event one",
        ));
    };
    let mixed = || {
        record_error(
            "end",
            "an all-day start with a timed end (or the other way round); make both days or both times",
        )
    };
    match start {
        When::Date(first) => {
            let days = match &event.end {
                Some(When::Date(last)) => (*last - *first).num_days().max(1),
                None => 1,
                Some(When::Time { .. }) => return Err(mixed()),
            };
            body.insert(
                "start".into(),
                json!(local_text(first.and_time(NaiveTime::MIN))),
            );
            body.insert(
                "duration".into(),
                json!(ICalendarDuration::from_days(days).to_string()),
            );
            body.insert("showWithoutTime".into(), json!(true));
            // Writes name an IANA zone; an all-day entry is read by its days alone.
            body.insert("timeZone".into(), json!(user.name()));
            Ok(Master {
                all_day: true,
                zone: None,
                tzid: None,
            })
        }
        When::Time {
            utc,
            tzid,
            floating,
        } => {
            let tz = if *floating {
                None
            } else {
                Some(tzid.as_deref().map_or(Tz::UTC, |t| zone(t).unwrap_or(user)))
            };
            let local = tz.map_or(utc.naive_utc(), |tz| to_local(*utc, tz));
            body.insert("start".into(), json!(local_text(local)));
            body.insert(
                "timeZone".into(),
                tz.map_or(Value::Null, |tz| json!(tz.name())),
            );
            body.remove("showWithoutTime");
            match &event.end {
                None => {
                    body.remove("duration");
                }
                Some(When::Date(_)) => return Err(mixed()),
                Some(When::Time {
                    utc: end,
                    floating: end_floating,
                    ..
                }) => {
                    let length = match (floating, end_floating) {
                        (true, true) | (false, false) => *end - *utc,
                        // A floating end with a zoned start: both on the start's wall clock.
                        (false, true) => end.naive_utc() - local,
                        (true, false) => to_local(*end, user) - utc.naive_utc(),
                    };
                    if length < TimeDelta::zero() {
                        return Err(record_error(
                            "end",
                            format!("the event ends ({end}) before it starts ({utc}); fix its end"),
                        ));
                    }
                    body.insert("duration".into(), json!(exact_duration(length)));
                }
            }
            Ok(Master {
                all_day: false,
                zone: tz,
                tzid: tz
                    .filter(|tz| *tz != Tz::UTC)
                    .map(|tz| tz.name().to_string()),
            })
        }
    }
}

/// The reminder as an alert: the alert tandem reads as the reminder is replaced (or removed),
/// the others stay.
fn write_reminder(
    body: &mut Map<String, Value>,
    current: Option<&Value>,
    minutes: Option<i64>,
) -> Result<(), NotesMappingError> {
    let read = match current {
        Some(c) => reminder(&Item::new(ITEM, c)?)?,
        None => None,
    };
    let mut alerts = body
        .get("alerts")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let id = match &read {
        Some((id, _)) => {
            alerts.remove(id);
            id.clone()
        }
        None => OWN_ID.to_string(),
    };
    if let Some(m) = minutes {
        let offset = ICalendarDuration::from_seconds(-m.saturating_mul(60));
        alerts.insert(
            id,
            json!({
                "@type": "Alert",
                "action": "display",
                "trigger": {"@type": "OffsetTrigger", "relativeTo": "start", "offset": offset.to_string()},
            }),
        );
    }
    set(
        body,
        "alerts",
        (!alerts.is_empty()).then_some(Value::Object(alerts)),
    );
    Ok(())
}

/// Whether two RecurrenceRule objects say the same, whatever their `@type`/`type` markers.
fn same_rule(a: &Value, b: &Value) -> bool {
    fn plain(v: &Value) -> Value {
        match v {
            Value::Object(m) => Value::Object(
                m.iter()
                    .filter(|(k, _)| !matches!(k.as_str(), "@type" | "type"))
                    .map(|(k, v)| (k.clone(), plain(v)))
                    .collect(),
            ),
            Value::Array(items) => Value::Array(items.iter().map(plain).collect()),
            Value::String(s) => Value::String(s.to_ascii_lowercase()),
            other => other.clone(),
        }
    }
    plain(a) == plain(b)
}

impl Master {
    pub(crate) fn anchor(&self) -> Anchor {
        Anchor {
            all_day: self.all_day,
            zone: self.zone,
        }
    }
}
