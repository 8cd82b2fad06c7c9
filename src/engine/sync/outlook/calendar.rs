//! The calendar into the log: one delta round of the calendar's view of the rules' window
//! (Graph has no delta of events without one). A series arrives expanded — its master, its
//! occurrences, its exceptions — and becomes one record: the master's fields with its rule,
//! and the occurrences Outlook no longer lists as `exdates`. An `@removed` entry means deleted
//! or moved out of the window; the event is looked up to tell which.

use super::{OutlookConnection, ZONE, observe, text};
use crate::engine::SyncError;
use crate::engine::sync::Pulled;
use crate::engine::sync::connector::{Queue, known, uid_of};
use crate::outlook::{Part, Window};
use crate::store::{Store, Writer, read};
use chrono::{DateTime, Days, NaiveTime, Utc};
use serde_json::Value;
use std::collections::HashSet;
use tandem_protocol::graph;
use tandem_protocol::rules::Rules;
use tandem_protocol::{RecordKind, Side};

/// The rules' date window around `now`, as the instants a calendar view is asked for.
fn window(rules: &Rules, now: DateTime<Utc>) -> Window {
    let (first, last) = rules.window(now.date_naive());
    let midnight = |d: chrono::NaiveDate| d.and_time(NaiveTime::MIN).and_utc();
    (midnight(first), midnight(last + Days::new(1)))
}

impl OutlookConnection {
    pub(super) async fn pull_calendar(
        &self,
        store: &Store,
        writer: &Writer,
        rules: &Rules,
        now: DateTime<Utc>,
    ) -> Result<Pulled, SyncError> {
        let mut pulled = Pulled::default();
        let mut queue = Queue::new(Side::OUTLOOK, writer);
        let calendar = &self.containers.calendar;
        let window = window(rules, now);
        // A link reads the window it was made for: a new day is a new window, read whole.
        let scope = format!(
            "delta:{calendar}:{}..{}",
            window.0.date_naive(),
            window.1.date_naive()
        );
        let link = read::watermark(&store.read()?, Side::OUTLOOK, &scope)?;
        let start = Part::Events.delta(calendar, window);
        let round = self.client.delta(&start, link.as_deref()).await?;
        let whole = link.is_none() || round.reset;
        let split = graph::split_event_round(&round.changed);
        let mut seen = HashSet::new();
        for item in &split.singles {
            let Some(id) = text(item, "id") else { continue };
            seen.insert(id.to_string());
            match graph::from_graph(RecordKind::Event, item, ZONE) {
                Ok(fields) => {
                    let uid = text(item, "iCalUId").map(str::to_string);
                    observe(
                        store,
                        &mut queue,
                        RecordKind::Event,
                        item,
                        fields,
                        uid,
                        &mut pulled,
                    )
                    .await?
                }
                Err(e) => tracing::warn!("Outlook event {id} is left out: {e}"),
            }
        }
        // Every series the round touched: its master listed, or only an occurrence of it.
        let mut masters = split.masters.clone();
        for id in split.instances.keys() {
            if masters.iter().all(|m| text(m, "id") != Some(id.as_str()))
                && let Some(master) = self.client.find(Part::Events, calendar, id).await?
            {
                masters.push(master);
            }
        }
        for master in &masters {
            let Some(id) = text(master, "id") else {
                continue;
            };
            seen.insert(id.to_string());
            // A whole round lists every occurrence in the window; after an incremental one,
            // the series' occurrences are read again (one missing is a cancelled one).
            let instances = match (whole, split.instances.get(id)) {
                (true, listed) => listed.cloned().unwrap_or_default(),
                (false, _) => self.client.instances(id, window).await?,
            };
            self.observe_series(store, &mut queue, master, &instances, window, &mut pulled)
                .await?;
        }
        let mut removed: Vec<String> = round.removed.clone();
        if whole {
            // What tandem holds and the whole window did not list was deleted or left it.
            removed.extend(read::ids_on(
                &store.read()?,
                Side::OUTLOOK,
                RecordKind::Event,
            )?);
        }
        for id in removed.iter().filter(|id| !seen.contains(*id)) {
            if !known(store, Side::OUTLOOK, id)?.is_some_and(|k| k.holds(id)) {
                continue;
            }
            match self.client.find(Part::Events, calendar, id).await? {
                None => {
                    queue
                        .gone(store, RecordKind::Event, id, &mut pulled)
                        .await?
                }
                // Moved out of the window: still there, as it is now.
                Some(item) if text(&item, "type") == Some("seriesMaster") => {
                    self.observe_series(store, &mut queue, &item, &[], window, &mut pulled)
                        .await?
                }
                Some(item) => {
                    if let Ok(fields) = graph::from_graph(RecordKind::Event, &item, ZONE) {
                        observe(
                            store,
                            &mut queue,
                            RecordKind::Event,
                            &item,
                            fields,
                            None,
                            &mut pulled,
                        )
                        .await?;
                    }
                }
            }
        }
        queue.watermark(scope, round.link).await?;
        Ok(pulled)
    }

    /// Take in one series as one record.
    async fn observe_series(
        &self,
        store: &Store,
        queue: &mut Queue<'_>,
        master: &Value,
        instances: &[Value],
        window: Window,
        pulled: &mut Pulled,
    ) -> Result<(), SyncError> {
        let id = text(master, "id").unwrap_or_default();
        let series = match graph::gather_series(master, instances, window, ZONE) {
            Ok(series) => series,
            Err(e) => {
                tracing::warn!("Outlook series {id} is left out: {e}");
                return Ok(());
            }
        };
        // Occurrences moved or changed apart from the series travel as the desktop keeps them:
        // overrides (RECURRENCE-ID) rendered with the UID the record has, or will have.
        let uid = uid_of(store, Side::OUTLOOK, id)?
            .or_else(|| text(master, "iCalUId").map(str::to_string));
        let mut fields = match &uid {
            Some(uid) => series.fields_with_overrides(uid),
            None => series.fields,
        };
        if let Some(copy) = known(store, Side::OUTLOOK, id)? {
            graph::keep_exdates_outside(&mut fields, &copy.fields, window);
        }
        observe(store, queue, RecordKind::Event, master, fields, uid, pulled).await
    }
}
