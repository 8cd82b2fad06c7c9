//! Event series with changed occurrences, both ways: an occurrence moved or retitled on the
//! desktop is detached in Salesforce (its row deleted, a standalone row made, keyed by the
//! org's external-id field), and that row's edits and deletion come back as the override's.

use super::rig::Rig;
use super::{CALENDAR, sf_time, utc_at};
use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};
use tandem::config::Settings;

fn ical(t: DateTime<Utc>) -> String {
    t.format("%Y%m%dT%H%M%SZ").to_string()
}

/// A weekly series of six from `start`, the fifth cancelled and `moved` occurrences changed:
/// (week, new start, title).
fn series(uid: &str, start: DateTime<Utc>, moved: &[(i32, DateTime<Utc>, &str)]) -> String {
    let mut lines = vec![
        "BEGIN:VCALENDAR".to_string(),
        "VERSION:2.0".into(),
        "PRODID:-//tandem tests//EN".into(),
        "BEGIN:VEVENT".into(),
        format!("UID:{uid}"),
        "DTSTAMP:20261101T000000Z".into(),
        format!("DTSTART:{}", ical(start)),
        format!("DTEND:{}", ical(start + Duration::hours(1))),
        "SUMMARY:Weekly call".into(),
        "RRULE:FREQ=WEEKLY;COUNT=6".into(),
        format!("EXDATE:{}", ical(start + Duration::weeks(4))),
        "END:VEVENT".into(),
    ];
    for (week, at, title) in moved {
        lines.extend([
            "BEGIN:VEVENT".to_string(),
            format!("UID:{uid}"),
            "DTSTAMP:20261101T000000Z".into(),
            format!(
                "RECURRENCE-ID:{}",
                ical(start + Duration::weeks(i64::from(*week)))
            ),
            format!("DTSTART:{}", ical(*at)),
            format!("DTEND:{}", ical(*at + Duration::hours(1))),
            format!("SUMMARY:{title}"),
            "END:VEVENT".into(),
        ]);
    }
    lines.push("END:VCALENDAR".into());
    lines.join("\r\n") + "\r\n"
}

async fn keyed_rig() -> Rig {
    let settings = Settings::parse("[salesforce]\nexternal_id_field = \"Tandem_Id__c\"\n").unwrap();
    Rig::with_settings(settings).await
}

fn start_of(row: &Value) -> DateTime<Utc> {
    DateTime::parse_from_str(
        row["StartDateTime"].as_str().unwrap(),
        "%Y-%m-%dT%H:%M:%S%.f%z",
    )
    .unwrap()
    .with_timezone(&Utc)
}

/// The series' own rows and the standalone rows, by start.
async fn rows(rig: &Rig) -> (Vec<DateTime<Utc>>, Vec<Value>) {
    let series = rig
        .soql("SELECT StartDateTime FROM Event WHERE IsRecurrence2 = true ORDER BY StartDateTime")
        .await
        .iter()
        .map(start_of)
        .collect();
    let alone = rig
        .soql("SELECT Id, Subject, StartDateTime, EndDateTime, Tandem_Id__c FROM Event WHERE IsRecurrence2 = false ORDER BY StartDateTime")
        .await;
    (series, alone)
}

/// The body's override VEVENTs (those with a RECURRENCE-ID).
fn overrides(body: &str) -> Vec<String> {
    body.split("BEGIN:VEVENT")
        .skip(1)
        .filter(|c| c.contains("RECURRENCE-ID"))
        .map(str::to_string)
        .collect()
}

#[tokio::test]
async fn a_moved_occurrence_is_detached_in_salesforce_and_its_edits_come_back() {
    let rig = keyed_rig().await;
    let start = utc_at(3, 10);
    let third = start + Duration::weeks(2);
    let moved_to = third + Duration::hours(5);
    let href = format!("{CALENDAR}weekly-moved.ics");
    let body = series("weekly-moved", start, &[(2, moved_to, "Moved call")]);
    assert!(rig.put(&href, &body).await.is_success());
    rig.sync().await;

    // The case: six weekly, the third moved from 10:00 to 15:00, the fifth cancelled.
    let (in_series, alone) = rows(&rig).await;
    let expected: Vec<_> = [0, 1, 3, 5].map(|w| start + Duration::weeks(w)).to_vec();
    assert_eq!(
        in_series, expected,
        "the moved and the cancelled occurrence left the series"
    );
    assert_eq!(alone.len(), 1, "{alone:#?}");
    assert_eq!(alone[0]["Subject"], "Moved call");
    assert_eq!(start_of(&alone[0]), moved_to);
    let key = alone[0]["Tandem_Id__c"].as_str().unwrap();
    assert!(key.ends_with(&format!("@{}", ical(third))), "{key}");
    let row = alone[0]["Id"].as_str().unwrap().to_string();
    let p = rig.preview().await.plan;
    assert!(p.is_idle(), "nothing more to do: {p:#?}");

    // Retitled in Salesforce: the desktop's override says so, the series is untouched.
    rig.sf_update("Event", &row, json!({"Subject": "Moved call (room B)"}));
    rig.sync().await;
    assert_eq!(rig.members(CALENDAR).await.len(), 1, "still one series");
    let (_, now) = rig.get(&href).await;
    let changed = overrides(&now);
    assert_eq!(changed.len(), 1, "{now}");
    assert!(changed[0].contains("SUMMARY:Moved call (room B)"), "{now}");
    assert!(
        changed[0].contains(&format!("RECURRENCE-ID:{}", ical(third))),
        "{now}"
    );
    assert!(now.contains("SUMMARY:Weekly call"), "{now}");
    assert!(rig.preview().await.plan.is_idle(), "no echo");

    // Moved again on the desktop: the same standalone row follows.
    let later = moved_to + Duration::hours(1);
    let again = series("weekly-moved", start, &[(2, later, "Moved call (room B)")]);
    assert!(rig.put(&href, &again).await.is_success());
    rig.sync().await;
    let (in_series, alone) = rows(&rig).await;
    assert_eq!(in_series, expected);
    assert_eq!(alone.len(), 1, "{alone:#?}");
    assert_eq!(alone[0]["Id"], row.as_str(), "the same row, not a new one");
    assert_eq!(start_of(&alone[0]), later);

    // Deleted in Salesforce: the occurrence is cancelled on the desktop, never resurrected.
    rig.sf_delete(&row);
    rig.sync().await;
    let (_, now) = rig.get(&href).await;
    assert!(overrides(&now).is_empty(), "{now}");
    let exdates: Vec<&str> = now.lines().filter(|l| l.starts_with("EXDATE")).collect();
    assert!(
        exdates.iter().any(|l| l.contains(&ical(third))),
        "the third is cancelled: {now}"
    );
    let p = rig.preview().await.plan;
    assert!(p.is_idle(), "nothing more to do: {p:#?}");
    let (in_series, alone) = rows(&rig).await;
    assert_eq!(in_series, expected);
    assert!(alone.is_empty(), "{alone:#?}");
    rig.verify_replay();
}

#[tokio::test]
async fn moving_the_first_occurrence_keeps_the_series_linked_to_its_next_row() {
    let rig = keyed_rig().await;
    let start = utc_at(3, 10);
    let moved_to = start + Duration::hours(2);
    let href = format!("{CALENDAR}first-moved.ics");
    assert!(
        rig.put(&href, &series("first-moved", start, &[]))
            .await
            .is_success()
    );
    rig.sync().await;
    let body = series("first-moved", start, &[(0, moved_to, "Kick-off")]);
    assert!(rig.put(&href, &body).await.is_success());
    rig.sync().await;
    let (in_series, alone) = rows(&rig).await;
    let expected: Vec<_> = [1, 2, 3, 5].map(|w| start + Duration::weeks(w)).to_vec();
    assert_eq!(in_series, expected);
    assert_eq!(alone.len(), 1, "{alone:#?}");
    assert_eq!(start_of(&alone[0]), moved_to);
    let p = rig.preview().await.plan;
    assert!(p.is_idle(), "nothing more to do: {p:#?}");

    // The series still syncs as one: a new title in Salesforce reaches the desktop.
    let next = rig
        .soql("SELECT Id FROM Event WHERE IsRecurrence2 = true ORDER BY StartDateTime LIMIT 1")
        .await;
    rig.sf_update(
        "Event",
        next[0]["Id"].as_str().unwrap(),
        json!({"Subject": "Weekly sync"}),
    );
    rig.sync().await;
    let (_, now) = rig.get(&href).await;
    assert!(now.contains("SUMMARY:Weekly sync"), "{now}");
    assert!(now.contains("SUMMARY:Kick-off"), "{now}");
    assert_eq!(rig.members(CALENDAR).await.len(), 1);
    let p = rig.preview().await.plan;
    assert!(p.is_idle(), "nothing more to do: {p:#?}");
    rig.verify_replay();
}

#[tokio::test]
async fn without_a_key_field_a_moved_occurrence_stays_on_the_desktop_and_the_summary_says_why() {
    let rig = Rig::start().await;
    let start = utc_at(3, 10);
    let body = series(
        "unkeyed",
        start,
        &[(2, start + Duration::weeks(2) + Duration::hours(5), "Moved")],
    );
    assert!(
        rig.put(&format!("{CALENDAR}unkeyed.ics"), &body)
            .await
            .is_success()
    );
    let preview = rig.preview().await;
    let notes: Vec<&String> = preview
        .plan
        .items
        .iter()
        .flat_map(|i| i.steps())
        .flat_map(|(_, s)| s.notes.iter())
        .collect();
    assert!(
        notes.iter().any(|n| n.contains("external_id_field")),
        "{notes:#?}"
    );
    rig.sync().await;
    let (in_series, alone) = rows(&rig).await;
    assert_eq!(in_series.len(), 5, "{in_series:?}");
    assert!(alone.is_empty());
    assert!(rig.preview().await.plan.is_idle());
}

#[tokio::test]
async fn an_occurrence_changed_in_salesforce_becomes_the_desktops_override_and_detaches_when_edited_there()
 {
    let rig = keyed_rig().await;
    // A weekly series that began two weeks ago: Salesforce keeps edits of its past occurrences
    // as exceptions of the series.
    let start = utc_at(-14, 10);
    let day = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
        [chrono::Datelike::weekday(&start).num_days_from_monday() as usize];
    let head = rig.sf_create(
        "Event",
        json!({"Subject": "Pipeline review", "StartDateTime": sf_time(start),
               "EndDateTime": sf_time(start + Duration::hours(1)),
               "IsRecurrence2": true,
               "Recurrence2PatternText": format!("RRULE:FREQ=WEEKLY;BYDAY={day};COUNT=4"),
               "Recurrence2PatternTimeZone": "Europe/Berlin"}),
    );
    rig.sync().await;
    let members = rig.members(CALENDAR).await;
    assert_eq!(members.len(), 1);
    let second = start + Duration::weeks(1);
    let row = rig
        .soql(&format!(
            "SELECT Id FROM Event WHERE IsRecurrence2 = true AND StartDateTime = {}",
            second.format("%Y-%m-%dT%H:%M:%SZ")
        ))
        .await;
    let row = row[0]["Id"].as_str().unwrap().to_string();
    rig.sf_update(
        "Event",
        &row,
        json!({"Subject": "Pipeline review: Q1 numbers"}),
    );
    assert_eq!(rig.sf_get(&row)["IsRecurrence2Exception"], true);

    rig.sync().await;
    let (_, body) = rig.get(&members[0]).await;
    let changed = overrides(&body);
    assert_eq!(changed.len(), 1, "{body}");
    assert!(
        changed[0].contains("SUMMARY:Pipeline review: Q1 numbers"),
        "{body}"
    );
    assert!(
        body.contains("SUMMARY:Pipeline review\r\n"),
        "the series keeps its title: {body}"
    );
    let p = rig.preview().await.plan;
    assert!(p.is_idle(), "nothing more to do: {p:#?}");
    assert_eq!(rig.sf_get(&head)["Subject"], "Pipeline review");

    // Edited on the desktop: the exception row gives way to a standalone row, once.
    let edited = body.replace(
        "SUMMARY:Pipeline review: Q1 numbers",
        "SUMMARY:Pipeline review: Q1 numbers and forecast",
    );
    assert!(rig.put(&members[0], &edited).await.is_success());
    rig.sync().await;
    let (in_series, alone) = rows(&rig).await;
    assert_eq!(in_series.len(), 3, "{in_series:?}");
    assert!(!in_series.contains(&second));
    assert_eq!(alone.len(), 1, "{alone:#?}");
    assert_eq!(
        alone[0]["Subject"],
        "Pipeline review: Q1 numbers and forecast"
    );
    assert_eq!(start_of(&alone[0]), second);
    let p = rig.preview().await.plan;
    assert!(p.is_idle(), "nothing more to do: {p:#?}");
    rig.verify_replay();
}

/// The instants a desktop series occurs at, by expanding its body the way a client would.
async fn desktop_starts(rig: &Rig) -> Vec<DateTime<Utc>> {
    let mut starts = Vec::new();
    for href in rig.members(CALENDAR).await {
        let (_, body) = rig.get(&href).await;
        let object = tandem::protocol::codec::parse_icalendar(body.as_bytes()).unwrap();
        let from = Utc::now() - Duration::days(365);
        let to = Utc::now() + Duration::days(365);
        starts.extend(
            tandem::protocol::codec::occurrences(&object, from, to, 1000)
                .into_iter()
                .map(|o| o.start),
        );
    }
    starts.sort();
    starts
}

#[tokio::test]
async fn a_series_split_in_two_on_the_desktop_is_two_series_in_salesforce() {
    let rig = keyed_rig().await;
    let start = utc_at(3, 10);
    let href = format!("{CALENDAR}split.ics");
    assert!(
        rig.put(&href, &series("split", start, &[]))
            .await
            .is_success()
    );
    rig.sync().await;
    // "This and following": the first series ends after three, a new one goes on at 14:00.
    let first = series("split", start, &[]).replace("COUNT=6", "COUNT=3");
    let tail_start = start + Duration::weeks(3) + Duration::hours(4);
    let tail = super::rig::vevent(
        "split-2",
        "Weekly call",
        tail_start,
        &["RRULE:FREQ=WEEKLY;COUNT=3"],
    );
    assert!(rig.put(&href, &first).await.is_success());
    assert!(
        rig.put(&format!("{CALENDAR}split-2.ics"), &tail)
            .await
            .is_success()
    );
    rig.sync().await;
    let (in_series, alone) = rows(&rig).await;
    let mut expected: Vec<_> = (0..3).map(|w| start + Duration::weeks(w)).collect();
    expected.extend((0..3).map(|w| tail_start + Duration::weeks(w)));
    assert_eq!(in_series, expected);
    assert!(alone.is_empty(), "{alone:#?}");
    assert_eq!(desktop_starts(&rig).await, expected);
    let p = rig.preview().await.plan;
    assert!(p.is_idle(), "nothing more to do: {p:#?}");
}

#[tokio::test]
async fn a_series_retimed_from_an_occurrence_on_in_salesforce_occurs_once_on_the_desktop() {
    let rig = keyed_rig().await;
    let start = utc_at(3, 10);
    let href = format!("{CALENDAR}retimed.ics");
    assert!(
        rig.put(&href, &series("retimed", start, &[]))
            .await
            .is_success()
    );
    rig.sync().await;
    // In Salesforce (API 58+), moving a future occurrence moves the series from there on.
    let fourth = start + Duration::weeks(3);
    let row = rig
        .soql(&format!(
            "SELECT Id FROM Event WHERE IsRecurrence2 = true AND StartDateTime = {}",
            fourth.format("%Y-%m-%dT%H:%M:%SZ")
        ))
        .await;
    let moved = fourth + Duration::hours(4);
    rig.sf_update(
        "Event",
        row[0]["Id"].as_str().unwrap(),
        json!({"StartDateTime": sf_time(moved), "EndDateTime": sf_time(moved + Duration::hours(1))}),
    );
    // Salesforce lists the rows it deleted once their minute is over.
    rig.emu.advance_clock(Duration::minutes(1));
    rig.sync().await;
    let (in_series, alone) = rows(&rig).await;
    assert!(alone.is_empty(), "{alone:#?}");
    assert_eq!(
        desktop_starts(&rig).await,
        in_series,
        "the desktop shows each meeting Salesforce has, once"
    );
    let p = rig.preview().await.plan;
    assert!(p.is_idle(), "nothing more to do: {p:#?}");
    rig.verify_replay();
}

#[tokio::test]
async fn lost_answers_while_detaching_never_make_a_second_row() {
    use tandem_salesforce_emulator::{FaultKind, FaultSettings};
    let rig = keyed_rig().await;
    let start = utc_at(3, 10);
    let href = format!("{CALENDAR}lossy.ics");
    assert!(
        rig.put(&href, &series("lossy", start, &[]))
            .await
            .is_success()
    );
    rig.sync().await;
    // Three occurrences moved at once, while answers are lost after Salesforce acted on them.
    let moved: Vec<(i32, DateTime<Utc>, &str)> = [1, 2, 3]
        .map(|w| {
            (
                w,
                start + Duration::weeks(i64::from(w)) + Duration::hours(3),
                "Moved",
            )
        })
        .to_vec();
    assert!(
        rig.put(&href, &series("lossy", start, &moved))
            .await
            .is_success()
    );
    rig.emu.faults().reseed(7);
    rig.emu.faults().set(FaultSettings {
        drop_connection_rate: 0.3,
        ..FaultSettings::default()
    });
    for _ in 0..4 {
        // Certain losses too, whatever the dice say; a run may fail steps, never duplicate.
        rig.emu.faults().enqueue(FaultKind::DropConnection, 1);
        rig.preview().await;
        rig.apply().await;
    }
    rig.emu.faults().clear();
    rig.preview().await;
    rig.apply().await;
    let (in_series, alone) = rows(&rig).await;
    assert_eq!(
        in_series,
        vec![start, start + Duration::weeks(5)],
        "{alone:#?}"
    );
    let starts: Vec<DateTime<Utc>> = alone.iter().map(start_of).collect();
    assert_eq!(
        starts,
        moved.iter().map(|m| m.1).collect::<Vec<_>>(),
        "once each"
    );
    let p = rig.preview().await.plan;
    assert!(p.is_idle(), "nothing more to do: {p:#?}");
    rig.verify_replay();
}
