//! Writing to Salesforce: creates, updates and deletes in sObject Collections of up to 200
//! records (one API call each) with per-record results, every result recorded in the log as an
//! `Outcome` event.
//!
//! Exactly-once creates (invariant 4). When the org has the external-id field named in
//! `[salesforce] external_id_field`, a create is an upsert keyed by tandem's record id: sending
//! it twice finds the first record. Otherwise an `Outcome::Intent` is made durable *before* the
//! call; when the answer is lost (dropped connection, 5xx, unreadable body), and whenever a later
//! run finds an intent with no outcome (a crash), a reconciliation query looks for a record that
//! this user created with the same natural key fields and not yet known to tandem, and adopts it
//! instead of creating again. Only records the query proves absent are sent again. A run that
//! pulls looks for them before its pull (which would otherwise take them for records made in
//! Salesforce), and an adopted create is recorded as having written what its intent announced.
//!
//! Concurrent Salesforce edits. Collections take no conditional headers, so updates either go
//! one by one as PATCH with `If-Unmodified-Since` = the SystemModstamp tandem last saw (the
//! default: the server checks and writes atomically; 412 = conflict), or, with
//! `update_check = "modstamp"`, as a SystemModstamp query per 200 records followed by one
//! collection update (two calls per 200 instead of 200, but an edit in the instant between the
//! check and the write is not seen). A conditional PATCH whose answer was lost is checked by
//! reading the record back, since sending it again would fail its own precondition.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use chrono::NaiveDate;
use reqwest::Method;
use serde_json::{Value as Json, json};
use tandem_protocol::{Fields, Hlc, Op, Origin, Outcome, OutcomeResult, RecordId, Side};

use crate::config::UpdateCheck;
use crate::engine::{Draft, DraftBody, Writer};
use crate::store::{Store, read};

use super::http::{Request, Safety, SalesforceClient};
use super::pull::parse_sf_datetime;
use super::query::{datetime_literal, quote};
use super::{ApiError, ClientError, Row};

/// Records per sObject Collections call.
pub const COLLECTION_SIZE: usize = 200;

/// A decided result, the heads it wrote, and what Salesforce holds afterwards.
type Decided = (ItemResult, Vec<Hlc>, Option<Fields>);

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
pub enum ItemOutcome {
    /// `reconciled`: found by the reconciliation query rather than answered by the create.
    Created {
        id: String,
        reconciled: bool,
    },
    Updated {
        id: String,
    },
    /// Also when it was already gone.
    Deleted {
        id: String,
    },
    /// Salesforce changed the record since tandem last saw it; nothing was written.
    Conflict {
        id: String,
        message: String,
    },
    Failed {
        code: String,
        message: String,
        retryable: bool,
    },
    /// It is not known whether Salesforce has the create; its intent stays pending and the next
    /// push of this record reconciles it.
    Unknown {
        message: String,
    },
    /// The run stopped before this item was tried.
    NotAttempted,
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
}

/// One field as `describe` reports it.
#[derive(Clone, Debug)]
pub struct FieldInfo {
    pub name: String,
    pub kind: String,
    pub filterable: bool,
    pub external_id: bool,
}

/// The fields of an object (from `sobjects/X/describe`), by lower-case name.
#[derive(Clone, Debug)]
pub struct Describe {
    pub object: String,
    pub fields: HashMap<String, FieldInfo>,
}

impl Describe {
    pub fn field(&self, name: &str) -> Option<&FieldInfo> {
        self.fields.get(&name.to_ascii_lowercase())
    }
}

impl SalesforceClient {
    /// The object's fields, read once per client.
    pub async fn describe(&self, object: &str) -> Result<Arc<Describe>, ClientError> {
        let cached = self
            .describe_cache()
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(object)
            .cloned();
        if let Some(d) = cached {
            return Ok(d);
        }
        let what = format!("the describe of {object}");
        let resp = self
            .send(&Request::get(format!("/sobjects/{object}/describe")).named(what.clone()))
            .await?;
        let list = resp
            .body
            .get("fields")
            .and_then(Json::as_array)
            .ok_or_else(|| ClientError::malformed(&what, "no `fields` array"))?;
        let mut fields = HashMap::new();
        for f in list {
            let Some(name) = f.get("name").and_then(Json::as_str) else {
                return Err(ClientError::malformed(&what, "a field has no `name`"));
            };
            let flag = |k: &str| f.get(k).and_then(Json::as_bool).unwrap_or(false);
            fields.insert(
                name.to_ascii_lowercase(),
                FieldInfo {
                    name: name.to_string(),
                    kind: f
                        .get("type")
                        .and_then(Json::as_str)
                        .unwrap_or("string")
                        .to_string(),
                    filterable: flag("filterable"),
                    external_id: flag("externalId"),
                },
            );
        }
        let d = Arc::new(Describe {
            object: object.to_string(),
            fields,
        });
        self.describe_cache()
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(object.to_string(), d.clone());
        Ok(d)
    }
}

/// One record's result in a collection answer.
struct SaveResult {
    id: Option<String>,
    error: Option<ApiError>,
}

fn parse_save_results(
    body: &Json,
    expected: usize,
    what: &str,
) -> Result<Vec<SaveResult>, ClientError> {
    let list = body
        .as_array()
        .ok_or_else(|| ClientError::malformed(what, "the body is not an array of results"))?;
    if list.len() != expected {
        return Err(ClientError::malformed(
            what,
            format!("{} results for {expected} records", list.len()),
        ));
    }
    list.iter()
        .map(|r| {
            let success = r
                .get("success")
                .and_then(Json::as_bool)
                .ok_or_else(|| ClientError::malformed(what, "a result has no `success`"))?;
            let id = r.get("id").and_then(Json::as_str).map(str::to_string);
            let error = if success {
                None
            } else {
                let first = r
                    .get("errors")
                    .and_then(Json::as_array)
                    .and_then(|a| a.first())
                    .and_then(|e| ApiError::from_item(400, e));
                Some(first.unwrap_or(ApiError {
                    status: 400,
                    code: "UNKNOWN".into(),
                    message: "Salesforce reported a failure without an error".into(),
                    fields: Vec::new(),
                }))
            };
            Ok(SaveResult { id, error })
        })
        .collect()
}

/// Natural keys used to find a record created by a lost create, per object.
fn default_natural_keys(object: &str) -> &'static [&'static str] {
    match object {
        "Contact" | "Lead" => &["LastName", "FirstName", "Email"],
        "Account" => &["Name"],
        "Event" => &["Subject", "StartDateTime", "EndDateTime", "ActivityDate"],
        "Task" => &["Subject", "ActivityDate", "Status"],
        _ => &["Name", "Subject"],
    }
}

/// A SOQL literal for a JSON value of a field of type `kind`; `None` when it cannot be compared.
fn literal(value: &Json, kind: &str) -> Option<String> {
    match value {
        Json::Null => Some("null".into()),
        Json::Bool(b) => Some(b.to_string()),
        Json::Number(n) => Some(n.to_string()),
        Json::String(s) => match kind {
            "datetime" => parse_sf_datetime(s).map(datetime_literal),
            "date" => NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .ok()
                .map(|d| d.to_string()),
            "boolean" => s.parse::<bool>().ok().map(|b| b.to_string()),
            "int" | "double" | "currency" | "percent" => s.parse::<f64>().ok().map(|_| s.clone()),
            _ => Some(quote(s)),
        },
        _ => None,
    }
}

/// Whether a record read back holds what an update wrote (datetimes compared as instants).
fn holds(current: &Row, written: &Row) -> bool {
    written
        .iter()
        .filter(|(k, _)| k.as_str() != "attributes")
        .all(|(k, want)| {
            let got = current
                .iter()
                .find(|(ck, _)| ck.eq_ignore_ascii_case(k))
                .map(|(_, v)| v);
            match (want, got) {
                (Json::Null, None | Some(Json::Null)) => true,
                (Json::String(w), Some(Json::String(g))) => {
                    w == g
                        || matches!((parse_sf_datetime(w), parse_sf_datetime(g)), (Some(a), Some(b)) if a == b)
                }
                (Json::Number(w), Some(Json::Number(g))) => w.as_f64() == g.as_f64(),
                (w, Some(g)) => w == g,
                _ => false,
            }
        })
}

/// A whole call failed: a run-stopping error stops the run (its items stay not attempted);
/// any other fails every item still pending with it.
fn fail_pending(
    e: ClientError,
    pending: &mut Vec<usize>,
    outcomes: &mut [Option<ItemOutcome>],
    stop: &mut Option<ClientError>,
) {
    if e.stops_run() {
        *stop = Some(e);
    } else {
        for &i in pending.iter() {
            outcomes[i] = Some(failed(&e));
        }
    }
    pending.clear();
}

fn failed(e: &ClientError) -> ItemOutcome {
    match e {
        ClientError::Api { error, .. } => ItemOutcome::Failed {
            code: error.code.clone(),
            message: error.message.clone(),
            retryable: error.status >= 500 || error.code == "UNABLE_TO_LOCK_ROW",
        },
        other => ItemOutcome::Failed {
            code: "CALL_FAILED".into(),
            message: other.to_string(),
            retryable: true,
        },
    }
}

fn item_failed(e: &ApiError) -> ItemOutcome {
    ItemOutcome::Failed {
        code: e.code.clone(),
        message: e.message.clone(),
        retryable: e.code == "UNABLE_TO_LOCK_ROW",
    }
}

/// Pushes changes to Salesforce and records each result in the log.
pub struct Pusher {
    client: SalesforceClient,
    writer: Writer,
    store: Arc<Store>,
    natural_keys: HashMap<String, Vec<String>>,
}

impl Pusher {
    pub fn new(client: SalesforceClient, writer: Writer, store: Arc<Store>) -> Pusher {
        Pusher {
            client,
            writer,
            store,
            natural_keys: HashMap::new(),
        }
    }

    /// Overrides the fields that identify a record of `object` created by a lost create.
    pub fn with_natural_keys(mut self, object: &str, keys: &[&str]) -> Pusher {
        self.natural_keys.insert(
            object.to_string(),
            keys.iter().map(|k| k.to_string()).collect(),
        );
        self
    }

    pub fn client(&self) -> &SalesforceClient {
        &self.client
    }

    /// Creates, then updates, then deletes. Stops at the first error that ends the run.
    pub async fn push(
        &self,
        creates: Vec<Create>,
        updates: Vec<Update>,
        deletes: Vec<Delete>,
    ) -> PushReport {
        let mut report = self.create(creates).await;
        let next = |r: PushReport, report: &mut PushReport| {
            report.items.extend(r.items);
            report.stopped = report.stopped.take().or(r.stopped);
        };
        if report.stopped.is_none() {
            let r = self.update(updates).await;
            next(r, &mut report);
        } else {
            report
                .items
                .extend(updates.iter().map(|u| not_attempted(&u.record, Op::Update)));
        }
        if report.stopped.is_none() {
            let r = self.delete(deletes).await;
            next(r, &mut report);
        } else {
            report
                .items
                .extend(deletes.iter().map(|d| not_attempted(&d.record, Op::Delete)));
        }
        report
    }

    // ---- the log --------------------------------------------------------------------------

    async fn append_all(&self, outcomes: Vec<Outcome>) -> Result<(), ClientError> {
        let mut pending = Vec::with_capacity(outcomes.len());
        for o in outcomes {
            let draft = Draft {
                origin: Origin::new(Side::Tandem, "salesforce:push"),
                body: DraftBody::Outcome(o),
            };
            pending.push(
                self.writer
                    .submit(draft)
                    .await
                    .map_err(|e| ClientError::Log(e.to_string()))?,
            );
        }
        for p in pending {
            p.await.map_err(|e| ClientError::Log(e.to_string()))?;
        }
        Ok(())
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
                    side: Side::Salesforce,
                    op: item.op,
                    written: written.clone(),
                    result,
                    side_fields: side_fields.clone().filter(|_| succeeded),
                    payload: None,
                })
            })
            .collect();
        self.append_all(outcomes).await
    }

    fn read_store<T>(
        &self,
        f: impl FnOnce(&redb::ReadTransaction) -> Result<T, crate::store::StoreError>,
    ) -> Result<T, ClientError> {
        let txn = self
            .store
            .read()
            .map_err(|e| ClientError::Log(e.to_string()))?;
        f(&txn).map_err(|e| ClientError::Log(e.to_string()))
    }

    /// The heads and the predicted fields the latest create intent of this record announced
    /// (`None` also for an intent from before intents carried their fields).
    fn announced(&self, record: &RecordId) -> Result<Option<(Vec<Hlc>, Fields)>, ClientError> {
        self.read_store(|txn| {
            Ok(read::record_events(txn, record)?
                .into_iter()
                .rev()
                .find_map(|(_, event)| match event.body {
                    tandem_protocol::EventBody::Outcome(Outcome {
                        side: Side::Salesforce,
                        op: Op::Create,
                        result: OutcomeResult::Intent,
                        written,
                        side_fields,
                        ..
                    }) => Some(side_fields.map(|fields| (written, fields))),
                    _ => None,
                })
                .flatten())
        })
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
            && let Some((written, fields)) = self.announced(&c.record)?
        {
            return Ok((item, written, Some(fields)));
        }
        Ok((item, c.written.clone(), c.side_fields.clone()))
    }

    /// A create of this record was announced and its outcome never recorded.
    fn has_pending_intent(&self, record: &RecordId) -> Result<bool, ClientError> {
        self.read_store(|txn| {
            Ok(read::side_state(txn, record, Side::Salesforce)?.is_some_and(|s| s.pending))
        })
    }

    fn known_as(&self, salesforce_id: &str) -> Result<Option<RecordId>, ClientError> {
        self.read_store(|txn| read::alias(txn, &format!("salesforce:{salesforce_id}")))
    }

    // ---- creates --------------------------------------------------------------------------

    pub async fn create(&self, creates: Vec<Create>) -> PushReport {
        let mut report = PushReport::default();
        let mut groups: BTreeMap<String, Vec<Create>> = BTreeMap::new();
        for c in creates {
            groups.entry(c.object.clone()).or_default().push(c);
        }
        for (object, items) in groups {
            if report.stopped.is_some() {
                report
                    .items
                    .extend(items.iter().map(|c| not_attempted(&c.record, Op::Create)));
                continue;
            }
            let upsert_field = match self.upsert_field(&object).await {
                Ok(f) => f,
                Err(e) => {
                    report.items.extend(items.iter().map(|c| ItemResult {
                        record: c.record.clone(),
                        op: Op::Create,
                        outcome: if e.stops_run() {
                            ItemOutcome::NotAttempted
                        } else {
                            failed(&e)
                        },
                    }));
                    if e.stops_run() {
                        report.stopped = Some(e);
                    }
                    continue;
                }
            };
            for chunk in items.chunks(COLLECTION_SIZE) {
                if report.stopped.is_some() {
                    report
                        .items
                        .extend(chunk.iter().map(|c| not_attempted(&c.record, Op::Create)));
                    continue;
                }
                let (results, stop) = match &upsert_field {
                    Some(field) => self.upsert_chunk(&object, field, chunk).await,
                    None => self.create_chunk(&object, chunk).await,
                };
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

    /// Upserts by external id: repeating it is harmless, so the HTTP layer retries it freely.
    async fn upsert_chunk(
        &self,
        object: &str,
        field: &str,
        chunk: &[Create],
    ) -> (Vec<ItemResult>, Option<ClientError>) {
        let mut outcomes: Vec<Option<ItemOutcome>> = vec![None; chunk.len()];
        let what = format!("the upsert of {} {object} records", chunk.len());
        let request = |pending: &[usize]| {
            let records: Vec<Json> = pending
                .iter()
                .map(|&i| {
                    let mut rec = chunk[i].fields.clone();
                    rec.insert("attributes".into(), json!({ "type": object }));
                    rec.insert(field.to_string(), Json::String(chunk[i].record.to_string()));
                    Json::Object(rec)
                })
                .collect();
            Request::new(
                Method::PATCH,
                format!("/composite/sobjects/{object}/{field}"),
                Safety::Idempotent,
            )
            .named(what.clone())
            .json(json!({ "allOrNone": false, "records": records }))
        };
        let settle = |_, r: SaveResult| match (r.error, r.id) {
            (Some(e), _) => item_failed(&e),
            (None, Some(id)) => ItemOutcome::Created {
                id,
                reconciled: false,
            },
            (None, None) => ItemOutcome::Failed {
                code: "NO_ID".into(),
                message: format!("{what}: a success without an id"),
                retryable: true,
            },
        };
        let pending = (0..chunk.len()).collect();
        let stop = self
            .collection_rounds(&what, pending, request, settle, &mut outcomes)
            .await;
        let results = finish(
            chunk.iter().map(|c| &c.record),
            Op::Create,
            outcomes,
            |_| ItemOutcome::NotAttempted,
        );
        (results, stop)
    }

    /// Creates with a durable intent first; lost answers are reconciled, never resent blindly.
    async fn create_chunk(
        &self,
        object: &str,
        chunk: &[Create],
    ) -> (Vec<ItemResult>, Option<ClientError>) {
        let n = chunk.len();
        let mut outcomes: Vec<Option<ItemOutcome>> = vec![None; n];
        let mut claimed = HashSet::new();
        let mut stop: Option<ClientError> = None;
        // Items whose intent is durable: if the run stops they are Unknown, not NotAttempted.
        let mut announced = vec![false; n];

        // 1. Intents left by an earlier run (a crash, a lost answer): did that create land?
        for (i, item) in chunk.iter().enumerate() {
            match self.has_pending_intent(&item.record) {
                Ok(false) => {}
                Ok(true) => {
                    announced[i] = true;
                    match self.reconcile(object, item, &mut claimed).await {
                        Ok(Some(id)) => {
                            outcomes[i] = Some(ItemOutcome::Created {
                                id,
                                reconciled: true,
                            })
                        }
                        Ok(None) => {}
                        Err(e) if e.stops_run() => {
                            stop = Some(e);
                            break;
                        }
                        Err(e) => {
                            outcomes[i] = Some(ItemOutcome::Unknown {
                                message: e.to_string(),
                            })
                        }
                    }
                }
                Err(e) => {
                    stop = Some(e);
                    break;
                }
            }
        }
        // 2. Announce the rest before the call, again for those an earlier run announced: the
        // intent says what this call sends, which a later reconciliation records as written.
        let mut pending: Vec<usize> = (0..n).filter(|&i| outcomes[i].is_none()).collect();
        if stop.is_none() && !pending.is_empty() {
            let fresh: Vec<Outcome> = pending
                .iter()
                .map(|&i| Outcome {
                    record: chunk[i].record.clone(),
                    side: Side::Salesforce,
                    op: Op::Create,
                    written: chunk[i].written.clone(),
                    result: OutcomeResult::Intent,
                    // What Salesforce will hold if the create lands: a create found later by
                    // reconciliation is recorded as having written this.
                    side_fields: chunk[i].side_fields.clone(),
                    payload: None,
                })
                .collect();
            match self.client.ensure_budget(1).map(|()| fresh) {
                Ok(fresh) => match self.append_all(fresh).await {
                    Ok(()) => {
                        for &i in &pending {
                            announced[i] = true;
                        }
                    }
                    Err(e) => stop = Some(e),
                },
                Err(e) => stop = Some(e),
            }
        }
        if stop.is_some() {
            pending.clear();
        }
        // 3. Create, round after round, only what is known not to exist.
        let what = format!("the create of {} {object} records", pending.len());
        for round in 0..=self.client.settings().max_retries {
            if pending.is_empty() {
                break;
            }
            if round > 0 {
                self.pause(round).await;
            }
            let records: Vec<Json> = pending
                .iter()
                .map(|&i| {
                    let mut rec = chunk[i].fields.clone();
                    rec.insert("attributes".into(), json!({ "type": object }));
                    Json::Object(rec)
                })
                .collect();
            let req = Request::new(Method::POST, "/composite/sobjects", Safety::Unsafe)
                .named(what.clone())
                .json(json!({ "allOrNone": false, "records": records }));
            let results = match self.client.send(&req).await {
                Ok(resp) => parse_save_results(&resp.body, pending.len(), &what),
                Err(e) => Err(e),
            };
            let mut still = Vec::new();
            match results {
                Ok(results) => {
                    for (&i, r) in pending.iter().zip(results) {
                        match (r.error, r.id) {
                            // Definitely not created: safe to send again.
                            (Some(e), _) if e.code == "UNABLE_TO_LOCK_ROW" => still.push(i),
                            (Some(e), _) => outcomes[i] = Some(item_failed(&e)),
                            (None, Some(id)) => {
                                claimed.insert(id.clone());
                                outcomes[i] = Some(ItemOutcome::Created {
                                    id,
                                    reconciled: false,
                                })
                            }
                            (None, None) => {
                                outcomes[i] = Some(ItemOutcome::Unknown {
                                    message: format!("{what}: a success without an id"),
                                })
                            }
                        }
                    }
                }
                Err(e) if e.stops_run() => {
                    stop = Some(e);
                }
                Err(e) if e.is_ambiguous() => {
                    // The answer is lost, not necessarily the creates: look before resending.
                    tracing::info!(call = %what, error = %e, "reconciling creates whose answer was lost");
                    for &i in &pending {
                        match self.reconcile(object, &chunk[i], &mut claimed).await {
                            Ok(Some(id)) => {
                                outcomes[i] = Some(ItemOutcome::Created {
                                    id,
                                    reconciled: true,
                                })
                            }
                            Ok(None) => still.push(i),
                            Err(re) if re.stops_run() => {
                                stop = Some(re);
                                break;
                            }
                            Err(re) => {
                                outcomes[i] = Some(ItemOutcome::Unknown {
                                    message: format!("{e}; then the check for it failed: {re}"),
                                })
                            }
                        }
                    }
                }
                Err(e) => {
                    for &i in &pending {
                        outcomes[i] = Some(failed(&e));
                    }
                }
            }
            if stop.is_some() {
                break;
            }
            pending = still;
        }
        // Left over: retries spent on items known not to exist.
        for &i in &pending {
            if outcomes[i].is_none() && stop.is_none() {
                outcomes[i] = Some(ItemOutcome::Failed {
                    code: "RETRIES_EXHAUSTED".into(),
                    message: format!("{what} kept failing; it is tried again on the next run"),
                    retryable: true,
                });
            }
        }
        let results = finish(chunk.iter().map(|c| &c.record), Op::Create, outcomes, |i| {
            if announced[i] {
                ItemOutcome::Unknown {
                    message: "the run stopped before the create's outcome was known".into(),
                }
            } else {
                ItemOutcome::NotAttempted
            }
        });
        (results, stop)
    }

    /// Creates whose intent has no outcome (the process was killed between announcing and
    /// recording them) that Salesforce turns out to have: adopted and recorded now, before a
    /// pull reads them. Those not found are left pending for the next push. The number adopted.
    pub async fn adopt_pending(&self, creates: Vec<Create>) -> Result<usize, ClientError> {
        let mut claimed = HashSet::new();
        let mut adopted = Vec::new();
        for c in creates {
            if !self.has_pending_intent(&c.record)? {
                continue;
            }
            match self.reconcile(&c.object, &c, &mut claimed).await {
                Ok(Some(id)) => adopted.push(self.decided_create(
                    ItemResult {
                        record: c.record.clone(),
                        op: Op::Create,
                        outcome: ItemOutcome::Created {
                            id,
                            reconciled: true,
                        },
                    },
                    &c,
                )?),
                Ok(None) => {}
                Err(e) if e.stops_run() && !matches!(e, ClientError::Setup(_)) => return Err(e),
                // The push of this record reconciles it again (and reports what stops it).
                Err(e) => {
                    tracing::warn!(record = %c.record, error = %e, "a pending create could not be checked")
                }
            }
        }
        self.record(&adopted).await?;
        Ok(adopted.len())
    }

    /// Finds a record this user created for `item` (same natural key, not yet known to tandem
    /// as another record), and claims it so that two identical creates adopt two records.
    async fn reconcile(
        &self,
        object: &str,
        item: &Create,
        claimed: &mut HashSet<String>,
    ) -> Result<Option<String>, ClientError> {
        let describe = self.client.describe(object).await?;
        let keys: Vec<String> = match self.natural_keys.get(object) {
            Some(k) => k.clone(),
            None => default_natural_keys(object)
                .iter()
                .map(|k| k.to_string())
                .collect(),
        };
        let mut conditions = Vec::new();
        for key in &keys {
            let Some(info) = describe.field(key).filter(|f| f.filterable) else {
                continue;
            };
            let Some((_, value)) = item
                .fields
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(key))
            else {
                continue;
            };
            if let Some(lit) = literal(value, &info.kind) {
                conditions.push(format!("{} = {lit}", info.name));
            }
        }
        if conditions.is_empty() {
            return Err(ClientError::Setup(format!(
                "cannot tell whether the create of {} reached Salesforce: it sets none of the {object} fields {} that identify a record; set [salesforce] external_id_field to an external-id field of {object}",
                item.record,
                keys.join(", ")
            )));
        }
        let token = self.client.session().token().await?;
        if let Some(user) = &token.user_id {
            conditions.push(format!("CreatedById = {}", quote(user)));
        }
        let soql = format!(
            "SELECT Id FROM {object} WHERE {} ORDER BY CreatedDate DESC, Id DESC LIMIT 50",
            conditions.join(" AND ")
        );
        let rows = self.client.query(soql).await?;
        for row in rows {
            let Some(id) = row.get("Id").and_then(Json::as_str) else {
                continue;
            };
            if claimed.contains(id) {
                continue;
            }
            match self.known_as(id)? {
                Some(other) if other != item.record => continue,
                _ => {}
            }
            claimed.insert(id.to_string());
            return Ok(Some(id.to_string()));
        }
        Ok(None)
    }

    async fn pause(&self, round: u32) {
        self.client.note_retry();
        let s = self.client.settings();
        let ms = s
            .backoff_base_ms
            .saturating_mul(1u64 << round.saturating_sub(1).min(20))
            .min(s.backoff_max_ms);
        tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
    }

    /// One sObject Collections call for the items still `pending`, round after round: an item
    /// Salesforce could not lock is sent again in the next round (after a pause); every other
    /// result is settled by `settle`. A failed call fails what is pending, or stops the run.
    /// Items still locked when the rounds run out stay undecided.
    async fn collection_rounds(
        &self,
        what: &str,
        mut pending: Vec<usize>,
        request: impl Fn(&[usize]) -> Request,
        settle: impl Fn(usize, SaveResult) -> ItemOutcome,
        outcomes: &mut [Option<ItemOutcome>],
    ) -> Option<ClientError> {
        let mut stop = None;
        for round in 0..=self.client.settings().max_retries {
            if pending.is_empty() {
                break;
            }
            if round > 0 {
                self.pause(round).await;
            }
            let results = match self.client.send(&request(&pending)).await {
                Ok(resp) => parse_save_results(&resp.body, pending.len(), what),
                Err(e) => Err(e),
            };
            match results {
                Ok(results) => {
                    let mut still = Vec::new();
                    for (&i, r) in pending.iter().zip(results) {
                        if r.error
                            .as_ref()
                            .is_some_and(|e| e.code == "UNABLE_TO_LOCK_ROW")
                        {
                            still.push(i);
                        } else {
                            outcomes[i] = Some(settle(i, r));
                        }
                    }
                    pending = still;
                }
                Err(e) => fail_pending(e, &mut pending, outcomes, &mut stop),
            }
        }
        stop
    }

    // ---- updates --------------------------------------------------------------------------

    pub async fn update(&self, updates: Vec<Update>) -> PushReport {
        let mut report = PushReport::default();
        match self.client.settings().update_check {
            UpdateCheck::IfUnmodifiedSince => {
                for u in &updates {
                    if report.stopped.is_some() {
                        report.items.push(not_attempted(&u.record, Op::Update));
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
                            report
                                .items
                                .extend(chunk.iter().map(|u| not_attempted(&u.record, Op::Update)));
                            continue;
                        }
                        let (results, stop) = self.update_chunk(&object, chunk).await;
                        let with_written: Vec<Decided> = results
                            .into_iter()
                            .zip(chunk)
                            .map(|(r, u)| (r, u.written.clone(), u.side_fields.clone()))
                            .collect();
                        let logged = self.record(&with_written).await;
                        report
                            .items
                            .extend(with_written.into_iter().map(|(r, _, _)| r));
                        report.stopped = stop.or(logged.err());
                    }
                }
            }
        }
        report
    }

    /// One conditional PATCH. Sent as `Unsafe` so the HTTP layer does not resend it after a
    /// lost answer: a resend would fail its own If-Unmodified-Since. The record is read back
    /// instead.
    async fn update_one(&self, u: &Update) -> (ItemOutcome, Option<ClientError>) {
        let what = format!("the update of {} {}", u.object, u.id);
        let since = u
            .version
            .as_deref()
            .and_then(parse_sf_datetime)
            .map(|t| t.format("%a, %d %b %Y %H:%M:%S GMT").to_string());
        for round in 0..=self.client.settings().max_retries {
            if round > 0 {
                self.pause(round).await;
            }
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
            match self.client.send(&req).await {
                Ok(_) => return (ItemOutcome::Updated { id: u.id.clone() }, None),
                Err(e) if e.stops_run() => return (ItemOutcome::NotAttempted, Some(e)),
                // Changed since tandem read it — unless the change is this very write, landed by
                // a run that was killed before it could record it: then it is done.
                Err(ClientError::Api { error, .. }) if error.status == 412 => {
                    return match self.read_back(u).await {
                        Ok(true) => (ItemOutcome::Updated { id: u.id.clone() }, None),
                        Err(re) if re.stops_run() => (ItemOutcome::NotAttempted, Some(re)),
                        _ => (
                            ItemOutcome::Conflict {
                                id: u.id.clone(),
                                message: error.message,
                            },
                            None,
                        ),
                    };
                }
                Err(e) if e.is_ambiguous() => match self.read_back(u).await {
                    Ok(true) => return (ItemOutcome::Updated { id: u.id.clone() }, None),
                    Ok(false) => continue,
                    Err(re) if re.stops_run() => return (ItemOutcome::NotAttempted, Some(re)),
                    Err(re) => return (failed(&re), None),
                },
                Err(e) => return (failed(&e), None),
            }
        }
        (
            ItemOutcome::Failed {
                code: "RETRIES_EXHAUSTED".into(),
                message: format!("{what} kept failing; it is tried again on the next run"),
                retryable: true,
            },
            None,
        )
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
    ) -> (Vec<ItemResult>, Option<ClientError>) {
        let mut outcomes: Vec<Option<ItemOutcome>> = vec![None; chunk.len()];
        let ids: Vec<String> = chunk.iter().map(|u| quote(&u.id)).collect();
        let soql = format!(
            "SELECT Id, SystemModstamp FROM {object} WHERE Id IN ({})",
            ids.join(", ")
        );
        let current: HashMap<String, Option<chrono::DateTime<chrono::Utc>>> =
            match self.client.query(soql).await {
                Ok(rows) => rows
                    .iter()
                    .filter_map(|r| {
                        let id = r.get("Id")?.as_str()?.to_string();
                        let stamp = r
                            .get("SystemModstamp")
                            .and_then(Json::as_str)
                            .and_then(parse_sf_datetime);
                        Some((id, stamp))
                    })
                    .collect(),
                Err(e) => {
                    let stop = e.stops_run().then_some(());
                    let results = finish(
                        chunk.iter().map(|u| &u.record),
                        Op::Update,
                        outcomes,
                        |_| {
                            if stop.is_some() {
                                ItemOutcome::NotAttempted
                            } else {
                                failed(&e)
                            }
                        },
                    );
                    return (results, stop.map(|_| e));
                }
            };
        let mut pending = Vec::new();
        for (i, u) in chunk.iter().enumerate() {
            let found = current
                .iter()
                .find(|(id, _)| id.starts_with(&u.id) || u.id.starts_with(id.as_str()));
            match found {
                None => {
                    outcomes[i] = Some(ItemOutcome::Failed {
                        code: "ENTITY_IS_DELETED".into(),
                        message: format!("{object} {} is no longer in Salesforce", u.id),
                        retryable: false,
                    })
                }
                Some((_, stamp)) => {
                    let seen = u.version.as_deref().and_then(parse_sf_datetime);
                    match (seen, stamp) {
                        (Some(seen), Some(now)) if *now != seen => {
                            outcomes[i] = Some(ItemOutcome::Conflict {
                                id: u.id.clone(),
                                message: format!(
                                    "changed in Salesforce at {now} (tandem last saw {seen})"
                                ),
                            })
                        }
                        _ => pending.push(i),
                    }
                }
            }
        }
        let what = format!("the update of {} {object} records", pending.len());
        // Updating to the same values twice ends in the same state: safe to resend.
        let request = |pending: &[usize]| {
            let records: Vec<Json> = pending
                .iter()
                .map(|&i| {
                    let mut rec = chunk[i].fields.clone();
                    rec.insert("attributes".into(), json!({ "type": object }));
                    rec.insert("id".into(), Json::String(chunk[i].id.clone()));
                    Json::Object(rec)
                })
                .collect();
            Request::new(Method::PATCH, "/composite/sobjects", Safety::Idempotent)
                .named(what.clone())
                .json(json!({ "allOrNone": false, "records": records }))
        };
        let settle = |i: usize, r: SaveResult| match r.error {
            Some(e) => item_failed(&e),
            None => ItemOutcome::Updated {
                id: chunk[i].id.clone(),
            },
        };
        let stop = self
            .collection_rounds(&what, pending, request, settle, &mut outcomes)
            .await;
        let results = finish(
            chunk.iter().map(|u| &u.record),
            Op::Update,
            outcomes,
            |_| ItemOutcome::NotAttempted,
        );
        (results, stop)
    }

    // ---- deletes --------------------------------------------------------------------------

    /// Deletes in collections of 200. Deleting twice is harmless (the second answer is
    /// ENTITY_IS_DELETED, taken as done), so lost answers are simply resent.
    pub async fn delete(&self, deletes: Vec<Delete>) -> PushReport {
        let mut report = PushReport::default();
        for chunk in deletes.chunks(COLLECTION_SIZE) {
            if report.stopped.is_some() {
                report
                    .items
                    .extend(chunk.iter().map(|d| not_attempted(&d.record, Op::Delete)));
                continue;
            }
            let mut outcomes: Vec<Option<ItemOutcome>> = vec![None; chunk.len()];
            let what = format!("the delete of {} records", chunk.len());
            let request = |pending: &[usize]| {
                let ids: Vec<&str> = pending.iter().map(|&i| chunk[i].id.as_str()).collect();
                Request::new(Method::DELETE, "/composite/sobjects", Safety::Idempotent)
                    .named(what.clone())
                    .param("ids", ids.join(","))
                    .param("allOrNone", "false")
            };
            let settle = |i: usize, r: SaveResult| {
                let id = chunk[i].id.clone();
                match r.error {
                    None => ItemOutcome::Deleted { id },
                    Some(e) if e.code == "ENTITY_IS_DELETED" => ItemOutcome::Deleted { id },
                    Some(e) => item_failed(&e),
                }
            };
            let pending = (0..chunk.len()).collect();
            let stop = self
                .collection_rounds(&what, pending, request, settle, &mut outcomes)
                .await;
            let results = finish(
                chunk.iter().map(|d| &d.record),
                Op::Delete,
                outcomes,
                |_| ItemOutcome::NotAttempted,
            );
            let with_written: Vec<Decided> = results
                .into_iter()
                .zip(chunk)
                .map(|(r, d)| (r, d.written.clone(), None))
                .collect();
            let logged = self.record(&with_written).await;
            report
                .items
                .extend(with_written.into_iter().map(|(r, _, _)| r));
            report.stopped = stop.or(logged.err());
        }
        report
    }
}

fn not_attempted(record: &RecordId, op: Op) -> ItemResult {
    ItemResult {
        record: record.clone(),
        op,
        outcome: ItemOutcome::NotAttempted,
    }
}

/// Item results in input order; items without an outcome get `undecided(i)`.
fn finish<'a>(
    records: impl Iterator<Item = &'a RecordId>,
    op: Op,
    outcomes: Vec<Option<ItemOutcome>>,
    undecided: impl Fn(usize) -> ItemOutcome,
) -> Vec<ItemResult> {
    records
        .zip(outcomes)
        .enumerate()
        .map(|(i, (record, o))| ItemResult {
            record: record.clone(),
            op,
            outcome: o.unwrap_or_else(|| undecided(i)),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_follow_the_field_type() {
        assert_eq!(
            literal(&json!("O'Neil"), "string").as_deref(),
            Some("'O\\'Neil'")
        );
        assert_eq!(
            literal(&json!("2024-05-06T12:00:00.000+0200"), "datetime").as_deref(),
            Some("2024-05-06T10:00:00Z")
        );
        assert_eq!(
            literal(&json!("2024-05-06"), "date").as_deref(),
            Some("2024-05-06")
        );
        assert_eq!(literal(&json!("soon"), "date"), None);
        assert_eq!(literal(&Json::Null, "email").as_deref(), Some("null"));
        assert_eq!(literal(&json!({"a": 1}), "string"), None);
    }

    #[test]
    fn read_back_compares_by_meaning() {
        let written = json!({"StartDateTime": "2024-05-06T12:00:00+02:00", "Email": null, "N": 1});
        let current =
            json!({"StartDateTime": "2024-05-06T10:00:00.000+0000", "N": 1.0, "attributes": {}});
        let (Json::Object(w), Json::Object(c)) = (written, current) else {
            unreachable!()
        };
        assert!(holds(&c, &w));
        let mut other = c.clone();
        other.insert("N".into(), json!(2));
        assert!(!holds(&other, &w));
    }

    #[test]
    fn save_results_must_match_the_request() {
        let body = json!([{"id": "003", "success": true, "errors": []},
            {"id": null, "success": false, "errors": [{"statusCode": "UNABLE_TO_LOCK_ROW", "message": "m", "fields": []}]}]);
        let r = parse_save_results(&body, 2, "t").expect("parses");
        assert_eq!(
            r[1].error.as_ref().map(|e| e.code.as_str()),
            Some("UNABLE_TO_LOCK_ROW")
        );
        assert!(parse_save_results(&body, 3, "t").is_err());
        assert!(parse_save_results(&json!({"x": 1}), 1, "t").is_err());
    }
}
