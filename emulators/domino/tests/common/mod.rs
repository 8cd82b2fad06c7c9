//! What the emulator's HTTP tests share: a clock the test moves, and a client that logs in
//! through `POST /api/v1/auth` and sends JSON with its bearer.

#![allow(dead_code)]

use chrono::{DateTime, TimeZone, Utc};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use tandem_domino_emulator::{DominoEmulator, DominoHandle};

pub const USER: &str = "ann";
pub const PASSWORD: &str = "secret";
pub const DN: &str = "CN=Ann Lee/O=Acme";

/// The emulator's now, moved by the test.
#[derive(Clone)]
pub struct Clock(Arc<Mutex<DateTime<Utc>>>);

impl Clock {
    pub fn at(y: i32, m: u32, d: u32, h: u32) -> Clock {
        Clock(Arc::new(Mutex::new(
            Utc.with_ymd_and_hms(y, m, d, h, 0, 0).unwrap(),
        )))
    }

    pub fn advance(&self, by: chrono::Duration) {
        *self.0.lock().unwrap() += by;
    }

    pub async fn start(&self) -> DominoHandle {
        let clock = self.0.clone();
        DominoEmulator::start_with_clock(Box::new(move || *clock.lock().unwrap()))
            .await
            .expect("the emulator starts")
    }
}

pub struct Client {
    pub domino: DominoHandle,
    pub token: String,
    pub http: reqwest::Client,
}

pub struct Answer {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Client {
    /// An emulator with [`USER`], on the wall clock, and a client logged in as them.
    pub async fn start() -> Client {
        Client::with(DominoEmulator::start().await.expect("the emulator starts")).await
    }

    pub async fn with(domino: DominoHandle) -> Client {
        domino.add_user(USER, PASSWORD, DN);
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let mut client = Client {
            domino,
            token: String::new(),
            http,
        };
        let login = client
            .send(
                Method::POST,
                "/api/v1/auth",
                Some(json!({"username": USER, "password": PASSWORD})),
            )
            .await;
        assert_eq!(login.status, StatusCode::OK, "{}", login.body);
        client.token = login.body["bearer"].as_str().unwrap().to_string();
        client
    }

    pub async fn send(&self, method: Method, path: &str, body: Option<Value>) -> Answer {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.domino.base_url()));
        if !self.token.is_empty() {
            request = request.bearer_auth(&self.token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap();
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        Answer {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.send(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Answer {
        self.send(Method::POST, path, Some(body)).await
    }

    /// A new mail-file document through createDocument; its `@meta`.
    pub async fn create(&self, items: Value) -> Value {
        let answer = self.post("/api/v1/document?dataSource=mail", items).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        answer.body["@meta"].clone()
    }

    /// Runs DQL; the page of documents.
    pub async fn query(&self, dql: &str, start: usize, count: usize) -> Vec<Value> {
        let answer = self
            .post(
                &format!(
                    "/api/v1/query?dataSource=mail&action=execute&start={start}&count={count}"
                ),
                json!({ "query": dql }),
            )
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        answer.body.as_array().unwrap().clone()
    }
}

/// The basis error envelope: `{status, message, details}` with the answer's status.
pub fn assert_basis_error(answer: &Answer, status: StatusCode) {
    assert_eq!(answer.status, status, "{}", answer.body);
    assert_eq!(
        answer.body["status"],
        json!(status.as_u16()),
        "{}",
        answer.body
    );
    assert!(answer.body["message"].is_string(), "{}", answer.body);
    assert!(answer.body.get("details").is_some(), "{}", answer.body);
}

/// The PIM error envelope: `{code, message}`.
pub fn assert_pim_error(answer: &Answer, status: StatusCode) {
    assert_eq!(answer.status, status, "{}", answer.body);
    assert_eq!(
        answer.body["code"],
        json!(status.as_u16()),
        "{}",
        answer.body
    );
    assert!(answer.body["message"].is_string(), "{}", answer.body);
}
