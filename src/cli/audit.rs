//! History, blame, restore and the log, as a person reads them at a terminal (or as JSON).

use crate::app::{Blame, History, Logged, Restored, describe};
use serde_json::Value;
use std::fmt::Write as _;

/// One line of `tandem log`.
pub fn log_line(logged: &Logged) -> String {
    let event = &logged.event;
    format!(
        "#{:<6} {}  {:<32} {}",
        logged.seq,
        event.hlc,
        event.origin.to_string(),
        describe(event)
    )
}

pub fn log(events: &[Logged], json: bool) -> String {
    let mut out = String::new();
    for logged in events {
        if json {
            let line = serde_json::json!({ "seq": logged.seq, "event": logged.event });
            let _ = writeln!(out, "{line}");
        } else {
            let _ = writeln!(out, "{}", log_line(logged));
        }
    }
    out
}

fn show(value: &Value) -> String {
    match value {
        Value::Null => "—".into(),
        other => other.to_string(),
    }
}

fn truncate(s: &str, width: usize) -> String {
    if s.chars().count() <= width {
        return s.to_string();
    }
    let mut t: String = s.chars().take(width - 1).collect();
    t.push('…');
    t
}

fn pretty(value: &impl serde::Serialize) -> String {
    format!(
        "{}\n",
        serde_json::to_string_pretty(value).unwrap_or_default()
    )
}

pub fn history(history: &History, json: bool) -> String {
    if json {
        return pretty(&history.entries);
    }
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} ({}), {}",
        history.record,
        history.kind,
        crate::app::count(history.entries.len(), "event", "events")
    );
    for e in &history.entries {
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
    out
}

/// What the times in history and blame are.
const TIMES: &str = "Times are when tandem logged the change, in UTC; +N after a time counts the events logged earlier in the same millisecond.";

pub fn blame(blame: &Blame, json: bool) -> String {
    if json {
        return pretty(&blame.lines);
    }
    let mut out = String::new();
    let status = if blame.deleted { " (deleted)" } else { "" };
    let _ = writeln!(out, "{} ({}){status}", blame.record, blame.kind);
    for l in &blame.lines {
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
    let _ = writeln!(out, "\n{TIMES}");
    out
}

pub fn restored(restored: &Restored) -> String {
    let Some(seq) = restored.seq else {
        return format!(
            "{} is already as it was at {}; nothing to restore\n",
            restored.record, restored.at
        );
    };
    let mut out = format!(
        "restored {} to its state at {} as event #{seq}\n",
        restored.record, restored.at
    );
    for (field, value) in &restored.changes {
        let _ = writeln!(out, "    {field}: {}", show(value));
    }
    for side in &restored.unignored {
        let on = side.map(|s| format!(" on {s}")).unwrap_or_default();
        let _ = writeln!(
            out,
            "it was ignored forever{on}; it is no longer ignored, so the next sync run carries the restore out"
        );
    }
    out
}
