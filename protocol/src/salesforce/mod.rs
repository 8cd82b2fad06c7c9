//! What Salesforce's REST answers mean, without the socket: its error bodies, which failures may
//! be sent again, and the decisions of writing records exactly once (`push`). The client in
//! `src/salesforce/client` sends what these decide and feeds back what Salesforce said; the field
//! mapping is `crate::mapping`.

mod error;
pub mod push;
mod verdict;

pub use error::{ApiError, UNABLE_TO_LOCK_ROW};
pub use verdict::{Verdict, verdict};
