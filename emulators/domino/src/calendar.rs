//! Calendar entries as the PIM API sees them: JSCalendar `jsevent` bodies (openapi.pim.json
//! JSEvent: `start` a LocalDateTime without offset, `duration`, `timeZone`, `privacy`,
//! `participants`, `recurrenceRules`, `recurrenceOverrides`), stored on mail-file documents
//! of Form "Appointment"; what a read adds (`uid`, `created`, `updated`, the Notes zone); the
//! date-range filter of getOneCalendar; and the notices implicit scheduling sends.

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, NaiveTime, SecondsFormat, Utc};
use serde_json::{Map, Value, json};

use crate::mailfile::{Document, MailFile};
use crate::zones;

/// What a scheduling notice tells the attendees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeKind {
    Invitation,
    Update,
    Cancellation,
}

/// A notice mailed to attendees, as Notes' implicit scheduling sends one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub kind: NoticeKind,
    /// The entry's `uid` (its document's UNID).
    pub uid: String,
    pub title: String,
    /// The attendees' emails (the owner excluded).
    pub recipients: Vec<String>,
}

/// Properties the server sets; a body's values for them are ignored.
const SERVER_SET: &[&str] = &["uid", "created", "updated", "@type", "referenceFolder"];

const LOCAL: &str = "%Y-%m-%dT%H:%M:%S";

/// A JSCalendar LocalDateTime: no offset, no `Z`.
pub fn local_time(value: &str) -> Option<NaiveDateTime> {
    NaiveDateTime::parse_from_str(value, LOCAL).ok()
}

/// A JSCalendar Duration (RFC 8984 §1.4.6): `P[nW][nD][T[nH][nM][nS]]`.
pub fn duration(value: &str) -> Option<Duration> {
    let rest = value.strip_prefix('P')?;
    let (date, time) = match rest.split_once('T') {
        Some((d, t)) if !t.is_empty() => (d, Some(t)),
        Some(_) => return None,
        None => (rest, None),
    };
    let mut total = Duration::zero();
    let mut any = false;
    for (part, units) in [
        (date, &[('W', 604800), ('D', 86400)][..]),
        (time.unwrap_or(""), &[('H', 3600), ('M', 60), ('S', 1)][..]),
    ] {
        let mut number = String::new();
        let mut allowed = units.iter();
        for c in part.chars() {
            if c.is_ascii_digit() {
                number.push(c);
                continue;
            }
            let (_, seconds) = allowed.find(|(u, _)| *u == c)?;
            let n: i64 = number.parse().ok()?;
            total += Duration::seconds(n * seconds);
            number.clear();
            any = true;
        }
        if !number.is_empty() {
            return None;
        }
    }
    any.then_some(total)
}

/// Checks a body a client wrote, and keeps what the entry stores.
pub fn accept(body: Map<String, Value>) -> Result<Map<String, Value>, String> {
    let mut event: Map<String, Value> = body
        .into_iter()
        .filter(|(k, _)| !SERVER_SET.contains(&k.as_str()))
        .collect();
    match event.get("start").and_then(Value::as_str) {
        Some(start) if local_time(start).is_some() => {}
        Some(start) => {
            return Err(format!(
                "start must be a LocalDateTime (YYYY-MM-DDTHH:MM:SS, no offset), got {start}"
            ));
        }
        None => return Err("start is required".into()),
    }
    if let Some(d) = event.get("duration")
        && d.as_str().and_then(duration).is_none()
    {
        return Err(format!("duration must be an RFC 8984 Duration, got {d}"));
    }
    if let Some(zone) = event.get("timeZone")
        && !zone.is_null()
        && !zone.as_str().is_some_and(zones::accepted)
    {
        return Err(format!("unknown timeZone {zone}"));
    }
    if let Some(privacy) = event.get("privacy")
        && !matches!(privacy.as_str(), Some("public" | "private" | "secret"))
    {
        return Err(format!(
            "privacy must be public, private or secret, got {privacy}"
        ));
    }
    if let Some(rules) = event.get("recurrenceRules") {
        let ok = rules.as_array().is_some_and(|rules| {
            rules.iter().all(|r| {
                matches!(
                    r.get("frequency").and_then(Value::as_str),
                    Some(
                        "yearly"
                            | "monthly"
                            | "weekly"
                            | "daily"
                            | "hourly"
                            | "minutely"
                            | "secondly"
                    )
                )
            })
        });
        if !ok {
            return Err("recurrenceRules must be RecurrenceRule objects with a frequency".into());
        }
    }
    if let Some(overrides) = event.get("recurrenceOverrides") {
        let ok = overrides
            .as_object()
            .is_some_and(|o| o.keys().all(|k| local_time(k).is_some()));
        if !ok {
            return Err("recurrenceOverrides must be keyed by LocalDateTime recurrence ids".into());
        }
    }
    if let Some(participants) = event.get("participants")
        && !participants
            .as_object()
            .is_some_and(|p| p.values().all(Value::is_object))
    {
        return Err("participants must be a map of Participant objects".into());
    }
    event.insert("@type".into(), json!("jsevent"));
    Ok(event)
}

/// The Notes items that mirror an entry, so the basis API and DQL see it as Notes does.
pub fn items(event: &Map<String, Value>) -> Map<String, Value> {
    let mut items = Map::new();
    items.insert("Form".into(), json!("Appointment"));
    if let Some(title) = event.get("title") {
        items.insert("Subject".into(), title.clone());
    }
    if let Some(start) = event.get("start") {
        items.insert("StartDateTime".into(), start.clone());
    }
    let categories: Vec<Value> = event
        .get("categories")
        .and_then(Value::as_object)
        .map(|c| {
            c.iter()
                .filter(|(k, v)| v.as_bool() == Some(true) && k.as_str() != "null")
                .map(|(k, _)| json!(k))
                .collect()
        })
        .unwrap_or_default();
    // A null item is removed by the merge, so an entry that loses its categories loses them.
    items.insert(
        "Categories".into(),
        if categories.is_empty() {
            Value::Null
        } else {
            Value::Array(categories)
        },
    );
    items
}

/// An entry as the PIM API answers it.
pub fn render(doc: &Document) -> Value {
    let mut out = doc.event.clone().unwrap_or_default();
    out.insert("uid".into(), json!(doc.unid));
    out.insert("created".into(), json!(utc(doc.created)));
    out.insert("updated".into(), json!(utc(doc.modified)));
    out.insert("@type".into(), json!("jsevent"));
    if let Some(zone) = out.get("timeZone").and_then(Value::as_str) {
        let shown = zones::on_read(zone);
        out.insert("timeZone".into(), json!(shown));
    }
    // getOneCalendar's example shows an entry without categories as `{"null": true}`.
    if !out.get("categories").is_some_and(Value::is_object) {
        out.insert("categories".into(), json!({ "null": true }));
    }
    Value::Object(out)
}

/// PIM times are UTC with `Z` and whole seconds (getCalendarEntry's example).
fn utc(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Whether an entry belongs in a listing from `from` to `to` (both days inclusive, in the
/// entry's own local time). A repeating entry is listed once, as its master with its
/// overrides, whenever it starts on or before `to`: how DRAPI returns repeating meetings is
/// not documented (connectors.md "Not found"), and a master is what the schema describes.
pub fn in_range(
    event: &Map<String, Value>,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> bool {
    let Some(start) = event
        .get("start")
        .and_then(Value::as_str)
        .and_then(local_time)
    else {
        return false;
    };
    let length = event
        .get("duration")
        .and_then(Value::as_str)
        .and_then(duration)
        .unwrap_or_else(Duration::zero);
    let repeating = event
        .get("recurrenceRules")
        .and_then(Value::as_array)
        .is_some_and(|r| !r.is_empty());
    let starts_in_time = to.is_none_or(|to| start.date() <= to);
    let ends_in_time = repeating
        || from.is_none_or(|from| {
            let midnight = from.and_time(NaiveTime::MIN);
            // A zero-length entry at midnight still belongs to its day.
            start + length > midnight || start >= midnight
        });
    starts_in_time && ends_in_time
}

/// The emails of an entry's attendees: every participant but the owner.
pub fn attendees(event: &Map<String, Value>) -> Vec<String> {
    event
        .get("participants")
        .and_then(Value::as_object)
        .map(|p| {
            p.values()
                .filter(|p| {
                    p.get("roles")
                        .and_then(|r| r.get("owner"))
                        .and_then(Value::as_bool)
                        != Some(true)
                })
                .filter_map(|p| p.get("email").and_then(Value::as_str).map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

pub fn title(event: &Map<String, Value>) -> String {
    event
        .get("title")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

impl MailFile {
    /// A calendar entry made in the Notes client (no notices: the test says what was sent);
    /// its UNID, which is the entry's `uid`. Err with the reason for a body the PIM API would
    /// refuse.
    pub fn create_entry(&mut self, body: Map<String, Value>) -> Result<String, String> {
        let event = accept(body)?;
        Ok(self.insert(strip(items(&event)), Some(event)))
    }
}

impl MailFile {
    /// A calendar entry changed in the Notes client: `change` edits its JSCalendar body (no
    /// notices). Err for an unknown entry or a body the PIM API would refuse.
    pub fn edit_entry(
        &mut self,
        unid: &str,
        change: impl FnOnce(&mut Map<String, Value>),
    ) -> Result<(), String> {
        let mut event = self
            .get(unid)
            .and_then(|d| d.event.clone())
            .ok_or_else(|| format!("no calendar entry {unid}"))?;
        change(&mut event);
        let event = accept(event)?;
        self.update_event(unid, items(&event), event);
        Ok(())
    }
}

/// Items without nulls, for a new document.
fn strip(items: Map<String, Value>) -> Map<String, Value> {
    items.into_iter().filter(|(_, v)| !v.is_null()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_as_rfc_8984_says() {
        assert_eq!(duration("PT1H"), Some(Duration::hours(1)));
        assert_eq!(duration("P1DT30M"), Some(Duration::minutes(1470)));
        assert_eq!(duration("P2W"), Some(Duration::days(14)));
        assert_eq!(duration("PT"), None);
        assert_eq!(duration("1H"), None);
        assert_eq!(duration("PT1D"), None);
    }

    #[test]
    fn a_start_with_an_offset_is_refused() {
        let mut body = Map::new();
        body.insert("start".into(), json!("2026-12-01T10:00:00Z"));
        assert!(accept(body).is_err());
    }

    #[test]
    fn ranges_take_days_inclusive() {
        let event = |start: &str| {
            let mut e = Map::new();
            e.insert("start".into(), json!(start));
            e.insert("duration".into(), json!("PT1H"));
            e
        };
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok();
        assert!(in_range(
            &event("2026-12-03T23:30:00"),
            d("2026-12-01"),
            d("2026-12-03")
        ));
        assert!(!in_range(
            &event("2026-12-04T00:00:00"),
            d("2026-12-01"),
            d("2026-12-03")
        ));
        assert!(in_range(
            &event("2026-11-30T23:30:00"),
            d("2026-12-01"),
            d("2026-12-03")
        ));
        assert!(!in_range(
            &event("2026-11-30T10:00:00"),
            d("2026-12-01"),
            d("2026-12-03")
        ));
    }
}
