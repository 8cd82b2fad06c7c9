//! The request sequences of the real desktop and phone clients, replayed in order with the
//! headers and XML bodies each one sends (reconstructed from their sources and traces; see
//! `/work/shared/reference/dav-anchors.md` §3). Each step asserts what that client depends on
//! to go on to the next one: a client that gets something else stops syncing, disables the
//! calendar, or loses data.
//!
//! One module per client; the bodies it sends are files under `fixtures/dav/<client>/`, as the
//! client sends them. Where a body carries a value of the run (a sync token, hrefs), its file
//! has a `{name}` placeholder that [`fill`] substitutes. What every client uses is here.

mod apple;
mod caldav_synchronizer;
mod davx5;
mod evolution;
mod thunderbird;

use crate::common::*;
use reqwest::StatusCode;

/// One client: its User-Agent, its user name as it encodes it, and an HTTP client that does not
/// follow redirects, so each hop of discovery is seen as the client sees it.
struct Client<'a> {
    server: &'a Server,
    http: reqwest::Client,
    agent: &'static str,
    user: &'static str,
    content_type: &'static str,
}

impl<'a> Client<'a> {
    fn new(server: &'a Server, agent: &'static str, content_type: &'static str) -> Client<'a> {
        Client {
            server,
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            agent,
            user: USER,
            content_type,
        }
    }

    async fn send(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Reply {
        let mut request = self
            .http
            .request(
                reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
                self.server.url(path),
            )
            .basic_auth(self.user, Some(PASSWORD))
            .header("User-Agent", self.agent)
            .body(body.to_string());
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.unwrap();
        Reply {
            status: response.status(),
            headers: response.headers().clone(),
            body: response.text().await.unwrap(),
        }
    }

    async fn propfind(&self, path: &str, depth: &str, body: &str) -> Reply {
        let reply = self
            .send(
                "PROPFIND",
                path,
                &[("Depth", depth), ("Content-Type", self.content_type)],
                body,
            )
            .await;
        assert_eq!(
            reply.status,
            StatusCode::MULTI_STATUS,
            "PROPFIND {path}: {}",
            reply.body
        );
        reply
    }

    /// A PROPFIND whose status the caller checks (a redirect, a refusal).
    async fn propfind_raw(&self, path: &str, depth: &str, body: &str) -> Reply {
        self.send(
            "PROPFIND",
            path,
            &[("Depth", depth), ("Content-Type", self.content_type)],
            body,
        )
        .await
    }

    async fn report(&self, path: &str, depth: &str, body: &str) -> Reply {
        self.send(
            "REPORT",
            path,
            &[("Depth", depth), ("Content-Type", self.content_type)],
            body,
        )
        .await
    }

    async fn put(&self, path: &str, headers: &[(&str, &str)], body: &str) -> Reply {
        self.send("PUT", path, headers, body).await
    }

    async fn get(&self, path: &str) -> Reply {
        self.send("GET", path, &[], "").await
    }
}

/// A request fixture with its `{name}` placeholder filled in.
fn fill(fixture: &str, name: &str, value: &str) -> String {
    let placeholder = format!("{{{name}}}");
    assert!(
        fixture.contains(&placeholder),
        "no {placeholder} in {fixture}"
    );
    fixture.replace(&placeholder, value)
}

/// The href list of a multiget: one `item` per href, with its `{href}` filled in.
fn each_href(hrefs: &[String], item: &str) -> String {
    hrefs.iter().map(|href| fill(item, "href", href)).collect()
}

/// The `<response>` block for one href.
fn block(reply: &Reply, href: &str) -> String {
    reply
        .responses()
        .into_iter()
        .find(|(h, _)| h == href)
        .map(|(_, b)| b)
        .unwrap_or_else(|| panic!("no response for {href} in {}", reply.body))
}

/// The HTTP status of the propstat that holds the property with this local name.
fn prop_status(block: &str, local: &str) -> Option<u16> {
    block.split("<D:propstat>").skip(1).find_map(|propstat| {
        let holds = [">", "/>", " "]
            .iter()
            .any(|end| propstat.contains(&format!(":{local}{end}")));
        holds.then(|| {
            let status = between(propstat, "HTTP/1.1 ", " ").unwrap_or_default();
            status.parse().unwrap_or(0)
        })
    })
}

fn assert_prop(block: &str, local: &str, status: u16) {
    assert_eq!(
        prop_status(block, local),
        Some(status),
        "{local} should be {status} in {block}"
    );
}

/// Character data as an XML parser hands it to the client.
fn unescape(text: &str) -> String {
    text.replace("&#13;", "\r")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

/// The calendar-data or address-data of a response block, unescaped.
fn data(block: &str, element: &str) -> String {
    let open = format!("<{element}>");
    let close = format!("</{element}>");
    unescape(&between(block, &open, &close).unwrap_or_else(|| panic!("no {element} in {block}")))
}

fn sync_token(reply: &Reply) -> String {
    between(&reply.body, "<D:sync-token>", "</D:sync-token>").expect("a sync token")
}

fn ctag(reply: &Reply) -> String {
    between(&reply.body, "<CS:getctag>", "</CS:getctag>").expect("a getctag")
}

fn hrefs(reply: &Reply) -> Vec<String> {
    reply.responses().into_iter().map(|(h, _)| h).collect()
}

fn assert_dav_header(reply: &Reply) {
    let dav = reply.header("dav").unwrap_or_default();
    assert!(
        dav.contains("calendar-access") && dav.contains("addressbook"),
        "DAV header: {dav:?}"
    );
}

fn todo_due(uid: &str, summary: &str, due: Option<&str>) -> String {
    let due = due.map(|d| format!("DUE:{d}\r\n")).unwrap_or_default();
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Test//Test//EN\r\nBEGIN:VTODO\r\nUID:{uid}\r\nDTSTAMP:20261101T000000Z\r\n{due}SUMMARY:{summary}\r\nSTATUS:NEEDS-ACTION\r\nEND:VTODO\r\nEND:VCALENDAR\r\n"
    )
}
