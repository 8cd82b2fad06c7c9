//! Fault injection: seeded 503 shares, dropped connections, lock-row failures, the one-shot queue, control API.

use std::time::Instant;

use serde_json::json;
use tandem_salesforce_emulator::{FaultKind, FaultSettings};

use super::common::{self, Sf, start, start_with};

async fn statuses(sf: &Sf, n: usize) -> Vec<u16> {
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        out.push(sf.get("/limits").await.status);
    }
    out
}

#[tokio::test]
async fn unavailable_share_is_seeded_and_reproducible() {
    let run = |seed: u64| async move {
        let mut config = common::config();
        config.fault_seed = seed;
        let sf = start_with(config).await;
        sf.emu.faults().set(FaultSettings {
            unavailable_rate: 0.25,
            ..FaultSettings::default()
        });
        statuses(&sf, 80).await
    };
    let a = run(11).await;
    let b = run(11).await;
    let c = run(12).await;
    assert_eq!(a, b, "same seed, same faults");
    assert_ne!(a, c);
    let failures = a.iter().filter(|s| **s == 503).count();
    assert!((8..=35).contains(&failures), "{failures} of 80");
    assert!(a.iter().all(|s| *s == 200 || *s == 503));
}

#[tokio::test]
async fn edge_faults_have_their_bodies_and_are_not_counted() {
    let sf = start().await;
    sf.emu.faults().enqueue(FaultKind::Unavailable, 1);
    sf.emu.faults().enqueue(FaultKind::BadGateway, 1);
    sf.emu.faults().enqueue(FaultKind::ConcurrentLimit, 1);
    sf.emu.faults().enqueue(FaultKind::InvalidSession, 1);
    sf.emu.faults().enqueue(FaultKind::ServerError, 1);
    let r = sf.get("/limits").await;
    assert_eq!(r.status, 503);
    assert_eq!(r.error_code(), "SERVER_UNAVAILABLE");
    let r = sf.get("/limits").await;
    assert_eq!(r.status, 502);
    assert!(
        r.header("content-type")
            .is_some_and(|c| c.starts_with("text/html"))
    );
    let r = sf.get("/limits").await;
    assert_eq!(r.status, 403);
    assert_eq!(
        r.error_message(),
        "ConcurrentRequests (Concurrent API Requests) Limit exceeded."
    );
    let r = sf.get("/limits").await;
    assert_eq!(r.status, 401);
    assert_eq!(r.error_code(), "INVALID_SESSION_ID");
    let r = sf.get("/limits").await;
    assert_eq!(r.status, 500);
    let r = sf.get("/limits").await;
    assert_eq!(r.status, 200, "the queue is drained");
    assert_eq!(sf.emu.api_usage().0, 1, "only the successful call counted");
}

#[tokio::test]
async fn dropped_connection_is_a_client_side_error_after_the_write_happened() {
    let sf = start().await;
    sf.emu.faults().enqueue(FaultKind::DropConnection, 1);
    let err = sf
        .authed(reqwest::Method::POST, "/sobjects/Contact")
        .json(&json!({"LastName": "Maybe written"}))
        .send()
        .await;
    let failed = match err {
        Err(_) => true,
        Ok(resp) => resp.text().await.is_err(),
    };
    assert!(failed, "the client must see a broken response");
    // The write was processed before the connection broke: a retry must reconcile, not blindly re-create.
    assert_eq!(sf.emu.org().count("Contact", false), 1);
    // A query with its body cut off mid-way.
    sf.emu.faults().enqueue(FaultKind::DropConnection, 1);
    let resp = sf
        .authed(reqwest::Method::GET, "/query?q=SELECT+Id+FROM+Contact")
        .send()
        .await;
    let broken = match resp {
        Err(_) => true,
        Ok(r) => r.text().await.is_err(),
    };
    assert!(broken);
    // A 204 has no body to cut: the connection closes before any response.
    let id = sf.emu.org().with(|o| {
        let obj = o.schema.obj("Contact");
        o.records(obj)
            .next()
            .map(|r| r.id.clone())
            .unwrap_or_default()
    });
    sf.emu.faults().enqueue(FaultKind::DropConnection, 1);
    let resp = sf
        .authed(reqwest::Method::PATCH, &format!("/sobjects/Contact/{id}"))
        .json(&json!({"Title": "t"}))
        .send()
        .await;
    assert!(resp.is_err());
    assert_eq!(
        sf.get("/limits").await.status,
        200,
        "the server keeps serving"
    );
}

#[tokio::test]
async fn lock_row_failures_hit_writes_only() {
    let sf = start().await;
    sf.emu.faults().enqueue(FaultKind::UnableToLockRow, 1);
    assert_eq!(
        sf.get("/limits").await.status,
        200,
        "reads pass a queued lock-row fault by"
    );
    let r = sf
        .post("/sobjects/Contact", json!({"LastName": "Locked"}))
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.error_code(), "UNABLE_TO_LOCK_ROW");
    assert!(
        r.error_message()
            .starts_with("unable to obtain exclusive access to this record")
    );
    assert_eq!(sf.emu.org().count("Contact", true), 0);
    // In a collection every record reports it.
    sf.emu.faults().enqueue(FaultKind::UnableToLockRow, 1);
    let r = sf
        .post("/composite/sobjects", json!({"records": [{"attributes": {"type": "Contact"}, "LastName": "A"}, {"attributes": {"type": "Contact"}, "LastName": "B"}]}))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body[0]["errors"][0]["statusCode"], "UNABLE_TO_LOCK_ROW");
    assert_eq!(r.body[1]["errors"][0]["statusCode"], "UNABLE_TO_LOCK_ROW");
    assert_eq!(sf.emu.org().count("Contact", true), 0);
    // In a Composite request the subrequest that meets the locked row fails alone, having done
    // nothing, and the others are saved (Composite resource: with allOrNone false, "if a
    // subrequest fails, the other subrequests are still processed").
    sf.emu.faults().enqueue(FaultKind::UnableToLockRow, 1);
    let sub = |reference: &str, last: &str| {
        json!({"method": "POST", "url": "/services/data/v60.0/sobjects/Contact",
               "referenceId": reference, "body": {"LastName": last}})
    };
    let r = sf
        .post(
            "/composite",
            json!({"allOrNone": false, "compositeRequest": [sub("a", "A"), sub("b", "B")]}),
        )
        .await;
    assert_eq!(r.status, 200);
    let answers = &r.body["compositeResponse"];
    assert_eq!(answers[0]["httpStatusCode"], 400);
    assert_eq!(answers[0]["body"][0]["errorCode"], "UNABLE_TO_LOCK_ROW");
    assert_eq!(answers[1]["httpStatusCode"], 201);
    assert_eq!(sf.emu.org().count("Contact", true), 1);
    // A 100% share via the settings.
    sf.emu.faults().update(|s| s.lock_row_rate = 1.0);
    assert_eq!(
        sf.post("/sobjects/Contact", json!({"LastName": "x"}))
            .await
            .error_code(),
        "UNABLE_TO_LOCK_ROW"
    );
    assert_eq!(sf.query("SELECT Id FROM Contact").await.status, 200);
    sf.emu.faults().clear();
    assert_eq!(
        sf.post("/sobjects/Contact", json!({"LastName": "x"}))
            .await
            .status,
        201
    );
}

#[tokio::test]
async fn control_endpoint_and_state() {
    let sf = start().await;
    let r = sf
        .control(json!({
            "faults": {"latencyMs": 30},
            "enqueue": [{"fault": "unavailable", "count": 2}, {"fault": "dropConnection"}],
            "faultSeed": 5
        }))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.body["queuedFaults"],
        json!(["unavailable", "unavailable", "dropConnection"])
    );
    assert_eq!(r.body["faults"]["latencyMs"], 30);
    assert_eq!(r.body["faultSeed"], 5);
    let started = Instant::now();
    assert_eq!(sf.get("/limits").await.status, 503);
    assert!(started.elapsed().as_millis() >= 30, "latency was added");
    let r = sf.control(json!({"clearQueue": true, "faults": {}})).await;
    assert_eq!(r.body["queuedFaults"], json!([]));
    let state = sf
        .send(
            sf.http
                .get(format!("{}/__emulator/state", sf.emu.base_url())),
        )
        .await;
    assert_eq!(state.status, 200);
    assert_eq!(state.body["now"], "2024-05-06T10:00:00.000+0000");
    assert_eq!(state.body["records"]["User"]["live"], 5);
    assert_eq!(
        state.body["apiUsage"]["used"], 0,
        "control calls and faulted calls are not counted"
    );
    let r = sf.control(json!({"advanceClockSeconds": 3600})).await;
    assert_eq!(r.body["now"], "2024-05-06T11:00:00.000+0000");
    let r = sf.control(json!({"advanceClockSeconds": -5})).await;
    assert_eq!(r.status, 400);
    let r = sf.control(json!({"bogus": true})).await;
    assert_eq!(r.status, 400);
    let r = sf
        .control(json!({"enqueue": [{"fault": "meteorStrike"}]}))
        .await;
    assert_eq!(r.status, 400);
}

#[tokio::test]
async fn shutdown_stops_serving() {
    let sf = start().await;
    let url = sf.url("/limits");
    assert_eq!(sf.get("/limits").await.status, 200);
    let Sf { emu, http, token } = sf;
    emu.shutdown().await;
    let fresh = reqwest::Client::new();
    let r = fresh.get(&url).bearer_auth(&token).send().await;
    assert!(r.is_err(), "nothing listens after shutdown");
    drop(http);
}
