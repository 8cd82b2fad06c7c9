//! Salesforce: the REST API emulator (for tests, benchmarks and the offline demo).

pub mod emulator;
