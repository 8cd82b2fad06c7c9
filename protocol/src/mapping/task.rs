//! Task rules the table can't express: Status through the org's TaskStatus table, reminders.

use super::error::MappingError;
use super::table::SfRow;
use super::time::salesforce_datetime;
use super::{Outgoing, SalesforceContext, typed};
use crate::record::{Fields, RecordKind, Task, TaskStatus};
use serde_json::Value;

/// The standard open values (a new org's TaskStatus table).
const NOT_STARTED: &str = "Not Started";
const IN_PROGRESS: &str = "In Progress";
const WAITING: &str = "Waiting on someone else";
const DEFERRED: &str = "Deferred";
const COMPLETED: &str = "Completed";

fn is_closed(status: &str, ctx: &SalesforceContext) -> bool {
    status == COMPLETED || ctx.closed_task_statuses.iter().any(|s| s == status)
}

fn is_cancelled(status: &str) -> bool {
    status.eq_ignore_ascii_case("cancelled") || status.eq_ignore_ascii_case("canceled")
}

/// Salesforce's status → the record's. Orgs add their own values; what closes a task is the
/// TaskStatus table, so a custom closed value reads as completed (cancelled if it says so) and
/// a custom open one as in progress (not started if it is the org's default).
pub(crate) fn status_in(status: &str, ctx: &SalesforceContext) -> TaskStatus {
    if is_closed(status, ctx) {
        return if is_cancelled(status) {
            TaskStatus::Cancelled
        } else {
            TaskStatus::Completed
        };
    }
    match status {
        NOT_STARTED => TaskStatus::NotStarted,
        IN_PROGRESS => TaskStatus::InProgress,
        WAITING => TaskStatus::Waiting,
        DEFERRED => TaskStatus::Deferred,
        s if s == ctx.default_open_status => TaskStatus::NotStarted,
        _ => TaskStatus::InProgress,
    }
}

/// The record's status → Salesforce's. Not started is the org's default open status; a
/// cancelled task gets a closed status named Cancelled when the org has one, else the default
/// closed status (Salesforce has no standard "cancelled").
pub(crate) fn status_out(status: TaskStatus, ctx: &SalesforceContext) -> String {
    match status {
        TaskStatus::NotStarted => ctx.default_open_status.clone(),
        TaskStatus::InProgress => IN_PROGRESS.into(),
        TaskStatus::Waiting => WAITING.into(),
        TaskStatus::Deferred => DEFERRED.into(),
        TaskStatus::Completed => {
            if ctx.closed_task_statuses.iter().any(|s| s == COMPLETED) {
                COMPLETED.into()
            } else {
                ctx.default_closed_status.clone()
            }
        }
        TaskStatus::Cancelled => ctx
            .closed_task_statuses
            .iter()
            .find(|s| is_cancelled(s))
            .cloned()
            .unwrap_or_else(|| ctx.default_closed_status.clone()),
    }
}

pub(crate) fn read(
    row: &SfRow,
    ctx: &SalesforceContext,
    fields: &mut Fields,
) -> Result<(), MappingError> {
    if let Some(status) = row.text("Status")? {
        fields.insert(
            "status".into(),
            serde_json::to_value(status_in(&status, ctx)).unwrap_or(Value::Null),
        );
    }
    if row.flag("IsReminderSet")?
        && let Some(at) = row.datetime("ReminderDateTime")?
    {
        fields.insert(
            "reminder_at".into(),
            serde_json::to_value(at).unwrap_or(Value::Null),
        );
    }
    Ok(())
}

pub(crate) fn write(
    fields: &Fields,
    ctx: &SalesforceContext,
    out: &mut Outgoing,
) -> Result<(), MappingError> {
    let task: Task = typed(RecordKind::Task, fields)?;
    if let Some(status) = task.status {
        out.fields
            .insert("Status".into(), Value::String(status_out(status, ctx)));
    }
    match task.reminder_at {
        Some(at) => {
            out.fields.insert("IsReminderSet".into(), Value::Bool(true));
            out.fields.insert(
                "ReminderDateTime".into(),
                Value::String(salesforce_datetime(at)),
            );
        }
        None => {
            out.fields
                .insert("IsReminderSet".into(), Value::Bool(false));
        }
    }
    Ok(())
}
