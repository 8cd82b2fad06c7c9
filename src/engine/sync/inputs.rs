//! The planner's inputs, read from the store: every record of the kinds in a run, with what each
//! side holds of it and whether the user ignores it.

use crate::config::Settings;
use crate::store::project::{IgnoreState, decode};
use crate::store::tables::{IGNORES, RECORDS, SIDES};
use crate::store::{RecordState, SideState, Store, StoreError};
use chrono::{DateTime, Utc};
use redb::ReadableTable;
use std::collections::HashMap;
use tandem_protocol::plan::{self, Ignore, Plan, RecordInput, SideCopy};
use tandem_protocol::rules::Rules;
use tandem_protocol::{RecordKind, Side};

struct Loaded {
    state: RecordState,
    desktop: Option<SideCopy>,
    salesforce: Option<SideCopy>,
    ignore: Option<Ignore>,
}

fn copy(side: SideState) -> SideCopy {
    SideCopy {
        present: side.external_id.is_some() && !side.deleted,
        external_id: side.external_id,
        seen: side.seen,
        fields: side.fields,
    }
}

/// Plan the records of `kinds` as the store holds them now.
pub fn plan_from_store(
    store: &Store,
    settings: &Settings,
    kinds: &[RecordKind],
    now: DateTime<Utc>,
) -> Result<Plan, StoreError> {
    let txn = store.read()?;
    let records = txn.open_table(RECORDS)?;
    let sides = txn.open_table(SIDES)?;
    let ignores = txn.open_table(IGNORES)?;
    let mut loaded = Vec::new();
    for row in records.iter()? {
        let (_, bytes) = row?;
        let state: RecordState = decode("records", bytes.value())?;
        if !kinds.contains(&state.kind) {
            continue;
        }
        let side = |s: Side| -> Result<Option<SideCopy>, StoreError> {
            match sides.get((state.id.as_str(), s.as_str()))? {
                Some(bytes) => Ok(Some(copy(decode("sides", bytes.value())?))),
                None => Ok(None),
            }
        };
        let desktop = side(Side::Desktop)?;
        let salesforce = side(Side::Salesforce)?;
        let ignore = match ignores.get(state.id.as_str())? {
            Some(bytes) => {
                let decided: IgnoreState = decode("ignores", bytes.value())?;
                Some(if decided.forever {
                    Ignore::Forever
                } else {
                    Ignore::Once {
                        heads: decided.heads,
                    }
                })
            }
            None => None,
        };
        loaded.push(Loaded {
            state,
            desktop,
            salesforce,
            ignore,
        });
    }
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
