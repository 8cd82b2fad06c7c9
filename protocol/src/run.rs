//! The record of a sync run, kept in the log: what the plan listed, what was carried out, and
//! what failed, so `tandem sync status` can show the last run and automatic runs know that a
//! manual run was reviewed first.
//!
//! Format 1 logs spelled the Salesforce side out (`tally.salesforce`, `salesforce_error`,
//! `api_calls`); since format 2 every count and error is per side. Both read into the same
//! [`RunRecord`].

use crate::event::Op;
use crate::plan::Item;
use crate::record::{RecordId, RecordKind};
use crate::side::Side;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunMode {
    /// `tandem sync preview`: nothing written but the review itself.
    Preview,
    /// `tandem sync apply`: what a person confirmed.
    Manual,
    /// A scheduled run.
    Automatic,
}

impl RunMode {
    pub fn as_str(self) -> &'static str {
        match self {
            RunMode::Preview => "preview",
            RunMode::Manual => "manual",
            RunMode::Automatic => "automatic",
        }
    }
}

/// Counts of a plan, by side and operation.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    pub sides: BTreeMap<Side, OpCounts>,
    pub skipped: usize,
    pub conflicts: usize,
}

impl Tally {
    /// Count an item's steps and conflicts in: a run made a window at a time tallies as it goes.
    pub fn count(&mut self, item: &Item) {
        self.conflicts += item.conflicts.len();
        for (side, step) in item.steps() {
            if step.runs() {
                self.sides.entry(side).or_default().add(step.op);
            } else {
                self.skipped += 1;
            }
        }
    }

    /// The counts of one side (zero when it has nothing to do).
    pub fn side(&self, side: Side) -> OpCounts {
        self.sides.get(&side).cloned().unwrap_or_default()
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpCounts {
    pub create: usize,
    pub update: usize,
    pub delete: usize,
}

impl OpCounts {
    pub fn add(&mut self, op: Op) {
        match op {
            Op::Create => self.create += 1,
            Op::Update => self.update += 1,
            Op::Delete => self.delete += 1,
        }
    }

    pub fn total(&self) -> usize {
        self.create + self.update + self.delete
    }
}

/// API calls a run made on a remote side, and the side's own count of its usage afterwards.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiUse {
    pub calls: u64,
    /// (used, limit), e.g. Salesforce's rolling 24-hour request count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<(u64, u64)>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(from = "wire::RunRecord")]
pub struct RunRecord {
    pub mode: RunMode,
    pub started_ms: i64,
    pub finished_ms: i64,
    pub kinds: Vec<RecordKind>,
    /// What the plan listed.
    pub tally: Tally,
    /// For a preview: the fingerprints of the items it showed, which `apply` carries out.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reviewed: Vec<String>,
    /// For an applied run: every step tried, and how it went.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub results: Vec<StepResult>,
    /// Why a side could not be read or written in this run (offline, login, limits).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub unreachable: BTreeMap<Side, String>,
    /// The API calls the run made, per remote side.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub api: BTreeMap<Side, ApiUse>,
}

impl RunRecord {
    pub fn failures(&self) -> impl Iterator<Item = &StepResult> {
        self.results.iter().filter(|r| r.error.is_some())
    }

    /// The API calls the run made on `side`.
    pub fn calls(&self, side: Side) -> u64 {
        self.api.get(&side).map_or(0, |a| a.calls)
    }

    /// Why `side` could not be reached in this run, if it could not.
    pub fn unreachable(&self, side: Side) -> Option<&str> {
        self.unreachable.get(&side).map(String::as_str)
    }
}

/// One step of an applied run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StepResult {
    pub record: RecordId,
    pub label: String,
    pub side: Side,
    pub op: Op,
    /// `None`: done.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The run record as either format wrote it.
mod wire {
    use super::*;

    #[derive(Deserialize)]
    pub struct RunRecord {
        mode: RunMode,
        started_ms: i64,
        finished_ms: i64,
        kinds: Vec<RecordKind>,
        tally: Tally,
        #[serde(default)]
        reviewed: Vec<String>,
        #[serde(default)]
        results: Vec<StepResult>,
        #[serde(default)]
        unreachable: BTreeMap<Side, String>,
        #[serde(default)]
        api: BTreeMap<Side, ApiUse>,
        // Format 1.
        #[serde(default)]
        salesforce_error: Option<String>,
        #[serde(default)]
        api_calls: u64,
        #[serde(default)]
        api_usage: Option<(u64, u64)>,
    }

    #[derive(Deserialize)]
    pub struct Tally {
        #[serde(default)]
        sides: BTreeMap<Side, OpCounts>,
        skipped: usize,
        conflicts: usize,
        // Format 1.
        salesforce: Option<OpCounts>,
        desktop: Option<OpCounts>,
    }

    impl From<RunRecord> for super::RunRecord {
        fn from(w: RunRecord) -> super::RunRecord {
            let mut sides = w.tally.sides;
            for (side, counts) in [
                (Side::SALESFORCE, w.tally.salesforce),
                (Side::DESKTOP, w.tally.desktop),
            ] {
                if let Some(counts) = counts.filter(|c| c.total() > 0) {
                    sides.insert(side, counts);
                }
            }
            let mut unreachable = w.unreachable;
            if let Some(error) = w.salesforce_error {
                unreachable.insert(Side::SALESFORCE, error);
            }
            let mut api = w.api;
            if w.api_calls > 0 || w.api_usage.is_some() {
                api.insert(
                    Side::SALESFORCE,
                    ApiUse {
                        calls: w.api_calls,
                        usage: w.api_usage,
                    },
                );
            }
            super::RunRecord {
                mode: w.mode,
                started_ms: w.started_ms,
                finished_ms: w.finished_ms,
                kinds: w.kinds,
                tally: super::Tally {
                    sides,
                    skipped: w.tally.skipped,
                    conflicts: w.tally.conflicts,
                },
                reviewed: w.reviewed,
                results: w.results,
                unreachable,
                api,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_format_1_run_reads_into_per_side_counts_and_errors() {
        let old = r#"{"mode":"manual","started_ms":1,"finished_ms":2,"kinds":["contact"],
            "tally":{"salesforce":{"create":1,"update":0,"delete":0},"desktop":{"create":0,"update":2,"delete":0},"skipped":3,"conflicts":1},
            "results":[{"record":"con-0000000000000001","label":"Ana","side":"salesforce","op":"create"}],
            "salesforce_error":"offline","api_calls":7,"api_usage":[10,5000]}"#;
        let run: RunRecord = serde_json::from_str(old).unwrap();
        assert_eq!(run.tally.side(Side::SALESFORCE).create, 1);
        assert_eq!(run.tally.side(Side::DESKTOP).update, 2);
        assert_eq!((run.tally.skipped, run.tally.conflicts), (3, 1));
        assert_eq!(run.unreachable(Side::SALESFORCE), Some("offline"));
        assert_eq!(run.calls(Side::SALESFORCE), 7);
        assert_eq!(run.api[&Side::SALESFORCE].usage, Some((10, 5000)));
        // Written again, it is format 2, and reads back the same.
        let again: RunRecord = serde_json::from_slice(&serde_json::to_vec(&run).unwrap()).unwrap();
        assert_eq!(again, run);
        assert!(
            !serde_json::to_string(&run)
                .unwrap()
                .contains("salesforce_error")
        );
    }
}
