//! The seeded demo org: deterministic for a seed, realistic shapes, spread around "now".

use std::sync::Arc;

use serde_json::Value as Json;
use tandem_salesforce_emulator::{EmulatorConfig, FixedClock};

use super::common::{Sf, start_with};

async fn seeded(seed: u64) -> Sf {
    start_with(EmulatorConfig {
        seed: Some(seed),
        clock: Arc::new(FixedClock::at(2024, 5, 6, 10, 0, 0)),
        ..EmulatorConfig::default()
    })
    .await
}

async fn count(sf: &Sf, q: &str) -> u64 {
    sf.query(q).await.body["totalSize"].as_u64().unwrap_or(0)
}

async fn dump(sf: &Sf, soql: &str) -> Json {
    sf.query_all(soql).await.body
}

#[tokio::test]
async fn same_seed_same_org_and_a_realistic_mix() {
    let a = seeded(42).await;
    let b = seeded(42).await;
    let c = seeded(43).await;
    let q = "SELECT Id, LastName, Email, Account.Name, OwnerId, SystemModstamp FROM Contact ORDER BY Id";
    assert_eq!(dump(&a, q).await, dump(&b, q).await);
    assert_ne!(dump(&a, q).await, dump(&c, q).await);
    assert_eq!(count(&a, "SELECT COUNT() FROM Account").await, 20);
    assert_eq!(count(&a, "SELECT COUNT() FROM Contact").await, 100);
    assert!(count(&a, "SELECT COUNT() FROM Contact WHERE AccountId != null").await > 70);
    assert!(
        count(
            &a,
            "SELECT COUNT() FROM Contact WHERE OwnerId != '005Kd0000000000AAA'"
        )
        .await
            > 0
    );
    let me = a.emu.org().current_user_id();
    let mine = a
        .query(&format!(
            "SELECT COUNT() FROM Contact WHERE OwnerId = '{me}'"
        ))
        .await
        .body["totalSize"]
        .as_u64()
        .unwrap_or(0);
    assert!((40..100).contains(&mine), "{mine}");
    assert!(count(&a, "SELECT COUNT() FROM Event WHERE IsAllDayEvent = true").await > 0);
    assert!(count(&a, "SELECT COUNT() FROM Event WHERE IsPrivate = true").await > 0);
    assert!(count(&a, "SELECT COUNT() FROM Event WHERE IsRecurrence2 = true").await >= 20);
    assert!(
        count(
            &a,
            "SELECT COUNT() FROM Event WHERE StartDateTime < 2024-05-06T10:00:00Z"
        )
        .await
            > 10
    );
    assert!(
        count(
            &a,
            "SELECT COUNT() FROM Event WHERE StartDateTime > 2024-05-06T10:00:00Z"
        )
        .await
            > 10
    );
    assert!(count(&a, "SELECT COUNT() FROM Event WHERE IsChild = true").await > 0);
    assert!(count(&a, "SELECT COUNT() FROM EventRelation").await > 0);
    assert_eq!(count(&a, "SELECT COUNT() FROM Task").await, 50);
    assert!(count(&a, "SELECT COUNT() FROM Task WHERE IsClosed = true").await > 0);
    assert!(count(&a, "SELECT COUNT() FROM Task WHERE WhoId != null").await > 0);
    assert!(
        count(
            &a,
            "SELECT COUNT() FROM Contact WHERE LastModifiedDate = LAST_N_DAYS:21"
        )
        .await
            > 0
    );
    let users = a
        .query("SELECT Username, TimeZoneSidKey, IsActive FROM User ORDER BY Username")
        .await
        .body;
    assert_eq!(users["totalSize"], 5);
    assert!(
        users["records"]
            .as_array()
            .is_some_and(|u| u.iter().all(|x| x["TimeZoneSidKey"].as_str().is_some()))
    );
    // Nothing in the demo org is stamped after "now".
    assert_eq!(
        count(
            &a,
            "SELECT COUNT() FROM Contact WHERE SystemModstamp > 2024-05-06T10:00:00Z"
        )
        .await,
        0
    );
    assert_eq!(
        count(
            &a,
            "SELECT COUNT() FROM Event WHERE SystemModstamp > 2024-05-06T10:00:00Z"
        )
        .await,
        0
    );
}

/// An org kept in a file comes back after a restart as it was — records, edits, the delete log —
/// and new ids continue after the kept ones.
#[tokio::test]
async fn an_org_kept_in_a_file_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let kept = EmulatorConfig {
        seed: Some(7),
        clock: Arc::new(FixedClock::at(2024, 5, 6, 10, 0, 0)),
        org_file: Some(dir.path().join("org.json")),
        ..EmulatorConfig::default()
    };
    let q = "SELECT Id, LastName, Title, SystemModstamp FROM Contact ORDER BY Id";
    let first = start_with(kept.clone()).await;
    let created = first
        .create("Contact", serde_json::json!({"LastName": "Kept"}))
        .await;
    let some = dump(&first, q).await["records"][0]["Id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        first
            .patch(
                &format!("/sobjects/Contact/{some}"),
                serde_json::json!({"Title": "Edited"})
            )
            .await
            .status,
        204
    );
    let doomed = dump(&first, q).await["records"][1]["Id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        first
            .delete(&format!("/sobjects/Contact/{doomed}"))
            .await
            .status,
        204
    );
    let before = dump(&first, q).await;
    first.emu.shutdown().await;

    let again = start_with(EmulatorConfig {
        seed: Some(99),
        ..kept
    })
    .await;
    assert_eq!(dump(&again, q).await, before, "the kept org, not seed 99's");
    let bin = dump(&again, "SELECT Id FROM Contact WHERE IsDeleted = true").await;
    assert!(
        bin.to_string().contains(&doomed),
        "in the recycle bin: {bin}"
    );
    let next = again
        .create("Contact", serde_json::json!({"LastName": "After"}))
        .await;
    assert!(next > created, "{next} continues after {created}");
}
