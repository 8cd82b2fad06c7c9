//! Logging in and keeping the token: expiry mid-run, rotation, single-flight refresh,
//! invalid_grant, the web-server and JWT flows, and the credentials file.

use std::collections::HashSet;
use std::path::PathBuf;

use reqwest::redirect::Policy;
use tandem::salesforce::client::oauth::token_call;
use tandem::salesforce::client::{ClientError, CredentialsFile, SalesforceClient, WebLogin};
use tandem_salesforce_emulator::EmulatorConfig;

use crate::common::*;

#[tokio::test]
async fn token_expiry_between_pages_costs_exactly_one_refresh() {
    let emu = start().await;
    seed_contacts(&emu, 450);
    let client = client_with(tandem::config::SalesforceSettings {
        query_batch_size: 200,
        ..settings(&emu)
    });
    let mut pager = client.pager("SELECT Id FROM Contact", false);
    let first = pager.next_page().await.expect("page 1").expect("a page");
    assert_eq!(first.records.len(), 200);
    assert_eq!(client.stats().token_calls, 1);

    emu.expire_access_tokens();
    let mut ids: HashSet<String> = first
        .records
        .iter()
        .filter_map(|r| r["Id"].as_str().map(str::to_string))
        .collect();
    let mut pages = 1;
    while let Some(page) = pager.next_page().await.expect("later pages") {
        pages += 1;
        assert!(pages <= 3, "450 rows in 200-row pages are 3 pages");
        ids.extend(
            page.records
                .iter()
                .filter_map(|r| r["Id"].as_str().map(str::to_string)),
        );
    }
    assert_eq!(ids.len(), 450);
    assert_eq!(client.stats().token_calls, 2, "one login, one refresh");
    assert_eq!(access_tokens(&emu), 1);
    assert_eq!(client.stats().retries, 0, "a refresh is not a retry");
}

/// An org whose refresh tokens are spent on use, a new one given each time.
async fn rotating() -> tandem_salesforce_emulator::EmulatorHandle {
    start_with(EmulatorConfig {
        rotate_refresh_tokens: true,
        ..config()
    })
    .await
}

/// A client made from settings read before a rotation (the running daemon's, until it reads the
/// file again) logs in with the token the file holds now, not with the spent one.
#[tokio::test]
async fn a_client_made_from_stale_settings_uses_the_rotated_token_in_the_file() {
    let emu = rotating().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let settings = settings(&emu);
    let file = credentials_in(dir.path(), &settings);
    let first = SalesforceClient::new(settings.clone(), Some(file.clone())).expect("client");
    first
        .query("SELECT Id FROM Contact")
        .await
        .expect("the first run");
    // `settings` still holds the refresh token the first client spent.
    let second = SalesforceClient::new(settings, Some(file)).expect("client");
    second
        .query("SELECT Id FROM Contact")
        .await
        .expect("the next run logs in with the rotated token");
}

#[tokio::test]
async fn rotated_refresh_token_is_saved_and_the_old_one_is_refused() {
    let emu = rotating().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let settings = settings(&emu);
    std::fs::write(
        dir.path().join("tandem.toml"),
        "# my settings\n[contacts]\nconflict_policy = \"salesforce-wins\"\n",
    )
    .expect("write");
    let file = credentials_in(dir.path(), &settings);
    let client = SalesforceClient::new(settings.clone(), Some(file.clone())).expect("client");

    let mut spent = vec![emu.initial_refresh_token()];
    for round in 0..2 {
        client.query("SELECT Id FROM Contact").await.expect("query");
        let saved = file
            .load()
            .expect("settings load")
            .refresh_token
            .expect("token saved");
        assert!(
            !spent.contains(&saved),
            "round {round}: the file holds a new token"
        );
        let http = reqwest::Client::new();
        for old in &spent {
            let form = [
                ("grant_type", "refresh_token"),
                ("refresh_token", old.as_str()),
                ("client_id", settings.client_id.as_deref().unwrap_or("")),
                (
                    "client_secret",
                    settings.client_secret.as_deref().unwrap_or(""),
                ),
            ];
            let err = token_call(&http, &emu.base_url(), &form)
                .await
                .expect_err("spent");
            assert!(matches!(err, ClientError::LoginRequired { .. }), "{err}");
        }
        spent.push(saved);
        emu.expire_access_tokens();
    }
    assert_eq!(client.stats().token_calls, 2);
    let text = std::fs::read_to_string(file.path()).expect("read");
    assert!(
        text.starts_with("# my settings"),
        "the user's comment stays: {text}"
    );
    assert!(
        text.contains("salesforce-wins"),
        "other sections stay: {text}"
    );
    assert_mode_0600(file.path());
    assert_no_temp_files(dir.path());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_concurrent_requests_after_expiry_make_one_token_call() {
    let emu = start().await;
    seed_contacts(&emu, 3);
    let client = client(&emu);
    client
        .query("SELECT Id FROM Contact")
        .await
        .expect("warm up");
    assert_eq!(client.stats().token_calls, 1);
    emu.expire_access_tokens();
    assert_eq!(access_tokens(&emu), 0);
    // Slow answers make sure all twenty are in flight with the expired token at once.
    emu.faults().update(|f| f.latency_ms = 40);

    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(20));
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let (client, barrier) = (client.clone(), barrier.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                client.query("SELECT Id, LastName FROM Contact").await
            })
        })
        .collect();
    for t in tasks {
        let rows = t.await.expect("task").expect("query after expiry");
        assert_eq!(rows.len(), 3);
    }
    assert_eq!(
        client.stats().token_calls,
        2,
        "one login + exactly one refresh"
    );
    assert_eq!(
        access_tokens(&emu),
        1,
        "the org issued exactly one new token"
    );
}

#[tokio::test]
async fn invalid_grant_requires_login_and_nothing_is_retried() {
    let emu = start().await;
    let client = client(&emu);
    client
        .query("SELECT Id FROM Contact")
        .await
        .expect("works first");
    emu.revoke_refresh_tokens();
    emu.expire_access_tokens();
    let err = client
        .query("SELECT Id FROM Contact")
        .await
        .expect_err("login needed");
    assert!(matches!(err, ClientError::LoginRequired { .. }), "{err}");
    let message = err.to_string();
    assert!(message.contains("tandem login"), "{message}");
    assert!(message.contains("invalid_grant"), "{message}");
    assert_eq!(client.stats().token_calls, 2);
    assert_eq!(client.stats().retries, 0);
    // Syncing has stopped: later calls fail at once without asking again.
    let again = client
        .query("SELECT Id FROM Contact")
        .await
        .expect_err("still");
    assert!(matches!(again, ClientError::LoginRequired { .. }));
    assert_eq!(client.stats().token_calls, 2);
}

#[tokio::test]
async fn web_server_login_end_to_end() {
    let emu = start().await;
    let login = WebLogin::start(
        &emu.base_url(),
        &emu.client_id(),
        "http://127.0.0.1:0/callback",
    )
    .await
    .expect("listener");
    assert!(login.redirect_uri().starts_with("http://127.0.0.1:"));
    let url = login.authorize_url().to_string();
    let secret = emu.client_secret();
    let waiting =
        tokio::spawn(async move { login.finish(&reqwest::Client::new(), Some(&secret)).await });
    let browser = reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .expect("http");
    let resp = browser.get(&url).send().await.expect("authorize");
    assert_eq!(resp.status().as_u16(), 302);
    let location = resp.headers()["location"]
        .to_str()
        .expect("location")
        .to_string();
    assert!(location.contains("state="), "{location}");
    let back = browser.get(&location).send().await.expect("callback");
    assert_eq!(back.status().as_u16(), 200);
    let tokens = waiting.await.expect("task").expect("tokens");
    let refresh = tokens.refresh_token.clone().expect("a refresh token");
    assert_eq!(tokens.instance_url, emu.base_url());

    let client = client_with(tandem::config::SalesforceSettings {
        refresh_token: Some(refresh),
        ..settings(&emu)
    });
    client
        .query("SELECT Id FROM Contact")
        .await
        .expect("the new grant works");
}

#[tokio::test]
async fn web_server_login_refuses_a_foreign_state() {
    let emu = start().await;
    let login = WebLogin::start(
        &emu.base_url(),
        &emu.client_id(),
        "http://127.0.0.1:0/callback",
    )
    .await
    .expect("listener");
    let url = login.authorize_url().to_string();
    let waiting = tokio::spawn(async move { login.finish(&reqwest::Client::new(), None).await });
    let browser = reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .expect("http");
    let resp = browser.get(&url).send().await.expect("authorize");
    let location = resp.headers()["location"]
        .to_str()
        .expect("location")
        .to_string();
    let (base, query) = location.split_once('?').expect("query");
    let forged: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form_urlencoded::parse(query.as_bytes()).map(|(k, v)| {
            if k == "state" {
                (k, "forged".into())
            } else {
                (k, v)
            }
        }))
        .finish();
    let back = browser
        .get(format!("{base}?{forged}"))
        .send()
        .await
        .expect("callback");
    assert_eq!(back.status().as_u16(), 400);
    let err = waiting.await.expect("task").expect_err("refused");
    assert!(err.to_string().contains("state"), "{err}");
}

pub fn key_file() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/salesforce_client/jwt_test_key.pem")
}

#[tokio::test]
async fn jwt_bearer_login_signs_a_fresh_assertion_on_expiry() {
    let emu = start().await;
    let client = client_with(tandem::config::SalesforceSettings {
        refresh_token: None,
        client_secret: None,
        jwt_key_file: Some(key_file()),
        username: Some("demo@tandem.example".into()),
        ..settings(&emu)
    });
    client
        .query("SELECT Id FROM Contact")
        .await
        .expect("jwt login");
    emu.expire_access_tokens();
    client
        .query("SELECT Id FROM Contact")
        .await
        .expect("a new assertion");
    assert_eq!(client.stats().token_calls, 2);

    let stranger = client_with(tandem::config::SalesforceSettings {
        refresh_token: None,
        jwt_key_file: Some(key_file()),
        username: Some("nobody@example.com".into()),
        ..settings(&emu)
    });
    let err = stranger
        .query("SELECT Id FROM Contact")
        .await
        .expect_err("unknown user");
    assert!(matches!(err, ClientError::LoginRequired { .. }), "{err}");
}

#[test]
fn credentials_file_is_replaced_atomically_with_mode_0600() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("tandem.toml");
    std::fs::write(
        &path,
        "# keep me\n[salesforce]\nclient_id = \"abc\" # the app\n",
    )
    .expect("write");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    }
    let file = CredentialsFile::in_dir(dir.path());
    file.set(&[
        ("refresh_token", Some("5Aep-new")),
        ("instance_url", Some("https://x.my.salesforce.com")),
    ])
    .expect("saved");
    assert_mode_0600(&path);
    let text = std::fs::read_to_string(&path).expect("read");
    assert!(
        text.contains("# keep me") && text.contains("# the app"),
        "{text}"
    );
    let loaded = file.load().expect("loads");
    assert_eq!(loaded.refresh_token.as_deref(), Some("5Aep-new"));
    assert_eq!(loaded.client_id.as_deref(), Some("abc"));

    // A value the strict parser refuses is never written: the file stays as it was.
    let before = std::fs::read(&path).expect("read");
    let err = file
        .set(&[("instance_url", Some("ftp://nowhere"))])
        .expect_err("refused");
    assert!(err.to_string().contains("instance_url"), "{err}");
    assert_eq!(std::fs::read(&path).expect("read"), before);
    assert_no_temp_files(dir.path());
}

pub fn assert_mode_0600(path: &std::path::Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)
            .expect("metadata")
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600, "{} has mode {mode:o}", path.display());
    }
}

pub fn assert_no_temp_files(dir: &std::path::Path) {
    let leftovers: Vec<_> = std::fs::read_dir(dir)
        .expect("list")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[tokio::test]
async fn a_token_call_answered_503_is_tried_again_and_a_refused_grant_is_not() {
    use tandem_salesforce_emulator::FaultKind;
    let emu = start().await;
    seed_contacts(&emu, 3);
    let client = client(&emu);
    emu.faults().enqueue(FaultKind::Unavailable, 2);
    let rows = client.query("SELECT Id FROM Contact").await.expect("query");
    assert_eq!(rows.len(), 3);
    assert_eq!(client.stats().token_calls, 3, "two 503s, then the token");

    let refused = client_with(tandem::config::SalesforceSettings {
        refresh_token: Some("not-a-token".into()),
        ..settings(&emu)
    });
    let err = refused.query("SELECT Id FROM Contact").await.unwrap_err();
    assert!(matches!(err, ClientError::LoginRequired { .. }), "{err}");
    assert_eq!(
        refused.stats().token_calls,
        1,
        "a refused grant is not retried"
    );
}
