//! Bad input: each gets the right status and a clear body, and the store is unchanged.

use crate::common::*;
use reqwest::StatusCode;

#[tokio::test]
async fn wrong_passwords_are_slowed_down_and_the_right_one_still_gets_in() {
    let s = Server::start().await;
    let propfind = |password: &str| {
        s.client
            .request(
                reqwest::Method::from_bytes(b"PROPFIND").unwrap(),
                s.url("/dav/"),
            )
            .basic_auth(USER, Some(password.to_string()))
            .header("Depth", "0")
            .send()
    };
    let mut statuses = Vec::new();
    for n in 0..15 {
        statuses.push(propfind(&format!("guess-{n}")).await.unwrap().status());
    }
    assert!(
        statuses[..10]
            .iter()
            .all(|s| *s == StatusCode::UNAUTHORIZED),
        "{statuses:?}"
    );
    assert!(
        statuses[10..]
            .iter()
            .all(|s| *s == StatusCode::TOO_MANY_REQUESTS),
        "the eleventh guess within a minute waits: {statuses:?}"
    );
    let slowed = propfind("one more").await.unwrap();
    let wait: u64 = slowed.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    assert!(
        slowed
            .text()
            .await
            .unwrap()
            .contains("Too many wrong passwords")
    );
    // The right password is never slowed down: guessing cannot lock the user out.
    let right = propfind(PASSWORD).await.unwrap();
    assert_eq!(right.status(), StatusCode::MULTI_STATUS);
}

#[tokio::test]
async fn wrong_or_missing_credentials_are_refused() {
    let s = Server::start().await;
    let wrong = s
        .client
        .request(
            reqwest::Method::from_bytes(b"PROPFIND").unwrap(),
            s.url("/dav/"),
        )
        .basic_auth(USER, Some("guess"))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert!(
        wrong
            .headers()
            .get("www-authenticate")
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("Basic")
    );
    assert!(wrong.text().await.unwrap().contains("tandem.toml"));
    let none = s
        .client
        .get(s.url("/dav/calendars/calendar/"))
        .send()
        .await
        .unwrap();
    assert_eq!(none.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn malformed_bodies_are_refused_and_change_nothing() {
    let s = Server::start().await;
    let before = s.log_len();
    let cases: Vec<(&str, String, &str, StatusCode, &str)> = vec![
        (
            "PUT",
            format!("{CALENDAR}bad.ics"),
            "this is not a calendar",
            StatusCode::FORBIDDEN,
            "valid-calendar-data",
        ),
        (
            "PUT",
            format!("{CALENDAR}cut.ics"),
            "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\n",
            StatusCode::FORBIDDEN,
            "valid-calendar-data",
        ),
        (
            "PUT",
            format!("{CONTACTS}bad.vcf"),
            "BEGIN:VCARD\r\nFN:no end",
            StatusCode::FORBIDDEN,
            "valid-address-data",
        ),
        (
            "PROPFIND",
            CALENDAR.to_string(),
            "<propfind xmlns=\"DAV:\"><prop>",
            StatusCode::BAD_REQUEST,
            "",
        ),
        (
            "REPORT",
            CALENDAR.to_string(),
            "<x:unknown-report xmlns:x=\"urn:x\"/>",
            StatusCode::FORBIDDEN,
            "supported-report",
        ),
        (
            "PROPPATCH",
            CALENDAR.to_string(),
            "<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY a \"aaaa\">]><x>&a;</x>",
            StatusCode::BAD_REQUEST,
            "",
        ),
        (
            "MKCALENDAR",
            "/dav/calendars/x/".to_string(),
            "<C:mkcalendar xmlns:C=\"urn:ietf:params:xml:ns:caldav\"><unclosed>",
            StatusCode::BAD_REQUEST,
            "",
        ),
    ];
    for (method, path, body, status, marker) in cases {
        let r = s.send(method, &path, &[], body.to_string()).await;
        assert_eq!(r.status, status, "{method} {path}: {}", r.body);
        assert!(r.body.contains(marker), "{method} {path}: {}", r.body);
        assert!(
            !r.body.trim().is_empty(),
            "{method} {path}: the body says what is wrong"
        );
    }
    assert_eq!(s.log_len(), before, "nothing was appended");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn traversal_missing_collections_and_oversized_bodies() {
    let s = Server::start().await;
    let before = s.log_len();
    // HTTP client libraries resolve `..` before sending; a hostile client does not.
    for path in [
        "/dav/calendars/../../etc/passwd",
        "/dav/calendars/%2e%2e/%2e%2e/etc/passwd",
    ] {
        let (addr, line) = (s.base.clone(), format!("GET {path} HTTP/1.1"));
        let raw = tokio::task::spawn_blocking(move || raw_request(&addr, &line))
            .await
            .unwrap();
        assert!(raw.starts_with("HTTP/1.1 400"), "{path}: {raw}");
        assert!(raw.contains(".."), "{raw}");
    }

    let missing = s
        .put(
            "/dav/calendars/nowhere/a.ics",
            &[],
            &event("a", "A", "20261123T090000Z"),
        )
        .await;
    assert_eq!(missing.status, StatusCode::CONFLICT);
    assert!(missing.body.contains("create it first"), "{}", missing.body);
    assert_eq!(
        s.propfind("/dav/calendars/nowhere/", "0", "").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        s.send("GET", "/elsewhere", &[], "").await.status,
        StatusCode::NOT_FOUND
    );

    let huge = "X".repeat(tandem::dav::MAX_BODY + 1);
    let r = s.put(&format!("{CALENDAR}huge.ics"), &[], &huge).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(r.body.contains("limited"));
    assert_eq!(s.log_len(), before);
}

/// Send a request line as written, with valid credentials, and return the raw response.
fn raw_request(base: &str, request_line: &str) -> String {
    use base64::Engine as _;
    use std::io::{Read, Write};
    let addr = base.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"));
    write!(
        stream,
        "{request_line}\r\nHost: {addr}\r\nAuthorization: Basic {auth}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}
