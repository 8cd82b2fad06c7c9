//! Salesforce: the REST client tandem syncs with. Its emulator (for tests, benchmarks and the
//! offline demo) is the workspace crate `tandem-salesforce-emulator`.

pub mod client;
