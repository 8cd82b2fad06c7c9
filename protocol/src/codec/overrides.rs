//! A series' changed occurrences as a record keeps them: VEVENTs with a RECURRENCE-ID among
//! the record's `unmapped` lines, as a CalDAV client sent them (see the module documentation).
//! The sides that keep a series' exceptions apart — Outlook, Notes, Salesforce — read and write
//! them here, so every side means the same occurrence by the same recurrence id.

use super::{parse_icalendar, render_icalendar};
use crate::record::{Fields, RecordKind, When, to_fields};

/// One changed occurrence: the start the series' rule gives it, and its own fields.
#[derive(Clone, Debug, PartialEq)]
pub struct Override {
    pub recurrence_id: When,
    pub fields: Fields,
}

/// The top-level VEVENT blocks of `unmapped` that carry a RECURRENCE-ID, in order.
pub fn blocks(unmapped: &[String]) -> Vec<Vec<String>> {
    spans(unmapped)
        .into_iter()
        .map(|(begin, end)| unmapped[begin..end].to_vec())
        .collect()
}

/// Where each override block of `unmapped` starts and ends (exclusive).
fn spans(unmapped: &[String]) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut begin = None;
    let mut depth = 0usize;
    for (i, line) in unmapped.iter().enumerate() {
        let upper = line.to_ascii_uppercase();
        match begin {
            None if upper == "BEGIN:VEVENT" => {
                begin = Some(i);
                depth = 1;
            }
            None => {}
            Some(start) => {
                if upper.starts_with("BEGIN:") {
                    depth += 1;
                } else if upper.starts_with("END:") {
                    depth -= 1;
                    if depth == 0 {
                        begin = None;
                        let is_override = unmapped[start..=i]
                            .iter()
                            .any(|l| l.to_ascii_uppercase().starts_with("RECURRENCE-ID"));
                        if is_override {
                            spans.push((start, i + 1));
                        }
                    }
                }
            }
        }
    }
    spans
}

/// An override block read by the codec.
pub fn read(block: &[String]) -> Option<Override> {
    let text = format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//tandem//overrides//EN\r\n{}\r\nEND:VCALENDAR\r\n",
        block.join("\r\n")
    );
    let object = parse_icalendar(text.as_bytes()).ok()?;
    let recurrence_id = object.recurrence_id()?;
    // The recurrence id is the override's key, not one of its unmapped lines: written again,
    // the block gets it from `recurrence_id`.
    let mut fields = object.fields;
    if let Some(serde_json::Value::Array(lines)) = fields.get_mut("unmapped") {
        lines.retain(|l| {
            !l.as_str()
                .is_some_and(|l| l.to_ascii_uppercase().starts_with("RECURRENCE-ID"))
        });
        if lines.is_empty() {
            fields.remove("unmapped");
        }
    }
    Some(Override {
        recurrence_id,
        fields,
    })
}

/// Every override a record's fields keep.
pub fn of(fields: &Fields) -> Vec<Override> {
    blocks(&unmapped(fields))
        .iter()
        .filter_map(|b| read(b))
        .collect()
}

/// The UID the override blocks of `unmapped` carry, if any.
pub fn uid(unmapped: &[String]) -> Option<String> {
    blocks(unmapped).iter().flatten().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.eq_ignore_ascii_case("UID").then(|| value.to_string())
    })
}

/// The unfolded VEVENT lines of an override of the series `uid`: the codec's rendering of
/// `fields` with the RECURRENCE-ID written like a start at `recurrence_id`.
pub fn lines(uid: &str, recurrence_id: &When, fields: &Fields) -> Vec<String> {
    let rid = crate::record::Event {
        start: Some(recurrence_id.clone()),
        ..crate::record::Event::default()
    };
    let recurrence_id = event_lines(uid, &to_fields(&rid))
        .into_iter()
        .find(|l| l.starts_with("DTSTART"))
        .map(|l| format!("RECURRENCE-ID{}", &l["DTSTART".len()..]));
    let mut lines = event_lines(uid, fields);
    if let (Some(rid), Some(at)) = (
        recurrence_id,
        lines.iter().position(|l| l.starts_with("UID:")),
    ) {
        lines.insert(at + 1, rid);
    }
    lines
}

/// `unmapped` with the override of `recurrence_id` replaced by `block`, or taken out when
/// `block` is `None`. A new block goes last, after the calendar block the codec expects before
/// the other components.
pub fn with_block(
    unmapped: &[String],
    recurrence_id: &When,
    block: Option<Vec<String>>,
) -> Vec<String> {
    let mut out = Vec::with_capacity(unmapped.len());
    let mut from = 0;
    for (begin, end) in spans(unmapped) {
        let same = read(&unmapped[begin..end])
            .is_some_and(|o| same_occurrence(&o.recurrence_id, recurrence_id));
        if same {
            out.extend_from_slice(&unmapped[from..begin]);
            from = end;
        }
    }
    out.extend_from_slice(&unmapped[from..]);
    if let Some(block) = block {
        if !out
            .iter()
            .any(|l| l.eq_ignore_ascii_case("BEGIN:VCALENDAR"))
        {
            out.push("BEGIN:VCALENDAR".into());
            out.push("END:VCALENDAR".into());
        }
        out.extend(block);
    }
    out
}

/// Whether two recurrence ids name the same occurrence: the same day, or the same instant
/// however its zone is written.
pub fn same_occurrence(a: &When, b: &When) -> bool {
    match (a, b) {
        (When::Date(a), When::Date(b)) => a == b,
        (When::Time { utc: a, .. }, When::Time { utc: b, .. }) => a == b,
        _ => false,
    }
}

/// A record's `unmapped` lines (none when it has none).
pub fn unmapped(fields: &Fields) -> Vec<String> {
    fields
        .get("unmapped")
        .and_then(|u| serde_json::from_value(u.clone()).ok())
        .unwrap_or_default()
}

/// The VEVENT lines (unfolded) the codec renders for `fields`.
fn event_lines(uid: &str, fields: &Fields) -> Vec<String> {
    let bytes = render_icalendar(RecordKind::Event, uid, fields, None);
    let text = String::from_utf8_lossy(&bytes)
        .replace("\r\n ", "")
        .replace("\r\n\t", "");
    let lines: Vec<&str> = text.split("\r\n").collect();
    let begin = lines.iter().position(|l| *l == "BEGIN:VEVENT");
    let end = lines.iter().position(|l| *l == "END:VEVENT");
    match (begin, end) {
        (Some(b), Some(e)) if b < e => lines[b..=e].iter().map(|l| l.to_string()).collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn when(value: serde_json::Value) -> When {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn an_override_is_written_read_replaced_and_taken_out() {
        let rid = when(json!({"time": {"utc": "2027-03-17T09:00:00Z", "tzid": "Europe/Berlin"}}));
        let fields: Fields = serde_json::from_value(json!({
            "subject": "Moved",
            "start": {"time": {"utc": "2027-03-17T14:00:00Z", "tzid": "Europe/Berlin"}},
            "end": {"time": {"utc": "2027-03-17T15:00:00Z", "tzid": "Europe/Berlin"}},
        }))
        .unwrap();
        let block = lines("u-1", &rid, &fields);
        assert!(
            block.contains(&"RECURRENCE-ID;TZID=Europe/Berlin:20270317T100000".to_string()),
            "{block:?}"
        );
        let read = read(&block).unwrap();
        assert!(same_occurrence(&read.recurrence_id, &rid));
        assert_eq!(read.fields.get("subject"), fields.get("subject"));
        assert_eq!(read.fields.get("start"), fields.get("start"));

        let unmapped = vec!["X-KEPT:1".to_string()];
        let added = with_block(&unmapped, &rid, Some(block.clone()));
        assert_eq!(blocks(&added), vec![block.clone()]);
        assert_eq!(uid(&added).as_deref(), Some("u-1"));
        let mut other = fields.clone();
        other.insert("subject".into(), json!("Moved again"));
        let replaced = with_block(&added, &rid, Some(lines("u-1", &rid, &other)));
        assert_eq!(blocks(&replaced).len(), 1);
        let unmapped_json: Fields = [("unmapped".to_string(), json!(replaced))].into();
        assert_eq!(of(&unmapped_json)[0].fields["subject"], "Moved again");
        let removed = with_block(&replaced, &rid, None);
        assert!(blocks(&removed).is_empty());
        assert_eq!(removed[0], "X-KEPT:1");
    }
}
