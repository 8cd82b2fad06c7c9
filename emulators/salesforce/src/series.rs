//! Lightning event series: the documented RRULE subset of `Recurrence2PatternText`, its normalisation,
//! occurrence generation as Event rows, and the "this and following" edit/delete semantics.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, TimeZone, Utc, Weekday};
use chrono_tz::Tz;

use super::errors::ApiError;
use super::org::{Org, Record, WriteCtx, truncate_seconds};
use super::schema;
use super::value::Value;

const MAX_OCCURRENCES: usize = 999;
const MAX_SPAN_DAYS: i64 = 20 * 366;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freq {
    Daily,
    Weekly,
    Monthly,
    Yearly,
}

impl Freq {
    fn name(self) -> &'static str {
        match self {
            Freq::Daily => "DAILY",
            Freq::Weekly => "WEEKLY",
            Freq::Monthly => "MONTHLY",
            Freq::Yearly => "YEARLY",
        }
    }

    fn max_interval(self) -> u32 {
        match self {
            Freq::Daily => 999,
            Freq::Weekly | Freq::Monthly => 99,
            Freq::Yearly => 1,
        }
    }
}

/// A parsed, validated series rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub freq: Freq,
    pub interval: u32,
    pub by_month: Option<u32>,
    pub by_month_day: Option<u32>,
    pub by_day: Vec<(Option<i32>, Weekday)>,
    pub wkst: Option<Weekday>,
    pub by_set_pos: Option<i32>,
    pub until: Option<DateTime<Utc>>,
    pub count: Option<u32>,
}

fn weekday(code: &str) -> Option<Weekday> {
    Some(match code {
        "MO" => Weekday::Mon,
        "TU" => Weekday::Tue,
        "WE" => Weekday::Wed,
        "TH" => Weekday::Thu,
        "FR" => Weekday::Fri,
        "SA" => Weekday::Sat,
        "SU" => Weekday::Sun,
        _ => return None,
    })
}

fn weekday_code(d: Weekday) -> &'static str {
    match d {
        Weekday::Mon => "MO",
        Weekday::Tue => "TU",
        Weekday::Wed => "WE",
        Weekday::Thu => "TH",
        Weekday::Fri => "FR",
        Weekday::Sat => "SA",
        Weekday::Sun => "SU",
    }
}

const ALLOWED_ORDINALS: [i32; 5] = [-1, 1, 2, 3, 4];

fn number<T: std::str::FromStr>(name: &str, v: &str) -> Result<T, String> {
    v.parse::<T>()
        .map_err(|_| format!("{name} must be a number, not '{v}'"))
}

/// Parses and validates an RRULE against Salesforce's subset; errors say which constraint failed.
pub fn parse(text: &str) -> Result<Rule, String> {
    let body = text.trim();
    let body = body
        .strip_prefix("RRULE:")
        .or_else(|| body.strip_prefix("rrule:"))
        .unwrap_or(body);
    if body.is_empty() {
        return Err("the recurrence pattern is empty".into());
    }
    if body.contains('\n') || body.contains("RRULE:") {
        return Err(
            "only one RRULE is allowed; EXDATE, RDATE and multiple rules aren't supported".into(),
        );
    }
    let mut freq = None;
    let mut interval = None;
    let (mut by_month, mut by_month_day, mut by_set_pos) = (None, None, None);
    let mut by_day = Vec::new();
    let (mut wkst, mut until, mut count) = (None, None, None);
    let mut seen: Vec<String> = Vec::new();
    for part in body.split(';').filter(|p| !p.is_empty()) {
        let Some((name, value)) = part.split_once('=') else {
            return Err(format!("'{part}' is not NAME=VALUE"));
        };
        let name = name.trim().to_ascii_uppercase();
        let value = value.trim().to_ascii_uppercase();
        if seen.contains(&name) {
            return Err(format!("{name} appears more than once"));
        }
        seen.push(name.clone());
        match name.as_str() {
            "FREQ" => {
                freq = Some(match value.as_str() {
                    "DAILY" => Freq::Daily,
                    "WEEKLY" => Freq::Weekly,
                    "MONTHLY" => Freq::Monthly,
                    "YEARLY" => Freq::Yearly,
                    other => {
                        return Err(format!(
                            "FREQ={other} isn't supported (DAILY, WEEKLY, MONTHLY, YEARLY)"
                        ));
                    }
                })
            }
            "INTERVAL" => interval = Some(number::<u32>("INTERVAL", &value)?),
            "COUNT" => {
                let c = number::<u32>("COUNT", &value)?;
                if !(1..=999).contains(&c) {
                    return Err("COUNT must be between 1 and 999".into());
                }
                count = Some(c);
            }
            "UNTIL" => {
                let t = NaiveDateTime::parse_from_str(&value, "%Y%m%dT%H%M%SZ").map_err(|_| {
                    format!("UNTIL must use the format yyyyMMddTHHmmssZ, not '{value}'")
                })?;
                until = Some(Utc.from_utc_datetime(&t));
            }
            "BYMONTH" => {
                let m = number::<u32>("BYMONTH", &value)?;
                if !(1..=12).contains(&m) {
                    return Err("BYMONTH must be a single month 1-12".into());
                }
                by_month = Some(m);
            }
            "BYMONTHDAY" => {
                let d = number::<u32>("BYMONTHDAY", &value)?;
                if !(1..=31).contains(&d) {
                    return Err("BYMONTHDAY must be a single day 1-31".into());
                }
                by_month_day = Some(d);
            }
            "BYSETPOS" => {
                let p = number::<i32>("BYSETPOS", &value)?;
                if !ALLOWED_ORDINALS.contains(&p) {
                    return Err("BYSETPOS must be one of -1, 1, 2, 3, 4".into());
                }
                by_set_pos = Some(p);
            }
            "WKST" => {
                wkst = Some(weekday(&value).ok_or_else(|| format!("WKST={value} isn't a weekday"))?)
            }
            "BYDAY" => {
                for item in value.split(',') {
                    let split = item.len().saturating_sub(2);
                    if !item.is_char_boundary(split) {
                        return Err(format!("BYDAY value '{item}' isn't a weekday"));
                    }
                    let (ordinal, code) = item.split_at(split);
                    let day = weekday(code)
                        .ok_or_else(|| format!("BYDAY value '{item}' isn't a weekday"))?;
                    let ordinal = if ordinal.is_empty() {
                        None
                    } else {
                        let n = number::<i32>("BYDAY prefix", ordinal.trim_start_matches('+'))?;
                        if !ALLOWED_ORDINALS.contains(&n) {
                            return Err("numeric BYDAY prefixes must be -1, 1, 2, 3 or 4".into());
                        }
                        Some(n)
                    };
                    if !by_day.iter().any(|(_, d)| *d == day) {
                        by_day.push((ordinal, day));
                    }
                }
            }
            other => {
                return Err(format!(
                    "{other} isn't supported in an event series pattern"
                ));
            }
        }
    }
    let freq = freq.ok_or("FREQ is required")?;
    let interval = interval.unwrap_or(1);
    if interval < 1 || interval > freq.max_interval() {
        return Err(format!(
            "INTERVAL for FREQ={} must be between 1 and {}",
            freq.name(),
            freq.max_interval()
        ));
    }
    if until.is_some() && count.is_some() {
        return Err("UNTIL and COUNT can't both be used".into());
    }
    let ordinals: Vec<Option<i32>> = by_day.iter().map(|(o, _)| *o).collect();
    let numbered = ordinals.iter().any(Option::is_some);
    if numbered && ordinals.iter().any(|o| *o != ordinals[0]) {
        return Err("numeric BYDAY prefixes must all be the same".into());
    }
    if numbered && by_set_pos.is_some() {
        return Err("BYSETPOS can't be combined with numbered BYDAY values".into());
    }
    let rule = Rule {
        freq,
        interval,
        by_month,
        by_month_day,
        by_day,
        wkst,
        by_set_pos,
        until,
        count,
    };
    check_shape(&rule, numbered)?;
    Ok(rule)
}

/// Which BY* combinations each frequency accepts (one occurrence per day / month / year).
fn check_shape(r: &Rule, numbered: bool) -> Result<(), String> {
    let has_day = !r.by_day.is_empty();
    match r.freq {
        Freq::Daily => {
            if has_day || r.by_month.is_some() || r.by_month_day.is_some() || r.by_set_pos.is_some()
            {
                return Err(
                    "FREQ=DAILY doesn't take BYDAY, BYMONTH, BYMONTHDAY or BYSETPOS".into(),
                );
            }
        }
        Freq::Weekly => {
            if !has_day {
                return Err("FREQ=WEEKLY requires BYDAY".into());
            }
            if numbered {
                return Err("FREQ=WEEKLY requires BYDAY without numeric prefixes".into());
            }
            if r.by_month.is_some() || r.by_month_day.is_some() || r.by_set_pos.is_some() {
                return Err("FREQ=WEEKLY doesn't take BYMONTH, BYMONTHDAY or BYSETPOS".into());
            }
        }
        Freq::Monthly | Freq::Yearly => {
            if r.freq == Freq::Monthly && r.by_month.is_some() {
                return Err("FREQ=MONTHLY doesn't take BYMONTH".into());
            }
            if r.freq == Freq::Yearly && r.by_month.is_none() {
                return Err("FREQ=YEARLY requires BYMONTH".into());
            }
            let by_month_day = r.by_month_day.is_some() && !has_day && r.by_set_pos.is_none();
            let set_pos =
                has_day && !numbered && r.by_set_pos.is_some() && r.by_month_day.is_none();
            let nth = numbered && r.by_day.len() == 1 && r.by_month_day.is_none();
            if !(by_month_day || set_pos || nth) {
                return Err(format!(
                    "FREQ={} requires exactly one of BYMONTHDAY, BYDAY with BYSETPOS, or one numbered BYDAY (like 1FR)",
                    r.freq.name()
                ));
            }
        }
    }
    Ok(())
}

impl Rule {
    /// Salesforce's normalised text: `RRULE:` prefix, parts in the order FREQ, BYMONTH, BYMONTHDAY, BYDAY,
    /// WKST, BYSETPOS, INTERVAL, UNTIL, COUNT, with INTERVAL (and WKST for weekly rules) filled in.
    pub fn normalised(&self) -> String {
        let mut parts = vec![format!("FREQ={}", self.freq.name())];
        if let Some(m) = self.by_month {
            parts.push(format!("BYMONTH={m}"));
        }
        if let Some(d) = self.by_month_day {
            parts.push(format!("BYMONTHDAY={d}"));
        }
        if !self.by_day.is_empty() {
            let days: Vec<String> = self
                .by_day
                .iter()
                .map(|(o, d)| {
                    format!(
                        "{}{}",
                        o.map(|n| n.to_string()).unwrap_or_default(),
                        weekday_code(*d)
                    )
                })
                .collect();
            parts.push(format!("BYDAY={}", days.join(",")));
        }
        let wkst = self
            .wkst
            .or((self.freq == Freq::Weekly).then_some(Weekday::Sun));
        if let Some(w) = wkst {
            parts.push(format!("WKST={}", weekday_code(w)));
        }
        if let Some(p) = self.by_set_pos {
            parts.push(format!("BYSETPOS={p}"));
        }
        parts.push(format!("INTERVAL={}", self.interval));
        if let Some(u) = self.until {
            parts.push(format!("UNTIL={}", u.format("%Y%m%dT%H%M%SZ")));
        }
        if let Some(c) = self.count {
            parts.push(format!("COUNT={c}"));
        }
        format!("RRULE:{}", parts.join(";"))
    }

    fn months_between(a: NaiveDate, b: NaiveDate) -> i64 {
        (b.year() as i64 - a.year() as i64) * 12 + b.month() as i64 - a.month() as i64
    }

    /// Does day `d` belong to the month-level selection (BYMONTHDAY / numbered BYDAY / BYDAY+BYSETPOS)?
    fn matches_in_month(&self, d: NaiveDate) -> bool {
        if let Some(md) = self.by_month_day {
            return d.day() == md;
        }
        let days_in_month: Vec<NaiveDate> = (1..=31)
            .filter_map(|day| NaiveDate::from_ymd_opt(d.year(), d.month(), day))
            .collect();
        if let Some(pos) = self.by_set_pos {
            let candidates: Vec<NaiveDate> = days_in_month
                .into_iter()
                .filter(|x| self.by_day.iter().any(|(_, wd)| *wd == x.weekday()))
                .collect();
            return pick(&candidates, pos) == Some(d);
        }
        match self.by_day.first() {
            Some((Some(n), wd)) => {
                let same: Vec<NaiveDate> = days_in_month
                    .into_iter()
                    .filter(|x| x.weekday() == *wd)
                    .collect();
                pick(&same, *n) == Some(d)
            }
            _ => false,
        }
    }

    fn matches(&self, first: NaiveDate, d: NaiveDate) -> bool {
        let interval = self.interval as i64;
        match self.freq {
            Freq::Daily => (d - first).num_days() % interval == 0,
            Freq::Weekly => {
                let wkst = self.wkst.unwrap_or(Weekday::Sun);
                let week_start = |x: NaiveDate| {
                    let back = (7 + x.weekday().num_days_from_monday() as i64
                        - wkst.num_days_from_monday() as i64)
                        % 7;
                    x - Duration::days(back)
                };
                let weeks = (week_start(d) - week_start(first)).num_days() / 7;
                weeks % interval == 0 && self.by_day.iter().any(|(_, wd)| *wd == d.weekday())
            }
            Freq::Monthly => {
                Self::months_between(first, d) % interval == 0 && self.matches_in_month(d)
            }
            Freq::Yearly => Some(d.month()) == self.by_month && self.matches_in_month(d),
        }
    }

    /// The occurrence dates (in the series' zone) from `first` on, bounded by COUNT, UNTIL and `horizon`.
    pub fn dates(
        &self,
        first: NaiveDate,
        horizon: NaiveDate,
        until_local: Option<NaiveDate>,
    ) -> Vec<NaiveDate> {
        let limit = self.count.map(|c| c as usize).unwrap_or(MAX_OCCURRENCES);
        // However old the start, never walk more than ~20 years of days.
        let last = until_local
            .map(|u| u.min(horizon))
            .unwrap_or(horizon)
            .min(first + Duration::days(MAX_SPAN_DAYS));
        let mut out = Vec::new();
        let mut d = first;
        while d <= last && out.len() < limit {
            if self.matches(first, d) {
                out.push(d);
            }
            d += Duration::days(1);
        }
        out
    }
}

fn pick(list: &[NaiveDate], pos: i32) -> Option<NaiveDate> {
    if pos > 0 {
        list.get(pos as usize - 1).copied()
    } else {
        list.len()
            .checked_sub(pos.unsigned_abs() as usize)
            .and_then(|i| list.get(i))
            .copied()
    }
}

fn local_to_utc(tz: Tz, t: NaiveDateTime) -> DateTime<Utc> {
    // In a DST gap the wall-clock time doesn't exist; move an hour forward like calendar apps do.
    tz.from_local_datetime(&t)
        .earliest()
        .or_else(|| tz.from_local_datetime(&(t + Duration::hours(1))).earliest())
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| Utc.from_utc_datetime(&t))
}

fn pattern_error(message: String) -> ApiError {
    ApiError::integrity(
        format!("Recurrence2PatternText: {message}"),
        &["Recurrence2PatternText"],
    )
}

/// Creates the occurrences of a new series from a validated template event; returns the first id.
pub fn create_series(
    org: &mut Org,
    template: Vec<Value>,
    ctx: &WriteCtx,
) -> Result<String, ApiError> {
    let schema = org.schema.clone();
    let ev = schema.obj(schema::EVENT);
    let def = &schema.objects[ev];
    let get = |name: &str| template[def.idx(name)].clone();
    let rule =
        parse(get("Recurrence2PatternText").as_text().unwrap_or("")).map_err(pattern_error)?;
    let tz = match get("Recurrence2PatternTimeZone").as_text() {
        Some(name) => name.parse::<Tz>().map_err(|_| {
            ApiError::integrity(
                format!("Recurrence2PatternTimeZone: '{name}' isn't a valid time zone"),
                &["Recurrence2PatternTimeZone"],
            )
        })?,
        None => org.user_tz(&ctx.user_id),
    };
    let user_tz = org.user_tz(&ctx.user_id);
    let all_day = get("IsAllDayEvent").as_bool();
    let start = get("StartDateTime").as_datetime().unwrap_or(ctx.now);
    let minutes = get("DurationInMinutes").as_int().unwrap_or(0);
    let (first_day, wall_time) = if all_day {
        (start.date_naive(), chrono::NaiveTime::MIN)
    } else {
        let local = start.with_timezone(&tz);
        (local.date_naive(), local.time())
    };
    let horizon = (ctx.now.max(start) + Duration::days(org.series_horizon_days))
        .with_timezone(&tz)
        .date_naive();
    let until_local = rule.until.map(|u| u.with_timezone(&tz).date_naive());
    let dates = rule.dates(first_day, horizon, until_local);
    let starts: Vec<DateTime<Utc>> = dates
        .iter()
        .map(|d| {
            if all_day {
                Utc.from_utc_datetime(&d.and_time(chrono::NaiveTime::MIN))
            } else {
                local_to_utc(tz, d.and_time(wall_time))
            }
        })
        // UNTIL is inclusive of an occurrence starting exactly then.
        .filter(|s| all_day || rule.until.is_none_or(|u| *s <= u))
        .collect();
    let Some(&series_start) = starts.first() else {
        return Err(pattern_error(
            "the pattern produces no occurrences after the start".into(),
        ));
    };
    let key = org.alloc_series();
    let mut first_id = None;
    for s in starts {
        let mut values = template.clone();
        let id = org.alloc_id(ev);
        let set = |values: &mut Vec<Value>, name: &str, v: Value| values[def.idx(name)] = v;
        set(&mut values, "Id", Value::Text(id.clone()));
        let end = s + Duration::minutes(minutes);
        set(&mut values, "StartDateTime", Value::DateTime(s));
        set(&mut values, "ActivityDateTime", Value::DateTime(s));
        if all_day {
            set(&mut values, "ActivityDate", Value::Date(s.date_naive()));
            let last = s + Duration::minutes((minutes - 1440).max(0));
            set(&mut values, "EndDateTime", Value::DateTime(last));
            set(&mut values, "EndDate", Value::Date(last.date_naive()));
        } else {
            set(
                &mut values,
                "ActivityDate",
                Value::Date(s.with_timezone(&user_tz).date_naive()),
            );
            set(&mut values, "EndDateTime", Value::DateTime(end));
            set(
                &mut values,
                "EndDate",
                Value::Date(end.with_timezone(&user_tz).date_naive()),
            );
        }
        set(
            &mut values,
            "Recurrence2PatternText",
            Value::Text(rule.normalised()),
        );
        set(
            &mut values,
            "Recurrence2PatternTimeZone",
            Value::Text(tz.name().to_string()),
        );
        set(
            &mut values,
            "Recurrence2PatternStartDate",
            Value::DateTime(truncate_seconds(series_start)),
        );
        set(
            &mut values,
            "Recurrence2PatternVersion",
            Value::Text("1".into()),
        );
        set(&mut values, "IsRecurrence2Exception", Value::Bool(false));
        org.put(Record {
            id: id.clone(),
            object: ev,
            values,
            deleted_at: None,
            series: Some(key),
            parent_event: None,
            via_relation: None,
        });
        first_id.get_or_insert(id);
    }
    first_id.ok_or_else(|| pattern_error("the pattern produces no occurrences".into()))
}

/// Live occurrences of a series starting at or after `from`, in start order.
fn following(org: &Org, key: u64, from: DateTime<Utc>) -> Vec<Record> {
    let ev = org.schema.obj(schema::EVENT);
    let mut out: Vec<Record> = org
        .records(ev)
        .filter(|r| r.deleted_at.is_none() && r.series == Some(key))
        .filter(|r| {
            org.get(r, "StartDateTime")
                .as_datetime()
                .is_some_and(|s| s >= from)
        })
        .cloned()
        .collect();
    out.sort_by_key(|r| org.get(r, "StartDateTime").as_datetime());
    out
}

const TIME_FIELDS: &[&str] = &[
    "StartDateTime",
    "EndDateTime",
    "DurationInMinutes",
    "ActivityDateTime",
    "ActivityDate",
    "IsAllDayEvent",
    "Recurrence2PatternText",
    "Recurrence2PatternTimeZone",
];

/// Edits an occurrence. A past occurrence becomes an exception; a future one edits the series from there
/// on; a change of pattern or time re-creates the following occurrences with new ids.
pub fn update_occurrence(
    org: &mut Org,
    prev: Record,
    parsed: Vec<(usize, Value)>,
    ctx: &WriteCtx,
) -> Result<(), ApiError> {
    let def = org.def(prev.object).clone();
    let values = org.validated_update(&prev, &parsed, ctx)?;
    let start = org
        .get(&prev, "StartDateTime")
        .as_datetime()
        .unwrap_or(ctx.now);
    let key = prev.series.unwrap_or(0);
    let retimed = parsed
        .iter()
        .any(|(i, _)| TIME_FIELDS.contains(&def.fields[*i].name.as_str()));
    let past = start < ctx.now;
    let pattern_changed = parsed
        .iter()
        .any(|(i, _)| def.fields[*i].name.starts_with("Recurrence2Pattern"));
    if past && !pattern_changed {
        let mut values = values;
        values[def.idx("IsRecurrence2Exception")] = Value::Bool(true);
        return org.store_update(prev, values, ctx);
    }
    if retimed {
        let tail = following(org, key, start);
        for occ in &tail {
            org.soft_delete(&occ.id, ctx);
        }
        let mut template = values;
        // The re-created tail keeps the occurrences that were left, unless the pattern itself changed.
        if !pattern_changed {
            let text_idx = def.idx("Recurrence2PatternText");
            if let Some(mut rule) = template[text_idx].as_text().and_then(|t| parse(t).ok())
                && rule.count.is_some()
            {
                rule.count = Some(tail.len().max(1) as u32);
                template[text_idx] = Value::Text(rule.normalised());
            }
        }
        template[def.idx("CreatedDate")] = Value::DateTime(ctx.now);
        template[def.idx("CreatedById")] = Value::Text(ctx.user_id.clone());
        template[def.idx("LastModifiedDate")] = Value::DateTime(ctx.now);
        template[def.idx("LastModifiedById")] = Value::Text(ctx.user_id.clone());
        template[def.idx("SystemModstamp")] = Value::DateTime(ctx.now);
        create_series(org, template, ctx)?;
        return Ok(());
    }
    for occ in following(org, key, start) {
        if occ.id != prev.id && org.get(&occ, "IsRecurrence2Exception").as_bool() {
            continue;
        }
        let values = org.validated_update(&occ, &parsed, ctx)?;
        org.store_update(occ, values, ctx)?;
    }
    Ok(())
}

/// `DELETE .../sobjects/Event/{id}/fromThisEventOnwards`: this occurrence and all later ones.
pub fn delete_from(org: &mut Org, id: &str, ctx: &WriteCtx) -> Result<(), ApiError> {
    let ev = org.schema.obj(schema::EVENT);
    let rec = org.live_of(ev, id)?;
    let Some(key) = rec.series.filter(|_| !org.get(&rec, "IsChild").as_bool()) else {
        return Err(ApiError::bad_request(
            "INVALID_OPERATION",
            "You can only delete this and following events of an event series.",
        ));
    };
    let start = org
        .get(&rec, "StartDateTime")
        .as_datetime()
        .unwrap_or(ctx.now);
    for occ in following(org, key, start) {
        org.soft_delete(&occ.id, ctx);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_order_and_defaults() {
        let r = parse("FREQ=WEEKLY;COUNT=13;BYDAY=MO").expect("valid");
        assert_eq!(
            r.normalised(),
            "RRULE:FREQ=WEEKLY;BYDAY=MO;WKST=SU;INTERVAL=1;COUNT=13"
        );
        let r =
            parse("RRULE:INTERVAL=2;BYSETPOS=-1;BYDAY=MO,TU,WE,TH,FR;FREQ=MONTHLY").expect("valid");
        assert_eq!(
            r.normalised(),
            "RRULE:FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1;INTERVAL=2"
        );
        let r = parse("FREQ=YEARLY;BYMONTHDAY=6;BYMONTH=5;UNTIL=20300101T000000Z").expect("valid");
        assert_eq!(
            r.normalised(),
            "RRULE:FREQ=YEARLY;BYMONTH=5;BYMONTHDAY=6;INTERVAL=1;UNTIL=20300101T000000Z"
        );
    }

    #[test]
    fn rejects_what_salesforce_rejects() {
        for bad in [
            "",
            "BYDAY=MO",
            "FREQ=HOURLY",
            "FREQ=WEEKLY",
            "FREQ=WEEKLY;BYDAY=1MO",
            "FREQ=DAILY;INTERVAL=1000",
            "FREQ=WEEKLY;BYDAY=MO;INTERVAL=100",
            "FREQ=YEARLY;BYMONTH=1;BYMONTHDAY=1;INTERVAL=2",
            "FREQ=DAILY;COUNT=5;UNTIL=20300101T000000Z",
            "FREQ=DAILY;COUNT=1000",
            "FREQ=DAILY;UNTIL=2030-01-01",
            "FREQ=MONTHLY;BYMONTHDAY=1,15",
            "FREQ=MONTHLY;BYDAY=5FR",
            "FREQ=MONTHLY;BYDAY=1MO,2TU",
            "FREQ=MONTHLY;BYDAY=MO;BYSETPOS=7",
            "FREQ=MONTHLY",
            "FREQ=DAILY;BYHOUR=3",
            "FREQ=DAILY;FREQ=DAILY",
            "FREQ=DAILY;EXDATE=20300101",
        ] {
            assert!(parse(bad).is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn expands_nth_weekday_and_last_weekday() {
        let first = NaiveDate::from_ymd_opt(2024, 1, 1).expect("date");
        let horizon = NaiveDate::from_ymd_opt(2024, 12, 31).expect("date");
        let r = parse("FREQ=MONTHLY;BYDAY=2TU;COUNT=3").expect("valid");
        let d = r.dates(first, horizon, None);
        assert_eq!(
            d.iter().map(|x| x.to_string()).collect::<Vec<_>>(),
            ["2024-01-09", "2024-02-13", "2024-03-12"]
        );
        let r = parse("FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1;COUNT=2").expect("valid");
        let d = r.dates(first, horizon, None);
        assert_eq!(
            d.iter().map(|x| x.to_string()).collect::<Vec<_>>(),
            ["2024-01-31", "2024-02-29"]
        );
        let r = parse("FREQ=WEEKLY;BYDAY=MO,WE;INTERVAL=2;COUNT=4").expect("valid");
        let d = r.dates(first, horizon, None);
        assert_eq!(
            d.iter().map(|x| x.to_string()).collect::<Vec<_>>(),
            ["2024-01-01", "2024-01-03", "2024-01-15", "2024-01-17"]
        );
    }
}
