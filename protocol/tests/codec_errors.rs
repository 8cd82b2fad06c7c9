//! Broken input: each case gets its own specific, actionable error.

use tandem_protocol::codec::{CodecError, Precondition, parse_icalendar, parse_vcard};

const OUTLOOK: &[u8] = include_bytes!("../../fixtures/ics/outlook_windows_tz.ics");

fn event(props: &str) -> String {
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\n{props}END:VEVENT\r\nEND:VCALENDAR\r\n"
    )
}

fn ical_err(body: &[u8]) -> CodecError {
    parse_icalendar(body).expect_err("must be rejected")
}

#[test]
fn not_icalendar() {
    let err = ical_err(b"BEGIN:VCARD\r\nVERSION:3.0\r\nEND:VCARD\r\n");
    assert_eq!(err, CodecError::NotICalendar);
    assert_eq!(
        err.to_string(),
        "not an iCalendar object: the body does not start with BEGIN:VCALENDAR"
    );
    assert_eq!(ical_err(b""), CodecError::Empty);
    assert_eq!(ical_err(b"<html>hello</html>"), CodecError::NotICalendar);
}

#[test]
fn truncated() {
    let cut = &OUTLOOK[..OUTLOOK.len() / 2];
    let cut = &cut[..cut.iter().rposition(|&b| b == b'\n').unwrap() + 1];
    let err = ical_err(cut);
    assert!(matches!(err, CodecError::Truncated { .. }), "{err}");
    assert!(err.to_string().starts_with("truncated: BEGIN:"), "{err}");
}

#[test]
fn two_uids() {
    let body = event("UID:a\r\nDTSTART:20240101T100000Z\r\n").replace(
        "END:VCALENDAR",
        "BEGIN:VEVENT\r\nUID:b\r\nDTSTART:20240101T100000Z\r\nEND:VEVENT\r\nEND:VCALENDAR",
    );
    let err = ical_err(body.as_bytes());
    assert_eq!(err, CodecError::SeveralUids("a".into(), "b".into()));
    assert_eq!(
        err.to_string(),
        "two different UIDs in one resource (a, b): a calendar resource holds one event and its overrides"
    );
}

#[test]
fn two_masters_with_one_uid() {
    let body = event("UID:a\r\nDTSTART:20240101T100000Z\r\n").replace(
        "END:VCALENDAR",
        "BEGIN:VEVENT\r\nUID:a\r\nDTSTART:20240102T100000Z\r\nEND:VEVENT\r\nEND:VCALENDAR",
    );
    assert_eq!(
        ical_err(body.as_bytes()),
        CodecError::SeveralMasters { uid: "a".into() }
    );
}

#[test]
fn missing_uid() {
    let err = ical_err(event("DTSTART:20240101T100000Z\r\n").as_bytes());
    assert_eq!(
        err,
        CodecError::MissingUid {
            component: "VEVENT".into()
        }
    );
    assert!(err.to_string().contains("without UID"));
}

#[test]
fn vjournal() {
    let body = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VJOURNAL\r\nUID:j\r\nEND:VJOURNAL\r\nEND:VCALENDAR\r\n";
    let err = ical_err(body.as_bytes());
    assert_eq!(err, CodecError::UnsupportedComponent("VJOURNAL".into()));
    assert_eq!(
        err.to_string(),
        "VJOURNAL is not supported in this collection"
    );
    assert_eq!(
        err.precondition(false),
        Precondition::SupportedCalendarComponent
    );
}

#[test]
fn method_present() {
    let body = event("UID:a\r\nDTSTART:20240101T100000Z\r\n")
        .replace("VERSION:2.0\r\n", "VERSION:2.0\r\nMETHOD:REQUEST\r\n");
    let err = ical_err(body.as_bytes());
    assert_eq!(err, CodecError::MethodPresent("REQUEST".into()));
    assert_eq!(err.precondition(false), Precondition::ValidCalendarData);
}

#[test]
fn mixed_vevent_and_vtodo() {
    let body = event("UID:a\r\nDTSTART:20240101T100000Z\r\n").replace(
        "END:VCALENDAR",
        "BEGIN:VTODO\r\nUID:a\r\nEND:VTODO\r\nEND:VCALENDAR",
    );
    assert_eq!(ical_err(body.as_bytes()), CodecError::MixedComponents);
}

#[test]
fn bad_dtstart_value() {
    let err = ical_err(event("UID:a\r\nDTSTART:next tuesday\r\n").as_bytes());
    match &err {
        CodecError::BadValue {
            line,
            property,
            value,
            ..
        } => {
            assert_eq!(*line, 6);
            assert_eq!(property, "DTSTART");
            assert_eq!(value, "next tuesday");
        }
        other => panic!("{other}"),
    }
    assert!(
        err.to_string()
            .starts_with("line 6: DTSTART has an invalid value `next tuesday`")
    );
}

#[test]
fn property_without_colon() {
    let err = ical_err(event("UID:a\r\nDTSTART:20240101T100000Z\r\nSUMMARY Lunch\r\n").as_bytes());
    assert_eq!(
        err,
        CodecError::NoColon {
            line: 7,
            text: "SUMMARY Lunch".into()
        }
    );
    assert_eq!(
        err.to_string(),
        "line 7: property without a colon: `SUMMARY Lunch`"
    );
}

#[test]
fn garbage_bytes() {
    let garbage: Vec<u8> = (0u32..600).map(|i| (i * 7919 % 251) as u8).collect();
    assert_eq!(ical_err(&garbage), CodecError::NotICalendar);
    assert!(matches!(parse_vcard(&garbage), Err(CodecError::NotVcard)));
}

#[test]
fn invalid_utf8_that_is_not_a_fold() {
    let body = event("UID:a\r\nDTSTART:20240101T100000Z\r\nSUMMARY:caf\u{e9}\r\n").into_bytes();
    // Replace the UTF-8 "é" (C3 A9) by Latin-1 (E9).
    let pos = body.windows(2).position(|w| w == [0xC3, 0xA9]).unwrap();
    let mut latin1 = body[..pos].to_vec();
    latin1.push(0xE9);
    latin1.extend_from_slice(&body[pos + 2..]);
    let err = ical_err(&latin1);
    assert_eq!(
        err,
        CodecError::InvalidUtf8 {
            line: 7,
            byte: 0xE9
        }
    );
    assert!(err.to_string().contains("line 7: invalid UTF-8"));
}

#[test]
fn two_vcards_in_one_body() {
    let one = "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:A\r\nN:A;;;;\r\nEND:VCARD\r\n";
    let err = parse_vcard(format!("{one}{one}").as_bytes()).unwrap_err();
    assert_eq!(
        err,
        CodecError::SeveralObjects {
            count: 2,
            what: "vCard"
        }
    );
    assert_eq!(
        err.to_string(),
        "2 objects in one body: a resource holds exactly one vCard"
    );
    assert_eq!(err.precondition(true), Precondition::ValidAddressData);
}

#[test]
fn vcard_without_begin() {
    let err = parse_vcard(b"VERSION:3.0\r\nFN:A\r\nEND:VCARD\r\n").unwrap_err();
    assert_eq!(err, CodecError::NotVcard);
    assert_eq!(
        err.to_string(),
        "not a vCard: the body does not start with BEGIN:VCARD"
    );
}

#[test]
fn vcard_truncated() {
    let err = parse_vcard(b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:A\r\n").unwrap_err();
    assert_eq!(
        err,
        CodecError::Truncated {
            name: "VCARD".into()
        }
    );
}
