//! The replication resources `sobjects/X/updated` and `sobjects/X/deleted`: id lists for a window,
//! minute-truncated, within 30 days (updated) or the 15-day recycle-bin history (deleted).

use chrono::{DateTime, Duration, Timelike, Utc};

use super::clock::{format_datetime, parse_datetime};
use super::errors::ApiError;
use super::http::{Call, Reply};
use super::org::{Org, RECYCLE_BIN_DAYS};
use super::value::Doc;

pub const UPDATED_WINDOW_DAYS: i64 = 30;
pub const MAX_IDS: usize = 600_000;

fn replication_error(message: impl Into<String>) -> ApiError {
    ApiError::bad_request("INVALID_REPLICATION_DATE", message)
}

/// Seconds are ignored: start and end are truncated to the minute.
fn to_minute(t: DateTime<Utc>) -> DateTime<Utc> {
    t.with_second(0)
        .and_then(|t| t.with_nanosecond(0))
        .unwrap_or(t)
}

struct Window {
    start: DateTime<Utc>,
    latest: DateTime<Utc>,
}

fn window(call: &Call, max_days: i64) -> Result<Window, ApiError> {
    let param = |name: &str| -> Result<DateTime<Utc>, ApiError> {
        let raw = call.req.param(name).ok_or_else(|| {
            ApiError::bad_request(
                "MISSING_ARGUMENT",
                format!("Missing required parameter: {name}"),
            )
        })?;
        parse_datetime(raw)
            .map(to_minute)
            .ok_or_else(|| replication_error(format!("Unable to parse {name} date: {raw}")))
    };
    let start = param("start")?;
    let end = param("end")?;
    let now = call.ctx.now;
    if end - start < Duration::minutes(1) {
        return Err(replication_error(
            "startDate must chronologically precede endDate by more than one minute",
        ));
    }
    if start < to_minute(now) - Duration::days(max_days) {
        return Err(replication_error(format!(
            "startDate cannot be more than {max_days} days ago"
        )));
    }
    Ok(Window {
        start,
        latest: end.min(to_minute(now)),
    })
}

fn too_many() -> ApiError {
    ApiError::bad_request(
        "EXCEEDED_ID_LIMIT",
        format!("Too many ids: the result exceeds {MAX_IDS} ids; use a smaller window"),
    )
}

pub fn updated(call: &Call, org: &mut Org, obj: usize) -> Result<Reply, ApiError> {
    let w = window(call, UPDATED_WINDOW_DAYS)?;
    let ids: Vec<Doc> = org
        .records(obj)
        .filter(|r| r.deleted_at.is_none())
        .filter(|r| {
            org.get(r, "SystemModstamp")
                .as_datetime()
                .is_some_and(|t| t >= w.start && t < w.latest)
        })
        .map(|r| Doc::from(r.id.as_str()))
        .collect();
    if ids.len() > MAX_IDS {
        return Err(too_many());
    }
    Ok(Reply::json(
        200,
        &Doc::object()
            .with("ids", Doc::Array(ids))
            .with("latestDateCovered", format_datetime(w.latest)),
    ))
}

pub fn deleted(call: &Call, org: &mut Org, obj: usize) -> Result<Reply, ApiError> {
    let w = window(call, RECYCLE_BIN_DAYS)?;
    let records: Vec<Doc> = org
        .deletions()
        .iter()
        .filter(|d| d.object == obj && d.at >= w.start && d.at < w.latest)
        .map(|d| {
            Doc::object()
                .with("id", d.id.as_str())
                .with("deletedDate", format_datetime(d.at))
        })
        .collect();
    if records.len() > MAX_IDS {
        return Err(too_many());
    }
    Ok(Reply::json(
        200,
        &Doc::object()
            .with("deletedRecords", Doc::Array(records))
            .with(
                "earliestDateAvailable",
                format_datetime(to_minute(org.earliest_available())),
            )
            .with("latestDateCovered", format_datetime(w.latest)),
    ))
}
