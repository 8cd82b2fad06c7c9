//! The error type for request bodies, with the HTTP status and DAV precondition each maps to.

use super::name::PropName;
use super::precondition::Precondition;

/// Which specification's filter grammar an error concerns; it selects the precondition's
/// namespace (`CALDAV:` or `CARDDAV:`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterDialect {
    Calendar,
    Addressbook,
}

/// Why a request body was rejected. Messages are written for the person reading a client log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum XmlError {
    #[error("request body is {actual} bytes, more than the {max} bytes accepted")]
    TooLarge { max: usize, actual: usize },
    #[error("request body is not UTF-8: {0}; send the XML body UTF-8 encoded")]
    NotUtf8(String),
    #[error("request body is empty; this method needs a <{expected}> XML document")]
    EmptyBody { expected: &'static str },
    #[error("request body is not well-formed XML (near byte {position}): {message}")]
    Malformed { message: String, position: u64 },
    #[error(
        "namespace prefix `{prefix}` is used but never declared; add xmlns:{prefix}=\"…\" to the element or an ancestor"
    )]
    UndeclaredPrefix { prefix: String },
    #[error(
        "DOCTYPE declarations are not accepted in DAV request bodies (they allow entity-expansion attacks); remove the <!DOCTYPE …> part"
    )]
    DocType,
    #[error(
        "unknown entity reference `&{0};`; only &lt; &gt; &amp; &apos; &quot; and numeric character references are allowed"
    )]
    UnknownEntity(String),
    #[error("XML nesting is deeper than {max} levels")]
    TooDeep { max: usize },
    #[error(
        "request body has more than {max} XML elements; split the request (e.g. fewer hrefs per multiget)"
    )]
    TooManyElements { max: usize },
    #[error("the root element is {found}, but this method expects {expected}")]
    WrongRoot { expected: String, found: PropName },
    #[error("REPORT {0} is not supported on this server")]
    UnsupportedReport(PropName),
    #[error("invalid request body: {0}")]
    Invalid(String),
    #[error("invalid filter: {message}")]
    InvalidFilter {
        dialect: FilterDialect,
        message: String,
    },
    #[error("unsupported filter: {message}")]
    UnsupportedFilter {
        dialect: FilterDialect,
        message: String,
    },
    #[error(
        "unsupported collation `{collation}`; use i;ascii-casemap, i;octet or i;unicode-casemap"
    )]
    UnsupportedCollation {
        dialect: FilterDialect,
        collation: String,
    },
    #[error(
        "sync-token `{0}` is not a token issued by this server; sync again with an empty <sync-token/>"
    )]
    InvalidSyncToken(String),
}

impl XmlError {
    /// The HTTP status code the server should answer with.
    pub fn status(&self) -> u16 {
        match self {
            XmlError::TooLarge { .. } | XmlError::TooManyElements { .. } => 413,
            XmlError::UnsupportedReport(_)
            | XmlError::UnsupportedFilter { .. }
            | XmlError::UnsupportedCollation { .. }
            | XmlError::InvalidSyncToken(_) => 403,
            // CalDAV defines a precondition for a bad filter; CardDAV does not, so a malformed
            // CardDAV filter is a plain bad request.
            XmlError::InvalidFilter { dialect, .. } => match dialect {
                FilterDialect::Calendar => 403,
                FilterDialect::Addressbook => 400,
            },
            XmlError::NotUtf8(_)
            | XmlError::EmptyBody { .. }
            | XmlError::Malformed { .. }
            | XmlError::UndeclaredPrefix { .. }
            | XmlError::DocType
            | XmlError::UnknownEntity(_)
            | XmlError::TooDeep { .. }
            | XmlError::WrongRoot { .. }
            | XmlError::Invalid(_) => 400,
        }
    }

    /// The precondition element for the `<D:error>` body, where an RFC defines one.
    pub fn precondition(&self) -> Option<Precondition> {
        match self {
            XmlError::UnsupportedReport(_) => Some(Precondition::supported_report()),
            XmlError::InvalidFilter {
                dialect: FilterDialect::Calendar,
                ..
            } => Some(Precondition::caldav_valid_filter()),
            XmlError::InvalidFilter {
                dialect: FilterDialect::Addressbook,
                ..
            } => None,
            XmlError::UnsupportedFilter { dialect, .. } => Some(match dialect {
                FilterDialect::Calendar => Precondition::caldav_supported_filter(),
                FilterDialect::Addressbook => Precondition::carddav_supported_filter(),
            }),
            XmlError::UnsupportedCollation { dialect, .. } => Some(match dialect {
                FilterDialect::Calendar => Precondition::caldav_supported_collation(),
                FilterDialect::Addressbook => Precondition::carddav_supported_collation(),
            }),
            XmlError::InvalidSyncToken(_) => Some(Precondition::valid_sync_token()),
            _ => None,
        }
    }

    /// The complete `<D:error>` response body, when a precondition applies.
    pub fn error_body(&self) -> Option<Vec<u8>> {
        self.precondition()
            .map(|p| super::precondition::dav_error(&p))
    }
}
