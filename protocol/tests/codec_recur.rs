//! Recurrence expansion and time ranges against the fixtures and RFC 4791 §9.9.

use chrono::{DateTime, Utc};
use tandem_protocol::codec::{BusyType, busy_periods, occurrences, overlaps, parse_icalendar};

const OUTLOOK: &[u8] = include_bytes!("../../fixtures/ics/outlook_windows_tz.ics");
const GOOGLE: &[u8] = include_bytes!("../../fixtures/ics/google_overrides.ics");
const VTODO: &[u8] = include_bytes!("../../fixtures/ics/vtodo_rrule.ics");
const ALLDAY: &[u8] = include_bytes!("../../fixtures/ics/allday.ics");

fn utc(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn starts(bytes: &[u8], from: &str, to: &str) -> Vec<String> {
    let obj = parse_icalendar(bytes).unwrap();
    occurrences(&obj, utc(from), utc(to), 1000)
        .iter()
        .map(|o| o.start.format("%Y-%m-%dT%H:%MZ").to_string())
        .collect()
}

#[test]
fn outlook_series_override_until_and_dst() {
    let all = starts(OUTLOOK, "2024-01-01T00:00:00Z", "2025-01-01T00:00:00Z");
    assert_eq!(all.len(), 22, "{all:?}");
    // The override (SEQUENCE 2) replaces the Jan 29 instance (SEQUENCE 0): no duplicate.
    assert!(all.contains(&"2024-01-30T10:00Z".to_string()));
    assert!(!all.contains(&"2024-01-29T09:00Z".to_string()));
    // EXDATEs, including the multi-valued line.
    for gone in [
        "2024-02-12T09:00Z",
        "2024-04-01T08:00Z",
        "2024-05-20T08:00Z",
    ] {
        assert!(!all.iter().any(|s| s == gone), "{gone}");
    }
    // 10:00 Berlin is 09:00Z in winter and 08:00Z after the switch on March 31.
    assert!(all.contains(&"2024-03-25T09:00Z".to_string()));
    assert!(all.contains(&"2024-04-08T08:00Z".to_string()));
    // The instance exactly on UNTIL (20240624T080000Z) is included.
    assert_eq!(all.last().map(String::as_str), Some("2024-06-24T08:00Z"));

    let obj = parse_icalendar(OUTLOOK).unwrap();
    let week = occurrences(
        &obj,
        utc("2024-01-29T00:00:00Z"),
        utc("2024-02-05T00:00:00Z"),
        10,
    );
    assert_eq!(week.len(), 1);
    assert_eq!(week[0].start, utc("2024-01-30T10:00:00Z"));
    assert_eq!(week[0].end, utc("2024-01-30T10:30:00Z"));
    assert_eq!(week[0].recurrence_id, Some(utc("2024-01-29T09:00:00Z")));
}

#[test]
fn google_series_has_no_duplicate_at_the_override() {
    let all = starts(GOOGLE, "2024-03-01T00:00:00Z", "2024-05-01T00:00:00Z");
    assert_eq!(
        all,
        [
            "2024-03-06T17:00Z", // DTSTART, a Wednesday, is always the first instance
            "2024-03-07T17:00Z",
            "2024-03-12T16:00Z", // PDT from March 10
            "2024-03-19T16:00Z",
            "2024-03-21T18:00Z", // the override, moved to 11:00
            "2024-03-28T16:00Z",
            "2024-04-02T16:00Z",
            "2024-04-04T16:00Z",
            "2024-04-09T16:00Z",
            "2024-04-11T16:00Z", // on UNTIL
        ]
    );
}

#[test]
fn all_day_with_rdates() {
    let obj = parse_icalendar(ALLDAY).unwrap();
    let occ = occurrences(
        &obj,
        utc("2024-07-01T00:00:00Z"),
        utc("2024-08-01T00:00:00Z"),
        10,
    );
    let got: Vec<_> = occ
        .iter()
        .map(|o| (o.start.to_rfc3339(), o.end.to_rfc3339()))
        .collect();
    assert_eq!(
        got,
        [
            (
                "2024-07-04T00:00:00+00:00".into(),
                "2024-07-05T00:00:00+00:00".into()
            ),
            (
                "2024-07-12T00:00:00+00:00".into(),
                "2024-07-13T00:00:00+00:00".into()
            ),
            (
                "2024-07-19T00:00:00+00:00".into(),
                "2024-07-20T00:00:00+00:00".into()
            ),
        ]
    );
    // The end of a day is exclusive.
    assert!(!overlaps(
        &obj,
        utc("2024-07-05T00:00:00Z"),
        utc("2024-07-06T00:00:00Z")
    ));
    assert!(overlaps(
        &obj,
        utc("2024-07-04T23:59:00Z"),
        utc("2024-07-06T00:00:00Z")
    ));
    // Transparent: no busy time.
    assert!(
        busy_periods(
            &obj,
            utc("2024-07-01T00:00:00Z"),
            utc("2024-08-01T00:00:00Z")
        )
        .is_empty()
    );
}

#[test]
fn max_limits_the_occurrences() {
    let obj = parse_icalendar(OUTLOOK).unwrap();
    let few = occurrences(
        &obj,
        utc("2024-01-01T00:00:00Z"),
        utc("2025-01-01T00:00:00Z"),
        3,
    );
    assert_eq!(few.len(), 3);
    assert_eq!(few[0].start, utc("2024-01-08T09:00:00Z"));
}

#[test]
fn recurring_vtodo_expands_with_its_due_span() {
    let obj = parse_icalendar(VTODO).unwrap();
    let occ = occurrences(
        &obj,
        utc("2024-01-01T00:00:00Z"),
        utc("2025-01-01T00:00:00Z"),
        100,
    );
    assert_eq!(occ.len(), 6);
    assert_eq!(occ[5].start, utc("2024-08-01T00:00:00Z"));
    assert_eq!(occ[5].end, utc("2024-08-05T00:00:00Z"));
    assert!(overlaps(
        &obj,
        utc("2024-05-04T00:00:00Z"),
        utc("2024-05-04T01:00:00Z")
    ));
    assert!(!overlaps(
        &obj,
        utc("2024-09-10T00:00:00Z"),
        utc("2024-12-01T00:00:00Z")
    ));
}

fn vtodo(props: &str) -> Vec<u8> {
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VTODO\r\nUID:t1\r\nDTSTAMP:20240101T000000Z\r\n{props}END:VTODO\r\nEND:VCALENDAR\r\n"
    )
    .into_bytes()
}

#[test]
fn vtodo_time_range_table_of_rfc_4791() {
    let check = |props: &str, from: &str, to: &str| {
        let obj = parse_icalendar(&vtodo(props)).unwrap();
        overlaps(&obj, utc(from), utc(to))
    };
    let day = |d: &str| format!("2024-05-{d}T00:00:00Z");
    // Only DUE: (start < DUE) AND (end >= DUE).
    let due = "DUE:20240510T120000Z\r\n";
    assert!(check(due, &day("10"), "2024-05-10T12:00:00Z"));
    assert!(!check(due, "2024-05-10T12:00:00Z", &day("11")));
    assert!(!check(due, &day("01"), &day("02")));
    // Only DTSTART: (start <= DTSTART) AND (end > DTSTART).
    let start = "DTSTART:20240510T120000Z\r\n";
    assert!(check(start, "2024-05-10T12:00:00Z", &day("11")));
    assert!(!check(start, &day("10"), "2024-05-10T12:00:00Z"));
    // DTSTART and DUE.
    let both = "DTSTART:20240510T120000Z\r\nDUE:20240512T120000Z\r\n";
    assert!(check(both, &day("11"), &day("12")));
    assert!(!check(both, &day("13"), &day("14")));
    // DTSTART and DURATION.
    let dur = "DTSTART:20240510T120000Z\r\nDURATION:P1D\r\n";
    assert!(check(dur, &day("11"), &day("12")));
    assert!(!check(dur, &day("12"), &day("13")));
    // COMPLETED and CREATED.
    let cc = "CREATED:20240501T000000Z\r\nCOMPLETED:20240503T000000Z\r\n";
    assert!(check(cc, &day("02"), &day("03")));
    assert!(!check(cc, &day("04"), &day("05")));
    // Only COMPLETED: (start <= COMPLETED) AND (end >= COMPLETED).
    let c = "COMPLETED:20240503T000000Z\r\n";
    assert!(check(c, &day("02"), &day("03")));
    assert!(!check(c, &day("04"), &day("05")));
    // Only CREATED: end > CREATED.
    let cr = "CREATED:20240501T000000Z\r\n";
    assert!(check(cr, &day("20"), &day("21")));
    assert!(!check(cr, "2024-04-01T00:00:00Z", &day("01")));
    // No dates at all: every range.
    assert!(check(
        "SUMMARY:someday\r\n",
        "1999-01-01T00:00:00Z",
        "1999-01-02T00:00:00Z"
    ));
}

fn vevent(props: &str) -> Vec<u8> {
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:e1\r\nDTSTAMP:20240101T000000Z\r\n{props}END:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    .into_bytes()
}

#[test]
fn floating_and_instant_events() {
    // A floating time is read as UTC.
    let obj = parse_icalendar(&vevent("DTSTART:20240101T100000\r\nDURATION:PT1H\r\n")).unwrap();
    let occ = occurrences(
        &obj,
        utc("2024-01-01T00:00:00Z"),
        utc("2024-01-02T00:00:00Z"),
        5,
    );
    assert_eq!(occ[0].start, utc("2024-01-01T10:00:00Z"));
    assert_eq!(occ[0].end, utc("2024-01-01T11:00:00Z"));
    // A DATE-TIME DTSTART without end is an instant: start <= DTSTART < end.
    let obj = parse_icalendar(&vevent("DTSTART:20240101T100000Z\r\n")).unwrap();
    assert!(overlaps(
        &obj,
        utc("2024-01-01T10:00:00Z"),
        utc("2024-01-01T10:00:01Z")
    ));
    assert!(!overlaps(
        &obj,
        utc("2024-01-01T09:00:00Z"),
        utc("2024-01-01T10:00:00Z")
    ));
    assert!(
        busy_periods(
            &obj,
            utc("2024-01-01T00:00:00Z"),
            utc("2024-01-02T00:00:00Z")
        )
        .is_empty()
    );
    // A DATE DTSTART without end lasts one day.
    let obj = parse_icalendar(&vevent("DTSTART;VALUE=DATE:20240101\r\n")).unwrap();
    assert!(overlaps(
        &obj,
        utc("2024-01-01T23:00:00Z"),
        utc("2024-01-02T01:00:00Z")
    ));
    assert!(!overlaps(
        &obj,
        utc("2024-01-02T00:00:00Z"),
        utc("2024-01-02T01:00:00Z")
    ));
}

#[test]
fn busy_periods_skip_cancelled_and_mark_tentative_and_out_of_office() {
    let obj = parse_icalendar(OUTLOOK).unwrap();
    let busy = busy_periods(
        &obj,
        utc("2024-01-08T09:15:00Z"),
        utc("2024-01-16T00:00:00Z"),
    );
    assert_eq!(
        busy,
        [
            (
                utc("2024-01-08T09:15:00Z"),
                utc("2024-01-08T09:30:00Z"),
                BusyType::Busy
            ),
            (
                utc("2024-01-15T09:00:00Z"),
                utc("2024-01-15T09:30:00Z"),
                BusyType::Busy
            ),
        ]
    );
    let series = "DTSTART:20240101T100000Z\r\nDURATION:PT1H\r\nRRULE:FREQ=DAILY;COUNT=3\r\nX-MICROSOFT-CDO-BUSYSTATUS:OOF\r\n";
    let body = String::from_utf8(vevent(series)).unwrap().replace(
        "END:VCALENDAR",
        "BEGIN:VEVENT\r\nUID:e1\r\nDTSTAMP:20240101T000000Z\r\nRECURRENCE-ID:20240102T100000Z\r\nDTSTART:20240102T100000Z\r\nDURATION:PT1H\r\nSTATUS:CANCELLED\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:e1\r\nDTSTAMP:20240101T000000Z\r\nRECURRENCE-ID:20240103T100000Z\r\nDTSTART:20240103T120000Z\r\nDURATION:PT1H\r\nSTATUS:TENTATIVE\r\nEND:VEVENT\r\nEND:VCALENDAR",
    );
    let obj = parse_icalendar(body.as_bytes()).unwrap();
    let busy = busy_periods(
        &obj,
        utc("2024-01-01T00:00:00Z"),
        utc("2024-01-05T00:00:00Z"),
    );
    assert_eq!(
        busy,
        [
            (
                utc("2024-01-01T10:00:00Z"),
                utc("2024-01-01T11:00:00Z"),
                BusyType::BusyUnavailable
            ),
            (
                utc("2024-01-03T12:00:00Z"),
                utc("2024-01-03T13:00:00Z"),
                BusyType::BusyTentative
            ),
        ]
    );
}

#[test]
fn an_endless_rule_queried_far_away_stays_bounded() {
    let obj = parse_icalendar(&vevent(
        "DTSTART:20000101T100000Z\r\nDURATION:PT1H\r\nRRULE:FREQ=DAILY\r\n",
    ))
    .unwrap();
    let occ = occurrences(
        &obj,
        utc("2030-06-01T00:00:00Z"),
        utc("2030-06-03T00:00:00Z"),
        10,
    );
    assert_eq!(occ.len(), 2);
    assert_eq!(occ[0].recurrence_id, Some(utc("2030-06-01T10:00:00Z")));
}

/// An extent's first start and last end as times, `None` where there is no bound.
fn bounds(
    extent: &tandem_protocol::codec::Extent,
) -> (
    Option<chrono::DateTime<chrono::Utc>>,
    Option<chrono::DateTime<chrono::Utc>>,
) {
    let at = |ms: i64, unbounded: i64| {
        (ms != unbounded).then(|| chrono::DateTime::from_timestamp_millis(ms).unwrap())
    };
    (at(extent.first, i64::MIN), at(extent.last, i64::MAX))
}

/// `span` bounds every instance `overlaps` can find: the index built on it never hides an event.
#[test]
fn span_bounds_every_instance_and_is_open_where_the_series_is() {
    use tandem_protocol::codec::span;
    let event = |rule: &str, extra: &str| {
        format!(
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\nBEGIN:VEVENT\r\nUID:s\r\nDTSTAMP:20240101T000000Z\r\nDTSTART:20240301T090000Z\r\nDTEND:20240301T100000Z\r\n{rule}SUMMARY:Call\r\nEND:VEVENT\r\n{extra}END:VCALENDAR\r\n"
        )
    };
    let extent = |text: String| span(&parse_icalendar(text.as_bytes()).unwrap());
    let of = |text: String| bounds(&extent(text));
    assert_eq!(
        of(event("", "")),
        (
            Some(utc("2024-03-01T09:00:00Z")),
            Some(utc("2024-03-01T10:00:00Z"))
        )
    );
    assert_eq!(
        of(event("RRULE:FREQ=WEEKLY;COUNT=3\r\n", "")),
        (
            Some(utc("2024-03-01T09:00:00Z")),
            Some(utc("2024-03-15T10:00:00Z"))
        )
    );
    assert_eq!(
        of(event("RRULE:FREQ=DAILY;UNTIL=20240305T090000Z\r\n", "")),
        (
            Some(utc("2024-03-01T09:00:00Z")),
            Some(utc("2024-03-05T10:00:00Z"))
        )
    );
    assert_eq!(
        of(event("RRULE:FREQ=WEEKLY\r\n", "")),
        (Some(utc("2024-03-01T09:00:00Z")), None)
    );
    // An occurrence moved before the first and after the last widens the span.
    let moved = "BEGIN:VEVENT\r\nUID:s\r\nDTSTAMP:20240101T000000Z\r\nRECURRENCE-ID:20240308T090000Z\r\nDTSTART:20240220T090000Z\r\nDTEND:20240401T100000Z\r\nSUMMARY:Moved\r\nEND:VEVENT\r\n";
    assert_eq!(
        of(event("RRULE:FREQ=WEEKLY;COUNT=3\r\n", moved)),
        (
            Some(utc("2024-02-20T09:00:00Z")),
            Some(utc("2024-04-01T10:00:00Z"))
        )
    );
    // The instances are listed where the set is whole and short.
    let listed = |text: String| extent(text).instances.map(|list| list.len());
    assert_eq!(listed(event("", "")), Some(1));
    assert_eq!(
        listed(event("RRULE:FREQ=WEEKLY;COUNT=3\r\n", moved)),
        Some(3)
    );
    assert_eq!(listed(event("RDATE:20240310T090000Z\r\n", "")), Some(2));
    assert_eq!(listed(event("RRULE:FREQ=WEEKLY\r\n", "")), None);
    assert_eq!(listed(event("RRULE:FREQ=DAILY;COUNT=65\r\n", "")), None);
    // A task's time-range rules reach beyond its dates: no bound.
    let task = span(&parse_icalendar(VTODO).unwrap());
    let (first, last) = bounds(&task);
    assert_eq!((first, last, task.instances), (None, None, None));
    // The fixtures: whatever overlaps finds lies within the span.
    for bytes in [OUTLOOK, GOOGLE, ALLDAY] {
        let obj = parse_icalendar(bytes).unwrap();
        let (first, last) = bounds(&span(&obj));
        let first = first.unwrap();
        let before = first - chrono::TimeDelta::seconds(1);
        assert!(!overlaps(&obj, utc("1990-01-01T00:00:00Z"), before));
        if let Some(last) = last {
            assert!(!overlaps(
                &obj,
                last + chrono::TimeDelta::seconds(1),
                utc("2199-01-01T00:00:00Z")
            ));
            assert!(overlaps(&obj, first, last));
        }
    }
}

/// Where an event's instances are listed, they decide a time-range as `overlaps` does, at every
/// edge: a span meets a range that ends after it starts and starts before it ends; an instant one
/// that starts at or before it and ends after it. Single events of every shape, and short series
/// with an occurrence moved and one excluded.
#[test]
fn listed_instances_meet_a_range_as_overlaps_says() {
    use tandem_protocol::codec::{instance_meets, span};
    let event = |timing: &str, extra: &str| {
        format!(
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\nBEGIN:VEVENT\r\nUID:l\r\nDTSTAMP:20240101T000000Z\r\n{timing}SUMMARY:Call\r\nEND:VEVENT\r\n{extra}END:VCALENDAR\r\n"
        )
    };
    let moved = "BEGIN:VEVENT\r\nUID:l\r\nDTSTAMP:20240101T000000Z\r\nRECURRENCE-ID:20240308T090000Z\r\nDTSTART:20240309T150000Z\r\nDURATION:PT0S\r\nSUMMARY:Moved\r\nEND:VEVENT\r\n";
    let hour = 3_600_000;
    let shapes = [
        ("DTSTART:20240301T090000Z\r\nDTEND:20240301T100000Z\r\n", ""),
        ("DTSTART:20240301T090000Z\r\n", ""),
        ("DTSTART:20240301T090000Z\r\nDURATION:PT0S\r\n", ""),
        ("DTSTART:20240301T090000Z\r\nDTEND:20240301T090000Z\r\n", ""),
        ("DTSTART;VALUE=DATE:20240301\r\n", ""),
        (
            "DTSTART;TZID=Europe/Berlin:20240301T090000\r\nDURATION:PT2H\r\n",
            "",
        ),
        ("DTSTART:20240301T090000\r\nDURATION:PT30M\r\n", ""),
        (
            "DTSTART:20240301T090000Z\r\nDURATION:PT1H\r\nRRULE:FREQ=WEEKLY;COUNT=4\r\nEXDATE:20240315T090000Z\r\n",
            moved,
        ),
        ("DTSTART:20240301T090000Z\r\nRDATE:20240302T090000Z\r\n", ""),
    ];
    for (timing, extra) in shapes {
        let obj = parse_icalendar(event(timing, extra).as_bytes()).unwrap();
        let listed = span(&obj)
            .instances
            .unwrap_or_else(|| panic!("{timing}: instances listed"));
        // Range edges a little before, at and after every instance's start and end.
        let edges: Vec<i64> = listed
            .iter()
            .flat_map(|(s, e)| [*s, *e])
            .flat_map(|t| [t - hour, t - 1000, t, t + 1000, t + hour])
            .collect();
        for &start in &edges {
            for &end in edges.iter().filter(|&&e| e > start) {
                let at = |ms: i64| chrono::DateTime::from_timestamp_millis(ms).unwrap();
                assert_eq!(
                    listed
                        .iter()
                        .any(|&(first, last)| instance_meets(first, last, start, end)),
                    overlaps(&obj, at(start), at(end)),
                    "{timing} in [{start}, {end})"
                );
            }
        }
    }
}
