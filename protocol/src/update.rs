//! An update of an item a connector's PIM holds (an Outlook item, a Notes document or entry):
//! the step's changes laid over the item as it is now, so what the user changed in other fields
//! meanwhile stays — unless they changed one of the very fields the step writes.

use crate::record::{Fields, overlay};
use serde_json::{Map, Value};

/// What an update of a connector's item does.
#[derive(Clone, Debug, PartialEq)]
pub enum Update {
    /// Send this body (empty: nothing to send).
    Send(Map<String, Value>),
    /// The user changed, since tandem last knew the item (`had`), one of the very fields the
    /// step writes: the step waits, the next read takes the change in and the merge decides,
    /// instead of tandem overwriting an edit the log never saw.
    ChangedMeanwhile,
}

/// The fields to write for a step's `changes` over the item as it is `now`: those changes laid
/// over it; `None` when the user changed a field the step writes since tandem knew it as `had`.
pub fn laid_over(had: &Fields, changes: &Fields, now: &Fields) -> Option<Fields> {
    if changes.keys().any(|field| now.get(field) != had.get(field)) {
        return None;
    }
    Some(overlay(now, changes))
}
