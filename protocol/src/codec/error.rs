//! Why a client's iCalendar or vCard body was refused, or could not be expanded; each message
//! names the line, property or rule.

/// The DAV server maps these to `CALDAV:valid-calendar-data`, `CALDAV:supported-calendar-component`
/// or `CARDDAV:valid-address-data` (see [`CodecError::precondition`]).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CodecError {
    #[error("the body is empty")]
    Empty,

    #[error("not an iCalendar object: the body does not start with BEGIN:VCALENDAR")]
    NotICalendar,

    #[error("not a vCard: the body does not start with BEGIN:VCARD")]
    NotVcard,

    #[error(
        "line {line}: invalid UTF-8 (byte 0x{byte:02X}); the body must be UTF-8, or the line must name its charset (vCard 2.1: `;CHARSET=Windows-1252`)"
    )]
    InvalidUtf8 { line: usize, byte: u8 },

    #[error(
        "line {line}: CHARSET={charset} is not a charset tandem knows; send the line in UTF-8 or in a charset of the WHATWG Encoding Standard (e.g. Windows-1252, ISO-8859-1, KOI8-R, Shift_JIS)"
    )]
    UnknownCharset { line: usize, charset: String },

    #[error("line {line}: the value is not valid {charset}; check the line's CHARSET parameter")]
    Undecodable { line: usize, charset: String },

    #[error("line {line}: property without a colon: `{text}`")]
    NoColon { line: usize, text: String },

    #[error("line {line}: `{text}` is outside any BEGIN/END component")]
    OutsideComponent { line: usize, text: String },

    #[error("line {line}: END:{name} without a matching BEGIN")]
    UnexpectedEnd { line: usize, name: String },

    #[error("line {line}: END:{found} closes BEGIN:{expected}")]
    MismatchedEnd {
        line: usize,
        expected: String,
        found: String,
    },

    #[error("truncated: BEGIN:{name} has no END:{name}")]
    Truncated { name: String },

    #[error("{count} objects in one body: a resource holds exactly one {what}")]
    SeveralObjects { count: usize, what: &'static str },

    #[error(
        "METHOD:{0} is not allowed in a stored calendar object (RFC 4791 §4.1); send it without METHOD"
    )]
    MethodPresent(String),

    #[error("{0} is not supported in this collection")]
    UnsupportedComponent(String),

    #[error("the calendar object holds no VEVENT or VTODO")]
    NoComponent,

    #[error("VEVENT and VTODO mixed in one resource: a calendar resource holds one component type")]
    MixedComponents,

    #[error("a {component} without UID: every calendar object needs a UID")]
    MissingUid { component: String },

    #[error(
        "two different UIDs in one resource ({0}, {1}): a calendar resource holds one event and its overrides"
    )]
    SeveralUids(String, String),

    #[error("two components with UID {uid} and no RECURRENCE-ID: only one master is allowed")]
    SeveralMasters { uid: String },

    #[error("two overrides of UID {uid} for the same RECURRENCE-ID {rid}")]
    DuplicateOverride { uid: String, rid: String },

    #[error("line {line}: {property} has an invalid value `{value}`: {expected}")]
    BadValue {
        line: usize,
        property: String,
        value: String,
        expected: &'static str,
    },

    #[error("VERSION:{0} is not a vCard version tandem reads; send vCard 2.1, 3.0 or 4.0")]
    UnknownVcardVersion(String),

    #[error(
        "line {line}: a vCard {version} holds no component (BEGIN:{name}); send one card per resource"
    )]
    ComponentInCard {
        line: usize,
        version: &'static str,
        name: String,
    },

    #[error("the body could not be read as {what}: {reason}")]
    Unreadable { what: &'static str, reason: String },

    #[error(
        "the recurrence rule was searched only up to {searched_until}: walking it further costs too much for the instances it yields"
    )]
    RecurrenceCutShort {
        searched_until: chrono::DateTime<chrono::Utc>,
    },
}

/// The precondition element the DAV layer should put in its 403 body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Precondition {
    ValidCalendarData,
    SupportedCalendarComponent,
    ValidAddressData,
}

impl CodecError {
    /// Which CalDAV/CardDAV precondition this error violates, for a body parsed as `vcard` or not.
    pub fn precondition(&self, vcard: bool) -> Precondition {
        match self {
            _ if vcard => Precondition::ValidAddressData,
            CodecError::UnsupportedComponent(_) | CodecError::MixedComponents => {
                Precondition::SupportedCalendarComponent
            }
            _ => Precondition::ValidCalendarData,
        }
    }
}
