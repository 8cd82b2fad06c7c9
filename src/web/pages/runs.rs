//! Runs: the Last Run and the runs before it — what each did, what failed and what to do about
//! it, the API calls used and left — and the run in flight, followed live (the page asks
//! `/app/progress` every second and reloads when the run ends).

use crate::app::{InFlight, Serving, count, in_flight};
use crate::web::Web;
use crate::web::session::Session;
use crate::web::view::{Base, Failure, calls, failure, failures, iso, render, side_title};
use askama::Template;
use axum::Extension;
use axum::Json;
use axum::extract::State;
use axum::response::Response;
use serde::Serialize;
use std::sync::Arc;
use tandem_protocol::run::{RunMode, RunRecord};

#[derive(Template)]
#[template(path = "web/runs.html")]
struct RunsPage {
    base: Base,
    busy: bool,
    pending: String,
    automatic: String,
    next_automatic: Option<String>,
    runs: Vec<RunView>,
}

struct RunView {
    mode: &'static str,
    finished: String,
    line: String,
    unreachable: Vec<String>,
    failures: Vec<Failure>,
}

pub async fn page(State(web): State<Arc<Web>>, Extension(session): Extension<Session>) -> Response {
    let status = match web.app().status() {
        Ok(status) => status,
        Err(e) => return failure(&e.to_string()),
    };
    let busy = web.review.now().busy || in_flight().is_some();
    let automatic = match (&status.serving, status.automatic) {
        (Serving::Local, _) => "Automatic runs happen only while tandem runs.".to_string(),
        (_, false) => "Automatic runs start once a first sync was reviewed and applied.".into(),
        (_, true) if status.next_automatic_ms.is_none() => {
            "Automatic runs are switched off for every kind of record (Settings).".into()
        }
        (_, true) => "Automatic runs are on.".into(),
    };
    render(&RunsPage {
        base: Base::new(&web, &session, "Runs", "runs"),
        busy,
        pending: format!(
            "{} waiting, {}, {} ignored.",
            count(status.pending, "item", "items"),
            count(status.conflicts, "conflict", "conflicts"),
            status.ignored
        ),
        automatic,
        next_automatic: status.next_automatic_ms.map(iso),
        runs: status
            .last_run
            .iter()
            .chain(&status.recent)
            .map(run_view)
            .collect(),
    })
}

fn run_view(run: &RunRecord) -> RunView {
    RunView {
        mode: match run.mode {
            RunMode::Manual => "Manual",
            RunMode::Automatic => "Automatic",
            RunMode::Preview => "Review",
        },
        finished: iso(run.finished_ms),
        line: format!(
            "{}, {} failed; {}.",
            count(run.results.len(), "step", "steps"),
            run.failures().count(),
            calls(run),
        ),
        unreachable: run
            .unreachable
            .iter()
            .map(|(side, why)| format!("{} could not be reached: {why}", side_title(*side)))
            .collect(),
        failures: failures(run),
    }
}

/// What the page polls while a run is under way.
#[derive(Serialize)]
pub struct Progress {
    busy: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    run: Option<InFlight>,
    /// A sentence for the page.
    said: String,
}

pub async fn progress(State(web): State<Arc<Web>>) -> Json<Progress> {
    let run = in_flight();
    let busy = web.review.now().busy || run.is_some();
    let said = match &run {
        None if busy => "Starting…".to_string(),
        None => "No run is under way.".to_string(),
        Some(run) if run.total == 0 => match run.mode {
            RunMode::Preview => "Reading Salesforce and the desktop…".to_string(),
            _ => "Reading the sides…".to_string(),
        },
        Some(run) => format!(
            "{} of {} done…",
            run.done,
            count(run.total, "step", "steps")
        ),
    };
    Json(Progress { busy, run, said })
}
