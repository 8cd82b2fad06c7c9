//! The Domino REST API client: the JWT login (`POST /api/v1/auth`, one token per server, made
//! again when a server restarts or the token ends), the basis API on the mail file's scope
//! (documents, DQL with offset paging, bulk ETags) and the PIM calendar (JSCalendar entries,
//! always `send=false`). A mailbox on another server answers PIM requests with a redirect:
//! tandem follows it itself, logging in there, because an HTTP client drops the token on a
//! redirect to another host; the mail file's documents are then read there too.

use super::NotesError;
use crate::config::NotesSettings;
use chrono::NaiveDate;
use reqwest::{Method, StatusCode};
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tandem_protocol::backoff::Backoff;
use tokio::sync::Semaphore;

/// Documents per DQL page (`count`; the API has no next link, a shorter page is the last).
const PAGE_SIZE: usize = 1000;
/// UNIDs per bulk ETag request.
const BULK_SIZE: usize = 1000;
/// Requests tandem keeps in flight to one Domino server: a Domino server serves many users,
/// and a sync must not take its HTTP threads.
const IN_FLIGHT: usize = 4;
/// Redirects of one request followed at most (a mailbox moved twice is still found).
const REDIRECTS: usize = 3;
/// A token is renewed this long before the end of the life the server gave it.
const EARLY: Duration = Duration::from_secs(60);

/// Which of the REST API's two APIs a request is for: they answer in different envelopes and
/// only the PIM API follows the mailbox to its server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Api {
    /// `/api/v1`, on the mail file's scope (`dataSource`).
    Basis,
    /// `/api/pim-v1`, on the user's own mailbox.
    Pim,
}

#[derive(Clone)]
struct Token {
    bearer: String,
    until: Instant,
}

/// Calls made, for the run record.
#[derive(Clone, Copy, Debug, Default)]
pub struct NotesStats {
    pub calls: u64,
}

/// What the user's server lets tandem reach, found at sign-in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reach {
    /// Contacts and to-dos as documents of the mail file's REST API scope: read, created,
    /// updated on their revision, deleted.
    pub documents: bool,
    /// Without a scope, the PIM API's item and search endpoints: contacts and to-dos read and
    /// updated, never created or deleted (the API has no such operation).
    pub items: bool,
    /// The calendar through the PIM API.
    pub calendar: bool,
}

#[derive(Clone)]
pub struct NotesClient {
    http: reqwest::Client,
    settings: NotesSettings,
    /// Tokens by server (`scheme://host:port`).
    tokens: Arc<Mutex<HashMap<String, Token>>>,
    /// The server the mailbox lives on, once a redirect said so.
    mail_server: Arc<Mutex<Option<String>>>,
    slots: Arc<Semaphore>,
    calls: Arc<AtomicU64>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// `scheme://host[:port]` of a URL.
fn origin(url: &str) -> Option<String> {
    let parsed = reqwest::Url::parse(url).ok()?;
    Some(parsed.origin().ascii_serialization())
}

impl NotesClient {
    pub fn new(settings: NotesSettings) -> Result<NotesClient, NotesError> {
        if !settings.signed_in() {
            return Err(NotesError::NotSignedIn);
        }
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(settings.request_timeout_seconds))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(NotesError::Unreachable)?;
        Ok(NotesClient {
            http,
            settings,
            tokens: Arc::default(),
            mail_server: Arc::default(),
            slots: Arc::new(Semaphore::new(IN_FLIGHT)),
            calls: Arc::new(AtomicU64::new(0)),
        })
    }

    /// The REST API scope contacts and to-dos are read through.
    pub fn data_source(&self) -> &str {
        &self.settings.data_source
    }

    pub fn stats(&self) -> NotesStats {
        NotesStats {
            calls: self.calls.load(Ordering::Relaxed),
        }
    }

    fn home(&self) -> String {
        self.settings
            .url
            .as_deref()
            .unwrap_or_default()
            .trim_end_matches('/')
            .to_string()
    }

    /// A token for `server`, logging in there when there is none or it is about to end.
    async fn token(&self, server: &str) -> Result<String, NotesError> {
        if let Some(token) = lock(&self.tokens).get(server)
            && token.until > Instant::now()
        {
            return Ok(token.bearer.clone());
        }
        let body = json!({
            "username": self.settings.username,
            "password": self.settings.password,
        });
        let call = "POST /api/v1/auth";
        let mut tries = 0;
        let (status, text) = loop {
            tries += 1;
            let response = {
                let _slot = self.slots.acquire().await.map_err(|_| no_slots())?;
                self.calls.fetch_add(1, Ordering::Relaxed);
                self.http
                    .post(format!("{server}/api/v1/auth"))
                    .json(&body)
                    .send()
                    .await
                    .map_err(NotesError::Unreachable)?
            };
            let status = response.status();
            let retry_after = retry_after(&response);
            let text = response.text().await.map_err(NotesError::Unreachable)?;
            if !matches!(status.as_u16(), 429 | 503 | 504) {
                break (status, text);
            }
            if tries > self.settings.max_retries {
                return Err(NotesError::Unavailable {
                    call: call.into(),
                    tries,
                });
            }
            tokio::time::sleep(self.wait(tries, retry_after)).await;
        };
        if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
            let (message, _) = envelope(&text);
            return Err(NotesError::SignIn { message });
        }
        if !status.is_success() {
            return Err(api_error(call, status.as_u16(), &text));
        }
        let answer: Value = serde_json::from_str(&text).map_err(|e| NotesError::Malformed {
            call: "POST /api/v1/auth".into(),
            why: e.to_string(),
        })?;
        let bearer = answer["bearer"]
            .as_str()
            .ok_or_else(|| NotesError::Malformed {
                call: "POST /api/v1/auth".into(),
                why: "no bearer".into(),
            })?
            .to_string();
        let life = Duration::from_secs(answer["expSeconds"].as_u64().unwrap_or(3600));
        let until = Instant::now() + life.saturating_sub(EARLY);
        lock(&self.tokens).insert(
            server.to_string(),
            Token {
                bearer: bearer.clone(),
                until,
            },
        );
        Ok(bearer)
    }

    /// Log in and find what the server lets tandem reach: the calendar (asked first: a
    /// mailbox on another server says so there) and the mail file's scope (contacts and
    /// to-dos). An error when the login fails.
    pub async fn reach(&self) -> Result<Reach, NotesError> {
        self.token(&self.home()).await?;
        let refused = |answer: Result<_, NotesError>| match answer {
            Ok(_) => Ok(true),
            Err(NotesError::Api {
                status: 403 | 404, ..
            }) => Ok(false),
            Err(e) => Err(e),
        };
        let today = chrono::Utc::now().date_naive();
        let calendar = refused(self.entries(today, today).await)?;
        let none = "Form = 'Person' and @Created > @dt('2999-01-01T00:00:00Z')";
        let documents = refused(self.query(none).await)?;
        let items = !documents && refused(self.search(none).await)?;
        Ok(Reach {
            documents,
            items,
            calendar,
        })
    }

    /// One request, retried while the server is unavailable, the token ended or the mailbox
    /// moved; the answer's body.
    async fn call(
        &self,
        api: Api,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
    ) -> Result<Value, NotesError> {
        let call = format!("{method} {path}");
        let mut query: Vec<(&str, String)> = query.to_vec();
        let prefix = match api {
            Api::Basis => {
                query.push(("dataSource", self.settings.data_source.clone()));
                "/api/v1"
            }
            Api::Pim => "/api/pim-v1",
        };
        let mut relogged = false;
        let mut redirects = 0;
        let mut tries = 0;
        loop {
            tries += 1;
            // The mail file lives on its mail server: both APIs reach it there.
            let server = lock(&self.mail_server)
                .clone()
                .unwrap_or_else(|| self.home());
            let token = self.token(&server).await?;
            let mut url = reqwest::Url::parse(&format!("{server}{prefix}{path}")).map_err(|e| {
                NotesError::Malformed {
                    call: call.clone(),
                    why: format!("not a URL: {e}"),
                }
            })?;
            url.query_pairs_mut().extend_pairs(&query);
            let mut request = self.http.request(method.clone(), url).bearer_auth(&token);
            if let Some(body) = body {
                request = request.json(body);
            }
            let sent = {
                let _slot = self.slots.acquire().await.map_err(|_| no_slots())?;
                self.calls.fetch_add(1, Ordering::Relaxed);
                request.send().await
            };
            let response = match sent {
                Ok(response) => response,
                // Connected and sent, no answer: a write may have been carried out.
                Err(e) if !e.is_connect() && method != Method::GET => {
                    return Err(NotesError::NoAnswer {
                        call,
                        why: e.to_string(),
                    });
                }
                Err(e) => return Err(NotesError::Unreachable(e)),
            };
            let status = response.status();
            if status.is_redirection() && api == Api::Pim && redirects < REDIRECTS {
                // The mailbox is on another server (openapi.pim.json: "a 302 to the server the
                // mailbox is on"): every later PIM request goes there.
                let moved = response
                    .headers()
                    .get(reqwest::header::LOCATION)
                    .and_then(|l| l.to_str().ok())
                    .and_then(origin);
                if let Some(moved) = moved {
                    redirects += 1;
                    *lock(&self.mail_server) = Some(moved);
                    continue;
                }
            }
            let retry_after = retry_after(&response);
            let text = match response.text().await {
                Ok(text) => text,
                Err(e) if method != Method::GET => {
                    return Err(NotesError::NoAnswer {
                        call,
                        why: e.to_string(),
                    });
                }
                Err(e) => return Err(NotesError::Unreachable(e)),
            };
            if status.is_success() {
                if text.trim().is_empty() {
                    return Ok(Value::Null);
                }
                return serde_json::from_str(&text).map_err(|e| NotesError::Malformed {
                    call,
                    why: e.to_string(),
                });
            }
            if status == StatusCode::UNAUTHORIZED && !relogged {
                // The token ended, or the server restarted with a new key: log in again, once.
                relogged = true;
                lock(&self.tokens).remove(&server);
                continue;
            }
            if matches!(status.as_u16(), 429 | 503 | 504) {
                if tries > self.settings.max_retries {
                    return Err(NotesError::Unavailable { call, tries });
                }
                tokio::time::sleep(self.wait(tries, retry_after)).await;
                continue;
            }
            return Err(api_error(&call, status.as_u16(), &text));
        }
    }

    fn wait(&self, tries: u32, retry_after: Option<u64>) -> Duration {
        let backoff = Backoff {
            base_ms: self.settings.backoff_base_ms,
            max_ms: self.settings.backoff_max_ms,
        };
        Duration::from_millis(backoff.wait_ms(tries, retry_after, rand::random::<f64>()))
    }

    /// The documents a DQL query finds, every page of them (`start`/`count`; a page shorter
    /// than `count` is the last).
    pub async fn query(&self, dql: &str) -> Result<Vec<Value>, NotesError> {
        let mut all = Vec::new();
        loop {
            let page = self
                .call(
                    Api::Basis,
                    Method::POST,
                    "/query",
                    &[
                        ("action", "execute".into()),
                        ("start", all.len().to_string()),
                        ("count", PAGE_SIZE.to_string()),
                    ],
                    Some(&json!({ "query": dql })),
                )
                .await?;
            let Value::Array(page) = page else {
                return Err(NotesError::Malformed {
                    call: "POST /query".into(),
                    why: "the answer is not a list of documents".into(),
                });
            };
            let last = page.len() < PAGE_SIZE;
            all.extend(page);
            if last {
                return Ok(all);
            }
        }
    }

    /// The documents a DQL search of the mailbox finds through the PIM API (searchPIM), every
    /// page of them (`count`/`skip`).
    pub async fn search(&self, dql: &str) -> Result<Vec<Value>, NotesError> {
        let mut all = Vec::new();
        loop {
            let body = json!({"type": "DQL", "query": dql, "count": PAGE_SIZE, "skip": all.len()});
            let answer = self
                .call(Api::Pim, Method::POST, "/search", &[], Some(&body))
                .await?;
            let Some(page) = answer.get("result").and_then(Value::as_array) else {
                return Err(NotesError::Malformed {
                    call: "POST /search".into(),
                    why: "the answer has no result list".into(),
                });
            };
            let last = page.len() < PAGE_SIZE;
            all.extend(page.iter().cloned());
            if last {
                return Ok(all);
            }
        }
    }

    /// A document of the mailbox through the PIM API (getPimItem).
    pub async fn pim_item(&self, unid: &str) -> Result<Value, NotesError> {
        self.call(
            Api::Pim,
            Method::GET,
            &format!("/pimitem/{unid}"),
            &[],
            None,
        )
        .await
    }

    /// Set fields of a document through the PIM API (updatePimItem; a `null` removes one).
    /// It has no revision check: the caller has just read the document.
    pub async fn update_pim_item(
        &self,
        unid: &str,
        fields: Map<String, Value>,
    ) -> Result<(), NotesError> {
        self.call(
            Api::Pim,
            Method::PUT,
            &format!("/pimitem/{unid}"),
            &[],
            Some(&Value::Object(fields)),
        )
        .await
        .map(|_| ())
    }

    /// Which of `unids` still exist (`POST /bulk/etag`): deletions show only this way.
    pub async fn existing(&self, unids: &[String]) -> Result<Vec<String>, NotesError> {
        let mut exist = Vec::new();
        for chunk in unids.chunks(BULK_SIZE) {
            let answer = self
                .call(
                    Api::Basis,
                    Method::POST,
                    "/bulk/etag",
                    &[],
                    Some(&json!({ "unids": chunk })),
                )
                .await?;
            for unid in chunk {
                let found = answer
                    .get(unid)
                    .or_else(|| answer.get(unid.to_ascii_uppercase()));
                if found.and_then(|f| f["exists"].as_bool()) != Some(false) {
                    exist.push(unid.clone());
                }
            }
        }
        Ok(exist)
    }

    pub async fn document(&self, unid: &str) -> Result<Value, NotesError> {
        self.call(
            Api::Basis,
            Method::GET,
            &format!("/document/{unid}"),
            &[],
            None,
        )
        .await
    }

    pub async fn create_document(&self, items: Map<String, Value>) -> Result<Value, NotesError> {
        self.call(
            Api::Basis,
            Method::POST,
            "/document",
            &[],
            Some(&Value::Object(items)),
        )
        .await
    }

    /// PATCH the items (a `null` removes one), on the condition that the document is still at
    /// `revision` where the scope checks revisions.
    pub async fn patch_document(
        &self,
        unid: &str,
        items: Map<String, Value>,
        revision: Option<&str>,
    ) -> Result<Value, NotesError> {
        let query: Vec<(&str, String)> = revision
            .map(|r| vec![("revision", r.to_string())])
            .unwrap_or_default();
        self.call(
            Api::Basis,
            Method::PATCH,
            &format!("/document/{unid}"),
            &query,
            Some(&Value::Object(items)),
        )
        .await
    }

    /// Delete a document. Through the basis API nothing is mailed to anyone, calendar entries
    /// included: the PIM API's delete always sends cancellations.
    pub async fn delete_document(&self, unid: &str) -> Result<(), NotesError> {
        match self
            .call(
                Api::Basis,
                Method::DELETE,
                &format!("/document/{unid}"),
                &[],
                None,
            )
            .await
        {
            Ok(_) => Ok(()),
            // Already gone: what the delete wanted.
            Err(e) if e.is_not_found() => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// The calendar's entries from `from` to `to` (days, inclusive): getOneCalendar.
    pub async fn entries(&self, from: NaiveDate, to: NaiveDate) -> Result<Vec<Value>, NotesError> {
        let answer = self
            .call(
                Api::Pim,
                Method::GET,
                "/calendar/default",
                &[
                    ("startdate", from.format("%Y-%m-%d").to_string()),
                    ("enddate", to.format("%Y-%m-%d").to_string()),
                ],
                None,
            )
            .await?;
        match answer {
            Value::Array(entries) => Ok(entries),
            _ => Err(NotesError::Malformed {
                call: "GET /calendar/default".into(),
                why: "the answer is not a list of entries".into(),
            }),
        }
    }

    pub async fn entry(&self, uid: &str) -> Result<Value, NotesError> {
        self.call(
            Api::Pim,
            Method::GET,
            &format!("/calendar/default/{uid}"),
            &[],
            None,
        )
        .await
    }

    /// Create an entry as a draft: `send=false`, so Notes mails no one.
    pub async fn create_entry(&self, body: Map<String, Value>) -> Result<Value, NotesError> {
        self.call(
            Api::Pim,
            Method::POST,
            "/calendar/default",
            &[("send", "false".into())],
            Some(&Value::Object(body)),
        )
        .await
    }

    /// Replace an entry, with `send=false`: Notes mails no one.
    pub async fn replace_entry(
        &self,
        uid: &str,
        body: Map<String, Value>,
    ) -> Result<Value, NotesError> {
        self.call(
            Api::Pim,
            Method::PUT,
            &format!("/calendar/default/{uid}"),
            &[("send", "false".into())],
            Some(&Value::Object(body)),
        )
        .await
    }

    /// Delete an entry through the PIM API without mailing anyone: its delete always sends
    /// cancellations to the invitees, so they are first taken off with `send=false`.
    pub async fn delete_entry_quietly(&self, uid: &str) -> Result<(), NotesError> {
        let entry = match self.entry(uid).await {
            Ok(entry) => entry,
            Err(e) if e.is_not_found() => return Ok(()),
            Err(e) => return Err(e),
        };
        if entry
            .get("participants")
            .and_then(Value::as_object)
            .is_some_and(|p| !p.is_empty())
            && let Value::Object(mut body) = entry
        {
            for server_set in ["uid", "created", "updated", "@type", "participants"] {
                body.remove(server_set);
            }
            self.replace_entry(uid, body).await?;
        }
        match self
            .call(
                Api::Pim,
                Method::DELETE,
                &format!("/calendar/default/{uid}"),
                &[],
                None,
            )
            .await
        {
            Err(e) if !e.is_not_found() => Err(e),
            _ => Ok(()),
        }
    }
}

/// The seconds a `Retry-After` header asks to wait, when it names them.
fn retry_after(response: &reqwest::Response) -> Option<u64> {
    response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
}

fn no_slots() -> NotesError {
    NotesError::NoAnswer {
        call: "a request".into(),
        why: "the client is shutting down".into(),
    }
}

/// The message and details of an error answer: the basis API's `{status, message, details}`
/// or the PIM API's `{code, message}`.
fn envelope(text: &str) -> (String, Option<String>) {
    let parsed: Value = serde_json::from_str(text).unwrap_or(Value::Null);
    let message = parsed["message"]
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| text.chars().take(200).collect());
    let details = parsed["details"].as_str().map(str::to_string);
    (message, details)
}

fn api_error(call: &str, status: u16, text: &str) -> NotesError {
    let (message, details) = envelope(text);
    NotesError::Api {
        call: call.to_string(),
        status,
        message,
        details,
    }
}
