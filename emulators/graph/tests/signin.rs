//! The emulator's identity platform against Microsoft's documentation
//! (MicrosoftDocs/entra-docs, docs/identity-platform/…), over HTTP: each test names the page
//! the behaviour it checks follows, and where the emulator is stricter than the platform, says
//! so.

mod common;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Duration;
use common::{Client, Clock, error_code};
use reqwest::StatusCode;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use tandem_graph_emulator::{DEFAULT_CLIENT_ID, GraphHandle};

const REDIRECT: &str = "http://localhost:53123/callback";
const VERIFIER: &str = "a-verifier-of-at-least-43-characters-from-the-unreserved-set";

fn challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// A client that does not follow redirects, so a test reads the authorize answer.
fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// A form body (`application/x-www-form-urlencoded`), as the token endpoints take.
fn form(request: reqwest::RequestBuilder, pairs: &[(&str, &str)]) -> reqwest::RequestBuilder {
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    request
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
}

fn authorize_url(graph: &GraphHandle, params: &[(&str, &str)]) -> String {
    reqwest::Url::parse_with_params(&format!("{}/authorize", graph.authority("common")), params)
        .unwrap()
        .to_string()
}

/// The usual authorize request of a desktop app, with `scope`.
fn sign_in_url(graph: &GraphHandle, scope: &str) -> String {
    authorize_url(
        graph,
        &[
            ("client_id", DEFAULT_CLIENT_ID),
            ("response_type", "code"),
            ("redirect_uri", REDIRECT),
            ("scope", scope),
            ("state", "s-42"),
            ("code_challenge", &challenge(VERIFIER)),
            ("code_challenge_method", "S256"),
        ],
    )
}

/// The query of a redirect's `Location`.
async fn redirected(url: &str) -> (String, HashMap<String, String>) {
    let response = browser().get(url).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::FOUND, "{url}");
    let location = response.headers()["location"].to_str().unwrap().to_string();
    let parsed = reqwest::Url::parse(&location).unwrap();
    let query = parsed.query_pairs().into_owned().collect();
    (location, query)
}

async fn token(graph: &GraphHandle, tenant: &str, pairs: &[(&str, &str)]) -> (StatusCode, Value) {
    let request = reqwest::Client::new().post(format!("{}/token", graph.authority(tenant)));
    let response = form(request, pairs).send().await.unwrap();
    (response.status(), response.json().await.unwrap())
}

async fn redeem(graph: &GraphHandle, code: &str, verifier: &str) -> (StatusCode, Value) {
    token(
        graph,
        "common",
        &[
            ("client_id", DEFAULT_CLIENT_ID),
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", verifier),
        ],
    )
    .await
}

async fn refresh(
    graph: &GraphHandle,
    refresh_token: &str,
    scope: Option<&str>,
) -> (StatusCode, Value) {
    let mut pairs = vec![
        ("client_id", DEFAULT_CLIENT_ID),
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token),
    ];
    if let Some(scope) = scope {
        pairs.push(("scope", scope));
    }
    token(graph, "common", &pairs).await
}

/// The platform's error: `error`, and the AADSTS code in `error_codes` and at the start of
/// `error_description`.
fn aadsts(body: &Value) -> (&str, u64) {
    let code = body["error_codes"][0].as_u64().unwrap_or_default();
    assert!(
        body["error_description"]
            .as_str()
            .unwrap_or_default()
            .starts_with(&format!("AADSTS{code}: ")),
        "{body}"
    );
    (body["error"].as_str().unwrap_or_default(), code)
}

/// v2-oauth2-auth-code-flow.md: the authorize request answers at the redirect URI with `code`
/// and `state`; the code is redeemed at the token endpoint with the PKCE verifier (RFC 7636
/// S256) for a Bearer access token (`expires_in` 3599) and, with `offline_access`, a refresh
/// token; reference-error-codes.md: a wrong verifier is AADSTS501481, a second redemption
/// AADSTS54005, a code older than its 10 minutes AADSTS70008; the access token works for an
/// hour.
#[tokio::test]
async fn an_authorization_code_with_pkce_is_redeemed_once_for_tokens() {
    let clock = Clock::at(2027, 3, 1);
    let graph = clock.start().await;
    let scope = "offline_access https://graph.microsoft.com/Contacts.ReadWrite";
    let (location, query) = redirected(&sign_in_url(&graph, scope)).await;
    assert!(location.starts_with(REDIRECT), "{location}");
    assert_eq!(query["state"], "s-42");
    let code = &query["code"];

    let (status, body) = redeem(&graph, code, "not-the-verifier").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(aadsts(&body), ("invalid_grant", 501481));

    let (status, tokens) = redeem(&graph, code, VERIFIER).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 3599);
    assert!(
        tokens["scope"]
            .as_str()
            .unwrap()
            .contains("Contacts.ReadWrite")
    );
    assert!(tokens["refresh_token"].is_string());

    let (status, body) = redeem(&graph, code, VERIFIER).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(aadsts(&body), ("invalid_grant", 54005));

    let mut api = Client::with(graph);
    api.token = tokens["access_token"].as_str().unwrap().to_string();
    let (status, _) = api.get("/me/contactFolders", &[]).await;
    assert_eq!(status, StatusCode::OK, "the platform's token is the API's");

    let (_, query) = redirected(&sign_in_url(&api.graph, scope)).await;
    clock.advance(Duration::minutes(10));
    let (status, body) = redeem(&api.graph, &query["code"], VERIFIER).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(aadsts(&body), ("invalid_grant", 70008));

    clock.advance(Duration::minutes(50));
    let (status, body) = api.get("/me/contactFolders", &[]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "an hour later: {body}");
    assert_eq!(error_code(&body), "InvalidAuthenticationToken");
}

/// v2-oauth2-auth-code-flow.md, "Error response" and "Error codes for authorization endpoint
/// errors": errors go back to the redirect URI with `error` and `state` — except, as RFC 6749
/// §4.1.2.1 requires, for an unknown client (AADSTS700016) or a redirect URI a desktop app may
/// not use (AADSTS50011), which are answered on the platform's own page. Stricter than the
/// platform: the emulator requires PKCE with S256 (RFC 7636 §4.2). Token endpoint errors
/// ("Error codes for token endpoint errors"): an unknown grant type, a public client presenting
/// a secret (AADSTS700025).
#[tokio::test]
async fn authorize_and_token_refuse_what_a_desktop_app_must_not_send() {
    let graph = Clock::at(2027, 3, 1).start().await;
    let good_challenge = challenge(VERIFIER);
    let with = |changes: &[(&'static str, &'static str)]| {
        let mut params: Vec<(&str, &str)> = vec![
            ("client_id", DEFAULT_CLIENT_ID),
            ("response_type", "code"),
            ("redirect_uri", REDIRECT),
            ("scope", "Calendars.ReadWrite"),
            ("state", "s-1"),
            ("code_challenge", &good_challenge),
            ("code_challenge_method", "S256"),
        ];
        for (name, value) in changes {
            params.retain(|(n, _)| n != name);
            if !value.is_empty() {
                params.push((name, value));
            }
        }
        authorize_url(&graph, &params)
    };

    for (changes, code) in [
        (
            &[("client_id", "11111111-2222-3333-4444-555555555555")][..],
            700016,
        ),
        (
            &[("redirect_uri", "https://app.example.com/callback")][..],
            50011,
        ),
    ] {
        let response = browser().get(with(changes)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        let body: Value = response.json().await.unwrap();
        assert_eq!(aadsts(&body).1, code);
    }
    for changes in [
        &[("code_challenge", "")][..],
        &[("code_challenge_method", "plain")][..],
        &[("code_challenge_method", "")][..],
    ] {
        let (location, query) = redirected(&with(changes)).await;
        assert!(location.starts_with(REDIRECT));
        assert_eq!(query["error"], "invalid_request", "{location}");
        assert_eq!(query["state"], "s-1");
        assert!(!query.contains_key("code"));
    }
    let (_, query) = redirected(&with(&[("response_type", "token")])).await;
    assert_eq!(query["error"], "unsupported_response_type");

    // Another registered client, another tenant segment, the loopback address.
    graph.register_client("0ccac1e0-0000-4000-8000-00000000beef");
    let (_, query) = redirected(&with(&[
        ("client_id", "0ccac1e0-0000-4000-8000-00000000beef"),
        ("redirect_uri", "http://127.0.0.1:40000/"),
    ]))
    .await;
    assert!(query.contains_key("code"), "{query:?}");

    let (status, body) = token(
        &graph,
        "organizations",
        &[("client_id", DEFAULT_CLIENT_ID), ("grant_type", "password")],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(aadsts(&body), ("unsupported_grant_type", 70003));
    let (status, body) = token(
        &graph,
        "common",
        &[
            ("client_id", DEFAULT_CLIENT_ID),
            ("grant_type", "refresh_token"),
            ("refresh_token", "x"),
            ("client_secret", "s3cret"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(aadsts(&body), ("invalid_client", 700025));
    let (status, body) = token(&graph, "common", &[("grant_type", "authorization_code")]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(aadsts(&body), ("invalid_request", 900144));
    // The token endpoint takes a form, not JSON, and POSTs only (AADSTS900561).
    let response = reqwest::Client::new()
        .post(format!("{}/token", graph.authority("common")))
        .json(&serde_json::json!({"grant_type": "refresh_token"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "invalid_request");
    let response = reqwest::Client::new()
        .get(format!("{}/token", graph.authority("common")))
        .send()
        .await
        .unwrap();
    let body: Value = response.json().await.unwrap();
    assert_eq!(aadsts(&body).1, 900561);
}

/// v2-oauth2-auth-code-flow.md, "Refresh the access token": a refresh answers a new access
/// token and a new refresh token ("Replace the old refresh token with this newly acquired
/// refresh token"); its scopes must be the consented ones or fewer (more: AADSTS65001). The old
/// refresh token lives on, as documented; with strict rotation asked for, it is refused once
/// used ("You're expected to discard the old refresh token"), so a test catches a client that
/// does not keep the new one. refresh-tokens.md: revoked sessions refuse refresh tokens
/// (AADSTS50173). Without `offline_access` there is no refresh token at all.
#[tokio::test]
async fn refresh_tokens_rotate_and_a_used_or_revoked_one_is_refused() {
    let graph = Clock::at(2027, 3, 1).start().await;
    let scope = "offline_access Contacts.ReadWrite Calendars.ReadWrite";
    let (_, query) = redirected(&sign_in_url(&graph, scope)).await;
    let (_, first) = redeem(&graph, &query["code"], VERIFIER).await;
    let old = first["refresh_token"].as_str().unwrap().to_string();

    let (status, second) = refresh(&graph, &old, None).await;
    assert_eq!(status, StatusCode::OK, "{second}");
    let new = second["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(new, old, "a new refresh token");
    assert_ne!(second["access_token"], first["access_token"]);

    let (status, again) = refresh(&graph, &old, None).await;
    assert_eq!(status, StatusCode::OK, "the old one lives on: {again}");
    graph.rotate_refresh_tokens_strictly();
    let (status, body) = refresh(&graph, &old, None).await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "strictly, the old one is spent"
    );
    assert_eq!(aadsts(&body), ("invalid_grant", 70000));

    let (status, body) = refresh(&graph, &new, Some("Tasks.ReadWrite")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(aadsts(&body), ("invalid_grant", 65001));
    let (status, narrower) = refresh(&graph, &new, Some("Calendars.ReadWrite")).await;
    assert_eq!(status, StatusCode::OK, "{narrower}");
    let mut api = Client::with(graph);
    api.token = narrower["access_token"].as_str().unwrap().to_string();
    let (status, _) = api.get("/me/calendars", &[]).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = api.get("/me/contactFolders", &[]).await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "the narrower token has no contacts"
    );

    api.graph.revoke_refresh_tokens();
    let latest = narrower["refresh_token"].as_str().unwrap();
    let (status, body) = refresh(&api.graph, latest, None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(aadsts(&body), ("invalid_grant", 50173));

    let (_, query) = redirected(&sign_in_url(&api.graph, "Contacts.Read")).await;
    let (status, online) = redeem(&api.graph, &query["code"], VERIFIER).await;
    assert_eq!(status, StatusCode::OK);
    assert!(online.get("refresh_token").is_none(), "{online}");
}

async fn device_code(graph: &GraphHandle) -> Value {
    let request =
        reqwest::Client::new().post(format!("{}/devicecode", graph.authority("organizations")));
    let response = form(
        request,
        &[
            ("client_id", DEFAULT_CLIENT_ID),
            ("scope", "offline_access Tasks.ReadWrite"),
        ],
    )
    .send()
    .await
    .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

async fn poll(graph: &GraphHandle, device_code: &str) -> (StatusCode, Value) {
    token(
        graph,
        "organizations",
        &[
            ("client_id", DEFAULT_CLIENT_ID),
            ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
            ("device_code", device_code),
        ],
    )
    .await
}

/// v2-oauth2-device-code.md: `/devicecode` answers a device code, a user code, the
/// verification URI, `expires_in` 900 and `interval`, and a message naming the code; polling
/// the token endpoint answers `authorization_pending` until the user signs in, then the
/// tokens; `authorization_declined` when they decline, `expired_token` after 15 minutes,
/// `bad_verification_code` for a code it never gave.
#[tokio::test]
async fn a_device_code_sign_in_is_pending_until_the_user_approves() {
    let clock = Clock::at(2027, 3, 1);
    let graph = clock.start().await;
    let flow = device_code(&graph).await;
    assert_eq!(
        flow["verification_uri"],
        "https://microsoft.com/devicelogin"
    );
    assert_eq!(flow["expires_in"], 900);
    assert_eq!(flow["interval"], 5);
    let user_code = flow["user_code"].as_str().unwrap();
    assert!(flow["message"].as_str().unwrap().contains(user_code));
    let code = flow["device_code"].as_str().unwrap();

    let (status, body) = poll(&graph, code).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "authorization_pending");
    graph.approve_device_code(user_code).unwrap();
    let (status, tokens) = poll(&graph, code).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    assert!(tokens["access_token"].is_string() && tokens["refresh_token"].is_string());
    let (status, body) = poll(&graph, code).await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "a device code is redeemed once"
    );
    assert_eq!(body["error"], "invalid_grant");

    graph.device_code_interval(0);
    let declined = device_code(&graph).await;
    assert_eq!(declined["interval"], 0, "a test's client need not wait");
    graph
        .decline_device_code(declined["user_code"].as_str().unwrap())
        .unwrap();
    let (_, body) = poll(&graph, declined["device_code"].as_str().unwrap()).await;
    assert_eq!(body["error"], "authorization_declined");

    let late = device_code(&graph).await;
    clock.advance(Duration::minutes(15));
    graph
        .approve_device_code(late["user_code"].as_str().unwrap())
        .unwrap();
    let (_, body) = poll(&graph, late["device_code"].as_str().unwrap()).await;
    assert_eq!(body["error"], "expired_token");

    let (_, body) = poll(&graph, "DAQABIQEAAAD-never-given").await;
    assert_eq!(body["error"], "bad_verification_code");
    assert!(graph.approve_device_code("NOSUCH").is_err());
}

/// permissions-reference.md: contacts need Contacts.Read to read and Contacts.ReadWrite to
/// write, events Calendars.*, To Do tasks Tasks.*; a token without the permission is a 403
/// `ErrorAccessDenied` "Access is denied. Check credentials and try again." (the answer seen
/// in microsoftgraph/msgraph-sample-pythondjangoapp#29). `issue_token` keeps every permission.
#[tokio::test]
async fn a_token_allows_what_its_scopes_grant_and_nothing_else() {
    let mut c = Client::start().await;
    c.token = c.graph.issue_token_with_scopes(&[
        "Contacts.Read",
        "https://graph.microsoft.com/Calendars.Read",
    ]);
    let (status, folders) = c.get("/me/contactFolders", &[]).await;
    assert_eq!(status, StatusCode::OK);
    let folder = folders["value"][0]["id"].as_str().unwrap().to_string();
    let (status, body) = c
        .post(
            &format!("/me/contactFolders/{folder}/contacts"),
            serde_json::json!({"givenName": "Ana"}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(error_code(&body), "ErrorAccessDenied");
    assert_eq!(
        body["error"]["message"],
        "Access is denied. Check credentials and try again."
    );
    let (status, _) = c
        .get(
            "/me/calendarView?startDateTime=2027-03-01T00:00:00Z&endDateTime=2027-04-01T00:00:00Z",
            &[],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = c
        .post(
            "/me/events",
            serde_json::json!({"subject": "x",
                "start": {"dateTime": "2027-03-01T09:00:00", "timeZone": "UTC"},
                "end": {"dateTime": "2027-03-01T10:00:00", "timeZone": "UTC"}}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = c.get("/me/todo/lists", &[]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    c.token = c.graph.issue_token();
    let (status, _) = c.get("/me/todo/lists", &[]).await;
    assert_eq!(status, StatusCode::OK);
}
