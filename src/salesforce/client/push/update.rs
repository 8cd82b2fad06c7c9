//! Updates: one conditional PATCH per record (the default), or with `update_check = "modstamp"`
//! a SystemModstamp query per 200 records and one collection update.

use std::collections::{BTreeMap, HashMap};

use reqwest::Method;
use serde_json::{Value as Json, json};
use tandem_protocol::Op;
use tandem_protocol::mapping::{parse_salesforce_datetime, soql_quote};
use tandem_protocol::salesforce::push::{
    CallFailure, ConditionalUpdate, ItemOutcome, UpdateFailure, UpdateNext, holds, modstamp_check,
    settle,
};

use super::super::ClientError;
use super::super::http::{Request, Safety};
use super::{
    COLLECTION_SIZE, Decided, ItemResult, Ledger, PushReport, Pusher, Update, call_failure, results,
};
use crate::config::UpdateCheck;

impl<L: Ledger> Pusher<L> {
    pub async fn update(&self, updates: Vec<Update>) -> PushReport {
        let mut report = PushReport::default();
        match self.client.settings().update_check {
            UpdateCheck::IfUnmodifiedSince => {
                for u in &updates {
                    if report.stopped.is_some() {
                        report.not_attempted([&u.record], Op::Update);
                        continue;
                    }
                    let (outcome, stop) = self.update_one(u).await;
                    let item = ItemResult {
                        record: u.record.clone(),
                        op: Op::Update,
                        outcome,
                    };
                    let logged = self
                        .record(&[(item.clone(), u.written.clone(), u.side_fields.clone())])
                        .await;
                    report.items.push(item);
                    report.stopped = stop.or(logged.err());
                }
            }
            UpdateCheck::Modstamp => {
                let mut groups: BTreeMap<String, Vec<Update>> = BTreeMap::new();
                for u in updates {
                    groups.entry(u.object.clone()).or_default().push(u);
                }
                for (object, items) in groups {
                    for chunk in items.chunks(COLLECTION_SIZE) {
                        if report.stopped.is_some() {
                            report.not_attempted(chunk.iter().map(|u| &u.record), Op::Update);
                            continue;
                        }
                        let (outcomes, stop) = self.update_chunk(&object, chunk).await;
                        let decided: Vec<Decided> =
                            results(chunk.iter().map(|u| &u.record), Op::Update, outcomes)
                                .into_iter()
                                .zip(chunk)
                                .map(|(r, u)| (r, u.written.clone(), u.side_fields.clone()))
                                .collect();
                        let logged = self.record(&decided).await;
                        report.items.extend(decided.into_iter().map(|(r, _, _)| r));
                        report.stopped = stop.or(logged.err());
                    }
                }
            }
        }
        report
    }

    /// One conditional PATCH, driven by the protocol's machine. Sent as `Unsafe` so the HTTP
    /// layer does not resend it after a lost answer: a resend would fail its own
    /// If-Unmodified-Since. The machine reads the record back instead.
    async fn update_one(&self, u: &Update) -> (ItemOutcome, Option<ClientError>) {
        let what = format!("the update of {} {}", u.object, u.id);
        let since = u
            .version
            .as_deref()
            .and_then(|v| parse_salesforce_datetime(v).ok())
            .map(|t| httpdate::fmt_http_date(t.into()));
        let mut update = ConditionalUpdate::new(&u.id, self.client.settings().max_retries);
        let mut stop = None;
        let mut failed = |e: ClientError| {
            let failure = call_failure(&e);
            if failure == CallFailure::Stop {
                stop = Some(e);
            }
            failure
        };
        loop {
            match update.poll() {
                UpdateNext::Done => break,
                UpdateNext::Pause(round) => {
                    self.pause(round).await;
                    update.paused();
                }
                UpdateNext::Send => {
                    let mut req = Request::new(
                        Method::PATCH,
                        format!("/sobjects/{}/{}", u.object, u.id),
                        Safety::Unsafe,
                    )
                    .named(what.clone())
                    .json(Json::Object(u.fields.clone()));
                    if let Some(since) = &since {
                        req = req.header("If-Unmodified-Since", since.clone());
                    }
                    let sent = match self.client.send(&req).await {
                        Ok(_) => Ok(()),
                        Err(ClientError::Api { error, .. }) if error.status == 412 => {
                            Err(UpdateFailure::Precondition {
                                message: error.message,
                            })
                        }
                        Err(e) => Err(UpdateFailure::Call(failed(e))),
                    };
                    update.sent(sent);
                }
                UpdateNext::ReadBack => {
                    let read = self.read_back(u).await;
                    update.read_back(read.map_err(&mut failed));
                }
            }
        }
        (update.finish(), stop)
    }

    /// Does the record hold what `u` writes?
    async fn read_back(&self, u: &Update) -> Result<bool, ClientError> {
        let fields: Vec<&str> = u
            .fields
            .keys()
            .filter(|k| k.as_str() != "attributes")
            .map(String::as_str)
            .collect();
        let req = Request::get(format!("/sobjects/{}/{}", u.object, u.id))
            .named(format!("the read-back of {} {}", u.object, u.id))
            .param("fields", fields.join(","));
        let resp = self.client.send(&req).await?;
        Ok(resp
            .body
            .as_object()
            .is_some_and(|current| holds(current, &u.fields)))
    }

    /// SystemModstamp check for up to 200 records, then one collection update.
    async fn update_chunk(
        &self,
        object: &str,
        chunk: &[Update],
    ) -> (Vec<ItemOutcome>, Option<ClientError>) {
        let ids: Vec<String> = chunk.iter().map(|u| soql_quote(&u.id)).collect();
        let soql = format!(
            "SELECT Id, SystemModstamp FROM {object} WHERE Id IN ({})",
            ids.join(", ")
        );
        let current: HashMap<String, Option<String>> = match self.client.query(soql).await {
            Ok(rows) => rows
                .iter()
                .filter_map(|r| {
                    let id = r.get("Id")?.as_str()?.to_string();
                    let stamp = r.get("SystemModstamp").and_then(Json::as_str);
                    Some((id, stamp.map(str::to_string)))
                })
                .collect(),
            Err(e) => {
                let outcome = ItemOutcome::of_call(&call_failure(&e));
                let stop = outcome.is_none().then_some(e);
                let outcome = outcome.unwrap_or(ItemOutcome::NotAttempted);
                return (vec![outcome; chunk.len()], stop);
            }
        };
        let mut outcomes: Vec<Option<ItemOutcome>> = vec![None; chunk.len()];
        let mut pending = Vec::new();
        for (i, u) in chunk.iter().enumerate() {
            // A query answers 18-character ids; tandem may hold the 15-character form.
            let found = current
                .iter()
                .find(|(id, _)| id.starts_with(&u.id) || u.id.starts_with(id.as_str()))
                .map(|(_, stamp)| stamp.as_deref());
            match modstamp_check(&u.id, u.version.as_deref(), found) {
                Some(outcome) => outcomes[i] = Some(outcome),
                None => pending.push(i),
            }
        }
        let what = format!("the update of {} {object} records", pending.len());
        // Updating to the same values twice ends in the same state: safe to resend.
        let request = |sent: &[usize]| {
            let records: Vec<Json> = sent
                .iter()
                .map(|&j| {
                    let u = &chunk[pending[j]];
                    let mut rec = u.fields.clone();
                    rec.insert("attributes".into(), json!({ "type": object }));
                    rec.insert("id".into(), Json::String(u.id.clone()));
                    Json::Object(rec)
                })
                .collect();
            Request::new(Method::PATCH, "/composite/sobjects", Safety::Idempotent)
                .named(what.clone())
                .json(json!({ "allOrNone": false, "records": records }))
        };
        let (sent, stop) = self
            .rounds(pending.len(), request, |j, answer| {
                settle::update(&chunk[pending[j]].id, answer)
            })
            .await;
        for (j, outcome) in sent.into_iter().enumerate() {
            outcomes[pending[j]] = Some(outcome);
        }
        let outcomes = outcomes
            .into_iter()
            .map(|o| o.unwrap_or(ItemOutcome::NotAttempted))
            .collect();
        (outcomes, stop)
    }
}
