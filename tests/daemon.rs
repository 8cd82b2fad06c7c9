//! While `tandem serve` owns the store, the other commands reach it over its local,
//! authenticated API and print exactly what they print on a stopped store.

mod common;

use common::daemon::{Daemon, raw};
use common::{Scratch, observe, observe_on};
use serde_json::json;
use std::io::{Read, Write};

fn announcement(s: &Scratch) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(s.path().join("daemon.json")).unwrap()).unwrap()
}

#[test]
fn commands_give_the_same_output_through_the_daemon_and_on_a_stopped_store() {
    let s = Scratch::new();
    let daemon = Daemon::start(&s);
    // The store is held by the daemon: ingest and restore must go through its API.
    let acks = s.ingest(&[observe(
        "desktop",
        "create",
        "/dav/c/1.vcf",
        json!({"last_name": "Okafor", "title": "CFO"}),
    )]);
    let record = acks[0]["record"].as_str().unwrap().to_string();
    let created = acks[0]["hlc"].as_u64().unwrap();
    s.ingest(&[
        observe_on(
            "desktop",
            "update",
            &record,
            &[created],
            json!({"title": "Finance Director"}),
        ),
        observe_on(
            "salesforce",
            "update",
            &record,
            &[created],
            json!({"title": "CFO (acting)", "email": "o@example.com"}),
        ),
    ]);
    // Back to just after the creation (the daemon's first events create its collections).
    let created_at = format!("#{}", acks[0]["seq"].as_u64().unwrap());
    s.ok(&["restore", &record, "--at", &created_at]);
    let commands: Vec<Vec<String>> = vec![
        vec!["log".into()],
        vec!["log".into(), "--json".into()],
        vec!["history".into(), record.clone()],
        vec!["blame".into(), "/dav/c/1.vcf".into()],
        vec!["replay".into(), "--verify".into()],
    ];
    let through_daemon: Vec<String> = commands
        .iter()
        .map(|c| s.ok(&c.iter().map(String::as_str).collect::<Vec<_>>()))
        .collect();
    daemon.stop();
    assert!(
        !s.path().join("daemon.json").exists(),
        "the announcement is removed on exit"
    );
    for (command, expected) in commands.iter().zip(&through_daemon) {
        let direct = s.ok(&command.iter().map(String::as_str).collect::<Vec<_>>());
        assert_eq!(
            &direct, expected,
            "{command:?} differs between daemon and direct"
        );
    }
    assert_eq!(s.log().len(), acks[0]["seq"].as_u64().unwrap() as usize + 3);
}

#[test]
fn the_api_refuses_a_wrong_token_and_the_announcement_is_private() {
    let s = Scratch::new();
    let daemon = Daemon::start(&s);
    let announced = announcement(&s);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(s.path().join("daemon.json"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let addr = announced["addr"].as_str().unwrap();
    let request = |auth: &str| {
        let mut stream = std::net::TcpStream::connect(addr).unwrap();
        let body = r#"{"use":"log","since":null,"limit":null}"#;
        write!(
            stream,
            "POST /api/v1/call HTTP/1.1\r\nHost: {addr}\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        response
    };
    let token = announced["token"].as_str().unwrap();
    assert!(request(&format!("Authorization: Bearer {token}\r\n")).starts_with("HTTP/1.1 200"));
    let wrong = request("Authorization: Bearer 0000\r\n");
    assert!(wrong.starts_with("HTTP/1.1 401"), "{wrong}");
    assert!(
        wrong.contains("daemon.json"),
        "the error says where the token is: {wrong}"
    );
    assert!(request("").starts_with("HTTP/1.1 401"));
    daemon.stop();
}

/// The data directory holds customer data, the DAV password and the Salesforce tokens: no other
/// local user reads it, also when an older tandem left it and its store world-readable.
#[cfg(unix)]
#[test]
fn the_data_directory_and_the_store_are_their_owners_alone() {
    use std::os::unix::fs::PermissionsExt;
    let mode =
        |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    let s = Scratch::new();
    let data = s.path().join("not-yet");
    let daemon = Daemon::start_in(&data);
    assert_eq!(mode(&data), 0o700, "the directory serve made");
    assert_eq!(mode(&data.join("tandem.redb")), 0o600, "the store");
    daemon.stop();

    assert_eq!(mode(&data.join("tandem.toml")), 0o600, "the settings");

    // Left readable by everyone (as older versions did, or a copy with `cp`): tightened on the
    // next start, and the user told which.
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
    let store = data.join("tandem.redb");
    let settings = data.join("tandem.toml");
    std::fs::set_permissions(&store, std::fs::Permissions::from_mode(0o644)).unwrap();
    std::fs::set_permissions(&settings, std::fs::Permissions::from_mode(0o644)).unwrap();
    let logs = data.join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    std::fs::write(logs.join("tandem.log"), "an old log line\n").unwrap();
    std::fs::set_permissions(
        logs.join("tandem.log"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    let daemon = Daemon::start_in(&data);
    assert_eq!(mode(&data), 0o700);
    assert_eq!(mode(&store), 0o600);
    assert_eq!(mode(&settings), 0o600);
    assert_eq!(mode(&logs), 0o700);
    assert_eq!(mode(&logs.join("tandem.log")), 0o600);
    let said = daemon.stop();
    for name in ["tandem.toml", "tandem.redb", "tandem.log"] {
        assert!(
            said.lines()
                .any(|l| l.contains(name) && l.contains("could be read by other users")),
            "{name}: {said}"
        );
    }
}

#[test]
fn serve_refuses_a_non_loopback_address() {
    let s = Scratch::new();
    let out = s.run(&["serve", "--listen", "0.0.0.0:0"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("loopback"));
}

#[test]
fn a_stale_announcement_falls_back_to_the_store() {
    let s = Scratch::new();
    s.ingest(&[observe(
        "desktop",
        "create",
        "/dav/c/1.vcf",
        json!({"last_name": "A"}),
    )]);
    // A daemon that was killed leaves its announcement behind; nobody answers there now.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    std::fs::write(
        s.path().join("daemon.json"),
        json!({"pid": 1, "addr": addr.to_string(), "token": "x"}).to_string(),
    )
    .unwrap();
    assert_eq!(s.log().len(), 1);
}

/// `sync status --json` through the daemon, polled until `done` holds (or a bounded wait ends).
fn status_until(
    s: &Scratch,
    what: &str,
    done: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let status: serde_json::Value =
            serde_json::from_str(s.ok(&["sync", "status", "--json"]).trim()).unwrap();
        if done(&status) {
            return status;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{what} within 30 s; last status: {status}"
        );
        std::thread::yield_now();
    }
}

#[test]
fn the_daemon_takes_up_an_edited_settings_file_and_keeps_its_settings_when_the_file_is_bad() {
    let s = Scratch::new();
    let daemon = Daemon::start(&s);
    let file = s.path().join("tandem.toml");
    // The daemon wrote its DAV account here; the user adds a rule below it.
    let written = std::fs::read_to_string(&file).unwrap_or_default();
    let status = status_until(&s, "the daemon answers", |st| {
        st["serving"]["by"] == "daemon"
    });
    assert_eq!(status["settings"]["events"]["past_days"], 30);
    assert!(
        status["next_automatic_ms"].is_null(),
        "none before a reviewed run"
    );
    s.ok(&["sync", "preview"]);
    s.ok(&["sync", "apply"]);
    let text = s.ok(&["sync", "status"]);
    assert!(
        text.contains("Automatic runs: on; the next one at "),
        "{text}"
    );

    std::fs::write(
        &file,
        format!("{written}\n[events]\npast_days = 7\nsync_private = true\nconflict_policy = \"salesforce-wins\"\n"),
    )
    .unwrap();
    let status = status_until(&s, "the new window is in force", |st| {
        st["settings"]["events"]["past_days"] == 7
    });
    assert_eq!(status["settings"]["events"]["sync_private"], true);
    assert!(status["serving"]["settings_error"].is_null(), "{status}");
    // The store merges with the policy it opened with: the change waits for a restart, and says so.
    assert_eq!(
        status["settings"]["events"]["conflict_policy"],
        "newest-wins"
    );
    assert_eq!(
        status["serving"]["awaiting_restart"],
        json!(["[events] conflict_policy"])
    );
    let text = s.ok(&["sync", "status"]);
    assert!(
        text.contains("Settings in force")
            && text.contains(
                "events: automatic every 30 minutes; 7 days back, 365 days ahead; private items synced"
            )
            && text.contains("in force once `tandem serve` restarts: [events] conflict_policy"),
        "{text}"
    );

    std::fs::write(&file, format!("{written}\n[events]\npast_days = 100000\n")).unwrap();
    let status = status_until(&s, "the bad file is reported", |st| {
        st["serving"]["settings_error"].is_string()
    });
    assert_eq!(
        status["settings"]["events"]["past_days"], 7,
        "a bad file changes nothing"
    );
    let text = s.ok(&["sync", "status"]);
    assert!(
        text.contains("cannot be used, so the settings above stay in force")
            && text.contains("between 0 and 3650"),
        "{text}"
    );
    daemon.stop();
}

#[test]
fn the_review_app_refuses_other_sites_a_missing_token_and_foreign_hosts_changing_nothing() {
    let s = Scratch::new();
    let daemon = Daemon::start(&s);
    let announced = announcement(&s);
    let dav_url = announced["dav_url"].as_str().unwrap();
    let addr = dav_url
        .trim_start_matches("http://")
        .trim_end_matches("/dav/")
        .to_string();
    let settings: toml::Value =
        toml::from_str(&std::fs::read_to_string(s.path().join("tandem.toml")).unwrap()).unwrap();
    let (user, password) = (
        settings["server"]["user"].as_str().unwrap(),
        settings["server"]["password"].as_str().unwrap(),
    );
    let origin = format!("http://{addr}");
    let form = "Content-Type: application/x-www-form-urlencoded";

    // Signed in as a browser on this page would be.
    let signed_in = raw(
        &addr,
        &format!("POST /app/signin HTTP/1.1\r\nHost: {addr}\r\nOrigin: {origin}\r\n{form}"),
        &format!("user={user}&password={password}"),
    );
    assert!(signed_in.starts_with("HTTP/1.1 303"), "{signed_in}");
    let cookie = signed_in
        .lines()
        .find_map(|l| l.strip_prefix("set-cookie: "))
        .and_then(|c| c.split(';').next())
        .expect("a session cookie")
        .to_string();
    assert!(signed_in.to_lowercase().contains("httponly"), "{signed_in}");
    assert!(signed_in.contains("SameSite=Strict"), "{signed_in}");
    let page = raw(
        &addr,
        &format!("GET /app/summary HTTP/1.1\r\nHost: {addr}\r\nCookie: {cookie}"),
        "",
    );
    assert!(page.starts_with("HTTP/1.1 200"), "{page}");
    assert!(
        !page.to_lowercase().contains("access-control-allow"),
        "no CORS"
    );
    let csrf = page
        .split("data-csrf=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the page's CSRF token")
        .to_string();
    let before = s.log().len();
    let review = |extra: &str, body: &str| {
        raw(
            &addr,
            &format!(
                "POST /app/summary/review HTTP/1.1\r\nHost: {addr}\r\nCookie: {cookie}\r\n{form}{extra}"
            ),
            body,
        )
    };

    // Another site posting the page's own form, with the user's cookie and even the token.
    let cross = review("\r\nOrigin: https://evil.example", &format!("csrf={csrf}"));
    assert!(cross.starts_with("HTTP/1.1 403"), "{cross}");
    // This page's origin, without the token.
    let tokenless = review(&format!("\r\nOrigin: {origin}"), "");
    assert!(tokenless.starts_with("HTTP/1.1 403"), "{tokenless}");
    let wrong = review(&format!("\r\nOrigin: {origin}"), "csrf=00");
    assert!(wrong.starts_with("HTTP/1.1 403"), "{wrong}");
    // A DNS-rebinding page: its own host name, pointing at 127.0.0.1.
    let port = addr.rsplit(':').next().unwrap();
    let rebound = raw(
        &addr,
        &format!(
            "POST /app/summary/review HTTP/1.1\r\nHost: evil.example:{port}\r\nCookie: {cookie}\r\n{form}"
        ),
        &format!("csrf={csrf}"),
    );
    assert!(rebound.starts_with("HTTP/1.1 403"), "{rebound}");
    let rebound_read = raw(
        &addr,
        &format!("GET /app/connect HTTP/1.1\r\nHost: evil.example:{port}\r\nCookie: {cookie}"),
        "",
    );
    assert!(
        rebound_read.starts_with("HTTP/1.1 403") && !rebound_read.contains(password),
        "{rebound_read}"
    );
    // The local API: the same guard, before the token is even looked at.
    let api = announced["addr"].as_str().unwrap();
    let token = announced["token"].as_str().unwrap();
    let api_rebound = raw(
        api,
        &format!(
            "POST /api/v1/call HTTP/1.1\r\nHost: evil.example\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json"
        ),
        r#"{"use":"preview"}"#,
    );
    assert!(api_rebound.starts_with("HTTP/1.1 403"), "{api_rebound}");
    assert_eq!(s.log().len(), before, "nothing refused changed anything");

    // The same request, from this page with its token, is carried out.
    let allowed = review(&format!("\r\nOrigin: {origin}"), &format!("csrf={csrf}"));
    assert!(allowed.starts_with("HTTP/1.1 303"), "{allowed}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while s.log().len() == before {
        assert!(std::time::Instant::now() < deadline, "the review is logged");
        std::thread::yield_now();
    }
    daemon.stop();
}

/// `tandem open` sends the browser `BROWSER` names to a link that signs in to the review app
/// once; with no daemon it says how to start one.
#[cfg(unix)]
#[test]
fn tandem_open_signs_the_browser_in_once() {
    use std::os::unix::fs::PermissionsExt;
    let s = Scratch::new();
    let stopped = s
        .command()
        .arg("open")
        .env("TANDEM_NO_BROWSER", "1")
        .output()
        .unwrap();
    assert!(!stopped.status.success());
    assert!(
        String::from_utf8_lossy(&stopped.stderr).contains("`tandem serve`"),
        "{}",
        String::from_utf8_lossy(&stopped.stderr)
    );
    let daemon = Daemon::start(&s);
    let opened = s.path().join("opened");
    let browser = s.path().join("browser.sh");
    std::fs::write(
        &browser,
        format!("#!/bin/sh\nprintf '%s' \"$1\" > '{}'\n", opened.display()),
    )
    .unwrap();
    std::fs::set_permissions(&browser, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = s
        .command()
        .arg("open")
        .env_remove("TANDEM_NO_BROWSER")
        .env("BROWSER", &browser)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed = String::from_utf8_lossy(&out.stdout).to_string();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let link = loop {
        if let Ok(link) = std::fs::read_to_string(&opened)
            && !link.is_empty()
        {
            break link;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the browser was started"
        );
        std::thread::yield_now();
    };
    assert!(
        printed.contains(&link),
        "the link is printed too: {printed}"
    );
    let (addr, path) = link.trim_start_matches("http://").split_once('/').unwrap();
    let first = raw(addr, &format!("GET /{path} HTTP/1.1\r\nHost: {addr}"), "");
    assert!(
        first.starts_with("HTTP/1.1 303") && first.contains("tandem_session="),
        "{first}"
    );
    let again = raw(addr, &format!("GET /{path} HTTP/1.1\r\nHost: {addr}"), "");
    assert!(
        !again.contains("tandem_session=") && again.contains("used already"),
        "a link signs in once: {again}"
    );
    daemon.stop();
}

#[test]
fn guessing_the_password_at_the_review_app_and_the_dav_server_is_slowed_down_together() {
    let s = Scratch::new();
    let daemon = Daemon::start(&s);
    let addr = daemon.dav_addr();
    let origin = format!("http://{addr}");
    let guess = |n: usize| {
        raw(
            &addr,
            &format!(
                "POST /app/signin HTTP/1.1\r\nHost: {addr}\r\nOrigin: {origin}\r\nContent-Type: application/x-www-form-urlencoded"
            ),
            &format!("user=tandem&password=guess-{n}"),
        )
    };
    let answers: Vec<String> = (0..10).map(guess).collect();
    assert!(
        answers
            .iter()
            .all(|a| a.starts_with("HTTP/1.1 401") && a.contains("not the user and password")),
        "{answers:?}"
    );
    let slowed = guess(10);
    assert!(slowed.starts_with("HTTP/1.1 429"), "{slowed}");
    assert!(slowed.contains("Too many wrong passwords"), "{slowed}");
    // The DAV server counts with it: the same password, the same guesser.
    use base64::Engine;
    let basic = base64::engine::general_purpose::STANDARD.encode("tandem:another-guess");
    let dav = raw(
        &addr,
        &format!(
            "PROPFIND /dav/ HTTP/1.1\r\nHost: {addr}\r\nDepth: 0\r\nAuthorization: Basic {basic}"
        ),
        "",
    );
    assert!(dav.starts_with("HTTP/1.1 429"), "{dav}");
}

#[test]
fn the_dav_server_answers_only_as_itself_on_loopback() {
    let s = Scratch::new();
    let daemon = Daemon::start(&s);
    let (addr, basic) = (daemon.dav_addr(), daemon.basic_auth());
    let port = addr.rsplit(':').next().unwrap();
    let propfind = |host: &str, extra: &str| {
        raw(
            &addr,
            &format!(
                "PROPFIND /dav/calendars/ HTTP/1.1\r\nHost: {host}\r\nAuthorization: Basic {basic}\r\nDepth: 1{extra}"
            ),
            "",
        )
    };
    // A client naming the server, by address or as localhost.
    for host in [addr.clone(), format!("localhost:{port}")] {
        let answer = propfind(&host, "");
        assert!(answer.starts_with("HTTP/1.1 207"), "{host}: {answer}");
    }
    // A DNS-rebinding page (its own name, resolved to 127.0.0.1), even with the password, and a
    // page of another site: refused, and nothing of the calendars is in the answer.
    let rebound = propfind(&format!("evil.example:{port}"), "");
    assert!(rebound.starts_with("HTTP/1.1 403"), "{rebound}");
    assert!(rebound.contains("answers only as"), "{rebound}");
    let foreign = propfind(&addr, "\r\nOrigin: https://evil.example");
    assert!(foreign.starts_with("HTTP/1.1 403"), "{foreign}");
    assert!(!foreign.contains("calendar"), "{foreign}");
    daemon.stop();
}
