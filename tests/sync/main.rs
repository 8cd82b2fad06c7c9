//! End to end: a desktop client over CalDAV/CardDAV, the Salesforce emulator over its REST API,
//! and sync runs between them — what a person relies on when they review and apply a run.

#[path = "../common/mod.rs"]
mod common;
mod rig;
mod series;
mod tasks;

use chrono::{Duration, Utc};
use rig::{Rig, vcard, vevent};
use serde_json::{Value, json};
use tandem::config::Settings;
use tandem::engine::sync::Selection;
use tandem::protocol::plan::Skip;
use tandem::protocol::{Op, Side};

const CONTACTS: &str = "/dav/addressbooks/contacts/";
const CALENDAR: &str = "/dav/calendars/calendar/";
const TASKS: &str = "/dav/calendars/tasks/";

fn sf_time(t: chrono::DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S.000+0000").to_string()
}

/// `hour` o'clock UTC, `days` from today.
fn utc_at(days: i64, hour: u32) -> chrono::DateTime<Utc> {
    (Utc::now() + Duration::days(days))
        .date_naive()
        .and_hms_opt(hour, 0, 0)
        .unwrap()
        .and_utc()
}

/// Nine o'clock in Berlin (the emulator's user lives there), `days` from today, in UTC.
fn berlin_nine(days: i64) -> chrono::DateTime<Utc> {
    let berlin = chrono_tz::Europe::Berlin;
    (Utc::now() + Duration::days(days))
        .with_timezone(&berlin)
        .date_naive()
        .and_hms_opt(9, 0, 0)
        .unwrap()
        .and_local_timezone(berlin)
        .unwrap()
        .with_timezone(&Utc)
}

/// The DTSTART line of a body.
fn dtstart(text: &str) -> Option<String> {
    text.lines()
        .find(|l| l.starts_with("DTSTART"))
        .map(str::to_string)
}

/// An hour-long meeting made in the org at `start`; its id.
fn hour_meeting(rig: &Rig, subject: &str, start: chrono::DateTime<Utc>) -> String {
    rig.sf_create(
        "Event",
        json!({"Subject": subject, "StartDateTime": sf_time(start),
               "EndDateTime": sf_time(start + Duration::hours(1))}),
    )
}

/// A daily series of half-hour meetings made in the org, `count` of them from `start`; the id
/// of its first row.
fn daily_series(rig: &Rig, subject: &str, start: chrono::DateTime<Utc>, count: u32) -> String {
    rig.sf_create(
        "Event",
        json!({"Subject": subject, "StartDateTime": sf_time(start),
               "EndDateTime": sf_time(start + Duration::minutes(30)),
               "IsRecurrence2": true,
               "Recurrence2PatternText": format!("RRULE:FREQ=DAILY;INTERVAL=1;COUNT={count}"),
               "Recurrence2PatternTimeZone": "Europe/Berlin"}),
    )
}

#[tokio::test]
async fn a_contact_created_in_the_client_appears_in_salesforce_linked_to_its_account() {
    let rig = Rig::start().await;
    rig.sf_create("Account", json!({"Name": "Acme Corporation"}));
    let acme = rig.sf_create("Account", json!({"Name": "Acme"}));
    rig.sf_create("Account", json!({"Name": "ACME"}));
    let card = vcard(
        "ana-1",
        "Ana",
        "Ng",
        &["ORG:Acme", "EMAIL;TYPE=work:ana@acme.test", "X-CUSTOM:kept"],
    );
    assert!(
        rig.put(&format!("{CONTACTS}ana.vcf"), &card)
            .await
            .is_success()
    );

    let preview = rig.preview().await;
    let item = &preview.plan.items[0];
    assert_eq!(preview.plan.items.len(), 1);
    assert_eq!(item.step(Side::SALESFORCE).unwrap().op, Op::Create);
    assert!(
        item.step(Side::DESKTOP).is_none(),
        "the client's own change is not sent back"
    );
    rig.apply().await;

    let rows = rig
        .soql("SELECT Id, AccountId, Email, FirstName FROM Contact WHERE LastName = 'Ng'")
        .await;
    assert_eq!(rows.len(), 1, "exactly one contact: {rows:?}");
    assert_eq!(
        rows[0]["AccountId"],
        json!(acme),
        "exact name, earliest created"
    );
    assert_eq!(rows[0]["Email"], json!("ana@acme.test"));
    let (_, body) = rig.get(&format!("{CONTACTS}ana.vcf")).await;
    assert!(body.contains("X-CUSTOM:kept"), "{body}");
    assert!(rig.preview().await.plan.is_idle(), "nothing echoes back");
}

#[tokio::test]
async fn a_windows_1252_card_reaches_salesforce_by_its_names_and_keeps_its_bytes() {
    let rig = Rig::start().await;
    let card: &[u8] = b"BEGIN:VCARD\r\nVERSION:2.1\r\nUID:legacy-2\r\nN;CHARSET=Windows-1252:M\xFCller;J\xFCrgen\r\nFN;CHARSET=Windows-1252:J\xFCrgen M\xFCller\r\nTITLE;CHARSET=Windows-1252:Gesch\xE4ftsf\xFChrer\r\nEND:VCARD\r\n";
    let href = format!("{}{CONTACTS}juergen.vcf", rig.base);
    let put = rig
        .http
        .put(&href)
        .basic_auth(rig::USER, Some(rig::PASSWORD))
        .header("Content-Type", "text/x-vcard")
        .body(card)
        .send()
        .await
        .unwrap();
    assert!(put.status().is_success(), "{}", put.text().await.unwrap());
    rig.sync().await;
    let rows = rig
        .soql("SELECT Id, FirstName, LastName, Title FROM Contact WHERE LastName = 'Müller'")
        .await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["FirstName"], json!("Jürgen"));
    assert_eq!(rows[0]["Title"], json!("Geschäftsführer"));
    assert!(rig.preview().await.plan.is_idle(), "nothing echoes back");
    let get = |rig: &Rig| {
        rig.http
            .get(&href)
            .basic_auth(rig::USER, Some(rig::PASSWORD))
            .send()
    };
    assert_eq!(get(&rig).await.unwrap().bytes().await.unwrap(), card);

    // A change in Salesforce rewrites its own line only; the others keep their bytes.
    let id = rows[0]["Id"].as_str().unwrap();
    rig.sf_update("Contact", id, json!({"Title": "Inhaber"}));
    rig.sync().await;
    let now = get(&rig).await.unwrap().bytes().await.unwrap();
    let text = String::from_utf8_lossy(&now);
    assert!(
        text.contains("Inhaber") && !text.contains("Gesch"),
        "{text}"
    );
    assert!(
        now.windows(b"N;CHARSET=Windows-1252:M\xFCller;J\xFCrgen".len())
            .any(|w| w == b"N;CHARSET=Windows-1252:M\xFCller;J\xFCrgen"),
        "{text}"
    );
    assert!(rig.preview().await.plan.is_idle());
    rig.verify_replay();
}

#[tokio::test]
async fn contacts_of_one_company_cost_one_account_lookup_per_run() {
    let rig = Rig::start().await;
    let acme = rig.sf_create("Account", json!({"Name": "Acme"}));
    for i in 0..5 {
        let card = vcard(
            &format!("acme-{i}"),
            "Ana",
            &format!("Ng{i}"),
            &["ORG:Acme"],
        );
        assert!(
            rig.put(&format!("{CONTACTS}acme-{i}.vcf"), &card)
                .await
                .is_success()
        );
    }
    rig.preview().await;
    let report = rig.apply().await;
    // The user's time zone, the task statuses, one Account lookup, one collection of creates.
    assert_eq!(report.record.unwrap().calls(Side::SALESFORCE), 4);
    let rows = rig.soql("SELECT AccountId FROM Contact").await;
    assert_eq!(rows.len(), 5);
    assert!(
        rows.iter().all(|r| r["AccountId"] == json!(acme)),
        "{rows:?}"
    );
}

#[tokio::test]
async fn an_event_edited_in_salesforce_appears_in_the_client() {
    let rig = Rig::start().await;
    let start = Utc::now() + Duration::days(2);
    let id = hour_meeting(&rig, "Pipeline review", start);
    rig.sync().await;
    let members = rig.members(CALENDAR).await;
    assert_eq!(members.len(), 1, "{members:?}");
    let (_, body) = rig.get(&members[0]).await;
    assert!(body.contains("SUMMARY:Pipeline review"), "{body}");

    rig.sf_update(
        "Event",
        &id,
        json!({"Subject": "Pipeline review (moved)", "Location": "Room 4"}),
    );
    let report = rig.sync().await;
    let steps: Vec<_> = report.record.unwrap().results;
    assert_eq!(steps.len(), 1, "{steps:#?}");
    assert_eq!((steps[0].side, steps[0].op), (Side::DESKTOP, Op::Update));
    let (_, body) = rig.get(&members[0]).await;
    assert!(body.contains("SUMMARY:Pipeline review (moved)"), "{body}");
    assert!(body.contains("LOCATION:Room 4"), "{body}");
    assert!(rig.preview().await.plan.is_idle());
    assert_eq!(rig.soql("SELECT Id FROM Event").await.len(), 1);
}

#[tokio::test]
async fn a_task_completed_in_the_client_closes_in_salesforce() {
    let rig = Rig::start().await;
    let due = (Utc::now() + Duration::days(3)).date_naive();
    let id = rig.sf_create(
        "Task",
        json!({"Subject": "Call Ana back", "ActivityDate": due.to_string(), "Status": "Not Started"}),
    );
    rig.sync().await;
    let members = rig.members(TASKS).await;
    assert_eq!(members.len(), 1, "{members:?}");
    let (_, body) = rig.get(&members[0]).await;
    let done: String = body
        .lines()
        .filter(|l| !l.starts_with("STATUS:"))
        .flat_map(|l| {
            if l == "BEGIN:VTODO" {
                vec![
                    l.to_string(),
                    "STATUS:COMPLETED".into(),
                    "COMPLETED:20261121T090000Z".into(),
                ]
            } else {
                vec![l.to_string()]
            }
        })
        .collect::<Vec<_>>()
        .join("\r\n")
        + "\r\n";
    assert!(rig.put(&members[0], &done).await.is_success());
    rig.sync().await;
    let task = rig.sf_get(&id);
    assert_eq!(task["Status"], json!("Completed"), "{task}");
    assert_eq!(task["IsClosed"], json!(true));
}

#[tokio::test]
async fn a_contact_deleted_in_the_client_comes_back_when_salesforce_deletes_are_prevented() {
    let rig = Rig::start().await;
    let id = rig.sf_create(
        "Contact",
        json!({"FirstName": "Bo", "LastName": "Lind", "Email": "bo@lind.test"}),
    );
    rig.sync().await;
    let members = rig.members(CONTACTS).await;
    assert_eq!(members.len(), 1);
    assert!(rig.delete(&members[0]).await.is_success());

    let preview = rig.preview().await;
    let item = &preview.plan.items[0];
    let sf = item.step(Side::SALESFORCE).unwrap();
    assert_eq!((sf.op, sf.skipped), (Op::Delete, Some(Skip::Prevented)));
    assert!(item.step(Side::DESKTOP).unwrap().restore);
    rig.apply().await;

    assert_eq!(rig.sf_get(&id)["IsDeleted"], json!(false));
    let members = rig.members(CONTACTS).await;
    assert_eq!(members.len(), 1, "the contact is back: {members:?}");
    let (_, body) = rig.get(&members[0]).await;
    assert!(body.contains("bo@lind.test"), "{body}");
    assert!(rig.preview().await.plan.is_idle());
    rig.verify_replay();
}

#[tokio::test]
async fn an_undeleted_event_stays_when_later_pulls_read_the_old_copys_deletion_again() {
    let rig = Rig::start().await;
    let start = Utc::now() + Duration::days(2);
    let first = hour_meeting(&rig, "Site visit", start);
    rig.sync().await;
    let members = rig.members(CALENDAR).await;
    let before = tandem::store::read::log_len(&rig.store.read().unwrap()).unwrap();
    assert!(rig.delete(&members[0]).await.is_success());
    rig.sync().await;
    assert_eq!(rig.sf_get(&first)["IsDeleted"], json!(true));

    // Undelete in tandem: Salesforce gets a new copy, and the desktop keeps its own.
    let app = tandem::app::App {
        dir: rig.dir.path().to_path_buf(),
        store: rig.store.clone(),
        writer: Some(rig.writer.clone()),
        settings: rig.settings.clone(),
        wall: tandem::store::system_clock(),
        serving: tandem::app::Serving::Local,
    };
    app.restore(&members[0], &tandem::app::Point::Seq(before))
        .await
        .unwrap();
    rig.sync().await;
    // The next pulls read the first copy's deletion again (their overlap reaches back over it,
    // and Salesforce lists deletions by the minute, once the minute is over): old news about a
    // copy the record no longer has.
    rig.emu.advance_clock(Duration::minutes(1));
    for _ in 0..2 {
        let preview = rig.preview().await;
        assert!(preview.plan.is_idle(), "{:#?}", preview.plan.items);
        let events = &preview.pulled[&Side::SALESFORCE][&tandem::protocol::RecordKind::Event];
        assert_eq!((events.created, events.deleted), (0, 0), "{events:?}");
    }
    assert_eq!(
        rig.members(CALENDAR).await,
        members,
        "the event stays on the desktop"
    );
    let live = rig
        .soql("SELECT Id FROM Event WHERE Subject = 'Site visit'")
        .await;
    assert_eq!(live.len(), 1, "one copy in Salesforce: {live:?}");
    rig.verify_replay();
}

#[tokio::test]
async fn a_private_event_never_leaves_the_desktop() {
    let rig = Rig::start().await;
    let start = Utc::now() + Duration::days(1);
    let secret = vevent("secret-1", "Doctor", start, &["CLASS:PRIVATE"]);
    let open = vevent("open-1", "Team lunch", start, &[]);
    assert!(
        rig.put(&format!("{CALENDAR}secret.ics"), &secret)
            .await
            .is_success()
    );
    assert!(
        rig.put(&format!("{CALENDAR}open.ics"), &open)
            .await
            .is_success()
    );
    let report = rig.preview().await;
    rig.sync().await;
    let skipped: Vec<_> = report
        .plan
        .items
        .iter()
        .filter_map(|i| i.step(Side::SALESFORCE)?.skipped)
        .collect();
    assert_eq!(skipped, vec![Skip::Private], "{:#?}", report.plan);
    let subjects: Vec<Value> = rig
        .soql("SELECT Subject FROM Event")
        .await
        .into_iter()
        .map(|r| r["Subject"].clone())
        .collect();
    assert_eq!(subjects, vec![json!("Team lunch")]);
}

#[tokio::test]
async fn items_outside_the_window_are_not_touched() {
    let rig = Rig::start().await;
    let old = vevent(
        "old-1",
        "Last quarter",
        Utc::now() - Duration::days(60),
        &[],
    );
    assert!(
        rig.put(&format!("{CALENDAR}old.ics"), &old)
            .await
            .is_success()
    );
    let far = Utc::now() + Duration::days(400);
    rig.sf_create(
        "Event",
        json!({"Subject": "Next year's kickoff", "StartDateTime": sf_time(far),
               "EndDateTime": sf_time(far + Duration::hours(1))}),
    );
    let report = rig.preview().await;
    let steps: Vec<_> = report.plan.items.iter().flat_map(|i| i.steps()).collect();
    assert_eq!(steps.len(), 2, "{:#?}", report.plan);
    assert!(
        steps.iter().all(|(_, s)| s.skipped == Some(Skip::Window)),
        "{:#?}",
        report.plan
    );
    rig.sync().await;
    assert!(
        rig.soql("SELECT Id FROM Event WHERE Subject = 'Last quarter'")
            .await
            .is_empty()
    );
    assert!(
        rig.members(CALENDAR)
            .await
            .iter()
            .all(|h| h.ends_with("old.ics"))
    );
}

#[tokio::test]
async fn ignore_once_lasts_until_a_change_and_ignore_forever_lasts() {
    let rig = Rig::start().await;
    for (name, last) in [("once", "Once"), ("always", "Always")] {
        let card = vcard(name, "Ida", last, &["EMAIL:ida@x.test"]);
        assert!(
            rig.put(&format!("{CONTACTS}{name}.vcf"), &card)
                .await
                .is_success()
        );
    }
    let engine = rig.engine();
    let ignore = |name: &str, forever: bool| {
        let store = rig.store.clone();
        let writer = rig.writer.clone();
        let name = name.to_string();
        async move {
            let txn = store.read().unwrap();
            let record = tandem::store::read::find_record(&txn, &name)
                .unwrap()
                .unwrap();
            let state = tandem::store::read::record(&txn, &record).unwrap().unwrap();
            drop(txn);
            let decision = if forever {
                tandem::protocol::Decision::IgnoreForever { record, side: None }
            } else {
                tandem::protocol::Decision::IgnoreOnce {
                    record,
                    heads: state.heads,
                    side: None,
                }
            };
            writer
                .append(tandem::store::Draft {
                    origin: tandem::protocol::Origin::new(tandem::protocol::Side::TANDEM, "test"),
                    body: tandem::store::DraftBody::Decision(decision),
                })
                .await
                .unwrap();
        }
    };
    ignore("once", false).await;
    ignore("always", true).await;
    rig.sync().await;
    assert!(rig.soql("SELECT Id FROM Contact").await.is_empty());
    assert!(!engine.plan().unwrap().items.iter().any(|i| i.runs()));

    for (name, last) in [("once", "Once"), ("always", "Always")] {
        let card = vcard(name, "Ida", last, &["EMAIL:ida@x.test", "TITLE:CFO"]);
        assert!(
            rig.put(&format!("{CONTACTS}{name}.vcf"), &card)
                .await
                .is_success()
        );
    }
    rig.sync().await;
    let names = rig.last_names().await;
    assert_eq!(
        names,
        vec![json!("Once")],
        "a change lifts ignore-once only"
    );
}

#[tokio::test]
async fn apply_does_exactly_what_the_preview_listed() {
    let rig = Rig::start().await;
    let start = Utc::now() + Duration::days(5);
    assert!(
        rig.put(&format!("{CONTACTS}a.vcf"), &vcard("a", "Al", "Amsel", &[]))
            .await
            .is_success()
    );
    hour_meeting(&rig, "Demo", start);
    let preview = rig.preview().await;
    let listed: Vec<(String, String, Op)> = preview
        .plan
        .items
        .iter()
        .flat_map(|i| {
            i.steps()
                .filter(|(_, s)| s.runs())
                .map(|(side, s)| (i.record.to_string(), side.to_string(), s.op))
        })
        .collect();
    assert_eq!(listed.len(), 2);
    // A change after the preview is not part of what was reviewed.
    assert!(
        rig.put(
            &format!("{CONTACTS}b.vcf"),
            &vcard("b", "Bea", "Brandt", &[])
        )
        .await
        .is_success()
    );
    let report = rig.apply().await;
    let done: Vec<(String, String, Op)> = report
        .record
        .as_ref()
        .unwrap()
        .results
        .iter()
        .map(|r| (r.record.to_string(), r.side.to_string(), r.op))
        .collect();
    let mut expected = listed.clone();
    expected.sort();
    let mut got = done.clone();
    got.sort();
    assert_eq!(got, expected);
    assert_eq!(report.held_back, 1);
    assert!(
        rig.soql("SELECT Id FROM Contact WHERE LastName = 'Brandt'")
            .await
            .is_empty()
    );
    // Selecting items applies only those.
    let preview = rig.preview().await;
    assert_eq!(preview.plan.items.iter().filter(|i| i.runs()).count(), 1);
    let report = rig
        .engine()
        .apply(
            &Selection {
                records: vec!["b".into()],
                ..Selection::default()
            },
            &|_, _| {},
        )
        .await
        .unwrap();
    assert_eq!(report.record.unwrap().results.len(), 1);
    assert_eq!(
        rig.soql("SELECT Id FROM Contact WHERE LastName = 'Brandt'")
            .await
            .len(),
        1
    );
}

/// A run plans and carries out a window of items at a time. With windows of two, seven
/// contacts from each side and an event cross eight: every reviewed step is carried out once
/// (none is skipped or repeated at a window's edge), a change after the preview is held back
/// whichever window it falls in, the progress climbs to the run's total, and the record tallies
/// the whole run.
#[tokio::test]
async fn a_run_in_windows_of_two_carries_out_every_reviewed_step_once() {
    let rig = Rig::start().await;
    for i in 0..7 {
        let card = vcard(&format!("w{i}"), "Wim", &format!("Desk{i}"), &[]);
        assert!(
            rig.put(&format!("{CONTACTS}w{i}.vcf"), &card)
                .await
                .is_success()
        );
        rig.sf_create(
            "Contact",
            json!({"FirstName": "Sal", "LastName": format!("Force{i}")}),
        );
    }
    hour_meeting(&rig, "Window review", utc_at(3, 10));
    let preview = rig.preview().await;
    let planned: usize = preview
        .plan
        .items
        .iter()
        .map(|i| i.steps().filter(|(_, s)| s.runs()).count())
        .sum();
    assert_eq!(planned, 15, "{:#?}", preview.plan);
    // Changed after the preview, in the middle of the plan: held back.
    let card = vcard("w3", "Wilma", "Desk3", &[]);
    assert!(
        rig.put(&format!("{CONTACTS}w3.vcf"), &card)
            .await
            .is_success()
    );
    let mut engine = rig.engine();
    engine.window = 2;
    let seen = std::sync::Mutex::new(Vec::new());
    let report = engine
        .apply(&Selection::default(), &|done, total| {
            seen.lock().unwrap().push((done, total))
        })
        .await
        .unwrap();
    assert_eq!(report.held_back, 1);
    let record = report.record.unwrap();
    assert!(record.failures().next().is_none(), "{:#?}", record.results);
    assert_eq!(record.results.len(), planned - 1, "{:#?}", record.results);
    let mut once: Vec<_> = record.results.iter().map(|r| (&r.record, r.side)).collect();
    once.sort();
    once.dedup();
    assert_eq!(once.len(), record.results.len(), "a step carried out twice");
    assert_eq!(record.tally.side(Side::SALESFORCE).create, 6);
    assert_eq!(record.tally.side(Side::DESKTOP).create, 8);
    let seen = seen.into_inner().unwrap();
    assert_eq!(seen.last(), Some(&(14, 14)), "{seen:?}");
    assert!(seen.windows(2).all(|w| w[0].0 <= w[1].0), "{seen:?}");

    let mut names: Vec<String> = rig
        .last_names()
        .await
        .iter()
        .filter_map(|n| n.as_str().map(str::to_string))
        .collect();
    names.sort();
    let mut expected: Vec<String> = (0..7)
        .filter(|i| *i != 3)
        .map(|i| format!("Desk{i}"))
        .chain((0..7).map(|i| format!("Force{i}")))
        .collect();
    expected.sort();
    assert_eq!(names, expected, "each once in Salesforce");
    assert_eq!(rig.members(CONTACTS).await.len(), 14);
    assert_eq!(rig.members(CALENDAR).await.len(), 1);
    // What was held back is all that is left.
    let next = rig.preview().await;
    let left: Vec<_> = next.plan.items.iter().filter(|i| i.runs()).collect();
    assert_eq!(left.len(), 1, "{left:#?}");
    assert_eq!(left[0].label, "Wilma Desk3");
}

#[tokio::test]
async fn apply_of_the_items_a_front_showed_holds_back_one_that_changed_since() {
    let rig = Rig::start().await;
    for (uid, last) in [("c", "Cole"), ("d", "Dunn"), ("e", "Eder")] {
        let card = vcard(uid, "Cy", last, &[]);
        assert!(
            rig.put(&format!("{CONTACTS}{uid}.vcf"), &card)
                .await
                .is_success()
        );
    }
    let preview = rig.preview().await;
    let shown: Vec<String> = preview
        .plan
        .items
        .iter()
        .filter(|i| i.runs() && i.label != "Cy Eder")
        .map(|i| i.fingerprint())
        .collect();
    assert_eq!(shown.len(), 2);
    // Dunn changes after it was shown: what the screen showed of it is no longer the plan.
    let card = vcard("d", "Cyd", "Dunn", &[]);
    assert!(
        rig.put(&format!("{CONTACTS}d.vcf"), &card)
            .await
            .is_success()
    );
    let report = rig
        .engine()
        .apply(
            &Selection {
                fingerprints: shown,
                ..Selection::default()
            },
            &|_, _| {},
        )
        .await
        .unwrap();
    assert_eq!(report.held_back, 1);
    let names = rig.last_names().await;
    assert_eq!(
        names,
        vec![json!("Cole")],
        "only what was shown and unchanged"
    );
}

#[tokio::test]
async fn a_create_a_killed_apply_left_unrecorded_is_adopted_once_with_later_edits_sent() {
    use tandem::protocol::{Origin, Outcome, OutcomeResult, Side};
    use tandem::store::{Draft, DraftBody};
    let rig = Rig::start().await;
    let path = format!("{CONTACTS}kay.vcf");
    let card = |title: &str| {
        vcard(
            "kay",
            "Kay",
            "Killed",
            &["EMAIL:kay@crash.test", &format!("TITLE:{title}")],
        )
    };
    assert!(rig.put(&path, &card("Analyst")).await.is_success());
    // What a killed apply leaves: the intent is in the log and the create reached Salesforce,
    // its answer did not reach the log.
    let (record, heads, fields) = {
        let txn = rig.store.read().unwrap();
        let record = tandem::store::read::find_record(&txn, &path)
            .unwrap()
            .unwrap();
        let state = tandem::store::read::record(&txn, &record).unwrap().unwrap();
        (record, state.heads, state.fields)
    };
    let intent = Outcome {
        record,
        side: Side::SALESFORCE,
        op: Op::Create,
        written: heads,
        result: OutcomeResult::Intent,
        side_fields: Some(fields),
        payload: None,
    };
    rig.writer
        .append(Draft {
            origin: Origin::new(Side::TANDEM, "salesforce:push"),
            body: DraftBody::Outcome(intent),
        })
        .await
        .unwrap();
    rig.sf_create(
        "Contact",
        json!({"FirstName": "Kay", "LastName": "Killed", "Email": "kay@crash.test", "Title": "Analyst"}),
    );
    // Edited on the desktop before the next run.
    assert!(rig.put(&path, &card("Lead Analyst")).await.is_success());

    // The preview's pull must not take the record for one new in Salesforce.
    let preview = rig.preview().await;
    assert_eq!(preview.plan.items.len(), 1, "{:#?}", preview.plan);
    let item = &preview.plan.items[0];
    assert!(
        item.step(Side::DESKTOP).is_none(),
        "the older value Salesforce holds would come back to the desktop: {item:#?}"
    );
    assert_eq!(
        item.step(Side::SALESFORCE).map(|s| s.op),
        Some(Op::Update),
        "the edit made since the create goes to Salesforce: {item:#?}"
    );
    rig.apply().await;
    let rows = rig
        .soql("SELECT Id, Title FROM Contact WHERE LastName = 'Killed'")
        .await;
    assert_eq!(rows.len(), 1, "one contact in Salesforce: {rows:?}");
    assert_eq!(rows[0]["Title"], json!("Lead Analyst"), "the edit was sent");
    assert_eq!(rig.members(CONTACTS).await, vec![path.clone()]);
    let (_, body) = rig.get(&path).await;
    assert!(body.contains("TITLE:Lead Analyst"), "{body}");
    assert!(rig.preview().await.plan.is_idle(), "both sides agree");
}

#[tokio::test]
async fn offline_edits_on_both_sides_merge_field_by_field_on_reconnect() {
    let rig = Rig::start().await;
    let id = rig.sf_create(
        "Contact",
        json!({"FirstName": "Cleo", "LastName": "Park", "Title": "Analyst",
               "Email": "cleo@old.test", "Phone": "+1 555 0100"}),
    );
    rig.sync().await;
    let href = rig.members(CONTACTS).await.remove(0);

    // Salesforce is unreachable: the client's edit is accepted and kept.
    let (_, body) = rig.get(&href).await;
    let edited = body
        .replace("+1 555 0100", "+1 555 0199")
        .replace("TITLE:Analyst", "TITLE:Lead Analyst");
    assert!(rig.put(&href, &edited).await.is_success());
    let offline = rig.offline_engine();
    let preview = offline.preview().await.unwrap();
    assert!(
        preview
            .record
            .unwrap()
            .unreachable(Side::SALESFORCE)
            .is_some()
    );
    // Meanwhile, in Salesforce, later: Salesforce keeps whole seconds, so a later second.
    rig.emu.advance_clock(Duration::seconds(2));
    rig.sf_update(
        "Contact",
        &id,
        json!({"Email": "cleo@new.test", "Title": "Head of Analytics"}),
    );

    rig.sync().await;
    let contact = rig.sf_get(&id);
    assert_eq!(
        contact["Phone"],
        json!("+1 555 0199"),
        "the client's phone survives"
    );
    assert_eq!(
        contact["Email"],
        json!("cleo@new.test"),
        "Salesforce's email survives"
    );
    assert_eq!(
        contact["Title"],
        json!("Head of Analytics"),
        "newest title wins"
    );
    let (_, body) = rig.get(&href).await;
    assert!(
        body.contains("cleo@new.test") && body.contains("+1 555 0199"),
        "{body}"
    );
    assert!(body.contains("TITLE:Head of Analytics"), "{body}");
    assert!(rig.preview().await.plan.is_idle());

    let app = tandem::app::App {
        dir: rig.dir.path().to_path_buf(),
        store: rig.store.clone(),
        writer: None,
        settings: Settings::default(),
        wall: tandem::store::system_clock(),
        serving: tandem::app::Serving::Local,
    };
    let history = tandem::cli::audit::history(&app.history(&id).unwrap(), false);
    assert!(history.contains("Lead Analyst"), "{history}");
}

#[tokio::test]
async fn a_run_through_faults_completes_and_the_next_finds_nothing_to_do() {
    use tandem_salesforce_emulator::{FaultKind, FaultSettings};
    let rig = Rig::start().await;
    let card =
        |i: usize, extra: &[&str]| vcard(&format!("f{i}"), "Fay", &format!("Fault{i:02}"), extra);
    for i in 0..40 {
        let put = rig.put(&format!("{CONTACTS}f{i}.vcf"), &card(i, &[])).await;
        assert!(put.is_success());
    }
    rig.sync().await;
    // Changes on both sides: 40 updates (conditional PATCHes, 25 to a Composite call), 10
    // creates, and 30 contacts new in Salesforce.
    for i in 0..50 {
        let put = rig
            .put(&format!("{CONTACTS}f{i}.vcf"), &card(i, &["TITLE:Buyer"]))
            .await;
        assert!(put.is_success());
    }
    for i in 0..30 {
        rig.sf_create("Contact", json!({"LastName": format!("Remote{i:02}")}));
    }
    rig.emu.faults().reseed(11);
    rig.emu.faults().set(FaultSettings {
        unavailable_rate: 0.1,
        lock_row_rate: 0.1,
        ..FaultSettings::default()
    });
    // Certain faults too, so the run meets them whatever the dice say.
    rig.emu.faults().enqueue(FaultKind::Unavailable, 2);
    rig.emu.expire_access_tokens();
    rig.preview().await;
    rig.emu.faults().enqueue(FaultKind::Unavailable, 1);
    let report = rig.apply().await;
    let record = report.record.unwrap();
    let failed: Vec<_> = record.failures().collect();
    assert!(
        failed.is_empty(),
        "retries carried every item through: {failed:#?}"
    );
    assert_eq!(
        record.results.len(),
        80,
        "40 updates and 10 creates up, 30 down"
    );
    assert!(
        record.calls(Side::SALESFORCE) > 3,
        "two Composite calls of PATCHes and one create call, plus retries: {}",
        record.calls(Side::SALESFORCE)
    );
    // The second run finds nothing left to do.
    let preview = rig.preview().await;
    assert!(preview.plan.is_idle(), "{:#?}", preview.plan);
    let titled = rig
        .soql("SELECT Id FROM Contact WHERE Title = 'Buyer'")
        .await;
    assert_eq!(titled.len(), 50);
    assert_eq!(rig.soql("SELECT Id FROM Contact").await.len(), 80);
    assert_eq!(rig.members(CONTACTS).await.len(), 80);
}

#[tokio::test]
async fn invitees_and_attachments_are_listed_in_salesforce_and_stripped_on_the_way_back() {
    let settings = Settings::parse("[events]\ninvitees_in_description = true\n").unwrap();
    let rig = Rig::with_settings(settings).await;
    let start = Utc::now() + Duration::days(3);
    let event = vevent(
        "inv-1",
        "Kickoff",
        start,
        &[
            "DESCRIPTION:Agenda attached",
            "ATTENDEE;CN=Ana Ng;PARTSTAT=ACCEPTED:mailto:ana@acme.test",
            "ATTACH;FILENAME=agenda.pdf:https://files.example/agenda.pdf",
        ],
    );
    assert!(
        rig.put(&format!("{CALENDAR}kickoff.ics"), &event)
            .await
            .is_success()
    );
    rig.sync().await;
    let rows = rig.soql("SELECT Id, Description FROM Event").await;
    assert_eq!(rows.len(), 1);
    let description = rows[0]["Description"].as_str().unwrap().to_string();
    assert!(description.starts_with("Agenda attached"), "{description}");
    assert!(description.contains("ana@acme.test"), "{description}");
    assert!(description.contains("agenda.pdf"), "{description}");
    let again = rig.preview().await;
    assert!(
        again.plan.is_idle(),
        "the annotation does not echo: {:#?}",
        again.plan
    );

    // An edit in Salesforce keeps the block below the user's text; the desktop gets the text.
    let edited = description.replacen("Agenda attached", "Agenda v2 attached", 1);
    let id = rows[0]["Id"].as_str().unwrap().to_string();
    rig.sf_update("Event", &id, json!({"Description": edited}));
    rig.sync().await;
    let (_, body) = rig.get(&format!("{CALENDAR}kickoff.ics")).await;
    assert!(
        body.contains("DESCRIPTION:Agenda v2 attached\r\n"),
        "{body}"
    );
    assert!(!body.contains("tandem ---"), "{body}");
    assert!(
        body.contains("ATTENDEE"),
        "the client's attendees stay: {body}"
    );
}

#[tokio::test]
async fn an_invitee_added_on_the_desktop_shows_in_the_salesforce_description() {
    let settings = Settings::parse("[events]\ninvitees_in_description = true\n").unwrap();
    let rig = Rig::with_settings(settings).await;
    let start = Utc::now() + Duration::days(3);
    let ana = "ATTENDEE;CN=Ana Ng;PARTSTAT=ACCEPTED:mailto:ana@acme.test";
    let href = format!("{CALENDAR}kickoff.ics");
    let first = vevent("inv-2", "Kickoff", start, &["DESCRIPTION:Agenda", ana]);
    assert!(rig.put(&href, &first).await.is_success());
    rig.sync().await;

    // Only the attendees change: the block follows, the user's text stays.
    let bo = "ATTENDEE;CN=Bo Lind;PARTSTAT=NEEDS-ACTION:mailto:bo@lind.test";
    let second = vevent("inv-2", "Kickoff", start, &["DESCRIPTION:Agenda", ana, bo]);
    assert!(rig.put(&href, &second).await.is_success());
    let preview = rig.preview().await;
    assert_eq!(preview.plan.items.len(), 1, "{:#?}", preview.plan);
    rig.apply().await;
    let rows = rig.soql("SELECT Description FROM Event").await;
    let description = rows[0]["Description"].as_str().unwrap();
    assert!(description.starts_with("Agenda"), "{description}");
    assert!(description.contains("bo@lind.test"), "{description}");
    assert!(rig.preview().await.plan.is_idle());

    // And one removed leaves it.
    let third = vevent("inv-2", "Kickoff", start, &["DESCRIPTION:Agenda", bo]);
    assert!(rig.put(&href, &third).await.is_success());
    rig.sync().await;
    let rows = rig.soql("SELECT Description FROM Event").await;
    let description = rows[0]["Description"].as_str().unwrap();
    assert!(!description.contains("ana@acme.test"), "{description}");
    assert!(description.contains("bo@lind.test"), "{description}");
    let (_, body) = rig.get(&href).await;
    assert!(body.contains("DESCRIPTION:Agenda\r\n"), "{body}");
    assert!(rig.preview().await.plan.is_idle());
}

#[tokio::test]
async fn a_formatted_desktop_body_is_not_overwritten_by_plain_text_from_salesforce() {
    let rig = Rig::start().await;
    let start = Utc::now() + Duration::days(4);
    let event = vevent(
        "rich-1",
        "Board prep",
        start,
        &[
            "DESCRIPTION:Bring the numbers",
            "X-ALT-DESC;FMTTYPE=text/html:<p>Bring the <b>numbers</b></p>",
        ],
    );
    assert!(
        rig.put(&format!("{CALENDAR}rich.ics"), &event)
            .await
            .is_success()
    );
    rig.sync().await;
    let id = rig.soql("SELECT Id FROM Event").await[0]["Id"]
        .as_str()
        .unwrap()
        .to_string();
    rig.sf_update(
        "Event",
        &id,
        json!({"Description": "Plain words", "Location": "Boardroom"}),
    );
    let preview = rig.preview().await;
    assert!(
        preview.plan.items[0]
            .step(Side::DESKTOP)
            .unwrap()
            .kept_rich_body
    );
    rig.apply().await;
    let (_, body) = rig.get(&format!("{CALENDAR}rich.ics")).await;
    assert!(body.contains("LOCATION:Boardroom"), "{body}");
    assert!(body.contains("<b>numbers</b>"), "{body}");
    assert!(!body.contains("Plain words"), "{body}");
}

#[tokio::test]
async fn an_event_series_is_one_event_with_its_rule_on_the_desktop_both_ways() {
    let rig = Rig::start().await;
    let start = berlin_nine(1);
    rig.sf_create(
        "Event",
        json!({"Subject": "Every other day", "StartDateTime": sf_time(start),
               "EndDateTime": sf_time(start + Duration::minutes(30)),
               "IsRecurrence2": true,
               "Recurrence2PatternText": "RRULE:FREQ=DAILY;INTERVAL=2;COUNT=6",
               "Recurrence2PatternTimeZone": "Europe/Berlin"}),
    );
    assert_eq!(
        rig.soql("SELECT Id FROM Event").await.len(),
        6,
        "one row per occurrence"
    );
    rig.sync().await;
    let members = rig.members(CALENDAR).await;
    assert_eq!(members.len(), 1, "one series, not six events: {members:?}");
    let (_, body) = rig.get(&members[0]).await;
    let event = body.split("BEGIN:VEVENT").nth(1).unwrap_or_default();
    let rule = event
        .lines()
        .find(|l| l.starts_with("RRULE:"))
        .unwrap_or_default();
    assert!(
        rule.contains("FREQ=DAILY") && rule.contains("INTERVAL=2") && rule.contains("COUNT=6"),
        "{body}"
    );

    // A series made on the desktop becomes one series in Salesforce and does not come back
    // as its occurrences.
    let series = vevent(
        "standup-1",
        "Standup",
        start + Duration::hours(2),
        &["RRULE:FREQ=DAILY;COUNT=4"],
    );
    assert!(
        rig.put(&format!("{CALENDAR}standup.ics"), &series)
            .await
            .is_success()
    );
    rig.sync().await;
    assert_eq!(
        rig.soql("SELECT Id FROM Event WHERE Subject = 'Standup'")
            .await
            .len(),
        4
    );
    let again = rig.preview().await;
    assert!(again.plan.is_idle(), "{:#?}", again.plan);
    assert_eq!(rig.members(CALENDAR).await.len(), 2);
    rig.verify_replay();
}

#[tokio::test]
async fn a_weekly_rule_without_byday_recurs_on_the_starts_weekday_in_salesforce() {
    let rig = Rig::start().await;
    let start = utc_at(3, 10);
    // What clients send: RFC 5545 takes the missing BYDAY from DTSTART.
    let series = vevent(
        "weekly-1",
        "Weekly call",
        start,
        &["RRULE:FREQ=WEEKLY;COUNT=6"],
    );
    assert!(
        rig.put(&format!("{CALENDAR}weekly.ics"), &series)
            .await
            .is_success()
    );
    rig.sync().await;
    let rows = rig
        .soql(
            "SELECT StartDateTime FROM Event WHERE Subject = 'Weekly call' ORDER BY StartDateTime",
        )
        .await;
    let starts: Vec<chrono::DateTime<Utc>> = rows
        .iter()
        .map(|r| {
            chrono::DateTime::parse_from_str(
                r["StartDateTime"].as_str().unwrap(),
                "%Y-%m-%dT%H:%M:%S%.f%z",
            )
            .unwrap()
            .with_timezone(&Utc)
        })
        .collect();
    let expected: Vec<_> = (0..6).map(|w| start + Duration::weeks(w)).collect();
    assert_eq!(starts, expected, "six weekly occurrences from the start");
    let (_, body) = rig.get(&format!("{CALENDAR}weekly.ics")).await;
    assert!(
        body.contains("RRULE:FREQ=WEEKLY;COUNT=6\r\n"),
        "the client's rule is kept: {body}"
    );
    let again = rig.preview().await;
    assert!(again.plan.is_idle(), "{:#?}", again.plan);
    rig.verify_replay();
}

#[tokio::test]
async fn an_invitees_copy_of_a_colleagues_meeting_never_reaches_the_desktop() {
    for owner_only in [true, false] {
        let settings = Settings::parse(&format!("[events]\nowner_only = {owner_only}\n")).unwrap();
        let rig = Rig::with_settings(settings).await;
        let me = rig.emu.org().current_user_id();
        let colleague = rig
            .soql("SELECT Id FROM User")
            .await
            .into_iter()
            .map(|u| u["Id"].as_str().unwrap().to_string())
            .find(|id| *id != me)
            .expect("a colleague");
        let start = Utc::now() + Duration::days(2);
        // The colleague's meeting, to which the user is invited: Salesforce gives the user a
        // copy of their own (IsChild), owned by them.
        let meeting = rig.sf_create(
            "Event",
            json!({"Subject": "Partner QBR", "OwnerId": colleague,
                   "StartDateTime": sf_time(start),
                   "EndDateTime": sf_time(start + Duration::hours(1))}),
        );
        rig.sf_create(
            "EventRelation",
            json!({"EventId": meeting, "RelationId": me, "IsInvitee": true}),
        );
        let copies = rig.soql("SELECT Id FROM Event WHERE IsChild = true").await;
        assert_eq!(copies.len(), 1, "the org holds the user's copy");

        rig.sync().await;
        let members = rig.members(CALENDAR).await;
        // Only the user's own events: none; all events: the colleague's meeting, once.
        let expected = if owner_only { 0 } else { 1 };
        assert_eq!(
            members.len(),
            expected,
            "owner_only = {owner_only}: {members:?}"
        );
        assert!(rig.preview().await.plan.is_idle());
        assert_eq!(
            rig.soql("SELECT Id FROM Event WHERE Subject = 'Partner QBR'")
                .await
                .len(),
            2,
            "nothing written back"
        );
    }
}

#[tokio::test]
async fn a_floating_time_is_the_users_wall_clock_time_in_salesforce() {
    let rig = Rig::start().await;
    // The emulator's user lives in Berlin (EmulatorConfig::default()).
    let zone = chrono_tz::Europe::Berlin;
    let day = (Utc::now() + Duration::days(4)).date_naive();
    let local = day.and_hms_opt(9, 0, 0).unwrap();
    // No zone at all (RFC 5545 floating time): nine o'clock wherever the user is.
    let body = format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\nBEGIN:VEVENT\r\nUID:floating-1\r\nDTSTAMP:20260101T000000Z\r\nSUMMARY:Standup\r\nDTSTART:{}\r\nDTEND:{}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
        local.format("%Y%m%dT%H%M%S"),
        (local + Duration::minutes(15)).format("%Y%m%dT%H%M%S"),
    );
    let href = format!("{CALENDAR}floating.ics");
    assert!(rig.put(&href, &body).await.is_success());
    rig.sync().await;
    let rows = rig
        .soql("SELECT StartDateTime FROM Event WHERE Subject = 'Standup'")
        .await;
    let expected = local.and_local_timezone(zone).unwrap().with_timezone(&Utc);
    assert_eq!(rows[0]["StartDateTime"], json!(sf_time(expected)));
    assert!(rig.preview().await.plan.is_idle());
    let (_, served) = rig.get(&href).await;
    assert_eq!(
        served, body,
        "the client's floating time stays as it wrote it"
    );
}

#[tokio::test]
async fn a_cancelled_occurrence_of_a_desktop_series_is_deleted_in_salesforce() {
    let rig = Rig::start().await;
    let start = utc_at(2, 10);
    let occurrence = |week: i64| start + Duration::weeks(week);
    let fmt = |t: chrono::DateTime<Utc>| t.format("%Y%m%dT%H%M%SZ").to_string();
    let starts = |rows: Vec<Value>| -> Vec<String> {
        rows.iter()
            .map(|r| r["StartDateTime"].as_str().unwrap().to_string())
            .collect()
    };
    let query =
        "SELECT StartDateTime FROM Event WHERE Subject = 'Weekly sync' ORDER BY StartDateTime";
    // Six weeks, the fifth cancelled before the series ever reached Salesforce.
    let href = format!("{CALENDAR}weekly-sync.ics");
    let exdate = format!("EXDATE:{}", fmt(occurrence(4)));
    let series = vevent(
        "weekly-sync",
        "Weekly sync",
        start,
        &["RRULE:FREQ=WEEKLY;COUNT=6", &exdate],
    );
    assert!(rig.put(&href, &series).await.is_success());
    rig.sync().await;
    let expected: Vec<String> = [0, 1, 2, 3, 5]
        .into_iter()
        .map(|w| sf_time(occurrence(w)))
        .collect();
    assert_eq!(
        starts(rig.soql(query).await),
        expected,
        "the cancelled meeting is not there"
    );
    // Salesforce lists the deletion once its minute is over: tandem's own, no news.
    rig.emu.advance_clock(Duration::minutes(1));
    let again = rig.preview().await;
    assert!(again.plan.is_idle(), "{:#?}", again.plan);

    // The second cancelled later: its row goes too, the others stay.
    let both = format!("EXDATE:{},{}", fmt(occurrence(1)), fmt(occurrence(4)));
    let series = vevent(
        "weekly-sync",
        "Weekly sync",
        start,
        &["RRULE:FREQ=WEEKLY;COUNT=6", &both],
    );
    assert!(rig.put(&href, &series).await.is_success());
    rig.sync().await;
    let expected: Vec<String> = [0, 2, 3, 5]
        .into_iter()
        .map(|w| sf_time(occurrence(w)))
        .collect();
    assert_eq!(starts(rig.soql(query).await), expected);
    let again = rig.preview().await;
    assert!(again.plan.is_idle(), "{:#?}", again.plan);
    let (_, body) = rig.get(&href).await;
    assert!(
        body.contains(&both),
        "the desktop keeps its series as written: {body}"
    );
    rig.verify_replay();
}

#[tokio::test]
async fn an_occurrence_deleted_in_salesforce_is_cancelled_on_the_desktop() {
    let rig = Rig::start().await;
    let zone = chrono_tz::Europe::Berlin;
    let start = berlin_nine(2);
    daily_series(&rig, "Pipeline call", start, 5);
    rig.sync().await;
    let members = rig.members(CALENDAR).await;
    assert_eq!(members.len(), 1);

    // The third meeting is called off in Salesforce: that one row is deleted.
    let third = start + Duration::days(2);
    let rows = rig
        .soql(&format!(
            "SELECT Id FROM Event WHERE Subject = 'Pipeline call' AND StartDateTime = {}",
            third.format("%Y-%m-%dT%H:%M:%SZ")
        ))
        .await;
    rig.sf_delete(rows[0]["Id"].as_str().unwrap());
    let preview = rig.preview().await;
    let step = preview.plan.items[0].step(Side::DESKTOP).unwrap();
    assert_eq!(step.op, Op::Update, "{:#?}", preview.plan);
    rig.apply().await;
    let (_, body) = rig.get(&members[0]).await;
    let local = third.with_timezone(&zone).format("%Y%m%dT%H%M%S");
    assert!(
        body.contains(&format!("EXDATE;TZID=Europe/Berlin:{local}\r\n")),
        "the desktop cancels that one occurrence: {body}"
    );
    assert!(body.contains("COUNT=5"), "the series stays: {body}");
    assert_eq!(
        rig.soql("SELECT Id FROM Event WHERE Subject = 'Pipeline call'")
            .await
            .len(),
        4,
        "nothing comes back in Salesforce"
    );
    assert!(rig.preview().await.plan.is_idle());
    rig.verify_replay();
}

#[tokio::test]
async fn deleting_a_series_first_occurrence_in_salesforce_cancels_only_that_one() {
    let rig = Rig::start().await;
    let zone = chrono_tz::Europe::Berlin;
    let start = berlin_nine(2);
    let first = daily_series(&rig, "Forecast call", start, 4);
    rig.sync().await;
    let members = rig.members(CALENDAR).await;
    let (_, before) = rig.get(&members[0]).await;

    rig.sf_delete(&first);
    rig.sync().await;
    let members_now = rig.members(CALENDAR).await;
    assert_eq!(members_now, members, "the series stays on the desktop");
    let (_, body) = rig.get(&members[0]).await;
    let local = start.with_timezone(&zone).format("%Y%m%dT%H%M%S");
    assert!(
        body.contains(&format!("EXDATE;TZID=Europe/Berlin:{local}\r\n")),
        "only the first meeting is cancelled: {body}"
    );
    assert_eq!(
        dtstart(&body),
        dtstart(&before),
        "the series still starts where it did"
    );
    assert!(rig.preview().await.plan.is_idle());

    // A later edit of the series in Salesforce still reaches the desktop.
    let rows = rig
        .soql("SELECT Id FROM Event WHERE Subject = 'Forecast call' ORDER BY StartDateTime")
        .await;
    assert_eq!(rows.len(), 3);
    rig.sf_update(
        "Event",
        rows[0]["Id"].as_str().unwrap(),
        json!({"Location": "Room 7"}),
    );
    rig.sync().await;
    let (_, body) = rig.get(&members[0]).await;
    assert!(body.contains("LOCATION:Room 7"), "{body}");
    assert!(body.contains("EXDATE"), "{body}");
    assert!(rig.preview().await.plan.is_idle());
    rig.verify_replay();
}

#[tokio::test]
async fn the_summary_says_what_salesforce_will_not_hold_before_the_run() {
    let rig = Rig::start().await;
    let start = utc_at(3, 10);
    let fmt = |t: chrono::DateTime<Utc>| t.format("%Y%m%dT%H%M%SZ").to_string();
    let long = "Quarterly planning with every region ".repeat(8);
    let moved = format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\nBEGIN:VEVENT\r\nUID:moved-1\r\nDTSTAMP:20260101T000000Z\r\nSUMMARY:Weekly 1:1\r\nDTSTART:{s}\r\nDTEND:{e}\r\nRRULE:FREQ=WEEKLY;COUNT=4\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:moved-1\r\nDTSTAMP:20260101T000000Z\r\nRECURRENCE-ID:{r}\r\nSUMMARY:Weekly 1:1 (moved)\r\nDTSTART:{m}\r\nDTEND:{n}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
        s = fmt(start),
        e = fmt(start + Duration::hours(1)),
        r = fmt(start + Duration::weeks(2)),
        m = fmt(start + Duration::weeks(2) + Duration::hours(5)),
        n = fmt(start + Duration::weeks(2) + Duration::hours(6)),
    );
    let cases = [
        (
            "long.ics",
            vevent("long-1", long.trim(), start, &[]),
            "truncated",
        ),
        ("moved.ics", moved, "moved or changed apart from the series"),
        (
            "sabbatical.ics",
            format!(
                "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\nBEGIN:VEVENT\r\nUID:long-2\r\nDTSTAMP:20260101T000000Z\r\nSUMMARY:Sabbatical\r\nDTSTART:{}\r\nDTEND:{}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
                fmt(start),
                fmt(start + Duration::days(20))
            ),
            "Salesforce would refuse it",
        ),
    ];
    for (name, body, _) in &cases {
        assert!(
            rig.put(&format!("{CALENDAR}{name}"), body)
                .await
                .is_success()
        );
    }
    let preview = rig.preview().await;
    for (name, _, says) in &cases {
        let item = preview
            .plan
            .items
            .iter()
            .find(|i| i.id_on(Side::DESKTOP).is_some_and(|h| h.ends_with(name)))
            .unwrap_or_else(|| panic!("{name} is planned"));
        let notes = &item.step(Side::SALESFORCE).unwrap().notes;
        assert!(notes.iter().any(|n| n.contains(says)), "{name}: {notes:?}");
    }
    // The refused one fails alone, with the same reason; the others are carried out.
    let report = rig.apply().await;
    let failures: Vec<_> = report.record.as_ref().unwrap().failures().collect();
    assert_eq!(failures.len(), 1, "{failures:#?}");
    assert_eq!(
        rig.soql("SELECT Id FROM Event WHERE Subject LIKE 'Quarterly%'")
            .await
            .len(),
        1
    );
}

#[tokio::test]
async fn deleting_an_all_day_series_first_day_in_salesforce_cancels_only_that_day() {
    let rig = Rig::start().await;
    let day = (Utc::now() + Duration::days(3)).date_naive();
    let midnight = day.and_hms_opt(0, 0, 0).unwrap().and_utc();
    let first = rig.sf_create(
        "Event",
        json!({"Subject": "Trade fair duty", "IsAllDayEvent": true,
               "ActivityDate": day.format("%Y-%m-%d").to_string(),
               "StartDateTime": sf_time(midnight), "EndDateTime": sf_time(midnight),
               "DurationInMinutes": 1440, "IsRecurrence2": true,
               "Recurrence2PatternText": "RRULE:FREQ=DAILY;INTERVAL=1;COUNT=3"}),
    );
    rig.sync().await;
    let members = rig.members(CALENDAR).await;
    let (_, before) = rig.get(&members[0]).await;
    rig.sf_delete(&first);
    rig.sync().await;
    assert_eq!(rig.members(CALENDAR).await, members, "the series stays");
    let (_, body) = rig.get(&members[0]).await;
    assert!(
        body.contains(&format!("EXDATE;VALUE=DATE:{}\r\n", day.format("%Y%m%d"))),
        "{body}"
    );
    assert_eq!(dtstart(&body), dtstart(&before));
    assert!(rig.preview().await.plan.is_idle());
    rig.verify_replay();
}

#[tokio::test]
async fn automatic_runs_wait_for_a_reviewed_manual_run_then_carry_out_everything() {
    let rig = Rig::start().await;
    let id = rig.sf_create(
        "Contact",
        json!({"LastName": "Auto", "Email": "a@auto.test"}),
    );
    let err = rig.engine().automatic().await.unwrap_err().to_string();
    assert!(err.contains("tandem sync preview"), "{err}");
    assert!(rig.members(CONTACTS).await.is_empty(), "nothing ran");

    rig.sync().await;
    assert_eq!(rig.members(CONTACTS).await.len(), 1);
    rig.sf_update("Contact", &id, json!({"Title": "Automated"}));
    let card = vcard("auto-2", "Otto", "Matic", &[]);
    assert!(
        rig.put(&format!("{CONTACTS}otto.vcf"), &card)
            .await
            .is_success()
    );
    let report = rig.engine().automatic().await.unwrap();
    let record = report.record.unwrap();
    assert_eq!(record.mode, tandem::protocol::run::RunMode::Automatic);
    assert_eq!(record.results.len(), 2, "{:#?}", record.results);
    assert!(record.failures().next().is_none());
    let members = rig.members(CONTACTS).await;
    let mut bodies = Vec::new();
    for href in &members {
        bodies.push(rig.get(href).await.1);
    }
    assert!(
        bodies.iter().any(|b| b.contains("TITLE:Automated")),
        "{bodies:?}"
    );
    assert_eq!(
        rig.soql("SELECT Id FROM Contact WHERE LastName = 'Matic'")
            .await
            .len(),
        1
    );
}

/// A wall clock the test moves: its start (now), the hand that sets it, and the clock.
fn movable_clock() -> (
    u64,
    std::sync::Arc<std::sync::atomic::AtomicU64>,
    tandem::store::WallClock,
) {
    use std::sync::atomic::{AtomicU64, Ordering};
    let start = tandem::store::system_clock()();
    let now = std::sync::Arc::new(AtomicU64::new(start));
    let clock = now.clone();
    (
        start,
        now,
        std::sync::Arc::new(move || clock.load(Ordering::SeqCst)),
    )
}

#[tokio::test]
async fn the_scheduler_runs_a_kind_when_its_interval_has_passed_on_the_clock_it_is_given() {
    use std::sync::atomic::Ordering;
    use tandem::engine::scheduler::Scheduler;
    let rig = Rig::start().await;
    let (start, now, wall) = movable_clock();
    let scheduler = Scheduler {
        store: rig.store.clone(),
        writer: rig.writer.clone(),
        settings: rig.settings.clone(),
        dir: rig.dir.path().to_path_buf(),
        wall,
    };
    assert!(
        scheduler.due().unwrap().is_empty(),
        "no automatic run before a manual one was applied"
    );
    assert!(scheduler.tick().await.unwrap().is_none());

    rig.sync().await;
    assert!(
        scheduler.due().unwrap().is_empty(),
        "the manual run just happened: nothing is due for 30 minutes"
    );
    now.store(start + 29 * 60_000, Ordering::SeqCst);
    assert!(scheduler.due().unwrap().is_empty());

    now.store(start + 31 * 60_000, Ordering::SeqCst);
    rig.sf_create(
        "Contact",
        json!({"LastName": "Tick", "Email": "t@tick.test"}),
    );
    assert_eq!(scheduler.due().unwrap().len(), 3, "every kind is due");
    let report = scheduler.tick().await.unwrap().expect("a run");
    let record = report.record.unwrap();
    assert_eq!(record.mode, tandem::protocol::run::RunMode::Automatic);
    assert!(record.failures().next().is_none(), "{:#?}", record.results);
    let mut bodies = Vec::new();
    for href in rig.members(CONTACTS).await {
        bodies.push(rig.get(&href).await.1);
    }
    assert!(
        bodies.iter().any(|b| b.contains("t@tick.test")),
        "the contact made in Salesforce reached the desktop: {bodies:?}"
    );
    assert!(
        scheduler.due().unwrap().is_empty(),
        "the automatic run counts from the clock's now"
    );
}

/// A review made after an apply is the one waiting, even when the machine's clock was set back
/// in between (NTP stepping a fresh VM's clock, a laptop's clock corrected on resume): the
/// review app shows it and the apply carries it out, both going by the log's order.
#[tokio::test]
async fn a_review_after_an_apply_waits_even_when_the_clock_was_set_back_between_them() {
    use std::sync::atomic::Ordering;
    use tandem::app::{App, Serving};
    let rig = Rig::start().await;
    let (start, now, wall) = movable_clock();
    let engine = tandem::engine::sync::SyncEngine {
        wall: wall.clone(),
        ..rig.engine()
    };
    let app = App {
        dir: rig.dir.path().to_path_buf(),
        store: rig.store.clone(),
        writer: Some(rig.writer.clone()),
        settings: rig.settings.clone(),
        wall,
        serving: Serving::Local,
    };
    engine.preview().await.unwrap();
    assert!(app.status().unwrap().review_waiting, "a fresh review waits");
    engine
        .apply(&Selection::default(), &|_, _| {})
        .await
        .unwrap();
    assert!(!app.status().unwrap().review_waiting, "the apply used it");

    now.store(start - 5_000, Ordering::SeqCst);
    rig.put(
        &format!("{CONTACTS}back.vcf"),
        &vcard("back", "Clock", "Back", &["EMAIL:back@clock.test"]),
    )
    .await;
    engine.preview().await.unwrap();
    let status = app.status().unwrap();
    assert!(
        status.last_preview.unwrap().started_ms < status.last_run.unwrap().started_ms,
        "the clock was set back: the review started 'before' the apply"
    );
    assert!(status.review_waiting, "the review is still the newest run");
    let report = engine
        .apply(&Selection::default(), &|_, _| {})
        .await
        .unwrap();
    assert_eq!(
        report.record.unwrap().results.len(),
        1,
        "the new contact went up"
    );
    assert_eq!(
        rig.soql("SELECT Id FROM Contact WHERE Email = 'back@clock.test'")
            .await
            .len(),
        1
    );
}

/// What tandem itself created in Salesforce is no news when the next pull reads it back (the
/// owner Salesforce gives it, the defaults it fills in and the Account's name it reports as the
/// company were expected), yet the read tells its new SystemModstamp, which the next
/// conditional update names. A later desktop edit sends what it changed, never the owner.
#[tokio::test]
async fn records_tandem_created_in_salesforce_read_back_as_no_news_with_their_version() {
    use tandem::protocol::RecordKind;
    let rig = Rig::start().await;
    rig.sf_create("Account", json!({"Name": "Lima Consulting"}));
    let card = vcard("lima", "Ana", "Lima", &["ORG:Lima Consulting"]);
    assert!(
        rig.put(&format!("{CONTACTS}lima.vcf"), &card)
            .await
            .is_success()
    );
    let start = Utc::now() + Duration::days(3);
    let event = vevent("review", "Pricing review", start, &[]);
    assert!(
        rig.put(&format!("{CALENDAR}review.ics"), &event)
            .await
            .is_success()
    );
    let todo = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//tandem tests//EN",
        "BEGIN:VTODO",
        "UID:call",
        "DTSTAMP:20261101T000000Z",
        "SUMMARY:Call back",
        "END:VTODO",
        "END:VCALENDAR",
        "",
    ]
    .join("\r\n");
    assert!(
        rig.put(&format!("{TASKS}call.ics"), &todo)
            .await
            .is_success()
    );
    rig.sync().await;

    let preview = rig.preview().await;
    for kind in [RecordKind::Contact, RecordKind::Event, RecordKind::Task] {
        let pulled = &preview.pulled[&Side::SALESFORCE][&kind];
        assert_eq!(
            (pulled.updated, pulled.unchanged),
            (0, 1),
            "{kind:?}: read back, and no news: {pulled:?}"
        );
    }
    assert!(preview.plan.is_idle(), "{:#?}", preview.plan);
    let row = &rig.soql("SELECT Id, SystemModstamp FROM Contact").await[0];
    let id = row["Id"].as_str().unwrap();
    let version = {
        let txn = rig.store.read().unwrap();
        let record = tandem::store::read::record_on(&txn, Side::SALESFORCE, id)
            .unwrap()
            .unwrap();
        tandem::store::read::side_state(&txn, &record, Side::SALESFORCE)
            .unwrap()
            .unwrap()
            .version
    };
    assert_eq!(
        version.as_deref(),
        row["SystemModstamp"].as_str(),
        "the version read back"
    );

    let card = vcard(
        "lima",
        "Ana",
        "Lima",
        &["ORG:Lima Consulting", "TITLE:Director"],
    );
    assert!(
        rig.put(&format!("{CONTACTS}lima.vcf"), &card)
            .await
            .is_success()
    );
    let preview = rig.preview().await;
    let changes: Vec<_> = preview
        .plan
        .items
        .iter()
        .flat_map(|i| i.steps())
        .filter(|(side, _)| *side == Side::SALESFORCE)
        .map(|(_, step)| step.changes.clone())
        .collect();
    assert_eq!(
        changes,
        vec![[("title".to_string(), json!("Director"))].into()]
    );
    let applied = rig.apply().await;
    assert_eq!(applied.record.unwrap().failures().count(), 0);
    let preview = rig.preview().await;
    let contacts = &preview.pulled[&Side::SALESFORCE][&RecordKind::Contact];
    assert_eq!(
        (contacts.updated, contacts.unchanged),
        (0, 1),
        "{contacts:?}"
    );
    assert!(preview.plan.is_idle(), "{:#?}", preview.plan);
}
