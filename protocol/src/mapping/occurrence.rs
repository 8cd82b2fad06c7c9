//! Cancelled occurrences of an event series: Salesforce keeps a series as one Event row per
//! occurrence and has no EXDATE, so an occurrence the desktop cancelled (`EXDATE`) is deleted
//! there, row by row, and a row deleted there is a cancellation for the desktop. This module
//! decides which cancellations Salesforce still lacks, which rows they name, and what a deleted
//! row cancels; the engine runs the queries and writes.

use super::time::parse_salesforce_datetime;
use super::{SalesforceContext, soql_quote};
use crate::record::{Fields, When};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use serde_json::{Map, Value};

/// A record's cancelled occurrences (its `exdates`).
pub(super) fn exdates(fields: &Fields) -> Vec<When> {
    fields
        .get("exdates")
        .and_then(|v| serde_json::from_value(v.clone()).ok())
        .unwrap_or_default()
}

/// The cancellations `target` has that Salesforce's copy `had` lacks. (A series Salesforce
/// makes anew is compared from a copy without any, see `remakes_series`.)
pub fn cancellations_to_send(had: &Fields, target: &Fields) -> Vec<When> {
    let wanted = exdates(target);
    if wanted.is_empty() || target.get("rrule").is_none_or(Value::is_null) {
        return Vec::new();
    }
    let sent = exdates(had);
    wanted.into_iter().filter(|d| !sent.contains(d)).collect()
}

/// Whether an update body for the record `target` makes Salesforce create a series' rows anew
/// (with new ids): one that changes a series' rule or times.
pub fn remakes_series(target: &Fields, body: &Map<String, Value>) -> bool {
    const REMAKE: &[&str] = &[
        "StartDateTime",
        "EndDateTime",
        "DurationInMinutes",
        "ActivityDateTime",
        "ActivityDate",
        "IsAllDayEvent",
        "Recurrence2PatternText",
        "Recurrence2PatternTimeZone",
    ];
    target.get("rrule").is_some_and(Value::is_string)
        && REMAKE.iter().any(|f| body.contains_key(*f))
}

/// The query for the first row of the series `fields` describes, owned by `owner`: the row at
/// its pattern's start. `None` without a start.
pub fn head_at_query(fields: &Fields, owner: Option<&str>) -> Option<String> {
    let start: When = serde_json::from_value(fields.get("start")?.clone()).ok()?;
    let at = match start {
        When::Date(d) => d.and_time(chrono::NaiveTime::MIN).and_utc(),
        When::Time { utc, .. } => utc,
    };
    let at = at.format("%Y-%m-%dT%H:%M:%SZ");
    let mut soql = format!(
        "SELECT Id FROM Event WHERE IsRecurrence2 = true AND IsChild = false AND Recurrence2PatternStartDate = {at} AND StartDateTime = {at}"
    );
    if let Some(owner) = owner {
        soql.push_str(&format!(" AND OwnerId = {}", soql_quote(owner)));
    }
    Some(soql)
}

/// The query for what [`series_rows_query`] needs of the row tandem links a series to.
pub fn series_head_query(id: &str) -> String {
    format!(
        "SELECT Id, Recurrence2PatternStartDate, OwnerId, Subject FROM Event WHERE Id = {}",
        soql_quote(id)
    )
}

/// The query for a series' rows, given its first occurrence's row (`Recurrence2PatternStartDate`
/// and owner); `None` when the row is not one of a series. Salesforce exposes no series id in
/// SOQL: the rows of one series share the pattern start, the owner and the subject.
pub fn series_rows_query(first: &Map<String, Value>) -> Option<String> {
    let text = |f: &str| first.get(f).and_then(Value::as_str);
    let pattern_start = parse_salesforce_datetime(text("Recurrence2PatternStartDate")?).ok()?;
    let mut soql = format!(
        "SELECT Id, StartDateTime, ActivityDate, IsAllDayEvent FROM Event WHERE IsRecurrence2 = true AND IsChild = false AND Recurrence2PatternStartDate = {}",
        pattern_start.format("%Y-%m-%dT%H:%M:%SZ")
    );
    if let Some(owner) = text("OwnerId") {
        soql.push_str(&format!(" AND OwnerId = {}", soql_quote(owner)));
    }
    // An occurrence changed apart in Salesforce may have a subject of its own.
    if let Some(subject) = text("Subject") {
        soql.push_str(&format!(
            " AND (Subject = {} OR IsRecurrence2Exception = true)",
            soql_quote(subject)
        ));
    }
    Some(soql)
}

/// The ids of the rows the cancellations name: a timed cancellation names the row starting at
/// that instant, a date the row on that day (in the user's zone, as Salesforce shows it).
pub fn cancelled_rows(
    cancelled: &[When],
    rows: &[Map<String, Value>],
    ctx: &SalesforceContext,
) -> Vec<String> {
    let start = |row: &Map<String, Value>| {
        row.get("StartDateTime")
            .and_then(Value::as_str)
            .and_then(|t| parse_salesforce_datetime(t).ok())
    };
    let day = |row: &Map<String, Value>| -> Option<NaiveDate> {
        let all_day = row.get("IsAllDayEvent").and_then(Value::as_bool) == Some(true);
        match row.get("ActivityDate").and_then(Value::as_str) {
            Some(date) if all_day => NaiveDate::parse_from_str(date, "%Y-%m-%d").ok(),
            _ => start(row).map(|t| t.with_timezone(&ctx.user_time_zone).date_naive()),
        }
    };
    let instant = |utc: DateTime<Utc>, floating: bool| {
        if floating {
            ctx.user_time_zone
                .from_local_datetime(&utc.naive_utc())
                .earliest()
                .map_or(utc, |t| t.with_timezone(&Utc))
        } else {
            utc
        }
    };
    rows.iter()
        .filter(|row| {
            cancelled.iter().any(|when| match when {
                When::Date(d) => day(row) == Some(*d),
                When::Time { utc, floating, .. } => {
                    start(row).map(|t| t.timestamp()) == Some(instant(*utc, *floating).timestamp())
                }
            })
        })
        .filter_map(|row| row.get("Id").and_then(Value::as_str).map(str::to_string))
        .collect()
}

/// The earliest of a series' `rows` that is not one of the `deleted`: the row the series is
/// linked to once its first row is gone.
pub fn first_row_left(rows: &[Map<String, Value>], deleted: &[String]) -> Option<String> {
    let start = |row: &Map<String, Value>| {
        row.get("StartDateTime")
            .and_then(Value::as_str)
            .and_then(|t| parse_salesforce_datetime(t).ok())
    };
    rows.iter()
        .filter(|row| {
            row.get("Id")
                .and_then(Value::as_str)
                .is_some_and(|id| !deleted.iter().any(|d| d == id))
        })
        .min_by_key(|row| start(row))
        .and_then(|row| row.get("Id")?.as_str().map(str::to_string))
}

/// The query for the rows of a series still there after its first row `first` was deleted, the
/// earliest first.
pub fn remaining_rows_query(first: &Map<String, Value>) -> Option<String> {
    Some(format!(
        "{} ORDER BY StartDateTime",
        series_rows_query(first)?
    ))
}

/// The query that tells what deleted Event rows were (queryAll: they are in the recycle bin),
/// with the key of a detached occurrence's row in `key_field` (see `detached`).
pub fn deleted_rows_query(ids: &[String], key_field: Option<&str>) -> String {
    let ids: Vec<String> = ids.iter().map(|id| soql_quote(id)).collect();
    let key = key_field.map(|f| format!(", {f}")).unwrap_or_default();
    format!(
        "SELECT Id, StartDateTime, ActivityDate, IsAllDayEvent, IsRecurrence2, Recurrence2PatternStartDate, OwnerId, Subject{key} FROM Event WHERE IsDeleted = true AND Id IN ({})",
        ids.join(", ")
    )
}

/// For a deleted row that was a later occurrence of a series, the query for the series' first
/// row (the one tandem links the series to); `None` for any other row.
pub fn head_of_deleted_query(row: &Map<String, Value>) -> Option<String> {
    if row.get("IsRecurrence2").and_then(Value::as_bool) != Some(true)
        || !super::is_later_series_occurrence(row)
    {
        return None;
    }
    let rows = series_rows_query(row)?;
    let start = row.get("Recurrence2PatternStartDate")?.as_str()?;
    let start = parse_salesforce_datetime(start).ok()?;
    Some(format!(
        "{rows} AND StartDateTime = {}",
        start.format("%Y-%m-%dT%H:%M:%SZ")
    ))
}

/// For an occurrence row Salesforce marks `IsRecurrence2Exception` (changed apart from its
/// series in Salesforce), the query for the series' first row, the one tandem links the series
/// to; `None` for any other row. The subject is left out: the exception may have its own.
pub fn head_of_exception_query(row: &Map<String, Value>) -> Option<String> {
    if row.get("IsRecurrence2Exception").and_then(Value::as_bool) != Some(true) {
        return None;
    }
    let text = |f: &str| row.get(f).and_then(Value::as_str);
    let start = parse_salesforce_datetime(text("Recurrence2PatternStartDate")?).ok()?;
    let start = start.format("%Y-%m-%dT%H:%M:%SZ");
    let mut soql = format!(
        "SELECT Id FROM Event WHERE IsRecurrence2 = true AND IsChild = false AND Recurrence2PatternStartDate = {start} AND StartDateTime = {start}"
    );
    if let Some(owner) = text("OwnerId") {
        soql.push_str(&format!(" AND OwnerId = {}", soql_quote(owner)));
    }
    Some(soql)
}

/// An occurrence row read as a single event: its own times, not its series' (see
/// `event::read`).
pub fn as_single(row: &Map<String, Value>) -> Map<String, Value> {
    let mut own = row.clone();
    for series in [
        "IsRecurrence2",
        "Recurrence2PatternStartDate",
        "Recurrence2PatternText",
        "Recurrence2PatternTimeZone",
    ] {
        own.remove(series);
    }
    own
}

/// Whether `dates` cancel the occurrence `when` names: the same day, or the same instant however
/// its zone is written.
pub fn is_cancelled(dates: &[When], when: &When) -> bool {
    dates.iter().any(|d| match (d, when) {
        (When::Date(a), When::Date(b)) => a == b,
        (When::Time { utc: a, .. }, When::Time { utc: b, .. }) => a == b,
        _ => false,
    })
}

/// A series' fields with the occurrence a deleted row was cancelled; `None` when it is cancelled
/// already (or the series has no start to place it by).
pub fn with_cancelled(series: &Fields, deleted: &Map<String, Value>) -> Option<Fields> {
    let start: When = serde_json::from_value(series.get("start")?.clone()).ok()?;
    let when = cancellation_of(deleted, &start)?;
    let mut dates = exdates(series);
    if is_cancelled(&dates, &when) {
        return None;
    }
    dates.push(when);
    let mut out = series.clone();
    out.insert("exdates".into(), serde_json::to_value(dates).ok()?);
    Some(out)
}

/// The cancellation a deleted occurrence row means for a series whose start is `start` (its
/// zone is kept, so the desktop's EXDATE is written like its DTSTART).
pub fn cancellation_of(row: &Map<String, Value>, start: &When) -> Option<When> {
    match start {
        When::Date(_) => row
            .get("ActivityDate")
            .and_then(Value::as_str)
            .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
            .map(When::Date),
        When::Time { tzid, floating, .. } => {
            let utc = parse_salesforce_datetime(row.get("StartDateTime")?.as_str()?).ok()?;
            Some(When::Time {
                utc,
                tzid: tzid.clone(),
                floating: *floating,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fields(value: Value) -> Fields {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn only_new_cancellations_are_sent() {
        let one = json!({"time": {"utc": "2027-03-10T09:00:00Z"}});
        let two = json!({"time": {"utc": "2027-03-17T09:00:00Z"}});
        let had = fields(json!({"rrule": "FREQ=WEEKLY", "start": 1, "exdates": [one]}));
        let target = fields(json!({"rrule": "FREQ=WEEKLY", "start": 1, "exdates": [one, two]}));
        assert_eq!(
            cancellations_to_send(&had, &target),
            vec![serde_json::from_value::<When>(two.clone()).unwrap()]
        );
        let single = fields(json!({"exdates": [one]}));
        assert!(cancellations_to_send(&Fields::new(), &single).is_empty());
    }

    #[test]
    fn a_series_is_made_anew_by_a_new_rule_or_time_not_by_a_new_title() {
        let series = fields(json!({"rrule": "FREQ=WEEKLY"}));
        let body = |v: Value| v.as_object().unwrap().clone();
        assert!(remakes_series(
            &series,
            &body(json!({"Recurrence2PatternText": "x"}))
        ));
        assert!(remakes_series(
            &series,
            &body(json!({"StartDateTime": "x"}))
        ));
        assert!(!remakes_series(&series, &body(json!({"Subject": "x"}))));
        let single = fields(json!({"subject": "One"}));
        assert!(!remakes_series(
            &single,
            &body(json!({"StartDateTime": "x"}))
        ));
    }

    #[test]
    fn a_cancellation_names_the_row_at_its_time_or_on_its_day() {
        let ctx = SalesforceContext::standard(chrono_tz::Europe::Berlin);
        let rows: Vec<Map<String, Value>> = [
            json!({"Id": "a", "StartDateTime": "2027-03-10T09:00:00.000+0000", "IsAllDayEvent": false}),
            json!({"Id": "b", "StartDateTime": "2027-03-17T09:00:00.000+0000", "IsAllDayEvent": false}),
            json!({"Id": "c", "StartDateTime": "2027-03-24T00:00:00.000+0000", "ActivityDate": "2027-03-24", "IsAllDayEvent": true}),
        ]
        .into_iter()
        .map(|v| v.as_object().unwrap().clone())
        .collect();
        let cancelled: Vec<When> = serde_json::from_value(json!([
            {"time": {"utc": "2027-03-17T09:00:00Z", "tzid": "Europe/Berlin"}},
            {"date": "2027-03-24"},
            {"time": {"utc": "2027-03-31T09:00:00Z"}},
        ]))
        .unwrap();
        assert_eq!(cancelled_rows(&cancelled, &rows, &ctx), vec!["b", "c"]);
    }

    #[test]
    fn the_rows_of_a_series_are_found_by_its_pattern_start_owner_and_subject() {
        let first = json!({"Id": "00U1", "Recurrence2PatternStartDate": "2027-03-10T09:00:00.000+0000",
                           "OwnerId": "005A", "Subject": "Rock 'n' roll"});
        let soql = series_rows_query(first.as_object().unwrap()).unwrap();
        assert!(
            soql.ends_with("Recurrence2PatternStartDate = 2027-03-10T09:00:00Z AND OwnerId = '005A' AND (Subject = 'Rock \\'n\\' roll' OR IsRecurrence2Exception = true)"),
            "{soql}"
        );
        assert_eq!(
            series_rows_query(json!({"Id": "x"}).as_object().unwrap()),
            None
        );
    }

    #[test]
    fn a_deleted_later_occurrence_names_its_series_and_the_day_it_cancels() {
        let row = json!({"Id": "00U3", "IsRecurrence2": true, "OwnerId": "005A", "Subject": "Sync",
                         "StartDateTime": "2027-03-24T09:00:00.000+0000",
                         "Recurrence2PatternStartDate": "2027-03-10T09:00:00.000+0000"});
        let row = row.as_object().unwrap();
        let head = head_of_deleted_query(row).unwrap();
        assert!(
            head.ends_with(
                "IsRecurrence2Exception = true) AND StartDateTime = 2027-03-10T09:00:00Z"
            ),
            "{head}"
        );
        let start: When = serde_json::from_value(
            json!({"time": {"utc": "2027-03-10T09:00:00Z", "tzid": "Europe/Berlin"}}),
        )
        .unwrap();
        assert_eq!(
            cancellation_of(row, &start),
            Some(
                serde_json::from_value(
                    json!({"time": {"utc": "2027-03-24T09:00:00Z", "tzid": "Europe/Berlin"}})
                )
                .unwrap()
            )
        );
        // The first row stands for the series: its deletion is the series', not an occurrence's.
        let first = json!({"Id": "00U1", "IsRecurrence2": true,
                           "StartDateTime": "2027-03-10T09:00:00.000+0000",
                           "Recurrence2PatternStartDate": "2027-03-10T09:00:00.000+0000"});
        assert_eq!(head_of_deleted_query(first.as_object().unwrap()), None);
    }
}
