//! The planner's inputs, read from the store: every record of the kinds in a run, with what each
//! side holds of it and whether the user ignores it.

use crate::config::Settings;
use crate::store::{IgnoreState, RecordState, SideState, Store, StoreError, read};
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use tandem_protocol::plan::{self, Ignore, Plan, RecordInput, SideCopy};
use tandem_protocol::rules::Rules;
use tandem_protocol::{RecordKind, Side};

fn copy(side: &SideState) -> SideCopy {
    SideCopy {
        present: side.external_id.is_some() && !side.deleted,
        external_id: side.external_id.clone(),
        seen: side.seen.clone(),
        fields: side.fields.clone(),
    }
}

fn ignore(decided: &IgnoreState) -> Ignore {
    if decided.forever {
        Ignore::Forever
    } else {
        Ignore::Once {
            heads: decided.heads.clone(),
        }
    }
}

struct Loaded {
    state: RecordState,
    desktop: Option<SideCopy>,
    salesforce: Option<SideCopy>,
    ignore: Option<Ignore>,
}

/// Plan the records of `kinds` as the store holds them now.
pub fn plan_from_store(
    store: &Store,
    settings: &Settings,
    kinds: &[RecordKind],
    now: DateTime<Utc>,
) -> Result<Plan, StoreError> {
    let stored = read::stored_records(&store.read()?, kinds)?;
    let loaded: Vec<Loaded> = stored
        .into_iter()
        .map(|s| {
            let side = |want: Side| {
                s.sides
                    .iter()
                    .find(|(side, _)| *side == want)
                    .map(|(_, c)| copy(c))
            };
            Loaded {
                desktop: side(Side::Desktop),
                salesforce: side(Side::Salesforce),
                ignore: s.ignore.as_ref().map(ignore),
                state: s.state,
            }
        })
        .collect();
    let rules: HashMap<RecordKind, Rules> = RecordKind::ALL
        .into_iter()
        .map(|k| (k, settings.rules(k)))
        .collect();
    let inputs = loaded.iter().map(|l| RecordInput {
        id: &l.state.id,
        kind: l.state.kind,
        deleted: l.state.deleted,
        heads: &l.state.heads,
        fields: &l.state.fields,
        conflicts: &l.state.conflicts,
        desktop: l.desktop.as_ref(),
        salesforce: l.salesforce.as_ref(),
        ignore: l.ignore.as_ref(),
    });
    let mut plan = plan::plan(inputs, &|kind| &rules[&kind], now);
    // Oldest records first, so a summary reads in the order things happened.
    plan.items
        .sort_by(|a, b| (a.kind, &a.record).cmp(&(b.kind, &b.record)));
    Ok(plan)
}
