//! One calendar object resource (RFC 4791 §4.1) ⇄ the fields of an `Event` or a `Task`.
//!
//! The seam: `parse` reads a body into fields (and remembers which lines fed which field);
//! `render` writes fields back, editing the previous body line by line so what tandem does not
//! map, and every untouched line, stays byte for byte. The types both sides share are here.

mod parse;
mod render;

pub use parse::parse_icalendar;
pub(crate) use parse::{rrule, starts_with_ignore_case};
pub use render::render_icalendar;

use super::tz::{self, Zones};
use super::unfold::{Comp, Line};
use crate::record::{Event, Fields, RecordKind, Task, When};
use calcard::common::timezone::Tz;
use calcard::icalendar::ICalendarRecurrenceRule;
use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeDelta, Utc};

/// A parsed calendar object resource: its fields, plus what expansion needs.
#[derive(Clone, Debug)]
pub struct CalendarObject {
    /// `Event` for VEVENT, `Task` for VTODO.
    pub kind: RecordKind,
    pub uid: String,
    /// The record's fields, valid for `kind`, `unmapped` included.
    pub fields: Fields,
    /// The master's dates, or the first override's when the resource holds only overrides.
    pub(crate) primary: Timing,
    /// The RECURRENCE-ID overrides' dates.
    pub(crate) overrides: Vec<Timing>,
}

/// The dates and time-related flags of one component, as written (not yet in UTC).
#[derive(Clone, Debug, Default)]
pub(crate) struct Timing {
    pub start: Option<Moment>,
    pub end: Option<Moment>,
    pub duration: Option<TimeDelta>,
    pub due: Option<Moment>,
    pub completed: Option<DateTime<Utc>>,
    pub created: Option<DateTime<Utc>>,
    pub rrule: Option<Box<ICalendarRecurrenceRule>>,
    pub rdates: Vec<Moment>,
    pub exdates: Vec<Moment>,
    pub recurrence_id: Option<Moment>,
    pub transparent: bool,
    pub cancelled: bool,
    pub tentative: bool,
    pub out_of_office: bool,
}

/// A DATE or a DATE-TIME with the zone it is to be read in (`Tz::Floating` for floating times).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Moment {
    Date(NaiveDate),
    Time { local: NaiveDateTime, tz: Tz },
}

impl CalendarObject {
    /// Whether the record is cancelled (STATUS:CANCELLED on the master).
    pub fn is_cancelled(&self) -> bool {
        self.primary.cancelled
    }

    /// The occurrence the resource's first component replaces, when it is an override (a
    /// RECURRENCE-ID without its master).
    pub fn recurrence_id(&self) -> Option<When> {
        self.primary.recurrence_id.map(|rid| parse::when(rid, None))
    }
}

impl Moment {
    /// The instant; a date is its midnight UTC and a floating time is read as UTC.
    pub fn utc(&self) -> DateTime<Utc> {
        match *self {
            Moment::Date(d) => tz::date_start(d),
            Moment::Time { local, tz } => tz::to_utc(local, tz),
        }
    }

    fn date(&self) -> NaiveDate {
        match *self {
            Moment::Date(d) => d,
            Moment::Time { local, .. } => local.date(),
        }
    }
}

/// The parse of a body together with the line structure a render needs to edit it.
struct Parsed {
    lines: Vec<Line>,
    object: CalendarObject,
    /// The VCALENDAR component.
    calendar: Comp,
    /// Index in `calendar.children` of the component the fields come from.
    primary: usize,
    mapping: Mapping,
    zones: Zones,
}

/// The record being mapped, before `unmapped` is filled in.
#[derive(Clone, Debug)]
enum Record {
    Event(Box<Event>),
    Task(Box<Task>),
}

/// Which lines of the primary component feed which field, for editing a previous body.
#[derive(Clone, Debug, Default)]
struct Mapping {
    record: Record,
    timing: Timing,
    /// (line index, field name) for every mapped property line.
    slots: Vec<(usize, &'static str)>,
    /// The VALARM mapped to the reminder field, and its TRIGGER line.
    alarm: Option<(Comp, usize)>,
    /// Whether an X-MICROSOFT-CDO-BUSYSTATUS line feeds `show_as`.
    busy_status: bool,
    unmapped: Vec<String>,
}

impl Default for Record {
    fn default() -> Self {
        Record::Event(Box::default())
    }
}

impl Mapping {
    fn lines_of(&self, field: &str) -> Vec<usize> {
        self.slots
            .iter()
            .filter(|(_, f)| *f == field)
            .map(|(i, _)| *i)
            .collect()
    }
}
