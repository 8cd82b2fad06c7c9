//! The names a record goes by, as keys of the `aliases` table: its id on a side (a DAV href, a
//! Salesforce id) and its iCalendar/vCard UID. The key format is the store's own; outside the
//! store a record is found by side and id (`read::record_on`) or by UID.

use tandem_protocol::Side;

/// The key of a record's id on a side.
pub(super) fn on_side(side: Side, id: &str) -> String {
    format!("{side}:{id}")
}

/// The key of a record's UID.
pub(super) fn uid(uid: &str) -> String {
    format!("uid:{uid}")
}

/// The keys of every id on `side`: `start..end`, and the id inside a key.
pub(super) fn side_range(side: Side) -> (String, String) {
    (format!("{side}:"), format!("{side};"))
}

pub(super) fn id_in(side: Side, key: &str) -> Option<&str> {
    key.strip_prefix(side.as_str())?.strip_prefix(':')
}
