//! Delta rounds of the calendar view (concepts/delta-query-events.md, api/event-delta.md): a
//! round is pages joined by `@odata.nextLink` (`$skiptoken`) and ends with an
//! `@odata.deltaLink` (`$deltatoken`). The first round lists what the window shows (single
//! events, occurrences, exceptions, and the masters of the series in it); a later one lists
//! what changed since, and as `@removed` ("deleted") what left: deleted events, cancelled
//! occurrences, events moved out of the window, and — as event-delta.md warns — events outside
//! the window that changed at all, which a client filters out.
//!
//! Unlike a contact folder's, a view's changes cannot be read off the journal alone (an
//! occurrence leaves a window when its master changes), so the emulator keeps each round's
//! state server-side, as Exchange does, and a token names it: a round compares what the window
//! shows now with what the previous round saw. Tokens carry their window
//! (delta-query-events.md: they "encode the startDateTime and endDateTime parameters"); a
//! token used with another window, or forgotten (evicted, or pushed out by newer ones), is a
//! 410 `syncStateNotFound`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

use crate::error::GraphError;
use crate::events::{Instance, Target};
use crate::mailbox::{IdType, Mailbox};
use crate::timezone::OutZone;

/// How many round states the mailbox keeps; older ones are forgotten (Exchange's token lifetime
/// depends on its cache, delta-query-overview.md).
const MAX_STATES: usize = 1024;

/// A calendar view's time range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

/// What a round saw of one instance, by its immutable id.
#[derive(Debug, Clone)]
struct Seen {
    change_key: String,
    rest_id: String,
    target: Target,
}

type Snapshot = BTreeMap<String, Seen>;

/// One entry of a round.
#[derive(Debug, Clone)]
enum Entry {
    Present {
        id: String,
        rest_id: String,
        target: Target,
    },
    Removed {
        id: String,
        rest_id: String,
    },
}

#[derive(Debug)]
enum State {
    /// A round being paged through: what it lists, and what the next round compares with.
    Round {
        window: Window,
        entries: Vec<Entry>,
        after: Snapshot,
    },
    /// A finished round: what it saw, and the journal position it saw it at.
    Done {
        window: Window,
        seq: u64,
        snapshot: Snapshot,
    },
}

impl State {
    fn window(&self) -> Window {
        match self {
            State::Round { window, .. } | State::Done { window, .. } => *window,
        }
    }
}

/// The view's rounds, by state id.
#[derive(Debug, Default)]
pub struct SyncStates {
    states: BTreeMap<u64, State>,
    next: u64,
    /// The journal position each round started at, by its state id.
    started: BTreeMap<u64, u64>,
}

impl SyncStates {
    fn add(&mut self, state: State, seq: u64) -> u64 {
        self.next += 1;
        self.states.insert(self.next, state);
        self.started.insert(self.next, seq);
        while self.states.len() > MAX_STATES {
            if let Some((&oldest, _)) = self.states.iter().next() {
                self.states.remove(&oldest);
                self.started.remove(&oldest);
            }
        }
        self.next
    }

    /// Every token given so far stops working (`GraphHandle::evict_delta_tokens`).
    pub fn clear(&mut self) {
        self.states.clear();
        self.started.clear();
    }
}

/// What a link carries: the state, its window, and where the round stands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Token {
    #[serde(rename = "s")]
    state: u64,
    #[serde(rename = "a")]
    start: i64,
    #[serde(rename = "b")]
    end: i64,
    #[serde(rename = "o")]
    offset: usize,
    /// Empty pages still to give before the entries.
    #[serde(rename = "e")]
    empty: usize,
}

impl Token {
    pub fn encode(&self) -> String {
        crate::delta::encode_token(self)
    }

    pub fn decode(text: &str) -> Result<Token, GraphError> {
        crate::delta::decode_token(text)
    }

    fn window(&self) -> Option<Window> {
        Some(Window {
            start: DateTime::from_timestamp(self.start, 0)?,
            end: DateTime::from_timestamp(self.end, 0)?,
        })
    }
}

/// Where a request starts.
pub enum Start {
    /// No token: the first round over a window.
    Fresh(Window),
    /// `$skiptoken`: the next page of a round.
    Skip(Token),
    /// `$deltatoken`: a new round after a finished one; the window the request names, if any.
    Delta(Token, Option<Window>),
}

/// One page.
pub struct Page {
    pub value: Vec<Value>,
    pub next: Option<Token>,
    pub delta: Option<Token>,
}

/// What a window shows now, as a snapshot.
fn snapshot(mailbox: &Mailbox, window: Window) -> (Vec<Instance>, Snapshot) {
    let view = mailbox.calendar_view(window.start, window.end, true);
    let snapshot = view
        .iter()
        .map(|i| {
            let target = match i.original_start {
                None => Target::Event(i.master.clone()),
                Some(original) => Target::Instance {
                    master: i.master.clone(),
                    original,
                },
            };
            (
                i.id.clone(),
                Seen {
                    change_key: i.change_key.clone(),
                    rest_id: i.rest_id.clone(),
                    target,
                },
            )
        })
        .collect();
    (view, snapshot)
}

fn present(id: &str, seen: &Seen) -> Entry {
    Entry::Present {
        id: id.to_string(),
        rest_id: seen.rest_id.clone(),
        target: seen.target.clone(),
    }
}

/// The page of `start`'s round that is due.
pub fn page(
    mailbox: &mut Mailbox,
    start: Start,
    empty: usize,
    size: usize,
    ids: IdType,
    zone: &OutZone,
) -> Result<Page, GraphError> {
    let (state, offset, empty) = match start {
        Start::Fresh(window) => {
            let (_, after) = snapshot(mailbox, window);
            let entries = after.iter().map(|(id, seen)| present(id, seen)).collect();
            let seq = mailbox.seq;
            let state = State::Round {
                window,
                entries,
                after,
            };
            (mailbox.calendar_sync.add(state, seq), 0, empty)
        }
        Start::Delta(token, asked) => {
            let window = token
                .window()
                .ok_or_else(GraphError::sync_state_not_found)?;
            let Some(State::Done {
                window: seen_window,
                seq,
                snapshot: before,
            }) = mailbox.calendar_sync.states.get(&token.state)
            else {
                return Err(GraphError::sync_state_not_found());
            };
            if *seen_window != window || asked.is_some_and(|w| w != window) {
                return Err(GraphError::sync_state_not_found());
            }
            let (view, after) = snapshot(mailbox, window);
            let entries = changes(mailbox, before, &view, &after, *seq);
            let seq = mailbox.seq;
            let state = State::Round {
                window,
                entries,
                after,
            };
            (mailbox.calendar_sync.add(state, seq), 0, empty)
        }
        Start::Skip(token) => {
            let window = token
                .window()
                .ok_or_else(GraphError::sync_state_not_found)?;
            match mailbox.calendar_sync.states.get(&token.state) {
                Some(state @ State::Round { .. }) if state.window() == window => {}
                _ => return Err(GraphError::sync_state_not_found()),
            }
            (token.state, token.offset, token.empty)
        }
    };
    serve(mailbox, state, offset, empty, size, ids, zone)
}

/// What changed between a finished round and now: instances new or changed in the window,
/// instances gone from it, and (event-delta.md) events outside it changed since.
fn changes(
    mailbox: &Mailbox,
    before: &Snapshot,
    view: &[Instance],
    after: &Snapshot,
    since: u64,
) -> Vec<Entry> {
    let mut entries: Vec<Entry> = before
        .iter()
        .filter(|(id, _)| !after.contains_key(*id))
        .map(|(id, seen)| Entry::Removed {
            id: id.clone(),
            rest_id: seen.rest_id.clone(),
        })
        .collect();
    entries.extend(
        after
            .iter()
            .filter(|(id, seen)| {
                before
                    .get(*id)
                    .is_none_or(|b| b.change_key != seen.change_key)
            })
            .map(|(id, seen)| present(id, seen)),
    );
    let shown: BTreeSet<&str> = view.iter().map(|i| i.master.as_str()).collect();
    let mut listed: BTreeSet<String> = entries
        .iter()
        .map(|e| match e {
            Entry::Present { id, .. } | Entry::Removed { id, .. } => id.clone(),
        })
        .collect();
    let calendar = mailbox.calendar_id().unwrap_or_default();
    for change in mailbox
        .journal
        .iter()
        .filter(|c| c.seq > since && c.folder == calendar)
    {
        if shown.contains(change.immutable_id.as_str())
            || !listed.insert(change.immutable_id.clone())
        {
            continue;
        }
        entries.push(Entry::Removed {
            id: change.immutable_id.clone(),
            rest_id: change.rest_id.clone(),
        });
    }
    entries
}

fn removed(id: &str) -> Value {
    json!({
        "@odata.type": "#microsoft.graph.event",
        "id": id,
        "@removed": {"reason": "deleted"},
    })
}

fn serve(
    mailbox: &mut Mailbox,
    state_id: u64,
    offset: usize,
    empty: usize,
    size: usize,
    ids: IdType,
    zone: &OutZone,
) -> Result<Page, GraphError> {
    let Some(State::Round {
        window,
        entries,
        after,
    }) = mailbox.calendar_sync.states.get(&state_id)
    else {
        return Err(GraphError::sync_state_not_found());
    };
    let window = *window;
    let token = |offset: usize, empty: usize, state: u64| Token {
        state,
        start: window.start.timestamp(),
        end: window.end.timestamp(),
        offset,
        empty,
    };
    if empty > 0 {
        return Ok(Page {
            value: Vec::new(),
            next: Some(token(offset, empty - 1, state_id)),
            delta: None,
        });
    }
    let end = (offset + size.max(1)).min(entries.len());
    let mut value = Vec::new();
    for entry in &entries[offset.min(end)..end] {
        value.push(match entry {
            Entry::Removed { id, rest_id } => removed(pick(ids, id, rest_id)),
            Entry::Present {
                id,
                rest_id,
                target,
            } => match mailbox.instance(target) {
                Ok(instance) => {
                    let mut json = mailbox.event_json(&instance, ids, zone, None)?;
                    json["@odata.type"] = json!("#microsoft.graph.event");
                    json
                }
                // Gone since the round began: the next round would say so too.
                Err(_) => removed(pick(ids, id, rest_id)),
            },
        });
    }
    if end < entries.len() {
        return Ok(Page {
            value,
            next: Some(token(end, 0, state_id)),
            delta: None,
        });
    }
    let done = State::Done {
        window,
        seq: mailbox
            .calendar_sync
            .started
            .get(&state_id)
            .copied()
            .unwrap_or_default(),
        snapshot: after.clone(),
    };
    let seq = mailbox.seq;
    let done_id = mailbox.calendar_sync.add(done, seq);
    Ok(Page {
        value,
        next: None,
        delta: Some(token(0, 0, done_id)),
    })
}

fn pick<'a>(ids: IdType, immutable: &'a str, rest: &'a str) -> &'a str {
    match ids {
        IdType::Immutable => immutable,
        IdType::Rest => rest,
    }
}
