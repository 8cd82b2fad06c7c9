//! The use cases as values: what a front asks ([`Request`]) and what it gets back ([`Reply`]).
//! The daemon's local API carries them as JSON, so a command asks the running daemon exactly
//! what it would ask an [`App`](super::App) of its own.

use super::audit::{Blame, History, Restored};
use super::point::Point;
use super::settings::SettingsView;
use super::sync::{Ignored, Status};
use crate::engine::sync::RunReport;
use crate::store::replay::{Difference, Verification};
use crate::store::{Access, Ack, Draft};
use serde::{Deserialize, Serialize};
use tandem_protocol::{Event, Side};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "use", rename_all = "snake_case", deny_unknown_fields)]
pub enum Request {
    /// Read Salesforce and list what a run would do: the Synchronization Summary.
    Preview,
    /// Carry out what the last preview listed (or only these of its records, or only these of
    /// its items as a front showed them).
    Apply {
        #[serde(default)]
        records: Vec<String>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        fingerprints: Vec<String>,
    },
    /// Leave records out of runs, or take that back.
    Ignore {
        records: Vec<String>,
        how: Ignoring,
        /// Only their step on this side.
        #[serde(default)]
        side: Option<Side>,
    },
    /// The last runs, what is pending, conflicts, ignored items.
    Status,
    /// Every event that touched a record, with the fields before and after.
    History { record: String },
    /// Who set each field of a record.
    Blame { record: String },
    /// Bring a record back to an earlier state, by appending.
    Restore { record: String, at: Point },
    /// The events of the log.
    Log {
        #[serde(default)]
        since: Option<Point>,
        #[serde(default)]
        limit: Option<usize>,
    },
    /// Rebuild every projection from the log and compare.
    Verify,
    /// Append one event.
    Append { draft: Box<Draft> },
    /// The settings in effect (without secrets).
    Settings,
    /// Stop the sync run in progress at its next safe point.
    Halt,
}

/// How `Ignore` leaves a record out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Ignoring {
    /// Until any side changes the record again.
    Once,
    Forever,
    /// No longer ignored.
    Undo,
}

/// A body that is not a request the API answers.
#[derive(Debug, thiserror::Error)]
pub enum NotARequest {
    #[error("not a request: {0}")]
    Unreadable(#[from] serde_json::Error),
    #[error("`{used}` takes no arguments; remove {extra}")]
    Arguments { used: String, extra: String },
}

impl Request {
    /// A request read from JSON. Unknown fields are refused, also next to a use that takes no
    /// arguments (serde lets those pass for a unit variant of a tagged enum).
    pub fn parse(body: &[u8]) -> Result<Request, NotARequest> {
        let request: Request = serde_json::from_slice(body)?;
        let given: serde_json::Value = serde_json::from_slice(body)?;
        let known = serde_json::to_value(&request)?;
        if known.as_object().is_some_and(|k| k.len() == 1)
            && let Some(given) = given.as_object().filter(|g| g.len() > 1)
        {
            let extra: Vec<String> = given
                .keys()
                .filter(|k| *k != "use")
                .map(|k| format!("`{k}`"))
                .collect();
            return Err(NotARequest::Arguments {
                used: given["use"].as_str().unwrap_or_default().to_string(),
                extra: extra.join(", "),
            });
        }
        Ok(request)
    }

    /// Whether the request appends to the log; the others can be answered from a store opened
    /// read-only.
    pub fn access(&self) -> Access {
        match self {
            Request::Status
            | Request::History { .. }
            | Request::Blame { .. }
            | Request::Log { .. }
            | Request::Verify
            | Request::Settings
            | Request::Halt => Access::ReadOnly,
            _ => Access::ReadWrite,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "reply", content = "value", rename_all = "snake_case")]
pub enum Reply {
    Run(RunReport),
    Ignored(Vec<Ignored>),
    Status(Box<Status>),
    History(History),
    Blame(Blame),
    Restored(Restored),
    Log(Vec<Logged>),
    Verified(Verified),
    Appended(Ack),
    Settings(Box<SettingsView>),
    /// Whether a run was in progress to stop.
    Halted(bool),
}

/// One event of the log, at its position.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Logged {
    pub seq: u64,
    pub event: Event,
}

/// What `replay --verify` found.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Verified {
    pub events: u64,
    pub rows: u64,
    /// Empty when every projection follows from the log byte for byte.
    pub differences: Vec<Difference>,
    /// Seconds spent rebuilding the projections from the log, and comparing them.
    #[serde(default)]
    pub rebuild_secs: f64,
    #[serde(default)]
    pub compare_secs: f64,
}

impl From<Verification> for Verified {
    fn from(v: Verification) -> Verified {
        Verified {
            events: v.events,
            rows: v.rows,
            differences: v.differences,
            rebuild_secs: v.rebuilt_in.as_secs_f64(),
            compare_secs: v.compared_in.as_secs_f64(),
        }
    }
}
