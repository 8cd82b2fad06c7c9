//! Rows that are no record of their own: the occurrences of an event series. A cancelled
//! occurrence's row is deleted; a detached occurrence's standalone row is upserted by its key
//! in the org's external-id field. Both are harmless to repeat, so nothing is recorded before
//! them and lost answers are simply resent.

use serde_json::{Map, Value as Json};
use tandem_protocol::salesforce::push::{ItemOutcome, settle};

use super::super::ClientError;
use super::create::upsert_call;
use super::delete::delete_call;
use super::{COLLECTION_SIZE, Ledger, Pusher};

impl<L: Ledger> Pusher<L> {
    /// Delete rows; the first one that could not be deleted is the error.
    pub async fn delete_rows(&self, ids: &[String]) -> Result<(), RowsNotWritten> {
        for chunk in ids.chunks(COLLECTION_SIZE) {
            let what = format!("the delete of {} occurrences", chunk.len());
            let ids: Vec<&str> = chunk.iter().map(String::as_str).collect();
            let request = |pending: &[usize]| delete_call(&what, &ids, pending);
            let (outcomes, stop) = self
                .rounds(chunk.len(), request, |i, answer| {
                    settle::delete(&chunk[i], answer)
                })
                .await;
            written(chunk, outcomes, stop)?;
        }
        Ok(())
    }

    /// Upsert rows of `object` by their key in `field`: each `(key, body)` makes the row with
    /// that key, or writes the one there is. The first one not written is the error.
    pub async fn upsert_rows(
        &self,
        object: &str,
        field: &str,
        rows: &[(String, Map<String, Json>)],
    ) -> Result<(), RowsNotWritten> {
        for chunk in rows.chunks(COLLECTION_SIZE) {
            let what = format!("the upsert of {} detached occurrences", chunk.len());
            let request = |pending: &[usize]| {
                let rows = pending.iter().map(|&i| (chunk[i].0.clone(), &chunk[i].1));
                upsert_call(&what, object, field, rows)
            };
            let (outcomes, stop) = self
                .rounds(chunk.len(), request, |_, answer| settle::upsert(answer))
                .await;
            let keys: Vec<String> = chunk.iter().map(|(key, _)| key.clone()).collect();
            written(&keys, outcomes, stop)?;
        }
        Ok(())
    }
}

/// Whether every row of `names` was written, by the outcomes of its calls.
fn written(
    names: &[String],
    outcomes: Vec<ItemOutcome>,
    stop: Option<ClientError>,
) -> Result<(), RowsNotWritten> {
    if let Some(stop) = stop {
        return Err(RowsNotWritten::Stopped(stop));
    }
    for (name, outcome) in names.iter().zip(outcomes) {
        let reason = match outcome {
            ItemOutcome::Created { .. }
            | ItemOutcome::Updated { .. }
            | ItemOutcome::Deleted { .. } => {
                continue;
            }
            ItemOutcome::Failed { code, message, .. } => format!("{code}: {message}"),
            _ => "Salesforce gave no clear answer; the next run sends it again".into(),
        };
        return Err(RowsNotWritten::Refused {
            row: name.clone(),
            reason,
        });
    }
    Ok(())
}

/// Rows of an event series that could not be written; the next run tries again.
#[derive(Debug, thiserror::Error)]
pub enum RowsNotWritten {
    #[error("Salesforce did not take the occurrence row {row}: {reason}")]
    Refused { row: String, reason: String },
    #[error(transparent)]
    Stopped(ClientError),
}
