//! The audit of the log, one record at a time: its history (every event, with the fields
//! before and after), who set each field (blame), and bringing it back to an earlier state.

use super::point::Point;
use super::{App, AppError};
use crate::store::read;
use crate::store::{Draft, DraftBody, ObservationDraft};
use redb::ReadTransaction;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::ops::ControlFlow;
use tandem_protocol::{
    Candidate, Decision, Event, EventBody, Fields, Hlc, Op, Origin, OutcomeResult, RecordDoc,
    RecordId, RecordKind, Resolved, Side,
};

/// A record's events, oldest first, each with what it changed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct History {
    pub record: RecordId,
    pub kind: RecordKind,
    pub entries: Vec<HistoryEntry>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HistoryEntry {
    pub seq: u64,
    pub hlc: Hlc,
    pub time: String,
    pub origin: Origin,
    pub summary: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<FieldChange>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conflicts: Vec<ConflictNote>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FieldChange {
    pub field: String,
    pub before: Value,
    pub after: Value,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConflictNote {
    pub field: String,
    pub kept: Candidate,
    pub over: Vec<Candidate>,
    pub policy: String,
}

/// Each field of a record: its value, and the event and side that set it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Blame {
    pub record: RecordId,
    pub kind: RecordKind,
    pub deleted: bool,
    pub lines: Vec<BlameLine>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BlameLine {
    pub field: String,
    pub value: Value,
    pub seq: Option<u64>,
    pub time: String,
    pub origin: Option<Origin>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conflicting: Vec<Candidate>,
}

/// What a restore did.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Restored {
    pub record: RecordId,
    /// The point restored to, as the user named it (`#42`, a time).
    pub at: String,
    /// The event that restored it; `None` when it already was as it was then.
    pub seq: Option<u64>,
    /// The fields set (`null`: cleared).
    pub changes: Fields,
    /// The record was ignored forever (wholly, or on these sides); the restore lifted it, or
    /// no run would carry the restore out.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unignored: Vec<Option<Side>>,
}

fn on_side(side: &Option<Side>) -> String {
    side.map(|s| format!(" on {s}")).unwrap_or_default()
}

fn find(txn: &ReadTransaction, name: &str) -> Result<RecordId, AppError> {
    read::find_record(txn, name)?.ok_or_else(|| AppError::UnknownRecord(name.to_string()))
}

fn kind_of(id: &RecordId) -> Result<RecordKind, AppError> {
    id.kind().ok_or_else(|| AppError::NoKind(id.clone()))
}

/// What an event did, in a line: the summary history and the log show.
pub fn describe(event: &Event) -> String {
    match &event.body {
        EventBody::Observation(o) => {
            let fields: Vec<&str> = o.changes.keys().map(String::as_str).collect();
            let mut s = format!("{} {} {}", o.op.as_str(), o.kind, o.record);
            if !fields.is_empty() {
                let _ = write!(s, " [{}]", fields.join(", "));
            }
            if let Some(v) = &o.version {
                let _ = write!(s, " version {v}");
            }
            s
        }
        EventBody::Decision(d) => match d {
            Decision::IgnoreOnce { record, side, .. } => {
                format!("ignore once {record}{}", on_side(side))
            }
            Decision::IgnoreForever { record, side } => {
                format!("ignore forever {record}{}", on_side(side))
            }
            Decision::Unignore { record, side } => {
                format!("stop ignoring {record}{}", on_side(side))
            }
            Decision::Confirm { run, records } => {
                format!(
                    "confirm run {run} ({})",
                    super::count(records.len(), "record", "records")
                )
            }
            Decision::Resolve {
                record,
                field,
                value,
                ..
            } => format!("resolve {record} {field} = {value}"),
        },
        EventBody::Outcome(o) => {
            let result = match &o.result {
                OutcomeResult::Intent => "about to write".to_string(),
                OutcomeResult::Succeeded { external_id, .. } => match external_id {
                    Some(id) => format!("succeeded ({id})"),
                    None => "succeeded".to_string(),
                },
                OutcomeResult::Failed { code, message, .. } => format!("failed: {code}: {message}"),
            };
            format!("{} {} on {}: {result}", o.op.as_str(), o.record, o.side)
        }
        EventBody::Watermark(w) => format!("watermark {} {} = {}", w.side, w.scope, w.value),
        EventBody::Run(run) => {
            let failed = run.failures().count();
            format!(
                "{} sync run: {}, {failed} failed",
                run.mode.as_str(),
                super::count(run.results.len(), "step", "steps")
            )
        }
        EventBody::Collection(c) => {
            use tandem_protocol::event::CollectionOp;
            match &c.op {
                CollectionOp::Create { kind, .. } => {
                    format!("create {kind:?} collection {}", c.path).to_lowercase()
                }
                CollectionOp::SetProps { set, remove } => {
                    let names: Vec<&str> = set
                        .keys()
                        .chain(remove.iter())
                        .map(String::as_str)
                        .collect();
                    format!("set properties of {} [{}]", c.path, names.join(", "))
                }
                CollectionOp::Delete => format!("delete collection {}", c.path),
            }
        }
        EventBody::File(f) => {
            use tandem_protocol::event::FileChange;
            match f {
                FileChange::MakeCollection { path, .. } => format!("make file collection {path}/"),
                FileChange::Put { path, payload } => {
                    format!("put {path} ({} bytes)", payload.bytes.len())
                }
                FileChange::Delete { path } => format!("delete {path}"),
                FileChange::Props { path, ops } => {
                    format!("set {} dead properties of {path}", ops.len())
                }
                FileChange::Copy { from, to, deep } => {
                    format!(
                        "copy {from} to {to}{}",
                        if *deep { "" } else { " (depth 0)" }
                    )
                }
                FileChange::Move { from, to } => format!("move {from} to {to}"),
            }
        }
    }
}

/// The merge edit an event makes, if it makes one.
fn empty_state() -> Resolved {
    Resolved {
        deleted: true,
        fields: Default::default(),
        heads: vec![],
    }
}

/// The pseudo-field of a history entry that created, deleted or brought back the record.
pub const EXISTS: &str = "(exists)";

fn diff(before: &Resolved, after: &Resolved) -> Vec<FieldChange> {
    let (a, b) = (before.values(), after.values());
    let mut changes: Vec<FieldChange> = tandem_protocol::record::difference(&a, &b)
        .into_iter()
        .map(|(field, after)| FieldChange {
            before: a.get(&field).cloned().unwrap_or(Value::Null),
            field,
            after,
        })
        .collect();
    if before.deleted != after.deleted {
        changes.insert(
            0,
            FieldChange {
                field: EXISTS.into(),
                before: Value::Bool(!before.deleted),
                after: Value::Bool(!after.deleted),
            },
        );
    }
    changes
}

impl App {
    /// Replays the record's events one by one, so each entry shows the record just before and
    /// just after that event, as the policy resolved it then.
    pub fn history(&self, name: &str) -> Result<History, AppError> {
        let txn = self.store.read()?;
        let id = find(&txn, name)?;
        let kind = kind_of(&id)?;
        let policy = self.settings.policy(kind);
        let mut doc = RecordDoc::new(id.clone());
        let mut before = empty_state();
        let mut entries = Vec::new();
        for (seq, event) in read::record_events(&txn, &id)? {
            let mut entry = HistoryEntry {
                seq,
                hlc: event.hlc,
                time: event.hlc.to_string(),
                origin: event.origin.clone(),
                summary: describe(&event),
                changes: vec![],
                conflicts: vec![],
            };
            if doc.apply_event(&event)? {
                let after = doc.resolve(policy)?;
                entry.changes = diff(&before, &after);
                for (field, state) in after.conflicts() {
                    let touched = state.current.event == event.hlc
                        || state.losers.iter().any(|l| l.event == event.hlc);
                    if touched {
                        entry.conflicts.push(ConflictNote {
                            field: field.clone(),
                            kept: state.current.clone(),
                            over: state.losers.clone(),
                            policy: policy.to_string(),
                        });
                    }
                }
                before = after;
            }
            entries.push(entry);
        }
        Ok(History {
            record: id,
            kind,
            entries,
        })
    }

    /// Who set each field's current value: the event after which the field, as the policy
    /// resolves it, last changed. An event that only repeated the value (a pull re-reading it)
    /// changed nothing and is not credited.
    pub fn blame(&self, name: &str) -> Result<Blame, AppError> {
        let history = self.history(name)?;
        let mut set_by: HashMap<&str, &HistoryEntry> = HashMap::new();
        for entry in &history.entries {
            for change in &entry.changes {
                set_by.insert(&change.field, entry);
            }
        }
        let txn = self.store.read()?;
        let id = history.record.clone();
        let merged = read::merged(&txn, &id)?.ok_or_else(|| AppError::NoDocument(id.clone()))?;
        let resolved = merged.resolve(self.settings.policy(history.kind));
        let mut lines = Vec::new();
        for (field, state) in &resolved.fields {
            if state.current.value.is_null() && state.losers.is_empty() {
                continue;
            }
            let (seq, time, origin) = match set_by.get(field.as_str()) {
                Some(entry) => (
                    Some(entry.seq),
                    entry.time.clone(),
                    Some(entry.origin.clone()),
                ),
                None => (None, state.current.event.to_string(), None),
            };
            lines.push(BlameLine {
                field: field.clone(),
                value: state.current.value.clone(),
                seq,
                time,
                origin,
                conflicting: state.losers.clone(),
            });
        }
        Ok(Blame {
            record: id,
            kind: history.kind,
            deleted: resolved.deleted,
            lines,
        })
    }

    /// Brings a record (also a deleted one) back to its state at `at`, by appending one change
    /// from tandem on top of its current heads; the restore itself shows in `history` and can
    /// be undone the same way.
    pub async fn restore(&self, name: &str, at: &Point) -> Result<Restored, AppError> {
        let (id, kind, label, restoring, forever) = {
            let txn = self.store.read()?;
            let id = find(&txn, name)?;
            let kind = kind_of(&id)?;
            let (cutoff, label) = match at {
                Point::Seq(seq) => {
                    let event = read::event_at(&txn, *seq)?.ok_or(AppError::NoSuchEvent(*seq))?;
                    (event.hlc, format!("#{seq}"))
                }
                Point::Time(t) => (
                    Hlc::new(t.timestamp_millis().max(0) as u64, u16::MAX),
                    t.to_rfc3339(),
                ),
            };
            let mut doc = read::doc(&txn, &id)?.ok_or_else(|| AppError::NoDocument(id.clone()))?;
            let restoring =
                tandem_protocol::restore::restoring(&mut doc, cutoff, self.settings.policy(kind))?
                    .ok_or_else(|| AppError::NotYet {
                        id: id.clone(),
                        at: label.clone(),
                    })?;
            let forever: Vec<Option<Side>> = read::ignores_of(&txn, &id)?
                .into_iter()
                .filter(|(_, ignore)| ignore.forever)
                .map(|(side, _)| side)
                .collect();
            (id, kind, label, restoring, forever)
        };
        if restoring.is_noop() {
            return Ok(Restored {
                record: id,
                at: label,
                seq: None,
                changes: Fields::new(),
                unignored: Vec::new(),
            });
        }
        let draft = Draft {
            origin: Origin::new(Side::TANDEM, format!("cli:restore to {label}")),
            body: DraftBody::Observation(ObservationDraft {
                record: Some(id.clone()),
                base: Some(restoring.base.clone()),
                changes: if restoring.op == Op::Delete {
                    Fields::new()
                } else {
                    restoring.changes.clone()
                },
                ..ObservationDraft::new(kind, restoring.op)
            }),
        };
        let writer = self.writer()?;
        let ack = writer.append(draft).await?;
        // An ignore-once lapses by itself (the restore is a change); one "forever" would keep
        // every run from carrying the restore out, silently.
        for side in &forever {
            let undo = Draft {
                origin: Origin::new(Side::TANDEM, format!("cli:restore to {label}")),
                body: DraftBody::Decision(Decision::Unignore {
                    record: id.clone(),
                    side: *side,
                }),
            };
            writer.append(undo).await?;
        }
        Ok(Restored {
            record: id,
            at: label,
            seq: Some(ack.seq),
            changes: restoring.changes,
            unignored: forever,
        })
    }
}

/// A record a search found.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Found {
    pub record: RecordId,
    pub kind: RecordKind,
    pub label: String,
    pub deleted: bool,
}

/// At most this many records are listed for a search.
const FOUND_AT_MOST: usize = 50;

impl App {
    /// Records a person may mean by `query`: the one it names exactly (tandem id, UID, DAV href,
    /// Salesforce id), then those whose name has it in it (any case), deleted ones included.
    pub fn find(&self, query: &str) -> Result<Vec<Found>, AppError> {
        let query = query.trim();
        if query.is_empty() {
            return Ok(Vec::new());
        }
        let txn = self.store.read()?;
        let exact = read::find_record(&txn, query)?;
        let needle = query.to_lowercase();
        let mut found = Vec::new();
        read::each_record(&txn, &RecordKind::ALL, None, |stored| {
            let state = stored.state;
            let label = tandem_protocol::plan::label(state.kind, &state.fields);
            let named = exact.as_ref() == Some(&state.id);
            let room = found.len() < FOUND_AT_MOST;
            if named || (room && label.to_lowercase().contains(&needle)) {
                found.push(Found {
                    record: state.id,
                    kind: state.kind,
                    label,
                    deleted: state.deleted,
                });
            }
            Ok(ControlFlow::Continue(()))
        })?;
        // The exact match first.
        found.sort_by_key(|f| exact.as_ref() != Some(&f.record));
        Ok(found)
    }
}
