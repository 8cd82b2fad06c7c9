//! The log as the Salesforce pusher's ledger: intents and outcomes go to the writer, and what
//! earlier runs left (pending creates, what their intents announced, known ids) is read from
//! the store.

use crate::salesforce::client::{Ledger, LedgerError};
use crate::store::{Draft, DraftBody, Store, Writer, read};
use std::sync::Arc;
use tandem_protocol::{EventBody, Fields, Hlc, Op, Origin, Outcome, OutcomeResult, RecordId, Side};

pub struct LogLedger {
    store: Arc<Store>,
    writer: Writer,
}

impl LogLedger {
    pub fn new(store: Arc<Store>, writer: Writer) -> LogLedger {
        LogLedger { store, writer }
    }
}

fn lost(e: impl std::error::Error + Send + Sync + 'static) -> LedgerError {
    LedgerError(Box::new(e))
}

impl Ledger for LogLedger {
    async fn record(&self, outcomes: Vec<Outcome>) -> Result<(), LedgerError> {
        // Submitted together, awaited together: one commit for the whole batch.
        let mut pending = Vec::with_capacity(outcomes.len());
        for outcome in outcomes {
            let draft = Draft {
                origin: Origin::new(Side::TANDEM, "salesforce:push"),
                body: DraftBody::Outcome(outcome),
            };
            pending.push(self.writer.submit(draft).await.map_err(lost)?);
        }
        for p in pending {
            p.await.map_err(lost)?;
        }
        Ok(())
    }

    fn pending_create(&self, record: &RecordId) -> Result<bool, LedgerError> {
        let txn = self.store.read().map_err(lost)?;
        Ok(read::side_state(&txn, record, Side::SALESFORCE)
            .map_err(lost)?
            .is_some_and(|s| s.pending))
    }

    fn announced(&self, record: &RecordId) -> Result<Option<(Vec<Hlc>, Fields)>, LedgerError> {
        let txn = self.store.read().map_err(lost)?;
        Ok(read::record_events(&txn, record)
            .map_err(lost)?
            .into_iter()
            .rev()
            .find_map(|(_, event)| match event.body {
                EventBody::Outcome(Outcome {
                    side: Side::SALESFORCE,
                    op: Op::Create,
                    result: OutcomeResult::Intent,
                    written,
                    side_fields,
                    ..
                }) => Some(side_fields.map(|fields| (written, fields))),
                _ => None,
            })
            .flatten())
    }

    fn known_as(&self, salesforce_id: &str) -> Result<Option<RecordId>, LedgerError> {
        let txn = self.store.read().map_err(lost)?;
        read::record_on(&txn, Side::SALESFORCE, salesforce_id).map_err(lost)
    }
}
