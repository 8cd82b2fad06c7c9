//! The record of a sync run, kept in the log: what the plan listed, what was carried out, and
//! what failed, so `tandem sync status` can show the last run and automatic runs know that a
//! manual run was reviewed first.

use crate::event::Op;
use crate::plan::Tally;
use crate::record::{RecordId, RecordKind};
use crate::side::Side;
use serde::{Deserialize, Serialize};

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

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
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
    /// Why Salesforce could not be read or written in this run (offline, login, limits).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub salesforce_error: Option<String>,
    /// Salesforce API calls the run made.
    #[serde(default)]
    pub api_calls: u64,
    /// The org's rolling 24-hour API usage after the run: (used, limit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_usage: Option<(u64, u64)>,
}

impl RunRecord {
    pub fn failures(&self) -> impl Iterator<Item = &StepResult> {
        self.results.iter().filter(|r| r.error.is_some())
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
