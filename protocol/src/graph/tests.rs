//! Graph JSON → fields → Graph JSON, on items shaped as Graph's documentation shows them.

use super::*;
use crate::codec::{expansion, parse_icalendar, render_icalendar};
use crate::record::{Attendee, AttendeeStatus, When};
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::json;

const BERLIN: Tz = chrono_tz::Europe::Berlin;

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn utc(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn when(fields: &Fields, name: &str) -> When {
    serde_json::from_value(fields[name].clone()).unwrap()
}

/// A contact as a GET returns it (contact-get.md), every property present.
fn contact() -> Value {
    // Parsed from text: the item is larger than `json!` expands.
    serde_json::from_str(
        r#"{
        "@odata.etag": "W/\"EQAAABYAAACd9nJ/tVysQos2hTfspaWRAAAAAAN3\"",
        "id": "AAMkAGI2THk0AAA=",
        "createdDateTime": "2017-06-27T21:18:39Z",
        "lastModifiedDateTime": "2017-06-27T21:18:39Z",
        "changeKey": "EQAAABYAAACd9nJ/tVysQos2hTfspaWRAAAAAAN3",
        "categories": ["Customers"],
        "parentFolderId": "AAMkAGI2AAEOAAA=",
        "birthday": "1980-05-01T11:59:59Z",
        "fileAs": "Bansky, Pavel",
        "displayName": "Pavel Bansky",
        "givenName": "Pavel",
        "initials": null,
        "middleName": "J.",
        "nickName": null,
        "surname": "Bansky",
        "title": "Mr.",
        "yomiGivenName": null,
        "yomiSurname": null,
        "yomiCompanyName": null,
        "generation": "Jr.",
        "imAddresses": [],
        "jobTitle": "Product Manager",
        "companyName": "Contoso",
        "department": "Sales",
        "officeLocation": null,
        "profession": null,
        "businessHomePage": null,
        "assistantName": "Ola",
        "manager": null,
        "homePhones": ["+1 732 555 0144"],
        "mobilePhone": "+1 732 555 0199",
        "businessPhones": ["+1 732 555 0102", "+1 732 555 0103"],
        "spouseName": null,
        "personalNotes": "Met at the fair.\r\nLikes tea.",
        "children": [],
        "emailAddresses": [
            {"name": "Pavel Bansky", "address": "pavelb@contoso.onmicrosoft.com"},
            {"name": "Pavel (home)", "address": "pavel@example.com"}
        ],
        "homeAddress": {},
        "businessAddress": {
            "street": "123 Some street",
            "city": "Seattle",
            "state": "WA",
            "countryOrRegion": "USA",
            "postalCode": "98121"
        },
        "otherAddress": {}
    }"#,
    )
    .unwrap()
}

#[test]
fn a_contact_reads_into_its_fields() {
    let fields = from_graph(RecordKind::Contact, &contact(), BERLIN).unwrap();
    assert_eq!(fields["salutation"], "Mr.");
    assert_eq!(fields["title"], "Product Manager");
    assert_eq!(fields["suffix"], "Jr.");
    assert_eq!(fields["email"], "pavelb@contoso.onmicrosoft.com");
    assert_eq!(fields["phone"], "+1 732 555 0102");
    assert_eq!(fields["home_phone"], "+1 732 555 0144");
    assert_eq!(fields["birthday"], "1980-05-01");
    assert_eq!(fields["description"], "Met at the fair.\nLikes tea.");
    assert_eq!(
        fields["mailing_address"],
        json!({"street": "123 Some street", "city": "Seattle", "region": "WA", "postal_code": "98121", "country": "USA"})
    );
    assert!(
        !fields.contains_key("other_address"),
        "an empty address is no address"
    );
    assert!(!fields.contains_key("fax"));
}

#[test]
fn a_contact_round_trips_on_the_mapped_properties() {
    let graph = contact();
    let fields = from_graph(RecordKind::Contact, &graph, BERLIN).unwrap();
    let body = to_graph(RecordKind::Contact, &fields, None, BERLIN).unwrap();
    for property in [
        "givenName",
        "middleName",
        "surname",
        "title",
        "generation",
        "companyName",
        "department",
        "jobTitle",
        "mobilePhone",
        "assistantName",
        "homePhones",
        "businessAddress",
        "birthday",
        "categories",
    ] {
        assert_eq!(body[property], graph[property], "{property}");
    }
    assert_eq!(
        body["businessPhones"],
        json!(["+1 732 555 0102"]),
        "a create sends the mapped number"
    );
    assert_eq!(
        body["emailAddresses"][0]["address"],
        "pavelb@contoso.onmicrosoft.com"
    );
    assert_eq!(body["displayName"], "Pavel J. Bansky Jr.");
    assert!(
        body.get("otherAddress").is_none(),
        "a create sends only what has a value"
    );
    // Read back, the same fields.
    assert_eq!(
        from_graph(RecordKind::Contact, &Value::Object(body), BERLIN).unwrap(),
        fields
    );
    // And an update against the item it came from sends nothing.
    assert!(
        to_graph(RecordKind::Contact, &fields, Some(&graph), BERLIN)
            .unwrap()
            .is_empty()
    );
}

#[test]
fn a_contact_update_sends_only_what_changed_and_keeps_the_second_email() {
    let graph = contact();
    let mut fields = from_graph(RecordKind::Contact, &graph, BERLIN).unwrap();
    fields.insert("email".into(), json!("pavel.bansky@contoso.com"));
    fields.insert("title".into(), json!("Head of Product"));
    let body = to_graph(RecordKind::Contact, &fields, Some(&graph), BERLIN).unwrap();
    assert_eq!(
        Value::Object(body),
        json!({
            "jobTitle": "Head of Product",
            "emailAddresses": [
                {"name": "Pavel Bansky", "address": "pavel.bansky@contoso.com"},
                {"name": "Pavel (home)", "address": "pavel@example.com"}
            ]
        })
    );
}

#[test]
fn cleared_contact_fields_are_sent_empty() {
    let graph = contact();
    let mut fields = from_graph(RecordKind::Contact, &graph, BERLIN).unwrap();
    for field in [
        "department",
        "phone",
        "mailing_address",
        "birthday",
        "categories",
    ] {
        fields.remove(field);
    }
    let body = to_graph(RecordKind::Contact, &fields, Some(&graph), BERLIN).unwrap();
    assert_eq!(
        Value::Object(body),
        json!({
            "department": null,
            // The second business number stays, now first.
            "businessPhones": ["+1 732 555 0103"],
            "businessAddress": {"street": "", "city": "", "state": "", "postalCode": "", "countryOrRegion": ""},
            "birthday": null,
            "categories": []
        })
    );
}

#[test]
fn a_renamed_contact_is_shown_by_its_new_name_unless_it_has_its_own() {
    let graph = contact();
    let mut fields = from_graph(RecordKind::Contact, &graph, BERLIN).unwrap();
    fields.insert("last_name".into(), json!("Bansky-Novak"));
    // "Pavel Bansky" is what Outlook derives from the names: it follows them, in its style.
    let body = to_graph(RecordKind::Contact, &fields, Some(&graph), BERLIN).unwrap();
    assert_eq!(body["surname"], "Bansky-Novak");
    assert_eq!(body["displayName"], "Pavel Bansky-Novak");
    let mut own = graph.clone();
    own["displayName"] = json!("Pavel (Contoso)");
    let body = to_graph(RecordKind::Contact, &fields, Some(&own), BERLIN).unwrap();
    assert!(body.get("displayName").is_none());
}

/// A task as todotask-get.md shows it.
fn task(due: Value) -> Value {
    json!({
        "@odata.etag": "W/\"xzyPKP0BiUGgld+lMKXwbQAAgdhkVw==\"",
        "importance": "high",
        "isReminderOn": true,
        "status": "inProgress",
        "title": "Send the quote",
        "createdDateTime": "2026-11-08T11:15:19.9359889Z",
        "lastModifiedDateTime": "2026-11-08T11:15:20.0572849Z",
        "bodyLastModifiedDateTime": "2026-11-08T11:15:20.0572849Z",
        "categories": ["Important"],
        "hasAttachments": false,
        "id": "AAkALgAAAAAAHYQDEapmEc2byACqAC-EWg0AxzyPKP0BiUGgld-lMKXwbQAAgdhkVwAA",
        "body": {"content": "Prices from the 2027 list.", "contentType": "text"},
        "dueDateTime": due,
        "reminderDateTime": {"dateTime": "2026-12-09T08:00:00.0000000", "timeZone": "UTC"}
    })
}

#[test]
fn a_due_date_in_auckland_does_not_move_a_day() {
    let auckland = chrono_tz::Pacific::Auckland;
    // Set in Auckland (UTC+13 in December): midnight there is 11:00 UTC the day before.
    let given =
        task(json!({"dateTime": "2026-12-10T00:00:00.0000000", "timeZone": "Pacific/Auckland"}));
    let fields = from_graph(RecordKind::Task, &given, auckland).unwrap();
    assert_eq!(fields["due"], "2026-12-10");
    // The same due date, answered in UTC: still the 10th, in Auckland or in Berlin.
    let in_utc = task(json!({"dateTime": "2026-12-09T11:00:00.0000000", "timeZone": "UTC"}));
    assert_eq!(
        from_graph(RecordKind::Task, &in_utc, auckland).unwrap()["due"],
        "2026-12-10"
    );
    assert_eq!(
        from_graph(RecordKind::Task, &in_utc, BERLIN).unwrap()["due"],
        "2026-12-10"
    );
    let body = to_graph(RecordKind::Task, &fields, None, auckland).unwrap();
    assert_eq!(
        body["dueDateTime"],
        json!({"dateTime": "2026-12-10T00:00:00.0000000", "timeZone": "Pacific/Auckland"})
    );
    // No update ping-pong: Graph's UTC answer means the day the record has.
    assert!(
        to_graph(RecordKind::Task, &fields, Some(&in_utc), auckland)
            .unwrap()
            .is_empty()
    );
}

#[test]
fn a_due_date_in_hawaiian_standard_time_does_not_move_a_day() {
    let honolulu = chrono_tz::Pacific::Honolulu;
    let given = task(
        json!({"dateTime": "2026-12-10T00:00:00.0000000", "timeZone": "Hawaiian Standard Time"}),
    );
    assert_eq!(
        from_graph(RecordKind::Task, &given, honolulu).unwrap()["due"],
        "2026-12-10"
    );
    // Midnight in Honolulu (UTC−10) is 10:00 UTC the same day.
    let in_utc = task(json!({"dateTime": "2026-12-10T10:00:00.0000000", "timeZone": "UTC"}));
    let fields = from_graph(RecordKind::Task, &in_utc, honolulu).unwrap();
    assert_eq!(fields["due"], "2026-12-10");
    assert_eq!(
        from_graph(RecordKind::Task, &in_utc, BERLIN).unwrap()["due"],
        "2026-12-10"
    );
    let body = to_graph(RecordKind::Task, &fields, None, honolulu).unwrap();
    assert_eq!(
        body["dueDateTime"],
        json!({"dateTime": "2026-12-10T00:00:00.0000000", "timeZone": "Pacific/Honolulu"})
    );
}

#[test]
fn a_task_round_trips_on_the_mapped_properties() {
    let mut graph =
        task(json!({"dateTime": "2026-12-10T00:00:00.0000000", "timeZone": "Europe/Berlin"}));
    graph["recurrence"] = json!({
        "pattern": {"type": "weekly", "interval": 1, "month": 0, "dayOfMonth": 0,
                    "daysOfWeek": ["thursday"], "firstDayOfWeek": "sunday", "index": "first"},
        "range": {"type": "noEnd", "startDate": "2026-12-10", "endDate": "0001-01-01",
                  "recurrenceTimeZone": "", "numberOfOccurrences": 0}
    });
    let fields = from_graph(RecordKind::Task, &graph, BERLIN).unwrap();
    assert_eq!(fields["subject"], "Send the quote");
    assert_eq!(fields["status"], "in_progress");
    assert_eq!(fields["priority"], "high");
    assert_eq!(fields["reminder_at"], "2026-12-09T08:00:00Z");
    assert_eq!(fields["rrule"], "FREQ=WEEKLY;BYDAY=TH;WKST=SU");
    let body = to_graph(RecordKind::Task, &fields, None, BERLIN).unwrap();
    for property in [
        "title",
        "body",
        "status",
        "importance",
        "dueDateTime",
        "reminderDateTime",
        "isReminderOn",
        "categories",
    ] {
        assert_eq!(body[property], graph[property], "{property}");
    }
    assert_eq!(
        body["recurrence"]["pattern"]["daysOfWeek"],
        json!(["thursday"])
    );
    assert_eq!(body["recurrence"]["pattern"]["firstDayOfWeek"], "sunday");
    assert_eq!(
        from_graph(RecordKind::Task, &Value::Object(body), BERLIN).unwrap(),
        fields
    );
    assert!(
        to_graph(RecordKind::Task, &fields, Some(&graph), BERLIN)
            .unwrap()
            .is_empty()
    );
}

#[test]
fn a_cancelled_task_is_completed_in_to_do_and_a_cleared_reminder_is_turned_off() {
    let graph = task(json!({"dateTime": "2026-12-10T00:00:00.0000000", "timeZone": "UTC"}));
    let mut fields = from_graph(RecordKind::Task, &graph, BERLIN).unwrap();
    fields.insert("status".into(), json!("cancelled"));
    fields.remove("reminder_at");
    fields.remove("due");
    let body = to_graph(RecordKind::Task, &fields, Some(&graph), BERLIN).unwrap();
    assert_eq!(
        Value::Object(body),
        json!({"status": "completed", "isReminderOn": false, "dueDateTime": null})
    );
}

#[test]
fn a_repeating_task_without_a_due_date_is_refused_with_what_to_do() {
    let fields: Fields = [
        ("subject".to_string(), json!("Water the plants")),
        ("rrule".to_string(), json!("FREQ=WEEKLY")),
    ]
    .into();
    let err = to_graph(RecordKind::Task, &fields, None, BERLIN)
        .unwrap_err()
        .to_string();
    assert!(err.contains("`rrule`") && err.contains("due date"), "{err}");
}

/// An event as a GET returns it without `Prefer: outlook.timezone`: times in UTC, the zone it
/// was made in in `originalStartTimeZone` (event-get.md, resources/event.md).
fn meeting() -> Value {
    json!({
        "@odata.etag": "W/\"ZlnW4RIAV06KYYwlrfNZvQAAKGWwbw==\"",
        "id": "AAMkAGIAAAoZDOFAAA=",
        "changeKey": "ZlnW4RIAV06KYYwlrfNZvQAAKGWwbw==",
        "categories": ["Blue category"],
        "subject": "Quarterly review",
        "bodyPreview": "Agenda: numbers, plans.",
        "body": {
            "contentType": "html",
            "content": "<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\"></head><body><div>Agenda: <b>numbers</b>, plans.</div></body></html>"
        },
        "importance": "normal",
        "sensitivity": "private",
        "isAllDay": false,
        "isCancelled": false,
        "isOrganizer": true,
        "isReminderOn": true,
        "reminderMinutesBeforeStart": 15,
        "showAs": "busy",
        "type": "singleInstance",
        "start": {"dateTime": "2026-11-23T08:00:00.0000000", "timeZone": "UTC"},
        "end": {"dateTime": "2026-11-23T09:30:00.0000000", "timeZone": "UTC"},
        "originalStartTimeZone": "W. Europe Standard Time",
        "originalEndTimeZone": "W. Europe Standard Time",
        "location": {
            "displayName": "Conf Room Rainier",
            "locationType": "default",
            "uniqueId": "Conf Room Rainier",
            "uniqueIdType": "private"
        },
        "recurrence": null,
        "attendees": [
            {
                "type": "required",
                "status": {"response": "accepted", "time": "2026-11-20T10:02:00Z"},
                "emailAddress": {"name": "Irvin Sayers", "address": "IrvinS@M365x214355.onmicrosoft.com"}
            },
            {
                "type": "optional",
                "status": {"response": "none", "time": "0001-01-01T00:00:00Z"},
                "emailAddress": {"name": "engineering@M365x214355.onmicrosoft.com", "address": "engineering@M365x214355.onmicrosoft.com"}
            }
        ],
        "organizer": {"emailAddress": {"name": "Samantha Booth", "address": "samanthab@contoso.onmicrosoft.com"}}
    })
}

#[test]
fn an_event_in_a_windows_zone_keeps_its_instant_and_its_zone() {
    let fields = from_graph(RecordKind::Event, &meeting(), BERLIN).unwrap();
    assert_eq!(
        when(&fields, "start"),
        When::Time {
            utc: utc("2026-11-23T08:00:00Z"),
            tzid: Some("W. Europe Standard Time".into()),
            floating: false
        }
    );
    assert_eq!(fields["private"], true);
    assert_eq!(fields["reminder_minutes"], 15);
    assert_eq!(fields["show_as"], "busy");
    assert_eq!(fields["location"], "Conf Room Rainier");
    assert_eq!(fields["description"], "Agenda: numbers, plans.");
    assert!(
        fields["description_html"]
            .as_str()
            .unwrap()
            .contains("<b>numbers</b>")
    );
    let attendees: Vec<Attendee> = serde_json::from_value(fields["attendees"].clone()).unwrap();
    assert_eq!(attendees[0].status, Some(AttendeeStatus::Accepted));
    assert_eq!(
        attendees[1].name, None,
        "a name that repeats the address is no name"
    );
    assert_eq!(
        fields["organizer"]["email"],
        "samanthab@contoso.onmicrosoft.com"
    );

    let body = to_graph(RecordKind::Event, &fields, None, BERLIN).unwrap();
    assert_eq!(
        body["start"],
        json!({"dateTime": "2026-11-23T09:00:00.0000000", "timeZone": "W. Europe Standard Time"})
    );
    assert_eq!(
        body["end"],
        json!({"dateTime": "2026-11-23T10:30:00.0000000", "timeZone": "W. Europe Standard Time"})
    );
    for property in [
        "subject",
        "body",
        "sensitivity",
        "isReminderOn",
        "reminderMinutesBeforeStart",
        "categories",
    ] {
        assert_eq!(body[property], meeting()[property], "{property}");
    }
    assert_eq!(body["location"]["displayName"], "Conf Room Rainier");
    // Graph's UTC answer and the zone's wall-clock time are the same: nothing to update.
    assert!(
        to_graph(RecordKind::Event, &fields, Some(&meeting()), BERLIN)
            .unwrap()
            .is_empty()
    );
}

#[test]
fn an_update_keeps_attendees_responses_and_the_html_around_the_same_text() {
    let graph = meeting();
    let mut fields = from_graph(RecordKind::Event, &graph, BERLIN).unwrap();
    // As a CalDAV client sends it back: plain text only, a new subject.
    fields.remove("description_html");
    fields.insert("subject".into(), json!("Quarterly review (moved room)"));
    let body = to_graph(RecordKind::Event, &fields, Some(&graph), BERLIN).unwrap();
    assert_eq!(
        Value::Object(body),
        json!({"subject": "Quarterly review (moved room)"})
    );

    let mut attendees: Vec<Attendee> = serde_json::from_value(fields["attendees"].clone()).unwrap();
    attendees.push(Attendee {
        email: "ana@example.com".into(),
        name: Some("Ana".into()),
        status: None,
    });
    fields.insert(
        "attendees".into(),
        serde_json::to_value(&attendees).unwrap(),
    );
    let body = to_graph(RecordKind::Event, &fields, Some(&graph), BERLIN).unwrap();
    let sent = body["attendees"].as_array().unwrap();
    assert_eq!(
        sent[0], graph["attendees"][0],
        "Irvin's acceptance stays as Outlook has it"
    );
    assert_eq!(
        sent[2],
        json!({"emailAddress": {"address": "ana@example.com", "name": "Ana"}, "type": "required"})
    );
}

#[test]
fn a_moved_event_sends_its_times_together() {
    let graph = meeting();
    let mut fields = from_graph(RecordKind::Event, &graph, BERLIN).unwrap();
    fields.insert(
        "end".into(),
        json!({"time": {"utc": "2026-11-23T10:00:00Z", "tzid": "W. Europe Standard Time"}}),
    );
    let body = to_graph(RecordKind::Event, &fields, Some(&graph), BERLIN).unwrap();
    assert_eq!(
        Value::Object(body),
        json!({
            "isAllDay": false,
            "start": {"dateTime": "2026-11-23T09:00:00.0000000", "timeZone": "W. Europe Standard Time"},
            "end": {"dateTime": "2026-11-23T11:00:00.0000000", "timeZone": "W. Europe Standard Time"}
        })
    );
}

#[test]
fn an_all_day_event_ends_the_day_after_as_in_icalendar() {
    let graph = json!({
        "id": "AAMkAGIAAAoZDOFBBB=",
        "subject": "Christmas",
        "isAllDay": true,
        "isReminderOn": false,
        "showAs": "oof",
        "sensitivity": "normal",
        "start": {"dateTime": "2026-12-24T00:00:00.0000000", "timeZone": "UTC"},
        "end": {"dateTime": "2026-12-26T00:00:00.0000000", "timeZone": "UTC"},
        "originalStartTimeZone": "W. Europe Standard Time",
        "originalEndTimeZone": "W. Europe Standard Time"
    });
    let fields = from_graph(RecordKind::Event, &graph, BERLIN).unwrap();
    assert_eq!(when(&fields, "start"), When::Date(day("2026-12-24")));
    assert_eq!(when(&fields, "end"), When::Date(day("2026-12-26")));
    assert_eq!(fields["show_as"], "out_of_office");
    let body = to_graph(RecordKind::Event, &fields, None, BERLIN).unwrap();
    assert_eq!(body["isAllDay"], true);
    assert_eq!(
        body["start"],
        json!({"dateTime": "2026-12-24T00:00:00.0000000", "timeZone": "Europe/Berlin"})
    );
    assert_eq!(
        body["end"],
        json!({"dateTime": "2026-12-26T00:00:00.0000000", "timeZone": "Europe/Berlin"})
    );
    assert_eq!(
        body["isReminderOn"], false,
        "Outlook would remind of a new event otherwise"
    );
    assert!(
        to_graph(RecordKind::Event, &fields, Some(&graph), BERLIN)
            .unwrap()
            .is_empty()
    );

    // A one-day event written DTEND = DTSTART by a client still lasts its day.
    let mut one_day = fields.clone();
    one_day.insert("end".into(), json!({"date": "2026-12-24"}));
    let body = to_graph(RecordKind::Event, &one_day, None, BERLIN).unwrap();
    assert_eq!(body["end"]["dateTime"], "2026-12-25T00:00:00.0000000");
}

#[test]
fn a_legacy_custom_zone_falls_back_to_the_users_zone() {
    let mut graph = meeting();
    graph["originalStartTimeZone"] = json!("tzone://Microsoft/Custom");
    graph["originalEndTimeZone"] = json!("tzone://Microsoft/Custom");
    let fields = from_graph(RecordKind::Event, &graph, chrono_tz::America::New_York).unwrap();
    assert_eq!(
        when(&fields, "start"),
        When::Time {
            utc: utc("2026-11-23T08:00:00Z"),
            tzid: Some("America/New_York".into()),
            floating: false
        }
    );
}

#[test]
fn event_recurrences_go_both_ways() {
    let mut graph = meeting();
    graph["type"] = json!("seriesMaster");
    let cases = [
        (
            json!({"type": "weekly", "interval": 1, "daysOfWeek": ["monday", "thursday"], "firstDayOfWeek": "monday"}),
            json!({"type": "endDate", "startDate": "2026-11-23", "endDate": "2027-03-29", "recurrenceTimeZone": "W. Europe Standard Time"}),
            "FREQ=WEEKLY;UNTIL=20270329T215959Z;BYDAY=MO,TH",
        ),
        (
            json!({"type": "relativeMonthly", "interval": 1, "daysOfWeek": ["monday"], "index": "fourth"}),
            json!({"type": "numbered", "startDate": "2026-11-23", "numberOfOccurrences": 12, "recurrenceTimeZone": "W. Europe Standard Time"}),
            "FREQ=MONTHLY;COUNT=12;BYDAY=4MO",
        ),
        (
            json!({"type": "absoluteMonthly", "interval": 3, "dayOfMonth": 23}),
            json!({"type": "noEnd", "startDate": "2026-11-23", "recurrenceTimeZone": "W. Europe Standard Time"}),
            "FREQ=MONTHLY;INTERVAL=3;BYMONTHDAY=23",
        ),
        (
            json!({"type": "absoluteYearly", "interval": 1, "month": 11, "dayOfMonth": 23}),
            json!({"type": "noEnd", "startDate": "2026-11-23", "recurrenceTimeZone": "W. Europe Standard Time"}),
            "FREQ=YEARLY;BYMONTH=11;BYMONTHDAY=23",
        ),
    ];
    for (pattern, range, rule) in cases {
        graph["recurrence"] = json!({"pattern": pattern, "range": range});
        let fields = from_graph(RecordKind::Event, &graph, BERLIN).unwrap();
        assert_eq!(fields["rrule"], rule);
        let body = to_graph(RecordKind::Event, &fields, None, BERLIN).unwrap();
        assert_eq!(body["recurrence"]["pattern"], pattern, "{rule}");
        for part in ["type", "startDate", "endDate", "numberOfOccurrences"] {
            assert_eq!(
                body["recurrence"]["range"].get(part),
                range.get(part),
                "{rule}: range {part}"
            );
        }
        assert!(
            to_graph(RecordKind::Event, &fields, Some(&graph), BERLIN)
                .unwrap()
                .is_empty(),
            "{rule}"
        );
    }
}

#[test]
fn an_rrule_outlook_cannot_express_is_a_typed_error() {
    let mut fields = from_graph(RecordKind::Event, &meeting(), BERLIN).unwrap();
    fields.insert(
        "rrule".into(),
        json!("FREQ=MONTHLY;BYDAY=MO,WE;BYSETPOS=1,-1"),
    );
    let err = to_graph(RecordKind::Event, &fields, None, BERLIN).unwrap_err();
    assert!(
        matches!(err, GraphMappingError::UnsupportedRecurrence { .. }),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(
        text.contains("`FREQ=MONTHLY;BYDAY=MO,WE;BYSETPOS=1,-1`"),
        "{text}"
    );
    assert!(text.contains("one occurrence a month"), "{text}");
    fields.insert("rrule".into(), json!("FREQ=HOURLY;INTERVAL=4"));
    let text = to_graph(RecordKind::Event, &fields, None, BERLIN)
        .unwrap_err()
        .to_string();
    assert!(text.contains("not by the hour"), "{text}");
}

#[test]
fn a_bad_value_is_named_with_its_item_and_property() {
    let mut graph = meeting();
    graph["sensitivity"] = json!("secret");
    let err = from_graph(RecordKind::Event, &graph, BERLIN)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("event") && err.contains("`sensitivity`") && err.contains("`secret`"),
        "{err}"
    );
    let mut graph = task(Value::Null);
    graph["dueDateTime"] = json!({"dateTime": "soon", "timeZone": "UTC"});
    let err = from_graph(RecordKind::Task, &graph, BERLIN)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("todoTask")
            && err.contains("`dueDateTime.dateTime`")
            && err.contains("`soon`"),
        "{err}"
    );
    let err = from_graph(RecordKind::Contact, &json!([]), BERLIN)
        .unwrap_err()
        .to_string();
    assert!(err.contains("JSON object"), "{err}");
}

/// A weekly series on Mondays at 09:00 Berlin, as a delta round returns its parts.
fn series_master() -> Value {
    json!({
        "id": "AAMkMASTER=",
        "type": "seriesMaster",
        "subject": "Team sync",
        "isAllDay": false,
        "isReminderOn": true,
        "reminderMinutesBeforeStart": 10,
        "showAs": "busy",
        "sensitivity": "normal",
        "start": {"dateTime": "2026-11-02T08:00:00.0000000", "timeZone": "UTC"},
        "end": {"dateTime": "2026-11-02T08:30:00.0000000", "timeZone": "UTC"},
        "originalStartTimeZone": "W. Europe Standard Time",
        "originalEndTimeZone": "W. Europe Standard Time",
        "recurrence": {
            "pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["monday"], "firstDayOfWeek": "monday", "index": "first", "month": 0, "dayOfMonth": 0},
            "range": {"type": "noEnd", "startDate": "2026-11-02", "endDate": "0001-01-01", "recurrenceTimeZone": "W. Europe Standard Time", "numberOfOccurrences": 0}
        }
    })
}

fn instance(kind: &str, id: &str, original: &str, start: &str, end: &str) -> Value {
    json!({
        "id": id,
        "type": kind,
        "seriesMasterId": "AAMkMASTER=",
        "subject": if kind == "exception" { "Team sync (Tuesday this week)" } else { "Team sync" },
        "isAllDay": false,
        "isReminderOn": true,
        "reminderMinutesBeforeStart": 10,
        "showAs": "busy",
        "sensitivity": "normal",
        "originalStart": original,
        "start": {"dateTime": start, "timeZone": "UTC"},
        "end": {"dateTime": end, "timeZone": "UTC"},
        "originalStartTimeZone": "W. Europe Standard Time",
        "originalEndTimeZone": "W. Europe Standard Time",
        "recurrence": null
    })
}

#[test]
fn a_series_is_gathered_with_its_cancelled_and_moved_occurrences() {
    let round = split_event_round(&[
        series_master(),
        instance(
            "occurrence",
            "AAMkOCC1=",
            "2026-11-02T08:00:00Z",
            "2026-11-02T08:00:00.0000000",
            "2026-11-02T08:30:00.0000000",
        ),
        instance(
            "exception",
            "AAMkEXC2=",
            "2026-11-09T08:00:00Z",
            "2026-11-10T13:00:00.0000000",
            "2026-11-10T13:30:00.0000000",
        ),
        // 16 November was deleted in Outlook: not listed.
        instance(
            "occurrence",
            "AAMkOCC4=",
            "2026-11-23T08:00:00Z",
            "2026-11-23T08:00:00.0000000",
            "2026-11-23T08:30:00.0000000",
        ),
        json!({"id": "AAMkGONE=", "@removed": {"reason": "deleted"}}),
        meeting(),
    ]);
    assert_eq!(round.masters.len(), 1);
    assert_eq!(round.singles.len(), 1);
    assert_eq!(round.removed, vec!["AAMkGONE=".to_string()]);
    let window = (utc("2026-11-01T00:00:00Z"), utc("2026-11-29T00:00:00Z"));
    let series = gather_series(
        &round.masters[0],
        &round.instances["AAMkMASTER="],
        window,
        BERLIN,
    )
    .unwrap();
    assert_eq!(series.master_id, "AAMkMASTER=");
    assert_eq!(series.fields["rrule"], "FREQ=WEEKLY;BYDAY=MO");
    let exdates: Vec<When> = serde_json::from_value(series.fields["exdates"].clone()).unwrap();
    assert_eq!(
        exdates,
        vec![When::Time {
            utc: utc("2026-11-16T08:00:00Z"),
            tzid: Some("W. Europe Standard Time".into()),
            floating: false
        }]
    );
    assert_eq!(series.exceptions.len(), 1);
    let moved = &series.exceptions[0];
    assert_eq!(moved.id, "AAMkEXC2=");
    assert_eq!(
        moved.original_start,
        When::Time {
            utc: utc("2026-11-09T08:00:00Z"),
            tzid: Some("W. Europe Standard Time".into()),
            floating: false
        }
    );
    assert_eq!(moved.fields["subject"], "Team sync (Tuesday this week)");
    assert!(!moved.fields.contains_key("rrule"));

    // Carried as the codec carries a CalDAV series' overrides, it renders and expands as one.
    let fields = series.fields_with_overrides("team-sync@tandem");
    let ics = render_icalendar(RecordKind::Event, "team-sync@tandem", &fields, None);
    let text = String::from_utf8(ics.clone()).unwrap();
    assert!(
        text.contains("RECURRENCE-ID;TZID=\"W. Europe Standard Time\":20261109T090000"),
        "{text}"
    );
    let object = parse_icalendar(&ics).unwrap();
    let starts: Vec<DateTime<Utc>> = expansion(&object, window.0, window.1, 100)
        .occurrences
        .iter()
        .map(|o| o.start)
        .collect();
    assert_eq!(
        starts,
        vec![
            utc("2026-11-02T08:00:00Z"),
            utc("2026-11-10T13:00:00Z"),
            utc("2026-11-23T08:00:00Z")
        ]
    );
}

#[test]
fn an_all_day_series_names_its_cancelled_days_by_date() {
    let master = json!({
        "id": "AAMkDAYS=",
        "type": "seriesMaster",
        "subject": "Gym",
        "isAllDay": true,
        "start": {"dateTime": "2026-11-02T00:00:00.0000000", "timeZone": "UTC"},
        "end": {"dateTime": "2026-11-03T00:00:00.0000000", "timeZone": "UTC"},
        "recurrence": {
            "pattern": {"type": "daily", "interval": 1},
            "range": {"type": "numbered", "startDate": "2026-11-02", "numberOfOccurrences": 3}
        }
    });
    let occurrence = |date: &str| {
        json!({"id": format!("AAMk{date}"), "type": "occurrence", "seriesMasterId": "AAMkDAYS=",
               "isAllDay": true, "originalStart": format!("{date}T00:00:00Z"),
               "start": {"dateTime": format!("{date}T00:00:00.0000000"), "timeZone": "UTC"},
               "end": {"dateTime": format!("{date}T00:00:00.0000000"), "timeZone": "UTC"}})
    };
    let window = (utc("2026-11-01T00:00:00Z"), utc("2026-12-01T00:00:00Z"));
    let series = gather_series(
        &master,
        &[occurrence("2026-11-02"), occurrence("2026-11-04")],
        window,
        BERLIN,
    )
    .unwrap();
    assert_eq!(series.fields["rrule"], "FREQ=DAILY;COUNT=3");
    assert_eq!(series.fields["exdates"], json!([{"date": "2026-11-03"}]));
}

#[test]
fn zones_graph_does_not_list_and_floating_times_go_out_in_a_zone_it_does() {
    let fields: Fields = [
        ("subject".to_string(), json!("Heuriger")),
        (
            "start".to_string(),
            json!({"time": {"utc": "2026-07-03T16:00:00Z", "tzid": "Europe/Vienna"}}),
        ),
        (
            "end".to_string(),
            json!({"time": {"utc": "2026-07-03T19:00:00Z", "tzid": "Europe/Vienna"}}),
        ),
        ("rrule".to_string(), json!("FREQ=WEEKLY;COUNT=4")),
    ]
    .into();
    let body = to_graph(RecordKind::Event, &fields, None, BERLIN).unwrap();
    // Vienna keeps Berlin's rules: the same wall-clock time, in a zone Graph accepts.
    assert_eq!(
        body["start"],
        json!({"dateTime": "2026-07-03T18:00:00.0000000", "timeZone": "Europe/Berlin"})
    );
    assert_eq!(
        body["recurrence"]["pattern"]["daysOfWeek"],
        json!(["friday"])
    );
    assert_eq!(
        body["recurrence"]["range"]["recurrenceTimeZone"],
        "Europe/Berlin"
    );

    // A floating time is the same hour wherever the user is: the user's zone.
    let floating: Fields = [(
        "start".to_string(),
        json!({"time": {"utc": "2026-07-03T09:00:00Z", "floating": true}}),
    )]
    .into();
    let body = to_graph(
        RecordKind::Event,
        &floating,
        None,
        chrono_tz::America::Chicago,
    )
    .unwrap();
    assert_eq!(
        body["start"],
        json!({"dateTime": "2026-07-03T09:00:00.0000000", "timeZone": "America/Chicago"})
    );
    assert_eq!(body["end"], body["start"]);
}

#[test]
fn what_the_record_cannot_tell_apart_stays_as_outlook_has_it() {
    let mut graph = meeting();
    graph["sensitivity"] = json!("confidential");
    graph["showAs"] = json!("tentative");
    let fields = from_graph(RecordKind::Event, &graph, BERLIN).unwrap();
    assert_eq!(fields["private"], true);
    assert_eq!(fields["show_as"], "busy");
    assert!(
        to_graph(RecordKind::Event, &fields, Some(&graph), BERLIN)
            .unwrap()
            .is_empty()
    );
    let mut public = fields.clone();
    public.remove("private");
    let body = to_graph(RecordKind::Event, &public, Some(&graph), BERLIN).unwrap();
    assert_eq!(Value::Object(body), json!({"sensitivity": "normal"}));
}

#[test]
fn a_rule_outlook_spells_out_keeps_the_clients_spelling_and_a_different_one_does_not() {
    let known: Fields = [("rrule".to_string(), json!("FREQ=WEEKLY;COUNT=5"))].into();
    let monday = json!({"time": {"utc": "2026-12-07T09:00:00Z"}});
    let mut same: Fields = [
        ("rrule".to_string(), json!("FREQ=WEEKLY;COUNT=5;BYDAY=MO")),
        ("start".to_string(), monday.clone()),
    ]
    .into();
    super::keep_equivalent(&known, &mut same);
    assert_eq!(same["rrule"], json!("FREQ=WEEKLY;COUNT=5"));
    let mut other: Fields = [
        ("rrule".to_string(), json!("FREQ=WEEKLY;COUNT=5;BYDAY=TU")),
        ("start".to_string(), monday),
    ]
    .into();
    super::keep_equivalent(&known, &mut other);
    assert_eq!(other["rrule"], json!("FREQ=WEEKLY;COUNT=5;BYDAY=TU"));
}
