//! The Salesforce fixtures through the mapping: what each becomes as a record, and both round
//! trips (Salesforce → record → Salesforce, record → Salesforce → record).

use chrono_tz::Tz;
use serde_json::{Map, Value, json};
use tandem_protocol::mapping::{
    SalesforceContext, changes_to_salesforce, from_salesforce, table, to_salesforce,
};
use tandem_protocol::record::{Fields, RecordKind};

macro_rules! fixture {
    ($name:literal) => {
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../fixtures/salesforce/",
            $name,
            ".json"
        ))
    };
}

const FIXTURES: &[(&str, RecordKind, &str)] = &[
    (
        "contact_with_account",
        RecordKind::Contact,
        fixture!("contact_with_account"),
    ),
    ("event_timed", RecordKind::Event, fixture!("event_timed")),
    (
        "event_all_day",
        RecordKind::Event,
        fixture!("event_all_day"),
    ),
    (
        "event_all_day_multi_dst",
        RecordKind::Event,
        fixture!("event_all_day_multi_dst"),
    ),
    (
        "event_series_weekly",
        RecordKind::Event,
        fixture!("event_series_weekly"),
    ),
    (
        "event_series_normalised",
        RecordKind::Event,
        fixture!("event_series_normalised"),
    ),
    (
        "event_private",
        RecordKind::Event,
        fixture!("event_private"),
    ),
    ("task_open", RecordKind::Task, fixture!("task_open")),
    (
        "task_completed_custom_status",
        RecordKind::Task,
        fixture!("task_completed_custom_status"),
    ),
];

fn berlin() -> Tz {
    "Europe/Berlin".parse().expect("zone")
}

/// The org of the fixtures: user in Berlin, one custom closed task status.
fn ctx() -> SalesforceContext {
    let mut ctx = SalesforceContext::standard(berlin());
    ctx.closed_task_statuses = vec!["Completed".into(), "Done - No Follow-up".into()];
    ctx
}

fn load(text: &str) -> Map<String, Value> {
    match serde_json::from_str(text) {
        Ok(Value::Object(map)) => map,
        other => panic!("fixture is not an object: {other:?}"),
    }
}

fn fixture(name: &str) -> (RecordKind, Map<String, Value>) {
    let (_, kind, text) = FIXTURES
        .iter()
        .find(|(n, _, _)| *n == name)
        .unwrap_or_else(|| panic!("no fixture {name}"));
    (*kind, load(text))
}

fn record(name: &str) -> Fields {
    let (kind, row) = fixture(name);
    from_salesforce(kind, &row, &ctx()).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn fields(value: Value) -> Fields {
    match value {
        Value::Object(map) => map.into_iter().collect(),
        _ => panic!("not an object"),
    }
}

#[test]
fn contact_fixture_becomes_the_expected_record() {
    let rec = record("contact_with_account");
    let expected = fields(json!({
        "salutation": "Dr.",
        "first_name": "Ana",
        "last_name": "Müller-Lüdenscheidt",
        "company": "Grand Hotels & Resorts Ltd",
        "account": {"salesforce_id": "001Kd00000AbCdEIAV", "name": "Grand Hotels & Resorts Ltd"},
        "title": "VP, Facilities",
        "department": "Operations",
        "email": "ana.mueller@grandhotels.example",
        "phone": "+49 30 1234 5678",
        "mobile_phone": "+49 171 555 0100",
        "fax": "+49 30 1234 5679",
        "assistant_name": "Jonas Weber",
        "assistant_phone": "+49 30 1234 5600",
        "birthday": "1979-02-28",
        "mailing_address": {"street": "Friedrichstraße 123\nAufgang B", "city": "Berlin",
            "region": "Berlin", "postal_code": "10117", "country": "Germany"},
        "other_address": {"street": "Am Seeufer 4", "city": "Potsdam", "postal_code": "14467",
            "country": "Germany"},
        "description": "Met at the Hospitality Expo 2023.\nPrefers calls before 10:00.",
        "owner": {"salesforce_id": "005Kd000001QrStIAK", "name": "Dana Demo"},
        "reports_to": {"salesforce_id": "003Kd00000KlMnOIAV", "name": "Jörg Brandt"},
    }));
    assert_eq!(rec, expected);
}

#[test]
fn timed_event_is_utc_with_the_users_zone_and_a_relative_reminder() {
    let rec = record("event_timed");
    assert_eq!(
        rec["start"],
        json!({"time": {"utc": "2024-05-06T08:00:00Z", "tzid": "Europe/Berlin"}})
    );
    assert_eq!(
        rec["end"],
        json!({"time": {"utc": "2024-05-06T09:30:00Z", "tzid": "Europe/Berlin"}})
    );
    assert_eq!(rec["reminder_minutes"], json!(15));
    assert_eq!(rec["show_as"], json!("busy"));
    assert_eq!(
        rec["who"],
        json!([{"salesforce_id": "003Kd00000FgHiJIAV", "name": "Ana Müller-Lüdenscheidt"}])
    );
    assert_eq!(
        rec["what"],
        json!({"salesforce_id": "001Kd00000AbCdEIAV", "name": "Grand Hotels & Resorts Ltd"})
    );
    assert!(!rec.contains_key("private"), "false is left out");
    assert!(!rec.contains_key("rrule"));
}

#[test]
fn all_day_events_get_an_exclusive_end_date() {
    let one = record("event_all_day");
    assert_eq!(one["start"], json!({"date": "2024-05-10"}));
    assert_eq!(one["end"], json!({"date": "2024-05-11"}));
    assert_eq!(one["show_as"], json!("free"));
    assert!(!one.contains_key("reminder_minutes"));

    // Five days across the switch to summer time: still whole days, no off-by-one.
    let multi = record("event_all_day_multi_dst");
    assert_eq!(multi["start"], json!({"date": "2024-03-29"}));
    assert_eq!(multi["end"], json!({"date": "2024-04-03"}));
    assert_eq!(multi["show_as"], json!("out_of_office"));
    // 09:00 Berlin the day before: 15 hours before local midnight of the first day.
    assert_eq!(multi["reminder_minutes"], json!(900));
}

#[test]
fn series_keep_their_pattern_and_zone() {
    let rec = record("event_series_weekly");
    assert_eq!(
        rec["rrule"],
        json!("FREQ=WEEKLY;BYDAY=MO;WKST=SU;INTERVAL=1;COUNT=13")
    );
    assert_eq!(
        rec["start"],
        json!({"time": {"utc": "2024-05-06T13:00:00Z", "tzid": "America/New_York"}})
    );
    assert_eq!(rec["reminder_minutes"], json!(10));
}

#[test]
fn a_pattern_salesforce_respelled_is_not_a_change() {
    let from_sf = record("event_series_normalised");
    // What the desktop holds: the same series in the client's own spelling.
    let mut desktop = from_sf.clone();
    desktop.insert(
        "rrule".into(),
        json!("FREQ=MONTHLY;COUNT=6;BYSETPOS=-1;BYDAY=FR"),
    );
    let out = changes_to_salesforce(RecordKind::Event, &from_sf, &desktop, &ctx()).unwrap();
    assert!(out.fields.is_empty(), "{:?}", out.fields);
    // Also with a numbered BYDAY, which means the same.
    desktop.insert("rrule".into(), json!("FREQ=MONTHLY;BYDAY=-1FR;COUNT=6"));
    let out = changes_to_salesforce(RecordKind::Event, &from_sf, &desktop, &ctx()).unwrap();
    assert!(out.fields.is_empty(), "{:?}", out.fields);
    // A real change is sent, with the zone that goes with it.
    desktop.insert("rrule".into(), json!("FREQ=MONTHLY;BYDAY=-1FR;COUNT=7"));
    let out = changes_to_salesforce(RecordKind::Event, &from_sf, &desktop, &ctx()).unwrap();
    assert_eq!(
        Value::Object(out.fields),
        json!({
            "Recurrence2PatternText": "RRULE:FREQ=MONTHLY;BYDAY=-1FR;INTERVAL=1;COUNT=7",
            "Recurrence2PatternTimeZone": "Europe/Berlin",
        })
    );
}

#[test]
fn custom_closed_status_reads_as_completed_and_does_not_echo() {
    let rec = record("task_completed_custom_status");
    assert_eq!(rec["status"], json!("completed"));
    assert_eq!(rec["completed_at"], json!("2024-05-03T11:20:00Z"));
    assert_eq!(rec["due"], json!("2024-05-03"));
    // Reading it back unchanged sends nothing, so the org's own status stays.
    let out = changes_to_salesforce(RecordKind::Task, &rec, &rec, &ctx()).unwrap();
    assert!(out.fields.is_empty(), "{:?}", out.fields);
    let open = record("task_open");
    assert_eq!(open["status"], json!("in_progress"));
    assert_eq!(open["priority"], json!("high"));
    assert_eq!(open["reminder_at"], json!("2024-05-08T07:00:00Z"));
}

/// Fields a create body must carry for the fixture, even if the record never had them.
fn derived_not_sent(kind: RecordKind, row: &Map<String, Value>, field: &str) -> bool {
    // A timed event's ActivityDate is derived by Salesforce in the user's zone.
    kind == RecordKind::Event && field == "ActivityDate" && row["IsAllDayEvent"] == json!(false)
}

#[test]
fn salesforce_to_record_to_salesforce_keeps_every_writable_value() {
    for (name, kind, text) in FIXTURES {
        let row = load(text);
        let rec = from_salesforce(*kind, &row, &ctx()).unwrap();
        let out = to_salesforce(*kind, &rec, &ctx()).unwrap();
        assert!(out.warnings.is_empty(), "{name}: {:?}", out.warnings);
        let table = table(*kind).unwrap();
        for (field, value) in &out.fields {
            let r = table
                .row(field)
                .unwrap_or_else(|| panic!("{name}: {field} not in table"));
            assert!(r.direction.outbound(), "{name}: {field} is read-only");
            if *name == "task_completed_custom_status" && field == "Status" {
                // The record only knows "completed"; a create writes the default closed status.
                assert_eq!(value, &json!("Completed"));
                continue;
            }
            let expected = row.get(field).cloned().unwrap_or(Value::Null);
            let same = expected == *value || (expected.is_null() && value == &json!(false));
            assert!(same, "{name}: {field} sent {value}, fixture has {expected}");
        }
        for r in table.rows.iter().filter(|r| r.direction.outbound()) {
            let present = row.get(&r.salesforce).is_some_and(|v| !v.is_null());
            if present && !derived_not_sent(*kind, &row, &r.salesforce) {
                assert!(
                    out.fields.contains_key(&r.salesforce),
                    "{name}: {} is in the fixture but not sent",
                    r.salesforce
                );
            }
        }
    }
}

#[test]
fn record_to_salesforce_to_record_gives_the_same_fields() {
    for (name, kind, text) in FIXTURES {
        let row = load(text);
        let rec = from_salesforce(*kind, &row, &ctx()).unwrap();
        let out = to_salesforce(*kind, &rec, &ctx()).unwrap();
        // What Salesforce returns after the write: the body, plus the fields it keeps itself
        // (relationship names, system fields) from the fixture.
        let table = table(*kind).unwrap();
        let mut back = row.clone();
        for r in table.rows.iter().filter(|r| r.direction.outbound()) {
            back.insert(r.salesforce.clone(), Value::Null);
        }
        for (k, v) in &out.fields {
            back.insert(k.clone(), v.clone());
        }
        let again = from_salesforce(*kind, &back, &ctx()).unwrap();
        assert_eq!(again, rec, "{name}");
    }
}

#[test]
fn records_written_on_the_desktop_survive_the_trip() {
    let ctx = ctx();
    let cases = [
        (
            RecordKind::Event,
            json!({
                "subject": "Kick-off",
                "start": {"time": {"utc": "2024-10-27T00:30:00Z", "tzid": "Europe/Berlin"}},
                "end": {"time": {"utc": "2024-10-27T02:30:00Z", "tzid": "Europe/Berlin"}},
                "reminder_minutes": 30,
                "show_as": "out_of_office",
                "private": true,
            }),
        ),
        (
            RecordKind::Event,
            json!({
                "subject": "Offsite",
                "start": {"date": "2024-10-25"},
                "end": {"date": "2024-10-29"},
                "reminder_minutes": 60,
            }),
        ),
        (
            RecordKind::Task,
            json!({
                "subject": "Renew",
                "due": "2024-06-01",
                "status": "waiting",
                "priority": "low",
                "reminder_at": "2024-05-31T08:00:00Z",
                "who": [{"salesforce_id": "003Kd00000FgHiJIAV"}],
            }),
        ),
        (
            RecordKind::Contact,
            json!({
                "first_name": "Li",
                "last_name": "Wei",
                "birthday": "1990-01-31",
                "mailing_address": {"city": "Hamburg"},
                "account": {"salesforce_id": "001Kd00000AbCdEIAV"},
            }),
        ),
    ];
    for (kind, value) in cases {
        let rec = fields(value);
        let out = to_salesforce(kind, &rec, &ctx).unwrap();
        let again = from_salesforce(kind, &out.fields, &ctx).unwrap();
        assert_eq!(again, rec, "{kind}: sent {:?}", out.fields);
    }
}
