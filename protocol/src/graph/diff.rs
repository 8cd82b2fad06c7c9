//! An update body: only the properties whose value must change.
//!
//! The full set of properties is built on the item as Graph last returned it (so lists keep
//! what tandem does not map), laid over that item, and both are read back into fields: a
//! property is sent when a field it feeds would read differently. Comparing what the values
//! mean, not their JSON, keeps Outlook's own spelling (a time in UTC, `confidential` for a
//! private event, an HTML body around the same text) from being rewritten on every sync.

use super::error::GraphMappingError;
use super::{contact, event, read, task, write};
use crate::record::{Fields, RecordKind, When};
use serde_json::{Map, Value};

type Feeds = &'static [(&'static str, &'static [&'static str])];
type Groups = &'static [&'static [&'static str]];

fn tables(kind: RecordKind) -> (Feeds, Groups) {
    match kind {
        RecordKind::Contact => (contact::FEEDS, &[]),
        RecordKind::Task => (task::FEEDS, task::GROUPS),
        RecordKind::Event => (event::FEEDS, event::GROUPS),
    }
}

pub(crate) fn changes(
    kind: RecordKind,
    fields: &Fields,
    current: &Value,
    zone: chrono_tz::Tz,
) -> Result<Map<String, Value>, GraphMappingError> {
    let desired = write(kind, fields, Some(current), zone)?;
    let mut laid = match current {
        Value::Object(map) => map.clone(),
        other => {
            return Err(GraphMappingError::NotAnObject {
                item: super::item_kind(kind),
                value: super::error::show(other),
            });
        }
    };
    for (name, value) in &desired {
        laid.insert(name.clone(), value.clone());
    }
    if kind == RecordKind::Event {
        // Outlook takes the zone a time is written in as the zone it was entered in.
        for (time, original) in [
            ("start", "originalStartTimeZone"),
            ("end", "originalEndTimeZone"),
        ] {
            if let Some(zone) = desired.get(time).and_then(|t| t.get("timeZone")) {
                laid.insert(original.into(), zone.clone());
            }
        }
    }
    let before = read(kind, current, zone)?;
    let after = read(kind, &Value::Object(laid), zone)?;

    let (feeds, groups) = tables(kind);
    let mut send = Map::new();
    for (name, value) in &desired {
        let fed: &[&str] = feeds
            .iter()
            .find(|(property, _)| property == name)
            .map_or(&[], |(_, f)| *f);
        // A property no field reads back (a contact's displayName) is only built when needed.
        let changed = fed.is_empty() || fed.iter().any(|f| !same(f, before.get(*f), after.get(*f)));
        if changed {
            send.insert(name.clone(), value.clone());
        }
    }
    for group in groups {
        if group.iter().any(|p| send.contains_key(*p)) {
            for p in *group {
                if let Some(v) = desired.get(*p) {
                    send.insert((*p).to_string(), v.clone());
                }
            }
        }
    }
    // A series' range starts on its first day: moving the start moves the pattern with it.
    if kind == RecordKind::Event
        && send.contains_key("start")
        && let Some(recurrence) = desired.get("recurrence").filter(|r| !r.is_null())
    {
        send.insert("recurrence".into(), recurrence.clone());
    }
    Ok(send)
}

/// Whether two values of a field mean the same. Times are the same instant in the same zone,
/// whatever the zone's name (`W. Europe Standard Time` is `Europe/Berlin`).
fn same(field: &str, a: Option<&Value>, b: Option<&Value>) -> bool {
    if a == b {
        return true;
    }
    if !matches!(field, "start" | "end") {
        return false;
    }
    let when = |v: Option<&Value>| v.and_then(|v| serde_json::from_value::<When>(v.clone()).ok());
    match (when(a), when(b)) {
        (
            Some(When::Time {
                utc: ua,
                tzid: za,
                floating: fa,
            }),
            Some(When::Time {
                utc: ub,
                tzid: zb,
                floating: fb,
            }),
        ) => {
            let zone = |z: &Option<String>| z.as_deref().and_then(super::time::resolve);
            ua == ub && fa == fb && (za == zb || zone(&za).is_some_and(|x| Some(x) == zone(&zb)))
        }
        _ => false,
    }
}
