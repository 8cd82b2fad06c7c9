//! Whatever fields of a contact, a to-do or a calendar entry Notes holds, writing them to Notes
//! and reading the body back gives the same fields; and whatever JSON arrives as a Notes
//! document or entry, the mapping answers with fields or an error, never a panic.

use chrono::{NaiveDate, TimeZone};
use proptest::prelude::*;
use serde_json::{Map, Value, json};
use std::collections::BTreeSet;
use tandem_protocol::Fields;
use tandem_protocol::notes::{from_notes, holds, to_notes};
use tandem_protocol::record::{RecordKind, When};

/// Texts without a tag, a trailing space or a line break (Notes bodies trim those).
fn text() -> impl Strategy<Value = String> {
    "[A-Za-z0-9][A-Za-z0-9 .,'&-]{0,20}[A-Za-z0-9.]"
}

fn maybe<T: std::fmt::Debug + Clone + 'static>(
    s: impl Strategy<Value = T> + 'static,
) -> impl Strategy<Value = Option<T>> {
    prop::option::of(s)
}

fn day() -> impl Strategy<Value = NaiveDate> {
    (2000i32..2040, 1u32..=12, 1u32..=28)
        .prop_map(|(y, m, d)| NaiveDate::from_ymd_opt(y, m, d).unwrap())
}

/// A set, sorted: an entry's categories are a map.
fn categories() -> impl Strategy<Value = Vec<String>> {
    prop::collection::btree_set("[A-Z][a-z]{1,8}", 0..4)
        .prop_map(|s: BTreeSet<String>| s.into_iter().collect())
}

fn put(fields: &mut Fields, name: &str, value: Option<Value>) {
    if let Some(v) = value {
        fields.insert(name.into(), v);
    }
}

fn address() -> impl Strategy<Value = Option<Value>> {
    maybe((
        maybe(text()),
        maybe(text()),
        maybe(text()),
        maybe(text()),
        maybe(text()),
    ))
    .prop_map(|a| {
        let (street, city, region, postal_code, country) = a?;
        let mut map = Map::new();
        for (k, v) in [
            ("street", street),
            ("city", city),
            ("region", region),
            ("postal_code", postal_code),
            ("country", country),
        ] {
            if let Some(v) = v {
                map.insert(k.into(), json!(v));
            }
        }
        (!map.is_empty()).then_some(Value::Object(map))
    })
}

fn contact() -> impl Strategy<Value = Fields> {
    (
        prop::collection::vec(maybe(text()), 14),
        maybe(day()),
        address(),
        address(),
        categories(),
    )
        .prop_map(|(texts, birthday, mailing, other, categories)| {
            let names = [
                "salutation",
                "first_name",
                "middle_name",
                "last_name",
                "suffix",
                "company",
                "title",
                "department",
                "email",
                "phone",
                "mobile_phone",
                "home_phone",
                "fax",
                "assistant_name",
            ];
            let mut f = Fields::new();
            for (name, value) in names.iter().zip(texts) {
                put(&mut f, name, value.map(Value::String));
            }
            put(&mut f, "birthday", birthday.map(|d| json!(d)));
            put(&mut f, "mailing_address", mailing);
            put(&mut f, "other_address", other);
            put(&mut f, "description", None);
            if !categories.is_empty() {
                f.insert("categories".into(), json!(categories));
            }
            f
        })
}

fn task() -> impl Strategy<Value = Fields> {
    (
        maybe(text()),
        maybe(text()),
        maybe(day()),
        maybe(day()),
        maybe(prop::sample::select(vec![
            "not_started",
            "in_progress",
            "completed",
            "cancelled",
        ])),
        maybe(prop::sample::select(vec!["high", "normal", "low"])),
        maybe(0i64..2_000_000_000),
        categories(),
        any::<bool>(),
    )
        .prop_map(
            |(
                subject,
                description,
                start,
                due,
                status,
                priority,
                completed,
                categories,
                private,
            )| {
                let mut f = Fields::new();
                put(&mut f, "subject", subject.map(Value::String));
                put(&mut f, "description", description.map(Value::String));
                put(&mut f, "start", start.map(|d| json!(d)));
                put(&mut f, "due", due.map(|d| json!(d)));
                put(&mut f, "status", status.map(|s| json!(s)));
                put(&mut f, "priority", priority.map(|p| json!(p)));
                put(
                    &mut f,
                    "completed_at",
                    completed.map(|s| json!(chrono::Utc.timestamp_opt(s, 0).unwrap())),
                );
                if !categories.is_empty() {
                    f.insert("categories".into(), json!(categories));
                }
                if private {
                    f.insert("private".into(), json!(true));
                }
                f
            },
        )
}

const ZONES: [&str; 5] = [
    "America/New_York",
    "Europe/Berlin",
    "Asia/Kolkata",
    "Australia/Sydney",
    "UTC",
];
const RULES: [&str; 5] = [
    "FREQ=DAILY;COUNT=5",
    "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,WE",
    "FREQ=MONTHLY;BYDAY=-1FR",
    "FREQ=YEARLY;BYMONTH=3;BYMONTHDAY=14",
    "FREQ=WEEKLY;BYDAY=TU;WKST=SU",
];

fn event() -> impl Strategy<Value = Fields> {
    (
        (maybe(text()), maybe(text()), maybe(text())),
        any::<bool>(),
        day(),
        (
            8u32..20,
            prop::sample::select(vec![0u32, 15, 30, 45]),
            1i64..600,
            0usize..ZONES.len(),
        ),
        maybe(0usize..RULES.len()),
        (
            maybe(0i64..20_000),
            categories(),
            any::<bool>(),
            maybe(prop::sample::select(vec!["busy", "free"])),
        ),
        prop::collection::btree_set(1i64..20, 0..3),
    )
        .prop_map(
            |(
                (subject, location, description),
                all_day,
                first,
                (hour, minute, minutes, z),
                rule,
                (reminder, categories, private, show_as),
                skips,
            )| {
                let mut f = Fields::new();
                put(&mut f, "subject", subject.map(Value::String));
                put(&mut f, "location", location.map(Value::String));
                put(&mut f, "description", description.map(Value::String));
                let zone_name = ZONES[z];
                let tz: chrono_tz::Tz = zone_name.parse().unwrap();
                let when = |days: i64, extra: i64| -> When {
                    if all_day {
                        When::Date(first + chrono::Duration::days(days + extra.max(1)))
                    } else {
                        let local = (first + chrono::Duration::days(days))
                            .and_hms_opt(hour, minute, 0)
                            .unwrap();
                        let utc = tz
                            .from_local_datetime(&local)
                            .earliest()
                            .unwrap()
                            .with_timezone(&chrono::Utc)
                            + chrono::Duration::minutes(extra);
                        When::Time {
                            utc,
                            tzid: (zone_name != "UTC").then(|| zone_name.to_string()),
                            floating: false,
                        }
                    }
                };
                let start = if all_day {
                    When::Date(first)
                } else {
                    when(0, 0)
                };
                let end = if all_day {
                    when(0, minutes / 60)
                } else {
                    when(0, minutes)
                };
                f.insert("start".into(), json!(start));
                f.insert("end".into(), json!(end));
                if let Some(r) = rule {
                    f.insert("rrule".into(), json!(RULES[r]));
                    let exdates: Vec<When> = skips
                        .into_iter()
                        .map(|k| {
                            if all_day {
                                When::Date(first + chrono::Duration::days(k))
                            } else {
                                when(k, 0)
                            }
                        })
                        .collect();
                    if !exdates.is_empty() {
                        f.insert("exdates".into(), json!(exdates));
                    }
                }
                put(&mut f, "reminder_minutes", reminder.map(|m| json!(m)));
                if !categories.is_empty() {
                    f.insert("categories".into(), json!(categories));
                }
                if private {
                    f.insert("private".into(), json!(true));
                }
                put(&mut f, "show_as", show_as.map(|s| json!(s)));
                f
            },
        )
}

fn round_trip(kind: RecordKind, fields: &Fields) -> Result<(), TestCaseError> {
    for field in fields.keys() {
        prop_assert!(
            holds(kind, field),
            "{kind} `{field}` is generated but not held"
        );
    }
    let zone = chrono_tz::Europe::Lisbon;
    let created =
        to_notes(kind, fields, None, zone).map_err(|e| TestCaseError::fail(e.to_string()))?;
    let read = from_notes(kind, &Value::Object(created.clone()), zone)
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(&read, fields, "create body {:?}", created);
    if kind != RecordKind::Event {
        // Written over the document it came from: nothing to send.
        let patch = to_notes(kind, fields, Some(&Value::Object(created)), zone)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert!(patch.is_empty(), "{:?}", patch);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn notes_holds_contact_fields_through_a_round_trip(fields in contact()) {
        round_trip(RecordKind::Contact, &fields)?;
    }

    #[test]
    fn notes_holds_task_fields_through_a_round_trip(fields in task()) {
        round_trip(RecordKind::Task, &fields)?;
    }

    #[test]
    fn notes_holds_event_fields_through_a_round_trip(fields in event()) {
        round_trip(RecordKind::Event, &fields)?;
    }

    #[test]
    fn any_notes_json_reads_as_fields_or_an_error(
        pairs in prop::collection::vec((
            prop::sample::select(vec!["title", "start", "duration", "timeZone", "showWithoutTime", "privacy",
                "freeBusyStatus", "recurrenceRules", "recurrenceOverrides", "alerts", "categories", "locations",
                "Subject", "DueDateTime", "DueState", "Importance", "Categories", "FirstName", "Birthday", "Body"]),
            prop_oneof![
                Just(json!(null)), Just(json!("2026-12-01T09:00:00")), Just(json!("PT1H")), Just(json!("1")),
                Just(json!(3)), Just(json!(true)), Just(json!(["a"])), Just(json!({"x": true})),
                Just(json!([{"frequency": "weekly", "byDay": [{"day": "xx"}]}])),
                Just(json!({"2026-12-01T09:00:00": {"excluded": true}})), Just(json!("Z=5$DO=1$DL=3 2 1 11 1 1$ZN=Eastern")),
                "[ -~]{0,12}".prop_map(Value::String),
            ],
        ), 0..8)
    ) {
        let item = Value::Object(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect());
        for kind in RecordKind::ALL {
            if let Ok(fields) = from_notes(kind, &item, chrono_tz::UTC) {
                prop_assert!(kind.check_changes(&fields).is_ok());
            }
        }
    }
}
