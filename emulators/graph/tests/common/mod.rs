//! What the emulator's HTTP tests share: a client of the API with a token, a clock the test
//! moves, and whole delta rounds.

#![allow(dead_code)]

use chrono::{DateTime, TimeZone, Utc};
use reqwest::StatusCode;
use serde_json::Value;
use std::sync::{Arc, Mutex};
use tandem_graph_emulator::{GraphEmulator, GraphHandle};

/// The emulator's now, moved by the test.
#[derive(Clone)]
pub struct Clock(Arc<Mutex<DateTime<Utc>>>);

impl Clock {
    pub fn at(y: i32, m: u32, d: u32) -> Clock {
        Clock(Arc::new(Mutex::new(
            Utc.with_ymd_and_hms(y, m, d, 9, 0, 0).unwrap(),
        )))
    }

    pub fn advance(&self, by: chrono::Duration) {
        *self.0.lock().unwrap() += by;
    }

    pub async fn start(&self) -> GraphHandle {
        let clock = self.0.clone();
        GraphEmulator::start_with_clock(Box::new(move || *clock.lock().unwrap()))
            .await
            .expect("the emulator starts")
    }
}

pub struct Client {
    pub graph: GraphHandle,
    pub token: String,
    pub http: reqwest::Client,
}

impl Client {
    pub async fn start() -> Client {
        Client::with(GraphEmulator::start().await.expect("the emulator starts"))
    }

    pub fn with(graph: GraphHandle) -> Client {
        let token = graph.issue_token();
        Client {
            graph,
            token,
            http: reqwest::Client::new(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        if path.starts_with("http") {
            path.to_string()
        } else {
            format!("{}/v1.0{path}", self.graph.base_url())
        }
    }

    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let (status, _, body) = self.exchange(method, path, headers, body).await;
        (status, body)
    }

    /// A request, and the whole answer: status, headers and body.
    pub async fn exchange(
        &self,
        method: reqwest::Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<Value>,
    ) -> (StatusCode, reqwest::header::HeaderMap, Value) {
        let mut request = self
            .http
            .request(method, self.url(path))
            .bearer_auth(&self.token);
        for (name, value) in headers {
            request = request.header(*name, *value);
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
            serde_json::from_str(&text).unwrap()
        };
        (status, headers, body)
    }

    pub async fn get(&self, path: &str, headers: &[(&str, &str)]) -> (StatusCode, Value) {
        self.send(reqwest::Method::GET, path, headers, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(reqwest::Method::POST, path, &[], Some(body))
            .await
    }

    pub async fn patch(
        &self,
        path: &str,
        headers: &[(&str, &str)],
        body: Value,
    ) -> (StatusCode, Value) {
        self.send(reqwest::Method::PATCH, path, headers, Some(body))
            .await
    }

    pub async fn delete(&self, path: &str) -> StatusCode {
        self.send(reqwest::Method::DELETE, path, &[], None).await.0
    }

    /// A new contact folder's id.
    pub async fn folder(&self, name: &str) -> String {
        let (status, body) = self
            .post(
                "/me/contactFolders",
                serde_json::json!({"displayName": name}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["id"].as_str().unwrap().to_string()
    }

    /// A new contact in `folder`, as Graph answered its creation.
    pub async fn contact(&self, folder: &str, given: &str) -> Value {
        let (status, body) = self
            .post(
                &format!("/me/contactFolders/{folder}/contacts"),
                serde_json::json!({"givenName": given, "surname": "Lima", "categories": ["CRM"]}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body
    }

    /// A whole delta round from `start` (a path or a link): every entry, the pages it took,
    /// and the delta link it ended with.
    pub async fn round(
        &self,
        start: &str,
        headers: &[(&str, &str)],
    ) -> (Vec<Value>, usize, String) {
        let (mut items, mut pages, mut next) = (Vec::new(), 0, start.to_string());
        loop {
            let (status, body) = self.get(&next, headers).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            pages += 1;
            assert!(pages < 100, "a round ends");
            items.extend(body["value"].as_array().unwrap().iter().cloned());
            match (
                body["@odata.nextLink"].as_str(),
                body["@odata.deltaLink"].as_str(),
            ) {
                (Some(link), None) => next = link.to_string(),
                (None, Some(delta)) => return (items, pages, delta.to_string()),
                other => panic!("a page has exactly one link: {other:?}"),
            }
        }
    }
}

pub fn error_code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or_default()
}
