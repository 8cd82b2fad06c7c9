//! Outlook in a run: its delta rounds into the log, and the plan's Outlook steps out to it.
//!
//! A delta round's items become observations of whole records (the writer compares each with
//! what Outlook had, so reading back tandem's own write is no change); its `@removed` entries
//! become deletes of what tandem holds; the round's delta link is appended as the container's
//! watermark once the changes it covers are durable. Contacts come from the synced folder, and
//! from the main folder only when they carry the sync category: personal contacts are never
//! read. Creates are exactly-once: an intent goes to the log before the call, the item carries
//! the record id in an extended property, and a create whose answer was lost is found by it.

use crate::config::Settings;
use crate::engine::SyncError;
use crate::engine::sync::Pulled;
use crate::outlook::signin::{Session, TokenFile};
use crate::outlook::{Containers, OutlookClient, OutlookError, Part};
use crate::store::{Draft, DraftBody, ObservationDraft, Store, Writer, read};
use serde_json::Value;
use std::collections::HashSet;
use std::path::Path;
use tandem_protocol::event::Watermark;
use tandem_protocol::graph;
use tandem_protocol::plan::{Item, Step};
use tandem_protocol::rules::Rules;
use tandem_protocol::run::StepResult;
use tandem_protocol::{
    EventBody, Fields, Hlc, Op, Origin, Outcome, OutcomeResult, RecordId, RecordKind, Side,
};

/// The zone a date without one (a task's due day) is written in.
const ZONE: chrono_tz::Tz = chrono_tz::UTC;

/// Where the plan's Outlook steps go, and what a run reads.
pub struct OutlookConnection {
    pub client: OutlookClient,
    containers: Containers,
}

/// A container a kind is read from, and whether only its categorised items are in scope.
struct Source {
    part: Part,
    id: String,
    only_categorised: bool,
}

fn origin() -> Origin {
    Origin::new(Side::OUTLOOK, "outlook:pull")
}

fn text<'a>(item: &'a Value, name: &str) -> Option<&'a str> {
    item.get(name).and_then(Value::as_str)
}

impl OutlookConnection {
    /// Sign in with the settings' refresh token (rotated into `dir`'s settings file) and find
    /// the containers; `None` when tandem is not signed in to Outlook.
    pub async fn open(settings: &Settings, dir: &Path) -> Result<Option<Self>, SyncError> {
        if !settings.outlook.signed_in() {
            return Ok(None);
        }
        // Each use of the refresh token replaced it in the settings file: the one there is the
        // one that still works, whatever the settings read at start say.
        let mut outlook = settings.outlook.clone();
        if let Ok(saved) = Settings::load(dir)
            && saved.outlook.refresh_token.is_some()
        {
            outlook.refresh_token = saved.outlook.refresh_token;
        }
        let session = Session::new(&outlook, Some(TokenFile::in_dir(dir)))?;
        let client = OutlookClient::new(outlook, session)?;
        Ok(Some(OutlookConnection::with_client(client).await?))
    }

    pub async fn with_client(client: OutlookClient) -> Result<Self, OutlookError> {
        let containers = client.containers().await?;
        Ok(OutlookConnection { client, containers })
    }

    fn sources(&self, kind: RecordKind) -> Vec<Source> {
        let source = |part, id: &str, only_categorised| Source {
            part,
            id: id.to_string(),
            only_categorised,
        };
        match kind {
            RecordKind::Contact => {
                let mut all = vec![source(
                    Part::Contacts,
                    &self.containers.synced_contacts,
                    false,
                )];
                if let Some(main) = &self.containers.main_contacts {
                    all.push(source(Part::Contacts, main, true));
                }
                all
            }
            RecordKind::Task => vec![source(Part::Tasks, &self.containers.tasks, false)],
            RecordKind::Event => Vec::new(),
        }
    }

    /// Where tandem creates an item of `kind`.
    fn home(&self, kind: RecordKind) -> Option<(Part, &str)> {
        match kind {
            RecordKind::Contact => Some((Part::Contacts, &self.containers.synced_contacts)),
            RecordKind::Task => Some((Part::Tasks, &self.containers.tasks)),
            RecordKind::Event => None,
        }
    }

    /// Creates an earlier run announced and never recorded: each is found by its stamp (and
    /// recorded as made) or recorded as not made, so the plan makes it now — never twice.
    pub async fn adopt_pending(&self, store: &Store, writer: &Writer) -> Result<(), SyncError> {
        let pending = read::pending_creates(&store.read()?, Side::OUTLOOK)?;
        for record in pending {
            let Some((part, container)) = record.kind().and_then(|k| self.home(k)) else {
                continue;
            };
            let (kind, written) = announced(store, &record)?;
            let found = self
                .client
                .find_stamped(part, container, record.as_str())
                .await?;
            let outcome = match found {
                Some(item) => made(&record, kind, written, &item, None),
                None => failed(
                    &record,
                    Op::Create,
                    written,
                    "not_created",
                    "the create never reached Outlook; it is made again",
                    true,
                ),
            };
            record_outcome(writer, outcome).await?;
        }
        Ok(())
    }

    /// Read what changed in Outlook of one kind into the log.
    pub async fn pull(
        &self,
        store: &Store,
        writer: &Writer,
        kind: RecordKind,
        rules: &Rules,
    ) -> Result<Pulled, SyncError> {
        let mut pulled = Pulled::default();
        let sources = self.sources(kind);
        let mut rounds = Vec::new();
        for source in &sources {
            let scope = format!("delta:{}", source.id);
            let link = read::watermark(&store.read()?, Side::OUTLOOK, &scope)?;
            rounds.push((
                scope,
                self.client
                    .delta(source.part, &source.id, link.as_deref())
                    .await?,
            ));
        }
        if rounds.iter().any(|(_, r)| r.reset) {
            // One container was read whole again: read them all whole, so that "not seen"
            // means "not in scope any more" for every container.
            rounds.clear();
            for source in &sources {
                let scope = format!("delta:{}", source.id);
                let mut round = self.client.delta(source.part, &source.id, None).await?;
                round.reset = true;
                rounds.push((scope, round));
            }
        }
        let mut seen = HashSet::new();
        let mut removed = Vec::new();
        for ((_, round), source) in rounds.iter().zip(&sources) {
            for item in &round.changed {
                let Some(id) = text(item, "id") else { continue };
                if source.only_categorised && !categorised(item, rules) {
                    continue;
                }
                seen.insert(id.to_string());
                let fields = match graph::from_graph(kind, item, ZONE) {
                    Ok(fields) => fields,
                    Err(e) => {
                        tracing::warn!("Outlook item {id} is left out: {e}");
                        continue;
                    }
                };
                let known = known(store, id)?;
                if known
                    .as_ref()
                    .is_some_and(|k| !k.deleted && k.fields == fields)
                {
                    pulled.unchanged += 1;
                    continue;
                }
                let op = match known {
                    Some(k) if !k.deleted => Op::Update,
                    _ => Op::Create,
                };
                let draft = Draft {
                    origin: origin(),
                    body: DraftBody::Observation(ObservationDraft {
                        external_id: Some(id.to_string()),
                        version: text(item, "@odata.etag").map(str::to_string),
                        changed_at_ms: text(item, "lastModifiedDateTime")
                            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                            .map(|t| t.timestamp_millis()),
                        snapshot: Some(fields),
                        ..ObservationDraft::new(kind, op)
                    }),
                };
                writer.append(draft).await?;
                match op {
                    Op::Create => pulled.created += 1,
                    _ => pulled.updated += 1,
                }
            }
            removed.extend(round.removed.iter().cloned());
            if round.reset {
                // Whatever tandem holds from this kind that no container listed is gone.
                removed.extend(read::ids_on(&store.read()?, Side::OUTLOOK, kind)?);
            }
        }
        for id in removed.iter().filter(|id| !seen.contains(*id)) {
            if !known(store, id)?.is_some_and(|k| k.holds(id)) {
                continue;
            }
            let draft = Draft {
                origin: origin(),
                body: DraftBody::Observation(ObservationDraft {
                    external_id: Some(id.clone()),
                    ..ObservationDraft::new(kind, Op::Delete)
                }),
            };
            writer.append(draft).await?;
            pulled.deleted += 1;
        }
        for (scope, round) in rounds {
            let draft = Draft {
                origin: origin(),
                body: DraftBody::Watermark(Watermark {
                    side: Side::OUTLOOK,
                    scope,
                    value: round.link,
                }),
            };
            writer.append(draft).await?;
        }
        Ok(pulled)
    }

    /// Carry out the plan's Outlook steps; the results, and the error that stopped the side.
    pub async fn push(
        &self,
        store: &Store,
        writer: &Writer,
        steps: Vec<(&Item, &Step, Vec<Hlc>)>,
    ) -> (Vec<StepResult>, Option<OutlookError>) {
        let mut results = Vec::new();
        let mut stopped = None;
        let (creates, others): (Vec<_>, Vec<_>) = steps
            .into_iter()
            .partition(|(_, step, _)| step.op == Op::Create);
        for kind in RecordKind::ALL {
            let batch: Vec<_> = creates.iter().filter(|(i, _, _)| i.kind == kind).collect();
            if batch.is_empty() {
                continue;
            }
            match self.create(store, writer, kind, &batch).await {
                Ok(done) => results.extend(done),
                Err(e) => {
                    for (item, step, _) in batch {
                        results.push(result(item, step.op, Some(e.to_string())));
                    }
                }
            }
        }
        for (item, step, written) in others {
            if let Some(e) = &stopped {
                results.push(result(item, step.op, Some(format!("not sent: {e}"))));
                continue;
            }
            let error = match self.write(store, writer, item, step, written).await {
                Ok(()) => None,
                Err(SyncError::Outlook(e)) if e.stops_run() => {
                    let why = e.to_string();
                    stopped = Some(e);
                    Some(why)
                }
                Err(e) => Some(e.to_string()),
            };
            results.push(result(item, step.op, error));
        }
        (results, stopped)
    }

    /// Create the items of one kind, 20 to a batch, each announced in the log first.
    async fn create(
        &self,
        store: &Store,
        writer: &Writer,
        kind: RecordKind,
        batch: &[&(&Item, &Step, Vec<Hlc>)],
    ) -> Result<Vec<StepResult>, SyncError> {
        let Some((part, container)) = self.home(kind) else {
            return Ok(batch
                .iter()
                .map(|(item, step, _)| {
                    result(
                        item,
                        step.op,
                        Some(SyncError::NoConnector(Side::OUTLOOK).to_string()),
                    )
                })
                .collect());
        };
        let mut results = Vec::new();
        let mut bodies = Vec::new();
        let mut sent = Vec::new();
        for (item, step, written) in batch {
            let fields = read::record(&store.read()?, &item.record)?
                .map(|r| tandem_protocol::plan::project(Side::OUTLOOK, kind, &r.fields))
                .unwrap_or_else(|| step.changes.clone());
            match graph::to_graph(kind, &fields, None, ZONE) {
                Ok(mut body) => {
                    graph::stamp_for(kind, &mut body, item.record.as_str());
                    let intent = Outcome {
                        record: item.record.clone(),
                        side: Side::OUTLOOK,
                        op: Op::Create,
                        written: written.clone(),
                        result: OutcomeResult::Intent,
                        side_fields: Some(fields),
                        payload: None,
                    };
                    record_outcome(writer, intent).await?;
                    bodies.push(body);
                    sent.push((*item, *step, written.clone()));
                }
                Err(e) => results.push(result(item, step.op, Some(e.to_string()))),
            }
        }
        let answers = self.client.create(part, container, bodies).await;
        for ((item, step, written), answer) in sent.into_iter().zip(answers) {
            let outcome = match answer {
                Ok(made_item) => made(&item.record, kind, written, &made_item, None),
                // No answer: the create may have been made; the next run finds it by its stamp.
                Err(OutlookError::Unreachable(e)) => {
                    results.push(result(
                        item,
                        step.op,
                        Some(OutlookError::Unreachable(e).to_string()),
                    ));
                    continue;
                }
                Err(e) => failed(
                    &item.record,
                    Op::Create,
                    written,
                    "refused",
                    &e.to_string(),
                    !matches!(e, OutlookError::Api { status: 400, .. }),
                ),
            };
            let error = match &outcome.result {
                OutcomeResult::Failed { message, .. } => Some(message.clone()),
                _ => None,
            };
            record_outcome(writer, outcome).await?;
            results.push(result(item, step.op, error));
        }
        Ok(results)
    }

    /// One update or delete. An update sends only the step's changes, laid over the item as
    /// Outlook holds it now, on the condition that it is still so (`If-Match`); when it changed
    /// in between, it is read again and sent once more: what the user changed in Outlook
    /// meanwhile stays, and the next pull brings it in.
    async fn write(
        &self,
        store: &Store,
        writer: &Writer,
        item: &Item,
        step: &Step,
        written: Vec<Hlc>,
    ) -> Result<(), SyncError> {
        let kind = item.kind;
        let (part, container) = self
            .home(kind)
            .ok_or(SyncError::NoConnector(Side::OUTLOOK))?;
        let id = item
            .id_on(Side::OUTLOOK)
            .ok_or(SyncError::NoConnector(Side::OUTLOOK))?
            .to_string();
        if step.op == Op::Delete {
            self.client.delete(part, container, &id).await?;
            let outcome = Outcome {
                record: item.record.clone(),
                side: Side::OUTLOOK,
                op: Op::Delete,
                written,
                result: OutcomeResult::Succeeded {
                    external_id: Some(id),
                    version: None,
                },
                side_fields: None,
                payload: None,
            };
            return record_outcome(writer, outcome).await;
        }
        let had = read::side_state(&store.read()?, &item.record, Side::OUTLOOK)?
            .map(|s| s.fields)
            .unwrap_or_default();
        let mut answer = Err(OutlookError::Halted);
        for _ in 0..2 {
            let current = self.client.get(part, container, &id).await?;
            let now = graph::from_graph(kind, &current, ZONE).unwrap_or_default();
            let want = tandem_protocol::record::overlay(&now, &step.changes);
            let body = graph::to_graph(kind, &want, Some(&current), ZONE)?;
            if body.is_empty() {
                answer = Ok(current);
                break;
            }
            let etag = text(&current, "@odata.etag").unwrap_or("*").to_string();
            answer = self.client.update(part, container, &id, body, &etag).await;
            match &answer {
                Err(e) if e.is_conflict() => continue,
                _ => break,
            }
        }
        let answer = answer?;
        // What tandem believes Outlook holds: what it had, with this step's changes. A change
        // the user made meanwhile is not in it, so the next pull sees it as news.
        let side_fields = tandem_protocol::record::overlay(&had, &step.changes);
        let outcome = made(&item.record, kind, written, &answer, Some(side_fields));
        record_outcome(writer, outcome).await
    }
}

/// Whether a main-folder contact carries the sync category.
fn categorised(item: &Value, rules: &Rules) -> bool {
    let Some(wanted) = rules.category.as_deref() else {
        return false;
    };
    item["categories"].as_array().is_some_and(|all| {
        all.iter()
            .filter_map(Value::as_str)
            .any(|c| c.eq_ignore_ascii_case(wanted))
    })
}

/// What tandem knows of the record Outlook's `id` names: Outlook's copy.
fn known(store: &Store, id: &str) -> Result<Option<crate::store::SideState>, SyncError> {
    let txn = store.read()?;
    let Some(record) = read::record_on(&txn, Side::OUTLOOK, id)? else {
        return Ok(None);
    };
    Ok(Some(
        read::side_state(&txn, &record, Side::OUTLOOK)?.unwrap_or_default(),
    ))
}

/// The kind and the heads the last create intent of `record` on Outlook announced.
fn announced(store: &Store, record: &RecordId) -> Result<(RecordKind, Vec<Hlc>), SyncError> {
    let txn = store.read()?;
    let written = read::record_events(&txn, record)?
        .into_iter()
        .rev()
        .find_map(|(_, event)| match event.body {
            EventBody::Outcome(Outcome {
                side: Side::OUTLOOK,
                op: Op::Create,
                result: OutcomeResult::Intent,
                written,
                ..
            }) => Some(written),
            _ => None,
        })
        .unwrap_or_default();
    let kind = record.kind().unwrap_or(RecordKind::Contact);
    Ok((kind, written))
}

/// A write Outlook made: the item's id and version, and the record as Outlook holds it (from the
/// answer, unless the caller knows better).
fn made(
    record: &RecordId,
    kind: RecordKind,
    written: Vec<Hlc>,
    item: &Value,
    side_fields: Option<Fields>,
) -> Outcome {
    Outcome {
        record: record.clone(),
        side: Side::OUTLOOK,
        op: if side_fields.is_some() {
            Op::Update
        } else {
            Op::Create
        },
        written,
        result: OutcomeResult::Succeeded {
            external_id: text(item, "id").map(str::to_string),
            version: text(item, "@odata.etag").map(str::to_string),
        },
        side_fields: side_fields.or_else(|| graph::from_graph(kind, item, ZONE).ok()),
        payload: None,
    }
}

fn failed(
    record: &RecordId,
    op: Op,
    written: Vec<Hlc>,
    code: &str,
    message: &str,
    retryable: bool,
) -> Outcome {
    Outcome {
        record: record.clone(),
        side: Side::OUTLOOK,
        op,
        written,
        result: OutcomeResult::Failed {
            code: code.to_string(),
            message: message.to_string(),
            retryable,
        },
        side_fields: None,
        payload: None,
    }
}

async fn record_outcome(writer: &Writer, outcome: Outcome) -> Result<(), SyncError> {
    let draft = Draft {
        origin: Origin::new(Side::TANDEM, "outlook:push"),
        body: DraftBody::Outcome(outcome),
    };
    writer.append(draft).await?;
    Ok(())
}

fn result(item: &Item, op: Op, error: Option<String>) -> StepResult {
    StepResult {
        record: item.record.clone(),
        label: item.label.clone(),
        side: Side::OUTLOOK,
        op,
        error,
    }
}
