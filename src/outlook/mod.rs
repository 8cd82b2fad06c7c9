//! Outlook on Exchange Online, through Microsoft Graph: signing in (authorization code with PKCE
//! on a loopback redirect, or the device code), and the client a sync run reads and writes the
//! mailbox with. Like the Salesforce client it translates and never decides: the engine turns
//! what it reads into observations and tells it what to write.

mod client;
mod error;
pub mod signin;

pub use client::{BATCH_SIZE, Containers, OutlookClient, Part, Window};
pub use error::OutlookError;
