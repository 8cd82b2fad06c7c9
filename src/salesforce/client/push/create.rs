//! Creates: by upsert on the org's external-id field when it has one (sending it twice finds the
//! first record), else through the exactly-once machine — intents first, lost answers and
//! earlier runs' intents reconciled by a query, never resent blindly.

use std::collections::BTreeMap;

use reqwest::Method;
use serde_json::{Value as Json, json};
use tandem_protocol::salesforce::push::keys::{natural_keys, reconcile_query};
use tandem_protocol::salesforce::push::{
    CallFailure, CreateBatch, CreateNext, ItemOutcome, settle,
};
use tandem_protocol::{Op, Outcome, OutcomeResult, Side};

use super::super::ClientError;
use super::super::http::{Request, Safety};
use super::{
    COLLECTION_SIZE, Create, Decided, ItemResult, Ledger, PushReport, Pusher, call_failure, results,
};

impl<L: Ledger> Pusher<L> {
    pub async fn create(&self, creates: Vec<Create>) -> PushReport {
        let mut report = PushReport::default();
        let mut groups: BTreeMap<String, Vec<Create>> = BTreeMap::new();
        for c in creates {
            groups.entry(c.object.clone()).or_default().push(c);
        }
        for (object, items) in groups {
            if report.stopped.is_some() {
                report.not_attempted(items.iter().map(|c| &c.record), Op::Create);
                continue;
            }
            let upsert_field = match self.upsert_field(&object).await {
                Ok(f) => f,
                Err(e) => {
                    let outcome = ItemOutcome::of_call(&call_failure(&e))
                        .unwrap_or(ItemOutcome::NotAttempted);
                    report.items.extend(items.iter().map(|c| ItemResult {
                        record: c.record.clone(),
                        op: Op::Create,
                        outcome: outcome.clone(),
                    }));
                    if e.stops_run() {
                        report.stopped = Some(e);
                    }
                    continue;
                }
            };
            for chunk in items.chunks(COLLECTION_SIZE) {
                if report.stopped.is_some() {
                    report.not_attempted(chunk.iter().map(|c| &c.record), Op::Create);
                    continue;
                }
                let (outcomes, stop) = match &upsert_field {
                    Some(field) => self.upsert_chunk(&object, field, chunk).await,
                    None => self.create_chunk(&object, chunk).await,
                };
                let results = results(chunk.iter().map(|c| &c.record), Op::Create, outcomes);
                let decided: Result<Vec<Decided>, ClientError> = results
                    .iter()
                    .zip(chunk)
                    .map(|(r, c)| self.decided_create(r.clone(), c))
                    .collect();
                let logged = match decided {
                    Ok(decided) => self.record(&decided).await,
                    Err(e) => Err(e),
                };
                report.items.extend(results);
                report.stopped = stop.or(logged.err());
            }
        }
        report
    }

    /// A create's result with the state it wrote. A create found by reconciliation wrote what
    /// its intent announced, which is not what the record holds now if it changed since (a
    /// desktop edit after a crash): recording the current state would make tandem believe
    /// Salesforce has that edit, and the edit would never be sent (then the next pull would
    /// take the older value for a Salesforce change and overwrite the edit on the desktop too).
    fn decided_create(&self, item: ItemResult, c: &Create) -> Result<Decided, ClientError> {
        if let ItemOutcome::Created {
            reconciled: true, ..
        } = item.outcome
            && let Some((written, fields)) = self.ledger.announced(&c.record)?
        {
            return Ok((item, written, Some(fields)));
        }
        Ok((item, c.written.clone(), c.side_fields.clone()))
    }

    /// The external-id field to upsert by, if configured and present on the object.
    async fn upsert_field(&self, object: &str) -> Result<Option<String>, ClientError> {
        let Some(field) = self.client.settings().external_id_field.clone() else {
            return Ok(None);
        };
        let d = self.client.describe(object).await?;
        Ok(d.field(&field)
            .filter(|f| f.external_id)
            .map(|f| f.name.clone()))
    }

    /// Upserts by external id: repeating one is harmless, so the HTTP layer retries it freely.
    async fn upsert_chunk(
        &self,
        object: &str,
        field: &str,
        chunk: &[Create],
    ) -> (Vec<ItemOutcome>, Option<ClientError>) {
        let what = format!("the upsert of {} {object} records", chunk.len());
        let request = |pending: &[usize]| {
            let rows = pending
                .iter()
                .map(|&i| (chunk[i].record.to_string(), &chunk[i].fields));
            upsert_call(&what, object, field, rows)
        };
        self.rounds(chunk.len(), request, |_, answer| settle::upsert(answer))
            .await
    }

    /// Drives the exactly-once machine for one chunk.
    async fn create_chunk(
        &self,
        object: &str,
        chunk: &[Create],
    ) -> (Vec<ItemOutcome>, Option<ClientError>) {
        let mut stop = None;
        let mut before = Vec::with_capacity(chunk.len());
        for c in chunk {
            match self.ledger.pending_create(&c.record) {
                Ok(pending) => before.push(pending),
                Err(e) => {
                    let outcomes = vec![ItemOutcome::NotAttempted; chunk.len()];
                    return (outcomes, Some(e.into()));
                }
            }
        }
        let mut batch = CreateBatch::new(before, self.client.settings().max_retries);
        let what = |n: usize| format!("the create of {n} {object} records");
        let failed = |e: ClientError, stop: &mut Option<ClientError>| {
            let failure = call_failure(&e);
            if failure == CallFailure::Stop {
                *stop = Some(e);
            }
            failure
        };
        loop {
            match batch.poll() {
                CreateNext::Done => break,
                CreateNext::Reconcile(i) => {
                    let found = self.reconcile(object, &chunk[i]).await;
                    batch.found(i, found.map_err(|e| failed(e, &mut stop)));
                }
                CreateNext::Announce(pending) => {
                    // What Salesforce will hold if the create lands: a create found later by
                    // reconciliation is recorded as having written this.
                    let intents = pending
                        .iter()
                        .map(|&i| Outcome {
                            record: chunk[i].record.clone(),
                            side: Side::SALESFORCE,
                            op: Op::Create,
                            written: chunk[i].written.clone(),
                            result: OutcomeResult::Intent,
                            side_fields: chunk[i].side_fields.clone(),
                            payload: None,
                        })
                        .collect();
                    let durable = match self.client.ensure_budget(1) {
                        Ok(()) => self.ledger.record(intents).await.map_err(ClientError::from),
                        Err(e) => Err(e),
                    };
                    match durable {
                        Ok(()) => batch.announced(true),
                        Err(e) => {
                            stop = Some(e);
                            batch.announced(false);
                        }
                    }
                }
                CreateNext::Pause(round) => {
                    self.pause(round).await;
                    batch.paused();
                }
                CreateNext::Send(pending) => {
                    let records: Vec<Json> = pending
                        .iter()
                        .map(|&i| {
                            let mut rec = chunk[i].fields.clone();
                            rec.insert("attributes".into(), json!({ "type": object }));
                            Json::Object(rec)
                        })
                        .collect();
                    let req = Request::new(Method::POST, "/composite/sobjects", Safety::Unsafe)
                        .named(what(pending.len()))
                        .json(json!({ "allOrNone": false, "records": records }));
                    let answer = self.collection(&req, pending.len()).await;
                    if let Err(e) = &answer
                        && e.is_ambiguous()
                    {
                        tracing::info!(call = %req.name, error = %e, "reconciling creates whose answer was lost");
                    }
                    batch.answered(answer.map_err(|e| failed(e, &mut stop)));
                }
            }
        }
        (batch.finish(), stop)
    }

    /// Creates whose intent has no outcome (the process was killed between announcing and
    /// recording them) that Salesforce turns out to have: adopted and recorded now, before a
    /// pull reads them. Those not found are left pending for the next push. The number adopted.
    pub async fn adopt_pending(&self, creates: Vec<Create>) -> Result<usize, ClientError> {
        let mut batch = CreateBatch::new(vec![true; creates.len()], 0);
        let mut adopted = Vec::new();
        while let CreateNext::Reconcile(i) = batch.poll() {
            let c = &creates[i];
            if !self.ledger.pending_create(&c.record)? {
                batch.found(i, Ok(Vec::new()));
                continue;
            }
            match self.reconcile(&c.object, c).await {
                Ok(found) => batch.found(i, Ok(found)),
                Err(e) if e.stops_run() && !matches!(e, ClientError::Setup(_)) => return Err(e),
                // The push of this record reconciles it again (and reports what stops it).
                Err(e) => {
                    tracing::warn!(record = %c.record, error = %e, "a pending create could not be checked");
                    batch.found(i, Ok(Vec::new()));
                }
            }
        }
        for (c, outcome) in creates.iter().zip(batch.finish()) {
            if matches!(outcome, ItemOutcome::Created { .. }) {
                let item = ItemResult {
                    record: c.record.clone(),
                    op: Op::Create,
                    outcome,
                };
                adopted.push(self.decided_create(item, c)?);
            }
        }
        self.record(&adopted).await?;
        Ok(adopted.len())
    }

    /// The records this user created with `item`'s natural key that tandem does not know as
    /// another record, newest first.
    async fn reconcile(&self, object: &str, item: &Create) -> Result<Vec<String>, ClientError> {
        let describe = self.client.describe(object).await?;
        let keys: Vec<String> = natural_keys(object).iter().map(|k| k.to_string()).collect();
        let token = self.client.session().token().await?;
        let soql = reconcile_query(&describe, &keys, &item.fields, token.user_id.as_deref())
            .map_err(|e| {
                ClientError::Setup(format!(
                    "cannot tell whether the create of {} reached Salesforce: {e}",
                    item.record
                ))
            })?;
        let mut found = Vec::new();
        for row in self.client.query(soql).await? {
            let Some(id) = row.get("Id").and_then(Json::as_str) else {
                continue;
            };
            match self.ledger.known_as(id)? {
                Some(other) if other != item.record => continue,
                _ => found.push(id.to_string()),
            }
        }
        Ok(found)
    }
}

/// One sObject Collections upsert of `rows` (key in `field`, body) of `object`.
pub(super) fn upsert_call<'a>(
    what: &str,
    object: &str,
    field: &str,
    rows: impl Iterator<Item = (String, &'a serde_json::Map<String, Json>)>,
) -> Request {
    let records: Vec<Json> = rows
        .map(|(key, body)| {
            let mut rec = body.clone();
            rec.insert("attributes".into(), json!({ "type": object }));
            rec.insert(field.to_string(), Json::String(key));
            Json::Object(rec)
        })
        .collect();
    Request::new(
        Method::PATCH,
        format!("/composite/sobjects/{object}/{field}"),
        Safety::Idempotent,
    )
    .named(what)
    .json(json!({ "allOrNone": false, "records": records }))
}
