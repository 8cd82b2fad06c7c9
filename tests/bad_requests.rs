//! Bad input over HTTP: hundreds of malformed requests, generated across every endpoint the
//! daemon serves (the CalDAV/CardDAV server, the local API, the review app), sent the way a
//! broken client or a hostile page would. Each gets a 4xx that says what is wrong — never a
//! 5xx, never a dropped connection — and the log is exactly as long afterwards.

mod common;

use common::Scratch;
use common::daemon::Daemon;
use std::io::{Read, Write};

const CALENDAR: &str = "/dav/calendars/calendar/";
const CONTACTS: &str = "/dav/addressbooks/contacts/";

/// One request: method, path, extra header lines, body.
struct Bad {
    what: String,
    method: String,
    path: String,
    headers: Vec<String>,
    body: Vec<u8>,
}

fn bad(what: impl Into<String>, method: &str, path: &str, headers: &[&str], body: &[u8]) -> Bad {
    Bad {
        what: what.into(),
        method: method.into(),
        path: path.into(),
        headers: headers.iter().map(|h| h.to_string()).collect(),
        body: body.to_vec(),
    }
}

const EVENT: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//bad input//EN\r\nBEGIN:VEVENT\r\nUID:bad-1\r\nDTSTAMP:20270101T000000Z\r\nDTSTART:20270310T090000Z\r\nDTEND:20270310T100000Z\r\nSUMMARY:Valid\r\nRRULE:FREQ=WEEKLY;COUNT=3\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
const CARD: &str =
    "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:bad-card\r\nFN:Ana Lima\r\nN:Lima;Ana;;;\r\nEND:VCARD\r\n";
const PROPFIND: &str = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<D:propfind xmlns:D=\"DAV:\"><D:prop><D:displayname/><D:getetag/></D:prop></D:propfind>";
const QUERY: &str = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<C:calendar-query xmlns:D=\"DAV:\" xmlns:C=\"urn:ietf:params:xml:ns:caldav\"><D:prop><D:getetag/></D:prop><C:filter><C:comp-filter name=\"VCALENDAR\"><C:comp-filter name=\"VEVENT\"><C:time-range start=\"20270101T000000Z\" end=\"20280101T000000Z\"/></C:comp-filter></C:comp-filter></C:filter></C:calendar-query>";
const PROPPATCH: &str = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<D:propertyupdate xmlns:D=\"DAV:\"><D:set><D:prop><D:displayname>Work</D:displayname></D:prop></D:set></D:propertyupdate>";
const SYNC: &str = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<D:sync-collection xmlns:D=\"DAV:\"><D:sync-token/><D:sync-level>1</D:sync-level><D:prop><D:getetag/></D:prop></D:sync-collection>";

/// Calendar bodies that are not a calendar object resource tandem can store.
fn calendars() -> Vec<Bad> {
    let mut out = Vec::new();
    let put = |what: String, body: &str| {
        bad(
            what,
            "PUT",
            &format!("{CALENDAR}bad.ics"),
            &["Content-Type: text/calendar"],
            body.as_bytes(),
        )
    };
    // Cut short anywhere: the calendar never ends.
    for at in (1..EVENT.len() - 3).step_by(3) {
        out.push(put(format!("calendar cut at byte {at}"), &EVENT[..at]));
    }
    // Values that are not what their property says.
    for (property, values) in [
        (
            "DTSTART",
            &[
                "",
                "2027",
                "20271332T250000Z",
                "tomorrow",
                "20270310T090000ZZ",
                "2027-03-10",
            ][..],
        ),
        (
            "DTEND",
            &["", "20270230T100000Z", "later", "20270310T9"][..],
        ),
        (
            "RRULE",
            &[
                "",
                "FREQ=SOMETIMES",
                "FREQ=WEEKLY;COUNT=-1",
                "FREQ=WEEKLY;UNTIL=never",
                "FREQ=WEEKLY;BYDAY=XX",
                "FREQ=WEEKLY;INTERVAL=0",
                "COUNT=3",
                "FREQ=WEEKLY;COUNT=3;UNTIL=20270101T000000Z",
            ][..],
        ),
        ("EXDATE", &["nope", "2027031"][..]),
    ] {
        for value in values {
            let line = EVENT
                .lines()
                .find(|l| l.starts_with(&format!("{property}:")))
                .map(|l| l.to_string())
                .unwrap_or_else(|| format!("{property}:"));
            let body = if EVENT.contains(&line) && property != "EXDATE" {
                EVENT.replace(&line, &format!("{property}:{value}"))
            } else {
                EVENT.replace(
                    "SUMMARY:Valid",
                    &format!("SUMMARY:Valid\r\n{property}:{value}"),
                )
            };
            out.push(put(format!("{property} {value:?}"), &body));
        }
    }
    // A line broken in the middle of its name: no colon left.
    for line in EVENT
        .lines()
        .filter(|l| !l.starts_with("BEGIN") && !l.starts_with("END"))
    {
        let name = line.split(':').next().unwrap_or(line);
        out.push(put(
            format!("{name} without its colon"),
            &EVENT.replace(line, &line.replacen(':', " ", 1)),
        ));
    }
    // Shapes a stored calendar object resource must not have.
    let shapes = [
        ("two UIDs", EVENT.replace("END:VCALENDAR", "BEGIN:VEVENT\r\nUID:other\r\nDTSTAMP:20270101T000000Z\r\nDTSTART:20270311T090000Z\r\nEND:VEVENT\r\nEND:VCALENDAR")),
        ("a METHOD", EVENT.replace("VERSION:2.0", "VERSION:2.0\r\nMETHOD:REQUEST")),
        ("no component", "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nEND:VCALENDAR\r\n".into()),
        ("no calendar", EVENT.replace("BEGIN:VCALENDAR\r\n", "").replace("END:VCALENDAR\r\n", "")),
        ("a VEVENT never ended", EVENT.replace("END:VEVENT\r\n", "")),
        ("an END without BEGIN", EVENT.replace("BEGIN:VEVENT\r\n", "")),
        ("two masters", EVENT.replace("END:VCALENDAR", "BEGIN:VEVENT\r\nUID:bad-1\r\nDTSTAMP:20270101T000000Z\r\nDTSTART:20270311T090000Z\r\nEND:VEVENT\r\nEND:VCALENDAR")),
        ("a vCard", CARD.to_string()),
        ("empty", String::new()),
        ("only spaces", "   \r\n  \r\n".into()),
        ("not text", "\u{0}\u{1}\u{2}BEGIN".into()),
        ("a JSON body", "{\"subject\":\"x\"}".into()),
        ("a line without a colon", EVENT.replace("SUMMARY:Valid", "SUMMARY Valid")),
    ];
    for (what, body) in shapes {
        out.push(put(what.to_string(), &body));
    }
    out.push(bad(
        "undeclared non-UTF-8 bytes",
        "PUT",
        &format!("{CALENDAR}bad.ics"),
        &["Content-Type: text/calendar"],
        &EVENT
            .replace("Valid", "\u{fffd}")
            .replace('\u{fffd}', "\u{ff}")
            .bytes()
            .map(|b| if b == 0xc3 { 0xff } else { b })
            .collect::<Vec<u8>>(),
    ));
    out.push(bad(
        "an unknown charset",
        "PUT",
        &format!("{CALENDAR}bad.ics"),
        &["Content-Type: text/calendar; charset=x-klingon"],
        EVENT.as_bytes(),
    ));
    out
}

/// To-dos whose dates are not dates.
fn todos() -> Vec<Bad> {
    let todo = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//bad input//EN\r\nBEGIN:VTODO\r\nUID:bad-todo\r\nDTSTAMP:20270101T000000Z\r\nDUE;VALUE=DATE:20270310\r\nSUMMARY:Call back\r\nEND:VTODO\r\nEND:VCALENDAR\r\n";
    let mut out = Vec::new();
    for (line, values) in [
        (
            "DUE;VALUE=DATE:20270310",
            &[
                "DUE;VALUE=DATE:2027-03-10",
                "DUE:next week",
                "DUE:20270310T25",
                "DUE:",
            ][..],
        ),
        (
            "SUMMARY:Call back",
            &[
                "SUMMARY:Call back\r\nCOMPLETED:yesterday",
                "SUMMARY:Call back\r\nDTSTART:03/10/2027",
                "SUMMARY:Call back\r\nRRULE:FREQ=DAILY;COUNT=0",
                "SUMMARY:Call back\r\nRRULE:FREQ=DAILY;UNTIL=2027",
            ][..],
        ),
    ] {
        for value in values {
            out.push(bad(
                format!("to-do with {value:?}"),
                "PUT",
                "/dav/calendars/tasks/bad.ics",
                &["Content-Type: text/calendar"],
                todo.replace(line, value).as_bytes(),
            ));
        }
    }
    for at in (1..todo.len() - 3).step_by(6) {
        out.push(bad(
            format!("to-do cut at byte {at}"),
            "PUT",
            "/dav/calendars/tasks/bad.ics",
            &["Content-Type: text/calendar"],
            &todo.as_bytes()[..at],
        ));
    }
    out
}

/// Card bodies that are not a vCard tandem can store.
fn cards() -> Vec<Bad> {
    let mut out = Vec::new();
    let put = |what: String, body: &str| {
        bad(
            what,
            "PUT",
            &format!("{CONTACTS}bad.vcf"),
            &["Content-Type: text/vcard"],
            body.as_bytes(),
        )
    };
    for at in (1..CARD.len() - 3).step_by(2) {
        out.push(put(format!("card cut at byte {at}"), &CARD[..at]));
    }
    for line in CARD
        .lines()
        .filter(|l| !l.starts_with("BEGIN") && !l.starts_with("END"))
    {
        let name = line.split(':').next().unwrap_or(line);
        out.push(put(
            format!("card {name} without its colon"),
            &CARD.replace(line, &line.replacen(':', " ", 1)),
        ));
    }
    for (what, body) in [
        ("version 9", CARD.replace("VERSION:3.0", "VERSION:9.0")),
        // A card without VERSION is read as 3.0, as clients that leave it out write: not bad.
        ("no END", CARD.replace("END:VCARD\r\n", "")),
        (
            "two cards",
            format!("{CARD}{}", CARD.replace("bad-card", "other")),
        ),
        ("a calendar", EVENT.to_string()),
        ("empty", String::new()),
        (
            "a card inside a card",
            CARD.replace(
                "FN:Ana Lima",
                "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:x\r\nEND:VCARD",
            ),
        ),
    ] {
        out.push(put(what.to_string(), &body));
    }
    out
}

/// XML bodies cut short, or not what the method reads.
fn xml_bodies() -> Vec<Bad> {
    let mut out = Vec::new();
    for (method, path, body, depth) in [
        ("PROPFIND", CALENDAR, PROPFIND, "Depth: 1"),
        ("REPORT", CALENDAR, QUERY, "Depth: 1"),
        ("PROPPATCH", CALENDAR, PROPPATCH, "Depth: 0"),
        ("PROPFIND", CONTACTS, PROPFIND, "Depth: 1"),
        ("REPORT", CALENDAR, SYNC, "Depth: 0"),
    ] {
        let headers = ["Content-Type: application/xml; charset=utf-8", depth];
        for at in (40..body.len() - 2).step_by(4) {
            out.push(bad(
                format!("{method} body cut at {at}"),
                method,
                path,
                &headers,
                &body.as_bytes()[..at],
            ));
        }
        for (what, junk) in [
            ("not XML", "this is not xml"),
            (
                "an entity bomb",
                "<?xml version=\"1.0\"?><!DOCTYPE d [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;\">]><D:propfind xmlns:D=\"DAV:\"><D:prop>&b;</D:prop></D:propfind>",
            ),
            (
                "an external entity",
                "<?xml version=\"1.0\"?><!DOCTYPE d [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><D:propfind xmlns:D=\"DAV:\"><D:prop><D:displayname>&x;</D:displayname></D:prop></D:propfind>",
            ),
            (
                "the wrong root",
                "<?xml version=\"1.0\"?><D:lockinfo xmlns:D=\"DAV:\"/>",
            ),
            (
                "no namespace",
                "<?xml version=\"1.0\"?><propfind><prop><displayname/></prop></propfind>",
            ),
            ("JSON", "{\"propfind\": true}"),
            (
                "two roots",
                "<D:prop xmlns:D=\"DAV:\"/><D:prop xmlns:D=\"DAV:\"/>",
            ),
        ] {
            out.push(bad(
                format!("{method} with {what}"),
                method,
                path,
                &headers,
                junk.as_bytes(),
            ));
        }
    }
    for (what, report) in [
        (
            "an unknown report",
            "<?xml version=\"1.0\"?><D:unknown-report xmlns:D=\"DAV:\"/>",
        ),
        (
            "a time range ending before it starts",
            &QUERY.replace(
                "start=\"20270101T000000Z\" end=\"20280101T000000Z\"",
                "start=\"20280101T000000Z\" end=\"20270101T000000Z\"",
            ),
        ),
        (
            "a time range that is no time",
            &QUERY.replace("20270101T000000Z", "soon"),
        ),
        (
            "a sync token of another server",
            &SYNC.replace(
                "<D:sync-token/>",
                "<D:sync-token>http://example.com/sync/1</D:sync-token>",
            ),
        ),
        (
            "a sync token from the future",
            &SYNC.replace(
                "<D:sync-token/>",
                "<D:sync-token>urn:tandem:sync:999999999</D:sync-token>",
            ),
        ),
        (
            "a multiget without hrefs",
            "<?xml version=\"1.0\"?><C:calendar-multiget xmlns:D=\"DAV:\" xmlns:C=\"urn:ietf:params:xml:ns:caldav\"><D:prop><D:getetag/></D:prop></C:calendar-multiget>",
        ),
        (
            "a filter on no component",
            &QUERY.replace("name=\"VCALENDAR\"", "name=\"\""),
        ),
    ] {
        out.push(bad(
            what,
            "REPORT",
            CALENDAR,
            &["Content-Type: application/xml", "Depth: 1"],
            report.as_bytes(),
        ));
    }
    out
}

/// Headers tandem reads itself, with values that mean nothing.
fn headers() -> Vec<Bad> {
    let mut out = Vec::new();
    let member = format!("{CALENDAR}good.ics");
    for depth in ["2", "foo", "-1", "infinity;", "1,0", ""] {
        out.push(bad(
            format!("Depth {depth:?}"),
            "PROPFIND",
            CALENDAR,
            &[&format!("Depth: {depth}"), "Content-Type: application/xml"],
            PROPFIND.as_bytes(),
        ));
    }
    for (name, value) in [
        ("If-Match", "unquoted"),
        ("If-Match", "\"nope\""),
        ("If-Match", "W/"),
        ("If-None-Match", "\"nope\", garbage"),
        ("If-None-Match", "*, \"x\""),
        ("If-Match", "\"x"),
    ] {
        out.push(bad(
            format!("PUT with {name}: {value}"),
            "PUT",
            &member,
            &[&format!("{name}: {value}"), "Content-Type: text/calendar"],
            EVENT.replace("bad-1", "good-1").as_bytes(),
        ));
        out.push(bad(
            format!("DELETE with {name}: {value}"),
            "DELETE",
            &member,
            &[&format!("{name}: {value}")],
            b"",
        ));
    }
    for destination in [
        "",
        "not a url",
        "http://elsewhere.example/dav/calendars/calendar/x.ics",
        "/dav/calendars/calendar/",
        "/outside/x.ics",
        "/dav/addressbooks/contacts/x.vcf",
        "http://[::1",
        "/dav/calendars/calendar/%zz.ics",
    ] {
        for method in ["COPY", "MOVE"] {
            out.push(bad(
                format!("{method} to {destination:?}"),
                method,
                &member,
                &[&format!("Destination: {destination}")],
                b"",
            ));
        }
    }
    for overwrite in ["X", "yes", ""] {
        out.push(bad(
            format!("Overwrite {overwrite:?}"),
            "COPY",
            &member,
            &[
                &format!("Destination: {CALENDAR}copy.ics"),
                &format!("Overwrite: {overwrite}"),
            ],
            b"",
        ));
    }
    out
}

/// Paths that lead nowhere tandem keeps things, and methods it does not know.
fn paths_and_methods() -> Vec<Bad> {
    let mut out = Vec::new();
    let long = "x".repeat(4000);
    for path in [
        "/dav/../../etc/passwd".to_string(),
        "/dav/calendars/calendar/%2e%2e/%2e%2e/x.ics".into(),
        // (A `%` that starts no escape is kept as a `%`: clients send names such as `50%off.ics`.)
        "/dav/calendars/calendar/a%00b.ics".into(),
        format!("/dav/calendars/calendar/{long}.ics"),
        "/dav/calendars/nowhere/x.ics".into(),
        "/dav/calendars/calendar/".into(),
        "/dav/calendars/calendar/sub/deeper/x.ics".into(),
        "/dav/addressbooks/contacts/x.ics".into(),
    ] {
        out.push(bad(
            format!("PUT to {}", &path[..path.len().min(60)]),
            "PUT",
            &path,
            &["Content-Type: text/calendar"],
            EVENT.as_bytes(),
        ));
        out.push(bad(
            format!("GET {}", &path[..path.len().min(60)]),
            "GET",
            &format!("{path}missing"),
            &[],
            b"",
        ));
    }
    for method in [
        "FOO",
        "PATCH",
        "TRACE",
        "CONNECT-ISH",
        "LOCK",
        "UNLOCK",
        "BIND",
        "SEARCH",
    ] {
        out.push(bad(format!("method {method}"), method, CALENDAR, &[], b""));
    }
    for (method, path, body) in [
        ("MKCALENDAR", CALENDAR, &b""[..]),
        ("MKCOL", "/dav/calendars/calendar/x.ics/", b""),
        ("MKCALENDAR", "/dav/calendars/new/", b"<not-xml"),
        ("MKCOL", "/dav/addressbooks/new/", b"<?xml version=\"1.0\"?><D:mkcol xmlns:D=\"DAV:\"><D:set><D:prop><D:resourcetype><D:unknown/></D:resourcetype></D:prop></D:set></D:mkcol>"),
        ("DELETE", "/dav/", b""),
        ("DELETE", "/dav/calendars/calendar/missing.ics", b""),
        ("MOVE", CALENDAR, b""),
    ] {
        out.push(bad(format!("{method} {path}"), method, path, &[], body));
    }
    out
}

/// The local API and the review app, asked wrongly.
fn api_and_app(token: &str) -> Vec<(String, Bad)> {
    let mut out = Vec::new();
    let bearer = format!("Authorization: Bearer {token}");
    for (what, body) in [
        ("not JSON", "call me"),
        ("an unknown use", "{\"use\":\"format-disk\"}"),
        ("no use", "{}"),
        (
            "a use with wrong arguments",
            "{\"use\":\"history\",\"name\":42}",
        ),
        ("an array", "[1,2,3]"),
        ("cut short", "{\"use\":\"prev"),
    ] {
        out.push((
            "api".to_string(),
            bad(
                format!("API {what}"),
                "POST",
                "/api/v1/call",
                &[&bearer, "Content-Type: application/json"],
                body.as_bytes(),
            ),
        ));
    }
    for (what, headers) in [
        (
            "no token",
            vec!["Content-Type: application/json".to_string()],
        ),
        (
            "a wrong token",
            vec![
                "Authorization: Bearer 00".to_string(),
                "Content-Type: application/json".into(),
            ],
        ),
        (
            "basic auth",
            vec![
                "Authorization: Basic YTpi".to_string(),
                "Content-Type: application/json".into(),
            ],
        ),
    ] {
        let headers: Vec<&str> = headers.iter().map(String::as_str).collect();
        out.push((
            "api".to_string(),
            bad(
                format!("API with {what}"),
                "POST",
                "/api/v1/call",
                &headers,
                b"{\"use\":\"preview\"}",
            ),
        ));
    }
    // Every use, with arguments of the wrong kind or naming nothing there is.
    let draft = |rest: &str| {
        format!(
            r#"{{"use":"append","draft":{{"origin":{{"side":"desktop","agent":"x"}},{rest}}}}}"#
        )
    };
    let mut uses: Vec<String> = [
        r#"{"use":"apply","records":"all"}"#,
        r#"{"use":"apply","records":[1,2]}"#,
        r#"{"use":"apply","fingerprints":{"a":1}}"#,
        r#"{"use":"ignore","records":["con-nope"]}"#,
        r#"{"use":"ignore","records":["con-nope"],"how":"sometimes"}"#,
        r#"{"use":"ignore","records":"con-nope","how":"once"}"#,
        r#"{"use":"ignore","records":["con-nope"],"how":"once","side":"fax"}"#,
        r#"{"use":"history"}"#,
        r#"{"use":"history","record":"nobody-at-all"}"#,
        r#"{"use":"history","record":["a"]}"#,
        r#"{"use":"blame","record":"nobody-at-all"}"#,
        r#"{"use":"blame","record":null}"#,
        r#"{"use":"restore","record":"nobody-at-all","at":1}"#,
        r#"{"use":"restore","record":"good"}"#,
        r#"{"use":"restore","record":"good","at":"the day before"}"#,
        r#"{"use":"log","since":"yesterday"}"#,
        r#"{"use":"log","limit":-1}"#,
        r#"{"use":"log","limit":"ten"}"#,
        r#"{"use":"append"}"#,
        r#"{"use":"append","draft":{}}"#,
        r#"{"use":"verify","extra":true}"#,
        r#"{"use":"halt","now":"please"}"#,
    ]
    .map(str::to_string)
    .to_vec();
    for rest in [
        r#""type":"observation","kind":"gadget","op":"create","changes":{}"#,
        r#""type":"observation","kind":"contact","op":"explode","changes":{}"#,
        r#""type":"observation","kind":"contact","op":"create","changes":{"shoe_size":42}"#,
        r#""type":"observation","kind":"contact","op":"create","changes":{"email":["a","b"]}"#,
        r#""type":"observation","kind":"contact","op":"update","external_id":"/nowhere.vcf","changes":{"title":"x"}"#,
        r#""type":"observation","kind":"contact","op":"delete","record":"con-00000000000000ff""#,
        r#""type":"observation","kind":"event","op":"update","record":"not-an-id","changes":{}"#,
        r#""type":"observation","kind":"event","op":"create","changes":{"start":"tomorrow"}"#,
        r#""type":"observation","kind":"task","op":"create","changes":{"due":"2027-02-30"}"#,
        r#""type":"observation","kind":"task","op":"create","changes":{"status":"maybe"}"#,
        r#""type":"rumour""#,
    ] {
        uses.push(draft(rest));
    }
    uses.push(r#"{"use":"append","draft":{"origin":{"side":"mars","agent":"x"},"type":"observation","kind":"contact","op":"create","changes":{}}}"#.into());
    for body in &uses {
        out.push((
            "api".to_string(),
            bad(
                format!("API {body}"),
                "POST",
                "/api/v1/call",
                &[&bearer, "Content-Type: application/json"],
                body.as_bytes(),
            ),
        ));
    }
    out.push((
        "api".to_string(),
        bad("API GET of a call", "GET", "/api/v1/call", &[&bearer], b""),
    ));
    out.push((
        "api".to_string(),
        bad(
            "API unknown path",
            "POST",
            "/api/v2/everything",
            &[&bearer],
            b"{}",
        ),
    ));
    for (what, body) in [
        ("no fields", ""),
        ("no password", "user=ana"),
        ("a wrong password", "user=ana&password=wrong"),
        ("broken encoding", "user=%zz&password=%"),
    ] {
        out.push((
            "app".to_string(),
            bad(
                format!("sign-in with {what}"),
                "POST",
                "/app/signin",
                &["Content-Type: application/x-www-form-urlencoded"],
                body.as_bytes(),
            ),
        ));
    }
    for path in [
        "/app/nowhere",
        "/app/history/evt-nope",
        "/app/records/../../etc",
    ] {
        out.push((
            "app".to_string(),
            bad(format!("GET {path}"), "GET", path, &[], b""),
        ));
    }
    out.push((
        "app".to_string(),
        bad(
            "review without a session",
            "POST",
            "/app/summary/review",
            &["Content-Type: application/x-www-form-urlencoded"],
            b"csrf=1",
        ),
    ));
    out
}

/// Send `request` to `addr` as `host`: the status and the body.
fn send(addr: &str, host: &str, auth: Option<&str>, request: &Bad) -> (u16, String) {
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    let mut head = format!(
        "{} {} HTTP/1.1\r\nHost: {host}\r\n",
        request.method, request.path
    );
    if let Some(auth) = auth {
        head.push_str(&format!("Authorization: Basic {auth}\r\n"));
    }
    for header in &request.headers {
        head.push_str(header);
        head.push_str("\r\n");
    }
    head.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        request.body.len()
    ));
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(&request.body).unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let text = String::from_utf8_lossy(&response).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

#[test]
fn hundreds_of_bad_requests_get_a_4xx_that_says_why_and_change_nothing() {
    let s = Scratch::new();
    let daemon = Daemon::start(&s);
    let announced = daemon.announcement();
    let (dav, auth) = (daemon.dav_addr(), daemon.basic_auth());
    let api = announced["addr"].as_str().unwrap().to_string();
    // Something to keep: a valid event and card, stored before.
    for (path, body, kind) in [
        (
            format!("{CALENDAR}good.ics"),
            EVENT.replace("bad-1", "good-1"),
            "text/calendar",
        ),
        (
            format!("{CONTACTS}good.vcf"),
            CARD.replace("bad-card", "good-card"),
            "text/vcard",
        ),
    ] {
        let (status, body) = send(
            &dav,
            &dav,
            Some(&auth),
            &bad(
                "setup",
                "PUT",
                &path,
                &[&format!("Content-Type: {kind}")],
                body.as_bytes(),
            ),
        );
        assert_eq!(status, 201, "{body}");
    }
    let before = s.log().len();

    let mut requests: Vec<(String, Bad)> = [
        calendars(),
        todos(),
        cards(),
        xml_bodies(),
        headers(),
        paths_and_methods(),
    ]
    .into_iter()
    .flatten()
    .map(|b| ("dav".to_string(), b))
    .collect();
    requests.extend(api_and_app(announced["token"].as_str().unwrap()));
    let mut wrong = Vec::new();
    for (target, request) in &requests {
        let (status, body) = match target.as_str() {
            "dav" => send(&dav, &dav, Some(&auth), request),
            "api" => send(&api, &api, None, request),
            _ => send(&dav, &dav, None, request),
        };
        if !(400..500).contains(&status) || body.trim().is_empty() {
            wrong.push(format!(
                "{} ({} {}): {status} {:?}",
                request.what,
                request.method,
                request.path,
                &body[..body.len().min(200)]
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {} answered wrongly:\n{}",
        wrong.len(),
        requests.len(),
        wrong.join("\n")
    );
    assert!(requests.len() >= 500, "{} bad requests", requests.len());
    println!(
        "{} bad requests, each answered 4xx with a reason",
        requests.len()
    );
    assert_eq!(s.log().len(), before, "nothing refused changed anything");
    daemon.stop();
}
