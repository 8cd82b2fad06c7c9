//! COPY and MOVE in the plain file area (RFC 4918 §9.8, §9.9): the Destination, Overwrite and
//! Depth headers, and the status each outcome gets. A whole tree moves in one event.
//!
//! Calendar and address-book members are not copied or moved: a CalDAV/CardDAV member is a
//! record that syncs with Salesforce, and RFC 4791/6352 let a server refuse (403). Clients move
//! an event by PUT in the new calendar and DELETE in the old one, which keeps history exact.

use super::files::{self as area, href};
use super::respond::{self, Body, Finish};
use super::{Call, DavState};
use crate::store::files::{ROOT, is_below};
use crate::store::{FileGuard, VersionCondition};
use hyper::{Response, StatusCode, header};
use tandem_protocol::dav::href::encode_href;
use tandem_protocol::dav::layout::{self as paths, Target};
use tandem_protocol::event::FileChange;

/// COPY or MOVE of anything outside the file area.
pub fn refused_outside(call: &Call) -> Response<Body> {
    respond::text(
        StatusCode::FORBIDDEN,
        format!(
            "{} works in /dav/files/ only; to move an event or contact, PUT it in the other collection and DELETE the original",
            call.method
        ),
    )
}

/// Where a Destination header points, once checked.
enum Destination {
    Path(String),
    Refused(Box<Response<Body>>),
}

fn destination(call: &Call) -> Destination {
    let refuse =
        |status, message: String| Destination::Refused(Box::new(respond::text(status, message)));
    let Some(raw) = call.header("destination").map(str::trim) else {
        return refuse(
            StatusCode::BAD_REQUEST,
            format!(
                "{} needs a Destination header naming where to put the copy",
                call.method
            ),
        );
    };
    let uri: hyper::Uri = match raw.parse() {
        Ok(uri) => uri,
        Err(e) => {
            return refuse(
                StatusCode::BAD_REQUEST,
                format!("the Destination {raw} is not a URI: {e}"),
            );
        }
    };
    if let Some(authority) = uri.authority() {
        // RFC 4918 §9.8.5: 502 when the destination is on another server.
        let host = call.header("host").unwrap_or_default();
        if !authority.as_str().eq_ignore_ascii_case(host) {
            return refuse(
                StatusCode::BAD_GATEWAY,
                format!(
                    "the Destination {raw} is on another server; tandem copies only within {host}"
                ),
            );
        }
    } else if !raw.starts_with('/') {
        return refuse(
            StatusCode::BAD_REQUEST,
            format!("the Destination {raw} must be an absolute URI or an absolute path"),
        );
    }
    match paths::resolve(uri.path()) {
        Ok(Target::File(path)) => Destination::Path(path),
        Ok(_) => refuse(
            StatusCode::FORBIDDEN,
            format!(
                "the Destination {raw} is outside /dav/files/; plain resources cannot become calendar or address-book members"
            ),
        ),
        Err(paths::BadPath(message)) => refuse(StatusCode::BAD_REQUEST, message),
    }
}

pub async fn copy_or_move(
    state: &DavState,
    call: &Call,
    from: &str,
    moving: bool,
) -> Response<Body> {
    let to = match destination(call) {
        Destination::Path(path) => path,
        Destination::Refused(response) => return *response,
    };
    let overwrite = match call.header("overwrite").map(str::trim) {
        None | Some("T") | Some("t") => true,
        Some("F") | Some("f") => false,
        Some(other) => {
            return respond::text(
                StatusCode::BAD_REQUEST,
                format!("Overwrite must be T or F, not {other}"),
            );
        }
    };
    let depth = call.header("depth").map(str::trim);
    let deep = match depth {
        None => true,
        Some(d) if d.eq_ignore_ascii_case("infinity") => true,
        Some("0") => false,
        Some(other) => {
            return respond::text(
                StatusCode::BAD_REQUEST,
                format!("{} takes Depth 0 or infinity, not {other}", call.method),
            );
        }
    };
    let source = match area::lookup(state, from) {
        Ok(Some(source)) => source,
        Ok(None) => {
            return respond::text(StatusCode::NOT_FOUND, format!("there is nothing at {from}"));
        }
        Err(response) => return *response,
    };
    // RFC 4918 §9.9.2: a collection moves as a whole.
    if moving && source.collection && !deep {
        return respond::text(
            StatusCode::BAD_REQUEST,
            "MOVE of a collection takes Depth infinity (or no Depth header)",
        );
    }
    if from == ROOT || to == ROOT {
        return respond::text(
            StatusCode::FORBIDDEN,
            "the root of the file area cannot be copied, moved or replaced",
        );
    }
    if from == to {
        return respond::text(
            StatusCode::FORBIDDEN,
            format!(
                "the Destination is {} itself; name another place",
                href(from, source.collection)
            ),
        );
    }
    if is_below(&to, from) || is_below(from, &to) {
        return respond::text(
            StatusCode::FORBIDDEN,
            format!(
                "{} and {} contain one another; copy or move to a place outside the source",
                href(from, source.collection),
                to
            ),
        );
    }
    let existed = match area::lookup(state, &to) {
        Ok(existing) => existing.is_some(),
        Err(response) => return *response,
    };
    if existed && !overwrite {
        return respond::text(
            StatusCode::PRECONDITION_FAILED,
            format!("{to} exists and Overwrite is F; send Overwrite: T to replace it"),
        );
    }
    if let Some(response) = area::parent_missing(state, &to) {
        return response;
    }
    // Overwrite: F holds atomically with the append, not only at the check above.
    let guards = if overwrite {
        vec![]
    } else {
        vec![FileGuard {
            path: to.clone(),
            condition: VersionCondition::Absent,
        }]
    };
    let change = if moving {
        FileChange::Move {
            from: from.to_string(),
            to: to.clone(),
        }
    } else {
        FileChange::Copy {
            from: from.to_string(),
            to: to.clone(),
            deep,
        }
    };
    match area::append(state, call, change, guards).await {
        Ok(()) if existed => respond::empty(StatusCode::NO_CONTENT),
        Ok(()) => respond::builder(StatusCode::CREATED)
            .header(header::LOCATION, encode_href(&href(&to, source.collection)))
            .finish(Default::default()),
        Err(response) => *response,
    }
}
