//! The Salesforce side of a sync run: the connection and the org's settings the mapping needs,
//! pulling each kind under the rules' scope, and carrying out a plan's Salesforce steps through
//! the pusher (sObject Collections, exactly-once creates, conditional updates).

mod series;

use super::ledger::LogLedger;
use super::pull::{PullSummary, pull_into_log};
use crate::engine::SyncError;
use crate::salesforce::client::{
    ClientError, Create, Delete, ItemOutcome, Pusher, SalesforceClient, Update,
};
use crate::store::{Draft, DraftBody, ObservationDraft, Pending, Writer};
use crate::store::{Store, read};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tandem_protocol::mapping::{
    self, AccountCandidate, AccountMatch, Annotations, SalesforceContext, detached, object_name,
    soql_quote,
};
use tandem_protocol::plan::{Item, Step};
use tandem_protocol::record::overlay;
use tandem_protocol::rules::Rules;
use tandem_protocol::run::StepResult;
use tandem_protocol::{
    Fields, Hlc, Op, Origin, Outcome, OutcomeResult, RecordId, RecordKind, Side,
};

/// A logged-in Salesforce org, ready for a run.
pub struct Connection {
    pub client: SalesforceClient,
    pusher: Pusher<LogLedger>,
    pub ctx: SalesforceContext,
    user_id: Option<String>,
    /// The Account each company links to, as found in this run: contacts share a few
    /// companies, and a query per contact cost one API call each (10,000 contacts of 50
    /// companies: 5,000 calls instead of 50). A connection lasts one run.
    accounts: Mutex<HashMap<String, Option<Value>>>,
}

impl Connection {
    /// Log in and read what the mapping needs to know about the org and the user.
    pub async fn with_client(
        client: SalesforceClient,
        store: Arc<Store>,
        writer: Writer,
    ) -> Result<Connection, ClientError> {
        client.begin_run();
        let token = client.session().token().await?;
        let user_id = token.user_id.clone();
        let ctx = org_context(&client, user_id.as_deref()).await?;
        let pusher = Pusher::new(client.clone(), LogLedger::new(store, writer));
        Ok(Connection {
            client,
            pusher,
            ctx,
            user_id,
            accounts: Mutex::default(),
        })
    }

    /// Pull one kind, limited to the records the rules sync (the user's own, a SOQL view).
    pub async fn pull(
        &self,
        store: &Store,
        writer: &Writer,
        kind: RecordKind,
        rules: &Rules,
    ) -> Result<PullSummary, SyncError> {
        let mut conditions: Vec<String> = mapping::pull_condition(kind)
            .into_iter()
            .map(str::to_string)
            .collect();
        if rules.owner_only
            && let Some(user) = &self.user_id
        {
            conditions.push(format!("OwnerId = {}", soql_quote(user)));
        }
        if let Some(filter) = &rules.salesforce_filter {
            conditions.push(format!("({filter})"));
        }
        let filter = (!conditions.is_empty()).then(|| conditions.join(" AND "));
        pull_into_log(&self.client, writer, store, kind, &self.ctx, filter).await
    }

    /// Adopt the creates a killed run left unrecorded (an intent, no outcome) that reached
    /// Salesforce. A pull must not read them first: it would take tandem's own records for new
    /// ones made in Salesforce, so the desktop would get a copy of each and the next push, seeing
    /// the record known as another, would create it once more.
    pub async fn adopt_pending(
        &self,
        store: &Store,
        plan: &tandem_protocol::plan::Plan,
    ) -> Result<usize, ClientError> {
        let mut creates = Vec::new();
        for item in &plan.items {
            let Some(step) = item.step(Side::SALESFORCE).filter(|s| s.op == Op::Create) else {
                continue;
            };
            if !side_copy(store, item).pending {
                continue;
            }
            // The fields that identify the record are enough (no account lookup, no write);
            // the adopted create is recorded with what its intent announced. One that cannot
            // be mapped is reported by the push.
            if let Ok(out) = mapping::to_salesforce(item.kind, &step.changes, &self.ctx) {
                creates.push(Create {
                    record: item.record.clone(),
                    object: object_name(item.kind).to_string(),
                    fields: out.fields,
                    written: item.heads.clone(),
                    side_fields: Some(created_copy(item.kind, &self.ctx, &step.changes)),
                });
            }
        }
        if creates.is_empty() {
            return Ok(0);
        }
        self.pusher.adopt_pending(creates).await
    }

    /// Carry out the Salesforce steps of a run. Every step gets a result; one failing never
    /// stops the others, only an error that ends the run (login, limits) does.
    pub async fn push(
        &self,
        store: &Store,
        writer: &Writer,
        steps: Vec<(&Item, &Step, Vec<Hlc>)>,
        rules: &(dyn Fn(RecordKind) -> Rules + Sync),
    ) -> (Vec<StepResult>, Option<ClientError>) {
        let mut results = Vec::new();
        let (mut creates, mut updates, mut deletes) = (Vec::new(), Vec::new(), Vec::new());
        let mut linking = Vec::new();
        // Series whose rows Salesforce makes in this push: Salesforce's copy, and what it is to
        // hold once their cancelled and detached occurrences are sent.
        let mut series: Vec<(RecordId, Fields, Fields)> = Vec::new();
        let fail = |item: &Item, op, error: String| StepResult {
            record: item.record.clone(),
            label: item.label.clone(),
            side: Side::SALESFORCE,
            op,
            error: Some(error),
        };
        for (item, step, written) in steps {
            let object = object_name(item.kind).to_string();
            let rules = rules(item.kind);
            match step.op {
                Op::Create => match self
                    .create_body(store, writer, item, step, written, &rules)
                    .await
                {
                    Ok((create, link)) => linking.push((item, create, link)),
                    Err(e) => results.push(fail(item, Op::Create, e.to_string())),
                },
                Op::Update => {
                    let Some(id) = item.id_on(Side::SALESFORCE).map(str::to_string) else {
                        results.push(fail(item, Op::Update, "no Salesforce id".into()));
                        continue;
                    };
                    match self.update(store, item, step, id, written, &rules).await {
                        Err(e) => results.push(fail(item, Op::Update, e.to_string())),
                        Ok(UpdateStep::Seen(seen)) => {
                            results.push(match writer.append(*seen).await {
                                Ok(_) => done(item, Op::Update),
                                Err(e) => fail(item, Op::Update, e.to_string()),
                            });
                        }
                        Ok(UpdateStep::Send(update, remade)) => {
                            series.extend(remade);
                            updates.push(*update);
                        }
                    }
                }
                Op::Delete => match item.id_on(Side::SALESFORCE).map(str::to_string) {
                    Some(id) => deletes.push(Delete {
                        record: item.record.clone(),
                        object,
                        id,
                        written,
                    }),
                    None => results.push(fail(item, Op::Delete, "no Salesforce id".into())),
                },
            }
        }
        // The Account links were queued in the log without waiting for each (one commit, an
        // fsync, per contact otherwise: 5,000 in a first sync); a create goes out once its
        // link is durable, and writes on top of it.
        for (item, mut create, link) in linking {
            if let Some(link) = link {
                match link.await {
                    Ok(ack) => create.written = vec![ack.hlc],
                    Err(e) => {
                        results.push(fail(item, Op::Create, e.to_string()));
                        continue;
                    }
                }
            }
            creates.push(create);
        }
        let labels: std::collections::HashMap<_, _> = creates
            .iter()
            .map(|c: &Create| c.record.clone())
            .chain(updates.iter().map(|u| u.record.clone()))
            .chain(deletes.iter().map(|d| d.record.clone()))
            .map(|record| {
                let label = read_label(store, &record);
                (record, label)
            })
            .collect();
        // A series' cancelled and detached occurrences exist once its rows do: Salesforce's
        // copy is recorded without them, then they are sent and recorded (a run stopped between
        // the two leaves an update for the next run, which sends them then).
        let key_field = rules(RecordKind::Event).salesforce_key_field;
        for c in creates.iter().filter(|c| c.object == "Event") {
            let Some(had) = c.side_fields.clone() else {
                continue;
            };
            let fields = read_fields(store, &c.record);
            let mut target = had.clone();
            if let Some(exdates) = fields.get("exdates") {
                target.insert("exdates".into(), exdates.clone());
            }
            if key_field.is_some() {
                target = detached::with_field(target, &detached::occurrences(&fields));
            }
            if target != had {
                series.push((c.record.clone(), had, target));
            }
        }
        let written: HashMap<RecordId, Vec<Hlc>> = creates
            .iter()
            .map(|c| (c.record.clone(), c.written.clone()))
            .chain(
                updates
                    .iter()
                    .map(|u| (u.record.clone(), u.written.clone())),
            )
            .collect();
        let report = self.pusher.push(creates, updates, deletes).await;
        for (record, had, target) in series {
            let id = match report.outcome(&record) {
                Some(ItemOutcome::Created { id, .. }) => Some(id.clone()),
                Some(ItemOutcome::Updated { id }) => self.new_head(id, &target).await,
                _ => None,
            };
            let (Some(id), Some(written)) = (id, written.get(&record)) else {
                continue;
            };
            let done = match self
                .series_rows(&record, &id, &had, &target, key_field.as_deref())
                .await
            {
                Ok(next) => writer
                    .append(self.seen(
                        RecordKind::Event,
                        &record,
                        next.unwrap_or(id),
                        written.clone(),
                        &target,
                    ))
                    .await
                    .map(|_| ())
                    .map_err(SyncError::from),
                Err(e) => Err(e),
            };
            if let Err(e) = done {
                tracing::warn!(%record, "cancelled occurrences wait for the next run: {e}");
            }
        }
        for item in report.items {
            let error = match &item.outcome {
                ItemOutcome::Created { .. }
                | ItemOutcome::Updated { .. }
                | ItemOutcome::Deleted { .. } => None,
                ItemOutcome::Conflict { message, .. } => Some(format!(
                    "changed in Salesforce meanwhile ({message}); the next run merges it"
                )),
                ItemOutcome::Failed { code, message, .. } => Some(format!("{code}: {message}")),
                ItemOutcome::Unknown { message } => Some(format!(
                    "not known whether Salesforce took it ({message}); the next run checks"
                )),
                ItemOutcome::NotAttempted => Some("not attempted: the run stopped".into()),
            };
            results.push(StepResult {
                label: labels.get(&item.record).cloned().unwrap_or_default(),
                record: item.record,
                side: Side::SALESFORCE,
                op: item.op,
                error,
            });
        }
        (results, report.stopped)
    }

    /// What an update step of `item` (linked as `id`) sends. A series' cancelled and detached
    /// occurrences go first — unless the update makes Salesforce create the series' rows anew
    /// (a changed rule or time): then they are sent once that is done, and returned with the
    /// update as Salesforce's copy without them and what it is to hold.
    async fn update(
        &self,
        store: &Store,
        item: &Item,
        step: &Step,
        id: String,
        written: Vec<Hlc>,
        rules: &Rules,
    ) -> Result<UpdateStep, SyncError> {
        let side = side_copy(store, item);
        let target = overlay(&side.fields, &step.changes);
        let out = mapping::changes_to_salesforce(item.kind, &side.fields, &target, &self.ctx)?;
        let full = read_fields(store, &item.record);
        let body = mapping::annotate_body(item.kind, out.fields, &full, annotations(rules));
        let anew = mapping::remakes_series(&target, &body);
        let (id, version) = match anew {
            true => (id, side.version),
            false => {
                let key_field = rules.salesforce_key_field.as_deref();
                match self
                    .series_rows(&item.record, &id, &side.fields, &target, key_field)
                    .await?
                {
                    None => (id, side.version),
                    // The linked row was a detached occurrence's: the series goes on as its
                    // next row, whose version tandem has not seen.
                    Some(next) => (next, None),
                }
            }
        };
        if body.is_empty() {
            // Nothing Salesforce holds changes: note that it has seen this state.
            let seen = self.seen(item.kind, &item.record, id, written, &target);
            return Ok(UpdateStep::Seen(Box::new(seen)));
        }
        let mut copy = mapping::read_back(item.kind, &self.ctx, &target);
        let mut remade = None;
        if anew {
            copy = without_series_rows(copy);
            remade = Some((item.record.clone(), copy.clone(), target));
        }
        let update = Update {
            record: item.record.clone(),
            object: object_name(item.kind).to_string(),
            id,
            fields: body,
            version,
            written,
            side_fields: Some(copy),
        };
        Ok(UpdateStep::Send(Box::new(update), remade))
    }

    /// The outcome that says Salesforce (as `id`) holds `target` as of `written`, without a write
    /// of a field of its own.
    fn seen(
        &self,
        kind: RecordKind,
        record: &RecordId,
        id: String,
        written: Vec<Hlc>,
        target: &Fields,
    ) -> Draft {
        Draft {
            origin: Origin::new(Side::TANDEM, "sync:salesforce"),
            body: DraftBody::Outcome(Outcome {
                record: record.clone(),
                side: Side::SALESFORCE,
                op: Op::Update,
                written,
                result: OutcomeResult::Succeeded {
                    external_id: Some(id),
                    version: None,
                },
                side_fields: Some(mapping::read_back(kind, &self.ctx, target)),
                payload: None,
            }),
        }
    }

    /// The body of a create: the record's Salesforce fields, the Account its company names, the
    /// description annotations. With a link, also its append to the log, queued: once that is
    /// durable, the create is written on top of it (its `written` becomes that event).
    async fn create_body(
        &self,
        store: &Store,
        writer: &Writer,
        item: &Item,
        step: &Step,
        written: Vec<Hlc>,
        rules: &Rules,
    ) -> Result<(Create, Option<Pending>), SyncError> {
        let mut link_appended = None;
        let mut fields = step.changes.clone();
        if item.kind == RecordKind::Contact && rules.link_account && !fields.contains_key("account")
        {
            let company = read_field(store, item, "company");
            if let Some(link) = self.find_account(company.as_deref()).await? {
                // The link becomes part of the record, so both sides agree on it.
                let draft = Draft {
                    origin: Origin::new(Side::TANDEM, "sync:account-link"),
                    body: DraftBody::Observation(ObservationDraft {
                        record: Some(item.record.clone()),
                        base: Some(written.clone()),
                        changes: [("account".to_string(), link.clone())].into(),
                        ..ObservationDraft::new(item.kind, Op::Update)
                    }),
                };
                // Queued, not awaited: the caller waits for it and writes on top of it.
                link_appended = Some(writer.submit(draft).await?);
                fields.insert("account".into(), link);
            }
        }
        let out = mapping::to_salesforce(item.kind, &fields, &self.ctx)?;
        // Only events are annotated and only contacts linked, so this read never needs the
        // queued link.
        let full = read_fields(store, &item.record);
        let body = mapping::annotate_body(item.kind, out.fields, &full, annotations(rules));
        let create = Create {
            record: item.record.clone(),
            object: object_name(item.kind).to_string(),
            fields: body,
            written,
            side_fields: Some(created_copy(item.kind, &self.ctx, &fields)),
        };
        Ok((create, link_appended))
    }

    /// The Account a company names: exact name (earliest created), else a unique partial
    /// match; several partial matches link none.
    async fn find_account(&self, company: Option<&str>) -> Result<Option<Value>, SyncError> {
        let Some(company) = company else {
            return Ok(None);
        };
        let Some(soql) = mapping::account_query(company) else {
            return Ok(None);
        };
        let key = company.trim().to_string();
        if let Some(known) = self.known_account(&key) {
            return Ok(known);
        }
        let rows = self.client.query(soql).await?;
        let text = |row: &serde_json::Map<String, Value>, f: &str| {
            row.get(f).and_then(Value::as_str).unwrap_or("").to_string()
        };
        let candidates: Vec<AccountCandidate> = rows
            .iter()
            .filter_map(|row| {
                Some(AccountCandidate {
                    id: text(row, "Id"),
                    name: text(row, "Name"),
                    created: mapping::parse_salesforce_datetime(&text(row, "CreatedDate")).ok()?,
                })
            })
            .collect();
        let link = match mapping::pick_account(company, &candidates) {
            AccountMatch::Exact(a) | AccountMatch::Substring(a) => {
                Some(json!({"salesforce_id": a.id, "name": a.name}))
            }
            AccountMatch::Ambiguous(_) | AccountMatch::None => None,
        };
        self.accounts
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, link.clone());
        Ok(link)
    }

    /// The link found earlier in this run for a company (`Some(None)`: it links to none).
    fn known_account(&self, company: &str) -> Option<Option<Value>> {
        self.accounts
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(company)
            .cloned()
    }
}

/// What an update step comes to: a note that Salesforce has seen the state (nothing of its
/// own changes), or an update to send — with the series it remakes, if it does.
enum UpdateStep {
    Seen(Box<Draft>),
    Send(Box<Update>, Option<(RecordId, Fields, Fields)>),
}

fn annotations(rules: &Rules) -> Annotations {
    Annotations {
        invitees: rules.invitees_in_description,
        attachments: rules.attachments_in_description,
    }
}

fn done(item: &Item, op: Op) -> StepResult {
    StepResult {
        record: item.record.clone(),
        label: item.label.clone(),
        side: Side::SALESFORCE,
        op,
        error: None,
    }
}

fn side_copy(store: &Store, item: &Item) -> crate::store::SideState {
    store
        .read()
        .ok()
        .and_then(|txn| read::side_state(&txn, &item.record, Side::SALESFORCE).ok())
        .flatten()
        .unwrap_or_default()
}

/// Salesforce's copy of a record it has just created from `fields`: the values read back, and
/// a series' occurrences but not its cancelled or detached ones, which are sent after the
/// create.
fn created_copy(kind: RecordKind, ctx: &SalesforceContext, fields: &Fields) -> Fields {
    without_series_rows(mapping::read_back_created(kind, ctx, fields))
}

/// Salesforce's copy of a series whose rows it has just made: without the cancellations and
/// detached occurrences, which are sent after.
fn without_series_rows(mut copy: Fields) -> Fields {
    copy.remove("exdates");
    copy.remove(detached::FIELD);
    copy
}

fn read_fields(store: &Store, record: &RecordId) -> Fields {
    store
        .read()
        .ok()
        .and_then(|txn| read::record(&txn, record).ok())
        .flatten()
        .map(|r| r.fields)
        .unwrap_or_default()
}

fn read_field(store: &Store, item: &Item, name: &str) -> Option<String> {
    read_fields(store, &item.record)
        .get(name)
        .and_then(Value::as_str)
        .map(str::to_string)
}

fn read_label(store: &Store, record: &tandem_protocol::RecordId) -> String {
    store
        .read()
        .ok()
        .and_then(|txn| read::record(&txn, record).ok())
        .flatten()
        .map(|r| tandem_protocol::plan::label(r.kind, &r.fields))
        .unwrap_or_default()
}

/// The user's time zone and the org's task statuses.
async fn org_context(
    client: &SalesforceClient,
    user_id: Option<&str>,
) -> Result<SalesforceContext, ClientError> {
    let mut zone = chrono_tz::UTC;
    let mut running = None;
    if let Some(user) = user_id {
        let rows = client
            .query(format!(
                "SELECT Id, Name, TimeZoneSidKey FROM User WHERE Id = {}",
                soql_quote(user)
            ))
            .await?;
        running = rows.first().and_then(|r| {
            Some(json!({
                "salesforce_id": r.get("Id")?.as_str()?,
                "name": r.get("Name")?.as_str()?,
            }))
        });
        if let Some(tz) = rows
            .first()
            .and_then(|r| r.get("TimeZoneSidKey"))
            .and_then(Value::as_str)
        {
            zone = tz
                .parse()
                .map_err(|_| ClientError::malformed("User", format!("unknown time zone {tz}")))?;
        }
    }
    let mut ctx = SalesforceContext::standard(zone);
    ctx.user = running;
    if let Some(field) = client.settings().external_id_field.clone() {
        let event = client.describe("Event").await?;
        ctx.row_key_field = event
            .field(&field)
            .filter(|f| f.external_id)
            .map(|f| f.name.clone());
    }
    let statuses = client
        .query("SELECT MasterLabel, IsClosed, IsDefault FROM TaskStatus")
        .await?;
    if !statuses.is_empty() {
        let label = |r: &serde_json::Map<String, Value>| {
            r.get("MasterLabel")
                .and_then(Value::as_str)
                .map(str::to_string)
        };
        let flag = |r: &serde_json::Map<String, Value>, f: &str| {
            r.get(f).and_then(Value::as_bool).unwrap_or(false)
        };
        ctx.closed_task_statuses = statuses
            .iter()
            .filter(|r| flag(r, "IsClosed"))
            .filter_map(label)
            .collect();
        if let Some(open) = statuses
            .iter()
            .find(|r| flag(r, "IsDefault") && !flag(r, "IsClosed"))
            .and_then(label)
        {
            ctx.default_open_status = open;
        }
        if let Some(closed) = ctx.closed_task_statuses.first() {
            ctx.default_closed_status = closed.clone();
        }
    }
    Ok(ctx)
}
