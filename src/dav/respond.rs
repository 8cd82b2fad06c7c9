//! Building responses: every one carries the `DAV:` header (Apple reads it on PROPFIND too),
//! errors carry a plain sentence a person can act on, or the DAV precondition element an RFC
//! defines for the case.

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::{Response, StatusCode, header};
use tandem_protocol::dav::{Multistatus, Precondition, XmlError, dav_error};

pub type Body = Full<Bytes>;

/// Compliance classes: WebDAV 1 and 3 (no locking), CalDAV, CardDAV, extended MKCOL.
pub const DAV_HEADER: &str = "1, 3, calendar-access, addressbook, extended-mkcol";
pub const ALLOW: &str =
    "OPTIONS, GET, HEAD, PUT, DELETE, PROPFIND, PROPPATCH, REPORT, MKCOL, MKCALENDAR, COPY, MOVE";

pub fn builder(status: StatusCode) -> hyper::http::response::Builder {
    Response::builder().status(status).header("DAV", DAV_HEADER)
}

pub fn bytes(status: StatusCode, content_type: &str, body: Vec<u8>) -> Response<Body> {
    builder(status)
        .header(header::CONTENT_TYPE, content_type)
        .body(Full::new(Bytes::from(body)))
        .unwrap_or_default()
}

pub fn empty(status: StatusCode) -> Response<Body> {
    builder(status)
        .body(Full::new(Bytes::new()))
        .unwrap_or_default()
}

/// A plain-text error: what is wrong and what to do.
pub fn text(status: StatusCode, message: impl std::fmt::Display) -> Response<Body> {
    bytes(
        status,
        "text/plain; charset=utf-8",
        format!("{message}\n").into_bytes(),
    )
}

pub fn multistatus(ms: &Multistatus) -> Response<Body> {
    bytes(
        StatusCode::MULTI_STATUS,
        "application/xml; charset=utf-8",
        ms.render(),
    )
}

/// A PROPFIND's answer: the multistatus, 404 when nothing is at `path`, 500 when the store failed.
pub fn found(
    result: Result<Option<Multistatus>, impl std::fmt::Display>,
    path: &str,
) -> Response<Body> {
    match result {
        Ok(Some(ms)) => multistatus(&ms),
        Ok(None) => text(StatusCode::NOT_FOUND, format!("there is nothing at {path}")),
        Err(e) => text(StatusCode::INTERNAL_SERVER_ERROR, e),
    }
}

/// A GET or HEAD answer from `headers` (ETag, type, dates): its length, and the body unless
/// the method is HEAD.
pub fn entity(
    headers: hyper::http::response::Builder,
    method: &hyper::Method,
    body: Vec<u8>,
) -> Response<Body> {
    let head = method == hyper::Method::HEAD;
    headers
        .header(header::CONTENT_LENGTH, body.len())
        .body(if head {
            Default::default()
        } else {
            body.into()
        })
        .unwrap_or_default()
}

/// A `<D:error>` body naming the precondition that failed.
pub fn precondition(status: StatusCode, condition: &Precondition) -> Response<Body> {
    bytes(
        status,
        "application/xml; charset=utf-8",
        dav_error(condition),
    )
}

/// A `<D:error>` body naming the precondition, with a sentence saying what is wrong in an
/// extra element (RFC 4918 lets an error carry more than the condition; clients ignore it).
pub fn refused(
    status: StatusCode,
    condition: &Precondition,
    reason: impl std::fmt::Display,
) -> Response<Body> {
    let body = String::from_utf8_lossy(&dav_error(condition)).into_owned();
    let reason = reason
        .to_string()
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    let element = format!("<T:reason xmlns:T=\"https://tandem.invalid/ns\">{reason}</T:reason>");
    let body = match body.rfind("</D:error>") {
        Some(at) => format!("{}{element}{}", &body[..at], &body[at..]),
        None => body,
    };
    bytes(status, "application/xml; charset=utf-8", body.into_bytes())
}

/// A request body the XML layer refused.
pub fn xml_error(e: &XmlError) -> Response<Body> {
    let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST);
    match e.precondition() {
        Some(condition) => precondition(status, &condition),
        None => text(status, e),
    }
}
