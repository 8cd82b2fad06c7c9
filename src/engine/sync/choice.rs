//! Which planned items a run carries out, chosen in one pass over the plan: an automatic run
//! every item, a manual one what the last preview showed and the user picked.

use super::inputs::Planner;
use crate::store::{Store, StoreError};
use std::collections::HashSet;
use tandem_protocol::RecordId;
use tandem_protocol::plan::Item;
use tandem_protocol::run::Tally;

/// Which planned items a run carries out.
pub(super) enum Choice<'a> {
    /// An automatic run: every item.
    Everything,
    /// A manual run: the items the last preview showed, in the state it showed them, narrowed
    /// to the records (none: all) and the items a front showed (none: all) the user picked.
    Reviewed {
        reviewed: HashSet<&'a str>,
        records: HashSet<RecordId>,
        shown: HashSet<&'a str>,
    },
}

/// How a choice takes an item.
#[derive(PartialEq)]
pub(super) enum Taken {
    Kept,
    /// The last preview did not show it in its state now.
    Unreviewed,
    /// Shown, but not among what the user picked.
    Left,
}

impl Choice<'_> {
    pub fn take(&self, item: &Item) -> Taken {
        let Choice::Reviewed {
            reviewed,
            records,
            shown,
        } = self
        else {
            return Taken::Kept;
        };
        let fingerprint = item.fingerprint();
        if !reviewed.contains(fingerprint.as_str()) {
            Taken::Unreviewed
        } else if (records.is_empty() || records.contains(&item.record))
            && (shown.is_empty() || shown.contains(fingerprint.as_str()))
        {
            Taken::Kept
        } else {
            Taken::Left
        }
    }
}

/// What a run carries out: see `choose`.
#[derive(Default)]
pub(super) struct Chosen {
    pub records: Vec<RecordId>,
    pub steps: u64,
    pub tally: Tally,
    pub held_back: usize,
}

/// What a run carries out, from one pass over the plan made `size` items at a time: the records
/// of the chosen items that run (all a run keeps of the plan until it plans them again), their
/// steps and tally, and the items held back (changed since the preview, or not among the items
/// a front showed).
pub(super) fn choose(
    store: &Store,
    planner: &Planner,
    choice: &Choice,
    size: usize,
) -> Result<Chosen, StoreError> {
    let mut chosen = Chosen::default();
    let (mut kept, mut unreviewed) = (0, 0);
    let mut after = None;
    loop {
        let (window, next) = planner.window(store, after.as_ref(), size)?;
        for item in window.items {
            match choice.take(&item) {
                Taken::Kept => {
                    kept += 1;
                    chosen.tally.count(&item);
                    chosen.steps += item.steps().filter(|(_, s)| s.runs()).count() as u64;
                    if item.runs() {
                        chosen.records.push(item.record);
                    }
                }
                Taken::Unreviewed if item.runs() => unreviewed += 1,
                _ => {}
            }
        }
        match next {
            Some(last) => after = Some(last),
            None => break,
        }
    }
    chosen.held_back = match choice {
        // What was shown and is no longer the plan (changed since, or not reviewed) waits.
        Choice::Reviewed { shown, .. } if !shown.is_empty() => shown.len().saturating_sub(kept),
        _ => unreviewed,
    };
    Ok(chosen)
}
