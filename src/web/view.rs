//! What every page shares: the frame (title, navigation, last run, the session's CSRF token),
//! how a page becomes a response, and how times, values and errors are worded.

use super::Web;
use super::session::Session;
use crate::app::count;
use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use serde_json::Value;
use tandem_protocol::Side;
use tandem_protocol::run::RunRecord;

/// Largest form accepted (a selection of every item of a large first sync fits).
pub const MAX_FORM: usize = 8 * 1024 * 1024;

/// The frame of a page.
pub struct Base {
    pub title: &'static str,
    /// Which navigation entry is this page.
    pub here: &'static str,
    pub csrf: String,
    /// When the last sync run finished (RFC 3339, UTC; the page shows it in local time).
    pub last_run: Option<String>,
}

impl Base {
    pub fn new(web: &Web, session: &Session, title: &'static str, here: &'static str) -> Base {
        let last_run = web
            .app()
            .status()
            .ok()
            .and_then(|s| s.last_run)
            .map(|r| iso(r.finished_ms));
        Base {
            title,
            here,
            csrf: session.csrf.clone(),
            last_run,
        }
    }
}

/// A page, or the error page when it cannot be rendered.
pub fn render(page: &impl Template) -> Response {
    match page.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => failure(&format!("the page cannot be shown: {e}")),
    }
}

/// An error the user can act on, as a plain page.
pub fn failure(message: &str) -> Response {
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        Html(format!(
            "<!doctype html><meta charset=utf-8><title>tandem</title><link rel=stylesheet href=/app/assets/app.css><main><h1>Something went wrong</h1><p class=error>{}</p><p><a href=/app/>Back</a></p></main>",
            escape(message)
        )),
    )
        .into_response()
}

fn escape(text: &str) -> String {
    askama::filters::escape(text, askama::filters::Html)
        .map(|s| s.to_string())
        .unwrap_or_default()
}

/// A time as RFC 3339 in UTC (`<time datetime>`; the page's script shows it in local time).
pub fn iso(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_default()
}

/// A side's name as a title: `Salesforce`, `Desktop`, `Outlook`.
pub fn side_title(side: Side) -> String {
    let name = side.title();
    name[..1].to_uppercase() + &name[1..]
}

/// A step that failed, what it said, and what to do about it.
pub struct Failure {
    pub what: String,
    pub error: String,
    pub advice: &'static str,
}

/// The failed steps of a run.
pub fn failures(run: &RunRecord) -> Vec<Failure> {
    run.failures()
        .map(|f| {
            let error = f.error.clone().unwrap_or_default();
            Failure {
                what: format!("{} {} on {}", f.op.as_str(), f.label, side_title(f.side)),
                advice: crate::app::advice(&error),
                error,
            }
        })
        .collect()
}

/// The Salesforce API calls a run used, and what the org had left after it when it said; the
/// requests of each connector side it reached.
pub fn calls(run: &RunRecord) -> String {
    let used = count(
        run.calls(Side::SALESFORCE),
        "Salesforce API call",
        "Salesforce API calls",
    );
    let salesforce = match run.api.get(&Side::SALESFORCE).and_then(|a| a.usage) {
        Some((done, limit)) => format!(
            "{used} used; {} left today",
            count(limit.saturating_sub(done), "call", "calls")
        ),
        None => format!("{used} used"),
    };
    let mut said = vec![salesforce];
    for (side, api) in run.api.iter().filter(|(s, _)| **s != Side::SALESFORCE) {
        let (one, many) = side.call_name();
        said.push(count(api.calls, one, many));
    }
    said.join("; ")
}

/// A field's value as a person reads it: text without quotes, nothing as "(empty)".
pub fn value(v: &Value) -> String {
    match v {
        Value::Null => "(empty)".into(),
        Value::String(s) if s.is_empty() => "(empty)".into(),
        Value::String(s) => s.clone(),
        Value::Array(items) if items.is_empty() => "(empty)".into(),
        // A reference to another record (an owner, an account) reads as its name.
        Value::Object(fields) if fields.get("name").is_some_and(Value::is_string) => {
            value(&fields["name"])
        }
        other => other.to_string(),
    }
}
