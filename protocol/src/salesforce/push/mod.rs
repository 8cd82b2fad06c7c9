//! Writing records to Salesforce exactly once, decided without a socket.
//!
//! Creates are the hard part (invariant 4): when the org has an external-id field, a create is
//! an upsert keyed by tandem's record id and sending it twice finds the first record. Otherwise
//! an intent is made durable before the call ([`CreateBatch`]), and when the answer is lost — or
//! a later run finds an intent without an outcome — a reconciliation query looks for a record
//! this user created with the same natural key ([`keys`]), claiming each record once, before
//! anything is sent again. Updates are conditional ([`ConditionalUpdate`]): a 412 or a lost
//! answer is settled by reading the record back ([`holds`]). Every collection call resends only
//! the rows Salesforce could not lock ([`Rounds`]).
//!
//! Each machine is fed what Salesforce answered and says what to do next; the client in
//! `src/salesforce/client/push` does the I/O and records intents and outcomes in the log.

mod answer;
mod create;
pub mod keys;
mod outcome;
mod readback;
mod rounds;
mod update;

pub use answer::{Describe, FieldInfo, MalformedAnswer, save_results};
pub use create::{CreateBatch, CreateNext};
pub use outcome::{CallFailure, ItemAnswer, ItemOutcome, settle};
pub use readback::holds;
pub use rounds::{RoundNext, Rounds};
pub use update::{ConditionalUpdate, UpdateFailure, UpdateNext, modstamp_check};
