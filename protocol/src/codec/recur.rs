//! Recurrence expansion and time ranges: occurrences, RFC 4791 §9.9 overlap rules, free-busy.
//!
//! The `rrule` crate iterates the rule; this module decides what a recurrence set is, because
//! the measured crates got that wrong (reference/crates.md §2.3):
//! - an override (RECURRENCE-ID) replaces the instance it names whatever its SEQUENCE;
//! - EXDATE removes instances; DTSTART is always the first instance; RDATEs are added;
//! - UNTIL given in UTC is compared in the start's zone, so an instance exactly on UNTIL counts.
//!
//! Rules are iterated in wall-clock time (as if the zone were UTC) and each instance is placed in
//! its zone afterwards, so instances keep their local time across DST changes.

use super::ical::{CalendarObject, Moment, Timing};
use super::tz;
use calcard::common::timezone::Tz;
use calcard::icalendar::{ICalendarFrequency, ICalendarRecurrenceRule, ICalendarWeekday};
use chrono::{DateTime, NaiveDateTime, TimeDelta, TimeZone, Utc, Weekday};

/// One instance of an event or task, in UTC.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Occurrence {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// The original start of this instance when the object recurs (its RECURRENCE-ID).
    pub recurrence_id: Option<DateTime<Utc>>,
}

/// FBTYPE of a busy period (RFC 5545 §3.2.9).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BusyType {
    Busy,
    /// STATUS:TENTATIVE.
    BusyTentative,
    /// Out of office (X-MICROSOFT-CDO-BUSYSTATUS:OOF).
    BusyUnavailable,
}

/// Never generate more rule instances than this for one query, whatever the rule says.
const MAX_GENERATED: usize = 100_000;

/// How an instance is tested against a range (RFC 4791 §9.9).
#[derive(Clone, Copy, Debug)]
enum Shape {
    /// VEVENT with a positive duration.
    Span,
    /// VEVENT with no duration (DTSTART only, or DURATION:PT0S).
    Instant,
    TodoStartDuration,
    TodoStartDue,
    TodoStart,
    TodoDue,
    TodoCompletedCreated {
        completed: Option<DateTime<Utc>>,
        created: Option<DateTime<Utc>>,
    },
    TodoUndated,
}

#[derive(Clone, Debug)]
struct Instance<'a> {
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    shape: Shape,
    rid: Option<DateTime<Utc>>,
    timing: &'a Timing,
}

impl Instance<'_> {
    fn hits(&self, rs: DateTime<Utc>, re: DateTime<Utc>) -> bool {
        let (s, e) = (self.start, self.end);
        match self.shape {
            Shape::Span => rs < e && re > s,
            Shape::Instant => rs <= s && re > s,
            Shape::TodoStartDuration => rs <= e && (re > s || re >= e),
            Shape::TodoStartDue => (rs < e || rs <= s) && (re > s || re >= e),
            Shape::TodoStart => rs <= s && re > s,
            Shape::TodoDue => rs < e && re >= e,
            Shape::TodoCompletedCreated { completed, created } => match (completed, created) {
                (Some(c), Some(cr)) => (rs <= cr || rs <= c) && (re >= cr || re >= c),
                (Some(c), None) => rs <= c && re >= c,
                (None, Some(cr)) => re > cr,
                (None, None) => true,
            },
            Shape::TodoUndated => true,
        }
    }
}

/// The instances of `obj` that fall in `[start, end)` by RFC 4791 §9.9, in start order, at most
/// `max`. A VTODO without any date has no occurrence (but it `overlaps` every range).
pub fn occurrences(
    obj: &CalendarObject,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    max: usize,
) -> Vec<Occurrence> {
    let mut out: Vec<Occurrence> = instances(obj, end)
        .into_iter()
        .filter(|i| !matches!(i.shape, Shape::TodoUndated) && i.hits(start, end))
        .map(|i| Occurrence {
            start: i.start,
            end: i.end,
            recurrence_id: i.rid,
        })
        .collect();
    out.sort_by_key(|o| (o.start, o.end));
    out.truncate(max);
    out
}

/// Whether `obj` intersects `[start, end)` (the CALDAV:time-range test of RFC 4791 §9.9).
pub fn overlaps(obj: &CalendarObject, start: DateTime<Utc>, end: DateTime<Utc>) -> bool {
    instances(obj, end).iter().any(|i| i.hits(start, end))
}

/// Busy time of an event within `[start, end)`, clipped to it, for a free-busy report:
/// transparent and cancelled instances are left out (an override decides for itself), and so are
/// tasks and instants.
pub fn busy_periods(
    obj: &CalendarObject,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Vec<(DateTime<Utc>, DateTime<Utc>, BusyType)> {
    if obj.kind != crate::record::RecordKind::Event {
        return Vec::new();
    }
    let mut out: Vec<_> = instances(obj, end)
        .into_iter()
        .filter(|i| matches!(i.shape, Shape::Span) && i.hits(start, end))
        .filter(|i| !i.timing.transparent && !i.timing.cancelled)
        .map(|i| {
            let kind = if i.timing.out_of_office {
                BusyType::BusyUnavailable
            } else if i.timing.tentative {
                BusyType::BusyTentative
            } else {
                BusyType::Busy
            };
            (i.start.max(start), i.end.min(end), kind)
        })
        .collect();
    out.sort_by_key(|p| (p.0, p.1));
    out
}

/// All instances that start no later than `until` (overrides always, wherever they moved to).
fn instances(obj: &CalendarObject, until: DateTime<Utc>) -> Vec<Instance<'_>> {
    let master = &obj.primary;
    let is_event = obj.kind != crate::record::RecordKind::Task;
    let mut out = Vec::new();
    let overridden: Vec<DateTime<Utc>> = obj
        .overrides
        .iter()
        .filter_map(|o| o.recurrence_id.map(|r| r.utc()))
        .collect();

    let recurring = master.recurrence_id.is_none()
        && master.start.is_some()
        && (master.rrule.is_some() || !master.rdates.is_empty());
    if recurring {
        for start in starts(master, until) {
            let key = start.utc();
            if overridden.contains(&key) || is_excluded(master, &start) {
                continue;
            }
            if let Some(i) = instance(master, Some(start), is_event, Some(key)) {
                out.push(i);
            }
        }
    } else if let Some(i) = instance(master, master.start, is_event, None) {
        out.push(Instance {
            rid: master.recurrence_id.map(|r| r.utc()),
            ..i
        });
    }
    for o in &obj.overrides {
        if let Some(i) = instance(o, o.start.or(o.recurrence_id), is_event, None) {
            out.push(Instance {
                rid: o.recurrence_id.map(|r| r.utc()),
                ..i
            });
        }
    }
    out
}

fn is_excluded(master: &Timing, start: &Moment) -> bool {
    master.exdates.iter().any(|ex| match ex {
        // A DATE exdate on a DATE-TIME series removes that day's instance.
        Moment::Date(d) => match start {
            Moment::Date(s) => s == d,
            Moment::Time { local, .. } => local.date() == *d,
        },
        Moment::Time { .. } => ex.utc() == start.utc(),
    })
}

/// Build one instance of `timing` starting at `start` (for a recurrence, a generated start).
fn instance(
    timing: &Timing,
    start: Option<Moment>,
    is_event: bool,
    rid: Option<DateTime<Utc>>,
) -> Option<Instance<'_>> {
    let make = |start: DateTime<Utc>, end: DateTime<Utc>, shape| Instance {
        start,
        end,
        shape,
        rid,
        timing,
    };
    // The master's own length, applied to every generated start (RFC 5545 §3.8.5.3).
    let length = |s: Moment| -> Option<DateTime<Utc>> {
        let master_start = timing.start?;
        if let Some(end) = timing.end.or(if is_event { None } else { timing.due }) {
            return Some(match (master_start, end, s) {
                (Moment::Date(a), Moment::Date(b), Moment::Date(d)) => {
                    tz::date_start(d.checked_add_signed(b - a)?)
                }
                _ => s.utc().checked_add_signed(end.utc() - master_start.utc())?,
            });
        }
        let d = timing.duration?;
        Some(match s {
            // A nominal day on an all-day item is a calendar day.
            Moment::Date(day) => {
                tz::date_start(day.checked_add_signed(TimeDelta::days(d.num_days()))?)
            }
            Moment::Time { .. } => s.utc().checked_add_signed(d)?,
        })
    };
    if is_event {
        let s = start?;
        return Some(match length(s) {
            Some(e) if e > s.utc() => make(s.utc(), e, Shape::Span),
            Some(_) => make(s.utc(), s.utc(), Shape::Instant),
            None => match s {
                Moment::Date(d) => make(
                    s.utc(),
                    tz::date_start(d.succ_opt().unwrap_or(d)),
                    Shape::Span,
                ),
                Moment::Time { .. } => make(s.utc(), s.utc(), Shape::Instant),
            },
        });
    }
    match start {
        Some(s) => Some(match (timing.due, timing.duration) {
            (Some(_), _) => {
                let e = length(s).unwrap_or(s.utc());
                make(s.utc(), e, Shape::TodoStartDue)
            }
            (None, Some(_)) => {
                let e = length(s).unwrap_or(s.utc());
                make(s.utc(), e, Shape::TodoStartDuration)
            }
            (None, None) => make(s.utc(), s.utc(), Shape::TodoStart),
        }),
        None => Some(match (timing.due, timing.completed, timing.created) {
            (Some(due), _, _) => make(due.utc(), due.utc(), Shape::TodoDue),
            (None, None, None) => {
                let epoch = DateTime::<Utc>::UNIX_EPOCH;
                make(epoch, epoch, Shape::TodoUndated)
            }
            (None, completed, created) => {
                let s = created.or(completed)?;
                let e = completed.unwrap_or(s).max(s);
                make(s, e, Shape::TodoCompletedCreated { completed, created })
            }
        }),
    }
}

/// The starts of the recurrence set (rule, RDATEs and DTSTART) up to `until`, sorted.
fn starts(master: &Timing, until: DateTime<Utc>) -> Vec<Moment> {
    let Some(first) = master.start else {
        return Vec::new();
    };
    let (first_local, zone) = match first {
        Moment::Date(d) => (d.and_hms_opt(0, 0, 0).unwrap_or_default(), None),
        Moment::Time { local, tz } => (local, Some(tz)),
    };
    let at = |local: NaiveDateTime| -> Moment {
        match zone {
            None => Moment::Date(local.date()),
            Some(tz) => Moment::Time { local, tz },
        }
    };
    // Wall-clock bound: UTC offsets are less than a day.
    let bound = until
        .naive_utc()
        .checked_add_signed(TimeDelta::days(1))
        .unwrap_or(NaiveDateTime::MAX);
    let mut out = vec![first];
    if let Some(rule) = &master.rrule
        && let Some(set) = rule_set(rule, first_local, zone)
    {
        for dt in set.into_iter().take(MAX_GENERATED) {
            let local = dt.naive_utc();
            if local > bound {
                break;
            }
            out.push(at(local));
        }
    }
    out.extend(
        master
            .rdates
            .iter()
            .copied()
            .filter(|r| r.utc().naive_utc() <= bound),
    );
    out.sort_by_key(|m| m.utc());
    out.dedup_by_key(|m| m.utc());
    out
}

/// Translate calcard's parsed RRULE into an `rrule` set anchored at the wall-clock start.
fn rule_set(
    rule: &ICalendarRecurrenceRule,
    start_local: NaiveDateTime,
    zone: Option<Tz>,
) -> Option<rrule::RRuleSet> {
    use rrule::{Frequency, NWeekday, RRule};
    let freq = match rule.freq {
        ICalendarFrequency::Yearly => Frequency::Yearly,
        ICalendarFrequency::Monthly => Frequency::Monthly,
        ICalendarFrequency::Weekly => Frequency::Weekly,
        ICalendarFrequency::Daily => Frequency::Daily,
        ICalendarFrequency::Hourly => Frequency::Hourly,
        ICalendarFrequency::Minutely => Frequency::Minutely,
        ICalendarFrequency::Secondly => Frequency::Secondly,
    };
    let weekday = |w: &ICalendarWeekday| match w {
        ICalendarWeekday::Monday => Weekday::Mon,
        ICalendarWeekday::Tuesday => Weekday::Tue,
        ICalendarWeekday::Wednesday => Weekday::Wed,
        ICalendarWeekday::Thursday => Weekday::Thu,
        ICalendarWeekday::Friday => Weekday::Fri,
        ICalendarWeekday::Saturday => Weekday::Sat,
        ICalendarWeekday::Sunday => Weekday::Sun,
    };
    let anchor = |local: NaiveDateTime| rrule::Tz::UTC.from_utc_datetime(&local);
    let mut r = RRule::new(freq);
    if let Some(i) = rule.interval {
        r = r.interval(i.max(1));
    }
    if let Some(c) = rule.count {
        r = r.count(c);
    }
    if let Some(until) = &rule.until {
        let result = until.to_date_time()?;
        let local = if !until.has_time() {
            // A DATE UNTIL includes that whole day.
            result.date_time.date().and_hms_opt(23, 59, 59)?
        } else if let Some(offset) = result.offset {
            // UNTIL in UTC: compare in the start's zone, or an instance on UNTIL is lost.
            let instant = result
                .date_time
                .checked_sub_signed(TimeDelta::seconds(offset.local_minus_utc() as i64))?;
            match zone {
                Some(tz) => tz::to_local(instant.and_utc(), tz),
                None => instant,
            }
        } else {
            result.date_time
        };
        if local < start_local {
            // UNTIL before DTSTART: the set is DTSTART alone.
            return None;
        }
        r = r.until(anchor(local));
    }
    if !rule.bysecond.is_empty() {
        r = r.by_second(rule.bysecond.clone());
    }
    if !rule.byminute.is_empty() {
        r = r.by_minute(rule.byminute.clone());
    }
    if !rule.byhour.is_empty() {
        r = r.by_hour(rule.byhour.clone());
    }
    if !rule.byday.is_empty() {
        r = r.by_weekday(
            rule.byday
                .iter()
                .map(|d| NWeekday::new(d.ordwk, weekday(&d.weekday)))
                .collect(),
        );
    }
    if !rule.bymonthday.is_empty() {
        r = r.by_month_day(rule.bymonthday.clone());
    }
    if !rule.byyearday.is_empty() {
        r = r.by_year_day(rule.byyearday.clone());
    }
    if !rule.byweekno.is_empty() {
        r = r.by_week_no(rule.byweekno.clone());
    }
    if !rule.bymonth.is_empty() {
        let months: Vec<chrono::Month> = rule
            .bymonth
            .iter()
            .filter_map(|m| chrono::Month::try_from(m.month()).ok())
            .collect();
        r = r.by_month(&months);
    }
    if !rule.bysetpos.is_empty() {
        r = r.by_set_pos(rule.bysetpos.clone());
    }
    if let Some(w) = &rule.wkst {
        r = r.week_start(weekday(w));
    }
    r.build(anchor(start_local)).ok()
}
