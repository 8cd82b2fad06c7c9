//! The plain file area `/dav/files/`: MKCOL, PUT, GET/HEAD and DELETE of ordinary WebDAV
//! collections and resources (any bytes, any nesting). Each request is one `FileChange` event,
//! answered only once the writer has made it durable; reads come from the files projection.

use super::respond::{self, Body, Finish};
use super::{Call, DavState, copymove, file_props};
use crate::store::files::{self, FileState, ROOT};
use crate::store::{Draft, DraftBody, FileDraft, FileGuard, WriterError};
use hyper::{Response, StatusCode, header};
use std::collections::BTreeMap;
use tandem_protocol::Payload;
use tandem_protocol::dav::conditional::not_modified;
use tandem_protocol::dav::href::encode_href;
use tandem_protocol::dav::parse_mkcol;
use tandem_protocol::event::FileChange;

/// Dispatch a request on the file area.
pub async fn route(state: &DavState, call: &Call, path: &str) -> Response<Body> {
    match call.method.as_str() {
        "PROPFIND" => file_props::propfind(state, call, path),
        "PROPPATCH" => file_props::proppatch(state, call, path).await,
        "MKCOL" => make(state, call, path).await,
        "GET" | "HEAD" => get(state, call, path),
        "PUT" => put(state, call, path).await,
        "DELETE" => delete(state, call, path).await,
        "COPY" => copymove::copy_or_move(state, call, path, false).await,
        "MOVE" => copymove::copy_or_move(state, call, path, true).await,
        "MKCALENDAR" => respond::text(
            StatusCode::FORBIDDEN,
            "calendars are created in /dav/calendars/; /dav/files/ holds plain collections (use MKCOL)",
        ),
        _ => respond::builder(StatusCode::METHOD_NOT_ALLOWED)
            .header(header::ALLOW, respond::ALLOW)
            .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
            .finish(format!("{} is not supported here\n", call.method).into()),
    }
}

/// The href of an entry: collections end with `/`.
pub(crate) fn href(path: &str, collection: bool) -> String {
    if collection {
        format!("{path}/")
    } else {
        path.to_string()
    }
}

/// A response ready to send instead of going on (boxed: it is large, and the common path is
/// `Ok`).
pub(crate) type Refusal = Box<Response<Body>>;

/// The entry at `path`, or the response to send when reading failed.
pub(crate) fn lookup(state: &DavState, path: &str) -> Result<Option<FileState>, Refusal> {
    state
        .store
        .read()
        .and_then(|txn| files::entry(&txn, path))
        .map_err(|e| Box::new(respond::text(StatusCode::INTERNAL_SERVER_ERROR, e)))
}

/// The answer for a new entry whose parent is not a collection (RFC 4918 §9.3.1, §9.7.1).
pub(crate) fn parent_missing(state: &DavState, path: &str) -> Option<Response<Body>> {
    let parent = files::parent(path).unwrap_or(ROOT);
    match lookup(state, parent) {
        Ok(Some(p)) if p.collection => None,
        Ok(_) => Some(respond::text(
            StatusCode::CONFLICT,
            format!("the collection {parent}/ does not exist; create it first with MKCOL"),
        )),
        Err(response) => Some(*response),
    }
}

/// Append a file change with its conditions; `Err` is the response for a refusal.
pub(crate) async fn append(
    state: &DavState,
    call: &Call,
    change: FileChange,
    guards: Vec<FileGuard>,
) -> Result<(), Refusal> {
    let draft = Draft {
        origin: call.origin.clone(),
        body: DraftBody::File(FileDraft { change, guards }),
    };
    match state.writer.append(draft).await {
        Ok(_) => Ok(()),
        Err(WriterError::Store(e)) => Err(Box::new(super::store_failure(&e))),
        Err(e) => Err(Box::new(respond::text(StatusCode::SERVICE_UNAVAILABLE, e))),
    }
}

/// `If-Match` / `If-None-Match` of a request as guards on `path`.
fn guards(call: &Call, path: &str) -> Vec<FileGuard> {
    super::member::condition(call)
        .map(|condition| FileGuard {
            path: path.to_string(),
            condition,
        })
        .into_iter()
        .collect()
}

async fn make(state: &DavState, call: &Call, path: &str) -> Response<Body> {
    let mut props = BTreeMap::new();
    if !call.body.is_empty() {
        // RFC 4918 §9.3: a body the server does not understand is 415. Extended MKCOL
        // (RFC 5689) bodies are XML; anything else is refused before it is parsed.
        let xml = call.header("content-type").is_none_or(|t| {
            let t = t.to_ascii_lowercase();
            t.starts_with("application/xml") || t.starts_with("text/xml")
        });
        let request = match parse_mkcol(&call.body, &state.limits) {
            Ok(request) if xml => request,
            _ => {
                return respond::text(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "MKCOL takes no body, or an extended MKCOL XML body (RFC 5689)",
                );
            }
        };
        if request.is_calendar() || request.is_addressbook() {
            return respond::text(
                StatusCode::FORBIDDEN,
                "calendars are created in /dav/calendars/ and address books in /dav/addressbooks/; /dav/files/ holds plain collections",
            );
        }
        for (name, value) in &request.props {
            if file_props::is_protected(name) {
                return respond::text(
                    StatusCode::FORBIDDEN,
                    format!("{name} is computed by the server and cannot be set"),
                );
            }
            props.insert(name.to_string(), value.to_xml());
        }
    }
    match lookup(state, path) {
        Ok(Some(_)) => {
            return respond::text(
                StatusCode::METHOD_NOT_ALLOWED,
                format!("{} exists already", href(path, true)),
            );
        }
        Ok(None) => {}
        Err(response) => return *response,
    }
    if let Some(response) = parent_missing(state, path) {
        return response;
    }
    let change = FileChange::MakeCollection {
        path: path.to_string(),
        props,
    };
    match append(state, call, change, vec![]).await {
        Ok(()) => respond::builder(StatusCode::CREATED)
            .header(header::LOCATION, encode_href(&href(path, true)))
            .finish(Default::default()),
        Err(response) => *response,
    }
}

async fn put(state: &DavState, call: &Call, path: &str) -> Response<Body> {
    let existing = match lookup(state, path) {
        Ok(existing) => existing,
        Err(response) => return *response,
    };
    if existing.as_ref().is_some_and(|e| e.collection) {
        return respond::text(
            StatusCode::METHOD_NOT_ALLOWED,
            format!(
                "{} is a collection; PUT a resource inside it instead",
                href(path, true)
            ),
        );
    }
    if let Some(response) = parent_missing(state, path) {
        return response;
    }
    let content_type = call
        .header("content-type")
        .unwrap_or("application/octet-stream")
        .to_string();
    let etag = tandem_protocol::dav::resource::etag(&call.body);
    let change = FileChange::Put {
        path: path.to_string(),
        payload: Payload {
            content_type,
            bytes: call.body.clone(),
        },
    };
    match append(state, call, change, guards(call, path)).await {
        Ok(()) => respond::builder(if existing.is_some() {
            StatusCode::NO_CONTENT
        } else {
            StatusCode::CREATED
        })
        .header(header::ETAG, etag)
        .finish(Default::default()),
        Err(response) => *response,
    }
}

fn get(state: &DavState, call: &Call, path: &str) -> Response<Body> {
    let found = state.store.read().and_then(|txn| {
        let Some(entry) = files::entry(&txn, path)? else {
            return Ok(None);
        };
        let content = if entry.collection {
            let names: Vec<String> = files::children(&txn, path)?
                .into_iter()
                .map(|(p, e)| {
                    let name = p.rsplit('/').next().unwrap_or_default();
                    href(name, e.collection)
                })
                .collect();
            let mut listing = names.join("\n");
            listing.push('\n');
            listing.into_bytes()
        } else {
            files::body(&txn, path)?.unwrap_or_default()
        };
        Ok(Some((entry, content)))
    });
    let (entry, content) = match found {
        Ok(Some(found)) => found,
        Ok(None) => {
            return respond::text(StatusCode::NOT_FOUND, format!("there is nothing at {path}"));
        }
        Err(e) => return respond::text(StatusCode::INTERNAL_SERVER_ERROR, e),
    };
    if let Some(etag) = &entry.etag
        && not_modified(call.header("if-none-match"), etag)
    {
        return respond::builder(StatusCode::NOT_MODIFIED)
            .header(header::ETAG, etag)
            .finish(Default::default());
    }
    // A collection's GET is a list of its members' names, one per line.
    let content_type = entry
        .content_type
        .clone()
        .unwrap_or_else(|| "text/plain; charset=utf-8".to_string());
    let mut response = respond::builder(StatusCode::OK)
        .header(header::CONTENT_TYPE, content_type)
        .header(header::LAST_MODIFIED, http_date(&entry));
    if let Some(etag) = &entry.etag {
        response = response.header(header::ETAG, etag);
    }
    respond::entity(response, &call.method, content)
}

async fn delete(state: &DavState, call: &Call, path: &str) -> Response<Body> {
    if path == ROOT {
        return respond::text(
            StatusCode::FORBIDDEN,
            "the root of the file area cannot be deleted; delete what is inside it",
        );
    }
    match lookup(state, path) {
        Ok(Some(_)) => {}
        Ok(None) => {
            return respond::text(StatusCode::NOT_FOUND, format!("there is nothing at {path}"));
        }
        Err(response) => return *response,
    }
    let change = FileChange::Delete {
        path: path.to_string(),
    };
    match append(state, call, change, guards(call, path)).await {
        Ok(()) => respond::empty(StatusCode::NO_CONTENT),
        Err(response) => *response,
    }
}

/// Last-Modified: the time of the event that last wrote the entry.
pub(crate) fn http_date(entry: &FileState) -> String {
    respond::http_date(entry.modified.time())
}
