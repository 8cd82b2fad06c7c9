//! Notes in a run: the mail file's changes into the log, and the plan's Notes steps out to it.
//!
//! There is no change feed in the Domino REST API: what changed is what a DQL query on
//! `@ModifiedInThisFile` finds since the last watermark (the server's own times, read back a
//! few minutes early, since a document saved while the query ran may carry an earlier time);
//! what was deleted is what the bulk ETag endpoint no longer finds among the documents tandem
//! holds (`pull`). Contacts and to-dos are documents of the mail file's scope; calendar entries
//! are read and written as JSCalendar through the PIM API, whose recurrence rules and
//! overrides carry a series and its exceptions as one entry. Creates are exactly-once: an
//! intent goes to the log before the call, the document carries the record id, and a create
//! whose answer was lost is found by it (`push`).

mod pull;
mod push;

use crate::config::Settings;
use crate::engine::SyncError;
use crate::engine::sync::Pulled;
use crate::engine::sync::connector::{self, Seen, announced, failed, record_outcome};
use crate::notes::{NotesClient, NotesError, Reach};
use crate::store::{Store, Writer, read};
use chrono::{DateTime, Utc};
use serde_json::Value;
use tandem_protocol::notes;
use tandem_protocol::rules::Rules;
use tandem_protocol::{Fields, Hlc, Op, Outcome, RecordId, RecordKind, Side};

/// The zone a date without one (a to-do's due day, an all-day entry) is read in.
const ZONE: chrono_tz::Tz = chrono_tz::UTC;

/// Where the plan's Notes steps go, and what a run reads.
pub struct NotesConnection {
    pub client: NotesClient,
    reach: Reach,
    /// The rules of contacts: the category that puts a Notes contact in scope.
    contacts: Rules,
}

/// A document's UNID: the basis API's `@meta`, a PIM item's `@unid`, a calendar entry's `uid`.
fn unid(item: &Value) -> Option<&str> {
    item.pointer("/@meta/unid")
        .or_else(|| item.get("@unid"))
        .or_else(|| item.get("uid"))
        .and_then(Value::as_str)
}

/// The document's version: its revision (what a conditional update names), a PIM item's
/// ETag, or an entry's time of change.
fn version(item: &Value) -> Option<String> {
    item.pointer("/@meta/revision")
        .or_else(|| item.get("@etag"))
        .or_else(|| item.get("updated"))
        .and_then(Value::as_str)
        .map(str::to_string)
}

/// When the document last changed, in the server's time (with its offset).
fn changed(item: &Value) -> Option<DateTime<Utc>> {
    item.pointer("/@meta/lastmodified")
        .or_else(|| item.get("@lastmodified"))
        .or_else(|| item.get("updated"))
        .and_then(Value::as_str)
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.to_utc())
}

impl NotesConnection {
    /// Log in with the settings' account and find what the server lets tandem reach; `None`
    /// when tandem is not signed in to Notes.
    pub async fn open(settings: &Settings) -> Result<Option<Self>, SyncError> {
        if !settings.notes.signed_in() {
            return Ok(None);
        }
        let client = NotesClient::new(settings.notes.clone())?;
        let reach = client.reach().await?;
        Ok(Some(NotesConnection {
            client,
            reach,
            contacts: settings.rules(RecordKind::Contact),
        }))
    }

    /// Whether this server lets tandem read and write `kind` at all.
    fn reaches(&self, kind: RecordKind) -> bool {
        match kind {
            RecordKind::Event => self.reach.calendar,
            _ => self.reach.documents || self.reach.items,
        }
    }

    /// The mail file's documents a DQL query finds: through the scope, or the PIM search.
    async fn find(&self, dql: &str) -> Result<Vec<Value>, NotesError> {
        if self.reach.documents {
            self.client.query(dql).await
        } else {
            self.client.search(dql).await
        }
    }

    /// A contact or to-do as Notes holds it now.
    async fn document(&self, unid: &str) -> Result<Value, NotesError> {
        if self.reach.documents {
            self.client.document(unid).await
        } else {
            self.client.pim_item(unid).await
        }
    }

    /// Read what changed in Notes of one kind into the log; `now` places the calendar's
    /// window.
    pub async fn pull(
        &self,
        store: &Store,
        writer: &Writer,
        kind: RecordKind,
        rules: &Rules,
        now: DateTime<Utc>,
    ) -> Result<Pulled, SyncError> {
        if !self.reaches(kind) {
            // Said at login, and by every step that would write it: nothing to read.
            tracing::warn!("{}", self.unreached(kind));
            return Ok(Pulled::default());
        }
        match kind {
            RecordKind::Event => self.pull_calendar(store, writer, rules, now).await,
            _ => self.pull_documents(store, writer, kind, rules).await,
        }
    }

    fn unreached(&self, kind: RecordKind) -> NotesError {
        match kind {
            RecordKind::Event => NotesError::Api {
                call: "GET /calendar/default".into(),
                status: 403,
                message: "the calendar of your mail file is not open to tandem".into(),
                details: None,
            },
            _ => NotesError::NoDocuments {
                why: format!("the scope `{}` did not answer", self.client.data_source()),
            },
        }
    }

    /// Creates an earlier run announced and never recorded: each is found by its stamp (and
    /// recorded as made) or recorded as not made, so the plan makes it now — never twice.
    pub async fn adopt_pending(
        &self,
        store: &Store,
        writer: &Writer,
        events: &Rules,
        now: DateTime<Utc>,
    ) -> Result<(), SyncError> {
        let pending = read::pending_creates(&store.read()?, Side::NOTES)?;
        // The calendar is listed once, for every pending entry.
        let mut entries: Option<Vec<Value>> = None;
        for record in pending {
            let Some(kind) = record.kind() else { continue };
            if !self.reaches(kind) {
                continue;
            }
            let found = match kind {
                RecordKind::Event => {
                    if entries.is_none() {
                        let (first, last) = events.window(now.date_naive());
                        entries = Some(self.client.entries(first, last).await?);
                    }
                    entries
                        .iter()
                        .flatten()
                        .find(|e| {
                            notes::stamped_record_id(kind, e).as_deref() == Some(record.as_str())
                        })
                        .cloned()
                }
                _ => self.find(&stamped(kind, &record)).await?.into_iter().next(),
            };
            let (written, meant) = announced(store, Side::NOTES, &record)?;
            let outcome = match found {
                // Taken as what tandem meant to make, not as it is now: the user may have
                // changed it since, and the next read must bring that change in.
                Some(item) => made(&record, Op::Create, written, &item, meant),
                None => failed(
                    Side::NOTES,
                    &record,
                    Op::Create,
                    written,
                    (
                        "not_created",
                        "the create never reached Notes; it is made again",
                    ),
                    true,
                ),
            };
            record_outcome(writer, outcome).await?;
        }
        Ok(())
    }
}

/// The DQL that finds the document tandem created for `record`.
fn stamped(kind: RecordKind, record: &RecordId) -> String {
    format!(
        "Form = '{}' and {} = '{}'",
        notes::form(kind),
        notes::RECORD_ID_ITEM,
        record.as_str()
    )
}

/// The fields Notes reported for an item, as the log takes them in.
fn seen(kind: RecordKind, item: &Value, uid: Option<String>) -> Option<Seen> {
    let id = unid(item)?;
    let fields = match notes::from_notes(kind, item, ZONE) {
        Ok(fields) => fields,
        Err(e) => {
            tracing::warn!("Notes document {id} is left out: {e}");
            return None;
        }
    };
    Some(Seen {
        id: id.to_string(),
        version: version(item),
        changed_at_ms: changed(item).map(|t| t.timestamp_millis()),
        fields,
        uid,
    })
}

/// A write Notes made: the document's UNID and version, and the record as Notes holds it.
fn made(
    record: &RecordId,
    op: Op,
    written: Vec<Hlc>,
    item: &Value,
    side_fields: Fields,
) -> Outcome {
    let id = unid(item).map(str::to_string);
    connector::made(
        Side::NOTES,
        record,
        op,
        written,
        (id, version(item)),
        side_fields,
    )
}
