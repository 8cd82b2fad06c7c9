//! sobjects/X/updated and /deleted: windows, minute truncation, errors, and the 15-day recycle bin.

use chrono::Duration;
use serde_json::json;

use super::common::{Sf, enc, start};

async fn updated(sf: &Sf, object: &str, start: &str, end: &str) -> super::common::Resp {
    sf.get(&format!(
        "/sobjects/{object}/updated/?start={}&end={}",
        enc(start),
        enc(end)
    ))
    .await
}

async fn deleted(sf: &Sf, object: &str, start: &str, end: &str) -> super::common::Resp {
    sf.get(&format!(
        "/sobjects/{object}/deleted/?start={}&end={}",
        enc(start),
        enc(end)
    ))
    .await
}

#[tokio::test]
async fn updated_ids_in_a_minute_truncated_window() {
    let sf = start().await;
    let a = sf.create("Contact", json!({"LastName": "A"})).await; // 10:00:00
    sf.emu.advance_clock(Duration::seconds(90));
    let b = sf.create("Contact", json!({"LastName": "B"})).await; // 10:01:30
    sf.emu.advance_clock(Duration::minutes(10)); // now 10:11:30
    let r = updated(
        &sf,
        "Contact",
        "2024-05-06T10:00:59+00:00",
        "2024-05-06T12:00:00Z",
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    // start 10:00:59 truncates to 10:00:00, so A is included; end is capped at now (10:11).
    assert_eq!(r.body["ids"], json!([a, b]));
    assert_eq!(r.body["latestDateCovered"], "2024-05-06T10:11:00.000+0000");
    let r = updated(
        &sf,
        "Contact",
        "2024-05-06T10:01:00Z",
        "2024-05-06T10:05:00Z",
    )
    .await;
    assert_eq!(r.body["ids"], json!([b]));
    assert_eq!(r.body["latestDateCovered"], "2024-05-06T10:05:00.000+0000");
    // An update moves a record into a later window; a delete takes it out of "updated".
    assert_eq!(
        sf.patch(&format!("/sobjects/Contact/{a}"), json!({"Title": "x"}))
            .await
            .status,
        204
    );
    sf.emu.advance_clock(Duration::minutes(1));
    let r = updated(
        &sf,
        "Contact",
        "2024-05-06T10:11:00Z",
        "2024-05-06T10:12:00Z",
    )
    .await;
    assert_eq!(r.body["ids"], json!([a]));
    assert_eq!(
        sf.delete(&format!("/sobjects/Contact/{a}")).await.status,
        204
    );
    let r = updated(
        &sf,
        "Contact",
        "2024-05-06T10:00:00Z",
        "2024-05-06T11:00:00Z",
    )
    .await;
    assert_eq!(r.body["ids"], json!([b]));
}

#[tokio::test]
async fn replication_date_errors() {
    let sf = start().await;
    let r = updated(
        &sf,
        "Contact",
        "2024-04-01T00:00:00Z",
        "2024-05-01T00:00:00Z",
    )
    .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.error_code(), "INVALID_REPLICATION_DATE");
    assert!(r.error_message().contains("30 days"));
    let r = updated(
        &sf,
        "Contact",
        "2024-05-06T09:00:00Z",
        "2024-05-06T09:00:30Z",
    )
    .await;
    assert_eq!(r.error_code(), "INVALID_REPLICATION_DATE");
    let r = updated(
        &sf,
        "Contact",
        "2024-05-06T10:00:00Z",
        "2024-05-06T09:00:00Z",
    )
    .await;
    assert_eq!(r.error_code(), "INVALID_REPLICATION_DATE");
    let r = updated(&sf, "Contact", "yesterday", "2024-05-06T09:00:00Z").await;
    assert_eq!(r.error_code(), "INVALID_REPLICATION_DATE");
    let r = sf
        .get("/sobjects/Contact/updated/?start=2024-05-06T09:00:00Z")
        .await;
    assert_eq!(r.status, 400);
    let r = deleted(
        &sf,
        "Contact",
        "2024-04-20T00:00:00Z",
        "2024-05-06T00:00:00Z",
    )
    .await;
    assert_eq!(
        r.error_code(),
        "INVALID_REPLICATION_DATE",
        "deleted only reaches 15 days back"
    );
    assert!(r.error_message().contains("15 days"));
}

#[tokio::test]
async fn deleted_records_until_the_recycle_bin_is_purged() {
    let sf = start().await;
    let a = sf.create("Task", json!({"Subject": "A"})).await;
    let b = sf.create("Task", json!({"Subject": "B"})).await;
    sf.emu.advance_clock(Duration::minutes(30));
    assert_eq!(sf.delete(&format!("/sobjects/Task/{a}")).await.status, 204); // deleted 10:30
    sf.emu.advance_clock(Duration::minutes(30)); // 11:00
    let r = deleted(&sf, "Task", "2024-05-06T10:00:00Z", "2024-05-07T00:00:00Z").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.body["deletedRecords"],
        json!([{"id": a, "deletedDate": "2024-05-06T10:30:00.000+0000"}])
    );
    assert_eq!(r.body["latestDateCovered"], "2024-05-06T11:00:00.000+0000");
    let earliest = r.body["earliestDateAvailable"]
        .as_str()
        .expect("earliest")
        .to_string();
    assert!(
        earliest.as_str() < "2024-05-06T10:00:00.000+0000",
        "{earliest}"
    );
    // Other objects' deletes are not listed.
    let r = deleted(
        &sf,
        "Contact",
        "2024-05-06T10:00:00Z",
        "2024-05-07T00:00:00Z",
    )
    .await;
    assert_eq!(r.body["deletedRecords"], json!([]));

    // 14 days later it's still in the bin; after 15 days it's purged for good.
    sf.emu.advance_clock(Duration::days(14));
    let token = sf.emu.issue_access_token();
    let get = |id: String, token: String| {
        let sf = &sf;
        async move {
            sf.send(
                sf.http
                    .get(sf.url(&format!("/sobjects/Task/{id}")))
                    .bearer_auth(token),
            )
            .await
        }
    };
    assert_eq!(
        get(a.clone(), token.clone()).await.error_code(),
        "ENTITY_IS_DELETED"
    );
    sf.emu.advance_clock(Duration::days(1));
    let token = sf.emu.issue_access_token();
    let r = get(a.clone(), token.clone()).await;
    assert_eq!(r.error_code(), "NOT_FOUND", "hard-deleted after 15 days");
    assert_eq!(sf.emu.org().count("Task", true), 1);
    // A client that waited too long can no longer ask for its old window...
    let r = sf
        .send(
            sf.http
                .get(sf.url(&format!(
                    "/sobjects/Task/deleted/?start={}&end={}",
                    enc("2024-05-06T10:00:00Z"),
                    enc("2024-05-21T12:00:00Z")
                )))
                .bearer_auth(&token),
        )
        .await;
    assert_eq!(r.error_code(), "INVALID_REPLICATION_DATE");
    // ...and an emptied recycle bin moves earliestDateAvailable past its start.
    let r = sf
        .send(
            sf.http
                .delete(sf.url(&format!("/sobjects/Task/{b}")))
                .bearer_auth(&token),
        )
        .await;
    assert_eq!(r.status, 204);
    sf.emu.advance_clock(Duration::minutes(5));
    sf.control(json!({"emptyRecycleBin": true})).await;
    let now_minute = sf
        .emu
        .now()
        .format("%Y-%m-%dT%H:%M:00.000+0000")
        .to_string();
    let start = (sf.emu.now() - Duration::days(1)).to_rfc3339();
    let r = sf
        .send(
            sf.http
                .get(sf.url(&format!(
                    "/sobjects/Task/deleted/?start={}&end={}",
                    enc(&start),
                    enc(&sf.emu.now().to_rfc3339())
                )))
                .bearer_auth(&token),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.body["deletedRecords"],
        json!([]),
        "the delete of B is gone with the bin"
    );
    assert_eq!(r.body["earliestDateAvailable"], now_minute.as_str());
    assert_eq!(
        sf.send(
            sf.http
                .get(sf.url(&format!("/sobjects/Task/{b}")))
                .bearer_auth(&token)
        )
        .await
        .error_code(),
        "NOT_FOUND"
    );
}
