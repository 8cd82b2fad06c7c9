//! The planner's inputs, read from the store: every record of the kinds in a run, with what each
//! side holds of it and what the user decided to leave out.

use crate::config::Settings;
use crate::store::{IgnoreState, SideState, Store, StoreError, read};
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, HashMap};
use tandem_protocol::plan::{self, Ignore, Ignores, Plan, RecordInput, SideCopy};
use tandem_protocol::rules::Rules;
use tandem_protocol::{RecordKind, Side};

fn copy(side: SideState) -> SideCopy {
    SideCopy {
        present: side.external_id.is_some() && !side.deleted,
        external_id: side.external_id,
        seen: side.seen,
        fields: side.fields,
    }
}

fn ignore(decided: IgnoreState) -> Ignore {
    if decided.forever {
        Ignore::Forever
    } else {
        Ignore::Once {
            heads: decided.heads,
        }
    }
}

/// Plan the records of `kinds` for the run's `sides`, as the store holds them now.
pub fn plan_from_store(
    store: &Store,
    settings: &Settings,
    sides: &[Side],
    kinds: &[RecordKind],
    now: DateTime<Utc>,
) -> Result<Plan, StoreError> {
    let stored = read::stored_records(&store.read()?, kinds)?;
    let loaded: Vec<_> = stored
        .into_iter()
        .map(|s| {
            let copies: BTreeMap<Side, SideCopy> = s
                .sides
                .into_iter()
                .map(|(side, c)| (side, copy(c)))
                .collect();
            let mut ignores = Ignores::default();
            for (side, decided) in s.ignores {
                match side {
                    Some(side) => {
                        ignores.sides.insert(side, ignore(decided));
                    }
                    None => ignores.all = Some(ignore(decided)),
                }
            }
            (s.state, copies, ignores)
        })
        .collect();
    let rules: HashMap<RecordKind, Rules> = RecordKind::ALL
        .into_iter()
        .map(|k| (k, settings.rules(k)))
        .collect();
    let inputs = loaded.iter().map(|(state, copies, ignores)| RecordInput {
        id: &state.id,
        kind: state.kind,
        deleted: state.deleted,
        heads: &state.heads,
        fields: &state.fields,
        conflicts: &state.conflicts,
        copies,
        ignores,
    });
    let mut plan = plan::plan(inputs, sides, &|kind| &rules[&kind], now);
    // Oldest records first, so a summary reads in the order things happened.
    plan.items
        .sort_by(|a, b| (a.kind, &a.record).cmp(&(b.kind, &b.record)));
    Ok(plan)
}
