//! Harness: an emulator with a frozen clock, client settings pointing at it (with no backoff
//! delay, so retries never wait), and a scratch log (store + writer).
#![allow(dead_code)]

use std::path::Path;
use std::sync::Arc;

use serde_json::{Value as Json, json};
use tandem::config::{SalesforceSettings, Settings};
use tandem::engine::sync::LogLedger;
use tandem::protocol::{Hlc, RecordId, RecordKind};
use tandem::salesforce::client::{CredentialsFile, Pusher, Row, SalesforceClient};
use tandem::store::Store;
use tandem::store::Writer;
use tandem::store::system_clock;
use tandem_salesforce_emulator::{Emulator, EmulatorConfig, EmulatorHandle, FixedClock};

/// Monday 2024-05-06 10:00:00 UTC: the org's frozen "now" (years before the test machine's).
pub fn t0() -> FixedClock {
    FixedClock::at(2024, 5, 6, 10, 0, 0)
}

pub fn config() -> EmulatorConfig {
    EmulatorConfig {
        clock: Arc::new(t0()),
        ..EmulatorConfig::default()
    }
}

pub async fn start() -> EmulatorHandle {
    start_with(config()).await
}

pub async fn start_with(config: EmulatorConfig) -> EmulatorHandle {
    Emulator::start(config).await.expect("emulator starts")
}

pub fn settings(emu: &EmulatorHandle) -> SalesforceSettings {
    SalesforceSettings {
        login_url: emu.base_url(),
        client_id: Some(emu.client_id()),
        client_secret: Some(emu.client_secret()),
        refresh_token: Some(emu.initial_refresh_token()),
        max_retries: 4,
        backoff_base_ms: 0,
        backoff_max_ms: 0,
        ..SalesforceSettings::default()
    }
}

pub fn client(emu: &EmulatorHandle) -> SalesforceClient {
    SalesforceClient::new(settings(emu), None).expect("client")
}

pub fn client_with(settings: SalesforceSettings) -> SalesforceClient {
    SalesforceClient::new(settings, None).expect("client")
}

pub fn row(v: Json) -> Row {
    match v {
        Json::Object(m) => m,
        other => panic!("not an object: {other}"),
    }
}

/// Creates contacts straight in the org (no API calls) and returns their ids.
pub fn seed_contacts(emu: &EmulatorHandle, n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            emu.org()
                .create(
                    "Contact",
                    json!({"LastName": format!("Seed {i:05}"), "Email": format!("seed{i}@example.com")}),
                )
                .expect("contact created")
        })
        .collect()
}

/// The emulator's debugging state.
pub fn state(emu: &EmulatorHandle) -> Json {
    emu.state_json()
}

pub fn access_tokens(emu: &EmulatorHandle) -> u64 {
    state(emu)["sessions"]["accessTokens"]
        .as_u64()
        .unwrap_or(u64::MAX)
}

/// A log in a data directory.
pub struct Log {
    pub store: Arc<Store>,
    pub writer: Writer,
}

impl Log {
    pub fn open(dir: &Path) -> Log {
        let store = Arc::new(Store::open_or_create(dir).expect("store opens"));
        let writer = Writer::spawn(
            store.clone(),
            Settings::default().policies(),
            system_clock(),
        )
        .expect("writer");
        Log { store, writer }
    }

    pub fn pusher(&self, client: SalesforceClient) -> Pusher<LogLedger> {
        Pusher::new(
            client,
            LogLedger::new(self.store.clone(), self.writer.clone()),
        )
    }

    /// Closes the store the way a stopped process leaves it.
    pub async fn close(self) {
        self.writer.close().await.expect("the store closes");
        drop(self.store);
    }
}

/// A fresh tandem record id (distinct per `n`).
pub fn record_id(kind: RecordKind, n: u64) -> RecordId {
    RecordId::derive(kind, Hlc::new(1_700_000_000_000 + n, 0))
}

pub fn credentials_in(dir: &Path, settings: &SalesforceSettings) -> CredentialsFile {
    let file = CredentialsFile::in_dir(dir);
    let opt = |v: &Option<String>| v.clone();
    let pairs = [
        ("login_url", Some(settings.login_url.clone())),
        ("client_id", opt(&settings.client_id)),
        ("client_secret", opt(&settings.client_secret)),
        ("refresh_token", opt(&settings.refresh_token)),
    ];
    let refs: Vec<(&str, Option<&str>)> = pairs.iter().map(|(k, v)| (*k, v.as_deref())).collect();
    file.set(&refs).expect("credentials written");
    file
}
