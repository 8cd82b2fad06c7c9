//! OAuth: refresh-token, JWT-bearer and authorization-code flows; rotation; expiry as a 401.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chrono::Duration;
use serde_json::json;
use sha2::{Digest, Sha256};
use tandem_salesforce_emulator::oauth::hmac_sha256;

use super::common::{self, Sf, start, start_with};

async fn refresh(sf: &Sf, token: &str) -> common::Resp {
    sf.token_request(&[
        ("grant_type", "refresh_token"),
        ("client_id", &sf.emu.client_id()),
        ("client_secret", &sf.emu.client_secret()),
        ("refresh_token", token),
    ])
    .await
}

#[tokio::test]
async fn refresh_flow_returns_the_documented_shape_without_expires_in() {
    let sf = start().await;
    let r = refresh(&sf, &sf.emu.initial_refresh_token()).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let b = &r.body;
    for key in [
        "access_token",
        "instance_url",
        "id",
        "token_type",
        "issued_at",
        "signature",
        "scope",
    ] {
        assert!(b.get(key).is_some(), "missing {key}: {b}");
    }
    assert!(b.get("expires_in").is_none());
    assert!(b.get("refresh_token").is_none(), "no rotation by default");
    assert_eq!(b["token_type"], "Bearer");
    assert_eq!(b["instance_url"], sf.emu.base_url());
    let id = b["id"].as_str().expect("id");
    assert!(
        id.starts_with(&format!("{}/id/00D", sf.emu.base_url())),
        "{id}"
    );
    let issued_at = b["issued_at"].as_str().expect("issued_at");
    assert_eq!(issued_at, sf.emu.now().timestamp_millis().to_string());
    // signature = base64(HMAC-SHA256(client_secret, id + issued_at))
    let expected = STANDARD.encode(hmac_sha256(
        sf.emu.client_secret().as_bytes(),
        format!("{id}{issued_at}").as_bytes(),
    ));
    assert_eq!(b["signature"], expected);
    // The new access token works for data calls.
    let token = b["access_token"].as_str().expect("token");
    let q = sf
        .send(sf.http.get(sf.url("/limits")).bearer_auth(token))
        .await;
    assert_eq!(q.status, 200);
}

#[tokio::test]
async fn refresh_failures_use_the_oauth_error_shape() {
    let sf = start().await;
    let r = refresh(&sf, "not-a-token").await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.body,
        json!({"error": "invalid_grant", "error_description": "expired access/refresh token"})
    );
    let r = sf
        .token_request(&[
            ("grant_type", "refresh_token"),
            ("client_id", "someone-else"),
            ("client_secret", "x"),
            ("refresh_token", "y"),
        ])
        .await;
    assert_eq!(r.body["error"], "invalid_client_id");
    let r = sf
        .token_request(&[
            ("grant_type", "refresh_token"),
            ("client_id", &sf.emu.client_id()),
            ("client_secret", "wrong"),
            ("refresh_token", &sf.emu.initial_refresh_token()),
        ])
        .await;
    assert_eq!(r.body["error"], "invalid_client");
    let r = sf.token_request(&[("grant_type", "password")]).await;
    assert_eq!(
        r.body,
        json!({"error": "unsupported_grant_type", "error_description": "grant type not supported"})
    );
    sf.emu.revoke_refresh_tokens();
    let r = refresh(&sf, &sf.emu.initial_refresh_token()).await;
    assert_eq!(r.body["error"], "invalid_grant");
}

#[tokio::test]
async fn rotation_spends_the_old_refresh_token() {
    let mut config = common::config();
    config.rotate_refresh_tokens = true;
    let sf = start_with(config).await;
    let first = refresh(&sf, &sf.emu.initial_refresh_token()).await;
    assert_eq!(first.status, 200);
    let rotated = first.body["refresh_token"]
        .as_str()
        .expect("rotated token")
        .to_string();
    assert_ne!(rotated, sf.emu.initial_refresh_token());
    let reuse = refresh(&sf, &sf.emu.initial_refresh_token()).await;
    assert_eq!(reuse.status, 400);
    assert_eq!(reuse.body["error"], "invalid_grant");
    let second = refresh(&sf, &rotated).await;
    assert_eq!(second.status, 200);
    assert!(
        second.body["refresh_token"]
            .as_str()
            .is_some_and(|t| t != rotated)
    );
}

#[tokio::test]
async fn expired_session_is_a_401_and_activity_extends_it() {
    let sf = start().await;
    let ok = sf.get("/limits").await;
    assert_eq!(ok.status, 200);
    // 90 minutes in: still valid, and the call (past half the TTL) extends the session.
    sf.emu.advance_clock(Duration::minutes(90));
    assert_eq!(sf.get("/limits").await.status, 200);
    sf.emu.advance_clock(Duration::minutes(90));
    assert_eq!(
        sf.get("/limits").await.status,
        200,
        "activity extended the session"
    );
    sf.emu.advance_clock(Duration::minutes(121));
    let r = sf.get("/limits").await;
    assert_eq!(r.status, 401);
    assert_eq!(
        r.text,
        r#"[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]"#
    );
    assert!(r.header("sforce-limit-info").is_some());
    // No bearer at all is the same 401.
    let r = sf.send(sf.http.get(sf.url("/limits"))).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.error_code(), "INVALID_SESSION_ID");
}

#[tokio::test]
async fn expire_all_tokens_control() {
    let sf = start().await;
    assert_eq!(sf.get("/limits").await.status, 200);
    let r = sf.control(json!({"expireAccessTokens": true})).await;
    assert_eq!(r.status, 200);
    assert_eq!(sf.get("/limits").await.status, 401);
    // A refresh gets a working token again.
    let r = refresh(&sf, &sf.emu.initial_refresh_token()).await;
    let token = r.body["access_token"].as_str().expect("token");
    assert_eq!(
        sf.send(sf.http.get(sf.url("/limits")).bearer_auth(token))
            .await
            .status,
        200
    );
}

fn jwt(header: &str, claims: &serde_json::Value) -> String {
    format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(claims.to_string()),
        URL_SAFE_NO_PAD.encode(b"any-rs256-signature-bytes")
    )
}

async fn jwt_grant(sf: &Sf, assertion: &str) -> common::Resp {
    sf.token_request(&[
        ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
        ("assertion", assertion),
    ])
    .await
}

#[tokio::test]
async fn jwt_bearer_accepts_valid_claims_and_rejects_the_rest() {
    let sf = start().await;
    let exp = sf.emu.now().timestamp() + 180;
    let claims = |iss: &str, sub: &str, aud: &str, exp: i64| json!({"iss": iss, "sub": sub, "aud": aud, "exp": exp});
    let header = r#"{"alg":"RS256"}"#;
    let ok = jwt_grant(
        &sf,
        &jwt(
            header,
            &claims(
                "tandem-demo",
                "demo@tandem.example",
                "https://login.salesforce.com",
                exp,
            ),
        ),
    )
    .await;
    assert_eq!(ok.status, 200, "{}", ok.text);
    assert!(
        ok.body.get("refresh_token").is_none(),
        "JWT flow never returns a refresh token"
    );
    assert!(ok.body["access_token"].as_str().is_some());

    let cases = [
        (
            jwt(
                header,
                &claims(
                    "tandem-demo",
                    "demo@tandem.example",
                    "https://login.salesforce.com",
                    exp - 400,
                ),
            ),
            "invalid_grant",
            "expired authorization code",
        ),
        (
            jwt(
                header,
                &claims(
                    "other-app",
                    "demo@tandem.example",
                    "https://login.salesforce.com",
                    exp,
                ),
            ),
            "invalid_client_id",
            "client identifier invalid",
        ),
        (
            jwt(
                header,
                &claims(
                    "tandem-demo",
                    "demo@tandem.example",
                    "https://evil.example",
                    exp,
                ),
            ),
            "invalid_grant",
            "audience is invalid",
        ),
        (
            jwt(
                header,
                &claims(
                    "tandem-demo",
                    "nobody@tandem.example",
                    "https://login.salesforce.com",
                    exp,
                ),
            ),
            "invalid_grant",
            "user hasn't approved this consumer",
        ),
        (
            jwt(
                header,
                &claims(
                    "tandem-demo",
                    "sam.carter@tandem.example",
                    "https://login.salesforce.com",
                    exp,
                ),
            ),
            "invalid_grant",
            "user hasn't approved this consumer",
        ),
        (
            jwt(
                r#"{"alg":"HS256"}"#,
                &claims(
                    "tandem-demo",
                    "demo@tandem.example",
                    "https://login.salesforce.com",
                    exp,
                ),
            ),
            "invalid_grant",
            "invalid assertion",
        ),
        (
            "not.a.jwt!".to_string(),
            "invalid_grant",
            "invalid assertion",
        ),
        (
            "onlyonepart".to_string(),
            "invalid_grant",
            "invalid assertion",
        ),
        (
            jwt(header, &json!({"iss": "tandem-demo"})),
            "invalid_grant",
            "invalid assertion",
        ),
    ];
    for (assertion, error, description) in cases {
        let r = jwt_grant(&sf, &assertion).await;
        assert_eq!(r.status, 400, "{assertion}");
        assert_eq!(
            r.body,
            json!({"error": error, "error_description": description}),
            "{assertion}"
        );
    }
}

#[tokio::test]
async fn web_server_flow_with_pkce() {
    let sf = start().await;
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let verifier = "a-long-random-code-verifier-value-1234567890";
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    let url = format!(
        "{}/services/oauth2/authorize?response_type=code&client_id=tandem-demo&redirect_uri={}&state=xyz&code_challenge={challenge}&code_challenge_method=S256",
        sf.emu.base_url(),
        common::enc("http://localhost:7777/callback")
    );
    let r = no_redirects.get(url).send().await.expect("authorize");
    assert_eq!(r.status().as_u16(), 302);
    let location = r.headers()["location"]
        .to_str()
        .expect("location")
        .to_string();
    assert!(
        location.starts_with("http://localhost:7777/callback?code="),
        "{location}"
    );
    assert!(location.ends_with("&state=xyz"), "{location}");
    let code = location
        .split(['?', '&'])
        .find_map(|p| p.strip_prefix("code="))
        .expect("code")
        .to_string();
    let code = form_urlencoded::parse(format!("c={code}").as_bytes())
        .next()
        .expect("decoded")
        .1
        .to_string();
    let exchange = |verifier: &'static str, code: String| {
        let sf = &sf;
        async move {
            sf.token_request(&[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("client_id", "tandem-demo"),
                ("redirect_uri", "http://localhost:7777/callback"),
                ("code_verifier", verifier),
            ])
            .await
        }
    };
    let bad = exchange("wrong-verifier", code.clone()).await;
    assert_eq!(bad.status, 400);
    assert_eq!(bad.body["error"], "invalid_grant");
    // A failed exchange burns the code, like a real one-time code.
    let reused = exchange("a-long-random-code-verifier-value-1234567890", code).await;
    assert_eq!(
        reused.body,
        json!({"error": "invalid_grant", "error_description": "expired authorization code"})
    );

    let r = no_redirects
        .get(format!(
            "{}/services/oauth2/authorize?response_type=code&client_id=tandem-demo&redirect_uri={}",
            sf.emu.base_url(),
            common::enc("http://localhost:7777/cb")
        ))
        .send()
        .await
        .expect("authorize");
    let location = r.headers()["location"]
        .to_str()
        .expect("location")
        .to_string();
    let code = location.split("code=").nth(1).expect("code").to_string();
    let code = form_urlencoded::parse(format!("c={code}").as_bytes())
        .next()
        .expect("decoded")
        .1
        .to_string();
    let ok = sf
        .token_request(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("client_id", "tandem-demo"),
            ("client_secret", &sf.emu.client_secret()),
            ("redirect_uri", "http://localhost:7777/cb"),
        ])
        .await;
    assert_eq!(ok.status, 200, "{}", ok.text);
    let refresh_token = ok.body["refresh_token"]
        .as_str()
        .expect("web-server flow returns a refresh token");
    assert_eq!(refresh(&sf, refresh_token).await.status, 200);

    let bad_client = no_redirects
        .get(format!("{}/services/oauth2/authorize?response_type=code&client_id=nope&redirect_uri=http://x/cb", sf.emu.base_url()))
        .send()
        .await
        .expect("authorize");
    assert_eq!(bad_client.status().as_u16(), 400);
}

#[tokio::test]
async fn introspect_and_revoke() {
    let sf = start().await;
    let r = sf
        .send(
            sf.http
                .post(format!("{}/services/oauth2/introspect", sf.emu.base_url()))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .body(common::form(&[
                    ("token", &sf.token),
                    ("client_id", "tandem-demo"),
                    ("client_secret", "tandem-demo-secret"),
                ])),
        )
        .await;
    assert_eq!(r.body["active"], true);
    assert_eq!(r.body["username"], "demo@tandem.example");
    let exp = r.body["exp"].as_i64().expect("exp");
    assert_eq!(exp - r.body["iat"].as_i64().expect("iat"), 7200);
    let r = sf
        .send(
            sf.http
                .post(format!("{}/services/oauth2/revoke", sf.emu.base_url()))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .body(common::form(&[("token", &sf.token)])),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(sf.get("/limits").await.status, 401);
}
