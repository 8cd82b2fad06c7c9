//! tandem's meaning, without I/O: the canonical records, the events of the log, the hybrid
//! logical clock, the causal field-level merge, and the iCalendar/vCard codec.
//!
//! Nothing in this crate touches a socket, a file or the system clock: time and randomness are
//! passed in, so every function here can be tested (and replayed) deterministically.

pub mod backoff;
pub mod codec;
pub mod dav;
pub mod error;
pub mod event;
pub mod graph;
pub mod hlc;
pub mod mapping;
pub mod merge;
pub mod notes;
pub mod pkce;
pub mod plan;
pub mod policy;
pub mod record;
pub mod restore;
pub mod rules;
pub mod run;
pub mod salesforce;
pub mod side;
pub mod update;

pub use error::Error;
pub use event::{Decision, Event, EventBody, Observation, Op, Outcome, OutcomeResult, Payload};
pub use hlc::{Hlc, HlcClock};
pub use merge::{Candidate, Edit, FieldState, Merged, RecordDoc, Resolved};
pub use policy::{ConflictPolicy, Policies};
pub use record::{Fields, RecordId, RecordKind};
pub use side::{Origin, PerSide, Role, Side};
