//! The query and queryAll resources: running SOQL, batching results into pages, and the server-side
//! cursors behind `nextRecordsUrl` (`/services/data/vXX.X/query/<locator>-<offset>`).

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};

use super::errors::ApiError;
use super::http::{Call, Reply};
use super::ids;
use super::lock;
use super::org::Org;
use super::soql::{self, Env, Scope};
use super::value::Doc;

pub const DEFAULT_BATCH: usize = 2000;
pub const MIN_BATCH: usize = 200;
/// Query locators expire after this much inactivity.
pub const CURSOR_IDLE_MINUTES: i64 = 15;

struct Cursor {
    records: Vec<Doc>,
    batch: usize,
    last_used: DateTime<Utc>,
}

#[derive(Default)]
pub struct Cursors {
    open: HashMap<String, Cursor>,
    counter: u64,
}

impl Cursors {
    pub fn len(&self) -> usize {
        self.open.len()
    }

    pub fn is_empty(&self) -> bool {
        self.open.is_empty()
    }

    fn expire(&mut self, now: DateTime<Utc>) {
        let idle = Duration::minutes(CURSOR_IDLE_MINUTES);
        self.open.retain(|_, c| now - c.last_used < idle);
    }
}

/// `Sforce-Query-Options: batchSize=N`, clamped to 200..=2000 (Salesforce treats it as a hint).
fn batch_size(call: &Call) -> Option<usize> {
    let header = call.req.header("sforce-query-options")?;
    header.split(',').find_map(|part| {
        let (k, v) = part.split_once('=')?;
        (k.trim().eq_ignore_ascii_case("batchSize"))
            .then(|| v.trim().parse::<usize>().ok())
            .flatten()
            .map(|n| n.clamp(MIN_BATCH, DEFAULT_BATCH))
    })
}

fn invalid_locator() -> ApiError {
    ApiError::bad_request("INVALID_QUERY_LOCATOR", "invalid query locator")
}

pub fn handle(call: &Call, org: &mut Org, rest: &[&str]) -> Reply {
    if call.req.method != hyper::Method::GET {
        return Reply::error(&ApiError::method_not_allowed(
            call.req.method.as_str(),
            "GET,HEAD",
        ));
    }
    let scope = if call.req.path.contains("/queryAll") {
        Scope::All
    } else {
        Scope::Live
    };
    match rest {
        [] => run(call, org, scope).into(),
        [locator] => next_page(call, locator).into(),
        _ => Reply::error(&ApiError::not_found()),
    }
}

fn run(call: &Call, org: &Org, scope: Scope) -> Result<Reply, ApiError> {
    let Some(q) = call.req.param("q") else {
        return Err(ApiError::bad_request(
            "MALFORMED_QUERY",
            "A query string has to be specified",
        ));
    };
    let env = Env {
        now: call.ctx.now,
        tz: org.user_tz(&call.ctx.user_id),
    };
    let plan = soql::parse(q)
        .and_then(|parsed| soql::bind(&org.schema, &parsed, env))
        .map_err(|e| e.to_api_error(q))?;
    let rows = soql::execute(org, &plan, scope, call.ctx.now);
    if plan.count {
        return Ok(Reply::json(
            200,
            &Doc::object()
                .with("totalSize", rows.len() as u64)
                .with("done", true)
                .with("records", Doc::Array(Vec::new())),
        ));
    }
    let records: Vec<Doc> = rows
        .iter()
        .map(|r| soql::project(org, r, &plan, call.version, call.ctx.now))
        .collect();
    let batch = batch_size(call).unwrap_or(DEFAULT_BATCH);
    let total = records.len();
    if total <= batch {
        return Ok(page(total, None, records));
    }
    let first: Vec<Doc> = records[..batch].to_vec();
    let mut cursors = lock(&call.state.cursors);
    cursors.expire(call.ctx.now);
    cursors.counter += 1;
    let locator = ids::make("01g", cursors.counter);
    cursors.open.insert(
        locator.clone(),
        Cursor {
            records,
            batch,
            last_used: call.ctx.now,
        },
    );
    Ok(page(
        total,
        Some(next_url(call.version, &locator, batch)),
        first,
    ))
}

fn next_url(version: &str, locator: &str, offset: usize) -> String {
    // queryAll continuations use /query/ as well.
    format!("/services/data/v{version}/query/{locator}-{offset}")
}

fn page(total: usize, next: Option<String>, records: Vec<Doc>) -> Reply {
    let mut doc = Doc::object()
        .with("totalSize", total as u64)
        .with("done", next.is_none());
    if let Some(n) = next {
        doc.push("nextRecordsUrl", n);
    }
    doc.push("records", Doc::Array(records));
    Reply::json(200, &doc)
}

fn next_page(call: &Call, locator: &str) -> Result<Reply, ApiError> {
    let (id, offset) = locator.rsplit_once('-').ok_or_else(invalid_locator)?;
    let offset: usize = offset.parse().map_err(|_| invalid_locator())?;
    let mut cursors = lock(&call.state.cursors);
    cursors.expire(call.ctx.now);
    let cursor = cursors.open.get_mut(id).ok_or_else(invalid_locator)?;
    let total = cursor.records.len();
    if offset > total {
        return Err(invalid_locator());
    }
    cursor.last_used = call.ctx.now;
    let batch = batch_size(call).unwrap_or(cursor.batch);
    let end = (offset + batch).min(total);
    let records = cursor.records[offset..end].to_vec();
    let next = (end < total).then(|| next_url(call.version, id, end));
    Ok(page(total, next, records))
}
