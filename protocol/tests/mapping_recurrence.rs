//! Series patterns: Salesforce's normalisation, its subset, and comparing rules by meaning.

use tandem_protocol::mapping::{MappingError, normalize_rrule, same_recurrence};

#[test]
fn equivalent_spellings_are_the_same_recurrence() {
    let same = [
        (
            "FREQ=WEEKLY;BYDAY=MO;COUNT=13",
            "RRULE:FREQ=WEEKLY;BYDAY=MO;WKST=SU;INTERVAL=1;COUNT=13",
        ),
        ("freq=daily;interval=1", "RRULE:FREQ=DAILY"),
        (
            "FREQ=WEEKLY;BYDAY=TU,MO,FR",
            "FREQ=WEEKLY;BYDAY=MO,TU,FR;WKST=MO",
        ),
        (
            "FREQ=MONTHLY;BYDAY=FR;BYSETPOS=-1;COUNT=6",
            "RRULE:FREQ=MONTHLY;BYDAY=-1FR;INTERVAL=1;COUNT=6",
        ),
        ("FREQ=MONTHLY;BYDAY=+1MO", "FREQ=MONTHLY;BYDAY=1MO"),
        (
            "FREQ=DAILY;UNTIL=20240601T120000Z",
            " RRULE:UNTIL=20240601T120000Z;FREQ=DAILY ",
        ),
        // Weeks are not skipped: the week start can't move an occurrence.
        (
            "FREQ=WEEKLY;BYDAY=MO,SU;INTERVAL=1;WKST=MO",
            "FREQ=WEEKLY;BYDAY=MO,SU;WKST=SU",
        ),
        // The RFC default week start is Monday.
        (
            "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,SU",
            "FREQ=WEEKLY;INTERVAL=2;BYDAY=SU,MO;WKST=MO",
        ),
    ];
    for (a, b) in same {
        assert!(same_recurrence(a, b), "{a} == {b}");
        assert!(same_recurrence(b, a), "{b} == {a}");
    }
}

#[test]
fn different_meanings_are_not_the_same_recurrence() {
    let different = [
        (
            "FREQ=WEEKLY;BYDAY=MO;COUNT=13",
            "FREQ=WEEKLY;BYDAY=MO;COUNT=12",
        ),
        ("FREQ=WEEKLY;BYDAY=MO", "FREQ=WEEKLY;BYDAY=MO;INTERVAL=2"),
        ("FREQ=WEEKLY;BYDAY=MO", "FREQ=WEEKLY;BYDAY=MO,TU"),
        ("FREQ=WEEKLY;BYDAY=MO", "FREQ=DAILY"),
        ("FREQ=MONTHLY;BYDAY=1FR", "FREQ=MONTHLY;BYDAY=-1FR"),
        ("FREQ=DAILY;COUNT=5", "FREQ=DAILY"),
        (
            "FREQ=DAILY;UNTIL=20240601T120000Z",
            "FREQ=DAILY;UNTIL=20240601T130000Z",
        ),
        // Salesforce's WKST=SU changes a biweekly rule with Sunday and Monday.
        (
            "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,SU",
            "RRULE:FREQ=WEEKLY;BYDAY=MO,SU;WKST=SU;INTERVAL=2",
        ),
        ("FREQ=MONTHLY;BYMONTHDAY=15", "FREQ=MONTHLY;BYMONTHDAY=16"),
        // Unreadable rules never match, not even themselves.
        ("FREQ=WEEKLY;BYDAY=XX", "FREQ=WEEKLY;BYDAY=XX"),
        ("", ""),
    ];
    for (a, b) in different {
        assert!(!same_recurrence(a, b), "{a} != {b}");
    }
}

#[test]
fn normalisation_orders_parts_and_fills_defaults_like_salesforce() {
    let cases = [
        (
            "FREQ=WEEKLY;COUNT=13;BYDAY=MO",
            "RRULE:FREQ=WEEKLY;BYDAY=MO;WKST=SU;INTERVAL=1;COUNT=13",
        ),
        (
            "RRULE:FREQ=WEEKLY;BYDAY=MO;WKST=SU;INTERVAL=1;COUNT=13",
            "RRULE:FREQ=WEEKLY;BYDAY=MO;WKST=SU;INTERVAL=1;COUNT=13",
        ),
        ("FREQ=DAILY;INTERVAL=3", "RRULE:FREQ=DAILY;INTERVAL=3"),
        (
            "COUNT=10;BYMONTHDAY=1;FREQ=MONTHLY;INTERVAL=2",
            "RRULE:FREQ=MONTHLY;BYMONTHDAY=1;INTERVAL=2;COUNT=10",
        ),
        (
            "FREQ=YEARLY;BYMONTHDAY=6;BYMONTH=5",
            "RRULE:FREQ=YEARLY;BYMONTH=5;BYMONTHDAY=6;INTERVAL=1",
        ),
        (
            "FREQ=YEARLY;BYMONTH=11;BYDAY=TH;BYSETPOS=4",
            "RRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=TH;BYSETPOS=4;INTERVAL=1",
        ),
        (
            "FREQ=WEEKLY;UNTIL=20241231T230000Z;WKST=MO;BYDAY=MO,WE,FR",
            "RRULE:FREQ=WEEKLY;BYDAY=MO,WE,FR;WKST=MO;INTERVAL=1;UNTIL=20241231T230000Z",
        ),
    ];
    for (input, expected) in cases {
        let got = normalize_rrule(input).unwrap_or_else(|e| panic!("{input}: {e}"));
        assert_eq!(got, expected, "{input}");
        // Normalising is idempotent and keeps the meaning.
        assert_eq!(normalize_rrule(&got).unwrap(), got);
        assert!(same_recurrence(input, &got), "{input} ~ {got}");
    }
}

#[test]
fn unsupported_rules_are_rejected_with_the_reason() {
    let cases = [
        ("FREQ=WEEKLY;BYDAY=MO\nEXDATE:20240513T090000Z", "EXDATE"),
        ("RRULE:FREQ=DAILY;RRULE:FREQ=WEEKLY", "only one RRULE"),
        (
            "FREQ=WEEKLY;BYDAY=MO;BYWEEKNO=20",
            "BYWEEKNO is only allowed in yearly",
        ),
        (
            "FREQ=YEARLY;BYMONTH=1;BYYEARDAY=100",
            "BYYEARDAY isn't supported",
        ),
        ("FREQ=HOURLY", "FREQ=HOURLY isn't supported"),
        ("FREQ=DAILY;BYHOUR=9,17", "BYHOUR"),
        ("FREQ=WEEKLY;BYDAY=MO;INTERVAL=100", "between 1 and 99"),
        ("FREQ=DAILY;INTERVAL=1000", "between 1 and 999"),
        (
            "FREQ=YEARLY;BYMONTH=5;BYMONTHDAY=6;INTERVAL=2",
            "between 1 and 1",
        ),
        ("FREQ=DAILY;INTERVAL=0", "between 1 and 999"),
        ("FREQ=DAILY;COUNT=1000", "COUNT must be between 1 and 999"),
        ("FREQ=DAILY;COUNT=5;UNTIL=20240601T000000Z", "can't both"),
        ("FREQ=DAILY;UNTIL=20240601", "UNTIL must be a UTC time"),
        ("FREQ=WEEKLY", "requires BYDAY"),
        ("FREQ=WEEKLY;BYDAY=1MO", "without numeric prefixes"),
        ("FREQ=MONTHLY;BYDAY=5FR", "-1, 1, 2, 3 or 4"),
        ("FREQ=MONTHLY;BYDAY=1MO,2TU", "must all be the same"),
        ("FREQ=MONTHLY;BYMONTHDAY=1;BYDAY=MO", "exactly one of"),
        (
            "FREQ=MONTHLY;BYMONTH=3;BYMONTHDAY=1",
            "doesn't take BYMONTH",
        ),
        ("FREQ=YEARLY;BYMONTHDAY=1", "requires BYMONTH"),
        ("FREQ=DAILY;BYDAY=MO", "FREQ=DAILY doesn't take"),
        ("FREQ=DAILY;FREQ=WEEKLY", "more than once"),
        ("INTERVAL=2", "FREQ is required"),
        ("FREQ", "NAME=VALUE"),
        ("", "empty"),
    ];
    for (rule, reason) in cases {
        match normalize_rrule(rule) {
            Err(e @ MappingError::UnsupportedRecurrence { .. }) => {
                let text = e.to_string();
                assert!(
                    text.contains(reason),
                    "{rule}: `{text}` should say {reason}"
                );
            }
            other => panic!("{rule}: expected a rejection, got {other:?}"),
        }
    }
}
