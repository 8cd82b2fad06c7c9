//! The single writer: one thread owns redb's write side and appends with group commit.
//!
//! Producers send drafts over a channel and wait for an acknowledgement. The writer takes every
//! draft that is waiting, stamps each with the store's hybrid logical clock, checks and projects
//! it, and commits them all in one transaction made durable by one record in the log's tail
//! (`tail`) — one fsync shared by every producer in the batch. An acknowledgement is sent only
//! after that, so nothing is acknowledged before it is durable. A draft that fails its checks is
//! refused on its own; the others in the batch are unaffected. When no draft came for a while,
//! and when the tail is full, a checkpoint makes everything durable in the store file itself.

use super::draft::{Draft, DraftBody, FileGuard, Guard, ObservationDraft};
use super::project::decode;
use super::tables::Tables;
use super::tail::{self, Tail};
use super::{Projector, SideState, Store, StoreError, dav, files, read};
use redb::ReadableTable;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use tandem_protocol::dav::conditional::Current;
use tandem_protocol::dav::resource::split_member;
use tandem_protocol::{Event, EventBody, Hlc, HlcClock, Observation, Op, Policies, RecordId};
use tokio::sync::{mpsc, oneshot};

/// Drafts committed together at most; bounds the latency of the first one in a burst.
const MAX_BATCH: usize = 1_024;

/// How long the writer waits without a draft before it checkpoints what the tail holds: a
/// burst of writes is made durable in the store file soon after it ends, in time nobody waits
/// on, and readers get redb's whole cache back.
const IDLE: std::time::Duration = std::time::Duration::from_millis(50);

/// The answer to a producer: where its event now is in the log.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Ack {
    pub seq: u64,
    pub hlc: Hlc,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record: Option<RecordId>,
}

#[derive(Debug, thiserror::Error)]
pub enum WriterError {
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("the writer has stopped; restart tandem")]
    Stopped,
}

/// Wall-clock milliseconds; a parameter so tests can drive time.
pub type WallClock = Arc<dyn Fn() -> u64 + Send + Sync>;

pub fn system_clock() -> WallClock {
    Arc::new(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0)
    })
}

/// Where a producer hears what became of its draft.
type Reply = oneshot::Sender<Result<Ack, WriterError>>;

struct Job {
    draft: Draft,
    reply: Reply,
}

enum Message {
    Append(Box<Job>),
    /// Appended in one transaction: all of them are durable, or none.
    Together(Vec<Job>),
    /// Finish what is queued, then close the store and end the thread.
    Stop,
}

/// The writer's thread, which ends with its last checkpoint.
type Thread = std::thread::JoinHandle<Result<(), StoreError>>;

#[derive(Clone)]
pub struct Writer {
    jobs: mpsc::Sender<Message>,
    commits: Arc<std::sync::atomic::AtomicU64>,
    thread: Arc<std::sync::Mutex<Option<Thread>>>,
}

impl Writer {
    /// Start the writer thread for `store`. It stops when the last `Writer` handle is dropped.
    pub fn spawn(
        store: Arc<Store>,
        policies: Policies,
        wall: WallClock,
    ) -> Result<Writer, StoreError> {
        let projector = Projector::new(policies);
        let mut tail = prepare(&store, &projector)?;
        let last = read::last_event(&store.read()?)?;
        let mut clock = HlcClock::resume(last.as_ref().map_or(Hlc::ZERO, |(_, e)| e.hlc));
        let mut next_seq = last.map_or(1, |(seq, _)| seq + 1);
        let (jobs, mut inbox) = mpsc::channel::<Message>(MAX_BATCH * 4);
        let commits = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let counter = commits.clone();
        // The writer's own clock for waiting at most `IDLE` for the next draft.
        let waiting = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .map_err(|e| StoreError::Storage(format!("cannot start the writer's timer: {e}")))?;
        let thread = std::thread::Builder::new()
            .name("tandem-writer".into())
            .spawn(move || {
                let mut stopping = false;
                let mut opened = store.openings();
                // A group that came while a batch was gathered: the next batch, alone.
                let mut next: Option<Vec<Job>> = None;
                while !stopping {
                    let message = match next.take() {
                        Some(group) => Some(Message::Together(group)),
                        None if tail.held() == 0 => waiting.block_on(inbox.recv()),
                        None => match waiting
                            .block_on(async { tokio::time::timeout(IDLE, inbox.recv()).await })
                        {
                            Ok(message) => message,
                            Err(_) => {
                                if let Err(e) = checkpoint(&store, &mut tail) {
                                    tracing::warn!(error = %e, "a checkpoint of the store failed; it is tried again later");
                                }
                                continue;
                            }
                        },
                    };
                    let mut batch = match message {
                        Some(Message::Append(first)) => vec![*first],
                        Some(Message::Together(group)) => group,
                        Some(Message::Stop) | None => break,
                    };
                    while batch.len() < MAX_BATCH && next.is_none() {
                        match inbox.try_recv() {
                            Ok(Message::Append(job)) => batch.push(*job),
                            Ok(Message::Together(group)) => next = Some(group),
                            Ok(Message::Stop) => {
                                stopping = true;
                                break;
                            }
                            Err(_) => break,
                        }
                    }
                    let at = (&mut clock, &mut next_seq, &mut opened);
                    commit_batch(&store, &projector, &mut tail, at, &wall, batch, &counter);
                }
                if let Some(group) = next {
                    let at = (&mut clock, &mut next_seq, &mut opened);
                    commit_batch(&store, &projector, &mut tail, at, &wall, group, &counter);
                }
                // The last checkpoint; `store` is dropped after it, which closes the redb file
                // cleanly.
                checkpoint(&store, &mut tail)
            })
            .map_err(|e| StoreError::Storage(format!("cannot start the writer thread: {e}")))?;
        Ok(Writer {
            jobs,
            commits,
            thread: Arc::new(std::sync::Mutex::new(Some(thread))),
        })
    }

    /// How many transactions (each one fsync) the writer has committed so far, checkpoints
    /// aside.
    pub fn commits(&self) -> u64 {
        self.commits.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Append what is queued, close the store and wait for the writer thread to end. Without
    /// this, a process that exits leaves the file marked as not closed cleanly and the next
    /// open has to recover it. Fails when the last checkpoint did: what was acknowledged is in
    /// the log's tail, and the next opening of the store needs room to take it in.
    pub async fn close(&self) -> Result<(), WriterError> {
        let _ = self.jobs.send(Message::Stop).await;
        let thread = self.thread.lock().ok().and_then(|mut t| t.take());
        let Some(thread) = thread else {
            return Ok(());
        };
        match tokio::task::spawn_blocking(move || thread.join()).await {
            Ok(Ok(closed)) => Ok(closed?),
            // The thread panicked: `Stopped` was said to every producer already.
            _ => Err(WriterError::Stopped),
        }
    }

    /// Append one event; returns once it is durable.
    pub async fn append(&self, draft: Draft) -> Result<Ack, WriterError> {
        self.submit(draft).await?.await
    }

    /// Append events in one transaction, so that a crash leaves all of them or none; returns
    /// once they are durable, with each one's acknowledgement in order.
    pub async fn append_together(
        &self,
        drafts: Vec<Draft>,
    ) -> Result<Vec<Result<Ack, WriterError>>, WriterError> {
        let mut jobs = Vec::with_capacity(drafts.len());
        let mut answers = Vec::with_capacity(drafts.len());
        for draft in drafts {
            let (reply, answer) = oneshot::channel();
            jobs.push(Job { draft, reply });
            answers.push(Pending(answer));
        }
        self.jobs
            .send(Message::Together(jobs))
            .await
            .map_err(|_| WriterError::Stopped)?;
        let mut acks = Vec::with_capacity(answers.len());
        for answer in answers {
            acks.push(answer.await);
        }
        Ok(acks)
    }

    /// Queue an event and return at once with the future of its acknowledgement. Events are
    /// appended in the order they are submitted, so a producer can keep many in flight without
    /// losing its order.
    pub async fn submit(&self, draft: Draft) -> Result<Pending, WriterError> {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Message::Append(Box::new(Job { draft, reply })))
            .await
            .map_err(|_| WriterError::Stopped)?;
        Ok(Pending(answer))
    }
}

/// An acknowledgement to come: resolves once the event is durable (or refused).
pub struct Pending(oneshot::Receiver<Result<Ack, WriterError>>);

impl std::future::Future for Pending {
    type Output = Result<Ack, WriterError>;
    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        std::pin::Pin::new(&mut self.0)
            .poll(cx)
            .map(|r| r.unwrap_or(Err(WriterError::Stopped)))
    }
}

/// Bring a store opened for writing up to date before anything is read from it or appended to
/// it: the events of the log's tail recovered, the projections of an older layout rebuilt.
/// Returns the tail, empty.
pub fn prepare(store: &Store, projector: &Projector) -> Result<Tail, StoreError> {
    store.with_db(|_| Ok(()))?;
    store.project_under(projector.policies());
    let upgrade = store.needs_upgrade()?;
    // An older layout's projections are rebuilt from the log next: the tail goes into the log
    // alone.
    let tail = recovered(store, projector, !upgrade)?;
    if upgrade {
        let events = super::replay::upgrade(store, projector.policies())?;
        tracing::info!(
            events,
            "the store's projections were rebuilt for this version"
        );
    }
    Ok(tail)
}

/// Open the tail beside the store and bring the store up to its end (see `tail::take_in`).
fn recovered(store: &Store, projector: &Projector, project: bool) -> Result<Tail, StoreError> {
    let path = store.path();
    store.with_db(|db| tail::take_in(db, path, projector, project))
}

/// Make everything committed so far durable in the store file, and empty the tail. A failure
/// leaves the tail as it was, to be checkpointed again later or recovered after a crash.
fn checkpoint(store: &Store, tail: &mut Tail) -> Result<(), StoreError> {
    if tail.held() == 0 {
        return Ok(());
    }
    let durable = store
        .begin_write()
        .and_then(|txn| Ok(txn.commit()?))
        .and_then(|()| tail.clear().map_err(|e| tail_error(store, e)));
    if let Err(StoreError::DiskFull | StoreError::AfterFailedWrite) = &durable {
        store.mark_broken();
    }
    durable
}

fn tail_error(store: &Store, source: std::io::Error) -> StoreError {
    tail::error(store.path(), source)
}

/// Append and commit one batch; `at` is the writer's clock and next position, rewound when
/// nothing of the batch became durable; `commits` counts the commits, before anyone is
/// answered.
fn commit_batch(
    store: &Store,
    projector: &Projector,
    tail: &mut Tail,
    (clock, next_seq, opened): (&mut HlcClock, &mut u64, &mut u64),
    wall: &WallClock,
    batch: Vec<Job>,
    commits: &std::sync::atomic::AtomicU64,
) {
    let mut txn = loop {
        if let Err(e) = resume_after_reopening(store, projector, tail, clock, next_seq, opened) {
            return fail_all(batch, &e);
        }
        match store.begin_write() {
            // Opened again meanwhile: the tail goes back into it first.
            Ok(_) if store.openings() != *opened => continue,
            Ok(txn) => break txn,
            Err(e) => return fail_all(batch, &e),
        }
    };
    let mut tables = match Tables::open(&txn) {
        Ok(tables) => tables,
        Err(e) => return fail_all(batch, &e.into()),
    };
    let (clock_before, seq_before) = (clock.last(), *next_seq);
    let mut answers = Vec::with_capacity(batch.len());
    let mut logged = Vec::with_capacity(batch.len());
    for job in batch {
        let hlc = clock.tick(wall());
        let mut draft = job.draft;
        let parsed = match &mut draft.body {
            DraftBody::Observation(o) => o.extent.take(),
            _ => None,
        };
        let result = stamp(&tables, hlc, draft).and_then(|event| {
            let bytes = projector.append(&mut tables, *next_seq, &event, parsed.as_ref())?;
            logged.push((*next_seq, bytes));
            Ok(Ack {
                seq: *next_seq,
                hlc,
                record: event.record().cloned(),
            })
        });
        match &result {
            Ok(_) => *next_seq += 1,
            // The storage itself failed midway: this transaction may hold part of an event,
            // so none of the batch may be committed.
            Err(error) if error.is_storage_failure() => {
                drop(tables);
                drop(txn);
                let replies = answers.into_iter().map(|(reply, _)| reply);
                let replies = replies.chain([job.reply]).collect();
                let before = (clock_before, seq_before);
                return abandon(store, error, replies, clock, next_seq, before);
            }
            Err(_) => {}
        }
        answers.push((job.reply, result));
    }
    drop(tables);
    let before = (clock_before, seq_before);
    // A batch the tail has no room for is made durable, with everything before it, by a
    // durable commit: a checkpoint.
    let checkpoint = !tail.fits(&logged);
    let mut appended = false;
    if !checkpoint {
        if !logged.is_empty() {
            let events = logged.iter().map(|(seq, bytes)| (*seq, bytes.as_slice()));
            if let Err(e) = tail.append(events) {
                drop(txn);
                let replies = answers.into_iter().map(|(reply, _)| reply).collect();
                return abandon(
                    store,
                    &tail_error(store, e),
                    replies,
                    clock,
                    next_seq,
                    before,
                );
            }
            appended = true;
        }
        if let Err(e) = txn.set_durability(redb::Durability::None) {
            // Only a persistent savepoint refuses it, and the writer makes none.
            tracing::warn!(error = %e, "a commit is made durable in the store file instead");
        }
    }
    match txn.commit() {
        Ok(()) => {
            commits.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            if checkpoint && let Err(e) = tail.clear() {
                // Its events are in the store file for good; it is emptied at the next one.
                tracing::warn!(error = %e, "the log's tail could not be emptied");
            }
            for (reply, result) in answers {
                let _ = reply.send(result.map_err(WriterError::from));
            }
        }
        Err(e) => {
            if appended {
                // The batch is durable in the tail but not in redb: the store is opened again
                // and the tail recovered into it before anything else is appended.
                store.mark_broken();
            }
            let replies = answers.into_iter().map(|(reply, _)| reply).collect();
            abandon(
                store,
                &StoreError::from(e),
                replies,
                clock,
                next_seq,
                before,
            );
        }
    }
}

/// Nothing of a batch became durable: rewind the clock and the positions so the next batch
/// reuses them, have the store reopened at its next use if the disk failed, and give every
/// producer of the batch the failure.
fn abandon(
    store: &Store,
    error: &StoreError,
    replies: Vec<Reply>,
    clock: &mut HlcClock,
    next_seq: &mut u64,
    (clock_before, seq_before): (Hlc, u64),
) {
    *clock = HlcClock::resume(clock_before);
    *next_seq = seq_before;
    if matches!(error, StoreError::DiskFull | StoreError::AfterFailedWrite) {
        store.mark_broken();
    }
    for reply in replies {
        let _ = reply.send(Err(again(error).into()));
    }
}

/// The file was opened again after a failed write (for the writer or a reader): it holds its
/// last checkpoint, so the tail goes back into it; then resume from the log as it is now, since
/// a commit that reported failure may still have reached the disk and its positions must not be
/// written twice.
fn resume_after_reopening(
    store: &Store,
    projector: &Projector,
    tail: &mut Tail,
    clock: &mut HlcClock,
    next_seq: &mut u64,
    opened: &mut u64,
) -> Result<(), StoreError> {
    store.with_db(|_| Ok(()))?;
    if store.openings() == *opened {
        return Ok(());
    }
    *tail = recovered(store, projector, true)?;
    *opened = store.openings();
    if let Some((seq, event)) = read::last_event(&store.read()?)? {
        *clock = HlcClock::resume(event.hlc.max(clock.last()));
        *next_seq = seq + 1;
    }
    Ok(())
}

fn fail_all(batch: Vec<Job>, error: &StoreError) {
    for job in batch {
        let _ = job.reply.send(Err(again(error).into()));
    }
}

/// The same failure for another producer of the batch: a full disk stays a full disk (the DAV
/// server answers it with 507), anything else keeps its words.
fn again(error: &StoreError) -> StoreError {
    match error {
        StoreError::DiskFull => StoreError::DiskFull,
        StoreError::AfterFailedWrite => StoreError::AfterFailedWrite,
        other => StoreError::Storage(other.to_string()),
    }
}

/// Turn a draft into the event the log will hold: timestamp, record id and causal base filled
/// in, so that replaying the event never needs anything but the event.
fn stamp(t: &Tables, hlc: Hlc, draft: Draft) -> Result<Event, StoreError> {
    let body = match draft.body {
        DraftBody::Observation(o) => {
            EventBody::Observation(complete(t, hlc, draft.origin.side, o)?)
        }
        DraftBody::Decision(d) => EventBody::Decision(d),
        DraftBody::Outcome(o) => EventBody::Outcome(o),
        DraftBody::DesktopWrite(w) => {
            let probe = ObservationDraft {
                external_id: Some(w.href.clone()),
                ..ObservationDraft::new(tandem_protocol::RecordKind::Event, Op::Update)
            };
            let guard = Guard {
                version: Some(w.condition),
                unique_uid: false,
            };
            check_guard(t, &guard, &probe)?;
            EventBody::Outcome(w.outcome)
        }
        DraftBody::Watermark(w) => EventBody::Watermark(w),
        DraftBody::Run(r) => EventBody::Run(r),
        DraftBody::Collection(c) => EventBody::Collection(c),
        DraftBody::File(f) => {
            for guard in &f.guards {
                check_file_guard(t, guard)?;
            }
            EventBody::File(f.change)
        }
    };
    Ok(Event::new(hlc, draft.origin, body))
}

fn complete(
    t: &Tables,
    hlc: Hlc,
    side: tandem_protocol::Side,
    o: ObservationDraft,
) -> Result<Observation, StoreError> {
    let lookup = |alias: String| -> Result<Option<RecordId>, StoreError> {
        match t.aliases.get(alias.as_str())? {
            Some(id) => Ok(RecordId::parse(id.value()).ok()),
            None => Ok(None),
        }
    };
    // The side's own id names the record; the UID only when the side gives no id of its own
    // (two DAV resources with one UID in different calendars are two records).
    let known = match (&o.record, &o.external_id, &o.uid) {
        (Some(id), _, _) => Some(id.clone()),
        (None, Some(ext), _) => lookup(super::alias::on_side(side, ext))?,
        (None, None, Some(uid)) => lookup(super::alias::uid(uid))?,
        _ => None,
    };
    if let Some(guard) = &o.guard {
        check_guard(t, guard, &o)?;
    }
    let record = match known {
        Some(id) => id,
        None if o.op == Op::Create => RecordId::derive(o.kind, hlc),
        None => {
            return Err(StoreError::Rejected(tandem_protocol::Error::NoSuchRecord {
                record: o
                    .external_id
                    .or(o.uid)
                    .unwrap_or_else(|| "(no id given)".into()),
                op: if o.op == Op::Delete {
                    "deleted"
                } else {
                    "updated"
                },
            }));
        }
    };
    let side_state: Option<SideState> = match t.sides.get((record.as_str(), side.as_str()))? {
        Some(bytes) => Some(decode("sides", bytes.value())?),
        None => None,
    };
    let mut changes = match o.snapshot {
        Some(snapshot) => {
            let had = side_state
                .as_ref()
                .map(|s| s.fields.clone())
                .unwrap_or_default();
            tandem_protocol::record::difference(&had, &snapshot)
        }
        None => o.changes,
    };
    // What a side's copy alone holds (a series' occurrences as that side keeps them apart) is
    // no field of the record.
    changes.remove(tandem_protocol::mapping::detached::FIELD);
    let base = match (o.base, &side_state) {
        (Some(base), _) => base,
        // A side reporting a whole record made its change on top of what it had.
        (None, Some(side_state)) if !side_state.seen.is_empty() => side_state.seen.clone(),
        (None, _) => match t.records.get(record.as_str())? {
            Some(row) => super::project::record_state(row.value())?.heads,
            None => vec![],
        },
    };
    Ok(Observation {
        record,
        kind: o.kind,
        op: o.op,
        external_id: o.external_id,
        uid: o.uid,
        version: o.version,
        changed_at_ms: o.changed_at_ms,
        base,
        changes,
        payload: o.payload,
    })
}

/// Check a conditional request against the DAV member it targets, inside the transaction that
/// will append it, so no other change can slip in between the check and the write.
fn check_guard(t: &Tables, guard: &Guard, o: &ObservationDraft) -> Result<(), StoreError> {
    let href = o.external_id.as_deref().unwrap_or_default();
    let Some((collection, name)) = split_member(href) else {
        return Err(StoreError::PreconditionFailed(format!(
            "{href} is not a collection member"
        )));
    };
    let current = dav::item_in(&t.dav_items, collection, name)?.filter(|item| item.live());
    if let Some(condition) = &guard.version {
        let at = current
            .as_ref()
            .map_or(Current::Missing, |i| Current::At(&i.etag));
        condition
            .check(href, at)
            .map_err(|unmet| StoreError::PreconditionFailed(unmet.to_string()))?;
    }
    if let (true, Some(uid)) = (guard.unique_uid, o.uid.as_deref()) {
        let holder = t
            .dav_uids
            .get((collection, uid))?
            .map(|n| n.value().to_string());
        if let Some(holder) = holder.filter(|h| h != name) {
            return Err(StoreError::UidConflict {
                uid: uid.to_string(),
                existing: format!("{collection}{holder}"),
            });
        }
    }
    Ok(())
}

/// Check a condition on a path of the file area inside the appending transaction.
fn check_file_guard(t: &Tables, guard: &FileGuard) -> Result<(), StoreError> {
    let current = if guard.path == files::ROOT {
        None
    } else {
        match t.files.get(guard.path.as_str())? {
            Some(bytes) => Some(decode::<files::FileState>("files", bytes.value())?),
            None => None,
        }
    };
    let at = match &current {
        None => Current::Missing,
        Some(state) => state
            .etag
            .as_deref()
            .map_or(Current::Unversioned, Current::At),
    };
    guard
        .condition
        .check(&guard.path, at)
        .map_err(|unmet| StoreError::PreconditionFailed(unmet.to_string()))
}
