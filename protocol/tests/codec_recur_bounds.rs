//! Rules that would walk without end (or for hours) give an answer that says how far they were
//! searched: none of these may hang, and none may pass a cut-short search for the whole set.

use chrono::{DateTime, TimeDelta, Utc};
use tandem_protocol::codec::{
    CalendarObject, CodecError, Expansion, busy_periods, expand, expansion, overlaps,
    parse_icalendar,
};

fn utc(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn event(dtstart: &str, rule: &str) -> String {
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:r\r\nDTSTAMP:20240101T000000Z\r\nDTSTART:{dtstart}\r\nDURATION:PT1H\r\nRRULE:{rule}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
}

/// A rule from 2024-01-31 asked about everything up to the year 9000, 100 instances at most.
fn expand_far(rule: &str) -> (CalendarObject, Expansion) {
    let obj = parse_icalendar(event("20240131T100000Z", rule).as_bytes()).unwrap();
    let all = expansion(
        &obj,
        utc("2024-01-01T00:00:00Z"),
        utc("9000-01-01T00:00:00Z"),
        100,
    );
    (obj, all)
}

/// Rules whose BY parts can never match: the set is DTSTART alone, the answer is complete, and a
/// range after DTSTART holds nothing.
#[test]
fn rules_that_never_match_are_dtstart_alone() {
    for rule in [
        "FREQ=SECONDLY;BYMONTH=2;BYMONTHDAY=30",
        "FREQ=MINUTELY;BYMONTH=2;BYMONTHDAY=-31",
        "FREQ=HOURLY;BYHOUR=19;BYMONTHDAY=31;BYMONTH=4,6,9,11",
        "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30,31",
        "FREQ=MONTHLY;BYMONTH=4;BYMONTHDAY=31",
        "FREQ=YEARLY;BYYEARDAY=366;BYMONTH=1",
        "FREQ=YEARLY;BYYEARDAY=-366;BYMONTH=12",
        "FREQ=SECONDLY;BYYEARDAY=60;BYMONTH=1",
        "FREQ=YEARLY;BYYEARDAY=32;BYMONTHDAY=2",
        // No day part: the 31st from DTSTART, in February only.
        "FREQ=MONTHLY;BYMONTH=2",
        // One candidate per minute, so a fortieth is never there.
        "FREQ=MINUTELY;BYHOUR=1;BYSETPOS=43",
        "FREQ=MONTHLY;BYDAY=MO;BYSETPOS=-40",
    ] {
        let (obj, all) = expand_far(rule);
        assert_eq!(all.searched_until, None, "{rule}");
        let starts: Vec<_> = all.occurrences.iter().map(|o| o.start).collect();
        assert_eq!(starts, [utc("2024-01-31T10:00:00Z")], "{rule}");
        assert!(
            !overlaps(
                &obj,
                utc("2025-01-01T00:00:00Z"),
                utc("9000-01-01T00:00:00Z")
            ),
            "{rule}"
        );
    }
}

/// Rules the shape test lets through but that stop producing (the 1st is never a fifth Monday;
/// week 1 is never in June) end in the walk, and the answer is still complete.
#[test]
fn rules_that_stop_producing_end_their_walk() {
    for rule in [
        "FREQ=MONTHLY;BYDAY=5MO;BYMONTHDAY=1",
        "FREQ=YEARLY;BYWEEKNO=1;BYMONTH=6",
        "FREQ=MONTHLY;BYDAY=MO;BYSETPOS=6",
    ] {
        let (_, all) = expand_far(rule);
        assert_eq!(all.searched_until, None, "{rule}");
        assert_eq!(all.occurrences.len(), 1, "{rule}");
    }
}

/// A rule that matches rarely is not mistaken for one that never does.
#[test]
fn leap_days_are_found() {
    let obj = parse_icalendar(
        event("20240229T100000Z", "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29").as_bytes(),
    )
    .unwrap();
    let all = expansion(
        &obj,
        utc("2024-01-01T00:00:00Z"),
        utc("2033-01-01T00:00:00Z"),
        100,
    );
    assert_eq!(all.searched_until, None);
    let years: Vec<_> = all
        .occurrences
        .iter()
        .map(|o| o.start.format("%Y-%m-%d").to_string())
        .collect();
    assert_eq!(
        years,
        ["2024-02-29", "2028-02-29", "2032-02-29"],
        "{years:?}"
    );
}

/// A SECONDLY rule is searched 90,000 periods (25 hours) from DTSTART; asked about a later year
/// it says so, instead of answering "nothing".
#[test]
fn a_secondly_rule_is_searched_a_bounded_span() {
    let body = event("20240131T100000Z", "FREQ=SECONDLY");
    let obj = parse_icalendar(body.as_bytes()).unwrap();
    let (from, to) = (utc("2030-01-01T00:00:00Z"), utc("2030-01-02T00:00:00Z"));
    let horizon = utc("2024-01-31T10:00:00Z") + TimeDelta::seconds(90_000);

    let all = expansion(&obj, from, to, 20);
    assert_eq!(all.searched_until, Some(horizon));
    assert!(all.occurrences.is_empty());
    // Undecided counts as overlapping, so a time-range query still shows the event.
    assert!(overlaps(&obj, from, to));
    assert!(busy_periods(&obj, from, to).is_empty());
    assert_eq!(
        expand(body.as_bytes(), from, to),
        Err(CodecError::RecurrenceCutShort {
            searched_until: horizon
        })
    );

    // Within the searched span the answer is the real one.
    let near = expansion(
        &obj,
        utc("2024-01-31T10:00:00Z"),
        utc("2024-01-31T10:00:05Z"),
        20,
    );
    assert_eq!(near.searched_until, None);
    assert_eq!(near.occurrences.len(), 5);
}

/// A DAILY rule from year 1 asked about year 9000 is searched about 246 years.
#[test]
fn a_daily_rule_from_year_one_is_cut_at_its_horizon() {
    let obj = parse_icalendar(event("00010101T000000Z", "FREQ=DAILY").as_bytes()).unwrap();
    let all = expansion(
        &obj,
        utc("9000-01-01T00:00:00Z"),
        utc("9000-02-01T00:00:00Z"),
        20,
    );
    assert_eq!(
        all.searched_until,
        Some(utc("0001-01-01T00:00:00Z") + TimeDelta::days(90_000))
    );
    assert!(all.occurrences.is_empty());
}

/// Shapes whose every period (or every skipped day) is expensive are not walked at all.
#[test]
fn costly_shapes_are_refused_and_say_so() {
    for rule in [
        // Skipping a day costs up to 86,400 one-second steps to find 23:00 again.
        "FREQ=SECONDLY;BYHOUR=23;BYDAY=MO;BYMONTH=6",
        "FREQ=MINUTELY;BYHOUR=5;BYMONTHDAY=13",
        // 366 days × 24 hours × 60 minutes of candidates in each year.
        "FREQ=YEARLY;BYDAY=MO,TU,WE,TH,FR,SA,SU;BYHOUR=0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23;BYMINUTE=0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49,50,51,52,53,54,55,56,57,58,59",
    ] {
        let obj = parse_icalendar(event("20240131T100000Z", rule).as_bytes()).unwrap();
        let all = expansion(
            &obj,
            utc("2024-01-01T00:00:00Z"),
            utc("2025-01-01T00:00:00Z"),
            20,
        );
        assert_eq!(
            all.searched_until,
            Some(utc("2024-01-31T10:00:00Z")),
            "{rule}"
        );
        // DTSTART is always an instance, searched or not.
        assert_eq!(all.occurrences.len(), 1, "{rule}");
    }
}

/// The shape of rule the fuzz test once spent 16 minutes on: dense, from year 1, asked about a
/// year far off.
#[test]
fn a_dense_rule_far_from_its_start_is_cut_short() {
    let obj =
        parse_icalendar(event("00010101T000000Z", "FREQ=HOURLY;BYDAY=WE;BYMONTH=6").as_bytes())
            .unwrap();
    let all = expansion(
        &obj,
        utc("3529-01-01T00:00:00Z"),
        utc("3539-01-01T00:00:00Z"),
        20,
    );
    assert!(all.occurrences.is_empty());
    assert!(
        all.searched_until
            .is_some_and(|t| t < utc("3529-01-01T00:00:00Z"))
    );
}
