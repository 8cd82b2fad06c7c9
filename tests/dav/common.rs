//! A running server on a scratch store, and a client that speaks WebDAV to it.
#![allow(dead_code)]

use reqwest::{Method, StatusCode};
use std::sync::Arc;
use tandem::config::Settings;
use tandem::dav;
use tandem::dav::auth::Credentials;
use tandem::store::Writer;
use tandem::store::system_clock;
use tandem::store::{Store, read};

pub const USER: &str = "ana@example.com";
pub const PASSWORD: &str = "correct horse";

pub struct Server {
    pub base: String,
    pub store: Arc<Store>,
    pub client: reqwest::Client,
    _dir: tempfile::TempDir,
    _server: dav::LocalServer,
}

impl Server {
    pub async fn start() -> Server {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(Store::open_or_create(dir.path()).unwrap());
        let writer = Writer::spawn(
            store.clone(),
            Settings::default().policies(),
            system_clock(),
        )
        .unwrap();
        let credentials = Credentials {
            user: USER.into(),
            password: PASSWORD.into(),
        };
        let server = dav::LocalServer::start(store.clone(), writer, credentials)
            .await
            .unwrap();
        let base = server.base.clone();
        Server {
            base,
            store,
            client: reqwest::Client::new(),
            _dir: dir,
            _server: server,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn request(&self, method: &str, path: &str) -> reqwest::RequestBuilder {
        self.client
            .request(
                Method::from_bytes(method.as_bytes()).unwrap(),
                self.url(path),
            )
            .basic_auth(USER, Some(PASSWORD))
    }

    pub async fn send(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: impl Into<reqwest::Body>,
    ) -> Reply {
        let mut request = self.request(method, path).body(body);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        Reply::from(request.send().await.unwrap()).await
    }

    pub async fn propfind(&self, path: &str, depth: &str, body: &str) -> Reply {
        self.send(
            "PROPFIND",
            path,
            &[("Depth", depth), ("Content-Type", "application/xml")],
            body.to_string(),
        )
        .await
    }

    pub async fn report(&self, path: &str, depth: &str, body: &str) -> Reply {
        self.send(
            "REPORT",
            path,
            &[("Depth", depth), ("Content-Type", "application/xml")],
            body.to_string(),
        )
        .await
    }

    pub async fn put(&self, path: &str, headers: &[(&str, &str)], body: &str) -> Reply {
        self.send("PUT", path, headers, body.to_string()).await
    }

    /// How many events the log holds: "the store is unchanged" means this did not move.
    pub fn log_len(&self) -> u64 {
        let txn = self.store.read().unwrap();
        read::log_len(&txn).unwrap()
    }
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Reply {
    async fn from(response: reqwest::Response) -> Reply {
        Reply {
            status: response.status(),
            headers: response.headers().clone(),
            body: response.text().await.unwrap(),
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn etag(&self) -> String {
        self.header("etag").expect("an ETag").to_string()
    }

    /// The `<response>` blocks of a multistatus, by href.
    pub fn responses(&self) -> Vec<(String, String)> {
        self.body
            .split("<D:response>")
            .skip(1)
            .map(|block| {
                let href = between(block, "<D:href>", "</D:href>").unwrap_or_default();
                (href, block.to_string())
            })
            .collect()
    }
}

pub fn between(text: &str, start: &str, end: &str) -> Option<String> {
    let from = text.find(start)? + start.len();
    let to = text[from..].find(end)? + from;
    Some(text[from..to].to_string())
}

pub fn event(uid: &str, summary: &str, start: &str) -> String {
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Test//Test//EN\r\nBEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20261101T000000Z\r\nDTSTART:{start}\r\nDURATION:PT1H\r\nSUMMARY:{summary}\r\nX-TEST-KEEP:kept as is\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
}

pub fn todo(uid: &str, summary: &str) -> String {
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Test//Test//EN\r\nBEGIN:VTODO\r\nUID:{uid}\r\nDTSTAMP:20261101T000000Z\r\nDUE;VALUE=DATE:20261130\r\nSUMMARY:{summary}\r\nSTATUS:NEEDS-ACTION\r\nEND:VTODO\r\nEND:VCALENDAR\r\n"
    )
}

pub fn card(uid: Option<&str>, name: &str) -> String {
    let uid = uid.map(|u| format!("UID:{u}\r\n")).unwrap_or_default();
    format!(
        "BEGIN:VCARD\r\nVERSION:3.0\r\n{uid}N:{name};Ana;;;\r\nFN:Ana {name}\r\nEMAIL;TYPE=WORK:ana@{name}.example\r\nEND:VCARD\r\n"
    )
}

pub const CALENDAR: &str = "/dav/calendars/calendar/";
pub const TASKS: &str = "/dav/calendars/tasks/";
pub const CONTACTS: &str = "/dav/addressbooks/contacts/";

/// The projections still follow from the log alone.
pub fn assert_replays(s: &Server) {
    let scratch = tempfile::tempdir().unwrap();
    let verification = tandem::store::replay::verify(
        &s.store,
        tandem::config::Settings::default().policies(),
        &scratch.path().join("replay.redb"),
    )
    .unwrap();
    assert!(
        verification.differences.is_empty(),
        "{:?}",
        verification.differences
    );
}
