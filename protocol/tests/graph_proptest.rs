//! Whatever JSON Microsoft Graph sends for a contact, an event or a To Do task, the Outlook
//! mapping answers with fields or an error, never a panic; what it answers with is a valid
//! record that maps back out; and a series gathered from arbitrary instances does not panic.

use chrono::{TimeZone, Utc};
use proptest::prelude::*;
use serde_json::{Map, Value, json};
use tandem_protocol::graph::{from_graph, gather_series, to_graph};
use tandem_protocol::record::RecordKind;

const ZONE: chrono_tz::Tz = chrono_tz::Pacific::Auckland;

/// Property names Graph uses for the three kinds, so generated items hit the real conversions,
/// plus noise.
fn property() -> impl Strategy<Value = String> {
    let names = [
        "id",
        "@odata.etag",
        "givenName",
        "surname",
        "middleName",
        "title",
        "generation",
        "companyName",
        "jobTitle",
        "department",
        "emailAddresses",
        "businessPhones",
        "homePhones",
        "mobilePhone",
        "businessAddress",
        "otherAddress",
        "birthday",
        "personalNotes",
        "categories",
        "assistantName",
        "subject",
        "body",
        "start",
        "end",
        "isAllDay",
        "originalStartTimeZone",
        "originalEndTimeZone",
        "location",
        "sensitivity",
        "showAs",
        "isReminderOn",
        "reminderMinutesBeforeStart",
        "organizer",
        "attendees",
        "recurrence",
        "pattern",
        "range",
        "type",
        "interval",
        "daysOfWeek",
        "firstDayOfWeek",
        "dayOfMonth",
        "month",
        "index",
        "startDate",
        "endDate",
        "numberOfOccurrences",
        "recurrenceTimeZone",
        "dateTime",
        "timeZone",
        "status",
        "importance",
        "dueDateTime",
        "startDateTime",
        "completedDateTime",
        "reminderDateTime",
        "content",
        "contentType",
        "address",
        "name",
        "emailAddress",
        "response",
        "displayName",
        "street",
        "city",
        "state",
        "postalCode",
        "countryOrRegion",
        "seriesMasterId",
        "originalStart",
    ];
    prop_oneof![
        6 => proptest::sample::select(names.to_vec()).prop_map(String::from),
        1 => "[A-Za-z@.]{1,12}",
    ]
}

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        ".{0,16}".prop_map(Value::String),
        // Values that look right, and nearly right.
        proptest::sample::select(vec![
            "2026-12-07T09:00:00.0000000",
            "2026-12-07T00:00:00",
            "2026-12-07T09:00:00Z",
            "1980-05-01T11:59:59Z",
            "2026-02-30T00:00:00",
            "9999-12-31T23:59:59.9999999",
            "W. Europe Standard Time",
            "Hawaiian Standard Time",
            "Europe/Berlin",
            "tzone://Microsoft/Custom",
            "UTC",
            "Nowhere/Else",
            "weekly",
            "absoluteMonthly",
            "relativeYearly",
            "numbered",
            "endDate",
            "noEnd",
            "monday",
            "last",
            "private",
            "confidential",
            "busy",
            "completed",
            "notStarted",
            "high",
            "html",
            "<p>Hi</p>",
            "",
        ])
        .prop_map(|s| Value::String(s.to_string())),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    scalar().prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::btree_map(property(), inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn item() -> impl Strategy<Value = Value> {
    proptest::collection::btree_map(property(), json_value(), 0..14)
        .prop_map(|m| Value::Object(m.into_iter().collect::<Map<String, Value>>()))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_items_never_panic_and_what_maps_maps_back(
        item in item(),
        kind in proptest::sample::select(RecordKind::ALL.to_vec()),
    ) {
        if let Ok(fields) = from_graph(kind, &item, ZONE) {
            prop_assert!(kind.check_changes(&fields).is_ok());
            let _ = to_graph(kind, &fields, None, ZONE);
            let _ = to_graph(kind, &fields, Some(&item), ZONE);
        }
    }

    #[test]
    fn a_series_gathered_from_arbitrary_instances_never_panics(
        mut master in item(),
        instances in proptest::collection::vec(item(), 0..6),
    ) {
        // A master that reads as a weekly series, so gathering gets past its first checks.
        if let Value::Object(m) = &mut master {
            m.insert("type".into(), json!("seriesMaster"));
            m.insert("start".into(), json!({"dateTime": "2026-12-07T09:00:00.0000000", "timeZone": "UTC"}));
            m.insert("end".into(), json!({"dateTime": "2026-12-07T10:00:00.0000000", "timeZone": "UTC"}));
            m.insert("recurrence".into(), json!({
                "pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["monday"]},
                "range": {"type": "numbered", "startDate": "2026-12-07", "numberOfOccurrences": 5},
            }));
        }
        let window = (
            Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(2027, 2, 1, 0, 0, 0).unwrap(),
        );
        let _ = gather_series(&master, &instances, window, ZONE);
    }
}
