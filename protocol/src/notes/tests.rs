use super::*;
use crate::record::{Priority, ShowAs, TaskStatus, When};
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::json;

const NY: Tz = chrono_tz::America::New_York;
const EASTERN: &str = "Z=5$DO=1$DL=3 2 1 11 1 1$ZX=40$ZN=Eastern";

fn utc(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

fn at(text: &str, tzid: &str) -> Value {
    serde_json::to_value(When::Time {
        utc: utc(text),
        tzid: Some(tzid.into()),
        floating: false,
    })
    .unwrap()
}

fn fields(value: Value) -> Fields {
    serde_json::from_value(value).unwrap()
}

#[test]
fn notes_zone_strings_name_iana_zones() {
    assert_eq!(zone(EASTERN), Some(NY));
    assert_eq!(zone("America/Chicago"), Some(chrono_tz::America::Chicago));
    assert_eq!(
        zone("Z=-1$DO=1$DL=3 -1 1 10 -1 1$ZX=72$ZN=W. Europe"),
        Some(chrono_tz::Europe::Berlin)
    );
    assert_eq!(
        zone("Z=0$DO=1$DL=3 -1 1 10 -1 1$ZX=0$ZN=GMT"),
        Some(chrono_tz::Europe::London)
    );
    assert_eq!(
        zone("Z=-9$DO=0$ZX=0$ZN=Tokyo"),
        Some(chrono_tz::Asia::Tokyo)
    );
    // An unknown name: a zone with the same standard offset and the same DST rule.
    let central = zone("Z=6$DO=1$DL=3 2 1 11 1 1$ZX=1$ZN=Prairie").unwrap();
    assert_eq!(central, chrono_tz::America::Chicago);
    // A name that disagrees with the offset is not trusted.
    assert_eq!(
        zone("Z=8$DO=1$DL=3 2 1 11 1 1$ZN=Eastern"),
        Some(chrono_tz::America::Los_Angeles)
    );
    // Fractional offsets east of UTC.
    assert_eq!(
        zone("Z=-5.5$DO=0$ZN=Nowhere").map(|z| z.name()),
        Some("Asia/Kolkata")
    );
    // No inhabited zone: the fixed one (POSIX sign: +12 is twelve hours west).
    assert_eq!(
        zone("Z=12$DO=0$ZN=Nowhere").map(|z| z.name()),
        Some("Etc/GMT+12")
    );
    assert_eq!(zone("Z=abc$DO=0"), None);
    assert_eq!(zone("Mars/Olympus"), None);
}

fn entry(start: &str, time_zone: &str) -> Value {
    json!({
        "@type": "jsevent",
        "uid": "9C1B7BB6574C558A00258AD6005223CC",
        "title": "Call",
        "start": start,
        "duration": "PT1H",
        "timeZone": time_zone,
    })
}

fn start_of(item: &Value) -> DateTime<Utc> {
    let f = from_notes(RecordKind::Event, item, NY).unwrap();
    match serde_json::from_value::<When>(f["start"].clone()).unwrap() {
        When::Time { utc, .. } => utc,
        When::Date(_) => panic!("a timed entry"),
    }
}

#[test]
fn ten_in_new_york_is_a_different_utc_hour_in_summer_and_winter() {
    assert_eq!(
        start_of(&entry("2026-07-15T10:00:00", EASTERN)),
        utc("2026-07-15T14:00:00Z")
    );
    assert_eq!(
        start_of(&entry("2026-01-15T10:00:00", EASTERN)),
        utc("2026-01-15T15:00:00Z")
    );
    let f = from_notes(
        RecordKind::Event,
        &entry("2026-07-15T10:00:00", EASTERN),
        NY,
    )
    .unwrap();
    assert_eq!(f["start"], at("2026-07-15T14:00:00Z", "America/New_York"));
    assert_eq!(f["end"], at("2026-07-15T15:00:00Z", "America/New_York"));
}

#[test]
fn dst_edges_read_and_write_the_same_instant() {
    // 01:30 on the US spring-forward day is still standard time; 02:30 does not exist and is
    // read with the offset from before the gap (as the codec does).
    assert_eq!(
        start_of(&entry("2026-03-08T01:30:00", EASTERN)),
        utc("2026-03-08T06:30:00Z")
    );
    assert_eq!(
        start_of(&entry("2026-03-08T02:30:00", EASTERN)),
        utc("2026-03-08T07:30:00Z")
    );
    // 01:30 on the autumn day happens twice: the first one.
    assert_eq!(
        start_of(&entry("2026-11-01T01:30:00", EASTERN)),
        utc("2026-11-01T05:30:00Z")
    );

    // Read as a Notes string, written back as the IANA name: the same instants.
    for start in [
        "2026-03-08T01:30:00",
        "2026-11-01T01:30:00",
        "2026-11-01T03:00:00",
    ] {
        let item = entry(start, EASTERN);
        let read = from_notes(RecordKind::Event, &item, NY).unwrap();
        let body = to_notes(RecordKind::Event, &read, Some(&item), NY).unwrap();
        assert_eq!(body["timeZone"], "America/New_York");
        assert_eq!(body["start"], start);
        let back = from_notes(RecordKind::Event, &Value::Object(body), NY).unwrap();
        assert_eq!(back["start"], read["start"], "{start}");
        assert_eq!(back["end"], read["end"], "{start}");
    }

    // An hour across the autumn change is an hour: the duration sent is exact, not nominal.
    let f = fields(json!({
        "subject": "Night shift",
        "start": at("2026-11-01T05:00:00Z", "America/New_York"),
        "end": at("2026-11-01T07:00:00Z", "America/New_York"),
    }));
    let body = to_notes(RecordKind::Event, &f, None, NY).unwrap();
    assert_eq!(body["start"], "2026-11-01T01:00:00");
    assert_eq!(body["duration"], "PT2H");
    assert_eq!(
        from_notes(RecordKind::Event, &Value::Object(body), NY).unwrap()["end"],
        f["end"]
    );
}

fn series() -> Value {
    json!({
        "@type": "jsevent",
        "uid": "AB12AB12AB12AB12AB12AB12AB12AB12",
        "title": "Team sync",
        "start": "2026-11-02T09:00:00",
        "duration": "PT30M",
        "timeZone": EASTERN,
        "privacy": "public",
        "categories": {"CRM": true},
        "recurrenceRules": [{"@type": "RecurrenceRule", "frequency": "weekly", "byDay": [{"@type": "NDay", "day": "mo"}], "count": 6}],
        "recurrenceOverrides": {
            "2026-11-16T09:00:00": {"excluded": true},
            "2026-11-09T09:00:00": {"start": "2026-11-10T13:00:00", "title": "Team sync (Tuesday)"}
        },
        "participants": {"p1": {"@type": "Participant", "email": "ana@example.com", "roles": {"attendee": true}}},
        "tandem.app:recordId": "evt-0000000000000001"
    })
}

#[test]
fn a_series_with_an_exdate_and_a_moved_occurrence_is_one_record_both_ways() {
    let item = series();
    let f = from_notes(RecordKind::Event, &item, NY).unwrap();
    assert_eq!(f["rrule"], "FREQ=WEEKLY;COUNT=6;BYDAY=MO");
    assert_eq!(
        f["exdates"],
        json!([at("2026-11-16T14:00:00Z", "America/New_York")])
    );
    let unmapped: Vec<String> = serde_json::from_value(f["unmapped"].clone()).unwrap();
    assert!(
        unmapped.contains(&"RECURRENCE-ID;TZID=America/New_York:20261109T090000".to_string()),
        "{unmapped:?}"
    );
    assert!(
        unmapped.contains(&"SUMMARY:Team sync (Tuesday)".to_string()),
        "{unmapped:?}"
    );
    assert!(unmapped.contains(&"UID:AB12AB12AB12AB12AB12AB12AB12AB12".to_string()));

    // Out again: the exdate is excluded and the moved occurrence is a patch of what changed.
    let body = to_notes(RecordKind::Event, &f, Some(&item), NY).unwrap();
    assert_eq!(
        body["recurrenceOverrides"],
        json!({
            "2026-11-16T09:00:00": {"excluded": true},
            "2026-11-09T09:00:00": {"start": "2026-11-10T13:00:00", "title": "Team sync (Tuesday)"}
        })
    );
    let mut back = body.clone();
    back.insert("uid".into(), item["uid"].clone());
    assert_eq!(
        from_notes(RecordKind::Event, &Value::Object(back), NY).unwrap(),
        f
    );
}

#[test]
fn an_event_update_keeps_participants_and_the_stamp_and_drops_what_the_server_sets() {
    let mut item = series();
    let extra = item.as_object_mut().unwrap();
    extra.insert("created".into(), json!("2024-03-04T14:57:11Z"));
    extra.insert("updated".into(), json!("2024-03-25T14:34:25Z"));
    let had = from_notes(RecordKind::Event, &item, NY).unwrap();
    let changes = fields(json!({"subject": "Team sync (new name)", "location": "Room 4"}));
    let Update::Send(body) = update(RecordKind::Event, &had, &changes, &item, NY).unwrap() else {
        panic!("nothing changed meanwhile");
    };
    assert_eq!(body["title"], "Team sync (new name)");
    assert_eq!(body["participants"], item["participants"]);
    assert_eq!(body[RECORD_ID_PROPERTY], "evt-0000000000000001");
    assert_eq!(
        stamped_record_id(RecordKind::Event, &Value::Object(body.clone())).as_deref(),
        Some("evt-0000000000000001")
    );
    for server_set in ["uid", "created", "updated", "@type"] {
        assert!(!body.contains_key(server_set), "{server_set} is not sent");
    }
    let locations: Vec<&Value> = body["locations"].as_object().unwrap().values().collect();
    assert_eq!(locations[0]["name"], "Room 4");
}

#[test]
fn update_waits_when_a_field_it_writes_changed_meanwhile() {
    let item = series();
    let mut had = from_notes(RecordKind::Event, &item, NY).unwrap();
    had.insert("subject".into(), json!("Team sync (as tandem knew it)"));
    let changes = fields(json!({"subject": "Renamed"}));
    assert_eq!(
        update(RecordKind::Event, &had, &changes, &item, NY).unwrap(),
        Update::ChangedMeanwhile
    );
    // A change to another field is no reason to wait.
    let other = fields(json!({"location": "Room 4"}));
    assert!(matches!(
        update(RecordKind::Event, &had, &other, &item, NY).unwrap(),
        Update::Send(_)
    ));
}

fn person() -> Value {
    json!({
        "@meta": {"unid": "0123456789ABCDEF0123456789ABCDEF", "revision": "0001", "etag": "W/\"1\""},
        "Form": "Person",
        "FIRSTNAME": "Ana",
        "LastName": "Lima",
        "FullName": "Ana Lima",
        "CompanyName": "Acme",
        "email_1": "ana@example.com",
        "OfficePhoneNumber": "+1 555 0100",
        "Categories": "CRM",
        "Birthday": "1980-05-01",
        "$Custom": "kept",
        "OfficeCity": "Lisbon",
    })
}

#[test]
fn a_contact_reads_items_without_regard_to_case_and_a_bare_category() {
    let f = from_notes(RecordKind::Contact, &person(), NY).unwrap();
    assert_eq!(f["first_name"], "Ana");
    assert_eq!(f["email"], "ana@example.com");
    assert_eq!(f["categories"], json!(["CRM"]));
    assert_eq!(f["birthday"], "1980-05-01");
    assert_eq!(f["mailing_address"], json!({"city": "Lisbon"}));
    assert!(!f.contains_key("@meta"));
}

#[test]
fn a_contact_patch_sends_what_changed_clears_with_null_and_leaves_the_rest() {
    let current = person();
    let mut f = from_notes(RecordKind::Contact, &current, NY).unwrap();
    f.remove("phone");
    f.insert("first_name".into(), json!("Ana Maria"));
    f.insert("email".into(), json!("ana.maria@example.com"));
    let body = to_notes(RecordKind::Contact, &f, Some(&current), NY).unwrap();
    assert_eq!(
        Value::Object(body),
        json!({
            "FIRSTNAME": "Ana Maria",
            "FullName": "Ana Maria Lima",
            "MailAddress": "ana.maria@example.com",
            "email_1": "ana.maria@example.com",
            "OfficePhoneNumber": null,
        })
    );
    // Nothing changed: nothing to send.
    let same = from_notes(RecordKind::Contact, &current, NY).unwrap();
    assert!(
        to_notes(RecordKind::Contact, &same, Some(&current), NY)
            .unwrap()
            .is_empty()
    );
    // A create has the form and only what has a value.
    let mut create = to_notes(RecordKind::Contact, &same, None, NY).unwrap();
    assert_eq!(create["Form"], "Person");
    assert_eq!(create["Categories"], json!(["CRM"]));
    assert!(create.values().all(|v| !v.is_null()));
    stamp(RecordKind::Contact, &mut create, "con-0000000000000002");
    assert_eq!(create[RECORD_ID_ITEM], "con-0000000000000002");
    assert_eq!(
        stamped_record_id(
            RecordKind::Contact,
            &json!({"tandemrecordid": ["con-0000000000000002"]})
        )
        .as_deref(),
        Some("con-0000000000000002")
    );
}

#[test]
fn seeded_todos_read_with_their_state_and_their_due_day() {
    let seeded = json!({
        "Form": "Task",
        "Subject": "To-do 0",
        "DueDateTime": "2026-12-01T17:00:00Z",
        "DueState": "1",
        "Categories": ["CRM", "Seed"],
    });
    // The due day is the day written, in Tokyo as in New York.
    for zone in [NY, chrono_tz::Asia::Tokyo] {
        let f = from_notes(RecordKind::Task, &seeded, zone).unwrap();
        assert_eq!(f["due"], "2026-12-01");
        assert_eq!(f["status"], "in_progress");
    }
    let done = json!({"Form": "Task", "Subject": "x", "DueState": 0, "Importance": "1"});
    let f = from_notes(RecordKind::Task, &done, NY).unwrap();
    assert_eq!(f["status"], "completed");
    assert_eq!(f["priority"], serde_json::to_value(Priority::High).unwrap());
    let overdue = json!({"Form": "Task", "DueState": "3"});
    assert_eq!(
        from_notes(RecordKind::Task, &overdue, NY).unwrap()["status"],
        "not_started"
    );
    assert!(from_notes(RecordKind::Task, &json!({"DueState": "7"}), NY).is_err());
}

#[test]
fn a_due_day_goes_out_at_noon_with_the_offset_and_comes_back_the_same_day() {
    let f = fields(
        json!({"subject": "File report", "due": "2026-12-01", "start": "2026-11-20",
        "status": "completed", "completed_at": "2026-11-30T08:00:00Z", "private": true}),
    );
    for zone in [
        chrono_tz::Pacific::Auckland,
        chrono_tz::Pacific::Honolulu,
        NY,
    ] {
        let body = to_notes(RecordKind::Task, &f, None, zone).unwrap();
        assert_eq!(body["Form"], "Task");
        assert_eq!(body["DueState"], "0");
        let due = body["DueDateTime"].as_str().unwrap();
        assert!(due.starts_with("2026-12-01T12:00:00"), "{due}");
        // Normalized to UTC by a server, it is still that day within UTC−11…UTC+11 (Auckland
        // in summer is UTC+13: only the date as written keeps it there).
        let instant = time::parse_instant(due).unwrap();
        let same_day = instant.date_naive() == NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        assert_eq!(same_day, zone != chrono_tz::Pacific::Auckland, "{due}");
        assert_eq!(
            from_notes(RecordKind::Task, &Value::Object(body), zone).unwrap(),
            f
        );
    }
}

#[test]
fn a_task_patch_leaves_an_unchanged_meaning_as_notes_wrote_it() {
    let current = json!({"Form": "Task", "Subject": "x", "DueDateTime": "2026-12-01T17:00:00Z",
        "DueState": "3", "STARTDATETIME": "2026-11-01T09:00:00Z", "$Alarm": 1});
    let mut f = from_notes(RecordKind::Task, &current, NY).unwrap();
    f.insert("start".into(), json!("2026-11-02"));
    let body = to_notes(RecordKind::Task, &f, Some(&current), NY).unwrap();
    // Start spelled as the document spells it; due and the overdue state untouched.
    assert_eq!(
        body.keys().collect::<Vec<_>>(),
        vec!["STARTDATETIME", "StartDate"]
    );
}

#[test]
fn notes_spellings_that_mean_the_record_keep_the_record_spelling() {
    let known = fields(json!({"show_as": "out_of_office", "status": "waiting",
        "start": at("2026-07-15T08:00:00Z", "Europe/Vienna")}));
    let mut reported = fields(json!({"show_as": "busy", "status": "in_progress",
        "start": at("2026-07-15T08:00:00Z", "Europe/Berlin")}));
    keep_equivalent(&known, &mut reported);
    assert_eq!(reported, known);
    // A different instant, or a different meaning, is a change.
    let mut moved = fields(json!({"show_as": "free", "status": "completed",
        "start": at("2026-07-15T09:00:00Z", "Europe/Berlin")}));
    let before = moved.clone();
    keep_equivalent(&known, &mut moved);
    assert_eq!(moved, before);
}

#[test]
fn an_event_reads_its_reminder_categories_privacy_and_html() {
    let item = json!({
        "start": "2026-12-10T09:00:00", "duration": "PT1H", "timeZone": "Europe/Berlin",
        "title": "Review", "privacy": "secret", "freeBusyStatus": "free",
        "categories": {"null": true},
        "description": "<font size=\"2\" face=\"Arial\">See <b>this</b></font>",
        "alerts": {"a": {"@type": "Alert", "trigger": {"@type": "OffsetTrigger", "offset": "-PT15M"}}},
    });
    let f = from_notes(RecordKind::Event, &item, NY).unwrap();
    assert_eq!(f["reminder_minutes"], 15);
    assert!(!f.contains_key("categories"));
    assert_eq!(f["private"], true);
    assert_eq!(f["show_as"], serde_json::to_value(ShowAs::Free).unwrap());
    assert_eq!(f["description"], "See this");
    assert!(f.contains_key("description_html"));
    // Secret stays secret; the reminder replaces the alert it was read from.
    let body = to_notes(RecordKind::Event, &f, Some(&item), NY).unwrap();
    assert_eq!(body["privacy"], "secret");
    assert_eq!(body["alerts"]["a"]["trigger"]["offset"], "-PT15M");
    let _ = TaskStatus::Waiting;
}
