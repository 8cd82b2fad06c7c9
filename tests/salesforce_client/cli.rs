//! `tandem login` as a user runs it: the real binary, its printed URL opened by a "browser"
//! (reqwest following the redirect by hand), the tokens stored in the settings file.

use std::process::Stdio;

use reqwest::redirect::Policy;
use tandem::salesforce::client::CredentialsFile;
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::auth::{assert_mode_0600, assert_no_temp_files, key_file};
use crate::common::*;

/// `tandem` on `dir`, opening no browser (the URL is printed all the same).
/// `tandem login` against the emulator's connected app, its callback on a free port.
fn login(
    dir: &std::path::Path,
    emu: &tandem_salesforce_emulator::EmulatorHandle,
) -> tokio::process::Command {
    let mut cmd = tandem(dir);
    cmd.args([
        "login",
        "--login-url",
        &emu.base_url(),
        "--client-id",
        &emu.client_id(),
        "--callback",
        "http://127.0.0.1:0/callback",
    ]);
    cmd
}

fn tandem(dir: &std::path::Path) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_tandem"));
    cmd.arg("--data")
        .arg(dir)
        .env_remove("TANDEM_DATA")
        .env("TANDEM_NO_BROWSER", "1")
        .kill_on_drop(true);
    cmd
}

/// A "browser" for `BROWSER`: a script that writes the URL it is given to a file.
#[cfg(unix)]
fn recording_browser(dir: &std::path::Path) -> (std::path::PathBuf, std::path::PathBuf) {
    use std::os::unix::fs::PermissionsExt;
    let opened = dir.join("opened-url");
    let script = dir.join("browser");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nprintf '%s' \"$1\" > '{}.tmp' && mv '{0}.tmp' '{0}'\n",
            opened.display()
        ),
    )
    .expect("browser script");
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    (script, opened)
}

/// `tandem login` opens the login page in the browser `BROWSER` names, and still prints it; the
/// page it opened completes the login.
#[cfg(unix)]
#[tokio::test]
async fn tandem_login_opens_the_browser_and_still_prints_the_url() {
    let emu = start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let (browser, opened) = recording_browser(dir.path());
    let mut child = login(dir.path(), &emu)
        .env_remove("TANDEM_NO_BROWSER")
        .env("BROWSER", &browser)
        .args([
            "--client-secret",
            &emu.client_secret(),
            "--wait-seconds",
            "60",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("tandem runs");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let mut printed = Vec::new();
    while let Some(line) = lines.next_line().await.expect("read") {
        let done = line.starts_with("Waiting up to");
        printed.push(line);
        if done {
            break;
        }
    }
    let url = printed
        .iter()
        .find(|l| l.starts_with("http"))
        .unwrap_or_else(|| panic!("the URL is printed: {printed:?}"))
        .clone();
    assert!(
        printed
            .iter()
            .any(|l| l.contains("opening in your browser")),
        "{printed:?}"
    );
    // The browser runs in the background: wait (bounded) for it to have been handed the URL.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let handed = loop {
        if let Ok(handed) = std::fs::read_to_string(&opened) {
            break handed;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the browser was never started"
        );
        tokio::task::yield_now().await;
    };
    assert_eq!(handed, url, "the browser opens the printed URL");
    let follow = reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .expect("http");
    let resp = follow.get(&handed).send().await.expect("authorize");
    let location = resp.headers()["location"]
        .to_str()
        .expect("location")
        .to_string();
    assert_eq!(
        follow
            .get(&location)
            .send()
            .await
            .expect("callback")
            .status()
            .as_u16(),
        200
    );
    let out = child.wait_with_output().await.expect("tandem ends");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        CredentialsFile::in_dir(dir.path())
            .load()
            .expect("settings")
            .refresh_token
            .is_some()
    );
}

/// With TANDEM_NO_BROWSER, nothing is opened: the URL is printed and the login waits for it.
#[cfg(unix)]
#[tokio::test]
async fn tandem_no_browser_keeps_login_from_opening_one() {
    let emu = start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let (browser, opened) = recording_browser(dir.path());
    let out = login(dir.path(), &emu)
        .env("BROWSER", &browser)
        .args(["--wait-seconds", "1"])
        .output()
        .await
        .expect("tandem runs");
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(printed.lines().any(|l| l.starts_with("http")), "{printed}");
    assert!(!printed.contains("opening in your browser"), "{printed}");
    assert!(!opened.exists(), "no browser was started");
}

#[tokio::test]
async fn tandem_login_web_flow_prints_a_url_and_stores_the_tokens() {
    let emu = start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let mut child = login(dir.path(), &emu)
        .args([
            "--client-secret",
            &emu.client_secret(),
            "--wait-seconds",
            "60",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("tandem runs");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let mut url = None;
    for _ in 0..5 {
        match lines.next_line().await.expect("read") {
            Some(line) if line.starts_with("http") => {
                url = Some(line);
                break;
            }
            Some(_) => {}
            None => break,
        }
    }
    let url = url.expect("tandem login prints the URL to open");
    assert!(url.contains("/services/oauth2/authorize?"), "{url}");
    let browser = reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .expect("http");
    let resp = browser.get(&url).send().await.expect("authorize");
    let location = resp.headers()["location"]
        .to_str()
        .expect("location")
        .to_string();
    let back = browser.get(&location).send().await.expect("callback");
    assert_eq!(back.status().as_u16(), 200);
    let rest: Vec<String> = {
        let mut v = Vec::new();
        while let Some(l) = lines.next_line().await.expect("read") {
            v.push(l);
        }
        v
    };
    let out = child.wait_with_output().await.expect("tandem ends");
    assert!(
        out.status.success(),
        "stdout: {rest:?}, stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let file = CredentialsFile::in_dir(dir.path());
    let saved = file.load().expect("settings");
    assert!(saved.refresh_token.is_some());
    assert_eq!(saved.instance_url.as_deref(), Some(emu.base_url().as_str()));
    assert_eq!(saved.client_id, Some(emu.client_id()));
    assert_mode_0600(file.path());
    assert_no_temp_files(dir.path());

    // The stored grant works for the client.
    let client = tandem::salesforce::client::SalesforceClient::new(saved, Some(file))
        .expect("client from the saved settings");
    client.query("SELECT Id FROM Contact").await.expect("query");
}

#[tokio::test]
async fn tandem_login_with_a_jwt_key() {
    let emu = start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let key = key_file();
    let out = tandem(dir.path())
        .args([
            "login",
            "--login-url",
            &emu.base_url(),
            "--client-id",
            &emu.client_id(),
        ])
        .arg("--jwt")
        .arg(&key)
        .args(["--username", "demo@tandem.example"])
        .output()
        .await
        .expect("tandem runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let saved = CredentialsFile::in_dir(dir.path())
        .load()
        .expect("settings");
    assert_eq!(saved.jwt_key_file.as_deref(), Some(key.as_path()));
    assert_eq!(saved.refresh_token, None);

    let bad = tandem(dir.path())
        .args([
            "login",
            "--login-url",
            &emu.base_url(),
            "--client-id",
            "wrong",
        ])
        .arg("--jwt")
        .arg(&key)
        .args(["--username", "demo@tandem.example"])
        .output()
        .await
        .expect("tandem runs");
    assert!(!bad.status.success());
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(err.contains("client_id"), "{err}");
}

/// A port nothing listens on right now.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

async fn login_output(dir: &std::path::Path, login_url: &str, client_id: &str) -> (bool, String) {
    let out = tandem(dir)
        .args([
            "login",
            "--login-url",
            login_url,
            "--client-id",
            client_id,
            "--wait-seconds",
            "1",
        ])
        .output()
        .await
        .expect("tandem runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[tokio::test]
async fn login_listens_on_the_one_callback_the_connected_app_registers_and_says_how_long_it_waits()
{
    let emu = start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let callback = format!("http://localhost:{port}/callback");
    std::fs::write(
        dir.path().join("tandem.toml"),
        format!("[salesforce]\ncallback_url = \"{callback}\"\n"),
    )
    .expect("settings");
    let mut redirects = Vec::new();
    for _ in 0..2 {
        let (ok, out) = login_output(dir.path(), &emu.base_url(), &emu.client_id()).await;
        assert!(!ok, "nobody came back: {out}");
        assert!(
            out.contains(&format!(
                "Waiting up to 1 second for the browser to come back to {callback}"
            )),
            "{out}"
        );
        assert!(out.contains("did not come back in time"), "{out}");
        let url = out
            .lines()
            .find(|l| l.starts_with("http"))
            .expect("the URL to open")
            .to_string();
        let redirect = form_urlencoded::parse(url.split_once('?').unwrap().1.as_bytes())
            .find(|(k, _)| k == "redirect_uri")
            .map(|(_, v)| v.into_owned());
        redirects.push(redirect);
    }
    assert_eq!(redirects[0].as_deref(), Some(callback.as_str()));
    assert_eq!(redirects[0], redirects[1], "the same callback every time");
}

#[tokio::test]
async fn login_without_a_connected_app_says_what_to_create() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = tandem(dir.path())
        .arg("login")
        .output()
        .await
        .expect("tandem runs");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    for needed in [
        "connected app",
        "http://localhost:1717/callback",
        "offline_access",
        "PKCE",
        "--client-id",
    ] {
        assert!(err.contains(needed), "{needed} in: {err}");
    }
}

#[tokio::test]
async fn login_without_a_network_says_so_up_front() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (ok, out) = login_output(
        dir.path(),
        &format!("http://127.0.0.1:{}", free_port()),
        "3MVG9-app",
    )
    .await;
    assert!(!ok);
    let note = out
        .find("cannot be reached")
        .expect("a note that the login page is unreachable");
    let timeout = out.find("did not come back").expect("the timeout");
    assert!(note < timeout, "the note comes first: {out}");
}
