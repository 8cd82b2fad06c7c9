//! `tandem sync preview | apply | ignore | status`: the reviewed manual run, as text a person
//! reads (Salesforce on the left, the desktop on the right) or as JSON.

use super::commands::{Context, Output};
use crate::engine::sync::{Reach, RunReport, Selection, SyncEngine};
use crate::store::read;
use crate::store::system_clock;
use crate::store::{Draft, DraftBody};
use clap::Subcommand;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use tandem_protocol::plan::{Item, Plan, Skip, Step};
use tandem_protocol::run::RunRecord;
use tandem_protocol::{Decision, Op, Origin, RecordKind, Side};

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
        #[arg(long)]
        json: bool,
    },
    /// Carry out what the last preview listed; with ITEMs, only those of its items.
    Apply {
        /// Records by tandem id, UID, DAV href or Salesforce id.
        items: Vec<String>,
        #[arg(long)]
        json: bool,
    },
    /// Leave items out of runs: until either side changes them again (--once, the default), or
    /// for good (--forever); --undo takes an ignore back.
    Ignore {
        #[arg(required = true)]
        items: Vec<String>,
        #[arg(long, conflicts_with_all = ["forever", "undo"])]
        once: bool,
        #[arg(long, conflicts_with = "undo")]
        forever: bool,
        #[arg(long)]
        undo: bool,
    },
    /// The last run: when, what it did, what failed; pending items, conflicts, API use.
    Status {
        #[arg(long)]
        json: bool,
    },
}

impl SyncCommand {
    pub fn writes(&self) -> bool {
        !matches!(self, SyncCommand::Status { .. })
    }
}

pub async fn execute(command: &SyncCommand, context: &Context) -> Result<Output, Output> {
    match command {
        SyncCommand::Status { json } => status(context, *json),
        SyncCommand::Ignore {
            items,
            forever,
            undo,
            ..
        } => ignore(context, items, *forever, *undo).await,
        SyncCommand::Preview { details, all, json } => {
            let engine = engine(context)?;
            let report = engine.preview().await.map_err(Output::error)?;
            if *json {
                return Ok(Output::ok(json_line(&report)));
            }
            let mut out = summary(&report.plan, *details, *all);
            if let Some(record) = &report.record {
                note_salesforce(&mut out, record);
            }
            if report.plan.is_idle() {
                let _ = writeln!(out, "Nothing to do: both sides are in step.");
            } else {
                let _ = writeln!(
                    out,
                    "Run `tandem sync apply` to carry this out, or `tandem sync ignore ITEM` to leave items out."
                );
            }
            Ok(Output::ok(out))
        }
        SyncCommand::Apply { items, json } => {
            let engine = engine(context)?;
            let bar = context.progress.then(|| {
                let bar = indicatif::ProgressBar::new(0);
                bar.set_style(
                    indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} steps {elapsed}")
                        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
                );
                bar
            });
            let progress = |done: u64, total: u64| {
                if let Some(bar) = &bar {
                    bar.set_length(total);
                    bar.set_position(done);
                }
            };
            let selection = Selection {
                records: items.clone(),
            };
            let report = engine
                .apply(&selection, &progress)
                .await
                .map_err(Output::error)?;
            if let Some(bar) = bar {
                bar.finish_and_clear();
            }
            if *json {
                return Ok(Output::ok(json_line(&report)));
            }
            let out = applied(&report);
            let failed = report
                .record
                .as_ref()
                .is_some_and(|r| r.failures().next().is_some());
            Ok(Output {
                stdout: out,
                code: u8::from(failed),
                ..Output::default()
            })
        }
    }
}

/// The engine for a command: the context's store and writer, Salesforce from the settings.
pub fn engine(context: &Context) -> Result<SyncEngine, Output> {
    let writer = context
        .writer
        .clone()
        .ok_or_else(|| Output::error("the store was opened read-only; this is a bug in tandem"))?;
    Ok(SyncEngine {
        store: context.store.clone(),
        writer,
        settings: context.settings.clone(),
        dir: context.dir.clone(),
        reach: Reach::Settings,
        wall: system_clock(),
        only: Vec::new(),
    })
}

fn json_line(value: &impl Serialize) -> String {
    format!("{}\n", serde_json::to_string(value).unwrap_or_default())
}

fn kind_title(kind: RecordKind) -> &'static str {
    match kind {
        RecordKind::Contact => "Contacts",
        RecordKind::Event => "Events",
        RecordKind::Task => "Tasks",
    }
}

fn op_word(op: Op, restore: bool) -> &'static str {
    match (op, restore) {
        (_, true) => "restore",
        (Op::Create, _) => "create",
        (Op::Update, _) => "update",
        (Op::Delete, _) => "delete",
    }
}

/// The middle column: what happens, with an arrow pointing at the side that is written.
fn action(item: &Item) -> String {
    let mut parts = Vec::new();
    if let Some(step) = item.salesforce.as_ref().filter(|s| s.runs()) {
        parts.push(format!("<- {}", op_word(step.op, step.restore)));
    }
    if let Some(step) = item.desktop.as_ref().filter(|s| s.runs()) {
        parts.push(format!("{} ->", op_word(step.op, step.restore)));
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

fn column(text: &str, width: usize) -> String {
    let mut out: String = text.chars().take(width).collect();
    let len = out.chars().count();
    out.extend(std::iter::repeat_n(' ', width - len));
    out
}

fn salesforce_column(item: &Item) -> String {
    match &item.salesforce_id {
        Some(id) => format!("{} [{id}]", item.label),
        None => "(not in Salesforce)".into(),
    }
}

fn desktop_column(item: &Item) -> String {
    match &item.desktop_id {
        Some(href) => format!(
            "{} [{}]",
            item.label,
            href.rsplit('/').next().unwrap_or(href)
        ),
        None => "(not on the desktop)".into(),
    }
}

fn step_details(out: &mut String, side: Side, step: &Step, details: bool) {
    if step.changes.is_empty() || step.skipped.is_some() {
        return;
    }
    let names = step.field_names().join(", ");
    let _ = writeln!(out, "      {side}: {names}");
    if details {
        for (name, value) in &step.changes {
            let _ = writeln!(out, "        {name} = {value}");
        }
    }
    if step.kept_rich_body {
        let _ = writeln!(
            out,
            "      desktop keeps its formatted description (the plain-text change is not applied)"
        );
    }
}

/// The Synchronization Summary.
pub fn summary(plan: &Plan, details: bool, all: bool) -> String {
    let mut out = String::new();
    let tally = plan.tally();
    let _ = writeln!(
        out,
        "Synchronization Summary: Salesforce {} create, {} update, {} delete; desktop {} create, {} update, {} delete; {} skipped, {} conflicts",
        tally.salesforce.create,
        tally.salesforce.update,
        tally.salesforce.delete,
        tally.desktop.create,
        tally.desktop.update,
        tally.desktop.delete,
        tally.skipped,
        tally.conflicts
    );
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
        if !shown.is_empty() {
            let _ = writeln!(
                out,
                "  {} {} DESKTOP",
                column("SALESFORCE", 38),
                column("ACTION", 22)
            );
        }
        for item in shown {
            let _ = writeln!(
                out,
                "  {} {} {}",
                column(&salesforce_column(item), 38),
                column(&action(item), 22),
                desktop_column(item)
            );
            let _ = writeln!(out, "      id {}", item.record);
            for (side, step) in item.steps() {
                step_details(&mut out, side, step, details);
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

fn note_salesforce(out: &mut String, record: &RunRecord) {
    if let Some(error) = &record.salesforce_error {
        let _ = writeln!(
            out,
            "Salesforce could not be reached: {error}\nDesktop changes are kept and merge on the next run that reaches it.\n"
        );
    }
}

fn failure_line(out: &mut String, f: &tandem_protocol::run::StepResult) {
    let _ = writeln!(
        out,
        "  failed: {} {} on {}: {}",
        op_word(f.op, false),
        f.label,
        f.side,
        f.error.as_deref().unwrap_or_default()
    );
}

fn applied(report: &RunReport) -> String {
    let mut out = String::new();
    let Some(record) = &report.record else {
        return out;
    };
    let ok = record.results.iter().filter(|r| r.error.is_none()).count();
    let failed: Vec<_> = record.failures().collect();
    let _ = writeln!(
        out,
        "Applied {ok} of {} steps ({} Salesforce API calls).",
        record.results.len(),
        record.api_calls
    );
    for f in &failed {
        failure_line(&mut out, f);
    }
    if report.held_back > 0 {
        let _ = writeln!(
            out,
            "{} item(s) changed since the preview and were not applied: run `tandem sync preview` again.",
            report.held_back
        );
    }
    note_salesforce(&mut out, record);
    out
}

async fn ignore(
    context: &Context,
    items: &[String],
    forever: bool,
    undo: bool,
) -> Result<Output, Output> {
    let writer = context
        .writer
        .clone()
        .ok_or_else(|| Output::error("the store was opened read-only; this is a bug in tandem"))?;
    // Every name is checked before anything is written: a typo changes nothing.
    let mut decisions = Vec::new();
    {
        let txn = context.store.read().map_err(Output::error)?;
        for name in items {
            let record = read::find_record(&txn, name)
                .map_err(Output::error)?
                .ok_or_else(|| Output::error(format!("no record is known as {name}")))?;
            let state = read::record(&txn, &record)
                .map_err(Output::error)?
                .ok_or_else(|| Output::error(format!("no record is known as {name}")))?;
            let label = tandem_protocol::plan::label(state.kind, &state.fields);
            let decision = match (undo, forever) {
                (true, _) => Decision::Unignore { record },
                (false, true) => Decision::IgnoreForever { record },
                (false, false) => Decision::IgnoreOnce {
                    record,
                    heads: state.heads,
                },
            };
            decisions.push((label, decision));
        }
    }
    let mut out = String::new();
    for (label, decision) in decisions {
        let draft = Draft {
            origin: Origin::new(Side::Tandem, "cli:sync-ignore"),
            body: DraftBody::Decision(decision),
        };
        writer.append(draft).await.map_err(Output::error)?;
        let what = match (undo, forever) {
            (true, _) => "no longer ignored",
            (false, true) => "ignored forever",
            (false, false) => "ignored until either side changes it",
        };
        let _ = writeln!(out, "{label}: {what}");
    }
    Ok(Output::ok(out))
}

#[derive(Serialize)]
struct Status {
    last_run: Option<RunRecord>,
    /// The runs before it, newest first (at most ten).
    recent: Vec<RunRecord>,
    last_preview: Option<RunRecord>,
    pending: usize,
    conflicts: usize,
    ignored: usize,
    automatic: bool,
}

fn status(context: &Context, json: bool) -> Result<Output, Output> {
    let txn = context.store.read().map_err(Output::error)?;
    let runs = read::runs(&txn, usize::MAX).map_err(Output::error)?;
    let mut applied = runs
        .iter()
        .filter(|(_, r)| r.mode != tandem_protocol::run::RunMode::Preview)
        .map(|(_, r)| r.clone());
    let last_run = applied.next();
    let recent: Vec<RunRecord> = applied.take(10).collect();
    let last_preview = runs
        .iter()
        .find(|(_, r)| r.mode == tandem_protocol::run::RunMode::Preview)
        .map(|(_, r)| r.clone());
    let automatic = runs
        .iter()
        .any(|(_, r)| r.mode == tandem_protocol::run::RunMode::Manual);
    drop(txn);
    let kinds = context.settings.enabled_kinds();
    let now =
        chrono::DateTime::from_timestamp_millis((system_clock())() as i64).unwrap_or_default();
    let plan = crate::engine::sync::inputs::plan_from_store(
        &context.store,
        &context.settings,
        &kinds,
        now,
    )
    .map_err(Output::error)?;
    let ignored = plan
        .items
        .iter()
        .filter(|i| {
            i.steps()
                .any(|(_, s)| matches!(s.skipped, Some(Skip::IgnoredOnce | Skip::IgnoredForever)))
        })
        .count();
    let status = Status {
        pending: plan.items.iter().filter(|i| i.runs()).count(),
        conflicts: plan.tally().conflicts,
        ignored,
        last_run,
        recent,
        last_preview,
        automatic,
    };
    if json {
        return Ok(Output::ok(json_line(&status)));
    }
    let mut out = String::new();
    let time = |ms: i64| {
        chrono::DateTime::from_timestamp_millis(ms)
            .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
            .unwrap_or_default()
    };
    match &status.last_run {
        None => {
            let _ = writeln!(
                out,
                "No sync run yet. Run `tandem sync preview`, review it, then `tandem sync apply`; automatic runs start after that."
            );
        }
        Some(run) => {
            let failed: Vec<_> = run.failures().collect();
            let _ = writeln!(
                out,
                "Last run: {} at {}, {} steps, {} failed, {} API calls{}",
                run.mode.as_str(),
                time(run.finished_ms),
                run.results.len(),
                failed.len(),
                run.api_calls,
                run.api_usage
                    .map(|(used, max)| format!(" (org usage {used}/{max} today)"))
                    .unwrap_or_default()
            );
            for f in failed {
                failure_line(&mut out, f);
            }
            note_salesforce(&mut out, run);
        }
    }
    if !status.recent.is_empty() {
        let _ = writeln!(out, "Earlier runs:");
        for run in &status.recent {
            let _ = writeln!(
                out,
                "  {} {:<9} {} steps, {} failed, {} API calls{}",
                time(run.finished_ms),
                run.mode.as_str(),
                run.results.len(),
                run.failures().count(),
                run.api_calls,
                if run.salesforce_error.is_some() {
                    ", Salesforce unreachable"
                } else {
                    ""
                }
            );
        }
    }
    if let Some(preview) = &status.last_preview {
        let _ = writeln!(out, "Last preview: {}", time(preview.finished_ms));
    }
    let _ = writeln!(
        out,
        "Pending: {} items, {} conflicts, {} ignored. Automatic runs: {}.",
        status.pending,
        status.conflicts,
        status.ignored,
        if status.automatic {
            "on"
        } else {
            "off until a manual run is applied"
        }
    );
    Ok(Output::ok(out))
}
