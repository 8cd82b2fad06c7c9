//! The CalDAV/CardDAV server over real HTTP: discovery, collections, members with conditional
//! requests, reports, exports, the plain WebDAV area, and every error case with the store
//! checked unchanged.

mod clients;
mod collections;
mod common;
mod errors;
mod members;
mod reports;
mod tls;
mod webdav;
