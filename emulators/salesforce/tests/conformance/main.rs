//! Conformance tests: the emulator over real HTTP, checked against the documented Salesforce behaviour.

mod collections;
mod common;
mod faults;
mod limits;
mod oauth;
mod query;
mod replication;
mod rows;
mod seed;
mod series;
