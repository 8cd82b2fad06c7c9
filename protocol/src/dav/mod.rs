//! WebDAV/CalDAV/CardDAV XML: typed request bodies in, multistatus and error bodies out.
//!
//! Sans-IO: every function takes bytes or values and returns bytes or values. Parsing is
//! lenient where real clients are sloppy (unknown elements are ignored, unknown properties are
//! kept as names) and strict where input is hostile or meaningless (DOCTYPE, undeclared
//! prefixes, depth and size limits); each rejection is an [`XmlError`] that knows its HTTP
//! status and DAV precondition.

pub mod conditional;
mod error;
pub mod feed;
mod filter;
pub mod href;
pub mod layout;
mod limits;
mod mkcol;
mod multistatus;
mod name;
mod precondition;
mod prop;
mod propfind;
mod proppatch;
mod reader;
mod report;
pub mod resource;
mod time_range;
mod value;
mod xml_writer;

#[cfg(test)]
mod tests;

pub use error::{FilterDialect, XmlError};
pub use filter::{
    AddressbookFilter, CalPropFilter, CalendarFilter, CardPropFilter, Collation, CompFilter,
    FilterTest, MatchType, ParamFilter, TextMatch,
};
pub use limits::Limits;
pub use mkcol::{MkCol, parse_mkcalendar, parse_mkcol};
pub use multistatus::{
    ListedShape, Multistatus, MultistatusWriter, PropStat, PropValue, Property, Response,
    ResponseKind, status_line,
};
pub use name::{PropName, names, ns};
pub use precondition::{Precondition, dav_error};
pub use prop::{
    AddressDataRequest, CalendarDataRequest, CompSelection, PropRequest, PropSelection,
};
pub use propfind::parse_propfind;
pub use proppatch::{PropPatchOp, parse_proppatch};
pub use report::{
    AddressbookQuery, CalendarQuery, ExpandItem, ExpandProperty, FreeBusyQuery, Multiget,
    PrincipalPropertySearch, PropertySearch, Report, SyncCollection, SyncLevel,
    parse_addressbook_multiget, parse_addressbook_query, parse_calendar_multiget,
    parse_calendar_query, parse_free_busy_query, parse_report, parse_sync_collection,
};
pub use time_range::{TimeRange, UtcDateTime};
pub use value::{XmlAttr, XmlElement, XmlNode, XmlValue};
