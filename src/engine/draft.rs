//! What a producer (the DAV server, the Salesforce poller, `tandem ingest`) hands to the writer:
//! an event before it has a timestamp, and an observation that may not know its record id yet.

use serde::{Deserialize, Serialize};
use tandem_protocol::{Decision, Fields, Hlc, Op, Origin, Outcome, Payload, RecordId, RecordKind};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Draft {
    pub origin: Origin,
    #[serde(flatten)]
    pub body: DraftBody,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum DraftBody {
    Observation(ObservationDraft),
    Decision(Decision),
    Outcome(Outcome),
    Watermark(tandem_protocol::event::Watermark),
}

/// An observation as a side reports it. The writer fills in what it leaves open.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObservationDraft {
    /// The record, when the producer knows it; otherwise it is found by `external_id` or `uid`,
    /// or, for a create, made new.
    #[serde(default)]
    pub record: Option<RecordId>,
    pub kind: RecordKind,
    pub op: Op,
    #[serde(default)]
    pub external_id: Option<String>,
    #[serde(default)]
    pub uid: Option<String>,
    #[serde(default)]
    pub version: Option<String>,
    #[serde(default)]
    pub changed_at_ms: Option<i64>,
    /// What the side last saw; when absent, the record's current heads (the change is taken as
    /// made on top of the latest state).
    #[serde(default)]
    pub base: Option<Vec<Hlc>>,
    #[serde(default)]
    pub changes: Fields,
    #[serde(default)]
    pub payload: Option<Payload>,
}
