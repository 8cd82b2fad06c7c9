//! The sync rules of one kind of record (contacts, events, tasks): what the settings file says,
//! and the effective rules with the defaults of that kind filled in.
//!
//! The settings file section (`[contacts]`, `[events]`, `[tasks]`) is read into `RulesFile`,
//! whose keys are all optional; `RulesFile::resolve` applies the kind's defaults and refuses keys
//! that mean nothing for the kind (a window for contacts, `only_related` for events).

use crate::event::Op;
use crate::policy::ConflictPolicy;
use crate::record::RecordKind;
use crate::side::{Role, Side};
use chrono::{Days, NaiveDate, NaiveTime};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::BTreeMap;
use std::fmt;

/// Which way records of a kind travel.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Direction {
    #[default]
    Both,
    ToSalesforce,
    ToDesktop,
}

impl Direction {
    /// Whether tandem may write to `side` under this direction: "to Salesforce" writes the CRM
    /// only, "to the desktop" every PIM.
    pub fn writes_to(self, side: Side) -> bool {
        match self {
            Direction::Both => true,
            Direction::ToSalesforce => side.role() == Some(Role::Crm),
            Direction::ToDesktop => side.role() == Some(Role::Pim),
        }
    }
}

/// The time of day automatic runs may start in, e.g. `08:00-18:00`; a window whose end is before
/// its start runs over midnight.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hours {
    pub from: NaiveTime,
    pub to: NaiveTime,
}

impl Hours {
    pub fn contains(&self, t: NaiveTime) -> bool {
        if self.from == self.to {
            // Only "00:00-24:00" parses to this: all day.
            true
        } else if self.from < self.to {
            self.from <= t && t < self.to
        } else {
            t >= self.from || t < self.to
        }
    }

    pub fn parse(text: &str) -> Result<Hours, String> {
        let bad = || format!("`{text}` is not a time window: write it like \"08:00-18:00\"");
        let (from, to) = text.split_once('-').ok_or_else(bad)?;
        let time = |s: &str| {
            let s = s.trim();
            if s == "24:00" {
                return Ok(NaiveTime::MIN);
            }
            NaiveTime::parse_from_str(s, "%H:%M").map_err(|_| bad())
        };
        let hours = Hours {
            from: time(from)?,
            to: time(to)?,
        };
        if hours.from == hours.to && from.trim() != "00:00" {
            return Err(format!(
                "`{text}` is an empty time window; use \"00:00-24:00\" for all day"
            ));
        }
        Ok(hours)
    }
}

impl fmt::Display for Hours {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}-{}",
            self.from.format("%H:%M"),
            self.to.format("%H:%M")
        )
    }
}

impl Serialize for Hours {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for Hours {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Hours, D::Error> {
        let text = String::deserialize(d)?;
        Hours::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// One kind's section of the settings file, as written: every key optional.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct RulesFile {
    pub conflict_policy: Option<ConflictPolicy>,
    pub enabled: Option<bool>,
    pub direction: Option<Direction>,
    pub automatic: Option<bool>,
    #[serde(default, deserialize_with = "minutes")]
    pub every_minutes: Option<u32>,
    pub hours: Option<Hours>,
    pub prevent_salesforce: Option<Vec<Op>>,
    pub prevent_desktop: Option<Vec<Op>>,
    #[serde(default, deserialize_with = "days")]
    pub past_days: Option<u32>,
    #[serde(default, deserialize_with = "days")]
    pub future_days: Option<u32>,
    pub sync_private: Option<bool>,
    pub keep_rich_body: Option<bool>,
    pub category: Option<String>,
    pub address_book: Option<String>,
    pub owner_only: Option<bool>,
    pub salesforce_filter: Option<String>,
    pub link_account: Option<bool>,
    pub invitees_in_description: Option<bool>,
    pub attachments_in_description: Option<bool>,
    pub only_related: Option<bool>,
}

/// The effective rules of one kind.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Rules {
    pub kind: RecordKind,
    pub conflict_policy: ConflictPolicy,
    /// Whether this kind syncs at all.
    pub enabled: bool,
    pub direction: Direction,
    /// Automatic runs, once a manual run has been reviewed.
    pub automatic: bool,
    pub every_minutes: u32,
    /// When automatic runs may start; `None`: any time.
    pub hours: Option<Hours>,
    /// The operations the rules block, per side (`prevent_salesforce`, `prevent_desktop`).
    pub prevent: BTreeMap<Side, Vec<Op>>,
    /// The date window (events and tasks): days before and after today.
    pub past_days: u32,
    pub future_days: u32,
    pub sync_private: bool,
    /// A desktop body with formatting is not overwritten by a plain-text change.
    pub keep_rich_body: bool,
    /// Contacts: a desktop contact with this category is synced, wherever it is.
    pub category: Option<String>,
    /// Contacts: every contact in this address book is synced, and contacts from Salesforce go
    /// there.
    pub address_book: String,
    /// Contacts: only Salesforce contacts owned by the user.
    pub owner_only: bool,
    /// A SOQL condition selecting the Salesforce records to sync (the "view").
    pub salesforce_filter: Option<String>,
    /// Contacts: link a contact created on the desktop to the Account named by its Company.
    pub link_account: bool,
    /// Events: the invitee list is written into the Salesforce description.
    pub invitees_in_description: bool,
    /// Events: attachment file names are listed in the Salesforce description.
    pub attachments_in_description: bool,
    /// Tasks: only tasks related to a Salesforce record (a contact or another record).
    pub only_related: bool,
    /// Events: the external-id field that keys the standalone rows of a series' detached
    /// occurrences (`[salesforce] external_id_field`); without one they stay on the desktop.
    pub salesforce_key_field: Option<String>,
}

pub const DEFAULT_ADDRESS_BOOK: &str = "/dav/addressbooks/contacts/";

impl Rules {
    /// The date window around `today`: its first and last day, both inside.
    pub fn window(&self, today: NaiveDate) -> (NaiveDate, NaiveDate) {
        (
            today - Days::new(u64::from(self.past_days)),
            today + Days::new(u64::from(self.future_days)),
        )
    }

    /// A contact's `categories` with the sync category added when missing: what a contact
    /// tandem makes in a PIM that selects contacts by category carries, so it stays in scope.
    pub fn with_category(
        &self,
        categories: Option<&serde_json::Value>,
    ) -> Option<serde_json::Value> {
        let mut all: Vec<serde_json::Value> = categories
            .and_then(serde_json::Value::as_array)
            .cloned()
            .unwrap_or_default();
        if let Some(wanted) = &self.category
            && !self.carries_category(categories)
        {
            all.push(serde_json::Value::String(wanted.clone()));
        }
        (!all.is_empty()).then_some(serde_json::Value::Array(all))
    }

    /// The sync category tandem added to a contact it wrote (`with_category`) is a mark of
    /// scope, not a change: where the categories a side `reported` are what tandem `known`
    /// plus that category, the known ones stay.
    pub fn keep_known_categories(
        &self,
        known: &crate::record::Fields,
        reported: &mut crate::record::Fields,
    ) {
        let was = known.get("categories");
        if reported.get("categories") == was {
            return;
        }
        if self.with_category(was).as_ref() == reported.get("categories") {
            match was {
                Some(was) => reported.insert("categories".into(), was.clone()),
                None => reported.remove("categories"),
            };
        }
    }

    /// Whether a list of categories (a record's, or an item's as its side lists them) holds the
    /// sync category, in any letter case.
    pub fn carries_category(&self, categories: Option<&serde_json::Value>) -> bool {
        let Some(wanted) = self.category.as_deref() else {
            return false;
        };
        categories
            .and_then(serde_json::Value::as_array)
            .is_some_and(|all| {
                all.iter()
                    .filter_map(serde_json::Value::as_str)
                    .any(|c| c.eq_ignore_ascii_case(wanted))
            })
    }

    pub fn prevented(&self, side: Side, op: Op) -> bool {
        self.prevent.get(&side).is_some_and(|ops| ops.contains(&op))
    }

    /// Whether an automatic run of this kind is due: automatic runs are on, the interval has
    /// passed since the last run (or there was none), and the time of day is in the window.
    pub fn due(
        &self,
        last_run: Option<chrono::DateTime<chrono::Utc>>,
        now: chrono::DateTime<chrono::Utc>,
        local_time: NaiveTime,
    ) -> bool {
        let interval = chrono::Duration::minutes(i64::from(self.every_minutes));
        self.enabled
            && self.automatic
            && last_run.is_none_or(|last| now - last >= interval)
            && self.hours.is_none_or(|h| h.contains(local_time))
    }

    /// When the next automatic run of this kind may start: the interval after the last run (or
    /// now), moved to the start of `hours` when it falls outside them; `None` when automatic runs
    /// are off. `local` is the user's offset from UTC, in which `hours` are read.
    pub fn next_due(
        &self,
        last_run: Option<chrono::DateTime<chrono::Utc>>,
        now: chrono::DateTime<chrono::Utc>,
        local: chrono::FixedOffset,
    ) -> Option<chrono::DateTime<chrono::Utc>> {
        use chrono::TimeZone;
        if !self.enabled || !self.automatic {
            return None;
        }
        let interval = chrono::Duration::minutes(i64::from(self.every_minutes));
        let earliest = last_run.map_or(now, |last| (last + interval).max(now));
        let Some(hours) = self.hours else {
            return Some(earliest);
        };
        let at = earliest.with_timezone(&local);
        if hours.contains(at.time()) {
            return Some(earliest);
        }
        let mut start = at.date_naive().and_time(hours.from);
        if start < at.naive_local() {
            start += chrono::Duration::days(1);
        }
        local
            .from_local_datetime(&start)
            .single()
            .map(|t| t.with_timezone(&chrono::Utc))
    }

    pub fn defaults(kind: RecordKind) -> Rules {
        RulesFile::default()
            .resolve(kind)
            .unwrap_or_else(|_| unreachable!("the defaults are valid for every kind"))
    }
}

/// How often automatic runs may start: at least every day, at most every five minutes (more
/// often spends the org's API allowance for little).
const EVERY_MINUTES: std::ops::RangeInclusive<u32> = 5..=1440;
const MINUTES: &str = "it must be a whole number of minutes between 5 and 1440 (one day)";
/// How far the date window reaches: up to ten years either way.
const WINDOW_DAYS: std::ops::RangeInclusive<u32> = 0..=3650;
const DAYS: &str = "it must be a whole number of days between 0 and 3650";

/// A whole number, or an error that says what the key wants (rather than "expected u32").
fn whole<'de, D: Deserializer<'de>>(d: D, wants: &str) -> Result<Option<u32>, D::Error> {
    let value = toml::Value::deserialize(d)?;
    match value.as_integer().map(u32::try_from) {
        Some(Ok(n)) => Ok(Some(n)),
        _ => Err(serde::de::Error::custom(format!(
            "`{value}` is not right: {wants}"
        ))),
    }
}

fn minutes<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    whole(d, MINUTES)
}

fn days<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    whole(d, DAYS)
}

/// A key that means nothing for a kind: (key, the kinds it is for).
type Misplaced = (&'static str, &'static str);

impl RulesFile {
    /// The effective rules for `kind`: the kind's defaults for every key not given. A key that
    /// does not apply to the kind, or a value out of range, is an error naming the key.
    pub fn resolve(&self, kind: RecordKind) -> Result<Rules, String> {
        let section = match kind {
            RecordKind::Contact => "contacts",
            RecordKind::Event => "events",
            RecordKind::Task => "tasks",
        };
        let misplaced: Vec<Misplaced> = match kind {
            RecordKind::Contact => vec![
                ("past_days", "events and tasks"),
                ("future_days", "events and tasks"),
                ("sync_private", "events and tasks"),
                ("keep_rich_body", "events and tasks"),
                ("invitees_in_description", "events"),
                ("attachments_in_description", "events"),
                ("only_related", "tasks"),
            ],
            RecordKind::Event => vec![
                ("category", "contacts"),
                ("address_book", "contacts"),
                ("link_account", "contacts"),
                ("only_related", "tasks"),
            ],
            RecordKind::Task => vec![
                ("category", "contacts"),
                ("address_book", "contacts"),
                ("link_account", "contacts"),
                ("invitees_in_description", "events"),
                ("attachments_in_description", "events"),
            ],
        };
        for (key, applies) in misplaced {
            if self.is_set(key) {
                return Err(format!(
                    "[{section}] {key} applies to {applies} only; remove it from [{section}]"
                ));
            }
        }
        if let Some(m) = self.every_minutes
            && !EVERY_MINUTES.contains(&m)
        {
            return Err(format!("[{section}] every_minutes is {m}: {MINUTES}"));
        }
        for (key, days) in [
            ("past_days", self.past_days),
            ("future_days", self.future_days),
        ] {
            if let Some(d) = days
                && !WINDOW_DAYS.contains(&d)
            {
                return Err(format!("[{section}] {key} is {d}: {DAYS}"));
            }
        }
        if let Some(book) = &self.address_book
            && !(book.starts_with('/') && book.ends_with('/'))
        {
            return Err(format!(
                "[{section}] address_book must be a collection path such as \"{DEFAULT_ADDRESS_BOOK}\""
            ));
        }
        if let Some(filter) = &self.salesforce_filter
            && filter.trim().is_empty()
        {
            return Err(format!(
                "[{section}] salesforce_filter is empty; remove the key to sync every record"
            ));
        }
        let contacts = kind == RecordKind::Contact;
        Ok(Rules {
            kind,
            conflict_policy: self.conflict_policy.unwrap_or_default(),
            enabled: self.enabled.unwrap_or(true),
            direction: self.direction.unwrap_or_default(),
            automatic: self.automatic.unwrap_or(true),
            every_minutes: self.every_minutes.unwrap_or(30),
            hours: self.hours,
            prevent: [
                (
                    Side::SALESFORCE,
                    // Deleting a Salesforce contact loses its activity history: blocked by
                    // default.
                    self.prevent_salesforce.clone().unwrap_or(if contacts {
                        vec![Op::Delete]
                    } else {
                        vec![]
                    }),
                ),
                (
                    Side::DESKTOP,
                    self.prevent_desktop.clone().unwrap_or_default(),
                ),
            ]
            .into(),
            past_days: self.past_days.unwrap_or(30),
            future_days: self.future_days.unwrap_or(365),
            sync_private: self.sync_private.unwrap_or(false),
            keep_rich_body: self.keep_rich_body.unwrap_or(true),
            category: match &self.category {
                Some(c) if c.trim().is_empty() => None,
                Some(c) => Some(c.trim().to_string()),
                None if contacts => Some("CRM".into()),
                None => None,
            },
            address_book: self
                .address_book
                .clone()
                .unwrap_or_else(|| DEFAULT_ADDRESS_BOOK.into()),
            owner_only: self.owner_only.unwrap_or(true),
            salesforce_filter: self.salesforce_filter.clone(),
            link_account: self.link_account.unwrap_or(true),
            invitees_in_description: self.invitees_in_description.unwrap_or(false),
            attachments_in_description: self.attachments_in_description.unwrap_or(true),
            only_related: self.only_related.unwrap_or(false),
            salesforce_key_field: None,
        })
    }

    fn is_set(&self, key: &str) -> bool {
        match key {
            "past_days" => self.past_days.is_some(),
            "future_days" => self.future_days.is_some(),
            "sync_private" => self.sync_private.is_some(),
            "keep_rich_body" => self.keep_rich_body.is_some(),
            "category" => self.category.is_some(),
            "address_book" => self.address_book.is_some(),
            "link_account" => self.link_account.is_some(),
            "invitees_in_description" => self.invitees_in_description.is_some(),
            "attachments_in_description" => self.attachments_in_description.is_some(),
            "only_related" => self.only_related.is_some(),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_the_kind() {
        let contacts = Rules::defaults(RecordKind::Contact);
        assert!(contacts.prevented(Side::SALESFORCE, Op::Delete));
        assert!(!contacts.prevented(Side::DESKTOP, Op::Delete));
        assert_eq!(contacts.category.as_deref(), Some("CRM"));
        let events = Rules::defaults(RecordKind::Event);
        assert!(!events.prevented(Side::SALESFORCE, Op::Delete));
        assert_eq!((events.past_days, events.future_days), (30, 365));
        assert!(!events.sync_private);
        assert_eq!(events.every_minutes, 30);
    }

    #[test]
    fn misplaced_keys_are_named() {
        let file = RulesFile {
            only_related: Some(true),
            ..RulesFile::default()
        };
        let err = file.resolve(RecordKind::Event).unwrap_err();
        assert!(
            err.contains("[events] only_related applies to tasks"),
            "{err}"
        );
        assert!(file.resolve(RecordKind::Task).unwrap().only_related);
        let zero = RulesFile {
            every_minutes: Some(0),
            ..RulesFile::default()
        };
        assert!(zero.resolve(RecordKind::Task).is_err());
    }

    #[test]
    fn the_next_automatic_run_is_the_interval_on_moved_into_the_hours() {
        let mut rules = Rules::defaults(RecordKind::Event);
        let at = |s: &str| s.parse::<chrono::DateTime<chrono::Utc>>().unwrap();
        let utc = chrono::FixedOffset::east_opt(0).unwrap();
        let now = at("2026-11-21T10:00:00Z");
        assert_eq!(rules.next_due(None, now, utc), Some(now));
        assert_eq!(
            rules.next_due(Some(at("2026-11-21T09:50:00Z")), now, utc),
            Some(at("2026-11-21T10:20:00Z"))
        );
        rules.hours = Some(Hours::parse("08:00-18:00").unwrap());
        let berlin = chrono::FixedOffset::east_opt(3600).unwrap();
        // 17:50 UTC is 18:50 in Berlin: outside the hours, so 08:00 Berlin the next day.
        assert_eq!(
            rules.next_due(
                Some(at("2026-11-21T17:20:00Z")),
                at("2026-11-21T17:30:00Z"),
                berlin
            ),
            Some(at("2026-11-22T07:00:00Z"))
        );
        rules.automatic = false;
        assert_eq!(rules.next_due(None, now, utc), None);
    }

    #[test]
    fn automatic_runs_are_due_after_the_interval_inside_the_hours() {
        let mut rules = Rules::defaults(RecordKind::Event);
        rules.hours = Some(Hours::parse("08:00-18:00").unwrap());
        let at = |s: &str| s.parse::<chrono::DateTime<chrono::Utc>>().unwrap();
        let t = |s| NaiveTime::parse_from_str(s, "%H:%M").unwrap();
        let now = at("2026-11-21T10:00:00Z");
        assert!(rules.due(None, now, t("10:00")));
        assert!(!rules.due(Some(at("2026-11-21T09:45:00Z")), now, t("10:00")));
        assert!(rules.due(Some(at("2026-11-21T09:30:00Z")), now, t("10:00")));
        assert!(!rules.due(None, now, t("19:00")), "outside the hours");
        rules.automatic = false;
        assert!(!rules.due(None, now, t("10:00")));
    }

    #[test]
    fn hours_parse_and_wrap_midnight() {
        let day = Hours::parse("08:00-18:00").unwrap();
        let t = |s| NaiveTime::parse_from_str(s, "%H:%M").unwrap();
        assert!(day.contains(t("08:00")) && !day.contains(t("18:00")));
        let night = Hours::parse("22:00-06:00").unwrap();
        assert!(night.contains(t("23:30")) && night.contains(t("05:59")));
        assert!(!night.contains(t("12:00")));
        assert!(Hours::parse("00:00-24:00").unwrap().contains(t("13:00")));
        for bad in ["8-18", "08:00", "25:00-26:00", "09:00-09:00", ""] {
            assert!(Hours::parse(bad).is_err(), "{bad}");
        }
    }
}
