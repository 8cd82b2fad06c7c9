//! No input makes a parser (or a render over it, or an expansion) panic.

use chrono::{DateTime, Utc};
use proptest::prelude::*;
use tandem_protocol::codec::{
    busy_periods, expansion, occurrences, overlaps, parse_icalendar, parse_vcard, render_icalendar,
    render_vcard, with_uid,
};

const FIXTURES: [&[u8]; 8] = [
    include_bytes!("../../fixtures/ics/outlook_windows_tz.ics"),
    include_bytes!("../../fixtures/ics/google_overrides.ics"),
    include_bytes!("../../fixtures/ics/vtodo_rrule.ics"),
    include_bytes!("../../fixtures/ics/allday.ics"),
    include_bytes!("../../fixtures/vcf/apple_v3.vcf"),
    include_bytes!("../../fixtures/vcf/outlook_v21.vcf"),
    include_bytes!("../../fixtures/vcf/nextcloud_v4.vcf"),
    include_bytes!("../../fixtures/vcf/no_uid_v3.vcf"),
];

fn exercise(bytes: &[u8]) {
    if let Ok(obj) = parse_icalendar(bytes) {
        let from: DateTime<Utc> = "2020-01-01T00:00:00Z".parse().unwrap();
        let to: DateTime<Utc> = "2026-01-01T00:00:00Z".parse().unwrap();
        let _ = occurrences(&obj, from, to, 50);
        let _ = overlaps(&obj, from, to);
        let _ = busy_periods(&obj, from, to);
        let _ = render_icalendar(obj.kind, &obj.uid, &obj.fields, Some(bytes));
        let _ = render_icalendar(obj.kind, &obj.uid, &obj.fields, None);
    }
    if let Ok(card) = parse_vcard(bytes) {
        let _ = render_vcard("u", &card.fields, Some(bytes));
        let _ = render_vcard("u", &card.fields, None);
        let _ = with_uid(bytes, "u");
    }
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Delete(usize, usize),
    Insert(usize, Vec<u8>),
    Duplicate(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let snippets = prop::sample::select(vec![
        b"\r\n ".to_vec(),
        b"\r\n".to_vec(),
        b":".to_vec(),
        b";".to_vec(),
        b"\"".to_vec(),
        b"=".to_vec(),
        b"\xC3".to_vec(),
        b"END:VEVENT\r\n".to_vec(),
        b"BEGIN:VALARM\r\n".to_vec(),
        b"RRULE:FREQ=SECONDLY;BYSETPOS=-1\r\n".to_vec(),
        b"DTSTART;TZID=Nowhere:99999999T999999\r\n".to_vec(),
        b"RECURRENCE-ID:20240129T090000Z\r\n".to_vec(),
        b"TEL;VALUE=uri:tel:\r\n".to_vec(),
        b"ENCODING=QUOTED-PRINTABLE:=\r\n".to_vec(),
        b"RRULE:FREQ=YEARLY;BYWEEKNO=54;BYYEARDAY=-367;BYSETPOS=400\r\n".to_vec(),
        b"RRULE:FREQ=DAILY;INTERVAL=0;COUNT=4294967295\r\n".to_vec(),
        b"DURATION:P99999999W\r\n".to_vec(),
        b"DTEND;VALUE=DATE:99991231\r\n".to_vec(),
    ]);
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Flip(i, b)),
        (any::<usize>(), 0usize..40).prop_map(|(i, n)| Mutation::Delete(i, n)),
        (any::<usize>(), snippets).prop_map(|(i, s)| Mutation::Insert(i, s)),
        (any::<usize>(), 0usize..200).prop_map(|(i, n)| Mutation::Duplicate(i, n)),
    ]
}

fn apply(bytes: &mut Vec<u8>, m: &Mutation) {
    if bytes.is_empty() {
        return;
    }
    match m {
        Mutation::Flip(i, b) => {
            let i = i % bytes.len();
            bytes[i] = *b;
        }
        Mutation::Delete(i, n) => {
            let i = i % bytes.len();
            let end = (i + n).min(bytes.len());
            bytes.drain(i..end);
        }
        Mutation::Insert(i, s) => {
            let i = i % (bytes.len() + 1);
            bytes.splice(i..i, s.iter().copied());
        }
        Mutation::Duplicate(i, n) => {
            let i = i % bytes.len();
            let end = (i + n).min(bytes.len());
            let copy = bytes[i..end].to_vec();
            bytes.splice(end..end, copy);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 256,
        ..ProptestConfig::default()
    })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        exercise(&bytes);
        let mut prefixed = b"BEGIN:VCALENDAR\r\n".to_vec();
        prefixed.extend_from_slice(&bytes);
        exercise(&prefixed);
        let mut card = b"BEGIN:VCARD\r\n".to_vec();
        card.extend_from_slice(&bytes);
        exercise(&card);
    }

    #[test]
    fn mutated_fixtures_never_panic(
        which in 0usize..FIXTURES.len(),
        mutations in prop::collection::vec(mutation(), 1..6),
    ) {
        let mut bytes = FIXTURES[which].to_vec();
        for m in &mutations {
            apply(&mut bytes, m);
        }
        exercise(&bytes);
    }
}

fn rule_part() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "YEARLY", "MONTHLY", "WEEKLY", "DAILY", "HOURLY", "MINUTELY", "SECONDLY", "X"
        ])
        .prop_map(|f| format!("FREQ={f}")),
        (0u32..500).prop_map(|n| format!("COUNT={n}")),
        (0u32..70000).prop_map(|n| format!("INTERVAL={n}")),
        (-60i32..60).prop_map(|n| format!("BYMONTHDAY={n}")),
        (-400i32..400).prop_map(|n| format!("BYYEARDAY={n}")),
        (-60i32..60).prop_map(|n| format!("BYWEEKNO={n}")),
        (0u32..14).prop_map(|n| format!("BYMONTH={n}")),
        (-400i32..400).prop_map(|n| format!("BYSETPOS={n}")),
        (0u32..30).prop_map(|n| format!("BYHOUR={n}")),
        (
            -6i32..6,
            prop::sample::select(vec!["MO", "TU", "WE", "TH", "FR", "SA", "SU"])
        )
            .prop_map(|(n, d)| if n == 0 {
                format!("BYDAY={d}")
            } else {
                format!("BYDAY={n}{d}")
            }),
        prop::sample::select(vec![
            "UNTIL=19000101T000000Z",
            "UNTIL=20240110",
            "UNTIL=20300101T000000",
            "UNTIL=99991231T235959Z"
        ])
        .prop_map(str::to_string),
        prop::sample::select(vec!["WKST=SU", "WKST=MO", "RSCALE=HEBREW", "SKIP=FORWARD"])
            .prop_map(str::to_string),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 256,
        ..ProptestConfig::default()
    })]

    #[test]
    fn arbitrary_rules_expand_without_panicking(
        parts in prop::collection::vec(rule_part(), 1..6),
        start in prop::sample::select(vec!["20240131T100000", "00010101T000000Z", "99991231T235959Z", "20240229", "20240331T023000"]),
        tz in prop::sample::select(vec!["Europe/Berlin", "W. Europe Standard Time", "Nowhere", ""]),
        from_year in 1i32..9999,
        span_days in 0i64..4000,
    ) {
        let dtstart = match (start.len(), tz) {
            (8, _) => format!("DTSTART;VALUE=DATE:{start}"),
            (_, "") => format!("DTSTART:{start}"),
            (_, tz) if !start.ends_with('Z') => format!("DTSTART;TZID={tz}:{start}"),
            _ => format!("DTSTART:{start}"),
        };
        let body = format!(
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:r\r\nDTSTAMP:20240101T000000Z\r\n{dtstart}\r\nDURATION:PT1H\r\nRRULE:{}\r\nEXDATE:20240207T100000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
            parts.join(";")
        );
        if let Ok(obj) = parse_icalendar(body.as_bytes()) {
            let from = chrono::NaiveDate::from_ymd_opt(from_year, 1, 1).unwrap().and_hms_opt(0, 0, 0).unwrap().and_utc();
            let to = from + chrono::TimeDelta::days(span_days);
            let found = expansion(&obj, from, to, 20);
            prop_assert!(found.occurrences.len() <= 20);
            for o in &found.occurrences {
                prop_assert!(o.start < to);
            }
            prop_assert!(found.searched_until.is_none_or(|t| t < to));
            let _ = overlaps(&obj, from, to);
            let _ = busy_periods(&obj, from, to);
            let _ = render_icalendar(obj.kind, &obj.uid, &obj.fields, None);
        }
    }
}
