//! RRULE ⇄ `Recurrence2PatternText`: Salesforce's subset, its normalisation, and comparing
//! rules by meaning so a rule Salesforce rewrote is not taken for a change (no update ping-pong).

use super::error::MappingError;
use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use std::collections::{BTreeMap, BTreeSet};

/// The order Salesforce writes the parts of a normalised rule in.
const SALESFORCE_ORDER: [&str; 9] = [
    "FREQ",
    "BYMONTH",
    "BYMONTHDAY",
    "BYDAY",
    "WKST",
    "BYSETPOS",
    "INTERVAL",
    "UNTIL",
    "COUNT",
];

/// Ordinals Salesforce accepts in BYDAY prefixes and BYSETPOS.
const ORDINALS: [i32; 5] = [-1, 1, 2, 3, 4];

const WEEKDAYS: [&str; 7] = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"];

/// A rule split into its parts, names upper-cased, values kept in the order given.
#[derive(Debug, Clone)]
struct Parts {
    parts: Vec<(String, String)>,
}

impl Parts {
    fn parse(text: &str) -> Result<Parts, String> {
        let body = text.trim();
        if body.contains('\n') || body.contains('\r') {
            return Err(
                "only one RRULE line is allowed; EXDATE, RDATE and multiple rules aren't supported"
                    .into(),
            );
        }
        let body = strip_prefix(body);
        if body.to_ascii_uppercase().contains("RRULE:") {
            return Err("only one RRULE is allowed per event series".into());
        }
        let mut parts: Vec<(String, String)> = Vec::new();
        for part in body.split(';').map(str::trim).filter(|p| !p.is_empty()) {
            let Some((name, value)) = part.split_once('=') else {
                return Err(format!("`{part}` is not NAME=VALUE"));
            };
            let name = name.trim().to_ascii_uppercase();
            let value = value.trim().to_ascii_uppercase();
            if name.is_empty() || value.is_empty() {
                return Err(format!("`{part}` is not NAME=VALUE"));
            }
            if parts.iter().any(|(n, _)| *n == name) {
                return Err(format!("{name} appears more than once"));
            }
            parts.push((name, value));
        }
        if parts.is_empty() {
            return Err("the rule is empty".into());
        }
        Ok(Parts { parts })
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.parts
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn set(&mut self, name: &str, value: String) {
        match self.parts.iter_mut().find(|(n, _)| n == name) {
            Some(part) => part.1 = value,
            None => self.parts.push((name.to_string(), value)),
        }
    }
}

fn strip_prefix(body: &str) -> &str {
    match body.get(..6) {
        Some(p) if p.eq_ignore_ascii_case("RRULE:") => body.get(6..).unwrap_or(""),
        _ => body,
    }
}

/// `1MO` → (Some(1), "MO"); `+2TU` → (Some(2), "TU"); `SU` → (None, "SU").
fn split_byday(item: &str) -> Result<(Option<i32>, &str), String> {
    let split = item.len().saturating_sub(2);
    let (ordinal, day) = match (item.get(..split), item.get(split..)) {
        (Some(o), Some(d)) => (o, d),
        _ => return Err(format!("BYDAY value `{item}` isn't a weekday")),
    };
    if !WEEKDAYS.contains(&day) {
        return Err(format!("BYDAY value `{item}` isn't a weekday"));
    }
    if ordinal.is_empty() {
        return Ok((None, day));
    }
    let n = ordinal
        .trim_start_matches('+')
        .parse::<i32>()
        .map_err(|_| format!("BYDAY value `{item}` has a bad ordinal"))?;
    if n == 0 || !(-53..=53).contains(&n) {
        return Err(format!("BYDAY value `{item}` has a bad ordinal"));
    }
    Ok((Some(n), day))
}

fn numbers(name: &str, value: &str) -> Result<BTreeSet<i32>, String> {
    value
        .split(',')
        .map(|v| {
            v.trim()
                .trim_start_matches('+')
                .parse::<i32>()
                .map_err(|_| format!("{name} must be a list of numbers, not `{value}`"))
        })
        .collect()
}

fn positive(name: &str, value: &str) -> Result<u32, String> {
    value
        .parse::<u32>()
        .map_err(|_| format!("{name} must be a positive number, not `{value}`"))
}

/// UNTIL as Salesforce wants it: a UTC instant `yyyyMMddTHHmmssZ`.
fn utc_until(value: &str) -> Option<chrono::DateTime<Utc>> {
    let naive = value.strip_suffix('Z')?;
    NaiveDateTime::parse_from_str(naive, "%Y%m%dT%H%M%S")
        .ok()
        .map(|t| Utc.from_utc_datetime(&t))
}

/// The meaning of a rule, independent of spelling: every part a set, defaults filled in, parts
/// that cannot change the occurrences (WKST for most rules) left out.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Meaning {
    freq: String,
    interval: u32,
    count: Option<u32>,
    until: Option<String>,
    wkst: Option<String>,
    by_day: BTreeSet<(Option<i32>, String)>,
    by_set_pos: BTreeSet<i32>,
    other: BTreeMap<String, BTreeSet<i32>>,
}

fn meaning(text: &str) -> Result<Meaning, String> {
    let parts = Parts::parse(text)?;
    let mut m = Meaning {
        freq: String::new(),
        interval: 1,
        count: None,
        until: None,
        wkst: None,
        by_day: BTreeSet::new(),
        by_set_pos: BTreeSet::new(),
        other: BTreeMap::new(),
    };
    for (name, value) in &parts.parts {
        match name.as_str() {
            "FREQ" => m.freq = value.clone(),
            "INTERVAL" => m.interval = positive("INTERVAL", value)?.max(1),
            "COUNT" => m.count = Some(positive("COUNT", value)?),
            "UNTIL" => {
                // Same instant, same meaning; a date or a floating time is kept as written.
                m.until = Some(match utc_until(value) {
                    Some(t) => t.format("%Y%m%dT%H%M%SZ").to_string(),
                    None => value.clone(),
                });
            }
            "WKST" => {
                if !WEEKDAYS.contains(&value.as_str()) {
                    return Err(format!("WKST={value} isn't a weekday"));
                }
                m.wkst = Some(value.clone());
            }
            "BYDAY" => {
                for item in value.split(',') {
                    let (n, d) = split_byday(item.trim())?;
                    m.by_day.insert((n, d.to_string()));
                }
            }
            "BYSETPOS" => m.by_set_pos = numbers(name, value)?,
            _ => {
                m.other.insert(name.clone(), numbers(name, value)?);
            }
        }
    }
    if m.freq.is_empty() {
        return Err("FREQ is required".into());
    }
    // "The first Friday" spelled BYDAY=FR;BYSETPOS=1 or BYDAY=1FR.
    if matches!(m.freq.as_str(), "MONTHLY" | "YEARLY")
        && m.by_day.len() == 1
        && m.by_set_pos.len() == 1
        && m.by_day.iter().all(|(n, _)| n.is_none())
    {
        let pos = m.by_set_pos.iter().next().copied();
        m.by_day = m.by_day.iter().map(|(_, d)| (pos, d.clone())).collect();
        m.by_set_pos.clear();
    }
    // WKST changes the occurrences only when weeks are skipped and a week holds several
    // days, or when weeks are numbered; elsewhere Salesforce's added WKST=SU means nothing.
    let significant = (m.freq == "WEEKLY" && m.interval > 1 && m.by_day.len() > 1)
        || m.other.contains_key("BYWEEKNO");
    m.wkst = if significant {
        Some(m.wkst.unwrap_or_else(|| "MO".to_string()))
    } else {
        None
    };
    Ok(m)
}

/// Do two rules produce the same occurrences (for the same start)? Spelling, order, case,
/// the `RRULE:` prefix and defaults Salesforce adds don't matter; a rule that cannot be read
/// is never the same as anything.
pub fn same_recurrence(a: &str, b: &str) -> bool {
    match (meaning(a), meaning(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// `same_recurrence` for two rules of a series that starts on `first`: the parts a rule leaves
/// to the start (a weekly rule's day) count as written. Outlook writes them out
/// (`FREQ=WEEKLY;BYDAY=MO`) where a client left them to the start (`FREQ=WEEKLY`).
pub fn same_recurrence_from(a: &str, b: &str, first: NaiveDate) -> bool {
    let complete = |rule: &str| -> Option<String> {
        let mut parts = Parts::parse(rule).ok()?;
        complete_from_start(&mut parts, first);
        Some(render(&parts, None))
    };
    match (complete(a), complete(b)) {
        (Some(a), Some(b)) => same_recurrence(&a, &b),
        _ => false,
    }
}

/// Check a rule against the subset Salesforce accepts for an event series and return it in
/// the form Salesforce stores: `RRULE:` prefix, parts in Salesforce's order, `INTERVAL`
/// always, `WKST=SU` added to weekly rules.
pub fn normalize_rrule(rule: &str) -> Result<String, MappingError> {
    let parts = Parts::parse(rule).map_err(|reason| unsupported(rule, reason))?;
    validate(&parts).map_err(|reason| unsupported(rule, reason))?;
    Ok(render(&parts, Some("SU")))
}

/// The pattern to send for a record's rule: UNTIL turned into UTC with the series' zone (a
/// client often writes a date or a local time), the parts RFC 5545 takes from the start when a
/// rule leaves them out written down (`first` is the series' first day, in its zone), and an
/// explicit `WKST=MO` when the week start matters and the client left it to the RFC default,
/// because Salesforce would assume Sunday.
pub fn salesforce_pattern(rule: &str, tz: Tz, first: NaiveDate) -> Result<String, MappingError> {
    let mut parts = Parts::parse(rule).map_err(|reason| unsupported(rule, reason))?;
    complete_from_start(&mut parts, first);
    if let Some(until) = parts.get("UNTIL").map(str::to_string)
        && utc_until(&until).is_none()
    {
        let local = if let Ok(d) = NaiveDate::parse_from_str(&until, "%Y%m%d") {
            // A date UNTIL includes the whole day.
            d.and_time(NaiveTime::from_hms_opt(23, 59, 59).unwrap_or(NaiveTime::MIN))
        } else {
            NaiveDateTime::parse_from_str(&until, "%Y%m%dT%H%M%S").map_err(|_| {
                unsupported(
                    rule,
                    format!("UNTIL must be a date or a date-time, not `{until}`"),
                )
            })?
        };
        let utc = tz
            .from_local_datetime(&local)
            .latest()
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_else(|| Utc.from_utc_datetime(&local));
        parts.set("UNTIL", utc.format("%Y%m%dT%H%M%SZ").to_string());
    }
    validate(&parts).map_err(|reason| unsupported(rule, reason))?;
    let weekly_multi = parts.get("FREQ") == Some("WEEKLY")
        && parts.get("INTERVAL").is_some_and(|i| i != "1")
        && parts.get("BYDAY").is_some_and(|d| d.contains(','));
    let wkst_default = if weekly_multi { "MO" } else { "SU" };
    Ok(render(&parts, Some(wkst_default)))
}

/// The rule text to keep in a record: Salesforce's pattern without the `RRULE:` prefix.
pub fn record_rule(pattern: &str) -> String {
    strip_prefix(pattern.trim()).to_string()
}

/// RFC 5545 §3.3.10: a weekly rule without BYDAY recurs on the start's weekday, a monthly one
/// without BYDAY or BYMONTHDAY on the start's day of the month, a yearly one on the start's
/// month and day. Salesforce wants these written, so they are filled in; a rule that names
/// them already is left as it is.
fn complete_from_start(parts: &mut Parts, first: NaiveDate) {
    let weekday = WEEKDAYS[first.weekday().num_days_from_monday() as usize];
    let (has_day, has_month_day, has_month) = (
        parts.get("BYDAY").is_some(),
        parts.get("BYMONTHDAY").is_some(),
        parts.get("BYMONTH").is_some(),
    );
    match parts.get("FREQ") {
        Some("WEEKLY") if !has_day => parts.set("BYDAY", weekday.to_string()),
        Some("MONTHLY") if !has_day && !has_month_day => {
            parts.set("BYMONTHDAY", first.day().to_string());
        }
        Some("YEARLY") if !has_day => {
            if !has_month {
                parts.set("BYMONTH", first.month().to_string());
            }
            if !has_month_day {
                parts.set("BYMONTHDAY", first.day().to_string());
            }
        }
        _ => {}
    }
}

fn unsupported(rule: &str, reason: String) -> MappingError {
    MappingError::UnsupportedRecurrence {
        rule: rule.to_string(),
        reason,
    }
}

fn render(parts: &Parts, weekly_wkst: Option<&str>) -> String {
    let freq = parts.get("FREQ").unwrap_or("");
    let mut out = Vec::new();
    for name in SALESFORCE_ORDER {
        let value = match name {
            "INTERVAL" => Some(
                parts
                    .get("INTERVAL")
                    .and_then(|v| v.parse::<u32>().ok())
                    .unwrap_or(1)
                    .to_string(),
            ),
            "WKST" => parts
                .get("WKST")
                .map(str::to_string)
                .or_else(|| (freq == "WEEKLY").then(|| weekly_wkst.unwrap_or("SU").to_string())),
            "BYDAY" => parts.get("BYDAY").map(render_byday),
            "BYMONTH" | "BYMONTHDAY" | "BYSETPOS" | "COUNT" => parts.get(name).map(|v| {
                v.trim_start_matches('+')
                    .parse::<i32>()
                    .map(|n| n.to_string())
                    .unwrap_or_else(|_| v.to_string())
            }),
            _ => parts.get(name).map(str::to_string),
        };
        if let Some(v) = value {
            out.push(format!("{name}={v}"));
        }
    }
    format!("RRULE:{}", out.join(";"))
}

/// BYDAY as Salesforce writes it: `+1MO` → `1MO`, duplicates dropped, order kept.
fn render_byday(value: &str) -> String {
    let mut seen: Vec<&str> = Vec::new();
    let mut items = Vec::new();
    for item in value.split(',') {
        if let Ok((n, d)) = split_byday(item.trim()) {
            if seen.contains(&d) {
                continue;
            }
            seen.push(d);
            items.push(format!(
                "{}{d}",
                n.map(|n| n.to_string()).unwrap_or_default()
            ));
        }
    }
    items.join(",")
}

/// Salesforce's rules for `Recurrence2PatternText` (Event object reference, "event series").
fn validate(parts: &Parts) -> Result<(), String> {
    for (name, _) in &parts.parts {
        match name.as_str() {
            "FREQ" | "INTERVAL" | "COUNT" | "UNTIL" | "BYMONTH" | "BYMONTHDAY" | "BYDAY"
            | "WKST" | "BYSETPOS" => {}
            "BYWEEKNO" | "BYYEARDAY" => {
                return Err(match parts.get("FREQ") {
                    Some("YEARLY") => format!(
                        "{name} isn't supported: tandem sends yearly series only as BYMONTH with BYMONTHDAY or BYDAY"
                    ),
                    _ => format!("{name} is only allowed in yearly rules"),
                });
            }
            "BYHOUR" | "BYMINUTE" | "BYSECOND" => {
                return Err(format!(
                    "{name} isn't supported: a series has one occurrence per day at the start time"
                ));
            }
            other => return Err(format!("{other} isn't supported in an event series")),
        }
    }
    let freq = parts.get("FREQ").ok_or("FREQ is required")?;
    let max_interval = match freq {
        "DAILY" => 999,
        "WEEKLY" | "MONTHLY" => 99,
        "YEARLY" => 1,
        other => {
            return Err(format!(
                "FREQ={other} isn't supported (DAILY, WEEKLY, MONTHLY or YEARLY)"
            ));
        }
    };
    let interval = match parts.get("INTERVAL") {
        Some(v) => positive("INTERVAL", v)?,
        None => 1,
    };
    if !(1..=max_interval).contains(&interval) {
        return Err(format!(
            "INTERVAL for FREQ={freq} must be between 1 and {max_interval}, not {interval}"
        ));
    }
    if let Some(c) = parts.get("COUNT") {
        let c = positive("COUNT", c)?;
        if !(1..=999).contains(&c) {
            return Err(format!("COUNT must be between 1 and 999, not {c}"));
        }
    }
    if let Some(u) = parts.get("UNTIL")
        && utc_until(u).is_none()
    {
        return Err(format!(
            "UNTIL must be a UTC time yyyyMMddTHHmmssZ, not `{u}`"
        ));
    }
    if parts.get("UNTIL").is_some() && parts.get("COUNT").is_some() {
        return Err("UNTIL and COUNT can't both be used".into());
    }
    if let Some(m) = parts.get("BYMONTH") {
        let m = positive("BYMONTH", m).map_err(|_| "BYMONTH must be a single month 1-12")?;
        if !(1..=12).contains(&m) {
            return Err("BYMONTH must be a single month 1-12".into());
        }
    }
    if let Some(d) = parts.get("BYMONTHDAY") {
        let d = positive("BYMONTHDAY", d).map_err(|_| "BYMONTHDAY must be a single day 1-31")?;
        if !(1..=31).contains(&d) {
            return Err("BYMONTHDAY must be a single day 1-31".into());
        }
    }
    if let Some(p) = parts.get("BYSETPOS") {
        let p = p
            .trim_start_matches('+')
            .parse::<i32>()
            .map_err(|_| "BYSETPOS must be one of -1, 1, 2, 3, 4")?;
        if !ORDINALS.contains(&p) {
            return Err("BYSETPOS must be one of -1, 1, 2, 3, 4".into());
        }
    }
    if let Some(w) = parts.get("WKST")
        && !WEEKDAYS.contains(&w)
    {
        return Err(format!("WKST={w} isn't a weekday"));
    }
    let mut ordinals = Vec::new();
    if let Some(days) = parts.get("BYDAY") {
        for item in days.split(',') {
            let (n, _) = split_byday(item.trim())?;
            if let Some(n) = n
                && !ORDINALS.contains(&n)
            {
                return Err("numeric BYDAY prefixes must be -1, 1, 2, 3 or 4".into());
            }
            ordinals.push(n);
        }
    }
    let numbered = ordinals.iter().any(Option::is_some);
    if numbered && ordinals.iter().any(|o| Some(o) != ordinals.first()) {
        return Err("numeric BYDAY prefixes must all be the same".into());
    }
    if numbered && parts.get("BYSETPOS").is_some() {
        return Err("BYSETPOS can't be combined with numbered BYDAY values".into());
    }
    let has_day = !ordinals.is_empty();
    let (month, month_day, set_pos) = (
        parts.get("BYMONTH").is_some(),
        parts.get("BYMONTHDAY").is_some(),
        parts.get("BYSETPOS").is_some(),
    );
    match freq {
        "DAILY" if has_day || month || month_day || set_pos => {
            Err("FREQ=DAILY doesn't take BYDAY, BYMONTH, BYMONTHDAY or BYSETPOS".into())
        }
        "WEEKLY" if !has_day => Err("FREQ=WEEKLY requires BYDAY".into()),
        "WEEKLY" if numbered => Err("FREQ=WEEKLY requires BYDAY without numeric prefixes".into()),
        "WEEKLY" if month || month_day || set_pos => {
            Err("FREQ=WEEKLY doesn't take BYMONTH, BYMONTHDAY or BYSETPOS".into())
        }
        "MONTHLY" if month => Err("FREQ=MONTHLY doesn't take BYMONTH".into()),
        "YEARLY" if !month => Err("FREQ=YEARLY requires BYMONTH".into()),
        "MONTHLY" | "YEARLY" => {
            let by_month_day = month_day && !has_day && !set_pos;
            let by_set_pos = has_day && !numbered && set_pos && !month_day;
            let nth = numbered && ordinals.len() == 1 && !month_day;
            if by_month_day || by_set_pos || nth {
                Ok(())
            } else {
                Err(format!(
                    "FREQ={freq} requires exactly one of BYMONTHDAY, BYDAY with BYSETPOS, or one numbered BYDAY (like 1FR)"
                ))
            }
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_like_salesforce() {
        assert_eq!(
            normalize_rrule("FREQ=WEEKLY;COUNT=13;BYDAY=MO").unwrap(),
            "RRULE:FREQ=WEEKLY;BYDAY=MO;WKST=SU;INTERVAL=1;COUNT=13"
        );
        assert_eq!(
            normalize_rrule("rrule:count=5;bymonthday=15;freq=monthly").unwrap(),
            "RRULE:FREQ=MONTHLY;BYMONTHDAY=15;INTERVAL=1;COUNT=5"
        );
        assert_eq!(
            normalize_rrule("FREQ=YEARLY;BYSETPOS=-1;BYDAY=FR;BYMONTH=11").unwrap(),
            "RRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=FR;BYSETPOS=-1;INTERVAL=1"
        );
        assert_eq!(
            normalize_rrule("FREQ=MONTHLY;BYDAY=+2TU;UNTIL=20241231T230000Z").unwrap(),
            "RRULE:FREQ=MONTHLY;BYDAY=2TU;INTERVAL=1;UNTIL=20241231T230000Z"
        );
    }

    #[test]
    fn the_outgoing_pattern_keeps_the_clients_meaning() {
        let berlin: Tz = "Europe/Berlin".parse().unwrap();
        let monday = NaiveDate::from_ymd_opt(2024, 1, 8).unwrap();
        assert_eq!(
            salesforce_pattern("FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,SU", berlin, monday).unwrap(),
            "RRULE:FREQ=WEEKLY;BYDAY=MO,SU;WKST=MO;INTERVAL=2"
        );
        assert_eq!(
            salesforce_pattern("FREQ=DAILY;UNTIL=20240610", berlin, monday).unwrap(),
            "RRULE:FREQ=DAILY;INTERVAL=1;UNTIL=20240610T215959Z"
        );
        assert_eq!(
            salesforce_pattern("FREQ=DAILY;UNTIL=20240110T090000", berlin, monday).unwrap(),
            "RRULE:FREQ=DAILY;INTERVAL=1;UNTIL=20240110T080000Z"
        );
    }

    #[test]
    fn what_a_rule_leaves_to_the_start_is_written_down() {
        let utc: Tz = "UTC".parse().unwrap();
        // Tuesday 5 March 2024.
        let first = NaiveDate::from_ymd_opt(2024, 3, 5).unwrap();
        for (given, sent) in [
            (
                "FREQ=WEEKLY;COUNT=6",
                "RRULE:FREQ=WEEKLY;BYDAY=TU;WKST=SU;INTERVAL=1;COUNT=6",
            ),
            (
                "FREQ=MONTHLY;INTERVAL=2",
                "RRULE:FREQ=MONTHLY;BYMONTHDAY=5;INTERVAL=2",
            ),
            (
                "FREQ=YEARLY",
                "RRULE:FREQ=YEARLY;BYMONTH=3;BYMONTHDAY=5;INTERVAL=1",
            ),
            (
                "FREQ=YEARLY;BYMONTH=4",
                "RRULE:FREQ=YEARLY;BYMONTH=4;BYMONTHDAY=5;INTERVAL=1",
            ),
            // Already said: kept.
            (
                "FREQ=MONTHLY;BYDAY=1FR",
                "RRULE:FREQ=MONTHLY;BYDAY=1FR;INTERVAL=1",
            ),
        ] {
            assert_eq!(
                salesforce_pattern(given, utc, first).unwrap(),
                sent,
                "{given}"
            );
        }
        // Still refused with its reason: what Salesforce cannot express at all.
        let err = salesforce_pattern("FREQ=YEARLY;BYDAY=MO", utc, first).unwrap_err();
        assert!(err.to_string().contains("BYMONTH"), "{err}");
    }
}
