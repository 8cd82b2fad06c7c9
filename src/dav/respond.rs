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

/// Building a response from its headers. A header value that cannot be sent (a control
/// character in a stored ETag, say) makes a 500 that says so — never an empty success.
pub trait Finish {
    fn finish(self, body: Body) -> Response<Body>;
}

impl Finish for hyper::http::response::Builder {
    fn finish(self, body: Body) -> Response<Body> {
        self.body(body).unwrap_or_else(|e| {
            let text = format!("tandem could not build the response: {e}\n");
            let mut response = Response::new(Body::from(text));
            *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
            let headers = response.headers_mut();
            headers.insert("DAV", header::HeaderValue::from_static(DAV_HEADER));
            headers.insert(
                header::CONTENT_TYPE,
                header::HeaderValue::from_static("text/plain; charset=utf-8"),
            );
            response
        })
    }
}

pub fn bytes(status: StatusCode, content_type: &str, body: Vec<u8>) -> Response<Body> {
    builder(status)
        .header(header::CONTENT_TYPE, content_type)
        .finish(Full::new(Bytes::from(body)))
}

pub fn empty(status: StatusCode) -> Response<Body> {
    builder(status).finish(Full::new(Bytes::new()))
}

/// An HTTP-date (`Last-Modified`, `getlastmodified`); times before the epoch, which HTTP-dates
/// cannot say, are the epoch.
pub fn http_date(t: chrono::DateTime<chrono::Utc>) -> String {
    httpdate::fmt_http_date(t.max(chrono::DateTime::UNIX_EPOCH).into())
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
    multistatus_body(ms.render())
}

pub fn multistatus_body(body: Vec<u8>) -> Response<Body> {
    bytes(
        StatusCode::MULTI_STATUS,
        "application/xml; charset=utf-8",
        body,
    )
}

/// A PROPFIND's answer: the multistatus, 404 when nothing is at `path`, 500 when the store failed.
pub fn found(
    result: Result<Option<Multistatus>, impl std::fmt::Display>,
    path: &str,
) -> Response<Body> {
    listing(result.map(|ms| ms.map(|ms| ms.render())), path)
}

/// The same for a multistatus body already rendered.
pub fn listing(
    result: Result<Option<Vec<u8>>, impl std::fmt::Display>,
    path: &str,
) -> Response<Body> {
    match result {
        Ok(Some(body)) => multistatus_body(body),
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
        .finish(if head {
            Default::default()
        } else {
            body.into()
        })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_response_that_cannot_be_built_is_a_500_not_an_empty_success() {
        let response = builder(StatusCode::OK)
            .header(header::ETAG, "\"a\nb\"")
            .finish(Body::default());
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(response.headers()["DAV"], DAV_HEADER);
    }
}
