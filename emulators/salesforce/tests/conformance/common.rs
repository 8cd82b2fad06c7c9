//! Test harness: an emulator on 127.0.0.1:0 with a frozen clock, and a small JSON HTTP client.

use std::sync::Arc;

use reqwest::header::HeaderMap;
use serde_json::Value as Json;
use tandem_salesforce_emulator::{Emulator, EmulatorConfig, EmulatorHandle, FixedClock};

/// Monday 2024-05-06 10:00:00 UTC: the frozen "now" of every test org.
pub fn t0() -> FixedClock {
    FixedClock::at(2024, 5, 6, 10, 0, 0)
}

pub struct Sf {
    pub emu: EmulatorHandle,
    pub http: reqwest::Client,
    pub token: String,
}

#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: HeaderMap,
    pub text: String,
    pub body: Json,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// `[0].errorCode` of a REST error array.
    pub fn error_code(&self) -> &str {
        self.body[0]["errorCode"].as_str().unwrap_or("")
    }

    pub fn error_message(&self) -> &str {
        self.body[0]["message"].as_str().unwrap_or("")
    }
}

pub fn config() -> EmulatorConfig {
    EmulatorConfig {
        clock: Arc::new(t0()),
        ..EmulatorConfig::default()
    }
}

pub async fn start() -> Sf {
    start_with(config()).await
}

pub async fn start_with(config: EmulatorConfig) -> Sf {
    let emu = Emulator::start(config).await.expect("emulator starts");
    let token = emu.issue_access_token();
    Sf {
        emu,
        http: reqwest::Client::new(),
        token,
    }
}

pub fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

pub fn form(pairs: &[(&str, &str)]) -> String {
    let mut f = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        f.append_pair(k, v);
    }
    f.finish()
}

impl Sf {
    /// Data URL: `/sobjects/Contact` -> `http://.../services/data/v60.0/sobjects/Contact`.
    pub fn url(&self, path: &str) -> String {
        self.emu.data_url(path)
    }

    pub async fn send(&self, req: reqwest::RequestBuilder) -> Resp {
        let resp = req.send().await.expect("request is answered");
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let text = resp.text().await.expect("body is read");
        let body = serde_json::from_str(&text).unwrap_or(Json::Null);
        Resp {
            status,
            headers,
            text,
            body,
        }
    }

    pub fn authed(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, self.url(path))
            .bearer_auth(&self.token)
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.send(self.authed(reqwest::Method::GET, path)).await
    }

    pub async fn post(&self, path: &str, body: Json) -> Resp {
        self.send(self.authed(reqwest::Method::POST, path).json(&body))
            .await
    }

    pub async fn patch(&self, path: &str, body: Json) -> Resp {
        self.send(self.authed(reqwest::Method::PATCH, path).json(&body))
            .await
    }

    pub async fn delete(&self, path: &str) -> Resp {
        self.send(self.authed(reqwest::Method::DELETE, path)).await
    }

    pub async fn query(&self, soql: &str) -> Resp {
        self.get(&format!("/query?q={}", enc(soql))).await
    }

    pub async fn query_all(&self, soql: &str) -> Resp {
        self.get(&format!("/queryAll?q={}", enc(soql))).await
    }

    /// Creates a record through the API and returns its id.
    pub async fn create(&self, object: &str, body: Json) -> String {
        let r = self.post(&format!("/sobjects/{object}"), body).await;
        assert_eq!(r.status, 201, "create {object}: {}", r.text);
        r.body["id"].as_str().expect("id").to_string()
    }

    pub async fn token_request(&self, pairs: &[(&str, &str)]) -> Resp {
        self.send(
            self.http
                .post(format!("{}/services/oauth2/token", self.emu.base_url()))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .body(form(pairs)),
        )
        .await
    }

    pub async fn control(&self, body: Json) -> Resp {
        self.send(
            self.http
                .post(format!("{}/__emulator/faults", self.emu.base_url()))
                .json(&body),
        )
        .await
    }
}
