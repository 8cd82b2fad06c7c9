//! The sync engine: where the sides meet. Runs (manual and automatic) pull each side into the
//! log, plan with `tandem_protocol::plan`, and carry the plan out on every side.

mod error;
pub mod scheduler;
pub mod sync;

pub use error::SyncError;
