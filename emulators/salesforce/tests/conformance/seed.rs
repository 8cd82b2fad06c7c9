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
