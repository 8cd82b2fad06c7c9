//! Event times as Graph writes and reads them: `dateTimeTimeZone` (resources/datetimetimezone.md),
//! a wall-clock `dateTime` without offset and a `timeZone` that is a Windows zone name
//! ("W. Europe Standard Time") or an IANA one ("Europe/Berlin"); reads answer in UTC unless
//! `Prefer: outlook.timezone` names another zone (api/user-list-calendarview.md).

use calcard::common::timezone::Tz as AnyZone;
use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;
use serde_json::{Value, json};

use crate::error::GraphError;

/// A zone by its Windows or IANA name (calcard knows Windows' names and maps them to IANA).
pub fn zone(name: &str) -> Option<Tz> {
    match name.trim().parse::<AnyZone>() {
        Ok(AnyZone::Tz(tz)) => Some(tz),
        _ => None,
    }
}

/// The zone reads are answered in: its name as the client gave it, and the zone.
#[derive(Debug, Clone)]
pub struct OutZone {
    pub name: String,
    pub tz: Tz,
}

impl OutZone {
    pub fn utc() -> OutZone {
        OutZone {
            name: "UTC".into(),
            tz: chrono_tz::UTC,
        }
    }

    /// From `Prefer: outlook.timezone`; a zone Graph does not know leaves reads in UTC.
    pub fn preferred(name: Option<&str>) -> OutZone {
        name.and_then(|name| {
            zone(name).map(|tz| OutZone {
                name: name.to_string(),
                tz,
            })
        })
        .unwrap_or_else(OutZone::utc)
    }
}

/// A written `start` or `end`.
#[derive(Debug, Clone, PartialEq)]
pub struct When {
    pub local: NaiveDateTime,
    pub zone_name: String,
    pub tz: Tz,
    pub utc: DateTime<Utc>,
}

/// Graph's `dateTime` text: seconds with seven fractional digits, no offset.
pub fn format_local(local: NaiveDateTime) -> String {
    format!(
        "{}.{:07}",
        local.format("%Y-%m-%dT%H:%M:%S"),
        local.and_utc().timestamp_subsec_nanos() / 100
    )
}

/// A timestamp property (`createdDateTime`, `originalStart`): ISO 8601 in UTC with `Z`.
pub fn format_utc(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn parse_local(text: &str) -> Option<NaiveDateTime> {
    let text = text.trim();
    NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f")
        .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M"))
        .ok()
        .or_else(|| {
            // A value with an offset (`…Z`, as clients send with `timeZone: "UTC"`): its UTC
            // wall clock.
            DateTime::parse_from_rfc3339(text)
                .ok()
                .map(|dt| dt.naive_utc())
        })
        .or_else(|| {
            // A date alone is midnight (what all-day events are written with).
            NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
        })
}

/// Wall-clock time in a zone to UTC. A time in a DST gap moves forward by the gap; an
/// ambiguous one takes the earlier instant (what Outlook does).
pub fn to_utc(local: NaiveDateTime, tz: Tz) -> DateTime<Utc> {
    for hours in 0..=3 {
        let Some(shifted) = local.checked_add_signed(TimeDelta::hours(hours)) else {
            break;
        };
        if let Some(dt) = tz.from_local_datetime(&shifted).earliest() {
            return dt.with_timezone(&Utc);
        }
    }
    local.and_utc()
}

fn invalid(field: &str, value: &Value) -> GraphError {
    GraphError::bad_request(
        "RequestBodyRead",
        format!(
            "Cannot convert the literal '{value}' to the expected type 'microsoft.graph.dateTimeTimeZone' of '{field}'."
        ),
    )
}

/// A `dateTimeTimeZone` object of a request body.
pub fn parse(value: &Value, field: &str) -> Result<When, GraphError> {
    let date_time = value
        .get("dateTime")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid(field, value))?;
    let local = parse_local(date_time).ok_or_else(|| invalid(field, value))?;
    // The docs list no default; Graph reads a missing zone as UTC.
    let zone_name = value
        .get("timeZone")
        .and_then(Value::as_str)
        .unwrap_or("UTC")
        .to_string();
    let tz = zone(&zone_name).ok_or_else(|| {
        GraphError::bad_request(
            "TimeZoneNotSupportedException",
            format!(
                "A valid TimeZone value must be specified. The following TimeZone value is not supported: '{zone_name}'."
            ),
        )
    })?;
    Ok(When {
        utc: to_utc(local, tz),
        local,
        zone_name,
        tz,
    })
}

/// An instant as a read answers it, in `zone`.
pub fn render(at: DateTime<Utc>, zone: &OutZone) -> Value {
    json!({
        "dateTime": format_local(at.with_timezone(&zone.tz).naive_local()),
        "timeZone": zone.name,
    })
}

/// An all-day event's day boundary: always midnight, whatever the zone a read asks for
/// (microsoft-graph-docs#1802: "All day events always return midnight-to-midnight regardless
/// of time zone").
pub fn render_day(day: NaiveDate, zone: &OutZone) -> Value {
    json!({
        "dateTime": format_local(day.and_hms_opt(0, 0, 0).unwrap_or_default()),
        "timeZone": zone.name,
    })
}

/// A query's `startDateTime`/`endDateTime`: ISO 8601, UTC unless it carries an offset
/// (api/user-list-calendarview.md).
pub fn parse_instant(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text.trim())
        .map(|dt| dt.with_timezone(&Utc))
        .ok()
        .or_else(|| parse_local(text).map(|local| local.and_utc()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_and_iana_names_are_the_same_zone() {
        let windows = parse(
            &json!({"dateTime": "2027-03-12T09:00:00.0000000", "timeZone": "W. Europe Standard Time"}),
            "start",
        )
        .unwrap();
        let iana = parse(
            &json!({"dateTime": "2027-03-12T09:00:00", "timeZone": "Europe/Berlin"}),
            "start",
        )
        .unwrap();
        assert_eq!(windows.utc, iana.utc);
        assert_eq!(format_utc(windows.utc), "2027-03-12T08:00:00Z");
        assert!(
            parse(
                &json!({"dateTime": "2027-03-12T09:00:00", "timeZone": "Mars/Olympus"}),
                "start"
            )
            .is_err()
        );
    }

    #[test]
    fn reads_have_seven_fractional_digits() {
        let at = parse_instant("2027-03-12T08:00:00Z").unwrap();
        let pacific = OutZone::preferred(Some("Pacific Standard Time"));
        assert_eq!(
            render(at, &pacific),
            json!({"dateTime": "2027-03-12T00:00:00.0000000", "timeZone": "Pacific Standard Time"})
        );
    }
}
