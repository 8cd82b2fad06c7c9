//! `tandem sync preview | apply | ignore | status`: the reviewed manual run, as text a person
//! reads (Salesforce on the left, the desktop on the right) or as JSON.

use crate::app::{Ignored, Ignoring, Request, RunReport, Serving, SettingsView, Status, count};
use clap::Subcommand;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use tandem_protocol::plan::{Item, Plan, Skip, Step};
use tandem_protocol::run::{RunRecord, StepResult};
use tandem_protocol::{RecordKind, Side};

#[derive(Subcommand, Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum SyncCommand {
    /// Read Salesforce and list what a run would do: the Synchronization Summary.
    Preview {
        /// Show each field's new value.
        #[arg(long)]
        details: bool,
        /// List skipped items too (private, outside the window, ignored…), not just their count.
        #[arg(long)]
        all: bool,
        /// Print the plan as one JSON document (for scripts).
        #[arg(long)]
        json: bool,
    },
    /// Carry out what the last preview listed; with ITEMs, only those of its items.
    Apply {
        /// Records by tandem id, UID, DAV href or Salesforce id.
        #[arg(value_name = "ITEM")]
        items: Vec<String>,
        /// Print what was done as one JSON document (for scripts).
        #[arg(long)]
        json: bool,
    },
    /// Leave items out of runs: until any side changes them again (--once, the default), or
    /// for good (--forever); --undo takes an ignore back. --side limits it to one side's step.
    Ignore {
        /// Records by tandem id, UID, DAV href or Salesforce id, as the summary shows them.
        #[arg(required = true, value_name = "ITEM")]
        items: Vec<String>,
        /// Until either side changes the item again (the default).
        #[arg(long, conflicts_with_all = ["forever", "undo"])]
        once: bool,
        /// For good, until taken back with --undo.
        #[arg(long, conflicts_with = "undo")]
        forever: bool,
        /// Take back an ignore (once or forever): the item is synced again.
        #[arg(long)]
        undo: bool,
        /// Only the item's step on this side (salesforce, desktop).
        #[arg(long, value_parser = parse_side)]
        side: Option<Side>,
    },
    /// The last run: when, what it did, what failed; pending items, conflicts, API use.
    Status {
        /// Print the status as one JSON document (for scripts).
        #[arg(long)]
        json: bool,
    },
}

fn parse_side(name: &str) -> Result<Side, UnknownSide> {
    Side::parse(name)
        .filter(|side| Side::KNOWN.contains(side))
        .ok_or_else(|| UnknownSide(name.to_string()))
}

#[derive(Debug, thiserror::Error)]
#[error("`{0}` is not a side tandem syncs (salesforce, desktop, outlook, notes)")]
pub struct UnknownSide(String);

impl SyncCommand {
    pub fn request(&self) -> Request {
        match self {
            SyncCommand::Preview { .. } => Request::Preview,
            SyncCommand::Apply { items, .. } => Request::Apply {
                records: items.clone(),
                fingerprints: Vec::new(),
            },
            SyncCommand::Ignore {
                items,
                forever,
                undo,
                side,
                ..
            } => Request::Ignore {
                records: items.clone(),
                how: match (undo, forever) {
                    (true, _) => Ignoring::Undo,
                    (false, true) => Ignoring::Forever,
                    (false, false) => Ignoring::Once,
                },
                side: *side,
            },
            SyncCommand::Status { .. } => Request::Status,
        }
    }
}

pub fn json_line(value: &impl Serialize) -> String {
    format!("{}\n", serde_json::to_string(value).unwrap_or_default())
}

fn kind_title(kind: RecordKind) -> &'static str {
    match kind {
        RecordKind::Contact => "Contacts",
        RecordKind::Event => "Events",
        RecordKind::Task => "Tasks",
    }
}

/// The summary's sides: the first (Salesforce) on the left, the others on the right.
fn columns(plan: &Plan) -> (Side, Vec<Side>) {
    Plan::left_and_right(&plan.columns())
}

/// The middle column: what happens, with an arrow pointing at the side that is written.
fn action(item: &Item, left: Side, right: &[Side]) -> String {
    let mut parts = Vec::new();
    if let Some(step) = item.step(left).filter(|s| s.runs()) {
        parts.push(format!("<- {}", step.verb()));
    }
    for side in right {
        if let Some(step) = item.step(*side).filter(|s| s.runs()) {
            match right.len() {
                1 => parts.push(format!("{} ->", step.verb())),
                _ => parts.push(format!("{} -> {side}", step.verb())),
            }
        }
    }
    if parts.is_empty() {
        let reason = item
            .steps()
            .find_map(|(_, s)| s.skipped)
            .map_or("skipped", Skip::describe);
        return format!("skip: {reason}");
    }
    parts.join(" / ")
}

/// `text` padded to `width`; never cut (an id in it is typed by the user).
fn column(text: &str, width: usize) -> String {
    format!("{text:<width$}")
}

/// How wide the left column is before names are elided: ids are never shortened, so a column
/// with a long id grows past it. The last column is never elided.
const LEFT_COLUMN: usize = 44;

/// How the item shows on a side: the side's own label for it (elided to fit `width` with the
/// id, if given) and its whole id there, or that the side lacks it.
fn side_column(item: &Item, side: Side, width: Option<usize>) -> String {
    let id = match item.id_on(side) {
        Some(id) if side == Side::SALESFORCE => id,
        Some(id) => id.rsplit('/').next().unwrap_or(id),
        None => return side.missing(),
    };
    let label = item.label_on(side);
    match width {
        Some(width) => {
            let room = width.saturating_sub(id.chars().count() + 3).max(12);
            format!("{} [{id}]", elide(label, room))
        }
        None => format!("{label} [{id}]"),
    }
}

/// `text` shortened to `max` characters, the cut marked.
fn elide(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

fn step_details(out: &mut String, side: Side, step: &Step, details: bool) {
    if step.changes.is_empty() || step.skipped.is_some() {
        return;
    }
    let names = step.field_names().join(", ");
    let _ = writeln!(out, "      {side}: {names}");
    if details {
        for (name, value) in &step.changes {
            match step.before.get(name) {
                Some(was) => {
                    let _ = writeln!(out, "        {name} = {value} (was {was})");
                }
                None => {
                    let _ = writeln!(out, "        {name} = {value}");
                }
            }
        }
    }
    if step.kept_rich_body {
        let _ = writeln!(
            out,
            "      {side} keeps its formatted description (the plain-text change is not applied)"
        );
    }
    for note in &step.notes {
        let _ = writeln!(out, "      {side}: note: {note}");
    }
}

/// The Synchronization Summary.
pub fn summary(plan: &Plan, details: bool, all: bool) -> String {
    let mut out = String::new();
    let tally = plan.tally();
    let sides: Vec<String> = plan
        .columns()
        .iter()
        .map(|side| {
            let counts = tally.side(*side);
            format!(
                "{} {} create, {} update, {} delete",
                side.title(),
                counts.create,
                counts.update,
                counts.delete
            )
        })
        .collect();
    let _ = writeln!(
        out,
        "Synchronization Summary: {}; {} skipped, {}",
        sides.join("; "),
        tally.skipped,
        count(tally.conflicts, "conflict", "conflicts")
    );
    let (left, right) = columns(plan);
    for kind in RecordKind::ALL {
        let items: Vec<&Item> = plan.items.iter().filter(|i| i.kind == kind).collect();
        let shown: Vec<&&Item> = items.iter().filter(|i| all || i.runs()).collect();
        let mut skipped: BTreeMap<&str, usize> = BTreeMap::new();
        for item in items.iter().filter(|i| !i.runs()) {
            for (_, step) in item.steps() {
                if let Some(skip) = step.skipped {
                    *skipped.entry(skip.describe()).or_default() += 1;
                }
            }
        }
        if shown.is_empty() && skipped.is_empty() {
            continue;
        }
        let _ = writeln!(out, "\n{}", kind_title(kind));
        let lefts: Vec<String> = shown
            .iter()
            .map(|i| side_column(i, left, Some(LEFT_COLUMN)))
            .collect();
        let actions: Vec<String> = shown.iter().map(|i| action(i, left, &right)).collect();
        let width = |cells: &[String], head: &str| {
            cells
                .iter()
                .map(|c| c.chars().count())
                .chain([head.len()])
                .max()
                .unwrap_or(0)
        };
        let (left_width, action_width) = (width(&lefts, left.as_str()), width(&actions, "ACTION"));
        if !shown.is_empty() {
            let heads: Vec<String> = right.iter().map(|s| s.as_str().to_uppercase()).collect();
            let _ = writeln!(
                out,
                "  {} {} {}",
                column(&left.as_str().to_uppercase(), left_width),
                column("ACTION", action_width),
                heads.join(" | ")
            );
        }
        for ((item, left_cell), action_cell) in shown.iter().zip(&lefts).zip(&actions) {
            let rights: Vec<String> = right.iter().map(|s| side_column(item, *s, None)).collect();
            let _ = writeln!(
                out,
                "  {} {} {}",
                column(left_cell, left_width),
                column(action_cell, action_width),
                rights.join(" | ")
            );
            let _ = writeln!(out, "      id {}", item.record);
            for side in plan.columns() {
                if let Some(step) = item.step(side) {
                    step_details(&mut out, side, step, details);
                }
            }
            for c in &item.conflicts {
                let lost: Vec<String> = c
                    .lost
                    .iter()
                    .map(|(side, value)| format!("{value} ({side})"))
                    .collect();
                let _ = writeln!(
                    out,
                    "      conflict on {}: kept {} ({}), lost {}",
                    c.field,
                    c.kept,
                    c.kept_from,
                    lost.join(", ")
                );
            }
        }
        if !all && !skipped.is_empty() {
            let counts: Vec<String> = skipped
                .iter()
                .map(|(why, n)| format!("{n} {why}"))
                .collect();
            let _ = writeln!(out, "  skipped: {} (--all lists them)", counts.join("; "));
        }
    }
    out.push('\n');
    out
}

/// Why a side could not be reached in a run, and what that means.
fn note_unreachable(out: &mut String, record: &RunRecord) {
    for (side, error) in &record.unreachable {
        let _ = writeln!(
            out,
            "{} could not be reached: {error}\nDesktop changes are kept and merge on the next run that reaches it.\n",
            side.title()
        );
    }
}

fn failure_line(out: &mut String, f: &StepResult) {
    let error = f.error.as_deref().unwrap_or_default();
    let _ = writeln!(
        out,
        "  failed: {} {} on {}: {error}\n    what to do: {}",
        f.op.as_str(),
        f.label,
        f.side,
        crate::app::advice(error)
    );
}

/// The calls a run made to each remote side: "11 Salesforce API calls, 6 Graph requests".
fn calls(record: &RunRecord) -> String {
    let (one, many) = Side::SALESFORCE.call_name();
    let mut said = vec![count(record.calls(Side::SALESFORCE), one, many)];
    for (side, api) in record.api.iter().filter(|(s, _)| **s != Side::SALESFORCE) {
        let (one, many) = side.call_name();
        said.push(count(api.calls, one, many));
    }
    said.join(", ")
}

/// A preview as text, and whether every side it is connected to was read.
pub fn previewed(report: &RunReport, details: bool, all: bool, json: bool) -> (String, bool) {
    let read = report.unread.is_empty();
    if json {
        return (json_line(report), read);
    }
    // What could not be read comes first: the summary below is not the whole picture.
    let mut out = String::new();
    if let Some(record) = &report.record {
        note_unreachable(&mut out, record);
    }
    out.push_str(&summary(&report.plan, details, all));
    if !read {
        let unread: Vec<String> = report.unread.iter().map(|s| s.title()).collect();
        let _ = writeln!(
            out,
            "{} was not read: this summary shows only what the other sides changed. Run `tandem sync preview` again once it can be reached.",
            unread.join(" and ")
        );
    }
    if !report.plan.is_idle() {
        let _ = writeln!(
            out,
            "Run `tandem sync apply` to carry this out, or `tandem sync ignore ITEM` to leave items out."
        );
    } else if read {
        let _ = writeln!(out, "Nothing to do: both sides are in step.");
    }
    (out, read)
}

/// What an apply did, and whether a step failed.
pub fn applied(report: &RunReport, json: bool) -> (String, bool) {
    let failed = report
        .record
        .as_ref()
        .is_some_and(|r| r.failures().next().is_some());
    if json {
        return (json_line(report), failed);
    }
    let mut out = String::new();
    let Some(record) = &report.record else {
        return (out, failed);
    };
    let ok = record.results.iter().filter(|r| r.error.is_none()).count();
    let _ = writeln!(
        out,
        "Applied {ok} of {} ({}).",
        count(record.results.len(), "step", "steps"),
        calls(record)
    );
    for f in record.failures() {
        failure_line(&mut out, f);
    }
    if report.held_back > 0 {
        let _ = writeln!(
            out,
            "{} changed since the preview and not applied: run `tandem sync preview` again.",
            count(report.held_back, "item", "items")
        );
    }
    if report.halted {
        let _ = writeln!(
            out,
            "Stopped on request after the step in flight; what was not carried out waits for the next `tandem sync preview` and `tandem sync apply`."
        );
    }
    note_unreachable(&mut out, record);
    (out, failed)
}

/// What a plan would write, a line per kind of record and a column per side: the short form of
/// the summary, for the demo.
pub fn planned(plan: &Plan) -> String {
    let mut out = String::new();
    let mut todo: BTreeMap<(RecordKind, Side), tandem_protocol::run::OpCounts> = BTreeMap::new();
    for item in &plan.items {
        for (side, step) in item.steps().filter(|(_, s)| s.runs()) {
            todo.entry((item.kind, side)).or_default().add(step.op);
        }
    }
    for kind in RecordKind::ALL {
        let sides: Vec<String> = plan
            .columns()
            .iter()
            .map(|side| {
                let counts = todo.get(&(kind, *side)).cloned().unwrap_or_default();
                let parts: Vec<String> = [
                    (counts.create, "to create"),
                    (counts.update, "to update"),
                    (counts.delete, "to delete"),
                ]
                .iter()
                .filter(|(n, _)| *n > 0)
                .map(|(n, what)| format!("{n} {what}"))
                .collect();
                let what = if parts.is_empty() {
                    "nothing".to_string()
                } else {
                    parts.join(", ")
                };
                format!("{}: {what}", side.title())
            })
            .collect();
        let _ = writeln!(out, "  {:<9} {}", kind_title(kind), sides.join("; "));
    }
    out
}

pub fn ignored(ignored: &[Ignored]) -> String {
    let mut out = String::new();
    for i in ignored {
        let what = match i.how {
            Ignoring::Undo => "no longer ignored",
            Ignoring::Forever => "ignored forever",
            Ignoring::Once => "ignored until either side changes it",
        };
        let on = i.side.map(|s| format!(" on {s}")).unwrap_or_default();
        let _ = writeln!(out, "{}: {what}{on}", i.label);
    }
    out
}

/// A time as the user reads it: their local time, and how long ago or ahead it is.
fn when(ms: i64) -> String {
    let Some(t) = chrono::DateTime::from_timestamp_millis(ms) else {
        return "?".into();
    };
    let local = t.with_timezone(&chrono::Local);
    format!(
        "{} ({})",
        local.format("%Y-%m-%d %H:%M %:z"),
        chrono_humanize::HumanTime::from(t)
    )
}

/// The rules in force that change what a run does, a kind per line.
fn settings_in_force(out: &mut String, settings: &SettingsView) {
    for (title, rules) in [
        ("contacts", &settings.contacts),
        ("events", &settings.events),
        ("tasks", &settings.tasks),
    ] {
        if !rules.enabled {
            let _ = writeln!(out, "  {title}: not synced");
            continue;
        }
        let mut parts = vec![match (rules.automatic, &rules.hours) {
            (false, _) => "no automatic runs".to_string(),
            (true, None) => format!("automatic every {} minutes", rules.every_minutes),
            (true, Some(hours)) => {
                format!(
                    "automatic every {} minutes within {hours}",
                    rules.every_minutes
                )
            }
        }];
        if rules.kind != tandem_protocol::RecordKind::Contact {
            parts.push(format!(
                "{} back, {} ahead",
                count(rules.past_days, "day", "days"),
                count(rules.future_days, "day", "days")
            ));
            parts.push(if rules.sync_private {
                "private items synced".into()
            } else {
                "private items not synced".into()
            });
        }
        let _ = writeln!(out, "  {title}: {}", parts.join("; "));
    }
}

pub fn status(status: &Status, json: bool) -> String {
    if json {
        return json_line(status);
    }
    let mut out = String::new();
    match &status.last_run {
        None => {
            let _ = writeln!(
                out,
                "No sync run yet. Run `tandem sync preview`, review it, then `tandem sync apply`; automatic runs start after that."
            );
        }
        Some(run) => {
            let failed: Vec<_> = run.failures().collect();
            let usage = run
                .api
                .get(&Side::SALESFORCE)
                .and_then(|a| a.usage)
                .map(|(used, max)| format!(" (org usage {used}/{max} today)"))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "Last run: {} at {}, {}, {} failed, {}{usage}",
                run.mode.as_str(),
                when(run.finished_ms),
                count(run.results.len(), "step", "steps"),
                failed.len(),
                calls(run),
            );
            for f in failed {
                failure_line(&mut out, f);
            }
            note_unreachable(&mut out, run);
        }
    }
    if !status.recent.is_empty() {
        let _ = writeln!(out, "Earlier runs:");
        for run in &status.recent {
            let unreachable: Vec<String> = run
                .unreachable
                .keys()
                .map(|side| format!(", {} unreachable", side.title()))
                .collect();
            let _ = writeln!(
                out,
                "  {} {:<9} {}, {} failed, {}{}",
                when(run.finished_ms),
                run.mode.as_str(),
                count(run.results.len(), "step", "steps"),
                run.failures().count(),
                calls(run),
                unreachable.concat()
            );
        }
    }
    if let Some(preview) = &status.last_preview {
        let waiting = if status.review_waiting {
            " (waiting: `tandem sync apply` carries it out)"
        } else {
            ""
        };
        let _ = writeln!(out, "Last preview: {}{waiting}", when(preview.finished_ms));
    }
    let _ = writeln!(
        out,
        "Pending: {}, {}, {} ignored.",
        count(status.pending, "item", "items"),
        count(status.conflicts, "conflict", "conflicts"),
        status.ignored,
    );
    let automatic = match (&status.serving, status.automatic, status.next_automatic_ms) {
        (Serving::Local, _, _) => {
            "they run only while `tandem serve` runs, and it is not running".to_string()
        }
        (_, false, _) => "off until a manual run is applied".to_string(),
        (_, true, Some(next)) => format!("on; the next one at {}", when(next)),
        (_, true, None) => "on, but no kind of record has them switched on".to_string(),
    };
    let _ = writeln!(out, "Automatic runs: {automatic}.");
    match &status.serving {
        Serving::Daemon {
            settings_loaded_ms,
            settings_error,
            awaiting_restart,
        } => {
            let _ = writeln!(
                out,
                "Settings in force (read from tandem.toml at {}):",
                when(*settings_loaded_ms)
            );
            settings_in_force(&mut out, &status.settings);
            if let Some(error) = settings_error {
                let _ = writeln!(
                    out,
                    "tandem.toml has changed but cannot be used, so the settings above stay in force: {error}"
                );
            }
            if !awaiting_restart.is_empty() {
                let _ = writeln!(
                    out,
                    "Changed in tandem.toml, in force once `tandem serve` restarts: {}",
                    awaiting_restart.join(", ")
                );
            }
        }
        Serving::Local => {
            let _ = writeln!(out, "Settings (tandem.toml):");
            settings_in_force(&mut out, &status.settings);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use tandem_protocol::run::{ApiUse, RunMode, Tally};
    use tandem_protocol::{Hlc, Op, RecordId};

    fn one_step_run() -> RunRecord {
        RunRecord {
            mode: RunMode::Manual,
            started_ms: 1_796_000_000_000,
            finished_ms: 1_796_000_001_000,
            kinds: RecordKind::ALL.to_vec(),
            tally: Tally::default(),
            reviewed: Vec::new(),
            results: vec![StepResult {
                record: RecordId::derive(RecordKind::Contact, Hlc::new(1, 0)),
                label: "Ana Lima".into(),
                side: Side::SALESFORCE,
                op: Op::Create,
                error: None,
            }],
            unreachable: BTreeMap::new(),
            api: [(
                Side::SALESFORCE,
                ApiUse {
                    calls: 1,
                    usage: None,
                },
            )]
            .into_iter()
            .collect(),
        }
    }

    #[test]
    fn a_failed_step_says_what_to_do_as_the_review_app_does() {
        let mut run = one_step_run();
        run.results[0].error =
            Some("REQUIRED_FIELD_MISSING: Required fields are missing: [LastName]".into());
        let report = RunReport {
            record: Some(run),
            ..RunReport::default()
        };
        let (text, failed) = applied(&report, false);
        assert!(failed);
        assert!(
            text.contains("failed: create Ana Lima on salesforce: REQUIRED_FIELD_MISSING")
                && text.contains("what to do: Salesforce needs a value this record lacks"),
            "{text}"
        );
    }

    #[test]
    fn one_of_a_thing_is_said_in_the_singular() {
        let report = RunReport {
            record: Some(one_step_run()),
            held_back: 1,
            ..RunReport::default()
        };
        let (text, _) = applied(&report, false);
        assert!(
            text.starts_with("Applied 1 of 1 step (1 Salesforce API call)."),
            "{text}"
        );
        assert!(text.contains("1 item changed since the preview"), "{text}");
        let status = status(
            &Status {
                last_run: Some(one_step_run()),
                recent: Vec::new(),
                last_preview: None,
                review_waiting: false,
                pending: 1,
                conflicts: 1,
                ignored: 0,
                automatic: true,
                serving: Serving::Local,
                settings: SettingsView::of(&crate::config::Settings::default()),
                next_automatic_ms: None,
            },
            false,
        );
        assert!(
            status.contains(", 1 step, 0 failed, 1 Salesforce API call"),
            "{status}"
        );
        assert!(
            status.contains("Pending: 1 item, 1 conflict, 0 ignored."),
            "{status}"
        );
    }
}
