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
//!
//! **Bounded work.** A rule can ask for iteration without end: `FREQ=SECONDLY;BYMONTH=2;
//! BYMONTHDAY=30` never produces an instance, so the `rrule` crate would walk day by day towards
//! year 10000 (and it stops a walk only on an instance, never on UNTIL alone); a SECONDLY rule
//! from year 1 asked about year 9000 walks billions of periods. So before walking, `screen`
//! answers rules whose BY parts can never match (DTSTART alone, as a full walk would find) and
//! refuses shapes whose every period is expensive; then the walk is bounded by `MAX_PERIODS`
//! periods from DTSTART and by the crate's own limit of 100,000 periods without an instance
//! (`RRuleSet::limit`). A walk cut short says how far it got (`Expansion::searched_until`)
//! instead of passing for the whole set.

use super::ical::{CalendarObject, Moment, Timing};
use super::tz;
use calcard::common::timezone::Tz;
use calcard::icalendar::{ICalendarFrequency, ICalendarRecurrenceRule, ICalendarWeekday};
use chrono::{DateTime, Months, NaiveDateTime, TimeDelta, TimeZone, Utc, Weekday};

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

/// How many periods of the rule (FREQ × INTERVAL) are searched from DTSTART, at most: about 246
/// years of a DAILY rule, 10 years of an HOURLY one, a day of a SECONDLY one. It stays under the
/// `rrule` crate's own limit (100,000 periods without an instance, then the iterator ends as if
/// the rule were over), with room for a WEEKLY rule's short first week, so a walk that ends has
/// searched at least this far and what it returned up to here is complete. The worst walk is
/// this many periods plus that limit after it.
const MAX_PERIODS: u32 = 90_000;

/// A period with more candidate instances than this is refused: the crate builds a whole period
/// (e.g. every minute of every day of a year) at once, before anything can stop it.
const MAX_PERIOD_CANDIDATES: u64 = MAX_GENERATED as u64;

/// An HOURLY, MINUTELY or SECONDLY rule that skips days (BYDAY, BYMONTH…) pays, for each skipped
/// day, one step per FREQ unit until its BYHOUR/BYMINUTE/BYSECOND matches again (up to 86,400
/// for SECONDLY;BYHOUR). Past a day of hourly steps, the 100,000 skipped days the crate allows
/// would cost seconds to minutes, so such rules are refused.
const MAX_STEPS_PER_SKIPPED_DAY: u64 = 24;

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
pub(super) struct Instance<'a> {
    pub(super) start: DateTime<Utc>,
    pub(super) end: DateTime<Utc>,
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

/// The instances found in a range, and whether the recurrence was searched all through it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expansion {
    pub occurrences: Vec<Occurrence>,
    /// `Some(t)` when the rule was given up on before the range end, walking it further costing
    /// too much for what it yields: instances starting after `t` may be missing. `None` when the
    /// answer is the whole set.
    pub searched_until: Option<DateTime<Utc>>,
}

/// The instances of `obj` that fall in `[start, end)` by RFC 4791 §9.9, in start order, at most
/// `max`, and how far the rule was searched. A VTODO without any date has no occurrence (but it
/// `overlaps` every range).
pub fn expansion(
    obj: &CalendarObject,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    max: usize,
) -> Expansion {
    let (found, searched_until) = instances(obj, end);
    let mut out: Vec<Occurrence> = found
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
    Expansion {
        occurrences: out,
        searched_until,
    }
}

/// The instances found by [`expansion`], without saying whether the search was cut short.
pub fn occurrences(
    obj: &CalendarObject,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    max: usize,
) -> Vec<Occurrence> {
    expansion(obj, start, end, max).occurrences
}

/// Whether `obj` intersects `[start, end)` (the CALDAV:time-range test of RFC 4791 §9.9).
///
/// A rule given up on before `end` counts as intersecting when nothing found does: an instance
/// may lie in the part not searched, and a client shown one object too many can see that for
/// itself, while one never shown loses the event.
pub fn overlaps(obj: &CalendarObject, start: DateTime<Utc>, end: DateTime<Utc>) -> bool {
    let (found, searched_until) = instances(obj, end);
    found.iter().any(|i| i.hits(start, end)) || searched_until.is_some()
}

/// Busy time of an event within `[start, end)`, clipped to it, for a free-busy report:
/// transparent and cancelled instances are left out (an override decides for itself), and so are
/// tasks and instants. A rule given up on early gives the busy time found (free-busy has no way
/// to say "unknown").
pub fn busy_periods(
    obj: &CalendarObject,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Vec<(DateTime<Utc>, DateTime<Utc>, BusyType)> {
    if obj.kind != crate::record::RecordKind::Event {
        return Vec::new();
    }
    let mut out: Vec<_> = instances(obj, end)
        .0
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

/// All instances that start no later than `until` (overrides always, wherever they moved to), and
/// the time the rule was searched up to when that is short of `until`.
pub(super) fn instances(
    obj: &CalendarObject,
    until: DateTime<Utc>,
) -> (Vec<Instance<'_>>, Option<DateTime<Utc>>) {
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
    let mut searched_until = None;
    if recurring {
        let (starts, searched) = starts(master, until);
        searched_until = searched.filter(|t| *t < until);
        for start in starts {
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
    (out, searched_until)
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

/// The starts of the recurrence set (rule, RDATEs and DTSTART) up to `until`, sorted, and the time
/// the rule was searched up to when the search stopped before `until` (see the module note).
fn starts(master: &Timing, until: DateTime<Utc>) -> (Vec<Moment>, Option<DateTime<Utc>>) {
    let Some(first) = master.start else {
        return (Vec::new(), None);
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
    let mut searched = None;
    if let Some(rule) = &master.rrule {
        match screen(rule, first_local) {
            Screen::Empty => {}
            Screen::TooCostly => searched = Some(first.utc()),
            Screen::Walk => {
                if let Some(set) = rule_set(rule, first_local, zone) {
                    let horizon = horizon(rule, first_local);
                    let end = bound.min(horizon);
                    let mut last = first_local;
                    // A rule with COUNT or UNTIL whose walk runs out has ended: nothing lies
                    // beyond. `limit` also ends a walk, after 100,000 periods without an
                    // instance: that cannot hide one before the horizon (see MAX_PERIODS), and
                    // a finite rule would need such a gap to have instances further on.
                    let mut ended = rule.count.is_some() || rule.until.is_some();
                    for (generated, dt) in (&set.limit()).into_iter().enumerate() {
                        let local = dt.naive_utc();
                        if local > end {
                            ended = false;
                            break;
                        }
                        if generated == MAX_GENERATED {
                            // Complete up to the last instance kept, not beyond.
                            searched = Some(at(last).utc());
                            break;
                        }
                        out.push(at(local));
                        last = local;
                    }
                    if searched.is_none() && horizon < bound && !ended {
                        searched = Some(at(horizon).utc());
                    }
                }
            }
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
    (out, searched)
}

/// What to do with a rule before walking it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Screen {
    Walk,
    /// Its BY parts can never match (BYMONTHDAY=30;BYMONTH=2, BYYEARDAY=366;BYMONTH=1, a BYSETPOS
    /// beyond any period's size): the set is DTSTART alone, as a walk to the end would find.
    Empty,
    /// Each period (or each skipped day) costs too much to walk many of them.
    TooCostly,
}

/// Decide from the rule's shape alone whether it is worth walking; cheap, and exact for what it
/// calls `Empty`. `start` supplies the month and day a YEARLY or MONTHLY rule without day parts
/// takes from DTSTART (RFC 5545 §3.3.10), as the `rrule` crate does.
fn screen(rule: &ICalendarRecurrenceRule, start: NaiveDateTime) -> Screen {
    use chrono::Datelike;
    let freq = &rule.freq;
    let sub_daily = matches!(
        freq,
        ICalendarFrequency::Hourly | ICalendarFrequency::Minutely | ICalendarFrequency::Secondly
    );
    let count = |n: usize| u64::try_from(n.max(1)).unwrap_or(u64::MAX);
    // Candidate instances in one period: its days times the times of day it expands to.
    let times = match freq {
        ICalendarFrequency::Hourly => {
            count(rule.byminute.len()).saturating_mul(count(rule.bysecond.len()))
        }
        ICalendarFrequency::Minutely => count(rule.bysecond.len()),
        ICalendarFrequency::Secondly => 1,
        _ => count(rule.byhour.len())
            .saturating_mul(count(rule.byminute.len()))
            .saturating_mul(count(rule.bysecond.len())),
    };
    // A rule without day parts takes its day from DTSTART: one day a month or week, one day in
    // each BYMONTH (or DTSTART's month) of a year.
    let no_day_parts = rule.byweekno.is_empty()
        && rule.byyearday.is_empty()
        && rule.bymonthday.is_empty()
        && rule.byday.is_empty();
    let days: u64 = match freq {
        ICalendarFrequency::Yearly if no_day_parts => count(rule.bymonth.len()),
        ICalendarFrequency::Yearly => 366,
        ICalendarFrequency::Monthly if no_day_parts => 1,
        ICalendarFrequency::Monthly => 31,
        ICalendarFrequency::Weekly if no_day_parts => 1,
        ICalendarFrequency::Weekly => 7,
        _ => 1,
    };
    let candidates = days.saturating_mul(times);
    if !rule.bysetpos.is_empty()
        && rule
            .bysetpos
            .iter()
            .all(|p| u64::from(p.unsigned_abs()) > candidates)
    {
        return Screen::Empty;
    }

    // Months and days of month, with the defaults a rule without day parts takes from DTSTART.
    // Months outside 1–12 are dropped, as `rule_set` drops them.
    let mut months: Vec<u32> = rule
        .bymonth
        .iter()
        .map(|m| u32::from(m.month()))
        .filter(|m| (1..=12).contains(m))
        .collect();
    let mut month_days: Vec<i32> = rule.bymonthday.iter().map(|&d| i32::from(d)).collect();
    let start_day = i32::try_from(start.day()).unwrap_or(1);
    if no_day_parts {
        match freq {
            ICalendarFrequency::Yearly => {
                if months.is_empty() {
                    months.push(start.month());
                }
                month_days.push(start_day);
            }
            ICalendarFrequency::Monthly => {
                month_days.push(start_day);
            }
            _ => {}
        }
    }
    // Is there a day, in a leap or a common year, that every month/day/year-day part allows?
    let possible = [365, 366].into_iter().any(|year_len: i32| {
        let mut year_day = 0;
        (1..=12).any(|month: u32| {
            let len = match month {
                2 if year_len == 365 => 28,
                2 => 29,
                4 | 6 | 9 | 11 => 30,
                _ => 31,
            };
            let month_ok = months.is_empty() || months.contains(&month);
            (1..=len).fold(false, |found, day| {
                year_day += 1;
                let day_ok = month_days.is_empty()
                    || month_days.contains(&day)
                    || month_days.contains(&(day - len - 1));
                let year_day_ok = rule.byyearday.is_empty()
                    || rule.byyearday.iter().any(|&y| {
                        let y = i32::from(y);
                        y == year_day || y == year_day - year_len - 1
                    });
                found || (month_ok && day_ok && year_day_ok)
            })
        })
    });
    if !possible {
        return Screen::Empty;
    }

    if candidates > MAX_PERIOD_CANDIDATES {
        return Screen::TooCostly;
    }
    // Steps, in FREQ units, from a skipped day to the next time of day the rule allows: as many
    // as there are distinct times of day on its cycle (a day when BYHOUR is set, an hour when
    // BYMINUTE is, a minute when BYSECOND is).
    let skips_days = !rule.bymonth.is_empty()
        || !rule.bymonthday.is_empty()
        || !rule.byyearday.is_empty()
        || !rule.byweekno.is_empty()
        || !rule.byday.is_empty();
    if sub_daily && skips_days {
        let units_per = |hour: u64, minute: u64, second: u64| {
            if !rule.byhour.is_empty() {
                hour
            } else if !rule.byminute.is_empty() {
                minute
            } else if !rule.bysecond.is_empty() {
                second
            } else {
                1
            }
        };
        let cycle = match freq {
            ICalendarFrequency::Hourly => units_per(24, 1, 1),
            ICalendarFrequency::Minutely => units_per(24 * 60, 60, 1),
            _ => units_per(24 * 60 * 60, 60 * 60, 60),
        };
        let interval = u64::from(rule.interval.unwrap_or(1).max(1));
        if cycle / gcd(cycle, interval) > MAX_STEPS_PER_SKIPPED_DAY {
            return Screen::TooCostly;
        }
    }
    Screen::Walk
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 { a } else { gcd(b, a % b) }
}

/// DTSTART plus MAX_PERIODS periods of the rule, in wall-clock time; the latest time if that
/// overflows.
fn horizon(rule: &ICalendarRecurrenceRule, start: NaiveDateTime) -> NaiveDateTime {
    let periods = i64::from(MAX_PERIODS) * i64::from(rule.interval.unwrap_or(1).max(1));
    let months = |n: i64| {
        u32::try_from(n)
            .ok()
            .and_then(|n| start.checked_add_months(Months::new(n)))
    };
    let after = |d: Option<TimeDelta>| d.and_then(|d| start.checked_add_signed(d));
    match rule.freq {
        ICalendarFrequency::Yearly => months(periods.saturating_mul(12)),
        ICalendarFrequency::Monthly => months(periods),
        ICalendarFrequency::Weekly => after(TimeDelta::try_weeks(periods)),
        ICalendarFrequency::Daily => after(TimeDelta::try_days(periods)),
        ICalendarFrequency::Hourly => after(TimeDelta::try_hours(periods)),
        ICalendarFrequency::Minutely => after(TimeDelta::try_minutes(periods)),
        ICalendarFrequency::Secondly => after(TimeDelta::try_seconds(periods)),
    }
    .unwrap_or(NaiveDateTime::MAX)
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

/// An iCalendar weekday as chrono's.
pub(crate) fn weekday(day: &ICalendarWeekday) -> Weekday {
    match day {
        ICalendarWeekday::Monday => Weekday::Mon,
        ICalendarWeekday::Tuesday => Weekday::Tue,
        ICalendarWeekday::Wednesday => Weekday::Wed,
        ICalendarWeekday::Thursday => Weekday::Thu,
        ICalendarWeekday::Friday => Weekday::Fri,
        ICalendarWeekday::Saturday => Weekday::Sat,
        ICalendarWeekday::Sunday => Weekday::Sun,
    }
}
