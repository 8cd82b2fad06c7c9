//! History, blame and restore: the audit side of the log, for one record at a time.

use super::commands::{Context, Output};
use super::timeref::TimeRef;
use crate::store::read;
use crate::store::{Draft, DraftBody, ObservationDraft};
use redb::ReadTransaction;
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeSet;
use std::fmt::Write as _;
use tandem_protocol::{
    Candidate, Decision, Edit, Event, EventBody, Fields, Hlc, Op, Origin, OutcomeResult, RecordDoc,
    RecordId, Resolved, Side,
};

fn find(txn: &ReadTransaction, name: &str) -> Result<RecordId, Output> {
    read::find_record(txn, name).map_err(Output::error)?.ok_or_else(|| {
        Output::error(format!(
            "no record is named `{name}` (looked for a tandem id, a UID, a DAV href and a Salesforce id); `tandem log` lists the records that exist"
        ))
    })
}

/// One line of `tandem log`.
pub fn log_line(seq: u64, event: &Event) -> String {
    format!(
        "#{seq:<6} {}  {:<32} {}",
        event.hlc,
        event.origin.to_string(),
        summary(event)
    )
}

fn summary(event: &Event) -> String {
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
            Decision::IgnoreOnce { record, .. } => format!("ignore once {record}"),
            Decision::IgnoreForever { record } => format!("ignore forever {record}"),
            Decision::Unignore { record } => format!("stop ignoring {record}"),
            Decision::Confirm { run, records } => {
                format!("confirm run {run} ({} records)", records.len())
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
                "{} sync run: {} steps, {failed} failed",
                run.mode.as_str(),
                run.results.len()
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

#[derive(Serialize)]
struct HistoryEntry {
    seq: u64,
    hlc: Hlc,
    time: String,
    origin: Origin,
    summary: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    changes: Vec<FieldChange>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    conflicts: Vec<ConflictNote>,
}

#[derive(Serialize)]
struct FieldChange {
    field: String,
    before: Value,
    after: Value,
}

#[derive(Serialize)]
struct ConflictNote {
    field: String,
    kept: Candidate,
    over: Vec<Candidate>,
    policy: String,
}

/// `tandem history`: replays the record's events one by one, so each entry shows the record just
/// before and just after that event, as the policy resolved it then.
pub fn history(context: &Context, name: &str, json: bool) -> Result<Output, Output> {
    let txn = context.store.read().map_err(Output::error)?;
    let id = find(&txn, name)?;
    let kind = id
        .kind()
        .ok_or_else(|| Output::error(format!("{id} has no kind")))?;
    let policy = context.settings.policy(kind);
    let mut doc = RecordDoc::new(id.clone());
    let mut before = empty_state();
    let mut entries = Vec::new();
    for (seq, event) in read::record_events(&txn, &id).map_err(Output::error)? {
        let mut entry = HistoryEntry {
            seq,
            hlc: event.hlc,
            time: event.hlc.to_string(),
            origin: event.origin.clone(),
            summary: summary(&event),
            changes: vec![],
            conflicts: vec![],
        };
        if let Some((op, base, changes, changed_at_ms)) = edit_of(&event) {
            doc.apply(&Edit {
                event: event.hlc,
                side: event.origin.side,
                op,
                changed_at_ms,
                base: &base,
                changes: &changes,
            })
            .map_err(Output::error)?;
            let after = doc.resolve(policy).map_err(Output::error)?;
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
    let mut out = String::new();
    if json {
        let _ = writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&entries).unwrap_or_default()
        );
        return Ok(Output::ok(out));
    }
    let _ = writeln!(out, "{id} ({kind}), {} events", entries.len());
    for e in &entries {
        let _ = writeln!(out, "\n#{} {}  {}", e.seq, e.time, e.origin);
        let _ = writeln!(out, "    {}", e.summary);
        for c in &e.changes {
            let _ = writeln!(
                out,
                "    {}: {} -> {}",
                c.field,
                show(&c.before),
                show(&c.after)
            );
        }
        for c in &e.conflicts {
            let over: Vec<String> = c
                .over
                .iter()
                .map(|l| format!("{} from {} at {}", show(&l.value), l.side, l.event))
                .collect();
            let _ = writeln!(
                out,
                "    conflict on {}: kept {} from {} over {} ({})",
                c.field,
                show(&c.kept.value),
                c.kept.side,
                over.join(", "),
                c.policy
            );
        }
    }
    Ok(Output::ok(out))
}

/// The merge edit an event makes, if it makes one.
fn edit_of(event: &Event) -> Option<(Op, Vec<Hlc>, Fields, Option<i64>)> {
    match &event.body {
        EventBody::Observation(o) => {
            Some((o.op, o.base.clone(), o.changes.clone(), o.changed_at_ms))
        }
        EventBody::Decision(Decision::Resolve {
            field, value, base, ..
        }) => Some((
            Op::Update,
            base.clone(),
            [(field.clone(), value.clone())].into(),
            None,
        )),
        _ => None,
    }
}

fn empty_state() -> Resolved {
    Resolved {
        deleted: true,
        fields: Default::default(),
        heads: vec![],
    }
}

fn diff(before: &Resolved, after: &Resolved) -> Vec<FieldChange> {
    let (a, b) = (before.values(), after.values());
    let mut changes: Vec<FieldChange> = a
        .keys()
        .chain(b.keys())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .filter(|k| a.get(*k) != b.get(*k))
        .map(|k| FieldChange {
            field: k.clone(),
            before: a.get(k).cloned().unwrap_or(Value::Null),
            after: b.get(k).cloned().unwrap_or(Value::Null),
        })
        .collect();
    if before.deleted != after.deleted {
        changes.insert(
            0,
            FieldChange {
                field: "(exists)".into(),
                before: Value::Bool(!before.deleted),
                after: Value::Bool(!after.deleted),
            },
        );
    }
    changes
}

fn show(value: &Value) -> String {
    match value {
        Value::Null => "—".into(),
        other => other.to_string(),
    }
}

#[derive(Serialize)]
struct BlameLine {
    field: String,
    value: Value,
    seq: Option<u64>,
    time: String,
    origin: Option<Origin>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    conflicting: Vec<Candidate>,
}

/// `tandem blame`: who set each field's current value.
pub fn blame(context: &Context, name: &str, json: bool) -> Result<Output, Output> {
    let txn = context.store.read().map_err(Output::error)?;
    let id = find(&txn, name)?;
    let kind = id
        .kind()
        .ok_or_else(|| Output::error(format!("{id} has no kind")))?;
    let mut doc = read::doc(&txn, &id)
        .map_err(Output::error)?
        .ok_or_else(|| {
            Output::error(format!(
                "{id} has no merge document; run `tandem replay --verify`"
            ))
        })?;
    let resolved = doc
        .resolve(context.settings.policy(kind))
        .map_err(Output::error)?;
    let mut lines = Vec::new();
    for (field, state) in &resolved.fields {
        if state.current.value.is_null() && state.losers.is_empty() {
            continue;
        }
        let seq = read::seq_of(&txn, state.current.event).map_err(Output::error)?;
        let origin = match seq {
            Some(seq) => read::event_at(&txn, seq)
                .map_err(Output::error)?
                .map(|e| e.origin),
            None => None,
        };
        lines.push(BlameLine {
            field: field.clone(),
            value: state.current.value.clone(),
            seq,
            time: state.current.event.to_string(),
            origin,
            conflicting: state.losers.clone(),
        });
    }
    let mut out = String::new();
    if json {
        let _ = writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&lines).unwrap_or_default()
        );
        return Ok(Output::ok(out));
    }
    let status = if resolved.deleted { " (deleted)" } else { "" };
    let _ = writeln!(out, "{id} ({kind}){status}");
    for l in &lines {
        let origin = l.origin.as_ref().map_or("?".to_string(), |o| o.to_string());
        let seq = l.seq.map_or("?".to_string(), |s| format!("#{s}"));
        let _ = writeln!(
            out,
            "{:<18} {:<40} {:<7} {}  {}",
            l.field,
            truncate(&show(&l.value), 40),
            seq,
            l.time,
            origin
        );
        for c in &l.conflicting {
            let _ = writeln!(
                out,
                "{:<18}   conflicting: {} from {} at {}",
                "",
                show(&c.value),
                c.side,
                c.event
            );
        }
    }
    Ok(Output::ok(out))
}

fn truncate(s: &str, width: usize) -> String {
    if s.chars().count() <= width {
        return s.to_string();
    }
    let mut t: String = s.chars().take(width - 1).collect();
    t.push('…');
    t
}

/// `tandem restore`: computes the record as it was at the chosen point and appends one new
/// observation (from tandem, on top of the current heads) that brings it back there. History is
/// never rewritten: the restore itself shows up in `history` and can be undone the same way.
pub async fn restore(context: &Context, name: &str, at: &TimeRef) -> Result<Output, Output> {
    let (id, draft, changes, label) = {
        let txn = context.store.read().map_err(Output::error)?;
        let id = find(&txn, name)?;
        let kind = id
            .kind()
            .ok_or_else(|| Output::error(format!("{id} has no kind")))?;
        let policy = context.settings.policy(kind);
        let (cutoff, label) = match at {
            TimeRef::Seq(seq) => {
                let event = read::event_at(&txn, *seq)
                    .map_err(Output::error)?
                    .ok_or_else(|| Output::error(format!("there is no event #{seq} in the log")))?;
                (event.hlc, format!("#{seq}"))
            }
            TimeRef::Time(t) => (
                Hlc::new(t.timestamp_millis().max(0) as u64, u16::MAX),
                t.to_rfc3339(),
            ),
        };
        let mut doc = read::doc(&txn, &id)
            .map_err(Output::error)?
            .ok_or_else(|| {
                Output::error(format!(
                    "{id} has no merge document; run `tandem replay --verify`"
                ))
            })?;
        let current = doc.resolve(policy).map_err(Output::error)?;
        let mut past = doc.as_of(cutoff).map_err(Output::error)?.ok_or_else(|| {
            Output::error(format!(
                "{id} did not exist yet at {label}; `tandem history {id}` shows when it was created"
            ))
        })?;
        let target = past.resolve(policy).map_err(Output::error)?;
        let (now, then) = (current.values(), target.values());
        let mut changes = Fields::new();
        for field in now.keys().chain(then.keys()).collect::<BTreeSet<_>>() {
            let in_conflict = current
                .fields
                .get(field)
                .is_some_and(|s| !s.losers.is_empty());
            if now.get(field) != then.get(field) || in_conflict {
                changes.insert(
                    field.clone(),
                    then.get(field).cloned().unwrap_or(Value::Null),
                );
            }
        }
        let op = match (current.deleted, target.deleted) {
            (true, false) => Op::Create,
            (false, true) => Op::Delete,
            _ => Op::Update,
        };
        if op == Op::Update && changes.is_empty() {
            return Ok(Output::ok(format!(
                "{id} is already as it was at {label}; nothing to restore\n"
            )));
        }
        let draft = Draft {
            origin: Origin::new(Side::Tandem, format!("cli:restore to {label}")),
            body: DraftBody::Observation(ObservationDraft {
                record: Some(id.clone()),
                base: Some(current.heads.clone()),
                changes: if op == Op::Delete {
                    Fields::new()
                } else {
                    changes.clone()
                },
                ..ObservationDraft::new(kind, op)
            }),
        };
        (id, draft, changes, label)
    };
    let writer = context
        .writer
        .as_ref()
        .ok_or_else(|| Output::error("restore needs the store open for writing"))?;
    let ack = writer.append(draft).await.map_err(Output::error)?;
    let mut out = format!(
        "restored {id} to its state at {label} as event #{}\n",
        ack.seq
    );
    for (field, value) in &changes {
        let _ = writeln!(out, "    {field}: {}", show(value));
    }
    Ok(Output::ok(out))
}
