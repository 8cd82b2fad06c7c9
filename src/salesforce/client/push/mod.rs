//! Writing to Salesforce: creates, updates and deletes in sObject Collections of up to 200
//! records (one API call each), every intent and result recorded in the log through a
//! [`Ledger`] the engine provides.
//!
//! What to send, what an answer means and when to send again is decided by the state machines
//! of `tandem_protocol::salesforce::push` (exactly-once creates, conditional updates, rounds of
//! locked rows); this module carries their decisions out over HTTP.
//!
//! Concurrent Salesforce edits. Collections take no conditional headers, so updates either go
//! as PATCHes with `If-Unmodified-Since` = the SystemModstamp tandem last saw, 25 to a
//! Composite call, each subrequest with its own header (the default: the server checks and
//! writes each atomically; 412 = conflict), or, with `update_check = "modstamp"`, as a
//! SystemModstamp query per 200 records followed by one collection update (two calls per 200
//! instead of eight, but an edit in the instant between the check and the write is not seen).

mod create;
mod delete;
mod describe;
mod rows;
mod update;

use std::future::Future;

use tandem_protocol::salesforce::push::{CallFailure, ItemAnswer, ItemOutcome, save_results};
use tandem_protocol::{Fields, Hlc, Op, Outcome, OutcomeResult, RecordId, Side};

use super::http::{Request, SalesforceClient};
use super::{ClientError, Row};

pub use rows::RowsNotWritten;
pub use tandem_protocol::salesforce::push::{Describe, FieldInfo};

/// Records per sObject Collections call.
pub const COLLECTION_SIZE: usize = 200;

/// Where the pusher records what it does, before and after each call: the log, which the engine
/// owns. The pusher reports intents and outcomes and asks what earlier runs left; it never
/// writes the log itself.
pub trait Ledger: Send + Sync {
    /// Make these outcomes (intents before a create, results after a call) durable, in order.
    fn record(
        &self,
        outcomes: Vec<Outcome>,
    ) -> impl Future<Output = Result<(), LedgerError>> + Send;
    /// A create of `record` was announced and its outcome never recorded.
    fn pending_create(&self, record: &RecordId) -> Result<bool, LedgerError>;
    /// What the latest create intent of `record` announced: the heads it wrote and the fields
    /// Salesforce would hold (`None` also for an intent from before intents carried them).
    fn announced(&self, record: &RecordId) -> Result<Option<(Vec<Hlc>, Fields)>, LedgerError>;
    /// The record tandem knows by a Salesforce id.
    fn known_as(&self, salesforce_id: &str) -> Result<Option<RecordId>, LedgerError>;
}

/// The ledger could not read or record: the log refused or is unreachable.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct LedgerError(pub Box<dyn std::error::Error + Send + Sync>);

/// Create a record for a tandem record that Salesforce does not have yet.
#[derive(Clone, Debug)]
pub struct Create {
    pub record: RecordId,
    pub object: String,
    pub fields: Row,
    /// The record heads whose state this writes.
    pub written: Vec<Hlc>,
    /// The record as Salesforce will hold it, in canonical fields (the mapping of `fields` back):
    /// recorded with the outcome, so reading the record back is no change (no echo).
    pub side_fields: Option<Fields>,
}

#[derive(Clone, Debug)]
pub struct Update {
    pub record: RecordId,
    pub object: String,
    /// The Salesforce id.
    pub id: String,
    pub fields: Row,
    /// The SystemModstamp tandem last saw; `None` writes without a check.
    pub version: Option<String>,
    pub written: Vec<Hlc>,
    /// As for `Create`: the whole record as Salesforce holds it after this update.
    pub side_fields: Option<Fields>,
}

#[derive(Clone, Debug)]
pub struct Delete {
    pub record: RecordId,
    pub object: String,
    pub id: String,
    pub written: Vec<Hlc>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ItemResult {
    pub record: RecordId,
    pub op: Op,
    pub outcome: ItemOutcome,
}

#[derive(Debug, Default)]
pub struct PushReport {
    pub items: Vec<ItemResult>,
    /// Set when the run had to stop (login, limit, budget, log); the remaining items are
    /// `NotAttempted` or `Unknown`.
    pub stopped: Option<ClientError>,
}

impl PushReport {
    pub fn outcome(&self, record: &RecordId) -> Option<&ItemOutcome> {
        self.items
            .iter()
            .find(|i| &i.record == record)
            .map(|i| &i.outcome)
    }

    fn extend(&mut self, other: PushReport) {
        self.items.extend(other.items);
        self.stopped = self.stopped.take().or(other.stopped);
    }

    fn not_attempted<'a>(&mut self, records: impl IntoIterator<Item = &'a RecordId>, op: Op) {
        self.items
            .extend(records.into_iter().map(|record| ItemResult {
                record: record.clone(),
                op,
                outcome: ItemOutcome::NotAttempted,
            }));
    }
}

/// A decided result, the heads it wrote, and what Salesforce holds afterwards.
type Decided = (ItemResult, Vec<Hlc>, Option<Fields>);

/// How a failed call counts for the records in it.
fn call_failure(e: &ClientError) -> CallFailure {
    if e.stops_run() {
        return CallFailure::Stop;
    }
    let ambiguous = e.is_ambiguous();
    match e {
        ClientError::Api { error, .. } => CallFailure::Failed {
            code: error.code.clone(),
            message: error.message.clone(),
            retryable: error.retryable(),
            ambiguous,
        },
        other => CallFailure::Failed {
            code: "CALL_FAILED".into(),
            message: other.to_string(),
            retryable: true,
            ambiguous,
        },
    }
}

/// Pushes changes to Salesforce and records each result through the ledger.
pub struct Pusher<L> {
    client: SalesforceClient,
    ledger: L,
}

impl<L: Ledger> Pusher<L> {
    pub fn new(client: SalesforceClient, ledger: L) -> Pusher<L> {
        Pusher { client, ledger }
    }

    /// Creates, then updates, then deletes. Stops at the first error that ends the run.
    pub async fn push(
        &self,
        creates: Vec<Create>,
        updates: Vec<Update>,
        deletes: Vec<Delete>,
    ) -> PushReport {
        let mut report = self.create(creates).await;
        if report.stopped.is_none() {
            let r = self.update(updates).await;
            report.extend(r);
        } else {
            report.not_attempted(updates.iter().map(|u| &u.record), Op::Update);
        }
        if report.stopped.is_none() {
            let r = self.delete(deletes).await;
            report.extend(r);
        } else {
            report.not_attempted(deletes.iter().map(|d| &d.record), Op::Delete);
        }
        report
    }

    /// Records the decided results (everything but `Unknown` and `NotAttempted`).
    async fn record(&self, results: &[Decided]) -> Result<(), ClientError> {
        let outcomes = results
            .iter()
            .filter_map(|(item, written, side_fields)| {
                let result = match &item.outcome {
                    ItemOutcome::Created { id, .. }
                    | ItemOutcome::Updated { id }
                    | ItemOutcome::Deleted { id } => OutcomeResult::Succeeded {
                        external_id: Some(id.clone()),
                        version: None,
                    },
                    ItemOutcome::Conflict { message, .. } => OutcomeResult::Failed {
                        code: "CONFLICT".into(),
                        message: message.clone(),
                        retryable: false,
                    },
                    ItemOutcome::Failed {
                        code,
                        message,
                        retryable,
                    } => OutcomeResult::Failed {
                        code: code.clone(),
                        message: message.clone(),
                        retryable: *retryable,
                    },
                    ItemOutcome::Unknown { .. } | ItemOutcome::NotAttempted => return None,
                };
                let succeeded = matches!(result, OutcomeResult::Succeeded { .. });
                Some(Outcome {
                    record: item.record.clone(),
                    side: Side::SALESFORCE,
                    op: item.op,
                    written: written.clone(),
                    result,
                    side_fields: side_fields.clone().filter(|_| succeeded),
                    payload: None,
                })
            })
            .collect();
        Ok(self.ledger.record(outcomes).await?)
    }

    /// The pause before round `round` of a call: counted as a retry. A halt ends it early (the
    /// next call then fails with `ClientError::Halted`).
    async fn pause(&self, round: u32) {
        self.client.note_retry();
        let delay = self.client.backoff(round.saturating_sub(1));
        self.client.halt().sleep(delay).await;
    }

    /// One sObject Collections call, read as per-record answers.
    async fn collection(
        &self,
        request: &Request,
        records: usize,
    ) -> Result<Vec<ItemAnswer>, ClientError> {
        let response = self.client.send(request).await?;
        save_results(&response.body, records)
            .map_err(|e| ClientError::malformed(&request.name, e.to_string()))
    }

    /// Rounds of one collection call for `records` records, resending only rows Salesforce
    /// could not lock; `settle` says what a record's answer means.
    async fn rounds(
        &self,
        records: usize,
        request: impl Fn(&[usize]) -> Request,
        settle: impl Fn(usize, ItemAnswer) -> ItemOutcome,
    ) -> (Vec<ItemOutcome>, Option<ClientError>) {
        use tandem_protocol::salesforce::push::{RoundNext, Rounds};
        let mut rounds = Rounds::new(records, self.client.settings().max_retries);
        let mut stop = None;
        loop {
            match rounds.poll() {
                RoundNext::Done => break,
                RoundNext::Pause(round) => {
                    self.pause(round).await;
                    rounds.paused();
                }
                RoundNext::Send(pending) => {
                    let answer = self.collection(&request(&pending), pending.len()).await;
                    let answer = answer.map_err(|e| {
                        let failure = call_failure(&e);
                        if failure == CallFailure::Stop {
                            stop = Some(e);
                        }
                        failure
                    });
                    rounds.answered(answer, &settle);
                }
            }
        }
        (rounds.finish(), stop)
    }
}

/// Item results in input order.
fn results<'a>(
    records: impl Iterator<Item = &'a RecordId>,
    op: Op,
    outcomes: Vec<ItemOutcome>,
) -> Vec<ItemResult> {
    records
        .zip(outcomes)
        .map(|(record, outcome)| ItemResult {
            record: record.clone(),
            op,
            outcome,
        })
        .collect()
}
