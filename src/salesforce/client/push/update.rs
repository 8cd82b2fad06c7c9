//! Updates: conditional PATCHes 25 to a Composite call (the default), or with `update_check =
//! "modstamp"` a SystemModstamp query per 200 records and one collection update.

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
use super::{COLLECTION_SIZE, Decided, Ledger, PushReport, Pusher, Update, call_failure, results};
use crate::config::UpdateCheck;
use tandem_protocol::salesforce::ApiError;

/// Subrequests in one Composite call (the Composite resource takes 25 at most).
const COMPOSITE_SIZE: usize = 25;

impl<L: Ledger> Pusher<L> {
    pub async fn update(&self, updates: Vec<Update>) -> PushReport {
        let mut report = PushReport::default();
        match self.client.settings().update_check {
            UpdateCheck::IfUnmodifiedSince => {
                for chunk in updates.chunks(COMPOSITE_SIZE) {
                    if report.stopped.is_some() {
                        report.not_attempted(chunk.iter().map(|u| &u.record), Op::Update);
                        continue;
                    }
                    let done = self.update_conditionally(chunk).await;
                    self.settled(chunk, done, &mut report).await;
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
                        let done = self.update_chunk(&object, chunk).await;
                        self.settled(chunk, done, &mut report).await;
                    }
                }
            }
        }
        report
    }

    /// Record the outcomes of a chunk of updates in the log, and in the report.
    async fn settled(
        &self,
        chunk: &[Update],
        (outcomes, stop): (Vec<ItemOutcome>, Option<ClientError>),
        report: &mut PushReport,
    ) {
        let decided: Vec<Decided> = results(chunk.iter().map(|u| &u.record), Op::Update, outcomes)
            .into_iter()
            .zip(chunk)
            .map(|(r, u)| (r, u.written.clone(), u.side_fields.clone()))
            .collect();
        let logged = self.record(&decided).await;
        report.items.extend(decided.into_iter().map(|(r, _, _)| r));
        report.stopped = stop.or(logged.err());
    }

    /// Up to 25 conditional PATCHes, each driven by the protocol's machine: those ready to send
    /// go together in one Composite call, each with its own `If-Unmodified-Since` (the server
    /// checks and writes each atomically; one API call for all). The call is `Unsafe`, so the
    /// HTTP layer does not resend it after a lost answer: a resend would fail its own
    /// preconditions. The machines read those records back instead.
    async fn update_conditionally(
        &self,
        chunk: &[Update],
    ) -> (Vec<ItemOutcome>, Option<ClientError>) {
        let max_retries = self.client.settings().max_retries;
        let mut updates: Vec<ConditionalUpdate> = chunk
            .iter()
            .map(|u| ConditionalUpdate::new(&u.id, max_retries))
            .collect();
        let mut stop = None;
        // A failure, and the error the run stops with when it is one.
        let failed = |e: ClientError, stop: &mut Option<ClientError>| {
            let failure = call_failure(&e);
            if failure == CallFailure::Stop {
                *stop = Some(e);
            }
            failure
        };
        loop {
            let (mut send, mut read, mut pause) = (Vec::new(), Vec::new(), None);
            for (i, update) in updates.iter_mut().enumerate() {
                match update.poll() {
                    UpdateNext::Done => {}
                    UpdateNext::Pause(round) => pause = pause.max(Some(round)),
                    UpdateNext::Send => send.push(i),
                    UpdateNext::ReadBack => read.push(i),
                }
            }
            if let Some(round) = pause {
                // One wait for every update that failed in the round before.
                self.pause(round).await;
                for update in &mut updates {
                    if matches!(update.poll(), UpdateNext::Pause(_)) {
                        update.paused();
                    }
                }
                continue;
            }
            if send.is_empty() && read.is_empty() {
                break;
            }
            if !send.is_empty() {
                match self.composite(chunk, &send).await {
                    Ok(answers) => {
                        for (i, answer) in send.iter().zip(answers) {
                            updates[*i].sent(answer.map_err(|e| match e {
                                Ok(precondition) => precondition,
                                Err(e) => UpdateFailure::Call(failed(e, &mut stop)),
                            }));
                        }
                    }
                    Err(e) => {
                        let failure = failed(e, &mut stop);
                        for i in send {
                            updates[i].sent(Err(UpdateFailure::Call(failure.clone())));
                        }
                    }
                }
            }
            for i in read {
                let holds = self.read_back(&chunk[i]).await;
                updates[i].read_back(holds.map_err(|e| failed(e, &mut stop)));
            }
            if stop.is_some() {
                // The run stops: what is not decided is not attempted.
                break;
            }
        }
        (updates.into_iter().map(|u| u.finish()).collect(), stop)
    }

    /// One Composite call carrying the PATCHes of `chunk[send]`: each one's answer (`Err(Ok)`
    /// a failed precondition, `Err(Err)` another error), or the error of the whole call.
    async fn composite(
        &self,
        chunk: &[Update],
        send: &[usize],
    ) -> Result<Vec<Result<(), Result<UpdateFailure, ClientError>>>, ClientError> {
        let version = &self.client.settings().api_version;
        let subrequests: Vec<Json> = send
            .iter()
            .map(|&i| {
                let u = &chunk[i];
                let mut sub = json!({
                    "method": "PATCH",
                    "url": format!("/services/data/v{version}/sobjects/{}/{}", u.object, u.id),
                    "referenceId": format!("update{i}"),
                    "body": Json::Object(u.fields.clone()),
                });
                if let Some(since) = u
                    .version
                    .as_deref()
                    .and_then(|v| parse_salesforce_datetime(v).ok())
                {
                    sub["httpHeaders"] =
                        json!({"If-Unmodified-Since": httpdate::fmt_http_date(since.into())});
                }
                sub
            })
            .collect();
        let req = Request::new(Method::POST, "/composite", Safety::Unsafe)
            .named(format!("the update of {} records", send.len()))
            .json(json!({ "allOrNone": false, "compositeRequest": subrequests }));
        let answer = self.client.send(&req).await?;
        let replies = answer
            .body
            .get("compositeResponse")
            .and_then(Json::as_array)
            .cloned()
            .unwrap_or_default();
        Ok(send
            .iter()
            .map(|&i| {
                let reference = format!("update{i}");
                let Some(reply) = replies
                    .iter()
                    .find(|r| r["referenceId"] == reference.as_str())
                else {
                    // No answer for it: it may or may not have been carried out.
                    return Err(Err(ClientError::Transport {
                        call: format!("the update of {} {}", chunk[i].object, chunk[i].id),
                        message: format!("the Composite answer lacks {reference}"),
                        ambiguous: true,
                    }));
                };
                let status = reply["httpStatusCode"].as_u64().unwrap_or(500) as u16;
                if (200..300).contains(&status) {
                    return Ok(());
                }
                let body = &reply["body"];
                let item = body.as_array().and_then(|a| a.first()).unwrap_or(body);
                let error = ApiError::from_item(status, item)
                    .unwrap_or_else(|| ApiError::from_body(status, body.to_string().as_bytes()));
                if status == 412 {
                    Err(Ok(UpdateFailure::Precondition {
                        message: error.message,
                    }))
                } else {
                    Err(Err(ClientError::Api {
                        call: format!("the update of {} {}", chunk[i].object, chunk[i].id),
                        error,
                    }))
                }
            })
            .collect())
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
