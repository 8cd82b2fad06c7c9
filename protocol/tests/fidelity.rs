//! The fidelity table: one row per shape of event, task or contact that users judge a sync tool
//! by, as a desktop client sends it. Each row goes the whole way round — the client's body →
//! the record → Salesforce's body (checked against what Salesforce must hold, with the warning
//! the summary shows) → the record Salesforce's copy reads back as → the body a client is
//! served → Salesforce's body again — and must arrive where it started: the same Salesforce
//! body, and the values the row names unchanged on the desktop.

use serde_json::{Map, Value, json};
use tandem_protocol::codec::{parse_icalendar, parse_vcard, render_icalendar, render_vcard};
use tandem_protocol::mapping::{SalesforceContext, from_salesforce, read_back, to_salesforce};
use tandem_protocol::{Fields, RecordKind};

struct Shape {
    name: &'static str,
    /// The client's body, lines joined with `\n` (sent with CRLF).
    body: &'static str,
    /// Fields of Salesforce's body, as it must hold them.
    salesforce: Value,
    /// Words of the warning the summary shows for it; `None`: no warning.
    warning: Option<&'static str>,
    /// Record fields that must come back to the desktop unchanged.
    kept: &'static [&'static str],
}

fn ctx() -> SalesforceContext {
    SalesforceContext::standard(chrono_tz::Europe::Berlin)
}

fn crlf(body: &str) -> Vec<u8> {
    body.lines()
        .map(|l| format!("{l}\r\n"))
        .collect::<String>()
        .into_bytes()
}

fn parse(kind: RecordKind, bytes: &[u8]) -> Fields {
    match kind {
        RecordKind::Contact => parse_vcard(bytes).unwrap().fields,
        _ => parse_icalendar(bytes).unwrap().fields,
    }
}

fn kind_of(body: &str) -> RecordKind {
    if body.contains("BEGIN:VCARD") {
        RecordKind::Contact
    } else if body.contains("BEGIN:VTODO") {
        RecordKind::Task
    } else {
        RecordKind::Event
    }
}

/// Salesforce's copy as a query returns it: the body written, with the Id it was given.
fn as_row(body: &Map<String, Value>) -> Map<String, Value> {
    let mut row = body.clone();
    row.insert("Id".into(), json!("00U000000000001AAA"));
    row
}

fn round_trip(shape: &Shape) {
    let name = shape.name;
    let kind = kind_of(shape.body);
    let sent = crlf(shape.body);
    let record = parse(kind, &sent);
    let out =
        to_salesforce(kind, &record, &ctx()).unwrap_or_else(|e| panic!("{name}: not sent: {e}"));
    for (field, value) in shape.salesforce.as_object().unwrap() {
        assert_eq!(
            out.fields.get(field),
            Some(value),
            "{name}: {field} in {:#?}",
            out.fields
        );
    }
    let warnings: Vec<String> = out.warnings.iter().map(|w| w.to_string()).collect();
    match shape.warning {
        Some(words) => assert!(
            warnings.iter().any(|w| w.contains(words)),
            "{name}: no warning saying {words:?}: {warnings:?}"
        ),
        None => assert!(warnings.is_empty(), "{name}: {warnings:?}"),
    }

    // Salesforce's copy, as the next pull reads it, is what tandem expects it to be: no change
    // comes back (no update ping-pong).
    let read = from_salesforce(kind, &as_row(&out.fields), &ctx())
        .unwrap_or_else(|e| panic!("{name}: not read back: {e}"));
    let expected = read_back(kind, &ctx(), &record);
    for (field, value) in &read {
        assert_eq!(
            expected.get(field),
            Some(value),
            "{name}: Salesforce's copy reads back {field} otherwise"
        );
    }

    // A change made in Salesforce later reaches the client; everything else stays as the
    // client wrote it, and the client's copy sent back unchanged is no change for Salesforce.
    let (field, value) = match kind {
        RecordKind::Contact => ("title", json!("Changed in Salesforce")),
        _ => ("subject", json!("Changed in Salesforce")),
    };
    let mut changed = record.clone();
    changed.insert(field.into(), value.clone());
    let served = match kind {
        RecordKind::Contact => render_vcard("fidelity", &changed, Some(&sent)),
        _ => render_icalendar(kind, "fidelity", &changed, Some(&sent)),
    };
    let back = parse(kind, &served);
    let shown = || String::from_utf8_lossy(&served).into_owned();
    assert_eq!(back.get(field), Some(&value), "{name}: {}", shown());
    for kept in shape.kept.iter().filter(|k| **k != field) {
        assert_eq!(
            back.get(*kept),
            record.get(*kept),
            "{name}: {kept} changed on the desktop:\n{}",
            shown()
        );
    }
    let resent = to_salesforce(kind, &back, &ctx()).unwrap().fields;
    let expected_body = to_salesforce(kind, &changed, &ctx()).unwrap().fields;
    assert_eq!(resent, expected_body, "{name}: {}", shown());
}

macro_rules! event_body {
    ($($line:expr),* $(,)?) => {
        concat!(
            "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//fidelity//EN\nBEGIN:VEVENT\nUID:f-1\nDTSTAMP:20270101T120000Z\n",
            $($line, "\n",)*
            "END:VEVENT\nEND:VCALENDAR"
        )
    };
}

macro_rules! task_body {
    ($($line:expr),* $(,)?) => {
        concat!(
            "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//fidelity//EN\nBEGIN:VTODO\nUID:t-1\nDTSTAMP:20270101T120000Z\n",
            $($line, "\n",)*
            "END:VTODO\nEND:VCALENDAR"
        )
    };
}

macro_rules! card_body {
    ($($line:expr),* $(,)?) => {
        concat!("BEGIN:VCARD\nVERSION:3.0\nUID:c-1\n", $($line, "\n",)* "END:VCARD")
    };
}

#[test]
fn every_shape_goes_the_whole_way_round() {
    let shapes = [
        Shape {
            name: "all-day, one day",
            body: event_body!(
                "SUMMARY:Trade fair",
                "DTSTART;VALUE=DATE:20270310",
                "DTEND;VALUE=DATE:20270311"
            ),
            salesforce: json!({"IsAllDayEvent": true, "ActivityDate": "2027-03-10"}),
            warning: None,
            kept: &["start", "end", "subject"],
        },
        Shape {
            name: "all-day, three days",
            body: event_body!(
                "SUMMARY:Offsite",
                "DTSTART;VALUE=DATE:20270310",
                "DTEND;VALUE=DATE:20270313"
            ),
            salesforce: json!({"IsAllDayEvent": true, "ActivityDate": "2027-03-10"}),
            warning: None,
            kept: &["start", "end"],
        },
        Shape {
            name: "timed, in a named zone",
            body: event_body!(
                "SUMMARY:Pipeline review",
                "DTSTART;TZID=Europe/Berlin:20270310T090000",
                "DTEND;TZID=Europe/Berlin:20270310T100000"
            ),
            salesforce: json!({"StartDateTime": "2027-03-10T08:00:00.000+0000", "DurationInMinutes": 60}),
            warning: None,
            kept: &["start", "end"],
        },
        Shape {
            name: "floating time: the user's zone",
            body: event_body!(
                "SUMMARY:Call",
                "DTSTART:20270310T090000",
                "DTEND:20270310T093000"
            ),
            salesforce: json!({"StartDateTime": "2027-03-10T08:00:00.000+0000", "DurationInMinutes": 30}),
            warning: None,
            kept: &["subject"],
        },
        Shape {
            name: "UTC",
            body: event_body!(
                "SUMMARY:Call",
                "DTSTART:20270310T090000Z",
                "DTEND:20270310T093000Z"
            ),
            salesforce: json!({"StartDateTime": "2027-03-10T09:00:00.000+0000"}),
            warning: None,
            kept: &["start", "end"],
        },
        Shape {
            name: "across the spring DST change",
            body: event_body!(
                "SUMMARY:Night shift handover",
                "DTSTART;TZID=Europe/Berlin:20270328T013000",
                "DTEND;TZID=Europe/Berlin:20270328T033000"
            ),
            // 01:30 CET to 03:30 CEST is one hour.
            salesforce: json!({"StartDateTime": "2027-03-28T00:30:00.000+0000", "DurationInMinutes": 60}),
            warning: None,
            kept: &["start", "end"],
        },
        Shape {
            name: "a Windows zone name (Outlook)",
            body: event_body!(
                "SUMMARY:Steering committee",
                "DTSTART;TZID=W. Europe Standard Time:20270310T140000",
                "DTEND;TZID=W. Europe Standard Time:20270310T150000"
            ),
            salesforce: json!({"StartDateTime": "2027-03-10T13:00:00.000+0000", "DurationInMinutes": 60}),
            warning: None,
            kept: &["subject"],
        },
        Shape {
            name: "across midnight",
            body: event_body!(
                "SUMMARY:Flight",
                "DTSTART;TZID=Europe/Berlin:20270310T230000",
                "DTEND;TZID=Europe/Berlin:20270311T013000"
            ),
            salesforce: json!({"StartDateTime": "2027-03-10T22:00:00.000+0000", "DurationInMinutes": 150}),
            warning: None,
            kept: &["start", "end"],
        },
        Shape {
            name: "a reminder",
            body: event_body!(
                "SUMMARY:Demo",
                "DTSTART:20270310T090000Z",
                "DTEND:20270310T100000Z",
                "BEGIN:VALARM",
                "ACTION:DISPLAY",
                "TRIGGER:-PT15M",
                "END:VALARM"
            ),
            salesforce: json!({"IsReminderSet": true, "ReminderDateTime": "2027-03-10T08:45:00.000+0000"}),
            warning: None,
            kept: &["reminder_minutes"],
        },
        Shape {
            name: "private",
            body: event_body!(
                "SUMMARY:Doctor",
                "CLASS:PRIVATE",
                "DTSTART:20270310T090000Z",
                "DTEND:20270310T100000Z"
            ),
            salesforce: json!({"IsPrivate": true}),
            warning: None,
            kept: &["private"],
        },
        Shape {
            name: "confidential is private too",
            body: event_body!(
                "SUMMARY:Board",
                "CLASS:CONFIDENTIAL",
                "DTSTART:20270310T090000Z",
                "DTEND:20270310T100000Z"
            ),
            salesforce: json!({"IsPrivate": true}),
            warning: None,
            kept: &["subject"],
        },
        Shape {
            name: "a subject longer than Salesforce holds",
            body: concat!(
                "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//fidelity//EN\nBEGIN:VEVENT\nUID:f-1\nDTSTAMP:20270101T120000Z\n",
                "DTSTART:20270310T090000Z\nDTEND:20270310T100000Z\nSUMMARY:",
                "Quarterly business review with the whole regional sales team, the partner managers, ",
                "the customer success leads and the product marketing group to agree the plan for the ",
                "coming quarter, the targets per region, the campaigns we run together, and who owns ",
                "what afterwards\nEND:VEVENT\nEND:VCALENDAR"
            ),
            salesforce: json!({}),
            warning: Some("255"),
            kept: &["start"],
        },
        Shape {
            name: "Unicode names",
            body: event_body!(
                "SUMMARY:会議 with Zoë 🚀",
                "LOCATION:Zürich, Bahnhofstraße 1",
                "DTSTART:20270310T090000Z",
                "DTEND:20270310T100000Z"
            ),
            salesforce: json!({"Subject": "会議 with Zoë 🚀", "Location": "Zürich, Bahnhofstraße 1"}),
            warning: None,
            kept: &["subject", "location"],
        },
        Shape {
            name: "a task with only a due date",
            body: task_body!("SUMMARY:Send the quote", "DUE;VALUE=DATE:20270312"),
            salesforce: json!({"Subject": "Send the quote", "ActivityDate": "2027-03-12"}),
            warning: None,
            kept: &["subject", "due"],
        },
        Shape {
            name: "a completed task",
            body: task_body!(
                "SUMMARY:Call back",
                "DUE;VALUE=DATE:20270312",
                "STATUS:COMPLETED",
                "COMPLETED:20270311T161500Z"
            ),
            salesforce: json!({"Status": "Completed"}),
            warning: None,
            kept: &["subject", "due"],
        },
        Shape {
            name: "a contact with more numbers and addresses than Salesforce has fields",
            body: card_body!(
                "FN:Ana Lima",
                "N:Lima;Ana;;;",
                "EMAIL;TYPE=work:ana@lima.test",
                "EMAIL;TYPE=home:ana.lima@home.test",
                "TEL;TYPE=work:+49 30 1111",
                "TEL;TYPE=work:+49 30 2222",
                "TEL;TYPE=cell:+49 170 3333",
                "ADR;TYPE=work:;;Hauptstr. 1;Berlin;;10115;Germany",
                "ADR;TYPE=home:;;Gartenweg 2;Potsdam;;14467;Germany",
                "ADR;TYPE=other:;;Am See 3;Wandlitz;;16348;Germany"
            ),
            salesforce: json!({"Email": "ana@lima.test", "Phone": "+49 30 1111", "MobilePhone": "+49 170 3333"}),
            warning: None,
            kept: &["first_name", "last_name", "email", "phone"],
        },
        Shape {
            name: "Unicode contact names",
            body: card_body!(
                "FN:Łukasz Żółć",
                "N:Żółć;Łukasz;;;",
                "ORG:Świętokrzyskie Sp. z o.o."
            ),
            salesforce: json!({"FirstName": "Łukasz", "LastName": "Żółć"}),
            warning: None,
            kept: &["first_name", "last_name"],
        },
        Shape {
            name: "a birthday without a year",
            body: card_body!("FN:Bo Lind", "N:Lind;Bo;;;", "BDAY:--0415"),
            // Salesforce's Birthdate needs a year: not sent, and kept on the desktop (below).
            salesforce: json!({"LastName": "Lind"}),
            warning: None,
            kept: &["last_name"],
        },
    ];
    for shape in &shapes {
        round_trip(shape);
    }
}

#[test]
fn an_event_longer_than_salesforce_allows_is_a_clear_error_for_that_item() {
    let long = crlf(event_body!(
        "SUMMARY:Sabbatical",
        "DTSTART:20270301T090000Z",
        "DTEND:20270320T090000Z"
    ));
    let record = parse(RecordKind::Event, &long);
    let err = to_salesforce(RecordKind::Event, &record, &ctx()).unwrap_err();
    assert!(err.to_string().contains("14"), "{err}");
}

#[test]
fn a_birthday_without_a_year_stays_on_the_desktop_and_is_not_sent() {
    let card = crlf(card_body!("FN:Bo Lind", "N:Lind;Bo;;;", "BDAY:--0415"));
    let record = parse(RecordKind::Contact, &card);
    let out = to_salesforce(RecordKind::Contact, &record, &ctx()).unwrap();
    assert!(!out.fields.contains_key("Birthdate"), "{:?}", out.fields);
    let mut changed = record.clone();
    changed.insert("title".into(), json!("Buyer"));
    let served = String::from_utf8(render_vcard("c-1", &changed, Some(&card))).unwrap();
    assert!(served.contains("BDAY:--0415\r\n"), "{served}");
}

#[test]
fn files_shaped_like_real_clients_output_map_as_their_shapes() {
    let cases: [(&str, &[u8], Value); 4] = [
        (
            "Outlook series with a cancelled Monday",
            include_bytes!("../../fixtures/ics/outlook_series_exdate.ics"),
            json!({"IsRecurrence2": true, "Recurrence2PatternTimeZone": "Europe/Berlin",
                   "StartDateTime": "2027-01-04T09:00:00.000+0000", "IsReminderSet": true,
                   "ReminderDateTime": "2027-01-04T08:45:00.000+0000"}),
        ),
        (
            "Thunderbird floating time",
            include_bytes!("../../fixtures/ics/thunderbird_floating.ics"),
            json!({"StartDateTime": "2027-01-12T07:30:00.000+0000", "DurationInMinutes": 30}),
        ),
        (
            "Google all-day, three days",
            include_bytes!("../../fixtures/ics/google_allday_multiday.ics"),
            json!({"IsAllDayEvent": true, "ActivityDate": "2027-03-15", "DurationInMinutes": 4320,
                   "Location": "Messe München", "ShowAs": "Free"}),
        ),
        (
            "Apple private event across the clock change",
            include_bytes!("../../fixtures/ics/apple_private_alarm.ics"),
            json!({"IsPrivate": true, "StartDateTime": "2027-03-28T00:30:00.000+0000",
                   "DurationInMinutes": 60, "ReminderDateTime": "2027-03-28T00:00:00.000+0000"}),
        ),
    ];
    for (name, bytes, expected) in cases {
        let record = parse(RecordKind::Event, bytes);
        let out = to_salesforce(RecordKind::Event, &record, &ctx())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        for (field, value) in expected.as_object().unwrap() {
            assert_eq!(out.fields.get(field), Some(value), "{name}: {field}");
        }
    }
    let outlook = parse(
        RecordKind::Event,
        include_bytes!("../../fixtures/ics/outlook_series_exdate.ics"),
    );
    assert_eq!(outlook["exdates"].as_array().map(Vec::len), Some(1));
}
