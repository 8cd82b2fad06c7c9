//! The planner's inputs, read from the store: every record of the kinds in a run, with what each
//! side holds of it and what the user decided to leave out.

use crate::config::Settings;
use crate::store::read::{self, Stored};
use crate::store::{IgnoreState, SideState, Store, StoreError};
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::ops::ControlFlow;
use tandem_protocol::plan::{self, Ignore, Ignores, Item, Plan, RecordInput, SideCopy};
use tandem_protocol::rules::Rules;
use tandem_protocol::{PerSide, RecordId, RecordKind, Side};

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
    Planner::new(settings, sides.to_vec(), kinds.to_vec(), now, purpose).all(store)
}

/// What a plan is made of, for planning a window at a time or a few records.
pub struct Planner {
    rules: HashMap<RecordKind, Rules>,
    sides: Vec<Side>,
    kinds: Vec<RecordKind>,
    now: DateTime<Utc>,
    purpose: Purpose,
}

impl Planner {
    pub fn new(
        settings: &Settings,
        sides: Vec<Side>,
        kinds: Vec<RecordKind>,
        now: DateTime<Utc>,
        purpose: Purpose,
    ) -> Planner {
        let rules = RecordKind::ALL
            .into_iter()
            .map(|k| (k, settings.rules(k)))
            .collect();
        Planner {
            rules,
            sides,
            kinds,
            now,
            purpose,
        }
    }

    /// The plan of every record.
    pub fn all(&self, store: &Store) -> Result<Plan, StoreError> {
        Ok(self.window(store, None, usize::MAX)?.0)
    }

    /// The plan of the records after `after` (from the first: `None`) up to `items` items, and
    /// the last record read when there are more to plan. Records are read in id order, which is
    /// by kind, then oldest first: a summary reads in the order things happened, and windows
    /// one after the other make the whole plan.
    pub fn window(
        &self,
        store: &Store,
        after: Option<&RecordId>,
        items: usize,
    ) -> Result<(Plan, Option<RecordId>), StoreError> {
        let mut plan = self.empty();
        let mut last = None;
        read::each_record(&store.read()?, &self.kinds, after, |stored| {
            last = Some(stored.state.id.clone());
            plan.items.extend(self.item(stored));
            Ok(match plan.items.len() < items {
                true => ControlFlow::Continue(()),
                false => ControlFlow::Break(()),
            })
        })?;
        let more = plan.items.len() >= items;
        Ok((plan, last.filter(|_| more)))
    }

    /// The plan of the records `ids` (in id order), as the store holds them now.
    pub fn records(&self, store: &Store, ids: &[RecordId]) -> Result<Plan, StoreError> {
        let mut plan = self.empty();
        read::each_of(&store.read()?, ids, |stored| {
            plan.items.extend(self.item(stored));
            Ok(())
        })?;
        Ok(plan)
    }

    fn empty(&self) -> Plan {
        Plan {
            sides: self.sides.clone(),
            ..Plan::default()
        }
    }

    /// The item of one record, when a side is not in step with it.
    fn item(&self, stored: Stored) -> Option<Item> {
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
        let rules = &self.rules[&state.kind];
        let mut item = plan::plan_record(&input, &self.sides, rules, self.now)?;
        if self.purpose == Purpose::Review {
            plan::annotate(&mut item, &state.fields, rules);
        }
        Some(item)
    }
}
