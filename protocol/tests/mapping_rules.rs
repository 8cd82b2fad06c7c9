//! The rules around the tables: lengths, private events, required fields, event times,
//! update groups, task status, and the errors bad input gets.

use chrono_tz::Tz;
use serde_json::{Map, Value, json};
use tandem_protocol::mapping::{
    MappingError, SalesforceContext, Warning, changes_to_salesforce, from_salesforce,
    kind_for_object, parse_salesforce_datetime, salesforce_datetime, to_salesforce,
};
use tandem_protocol::record::{Fields, RecordKind};

fn ctx() -> SalesforceContext {
    SalesforceContext::standard("Europe/Berlin".parse::<Tz>().expect("zone"))
}

fn fields(value: Value) -> Fields {
    match value {
        Value::Object(map) => map.into_iter().collect(),
        _ => panic!("not an object"),
    }
}

fn row(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => panic!("not an object"),
    }
}

fn timed(start: &str, end: &str) -> Value {
    json!({
        "start": {"time": {"utc": start, "tzid": "Europe/Berlin"}},
        "end": {"time": {"utc": end, "tzid": "Europe/Berlin"}},
    })
}

fn merge(mut a: Value, b: Value) -> Value {
    if let (Some(a), Value::Object(b)) = (a.as_object_mut(), b) {
        a.extend(b);
    }
    a
}

#[test]
fn long_text_is_truncated_with_a_warning() {
    let rec = fields(merge(
        timed("2024-05-06T08:00:00Z", "2024-05-06T09:00:00Z"),
        json!({"subject": "ü".repeat(300), "location": "x".repeat(255)}),
    ));
    let out = to_salesforce(RecordKind::Event, &rec, &ctx()).unwrap();
    let subject = out.fields["Subject"].as_str().unwrap();
    assert_eq!(subject.chars().count(), 255);
    assert_eq!(out.fields["Location"].as_str().unwrap().len(), 255);
    assert_eq!(
        out.warnings,
        vec![Warning::Truncated {
            object: "Event",
            field: "Subject".into(),
            from: 300,
            to: 255
        }]
    );
    assert_eq!(
        out.warnings[0].to_string(),
        "Event.Subject was truncated from 300 to 255 characters"
    );

    let contact = fields(
        json!({"last_name": "L".repeat(81), "mailing_address": {"postal_code": "1".repeat(21)}}),
    );
    let out = to_salesforce(RecordKind::Contact, &contact, &ctx()).unwrap();
    assert_eq!(out.fields["LastName"].as_str().unwrap().len(), 80);
    assert_eq!(out.fields["MailingPostalCode"].as_str().unwrap().len(), 20);
    assert_eq!(out.warnings.len(), 2, "{:?}", out.warnings);
}

#[test]
fn a_private_event_is_sent_without_who_and_what() {
    let rec = fields(merge(
        timed("2024-05-06T08:00:00Z", "2024-05-06T09:00:00Z"),
        json!({
            "private": true,
            "who": [{"salesforce_id": "003Kd00000FgHiJIAV", "name": "Ana"}],
            "what": {"salesforce_id": "001Kd00000AbCdEIAV"},
        }),
    ));
    let out = to_salesforce(RecordKind::Event, &rec, &ctx()).unwrap();
    assert_eq!(out.fields["IsPrivate"], json!(true));
    assert!(!out.fields.contains_key("WhoId"));
    assert!(!out.fields.contains_key("WhatId"));
    assert_eq!(
        out.warnings,
        vec![Warning::PrivateEventUnlinked {
            fields: vec!["WhoId".into(), "WhatId".into()]
        }]
    );

    // Making a related event private clears the relations in the same update.
    let mut public = rec.clone();
    public.remove("private");
    let out = changes_to_salesforce(RecordKind::Event, &public, &rec, &ctx()).unwrap();
    assert_eq!(
        Value::Object(out.fields),
        json!({"IsPrivate": true, "WhoId": null, "WhatId": null})
    );
}

#[test]
fn a_contact_without_last_name_gets_one_from_what_is_there() {
    let cases = [
        (
            json!({"first_name": "Madonna", "email": "m@example.com"}),
            "Madonna",
            "first name",
        ),
        (
            json!({"email": "j.doe@example.com", "company": "Acme"}),
            "j.doe",
            "email address",
        ),
        (json!({"company": "Acme GmbH"}), "Acme GmbH", "company"),
        (
            json!({"title": "CEO"}),
            "[not provided]",
            "placeholder Salesforce uses",
        ),
    ];
    for (value, last, source) in cases {
        let out = to_salesforce(RecordKind::Contact, &fields(value.clone()), &ctx()).unwrap();
        assert_eq!(out.fields["LastName"], json!(last), "{value}");
        assert!(!out.fields.contains_key("FirstName"), "{value}");
        assert_eq!(
            out.warnings,
            vec![Warning::LastNameFilled {
                source,
                value: last.into()
            }]
        );
    }
    // Clearing the last name in an update sends the fallback instead of a rejected null.
    let before = fields(json!({"first_name": "Ana", "last_name": "Lee"}));
    let after = fields(json!({"first_name": "Ana"}));
    let out = changes_to_salesforce(RecordKind::Contact, &before, &after, &ctx()).unwrap();
    assert_eq!(
        Value::Object(out.fields),
        json!({"LastName": "Ana", "FirstName": null})
    );
}

#[test]
fn malformed_emails_are_held_back_not_cleared() {
    let rec = fields(json!({"last_name": "Lee", "email": "lee at example"}));
    let out = to_salesforce(RecordKind::Contact, &rec, &ctx()).unwrap();
    assert!(!out.fields.contains_key("Email"));
    assert!(matches!(&out.warnings[..], [Warning::NotSent { field, .. }] if field == "Email"));
    let before = fields(json!({"last_name": "Lee", "email": "lee@example.com"}));
    let out = changes_to_salesforce(RecordKind::Contact, &before, &rec, &ctx()).unwrap();
    assert!(out.fields.is_empty(), "{:?}", out.fields);
    assert_eq!(out.warnings.len(), 1);
}

#[test]
fn optional_fields_travel_only_when_the_org_has_them() {
    let rec = fields(json!({"first_name": "Ana", "middle_name": "Maria", "last_name": "Lee"}));
    let out = to_salesforce(RecordKind::Contact, &rec, &ctx()).unwrap();
    assert!(!out.fields.contains_key("MiddleName"));
    let mut with = ctx();
    with.enabled_optional_fields = vec!["MiddleName".into(), "Suffix".into()];
    let out = to_salesforce(RecordKind::Contact, &rec, &with).unwrap();
    assert_eq!(out.fields["MiddleName"], json!("Maria"));
}

#[test]
fn all_day_events_are_sent_as_midnight_utc_with_an_inclusive_last_day() {
    let rec = fields(json!({"start": {"date": "2024-03-29"}, "end": {"date": "2024-04-03"}}));
    let out = to_salesforce(RecordKind::Event, &rec, &ctx()).unwrap();
    assert_eq!(out.fields["IsAllDayEvent"], json!(true));
    assert_eq!(out.fields["ActivityDate"], json!("2024-03-29"));
    assert_eq!(
        out.fields["StartDateTime"],
        json!("2024-03-29T00:00:00.000+0000")
    );
    assert_eq!(
        out.fields["EndDateTime"],
        json!("2024-04-02T00:00:00.000+0000")
    );
    assert_eq!(out.fields["DurationInMinutes"], json!(7200));

    // No end, or DTEND = DTSTART: one day.
    for end in [Value::Null, json!({"date": "2024-05-10"})] {
        let mut rec = fields(json!({"start": {"date": "2024-05-10"}}));
        if !end.is_null() {
            rec.insert("end".into(), end);
        }
        let out = to_salesforce(RecordKind::Event, &rec, &ctx()).unwrap();
        assert_eq!(
            out.fields["EndDateTime"],
            json!("2024-05-10T00:00:00.000+0000")
        );
        assert_eq!(out.fields["DurationInMinutes"], json!(1440));
    }
}

#[test]
fn events_longer_than_fourteen_days_are_refused() {
    let ok = fields(json!({"start": {"date": "2024-05-01"}, "end": {"date": "2024-05-15"}}));
    assert!(to_salesforce(RecordKind::Event, &ok, &ctx()).is_ok());
    let long = fields(json!({"start": {"date": "2024-05-01"}, "end": {"date": "2024-05-16"}}));
    let err = to_salesforce(RecordKind::Event, &long, &ctx()).unwrap_err();
    assert_eq!(
        err,
        MappingError::EventTooLong {
            object: "Event",
            minutes: 15 * 1440
        }
    );
    assert!(err.to_string().contains("can't exceed 14 days"), "{err}");

    let exactly = fields(timed("2024-05-01T08:00:00Z", "2024-05-15T08:00:00Z"));
    assert_eq!(
        to_salesforce(RecordKind::Event, &exactly, &ctx())
            .unwrap()
            .fields["DurationInMinutes"],
        json!(20160)
    );
    let over = fields(timed("2024-05-01T08:00:00Z", "2024-05-15T08:01:00Z"));
    assert!(matches!(
        to_salesforce(RecordKind::Event, &over, &ctx()),
        Err(MappingError::EventTooLong { minutes: 20161, .. })
    ));
}

#[test]
fn impossible_event_times_are_refused() {
    let backwards = fields(timed("2024-05-06T09:00:00Z", "2024-05-06T08:00:00Z"));
    let err = to_salesforce(RecordKind::Event, &backwards, &ctx())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("ends (2024-05-06T08:00:00.000+0000) before it starts"),
        "{err}"
    );
    let mixed = fields(json!({
        "start": {"date": "2024-05-06"},
        "end": {"time": {"utc": "2024-05-06T08:00:00Z"}},
    }));
    let err = to_salesforce(RecordKind::Event, &mixed, &ctx())
        .unwrap_err()
        .to_string();
    assert!(err.contains("both be dates"), "{err}");
    let no_start = fields(json!({"subject": "?"}));
    let err = to_salesforce(RecordKind::Event, &no_start, &ctx())
        .unwrap_err()
        .to_string();
    assert!(err.contains("has no start"), "{err}");
}

#[test]
fn moving_an_event_sends_its_whole_time_group() {
    let before = fields(merge(
        timed("2024-05-06T08:00:00Z", "2024-05-06T09:00:00Z"),
        json!({"subject": "Review", "location": "Room 1", "reminder_minutes": 15}),
    ));
    // Only the subject: only the subject.
    let mut renamed = before.clone();
    renamed.insert("subject".into(), json!("Review (moved)"));
    let out = changes_to_salesforce(RecordKind::Event, &before, &renamed, &ctx()).unwrap();
    assert_eq!(
        Value::Object(out.fields),
        json!({"Subject": "Review (moved)"})
    );

    // A longer meeting: the start is unchanged but travels with the end and duration, and the
    // reminder time does not change because the start did not.
    let mut longer = before.clone();
    longer.insert(
        "end".into(),
        json!({"time": {"utc": "2024-05-06T09:30:00Z", "tzid": "Europe/Berlin"}}),
    );
    let out = changes_to_salesforce(RecordKind::Event, &before, &longer, &ctx()).unwrap();
    assert_eq!(
        Value::Object(out.fields),
        json!({
            "IsAllDayEvent": false,
            "StartDateTime": "2024-05-06T08:00:00.000+0000",
            "EndDateTime": "2024-05-06T09:30:00.000+0000",
            "DurationInMinutes": 90,
        })
    );

    // Moved an hour later: the reminder moves with it; a cleared location is sent as null.
    let mut moved = fields(merge(
        timed("2024-05-06T09:00:00Z", "2024-05-06T10:00:00Z"),
        json!({"subject": "Review", "reminder_minutes": 15}),
    ));
    let out = changes_to_salesforce(RecordKind::Event, &before, &moved, &ctx()).unwrap();
    assert_eq!(
        Value::Object(out.fields),
        json!({
            "IsAllDayEvent": false,
            "StartDateTime": "2024-05-06T09:00:00.000+0000",
            "EndDateTime": "2024-05-06T10:00:00.000+0000",
            "DurationInMinutes": 60,
            "IsReminderSet": true,
            "ReminderDateTime": "2024-05-06T08:45:00.000+0000",
            "Location": null,
        })
    );

    // Becoming all-day sends the all-day shape; dropping the reminder clears both fields.
    moved.insert("start".into(), json!({"date": "2024-05-06"}));
    moved.insert("end".into(), json!({"date": "2024-05-07"}));
    moved.remove("reminder_minutes");
    let out = changes_to_salesforce(RecordKind::Event, &before, &moved, &ctx()).unwrap();
    assert_eq!(out.fields["IsAllDayEvent"], json!(true));
    assert_eq!(out.fields["ActivityDate"], json!("2024-05-06"));
    assert_eq!(out.fields["DurationInMinutes"], json!(1440));
    assert_eq!(out.fields["IsReminderSet"], json!(false));
    assert_eq!(out.fields["ReminderDateTime"], Value::Null);
}

#[test]
fn a_series_cannot_be_switched_on_in_an_update() {
    let before = fields(timed("2024-05-06T08:00:00Z", "2024-05-06T09:00:00Z"));
    let mut after = before.clone();
    after.insert("rrule".into(), json!("FREQ=WEEKLY;BYDAY=MO"));
    let err = changes_to_salesforce(RecordKind::Event, &before, &after, &ctx()).unwrap_err();
    assert!(matches!(err, MappingError::NeedsRecreate { .. }), "{err}");
    // Creating it is fine, with IsRecurrence2 and the normalised pattern in the event's zone.
    let out = to_salesforce(RecordKind::Event, &after, &ctx()).unwrap();
    assert_eq!(out.fields["IsRecurrence2"], json!(true));
    assert_eq!(
        out.fields["Recurrence2PatternText"],
        json!("RRULE:FREQ=WEEKLY;BYDAY=MO;WKST=SU;INTERVAL=1")
    );
    assert_eq!(
        out.fields["Recurrence2PatternTimeZone"],
        json!("Europe/Berlin")
    );
    // An unsupported rule is an error, not a silently different series.
    after.insert("rrule".into(), json!("FREQ=WEEKLY;BYDAY=MO;BYHOUR=9"));
    assert!(matches!(
        to_salesforce(RecordKind::Event, &after, &ctx()),
        Err(MappingError::UnsupportedRecurrence { .. })
    ));
}

#[test]
fn a_series_in_a_windows_zone_uses_the_users_zone_with_a_warning() {
    let rec = fields(json!({
        "start": {"time": {"utc": "2024-05-06T08:00:00Z", "tzid": "W. Europe Standard Time"}},
        "end": {"time": {"utc": "2024-05-06T09:00:00Z", "tzid": "W. Europe Standard Time"}},
        "rrule": "FREQ=DAILY;UNTIL=20240510",
        "exdates": [{"time": {"utc": "2024-05-07T08:00:00Z"}}],
    }));
    let out = to_salesforce(RecordKind::Event, &rec, &ctx()).unwrap();
    assert_eq!(
        out.fields["Recurrence2PatternTimeZone"],
        json!("Europe/Berlin")
    );
    // The date UNTIL includes the whole last day in that zone.
    assert_eq!(
        out.fields["Recurrence2PatternText"],
        json!("RRULE:FREQ=DAILY;INTERVAL=1;UNTIL=20240510T215959Z")
    );
    // The cancelled occurrence is no warning: it is sent as the deletion of its row.
    assert_eq!(out.warnings.len(), 1, "{:?}", out.warnings);
    assert!(matches!(out.warnings[0], Warning::TimeZoneReplaced { .. }));
}

/// Outlook's events made in UTC reach the record as `Z` times. Their weekly day is UTC's: at
/// 23:00 UTC on a Tuesday it is already Wednesday in Berlin, and a pattern sent in the user's
/// zone would make Salesforce move the series to the next Tuesday.
#[test]
fn a_series_at_a_utc_time_repeats_in_utc_not_in_the_users_zone() {
    let rec = fields(json!({
        "start": {"time": {"utc": "2026-12-15T23:00:00Z"}},
        "end": {"time": {"utc": "2026-12-15T23:30:00Z"}},
        "rrule": "FREQ=WEEKLY;COUNT=10;BYDAY=TU;WKST=SU",
    }));
    let out = to_salesforce(RecordKind::Event, &rec, &ctx()).unwrap();
    assert_eq!(out.fields["Recurrence2PatternTimeZone"], json!("GMT"));
    assert_eq!(
        out.fields["Recurrence2PatternText"],
        json!("RRULE:FREQ=WEEKLY;BYDAY=TU;WKST=SU;INTERVAL=1;COUNT=10")
    );
    assert_eq!(
        out.fields["StartDateTime"],
        json!("2026-12-15T23:00:00.000+0000")
    );
    assert!(out.warnings.is_empty(), "{:?}", out.warnings);
    // A floating time is the user's wall-clock time, so it repeats in the user's zone.
    let mut floating = rec.clone();
    floating.insert(
        "start".into(),
        json!({"time": {"utc": "2026-12-15T09:00:00Z", "floating": true}}),
    );
    floating.insert(
        "end".into(),
        json!({"time": {"utc": "2026-12-15T09:30:00Z", "floating": true}}),
    );
    let out = to_salesforce(RecordKind::Event, &floating, &ctx()).unwrap();
    assert_eq!(
        out.fields["Recurrence2PatternTimeZone"],
        json!("Europe/Berlin")
    );
}

#[test]
fn task_status_follows_the_orgs_closed_statuses() {
    let mut org = ctx();
    org.closed_task_statuses = vec!["Completed".into(), "Cancelled".into(), "Done".into()];
    org.default_open_status = "Open".into();
    let cases = [
        ("Not Started", "not_started"),
        ("Open", "not_started"),
        ("In Progress", "in_progress"),
        ("Waiting on someone else", "waiting"),
        ("Deferred", "deferred"),
        ("On Hold", "in_progress"),
        ("Completed", "completed"),
        ("Done", "completed"),
        ("Cancelled", "cancelled"),
    ];
    for (sf, rec) in cases {
        let row = row(json!({"attributes": {"type": "Task"}, "Status": sf}));
        let got = from_salesforce(RecordKind::Task, &row, &org).unwrap();
        assert_eq!(got["status"], json!(rec), "{sf}");
    }
    let send = |status: &str, ctx: &SalesforceContext| {
        let rec = fields(json!({"status": status}));
        to_salesforce(RecordKind::Task, &rec, ctx).unwrap().fields["Status"].clone()
    };
    assert_eq!(send("not_started", &org), json!("Open"));
    assert_eq!(send("completed", &org), json!("Completed"));
    assert_eq!(send("cancelled", &org), json!("Cancelled"));
    // A standard org has no cancelled status: the default closed one is written.
    assert_eq!(send("cancelled", &ctx()), json!("Completed"));
    let mut custom = ctx();
    custom.closed_task_statuses = vec!["Closed".into()];
    custom.default_closed_status = "Closed".into();
    assert_eq!(send("completed", &custom), json!("Closed"));

    // Required picklists are never cleared: Salesforce's defaults are sent instead.
    let before = fields(json!({"status": "in_progress", "priority": "high"}));
    let out = changes_to_salesforce(RecordKind::Task, &before, &Fields::new(), &ctx()).unwrap();
    assert_eq!(
        Value::Object(out.fields),
        json!({"Status": "Not Started", "Priority": "Normal"})
    );
}

#[test]
fn read_only_fields_are_never_sent() {
    let rec = fields(json!({
        "subject": "Done", "status": "completed", "completed_at": "2024-05-03T11:20:00Z",
    }));
    let out = to_salesforce(RecordKind::Task, &rec, &ctx()).unwrap();
    for f in [
        "CompletedDateTime",
        "IsClosed",
        "Id",
        "SystemModstamp",
        "IsDeleted",
    ] {
        assert!(!out.fields.contains_key(f), "{f} sent: {:?}", out.fields);
    }
}

fn err_of(kind: RecordKind, value: Value) -> String {
    from_salesforce(kind, &row(value), &ctx())
        .expect_err("should be rejected")
        .to_string()
}

#[test]
fn bad_values_are_named_with_object_field_and_value() {
    let cases = [
        (
            RecordKind::Event,
            json!({"StartDateTime": 42}),
            "Event.StartDateTime: expected a datetime string, got 42",
        ),
        (
            RecordKind::Event,
            json!({"StartDateTime": "tomorrow"}),
            "Event.StartDateTime: `tomorrow` is not a Salesforce datetime",
        ),
        (
            RecordKind::Event,
            json!({"IsAllDayEvent": "yes"}),
            "Event.IsAllDayEvent: expected true or false, got \"yes\"",
        ),
        (
            RecordKind::Event,
            json!({"DurationInMinutes": "90"}),
            "Event.DurationInMinutes: expected a whole number, got \"90\"",
        ),
        (
            RecordKind::Contact,
            json!({"Birthdate": "31/12/1990"}),
            "Contact.Birthdate: `31/12/1990` is not a Salesforce date",
        ),
        (
            RecordKind::Contact,
            json!({"LastName": ["Lee"]}),
            "Contact.LastName: expected a string, got [\"Lee\"]",
        ),
        (
            RecordKind::Contact,
            json!({"AccountId": "001", "Account": "Acme"}),
            "Contact.Account.Name: expected an object (a relationship), got \"Acme\"",
        ),
        (
            RecordKind::Task,
            json!({"ReminderDateTime": "2024-05-08", "IsReminderSet": true}),
            "Task.ReminderDateTime: `2024-05-08` is not a Salesforce datetime",
        ),
        (
            RecordKind::Contact,
            json!({"attributes": {"type": "Lead"}, "LastName": "Lee"}),
            "the row is a Salesforce Lead, not a Contact",
        ),
    ];
    for (kind, value, expected) in cases {
        let err = err_of(kind, value.clone());
        assert!(
            err.contains(expected),
            "{value}: `{err}` should contain `{expected}`"
        );
    }
    assert_eq!(kind_for_object("Event").unwrap(), RecordKind::Event);
    assert_eq!(
        kind_for_object("Opportunity").unwrap_err().to_string(),
        "`Opportunity` is not an object tandem syncs (Contact, Event or Task)"
    );
    // Bad record fields on the way out are named too.
    let bad = fields(json!({"birthday": "last spring"}));
    let err = to_salesforce(RecordKind::Contact, &bad, &ctx()).unwrap_err();
    assert!(
        matches!(&err, MappingError::BadRecordField { field, .. } if field == "birthday"),
        "{err}"
    );
}

#[test]
fn datetime_helpers_round_trip() {
    let t = parse_salesforce_datetime("2024-05-06T10:00:00.000+0000").unwrap();
    assert_eq!(salesforce_datetime(t), "2024-05-06T10:00:00.000+0000");
    let t = parse_salesforce_datetime("2024-05-06T12:00:00+02:00").unwrap();
    assert_eq!(salesforce_datetime(t), "2024-05-06T10:00:00.000+0000");
}

#[test]
fn a_lost_owner_is_not_sent_as_null() {
    let before =
        fields(json!({"subject": "Call", "owner": {"salesforce_id": "005Kd000001QrStIAK"}}));
    let after = fields(json!({"subject": "Call back"}));
    let out = changes_to_salesforce(RecordKind::Task, &before, &after, &ctx()).unwrap();
    assert_eq!(Value::Object(out.fields), json!({"Subject": "Call back"}));
}
