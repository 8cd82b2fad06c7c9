//! The Salesforce client against the emulator, over real HTTP: tokens, retries, limits, paging,
//! incremental pull and exactly-once push.

mod auth;
mod cli;
mod common;
mod pull;
mod push;
mod resilience;
