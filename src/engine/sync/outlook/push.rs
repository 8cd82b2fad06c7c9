//! The plan's Outlook steps, carried out: creates 20 to a `$batch`, each announced in the log
//! before it is sent and stamped with its record id; updates with `If-Match`, sending only the
//! step's changes over the item as Outlook has it now; deletes.

use super::{OutlookConnection, ZONE, created, made, result, text};
use crate::engine::SyncError;
use crate::engine::sync::connector::{error_of, failed, had, outcome, record_outcome, to_create};
use crate::outlook::BATCH_SIZE;
use crate::outlook::{OutlookError, Part};
use crate::store::{Store, Writer};
use serde_json::{Map, Value};
use tandem_protocol::Fields;
use tandem_protocol::graph;
use tandem_protocol::mapping::detached::{self, RowChange};
use tandem_protocol::plan::{Item, Step};
use tandem_protocol::run::StepResult;
use tandem_protocol::{Hlc, Op, OutcomeResult, RecordKind, Side};

impl OutlookConnection {
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
        for kind in RecordKind::ALL {
            let mine: Vec<_> = others.iter().filter(|(i, _, _)| i.kind == kind).collect();
            for chunk in mine.chunks(BATCH_SIZE) {
                if let Some(e) = &stopped {
                    for (item, step, _) in chunk {
                        results.push(result(item, step.op, Some(format!("not sent: {e}"))));
                    }
                    continue;
                }
                let done = self.change(store, writer, kind, chunk).await;
                for (at, outcome) in done {
                    let (item, step, _) = chunk[at];
                    let error = match outcome {
                        Ok(()) => None,
                        Err(SyncError::Outlook(e)) if e.stops_run() && !e.is_ambiguous() => {
                            let why = e.to_string();
                            stopped.get_or_insert(e);
                            Some(why)
                        }
                        Err(e) => Some(e.to_string()),
                    };
                    results.push(result(item, step.op, error));
                }
            }
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
        let (part, container) = self.home(kind);
        let mut results = Vec::new();
        let mut bodies = Vec::new();
        let mut sent = Vec::new();
        for (item, step, written) in batch {
            let fields = to_create(store, Side::OUTLOOK, item, step)?;
            match graph::to_graph(kind, &fields, None, ZONE) {
                Ok(mut body) => {
                    graph::stamp_for(kind, &mut body, item.record.as_str());
                    if kind == RecordKind::Event {
                        // Graph makes one event per transaction id however often it is sent
                        // (resources/event.md): a resent create after a lost answer is not a
                        // second meeting.
                        body.insert("transactionId".into(), item.record.as_str().into());
                    }
                    let intent = outcome(
                        Side::OUTLOOK,
                        &item.record,
                        Op::Create,
                        written.clone(),
                        OutcomeResult::Intent,
                        Some(fields.clone()),
                    );
                    record_outcome(writer, intent).await?;
                    bodies.push(body);
                    sent.push((*item, *step, written.clone(), fields));
                }
                Err(e) => results.push(result(item, step.op, Some(e.to_string()))),
            }
        }
        let answers = self.client.create(part, container, bodies).await;
        for ((item, step, written, fields), answer) in sent.into_iter().zip(answers) {
            let outcome = match answer {
                Ok(made_item) => {
                    // Outlook as it answered, in the record's spelling where it means the same;
                    // the occurrences cancelled next are not in the answer.
                    let mut holds = created(kind, &made_item);
                    graph::keep_equivalent(&fields, &mut holds);
                    if let Some(exdates) = step.changes.get("exdates") {
                        self.cancel_occurrences(&made_item, exdates).await?;
                        holds.insert("exdates".into(), exdates.clone());
                    }
                    if let Some(changed) = step.changes.get(detached::FIELD) {
                        self.write_exceptions(&made_item, &Fields::new(), &step.changes)
                            .await?;
                        holds.insert(detached::FIELD.into(), changed.clone());
                    }
                    made(&item.record, Op::Create, written, &made_item, holds)
                }
                // No answer: the create may have been made; the next run finds it by its stamp.
                Err(e) if e.is_ambiguous() => {
                    results.push(result(item, step.op, Some(e.to_string())));
                    continue;
                }
                Err(e) => failed(
                    Side::OUTLOOK,
                    &item.record,
                    Op::Create,
                    written,
                    ("refused", &e.to_string()),
                    !matches!(e, OutlookError::Api { status: 400, .. }),
                ),
            };
            let error = error_of(&outcome);
            record_outcome(writer, outcome).await?;
            results.push(result(item, step.op, error));
        }
        Ok(results)
    }

    /// Up to 20 updates and deletes of one kind: the items read in one `$batch`, the changes
    /// sent in another, each on its `If-Match`; one that changed in Outlook in between is sent
    /// again alone. Each step's outcome, by its place in `chunk`.
    async fn change(
        &self,
        store: &Store,
        writer: &Writer,
        kind: RecordKind,
        chunk: &[&(&Item, &Step, Vec<Hlc>)],
    ) -> Vec<(usize, Result<(), SyncError>)> {
        let mut done = Vec::new();
        let (part, container) = self.home(kind);
        let mut deletes = Vec::new();
        let mut updates = Vec::new();
        for (at, (item, step, _)) in chunk.iter().enumerate() {
            match item.id_on(Side::OUTLOOK) {
                None => done.push((at, Err(OutlookError::NoId(item.label.clone()).into()))),
                Some(id) if step.op == Op::Delete => deletes.push((at, id.to_string())),
                Some(id) => updates.push((at, id.to_string())),
            }
        }
        let ids: Vec<String> = deletes.iter().map(|(_, id)| id.clone()).collect();
        let answers = self.client.delete_all(part, container, &ids).await;
        for ((at, id), answer) in deletes.into_iter().zip(answers) {
            let (item, _, written) = chunk[at];
            let outcome = match answer {
                Ok(_) => {
                    let gone = OutcomeResult::Succeeded {
                        external_id: Some(id),
                        version: None,
                    };
                    let done = outcome(
                        Side::OUTLOOK,
                        &item.record,
                        Op::Delete,
                        written.clone(),
                        gone,
                        None,
                    );
                    record_outcome(writer, done).await
                }
                Err(e) => Err(e.into()),
            };
            done.push((at, outcome));
        }
        let ids: Vec<String> = updates.iter().map(|(_, id)| id.clone()).collect();
        let currents = self.client.get_all(part, container, &ids).await;
        let mut sends: Vec<(usize, String, Map<String, Value>, String)> = Vec::new();
        for ((at, id), current) in updates.into_iter().zip(currents) {
            let (item, step, written) = chunk[at];
            let body = current
                .map_err(SyncError::from)
                .and_then(|current| Ok((self.body(store, item, step, &current)?, current)));
            match body {
                Ok((body, current)) if body.is_empty() => {
                    let outcome = self
                        .updated(store, writer, item, step, written, &current)
                        .await;
                    done.push((at, outcome));
                }
                Ok((body, current)) => {
                    let etag = text(&current, "@odata.etag").unwrap_or("*").to_string();
                    sends.push((at, id, body, etag));
                }
                Err(e) => done.push((at, Err(e))),
            }
        }
        let changes = sends
            .iter()
            .map(|(_, id, body, etag)| (id.clone(), body.clone(), etag.clone()))
            .collect();
        let answers = self.client.update_all(part, container, changes).await;
        for ((at, ..), answer) in sends.into_iter().zip(answers) {
            let (item, step, written) = chunk[at];
            let outcome = match answer {
                Ok(answer) => {
                    self.updated(store, writer, item, step, written, &answer)
                        .await
                }
                // Changed in Outlook since it was read: read again and sent alone.
                Err(e) if e.is_conflict() => {
                    self.write(store, writer, item, step, written.clone()).await
                }
                Err(e) => Err(e.into()),
            };
            done.push((at, outcome));
        }
        done.sort_by_key(|(at, _)| *at);
        done
    }

    /// What an update sends (`graph::update`), measured against what tandem knows Outlook has.
    fn body(
        &self,
        store: &Store,
        item: &Item,
        step: &Step,
        current: &Value,
    ) -> Result<Map<String, Value>, SyncError> {
        let had = had(store, Side::OUTLOOK, &item.record)?;
        match graph::update(item.kind, &had, &step.changes, current, ZONE)? {
            graph::Update::Send(body) => Ok(body),
            graph::Update::ChangedMeanwhile => {
                Err(OutlookError::ChangedMeanwhile(item.label.clone()).into())
            }
        }
    }

    /// Record an update Outlook made (`answer`: the item now), cancelling the occurrences the
    /// step cancels.
    async fn updated(
        &self,
        store: &Store,
        writer: &Writer,
        item: &Item,
        step: &Step,
        written: &[Hlc],
        answer: &Value,
    ) -> Result<(), SyncError> {
        if let Some(exdates) = step.changes.get("exdates") {
            self.cancel_occurrences(answer, exdates).await?;
        }
        let had = had(store, Side::OUTLOOK, &item.record)?;
        if step.changes.contains_key(detached::FIELD) {
            let target = tandem_protocol::record::overlay(&had, &step.changes);
            self.write_exceptions(answer, &had, &target).await?;
        }
        // What tandem believes Outlook holds: what it had, with this step's changes. A change
        // the user made meanwhile is not in it, so the next pull sees it as news.
        let side_fields = tandem_protocol::record::overlay(&had, &step.changes);
        let outcome = made(
            &item.record,
            Op::Update,
            written.to_vec(),
            answer,
            side_fields,
        );
        record_outcome(writer, outcome).await
    }

    /// One update, alone: it sends only the step's changes, laid over the item as Outlook holds
    /// it now, on the condition that it is still so (`If-Match`); when it changed in between,
    /// it is read again and sent once more: what the user changed in Outlook meanwhile stays,
    /// and the next pull brings it in.
    async fn write(
        &self,
        store: &Store,
        writer: &Writer,
        item: &Item,
        step: &Step,
        written: Vec<Hlc>,
    ) -> Result<(), SyncError> {
        let kind = item.kind;
        let (part, container) = self.home(kind);
        let id = item
            .id_on(Side::OUTLOOK)
            .ok_or_else(|| OutlookError::NoId(item.label.clone()))?
            .to_string();
        let mut answer = Err(OutlookError::Halted);
        for _ in 0..2 {
            let current = self.client.get(part, container, &id).await?;
            let body = self.body(store, item, step, &current)?;
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
        self.updated(store, writer, item, step, &written, &answer)
            .await
    }

    /// Outlook keeps a series' changed occurrences as its exceptions: each occurrence the
    /// record changes apart (from Outlook's copy `had` to `target`) is written on the series'
    /// occurrence at its original start, on that occurrence's `If-Match`. An occurrence no
    /// longer changed apart gets the series' values back; cancelled ones are deleted by
    /// `cancel_occurrences`.
    async fn write_exceptions(
        &self,
        master: &Value,
        had: &Fields,
        target: &Fields,
    ) -> Result<(), SyncError> {
        let Some(id) = text(master, "id") else {
            return Ok(());
        };
        for change in detached::row_changes(had, target) {
            let RowChange::Write {
                recurrence_id,
                fields,
                ..
            } = change
            else {
                continue;
            };
            let rid = [serde_json::to_value(&recurrence_id).unwrap_or(Value::Null)];
            let Some(window) = graph::exdate_window(&rid) else {
                continue;
            };
            let instances = self.client.instances(id, window).await?;
            let Some(occurrence) = instances
                .iter()
                .find(|o| graph::cancels(&rid, text(o, "originalStart").unwrap_or_default()))
            else {
                continue;
            };
            let now = graph::from_graph(RecordKind::Event, occurrence, ZONE)?;
            let want = tandem_protocol::record::overlay(&now, &detached::own(&fields));
            let body = graph::to_graph(RecordKind::Event, &want, Some(occurrence), ZONE)?;
            if body.is_empty() {
                continue;
            }
            let (Some(occurrence), Some(etag)) =
                (text(occurrence, "id"), text(occurrence, "@odata.etag"))
            else {
                continue;
            };
            self.client
                .update(
                    Part::Events,
                    &self.containers.calendar,
                    occurrence,
                    body,
                    etag,
                )
                .await?;
        }
        Ok(())
    }

    /// Outlook has no EXDATE: an occurrence cancelled elsewhere is deleted from the series.
    async fn cancel_occurrences(&self, master: &Value, exdates: &Value) -> Result<(), SyncError> {
        let (Some(id), Some(exdates)) = (text(master, "id"), exdates.as_array()) else {
            return Ok(());
        };
        let Some(window) = graph::exdate_window(exdates) else {
            return Ok(());
        };
        for occurrence in self.client.instances(id, window).await? {
            let original = text(&occurrence, "originalStart").unwrap_or_default();
            if graph::cancels(exdates, original)
                && text(&occurrence, "type") == Some("occurrence")
                && let Some(occurrence) = text(&occurrence, "id")
            {
                self.client
                    .delete(Part::Events, &self.containers.calendar, occurrence)
                    .await?;
            }
        }
        Ok(())
    }
}
