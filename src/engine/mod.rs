//! The tokio side of the engine: the single writer that appends to the log.

pub mod draft;
pub mod writer;

pub use draft::{
    Draft, DraftBody, FileDraft, FileGuard, Guard, ObservationDraft, VersionCondition,
};
pub use writer::{Ack, Pending, Writer, WriterError};
