//! The whole product on one machine: the Salesforce emulator (its org edited directly, as a
//! Salesforce user would), the CalDAV/CardDAV server on a scratch store (spoken to over HTTP, as
//! a desktop client would), and the sync engine between them.
#![allow(dead_code)]

use reqwest::StatusCode;
use serde_json::{Value, json};
use std::sync::Arc;
use tandem::config::{SalesforceSettings, Settings};
use tandem::dav;
use tandem::dav::auth::Credentials;
use tandem::engine::sync::{Reach, RunReport, Selection, SyncEngine};
use tandem::salesforce::client::SalesforceClient;
use tandem::store::Store;
use tandem::store::Writer;
use tandem::store::system_clock;
use tandem_salesforce_emulator::{Emulator, EmulatorConfig, EmulatorHandle};

pub const USER: &str = "ana";
pub const PASSWORD: &str = "sync-tests";

pub struct Rig {
    pub emu: EmulatorHandle,
    pub store: Arc<Store>,
    pub writer: Writer,
    pub settings: Settings,
    pub base: String,
    pub http: reqwest::Client,
    pub dir: tempfile::TempDir,
    _server: dav::LocalServer,
}

impl Rig {
    pub async fn start() -> Rig {
        Rig::with_settings(Settings::default()).await
    }

    pub async fn with_settings(settings: Settings) -> Rig {
        Rig::with(settings, EmulatorConfig::default()).await
    }

    pub async fn with(mut settings: Settings, config: EmulatorConfig) -> Rig {
        let emu = Emulator::start(config).await.expect("emulator starts");
        settings.salesforce = SalesforceSettings {
            login_url: emu.base_url(),
            client_id: Some(emu.client_id()),
            client_secret: Some(emu.client_secret()),
            refresh_token: Some(emu.initial_refresh_token()),
            max_retries: 8,
            backoff_base_ms: 0,
            backoff_max_ms: 0,
            ..settings.salesforce
        };
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(Store::open_or_create(dir.path()).unwrap());
        let writer = Writer::spawn(store.clone(), settings.policies(), system_clock()).unwrap();
        let credentials = Credentials {
            user: USER.into(),
            password: PASSWORD.into(),
        };
        let server = dav::LocalServer::start(store.clone(), writer.clone(), credentials)
            .await
            .unwrap();
        let base = server.base.clone();
        Rig {
            emu,
            store,
            writer,
            settings,
            base,
            http: reqwest::Client::new(),
            dir,
            _server: server,
        }
    }

    pub fn client(&self) -> SalesforceClient {
        SalesforceClient::new(self.settings.salesforce.clone(), None).unwrap()
    }

    pub fn engine(&self) -> SyncEngine {
        self.engine_reaching(Reach::Client(self.client()))
    }

    /// An engine whose Salesforce is unreachable (nothing listens where it connects).
    pub fn offline_engine(&self) -> SyncEngine {
        let dead = SalesforceSettings {
            login_url: "http://127.0.0.1:9".into(),
            max_retries: 0,
            ..self.settings.salesforce.clone()
        };
        self.engine_reaching(Reach::Client(SalesforceClient::new(dead, None).unwrap()))
    }

    fn engine_reaching(&self, reach: Reach) -> SyncEngine {
        SyncEngine {
            store: self.store.clone(),
            writer: self.writer.clone(),
            settings: self.settings.clone(),
            dir: self.dir.path().to_path_buf(),
            reach,
            outlook: None,
            wall: system_clock(),
            only: Vec::new(),
            window: tandem::engine::sync::WINDOW,
        }
    }

    pub async fn preview(&self) -> RunReport {
        self.engine().preview().await.expect("preview runs")
    }

    pub async fn apply(&self) -> RunReport {
        self.engine()
            .apply(&Selection::default(), &|_, _| {})
            .await
            .expect("apply runs")
    }

    /// A reviewed manual run: preview, then apply; the apply must carry out every step.
    pub async fn sync(&self) -> RunReport {
        self.preview().await;
        let report = self.apply().await;
        let record = report.record.as_ref().unwrap();
        let failures: Vec<_> = record.failures().collect();
        assert!(failures.is_empty(), "steps failed: {failures:#?}");
        report
    }

    pub async fn put(&self, path: &str, body: &str) -> StatusCode {
        let content_type = if path.ends_with(".vcf") {
            "text/vcard"
        } else {
            "text/calendar"
        };
        self.http
            .put(format!("{}{path}", self.base))
            .basic_auth(USER, Some(PASSWORD))
            .header("Content-Type", content_type)
            .body(body.to_string())
            .send()
            .await
            .unwrap()
            .status()
    }

    pub async fn get(&self, path: &str) -> (StatusCode, String) {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .basic_auth(USER, Some(PASSWORD))
            .send()
            .await
            .unwrap();
        (response.status(), response.text().await.unwrap())
    }

    pub async fn delete(&self, path: &str) -> StatusCode {
        self.http
            .delete(format!("{}{path}", self.base))
            .basic_auth(USER, Some(PASSWORD))
            .send()
            .await
            .unwrap()
            .status()
    }

    /// The hrefs of a collection's members (PROPFIND Depth 1).
    pub async fn members(&self, collection: &str) -> Vec<String> {
        let body = self
            .http
            .request(
                reqwest::Method::from_bytes(b"PROPFIND").unwrap(),
                format!("{}{collection}", self.base),
            )
            .basic_auth(USER, Some(PASSWORD))
            .header("Depth", "1")
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        crate::common::members_in(&body, collection)
    }

    /// Rows of a SOQL query, read over the API.
    pub async fn soql(&self, soql: &str) -> Vec<Value> {
        self.client()
            .query(soql)
            .await
            .expect("query runs")
            .into_iter()
            .map(Value::Object)
            .collect()
    }

    /// Delete a row in the org as its user would, and let the minute pass: Salesforce lists a
    /// deletion once its minute is over.
    pub fn sf_delete(&self, id: &str) {
        self.emu.org().delete(id).expect("the row is deleted");
        self.emu.advance_clock(chrono::Duration::minutes(1));
    }

    /// The last names of the org's contacts.
    pub async fn last_names(&self) -> Vec<Value> {
        self.soql("SELECT LastName FROM Contact")
            .await
            .into_iter()
            .map(|r| r["LastName"].clone())
            .collect()
    }

    /// Create a record in the org as its user would (no API call is counted).
    pub fn sf_create(&self, object: &str, fields: Value) -> String {
        self.emu
            .org()
            .create(object, fields)
            .expect("record created")
    }

    pub fn sf_update(&self, object: &str, id: &str, fields: Value) {
        self.emu
            .org()
            .update(object, id, fields)
            .expect("record updated");
    }

    /// Rebuild every projection from the log and compare: desktop writes, outcomes and runs
    /// replay to the same bytes.
    pub fn verify_replay(&self) {
        let scratch = self.dir.path().join("replay-check.redb");
        let _ = std::fs::remove_file(&scratch);
        let verification =
            tandem::store::replay::verify(&self.store, self.settings.policies(), &scratch).unwrap();
        assert!(
            verification.differences.is_empty(),
            "{:#?}",
            verification.differences
        );
    }

    pub fn sf_get(&self, id: &str) -> Value {
        self.emu.org().get(id).unwrap_or(json!(null))
    }
}

/// A vCard 3.0 with a UID, name, company and extra lines.
pub fn vcard(uid: &str, first: &str, last: &str, extra: &[&str]) -> String {
    let mut lines = vec![
        "BEGIN:VCARD".to_string(),
        "VERSION:3.0".into(),
        format!("UID:{uid}"),
        format!("FN:{first} {last}"),
        format!("N:{last};{first};;;"),
    ];
    lines.extend(extra.iter().map(|l| l.to_string()));
    lines.push("END:VCARD".into());
    lines.join("\r\n") + "\r\n"
}

/// A VEVENT at `start` for an hour, with extra lines.
pub fn vevent(
    uid: &str,
    summary: &str,
    start: chrono::DateTime<chrono::Utc>,
    extra: &[&str],
) -> String {
    let fmt = |t: chrono::DateTime<chrono::Utc>| t.format("%Y%m%dT%H%M%SZ").to_string();
    let mut lines = vec![
        "BEGIN:VCALENDAR".to_string(),
        "VERSION:2.0".into(),
        "PRODID:-//tandem tests//EN".into(),
        "BEGIN:VEVENT".into(),
        format!("UID:{uid}"),
        "DTSTAMP:20261101T000000Z".into(),
        format!("DTSTART:{}", fmt(start)),
        format!("DTEND:{}", fmt(start + chrono::Duration::hours(1))),
        format!("SUMMARY:{summary}"),
    ];
    lines.extend(extra.iter().map(|l| l.to_string()));
    lines.extend(["END:VEVENT".to_string(), "END:VCALENDAR".into()]);
    lines.join("\r\n") + "\r\n"
}
