//! Deletes in collections of 200. Deleting twice is harmless (the second answer is
//! ENTITY_IS_DELETED, taken as done), so lost answers are simply resent. Besides records, the
//! rows of single occurrences of an event series: a cancelled occurrence is deleted there.

use reqwest::Method;
use tandem_protocol::Op;
use tandem_protocol::salesforce::push::{ItemOutcome, settle};

use super::super::ClientError;

use super::super::http::{Request, Safety};
use super::{COLLECTION_SIZE, Decided, Delete, Ledger, PushReport, Pusher, results};

impl<L: Ledger> Pusher<L> {
    /// Delete rows that are no record of their own (occurrences of an event series); nothing is
    /// recorded, because a delete sent twice is harmless. The first row that could not be
    /// deleted is the error.
    pub async fn delete_rows(&self, ids: &[String]) -> Result<(), RowsNotDeleted> {
        for chunk in ids.chunks(COLLECTION_SIZE) {
            let what = format!("the delete of {} occurrences", chunk.len());
            let ids: Vec<&str> = chunk.iter().map(String::as_str).collect();
            let request = |pending: &[usize]| delete_call(&what, &ids, pending);
            let (outcomes, stop) = self
                .rounds(chunk.len(), request, |i, answer| {
                    settle::delete(&chunk[i], answer)
                })
                .await;
            if let Some(stop) = stop {
                return Err(RowsNotDeleted::Stopped(stop));
            }
            for (id, outcome) in chunk.iter().zip(outcomes) {
                match outcome {
                    ItemOutcome::Deleted { .. } => {}
                    ItemOutcome::Failed { code, message, .. } => {
                        return Err(RowsNotDeleted::Refused {
                            id: id.clone(),
                            reason: format!("{code}: {message}"),
                        });
                    }
                    _ => {
                        return Err(RowsNotDeleted::Refused {
                            id: id.clone(),
                            reason: "Salesforce gave no clear answer; the next run sends it again"
                                .into(),
                        });
                    }
                }
            }
        }
        Ok(())
    }

    pub async fn delete(&self, deletes: Vec<Delete>) -> PushReport {
        let mut report = PushReport::default();
        for chunk in deletes.chunks(COLLECTION_SIZE) {
            if report.stopped.is_some() {
                report.not_attempted(chunk.iter().map(|d| &d.record), Op::Delete);
                continue;
            }
            let what = format!("the delete of {} records", chunk.len());
            let ids: Vec<&str> = chunk.iter().map(|d| d.id.as_str()).collect();
            let request = |pending: &[usize]| delete_call(&what, &ids, pending);
            let (outcomes, stop) = self
                .rounds(chunk.len(), request, |i, answer| {
                    settle::delete(&chunk[i].id, answer)
                })
                .await;
            let decided: Vec<Decided> =
                results(chunk.iter().map(|d| &d.record), Op::Delete, outcomes)
                    .into_iter()
                    .zip(chunk)
                    .map(|(r, d)| (r, d.written.clone(), None))
                    .collect();
            let logged = self.record(&decided).await;
            report.items.extend(decided.into_iter().map(|(r, _, _)| r));
            report.stopped = stop.or(logged.err());
        }
        report
    }
}

/// One collection call deleting the `pending` ones of `ids`.
fn delete_call(what: &str, ids: &[&str], pending: &[usize]) -> Request {
    let ids: Vec<&str> = pending.iter().map(|&i| ids[i]).collect();
    Request::new(Method::DELETE, "/composite/sobjects", Safety::Idempotent)
        .named(what)
        .param("ids", ids.join(","))
        .param("allOrNone", "false")
}

/// Rows of an event series that could not be deleted; the next run tries again.
#[derive(Debug, thiserror::Error)]
pub enum RowsNotDeleted {
    #[error("Salesforce did not delete occurrence {id}: {reason}")]
    Refused { id: String, reason: String },
    #[error(transparent)]
    Stopped(ClientError),
}
