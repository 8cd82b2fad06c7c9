//! Recurring series: the `patternedRecurrence` of a series master (resources/patternedrecurrence.md,
//! recurrencepattern.md, recurrencerange.md) read from a request, written back as Graph reads
//! it, and expanded into the dates of its occurrences. Times of day and zones are events.rs's:
//! a series' occurrences start at the master's wall-clock time on each date.

use chrono::{Datelike, Days, Months, NaiveDate, Weekday};
use serde_json::{Map, Value, json};

use crate::error::GraphError;

/// recurrencepattern.md, "Values of type property".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatternType {
    Daily,
    Weekly,
    AbsoluteMonthly,
    RelativeMonthly,
    AbsoluteYearly,
    RelativeYearly,
}

impl PatternType {
    const ALL: [(PatternType, &'static str); 6] = [
        (PatternType::Daily, "daily"),
        (PatternType::Weekly, "weekly"),
        (PatternType::AbsoluteMonthly, "absoluteMonthly"),
        (PatternType::RelativeMonthly, "relativeMonthly"),
        (PatternType::AbsoluteYearly, "absoluteYearly"),
        (PatternType::RelativeYearly, "relativeYearly"),
    ];

    fn name(self) -> &'static str {
        PatternType::ALL
            .iter()
            .find(|(t, _)| *t == self)
            .map_or("daily", |(_, n)| n)
    }
}

/// Which of the month's matching days (`index`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WeekIndex {
    First,
    Second,
    Third,
    Fourth,
    Last,
}

const WEEK_INDEXES: [(WeekIndex, &str); 5] = [
    (WeekIndex::First, "first"),
    (WeekIndex::Second, "second"),
    (WeekIndex::Third, "third"),
    (WeekIndex::Fourth, "fourth"),
    (WeekIndex::Last, "last"),
];

const DAYS: [(Weekday, &str); 7] = [
    (Weekday::Sun, "sunday"),
    (Weekday::Mon, "monday"),
    (Weekday::Tue, "tuesday"),
    (Weekday::Wed, "wednesday"),
    (Weekday::Thu, "thursday"),
    (Weekday::Fri, "friday"),
    (Weekday::Sat, "saturday"),
];

fn day_name(day: Weekday) -> &'static str {
    DAYS.iter()
        .find(|(d, _)| *d == day)
        .map_or("sunday", |(_, n)| n)
}

#[derive(Debug, Clone, PartialEq)]
pub struct Pattern {
    pub kind: PatternType,
    pub interval: u32,
    pub days_of_week: Vec<Weekday>,
    pub day_of_month: u32,
    pub month: u32,
    pub index: WeekIndex,
    pub first_day_of_week: Weekday,
}

/// How long the series repeats (recurrencerange.md).
#[derive(Debug, Clone, PartialEq)]
pub enum RangeEnd {
    EndDate(NaiveDate),
    NoEnd,
    Numbered(u32),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Range {
    pub start: NaiveDate,
    pub end: RangeEnd,
    pub time_zone: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Recurrence {
    pub pattern: Pattern,
    pub range: Range,
}

/// A series expands to at most this many dates per request: a bound on the work a window
/// spanning centuries can ask for.
const MAX_DATES: usize = 100_000;

fn invalid(message: impl Into<String>) -> GraphError {
    GraphError::bad_request(
        "ErrorInvalidRequest",
        format!("Your request can't be completed. {}", message.into()),
    )
}

fn unknown_property(name: &str, on: &str) -> GraphError {
    GraphError::bad_request(
        "RequestBodyRead",
        format!("Could not find a property named '{name}' on type 'microsoft.graph.{on}'."),
    )
}

fn object<'v>(value: &'v Value, what: &str) -> Result<&'v Map<String, Value>, GraphError> {
    value
        .as_object()
        .ok_or_else(|| invalid(format!("The recurrence needs a {what} object.")))
}

/// A whole number property; 0 and absent are "not given" (Graph reads back 0 for the ones a
/// pattern type does not use, and clients echo them).
fn number(map: &Map<String, Value>, name: &str) -> Result<u32, GraphError> {
    match map.get(name) {
        None | Some(Value::Null) => Ok(0),
        Some(v) => v
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .ok_or_else(|| invalid(format!("'{name}' must be a whole number."))),
    }
}

fn text<'m>(map: &'m Map<String, Value>, name: &str) -> Option<&'m str> {
    map.get(name)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

fn date(map: &Map<String, Value>, name: &str) -> Result<Option<NaiveDate>, GraphError> {
    match text(map, name) {
        None => Ok(None),
        // Graph reads back a noEnd range's endDate as 0001-01-01.
        Some("0001-01-01") => Ok(None),
        Some(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| invalid(format!("'{name}' must be a date (YYYY-MM-DD), not '{s}'."))),
    }
}

fn weekday(name: &str) -> Result<Weekday, GraphError> {
    DAYS.iter()
        .find(|(_, n)| n.eq_ignore_ascii_case(name))
        .map(|(d, _)| *d)
        .ok_or_else(|| invalid(format!("'{name}' is not a day of the week.")))
}

impl Recurrence {
    /// A request's `recurrence`, checked against the properties each pattern type requires
    /// (recurrencepattern.md: "Any property that you include that does not have a supported
    /// value would result in an error").
    pub fn parse(value: &Value) -> Result<Recurrence, GraphError> {
        let top = object(value, "patternedRecurrence")?;
        if let Some(name) = top
            .keys()
            .find(|k| !k.starts_with("@odata") && *k != "pattern" && *k != "range")
        {
            return Err(unknown_property(name, "patternedRecurrence"));
        }
        let pattern = parse_pattern(object(
            top.get("pattern").unwrap_or(&Value::Null),
            "pattern",
        )?)?;
        let range = parse_range(object(top.get("range").unwrap_or(&Value::Null), "range")?)?;
        Ok(Recurrence { pattern, range })
    }

    /// The recurrence as Graph reads it back: every property, unused ones zero or default.
    pub fn to_json(&self) -> Value {
        let p = &self.pattern;
        let (kind, end, count) = match self.range.end {
            RangeEnd::EndDate(end) => ("endDate", end.to_string(), 0),
            RangeEnd::NoEnd => ("noEnd", "0001-01-01".to_string(), 0),
            RangeEnd::Numbered(n) => ("numbered", "0001-01-01".to_string(), n),
        };
        json!({
            "pattern": {
                "type": p.kind.name(),
                "interval": p.interval,
                "month": p.month,
                "dayOfMonth": p.day_of_month,
                "daysOfWeek": p.days_of_week.iter().map(|d| day_name(*d)).collect::<Vec<_>>(),
                "firstDayOfWeek": day_name(p.first_day_of_week),
                "index": WEEK_INDEXES.iter().find(|(i, _)| *i == p.index).map_or("first", |(_, n)| n),
            },
            "range": {
                "type": kind,
                "startDate": self.range.start.to_string(),
                "endDate": end,
                "recurrenceTimeZone": self.range.time_zone,
                "numberOfOccurrences": count,
            },
        })
    }

    /// The dates of the series' occurrences up to `last`, in order, from its first.
    pub fn dates_through(&self, last: NaiveDate) -> Vec<NaiveDate> {
        let (p, start) = (&self.pattern, self.range.start);
        let interval = p.interval.max(1);
        let mut out: Vec<NaiveDate> = Vec::new();
        for k in 0u32.. {
            let Some(step) = k.checked_mul(interval) else {
                break;
            };
            let Some((period_start, dates)) = self.period(step) else {
                break;
            };
            if period_start > last || out.len() >= MAX_DATES {
                break;
            }
            for date in dates.into_iter().filter(|d| *d >= start) {
                let ended = match self.range.end {
                    RangeEnd::EndDate(end) => date > end,
                    RangeEnd::Numbered(n) => out.len() >= n as usize,
                    RangeEnd::NoEnd => false,
                };
                if ended || date > last {
                    return out;
                }
                out.push(date);
            }
        }
        out
    }

    /// The first day of the period `step` units after the start, and the pattern's dates in it.
    fn period(&self, step: u32) -> Option<(NaiveDate, Vec<NaiveDate>)> {
        let (p, start) = (&self.pattern, self.range.start);
        match p.kind {
            PatternType::Daily => {
                let day = start.checked_add_days(Days::new(step.into()))?;
                Some((day, vec![day]))
            }
            PatternType::Weekly => {
                let back = (7 + start.weekday().num_days_from_sunday()
                    - p.first_day_of_week.num_days_from_sunday())
                    % 7;
                let week = start
                    .checked_sub_days(Days::new(back.into()))?
                    .checked_add_days(Days::new(u64::from(step) * 7))?;
                let mut dates: Vec<NaiveDate> = p
                    .days_of_week
                    .iter()
                    .filter_map(|d| {
                        let offset = (7 + d.num_days_from_sunday()
                            - p.first_day_of_week.num_days_from_sunday())
                            % 7;
                        week.checked_add_days(Days::new(offset.into()))
                    })
                    .collect();
                dates.sort();
                dates.dedup();
                Some((week, dates))
            }
            PatternType::AbsoluteMonthly | PatternType::RelativeMonthly => {
                let first = start.with_day(1)?.checked_add_months(Months::new(step))?;
                let day = if p.kind == PatternType::AbsoluteMonthly {
                    clamp_day(first, p.day_of_month)
                } else {
                    nth_weekday(first, &p.days_of_week, p.index)
                };
                Some((first, day.into_iter().collect()))
            }
            PatternType::AbsoluteYearly | PatternType::RelativeYearly => {
                let year = start.year().checked_add(i32::try_from(step).ok()?)?;
                let first = NaiveDate::from_ymd_opt(year, p.month, 1)?;
                let day = if p.kind == PatternType::AbsoluteYearly {
                    clamp_day(first, p.day_of_month)
                } else {
                    nth_weekday(first, &p.days_of_week, p.index)
                };
                let january = NaiveDate::from_ymd_opt(year, 1, 1)?;
                Some((january, day.into_iter().collect()))
            }
        }
    }
}

/// Day `day` of `first`'s month, or the month's last day when it has fewer (Outlook's rule
/// for a monthly series on the 31st).
fn clamp_day(first: NaiveDate, day: u32) -> Option<NaiveDate> {
    let last = first
        .checked_add_months(Months::new(1))?
        .checked_sub_days(Days::new(1))?;
    first.with_day(day.min(last.day()))
}

/// The `index`-th day of `first`'s month that falls on one of `days` (recurrencepattern.md:
/// with several days, "the event falls on the first day that satisfies the pattern").
fn nth_weekday(first: NaiveDate, days: &[Weekday], index: WeekIndex) -> Option<NaiveDate> {
    let matching: Vec<NaiveDate> = first
        .iter_days()
        .take_while(|d| d.month() == first.month())
        .filter(|d| days.contains(&d.weekday()))
        .collect();
    match index {
        WeekIndex::First => matching.first().copied(),
        WeekIndex::Second => matching.get(1).copied(),
        WeekIndex::Third => matching.get(2).copied(),
        WeekIndex::Fourth => matching.get(3).copied(),
        WeekIndex::Last => matching.last().copied(),
    }
}

fn parse_pattern(map: &Map<String, Value>) -> Result<Pattern, GraphError> {
    const KNOWN: [&str; 7] = [
        "type",
        "interval",
        "daysOfWeek",
        "dayOfMonth",
        "month",
        "index",
        "firstDayOfWeek",
    ];
    if let Some(name) = map
        .keys()
        .find(|k| !k.starts_with("@odata") && !KNOWN.contains(&k.as_str()))
    {
        return Err(unknown_property(name, "recurrencePattern"));
    }
    let kind_name = text(map, "type").ok_or_else(|| invalid("The pattern needs a type."))?;
    let kind = PatternType::ALL
        .iter()
        .find(|(_, n)| n.eq_ignore_ascii_case(kind_name))
        .map(|(t, _)| *t)
        .ok_or_else(|| invalid(format!("'{kind_name}' is not a recurrence pattern type.")))?;
    let interval = number(map, "interval")?;
    if interval == 0 {
        return Err(invalid("The pattern needs an interval of 1 or more."));
    }
    let days_of_week = match map.get("daysOfWeek") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(days)) => days
            .iter()
            .map(|d| {
                d.as_str()
                    .map_or_else(|| Err(invalid("daysOfWeek holds day names.")), weekday)
            })
            .collect::<Result<Vec<_>, _>>()?,
        Some(_) => return Err(invalid("daysOfWeek holds day names.")),
    };
    let day_of_month = number(map, "dayOfMonth")?;
    let month = number(map, "month")?;
    let index = match text(map, "index") {
        None => WeekIndex::First,
        Some(name) => WEEK_INDEXES
            .iter()
            .find(|(_, n)| n.eq_ignore_ascii_case(name))
            .map(|(i, _)| *i)
            .ok_or_else(|| invalid(format!("'{name}' is not a week index.")))?,
    };
    let first_day_of_week = text(map, "firstDayOfWeek").map_or(Ok(Weekday::Sun), weekday)?;
    let needs_days = matches!(
        kind,
        PatternType::Weekly | PatternType::RelativeMonthly | PatternType::RelativeYearly
    );
    if needs_days && days_of_week.is_empty() {
        return Err(invalid(format!(
            "A {} pattern needs daysOfWeek.",
            kind.name()
        )));
    }
    let needs_day_of_month = matches!(
        kind,
        PatternType::AbsoluteMonthly | PatternType::AbsoluteYearly
    );
    if needs_day_of_month && !(1..=31).contains(&day_of_month) {
        return Err(invalid(format!(
            "A {} pattern needs a dayOfMonth from 1 to 31.",
            kind.name()
        )));
    }
    let needs_month = matches!(
        kind,
        PatternType::AbsoluteYearly | PatternType::RelativeYearly
    );
    if (needs_month && !(1..=12).contains(&month)) || month > 12 {
        return Err(invalid(format!(
            "A {} pattern needs a month from 1 to 12.",
            kind.name()
        )));
    }
    Ok(Pattern {
        kind,
        interval,
        days_of_week,
        day_of_month,
        month,
        index,
        first_day_of_week,
    })
}

fn parse_range(map: &Map<String, Value>) -> Result<Range, GraphError> {
    const KNOWN: [&str; 5] = [
        "type",
        "startDate",
        "endDate",
        "numberOfOccurrences",
        "recurrenceTimeZone",
    ];
    if let Some(name) = map
        .keys()
        .find(|k| !k.starts_with("@odata") && !KNOWN.contains(&k.as_str()))
    {
        return Err(unknown_property(name, "recurrenceRange"));
    }
    let start = date(map, "startDate")?.ok_or_else(|| invalid("The range needs a startDate."))?;
    let kind = text(map, "type").ok_or_else(|| invalid("The range needs a type."))?;
    let end = match kind.to_ascii_lowercase().as_str() {
        "enddate" => {
            let end = date(map, "endDate")?
                .ok_or_else(|| invalid("An endDate range needs an endDate."))?;
            if end < start {
                return Err(invalid("The range's endDate is before its startDate."));
            }
            RangeEnd::EndDate(end)
        }
        "noend" => RangeEnd::NoEnd,
        "numbered" => match number(map, "numberOfOccurrences")? {
            0 => {
                return Err(invalid(
                    "A numbered range needs numberOfOccurrences of 1 or more.",
                ));
            }
            n => RangeEnd::Numbered(n),
        },
        _ => return Err(invalid(format!("'{kind}' is not a recurrence range type."))),
    };
    let time_zone = text(map, "recurrenceTimeZone").map(str::to_string);
    if let Some(zone) = &time_zone
        && crate::timezone::zone(zone).is_none()
    {
        return Err(invalid(format!("'{zone}' is not a time zone.")));
    }
    Ok(Range {
        start,
        end,
        time_zone,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dates(recurrence: Value, last: &str) -> Vec<String> {
        Recurrence::parse(&recurrence)
            .unwrap()
            .dates_through(NaiveDate::parse_from_str(last, "%Y-%m-%d").unwrap())
            .into_iter()
            .map(|d| d.to_string())
            .collect()
    }

    #[test]
    fn weekly_on_two_days_every_other_week() {
        let r = json!({"pattern": {"type": "weekly", "interval": 2, "daysOfWeek": ["monday", "thursday"], "firstDayOfWeek": "monday"},
                       "range": {"type": "numbered", "startDate": "2027-03-04", "numberOfOccurrences": 4}});
        // 2027-03-04 is a Thursday.
        assert_eq!(
            dates(r, "2027-12-31"),
            ["2027-03-04", "2027-03-15", "2027-03-18", "2027-03-29"]
        );
    }

    #[test]
    fn monthly_on_the_31st_falls_on_the_last_day_and_relative_yearly_finds_the_weekday() {
        let r = json!({"pattern": {"type": "absoluteMonthly", "interval": 1, "dayOfMonth": 31},
                       "range": {"type": "endDate", "startDate": "2027-01-31", "endDate": "2027-04-30"}});
        assert_eq!(
            dates(r, "2030-01-01"),
            ["2027-01-31", "2027-02-28", "2027-03-31", "2027-04-30"]
        );
        // The last Thursday of November: US Thanksgiving.
        let r = json!({"pattern": {"type": "relativeYearly", "interval": 1, "month": 11, "daysOfWeek": ["thursday"], "index": "fourth"},
                       "range": {"type": "noEnd", "startDate": "2027-11-25"}});
        assert_eq!(dates(r, "2029-01-01"), ["2027-11-25", "2028-11-23"]);
    }

    #[test]
    fn a_pattern_missing_what_its_type_needs_is_refused() {
        let r = json!({"pattern": {"type": "weekly", "interval": 1},
                       "range": {"type": "noEnd", "startDate": "2027-03-04"}});
        assert!(Recurrence::parse(&r).is_err());
        let r = json!({"pattern": {"type": "daily", "interval": 1, "colour": "red"},
                       "range": {"type": "noEnd", "startDate": "2027-03-04"}});
        assert!(Recurrence::parse(&r).is_err());
    }
}
