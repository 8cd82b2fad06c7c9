//! iCalendar codec: fixture fields, byte-identical renders, minimal edits, clean round trips.

use serde_json::{Value, json};
use tandem_protocol::codec::{parse_icalendar, render_icalendar};
use tandem_protocol::record::{Event, Fields, RecordKind, Task, When, from_fields};

const OUTLOOK: &[u8] = include_bytes!("../../fixtures/ics/outlook_windows_tz.ics");
const GOOGLE: &[u8] = include_bytes!("../../fixtures/ics/google_overrides.ics");
const VTODO: &[u8] = include_bytes!("../../fixtures/ics/vtodo_rrule.ics");
const ALLDAY: &[u8] = include_bytes!("../../fixtures/ics/allday.ics");
const ALL: [(&str, &[u8]); 4] = [
    ("outlook", OUTLOOK),
    ("google", GOOGLE),
    ("vtodo", VTODO),
    ("allday", ALLDAY),
];

fn utc(s: &str) -> chrono::DateTime<chrono::Utc> {
    s.parse().unwrap()
}

/// Logical lines (unfolded) of a body, for comparing what changed.
fn logical(bytes: &[u8]) -> Vec<String> {
    let text = String::from_utf8(bytes.to_vec()).unwrap();
    let text = text.replace("\r\n ", "").replace("\r\n\t", "");
    text.split("\r\n")
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

fn diff(old: &[u8], new: &[u8]) -> (Vec<String>, Vec<String>) {
    let (o, n) = (logical(old), logical(new));
    let gone = o.iter().filter(|l| !n.contains(l)).cloned().collect();
    let added = n.iter().filter(|l| !o.contains(l)).cloned().collect();
    (gone, added)
}

#[test]
fn outlook_fixture_maps_to_event_fields() {
    let obj = parse_icalendar(OUTLOOK).unwrap();
    assert_eq!(obj.kind, RecordKind::Event);
    assert!(obj.uid.starts_with("040000008200E00074C5B7101A82E008"));
    RecordKind::Event.check_changes(&obj.fields).unwrap();
    let e: Event = from_fields(&obj.fields).unwrap();
    assert_eq!(e.subject.as_deref(), Some("Team-Sync ☕ (wöchentlich)"));
    assert_eq!(
        e.description.as_deref(),
        Some("Weekly sync with the team.\nAgenda: status, blockers; next steps 🚀\n")
    );
    let html = e.description_html.unwrap();
    assert!(
        html.contains("<b>status</b>, blockers; next steps"),
        "{html}"
    );
    assert_eq!(e.location.as_deref(), Some("Besprechungsraum Köln 3.14"));
    assert_eq!(
        e.start,
        Some(When::Time {
            utc: utc("2024-01-08T09:00:00Z"),
            tzid: Some("W. Europe Standard Time".into()),
            floating: false,
        })
    );
    assert_eq!(
        e.end,
        Some(When::Time {
            utc: utc("2024-01-08T09:30:00Z"),
            tzid: Some("W. Europe Standard Time".into()),
            floating: false,
        })
    );
    assert_eq!(
        e.rrule.as_deref(),
        Some("FREQ=WEEKLY;UNTIL=20240624T080000Z;INTERVAL=1;BYDAY=MO;WKST=MO")
    );
    let ex: Vec<_> = e
        .exdates
        .iter()
        .map(|w| match w {
            When::Time { utc, .. } => utc.to_rfc3339(),
            When::Date(d) => d.to_string(),
        })
        .collect();
    assert_eq!(
        ex,
        [
            "2024-02-12T09:00:00+00:00",
            "2024-04-01T08:00:00+00:00",
            "2024-05-20T08:00:00+00:00"
        ]
    );
    assert_eq!(e.reminder_minutes, Some(15));
    assert_eq!(e.show_as, Some(tandem_protocol::record::ShowAs::Busy));
    assert!(!e.private);
    let org = e.organizer.unwrap();
    assert_eq!(org.email, "juergen.mueller@example.de");
    assert_eq!(org.name.as_deref(), Some("Müller, Jürgen"));
    assert_eq!(e.attendees.len(), 2);
    assert_eq!(e.attendees[0].email, "ana.lima@example.com");
    assert_eq!(
        e.attendees[1].status,
        Some(tandem_protocol::record::AttendeeStatus::NeedsAction)
    );
    assert_eq!(e.attachments, ["Agenda Q1.docx"]);
    for kept in [
        "X-MICROSOFT-CDO-IMPORTANCE:1",
        "SEQUENCE:0",
        "PRIORITY:5",
        "BEGIN:VCALENDAR",
        "X-MS-OLK-FORCEINSPECTOROPEN:TRUE",
        "RECURRENCE-ID;TZID=\"W. Europe Standard Time\":20240129T100000",
        "SUMMARY;LANGUAGE=de-de:Team-Sync ☕ (verschoben)",
    ] {
        assert!(e.unmapped.iter().any(|l| l == kept), "{kept} not kept");
    }
    assert!(
        !e.unmapped.iter().any(|l| l.starts_with("TZID:")),
        "VTIMEZONEs are derived, not unmapped"
    );
}

#[test]
fn a_fold_inside_a_utf8_sequence_reads_like_a_clean_fold() {
    // Refold every line at 40 octets without caring for character boundaries.
    let mut badly = Vec::new();
    for line in logical(OUTLOOK) {
        let bytes = line.as_bytes();
        let mut chunks = bytes.chunks(40);
        badly.extend_from_slice(chunks.next().unwrap_or_default());
        for chunk in chunks {
            badly.extend_from_slice(b"\r\n ");
            badly.extend_from_slice(chunk);
        }
        badly.extend_from_slice(b"\r\n");
    }
    assert!(
        std::str::from_utf8(&badly).is_err(),
        "the refold must split a character"
    );
    let good = parse_icalendar(OUTLOOK).unwrap();
    let bad = parse_icalendar(&badly).unwrap();
    assert_eq!(good.fields, bad.fields);
}

#[test]
fn unchanged_fields_render_the_previous_bytes_exactly() {
    for (name, bytes) in ALL {
        let obj = parse_icalendar(bytes).unwrap();
        let out = render_icalendar(obj.kind, &obj.uid, &obj.fields, Some(bytes));
        assert_eq!(out, bytes, "{name}");
    }
}

#[test]
fn changing_the_subject_rewrites_only_summary() {
    let obj = parse_icalendar(OUTLOOK).unwrap();
    let mut fields = obj.fields.clone();
    fields.insert("subject".into(), json!("Team-Sync, neu; mit Kaffee"));
    let out = render_icalendar(obj.kind, &obj.uid, &fields, Some(OUTLOOK));
    let (gone, added) = diff(OUTLOOK, &out);
    assert_eq!(gone, ["SUMMARY;LANGUAGE=de-de:Team-Sync ☕ (wöchentlich)"]);
    assert_eq!(added, ["SUMMARY:Team-Sync\\, neu\\; mit Kaffee"]);
    let again = parse_icalendar(&out).unwrap();
    assert_eq!(again.fields, fields);
    // The override, the VTIMEZONE and the X- properties are still there, byte for byte.
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains("X-MICROSOFT-CDO-IMPORTANCE:1\r\n"));
    assert!(text.contains("RECURRENCE-ID;TZID=\"W. Europe Standard Time\":20240129T100000\r\n"));
    assert!(text.contains("TZID:W. Europe Standard Time\r\n"));
}

#[test]
fn an_attendee_change_keeps_the_parameters_tandem_does_not_map() {
    let obj = parse_icalendar(GOOGLE).unwrap();
    let mut e: Event = from_fields(&obj.fields).unwrap();
    e.attendees[1].status = Some(tandem_protocol::record::AttendeeStatus::Accepted);
    let fields = tandem_protocol::record::to_fields(&e);
    let out = render_icalendar(obj.kind, &obj.uid, &fields, Some(GOOGLE));
    let (gone, added) = diff(GOOGLE, &out);
    assert_eq!(gone.len(), 1, "{gone:?}");
    assert_eq!(added.len(), 1, "{added:?}");
    assert!(added[0].contains("PARTSTAT=ACCEPTED"), "{}", added[0]);
    assert!(added[0].contains("X-NUM-GUESTS=0"), "{}", added[0]);
    assert!(added[0].contains("ROLE=REQ-PARTICIPANT"), "{}", added[0]);
    assert_eq!(parse_icalendar(&out).unwrap().fields, fields);
}

#[test]
fn moving_the_start_and_the_reminder_edits_those_lines_only() {
    let obj = parse_icalendar(OUTLOOK).unwrap();
    let mut e: Event = from_fields(&obj.fields).unwrap();
    e.start = Some(When::Time {
        utc: utc("2024-01-08T10:00:00Z"),
        tzid: Some("W. Europe Standard Time".into()),
        floating: false,
    });
    e.reminder_minutes = Some(30);
    let fields = tandem_protocol::record::to_fields(&e);
    let out = render_icalendar(obj.kind, &obj.uid, &fields, Some(OUTLOOK));
    let (gone, added) = diff(OUTLOOK, &out);
    assert_eq!(
        gone,
        [
            "DTSTART;TZID=\"W. Europe Standard Time\":20240108T100000",
            "TRIGGER:-PT15M"
        ]
    );
    assert_eq!(
        added,
        [
            "DTSTART;TZID=\"W. Europe Standard Time\":20240108T110000",
            "TRIGGER:-PT30M"
        ]
    );
    assert_eq!(parse_icalendar(&out).unwrap().fields, fields);
}

#[test]
fn clean_render_round_trips_every_fixture() {
    for (name, bytes) in ALL {
        let obj = parse_icalendar(bytes).unwrap();
        let out = render_icalendar(obj.kind, &obj.uid, &obj.fields, None);
        let text = String::from_utf8(out.clone()).unwrap();
        assert!(
            text.starts_with("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//tandem//tandem//EN\r\n")
        );
        assert!(text.contains("\r\nDTSTAMP:"), "{name}: DTSTAMP is required");
        for physical in text.split("\r\n") {
            assert!(physical.len() <= 75, "{name}: {physical}");
        }
        let again = parse_icalendar(&out).unwrap_or_else(|e| panic!("{name}: {e}\n{text}"));
        assert_eq!(again.uid, obj.uid, "{name}");
        assert_eq!(again.fields, obj.fields, "{name}\n{text}");
        assert_eq!(render_icalendar(obj.kind, &obj.uid, &obj.fields, None), out);
    }
}

#[test]
fn clean_render_of_a_salesforce_event_has_a_vtimezone_and_round_trips() {
    let e = Event {
        subject: Some("Quarterly review".into()),
        start: Some(When::Time {
            utc: utc("2026-11-23T09:00:00Z"),
            tzid: Some("Europe/Berlin".into()),
            floating: false,
        }),
        end: Some(When::Time {
            utc: utc("2026-11-23T10:00:00Z"),
            tzid: Some("Europe/Berlin".into()),
            floating: false,
        }),
        rrule: Some("FREQ=MONTHLY;COUNT=3".into()),
        reminder_minutes: Some(10),
        private: true,
        show_as: Some(tandem_protocol::record::ShowAs::OutOfOffice),
        categories: vec!["CRM".into(), "a,b".into()],
        attachments: vec!["Q4 deck.pptx".into()],
        ..Event::default()
    };
    let fields = tandem_protocol::record::to_fields(&e);
    let out = render_icalendar(RecordKind::Event, "evt-1", &fields, None);
    let text = String::from_utf8(out.clone()).unwrap();
    assert!(
        text.contains("BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\n"),
        "{text}"
    );
    assert!(
        text.contains("DTSTART;TZID=Europe/Berlin:20261123T100000\r\n"),
        "{text}"
    );
    assert!(text.contains("DTSTAMP:20261123T090000Z\r\n"), "{text}");
    let obj = parse_icalendar(&out).unwrap();
    assert_eq!(obj.fields, fields, "{text}");
}

#[test]
fn vtodo_fixture_maps_to_task_fields_and_edits_status() {
    let obj = parse_icalendar(VTODO).unwrap();
    assert_eq!(obj.kind, RecordKind::Task);
    let t: Task = from_fields(&obj.fields).unwrap();
    assert_eq!(t.subject.as_deref(), Some("Submit expense report"));
    assert_eq!(
        t.description.as_deref(),
        Some("Receipts are in the shared folder; scan the paper ones.")
    );
    assert_eq!(t.start, "2024-03-01".parse().ok());
    assert_eq!(t.due, "2024-03-05".parse().ok());
    assert_eq!(t.priority, Some(tandem_protocol::record::Priority::High));
    assert_eq!(
        t.status,
        Some(tandem_protocol::record::TaskStatus::NotStarted)
    );
    assert_eq!(t.categories, ["Finance", "Q1"]);
    assert!(t.private);
    assert_eq!(t.reminder_at, Some(utc("2024-03-04T08:00:00Z")));
    assert_eq!(t.rrule.as_deref(), Some("FREQ=MONTHLY;COUNT=6"));
    assert!(
        t.unmapped
            .iter()
            .any(|l| l == "X-APPLE-SORT-ORDER:731145600")
    );
    assert!(t.unmapped.iter().any(|l| l == "PERCENT-COMPLETE:0"));

    let mut done = t.clone();
    done.status = Some(tandem_protocol::record::TaskStatus::Completed);
    done.completed_at = Some(utc("2024-03-04T17:30:00Z"));
    let fields = tandem_protocol::record::to_fields(&done);
    let out = render_icalendar(RecordKind::Task, &obj.uid, &fields, Some(VTODO));
    let (gone, added) = diff(VTODO, &out);
    assert_eq!(gone, ["STATUS:NEEDS-ACTION"]);
    assert_eq!(added, ["STATUS:COMPLETED", "COMPLETED:20240304T173000Z"]);
    assert_eq!(parse_icalendar(&out).unwrap().fields, fields);
}

#[test]
fn clearing_a_field_removes_its_property() {
    let obj = parse_icalendar(ALLDAY).unwrap();
    let mut fields: Fields = obj.fields.clone();
    fields.remove("categories");
    fields.insert("private".into(), Value::Bool(false));
    let out = render_icalendar(obj.kind, &obj.uid, &fields, Some(ALLDAY));
    let (gone, added) = diff(ALLDAY, &out);
    assert_eq!(gone, ["CLASS:PRIVATE", "CATEGORIES:Holiday,Office"]);
    assert!(added.is_empty(), "{added:?}");
    let mut expected = fields.clone();
    expected.remove("private");
    assert_eq!(parse_icalendar(&out).unwrap().fields, expected);
}

#[test]
fn inline_binary_attachments_are_never_reserialised() {
    // calcard 0.3.14 writes this back as `ATTACH;FMTTYPE=text/plain;VALUE=BINARY:Hello\, World!`
    // (reference/crates.md §2.2); tandem copies the client's line instead.
    let attach = "ATTACH;ENCODING=BASE64;VALUE=BINARY;FMTTYPE=text/plain:SGVsbG8sIFdvcmxkIQ==";
    let body = format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:a\r\nDTSTAMP:20240101T000000Z\r\nDTSTART:20240101T100000Z\r\nSUMMARY:x\r\n{attach}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    );
    let obj = parse_icalendar(body.as_bytes()).unwrap();
    let e: Event = from_fields(&obj.fields).unwrap();
    assert!(
        e.attachments.is_empty(),
        "inline data without a name is not mapped"
    );
    assert!(e.unmapped.iter().any(|l| l == attach));
    let mut fields = obj.fields.clone();
    fields.insert("subject".into(), json!("y"));
    for previous in [Some(body.as_bytes()), None] {
        let out = render_icalendar(obj.kind, &obj.uid, &fields, previous);
        assert!(logical(&out).iter().any(|l| l == attach));
        assert_eq!(parse_icalendar(&out).unwrap().fields, fields);
    }
}
