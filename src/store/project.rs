//! The projector: what one log event does to the projections. The writer calls it in the same
//! transaction as the append; `replay` calls it on a fresh store. Same code, same bytes.

use super::StoreError;
use super::tables::*;
use redb::ReadableTable;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use tandem_protocol::codec::Extent;
use tandem_protocol::merge::FieldState;
use tandem_protocol::{
    Decision, Edit, Event, EventBody, Fields, Hlc, Merged, Observation, Op, Outcome, OutcomeResult,
    Policies, RecordDoc, RecordId, RecordKind, Side,
};

/// The current state of a record, as DAV clients and the planner read it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RecordState {
    pub id: RecordId,
    pub kind: RecordKind,
    pub deleted: bool,
    /// Position of the record's latest change in the log: its place in the change sequence.
    pub seq: u64,
    /// The events at the heads of the record: what a side has seen when it has this state.
    pub heads: Vec<Hlc>,
    pub fields: Fields,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub conflicts: BTreeMap<String, FieldState>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
}

/// What one side has of a record.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SideState {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The record heads this side has seen: its own last change, or the state tandem last wrote.
    #[serde(default)]
    pub seen: Vec<Hlc>,
    /// A write was announced (intent) and its outcome is not in the log yet.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub pending: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// The record as this side has it: its last reported state, or what tandem last wrote to it.
    /// A side that reports whole records (a DAV PUT, a Salesforce row) is compared with this to
    /// find what it changed — and a change tandem wrote itself, read back, is no change (no echo).
    #[serde(default, skip_serializing_if = "Fields::is_empty")]
    pub fields: Fields,
    /// The side deleted the record, or tandem deleted it there.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deleted: bool,
}

impl SideState {
    /// Whether the side has the record now, under `id`: not under an id it went by before (a
    /// copy deleted there and made again by a restore has a new id) and not deleted.
    pub fn holds(&self, id: &str) -> bool {
        !self.deleted && self.external_id.as_deref() == Some(id)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IgnoreState {
    pub forever: bool,
    /// For "ignore once": the heads at the decision; any later change lifts it.
    #[serde(default)]
    pub heads: Vec<Hlc>,
    pub seq: u64,
}

pub struct Projector {
    policies: Policies,
    /// The documents of records lately merged through one (an edit made on an older state):
    /// building one from the record's events is the dear part of such an edit, and a record in
    /// conflict tends to see several. Each is used only when its heads are those of the record's
    /// stored merge, so one from a transaction that did not commit is never trusted.
    docs: std::cell::RefCell<lru::LruCache<RecordId, RecordDoc>>,
    /// The log a replay reads a record's earlier events from (the live store's, so a replay
    /// need not copy the log into what it rebuilds); `None`: the log of the transaction itself.
    log: Option<redb::ReadOnlyTable<u64, &'static [u8]>>,
}

/// How many record documents the projector keeps in memory.
const KEPT_DOCS: std::num::NonZeroUsize = std::num::NonZeroUsize::new(1024).unwrap();

pub(super) fn bad(what: impl Into<String>, e: impl std::fmt::Display) -> StoreError {
    StoreError::BadProjection {
        what: what.into(),
        reason: e.to_string(),
    }
}

pub fn decode<T: for<'de> Deserialize<'de>>(what: &str, bytes: &[u8]) -> Result<T, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| bad(what, e))
}

pub fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(value).map_err(|e| StoreError::Storage(format!("cannot encode a row: {e}")))
}

/// A record's row of `RECORDS`: its state, which every reader wants, then its merged values,
/// which only the projector and blame read; the state's length comes first, so a reader decodes
/// the state alone. One row rather than two saves every edit an insert and a lookup.
fn record_row(state: &RecordState, merged: &Merged) -> Result<Vec<u8>, StoreError> {
    let (state, merged) = (encode(state)?, encode(merged)?);
    let mut row = Vec::with_capacity(4 + state.len() + merged.len());
    row.extend((state.len() as u32).to_le_bytes());
    row.extend(state);
    row.extend(merged);
    Ok(row)
}

/// The two parts of a record's row.
fn record_parts(row: &[u8]) -> Result<(&[u8], &[u8]), StoreError> {
    let short = || bad("records", "a row shorter than the length it starts with");
    let (length, rest) = row.split_first_chunk::<4>().ok_or_else(short)?;
    let length = u32::from_le_bytes(*length) as usize;
    rest.split_at_checked(length).ok_or_else(short)
}

/// The state of a record, from its row.
pub fn record_state(row: &[u8]) -> Result<RecordState, StoreError> {
    decode("records", record_parts(row)?.0)
}

/// The merged values of a record, from its row.
pub fn record_merged(row: &[u8]) -> Result<Merged, StoreError> {
    decode("records", record_parts(row)?.1)
}

impl Projector {
    pub fn new(policies: Policies) -> Projector {
        Projector {
            policies,
            docs: lru::LruCache::new(KEPT_DOCS).into(),
            log: None,
        }
    }

    pub fn policies(&self) -> Policies {
        self.policies
    }

    /// A projector for a replay of `log`: the events it projects are logged there already.
    pub fn replaying(
        policies: Policies,
        log: redb::ReadOnlyTable<u64, &'static [u8]>,
    ) -> Projector {
        Projector {
            log: Some(log),
            ..Projector::new(policies)
        }
    }

    /// Append an event to the log and apply it to the projections, all in `txn`. On error nothing
    /// has been written for this event: every check runs before the first insert. `parsed` is
    /// the extent of an observation's payload when its producer computed it already. Returns
    /// the event as logged.
    pub fn append(
        &self,
        t: &mut Tables,
        seq: u64,
        event: &Event,
        parsed: Option<&Extent>,
    ) -> Result<Vec<u8>, StoreError> {
        // Encoded first: a refusal must come before anything is written.
        let bytes = event.encode()?;
        self.project(t, seq, event, parsed)?;
        t.log.insert(seq, bytes.as_slice())?;
        Ok(bytes)
    }

    /// Apply an event to the projections; alone for a logged one (replay, and the upgrade of an
    /// older store: the log itself is never written again), which passes no `parsed`.
    pub fn project(
        &self,
        t: &mut Tables,
        seq: u64,
        event: &Event,
        parsed: Option<&Extent>,
    ) -> Result<(), StoreError> {
        let effects = match &event.body {
            EventBody::Observation(o) => Some(self.observe(t, event, o, parsed)?),
            EventBody::Decision(Decision::Resolve {
                record,
                field,
                value,
                base,
            }) => {
                let kind = record.kind().ok_or_else(|| {
                    StoreError::Rejected(tandem_protocol::Error::BadRecordId(record.to_string()))
                })?;
                let resolve = Observation {
                    record: record.clone(),
                    kind,
                    op: Op::Update,
                    external_id: None,
                    uid: None,
                    version: None,
                    changed_at_ms: None,
                    base: base.clone(),
                    changes: [(field.clone(), value.clone())].into(),
                    payload: None,
                };
                Some(self.observe(t, event, &resolve, None)?)
            }
            _ => None,
        };

        if let Some(effects) = effects {
            effects.write(t, seq)?;
        }
        match &event.body {
            EventBody::Observation(_) => {}
            EventBody::Decision(d) => self.decide(t, seq, d)?,
            EventBody::Outcome(o) => self.outcome(t, seq, o)?,
            EventBody::Watermark(w) => {
                t.watermarks
                    .insert((w.side.as_str(), w.scope.as_str()), w.value.as_str())?;
            }
            EventBody::Collection(c) => super::dav::apply_collection(t, seq, c)?,
            EventBody::File(f) => super::files::apply(t, event.hlc, f)?,
            EventBody::Run(run) => {
                t.runs.insert(seq, encode(run)?.as_slice())?;
            }
        }
        // Last, so that a check failing above has written nothing of this event.
        if let Some(record) = event.record() {
            t.record_events.insert((record.as_str(), seq), ())?;
        }
        Ok(())
    }

    /// Merge an observation into its record. Computes everything, writes nothing.
    fn observe(
        &self,
        t: &Tables,
        event: &Event,
        o: &Observation,
        parsed: Option<&Extent>,
    ) -> Result<RecordEffects, StoreError> {
        if o.record.kind() != Some(o.kind) {
            return Err(StoreError::Rejected(tandem_protocol::Error::BadRecordId(
                o.record.to_string(),
            )));
        }
        o.kind.check_changes(&o.changes)?;
        let id = o.record.as_str();
        let (previous, mut merged) = match t.records.get(id)? {
            Some(row) => (
                Some(record_state(row.value())?),
                record_merged(row.value())?,
            ),
            None => (None, Merged::default()),
        };
        let edit = Edit {
            event: event.hlc,
            side: event.origin.side,
            op: o.op,
            changed_at_ms: o.changed_at_ms,
            base: &o.base,
            changes: &o.changes,
        };
        if merged.advance(&edit) {
            self.docs.borrow_mut().pop(&o.record);
        } else {
            // Made on an older state: the causal merge needs the document.
            let kept = self
                .docs
                .borrow_mut()
                .pop(&o.record)
                .and_then(|mut doc| (doc.heads() == merged.heads).then_some(doc));
            let mut doc = match kept {
                Some(doc) => doc,
                None => match &self.log {
                    Some(log) => super::read::doc_from(&t.record_events, log, &o.record)?,
                    None => super::read::doc_from(&t.record_events, &t.log, &o.record)?,
                },
            };
            doc.apply(&edit)?;
            merged = doc.merged()?;
            self.docs.borrow_mut().put(o.record.clone(), doc);
        }
        let resolved = merged.resolve(self.policies.of(o.kind));
        let side_key = (id.to_string(), event.origin.side.as_str().to_string());
        let mut side: SideState = match t.sides.get((side_key.0.as_str(), side_key.1.as_str()))? {
            Some(bytes) => decode("sides", bytes.value())?,
            None => SideState::default(),
        };
        if o.external_id.is_some() {
            side.external_id = o.external_id.clone();
        }
        if o.version.is_some() {
            side.version = o.version.clone();
        }
        side.seen = vec![event.hlc];
        side.deleted = o.op == Op::Delete;
        tandem_protocol::record::apply(&mut side.fields, &o.changes);
        // The DAV server's index is the desktop side's own projection.
        let member = if event.origin.side == Side::DESKTOP {
            super::dav::member_effects(
                t,
                &super::dav::MemberChange {
                    record: &o.record,
                    op: o.op,
                    href: o.external_id.as_deref(),
                    uid: o.uid.as_deref(),
                    payload: o.payload.as_ref(),
                    seen: vec![event.hlc],
                    extent: parsed,
                },
            )?
        } else {
            None
        };
        let mut aliases = Vec::new();
        if let Some(ext) = &o.external_id {
            aliases.push(super::alias::on_side(event.origin.side, ext));
        }
        if let Some(uid) = &o.uid {
            aliases.push(super::alias::uid(uid));
        }
        let conflicts = resolved
            .conflicts()
            .map(|(name, state)| (name.clone(), state.clone()))
            .collect();
        Ok(RecordEffects {
            merged,
            state: RecordState {
                id: o.record.clone(),
                kind: o.kind,
                deleted: resolved.deleted,
                seq: 0,
                heads: resolved.heads.clone(),
                fields: resolved.values(),
                conflicts,
                uid: o.uid.clone().or(previous.and_then(|p| p.uid)),
            },
            side: (side_key, side),
            aliases,
            member,
        })
    }

    fn decide(&self, t: &mut Tables, seq: u64, decision: &Decision) -> Result<(), StoreError> {
        let ignores = &mut t.ignores;
        // "" names every side of the record.
        let key = |record: &RecordId, side: &Option<Side>| {
            (
                record.to_string(),
                side.map_or(String::new(), |s| s.to_string()),
            )
        };
        match decision {
            Decision::IgnoreOnce {
                record,
                heads,
                side,
            } => {
                let state = IgnoreState {
                    forever: false,
                    heads: heads.clone(),
                    seq,
                };
                let (record, side) = key(record, side);
                ignores.insert((record.as_str(), side.as_str()), encode(&state)?.as_slice())?;
            }
            Decision::IgnoreForever { record, side } => {
                let state = IgnoreState {
                    forever: true,
                    heads: vec![],
                    seq,
                };
                let (record, side) = key(record, side);
                ignores.insert((record.as_str(), side.as_str()), encode(&state)?.as_slice())?;
            }
            Decision::Unignore { record, side } => {
                let (record, side) = key(record, side);
                ignores.remove((record.as_str(), side.as_str()))?;
            }
            Decision::Confirm { .. } | Decision::Resolve { .. } => {}
        }
        Ok(())
    }

    fn outcome(&self, t: &mut Tables, seq: u64, o: &Outcome) -> Result<(), StoreError> {
        let key = (o.record.as_str(), o.side.as_str());
        let mut state: SideState = match t.sides.get(key)? {
            Some(bytes) => decode("sides", bytes.value())?,
            None => SideState::default(),
        };
        let mut alias = None;
        match &o.result {
            OutcomeResult::Intent => state.pending = true,
            OutcomeResult::Succeeded {
                external_id,
                version,
            } => {
                state.pending = false;
                state.last_error = None;
                state.seen = o.written.clone();
                state.deleted = o.op == Op::Delete;
                if let Some(fields) = &o.side_fields {
                    state.fields = fields.clone();
                }
                if let Some(ext) = external_id {
                    state.external_id = Some(ext.clone());
                    alias = Some(super::alias::on_side(o.side, ext));
                }
                if version.is_some() {
                    state.version = version.clone();
                }
            }
            OutcomeResult::Failed { code, message, .. } => {
                state.pending = false;
                state.last_error = Some(format!("{code}: {message}"));
            }
        }
        let member = match &o.result {
            OutcomeResult::Succeeded { external_id, .. } if o.side == Side::DESKTOP => {
                super::dav::member_effects(
                    t,
                    &super::dav::MemberChange {
                        record: &o.record,
                        op: o.op,
                        href: external_id.as_deref(),
                        uid: o
                            .payload
                            .as_ref()
                            .and_then(|p| payload_uid(o.record.kind(), p))
                            .as_deref(),
                        payload: o.payload.as_ref(),
                        seen: o.written.clone(),
                        extent: None,
                    },
                )?
            }
            _ => None,
        };
        t.sides.insert(key, encode(&state)?.as_slice())?;
        if o.op == Op::Create {
            let key = (o.side.as_str(), o.record.as_str());
            match o.result {
                OutcomeResult::Intent => t.pending_creates.insert(key, ())?,
                _ => t.pending_creates.remove(key)?,
            };
        }
        if let Some(member) = member {
            member.write(t, seq)?;
        }
        if let Some(alias) = alias {
            t.aliases.insert(alias.as_str(), o.record.as_str())?;
        }
        Ok(())
    }
}

/// The writes an observation causes, computed before any of them is made.
struct RecordEffects {
    merged: Merged,
    state: RecordState,
    side: ((String, String), SideState),
    aliases: Vec<String>,
    member: Option<super::dav::MemberEffects>,
}

impl RecordEffects {
    fn write(mut self, t: &mut Tables, seq: u64) -> Result<(), StoreError> {
        let id = self.state.id.as_str().to_string();
        self.state.seq = seq;
        t.records.insert(
            id.as_str(),
            record_row(&self.state, &self.merged)?.as_slice(),
        )?;
        let ((record, side), state) = &self.side;
        t.sides
            .insert((record.as_str(), side.as_str()), encode(state)?.as_slice())?;
        let aliases = &mut t.aliases;
        for alias in &self.aliases {
            // Most events name their record as the last one did: rewriting the same row would
            // still copy its page into the commit.
            let known = aliases
                .get(alias.as_str())?
                .is_some_and(|a| a.value() == id);
            if !known {
                aliases.insert(alias.as_str(), id.as_str())?;
            }
        }
        if let Some(member) = self.member {
            member.write(t, seq)?;
        }
        Ok(())
    }
}

/// The UID of a body tandem wrote to the desktop side, for the DAV UID index.
fn payload_uid(kind: Option<RecordKind>, payload: &tandem_protocol::Payload) -> Option<String> {
    match kind? {
        RecordKind::Contact => {
            tandem_protocol::codec::parse_vcard(&payload.bytes)
                .ok()?
                .uid
        }
        _ => Some(
            tandem_protocol::codec::parse_icalendar(&payload.bytes)
                .ok()?
                .uid,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_row_gives_back_its_parts_and_a_cut_one_is_refused() {
        let id = RecordId::derive(RecordKind::Contact, Hlc::new(1, 0));
        let changes: Fields = [("last_name".to_string(), serde_json::json!("Ng"))].into();
        let mut merged = Merged::default();
        assert!(merged.advance(&Edit {
            event: Hlc::new(1, 0),
            side: Side::DESKTOP,
            op: Op::Create,
            changed_at_ms: None,
            base: &[],
            changes: &changes,
        }));
        let state = RecordState {
            id,
            kind: RecordKind::Contact,
            deleted: false,
            seq: 1,
            heads: merged.heads.clone(),
            fields: changes,
            conflicts: BTreeMap::new(),
            uid: None,
        };
        let row = record_row(&state, &merged).unwrap();
        assert_eq!(record_state(&row).unwrap(), state);
        assert_eq!(record_merged(&row).unwrap(), merged);
        for cut in [0, 3, 20] {
            let err = record_state(&row[..cut]).unwrap_err();
            assert!(matches!(err, StoreError::BadProjection { .. }), "{err}");
        }
    }
}
