//! Graph's date and time shapes (`dateTimeTimeZone`, `DateTimeOffset`), the time zones Graph
//! accepts, and reading "a day stored as midnight somewhere" without moving it by a day.

use super::error::GraphMappingError;
use super::json::Item;
use chrono::{
    DateTime, Duration, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeZone, Timelike, Utc,
};
use chrono_tz::Tz;
use serde_json::{Value, json};
use std::str::FromStr;

/// The IANA names Graph accepts in `dateTimeTimeZone.timeZone` besides Windows names
/// (resources/datetimetimezone.md). Another IANA name is answered `TimeZoneNotSupportedException`.
const GRAPH_IANA: &[&str] = &[
    "Etc/GMT+12",
    "Etc/GMT+11",
    "Pacific/Honolulu",
    "America/Anchorage",
    "America/Santa_Isabel",
    "America/Los_Angeles",
    "America/Phoenix",
    "America/Chihuahua",
    "America/Denver",
    "America/Guatemala",
    "America/Chicago",
    "America/Mexico_City",
    "America/Regina",
    "America/Bogota",
    "America/New_York",
    "America/Indiana/Indianapolis",
    "America/Caracas",
    "America/Asuncion",
    "America/Halifax",
    "America/Cuiaba",
    "America/La_Paz",
    "America/Santiago",
    "America/St_Johns",
    "America/Sao_Paulo",
    "America/Argentina/Buenos_Aires",
    "America/Cayenne",
    "America/Godthab",
    "America/Montevideo",
    "America/Bahia",
    "Etc/GMT+2",
    "Atlantic/Azores",
    "Atlantic/Cape_Verde",
    "Africa/Casablanca",
    "Etc/GMT",
    "Europe/London",
    "Atlantic/Reykjavik",
    "Europe/Berlin",
    "Europe/Budapest",
    "Europe/Paris",
    "Europe/Warsaw",
    "Africa/Lagos",
    "Africa/Windhoek",
    "Europe/Bucharest",
    "Asia/Beirut",
    "Africa/Cairo",
    "Asia/Damascus",
    "Africa/Johannesburg",
    "Europe/Kyiv",
    "Europe/Kiev",
    "Europe/Istanbul",
    "Asia/Jerusalem",
    "Asia/Amman",
    "Asia/Baghdad",
    "Europe/Kaliningrad",
    "Asia/Riyadh",
    "Africa/Nairobi",
    "Asia/Tehran",
    "Asia/Dubai",
    "Asia/Baku",
    "Europe/Moscow",
    "Indian/Mauritius",
    "Asia/Tbilisi",
    "Asia/Yerevan",
    "Asia/Kabul",
    "Asia/Karachi",
    "Asia/Tashkent",
    "Asia/Kolkata",
    "Asia/Colombo",
    "Asia/Kathmandu",
    "Asia/Almaty",
    "Asia/Dhaka",
    "Asia/Yekaterinburg",
    "Asia/Yangon",
    "Asia/Rangoon",
    "Asia/Bangkok",
    "Asia/Novosibirsk",
    "Asia/Shanghai",
    "Asia/Krasnoyarsk",
    "Asia/Singapore",
    "Australia/Perth",
    "Asia/Taipei",
    "Asia/Ulaanbaatar",
    "Asia/Irkutsk",
    "Asia/Tokyo",
    "Asia/Seoul",
    "Australia/Adelaide",
    "Australia/Darwin",
    "Australia/Brisbane",
    "Australia/Sydney",
    "Pacific/Port_Moresby",
    "Australia/Hobart",
    "Asia/Yakutsk",
    "Pacific/Guadalcanal",
    "Asia/Vladivostok",
    "Pacific/Auckland",
    "Etc/GMT-12",
    "Pacific/Fiji",
    "Asia/Magadan",
    "Pacific/Tongatapu",
    "Pacific/Apia",
    "Pacific/Kiritimati",
];

/// What Outlook desktop writes for a legacy custom zone: no zone can be derived from it.
pub(crate) const CUSTOM_ZONE: &str = "tzone://Microsoft/Custom";

/// Outlook's own name for UTC in `originalStartTimeZone`.
pub(crate) const UTC_ZONE: &str = "tzone://Microsoft/Utc";

/// The zone a name means: IANA, Windows (`W. Europe Standard Time`) or the other names calcard
/// knows. A fixed offset of whole hours is its `Etc/GMT±h` zone.
pub(crate) fn resolve(name: &str) -> Option<Tz> {
    use calcard::common::timezone::Tz as AnyTz;
    if name.trim().eq_ignore_ascii_case(UTC_ZONE) {
        return Some(Tz::UTC);
    }
    match AnyTz::from_str(name.trim()).ok()? {
        AnyTz::Tz(tz) => Some(tz),
        AnyTz::Fixed(offset) => {
            let seconds = offset.local_minus_utc();
            if seconds == 0 {
                return Some(Tz::UTC);
            }
            if seconds % 3600 != 0 {
                return None;
            }
            // POSIX sign: Etc/GMT-2 is two hours east of Greenwich.
            let hours = -seconds / 3600;
            Tz::from_str(&format!("Etc/GMT{hours:+}")).ok()
        }
        AnyTz::Floating => None,
    }
}

/// A Windows zone id as Graph takes it: Windows ids end in "Standard Time" (or are `UTC` and
/// `UTC±hh`); calcard also knows older display names ("Amsterdam, Berlin, …") that Graph refuses.
fn is_windows_id(name: &str) -> bool {
    let name = name.trim();
    (name.ends_with("Standard Time")
        || name == "UTC"
        || name.starts_with("UTC+")
        || name.starts_with("UTC-"))
        && Tz::from_str(name).is_err()
        && resolve(name).is_some()
}

/// The zone to send a time in: its `timeZone` name and the zone itself.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct SendZone {
    pub name: String,
    pub tz: Tz,
}

impl SendZone {
    pub fn utc() -> SendZone {
        SendZone {
            name: "UTC".into(),
            tz: Tz::UTC,
        }
    }
}

/// The `timeZone` to send for a time the record keeps in `tzid` (or in the user's `zone` when it
/// has none): a Windows id or an IANA name Graph lists as is; another IANA zone (Europe/Vienna)
/// as a listed zone with the same offsets around `around` (Europe/Berlin), because Graph refuses
/// unlisted names; anything else as UTC. The instant sent never changes, only the zone it is
/// written in.
pub(crate) fn send_zone(tzid: &str, around: DateTime<Utc>) -> SendZone {
    let tzid = tzid.trim();
    if is_windows_id(tzid)
        && let Some(tz) = resolve(tzid)
    {
        return SendZone {
            name: tzid.to_string(),
            tz,
        };
    }
    let Some(tz) = resolve(tzid) else {
        return SendZone::utc();
    };
    graph_name(tz, around).map_or_else(SendZone::utc, |name| SendZone { name, tz })
}

/// A name Graph accepts for `tz`: its own when listed, else a listed zone that agrees with it on
/// every day from a year before `around` to two years after.
fn graph_name(tz: Tz, around: DateTime<Utc>) -> Option<String> {
    let name = tz.name();
    if matches!(
        name,
        "UTC" | "Etc/UTC" | "Etc/Universal" | "Etc/Zulu" | "Zulu" | "Universal"
    ) {
        return Some("UTC".into());
    }
    if GRAPH_IANA.contains(&name) {
        return Some(name.to_string());
    }
    let offset = |z: Tz, t: DateTime<Utc>| z.offset_from_utc_datetime(&t.naive_utc()).fix();
    let days = |from: i64, to: i64| {
        (from..to).filter_map(|d| around.checked_add_signed(Duration::days(d)))
    };
    GRAPH_IANA
        .iter()
        .filter_map(|n| Tz::from_str(n).ok())
        .filter(|z| offset(*z, around) == offset(tz, around))
        .find(|z| days(-366, 731).all(|t| offset(*z, t) == offset(tz, t)))
        .map(|z| z.name().to_string())
}

/// Wall-clock time as Graph writes it: seven fractional digits, no offset.
pub(crate) fn wall(t: NaiveDateTime) -> String {
    format!(
        "{}.{:07}",
        t.format("%Y-%m-%dT%H:%M:%S"),
        t.nanosecond() % 1_000_000_000 / 100
    )
}

/// A `dateTimeTimeZone` value.
pub(crate) fn date_time_zone(local: NaiveDateTime, zone: &str) -> Value {
    json!({"dateTime": wall(local), "timeZone": zone})
}

/// Midnight of `day` in `zone`, as To Do and all-day events store a day.
pub(crate) fn day_value(day: NaiveDate, zone: &SendZone) -> Value {
    date_time_zone(day.and_time(NaiveTime::MIN), &zone.name)
}

/// An instant, written in UTC.
pub(crate) fn instant_value(t: DateTime<Utc>) -> Value {
    date_time_zone(t.naive_utc(), "UTC")
}

/// A `dateTimeTimeZone` read: the wall-clock time, and the zone it is in (`None` when Graph's
/// `timeZone` names no zone tandem knows, e.g. `tzone://Microsoft/Custom`).
#[derive(Clone, Debug)]
pub(crate) struct Stamp {
    pub local: NaiveDateTime,
    pub zone: Option<Tz>,
    pub zone_name: String,
}

impl Stamp {
    /// The instant; a time in an unknown zone is an error naming the property.
    pub fn utc(&self, item: &Item, property: &str) -> Result<DateTime<Utc>, GraphMappingError> {
        match self.zone {
            Some(tz) => Ok(to_utc(self.local, tz)),
            None => Err(item.bad(
                &format!("{property}.timeZone"),
                &self.zone_name,
                "a time zone (Windows or IANA name); ask Graph for times in UTC (the default) or send a `Prefer: outlook.timezone` it knows",
            )),
        }
    }
}

pub(crate) fn read_stamp(item: &Item, property: &str) -> Result<Option<Stamp>, GraphMappingError> {
    let path = format!("{property}.");
    let Some(dtz) = item.object(property, &path)? else {
        return Ok(None);
    };
    let Some(text) = dtz.text("dateTime")? else {
        return Ok(None);
    };
    let local = parse_wall(&text).ok_or_else(|| {
        dtz.bad(
            "dateTime",
            &text,
            "a date and time like 2026-12-10T09:00:00.0000000",
        )
    })?;
    let zone_name = dtz.text("timeZone")?.unwrap_or_else(|| "UTC".into());
    Ok(Some(Stamp {
        local,
        zone: resolve(&zone_name),
        zone_name,
    }))
}

/// `2026-12-10T09:00:00.0000000` (a trailing `Z` is tolerated: it says UTC, as the zone does).
pub(crate) fn parse_wall(text: &str) -> Option<NaiveDateTime> {
    let text = text.trim();
    let text = text.strip_suffix('Z').unwrap_or(text);
    NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f").ok()
}

/// A `DateTimeOffset` (`1980-05-01T11:59:59Z`, `2026-01-05T08:00:00+01:00`).
pub(crate) fn parse_offset(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text.trim())
        .ok()
        .map(|t| t.with_timezone(&Utc))
        .or_else(|| parse_wall(text).map(|t| t.and_utc()))
}

/// A Graph `Date` (`2026-12-31`).
pub(crate) fn parse_date(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").ok()
}

/// Wall-clock time in a zone to UTC. A time the clocks skip is read with the offset from before
/// the gap (RFC 5545 §3.3.5, as the codec does); an ambiguous one takes the first instant.
pub(crate) fn to_utc(local: NaiveDateTime, tz: Tz) -> DateTime<Utc> {
    for hours in 0..=3 {
        let Some(shifted) = local.checked_add_signed(Duration::hours(hours)) else {
            break;
        };
        if let Some(t) = tz.from_local_datetime(&shifted).earliest() {
            return t.with_timezone(&Utc);
        }
    }
    local.and_utc()
}

pub(crate) fn to_local(t: DateTime<Utc>, tz: Tz) -> NaiveDateTime {
    t.with_timezone(&tz).naive_local()
}

/// The calendar day of a value Outlook stores as midnight of that day in some zone (a To Do due
/// date, an all-day event's start). Read at midnight in the zone given, it is that day (the date
/// part, never the UTC date). Graph often answers in another zone (UTC unless asked otherwise,
/// while To Do keeps the zone the user was in): then the user's own midnight, else
/// [`midnight_somewhere`].
pub(crate) fn day_of(local: NaiveDateTime, given: Option<Tz>, user: Tz) -> NaiveDate {
    if local.time() == NaiveTime::MIN {
        return local.date();
    }
    let utc = given.map_or_else(|| local.and_utc(), |tz| to_utc(local, tz));
    let mine = to_local(utc, user);
    if mine.time() == NaiveTime::MIN {
        return mine.date();
    }
    midnight_somewhere(utc)
}

/// The day whose midnight, in some zone from UTC−12 to UTC+14, is the instant `t`. Zones 26
/// hours apart share a time of day: at 10:00 UTC it is midnight in Honolulu (UTC−10) and in
/// Kiritimati (UTC+14), at 11:00 in Niue (UTC−11) and in Auckland in summer (UTC+13). The more
/// populous side wins: up to 10:59 UTC the same day (a zone west of Greenwich), from 11:00
/// the next day (a zone east of it).
fn midnight_somewhere(t: DateTime<Utc>) -> NaiveDate {
    t.checked_add_signed(Duration::hours(13))
        .map_or(t.date_naive(), |t| t.date_naive())
}

/// A contact's birthday. Outlook writes noon-ish UTC (`T11:59:59Z`, `T12:00:00Z`) or the local
/// midnight of the zone it ran in (`1980-04-30T22:00:00Z` from Berlin): midnight in UTC or in
/// the user's zone first, then noon as a UTC day, then [`midnight_somewhere`].
pub(crate) fn birthday_of(t: DateTime<Utc>, user: Tz) -> NaiveDate {
    if t.time() == NaiveTime::MIN {
        return t.date_naive();
    }
    let mine = to_local(t, user);
    if mine.time() == NaiveTime::MIN {
        return mine.date();
    }
    if (10..14).contains(&t.hour()) {
        return t.date_naive();
    }
    midnight_somewhere(t)
}

/// A birthday as Outlook writes it: just before noon UTC, the same day in every zone from
/// UTC−12 to UTC+12.
pub(crate) fn birthday_value(day: NaiveDate) -> Value {
    Value::String(format!("{}T11:59:59Z", day.format("%Y-%m-%d")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> NaiveDateTime {
        parse_wall(s).unwrap()
    }

    #[test]
    fn graph_wall_times_round_trip_with_seven_digits() {
        let t = at("2026-12-10T09:30:00.0000000");
        assert_eq!(wall(t), "2026-12-10T09:30:00.0000000");
        assert_eq!(at("2026-12-10T09:30:00"), t);
        assert_eq!(
            wall(at("2020-08-18T09:03:05.8339192")),
            "2020-08-18T09:03:05.8339192"
        );
    }

    #[test]
    fn zones_resolve_by_windows_and_iana_names() {
        assert_eq!(
            resolve("W. Europe Standard Time"),
            Some(chrono_tz::Europe::Berlin)
        );
        assert_eq!(
            resolve("Hawaiian Standard Time"),
            Some(chrono_tz::Pacific::Honolulu)
        );
        assert_eq!(
            resolve("Pacific/Auckland"),
            Some(chrono_tz::Pacific::Auckland)
        );
        assert_eq!(resolve("UTC"), Some(Tz::UTC));
        assert_eq!(resolve(CUSTOM_ZONE), None);
    }

    #[test]
    fn zones_are_sent_by_a_name_graph_accepts() {
        let around = Utc.with_ymd_and_hms(2026, 6, 1, 0, 0, 0).unwrap();
        let sent = |tzid: &str| send_zone(tzid, around).name;
        assert_eq!(sent("W. Europe Standard Time"), "W. Europe Standard Time");
        assert_eq!(sent("Europe/Paris"), "Europe/Paris");
        // Not in Graph's list: a listed zone with the same rules.
        assert_eq!(sent("Europe/Vienna"), "Europe/Berlin");
        assert_eq!(sent("Etc/UTC"), "UTC");
        // A display name calcard knows but Graph refuses: its IANA zone instead.
        assert_eq!(
            sent("Amsterdam, Berlin, Bern, Rome, Stockholm, Vienna"),
            "Europe/Berlin"
        );
        assert_eq!(sent("Mars/Olympus_Mons"), "UTC");
    }

    #[test]
    fn a_day_stored_as_midnight_elsewhere_keeps_its_date() {
        let berlin = chrono_tz::Europe::Berlin;
        let honolulu = chrono_tz::Pacific::Honolulu;
        let day = NaiveDate::from_ymd_opt(2024, 10, 24).unwrap();
        // Midnight in the zone given: the date part, whatever the user's zone.
        assert_eq!(
            day_of(at("2024-10-24T00:00:00"), Some(honolulu), berlin),
            day
        );
        // Due 24 October set in UTC−10 and in UTC+14, answered in UTC (RogerSelwyn/MS365-ToDo#29).
        assert_eq!(
            day_of(at("2024-10-24T10:00:00"), Some(Tz::UTC), honolulu),
            day
        );
        assert_eq!(
            day_of(at("2024-10-24T10:00:00"), Some(Tz::UTC), berlin),
            day
        );
        assert_eq!(
            day_of(
                at("2024-10-23T10:00:00"),
                Some(Tz::UTC),
                chrono_tz::Pacific::Kiritimati
            ),
            day
        );
        // Set in Auckland (UTC+13 in summer) or Berlin, read by someone elsewhere.
        let auckland = chrono_tz::Pacific::Auckland;
        assert_eq!(
            day_of(at("2024-12-23T11:00:00"), Some(Tz::UTC), berlin),
            NaiveDate::from_ymd_opt(2024, 12, 24).unwrap()
        );
        assert_eq!(
            day_of(at("2024-12-23T23:00:00"), Some(Tz::UTC), auckland),
            NaiveDate::from_ymd_opt(2024, 12, 24).unwrap()
        );
    }

    #[test]
    fn birthdays_keep_their_day() {
        let day = NaiveDate::from_ymd_opt(1980, 5, 1).unwrap();
        let berlin = chrono_tz::Europe::Berlin;
        let utc = |s: &str| parse_offset(s).unwrap();
        assert_eq!(
            birthday_of(utc("1980-05-01T11:59:59Z"), chrono_tz::America::Los_Angeles),
            day
        );
        assert_eq!(
            birthday_of(utc("1980-05-01T11:59:59Z"), chrono_tz::Pacific::Auckland),
            day
        );
        assert_eq!(birthday_of(utc("1980-04-30T22:00:00Z"), berlin), day);
        assert_eq!(birthday_of(utc("1980-05-01T00:00:00Z"), berlin), day);
        assert_eq!(
            birthday_of(utc("1980-05-01T04:00:00Z"), chrono_tz::America::New_York),
            day
        );
        assert_eq!(birthday_value(day), "1980-05-01T11:59:59Z");
    }
}
