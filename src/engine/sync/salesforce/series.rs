//! A series' rows in Salesforce besides the one tandem links it to: the rows of occurrences the
//! desktop cancelled are deleted, and occurrences changed apart from the series are detached
//! into rows of their own, keyed in the org's external-id field (`mapping::detached`).

use super::Connection;
use crate::engine::SyncError;
use tandem_protocol::mapping;
use tandem_protocol::mapping::detached::{self, RowChange};
use tandem_protocol::record::When;
use tandem_protocol::{Fields, RecordId, RecordKind};

impl Connection {
    /// The first row of the series `target`, made anew by Salesforce after its rule changed
    /// (the rows before, `old` among them, are gone): tandem links the series to it.
    pub(super) async fn new_head(&self, old: &str, target: &Fields) -> Option<String> {
        let soql = mapping::head_at_query(target, self.user_id.as_deref())?;
        match self.client.query(soql).await {
            Ok(rows) => rows
                .iter()
                .filter_map(|r| r.get("Id")?.as_str())
                .find(|id| *id != old)
                .map(str::to_string)
                .or_else(|| Some(old.to_string())),
            Err(e) => {
                tracing::warn!("the series' new first row is looked for again next run: {e}");
                None
            }
        }
    }

    /// Bring the rows of the series `record`, linked as `id`, from Salesforce's copy `had` to
    /// `target`; `key_field` keys detached occurrences (without one they are not sent). Deletes
    /// and upserts are harmless to repeat, so they go before anything is recorded: a run stopped
    /// midway sends them again. A detached occurrence's row in the series goes first, so a
    /// stop between the two never leaves the occurrence twice in Salesforce. When the row tandem
    /// links the series to goes, the series' next row is its link from then on: returned.
    pub(super) async fn series_rows(
        &self,
        record: &RecordId,
        id: &str,
        had: &Fields,
        target: &Fields,
        key_field: Option<&str>,
    ) -> Result<Option<String>, SyncError> {
        let changes = match key_field {
            Some(_) => detached::row_changes(had, target),
            None => Vec::new(),
        };
        let mut gone: Vec<When> = mapping::cancellations_to_send(had, target);
        gone.extend(changes.iter().filter_map(|c| match c {
            RowChange::Write {
                recurrence_id,
                detach: true,
                ..
            } => Some(recurrence_id.clone()),
            _ => None,
        }));
        let mut relinked = None;
        if !gone.is_empty() {
            let head = self.client.query(mapping::series_head_query(id)).await?;
            if let Some(soql) = head.first().and_then(mapping::series_rows_query) {
                let rows = self.client.query(soql).await?;
                let ids = mapping::cancelled_rows(&gone, &rows, &self.ctx);
                self.pusher.delete_rows(&ids).await?;
                if ids.iter().any(|gone| gone == id) {
                    relinked = mapping::first_row_left(&rows, &ids);
                }
            }
        }
        let Some(field) = key_field.filter(|_| !changes.is_empty()) else {
            return Ok(relinked);
        };
        let mut upserts = Vec::new();
        let mut removed = Vec::new();
        for change in &changes {
            let key = detached::row_key(record, change.recurrence_id());
            match change {
                RowChange::Write { fields, .. } => {
                    let mut body = mapping::to_salesforce(RecordKind::Event, fields, &self.ctx)?;
                    // A row is a single event when made, and the flag cannot be written after:
                    // an upsert that finds the row must not send it.
                    body.fields.remove("IsRecurrence2");
                    upserts.push((key, body.fields));
                }
                RowChange::Delete { .. } => removed.push(key),
            }
        }
        self.pusher.upsert_rows("Event", field, &upserts).await?;
        if !removed.is_empty() {
            let rows = self
                .client
                .query(detached::rows_query(field, &removed))
                .await?;
            let ids: Vec<String> = rows
                .iter()
                .filter_map(|r| r.get("Id")?.as_str().map(str::to_string))
                .collect();
            self.pusher.delete_rows(&ids).await?;
        }
        Ok(relinked)
    }
}
