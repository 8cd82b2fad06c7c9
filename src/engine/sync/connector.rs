//! What the connector sides (Outlook, Notes) share in a run: their items into the log as
//! observations of whole records, queued so the writer commits them together; deletes of what
//! tandem holds; a container's watermark once what it covers is durable; and the outcomes of
//! their writes, each create announced as an intent before it is sent.

use crate::engine::SyncError;
use crate::engine::sync::Pulled;
use crate::store::{
    Draft, DraftBody, ObservationDraft, Pending, SideState, Store, Writer, WriterError, read,
};
use std::collections::HashSet;
use tandem_protocol::event::Watermark;
use tandem_protocol::plan::{Item, Step};
use tandem_protocol::rules::Rules;
use tandem_protocol::run::StepResult;
use tandem_protocol::{
    EventBody, Fields, Hlc, Op, Origin, Outcome, OutcomeResult, RecordId, RecordKind, Side,
};

/// Observations submitted to the writer and not awaited yet: queued, the writer commits them
/// together (awaiting each cost one fsync per item); all are durable before a watermark.
pub struct Queue<'w> {
    side: Side,
    writer: &'w Writer,
    pending: Vec<Pending>,
    /// The items queued: one seen again waits for the first to be in the log.
    ids: HashSet<String>,
}

/// An item a side reported, as the log takes it in.
pub struct Seen {
    /// The side's id of the item.
    pub id: String,
    /// Its version (an ETag, a revision), kept with the side's copy.
    pub version: Option<String>,
    /// When the side says it last changed.
    pub changed_at_ms: Option<i64>,
    /// The record's fields as the side holds them.
    pub fields: Fields,
    /// The UID a new record takes (an event's iCalendar UID).
    pub uid: Option<String>,
}

impl<'w> Queue<'w> {
    pub fn new(side: Side, writer: &'w Writer) -> Queue<'w> {
        Queue {
            side,
            writer,
            pending: Vec::new(),
            ids: HashSet::new(),
        }
    }

    fn origin(&self) -> Origin {
        Origin::new(self.side, format!("{}:pull", self.side))
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
    pub async fn settle(&mut self) -> Result<(), SyncError> {
        for pending in self.pending.drain(..) {
            match pending.await {
                Ok(_) => {}
                Err(WriterError::Store(e)) => {
                    tracing::warn!("an item of {} is left out: {e}", self.side.title())
                }
                Err(e) => return Err(e.into()),
            }
        }
        self.ids.clear();
        Ok(())
    }

    /// Take in an item the side reported: a create, an update, or no news when it is what
    /// tandem knows the side has. `keep_equivalent` keeps the known spelling of what the side
    /// spells differently and means the same.
    pub async fn observe(
        &mut self,
        store: &Store,
        kind: RecordKind,
        seen: Seen,
        keep_equivalent: fn(&Fields, &mut Fields),
        pulled: &mut Pulled,
    ) -> Result<(), SyncError> {
        self.before(&seen.id).await?;
        let known = known(store, self.side, &seen.id)?;
        let mut fields = seen.fields;
        if let Some(known) = &known {
            keep_equivalent(&known.fields, &mut fields);
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
            origin: self.origin(),
            body: DraftBody::Observation(ObservationDraft {
                external_id: Some(seen.id.clone()),
                uid: seen.uid.filter(|_| known.is_none()),
                version: seen.version,
                changed_at_ms: seen.changed_at_ms,
                snapshot: Some(fields),
                ..ObservationDraft::new(kind, op)
            }),
        };
        self.submit(&seen.id, draft).await?;
        match op {
            Op::Create => pulled.created += 1,
            _ => pulled.updated += 1,
        }
        Ok(())
    }

    /// The item `id` is gone from the side: a delete of the record that holds it, if one does.
    pub async fn gone(
        &mut self,
        store: &Store,
        kind: RecordKind,
        id: &str,
        pulled: &mut Pulled,
    ) -> Result<(), SyncError> {
        self.before(id).await?;
        if !known(store, self.side, id)?.is_some_and(|k| k.holds(id)) {
            return Ok(());
        }
        let draft = Draft {
            origin: self.origin(),
            body: DraftBody::Observation(ObservationDraft {
                external_id: Some(id.to_string()),
                ..ObservationDraft::new(kind, Op::Delete)
            }),
        };
        self.submit(id, draft).await?;
        pulled.deleted += 1;
        Ok(())
    }

    /// Where the next read of a container starts, once what this one read is in the log.
    pub async fn watermark(&mut self, scope: String, value: String) -> Result<(), SyncError> {
        self.settle().await?;
        let draft = Draft {
            origin: self.origin(),
            body: DraftBody::Watermark(Watermark {
                side: self.side,
                scope,
                value,
            }),
        };
        self.writer.append(draft).await?;
        Ok(())
    }
}

/// What tandem knows of the record the side's `id` names: the side's copy.
pub fn known(store: &Store, side: Side, id: &str) -> Result<Option<SideState>, SyncError> {
    let txn = store.read()?;
    let Some(record) = read::record_on(&txn, side, id)? else {
        return Ok(None);
    };
    Ok(Some(
        read::side_state(&txn, &record, side)?.unwrap_or_default(),
    ))
}

/// The UID of the record the side's `id` is linked to, if one is: what its overrides are
/// rendered with.
pub fn uid_of(store: &Store, side: Side, id: &str) -> Result<Option<String>, SyncError> {
    let txn = store.read()?;
    let Some(record) = read::record_on(&txn, side, id)? else {
        return Ok(None);
    };
    let uid = read::record(&txn, &record)?.and_then(|r| r.uid);
    Ok(Some(tandem_protocol::dav::layout::uid_for(
        &record,
        uid.as_deref(),
    )))
}

/// What a create on `side` sends: the record as the side holds it now (it may have changed
/// since the plan was made), or the step's changes for a record no longer there.
pub fn to_create(store: &Store, side: Side, item: &Item, step: &Step) -> Result<Fields, SyncError> {
    Ok(read::record(&store.read()?, &item.record)?
        .map(|r| tandem_protocol::plan::project(side, item.kind, &r.fields))
        .unwrap_or_else(|| step.changes.clone()))
}

/// What tandem believes `side` holds of `record`.
pub fn had(store: &Store, side: Side, record: &RecordId) -> Result<Fields, SyncError> {
    Ok(read::side_state(&store.read()?, record, side)?
        .map(|s| s.fields)
        .unwrap_or_default())
}

/// The heads and the fields the last create intent of `record` on `side` announced.
pub fn announced(
    store: &Store,
    side: Side,
    record: &RecordId,
) -> Result<(Vec<Hlc>, Fields), SyncError> {
    let txn = store.read()?;
    let (written, fields) = read::record_events(&txn, record)?
        .into_iter()
        .rev()
        .find_map(|(_, event)| match event.body {
            EventBody::Outcome(Outcome {
                side: on,
                op: Op::Create,
                result: OutcomeResult::Intent,
                written,
                side_fields,
                ..
            }) if on == side => Some((written, side_fields.unwrap_or_default())),
            _ => None,
        })
        .unwrap_or_default();
    Ok((written, fields))
}

/// An outcome of a write to `side`.
pub fn outcome(
    side: Side,
    record: &RecordId,
    op: Op,
    written: Vec<Hlc>,
    result: OutcomeResult,
    side_fields: Option<Fields>,
) -> Outcome {
    Outcome {
        record: record.clone(),
        side,
        op,
        written,
        result,
        side_fields,
        payload: None,
    }
}

/// A write the side made: the item's id and version, and the record as the side holds it.
pub fn made(
    side: Side,
    record: &RecordId,
    op: Op,
    written: Vec<Hlc>,
    (id, version): (Option<String>, Option<String>),
    side_fields: Fields,
) -> Outcome {
    let result = OutcomeResult::Succeeded {
        external_id: id,
        version,
    };
    outcome(side, record, op, written, result, Some(side_fields))
}

/// A write the side refused, or that never reached it.
pub fn failed(
    side: Side,
    record: &RecordId,
    op: Op,
    written: Vec<Hlc>,
    (code, message): (&str, &str),
    retryable: bool,
) -> Outcome {
    let result = OutcomeResult::Failed {
        code: code.to_string(),
        message: message.to_string(),
        retryable,
    };
    outcome(side, record, op, written, result, None)
}

/// The error a failed outcome reports for its step.
pub fn error_of(outcome: &Outcome) -> Option<String> {
    match &outcome.result {
        OutcomeResult::Failed { message, .. } => Some(message.clone()),
        _ => None,
    }
}

pub async fn record_outcome(writer: &Writer, outcome: Outcome) -> Result<(), SyncError> {
    let draft = Draft {
        origin: Origin::new(Side::TANDEM, format!("{}:push", outcome.side)),
        body: DraftBody::Outcome(outcome),
    };
    writer.append(draft).await?;
    Ok(())
}

/// A connector side reached for a run: one of the PIMs tandem reads and writes through its own
/// API (the DAV server's clients come to tandem instead).
pub enum Connector {
    Outlook(super::OutlookConnection),
    Notes(super::NotesConnection),
}

impl Connector {
    pub fn side(&self) -> Side {
        match self {
            Connector::Outlook(_) => Side::OUTLOOK,
            Connector::Notes(_) => Side::NOTES,
        }
    }

    /// Requests made so far.
    pub fn calls(&self) -> u64 {
        match self {
            Connector::Outlook(c) => c.client.stats().calls,
            Connector::Notes(c) => c.client.stats().calls,
        }
    }

    /// Read what changed of one kind into the log; `now` places the calendar's window.
    pub async fn pull(
        &self,
        store: &Store,
        writer: &Writer,
        kind: RecordKind,
        rules: &Rules,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Pulled, SyncError> {
        match self {
            Connector::Outlook(c) => c.pull(store, writer, kind, rules, now).await,
            Connector::Notes(c) => c.pull(store, writer, kind, rules, now).await,
        }
    }

    /// Settle the creates an earlier run announced and never recorded; `events` and `now`
    /// place the calendar's window.
    pub async fn adopt_pending(
        &self,
        store: &Store,
        writer: &Writer,
        events: &Rules,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), SyncError> {
        match self {
            Connector::Outlook(c) => c.adopt_pending(store, writer).await,
            Connector::Notes(c) => c.adopt_pending(store, writer, events, now).await,
        }
    }

    /// Carry out the plan's steps on this side; the results, and why the side stopped.
    pub async fn push(
        &self,
        store: &Store,
        writer: &Writer,
        steps: Vec<(&Item, &Step, Vec<Hlc>)>,
    ) -> (Vec<StepResult>, Option<String>) {
        match self {
            Connector::Outlook(c) => {
                let (results, stopped) = c.push(store, writer, steps).await;
                (results, stopped.map(|e| e.to_string()))
            }
            Connector::Notes(c) => {
                let (results, stopped) = c.push(store, writer, steps).await;
                (results, stopped.map(|e| e.to_string()))
            }
        }
    }
}
