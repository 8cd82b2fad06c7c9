//! The Microsoft Graph client: every request carries the access token, `Prefer:
//! IdType="ImmutableId"` (so an item keeps its id when the user moves it) and waits for one of the
//! mailbox's 4 slots (Outlook refuses a fifth request in flight); a throttled request waits as
//! long as `Retry-After` says, or backs off, and is sent again.

use super::OutlookError;
use super::signin::Session;
use crate::config::OutlookSettings;
use reqwest::{Method, StatusCode};
use serde_json::{Map, Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tandem_protocol::backoff::Backoff;
use tandem_protocol::{RecordKind, graph};
use tokio::sync::Semaphore;

/// Requests one mailbox serves at once (Graph throttling limits, Outlook service).
pub const MAILBOX_CONCURRENCY: usize = 4;
/// Requests in one `$batch` at most (JSON batching).
pub const BATCH_SIZE: usize = 20;
/// Ids that stay when the user moves an item (outlook-immutable-id.md).
const IMMUTABLE_IDS: &str = "IdType=\"ImmutableId\"";
/// Items per delta page tandem asks for.
const PAGE_SIZE: usize = 200;

/// Which part of the mailbox: contact folders, To Do lists, the calendar.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    Contacts,
    Tasks,
    Events,
}

impl Part {
    pub fn kind(self) -> RecordKind {
        match self {
            Part::Contacts => RecordKind::Contact,
            Part::Tasks => RecordKind::Task,
            Part::Events => RecordKind::Event,
        }
    }

    /// Where a container's items are (POST creates there).
    fn items(self, container: &str) -> String {
        match self {
            Part::Contacts => format!("/me/contactFolders/{container}/contacts"),
            Part::Tasks => format!("/me/todo/lists/{container}/tasks"),
            Part::Events => format!("/me/calendars/{container}/events"),
        }
    }

    /// Where a container's delta rounds start; a calendar's is a view of `window` (Graph has
    /// no delta of events without one, api/event-delta.md).
    pub fn delta(self, container: &str, window: Window) -> String {
        match self {
            Part::Events => {
                let query = form_urlencoded::Serializer::new(String::new())
                    .append_pair("startDateTime", &stamp(window.0))
                    .append_pair("endDateTime", &stamp(window.1))
                    .finish();
                format!("/me/calendars/{container}/calendarView/delta?{query}")
            }
            _ => format!("{}/delta", self.items(container)),
        }
    }

    /// One item, by id.
    fn item(self, container: &str, id: &str) -> String {
        match self {
            Part::Contacts => format!("/me/contacts/{id}"),
            Part::Tasks => format!("/me/todo/lists/{container}/tasks/{id}"),
            Part::Events => format!("/me/events/{id}"),
        }
    }
}

/// The containers a sync reads and writes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Containers {
    /// The contact folder whose contacts all sync ("Salesforce Contacts").
    pub synced_contacts: String,
    /// The main contact folder, whose contacts sync when they carry the category.
    pub main_contacts: Option<String>,
    /// The To Do list whose tasks sync.
    pub tasks: String,
    /// The default calendar.
    pub calendar: String,
}

/// The days a calendar view covers, `[start, end)` in UTC.
pub type Window = (chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>);

fn stamp(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// One delta round of one container: what changed, what left, and where the next round starts.
#[derive(Clone, Debug, Default)]
pub struct DeltaRound {
    pub changed: Vec<Value>,
    /// Ids of items deleted or moved out of the container.
    pub removed: Vec<String>,
    /// The `@odata.deltaLink` the next round starts from.
    pub link: String,
    /// This round listed the whole container: the stored link was no longer valid (410,
    /// `syncStateNotFound`) and it started over (the caller also sets it for a first round).
    pub reset: bool,
}

/// A write's answer: the item as Outlook holds it now (`null` for a delete's 204).
pub type Written = Result<Value, OutlookError>;

/// Calls made, for the run record.
#[derive(Clone, Copy, Debug, Default)]
pub struct OutlookStats {
    pub calls: u64,
}

#[derive(Clone)]
pub struct OutlookClient {
    http: reqwest::Client,
    settings: OutlookSettings,
    session: Arc<Session>,
    slots: Arc<Semaphore>,
    calls: Arc<AtomicU64>,
}

impl OutlookClient {
    pub fn new(settings: OutlookSettings, session: Session) -> Result<OutlookClient, OutlookError> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(settings.request_timeout_seconds))
            .build()
            .map_err(OutlookError::Unreachable)?;
        Ok(OutlookClient {
            http,
            settings,
            session: Arc::new(session),
            slots: Arc::new(Semaphore::new(MAILBOX_CONCURRENCY)),
            calls: Arc::new(AtomicU64::new(0)),
        })
    }

    pub fn stats(&self) -> OutlookStats {
        OutlookStats {
            calls: self.calls.load(Ordering::Relaxed),
        }
    }

    fn url(&self, path: &str) -> String {
        if path.starts_with("http://") || path.starts_with("https://") {
            return path.to_string();
        }
        format!(
            "{}/v1.0{path}",
            self.settings.graph_url.trim_end_matches('/')
        )
    }

    /// One request, retried while Graph throttles it or the token expired; the answer's body.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        if_match: Option<&str>,
    ) -> Written {
        let url = self.url(path);
        let call = format!("{method} {}", path.split('?').next().unwrap_or(path));
        let mut refreshed = false;
        let mut tries = 0;
        loop {
            tries += 1;
            let token = self.session.access_token(&self.http).await?;
            let mut request = self
                .http
                .request(method.clone(), &url)
                .bearer_auth(&token)
                .header("Prefer", IMMUTABLE_IDS)
                .header("Prefer", format!("odata.maxpagesize={PAGE_SIZE}"));
            if let Some(etag) = if_match {
                request = request.header("If-Match", etag);
            }
            if let Some(body) = body {
                request = request.json(body);
            }
            let response = {
                let _slot = self
                    .slots
                    .acquire()
                    .await
                    .map_err(|_| OutlookError::Halted)?;
                self.calls.fetch_add(1, Ordering::Relaxed);
                request.send().await.map_err(OutlookError::Unreachable)?
            };
            let status = response.status();
            let retry_after = retry_after(response.headers());
            let text = response.text().await.map_err(OutlookError::Unreachable)?;
            if status.is_success() {
                if text.trim().is_empty() {
                    return Ok(Value::Null);
                }
                return serde_json::from_str(&text).map_err(|e| OutlookError::Malformed {
                    call,
                    why: e.to_string(),
                });
            }
            if status == StatusCode::UNAUTHORIZED && !refreshed {
                // The access token expired early or was revoked: one new one, then the call again.
                refreshed = true;
                self.session.forget_access_token();
                continue;
            }
            let transient = matches!(status.as_u16(), 429 | 503 | 504);
            if transient {
                if tries > self.settings.max_retries {
                    return Err(OutlookError::Throttled { call, tries });
                }
                tokio::time::sleep(self.wait(tries, retry_after)).await;
                continue;
            }
            return Err(api_error(call, status.as_u16(), &text));
        }
    }

    /// How long to wait before try `tries + 1`: what Graph asked for, or the backoff.
    fn wait(&self, tries: u32, retry_after: Option<u64>) -> Duration {
        let backoff = Backoff {
            base_ms: self.settings.backoff_base_ms,
            max_ms: self.settings.backoff_max_ms,
        };
        Duration::from_millis(backoff.wait_ms(tries, retry_after, rand::random::<f64>()))
    }

    /// The synced folder (created when missing), the main folder and the task list.
    pub async fn containers(&self) -> Result<Containers, OutlookError> {
        let folders = self
            .call(Method::GET, "/me/contactFolders", None, None)
            .await?;
        let named = |list: &Value, name: &str| {
            list["value"].as_array().and_then(|all| {
                all.iter()
                    .find(|f| {
                        f["displayName"]
                            .as_str()
                            .is_some_and(|n| n.eq_ignore_ascii_case(name))
                    })
                    .and_then(|f| f["id"].as_str().map(str::to_string))
            })
        };
        let wanted = &self.settings.contacts_folder;
        let synced_contacts = match named(&folders, wanted) {
            Some(id) => id,
            None => {
                let made = self
                    .call(
                        Method::POST,
                        "/me/contactFolders",
                        Some(&json!({ "displayName": wanted })),
                        None,
                    )
                    .await
                    .map_err(|e| OutlookError::NoContainer {
                        what: "contact folder",
                        name: wanted.clone(),
                        why: e.to_string(),
                    })?;
                id_of(&made, "POST /me/contactFolders")?
            }
        };
        let main_contacts = named(&folders, "Contacts");
        let lists = self.call(Method::GET, "/me/todo/lists", None, None).await?;
        let list = &self.settings.task_list;
        let tasks = named(&lists, list)
            .or_else(|| {
                // "Tasks" is the default list, whatever the user's language calls it.
                (list == "Tasks").then(|| {
                    lists["value"].as_array().and_then(|all| {
                        all.iter()
                            .find(|l| l["wellknownListName"] == "defaultList")
                            .and_then(|l| l["id"].as_str().map(str::to_string))
                    })
                })?
            })
            .ok_or_else(|| OutlookError::NoContainer {
                what: "To Do list",
                name: list.clone(),
                why: "set [outlook] task_list to the name of a list you have".into(),
            })?;
        let calendar = self.call(Method::GET, "/me/calendar", None, None).await?;
        Ok(Containers {
            synced_contacts,
            main_contacts,
            tasks,
            calendar: id_of(&calendar, "GET /me/calendar")?,
        })
    }

    /// One delta round of a container, from the link the last round ended with (or from the
    /// start); a link Graph no longer knows starts the round over from the start.
    pub async fn delta(&self, start: &str, link: Option<&str>) -> Result<DeltaRound, OutlookError> {
        match link {
            Some(link) => match self.delta_from(link).await {
                Err(e) if e.is_sync_reset() => {
                    let mut round = self.delta_from(start).await?;
                    round.reset = true;
                    Ok(round)
                }
                other => other,
            },
            None => self.delta_from(start).await,
        }
    }

    /// A series' occurrences and exceptions inside `window`.
    pub async fn instances(
        &self,
        master: &str,
        window: Window,
    ) -> Result<Vec<Value>, OutlookError> {
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair("startDateTime", &stamp(window.0))
            .append_pair("endDateTime", &stamp(window.1))
            .finish();
        let mut next = format!("/me/events/{master}/instances?{query}");
        let mut all = Vec::new();
        for _ in 0..100_000 {
            let page = self.call(Method::GET, &next, None, None).await?;
            all.extend(page["value"].as_array().into_iter().flatten().cloned());
            match page["@odata.nextLink"].as_str() {
                Some(link) => next = link.to_string(),
                None => return Ok(all),
            }
        }
        Ok(all)
    }

    /// An item by id, or `None` when Outlook has no such item any more.
    pub async fn find(
        &self,
        part: Part,
        container: &str,
        id: &str,
    ) -> Result<Option<Value>, OutlookError> {
        match self.get(part, container, id).await {
            Ok(item) => Ok(Some(item)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn delta_from(&self, start: &str) -> Result<DeltaRound, OutlookError> {
        let mut round = DeltaRound::default();
        let mut next = start.to_string();
        // Bounded: a round of a million items in pages of 200 is 5,000 pages.
        for _ in 0..100_000 {
            let page = self.call(Method::GET, &next, None, None).await?;
            for item in page["value"].as_array().into_iter().flatten() {
                let Some(id) = item["id"].as_str() else {
                    continue;
                };
                if item.get("@removed").is_some() {
                    round.removed.push(id.to_string());
                } else {
                    round.changed.push(item.clone());
                }
            }
            if let Some(link) = page["@odata.nextLink"].as_str() {
                next = link.to_string();
                continue;
            }
            if let Some(link) = page["@odata.deltaLink"].as_str() {
                round.link = link.to_string();
                return Ok(round);
            }
            return Err(OutlookError::Malformed {
                call: "a delta round".into(),
                why: "a page with neither @odata.nextLink nor @odata.deltaLink".into(),
            });
        }
        Err(OutlookError::Malformed {
            call: "a delta round".into(),
            why: "it never ended".into(),
        })
    }

    /// Create items in a container, 20 to a `$batch`; each answer in the order of `bodies`.
    pub async fn create(
        &self,
        part: Part,
        container: &str,
        bodies: Vec<Map<String, Value>>,
    ) -> Vec<Written> {
        let path = part.items(container);
        let requests = bodies
            .into_iter()
            .map(|body| Request {
                method: Method::POST,
                path: path.clone(),
                body: Some(Value::Object(body)),
                if_match: None,
            })
            .collect();
        self.send_all(requests).await
    }

    /// Read items, 20 to a `$batch`, each with tandem's stamp.
    pub async fn get_all(&self, part: Part, container: &str, ids: &[String]) -> Vec<Written> {
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair("$expand", &graph::expand(part.kind()))
            .finish();
        let requests = ids
            .iter()
            .map(|id| Request {
                method: Method::GET,
                path: format!("{}?{query}", part.item(container, id)),
                body: None,
                if_match: None,
            })
            .collect();
        self.send_all(requests).await
    }

    /// Change items, 20 to a `$batch`, each only if still at its `@odata.etag`.
    pub async fn update_all(
        &self,
        part: Part,
        container: &str,
        changes: Vec<(String, Map<String, Value>, String)>,
    ) -> Vec<Written> {
        let requests = changes
            .into_iter()
            .map(|(id, body, etag)| Request {
                method: Method::PATCH,
                path: part.item(container, &id),
                body: Some(Value::Object(body)),
                if_match: Some(etag),
            })
            .collect();
        self.send_all(requests).await
    }

    /// Delete items, 20 to a `$batch`; one already gone is deleted.
    pub async fn delete_all(&self, part: Part, container: &str, ids: &[String]) -> Vec<Written> {
        let requests = ids
            .iter()
            .map(|id| Request {
                method: Method::DELETE,
                path: part.item(container, id),
                body: None,
                if_match: None,
            })
            .collect();
        self.send_all(requests)
            .await
            .into_iter()
            .map(|answer| match answer {
                Err(e) if e.is_not_found() => Ok(Value::Null),
                other => other,
            })
            .collect()
    }

    /// The item as Outlook holds it now, with tandem's stamp.
    pub async fn get(&self, part: Part, container: &str, id: &str) -> Result<Value, OutlookError> {
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair("$expand", &graph::expand(part.kind()))
            .finish();
        let path = format!("{}?{query}", part.item(container, id));
        self.call(Method::GET, &path, None, None).await
    }

    /// Change an item, only if it is still at `etag` (a 412 says it changed since).
    pub async fn update(
        &self,
        part: Part,
        container: &str,
        id: &str,
        body: Map<String, Value>,
        etag: &str,
    ) -> Written {
        self.call(
            Method::PATCH,
            &part.item(container, id),
            Some(&Value::Object(body)),
            Some(etag),
        )
        .await
    }

    /// Delete an item; one already gone is deleted.
    pub async fn delete(&self, part: Part, container: &str, id: &str) -> Written {
        match self
            .call(Method::DELETE, &part.item(container, id), None, None)
            .await
        {
            Err(e) if e.is_not_found() => Ok(Value::Null),
            other => other,
        }
    }

    /// The item tandem created for `record` in a container, if one exists: how a create whose
    /// answer was lost (a crash, a timeout) is found instead of made twice. Contacts and events
    /// are filtered by their stamp; To Do cannot filter on linked resources, so the list is read
    /// and compared.
    pub async fn find_stamped(
        &self,
        part: Part,
        container: &str,
        record: &str,
    ) -> Result<Option<Value>, OutlookError> {
        let kind = part.kind();
        let query = {
            let mut query = form_urlencoded::Serializer::new(String::new());
            query.append_pair("$expand", &graph::expand(kind));
            if kind != RecordKind::Task {
                query.append_pair("$filter", &graph::record_id_filter(record));
            }
            query.finish()
        };
        let mut next = format!("{}?{query}", part.items(container));
        // Bounded like a delta round.
        for _ in 0..100_000 {
            let page = self.call(Method::GET, &next, None, None).await?;
            let found = page["value"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|item| graph::stamped_record_id(item).as_deref() == Some(record));
            if let Some(item) = found {
                return Ok(Some(item.clone()));
            }
            match page["@odata.nextLink"].as_str() {
                Some(link) => next = link.to_string(),
                None => return Ok(None),
            }
        }
        Ok(None)
    }

    /// Requests sent in `$batch`es of 20; the answers in order. An item Graph throttled inside
    /// the batch is sent again alone (which waits as the answer says).
    pub async fn send_all(&self, requests: Vec<Request>) -> Vec<Written> {
        let mut answers = Vec::with_capacity(requests.len());
        for chunk in requests.chunks(BATCH_SIZE) {
            let body = json!({
                "requests": chunk.iter().enumerate().map(|(i, r)| r.in_batch(i)).collect::<Vec<_>>()
            });
            let answer = match self.call(Method::POST, "/$batch", Some(&body), None).await {
                Ok(answer) => answer,
                Err(e) => {
                    answers.extend(chunk.iter().map(|_| Err(e.for_each_request())));
                    continue;
                }
            };
            let responses = answer["responses"].as_array().cloned().unwrap_or_default();
            for (i, request) in chunk.iter().enumerate() {
                let response = responses
                    .iter()
                    .find(|r| r["id"].as_str() == Some(i.to_string().as_str()));
                let Some(response) = response else {
                    answers.push(Err(OutlookError::NoAnswer {
                        call: request.describe(),
                        why: format!("the $batch answer has no response {i}"),
                    }));
                    continue;
                };
                let status = response["status"].as_u64().unwrap_or(0) as u16;
                let answer = match status {
                    200..=299 => Ok(response["body"].clone()),
                    429 | 503 | 504 => {
                        self.call(
                            request.method.clone(),
                            &request.path,
                            request.body.as_ref(),
                            request.if_match.as_deref(),
                        )
                        .await
                    }
                    _ => Err(api_error(
                        request.describe(),
                        status,
                        &response["body"].to_string(),
                    )),
                };
                answers.push(answer);
            }
        }
        answers
    }
}

/// One request of a `$batch`.
#[derive(Clone, Debug)]
pub struct Request {
    pub method: Method,
    /// Under `/v1.0`, with its query.
    pub path: String,
    pub body: Option<Value>,
    pub if_match: Option<String>,
}

impl Request {
    fn describe(&self) -> String {
        format!(
            "{} {}",
            self.method,
            self.path.split('?').next().unwrap_or("")
        )
    }

    /// As the `i`th request of a `$batch`. The batch's own headers do not reach the requests
    /// inside it: each asks for immutable ids itself, or its answer names the item by a REST id.
    fn in_batch(&self, i: usize) -> Value {
        let mut request =
            json!({"id": i.to_string(), "method": self.method.as_str(), "url": self.path});
        let mut headers = Map::new();
        headers.insert("Prefer".into(), json!(IMMUTABLE_IDS));
        if let Some(body) = &self.body {
            request["body"] = body.clone();
            headers.insert("Content-Type".into(), json!("application/json"));
        }
        if let Some(etag) = &self.if_match {
            headers.insert("If-Match".into(), json!(etag));
        }
        request["headers"] = Value::Object(headers);
        request
    }
}

fn id_of(item: &Value, call: &str) -> Result<String, OutlookError> {
    item["id"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| OutlookError::Malformed {
            call: call.into(),
            why: "the answer has no id".into(),
        })
}

fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<u64> {
    headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// Graph's error envelope, `{"error": {"code", "message", "innerError"}}`, as an error.
fn api_error(call: String, status: u16, text: &str) -> OutlookError {
    let body: Value = serde_json::from_str(text).unwrap_or(Value::Null);
    let error = &body["error"];
    OutlookError::Api {
        call,
        status,
        code: error["code"].as_str().unwrap_or("unknown").to_string(),
        message: error["message"]
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| text.chars().take(200).collect()),
    }
}
