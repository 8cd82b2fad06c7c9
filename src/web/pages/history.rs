//! History: find a record (by name, UID, DAV href or Salesforce id), see its timeline — every
//! event, from which side, when, the fields before → after, the conflicts — and who set each
//! field (blame); restore it to a point of its timeline, or undelete it, after a confirmation.

use crate::app::{EXISTS, Found, History, Point};
use crate::web::Web;
use crate::web::session::Session;
use crate::web::view::{Base, failure, render, value};
use askama::Template;
use axum::Extension;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::Form;
use serde::Deserialize;
use std::sync::Arc;

#[derive(Template)]
#[template(path = "web/history.html")]
struct HistoryPage {
    base: Base,
    query: String,
    found: Vec<Found>,
    /// The search found nothing.
    none: bool,
    record: Option<RecordView>,
    restored: Option<String>,
}

struct RecordView {
    id: String,
    label: String,
    kind: String,
    deleted: bool,
    /// The event to restore to for an undelete: the last one before the deletion.
    undelete_at: Option<u64>,
    entries: Vec<EntryView>,
    blame: Vec<BlameView>,
}

struct EntryView {
    seq: u64,
    time: String,
    side: String,
    agent: String,
    summary: String,
    changes: Vec<(String, String, String)>,
    conflicts: Vec<String>,
}

struct BlameView {
    field: String,
    value: String,
    by: String,
    time: String,
    seq: Option<u64>,
}

#[derive(Deserialize)]
pub struct Wanted {
    #[serde(default)]
    q: String,
    record: Option<String>,
    restored: Option<u64>,
}

pub async fn page(
    State(web): State<Arc<Web>>,
    Extension(session): Extension<Session>,
    Query(wanted): Query<Wanted>,
) -> Response {
    let app = web.app();
    let found = match app.find(&wanted.q) {
        Ok(found) => found,
        Err(e) => return failure(&e.to_string()),
    };
    // One match is the record wanted.
    let record = wanted.record.clone().or_else(|| match found.as_slice() {
        [only] => Some(only.record.to_string()),
        _ => None,
    });
    let record = match record {
        Some(name) => match record_view(&web, &name) {
            Ok(view) => Some(view),
            Err(e) => return failure(&e.to_string()),
        },
        None => None,
    };
    render(&HistoryPage {
        base: Base::new(&web, &session, "History", "history"),
        none: !wanted.q.trim().is_empty() && found.is_empty(),
        query: wanted.q,
        found,
        record,
        restored: wanted.restored.map(|seq| match seq {
            0 => "Nothing to restore: the record already is as it was then.".to_string(),
            seq => format!("Restored as event #{seq}: the next run carries it to every side."),
        }),
    })
}

fn record_view(web: &Web, name: &str) -> Result<RecordView, crate::app::AppError> {
    let app = web.app();
    let history: History = app.history(name)?;
    let blame = app.blame(name)?;
    let label = tandem_protocol::plan::label(
        blame.kind,
        &blame
            .lines
            .iter()
            .map(|l| (l.field.clone(), l.value.clone()))
            .collect(),
    );
    // Undelete goes back to just before the last deletion.
    let undelete_at = blame
        .deleted
        .then(|| {
            let deleted = history.entries.iter().rposition(|e| {
                e.changes
                    .iter()
                    .any(|c| c.field == EXISTS && c.after == serde_json::Value::Bool(false))
            })?;
            history.entries[..deleted].last().map(|e| e.seq)
        })
        .flatten();
    Ok(RecordView {
        id: history.record.to_string(),
        label,
        kind: history.kind.to_string(),
        deleted: blame.deleted,
        undelete_at,
        entries: history
            .entries
            .iter()
            .rev()
            .map(|e| EntryView {
                seq: e.seq,
                time: e.time.clone(),
                side: e.origin.side.to_string(),
                agent: e.origin.agent.clone(),
                summary: e.summary.clone(),
                changes: e
                    .changes
                    .iter()
                    .map(|c| (c.field.clone(), value(&c.before), value(&c.after)))
                    .collect(),
                conflicts: e
                    .conflicts
                    .iter()
                    .map(|c| {
                        format!(
                            "{}: kept {} from {} ({})",
                            c.field,
                            value(&c.kept.value),
                            c.kept.side,
                            c.policy
                        )
                    })
                    .collect(),
            })
            .collect(),
        blame: blame
            .lines
            .iter()
            .map(|l| BlameView {
                field: l.field.clone(),
                value: value(&l.value),
                by: l
                    .origin
                    .as_ref()
                    .map(|o| format!("{} ({})", o.side, o.agent))
                    .unwrap_or_default(),
                time: l.time.clone(),
                seq: l.seq,
            })
            .collect(),
    })
}

#[derive(Template)]
#[template(path = "web/restore.html")]
struct ConfirmPage {
    base: Base,
    record: String,
    label: String,
    at: u64,
    time: String,
}

#[derive(Deserialize)]
pub struct RestoreForm {
    record: String,
    at: u64,
}

/// "Restore to here": say what will happen, and ask.
pub async fn confirm(
    State(web): State<Arc<Web>>,
    Extension(session): Extension<Session>,
    Form(form): Form<RestoreForm>,
) -> Response {
    let view = match record_view(&web, &form.record) {
        Ok(view) => view,
        Err(e) => return failure(&e.to_string()),
    };
    let Some(entry) = view.entries.iter().find(|e| e.seq == form.at) else {
        return failure(&format!(
            "event #{} is not in this record's history",
            form.at
        ));
    };
    render(&ConfirmPage {
        base: Base::new(&web, &session, "Restore", "history"),
        time: entry.time.clone(),
        record: view.id,
        label: view.label,
        at: form.at,
    })
}

pub async fn restore(State(web): State<Arc<Web>>, Form(form): Form<RestoreForm>) -> Response {
    match web.app().restore(&form.record, &Point::Seq(form.at)).await {
        Ok(restored) => {
            let seq = restored.seq.unwrap_or(0);
            Redirect::to(&format!(
                "/app/history?record={}&restored={seq}",
                restored.record
            ))
            .into_response()
        }
        Err(e) => failure(&e.to_string()),
    }
}
