//! Outlook in a run: its delta rounds into the log, and the plan's Outlook steps out to it.
//!
//! A delta round's items become observations of whole records (the writer compares each with
//! what Outlook had, so reading back tandem's own write is no change); its `@removed` entries
//! become deletes of what tandem holds; the round's delta link is appended as the container's
//! watermark once the changes it covers are durable (`pull` for folders and lists, `calendar`
//! for the calendar's view of the window). Creates are exactly-once: an intent goes to the log
//! before the call, the item carries the record id, and a create whose answer was lost is
//! found by it (`push`).

mod calendar;
mod pull;
mod push;

use crate::config::Settings;
use crate::engine::SyncError;
use crate::engine::sync::Pulled;
use crate::outlook::signin::{Session, TokenFile};
use crate::outlook::{Containers, OutlookClient, OutlookError, Part};
use crate::store::{Draft, DraftBody, ObservationDraft, Pending, Store, Writer, WriterError, read};
use chrono::{DateTime, Utc};
use serde_json::Value;
use std::collections::HashSet;
use std::path::Path;
use tandem_protocol::event::Watermark;
use tandem_protocol::graph;
use tandem_protocol::plan::Item;
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
            // The calendar is read as a view of the window (`calendar`).
            RecordKind::Event => Vec::new(),
        }
    }

    /// Where tandem creates an item of `kind`.
    fn home(&self, kind: RecordKind) -> (Part, &str) {
        match kind {
            RecordKind::Contact => (Part::Contacts, &self.containers.synced_contacts),
            RecordKind::Task => (Part::Tasks, &self.containers.tasks),
            RecordKind::Event => (Part::Events, &self.containers.calendar),
        }
    }

    /// Read what changed in Outlook of one kind into the log; `now` places the calendar's
    /// window.
    pub async fn pull(
        &self,
        store: &Store,
        writer: &Writer,
        kind: RecordKind,
        rules: &Rules,
        now: DateTime<Utc>,
    ) -> Result<Pulled, SyncError> {
        match kind {
            RecordKind::Event => self.pull_calendar(store, writer, rules, now).await,
            _ => self.pull_folders(store, writer, kind, rules).await,
        }
    }

    /// Creates an earlier run announced and never recorded: each is found by its stamp (and
    /// recorded as made) or recorded as not made, so the plan makes it now — never twice.
    pub async fn adopt_pending(&self, store: &Store, writer: &Writer) -> Result<(), SyncError> {
        let pending = read::pending_creates(&store.read()?, Side::OUTLOOK)?;
        for record in pending {
            let Some((part, container)) = record.kind().map(|k| self.home(k)) else {
                continue;
            };
            let (written, meant) = announced(store, &record)?;
            let found = self
                .client
                .find_stamped(part, container, record.as_str())
                .await?;
            let outcome = match found {
                // Taken as what tandem meant to make, not as it is now: the user may have
                // changed it since (quicker than the run that recovers), and the next read must
                // bring that change in, not find it already known.
                Some(item) => made(&record, Op::Create, written, &item, meant),
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
}

/// Observations submitted to the writer and not awaited yet: queued, the writer commits them
/// together (awaiting each cost one fsync per item); all are durable before a watermark.
struct Queue<'w> {
    writer: &'w Writer,
    pending: Vec<Pending>,
    /// The items queued: one seen again waits for the first to be in the log.
    ids: HashSet<String>,
}

impl<'w> Queue<'w> {
    fn new(writer: &'w Writer) -> Queue<'w> {
        Queue {
            writer,
            pending: Vec::new(),
            ids: HashSet::new(),
        }
    }

    /// Before what tandem knows of `id` is read: the item's earlier observation, if one is
    /// queued, is in the log first.
    async fn before(&mut self, id: &str) -> Result<(), SyncError> {
        if self.ids.contains(id) {
            self.settle().await?;
        }
        Ok(())
    }

    async fn submit(&mut self, id: &str, draft: Draft) -> Result<(), SyncError> {
        self.ids.insert(id.to_string());
        self.pending.push(self.writer.submit(draft).await?);
        Ok(())
    }

    /// Wait for what is queued; an item the log refuses is reported and skipped, a log that
    /// fails stops the pull.
    async fn settle(&mut self) -> Result<(), SyncError> {
        for pending in self.pending.drain(..) {
            match pending.await {
                Ok(_) => {}
                Err(WriterError::Store(e)) => tracing::warn!("an Outlook item is left out: {e}"),
                Err(e) => return Err(e.into()),
            }
        }
        self.ids.clear();
        Ok(())
    }
}

/// Take in an item Outlook reported as `fields`: a create, an update, or no news when it is
/// what tandem knows Outlook has. `uid` names a new record (an event's iCalendar UID).
async fn observe(
    store: &Store,
    queue: &mut Queue<'_>,
    kind: RecordKind,
    item: &Value,
    fields: Fields,
    uid: Option<String>,
    pulled: &mut Pulled,
) -> Result<(), SyncError> {
    let Some(id) = text(item, "id") else {
        return Ok(());
    };
    queue.before(id).await?;
    let known = known(store, id)?;
    let mut fields = fields;
    if let Some(known) = &known {
        graph::keep_equivalent(&known.fields, &mut fields);
    }
    if known
        .as_ref()
        .is_some_and(|k| !k.deleted && k.fields == fields)
    {
        pulled.unchanged += 1;
        return Ok(());
    }
    let op = match &known {
        Some(k) if !k.deleted => Op::Update,
        _ => Op::Create,
    };
    let draft = Draft {
        origin: origin(),
        body: DraftBody::Observation(ObservationDraft {
            external_id: Some(id.to_string()),
            uid: uid.filter(|_| known.is_none()),
            version: text(item, "@odata.etag").map(str::to_string),
            changed_at_ms: text(item, "lastModifiedDateTime")
                .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                .map(|t| t.timestamp_millis()),
            snapshot: Some(fields),
            ..ObservationDraft::new(kind, op)
        }),
    };
    queue.submit(id, draft).await?;
    match op {
        Op::Create => pulled.created += 1,
        _ => pulled.updated += 1,
    }
    Ok(())
}

/// The item `id` is gone from Outlook: a delete of the record that holds it, if one does.
async fn gone(
    store: &Store,
    queue: &mut Queue<'_>,
    kind: RecordKind,
    id: &str,
    pulled: &mut Pulled,
) -> Result<(), SyncError> {
    queue.before(id).await?;
    if !known(store, id)?.is_some_and(|k| k.holds(id)) {
        return Ok(());
    }
    let draft = Draft {
        origin: origin(),
        body: DraftBody::Observation(ObservationDraft {
            external_id: Some(id.to_string()),
            ..ObservationDraft::new(kind, Op::Delete)
        }),
    };
    queue.submit(id, draft).await?;
    pulled.deleted += 1;
    Ok(())
}

/// Where the next round of a container starts, once what this one read is in the log.
async fn watermark(queue: &mut Queue<'_>, scope: String, link: String) -> Result<(), SyncError> {
    queue.settle().await?;
    let draft = Draft {
        origin: origin(),
        body: DraftBody::Watermark(Watermark {
            side: Side::OUTLOOK,
            scope,
            value: link,
        }),
    };
    queue.writer.append(draft).await?;
    Ok(())
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

/// The heads and the fields the last create intent of `record` on Outlook announced.
fn announced(store: &Store, record: &RecordId) -> Result<(Vec<Hlc>, Fields), SyncError> {
    let txn = store.read()?;
    let (written, fields) = read::record_events(&txn, record)?
        .into_iter()
        .rev()
        .find_map(|(_, event)| match event.body {
            EventBody::Outcome(Outcome {
                side: Side::OUTLOOK,
                op: Op::Create,
                result: OutcomeResult::Intent,
                written,
                side_fields,
                ..
            }) => Some((written, side_fields.unwrap_or_default())),
            _ => None,
        })
        .unwrap_or_default();
    Ok((written, fields))
}

/// A write Outlook made: the item's id and version, and the record as Outlook holds it.
fn made(
    record: &RecordId,
    op: Op,
    written: Vec<Hlc>,
    item: &Value,
    side_fields: Fields,
) -> Outcome {
    let result = OutcomeResult::Succeeded {
        external_id: text(item, "id").map(str::to_string),
        version: text(item, "@odata.etag").map(str::to_string),
    };
    outcome(record, op, written, result, Some(side_fields))
}

/// An outcome of a write to Outlook.
fn outcome(
    record: &RecordId,
    op: Op,
    written: Vec<Hlc>,
    result: OutcomeResult,
    side_fields: Option<Fields>,
) -> Outcome {
    Outcome {
        record: record.clone(),
        side: Side::OUTLOOK,
        op,
        written,
        result,
        side_fields,
        payload: None,
    }
}

/// The record as Outlook holds it after a create: as it answered.
fn created(kind: RecordKind, item: &Value) -> Fields {
    graph::from_graph(kind, item, ZONE).unwrap_or_default()
}

fn failed(
    record: &RecordId,
    op: Op,
    written: Vec<Hlc>,
    code: &str,
    message: &str,
    retryable: bool,
) -> Outcome {
    let result = OutcomeResult::Failed {
        code: code.to_string(),
        message: message.to_string(),
        retryable,
    };
    outcome(record, op, written, result, None)
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
    super::result(item, Side::OUTLOOK, op, error)
}
