//! The mapping against the Salesforce emulator: every fixture, mapped to a record and back out,
//! is accepted by a create; reading the new row with the mapping's own SELECT gives the same
//! record; an update diff is accepted and lands.

#[allow(dead_code)]
#[path = "../emulators/salesforce/tests/conformance/common.rs"]
mod common;

use serde_json::{Map, Value as Json, json};
use tandem_protocol::mapping::{
    SalesforceContext, changes_to_salesforce, from_salesforce, soql_quote, soql_select,
    to_salesforce,
};
use tandem_protocol::record::{Fields, RecordKind};
use tandem_salesforce_emulator::TaskStatusDef;

use common::{Sf, config, start_with};

macro_rules! fixture {
    ($name:literal) => {
        (
            $name,
            include_str!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/fixtures/salesforce/",
                $name,
                ".json"
            )),
        )
    };
}

const FIXTURES: &[(RecordKind, (&str, &str))] = &[
    (RecordKind::Contact, fixture!("contact_with_account")),
    (RecordKind::Event, fixture!("event_timed")),
    (RecordKind::Event, fixture!("event_all_day")),
    (RecordKind::Event, fixture!("event_all_day_multi_dst")),
    (RecordKind::Event, fixture!("event_series_weekly")),
    (RecordKind::Event, fixture!("event_series_normalised")),
    (RecordKind::Event, fixture!("event_private")),
    (RecordKind::Task, fixture!("task_open")),
    (RecordKind::Task, fixture!("task_completed_custom_status")),
];

const CUSTOM_CLOSED: &str = "Done - No Follow-up";

fn ctx() -> SalesforceContext {
    let mut ctx = SalesforceContext::standard(chrono_tz::Europe::Berlin);
    ctx.closed_task_statuses = vec!["Completed".into(), CUSTOM_CLOSED.into()];
    ctx
}

async fn org() -> Sf {
    let mut config = config();
    config.user_time_zone = "Europe/Berlin".into();
    config.task_statuses.push(TaskStatusDef {
        label: CUSTOM_CLOSED.into(),
        closed: true,
        default: false,
    });
    start_with(config).await
}

fn object(kind: RecordKind) -> &'static str {
    match kind {
        RecordKind::Contact => "Contact",
        RecordKind::Event => "Event",
        RecordKind::Task => "Task",
    }
}

/// Replace the fixture's ids by the ids of records that exist in the emulator.
fn remap(value: &mut Json, ids: &[(&str, String)]) {
    match value {
        Json::String(s) => {
            if let Some((_, new)) = ids.iter().find(|(old, _)| old == s) {
                *s = new.clone();
            }
        }
        Json::Array(items) => items.iter_mut().for_each(|v| remap(v, ids)),
        Json::Object(map) => map.values_mut().for_each(|v| remap(v, ids)),
        _ => {}
    }
}

/// The canonical record after merging what Salesforce filled in on create (owner, ShowAs,
/// CompletedDateTime): the record's own values win.
fn with_defaults(record: &Fields, stored: &Fields) -> Fields {
    let mut merged = stored.clone();
    merged.extend(record.clone());
    merged
}

/// Link names come from whatever the org calls those records; compare the ids only.
fn without_names(fields: &Fields) -> Fields {
    let mut out = fields.clone();
    for v in out.values_mut() {
        if let Some(obj) = v.as_object_mut()
            && obj.contains_key("salesforce_id")
        {
            obj.remove("name");
        }
        if let Some(list) = v.as_array_mut() {
            for item in list {
                if let Some(obj) = item.as_object_mut() {
                    obj.remove("name");
                }
            }
        }
    }
    out
}

async fn read_back(sf: &Sf, kind: RecordKind, id: &str) -> Map<String, Json> {
    let soql = format!("{} WHERE Id = {}", soql_select(kind), soql_quote(id));
    let r = sf.query(&soql).await;
    assert_eq!(r.status, 200, "{soql}: {}", r.text);
    match &r.body["records"][0] {
        Json::Object(row) => row.clone(),
        other => panic!("no row for {id}: {other}"),
    }
}

#[tokio::test]
async fn every_fixture_is_accepted_and_reads_back_as_the_same_record() {
    let sf = org().await;
    let ctx = ctx();
    let me = sf.emu.org().current_user_id();
    let account = sf
        .create("Account", json!({"Name": "Grand Hotels & Resorts Ltd"}))
        .await;
    let ana = sf
        .create(
            "Contact",
            json!({"FirstName": "Ana", "LastName": "Müller-Lüdenscheidt", "AccountId": account}),
        )
        .await;
    let boss = sf
        .create(
            "Contact",
            json!({"FirstName": "Jörg", "LastName": "Brandt"}),
        )
        .await;
    let ids = [
        ("001Kd00000AbCdEIAV", account),
        ("003Kd00000FgHiJIAV", ana),
        ("003Kd00000KlMnOIAV", boss),
        ("005Kd000001QrStIAK", me),
    ];

    for (kind, (name, text)) in FIXTURES {
        let mut row: Json = serde_json::from_str(text).expect("fixture is JSON");
        remap(&mut row, &ids);
        let row = row.as_object().cloned().expect("object");
        let record = from_salesforce(*kind, &row, &ctx).expect("fixture maps");
        let out = to_salesforce(*kind, &record, &ctx).expect("record maps out");
        let r = sf
            .post(
                &format!("/sobjects/{}", object(*kind)),
                Json::Object(out.fields.clone()),
            )
            .await;
        assert_eq!(r.status, 201, "{name}: {} for {:?}", r.text, out.fields);
        let id = r.body["id"].as_str().expect("id").to_string();

        let stored = read_back(&sf, *kind, &id).await;
        let mut again = from_salesforce(*kind, &stored, &ctx).expect("stored row maps");
        if *kind == RecordKind::Task && record.contains_key("completed_at") {
            // Read-only: Salesforce stamps the time the task was saved closed.
            assert_eq!(again["completed_at"], json!("2024-05-06T10:00:00Z"));
            again.insert("completed_at".into(), record["completed_at"].clone());
        }
        assert_eq!(
            without_names(&again),
            without_names(&record),
            "{name}: stored {stored:?}"
        );
        if *kind == RecordKind::Contact {
            assert_eq!(again["company"], json!("Grand Hotels & Resorts Ltd"));
        }
        // Reading the write back is not a change to send back.
        let echo = changes_to_salesforce(*kind, &again, &with_defaults(&record, &again), &ctx)
            .expect("diff");
        assert!(echo.fields.is_empty(), "{name}: echo {:?}", echo.fields);
    }
}

#[tokio::test]
async fn a_client_rule_salesforce_respells_is_stored_with_the_same_meaning() {
    let sf = org().await;
    let ctx = ctx();
    let record: Fields = serde_json::from_value(json!({
        "subject": "Standup",
        "start": {"time": {"utc": "2024-05-07T07:00:00Z", "tzid": "Europe/Berlin"}},
        "end": {"time": {"utc": "2024-05-07T07:15:00Z", "tzid": "Europe/Berlin"}},
        "rrule": "FREQ=WEEKLY;COUNT=10;BYDAY=TU,TH",
        "private": true,
        "who": [{"salesforce_id": "003Kd00000FgHiJIAV"}],
    }))
    .expect("fields");
    let out = to_salesforce(RecordKind::Event, &record, &ctx).expect("maps out");
    assert!(
        !out.fields.contains_key("WhoId"),
        "private events carry no Who"
    );
    let r = sf.post("/sobjects/Event", Json::Object(out.fields)).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.body["id"].as_str().expect("id").to_string();
    let stored = read_back(&sf, RecordKind::Event, &id).await;
    assert_eq!(
        stored["Recurrence2PatternText"],
        json!("RRULE:FREQ=WEEKLY;BYDAY=TU,TH;WKST=SU;INTERVAL=1;COUNT=10")
    );
    let again = from_salesforce(RecordKind::Event, &stored, &ctx).expect("maps");
    assert_eq!(
        again["rrule"],
        json!("FREQ=WEEKLY;BYDAY=TU,TH;WKST=SU;INTERVAL=1;COUNT=10")
    );
    // The series is the same by meaning, and the Who the private event could not carry is
    // not sent again: nothing goes back.
    let echo = changes_to_salesforce(
        RecordKind::Event,
        &again,
        &with_defaults(&record, &again),
        &ctx,
    )
    .expect("diff");
    assert!(echo.fields.is_empty(), "{:?}", echo.fields);
}

#[tokio::test]
async fn update_diffs_are_accepted_and_land() {
    let sf = org().await;
    let ctx = ctx();
    let (_, text) = FIXTURES[1].1;
    let mut row: Json = serde_json::from_str(text).expect("fixture");
    // Keep it unrelated so no other records are needed.
    for f in ["WhoId", "Who", "WhatId", "What", "OwnerId", "Owner"] {
        row[f] = Json::Null;
    }
    let before =
        from_salesforce(RecordKind::Event, row.as_object().expect("obj"), &ctx).expect("maps");
    let id = sf
        .create(
            "Event",
            Json::Object(
                to_salesforce(RecordKind::Event, &before, &ctx)
                    .expect("out")
                    .fields,
            ),
        )
        .await;

    // Later by an hour and 30 minutes longer, no location, private now.
    let mut after = before.clone();
    after.insert(
        "start".into(),
        json!({"time": {"utc": "2024-05-06T09:00:00Z", "tzid": "Europe/Berlin"}}),
    );
    after.insert(
        "end".into(),
        json!({"time": {"utc": "2024-05-06T11:00:00Z", "tzid": "Europe/Berlin"}}),
    );
    after.remove("location");
    after.insert("private".into(), json!(true));
    let diff = changes_to_salesforce(RecordKind::Event, &before, &after, &ctx).expect("diff");
    let r = sf
        .patch(&format!("/sobjects/Event/{id}"), Json::Object(diff.fields))
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    let stored = read_back(&sf, RecordKind::Event, &id).await;
    assert_eq!(stored["DurationInMinutes"], json!(120));
    assert_eq!(
        stored["ReminderDateTime"],
        json!("2024-05-06T08:45:00.000+0000")
    );
    let mut again = from_salesforce(RecordKind::Event, &stored, &ctx).expect("maps");
    // Salesforce assigned the owner on create.
    assert!(again.remove("owner").is_some());
    assert_eq!(without_names(&again), without_names(&after));

    // Turning it into an all-day event the next day.
    let mut all_day = after.clone();
    all_day.insert("start".into(), json!({"date": "2024-05-07"}));
    all_day.insert("end".into(), json!({"date": "2024-05-09"}));
    let diff = changes_to_salesforce(RecordKind::Event, &after, &all_day, &ctx).expect("diff");
    let r = sf
        .patch(&format!("/sobjects/Event/{id}"), Json::Object(diff.fields))
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    let stored = read_back(&sf, RecordKind::Event, &id).await;
    assert_eq!(stored["EndDateTime"], json!("2024-05-08T00:00:00.000+0000"));
    let mut again = from_salesforce(RecordKind::Event, &stored, &ctx).expect("maps");
    again.remove("owner");
    assert_eq!(without_names(&again), without_names(&all_day));
}
