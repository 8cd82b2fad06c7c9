//! Members of collections — one event, task or contact each: GET, PUT and DELETE with strict
//! conditional requests. A PUT becomes an observation that carries the client's bytes; the
//! response is sent only after the writer has made it durable.

use super::props;
use super::respond::{self, Body, Finish};
use super::{Call, DavState};
use crate::store::{Draft, DraftBody, Guard, ObservationDraft, VersionCondition, WriterError};
use crate::store::{StoreError, dav};
use hyper::{Response, StatusCode, header};
use tandem_protocol::codec::{self, CodecError, Extent};
use tandem_protocol::dav::conditional::not_modified;
use tandem_protocol::dav::layout::{self, Target};
use tandem_protocol::dav::resource::etag;
use tandem_protocol::dav::{Precondition, PropName, ns};
use tandem_protocol::event::CollectionKind;
use tandem_protocol::{Op, Payload, RecordKind};

/// The version condition of a request's `If-Match` / `If-None-Match` headers.
pub(crate) fn condition(call: &Call) -> Option<VersionCondition> {
    VersionCondition::from_headers(call.header("if-match"), call.header("if-none-match"))
}

pub fn get(state: &DavState, call: &Call) -> Response<Body> {
    let Target::Member { collection, name } = &call.target else {
        return respond::text(StatusCode::NOT_FOUND, "not a member of a collection");
    };
    let href = format!("{collection}{name}");
    let found = state.store.read().and_then(|txn| {
        let item = dav::item(&txn, collection, name)?.filter(dav::ItemState::live);
        Ok(match item {
            Some(item) => dav::body(&txn, &href)?.map(|body| (item, body)),
            None => None,
        })
    });
    let (item, body) = match found {
        Ok(Some(found)) => found,
        Ok(None) => {
            return respond::text(StatusCode::NOT_FOUND, format!("there is nothing at {href}"));
        }
        Err(e) => return respond::text(StatusCode::INTERNAL_SERVER_ERROR, e),
    };
    if not_modified(call.header("if-none-match"), &item.etag) {
        return respond::builder(StatusCode::NOT_MODIFIED)
            .header(header::ETAG, &item.etag)
            .finish(Default::default());
    }
    let headers = respond::builder(StatusCode::OK)
        .header(header::ETAG, &item.etag)
        .header(header::CONTENT_TYPE, &item.content_type)
        .header(header::LAST_MODIFIED, props::http_date(item.modified()));
    respond::entity(headers, &call.method, body)
}

fn refused(
    status: StatusCode,
    condition: &Precondition,
    reason: impl std::fmt::Display,
) -> Box<Response<Body>> {
    Box::new(respond::refused(status, condition, reason))
}

/// What a PUT body holds, once understood.
struct Upload {
    kind: RecordKind,
    uid: String,
    fields: tandem_protocol::Fields,
    /// The bytes to store: the client's, unless the server had to add a UID.
    bytes: Vec<u8>,
    content_type: &'static str,
    /// Where an event's instances lie, from the parse that checked it: the writer needs it for
    /// the span index and need not parse the bytes again.
    extent: Option<Extent>,
}

/// The body in UTF-8, read in the charset its `Content-Type` names (`codec::body_in_utf8`
/// decides when that applies); a charset it cannot read it in is a 415 that names it.
fn in_utf8(call: &Call) -> Result<std::borrow::Cow<'_, [u8]>, Box<Response<Body>>> {
    let charset = call
        .header("content-type")
        .and_then(|t| t.parse::<mime::Mime>().ok())
        .and_then(|t| t.get_param(mime::CHARSET).map(|c| c.as_str().to_string()));
    codec::body_in_utf8(&call.body, charset.as_deref())
        .map_err(|e| Box::new(respond::text(StatusCode::UNSUPPORTED_MEDIA_TYPE, e)))
}

fn understand(
    collection: &dav::CollectionState,
    body: &[u8],
) -> Result<Upload, Box<Response<Body>>> {
    match collection.kind {
        CollectionKind::Calendar => {
            let object = codec::parse_icalendar(body).map_err(|e| {
                refused(
                    StatusCode::FORBIDDEN,
                    &Precondition::new(PropName::new_static(ns::CALDAV, "valid-calendar-data")),
                    e,
                )
            })?;
            let component = if object.kind == RecordKind::Task {
                "VTODO"
            } else {
                "VEVENT"
            };
            if !collection.components.iter().any(|c| c == component) {
                return Err(refused(
                    StatusCode::FORBIDDEN,
                    &Precondition::new(PropName::new_static(
                        ns::CALDAV,
                        "supported-calendar-component",
                    )),
                    format!(
                        "this calendar holds {} only; put a {component} in a calendar that holds it",
                        collection.components.join(" and ")
                    ),
                ));
            }
            Ok(Upload {
                extent: Some(codec::span(&object)),
                kind: object.kind,
                uid: object.uid,
                fields: object.fields,
                bytes: body.to_vec(),
                content_type: layout::ICALENDAR,
            })
        }
        CollectionKind::Addressbook => {
            let card = codec::parse_vcard(body).map_err(|e| match e {
                CodecError::UnknownCharset { .. } => refused(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    &Precondition::new(PropName::new_static(ns::CARDDAV, "supported-address-data")),
                    e,
                ),
                e => refused(
                    StatusCode::FORBIDDEN,
                    &Precondition::new(PropName::new_static(ns::CARDDAV, "valid-address-data")),
                    e,
                ),
            })?;
            let (uid, bytes) = match card.uid {
                Some(uid) => (uid, body.to_vec()),
                // Old Evolution sends cards without a UID: give it one rather than refuse.
                None => {
                    let uid = format!("tandem-{}", hex::encode(rand::random::<[u8; 12]>()));
                    let bytes = codec::with_uid(body, &uid).map_err(|e| {
                        refused(
                            StatusCode::FORBIDDEN,
                            &Precondition::new(PropName::new_static(
                                ns::CARDDAV,
                                "valid-address-data",
                            )),
                            e,
                        )
                    })?;
                    (uid, bytes)
                }
            };
            Ok(Upload {
                kind: RecordKind::Contact,
                uid,
                fields: card.fields,
                // A card whose lines name their own charsets is not one UTF-8 text.
                content_type: if std::str::from_utf8(&bytes).is_ok() {
                    layout::VCARD
                } else {
                    "text/vcard"
                },
                bytes,
                extent: None,
            })
        }
    }
}

pub async fn put(state: &DavState, call: &Call) -> Response<Body> {
    let Target::Member { collection, name } = &call.target else {
        return respond::text(
            StatusCode::METHOD_NOT_ALLOWED,
            "PUT creates or replaces a member of a calendar or address book, e.g. /dav/calendars/calendar/meeting.ics",
        );
    };
    let href = format!("{collection}{name}");
    let existing = state.store.read().and_then(|txn| {
        let c = dav::collection(&txn, collection)?;
        let item = dav::item(&txn, collection, name)?.filter(dav::ItemState::live);
        Ok((c, item))
    });
    let (collection_state, existing) = match existing {
        Ok((Some(c), item)) => (c, item),
        Ok((None, _)) => {
            return respond::text(
                StatusCode::CONFLICT,
                format!("there is no collection at {collection}; create it first"),
            );
        }
        Err(e) => return respond::text(StatusCode::INTERNAL_SERVER_ERROR, e),
    };
    let body = match in_utf8(call) {
        Ok(body) => body,
        Err(response) => return *response,
    };
    let upload = match understand(&collection_state, &body) {
        Ok(upload) => upload,
        Err(response) => return *response,
    };
    let stored_etag = etag(&upload.bytes);
    let verbatim = upload.bytes == call.body;
    let draft = Draft {
        origin: call.origin.clone(),
        body: DraftBody::Observation(ObservationDraft {
            external_id: Some(href.clone()),
            uid: Some(upload.uid),
            version: Some(stored_etag.clone()),
            snapshot: Some(upload.fields),
            payload: Some(Payload {
                content_type: upload.content_type.to_string(),
                bytes: upload.bytes,
            }),
            extent: upload.extent,
            guard: Some(Guard {
                version: condition(call),
                unique_uid: true,
            }),
            ..ObservationDraft::new(
                upload.kind,
                if existing.is_some() {
                    Op::Update
                } else {
                    Op::Create
                },
            )
        }),
    };
    match state.writer.append(draft).await {
        Ok(_) => {
            let status = if existing.is_some() {
                StatusCode::NO_CONTENT
            } else {
                StatusCode::CREATED
            };
            let mut response = respond::builder(status);
            // A strong ETag only for exactly the bytes the client sent (RFC 4791 §5.3.4); when
            // the server changed them (added a UID) the client must GET to see them.
            if verbatim {
                response = response.header(header::ETAG, stored_etag);
            }
            response.finish(Default::default())
        }
        Err(e) => write_failure(&collection_state, e),
    }
}

fn write_failure(collection: &dav::CollectionState, e: WriterError) -> Response<Body> {
    match e {
        WriterError::Store(StoreError::UidConflict { uid, existing }) => {
            let condition = match collection.kind {
                CollectionKind::Calendar => Precondition::caldav_no_uid_conflict(existing.clone()),
                CollectionKind::Addressbook => {
                    Precondition::carddav_no_uid_conflict(existing.clone())
                }
            };
            respond::refused(
                StatusCode::FORBIDDEN,
                &condition,
                format!("UID {uid} is already used by {existing} in this collection"),
            )
        }
        WriterError::Store(e) => super::store_failure(&e),
        other => respond::text(StatusCode::SERVICE_UNAVAILABLE, other),
    }
}

pub async fn delete(state: &DavState, call: &Call) -> Response<Body> {
    let Target::Member { collection, name } = &call.target else {
        return respond::text(StatusCode::NOT_FOUND, "not a member of a collection");
    };
    let href = format!("{collection}{name}");
    let found = state.store.read().and_then(|txn| {
        let c = dav::collection(&txn, collection)?;
        let item = dav::item(&txn, collection, name)?.filter(dav::ItemState::live);
        Ok(c.zip(item))
    });
    let (collection_state, item) = match found {
        Ok(Some(found)) => found,
        Ok(None) => {
            return respond::text(StatusCode::NOT_FOUND, format!("there is nothing at {href}"));
        }
        Err(e) => return respond::text(StatusCode::INTERNAL_SERVER_ERROR, e),
    };
    let draft = Draft {
        origin: call.origin.clone(),
        body: DraftBody::Observation(ObservationDraft {
            record: Some(item.record.clone()),
            external_id: Some(href),
            uid: item.uid.clone(),
            guard: Some(Guard {
                version: condition(call),
                unique_uid: false,
            }),
            ..ObservationDraft::new(item.record.kind().unwrap_or(RecordKind::Event), Op::Delete)
        }),
    };
    match state.writer.append(draft).await {
        Ok(_) => respond::empty(StatusCode::NO_CONTENT),
        Err(e) => write_failure(&collection_state, e),
    }
}
