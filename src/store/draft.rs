//! What a producer (the DAV server, the Salesforce poller, `tandem ingest`) hands to the writer:
//! an event before it has a timestamp, and an observation that may not know its record id yet.

use serde::{Deserialize, Serialize};
use tandem_protocol::codec::Extent;
pub use tandem_protocol::dav::conditional::VersionCondition;
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
    /// tandem writing to the desktop side: an outcome whose bytes replace a DAV member, on the
    /// condition that the member is still as tandem last read it (a client may have just changed
    /// it; then the write is refused and the next run plans again).
    DesktopWrite(DesktopWrite),
    Watermark(tandem_protocol::event::Watermark),
    Collection(tandem_protocol::event::CollectionChange),
    File(FileDraft),
    /// A sync run's record.
    Run(tandem_protocol::run::RunRecord),
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DesktopWrite {
    pub outcome: Outcome,
    pub href: String,
    pub condition: VersionCondition,
}

/// A change to the plain file area, with the conditions of the request that made it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileDraft {
    pub change: tandem_protocol::event::FileChange,
    /// Checked atomically with the append; they are not part of the event (they held).
    #[serde(default)]
    pub guards: Vec<FileGuard>,
}

/// A condition on one path of the file area: `If-Match`, `If-None-Match`, `Overwrite: F`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileGuard {
    pub path: String,
    pub condition: VersionCondition,
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
    /// The side's whole record, instead of `changes`: the writer compares it with what the side
    /// had (its last report, or what tandem last wrote to it) and records only the difference.
    /// This is how a re-read of tandem's own write is recognised as no change.
    #[serde(default)]
    pub snapshot: Option<Fields>,
    #[serde(default)]
    pub payload: Option<Payload>,
    /// Conditions checked atomically with the append (HTTP conditional requests).
    #[serde(default)]
    pub guard: Option<Guard>,
    /// Where the payload's instances lie, when the producer parsed the payload already (the DAV
    /// server does, to check it): the writer does not parse it again for the span index. Never
    /// logged: a replay computes it from the bytes, which give the same extent.
    #[serde(skip)]
    pub extent: Option<Extent>,
}

impl ObservationDraft {
    /// An observation with nothing but its kind and operation; set the rest with struct update
    /// syntax.
    pub fn new(kind: RecordKind, op: Op) -> ObservationDraft {
        ObservationDraft {
            record: None,
            kind,
            op,
            external_id: None,
            uid: None,
            version: None,
            changed_at_ms: None,
            base: None,
            changes: Fields::new(),
            snapshot: None,
            payload: None,
            guard: None,
            extent: None,
        }
    }
}

/// Conditions on the side's current copy that must hold for the observation to be appended.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Guard {
    #[serde(default)]
    pub version: Option<VersionCondition>,
    /// No other member of the same collection may hold this observation's UID.
    #[serde(default)]
    pub unique_uid: bool,
}
