//! The planner's inputs, read from the store: every record of the kinds in a run, with what each
//! side holds of it and what the user decided to leave out.

use crate::config::Settings;
use crate::store::{IgnoreState, SideState, Store, StoreError, read};
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use tandem_protocol::plan::{self, Ignore, Ignores, Plan, RecordInput, SideCopy};
use tandem_protocol::rules::Rules;
use tandem_protocol::{PerSide, RecordKind, Side};

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

/// What a plan is for: a person to review (each item says what Salesforce will not hold), or a
/// run to carry out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    Review,
    Run,
}

/// Plan the records of `kinds` for the run's `sides`, as the store holds them now. Records are
/// planned as they are read, one at a time, so a run never holds every record in memory.
pub fn plan_from_store(
    store: &Store,
    settings: &Settings,
    sides: &[Side],
    kinds: &[RecordKind],
    now: DateTime<Utc>,
    purpose: Purpose,
) -> Result<Plan, StoreError> {
    let rules: HashMap<RecordKind, Rules> = RecordKind::ALL
        .into_iter()
        .map(|k| (k, settings.rules(k)))
        .collect();
    let mut plan = Plan {
        sides: sides.to_vec(),
        ..Plan::default()
    };
    read::each_record(&store.read()?, kinds, |stored| {
        let copies: PerSide<SideCopy> = stored
            .sides
            .into_iter()
            .map(|(side, c)| (side, copy(c)))
            .collect();
        let mut ignores = Ignores::default();
        for (side, decided) in stored.ignores {
            match side {
                Some(side) => {
                    ignores.sides.insert(side, ignore(decided));
                }
                None => ignores.all = Some(ignore(decided)),
            }
        }
        let state = stored.state;
        let input = RecordInput {
            id: &state.id,
            kind: state.kind,
            deleted: state.deleted,
            heads: &state.heads,
            fields: &state.fields,
            conflicts: &state.conflicts,
            copies: &copies,
            ignores: &ignores,
        };
        if let Some(mut item) = plan::plan_record(&input, sides, &rules[&state.kind], now) {
            if purpose == Purpose::Review {
                plan::annotate(&mut item, &state.fields, &rules[&state.kind]);
            }
            plan.items.push(item);
        }
        Ok(())
    })?;
    // Oldest records first, so a summary reads in the order things happened.
    plan.items
        .sort_by(|a, b| (a.kind, &a.record).cmp(&(b.kind, &b.record)));
    Ok(plan)
}
