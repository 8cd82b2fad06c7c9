//! Push: exactly-once creates (upsert by external id, or intent + reconciliation), a crash
//! between a create and its outcome, conflict detection on update, idempotent deletes.

use chrono::Duration;
use serde_json::json;
use tandem::config::{SalesforceSettings, UpdateCheck};
use tandem::protocol::{EventBody, OutcomeResult, RecordId, RecordKind, Side};
use tandem::salesforce::client::{Create, Delete, ItemOutcome, Update};
use tandem::store::read;
use tandem_salesforce_emulator::{EmulatorConfig, FaultKind};

use crate::common::*;

fn contact(n: u64, last: &str, email: Option<&str>) -> Create {
    let mut fields = json!({"LastName": last, "FirstName": "Ada"});
    if let Some(e) = email {
        fields["Email"] = json!(e);
    }
    Create {
        record: record_id(RecordKind::Contact, n),
        object: "Contact".into(),
        fields: row(fields),
        written: vec![],
        side_fields: None,
    }
}

fn created_id(outcome: Option<&ItemOutcome>) -> String {
    match outcome {
        Some(ItemOutcome::Created { id, .. }) => id.clone(),
        other => panic!("expected a create, got {other:?}"),
    }
}

/// What the log says Salesforce has of a record: (pending intent, Salesforce id).
fn side(log: &Log, record: &RecordId) -> (bool, Option<String>) {
    let txn = log.store.read().expect("read");
    let s = read::side_state(&txn, record, Side::SALESFORCE)
        .expect("side state")
        .unwrap_or_default();
    (s.pending, s.external_id)
}

fn outcome_statuses(log: &Log, record: &RecordId) -> Vec<&'static str> {
    let txn = log.store.read().expect("read");
    read::record_events(&txn, record)
        .expect("events")
        .into_iter()
        .filter_map(|(_, e)| match e.body {
            EventBody::Outcome(o) => Some(match o.result {
                OutcomeResult::Intent => "intent",
                OutcomeResult::Succeeded { .. } => "succeeded",
                OutcomeResult::Failed { .. } => "failed",
            }),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn upsert_by_external_id_never_duplicates() {
    let emu = start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let log = Log::open(dir.path());
    let client = client_with(SalesforceSettings {
        external_id_field: Some("Tandem_Id__c".into()),
        ..settings(&emu)
    });
    let pusher = log.pusher(client.clone());
    let creates = vec![
        contact(1, "Lovelace", Some("ada@example.com")),
        contact(2, "Byron", None),
    ];
    let first = pusher.create(creates.clone()).await;
    let ids: Vec<String> = creates
        .iter()
        .map(|c| created_id(first.outcome(&c.record)))
        .collect();
    // Sent again, and again with the answer lost: the same two records.
    let again = pusher.create(creates.clone()).await;
    emu.faults().enqueue(FaultKind::DropConnection, 1);
    let lost = pusher.create(creates.clone()).await;
    for report in [&again, &lost] {
        let same: Vec<String> = creates
            .iter()
            .map(|c| created_id(report.outcome(&c.record)))
            .collect();
        assert_eq!(same, ids);
    }
    assert_eq!(emu.org().count("Contact", true), 2);
    let rec = emu.org().get(&ids[0]).expect("record");
    assert_eq!(rec["Tandem_Id__c"], json!(creates[0].record.to_string()));
    assert_eq!(
        side(&log, &creates[0].record),
        (false, Some(ids[0].clone()))
    );
    assert!(
        !outcome_statuses(&log, &creates[0].record).contains(&"intent"),
        "upserts need no intent"
    );
}

#[tokio::test]
async fn a_create_whose_answer_is_lost_is_reconciled_not_resent() {
    let emu = start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let log = Log::open(dir.path());
    let client = client(&emu);
    client.describe("Contact").await.expect("warm up");
    let pusher = log.pusher(client.clone());
    let creates = vec![
        contact(1, "Lovelace", Some("ada@example.com")),
        contact(2, "Lovelace", Some("ada@example.com")),
        contact(3, "O'Hara", None),
    ];
    emu.faults().enqueue(FaultKind::DropConnection, 1);
    let report = pusher.create(creates.clone()).await;
    assert!(report.stopped.is_none());
    let mut ids = Vec::new();
    for c in &creates {
        match report.outcome(&c.record) {
            Some(ItemOutcome::Created {
                id,
                reconciled: true,
            }) => ids.push(id.clone()),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            outcome_statuses(&log, &c.record),
            vec!["intent", "succeeded"]
        );
    }
    assert_eq!(emu.org().count("Contact", true), 3, "no blind resend");
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 3, "two identical creates adopt two records");
}

#[tokio::test]
async fn a_crash_between_create_and_outcome_makes_no_duplicate_after_restart() {
    let emu = start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let creates = vec![
        contact(1, "Lovelace", Some("ada@example.com")),
        contact(2, "Lovelace", Some("ada@example.com")),
        contact(3, "Hopper", Some("grace@example.com")),
    ];
    let max_retries = settings(&emu).max_retries as usize;
    {
        // First process: the intent is durable, the create reaches Salesforce, its answer is
        // lost and so is every attempt to find out, so the process ends without an outcome.
        let log = Log::open(dir.path());
        let client = client(&emu);
        client.describe("Contact").await.expect("warm up");
        emu.faults().enqueue(FaultKind::DropConnection, 1);
        // Each of the three reconciliation queries fails after all its retries.
        emu.faults()
            .enqueue(FaultKind::Unavailable, 3 * (max_retries + 1));
        let report = log.pusher(client).create(creates.clone()).await;
        for c in &creates {
            assert!(
                matches!(report.outcome(&c.record), Some(ItemOutcome::Unknown { .. })),
                "{:?}",
                report.outcome(&c.record)
            );
            assert_eq!(side(&log, &c.record), (true, None), "the intent is pending");
            assert_eq!(outcome_statuses(&log, &c.record), vec!["intent"]);
        }
        assert_eq!(
            emu.org().count("Contact", true),
            3,
            "the create went through"
        );
        log.close().await;
    }
    emu.faults().clear();
    // Second process, same store: the same creates are planned again.
    let log = Log::open(dir.path());
    let client = client(&emu);
    let report = log.pusher(client).create(creates.clone()).await;
    assert!(report.stopped.is_none());
    let mut ids = Vec::new();
    for c in &creates {
        match report.outcome(&c.record) {
            Some(ItemOutcome::Created {
                id,
                reconciled: true,
            }) => ids.push(id.clone()),
            other => panic!("{other:?}"),
        }
        assert_eq!(side(&log, &c.record), (false, ids.last().cloned()));
        assert_eq!(
            outcome_statuses(&log, &c.record),
            vec!["intent", "succeeded"]
        );
    }
    assert_eq!(
        emu.org().count("Contact", true),
        3,
        "no duplicate in Salesforce"
    );
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 3);
    // The next run has nothing pending: a further create would be a new record.
    log.close().await;
}

#[tokio::test]
async fn without_the_external_id_field_in_the_org_creates_use_intents() {
    let emu = start_with(EmulatorConfig {
        external_id_fields: vec![],
        ..config()
    })
    .await;
    let dir = tempfile::tempdir().expect("tempdir");
    let log = Log::open(dir.path());
    let client = client_with(SalesforceSettings {
        external_id_field: Some("Tandem_Id__c".into()),
        ..settings(&emu)
    });
    let c = contact(9, "Turing", None);
    let report = log.pusher(client).create(vec![c.clone()]).await;
    assert!(matches!(
        report.outcome(&c.record),
        Some(ItemOutcome::Created {
            reconciled: false,
            ..
        })
    ));
    assert_eq!(
        outcome_statuses(&log, &c.record),
        vec!["intent", "succeeded"]
    );
    assert_eq!(emu.org().count("Contact", true), 1);
}

#[tokio::test]
async fn a_concurrent_salesforce_edit_is_detected_not_overwritten() {
    for check in [UpdateCheck::IfUnmodifiedSince, UpdateCheck::Modstamp] {
        let emu = start().await;
        let id = emu
            .org()
            .create(
                "Contact",
                json!({"LastName": "Shared", "Title": "Engineer"}),
            )
            .expect("contact");
        let dir = tempfile::tempdir().expect("tempdir");
        let log = Log::open(dir.path());
        let client = client_with(SalesforceSettings {
            update_check: check,
            ..settings(&emu)
        });
        let seen = emu.org().get(&id).expect("record")["SystemModstamp"]
            .as_str()
            .expect("stamp")
            .to_string();
        emu.advance_clock(Duration::minutes(1));
        emu.org()
            .update("Contact", &id, json!({"Title": "Boss"}))
            .expect("someone edits in Salesforce");
        let update = |version: String| Update {
            record: record_id(RecordKind::Contact, 1),
            object: "Contact".into(),
            id: id.clone(),
            fields: row(json!({"Title": "Intern"})),
            version: Some(version),
            written: vec![],
            side_fields: None,
        };
        let pusher = log.pusher(client);
        let report = pusher.update(vec![update(seen)]).await;
        assert!(
            matches!(report.items[0].outcome, ItemOutcome::Conflict { .. }),
            "{check:?}: {:?}",
            report.items[0]
        );
        assert_eq!(
            emu.org().get(&id).expect("record")["Title"],
            json!("Boss"),
            "{check:?}"
        );
        assert_eq!(
            outcome_statuses(&log, &record_id(RecordKind::Contact, 1)),
            vec!["failed"]
        );

        // With the current version the write goes through.
        let current = emu.org().get(&id).expect("record")["SystemModstamp"]
            .as_str()
            .expect("stamp")
            .to_string();
        emu.advance_clock(Duration::minutes(1));
        let report = pusher.update(vec![update(current.clone())]).await;
        assert!(
            matches!(report.items[0].outcome, ItemOutcome::Updated { .. }),
            "{check:?}"
        );
        assert_eq!(
            emu.org().get(&id).expect("record")["Title"],
            json!("Intern")
        );
        if check == UpdateCheck::IfUnmodifiedSince {
            // The same write sent again (its run was killed before recording it): the 412 is
            // this write itself, read back and taken as done, not reported as a conflict.
            emu.advance_clock(Duration::minutes(1));
            let report = pusher.update(vec![update(current)]).await;
            assert!(
                matches!(report.items[0].outcome, ItemOutcome::Updated { .. }),
                "{:?}",
                report.items[0]
            );
        }
    }
}

#[tokio::test]
async fn a_lost_answer_to_a_conditional_update_is_read_back_not_taken_for_a_conflict() {
    let emu = start().await;
    let id = emu
        .org()
        .create("Contact", json!({"LastName": "Shared"}))
        .expect("contact");
    let seen = emu.org().get(&id).expect("record")["SystemModstamp"]
        .as_str()
        .expect("stamp")
        .to_string();
    emu.advance_clock(Duration::minutes(1));
    let dir = tempfile::tempdir().expect("tempdir");
    let log = Log::open(dir.path());
    let client = client(&emu);
    client
        .query("SELECT Id FROM Contact")
        .await
        .expect("warm up");
    emu.faults().enqueue(FaultKind::DropConnection, 1);
    let report = log
        .pusher(client)
        .update(vec![Update {
            record: record_id(RecordKind::Contact, 1),
            object: "Contact".into(),
            id: id.clone(),
            fields: row(json!({"Title": "CTO", "Birthdate": "1815-12-10"})),
            version: Some(seen),
            written: vec![],
            side_fields: None,
        }])
        .await;
    assert!(
        matches!(report.items[0].outcome, ItemOutcome::Updated { .. }),
        "{:?}",
        report.items[0]
    );
    assert_eq!(emu.org().get(&id).expect("record")["Title"], json!("CTO"));
}

/// 30 conditional updates go as two Composite calls (25 subrequests at most), each PATCH with
/// its own If-Unmodified-Since: the one Salesforce changed since is a conflict, the others land.
#[tokio::test]
async fn conditional_updates_go_25_to_a_composite_call_each_with_its_own_precondition() {
    let emu = start().await;
    let ids = seed_contacts(&emu, 30);
    let seen: Vec<String> = ids
        .iter()
        .map(|id| {
            emu.org().get(id).expect("record")["SystemModstamp"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    emu.advance_clock(Duration::minutes(1));
    // Edited in Salesforce after tandem last saw it.
    emu.org()
        .update(
            "Contact",
            &ids[7],
            json!({"Title": "Changed in Salesforce"}),
        )
        .expect("updated");
    emu.advance_clock(Duration::minutes(1));
    let dir = tempfile::tempdir().expect("tempdir");
    let log = Log::open(dir.path());
    let client = client(&emu);
    client
        .query("SELECT Id FROM Contact")
        .await
        .expect("warm up");
    let before = client.stats().calls;
    let updates = ids
        .iter()
        .zip(&seen)
        .enumerate()
        .map(|(i, (id, seen))| Update {
            record: record_id(RecordKind::Contact, i as u64),
            object: "Contact".into(),
            id: id.clone(),
            fields: row(json!({"Title": "From tandem"})),
            version: Some(seen.clone()),
            written: vec![],
            side_fields: None,
        })
        .collect();
    let report = log.pusher(client.clone()).update(updates).await;
    assert_eq!(
        client.stats().calls - before,
        3,
        "two Composite calls, and the read-back of the one whose precondition failed (is it this write, sent before by a killed run?)"
    );
    for (i, item) in report.items.iter().enumerate() {
        if i == 7 {
            assert!(
                matches!(item.outcome, ItemOutcome::Conflict { .. }),
                "{item:?}"
            );
        } else {
            assert!(
                matches!(item.outcome, ItemOutcome::Updated { .. }),
                "{item:?}"
            );
        }
    }
    assert_eq!(
        emu.org().get(&ids[7]).expect("record")["Title"],
        json!("Changed in Salesforce"),
        "the Salesforce edit is not overwritten"
    );
    assert_eq!(
        emu.org().get(&ids[29]).expect("record")["Title"],
        json!("From tandem")
    );
}

/// A row locked by another transaction fails its subrequest alone, having done nothing: that
/// update goes again in the next round, the others are done in the first.
#[tokio::test]
async fn a_locked_row_in_a_composite_call_is_sent_again_and_the_others_land_once() {
    let emu = start().await;
    let ids = seed_contacts(&emu, 3);
    let dir = tempfile::tempdir().expect("tempdir");
    let log = Log::open(dir.path());
    let client = client(&emu);
    client
        .query("SELECT Id FROM Contact")
        .await
        .expect("warm up");
    emu.faults().enqueue(FaultKind::UnableToLockRow, 1);
    let before = client.stats().calls;
    let updates = ids
        .iter()
        .enumerate()
        .map(|(i, id)| Update {
            record: record_id(RecordKind::Contact, i as u64),
            object: "Contact".into(),
            id: id.clone(),
            fields: row(json!({"Title": "Locked once"})),
            version: None,
            written: vec![],
            side_fields: None,
        })
        .collect();
    let report = log.pusher(client.clone()).update(updates).await;
    for item in &report.items {
        assert!(
            matches!(item.outcome, ItemOutcome::Updated { .. }),
            "{item:?}"
        );
    }
    assert_eq!(
        client.stats().calls - before,
        2,
        "the Composite call, and one more for the locked row"
    );
    for id in &ids {
        assert_eq!(
            emu.org().get(id).expect("record")["Title"],
            json!("Locked once")
        );
    }
}

#[tokio::test]
async fn deletes_are_idempotent() {
    let emu = start().await;
    let ids = seed_contacts(&emu, 3);
    emu.org()
        .delete(&ids[0])
        .expect("already deleted in Salesforce");
    let dir = tempfile::tempdir().expect("tempdir");
    let log = Log::open(dir.path());
    let client = client(&emu);
    client
        .query("SELECT Id FROM Contact")
        .await
        .expect("warm up");
    emu.faults().enqueue(FaultKind::DropConnection, 1);
    let deletes: Vec<Delete> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| Delete {
            record: record_id(RecordKind::Contact, i as u64),
            object: "Contact".into(),
            id: id.clone(),
            written: vec![],
        })
        .collect();
    let report = log.pusher(client.clone()).delete(deletes).await;
    for item in &report.items {
        assert!(
            matches!(item.outcome, ItemOutcome::Deleted { .. }),
            "{item:?}"
        );
    }
    assert_eq!(client.stats().retries, 1, "the lost answer was resent");
    assert_eq!(emu.org().count("Contact", false), 0);
}

#[tokio::test]
async fn a_detached_occurrences_row_is_upserted_once_however_often_it_is_sent() {
    let emu = start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let log = Log::open(dir.path());
    let client = client_with(settings(&emu));
    let pusher = log.pusher(client.clone());
    let start = chrono::Utc::now() + Duration::days(3);
    let time = |t: chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let body = |subject: &str| {
        row(json!({"Subject": subject, "StartDateTime": time(start),
                   "EndDateTime": time(start + Duration::hours(1))}))
    };
    let key = "evt-0123456789abcdef@20270317T090000Z".to_string();
    pusher
        .upsert_rows("Event", "Tandem_Id__c", &[(key.clone(), body("Moved"))])
        .await
        .expect("written");
    // Sent again with its answer lost (Salesforce acted, the client never heard): the client
    // sends it once more, and the same row takes it.
    emu.faults().enqueue(FaultKind::DropConnection, 1);
    pusher
        .upsert_rows(
            "Event",
            "Tandem_Id__c",
            &[(key.clone(), body("Moved again"))],
        )
        .await
        .expect("written");
    let rows = client
        .query("SELECT Id, Subject, Tandem_Id__c FROM Event")
        .await
        .expect("query");
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["Subject"], "Moved again");
    assert_eq!(rows[0]["Tandem_Id__c"], key.as_str());
    // Deleting the rows twice is harmless too.
    let id = rows[0]["Id"].as_str().unwrap().to_string();
    pusher
        .delete_rows(std::slice::from_ref(&id))
        .await
        .expect("deleted");
    pusher.delete_rows(&[id]).await.expect("deleted again");
    assert_eq!(emu.org().count("Event", false), 0);
}
