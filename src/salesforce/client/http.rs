//! Every Salesforce call goes through here: bearer token and `Sforce-Call-Options`, the org's API
//! usage from `Sforce-Limit-Info`, typed errors, one refresh on 401, retries with exponential
//! backoff only where repeating is safe, and the per-run API budget.
//!
//! Retry rules. A failure that proves nothing was done (no connection made, 401
//! INVALID_SESSION_ID, 403 ConcurrentRequests, UNABLE_TO_LOCK_ROW) is retried for every call.
//! A failure that leaves open whether the call was carried out (a connection dropped after
//! sending, a timeout, 500/502/503/504) is retried only for calls that are safe to repeat:
//! reads, upserts by external id, deletes and plain updates (`Safety::Read` / `Idempotent`).
//! A create is never resent after such a failure: the caller gets an ambiguous error and
//! reconciles (see `push`). 403 REQUEST_LIMIT_EXCEEDED (TotalRequests) ends the run at once.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::Method;
use reqwest::header::HeaderMap;
use serde_json::Value as Json;

use crate::config::SalesforceSettings;

use super::credentials::CredentialsFile;
use super::halt::Halt;
use super::session::Session;
use super::{ApiError, ClientError};
use tandem_protocol::backoff::Backoff;
use tandem_protocol::salesforce::push::Describe;
use tandem_protocol::salesforce::{Verdict, verdict};

/// Whether a call may be sent again when it is unclear if it was carried out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Safety {
    /// GET, queries.
    Read,
    /// Writes whose repetition ends in the same state: upsert by external id, delete, update.
    Idempotent,
    /// Creates: a repetition could make a second record.
    Unsafe,
}

/// One Salesforce call. `path` is relative to `/services/data/vXX.X` unless it starts with
/// `/services/` (a `nextRecordsUrl`).
#[derive(Clone, Debug)]
pub struct Request {
    pub name: String,
    pub method: Method,
    pub path: String,
    pub query: Vec<(String, String)>,
    pub headers: Vec<(String, String)>,
    pub body: Option<Json>,
    pub safety: Safety,
}

impl Request {
    pub fn new(method: Method, path: impl Into<String>, safety: Safety) -> Request {
        let path = path.into();
        Request {
            name: format!("{method} {path}"),
            method,
            path,
            query: Vec::new(),
            headers: Vec::new(),
            body: None,
            safety,
        }
    }

    pub fn get(path: impl Into<String>) -> Request {
        Request::new(Method::GET, path, Safety::Read)
    }

    /// What the call is, for error messages (`the query of Contact`, ...).
    pub fn named(mut self, name: impl Into<String>) -> Request {
        self.name = name.into();
        self
    }

    pub fn param(mut self, key: &str, value: impl Into<String>) -> Request {
        self.query.push((key.to_string(), value.into()));
        self
    }

    pub fn header(mut self, key: &str, value: impl Into<String>) -> Request {
        self.headers.push((key.to_string(), value.into()));
        self
    }

    pub fn json(mut self, body: Json) -> Request {
        self.body = Some(body);
        self
    }
}

/// A successful answer (2xx, or 300/304 which callers interpret).
#[derive(Clone, Debug)]
pub struct Response {
    pub status: u16,
    pub headers: HeaderMap,
    /// The JSON body; `Null` when there was none (204).
    pub body: Json,
    /// The server's `Date`: the only clock watermarks are taken from.
    pub date: Option<DateTime<Utc>>,
}

/// Counters for the user's run summary and for tests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// HTTP calls made to the data API since the client was made.
    pub calls: u64,
    /// Calls made in the current run (what the budget counts).
    pub run_calls: u64,
    /// Calls sent again after a transient failure.
    pub retries: u64,
    /// Calls to the OAuth token endpoint.
    pub token_calls: u64,
    /// The org's rolling 24-hour usage from the last `Sforce-Limit-Info`: (used, max).
    pub api_usage: Option<(u64, u64)>,
}

struct Inner {
    http: reqwest::Client,
    session: Session,
    settings: SalesforceSettings,
    calls: AtomicU64,
    run_calls: AtomicU64,
    retries: AtomicU64,
    usage: Mutex<Option<(u64, u64)>>,
    describes: Mutex<std::collections::HashMap<String, Arc<Describe>>>,
    halt: Mutex<Halt>,
}

/// The Salesforce REST client. Cheap to clone; clones share the session, counters and budget.
#[derive(Clone)]
pub struct SalesforceClient {
    inner: Arc<Inner>,
}

/// What went wrong with one attempt, and whether it proves nothing was done.
enum Failure {
    /// Nothing was done: safe to send again, whatever the call.
    NotDone(ClientError),
    /// It may have been done: only calls that are safe to repeat go again.
    Unclear(ClientError),
    /// A definitive answer: never sent again.
    Final(ClientError),
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// `api-usage=18/5000` (other parts such as `per-app-api-usage` are skipped).
pub fn parse_limit_info(value: &str) -> Option<(u64, u64)> {
    value.split([';', ',']).find_map(|part| {
        let (used, max) = part.trim().strip_prefix("api-usage=")?.split_once('/')?;
        Some((used.trim().parse().ok()?, max.trim().parse().ok()?))
    })
}

pub fn http_client(settings: &SalesforceSettings) -> Result<reqwest::Client, ClientError> {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(settings.request_timeout_seconds.max(1)))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("tandem/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| ClientError::Setup(format!("cannot set up HTTPS: {e}")))
}

impl SalesforceClient {
    /// A client for the settings' org. `credentials` is where rotated refresh tokens are saved
    /// (`None` keeps them in memory only).
    pub fn new(
        settings: SalesforceSettings,
        credentials: Option<CredentialsFile>,
    ) -> Result<SalesforceClient, ClientError> {
        settings
            .check()
            .map_err(|e| ClientError::Setup(e.to_string()))?;
        let http = http_client(&settings)?;
        let session = Session::new(http.clone(), &settings, credentials)?;
        Ok(SalesforceClient {
            inner: Arc::new(Inner {
                http,
                session,
                settings,
                calls: AtomicU64::new(0),
                run_calls: AtomicU64::new(0),
                retries: AtomicU64::new(0),
                usage: Mutex::new(None),
                describes: Mutex::new(Default::default()),
                halt: Mutex::new(Halt::default()),
            }),
        })
    }

    pub fn settings(&self) -> &SalesforceSettings {
        &self.inner.settings
    }

    pub fn session(&self) -> &Session {
        &self.inner.session
    }

    /// An object's describe, when this client has read it before.
    pub(super) fn cached_describe(&self, object: &str) -> Option<Arc<Describe>> {
        lock(&self.inner.describes).get(object).cloned()
    }

    pub(super) fn cache_describe(&self, describe: Arc<Describe>) {
        lock(&self.inner.describes).insert(describe.object.clone(), describe);
    }

    pub fn stats(&self) -> Stats {
        Stats {
            calls: self.inner.calls.load(Ordering::Relaxed),
            run_calls: self.inner.run_calls.load(Ordering::Relaxed),
            retries: self.inner.retries.load(Ordering::Relaxed),
            token_calls: self.inner.session.token_calls(),
            api_usage: *lock(&self.inner.usage),
        }
    }

    /// Counts a retry made above the HTTP layer (a collection resent for its locked records).
    pub(super) fn note_retry(&self) {
        self.inner.retries.fetch_add(1, Ordering::Relaxed);
    }

    /// Stop sending once `halt` is raised: a call in flight finishes, no other is sent, and a
    /// wait between retries ends at once (the call fails with `ClientError::Halted`).
    pub fn halt_on(&self, halt: Halt) {
        *lock(&self.inner.halt) = halt;
    }

    pub(super) fn halt(&self) -> Halt {
        lock(&self.inner.halt).clone()
    }

    /// Starts a new run: the per-run call budget is full again.
    pub fn begin_run(&self) {
        self.inner.run_calls.store(0, Ordering::Relaxed);
    }

    /// Fails with `BudgetExhausted` unless `calls` more calls fit in this run's budget.
    pub fn ensure_budget(&self, calls: u64) -> Result<(), ClientError> {
        let s = &self.inner.settings;
        let used = self.inner.run_calls.load(Ordering::Relaxed);
        if used + calls > s.max_calls_per_run {
            return Err(ClientError::BudgetExhausted {
                detail: format!(
                    "{used} of the {} calls allowed per run are made",
                    s.max_calls_per_run
                ),
            });
        }
        if let Some((org_used, org_max)) = *lock(&self.inner.usage)
            && org_max > 0
            && (org_used + calls) * 100 > org_max * u64::from(s.max_org_usage_percent)
        {
            return Err(ClientError::BudgetExhausted {
                detail: format!(
                    "the org has used {org_used} of its {org_max} daily API requests and tandem stops at {}%",
                    s.max_org_usage_percent
                ),
            });
        }
        Ok(())
    }

    /// The pause before retry number `attempt` (0 for the first), with jitter.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let s = &self.inner.settings;
        let backoff = Backoff {
            base_ms: s.backoff_base_ms,
            max_ms: s.backoff_max_ms,
        };
        Duration::from_millis(backoff.delay_ms(attempt, rand::random()))
    }

    fn url(&self, instance: &str, req: &Request) -> String {
        let mut url = if req.path.starts_with("/services/") {
            format!("{instance}{}", req.path)
        } else {
            format!(
                "{instance}/services/data/v{}{}",
                self.inner.settings.api_version, req.path
            )
        };
        if !req.query.is_empty() {
            let mut q = form_urlencoded::Serializer::new(String::new());
            for (k, v) in &req.query {
                q.append_pair(k, v);
            }
            url.push(if url.contains('?') { '&' } else { '?' });
            url.push_str(&q.finish());
        }
        url
    }

    /// Sends a call, renewing the token once on 401 and retrying transient failures as the
    /// module documentation says. Non-2xx answers become `ClientError::Api`.
    pub async fn send(&self, req: &Request) -> Result<Response, ClientError> {
        let max = self.inner.settings.max_retries;
        let mut attempt = 0u32;
        let mut renewed = false;
        let halt = self.halt();
        loop {
            if halt.raised() {
                return Err(ClientError::Halted);
            }
            let failure = match self.attempt(req, &mut renewed).await {
                Ok(Some(resp)) => return Ok(resp),
                // The token was renewed after a 401: send again, not counted as a retry.
                Ok(None) => continue,
                Err(f) => f,
            };
            let (error, retry) = match failure {
                Failure::NotDone(e) => (e, true),
                Failure::Unclear(e) => (e, req.safety != Safety::Unsafe),
                Failure::Final(e) => (e, false),
            };
            if !retry || attempt >= max || error.stops_run() {
                return Err(error);
            }
            attempt += 1;
            self.inner.retries.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(call = %req.name, attempt, error = %error, "retrying a Salesforce call");
            if !halt.sleep(self.backoff(attempt - 1)).await {
                return Err(ClientError::Halted);
            }
        }
    }

    /// One attempt. `Ok(None)`: a 401 led to a renewed token and the call should be sent again.
    async fn attempt(
        &self,
        req: &Request,
        renewed: &mut bool,
    ) -> Result<Option<Response>, Failure> {
        self.ensure_budget(1).map_err(Failure::NotDone)?;
        // A failed token call did nothing to the data: it may be tried again (unless it stops
        // the run, e.g. invalid_grant, which `send` never retries).
        let token = self.inner.session.token().await.map_err(Failure::NotDone)?;
        let url = self.url(&token.instance_url, req);
        let mut rb = self
            .inner
            .http
            .request(req.method.clone(), &url)
            .bearer_auth(&token.value)
            .header("Sforce-Call-Options", "client=tandem")
            .header("Accept", "application/json");
        for (k, v) in &req.headers {
            rb = rb.header(k.as_str(), v.as_str());
        }
        if let Some(body) = &req.body {
            rb = rb.json(body);
        }
        self.inner.calls.fetch_add(1, Ordering::Relaxed);
        self.inner.run_calls.fetch_add(1, Ordering::Relaxed);
        let transport = |e: reqwest::Error, sent: bool| {
            let error = ClientError::Transport {
                call: req.name.clone(),
                message: e.to_string(),
                ambiguous: sent,
            };
            if sent {
                Failure::Unclear(error)
            } else {
                Failure::NotDone(error)
            }
        };
        let resp = rb.send().await.map_err(|e| {
            let sent = !e.is_connect();
            transport(e, sent)
        })?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        if let Some(usage) = headers
            .get("sforce-limit-info")
            .and_then(|v| v.to_str().ok())
            .and_then(parse_limit_info)
        {
            *lock(&self.inner.usage) = Some(usage);
        }
        let date = headers
            .get("date")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| httpdate::parse_http_date(v.trim()).ok())
            .map(DateTime::<Utc>::from);
        let bytes = resp.bytes().await.map_err(|e| transport(e, true))?;
        if (200..300).contains(&status) || status == 300 || status == 304 {
            let body = if bytes.iter().all(u8::is_ascii_whitespace) {
                Json::Null
            } else {
                serde_json::from_slice(&bytes).map_err(|e| {
                    // A 2xx with a broken body: the call was carried out, its answer is lost.
                    Failure::Unclear(ClientError::malformed(
                        &req.name,
                        format!("the body is not JSON ({e})"),
                    ))
                })?
            };
            return Ok(Some(Response {
                status,
                headers,
                body,
                date,
            }));
        }
        let error = ApiError::from_body(status, &bytes);
        let api = |error: ApiError| ClientError::Api {
            call: req.name.clone(),
            error,
        };
        match verdict(&error, *renewed) {
            Verdict::RenewToken => {
                *renewed = true;
                self.inner
                    .session
                    .renew(token.generation)
                    .await
                    .map_err(Failure::NotDone)?;
                Ok(None)
            }
            Verdict::NotDone => Err(Failure::NotDone(api(error))),
            Verdict::LimitExceeded => Err(Failure::NotDone(ClientError::LimitExceeded {
                message: error.message,
            })),
            Verdict::Unclear => Err(Failure::Unclear(api(error))),
            Verdict::Final => Err(Failure::Final(api(error))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limit_info_in_its_spellings() {
        assert_eq!(parse_limit_info("api-usage=18/5000"), Some((18, 5000)));
        assert_eq!(
            parse_limit_info("api-usage=25/5000; api-bursts=1/750"),
            Some((25, 5000))
        );
        assert_eq!(
            parse_limit_info("per-app-api-usage=17/250(appName=x), api-usage=3/15000"),
            Some((3, 15000))
        );
        assert_eq!(parse_limit_info("api-usage=lots"), None);
        assert_eq!(parse_limit_info(""), None);
    }
}
