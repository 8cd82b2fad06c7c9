//! The planner: from the canonical records, what each side last holds of them, the rules and the
//! ignore list, the actions of a sync run — the Synchronization Summary. A pure function: the
//! same inputs give the same plan, which is what lets `apply` do exactly what `preview` showed.
//!
//! For every record and each side of the run it decides whether the side lacks the record
//! (create), holds an older state of it (update, with the fields that differ), or holds a record
//! that is deleted (delete); then whether the rules let that happen, and if not, why not. A side
//! has nothing to do when it has seen the record's current heads (it made the latest change
//! itself, or tandem wrote it): that is what keeps a change from echoing back.
//!
//! Sides are values: each has its own copy, ignore state and rules (its role, the operations
//! prevented on it), and the planner treats every side alike, so a new side plans with no new
//! branch here.

use crate::event::Op;
use crate::hlc::Hlc;
use crate::mapping;
use crate::merge::FieldState;
use crate::record::{Fields, RecordId, RecordKind};
use crate::rules::Rules;
use crate::run::Tally;
use crate::side::{PerSide, Role, Side};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// What one side holds of a record, as tandem last knows it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SideCopy {
    /// The record's id on that side (a DAV href, a Salesforce id).
    pub external_id: Option<String>,
    /// The side has the record (it was not deleted there).
    pub present: bool,
    /// The record heads the side has seen.
    pub seen: Vec<Hlc>,
    /// The record as the side holds it.
    pub fields: Fields,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "ignore", rename_all = "snake_case")]
pub enum Ignore {
    /// Until either side changes the record again: the heads at the decision.
    Once {
        heads: Vec<Hlc>,
    },
    Forever,
}

impl Ignore {
    /// The skip this decision means for a record now at `heads`, if it still holds.
    fn skip(&self, heads: &[Hlc]) -> Option<Skip> {
        match self {
            Ignore::Forever => Some(Skip::IgnoredForever),
            Ignore::Once { heads: at } if at.as_slice() == heads => Some(Skip::IgnoredOnce),
            Ignore::Once { .. } => None,
        }
    }
}

/// What the user decided to leave out of runs: the whole record, or its step on one side.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Ignores {
    pub all: Option<Ignore>,
    pub sides: PerSide<Ignore>,
}

/// One canonical record with everything the planner needs to know about it.
#[derive(Clone, Debug)]
pub struct RecordInput<'a> {
    pub id: &'a RecordId,
    pub kind: RecordKind,
    pub deleted: bool,
    pub heads: &'a [Hlc],
    pub fields: &'a Fields,
    pub conflicts: &'a BTreeMap<String, FieldState>,
    /// What each side holds of the record.
    pub copies: &'a PerSide<SideCopy>,
    pub ignores: &'a Ignores,
}

/// Why an action is not carried out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Skip {
    /// The kind syncs in the other direction only.
    Direction,
    /// Before the past or after the future limit of the date window.
    Window,
    /// A private item, and private items are not synced.
    Private,
    /// A desktop contact neither in the synced address book nor carrying the sync category.
    Scope,
    /// A task not related to a Salesforce record, and only related tasks are synced.
    Unrelated,
    /// The rules block this operation on this side.
    Prevented,
    /// Ignored until either side changes it again.
    IgnoredOnce,
    IgnoredForever,
}

impl Skip {
    pub fn describe(self) -> &'static str {
        match self {
            Skip::Direction => "the rules sync this kind the other way only",
            Skip::Window => "outside the date window",
            Skip::Private => "private",
            Skip::Scope => "out of scope (not in the synced address book, no sync category)",
            Skip::Unrelated => "not related to a Salesforce record",
            Skip::Prevented => "operation prevented by the rules",
            Skip::IgnoredOnce => "ignored until it changes",
            Skip::IgnoredForever => "ignored forever",
        }
    }
}

/// What to do to one side.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Step {
    pub op: Op,
    /// The fields to set on the side (`null` clears one); for a create, the whole record as
    /// the side will hold it.
    #[serde(default, skip_serializing_if = "Fields::is_empty")]
    pub changes: Fields,
    /// For an update: what the side holds now of the changed fields (absent: it has none), so a
    /// front can show old → new.
    #[serde(default, skip_serializing_if = "Fields::is_empty")]
    pub before: Fields,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skipped: Option<Skip>,
    /// The record was deleted on this side, but deleting it on the other side is prevented: it
    /// comes back here instead.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub restore: bool,
    /// The desktop body has formatting, and the plain-text change was held back.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub kept_rich_body: bool,
    /// What the side will not hold as the record has it (a value cut to the field's length,
    /// something it cannot express), or why it will refuse the step: said before it runs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

impl Step {
    /// What the step does, in a word: `create`, `update`, `delete`, or `restore` (a delete that
    /// could not travel, undone).
    pub fn verb(&self) -> &'static str {
        if self.restore {
            "restore"
        } else {
            self.op.as_str()
        }
    }

    pub fn runs(&self) -> bool {
        self.skipped.is_none()
    }

    pub fn field_names(&self) -> Vec<&str> {
        self.changes.keys().map(String::as_str).collect()
    }
}

/// A field both sides changed, and how the conflict policy settled it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Conflict {
    pub field: String,
    pub kept: Value,
    pub kept_from: Side,
    pub lost: Vec<(Side, Value)>,
}

/// One line of the Synchronization Summary: a record and what happens to it on each side.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Item {
    pub record: RecordId,
    pub kind: RecordKind,
    /// What a person recognises the record by: a name, a subject and date.
    pub label: String,
    /// The record's id on each side that has one (a Salesforce id, a DAV href).
    #[serde(default, skip_serializing_if = "PerSide::is_empty")]
    pub ids: PerSide<String>,
    /// The label a side shows now, where it differs from `label` (the side has not taken up a
    /// rename yet): each column of the summary shows its own side's name for the record.
    #[serde(default, skip_serializing_if = "PerSide::is_empty")]
    pub labels: PerSide<String>,
    /// The state the actions write; the item is the same item as long as these are the same.
    pub heads: Vec<Hlc>,
    /// What happens on each side that is not in step.
    #[serde(default, skip_serializing_if = "PerSide::is_empty")]
    pub steps: PerSide<Step>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conflicts: Vec<Conflict>,
}

impl Item {
    pub fn step(&self, side: Side) -> Option<&Step> {
        self.steps.get(side)
    }

    /// The record's id on `side`.
    pub fn id_on(&self, side: Side) -> Option<&str> {
        self.ids.get(side).map(String::as_str)
    }

    /// How `side` names the record now.
    pub fn label_on(&self, side: Side) -> &str {
        self.labels.get(side).unwrap_or(&self.label)
    }

    /// Whether anything will be written for this item.
    pub fn runs(&self) -> bool {
        self.steps.values().any(Step::runs)
    }

    pub fn steps(&self) -> impl Iterator<Item = (Side, &Step)> {
        self.steps.iter()
    }

    /// Names the item and the state it acts on: a reviewed item is applied only while this is
    /// unchanged.
    pub fn fingerprint(&self) -> String {
        let heads: Vec<String> = self.heads.iter().map(|h| h.0.to_string()).collect();
        format!("{}@{}", self.record, heads.join("+"))
    }
}

/// The Synchronization Summary of one kind or of all kinds.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub items: Vec<Item>,
    /// The sides the run plans for, in the order the summary shows them as columns.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sides: Vec<Side>,
}

impl Plan {
    /// The summary's columns: the run's sides, or, for a plan made without them, every side an
    /// item names.
    pub fn columns(&self) -> Vec<Side> {
        if !self.sides.is_empty() {
            return self.sides.clone();
        }
        let mut sides: Vec<Side> = Side::SYNCED.to_vec();
        for item in &self.items {
            for side in item
                .steps()
                .map(|(s, _)| s)
                .chain(item.ids.iter().map(|(s, _)| s))
            {
                if !sides.contains(&side) {
                    sides.push(side);
                }
            }
        }
        sides
    }

    /// Columns as the summary lays them out: the first (Salesforce) on the left, the others on
    /// the right.
    pub fn left_and_right(sides: &[Side]) -> (Side, Vec<Side>) {
        match sides.split_first() {
            Some((left, right)) => (*left, right.to_vec()),
            None => (Side::SALESFORCE, Vec::new()),
        }
    }
}

impl Plan {
    pub fn tally(&self) -> Tally {
        let mut tally = Tally::default();
        for item in &self.items {
            tally.count(item);
        }
        tally
    }

    /// Whether the plan writes anything.
    pub fn is_idle(&self) -> bool {
        !self.items.iter().any(Item::runs)
    }
}

/// The fields a side holds of a record of `kind`: the CRM holds the fields the mapping writes
/// both ways; Outlook and Notes what their mappings carry; the DAV server everything but the links
/// to other Salesforce records.
pub fn held_by(side: Side, kind: RecordKind, field: &str) -> bool {
    match side.role() {
        Some(Role::Crm) => mapping::salesforce_fields(kind).contains(&field),
        // A connector's PIM holds what its mapping carries.
        Some(Role::Pim) if side == Side::OUTLOOK => crate::graph::holds(kind, field),
        Some(Role::Pim) if side == Side::NOTES => crate::notes::holds(kind, field),
        Some(Role::Pim) => !matches!(
            (kind, field),
            (RecordKind::Contact, "account" | "owner" | "reports_to")
                | (
                    RecordKind::Event | RecordKind::Task,
                    "who" | "what" | "owner"
                )
        ),
        None => true,
    }
}

/// Values that mean the same as no value: what Salesforce fills in when a field is not sent
/// (an event shows as busy, a task is normal priority and not started) and what iCalendar
/// assumes when a property is absent. Comparing sides, they are left out, so one side spelling
/// the default out is not a change.
const DEFAULTS: &[(RecordKind, &str, &str)] = &[
    (RecordKind::Event, "show_as", "busy"),
    (RecordKind::Task, "priority", "normal"),
    (RecordKind::Task, "status", "not_started"),
];

/// The defaults of `kind`'s fields, as a side that fills them in reports them.
pub fn defaults(kind: RecordKind) -> impl Iterator<Item = (&'static str, Value)> {
    DEFAULTS
        .iter()
        .filter(move |(k, _, _)| *k == kind)
        .map(|(_, name, value)| (*name, Value::String((*value).to_string())))
}

fn is_default(kind: RecordKind, name: &str, value: &Value) -> bool {
    DEFAULTS
        .iter()
        .any(|(k, n, v)| *k == kind && *n == name && value.as_str() == Some(v))
}

/// The part of `fields` a side holds, defaults left out.
pub fn project(side: Side, kind: RecordKind, fields: &Fields) -> Fields {
    fields
        .iter()
        .filter(|(name, value)| held_by(side, kind, name) && !is_default(kind, name, value))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// What `side` holds, or should hold, of `fields` (the record's, or the side's copy): its part
/// of them, and a series' changed occurrences where the side keeps them apart — Outlook as its
/// series' exceptions, Salesforce as detached rows when the rules give those a key (see
/// `mapping::detached`).
fn held(side: Side, kind: RecordKind, fields: &Fields, rules: &Rules) -> Fields {
    let mut held = project(side, kind, fields);
    let apart = match side.role() {
        Some(Role::Crm) => rules.salesforce_key_field.is_some(),
        _ => side == Side::OUTLOOK,
    };
    if apart
        && kind == RecordKind::Event
        && let Some(occurrences) = mapping::detached::projection(fields)
    {
        held.insert(mapping::detached::FIELD.into(), occurrences);
    }
    held
}

fn wanted(side: Side, record: &RecordInput<'_>, rules: &Rules) -> Fields {
    held(side, record.kind, record.fields, rules)
}

/// Plan one record for the run's `sides`; `None` when every side is in step with it. `now`
/// places the date window. Records are planned one by one, so a caller can stream them.
pub fn plan_record(
    record: &RecordInput<'_>,
    sides: &[Side],
    rules: &Rules,
    now: DateTime<Utc>,
) -> Option<Item> {
    if !rules.enabled {
        return None;
    }
    let mut steps: PerSide<Step> = sides
        .iter()
        .filter_map(|&side| needed(record, side, rules).map(|step| (side, step)))
        .collect();
    if steps.is_empty() {
        return None;
    }
    for (side, step) in steps.iter_mut() {
        step.skipped = skip_reason(record, side, step, rules, now);
    }
    // A delete the rules prevent on one side brings the record back on every side that lost
    // it; the sides that still hold it keep it.
    let blocked = steps
        .values()
        .any(|s| s.op == Op::Delete && s.skipped == Some(Skip::Prevented));
    if blocked {
        steps.retain(|_, s| !(s.op == Op::Delete && s.runs()));
        for &side in sides {
            let holds = record.copies.get(side).is_some_and(|c| c.present);
            if holds || steps.contains(side) {
                continue;
            }
            let mut step = Step {
                op: Op::Create,
                changes: wanted(side, record, rules),
                before: Fields::new(),
                skipped: None,
                restore: true,
                kept_rich_body: false,
                notes: Vec::new(),
            };
            step.skipped = skip_reason(record, side, &step, rules, now);
            steps.insert(side, step);
        }
    }
    for (side, step) in steps.iter_mut() {
        let ignore = record
            .ignores
            .sides
            .get(side)
            .or(record.ignores.all.as_ref());
        if let Some(skip) = ignore.and_then(|i| i.skip(record.heads)) {
            step.skipped = Some(skip);
        }
    }
    let merged = label(record.kind, record.fields);
    Some(Item {
        record: record.id.clone(),
        kind: record.kind,
        ids: record
            .copies
            .iter()
            .filter_map(|(side, copy)| Some((side, copy.external_id.clone()?)))
            .collect(),
        // A side that has seen the heads holds the record as merged (its fields may not even be
        // projected); one that has not may still show an older name.
        labels: record
            .copies
            .iter()
            .filter(|(_, copy)| copy.present && copy.seen.as_slice() != record.heads)
            .filter_map(|(side, copy)| {
                let own = label(record.kind, &copy.fields);
                (own != merged && own != UNTITLED).then_some((side, own))
            })
            .collect(),
        label: merged,
        heads: record.heads.to_vec(),
        steps,
        conflicts: conflicts(record),
    })
}

/// Say on the item's CRM step what Salesforce will not hold of `fields` (the record the item
/// plans) or why it would refuse it. Done for what a person reviews, not for an apply, since
/// it maps the record once more.
pub fn annotate(item: &mut Item, fields: &Fields, rules: &Rules) {
    let kind = item.kind;
    for (side, step) in item.steps.iter_mut() {
        if side.role() == Some(Role::Crm) && step.runs() && step.op != Op::Delete {
            step.notes = mapping::notes(kind, fields, rules.salesforce_key_field.as_deref());
        }
    }
}

/// What `side` needs to be in step with the record, before the rules are asked.
fn needed(record: &RecordInput<'_>, side: Side, rules: &Rules) -> Option<Step> {
    let copy = record.copies.get(side);
    let present = copy.is_some_and(|c| c.present);
    let step = |op, changes| Step {
        op,
        changes,
        before: Fields::new(),
        skipped: None,
        restore: false,
        kept_rich_body: false,
        notes: Vec::new(),
    };
    if record.deleted {
        return present.then(|| step(Op::Delete, Fields::new()));
    }
    let Some(copy) = copy.filter(|c| c.present) else {
        return Some(step(Op::Create, wanted(side, record, rules)));
    };
    if copy.seen.as_slice() == record.heads {
        return None;
    }
    let want = wanted(side, record, rules);
    let have = held(side, record.kind, &copy.fields, rules);
    let mut changes = crate::record::difference(&have, &want);
    if side.role() == Some(Role::Crm) {
        // Salesforce gives every record an owner (the running user when tandem names none): a
        // record that names none leaves the owner as Salesforce has it, never clears it.
        changes.retain(|name, value| !(name == "owner" && value.is_null()));
    }
    let mut kept_rich_body = false;
    if side.role() == Some(Role::Pim)
        && rules.keep_rich_body
        && have.contains_key("description_html")
        && !changes.contains_key("description_html")
        && changes.remove("description").is_some()
    {
        kept_rich_body = true;
    }
    if changes.is_empty() {
        return None;
    }
    let before = changes
        .keys()
        .filter_map(|name| Some((name.clone(), have.get(name)?.clone())))
        .collect();
    Some(Step {
        kept_rich_body,
        before,
        ..step(Op::Update, changes)
    })
}

fn skip_reason(
    record: &RecordInput<'_>,
    side: Side,
    step: &Step,
    rules: &Rules,
    now: DateTime<Utc>,
) -> Option<Skip> {
    if !rules.direction.writes_to(side) {
        return Some(Skip::Direction);
    }
    // A delete is judged by the record as the side still has it.
    let fields = match (step.op, record.copies.get(side)) {
        (Op::Delete, Some(copy)) => &copy.fields,
        _ => record.fields,
    };
    if record.kind != RecordKind::Contact {
        if !rules.sync_private && fields.get("private") == Some(&Value::Bool(true)) {
            return Some(Skip::Private);
        }
        if !in_window(record.kind, fields, rules, now) {
            return Some(Skip::Window);
        }
    }
    // A contact reaches Salesforce, and a connector's synced folder, only in scope: a personal
    // contact on the desktop must not land in Outlook's "Salesforce Contacts" (from where it
    // would reach Salesforce).
    let scoped = side.role() == Some(Role::Crm) || side.scopes_itself();
    if scoped
        && step.op != Op::Delete
        && record.kind == RecordKind::Contact
        && !in_scope(record, rules)
    {
        return Some(Skip::Scope);
    }
    if side.role() == Some(Role::Crm)
        && step.op != Op::Delete
        && record.kind == RecordKind::Task
        && rules.only_related
        && !fields.contains_key("who")
        && !fields.contains_key("what")
    {
        return Some(Skip::Unrelated);
    }
    if rules.prevented(side, step.op) {
        return Some(Skip::Prevented);
    }
    None
}

/// A contact is synced to Salesforce when Salesforce has it already, when a PIM holds it in the
/// synced address book, when a connector that reports only its scope holds it, or when it
/// carries the sync category.
fn in_scope(record: &RecordInput<'_>, rules: &Rules) -> bool {
    let held = |role: Role| {
        record
            .copies
            .iter()
            .filter(move |(side, _)| side.role() == Some(role))
            .filter_map(|(side, copy)| Some((side, copy.external_id.as_deref()?)))
    };
    if held(Role::Crm).next().is_some() {
        return true;
    }
    let in_book = held(Role::Pim)
        .any(|(side, id)| side.scopes_itself() || id.starts_with(&rules.address_book));
    in_book || rules.carries_category(record.fields.get("categories"))
}

/// Whether an event or task falls inside the window: an event overlaps it (a series while it
/// still recurs), a task is due in it; undated tasks always sync.
fn in_window(kind: RecordKind, fields: &Fields, rules: &Rules, now: DateTime<Utc>) -> bool {
    let (first, last) = rules.window(now.date_naive());
    let day = |name: &str| fields.get(name).and_then(day_of);
    match kind {
        RecordKind::Contact => true,
        RecordKind::Task => day("due")
            .or_else(|| day("start"))
            .is_none_or(|d| first <= d && d <= last),
        RecordKind::Event => {
            let Some(start) = day("start") else {
                return true;
            };
            let end = day("end").unwrap_or(start).max(start);
            let end = match fields.get("rrule").and_then(Value::as_str) {
                Some(rule) => until(rule).unwrap_or(NaiveDate::MAX),
                None => end,
            };
            start <= last && end >= first
        }
    }
}

/// The day of a `When` (a date, or an instant's UTC day) or of a plain date.
pub(crate) fn day_of(value: &Value) -> Option<NaiveDate> {
    if let Some(text) = value.as_str() {
        return text.get(..10)?.parse().ok();
    }
    let object = value.as_object()?;
    if let Some(date) = object.get("date").and_then(Value::as_str) {
        return date.parse().ok();
    }
    object
        .get("time")?
        .get("utc")?
        .as_str()?
        .get(..10)?
        .parse()
        .ok()
}

/// The last day a recurrence rule reaches, when it has an UNTIL.
fn until(rule: &str) -> Option<NaiveDate> {
    let value = rule
        .split(';')
        .find_map(|part| part.strip_prefix("UNTIL="))?;
    NaiveDate::parse_from_str(value.get(..8)?, "%Y%m%d").ok()
}

fn conflicts(record: &RecordInput<'_>) -> Vec<Conflict> {
    record
        .conflicts
        .iter()
        .map(|(field, state)| Conflict {
            field: field.clone(),
            kept: state.current.value.clone(),
            kept_from: state.current.side,
            lost: state
                .losers
                .iter()
                .map(|c| (c.side, c.value.clone()))
                .collect(),
        })
        .collect()
}

const UNTITLED: &str = "(untitled)";

/// A short name for a record: a contact's name, an event's subject and day, a task's subject.
pub fn label(kind: RecordKind, fields: &Fields) -> String {
    let text = |name: &str| fields.get(name).and_then(Value::as_str).unwrap_or("");
    let label = match kind {
        RecordKind::Contact => {
            let name = [text("first_name"), text("last_name")]
                .iter()
                .filter(|s| !s.is_empty())
                .copied()
                .collect::<Vec<_>>()
                .join(" ");
            match (name.is_empty(), text("company")) {
                (true, company) => company.to_string(),
                (false, "") => name,
                (false, company) => format!("{name} ({company})"),
            }
        }
        RecordKind::Event => match fields.get("start").and_then(day_of) {
            Some(day) => format!("{} ({day})", text("subject")),
            None => text("subject").to_string(),
        },
        RecordKind::Task => text("subject").to_string(),
    };
    if label.trim().is_empty() {
        UNTITLED.into()
    } else {
        label
    }
}

#[cfg(test)]
mod tests;
