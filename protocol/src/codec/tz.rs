//! Time zones: resolving a TZID (VTIMEZONE, IANA or Windows name) and moving between wall-clock and UTC.

use calcard::common::timezone::Tz;
use calcard::icalendar::{ICalendar, ICalendarComponentType};
use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeDelta, TimeZone, Utc};
use std::str::FromStr;

/// The time zones an object defines in its VTIMEZONEs, by TZID.
#[derive(Clone, Debug, Default)]
pub(crate) struct Zones {
    defined: Vec<(String, Tz)>,
    /// TZIDs of the object's VTIMEZONEs, whether resolvable or not.
    pub names: Vec<String>,
}

impl Zones {
    /// Learn the VTIMEZONE given as unfolded content lines (BEGIN:VTIMEZONE … END:VTIMEZONE).
    /// calcard maps a VTIMEZONE to a known zone by its TZID, X-LIC-LOCATION or Microsoft CDO id;
    /// a zone it cannot name is left out, and its times fall back to UTC (see `Zones::resolve`).
    pub fn learn(&mut self, lines: &[&str]) {
        let mut text = String::from("BEGIN:VCALENDAR\r\n");
        for line in lines {
            text.push_str(line);
            text.push_str("\r\n");
        }
        text.push_str("END:VCALENDAR\r\n");
        let Ok(cal) = ICalendar::parse(&text) else {
            return;
        };
        for comp in &cal.components {
            if comp.component_type != ICalendarComponentType::VTimezone {
                continue;
            }
            if let Some((name, tz)) = comp.timezone() {
                self.names.push(name.to_string());
                self.defined.push((name.to_string(), tz));
            } else if let Some(name) = comp
                .entries
                .iter()
                .find(|e| e.name == calcard::icalendar::ICalendarProperty::Tzid)
                .and_then(|e| e.values.first())
                .and_then(|v| v.as_text())
            {
                self.names.push(name.to_string());
            }
        }
    }

    /// The zone for a TZID: the object's own VTIMEZONE first, then IANA and Windows names.
    pub fn resolve(&self, tzid: &str) -> Option<Tz> {
        self.defined
            .iter()
            .find(|(name, _)| name == tzid)
            .map(|(_, tz)| *tz)
            .or_else(|| Tz::from_str(tzid).ok())
            .filter(|tz| !tz.is_floating())
    }
}

/// Wall-clock time in a zone to UTC. A time inside a DST gap is read with the offset from before
/// the gap (RFC 5545 §3.3.5), which is the same as moving it forward by the gap's length; an
/// ambiguous time takes the first of the two instants.
pub(crate) fn to_utc(local: NaiveDateTime, tz: Tz) -> DateTime<Utc> {
    if tz.is_floating() {
        return local.and_utc();
    }
    if let Some(dt) = tz.from_local_datetime(&local).earliest() {
        return dt.with_timezone(&Utc);
    }
    for hours in 1..=3 {
        let Some(shifted) = local.checked_add_signed(TimeDelta::hours(hours)) else {
            break;
        };
        if let Some(dt) = tz.from_local_datetime(&shifted).earliest() {
            return dt.with_timezone(&Utc);
        }
    }
    local.and_utc()
}

/// UTC to wall-clock time in a zone.
pub(crate) fn to_local(utc: DateTime<Utc>, tz: Tz) -> NaiveDateTime {
    if tz.is_floating() {
        return utc.naive_utc();
    }
    tz.from_utc_datetime(&utc.naive_utc()).naive_local()
}

/// Midnight UTC of a date: all-day items have no zone here, so they are placed on the UTC day
/// (RFC 4791 would use the calendar's zone, which a single resource does not know).
pub(crate) fn date_start(date: NaiveDate) -> DateTime<Utc> {
    date.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_names_resolve_and_dst_gaps_move_forward() {
        let zones = Zones::default();
        let berlin = zones.resolve("W. Europe Standard Time").unwrap();
        let summer = NaiveDate::from_ymd_opt(2024, 7, 1)
            .unwrap()
            .and_hms_opt(10, 0, 0)
            .unwrap();
        assert_eq!(
            to_utc(summer, berlin).to_rfc3339(),
            "2024-07-01T08:00:00+00:00"
        );
        let gap = NaiveDate::from_ymd_opt(2024, 3, 31)
            .unwrap()
            .and_hms_opt(2, 30, 0)
            .unwrap();
        assert_eq!(
            to_utc(gap, berlin).to_rfc3339(),
            "2024-03-31T01:30:00+00:00"
        );
        assert!(zones.resolve("Not/AZone").is_none());
    }
}
