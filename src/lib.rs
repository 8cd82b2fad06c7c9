//! tandem's runtime: the store (the redb log, its projections and the single writer), the sides
//! (the CalDAV/CardDAV server, the Salesforce client), the engine where they meet, the app layer
//! of use cases, and its fronts (the daemon's local API, the command line). Meaning lives in
//! `tandem-protocol`; this crate does the I/O around it. The rooms and their rules are in the
//! README's architecture section.

pub mod app;
pub mod cli;
pub mod config;
pub mod daemon;
pub mod dav;
pub mod engine;
pub mod notes;
pub mod outlook;
pub mod salesforce;
pub mod store;
pub mod web;

pub use tandem_protocol as protocol;
