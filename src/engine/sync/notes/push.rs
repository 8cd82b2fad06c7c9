//! The plan's Notes steps, carried out one by one: creates announced in the log before they
//! are sent and stamped with the record id; updates that send only the step's changes over
//! the document as Notes has it now, on its revision; deletes. Nothing tandem writes mails
//! anyone: calendar writes go with `send=false`, and deletes go through the basis API, which
//! does not schedule (the PIM API's delete always sends cancellations).

use super::{NotesConnection, ZONE, made, version};
use crate::engine::SyncError;
use crate::engine::sync::connector::{error_of, failed, had, outcome, record_outcome, to_create};
use crate::notes::NotesError;
use crate::store::{Store, Writer};
use serde_json::{Map, Value};
use tandem_protocol::notes;
use tandem_protocol::plan::{Item, Step};
use tandem_protocol::run::StepResult;
use tandem_protocol::{Hlc, Op, OutcomeResult, RecordKind, Side};

impl NotesConnection {
    /// Carry out the plan's Notes steps; the results, and the error that stopped the side.
    pub async fn push(
        &self,
        store: &Store,
        writer: &Writer,
        steps: Vec<(&Item, &Step, Vec<Hlc>)>,
    ) -> (Vec<StepResult>, Option<NotesError>) {
        let mut results = Vec::new();
        let mut stopped: Option<NotesError> = None;
        for (item, step, written) in steps {
            if let Some(e) = &stopped {
                results.push(result(item, step.op, Some(format!("not sent: {e}"))));
                continue;
            }
            let done = if !self.reaches(item.kind) {
                Err(self.unreached(item.kind).into())
            } else {
                match step.op {
                    Op::Create => self.create(store, writer, item, step, written).await,
                    Op::Delete => self.delete(writer, item, written).await,
                    _ => self.update(store, writer, item, step, written).await,
                }
            };
            let error = match done {
                Ok(error) => error,
                Err(SyncError::Notes(e)) if e.stops_run() && !e.is_ambiguous() => {
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

    /// Create the record in Notes, announced in the log first; the error the step reports.
    async fn create(
        &self,
        store: &Store,
        writer: &Writer,
        item: &Item,
        step: &Step,
        written: Vec<Hlc>,
    ) -> Result<Option<String>, SyncError> {
        let kind = item.kind;
        if kind != RecordKind::Event && !self.reach.documents {
            return Err(NotesError::NeedsScope("create").into());
        }
        let fields = to_create(store, Side::NOTES, item, step)?;
        // A contact is made in the sync category, so that it stays in scope in Notes; the
        // category is a mark of scope there, not news for the record
        // (`Rules::keep_known_categories`).
        let mut sent = fields.clone();
        if kind == RecordKind::Contact
            && let Some(categories) = self.contacts.with_category(fields.get("categories"))
        {
            sent.insert("categories".into(), categories);
        }
        let mut body = notes::to_notes(kind, &sent, None, ZONE)?;
        notes::stamp(kind, &mut body, item.record.as_str());
        let intent = outcome(
            Side::NOTES,
            &item.record,
            Op::Create,
            written.clone(),
            OutcomeResult::Intent,
            Some(fields.clone()),
        );
        record_outcome(writer, intent).await?;
        let answer = match kind {
            RecordKind::Event => self.client.create_entry(body).await,
            _ => self.client.create_document(body).await,
        };
        let outcome = match answer {
            Ok(made_item) => {
                // Notes as it answered, in the record's spelling where it means the same.
                let mut holds = notes::from_notes(kind, &made_item, ZONE).unwrap_or_default();
                notes::keep_equivalent(&fields, &mut holds);
                self.contacts.keep_known_categories(&fields, &mut holds);
                made(&item.record, Op::Create, written, &made_item, holds)
            }
            // No answer: the create may have been made; the next run finds it by its stamp.
            Err(e) if e.is_ambiguous() => return Err(e.into()),
            Err(e) => failed(
                Side::NOTES,
                &item.record,
                Op::Create,
                written,
                ("refused", &e.to_string()),
                !matches!(e, NotesError::Api { status: 400, .. }),
            ),
        };
        let error = error_of(&outcome);
        record_outcome(writer, outcome).await?;
        Ok(error)
    }

    /// The document or entry as Notes holds it now.
    async fn current(&self, kind: RecordKind, id: &str) -> Result<Value, NotesError> {
        match kind {
            RecordKind::Event => self.client.entry(id).await,
            _ => self.document(id).await,
        }
    }

    /// Send the step's changes laid over the document as Notes holds it now, on its revision;
    /// when it changed in between, it is read again and sent once more: what the user changed
    /// in Notes meanwhile stays, and the next pull brings it in.
    async fn update(
        &self,
        store: &Store,
        writer: &Writer,
        item: &Item,
        step: &Step,
        written: Vec<Hlc>,
    ) -> Result<Option<String>, SyncError> {
        let kind = item.kind;
        let id = notes_id(item)?;
        let had = had(store, Side::NOTES, &item.record)?;
        // New categories of a contact keep the sync category, or it would leave scope.
        let mut changes = step.changes.clone();
        if kind == RecordKind::Contact && changes.contains_key("categories") {
            let kept = self.contacts.with_category(changes.get("categories"));
            changes.insert("categories".into(), kept.unwrap_or(serde_json::Value::Null));
        }
        let mut tries = 0;
        let answer = loop {
            tries += 1;
            let current = self.current(kind, &id).await?;
            let body = match notes::update(kind, &had, &changes, &current, ZONE)? {
                notes::Update::Send(body) => body,
                notes::Update::ChangedMeanwhile => {
                    return Err(NotesError::ChangedMeanwhile(item.label.clone()).into());
                }
            };
            if body.is_empty() {
                break current;
            }
            match self.write(kind, &id, body, &current).await {
                Err(e) if e.is_conflict() && tries < 2 => continue,
                answer => break answer?,
            }
        };
        // What tandem believes Notes holds: what it had, with this step's changes. A change the
        // user made meanwhile is not in it, so the next pull sees it as news.
        let side_fields = tandem_protocol::record::overlay(&had, &step.changes);
        record_outcome(
            writer,
            made(&item.record, Op::Update, written, &answer, side_fields),
        )
        .await?;
        Ok(None)
    }

    async fn write(
        &self,
        kind: RecordKind,
        id: &str,
        body: Map<String, Value>,
        current: &Value,
    ) -> Result<Value, NotesError> {
        match kind {
            RecordKind::Event => self.client.replace_entry(id, body).await,
            _ if !self.reach.documents => {
                // The PIM API answers an update with a status only: the document is as read,
                // with the fields sent.
                self.client.update_pim_item(id, body.clone()).await?;
                let mut now = current.clone();
                if let Value::Object(now) = &mut now {
                    now.extend(body);
                }
                Ok(now)
            }
            _ => {
                let revision = version(current);
                self.client
                    .patch_document(id, body, revision.as_deref())
                    .await
            }
        }
    }

    /// Delete the document. A calendar entry goes through the basis API, which mails no one;
    /// a server without the mail file's scope deletes it through the PIM API, after taking the
    /// invitees off without telling them, so that the delete has no one to tell either.
    async fn delete(
        &self,
        writer: &Writer,
        item: &Item,
        written: Vec<Hlc>,
    ) -> Result<Option<String>, SyncError> {
        let id = notes_id(item)?;
        match (item.kind, self.reach.documents) {
            (_, true) => self.client.delete_document(&id).await?,
            (RecordKind::Event, false) => self.client.delete_entry_quietly(&id).await?,
            (_, false) => return Err(NotesError::NeedsScope("delete").into()),
        }
        let gone = OutcomeResult::Succeeded {
            external_id: Some(id),
            version: None,
        };
        record_outcome(
            writer,
            outcome(Side::NOTES, &item.record, Op::Delete, written, gone, None),
        )
        .await?;
        Ok(None)
    }
}

/// The UNID of the document the step writes.
fn notes_id(item: &Item) -> Result<String, NotesError> {
    item.id_on(Side::NOTES)
        .map(str::to_string)
        .ok_or_else(|| NotesError::NoId(item.label.clone()))
}

fn result(item: &Item, op: Op, error: Option<String>) -> StepResult {
    super::super::result(item, Side::NOTES, op, error)
}
