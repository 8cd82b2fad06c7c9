//! The causal field-level merge: one automerge document per record, and the merged state it
//! resolves to.
//!
//! An edit from a side is applied on top of the state that side last saw (its causal base),
//! then merged into the record. Edits to different fields therefore both survive, and edits to
//! the same field that did not see each other are kept side by side as concurrent values. Which
//! of those is *current* is decided at read time by the conflict policy, as a pure function of
//! the values and their provenance — so the result does not depend on the order in which the
//! edits arrived, and the losing values stay visible as a conflict until an edit that has seen
//! them all replaces them.
//!
//! Everything that goes into a change is derived from the edit itself (actor from record and
//! side, time and message from the event), never from the machine, so replaying the log produces
//! the same documents byte for byte.
//!
//! Most edits are made on the record as it is now (their base is its heads): such an edit simply
//! replaces the values of the fields it sets. [`Merged`] keeps every field's values with their
//! provenance and applies those edits itself, which is what automerge would do, at a small
//! fraction of the cost; the document is built (from the record's events) only for an edit made
//! on an older state, where the causal merge has real work to do.

use crate::error::Error;
use crate::event::{Decision, Event, EventBody, Op};
use crate::hlc::Hlc;
use crate::policy::ConflictPolicy;
use crate::record::{Fields, RecordId};
use crate::side::Side;
use automerge::transaction::CommitOptions;
use automerge::{ActorId, AutoCommit, ChangeHash, ROOT, ReadDoc, ScalarValue};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};

/// The key that marks a record deleted. Record fields never start with `_`.
const DELETED: &str = "_deleted";
const MESSAGE_PREFIX: &str = "tandem/1";

/// One change to apply: what a side did, and on top of which state.
#[derive(Clone, Copy, Debug)]
pub struct Edit<'a> {
    pub event: Hlc,
    pub side: Side,
    pub op: Op,
    /// The side's own time of the change, if it reports one.
    pub changed_at_ms: Option<i64>,
    pub base: &'a [Hlc],
    pub changes: &'a Fields,
}

/// A value of a field, with where it came from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    pub value: Value,
    pub event: Hlc,
    pub side: Side,
    pub changed_at_ms: i64,
}

/// The current value of one field (possibly `null`: cleared) and the concurrent values it beat.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FieldState {
    pub current: Candidate,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub losers: Vec<Candidate>,
}

/// A record as the policy resolves it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Resolved {
    pub deleted: bool,
    /// Every field ever set, including cleared ones (`null`), with provenance.
    pub fields: BTreeMap<String, FieldState>,
    /// The events whose changes are the document's heads: what a side has "seen" when it has
    /// seen this state.
    pub heads: Vec<Hlc>,
}

impl Resolved {
    /// The current non-empty field values.
    pub fn values(&self) -> Fields {
        self.fields
            .iter()
            .filter(|(_, state)| !state.current.value.is_null())
            .map(|(name, state)| (name.clone(), state.current.value.clone()))
            .collect()
    }

    /// Fields that have concurrent values the policy had to choose between.
    pub fn conflicts(&self) -> impl Iterator<Item = (&String, &FieldState)> {
        self.fields.iter().filter(|(_, s)| !s.losers.is_empty())
    }
}

/// Every value each field of a record holds, with provenance, and the record's heads: the merge
/// as it stands, before the policy chooses. Kept for each record, so an edit made on the current
/// state is merged without the automerge document.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Merged {
    pub heads: Vec<Hlc>,
    /// Field (and the deletion mark) → its concurrent values, oldest event first.
    pub fields: BTreeMap<String, Vec<Candidate>>,
}

impl Merged {
    /// Apply an edit made on this state (its base is the heads; or, for a new record, a create
    /// on nothing): it replaces the values of the fields it sets, as automerge would. Returns
    /// `false`, changing nothing, for any other edit — that one needs the document.
    pub fn advance(&mut self, edit: &Edit<'_>) -> bool {
        let on_current = if self.heads.is_empty() {
            edit.op == Op::Create && edit.base.is_empty()
        } else {
            let mut base = edit.base.to_vec();
            base.sort();
            base.dedup();
            base == self.heads
        };
        if !on_current || self.heads.contains(&edit.event) {
            return false;
        }
        let info = ChangeInfo::of(edit);
        for (field, value) in edit.changes {
            self.fields
                .insert(field.clone(), vec![info.candidate(value.clone())]);
        }
        let deleted = match edit.op {
            Op::Create => Some(false),
            Op::Delete => Some(true),
            Op::Update => None,
        };
        if let Some(deleted) = deleted {
            let mark = info.candidate(Value::Bool(deleted));
            self.fields.insert(DELETED.to_string(), vec![mark]);
        }
        self.heads = vec![edit.event];
        true
    }

    /// The record as the policy resolves it.
    pub fn resolve(&self, policy: ConflictPolicy) -> Resolved {
        let mut fields = BTreeMap::new();
        let mut deleted = false;
        for (key, candidates) in &self.fields {
            let Some(state) = choose(candidates.clone(), policy) else {
                continue;
            };
            if key == DELETED {
                deleted = state.current.value == Value::Bool(true);
            } else {
                fields.insert(key.clone(), state);
            }
        }
        Resolved {
            deleted,
            fields,
            heads: self.heads.clone(),
        }
    }
}

#[derive(Clone, Copy, Debug)]
struct ChangeInfo {
    event: Hlc,
    side: Side,
    changed_at_ms: i64,
}

impl ChangeInfo {
    fn of(edit: &Edit<'_>) -> ChangeInfo {
        ChangeInfo {
            event: edit.event,
            side: edit.side,
            changed_at_ms: edit.changed_at_ms.unwrap_or(edit.event.wall_ms() as i64),
        }
    }

    fn candidate(&self, value: Value) -> Candidate {
        Candidate {
            value,
            event: self.event,
            side: self.side,
            changed_at_ms: self.changed_at_ms,
        }
    }

    fn message(&self) -> String {
        format!(
            "{MESSAGE_PREFIX} {} {} {}",
            self.event.0, self.side, self.changed_at_ms
        )
    }
}

/// The merge document of one record.
pub struct RecordDoc {
    record: RecordId,
    doc: AutoCommit,
    by_event: BTreeMap<Hlc, ChangeHash>,
    by_hash: HashMap<ChangeHash, ChangeInfo>,
    last_of_side: BTreeMap<Side, Hlc>,
}

impl RecordDoc {
    pub fn new(record: RecordId) -> RecordDoc {
        RecordDoc {
            record,
            doc: AutoCommit::new(),
            by_event: BTreeMap::new(),
            by_hash: HashMap::new(),
            last_of_side: BTreeMap::new(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.by_event.is_empty()
    }

    /// Whether an event has already been applied.
    pub fn contains(&self, event: Hlc) -> bool {
        self.by_event.contains_key(&event)
    }

    fn remember(&mut self, hash: ChangeHash, info: ChangeInfo) {
        self.by_event.insert(info.event, hash);
        self.by_hash.insert(hash, info);
        let last = self.last_of_side.entry(info.side).or_insert(info.event);
        if info.event > *last {
            *last = info.event;
        }
    }

    /// Apply an edit. Returns `false` if this event was applied before (replaying is harmless).
    pub fn apply(&mut self, edit: &Edit<'_>) -> Result<bool, Error> {
        if self.contains(edit.event) {
            return Ok(false);
        }
        if self.is_empty() && edit.op != Op::Create {
            return Err(Error::NoSuchRecord {
                record: self.record.to_string(),
                op: if edit.op == Op::Delete {
                    "deleted"
                } else {
                    "updated"
                },
            });
        }
        let mut heads = Vec::with_capacity(edit.base.len() + 1);
        for event in edit.base {
            let hash = self.by_event.get(event).ok_or(Error::UnknownBase {
                record: self.record.to_string(),
                event: *event,
            })?;
            heads.push(*hash);
        }
        // A side always builds on its own previous change: its edits form one line, which is
        // also what automerge expects of one actor.
        if let Some(own) = self.last_of_side.get(&edit.side) {
            heads.push(self.by_event[own]);
        }
        heads.sort();
        heads.dedup();
        let mut current = self.doc.get_heads();
        current.sort();

        let info = ChangeInfo::of(edit);
        let actor = actor_for(&self.record, edit.side);
        let damaged = |e: automerge::AutomergeError| Error::DamagedDocument {
            record: self.record.to_string(),
            reason: e.to_string(),
        };
        let hash = if heads == current {
            self.doc.set_actor(actor);
            write(&mut self.doc, edit, &info).map_err(damaged)?
        } else {
            let mut fork = self.doc.fork_at(&heads).map_err(damaged)?;
            fork.set_actor(actor);
            let hash = write(&mut fork, edit, &info).map_err(damaged)?;
            let change =
                fork.get_change_by_hash(&hash)
                    .cloned()
                    .ok_or_else(|| Error::DamagedDocument {
                        record: self.record.to_string(),
                        reason: "a change just made cannot be found".into(),
                    })?;
            self.doc.apply_changes([change]).map_err(damaged)?;
            hash
        };
        self.remember(hash, info);
        Ok(true)
    }

    /// Apply a logged event if it is an edit (an observation, or a conflict resolved by
    /// hand); `false` if it is not one or was applied before.
    pub fn apply_event(&mut self, event: &Event) -> Result<bool, Error> {
        let (op, base, changes, changed_at_ms) = match &event.body {
            EventBody::Observation(o) => (
                o.op,
                &o.base,
                std::borrow::Cow::Borrowed(&o.changes),
                o.changed_at_ms,
            ),
            EventBody::Decision(Decision::Resolve {
                field, value, base, ..
            }) => {
                let changes = [(field.clone(), value.clone())].into();
                (Op::Update, base, std::borrow::Cow::Owned(changes), None)
            }
            _ => return Ok(false),
        };
        self.apply(&Edit {
            event: event.hlc,
            side: event.origin.side,
            op,
            changed_at_ms,
            base,
            changes: &changes,
        })
    }

    /// Every field's values with provenance, and the heads: what [`Merged`] keeps.
    pub fn merged(&mut self) -> Result<Merged, Error> {
        let heads = self.heads();
        let mut fields = BTreeMap::new();
        let keys: Vec<String> = self.doc.keys(ROOT).collect();
        for key in keys {
            let values = self
                .doc
                .get_all(ROOT, key.as_str())
                .map_err(|e| self.damaged(e))?;
            let mut candidates = Vec::with_capacity(values.len());
            for (value, id) in values {
                let info = self
                    .doc
                    .hash_for_opid(&id)
                    .and_then(|hash| self.by_hash.get(&hash))
                    .ok_or_else(|| Error::DamagedDocument {
                        record: self.record.to_string(),
                        reason: format!("the value of `{key}` has no known change"),
                    })?;
                candidates.push(info.candidate(decode(&value)));
            }
            candidates.sort_by_key(|c| c.event);
            fields.insert(key, candidates);
        }
        Ok(Merged { heads, fields })
    }

    /// The record as the policy resolves it now.
    pub fn resolve(&mut self, policy: ConflictPolicy) -> Result<Resolved, Error> {
        Ok(self.merged()?.resolve(policy))
    }

    /// The events at the heads of the document.
    pub fn heads(&mut self) -> Vec<Hlc> {
        let mut heads: Vec<Hlc> = self
            .doc
            .get_heads()
            .iter()
            .filter_map(|hash| self.by_hash.get(hash).map(|info| info.event))
            .collect();
        heads.sort();
        heads
    }

    /// The document as it was once every event up to and including `cutoff` had been applied,
    /// or `None` if the record did not exist yet.
    pub fn as_of(&mut self, cutoff: Hlc) -> Result<Option<RecordDoc>, Error> {
        let hashes: Vec<ChangeHash> = self
            .by_event
            .range(..=cutoff)
            .map(|(_, hash)| *hash)
            .collect();
        if hashes.is_empty() {
            return Ok(None);
        }
        let doc = self.doc.fork_at(&hashes).map_err(|e| self.damaged(e))?;
        let mut past = RecordDoc {
            record: self.record.clone(),
            doc,
            by_event: BTreeMap::new(),
            by_hash: HashMap::new(),
            last_of_side: BTreeMap::new(),
        };
        for hash in hashes {
            past.remember(hash, self.by_hash[&hash]);
        }
        Ok(Some(past))
    }

    fn damaged(&self, e: automerge::AutomergeError) -> Error {
        Error::DamagedDocument {
            record: self.record.to_string(),
            reason: e.to_string(),
        }
    }
}

/// Pick the current value among concurrent ones. Ties cannot happen: event ids are unique.
fn choose(mut candidates: Vec<Candidate>, policy: ConflictPolicy) -> Option<FieldState> {
    let rank = |c: &Candidate| {
        let preferred = policy.prefers(c.side);
        (preferred, c.changed_at_ms, c.event)
    };
    let best = (0..candidates.len()).max_by_key(|&i| rank(&candidates[i]))?;
    let current = candidates.swap_remove(best);
    candidates.sort_by_key(|c| std::cmp::Reverse(rank(c)));
    Some(FieldState {
        current,
        losers: candidates,
    })
}

fn write(
    doc: &mut AutoCommit,
    edit: &Edit<'_>,
    info: &ChangeInfo,
) -> Result<ChangeHash, automerge::AutomergeError> {
    use automerge::transaction::Transactable;
    // automerge skips a put whose value equals the current one and keeps the old op. Tagging each
    // value with its event makes every put a real op, so a side that re-asserts a value (or
    // re-creates a record) is recorded as the newest writer, as the policy expects.
    let tagged = |value: &Value| ScalarValue::Str(format!("{}:{value}", edit.event.0).into());
    for (field, value) in edit.changes {
        doc.put(ROOT, field.as_str(), tagged(value))?;
    }
    match edit.op {
        Op::Create => doc.put(ROOT, DELETED, tagged(&Value::Bool(false)))?,
        Op::Delete => doc.put(ROOT, DELETED, tagged(&Value::Bool(true)))?,
        Op::Update => {}
    }
    let options = || {
        CommitOptions::default()
            .with_message(info.message())
            .with_time((edit.event.wall_ms() / 1000) as i64)
    };
    Ok(match doc.commit_with(options()) {
        Some(hash) => hash,
        // An edit that changes nothing still counts: it tells us what the side has seen.
        None => doc.empty_change(options()),
    })
}

fn decode(value: &automerge::Value<'_>) -> Value {
    match value {
        automerge::Value::Scalar(s) => match s.as_ref() {
            ScalarValue::Str(text) => text
                .split_once(':')
                .and_then(|(_, json)| serde_json::from_str(json).ok())
                .unwrap_or(Value::Null),
            _ => Value::Null,
        },
        automerge::Value::Object(_) => Value::Null,
    }
}

/// One actor per record and side: deterministic, so replay rebuilds identical documents.
fn actor_for(record: &RecordId, side: Side) -> ActorId {
    let digest = Sha256::digest(format!("{record}/{side}").as_bytes());
    ActorId::from(&digest[..16])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::RecordKind;
    use serde_json::json;

    fn fields(pairs: &[(&str, Value)]) -> Fields {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect()
    }

    fn edit<'a>(event: u64, side: Side, op: Op, base: &'a [Hlc], changes: &'a Fields) -> Edit<'a> {
        Edit {
            event: Hlc::new(event, 0),
            side,
            op,
            changed_at_ms: None,
            base,
            changes,
        }
    }

    fn new_doc() -> RecordDoc {
        let mut doc = RecordDoc::new(RecordId::derive(RecordKind::Contact, Hlc::new(1, 0)));
        let initial = fields(&[("last_name", json!("Ng")), ("title", json!("CTO"))]);
        doc.apply(&edit(1, Side::DESKTOP, Op::Create, &[], &initial))
            .unwrap();
        doc
    }

    #[test]
    fn concurrent_edits_of_different_fields_both_survive() {
        let mut doc = new_doc();
        let base = [Hlc::new(1, 0)];
        let phone = fields(&[("phone", json!("+1 555 0100"))]);
        let email = fields(&[("email", json!("ng@example.com"))]);
        doc.apply(&edit(2, Side::DESKTOP, Op::Update, &base, &phone))
            .unwrap();
        doc.apply(&edit(3, Side::SALESFORCE, Op::Update, &base, &email))
            .unwrap();
        let state = doc.resolve(ConflictPolicy::NewestWins).unwrap();
        assert_eq!(state.values()["phone"], json!("+1 555 0100"));
        assert_eq!(state.values()["email"], json!("ng@example.com"));
        assert_eq!(state.conflicts().count(), 0);
        assert_eq!(state.heads, vec![Hlc::new(2, 0), Hlc::new(3, 0)]);
    }

    #[test]
    fn the_policy_picks_among_concurrent_values_and_keeps_the_losers() {
        let base = [Hlc::new(1, 0)];
        let desk = fields(&[("title", json!("Chief Technology Officer"))]);
        let sf = fields(&[("title", json!("VP Engineering"))]);
        let mut doc = new_doc();
        doc.apply(&edit(5, Side::DESKTOP, Op::Update, &base, &desk))
            .unwrap();
        doc.apply(&edit(4, Side::SALESFORCE, Op::Update, &base, &sf))
            .unwrap();

        let newest = doc.resolve(ConflictPolicy::NewestWins).unwrap();
        let title = &newest.fields["title"];
        assert_eq!(title.current.value, json!("Chief Technology Officer"));
        assert_eq!(title.losers.len(), 1);
        assert_eq!(title.losers[0].value, json!("VP Engineering"));
        assert_eq!(title.losers[0].side, Side::SALESFORCE);

        let sf_wins = doc.resolve(ConflictPolicy::SalesforceWins).unwrap();
        assert_eq!(
            sf_wins.fields["title"].current.value,
            json!("VP Engineering")
        );

        // An edit that has seen both values settles the conflict.
        let heads = newest.heads.clone();
        let settle = fields(&[("title", json!("CTO"))]);
        doc.apply(&edit(6, Side::TANDEM, Op::Update, &heads, &settle))
            .unwrap();
        let settled = doc.resolve(ConflictPolicy::SalesforceWins).unwrap();
        assert_eq!(settled.fields["title"].current.value, json!("CTO"));
        assert!(settled.fields["title"].losers.is_empty());
    }

    #[test]
    fn the_side_reported_time_decides_newest_wins() {
        let base = [Hlc::new(1, 0)];
        let mut doc = new_doc();
        let desk = fields(&[("title", json!("from desktop"))]);
        let sf = fields(&[("title", json!("from salesforce"))]);
        doc.apply(&edit(10, Side::DESKTOP, Op::Update, &base, &desk))
            .unwrap();
        // Heard of later, but made earlier in Salesforce.
        let mut late = edit(20, Side::SALESFORCE, Op::Update, &base, &sf);
        late.changed_at_ms = Some(5);
        doc.apply(&late).unwrap();
        let state = doc.resolve(ConflictPolicy::NewestWins).unwrap();
        assert_eq!(state.fields["title"].current.value, json!("from desktop"));
    }

    #[test]
    fn a_delete_and_a_clear_are_changes_like_any_other() {
        let mut doc = new_doc();
        let base = [Hlc::new(1, 0)];
        let clear = fields(&[("title", Value::Null)]);
        doc.apply(&edit(2, Side::DESKTOP, Op::Update, &base, &clear))
            .unwrap();
        let state = doc.resolve(ConflictPolicy::NewestWins).unwrap();
        assert!(!state.values().contains_key("title"));
        assert!(!state.deleted);

        let none = Fields::new();
        doc.apply(&edit(
            3,
            Side::SALESFORCE,
            Op::Delete,
            &[Hlc::new(2, 0)],
            &none,
        ))
        .unwrap();
        assert!(doc.resolve(ConflictPolicy::NewestWins).unwrap().deleted);
        doc.apply(&edit(4, Side::TANDEM, Op::Create, &[Hlc::new(3, 0)], &none))
            .unwrap();
        assert!(!doc.resolve(ConflictPolicy::NewestWins).unwrap().deleted);
    }

    #[test]
    fn bad_edits_are_refused_and_change_nothing() {
        let mut empty = RecordDoc::new(RecordId::derive(RecordKind::Contact, Hlc::new(1, 0)));
        let none = Fields::new();
        let err = empty
            .apply(&edit(1, Side::DESKTOP, Op::Update, &[], &none))
            .unwrap_err();
        assert!(err.to_string().contains("does not exist yet"), "{err}");
        assert!(empty.is_empty());

        let mut doc = new_doc();
        let before = doc.merged().unwrap();
        let err = doc
            .apply(&edit(
                9,
                Side::DESKTOP,
                Op::Update,
                &[Hlc::new(7, 0)],
                &none,
            ))
            .unwrap_err();
        assert!(matches!(err, Error::UnknownBase { .. }), "{err}");
        assert_eq!(doc.merged().unwrap(), before);
    }

    #[test]
    fn applying_an_event_twice_is_a_no_op() {
        let mut doc = new_doc();
        let change = fields(&[("phone", json!("1"))]);
        let e = edit(2, Side::DESKTOP, Op::Update, &[], &change);
        assert!(doc.apply(&e).unwrap());
        let once = doc.merged().unwrap();
        assert!(!doc.apply(&e).unwrap());
        assert_eq!(doc.merged().unwrap(), once);
    }

    #[test]
    fn as_of_shows_an_earlier_state() {
        let mut doc = new_doc();
        let change = fields(&[("title", json!("CEO"))]);
        doc.apply(&edit(
            5,
            Side::SALESFORCE,
            Op::Update,
            &[Hlc::new(1, 0)],
            &change,
        ))
        .unwrap();
        let mut past = doc.as_of(Hlc::new(4, 0)).unwrap().unwrap();
        let state = past.resolve(ConflictPolicy::NewestWins).unwrap();
        assert_eq!(state.values()["title"], json!("CTO"));
        assert!(doc.as_of(Hlc::new(0, 5)).unwrap().is_none());
    }
}
