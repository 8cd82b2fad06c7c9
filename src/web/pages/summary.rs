//! The Synchronization Summary: per kind of record the pending items, Salesforce on the left and
//! every other side on the right, the action between them, field detail and conflicts on demand,
//! skipped items with their reason behind a toggle; select items to ignore them (until either
//! side changes them, or forever), take an ignore back, or apply them. Apply carries out exactly
//! the items shown (by fingerprint): one that changed since is held back and said so.

use crate::app::{Ignoring, Reply, Request, RunReport, count};
use crate::web::Web;
use crate::web::review::Run;
use crate::web::session::Session;
use crate::web::view::{Base, Failure, calls, failure, failures, iso, render, side_title, value};
use askama::Template;
use axum::Extension;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::Form;
use serde::Deserialize;
use std::collections::HashSet;
use std::sync::Arc;
use tandem_protocol::plan::{Item, Plan, Skip};
use tandem_protocol::run::RunMode;
use tandem_protocol::{ConflictPolicy, RecordKind, Side};

#[derive(Template)]
#[template(path = "web/summary.html")]
struct SummaryPage {
    base: Base,
    /// A message about what was just done.
    note: Option<String>,
    /// When the review waiting to be applied was made; `None`: there is none.
    reviewed_at: Option<String>,
    /// Items of the review that changed since: an apply holds them back.
    changed_since: usize,
    /// A run is under way (this page's or another); the page follows it.
    busy: bool,
    failed: Option<String>,
    applied: Option<Applied>,
    /// Sides the review could not read, and why.
    unread: Vec<String>,
    kinds: Vec<KindRows>,
    pending: usize,
    left: String,
    rights: Vec<String>,
}

struct KindRows {
    title: &'static str,
    key: &'static str,
    pending: Vec<Row>,
    skipped: Vec<Row>,
}

struct Row {
    fingerprint: String,
    left: String,
    action: String,
    /// `to-left`, `to-right`, `both` or `skip`: which way the arrow points.
    direction: &'static str,
    /// The item on each side of the right, in the columns' order.
    rights: Vec<String>,
    /// What the item is called, for a screen reader's "Select …".
    name: String,
    changes: Vec<Change>,
    conflicts: Vec<String>,
    /// What a side will not hold as the record has it, said before the run.
    notes: Vec<String>,
    /// Why it is skipped.
    skip: Option<&'static str>,
    ignored: bool,
}

struct Change {
    side: String,
    field: String,
    old: String,
    new: String,
}

struct Applied {
    line: String,
    failures: Vec<Failure>,
    held_back: Option<String>,
    halted: bool,
    unreachable: Vec<String>,
}

#[derive(Deserialize)]
pub struct Shown {
    note: Option<String>,
}

/// The notes a redirect may ask the page to show (never text from the URL itself).
fn note(code: &str) -> Option<String> {
    let (what, n) = code.split_once('-').unwrap_or((code, "0"));
    let n: usize = n.parse().unwrap_or(0);
    Some(match what {
        "select" => {
            "Select items first (the boxes on the left; Shift-click selects a range).".into()
        }
        "once" => format!(
            "{} until either side changes.",
            count(n, "item ignored", "items ignored")
        ),
        "forever" => format!("{} forever.", count(n, "item ignored", "items ignored")),
        "undo" => format!(
            "{} no longer ignored: Review now to include {}.",
            count(n, "item is", "items are"),
            if n == 1 { "it" } else { "them" }
        ),
        "busy" => "A run is under way: wait for it to end.".into(),
        _ => return None,
    })
}

pub async fn page(
    State(web): State<Arc<Web>>,
    Extension(session): Extension<Session>,
    Query(shown): Query<Shown>,
) -> Response {
    let app = web.app();
    let status = match app.status() {
        Ok(status) => status,
        Err(e) => return failure(&e.to_string()),
    };
    let ran = web.review.now();
    let busy = ran.busy || crate::app::in_flight().is_some();
    // The review waiting to be applied: the latest preview (whichever front made it), unless a
    // run came after it.
    let waiting = status
        .last_preview
        .as_ref()
        .filter(|_| status.review_waiting);
    let mut kinds = Vec::new();
    let (mut pending, mut changed_since) = (0, 0);
    let columns: Columns = Plan::left_and_right(&app.settings.sides());
    if let Some(preview) = waiting {
        // What the review listed, as the store has it now: an item that changed since is not
        // shown (an apply would hold it back), only counted.
        let plan = match app.replan() {
            Ok(plan) => plan,
            Err(e) => return failure(&e.to_string()),
        };
        let reviewed: HashSet<&str> = preview.reviewed.iter().map(String::as_str).collect();
        let (listed, changed): (Vec<&Item>, Vec<&Item>) = plan
            .items
            .iter()
            .partition(|i| !i.runs() || reviewed.contains(i.fingerprint().as_str()));
        changed_since = changed.len();
        pending = listed.iter().filter(|i| i.runs()).count();
        kinds = RecordKind::ALL
            .iter()
            .map(|&kind| {
                kind_rows(
                    &listed,
                    kind,
                    app.settings.rules(kind).conflict_policy,
                    &columns,
                )
            })
            .filter(|k| !k.pending.is_empty() || !k.skipped.is_empty())
            .collect();
    }
    render(&SummaryPage {
        base: Base::new(&web, &session, "Synchronization Summary", "summary"),
        note: shown.note.as_deref().and_then(note),
        reviewed_at: waiting.map(|r| iso(r.finished_ms)),
        changed_since,
        busy,
        failed: ran.failed,
        applied: ran.applied.as_ref().map(applied),
        unread: waiting
            .map(|r| {
                r.unreachable
                    .iter()
                    .map(|(side, why)| format!("{} could not be read: {why}", side_title(*side)))
                    .collect()
            })
            .unwrap_or_default(),
        kinds,
        pending,
        left: side_title(columns.0),
        rights: columns.1.iter().map(|s| side_title(*s)).collect(),
    })
}

/// The summary's sides: Salesforce on the left, the PIM sides on the right.
type Columns = (Side, Vec<Side>);

fn kind_rows(
    items: &[&Item],
    kind: RecordKind,
    policy: ConflictPolicy,
    columns: &Columns,
) -> KindRows {
    let (title, key) = match kind {
        RecordKind::Contact => ("Contacts", "contacts"),
        RecordKind::Event => ("Calendar", "events"),
        RecordKind::Task => ("Tasks", "tasks"),
    };
    let (pending, skipped): (Vec<&Item>, Vec<&Item>) = items
        .iter()
        .copied()
        .filter(|i| i.kind == kind)
        .partition(|i| i.runs());
    KindRows {
        title,
        key,
        pending: pending
            .into_iter()
            .map(|i| row(i, policy, columns))
            .collect(),
        skipped: skipped
            .into_iter()
            .map(|i| row(i, policy, columns))
            .collect(),
    }
}

fn cell(item: &Item, side: Side) -> String {
    match item.id_on(side) {
        Some(id) => format!(
            "{} [{}]",
            item.label_on(side),
            id.rsplit('/').next().unwrap_or(id)
        ),
        None => side.missing(),
    }
}

fn row(item: &Item, policy: ConflictPolicy, (left, rights): &Columns) -> Row {
    let to_left = item.step(*left).filter(|s| s.runs());
    // With one side on the right the arrow says enough; with more, it names the side.
    let to_right: Vec<String> = rights
        .iter()
        .filter_map(|side| {
            let step = item.step(*side).filter(|s| s.runs())?;
            Some(match rights.len() {
                1 => format!("{} →", step.verb()),
                _ => format!("{} → {}", step.verb(), side_title(*side)),
            })
        })
        .collect();
    let (action, direction) = match (to_left, to_right.is_empty()) {
        (Some(l), false) => (format!("← {} · {}", l.verb(), to_right.join(" · ")), "both"),
        (Some(l), true) => (format!("← {}", l.verb()), "to-left"),
        (None, false) => (to_right.join(" · "), "to-right"),
        (None, true) => ("skip".into(), "skip"),
    };
    let skip = item.steps().find_map(|(_, s)| s.skipped);
    let changes = item
        .steps()
        .flat_map(|(side, step)| {
            step.changes.iter().map(move |(field, new)| Change {
                side: side_title(side),
                field: field.clone(),
                old: step.before.get(field).map_or_else(String::new, value),
                new: value(new),
            })
        })
        .collect();
    let conflicts = item
        .conflicts
        .iter()
        .map(|c| {
            let lost: Vec<String> = c
                .lost
                .iter()
                .map(|(side, v)| format!("{} ({})", value(v), side_title(*side)))
                .collect();
            format!(
                "{}: kept {} ({}) over {} — {}",
                c.field,
                value(&c.kept),
                side_title(c.kept_from),
                lost.join(", "),
                policy.explain()
            )
        })
        .collect();
    let notes = item
        .steps()
        .filter(|(_, step)| step.runs())
        .flat_map(|(side, step)| {
            step.notes
                .iter()
                .map(move |note| format!("{}: {note}", side_title(side)))
        })
        .collect();
    Row {
        fingerprint: item.fingerprint(),
        notes,
        left: cell(item, *left),
        action,
        direction,
        rights: rights.iter().map(|side| cell(item, *side)).collect(),
        name: item.label.clone(),
        changes,
        conflicts,
        skip: skip.map(Skip::describe),
        ignored: matches!(skip, Some(Skip::IgnoredOnce | Skip::IgnoredForever)),
    }
}

fn applied(report: &RunReport) -> Applied {
    let Some(record) = &report.record else {
        return Applied {
            line: "Nothing was carried out.".into(),
            failures: Vec::new(),
            held_back: None,
            halted: report.halted,
            unreachable: Vec::new(),
        };
    };
    let failures = failures(record);
    let done = record.results.len() - failures.len();
    Applied {
        line: format!(
            "{} {done} of {} ({}).",
            if record.mode == RunMode::Automatic {
                "The automatic run carried out"
            } else {
                "Carried out"
            },
            count(record.results.len(), "step", "steps"),
            calls(record),
        ),
        failures,
        held_back: (report.held_back > 0).then(|| {
            format!(
                "{} changed since the review and {} held back: review again to see {}.",
                count(report.held_back, "item", "items"),
                if report.held_back == 1 { "was" } else { "were" },
                if report.held_back == 1 { "it" } else { "them" },
            )
        }),
        halted: report.halted,
        unreachable: record
            .unreachable
            .iter()
            .map(|(side, why)| format!("{} could not be reached: {why}", side_title(*side)))
            .collect(),
    }
}

/// "Review now": read every side and plan, in the background.
pub async fn review(State(web): State<Arc<Web>>) -> Response {
    if !web.review.start(web.app(), Run::Preview) {
        return Redirect::to("/app/summary?note=busy").into_response();
    }
    Redirect::to("/app/summary").into_response()
}

#[derive(Deserialize)]
pub struct Act {
    action: String,
    /// The items ticked.
    #[serde(default)]
    items: Vec<String>,
    /// Every pending item the page showed ("Apply all").
    #[serde(default)]
    shown: Vec<String>,
}

/// The record an item's fingerprint names (`record@heads`).
fn record_of(fingerprint: &str) -> String {
    fingerprint
        .split_once('@')
        .map_or(fingerprint, |(record, _)| record)
        .to_string()
}

pub async fn act(State(web): State<Arc<Web>>, Form(act): Form<Act>) -> Response {
    let how = match act.action.as_str() {
        "apply-all" | "apply-selected" => {
            let items = if act.action == "apply-all" {
                act.shown
            } else {
                act.items
            };
            if items.is_empty() {
                return Redirect::to("/app/summary?note=select").into_response();
            }
            if !web.review.start(web.app(), Run::Apply(items)) {
                return Redirect::to("/app/summary?note=busy").into_response();
            }
            return Redirect::to("/app/summary").into_response();
        }
        "ignore-once" => Ignoring::Once,
        "ignore-forever" => Ignoring::Forever,
        "undo" => Ignoring::Undo,
        _ => return failure(&format!("there is no action `{}`", act.action)),
    };
    if act.items.is_empty() {
        return Redirect::to("/app/summary?note=select").into_response();
    }
    let records: Vec<String> = act.items.iter().map(|f| record_of(f)).collect();
    let n = records.len();
    match web
        .app()
        .handle(
            Request::Ignore {
                records,
                how,
                side: None,
            },
            &|_, _| {},
        )
        .await
    {
        Ok(Reply::Ignored(_)) => {}
        Ok(_) => return failure(&crate::app::AppError::Unexpected.to_string()),
        Err(e) => return failure(&e.to_string()),
    }
    let code = match how {
        Ignoring::Once => "once",
        Ignoring::Forever => "forever",
        Ignoring::Undo => "undo",
    };
    Redirect::to(&format!("/app/summary?note={code}-{n}")).into_response()
}
