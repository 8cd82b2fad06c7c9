//! The HTTP layer: accepting connections, turning hyper requests into `ApiRequest`s, the edge (faults,
//! auth, limits, `Sforce-Limit-Info`) and routing to the resource handlers.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use http_body_util::{BodyExt, Limited};
use hyper::body::{Body, Bytes, Frame, Incoming, SizeHint};
use hyper::header::{HeaderMap, HeaderName, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinSet;

use super::errors::ApiError;
use super::faults::{FaultKind, lock_row_error};
use super::limits::{self, Usage};
use super::oauth::{self, Identity, OAuthError};
use super::org::{Org, WriteCtx};
use super::value::Doc;
use super::{
    State, collections, composite, control, describe, lock, query, replication, rows, seed,
};

/// Request bodies above this are refused (Salesforce's REST limit is 50 MB for some resources).
const MAX_BODY: usize = 50 * 1024 * 1024;
/// Combined URI + headers limit documented by Salesforce.
const MAX_URI: usize = 16_384;

pub const MIN_VERSION: u32 = 31;
pub const MAX_VERSION: u32 = 66;

/// One request, fully read.
#[derive(Debug, Clone)]
pub struct ApiRequest {
    pub method: Method,
    pub path: String,
    pub query: Vec<(String, String)>,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl ApiRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn is_write(&self) -> bool {
        matches!(
            self.method,
            Method::POST | Method::PATCH | Method::PUT | Method::DELETE
        )
    }
}

/// One response before it becomes a hyper response.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(status: u16, doc: &Doc) -> Self {
        Reply {
            status,
            headers: vec![(
                "Content-Type".into(),
                "application/json;charset=UTF-8".into(),
            )],
            body: doc.to_bytes(),
        }
    }

    pub fn error(e: &ApiError) -> Self {
        Self::json(e.status, &e.body())
    }

    pub fn oauth_error(e: &OAuthError) -> Self {
        Self::json(e.status, &e.body())
    }

    pub fn empty(status: u16) -> Self {
        Reply {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_string(), value.into()));
        self
    }

    /// The body parsed as JSON (used by composite to resolve `@{ref.field}`).
    pub fn json_body(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

impl From<Result<Reply, ApiError>> for Reply {
    fn from(r: Result<Reply, ApiError>) -> Self {
        r.unwrap_or_else(|e| Reply::error(&e))
    }
}

/// What the data handlers get: the request, its version, who/when, usage and the query cursors.
pub struct Call<'a> {
    pub state: &'a State,
    pub req: &'a ApiRequest,
    pub version: &'a str,
    pub ctx: WriteCtx,
    pub usage: Usage,
    /// A lock-row fault was drawn for this write.
    pub lock_fault: bool,
}

// ---- body that can break on purpose ---------------------------------------------------------------

/// A response body; `Truncated` announces the full length, sends part of it and then fails, which makes
/// hyper close the connection mid-response (the "dropped connection" fault).
pub enum EmuBody {
    Full(Option<Bytes>),
    Truncated {
        head: Option<Bytes>,
        total: u64,
        failed: bool,
    },
}

impl Body for EmuBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        match self.get_mut() {
            EmuBody::Full(b) => Poll::Ready(b.take().map(|b| Ok(Frame::data(b)))),
            EmuBody::Truncated { head, failed, .. } => {
                if let Some(h) = head.take() {
                    return Poll::Ready(Some(Ok(Frame::data(h))));
                }
                if *failed {
                    return Poll::Ready(None);
                }
                *failed = true;
                Poll::Ready(Some(Err(io::Error::new(
                    io::ErrorKind::ConnectionAborted,
                    "emulated connection drop",
                ))))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self, EmuBody::Full(None))
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            EmuBody::Full(Some(b)) => SizeHint::with_exact(b.len() as u64),
            EmuBody::Full(None) => SizeHint::with_exact(0),
            EmuBody::Truncated { total, .. } => SizeHint::with_exact(*total),
        }
    }
}

// ---- server ---------------------------------------------------------------------------------------

pub async fn serve(listener: TcpListener, state: Arc<State>, mut stop: oneshot::Receiver<()>) {
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            _ = &mut stop => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let state = state.clone();
                    conns.spawn(async move {
                        let svc = service_fn(move |req| handle(state.clone(), req));
                        if let Err(e) = http1::Builder::new().serve_connection(TokioIo::new(stream), svc).await {
                            tracing::debug!(error = %e, "connection ended with an error");
                        }
                    });
                }
                Err(e) => tracing::warn!(error = %e, "accept failed"),
            },
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
    conns.abort_all();
}

async fn handle(state: Arc<State>, req: Request<Incoming>) -> Result<Response<EmuBody>, io::Error> {
    let (parts, body) = req.into_parts();
    let uri_len = parts.uri.to_string().len();
    let header_len: usize = parts
        .headers
        .iter()
        .map(|(k, v)| k.as_str().len() + v.len() + 4)
        .sum();
    let body = match Limited::new(body, MAX_BODY).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => {
            let e = ApiError::new(
                413,
                "REQUEST_ENTITY_TOO_LARGE",
                "Request body is too large.",
            );
            return Ok(to_response(Reply::error(&e), false));
        }
    };
    if uri_len > MAX_URI {
        return Ok(to_response(Reply::empty(414), false));
    }
    if uri_len + header_len > MAX_URI {
        return Ok(to_response(Reply::empty(431), false));
    }
    let query = parts
        .uri
        .query()
        .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
        .unwrap_or_default();
    let api = ApiRequest {
        method: parts.method,
        path: parts.uri.path().to_string(),
        query,
        headers: parts.headers,
        body,
    };
    let (reply, drop) = respond(&state, &api).await;
    state.keep();
    // Like Salesforce, every response says when it was made, on the org's clock (a client takes its
    // watermarks from this, never from its own clock). Without it hyper would add the host's time.
    let reply = reply.with_header("Date", super::clock::format_http_date(state.clock.now()));
    if drop && reply.body.is_empty() {
        // Nothing to cut short: close the connection before any response.
        return Err(io::Error::new(
            io::ErrorKind::ConnectionAborted,
            "emulated connection drop",
        ));
    }
    Ok(to_response(reply, drop))
}

fn to_response(reply: Reply, drop: bool) -> Response<EmuBody> {
    let body = if drop {
        let total = reply.body.len() as u64;
        let head = Bytes::from(reply.body[..reply.body.len() / 2].to_vec());
        EmuBody::Truncated {
            head: Some(head),
            total,
            failed: false,
        }
    } else if reply.body.is_empty() {
        EmuBody::Full(None)
    } else {
        EmuBody::Full(Some(Bytes::from(reply.body)))
    };
    let mut resp = Response::new(body);
    *resp.status_mut() =
        StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    for (k, v) in reply.headers {
        if let (Ok(name), Ok(value)) = (HeaderName::try_from(k), HeaderValue::try_from(v)) {
            resp.headers_mut().append(name, value);
        }
    }
    resp
}

/// Path segments, percent-decoded (external-id values in upsert URLs are often encoded).
pub fn segments(path: &str) -> Vec<String> {
    path.split('/')
        .filter(|s| !s.is_empty())
        .map(|s| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        })
        .collect()
}

/// The edge: control API, faults, then OAuth / versions / data routing. Returns the reply and whether
/// to drop the connection mid-body.
pub async fn respond(state: &State, req: &ApiRequest) -> (Reply, bool) {
    let owned = segments(&req.path);
    let segs: Vec<&str> = owned.iter().map(String::as_str).collect();
    if segs.first() == Some(&"__emulator") {
        return (control::handle(state, req, &segs[1..]), false);
    }
    let is_api = matches!(segs.first(), Some(&"services") | Some(&"id"));
    if !is_api {
        return (Reply::error(&ApiError::not_found()), false);
    }
    let latency = lock(&state.faults).settings.latency_ms;
    if latency > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(latency)).await;
    }
    let is_data_write = req.is_write() && segs.get(1) == Some(&"data");
    let fault = lock(&state.faults).draw(is_data_write);
    if let Some((status, content_type, body)) = fault.and_then(FaultKind::edge_reply) {
        let reply = Reply {
            status,
            headers: vec![("Content-Type".into(), content_type.into())],
            body,
        };
        return (reply, false);
    }
    let reply = route(state, req, &segs, fault);
    (reply, fault == Some(FaultKind::DropConnection))
}

fn route(state: &State, req: &ApiRequest, segs: &[&str], fault: Option<FaultKind>) -> Reply {
    match segs {
        ["services", "oauth2", rest @ ..] => oauth_endpoint(state, req, rest),
        ["services", "data"] => match req.method {
            Method::GET | Method::HEAD => describe::versions(&state.base_url),
            _ => Reply::error(&ApiError::method_not_allowed(
                req.method.as_str(),
                "GET,HEAD",
            )),
        },
        ["services", "data", version, rest @ ..] => data_call(state, req, version, rest, fault),
        ["id", _org, user] => identity(state, req, user),
        _ => Reply::error(&ApiError::not_found()),
    }
}

fn parse_version(v: &str) -> Option<&str> {
    let num = v.strip_prefix('v')?;
    let (major, minor) = num.split_once('.')?;
    let major: u32 = major.parse().ok()?;
    (minor == "0" && (MIN_VERSION..=MAX_VERSION).contains(&major)).then_some(num)
}

fn data_call(
    state: &State,
    req: &ApiRequest,
    version: &str,
    rest: &[&str],
    fault: Option<FaultKind>,
) -> Reply {
    let Some(version) = parse_version(version) else {
        return Reply::error(&ApiError::not_found());
    };
    let now = state.clock.now();
    let peek = |state: &State| lock(&state.usage).used(now);
    let user = if fault == Some(FaultKind::InvalidSession) {
        Err(ApiError::invalid_session())
    } else {
        lock(&state.sessions).check_bearer(req.header("authorization"), now)
    };
    let user_id = match user {
        Ok(u) => u,
        Err(e) => {
            return Reply::error(&e)
                .with_header("Sforce-Limit-Info", limits::header_value(peek(state)));
        }
    };
    let exhausted =
        fault == Some(FaultKind::DailyLimit) || lock(&state.faults).settings.daily_limit_exhausted;
    let usage = match lock(&state.usage).count(now, exhausted) {
        Ok(u) => u,
        Err((e, usage)) => {
            return Reply::error(&e).with_header("Sforce-Limit-Info", limits::header_value(usage));
        }
    };
    let call = Call {
        state,
        req,
        version,
        ctx: WriteCtx { now, user_id },
        usage,
        lock_fault: fault == Some(FaultKind::UnableToLockRow),
    };
    let reply = {
        let mut org = lock(&state.org);
        org.housekeeping(now);
        // Collections and Composite requests answer a locked row per record or subrequest.
        if call.lock_fault && !matches!(rest, ["composite", ..]) {
            let id = rest.get(2).copied().unwrap_or("");
            Reply::error(&lock_row_error(&[id]))
        } else {
            dispatch(&call, &mut org, rest)
        }
    };
    reply.with_header("Sforce-Limit-Info", limits::header_value(usage))
}

/// Routes a data resource (the part after `/services/data/vXX.X/`). Composite subrequests come here too.
pub fn dispatch(call: &Call, org: &mut Org, rest: &[&str]) -> Reply {
    let m = &call.req.method;
    let not_allowed =
        |allowed: &str| Reply::error(&ApiError::method_not_allowed(m.as_str(), allowed));
    match rest {
        [] => match *m {
            Method::GET => describe::resources(call.version),
            _ => not_allowed("GET,HEAD"),
        },
        ["limits"] => match *m {
            Method::GET => Reply::json(200, &limits::limits_doc(call.usage)),
            _ => not_allowed("GET,HEAD"),
        },
        ["sobjects"] => match *m {
            Method::GET => describe::global(org, call.version),
            _ => not_allowed("GET,HEAD"),
        },
        ["query" | "queryAll", rest @ ..] => query::handle(call, org, rest),
        ["composite"] => match *m {
            Method::POST => composite::handle(call, org),
            _ => not_allowed("POST"),
        },
        ["composite", "sobjects", rest @ ..] => collections::handle(call, org, rest),
        ["sobjects", object, rest @ ..] => {
            let Some(obj) = org.schema.object_index(object) else {
                return Reply::error(&ApiError::not_found());
            };
            match rest {
                [] => match *m {
                    Method::GET => describe::basic(org, obj, call.version),
                    Method::POST => rows::create(call, org, obj).into(),
                    _ => not_allowed("GET,HEAD,POST"),
                },
                ["describe"] => match *m {
                    Method::GET => describe::object(org, obj, call.version),
                    _ => not_allowed("GET,HEAD"),
                },
                ["updated"] => match *m {
                    Method::GET => replication::updated(call, org, obj).into(),
                    _ => not_allowed("GET,HEAD"),
                },
                ["deleted"] => match *m {
                    Method::GET => replication::deleted(call, org, obj).into(),
                    _ => not_allowed("GET,HEAD"),
                },
                [id] => match *m {
                    Method::GET | Method::HEAD => rows::get(call, org, obj, id).into(),
                    Method::PATCH => rows::update(call, org, obj, id).into(),
                    Method::DELETE => rows::delete(call, org, obj, id).into(),
                    _ => not_allowed("GET,HEAD,PATCH,DELETE"),
                },
                [id, "fromThisEventOnwards"] => match *m {
                    Method::DELETE => rows::delete_series(call, org, obj, id).into(),
                    _ => not_allowed("DELETE"),
                },
                [field, value] => match *m {
                    Method::GET => rows::get_by_external_id(call, org, obj, field, value).into(),
                    Method::PATCH => rows::upsert(call, org, obj, field, value).into(),
                    _ => not_allowed("GET,HEAD,PATCH"),
                },
                _ => Reply::error(&ApiError::not_found()),
            }
        }
        _ => Reply::error(&ApiError::not_found()),
    }
}

fn oauth_endpoint(state: &State, req: &ApiRequest, rest: &[&str]) -> Reply {
    let now = state.clock.now();
    let form = if req.method == Method::GET {
        req.query.iter().cloned().collect()
    } else {
        oauth::parse_form(&req.body)
    };
    match (rest, &req.method) {
        (["token"], &Method::POST) => {
            let org = lock(&state.org);
            let identity = |user_id: &str| {
                org.live(user_id)
                    .filter(|u| org.get(u, "IsActive").as_bool())
                    .map(|u| Identity {
                        org_id: org.org_id.clone(),
                        user_id: u.id.clone(),
                    })
            };
            let by_name = |name: &str| seed::user_by_username(&org, name);
            let result =
                lock(&state.sessions).token(&form, now, &state.base_url, &identity, &by_name);
            match result {
                Ok(doc) => Reply::json(200, &doc),
                Err(e) => Reply::oauth_error(&e),
            }
        }
        (["authorize"], &Method::GET) => {
            let user = lock(&state.org).current_user.clone();
            match lock(&state.sessions).authorize(&form, now, &user) {
                Ok(location) => Reply::empty(302).with_header("Location", location),
                Err(e) => Reply::oauth_error(&e),
            }
        }
        (["introspect"], &Method::POST) => {
            let org = lock(&state.org);
            let username = |id: &str| {
                org.live(id)
                    .and_then(|u| org.text(u, "Username"))
                    .map(str::to_string)
            };
            match lock(&state.sessions).introspect(&form, now, &username) {
                Ok(doc) => Reply::json(200, &doc),
                Err(e) => Reply::oauth_error(&e),
            }
        }
        (["revoke"], &Method::POST | &Method::GET) => {
            let token = form.get("token").cloned().unwrap_or_default();
            match lock(&state.sessions).revoke(&token) {
                Ok(()) => Reply::empty(200),
                Err(e) => Reply::oauth_error(&e),
            }
        }
        (["token" | "authorize" | "introspect" | "revoke"], _) => {
            Reply::error(&ApiError::method_not_allowed(req.method.as_str(), "POST"))
        }
        _ => Reply::error(&ApiError::not_found()),
    }
}

/// `GET /id/{orgId}/{userId}`: the identity URL from the token response (requires the bearer token).
fn identity(state: &State, req: &ApiRequest, user: &str) -> Reply {
    let now = state.clock.now();
    let token = req
        .header("authorization")
        .and_then(|h| h.strip_prefix("Bearer "))
        .unwrap_or("");
    let Some(session_user) = lock(&state.sessions).session_user(token, now) else {
        return Reply::json(403, &Doc::from(serde_json::json!("Bad_OAuth_Token")));
    };
    let org = lock(&state.org);
    let Some(u) = org.live(user).filter(|u| u.id == session_user) else {
        return Reply::json(403, &Doc::from(serde_json::json!("Bad_Id")));
    };
    let text = |f: &str| org.text(u, f).unwrap_or("").to_string();
    let base = &state.base_url;
    let doc = Doc::object()
        .with("id", format!("{base}/id/{}/{}", org.org_id, u.id))
        .with("asserted_user", true)
        .with("user_id", u.id.as_str())
        .with("organization_id", org.org_id.as_str())
        .with("username", text("Username"))
        .with("nick_name", text("Alias"))
        .with("display_name", text("Name"))
        .with("email", text("Email"))
        .with("first_name", text("FirstName"))
        .with("last_name", text("LastName"))
        .with("timezone", text("TimeZoneSidKey"))
        .with("active", org.get(u, "IsActive").as_bool())
        .with("user_type", "STANDARD")
        .with("language", text("LanguageLocaleKey"))
        .with("locale", text("LocaleSidKey"))
        .with(
            "urls",
            Doc::object()
                .with("rest", format!("{base}/services/data/v{{version}}/"))
                .with(
                    "sobjects",
                    format!("{base}/services/data/v{{version}}/sobjects/"),
                )
                .with("query", format!("{base}/services/data/v{{version}}/query/")),
        );
    Reply::json(200, &doc)
}
