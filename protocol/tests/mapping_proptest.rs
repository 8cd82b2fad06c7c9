//! Whatever JSON a Salesforce row holds, the mapping answers with fields or an error, never a
//! panic; and whatever it answers with is a valid record that maps back out.

use proptest::prelude::*;
use serde_json::{Map, Value};
use tandem_protocol::mapping::{SalesforceContext, from_salesforce, table, to_salesforce};
use tandem_protocol::record::RecordKind;

fn ctx() -> SalesforceContext {
    SalesforceContext::standard(chrono_tz::America::Sao_Paulo)
}

/// Field names Salesforce uses, so generated rows hit the real conversions, plus noise.
fn field_name() -> impl Strategy<Value = String> {
    let mut names: Vec<String> = RecordKind::ALL
        .into_iter()
        .filter_map(|k| table(k).ok())
        .flat_map(|t| t.rows.iter().map(|r| r.salesforce.clone()))
        .collect();
    names.extend(["Account", "Owner", "Who", "What", "ReportsTo", "attributes"].map(String::from));
    prop_oneof![
        4 => proptest::sample::select(names),
        1 => "[A-Za-z]{1,12}",
    ]
}

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        ".{0,20}".prop_map(Value::String),
        // Values that look right, and nearly right.
        proptest::sample::select(vec![
            "2024-05-06T10:00:00.000+0000",
            "2024-05-06",
            "9999-12-31T23:59:59.000+0000",
            "0001-01-01",
            "2024-02-30",
            "Completed",
            "Busy",
            "High",
            "Not Started",
            "RRULE:FREQ=WEEKLY;BYDAY=MO;WKST=SU;INTERVAL=1;COUNT=13",
            "RRULE:FREQ=",
            "America/New_York",
            "Nowhere/Else",
            "003Kd00000FgHiJIAV",
            "",
        ])
        .prop_map(|s| Value::String(s.to_string())),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    scalar().prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::btree_map(field_name(), inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn sobject() -> impl Strategy<Value = Map<String, Value>> {
    proptest::collection::btree_map(field_name(), json_value(), 0..16)
        .prop_map(|m| m.into_iter().collect())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_rows_never_panic(row in sobject(), kind in proptest::sample::select(RecordKind::ALL.to_vec())) {
        if let Ok(fields) = from_salesforce(kind, &row, &ctx()) {
            prop_assert!(kind.check_changes(&fields).is_ok());
            // A record read from Salesforce can always be described back, or is refused clearly.
            let _ = to_salesforce(kind, &fields, &ctx());
        }
    }
}

fn when() -> impl Strategy<Value = Value> {
    // Up to the ends of chrono's calendar, where careless arithmetic overflows.
    let secs = -8_000_000_000_000i64..8_000_000_000_000i64;
    prop_oneof![
        secs.clone().prop_filter_map("in range", |s| {
            chrono::DateTime::from_timestamp(s, 0)
                .map(|t| serde_json::json!({"time": {"utc": t, "tzid": "Europe/Berlin"}}))
        }),
        secs.prop_filter_map("in range", |s| {
            chrono::DateTime::from_timestamp(s, 0)
                .map(|t| serde_json::json!({"date": t.date_naive()}))
        }),
        (0i64..3_000).prop_map(|m| {
            let t = chrono::DateTime::from_timestamp(1_715_000_000 + m * 600, 0);
            serde_json::json!({"time": {"utc": t, "tzid": "America/New_York"}})
        }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_event_records_never_panic_on_the_way_out(
        start in proptest::option::of(when()),
        end in proptest::option::of(when()),
        reminder in proptest::option::of(any::<i64>()),
        rrule in proptest::option::of(proptest::sample::select(vec![
            "FREQ=WEEKLY;BYDAY=MO", "FREQ=DAILY;UNTIL=20240610", "FREQ=DAILY;UNTIL=99991231T235959",
            "FREQ=MONTHLY;BYDAY=FR;BYSETPOS=-1", "FREQ=SECONDLY", "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29",
        ])),
        private in any::<bool>(),
    ) {
        let mut fields = tandem_protocol::record::Fields::new();
        if let Some(s) = start { fields.insert("start".into(), s); }
        if let Some(e) = end { fields.insert("end".into(), e); }
        if let Some(r) = reminder { fields.insert("reminder_minutes".into(), r.into()); }
        if let Some(r) = rrule { fields.insert("rrule".into(), r.into()); }
        if private { fields.insert("private".into(), true.into()); }
        if let Ok(out) = to_salesforce(RecordKind::Event, &fields, &ctx()) {
            // What we send reads back as the same start.
            let back = from_salesforce(RecordKind::Event, &out.fields, &ctx());
            prop_assert!(back.is_ok(), "{:?} -> {:?}", out.fields, back);
        }
        let _ = tandem_protocol::mapping::changes_to_salesforce(
            RecordKind::Event, &tandem_protocol::record::Fields::new(), &fields, &ctx());
    }
}
