//! The emulator's own control API (not part of Salesforce, never counted): `POST /__emulator/faults`
//! to set faults, move the clock or expire tokens, and `GET /__emulator/state` for debugging.

use chrono::Duration;
use serde::{Deserialize, Serialize};
use serde_json::{Value as Json, json};

use super::clock::format_datetime;
use super::faults::{FaultKind, FaultSettings};
use super::http::{ApiRequest, Reply};
use super::value::Doc;
use super::{State, lock};

/// One-shot faults queued by a single request are capped (the queue is for exact, short scripts).
const MAX_ENQUEUE: usize = 10_000;

fn one() -> usize {
    1
}

/// `{"fault": "unavailable", "count": 2}`: the next two API requests get 503.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Enqueue {
    pub fault: FaultKind,
    #[serde(default = "one")]
    pub count: usize,
}

/// Every field is optional; only what is present is applied, in the order listed here.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct ControlRequest {
    /// Replaces the standing fault settings.
    pub faults: Option<FaultSettings>,
    /// Drops queued one-shot faults (before `enqueue` is applied).
    pub clear_queue: bool,
    /// Appends one-shot faults.
    pub enqueue: Vec<Enqueue>,
    /// Reseeds the fault RNG (a run with the same seed and requests gets the same faults).
    pub fault_seed: Option<u64>,
    pub expire_access_tokens: bool,
    pub revoke_refresh_tokens: bool,
    /// Moves the clock forward (not backward).
    pub advance_clock_seconds: Option<i64>,
    /// Hard-deletes the recycle bin now.
    pub empty_recycle_bin: bool,
    /// Forgets the API calls counted in the rolling 24 hours.
    pub reset_api_usage: bool,
}

pub fn apply(state: &State, req: &ControlRequest) {
    {
        let mut faults = lock(&state.faults);
        if let Some(s) = &req.faults {
            faults.settings = s.clone();
        }
        if req.clear_queue {
            faults.clear_queue();
        }
        for e in &req.enqueue {
            faults.enqueue(e.fault, e.count.min(MAX_ENQUEUE));
        }
        if let Some(seed) = req.fault_seed {
            faults.reseed(seed);
        }
    }
    if req.expire_access_tokens {
        lock(&state.sessions).expire_all_access();
    }
    if req.revoke_refresh_tokens {
        lock(&state.sessions).revoke_all_refresh();
    }
    if let Some(by) = req
        .advance_clock_seconds
        .filter(|s| *s > 0)
        .and_then(Duration::try_seconds)
    {
        state.clock.advance(by);
    }
    if req.empty_recycle_bin {
        let now = state.clock.now();
        lock(&state.org).empty_recycle_bin(now);
    }
    if req.reset_api_usage {
        lock(&state.usage).reset();
    }
}

pub fn state_json(state: &State) -> Json {
    let now = state.clock.now();
    let (used, max) = lock(&state.usage).used(now);
    let (settings, queued, seed) = {
        let f = lock(&state.faults);
        (f.settings.clone(), f.queued(), f.seed())
    };
    let (access, refresh) = lock(&state.sessions).counts();
    let cursors = lock(&state.cursors).len();
    let org = lock(&state.org);
    let mut records = serde_json::Map::new();
    for (i, def) in org.schema.objects.iter().enumerate() {
        let (live, deleted) = org.records(i).fold((0, 0), |(l, d), r| {
            if r.deleted_at.is_some() {
                (l, d + 1)
            } else {
                (l + 1, d)
            }
        });
        records.insert(def.name.clone(), json!({"live": live, "deleted": deleted}));
    }
    json!({
        "baseUrl": state.base_url,
        "now": format_datetime(now),
        "orgId": org.org_id,
        "currentUserId": org.current_user,
        "apiUsage": {"used": used, "max": max},
        "faults": settings,
        "queuedFaults": queued,
        "faultSeed": seed,
        "sessions": {"accessTokens": access, "refreshTokens": refresh},
        "openCursors": cursors,
        "records": records,
        "deleteLog": org.deletions().len(),
        "earliestDateAvailable": format_datetime(org.earliest_available()),
    })
}

pub fn handle(state: &State, req: &ApiRequest, segs: &[&str]) -> Reply {
    let bad = |msg: String| Reply::json(400, &Doc::object().with("error", msg));
    match (segs, req.method.as_str()) {
        (["faults"], "POST") => {
            let parsed: Result<ControlRequest, _> = serde_json::from_slice(&req.body);
            match parsed {
                Ok(c) if c.advance_clock_seconds.is_some_and(|s| s < 0) => bad(
                    "advanceClockSeconds must not be negative: the clock only moves forward".into(),
                ),
                Ok(c) => {
                    apply(state, &c);
                    Reply::json(200, &Doc::from(state_json(state)))
                }
                Err(e) => bad(format!("invalid control request: {e}")),
            }
        }
        (["state"], "GET") => Reply::json(200, &Doc::from(state_json(state))),
        (["faults"], _) | (["state"], _) => {
            Reply::json(405, &Doc::object().with("error", "method not allowed"))
        }
        _ => Reply::json(
            404,
            &Doc::object().with("error", "unknown control resource"),
        ),
    }
}
