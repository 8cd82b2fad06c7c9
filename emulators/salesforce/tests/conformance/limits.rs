//! The daily allocation: Sforce-Limit-Info on every response, /limits, 403 REQUEST_LIMIT_EXCEEDED, versions not counted.

use chrono::Duration;
use serde_json::json;

use super::common::{self, start, start_with};

#[tokio::test]
async fn every_data_response_carries_usage_and_versions_are_free() {
    let sf = start().await;
    let r = sf.get("/limits").await;
    assert_eq!(r.header("sforce-limit-info"), Some("api-usage=1/15000"));
    assert_eq!(
        r.body["DailyApiRequests"],
        json!({"Max": 15000, "Remaining": 14999})
    );
    let r = sf.get("/sobjects/Contact/003Kd0000000000AAA").await;
    assert_eq!(r.status, 404);
    assert_eq!(
        r.header("sforce-limit-info"),
        Some("api-usage=2/15000"),
        "errors count too"
    );
    // The Versions resource needs no token and is not counted.
    let v = sf
        .send(sf.http.get(format!("{}/services/data/", sf.emu.base_url())))
        .await;
    assert_eq!(v.status, 200);
    let versions = v.body.as_array().expect("array");
    assert!(
        versions.iter().any(|x| x
            == &json!({"label": "Spring '24", "url": "/services/data/v60.0", "version": "60.0"}))
    );
    assert_eq!(sf.emu.api_usage(), (2, 15000));
    // Unknown API versions are 404 NOT_FOUND.
    let r = sf
        .send(
            sf.http
                .get(format!("{}/services/data/v99.0/limits", sf.emu.base_url()))
                .bearer_auth(&sf.token),
        )
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(
        r.text,
        r#"[{"errorCode":"NOT_FOUND","message":"The requested resource does not exist"}]"#
    );
}

#[tokio::test]
async fn exhausted_allocation_is_403_and_recovers_in_a_rolling_day() {
    let mut config = common::config();
    config.daily_api_limit = 3;
    let sf = start_with(config).await;
    for n in 1..=3 {
        let r = sf.get("/limits").await;
        assert_eq!(r.status, 200);
        assert_eq!(
            r.header("sforce-limit-info"),
            Some(format!("api-usage={n}/3").as_str())
        );
    }
    let r = sf.get("/limits").await;
    assert_eq!(r.status, 403);
    assert_eq!(
        r.text,
        r#"[{"message":"TotalRequests Limit exceeded.","errorCode":"REQUEST_LIMIT_EXCEEDED"}]"#
    );
    assert_eq!(r.header("sforce-limit-info"), Some("api-usage=3/3"));
    // Refused calls don't count; 24 hours later the window has rolled.
    // (the first token outlives its 2 h session, so use fresh ones)
    sf.emu.advance_clock(Duration::hours(23));
    let token = sf.emu.issue_access_token();
    let r = sf
        .send(sf.http.get(sf.url("/limits")).bearer_auth(&token))
        .await;
    assert_eq!(r.status, 403);
    sf.emu
        .advance_clock(Duration::hours(1) + Duration::seconds(1));
    let r = sf
        .send(sf.http.get(sf.url("/limits")).bearer_auth(&token))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.header("sforce-limit-info"), Some("api-usage=1/3"));
}

#[tokio::test]
async fn forced_exhaustion_by_control() {
    let sf = start().await;
    let r = sf
        .control(json!({"faults": {"dailyLimitExhausted": true}}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = sf.query("SELECT Id FROM Contact").await;
    assert_eq!(r.status, 403);
    assert_eq!(r.error_code(), "REQUEST_LIMIT_EXCEEDED");
    assert_eq!(r.header("sforce-limit-info"), Some("api-usage=15000/15000"));
    sf.control(json!({"faults": {}})).await;
    assert_eq!(sf.query("SELECT Id FROM Contact").await.status, 200);
}
