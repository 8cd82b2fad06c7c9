//! Transient failures and limits: 503 storms, locked rows, dropped connections, the org's daily
//! limit and the per-run budget.

use serde_json::json;
use tandem::config::{SalesforceSettings, UpdateCheck};
use tandem::protocol::RecordKind;
use tandem::salesforce::client::{ClientError, Create, Delete, ItemOutcome, Update};
use tandem_salesforce_emulator::{EmulatorConfig, FaultKind, FaultSettings};

use crate::common::*;

#[tokio::test]
async fn a_storm_of_503s_slows_the_run_but_it_completes() {
    let emu = start().await;
    let ids = seed_contacts(&emu, 1000);
    let dir = tempfile::tempdir().expect("tempdir");
    let log = Log::open(dir.path());
    let client = client_with(SalesforceSettings {
        query_batch_size: 200,
        max_retries: 10,
        external_id_field: Some("Tandem_Id__c".into()),
        ..settings(&emu)
    });
    emu.faults().reseed(7);
    emu.faults().set(FaultSettings {
        unavailable_rate: 0.3,
        ..FaultSettings::default()
    });

    let rows = client
        .query("SELECT Id FROM Contact")
        .await
        .expect("query completes");
    assert_eq!(rows.len(), 1000);
    let creates: Vec<Create> = (0..30)
        .map(|i| Create {
            record: record_id(RecordKind::Contact, i),
            object: "Contact".into(),
            fields: row(json!({"LastName": format!("Storm {i}")})),
            written: vec![],
            side_fields: None,
        })
        .collect();
    let deletes: Vec<Delete> = ids[..20]
        .iter()
        .enumerate()
        .map(|(i, id)| Delete {
            record: record_id(RecordKind::Contact, 1000 + i as u64),
            object: "Contact".into(),
            id: id.clone(),
            written: vec![],
        })
        .collect();
    let pusher = log.pusher(client.clone());
    let report = pusher.push(creates, vec![], deletes).await;
    assert!(report.stopped.is_none(), "{:?}", report.stopped);
    for item in &report.items {
        assert!(
            matches!(
                item.outcome,
                ItemOutcome::Created { .. } | ItemOutcome::Deleted { .. }
            ),
            "{item:?}"
        );
    }
    emu.faults().clear();
    assert_eq!(emu.org().count("Contact", false), 1000 + 30 - 20);
    let retries = client.stats().retries;
    assert!(
        retries >= 3,
        "a 30% storm over this many calls forces retries, got {retries}"
    );
}

#[tokio::test]
async fn unable_to_lock_row_on_writes_is_retried() {
    let emu = start().await;
    let ids = seed_contacts(&emu, 3);
    let dir = tempfile::tempdir().expect("tempdir");
    let log = Log::open(dir.path());
    for check in [UpdateCheck::Modstamp, UpdateCheck::IfUnmodifiedSince] {
        let client = client_with(SalesforceSettings {
            update_check: check,
            ..settings(&emu)
        });
        client
            .query("SELECT Id FROM Contact")
            .await
            .expect("warm up");
        emu.faults().enqueue(FaultKind::UnableToLockRow, 2);
        let updates: Vec<Update> = ids
            .iter()
            .enumerate()
            .map(|(i, id)| Update {
                record: record_id(RecordKind::Contact, i as u64),
                object: "Contact".into(),
                id: id.clone(),
                fields: row(json!({"Title": format!("{check:?} {i}")})),
                version: None,
                written: vec![],
                side_fields: None,
            })
            .collect();
        let report = log.pusher(client.clone()).update(updates).await;
        assert!(report.stopped.is_none());
        for item in &report.items {
            assert!(
                matches!(item.outcome, ItemOutcome::Updated { .. }),
                "{check:?}: {item:?}"
            );
        }
        assert_eq!(
            client.stats().retries,
            2,
            "{check:?}: both lock errors were retried"
        );
        for (i, id) in ids.iter().enumerate() {
            let rec = emu.org().get(id).expect("record");
            assert_eq!(rec["Title"], json!(format!("{check:?} {i}")));
        }
    }
}

#[tokio::test]
async fn the_daily_limit_ends_the_run_with_a_clear_message() {
    let emu = start().await;
    seed_contacts(&emu, 5);
    let client = client(&emu);
    client
        .query("SELECT Id FROM Contact")
        .await
        .expect("works first");
    emu.faults().update(|f| f.daily_limit_exhausted = true);
    let err = client
        .query("SELECT Id FROM Contact")
        .await
        .expect_err("limit");
    assert!(matches!(err, ClientError::LimitExceeded { .. }), "{err}");
    assert!(err.stops_run());
    let message = err.to_string();
    assert!(
        message.contains("API request limit") && message.contains("TotalRequests"),
        "{message}"
    );
    assert_eq!(
        client.stats().retries,
        0,
        "a spent daily limit is not retried"
    );

    // The refusal's Sforce-Limit-Info says the org is at 100%: the budget now stops this client
    // before it even calls.
    let err = client
        .query("SELECT Id FROM Contact")
        .await
        .expect_err("budget");
    assert!(matches!(err, ClientError::BudgetExhausted { .. }), "{err}");

    // A push in a fresh process hits the limit on its first call and stops the run.
    let dir = tempfile::tempdir().expect("tempdir");
    let log = Log::open(dir.path());
    let fresh = crate::common::client(&emu);
    let report = log
        .pusher(fresh.clone())
        .push(
            vec![],
            vec![],
            vec![Delete {
                record: record_id(RecordKind::Contact, 1),
                object: "Contact".into(),
                id: "003000000000001AAA".into(),
                written: vec![],
            }],
        )
        .await;
    assert!(
        matches!(report.stopped, Some(ClientError::LimitExceeded { .. })),
        "{report:?}"
    );
    assert_eq!(report.items[0].outcome, ItemOutcome::NotAttempted);
}

#[tokio::test]
async fn the_run_budget_stops_a_run_cleanly() {
    let emu = start().await;
    seed_contacts(&emu, 1000);
    let client = client_with(SalesforceSettings {
        query_batch_size: 200,
        max_calls_per_run: 3,
        ..settings(&emu)
    });
    let err = client
        .query("SELECT Id FROM Contact")
        .await
        .expect_err("budget");
    assert!(matches!(err, ClientError::BudgetExhausted { .. }), "{err}");
    assert!(err.to_string().contains("max_calls_per_run"), "{err}");
    assert_eq!(client.stats().run_calls, 3);
    assert_eq!(
        emu.api_usage().0,
        3,
        "no call beyond the budget reached the org"
    );
    client.begin_run();
    client
        .query("SELECT Id FROM Contact LIMIT 10")
        .await
        .expect("a new run has a new budget");
}

#[tokio::test]
async fn the_org_share_of_the_daily_limit_stops_a_run() {
    let emu = start_with(EmulatorConfig {
        daily_api_limit: 20,
        ..config()
    })
    .await;
    let client = client_with(SalesforceSettings {
        max_org_usage_percent: 50,
        ..settings(&emu)
    });
    let mut calls = 0;
    let err = loop {
        match client.query("SELECT Id FROM Contact").await {
            Ok(_) => calls += 1,
            Err(e) => break e,
        }
        assert!(calls <= 20, "the budget never stopped the run");
    };
    assert!(matches!(err, ClientError::BudgetExhausted { .. }), "{err}");
    assert_eq!(
        emu.api_usage(),
        (10, 20),
        "stopped at half of the org's limit"
    );
}

#[tokio::test]
async fn a_dropped_connection_on_a_read_is_retried() {
    let emu = start().await;
    seed_contacts(&emu, 4);
    let client = client(&emu);
    client
        .query("SELECT Id FROM Contact LIMIT 1")
        .await
        .expect("warm up");
    emu.faults().enqueue(FaultKind::DropConnection, 1);
    let rows = client
        .query("SELECT Id FROM Contact")
        .await
        .expect("retried");
    assert_eq!(rows.len(), 4);
    assert_eq!(client.stats().retries, 1);
    // Other transient answers too: 502 with an HTML body, 500, concurrency limit.
    emu.faults().enqueue(FaultKind::BadGateway, 1);
    emu.faults().enqueue(FaultKind::ServerError, 1);
    emu.faults().enqueue(FaultKind::ConcurrentLimit, 1);
    client
        .query("SELECT Id FROM Contact")
        .await
        .expect("retried");
    assert_eq!(client.stats().retries, 4);
}

#[tokio::test]
async fn a_malformed_request_is_not_retried_and_the_error_names_the_call() {
    let emu = start().await;
    let client = client(&emu);
    let err = client
        .query("SELECT Nope FROM Contact")
        .await
        .expect_err("bad field");
    let message = err.to_string();
    assert!(
        message.contains("INVALID_FIELD") && message.contains("SELECT Nope"),
        "{message}"
    );
    assert_eq!(err.api_code(), Some("INVALID_FIELD"));
    assert_eq!(client.stats().retries, 0);
}
