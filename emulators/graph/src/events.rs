//! Events of the user's default calendar (resources/event.md): the rules of their times
//! (start before end, all-day events from midnight to midnight), series masters expanded into
//! occurrences, an occurrence that is changed turning into an exception and one that is
//! deleted being cancelled, `transactionId` de-duplicating retried creates, and an event as a
//! read answers it. Events are mailbox items (`Kind::Event`); what a series adds to its
//! master is kept in `Mailbox::series`.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};

use crate::calendar::Recurrence;
use crate::error::GraphError;
use crate::mailbox::{self, IdType, Item, Kind, Mailbox};
use crate::timezone::{self, OutZone, When};

/// The mailbox owner, who organizes every event of the emulated calendar.
pub const OWNER_NAME: &str = "Emulated Outlook User";
pub const OWNER_ADDRESS: &str = "user@outlook.emulator.invalid";

/// What a series master holds beside its own properties.
#[derive(Debug, Clone, Default)]
pub struct Series {
    /// Occurrences changed on their own, by original start.
    pub exceptions: BTreeMap<DateTime<Utc>, Exception>,
    /// Occurrences deleted from the series, by original start.
    pub cancelled: BTreeSet<DateTime<Utc>>,
}

/// An occurrence that was changed: the properties it has of its own.
#[derive(Debug, Clone)]
pub struct Exception {
    pub change_key: String,
    pub created: DateTime<Utc>,
    pub modified: DateTime<Utc>,
    pub fields: Map<String, Value>,
}

/// resources/event.md, `type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    SingleInstance,
    Occurrence,
    Exception,
    SeriesMaster,
}

impl EventType {
    pub fn name(self) -> &'static str {
        match self {
            EventType::SingleInstance => "singleInstance",
            EventType::Occurrence => "occurrence",
            EventType::Exception => "exception",
            EventType::SeriesMaster => "seriesMaster",
        }
    }
}

/// One event as a time range shows it: a single event, a series master, or one of a series'
/// occurrences or exceptions.
#[derive(Debug, Clone, PartialEq)]
pub struct Instance {
    /// Its immutable id and its REST id (the same kind of id for an occurrence, made from its
    /// master's and its original start, as Exchange makes them).
    pub id: String,
    pub rest_id: String,
    pub kind: EventType,
    /// The immutable id of the event item: itself, or the series master.
    pub master: String,
    /// Where the occurrence was in the series before any change (occurrences and exceptions).
    pub original_start: Option<DateTime<Utc>>,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub change_key: String,
}

impl Instance {
    pub fn id(&self, ids: IdType) -> &str {
        match ids {
            IdType::Immutable => &self.id,
            IdType::Rest => &self.rest_id,
        }
    }

    pub fn etag(&self) -> String {
        format!("W/\"{}\"", self.change_key)
    }

    /// Whether it shows in a window (api/user-list-calendarview.md: the events that overlap
    /// it; an event without duration, when it starts inside it).
    pub fn overlaps(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> bool {
        if self.start == self.end {
            self.start >= from && self.start < to
        } else {
            self.start < to && self.end > from
        }
    }
}

/// An occurrence's id: its master's (in either form) and its original start.
fn occurrence_id(master_id: &str, original: DateTime<Utc>) -> String {
    mailbox::encode_id(&format!(
        "tandem-graph-emulator/occurrence/{}/{master_id}",
        original.timestamp()
    ))
}

fn parse_occurrence_id(id: &str) -> Option<(String, DateTime<Utc>)> {
    let raw = mailbox::decode_id(id)?;
    let rest = raw.strip_prefix("tandem-graph-emulator/occurrence/")?;
    let (seconds, master) = rest.split_once('/')?;
    let original = DateTime::from_timestamp(seconds.parse().ok()?, 0)?;
    Some((master.to_string(), original))
}

/// When an event is, checked: the rules a write must keep.
#[derive(Debug, Clone)]
pub struct Schedule {
    pub start: When,
    pub end: When,
    pub all_day: bool,
    pub recurrence: Option<Recurrence>,
}

fn invalid(message: &str) -> GraphError {
    GraphError::bad_request(
        "ErrorInvalidRequest",
        format!("Your request can't be completed. {message}"),
    )
}

fn not_convertible(name: &str, value: &Value) -> GraphError {
    GraphError::bad_request(
        "RequestBodyRead",
        format!("Cannot convert the literal '{value}' to the expected type of '{name}'."),
    )
}

/// The shapes of the event properties a body carries (enumerations are `Kind::check`'s).
fn check_shapes(body: &Map<String, Value>) -> Result<(), GraphError> {
    for (name, value) in body {
        if value.is_null() {
            continue;
        }
        let ok = match name.as_str() {
            "subject" | "transactionId" => value.is_string(),
            "isAllDay" | "isReminderOn" => value.is_boolean(),
            "reminderMinutesBeforeStart" => value.as_i64().is_some(),
            "categories" => value
                .as_array()
                .is_some_and(|a| a.iter().all(Value::is_string)),
            "attendees" => value
                .as_array()
                .is_some_and(|a| a.iter().all(|x| x.get("emailAddress").is_some())),
            "location" => value.is_object(),
            "body" => {
                value
                    .get("contentType")
                    .and_then(Value::as_str)
                    .is_none_or(|t| {
                        t.eq_ignore_ascii_case("text") || t.eq_ignore_ascii_case("html")
                    })
                    && value.get("content").is_none_or(Value::is_string)
            }
            _ => true,
        };
        if !ok {
            return Err(not_convertible(name, value));
        }
    }
    Ok(())
}

/// The schedule of an event's properties (resources/event.md, `isAllDay`: "start and end time
/// must be set to midnight and be in the same time zone").
pub fn schedule(fields: &Map<String, Value>) -> Result<Schedule, GraphError> {
    let (Some(start), Some(end)) = (
        fields.get("start").filter(|v| !v.is_null()),
        fields.get("end").filter(|v| !v.is_null()),
    ) else {
        return Err(invalid("An event needs a start and an end."));
    };
    let start = timezone::parse(start, "start")?;
    let end = timezone::parse(end, "end")?;
    if end.utc < start.utc {
        return Err(invalid("The end of an event can't be before its start."));
    }
    let all_day = fields
        .get("isAllDay")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    if all_day {
        let midnight = chrono::NaiveTime::MIN;
        if start.local.time() != midnight || end.local.time() != midnight {
            return Err(invalid(
                "The start and end of an event marked as All day must be set to midnight.",
            ));
        }
        if start.tz != end.tz {
            return Err(invalid(
                "The start and end of an event marked as All day must be in the same time zone.",
            ));
        }
        if end.local.date() <= start.local.date() {
            // The text Graph answers (microsoft-graph-docs' issue threads).
            return Err(invalid(
                "The duration of an event marked as All day must be at least 24 hours.",
            ));
        }
    }
    let recurrence = match fields.get("recurrence").filter(|v| !v.is_null()) {
        None => None,
        Some(value) => {
            let recurrence = Recurrence::parse(value)?;
            // recurrencerange.md: startDate "Must be the same value as the start property of
            // the recurring event".
            if recurrence.range.start != start.local.date() {
                return Err(invalid(
                    "The recurrence's range.startDate must be the date of the event's start.",
                ));
            }
            Some(recurrence)
        }
    };
    Ok(Schedule {
        start,
        end,
        all_day,
        recurrence,
    })
}

impl Schedule {
    /// The occurrence of the series on `date`: its start and end.
    fn occurrence_on(&self, date: NaiveDate) -> (DateTime<Utc>, DateTime<Utc>) {
        let start = timezone::to_utc(date.and_time(self.start.local.time()), self.start.tz);
        if self.all_day {
            let days = (self.end.local.date() - self.start.local.date()).num_days();
            let end_date = date + Duration::days(days);
            let end = timezone::to_utc(end_date.and_time(chrono::NaiveTime::MIN), self.start.tz);
            return (start, end);
        }
        (start, start + (self.end.utc - self.start.utc))
    }

    /// Whether `original` is the start of one of the series' occurrences.
    fn has_occurrence(&self, original: DateTime<Utc>) -> bool {
        let Some(recurrence) = &self.recurrence else {
            return false;
        };
        let date = original.with_timezone(&self.start.tz).date_naive();
        recurrence.dates_through(date).last() == Some(&date)
            && self.occurrence_on(date).0 == original
    }
}

/// The event's properties merged with what a body changes (`null` clears one).
fn merged(mut fields: Map<String, Value>, body: &Map<String, Value>) -> Map<String, Value> {
    for (name, value) in body {
        if name.starts_with("@odata") || name == "singleValueExtendedProperties" {
            continue;
        }
        if value.is_null() {
            fields.remove(name);
        } else {
            fields.insert(name.clone(), value.clone());
        }
    }
    fields
}

/// What a request's event id names.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    /// A single event or a series master, by immutable id.
    Event(String),
    /// An occurrence or exception of a series.
    Instance {
        master: String,
        original: DateTime<Utc>,
    },
}

/// A text's first characters, tags removed: what `bodyPreview` shows.
fn preview(body: Option<&Value>) -> String {
    let content = body
        .and_then(|b| b.get("content"))
        .and_then(Value::as_str)
        .unwrap_or_default();
    let mut text = String::new();
    let mut in_tag = false;
    for c in content.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            _ if !in_tag => text.push(c),
            _ => {}
        }
    }
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(255)
        .collect()
}

/// The iCalendar UID Exchange gives an event (a GlobalObjectId in hex), with the occurrence's
/// date in it for an occurrence (resources/event.md: "different for each occurrence").
fn ical_uid(master: &str, date: Option<NaiveDate>) -> String {
    use chrono::Datelike;
    let stamp = date.map_or("00000000".to_string(), |d| {
        format!("{:04X}{:02X}{:02X}", d.year(), d.month(), d.day())
    });
    let hash = Sha256::digest(master.as_bytes());
    let tail: String = hash.iter().take(16).map(|b| format!("{b:02X}")).collect();
    format!("040000008200E00074C5B7101A82E008{stamp}00000000000000000000000000000000{tail}")
}

impl Mailbox {
    /// The default calendar's id.
    pub fn calendar_id(&self) -> Option<&str> {
        self.folders
            .iter()
            .find(|f| f.kind == Kind::Event)
            .map(|f| f.id.as_str())
    }

    /// The events (single ones and series masters), in id order.
    pub fn events(&self) -> impl Iterator<Item = &Item> {
        self.items.values().filter(|i| i.kind == Kind::Event)
    }

    /// The event a request's id names: one of its ids, or an occurrence's.
    pub fn event_target(&self, id: &str) -> Result<Target, GraphError> {
        if let Ok(item) = self.find(id, Kind::Event) {
            return Ok(Target::Event(item.immutable_id.clone()));
        }
        let (master_id, original) = parse_occurrence_id(id).ok_or_else(GraphError::not_found)?;
        let master = self.find(&master_id, Kind::Event)?;
        let schedule = schedule(&master.fields).map_err(|_| GraphError::not_found())?;
        let cancelled = self
            .series
            .get(&master.immutable_id)
            .is_some_and(|s| s.cancelled.contains(&original));
        if cancelled || !schedule.has_occurrence(original) {
            return Err(GraphError::not_found());
        }
        Ok(Target::Instance {
            master: master.immutable_id.clone(),
            original,
        })
    }

    /// The instance a target is now.
    pub fn instance(&self, target: &Target) -> Result<Instance, GraphError> {
        match target {
            Target::Event(key) => {
                let item = self.items.get(key).ok_or_else(GraphError::not_found)?;
                let schedule = schedule(&item.fields)?;
                Ok(self.whole(item, &schedule))
            }
            Target::Instance { master, original } => {
                let item = self.items.get(master).ok_or_else(GraphError::not_found)?;
                let schedule = schedule(&item.fields)?;
                self.member(item, &schedule, *original)
                    .ok_or_else(GraphError::not_found)
            }
        }
    }

    /// A single event or a series master as itself.
    fn whole(&self, item: &Item, schedule: &Schedule) -> Instance {
        Instance {
            id: item.immutable_id.clone(),
            rest_id: item.rest_id.clone(),
            kind: if schedule.recurrence.is_some() {
                EventType::SeriesMaster
            } else {
                EventType::SingleInstance
            },
            master: item.immutable_id.clone(),
            original_start: None,
            start: schedule.start.utc,
            end: schedule.end.utc,
            change_key: item.change_key.clone(),
        }
    }

    /// The occurrence or exception of a series at `original`, unless it was cancelled.
    fn member(
        &self,
        item: &Item,
        schedule: &Schedule,
        original: DateTime<Utc>,
    ) -> Option<Instance> {
        let series = self.series.get(&item.immutable_id);
        if series.is_some_and(|s| s.cancelled.contains(&original)) {
            return None;
        }
        let ids = (
            occurrence_id(&item.immutable_id, original),
            occurrence_id(&item.rest_id, original),
        );
        if let Some(exception) = series.and_then(|s| s.exceptions.get(&original)) {
            let fields = merged(self.instance_fields(item), &exception.fields);
            let own = schedule_of_instance(&fields)?;
            return Some(Instance {
                id: ids.0,
                rest_id: ids.1,
                kind: EventType::Exception,
                master: item.immutable_id.clone(),
                original_start: Some(original),
                start: own.start.utc,
                end: own.end.utc,
                change_key: exception.change_key.clone(),
            });
        }
        let date = original.with_timezone(&schedule.start.tz).date_naive();
        let (start, end) = schedule.occurrence_on(date);
        Some(Instance {
            id: ids.0,
            rest_id: ids.1,
            kind: EventType::Occurrence,
            master: item.immutable_id.clone(),
            original_start: Some(original),
            start,
            end,
            // Occurrences are versions of their master (event-list-instances.md's example: one
            // ETag for the series).
            change_key: item.change_key.clone(),
        })
    }

    /// A master's properties as its occurrences have them.
    fn instance_fields(&self, master: &Item) -> Map<String, Value> {
        let mut fields = master.fields.clone();
        fields.remove("recurrence");
        fields.remove("transactionId");
        fields
    }

    /// The occurrences and exceptions of a series that show in a window, by start.
    fn members(
        &self,
        item: &Item,
        schedule: &Schedule,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Vec<Instance> {
        let Some(recurrence) = &schedule.recurrence else {
            return Vec::new();
        };
        let series = self.series.get(&item.immutable_id);
        let last = (to.with_timezone(&schedule.start.tz).date_naive()) + Duration::days(1);
        let mut out: Vec<Instance> = recurrence
            .dates_through(last)
            .into_iter()
            .map(|date| schedule.occurrence_on(date).0)
            .filter(|original| series.is_none_or(|s| !s.exceptions.contains_key(original)))
            .filter_map(|original| self.member(item, schedule, original))
            .filter(|i| i.overlaps(from, to))
            .collect();
        // Exceptions show where they were moved to, which may be far from where they were.
        out.extend(
            series
                .into_iter()
                .flat_map(|s| s.exceptions.keys())
                .filter_map(|original| self.member(item, schedule, *original))
                .filter(|i| i.overlaps(from, to)),
        );
        out.sort_by(|a, b| (a.start, &a.id).cmp(&(b.start, &b.id)));
        out
    }

    /// What a window shows (api/user-list-calendarview.md): single events, occurrences and
    /// exceptions; with `masters`, also the master of each series that has an instance in it
    /// (as calendarView delta gives them, concepts/delta-query-events.md).
    pub fn calendar_view(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        masters: bool,
    ) -> Vec<Instance> {
        let mut out = Vec::new();
        for item in self.events() {
            // Stored events passed these checks when written; one that no longer does is left
            // out rather than failing the whole view.
            let Ok(schedule) = schedule(&item.fields) else {
                continue;
            };
            if schedule.recurrence.is_none() {
                let whole = self.whole(item, &schedule);
                if whole.overlaps(from, to) {
                    out.push(whole);
                }
                continue;
            }
            let members = self.members(item, &schedule, from, to);
            if masters && !members.is_empty() {
                out.push(self.whole(item, &schedule));
            }
            out.extend(members);
        }
        out
    }

    /// `GET /me/events/{id}/instances` (api/event-list-instances.md): a master's occurrences
    /// and exceptions in a window; nothing for another event.
    pub fn event_instances(
        &self,
        id: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Instance>, GraphError> {
        let Target::Event(key) = self.event_target(id)? else {
            return Ok(Vec::new());
        };
        let item = self.items.get(&key).ok_or_else(GraphError::not_found)?;
        let schedule = schedule(&item.fields)?;
        Ok(self.members(item, &schedule, from, to))
    }

    /// `POST /me/events`. A body whose `transactionId` an existing event has is the retry of
    /// a create that was done (resources/event.md: `transactionId` lets the server "avoid
    /// redundant POST operations in case of client retries"): the answer is that event, and
    /// `false` for "not created now". The docs do not say what the retry's response is; the
    /// emulator answers it as the first create was answered (201 with the event), so a client
    /// that retries after a lost response reads the same thing either way.
    pub fn create_event(
        &mut self,
        calendar: &str,
        body: &Map<String, Value>,
        now: DateTime<Utc>,
    ) -> Result<(Instance, bool), GraphError> {
        if let Some(transaction) = body.get("transactionId").and_then(Value::as_str)
            && let Some(existing) = self.events().find(|e| {
                e.fields.get("transactionId").and_then(Value::as_str) == Some(transaction)
            })
        {
            let target = Target::Event(existing.immutable_id.clone());
            return Ok((self.instance(&target)?, false));
        }
        mailbox::writable(Kind::Event, body)?;
        check_shapes(body)?;
        let schedule = schedule(body)?;
        let item = self.create(calendar, Kind::Event, body, now)?;
        if schedule.recurrence.is_some() {
            self.series
                .insert(item.immutable_id.clone(), Series::default());
        }
        Ok((self.whole(&item, &schedule), true))
    }

    /// `PATCH /me/events/{id}`: a single event or a master takes the properties given; an
    /// occurrence becomes an exception with them (it cannot take a recurrence or a
    /// transactionId). `if_match` must name the instance's current change key when given.
    pub fn update_event(
        &mut self,
        id: &str,
        body: &Map<String, Value>,
        if_match: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Instance, GraphError> {
        mailbox::writable(Kind::Event, body)?;
        check_shapes(body)?;
        match self.event_target(id)? {
            Target::Event(key) => self.update_whole(&key, body, if_match, now),
            Target::Instance { master, original } => {
                self.update_member(&master, original, body, if_match, now)
            }
        }
    }

    fn update_whole(
        &mut self,
        key: &str,
        body: &Map<String, Value>,
        if_match: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Instance, GraphError> {
        let item = self.items.get(key).ok_or_else(GraphError::not_found)?;
        // resources/event.md: "After you set transactionId when creating an event, you cannot
        // change transactionId in a subsequent update."
        if let Some(new) = body.get("transactionId")
            && item.fields.get("transactionId").unwrap_or(&Value::Null) != new
        {
            return Err(invalid("The transactionId of an event can't be changed."));
        }
        let schedule = schedule(&merged(item.fields.clone(), body))?;
        let rescheduled = ["start", "end", "isAllDay", "recurrence"]
            .iter()
            .any(|name| body.contains_key(*name));
        let item = self.update(key, Kind::Event, body, if_match, now)?;
        // Outlook drops a series' exceptions and cancellations when the series' times or
        // pattern change: they belonged to occurrences that may no longer be.
        match (&schedule.recurrence, rescheduled) {
            (None, _) => {
                self.series.remove(key);
            }
            (Some(_), true) => {
                self.series.insert(key.to_string(), Series::default());
            }
            (Some(_), false) => {
                self.series.entry(key.to_string()).or_default();
            }
        }
        Ok(self.whole(&item, &schedule))
    }

    fn update_member(
        &mut self,
        master: &str,
        original: DateTime<Utc>,
        body: &Map<String, Value>,
        if_match: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Instance, GraphError> {
        if body.contains_key("recurrence") || body.contains_key("transactionId") {
            return Err(invalid(
                "An occurrence of a series can't take a recurrence or a transactionId.",
            ));
        }
        let target = Target::Instance {
            master: master.to_string(),
            original,
        };
        let current = self.instance(&target)?;
        check_if_match(if_match, &current.etag())?;
        let item = self.items.get(master).ok_or_else(GraphError::not_found)?;
        let own = self
            .series
            .get(master)
            .and_then(|s| s.exceptions.get(&original))
            .map(|e| e.fields.clone())
            .unwrap_or_default();
        // The occurrence's own times keep the rules any event's do.
        schedule(&merged(merged(self.instance_fields(item), &own), body))?;
        let (_, extended) = mailbox::writable(Kind::Event, body)?;
        let exception_key = self.change_key();
        let master_key = self.change_key();
        let series = self.series.entry(master.to_string()).or_default();
        let exception = series.exceptions.entry(original).or_insert(Exception {
            change_key: String::new(),
            created: now,
            modified: now,
            fields: Map::new(),
        });
        exception.fields = merged(std::mem::take(&mut exception.fields), body);
        exception.change_key = exception_key;
        exception.modified = now;
        // Exchange keeps exceptions inside their master: changing one changes the master.
        let item = self
            .items
            .get_mut(master)
            .ok_or_else(GraphError::not_found)?;
        item.change_key = master_key;
        item.modified = now;
        item.extended.extend(extended);
        let (folder, immutable, rest) = (
            item.folder.clone(),
            item.immutable_id.clone(),
            item.rest_id.clone(),
        );
        self.record(&folder, &immutable, &rest);
        self.instance(&target)
    }

    /// `DELETE /me/events/{id}`: a single event or a whole series goes; an occurrence or
    /// exception is cancelled (it leaves every view, the master stays).
    pub fn delete_event(&mut self, id: &str) -> Result<(), GraphError> {
        match self.event_target(id)? {
            Target::Event(key) => {
                self.delete(&key, Kind::Event)?;
                self.series.remove(&key);
                Ok(())
            }
            Target::Instance { master, original } => {
                let key = self.change_key();
                let series = self.series.entry(master.clone()).or_default();
                series.exceptions.remove(&original);
                series.cancelled.insert(original);
                let item = self
                    .items
                    .get_mut(&master)
                    .ok_or_else(GraphError::not_found)?;
                item.change_key = key;
                let (folder, immutable, rest) = (
                    item.folder.clone(),
                    item.immutable_id.clone(),
                    item.rest_id.clone(),
                );
                self.record(&folder, &immutable, &rest);
                Ok(())
            }
        }
    }

    /// What the Outlook user does by dragging one occurrence of a series elsewhere: it becomes
    /// an exception at the new times.
    pub fn move_occurrence(
        &mut self,
        occurrence_id: &str,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Instance, GraphError> {
        let Target::Instance { .. } = self.event_target(occurrence_id)? else {
            return Err(GraphError::not_found());
        };
        let body = json!({
            "start": {"dateTime": timezone::format_local(start.naive_utc()), "timeZone": "UTC"},
            "end": {"dateTime": timezone::format_local(end.naive_utc()), "timeZone": "UTC"},
        });
        let body = body.as_object().cloned().unwrap_or_default();
        self.update_event(occurrence_id, &body, None, now)
    }

    /// What the Outlook user does by deleting one occurrence of a series.
    pub fn cancel_occurrence(&mut self, occurrence_id: &str) -> Result<(), GraphError> {
        let Target::Instance { .. } = self.event_target(occurrence_id)? else {
            return Err(GraphError::not_found());
        };
        self.delete_event(occurrence_id)
    }

    /// An instance as a read answers it: every property (absent ones with Graph's defaults),
    /// times in `zone` (all-day ones midnight to midnight), extended properties only when
    /// asked for (`$expand`).
    pub fn event_json(
        &self,
        instance: &Instance,
        ids: IdType,
        zone: &OutZone,
        expand: Option<&str>,
    ) -> Result<Value, GraphError> {
        let item = self
            .items
            .get(&instance.master)
            .ok_or_else(GraphError::not_found)?;
        let whole = instance.original_start.is_none();
        let exception = instance.original_start.and_then(|original| {
            self.series
                .get(&instance.master)
                .and_then(|s| s.exceptions.get(&original))
        });
        let fields = match exception {
            Some(e) => merged(self.instance_fields(item), &e.fields),
            None if whole => item.fields.clone(),
            None => self.instance_fields(item),
        };
        let own = schedule_of_instance(&fields).ok_or_else(GraphError::not_found)?;
        let master_schedule = schedule(&item.fields)?;
        let value = |name: &str, default: Value| fields.get(name).cloned().unwrap_or(default);
        let (start, end) = if own.all_day {
            let tz = own.start.tz;
            (
                timezone::render_day(instance.start.with_timezone(&tz).date_naive(), zone),
                timezone::render_day(instance.end.with_timezone(&tz).date_naive(), zone),
            )
        } else {
            (
                timezone::render(instance.start, zone),
                timezone::render(instance.end, zone),
            )
        };
        let (created, modified) = match exception {
            Some(e) => (e.created, e.modified),
            None => (item.created, item.modified),
        };
        let id = instance.id(ids).to_string();
        let mut out = Map::new();
        out.insert("@odata.etag".into(), json!(instance.etag()));
        out.insert("id".into(), json!(id));
        out.insert(
            "createdDateTime".into(),
            json!(timezone::format_utc(created)),
        );
        out.insert(
            "lastModifiedDateTime".into(),
            json!(timezone::format_utc(modified)),
        );
        out.insert("changeKey".into(), json!(instance.change_key));
        out.insert("categories".into(), value("categories", json!([])));
        if whole && let Some(transaction) = item.fields.get("transactionId") {
            // resources/event.md: "only returned in a response payload if an app has set it".
            out.insert("transactionId".into(), transaction.clone());
        }
        out.insert(
            "originalStartTimeZone".into(),
            json!(master_schedule.start.zone_name),
        );
        out.insert(
            "originalEndTimeZone".into(),
            json!(master_schedule.end.zone_name),
        );
        let occurrence_date = instance
            .original_start
            .map(|o| o.with_timezone(&master_schedule.start.tz).date_naive());
        out.insert(
            "iCalUId".into(),
            json!(ical_uid(&item.immutable_id, occurrence_date)),
        );
        out.insert(
            "reminderMinutesBeforeStart".into(),
            value("reminderMinutesBeforeStart", json!(15)),
        );
        out.insert("isReminderOn".into(), value("isReminderOn", json!(true)));
        out.insert("hasAttachments".into(), json!(false));
        out.insert("subject".into(), value("subject", json!("")));
        out.insert("bodyPreview".into(), json!(preview(fields.get("body"))));
        out.insert("importance".into(), value("importance", json!("normal")));
        out.insert("sensitivity".into(), value("sensitivity", json!("normal")));
        out.insert("isAllDay".into(), json!(own.all_day));
        out.insert("isCancelled".into(), json!(false));
        out.insert("isOrganizer".into(), json!(true));
        out.insert("responseRequested".into(), json!(true));
        out.insert(
            "seriesMasterId".into(),
            match instance.kind {
                EventType::Occurrence | EventType::Exception => json!(match ids {
                    IdType::Immutable => &item.immutable_id,
                    IdType::Rest => &item.rest_id,
                }),
                _ => Value::Null,
            },
        );
        out.insert("showAs".into(), value("showAs", json!("busy")));
        out.insert("type".into(), json!(instance.kind.name()));
        out.insert(
            "webLink".into(),
            json!(format!(
                "https://outlook.office365.com/owa/?itemid={id}&exvsurl=1&path=/calendar/item"
            )),
        );
        out.insert(
            "responseStatus".into(),
            json!({"response": "organizer", "time": "0001-01-01T00:00:00Z"}),
        );
        out.insert(
            "body".into(),
            value("body", json!({"contentType": "html", "content": ""})),
        );
        out.insert("start".into(), start);
        out.insert("end".into(), end);
        let location = value("location", json!({"displayName": ""}));
        out.insert(
            "locations".into(),
            if location
                .get("displayName")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .is_empty()
            {
                json!([])
            } else {
                json!([location])
            },
        );
        out.insert("location".into(), location);
        out.insert(
            "recurrence".into(),
            match (&master_schedule.recurrence, whole) {
                (Some(r), true) => r.to_json(),
                _ => Value::Null,
            },
        );
        out.insert("attendees".into(), value("attendees", json!([])));
        out.insert(
            "organizer".into(),
            json!({"emailAddress": {"name": OWNER_NAME, "address": OWNER_ADDRESS}}),
        );
        if let Some(original) = instance.original_start {
            // resources/event.md: "not returned for events that are single instances".
            out.insert(
                "originalStart".into(),
                json!(timezone::format_utc(original)),
            );
        }
        if let Some(wanted) = expand {
            let list: Vec<Value> = item
                .extended
                .iter()
                .filter(|(id, _)| wanted.is_empty() || id.eq_ignore_ascii_case(wanted))
                .map(|(id, value)| json!({"id": id, "value": value}))
                .collect();
            out.insert("singleValueExtendedProperties".into(), json!(list));
        }
        Ok(Value::Object(out))
    }
}

/// An occurrence's or exception's own times (no recurrence to check).
fn schedule_of_instance(fields: &Map<String, Value>) -> Option<Schedule> {
    let mut fields = fields.clone();
    fields.remove("recurrence");
    schedule(&fields).ok()
}

/// An `If-Match` against a current ETag (errors.md: 412 when it does not match).
fn check_if_match(if_match: Option<&str>, current: &str) -> Result<(), GraphError> {
    match if_match {
        Some(wanted)
            if wanted != "*"
                && wanted.trim() != current
                && wanted.trim().trim_start_matches("W/") != current.trim_start_matches("W/") =>
        {
            Err(GraphError::conflict())
        }
        _ => Ok(()),
    }
}
