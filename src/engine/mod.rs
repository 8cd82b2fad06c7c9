//! The tokio side of the engine: the single writer that appends to the log.

pub mod draft;
pub mod sync;
pub mod writer;

pub use draft::{
    DesktopWrite, Draft, DraftBody, FileDraft, FileGuard, Guard, ObservationDraft, VersionCondition,
};
pub use writer::{Ack, Pending, Writer, WriterError};
