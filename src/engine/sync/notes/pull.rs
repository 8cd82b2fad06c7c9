//! The mail file into the log. Contacts and to-dos: the documents a DQL query finds changed
//! since the kind's watermark (all of them the first time); a contact without the sync
//! category is personal and read past, never taken in. Calendar entries: the whole window
//! through the PIM API once a day (a new day brings entries into the window that did not
//! change), and in between the entries DQL finds changed, each read through the PIM API.
//! Deletions of every kind: the documents tandem holds that the bulk ETag endpoint no longer
//! finds. Without a scope for the mail file (the PIM API's search instead of DQL on the scope)
//! there is no bulk ETag check: contacts and to-dos are listed whole every run, and what is no
//! longer listed was deleted.

use super::{NotesConnection, changed, seen, unid};
use crate::engine::SyncError;
use crate::engine::sync::Pulled;
use crate::engine::sync::connector::{Queue, known};
use crate::store::{Store, Writer, read};
use chrono::{DateTime, Duration, SecondsFormat, Utc};
use serde_json::Value;
use std::collections::HashSet;
use tandem_protocol::notes;
use tandem_protocol::rules::Rules;
use tandem_protocol::{RecordKind, Side};

/// How far before the watermark a query starts: a document saved while the last query ran can
/// carry a time just before the newest one it returned. Reading a document again is no change.
const OVERLAP: Duration = Duration::minutes(5);

/// Changed calendar entries read one by one at most; more are read by listing the window.
const ONE_BY_ONE: usize = 20;

/// The DQL of a kind's documents, changed after `since` when given.
fn changed_since(kind: RecordKind, since: Option<DateTime<Utc>>) -> String {
    let form = format!("Form = '{}'", notes::form(kind));
    match since {
        Some(since) => format!(
            "{form} and @ModifiedInThisFile > @dt('{}')",
            (since - OVERLAP).to_rfc3339_opts(SecondsFormat::Millis, true)
        ),
        None => form,
    }
}

/// The newest time of change among `items` and the watermark before, as the next watermark.
fn newest(before: Option<DateTime<Utc>>, items: &[Value]) -> Option<DateTime<Utc>> {
    items.iter().filter_map(changed).chain(before).max()
}

fn parse(mark: Option<String>) -> Option<DateTime<Utc>> {
    mark.and_then(|m| DateTime::parse_from_rfc3339(&m).ok())
        .map(|t| t.to_utc())
}

impl NotesConnection {
    /// Read what changed in one kind's documents into the log.
    pub(super) async fn pull_documents(
        &self,
        store: &Store,
        writer: &Writer,
        kind: RecordKind,
        rules: &Rules,
    ) -> Result<Pulled, SyncError> {
        let mut pulled = Pulled::default();
        let mut queue = Queue::new(Side::NOTES, writer);
        let scope = format!("dql:{}", notes::form(kind));
        let mut since = parse(read::watermark(&store.read()?, Side::NOTES, &scope)?);
        if !self.reach.documents {
            // Without the bulk ETag endpoint a deletion shows only as a document no longer
            // listed: the PIM search lists the kind whole every run.
            since = None;
        }
        let documents = self.find(&changed_since(kind, since)).await?;
        for document in &documents {
            let Some(mut seen) = seen(kind, document, None) else {
                continue;
            };
            if kind == RecordKind::Contact {
                // Without the category a contact is personal (again): left alone, neither
                // read nor deleted elsewhere.
                if !rules.carries_category(seen.fields.get("categories")) {
                    continue;
                }
                if let Some(known) = known(store, Side::NOTES, &seen.id)? {
                    self.contacts
                        .keep_known_categories(&known.fields, &mut seen.fields);
                }
            }
            queue
                .observe(store, kind, seen, notes::keep_equivalent, &mut pulled)
                .await?;
        }
        if self.reach.documents {
            self.deletions(store, &mut queue, kind, &mut pulled).await?;
            if let Some(mark) = newest(since, &documents) {
                queue.watermark(scope, stamp(mark)).await?;
            }
        } else {
            let listed: HashSet<&str> = documents.iter().filter_map(unid).collect();
            for id in read::ids_on(&store.read()?, Side::NOTES, kind)? {
                if !listed.contains(id.as_str()) {
                    queue.gone(store, kind, &id, &mut pulled).await?;
                }
            }
        }
        queue.settle().await?;
        Ok(pulled)
    }

    /// Read what changed in the calendar into the log: the window whole on a new day, else
    /// the entries DQL finds changed.
    pub(super) async fn pull_calendar(
        &self,
        store: &Store,
        writer: &Writer,
        rules: &Rules,
        now: DateTime<Utc>,
    ) -> Result<Pulled, SyncError> {
        let kind = RecordKind::Event;
        let mut pulled = Pulled::default();
        let mut queue = Queue::new(Side::NOTES, writer);
        let (first, last) = rules.window(now.date_naive());
        // A watermark is for one window: a new day reads its window whole.
        let scope = format!("dql:{}:{first}..{last}", notes::form(kind));
        let since = parse(read::watermark(&store.read()?, Side::NOTES, &scope)?);
        let incremental = since.is_some() && self.reach.documents;
        let mut documents = Vec::new();
        let mut entries = Vec::new();
        if incremental {
            documents = self.client.query(&changed_since(kind, since)).await?;
            let mut changed: Vec<&str> = documents.iter().filter_map(unid).collect();
            if changed.len() > ONE_BY_ONE {
                // Many changed (an import, a new mail file): one listing of the window reads
                // them; of the others only those tandem holds are read (moved out of it).
                entries = self.client.entries(first, last).await?;
                let listed: HashSet<&str> = entries.iter().filter_map(unid).collect();
                let held: HashSet<String> = read::ids_on(&store.read()?, Side::NOTES, kind)?
                    .into_iter()
                    .collect();
                changed.retain(|id| !listed.contains(id) && held.contains(*id));
            }
            for id in changed {
                match self.client.entry(id).await {
                    Ok(entry) => entries.push(entry),
                    // Deleted since the query: the bulk check below finds it gone.
                    Err(e) if e.is_not_found() => {}
                    Err(e) => return Err(e.into()),
                }
            }
        } else {
            entries = self.client.entries(first, last).await?;
        }
        let mut listed = HashSet::new();
        for entry in &entries {
            let Some(id) = unid(entry) else { continue };
            listed.insert(id.to_string());
            observe_entry(store, &mut queue, entry, &mut pulled).await?;
        }
        if self.reach.documents {
            self.deletions(store, &mut queue, kind, &mut pulled).await?;
            let mark = if incremental {
                newest(since, &documents)
            } else {
                newest(None, &entries)
            };
            if let Some(mark) = mark {
                queue.watermark(scope, stamp(mark)).await?;
            }
        } else {
            // Without the basis API the window's listing is all there is: what tandem holds
            // and the window no longer lists was deleted, or left the window (and is still
            // there, as it is now).
            for id in read::ids_on(&store.read()?, Side::NOTES, kind)? {
                if listed.contains(&id)
                    || !known(store, Side::NOTES, &id)?.is_some_and(|k| k.holds(&id))
                {
                    continue;
                }
                match self.client.entry(&id).await {
                    Err(e) if e.is_not_found() => queue.gone(store, kind, &id, &mut pulled).await?,
                    Err(e) => return Err(e.into()),
                    Ok(entry) => observe_entry(store, &mut queue, &entry, &mut pulled).await?,
                }
            }
        }
        queue.settle().await?;
        Ok(pulled)
    }

    /// The documents of `kind` tandem holds that Notes no longer has: deleted there.
    async fn deletions(
        &self,
        store: &Store,
        queue: &mut Queue<'_>,
        kind: RecordKind,
        pulled: &mut Pulled,
    ) -> Result<(), SyncError> {
        // The documents tandem holds and does not know deleted, read in one transaction.
        let held = {
            let txn = store.read()?;
            let mut held = Vec::new();
            for id in read::ids_on(&txn, Side::NOTES, kind)? {
                let Some(record) = read::record_on(&txn, Side::NOTES, &id)? else {
                    continue;
                };
                if read::side_state(&txn, &record, Side::NOTES)?.is_none_or(|s| !s.deleted) {
                    held.push(id);
                }
            }
            held
        };
        if held.is_empty() {
            return Ok(());
        }
        let existing: HashSet<String> = self.client.existing(&held).await?.into_iter().collect();
        for id in held.iter().filter(|id| !existing.contains(*id)) {
            queue.gone(store, kind, id, pulled).await?;
        }
        Ok(())
    }
}

/// Take in a calendar entry. A new one's record takes the entry's UID, which its overrides
/// carry; a known one's overrides get the UID its record has (`notes::keep_equivalent`).
async fn observe_entry(
    store: &Store,
    queue: &mut Queue<'_>,
    entry: &Value,
    pulled: &mut Pulled,
) -> Result<(), SyncError> {
    let uid = unid(entry).map(str::to_string);
    let Some(seen) = seen(RecordKind::Event, entry, uid) else {
        return Ok(());
    };
    queue
        .observe(
            store,
            RecordKind::Event,
            seen,
            notes::keep_equivalent,
            pulled,
        )
        .await
}

fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_query_after_a_watermark_starts_before_it_by_the_overlap() {
        let since = DateTime::parse_from_rfc3339("2026-12-05T10:00:00Z")
            .unwrap()
            .to_utc();
        assert_eq!(
            changed_since(RecordKind::Contact, Some(since)),
            "Form = 'Person' and @ModifiedInThisFile > @dt('2026-12-05T09:55:00.000Z')"
        );
        assert_eq!(changed_since(RecordKind::Task, None), "Form = 'Task'");
    }

    #[test]
    fn the_next_watermark_is_the_newest_change_in_server_time() {
        let items = vec![
            serde_json::json!({"@meta": {"lastmodified": "2026-12-05T05:00:00.000-05:00"}}),
            serde_json::json!({"@meta": {"lastmodified": "2026-12-05T09:30:00.000Z"}}),
        ];
        let before = parse(Some("2026-12-05T08:00:00Z".into()));
        assert_eq!(
            newest(before, &items).map(stamp).as_deref(),
            Some("2026-12-05T10:00:00.000Z")
        );
        assert_eq!(newest(before, &[]), before);
    }
}
