//! The whole way round: Salesforce JSON → record → iCalendar/vCard (what a desktop client is
//! served) → record (what the client sends back unchanged) → Salesforce JSON gives the same
//! values for every writable field.

use serde_json::{Map, Value};
use tandem_protocol::codec::{parse_icalendar, parse_vcard, render_icalendar, render_vcard};
use tandem_protocol::mapping::{SalesforceContext, from_salesforce, to_salesforce};
use tandem_protocol::{Fields, RecordKind};

/// A Salesforce row from `fixtures/salesforce/`, read at compile time.
macro_rules! fixture {
    ($name:literal) => {
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../fixtures/salesforce/",
            $name
        ))
    };
}

fn row(name: &str, text: &str) -> Map<String, Value> {
    match serde_json::from_str(text).unwrap() {
        Value::Object(map) => map,
        other => panic!("{name}: {other}"),
    }
}

/// What the desktop side can hold of a record: links to Salesforce records (Who/What/Owner/
/// Account) are Salesforce-only and stay with the record, not in the client's bytes.
fn desktop_part(fields: &Fields) -> Fields {
    let salesforce_only = ["who", "what", "owner", "account", "reports_to"];
    fields
        .iter()
        .filter(|(k, _)| !salesforce_only.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

#[test]
fn salesforce_to_desktop_and_back_keeps_every_writable_value() {
    let ctx = SalesforceContext::standard(chrono_tz::Europe::Berlin);
    let cases = [
        (
            "contact_with_account.json",
            fixture!("contact_with_account.json"),
            RecordKind::Contact,
        ),
        (
            "event_timed.json",
            fixture!("event_timed.json"),
            RecordKind::Event,
        ),
        (
            "event_all_day.json",
            fixture!("event_all_day.json"),
            RecordKind::Event,
        ),
        (
            "event_all_day_multi_dst.json",
            fixture!("event_all_day_multi_dst.json"),
            RecordKind::Event,
        ),
        (
            "event_private.json",
            fixture!("event_private.json"),
            RecordKind::Event,
        ),
        (
            "event_series_weekly.json",
            fixture!("event_series_weekly.json"),
            RecordKind::Event,
        ),
        (
            "task_open.json",
            fixture!("task_open.json"),
            RecordKind::Task,
        ),
    ];
    for (name, text, kind) in cases {
        let row = row(name, text);
        let record = from_salesforce(kind, &row, &ctx).unwrap();
        let bytes = match kind {
            RecordKind::Contact => render_vcard("chain-uid", &record, None),
            _ => render_icalendar(kind, "chain-uid", &record, None),
        };
        let back = match kind {
            RecordKind::Contact => parse_vcard(&bytes).unwrap().fields,
            _ => parse_icalendar(&bytes).unwrap().fields,
        };
        assert_eq!(
            back,
            desktop_part(&record),
            "{name}: the desktop copy differs\n{}",
            String::from_utf8_lossy(&bytes)
        );
        // The links stay with the record; with them, the way back out is the same body.
        let mut merged = record.clone();
        merged.extend(back);
        let out = to_salesforce(kind, &merged, &ctx).unwrap().fields;
        let direct = to_salesforce(kind, &record, &ctx).unwrap().fields;
        assert_eq!(
            out, direct,
            "{name}: Salesforce JSON differs after the round trip"
        );
        for (field, value) in &out {
            if let Some(original) = row.get(field) {
                assert_eq!(original, value, "{name}: {field}");
            }
        }
    }
}
