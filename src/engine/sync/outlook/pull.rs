//! Contacts and To Do tasks into the log: one delta round per container. Contacts come from
//! the synced folder, and from the main folder only when they carry the sync category;
//! personal contacts are read past, never taken in.

use super::{OutlookConnection, ZONE, observe, text};
use crate::engine::SyncError;
use crate::engine::sync::Pulled;
use crate::engine::sync::connector::Queue;
use crate::outlook::Window;
use crate::store::{Store, Writer, read};
use std::collections::HashSet;
use tandem_protocol::graph;
use tandem_protocol::rules::Rules;
use tandem_protocol::{RecordKind, Side};

/// Folders and lists have no window; the argument is only a calendar's.
fn unbounded() -> Window {
    (
        chrono::DateTime::<chrono::Utc>::MIN_UTC,
        chrono::DateTime::<chrono::Utc>::MAX_UTC,
    )
}

impl OutlookConnection {
    /// Read what changed in one kind's folders or list into the log.
    pub(super) async fn pull_folders(
        &self,
        store: &Store,
        writer: &Writer,
        kind: RecordKind,
        rules: &Rules,
    ) -> Result<Pulled, SyncError> {
        let mut pulled = Pulled::default();
        let mut queue = Queue::new(Side::OUTLOOK, writer);
        let sources = self.sources(kind);
        // Each container's round, and whether it listed the container whole (a first round, or
        // one whose link Graph refused).
        let mut rounds = Vec::new();
        for source in &sources {
            let scope = format!("delta:{}", source.id);
            let link = read::watermark(&store.read()?, Side::OUTLOOK, &scope)?;
            let start = source.part.delta(&source.id, unbounded());
            let mut round = self.client.delta(&start, link.as_deref()).await?;
            round.reset |= link.is_none();
            rounds.push((scope, round));
        }
        if rounds.iter().any(|(_, r)| r.reset) {
            // One container was listed whole (its link was refused, or it is new: a synced
            // folder the user deleted was made again): list them all whole, so that "not
            // listed" means "gone" whichever container an item was in.
            for ((_, round), source) in rounds.iter_mut().zip(&sources) {
                if !round.reset {
                    let start = source.part.delta(&source.id, unbounded());
                    *round = self.client.delta(&start, None).await?;
                    round.reset = true;
                }
            }
        }
        let mut seen = HashSet::new();
        let mut removed = Vec::new();
        for ((_, round), source) in rounds.iter().zip(&sources) {
            for item in &round.changed {
                let Some(id) = text(item, "id") else { continue };
                // Listed, so not gone; without the category it is personal (again): left
                // alone, neither read nor deleted elsewhere.
                seen.insert(id.to_string());
                if source.only_categorised && !rules.carries_category(item.get("categories")) {
                    continue;
                }
                let fields = match graph::from_graph(kind, item, ZONE) {
                    Ok(fields) => fields,
                    Err(e) => {
                        tracing::warn!("Outlook item {id} is left out: {e}");
                        continue;
                    }
                };
                observe(store, &mut queue, kind, item, fields, None, &mut pulled).await?;
            }
            removed.extend(round.removed.iter().cloned());
            if round.reset {
                // Whatever tandem holds from this kind that no container listed is gone.
                removed.extend(read::ids_on(&store.read()?, Side::OUTLOOK, kind)?);
            }
        }
        for id in removed.iter().filter(|id| !seen.contains(*id)) {
            queue.gone(store, kind, id, &mut pulled).await?;
        }
        for (scope, round) in rounds {
            queue.watermark(scope, round.link).await?;
        }
        Ok(pulled)
    }
}
