//! HCL Notes through the Domino REST API: the client a sync run reads and writes the user's mail
//! file with (contacts and to-dos as documents of the mail file's scope, the calendar through
//! the PIM API). Like the other clients it translates and never decides: the engine turns what
//! it reads into observations and tells it what to write.

mod client;
mod error;

pub use client::{NotesClient, Reach};
pub use error::NotesError;
