//! Salesforce: the REST client tandem syncs with, and the REST API emulator (for tests, benchmarks
//! and the offline demo).

pub mod client;
pub mod emulator;
pub mod ingest;
