//! tandem's runtime: the store (the redb log and its projections), the single writer, the local
//! API of the daemon, and the command line. Meaning lives in `tandem-protocol`; this crate does
//! the I/O around it.

pub mod cli;
pub mod config;
pub mod daemon;
pub mod dav;
pub mod engine;
pub mod salesforce;
pub mod store;

pub use tandem_protocol as protocol;
