//! Salesforce changes into the log. A pull's rows become observations of whole records — the
//! writer compares each with what Salesforce had (its last report, or tandem's last write), so a
//! row tandem wrote itself is no change — its deletions become deletes, and the watermark is
//! appended last, once the changes it covers are durable. One row that cannot be mapped is
//! reported and skipped; it never stops the others.
//!
//! Event series are the exception to "one row, one record": Salesforce keeps a row per
//! occurrence. A deleted occurrence row is a cancellation of its series (an EXDATE), and the
//! deleted first row of a series that goes on moves the series to its next row.

use crate::engine::SyncError;
use crate::salesforce::client::{PullRequest, Row, SalesforceClient};
use crate::store::{
    Draft, DraftBody, ObservationDraft, Pending, SideState, Store, Writer, WriterError, read,
};
use chrono::{DateTime, Utc};
use std::collections::{BTreeSet, HashSet};
use tandem_protocol::event::Watermark;
use tandem_protocol::mapping::{self, SalesforceContext, object_name};
use tandem_protocol::record::When;
use tandem_protocol::{Op, Origin, Outcome, OutcomeResult, RecordKind, Side};

/// What one pull did to the log.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PullSummary {
    pub created: usize,
    pub updated: usize,
    /// Rows identical to what tandem already had (overlap re-reads, tandem's own writes).
    pub unchanged: usize,
    pub deleted: usize,
    /// Rows that could not be taken in: the Salesforce id and why.
    pub errors: Vec<(String, String)>,
    /// Whether the pull compared every id (first run, or the delete history was missed).
    pub full: bool,
    /// Rows that are later occurrences of an event series: the series' first occurrence stands
    /// for all of them.
    pub series_occurrences: usize,
    /// Occurrences of a series deleted in Salesforce, taken in as cancellations of the series.
    pub cancelled_occurrences: usize,
}

fn text<'a>(row: &'a Row, field: &str) -> Option<&'a str> {
    row.get(field).and_then(|v| v.as_str())
}

/// Pull one kind of record and append what changed.
pub async fn pull_into_log(
    client: &SalesforceClient,
    writer: &Writer,
    store: &Store,
    kind: RecordKind,
    ctx: &SalesforceContext,
    filter: Option<String>,
) -> Result<PullSummary, SyncError> {
    let object = object_name(kind);
    let scope = watermark_scope(object);
    let watermark = stored_watermark(store, &scope)?;
    // A first pull compares every id only if there is something to compare with (a store whose
    // watermark was lost); later pulls learn from the delete history whether they must.
    let holds_records = watermark.is_none() && !known_ids(store, kind)?.is_empty();
    let mut pull = client
        .pull(&PullRequest {
            object: object.to_string(),
            fields: mapping::select_fields(kind, ctx),
            filter,
            include_archived: false,
            watermark,
            holds_records,
        })
        .await?;
    let mut summary = PullSummary {
        full: pull.full.is_some(),
        ..PullSummary::default()
    };
    // The observations are queued without waiting for each to be durable, so the writer
    // commits them in shared transactions: awaiting each alone cost one fsync per row (10,000
    // rows: 10,000 commits, most of a first sync's time). They are appended in the order they
    // are submitted; each page's are durable before the next page is taken in (so a pull holds
    // at most two pages), and all before the watermark is appended.
    let mut queued = Vec::new();
    // Deletions first: a series whose rows Salesforce made anew (its rule changed) is relinked
    // to its new first row before that row is read, which would otherwise look like a new one.
    let mut gone: BTreeSet<String> = pull.deleted.iter().map(|d| d.id.clone()).collect();
    if let Some(all) = &pull.all_ids {
        // A full comparison: whatever tandem has from Salesforce and Salesforce no longer has.
        gone.extend(
            known_ids(store, kind)?
                .into_iter()
                .filter(|id| !all.contains(id)),
        );
    }
    let mut unlinked = Vec::new();
    for id in gone {
        // A deletion is news only of the copy the record has now: one read again (the overlap)
        // was taken in already, and one of a copy a restore has since made anew must not delete
        // the restored record.
        let known = known_state(store, &id)?;
        if known.is_none() {
            unlinked.push(id);
            continue;
        }
        let Some(known) = known.filter(|k| k.copy.holds(&id)) else {
            continue;
        };
        if kind == RecordKind::Event
            && let Some(draft) = first_occurrence_deleted(client, ctx, &id, &known).await?
        {
            queued.push((id, Op::Update, writer.submit(draft).await?));
            continue;
        }
        let draft = observation(kind, Op::Delete, &id, None, None, None);
        queued.push((id, Op::Delete, writer.submit(draft).await?));
    }
    settle(&mut queued, &mut summary).await?;
    let mut exceptions = Vec::new();
    let mut in_flight = InFlight::default();
    let intake = Intake {
        store,
        writer,
        ctx,
        kind,
    };
    loop {
        // The next page is read while the writer commits what the last one made.
        let rows = pull.next_rows().await?;
        in_flight.settle(&mut summary).await?;
        let Some(rows) = rows else { break };
        intake
            .take_in_rows(rows, &mut in_flight, &mut exceptions, &mut summary)
            .await?;
    }
    summary.updated += take_in_exceptions(client, writer, store, ctx, exceptions).await?;
    if kind == RecordKind::Event && !unlinked.is_empty() {
        summary.cancelled_occurrences =
            cancel_occurrences(client, writer, store, ctx, &unlinked).await?;
    }
    let watermark = Draft {
        origin: Origin::new(Side::SALESFORCE, "salesforce:pull"),
        body: DraftBody::Watermark(Watermark {
            side: Side::SALESFORCE,
            scope,
            value: pull.watermark.to_rfc3339(),
        }),
    };
    writer.append(watermark).await?;
    Ok(summary)
}

/// What a page of rows made that may not be durable yet.
#[derive(Default)]
struct InFlight {
    queued: Vec<(String, Op, Pending)>,
    /// New SystemModstamps of tandem's own writes read back.
    versions: Vec<Pending>,
    /// The Salesforce ids among `queued`.
    ids: HashSet<String>,
}

impl InFlight {
    /// Wait until all of it is durable, and count it.
    async fn settle(&mut self, summary: &mut PullSummary) -> Result<(), SyncError> {
        settle(&mut self.queued, summary).await?;
        for pending in self.versions.drain(..) {
            pending.await?;
        }
        self.ids.clear();
        Ok(())
    }
}

/// Where a pull's rows of one kind go.
struct Intake<'a> {
    store: &'a Store,
    writer: &'a Writer,
    ctx: &'a SalesforceContext,
    kind: RecordKind,
}

impl Intake<'_> {
    /// Take one page of changed rows in: their observations are submitted to the writer and left
    /// in `in_flight`. Later occurrences changed apart from their series are kept in `exceptions`
    /// for the end.
    async fn take_in_rows(
        &self,
        rows: Vec<Row>,
        in_flight: &mut InFlight,
        exceptions: &mut Vec<(String, Row)>,
        summary: &mut PullSummary,
    ) -> Result<(), SyncError> {
        let Intake {
            store,
            writer,
            ctx,
            kind,
        } = *self;
        for row in rows {
            // A detached occurrence's row is part of its series.
            if let Some((series, when)) = detached_key(ctx, &row) {
                in_flight.settle(summary).await?;
                match super::detached::take_in(
                    store,
                    writer,
                    ctx,
                    &series,
                    &when,
                    Some(&row),
                    false,
                )
                .await?
                {
                    true => summary.updated += 1,
                    false => summary.unchanged += 1,
                }
                continue;
            }
            // A later occurrence is part of the series its first row stands for — unless the
            // series is linked to it, since its first occurrence was deleted in Salesforce.
            if kind == RecordKind::Event
                && mapping::is_later_series_occurrence(&row)
                && !text(&row, "Id").is_some_and(|id| links(store, id))
            {
                summary.series_occurrences += 1;
                if let Some(head) = mapping::head_of_exception_query(&row) {
                    exceptions.push((head, row));
                }
                continue;
            }
            let Some(id) = text(&row, "Id").map(str::to_string) else {
                summary
                    .errors
                    .push(("?".into(), "a row without an Id".into()));
                continue;
            };
            if in_flight.ids.contains(&id) {
                // The same record twice (a page read again): compare with what the first made.
                in_flight.settle(summary).await?;
            }
            in_flight.ids.insert(id.clone());
            let mut fields = match mapping::from_salesforce(kind, &row, ctx) {
                Ok(fields) => fields,
                Err(e) => {
                    summary.errors.push((id, e.to_string()));
                    continue;
                }
            };
            let known = known_state(store, &id)?;
            let record = known.as_ref().and_then(|k| k.record.as_ref());
            if let Some(record) = record {
                mapping::keep_known_stamps(kind, record, &mut fields);
            }
            if let Some(known) = &known {
                mapping::keep_unreported(kind, &known.copy.fields, &mut fields);
            }
            // What Salesforce reported before, read again (the overlap), is no news — also for
            // a record deleted elsewhere since, which a re-read must not bring back.
            if let Some(known) = known
                .as_ref()
                .filter(|k| !k.copy.deleted && k.copy.fields == fields)
            {
                summary.unchanged += 1;
                // Saved since (tandem's own write, read back): its new SystemModstamp is what
                // the next conditional update must name, or it would be taken for a Salesforce
                // edit.
                if let Some(modstamp) = text(&row, "SystemModstamp")
                    && known.copy.version.as_deref() != Some(modstamp)
                {
                    in_flight
                        .versions
                        .push(writer.submit(version_seen(known, &id, modstamp)).await?);
                }
                continue;
            }
            let changed_at_ms = text(&row, "LastModifiedDate")
                .and_then(|t| mapping::parse_salesforce_datetime(t).ok())
                .map(|t: DateTime<Utc>| t.timestamp_millis());
            let op = if record.is_some() {
                Op::Update
            } else {
                Op::Create
            };
            let draft = observation(
                kind,
                op,
                &id,
                Some(fields),
                changed_at_ms,
                text(&row, "SystemModstamp"),
            );
            in_flight.queued.push((id, op, writer.submit(draft).await?));
        }
        Ok(())
    }
}

fn first_id(rows: Vec<Row>) -> Option<String> {
    rows.first()
        .and_then(|row| text(row, "Id"))
        .map(str::to_string)
}

/// Whether tandem links a record to this Salesforce id now.
fn links(store: &Store, id: &str) -> bool {
    known_state(store, id).is_ok_and(|k| k.is_some_and(|k| k.copy.holds(id)))
}

/// When the deleted row `id` was the first occurrence of a series whose other occurrences are
/// still there, only that occurrence was deleted in Salesforce: the series is linked to the
/// next row, with the first occurrence cancelled. `None`: the row's deletion is the record's.
async fn first_occurrence_deleted(
    client: &SalesforceClient,
    ctx: &SalesforceContext,
    id: &str,
    known: &Known,
) -> Result<Option<Draft>, SyncError> {
    if !known
        .copy
        .fields
        .get("rrule")
        .is_some_and(|r| r.is_string())
    {
        return Ok(None);
    }
    let deleted = client
        .query_all(mapping::deleted_rows_query(&[id.to_string()], None))
        .await?;
    let Some(first) = deleted.first() else {
        return Ok(None);
    };
    let Some(query) = mapping::remaining_rows_query(first) else {
        return Ok(None);
    };
    let remaining = client.query(query).await?;
    let Some(next) = remaining.first() else {
        return Ok(None);
    };
    let Some(id_next) = text(next, "Id").map(str::to_string) else {
        return Ok(None);
    };
    // Relinked even when the first occurrence is cancelled already; and with nothing cancelled
    // when it is detached (tandem deleted the row, the occurrence lives on as a row of its own)
    // or when Salesforce made the rows anew (a new first row at the same time).
    let anew = text(next, "StartDateTime") == text(first, "StartDateTime");
    let copy = match anew || detached_there(ctx, known, first) {
        true => None,
        false => mapping::with_cancelled(&known.copy.fields, first),
    }
    .unwrap_or_else(|| known.copy.fields.clone());
    let next = id_next;
    let mut draft = observation(RecordKind::Event, Op::Update, &next, Some(copy), None, None);
    if let DraftBody::Observation(o) = &mut draft.body {
        o.record = Some(known.record_id.clone());
    }
    Ok(Some(draft))
}

/// Deleted rows tandem never linked may be later occurrences of a series it has: each is a
/// cancellation of that occurrence (an EXDATE on the desktop), observed on the series from
/// Salesforce — unless tandem deleted the row to detach the occurrence. The row of a detached
/// occurrence, deleted, cancels it too. A cancellation the series has already is no news.
async fn cancel_occurrences(
    client: &SalesforceClient,
    writer: &Writer,
    store: &Store,
    ctx: &SalesforceContext,
    deleted: &[String],
) -> Result<usize, SyncError> {
    let mut cancelled = 0;
    for chunk in deleted.chunks(200) {
        let query = mapping::deleted_rows_query(chunk, ctx.row_key_field.as_deref());
        let rows = client.query_all(query).await?;
        for row in &rows {
            if let Some((series, when)) = detached_key(ctx, row) {
                if super::detached::take_in(store, writer, ctx, &series, &when, None, false).await?
                {
                    cancelled += 1;
                }
                continue;
            }
            let Some(head_query) = mapping::head_of_deleted_query(row) else {
                continue;
            };
            let Some(head) = first_id(client.query(head_query).await?) else {
                continue;
            };
            let Some(known) = known_state(store, &head)?.filter(|k| k.copy.holds(&head)) else {
                continue;
            };
            if detached_there(ctx, &known, row) {
                continue;
            }
            let Some(copy) = mapping::with_cancelled(&known.copy.fields, row) else {
                continue;
            };
            let draft = observation(RecordKind::Event, Op::Update, &head, Some(copy), None, None);
            writer.append(draft).await?;
            cancelled += 1;
        }
    }
    Ok(cancelled)
}

/// Occurrences changed in Salesforce apart from their series (`IsRecurrence2Exception`, each
/// with the query for its series' first row) become the overrides of their series. One whose
/// place in the series is no longer known (moved off the rule's times) is left alone. How many
/// changed a series.
async fn take_in_exceptions(
    client: &SalesforceClient,
    writer: &Writer,
    store: &Store,
    ctx: &SalesforceContext,
    exceptions: Vec<(String, Row)>,
) -> Result<usize, SyncError> {
    let mut taken = 0;
    for (head, row) in exceptions {
        let Some(head) = first_id(client.query(head).await?) else {
            continue;
        };
        let Some(known) = known_state(store, &head)?.filter(|k| k.copy.holds(&head)) else {
            continue;
        };
        let Some(record) = &known.record else {
            continue;
        };
        let Some(when) = record
            .get("start")
            .and_then(|s| serde_json::from_value::<When>(s.clone()).ok())
            .and_then(|start| mapping::cancellation_of(&row, &start))
            .filter(|when| mapping::detached::is_rule_occurrence(record, when))
        else {
            continue;
        };
        let single = mapping::as_single(&row);
        let series = &known.record_id;
        if super::detached::take_in(store, writer, ctx, series, &when, Some(&single), true).await? {
            taken += 1;
        }
    }
    Ok(taken)
}

/// The series and occurrence a row stands for, when it is a detached occurrence's row.
fn detached_key(ctx: &SalesforceContext, row: &Row) -> Option<(tandem_protocol::RecordId, When)> {
    let key = text(row, ctx.row_key_field.as_deref()?)?;
    mapping::detached::parse_row_key(key)
}

/// Whether the deleted occurrence `row` of `known`'s series is one the record changed apart
/// from the series, and tandem detaches (so tandem deleted the row itself).
fn detached_there(ctx: &SalesforceContext, known: &Known, row: &Row) -> bool {
    match (&ctx.row_key_field, &known.record) {
        (Some(_), Some(record)) => mapping::detached::row_was_detached(record, row),
        _ => false,
    }
}

/// Wait for the queued observations, in order, and count them; a record the log refuses is
/// reported and skipped, a log that fails stops the pull.
async fn settle(
    queued: &mut Vec<(String, Op, Pending)>,
    summary: &mut PullSummary,
) -> Result<(), SyncError> {
    for (id, op, pending) in queued.drain(..) {
        match pending.await {
            Ok(_) => match op {
                Op::Create => summary.created += 1,
                Op::Update => summary.updated += 1,
                Op::Delete => summary.deleted += 1,
            },
            Err(WriterError::Store(e)) => summary.errors.push((id, e.to_string())),
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

fn observation(
    kind: RecordKind,
    op: Op,
    id: &str,
    snapshot: Option<tandem_protocol::Fields>,
    changed_at_ms: Option<i64>,
    version: Option<&str>,
) -> Draft {
    Draft {
        origin: Origin::new(Side::SALESFORCE, "salesforce:pull"),
        body: DraftBody::Observation(ObservationDraft {
            external_id: Some(id.to_string()),
            version: version.map(str::to_string),
            changed_at_ms,
            snapshot,
            ..ObservationDraft::new(kind, op)
        }),
    }
}

/// That Salesforce holds `known`'s copy unchanged, as of `version`: a re-read of tandem's own
/// write, which tells its SystemModstamp and nothing else.
fn version_seen(known: &Known, id: &str, version: &str) -> Draft {
    Draft {
        origin: Origin::new(Side::SALESFORCE, "salesforce:pull"),
        body: DraftBody::Outcome(Outcome {
            record: known.record_id.clone(),
            side: Side::SALESFORCE,
            op: Op::Update,
            written: known.copy.seen.clone(),
            result: OutcomeResult::Succeeded {
                external_id: Some(id.to_string()),
                version: Some(version.to_string()),
            },
            side_fields: Some(known.copy.fields.clone()),
            payload: None,
        }),
    }
}

/// Where a pull of `object` ended, as the store keeps it.
pub fn watermark_scope(object: &str) -> String {
    format!("pull:{object}")
}

/// The watermark of a pull scope, if a pull of it ever completed.
pub fn stored_watermark(store: &Store, scope: &str) -> Result<Option<DateTime<Utc>>, SyncError> {
    let Some(value) = read::watermark(&store.read()?, Side::SALESFORCE, scope)? else {
        return Ok(None);
    };
    DateTime::parse_from_rfc3339(&value)
        .map(|t| Some(t.with_timezone(&Utc)))
        .map_err(|_| SyncError::BadWatermark {
            scope: scope.to_string(),
            value,
        })
}

/// What tandem knows of the record a Salesforce id names.
struct Known {
    record_id: tandem_protocol::RecordId,
    /// Salesforce's copy: as it last reported it, or as tandem last wrote it.
    copy: SideState,
    /// The record's fields, unless it is deleted.
    record: Option<tandem_protocol::Fields>,
}

fn known_state(store: &Store, id: &str) -> Result<Option<Known>, SyncError> {
    let txn = store.read()?;
    let Some(record) = read::record_on(&txn, Side::SALESFORCE, id)? else {
        return Ok(None);
    };
    Ok(Some(Known {
        record_id: record.clone(),
        copy: read::side_state(&txn, &record, Side::SALESFORCE)?.unwrap_or_default(),
        record: read::record(&txn, &record)?
            .filter(|r| !r.deleted)
            .map(|r| r.fields),
    }))
}

/// The Salesforce ids tandem holds for records of one kind.
fn known_ids(store: &Store, kind: RecordKind) -> Result<Vec<String>, SyncError> {
    Ok(read::ids_on(&store.read()?, Side::SALESFORCE, kind)?)
}
