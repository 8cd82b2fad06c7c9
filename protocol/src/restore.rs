//! What brings a record back to an earlier state. History is never rewritten: a restore is one
//! new change, made by tandem on top of the record's current heads, that sets every field to
//! what it was then — and settles any conflict on the way, since the restored value is chosen.

use crate::error::Error;
use crate::event::Op;
use crate::hlc::Hlc;
use crate::merge::RecordDoc;
use crate::policy::ConflictPolicy;
use crate::record::Fields;
use serde_json::Value;
use std::collections::BTreeSet;

/// The change that restores a record.
#[derive(Clone, Debug, PartialEq)]
pub struct Restoring {
    /// Create brings a deleted record back, delete removes one that did not exist then.
    pub op: Op,
    /// The fields that differ from then (`null` clears one), and those in conflict now.
    pub changes: Fields,
    /// The record's current heads: the change is made on top of them.
    pub base: Vec<Hlc>,
}

impl Restoring {
    /// Nothing to change: the record is as it was.
    pub fn is_noop(&self) -> bool {
        self.op == Op::Update && self.changes.is_empty()
    }
}

/// The change that brings `doc`'s record back to its state just after `at`; `None` when the
/// record did not exist yet then.
pub fn restoring(
    doc: &mut RecordDoc,
    at: Hlc,
    policy: ConflictPolicy,
) -> Result<Option<Restoring>, Error> {
    let current = doc.resolve(policy)?;
    let Some(mut past) = doc.as_of(at)? else {
        return Ok(None);
    };
    let target = past.resolve(policy)?;
    let (now, then) = (current.values(), target.values());
    let mut changes = Fields::new();
    for field in now.keys().chain(then.keys()).collect::<BTreeSet<_>>() {
        let in_conflict = current
            .fields
            .get(field)
            .is_some_and(|s| !s.losers.is_empty());
        if now.get(field) != then.get(field) || in_conflict {
            changes.insert(
                field.clone(),
                then.get(field).cloned().unwrap_or(Value::Null),
            );
        }
    }
    let op = match (current.deleted, target.deleted) {
        (true, false) => Op::Create,
        (false, true) => Op::Delete,
        _ => Op::Update,
    };
    Ok(Some(Restoring {
        op,
        changes,
        base: current.heads,
    }))
}
