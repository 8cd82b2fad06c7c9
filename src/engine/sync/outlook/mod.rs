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
use crate::engine::sync::connector::{self, Queue, Seen, announced, failed, record_outcome};
use crate::outlook::signin::{Session, TokenFile};
use crate::outlook::{Containers, OutlookClient, OutlookError, Part};
use crate::store::{Store, Writer, read};
use chrono::{DateTime, Utc};
use serde_json::Value;
use std::path::Path;
use tandem_protocol::graph;
use tandem_protocol::plan::Item;
use tandem_protocol::rules::Rules;
use tandem_protocol::run::StepResult;
use tandem_protocol::{Fields, Hlc, Op, Outcome, RecordId, RecordKind, Side};

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
            let (written, meant) = announced(store, Side::OUTLOOK, &record)?;
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
                    Side::OUTLOOK,
                    &record,
                    Op::Create,
                    written,
                    (
                        "not_created",
                        "the create never reached Outlook; it is made again",
                    ),
                    true,
                ),
            };
            record_outcome(writer, outcome).await?;
        }
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
    let seen = Seen {
        id: id.to_string(),
        version: text(item, "@odata.etag").map(str::to_string),
        changed_at_ms: text(item, "lastModifiedDateTime")
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.timestamp_millis()),
        fields,
        uid,
    };
    queue
        .observe(store, kind, seen, graph::keep_equivalent, pulled)
        .await
}

/// A write Outlook made: the item's id and version, and the record as Outlook holds it.
fn made(
    record: &RecordId,
    op: Op,
    written: Vec<Hlc>,
    item: &Value,
    side_fields: Fields,
) -> Outcome {
    let id = text(item, "id").map(str::to_string);
    let version = text(item, "@odata.etag").map(str::to_string);
    connector::made(
        Side::OUTLOOK,
        record,
        op,
        written,
        (id, version),
        side_fields,
    )
}

/// The record as Outlook holds it after a create: as it answered.
fn created(kind: RecordKind, item: &Value) -> Fields {
    graph::from_graph(kind, item, ZONE).unwrap_or_default()
}

fn result(item: &Item, op: Op, error: Option<String>) -> StepResult {
    super::result(item, Side::OUTLOOK, op, error)
}
