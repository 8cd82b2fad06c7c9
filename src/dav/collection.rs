//! Collections: MKCALENDAR and extended MKCOL, PROPPATCH of their properties, DELETE, and GET of
//! a whole collection (the iCalendar feed HCL Notes subscribes to, the vCard export).

use super::props::{self, Resource};
use super::respond::{self, Body, Finish};
use super::{Call, DavState};
use crate::store::dav;
use crate::store::{Draft, DraftBody, ObservationDraft};
use hyper::{Response, StatusCode, header};
use std::collections::BTreeMap;
use std::ops::ControlFlow;
use tandem_protocol::dav::conditional::not_modified;
use tandem_protocol::dav::feed::Feed;
use tandem_protocol::dav::layout::{self as paths, Target};
use tandem_protocol::dav::{
    Precondition, PropName, PropPatchOp, XmlValue, names, ns, parse_mkcalendar, parse_mkcol,
    parse_proppatch,
};
use tandem_protocol::event::{CollectionChange, CollectionKind, CollectionOp};
use tandem_protocol::{Op, Origin, RecordKind, Side};

/// Properties the server computes; a client cannot set them.
const PROTECTED: &[PropName] = &[
    names::RESOURCETYPE,
    names::GETETAG,
    names::GETCTAG,
    names::SYNC_TOKEN,
    names::GETCONTENTTYPE,
    names::GETCONTENTLENGTH,
    names::GETLASTMODIFIED,
    names::SUPPORTED_REPORT_SET,
    names::SUPPORTED_CALENDAR_COMPONENT_SET,
    names::SUPPORTED_CALENDAR_DATA,
    names::SUPPORTED_ADDRESS_DATA,
    names::CURRENT_USER_PRIVILEGE_SET,
    names::CURRENT_USER_PRINCIPAL,
    names::OWNER,
    names::MAX_RESOURCE_SIZE,
    names::CARDDAV_MAX_RESOURCE_SIZE,
];

const SUPPORTED_COMPONENTS: [&str; 2] = ["VEVENT", "VTODO"];

pub async fn make(state: &DavState, call: &Call) -> Response<Body> {
    let Target::Collection(path) = &call.target else {
        return respond::text(
            StatusCode::FORBIDDEN,
            "calendars are created in /dav/calendars/ and address books in /dav/addressbooks/, one level deep",
        );
    };
    let calendar_home = paths::is_calendar_path(path);
    let mkcalendar = call.method.as_str() == "MKCALENDAR";
    let parsed = if mkcalendar {
        parse_mkcalendar(&call.body, &state.limits)
    } else {
        parse_mkcol(&call.body, &state.limits)
    };
    let request = match parsed {
        Ok(request) => request,
        Err(e) => return respond::xml_error(&e),
    };
    let kind = if mkcalendar || request.is_calendar() {
        CollectionKind::Calendar
    } else if request.is_addressbook() {
        CollectionKind::Addressbook
    } else {
        return respond::text(
            StatusCode::FORBIDDEN,
            "only calendars and address books can be created here: use MKCALENDAR, or MKCOL with a calendar or addressbook resourcetype",
        );
    };
    if (kind == CollectionKind::Calendar) != calendar_home {
        return respond::text(
            StatusCode::FORBIDDEN,
            "calendars are created in /dav/calendars/ and address books in /dav/addressbooks/",
        );
    }
    let components = match (kind, request.supported_components()) {
        (CollectionKind::Addressbook, _) => vec![],
        (CollectionKind::Calendar, None) => {
            SUPPORTED_COMPONENTS.iter().map(|c| c.to_string()).collect()
        }
        (CollectionKind::Calendar, Some(list)) => {
            if let Some(bad) = list
                .iter()
                .find(|c| !SUPPORTED_COMPONENTS.contains(&c.as_str()))
            {
                return respond::refused(
                    StatusCode::FORBIDDEN,
                    &Precondition::new(PropName::new_static(
                        ns::CALDAV,
                        "supported-calendar-component",
                    )),
                    format!("{bad} is not supported: calendars here hold VEVENT and VTODO"),
                );
            }
            list
        }
    };
    match state
        .store
        .read()
        .and_then(|txn| dav::collection(&txn, path))
    {
        Ok(Some(_)) => {
            return respond::text(
                StatusCode::METHOD_NOT_ALLOWED,
                format!("{path} exists already"),
            );
        }
        Ok(None) => {}
        Err(e) => return respond::text(StatusCode::INTERNAL_SERVER_ERROR, e),
    }
    let props: BTreeMap<String, String> = request
        .props
        .iter()
        .filter(|(name, _)| {
            *name != names::SUPPORTED_CALENDAR_COMPONENT_SET && !PROTECTED.contains(name)
        })
        .map(|(name, value)| (name.to_string(), value.to_xml()))
        .collect();
    let draft = Draft {
        origin: call.origin.clone(),
        body: DraftBody::Collection(CollectionChange {
            path: path.clone(),
            op: CollectionOp::Create {
                kind,
                components,
                props,
            },
        }),
    };
    match state.writer.append(draft).await {
        Ok(_) => respond::builder(StatusCode::CREATED)
            .header(header::LOCATION, path.as_str())
            .finish(Default::default()),
        Err(crate::store::WriterError::Store(e)) => super::store_failure(&e),
        Err(e) => respond::text(StatusCode::SERVICE_UNAVAILABLE, e),
    }
}

pub async fn proppatch(state: &DavState, call: &Call) -> Response<Body> {
    let ops = match parse_proppatch(&call.body, &state.limits) {
        Ok(ops) => ops,
        Err(e) => return respond::xml_error(&e),
    };
    let path = match &call.target {
        Target::Collection(path) => path,
        Target::AddressbookHome | Target::Principal => return me_card(state, call, &ops).await,
        _ => {
            return respond::text(
                StatusCode::FORBIDDEN,
                "properties can be set on calendars and address books only",
            );
        }
    };
    match state
        .store
        .read()
        .and_then(|txn| dav::collection(&txn, path))
    {
        Ok(Some(_)) => {}
        Ok(None) => {
            return respond::text(
                StatusCode::NOT_FOUND,
                format!("there is no collection at {path}"),
            );
        }
        Err(e) => return respond::text(StatusCode::INTERNAL_SERVER_ERROR, e),
    }
    // All or nothing (RFC 4918 §9.2): one protected property fails the whole request.
    // All or nothing (RFC 4918 §9.2): one protected property fails the whole request.
    if ops.iter().any(|op| PROTECTED.contains(op.name())) {
        let names: Vec<PropName> = ops.iter().map(|op| op.name().clone()).collect();
        return super::proppatch::refusal(path, &names, |n| PROTECTED.contains(n));
    }
    let (set, remove, answer) = super::proppatch::changes(path, &ops);
    let draft = Draft {
        origin: call.origin.clone(),
        body: DraftBody::Collection(CollectionChange {
            path: path.clone(),
            op: CollectionOp::SetProps { set, remove },
        }),
    };
    match state.writer.append(draft).await {
        Ok(_) => answer,
        Err(crate::store::WriterError::Store(e)) => super::store_failure(&e),
        Err(e) => respond::text(StatusCode::SERVICE_UNAVAILABLE, e),
    }
}

/// Apple Contacts' "Make This My Card" sets `CS:me-card` on the address book home (sabre/dav
/// keeps it on the principal), and a refusal has been seen to crash it. The homes are not stored
/// collections, so the value is kept with the default address book — the one Contacts shows —
/// and read back on the home and the principal. Any other property there is refused as a whole
/// (RFC 4918 §9.2: 403 for it, 424 for the rest).
async fn me_card(state: &DavState, call: &Call, ops: &[PropPatchOp]) -> Response<Body> {
    let href = if call.target == Target::Principal {
        paths::PRINCIPAL
    } else {
        paths::ADDRESSBOOK_HOME
    };
    if ops.iter().any(|op| *op.name() != names::ME_CARD) {
        let names: Vec<PropName> = ops.iter().map(|op| op.name().clone()).collect();
        return super::proppatch::refusal(href, &names, |n| *n != names::ME_CARD);
    }
    let (set, remove, answer) = super::proppatch::changes(href, ops);
    let draft = Draft {
        origin: call.origin.clone(),
        body: DraftBody::Collection(CollectionChange {
            path: paths::DEFAULT_CONTACTS.to_string(),
            op: CollectionOp::SetProps { set, remove },
        }),
    };
    match state.writer.append(draft).await {
        Ok(_) => answer,
        Err(crate::store::WriterError::Store(e)) => super::store_failure(&e),
        Err(e) => respond::text(StatusCode::SERVICE_UNAVAILABLE, e),
    }
}

pub async fn delete(state: &DavState, call: &Call, path: &str) -> Response<Body> {
    if [
        paths::DEFAULT_CALENDAR,
        paths::DEFAULT_TASKS,
        paths::DEFAULT_CONTACTS,
    ]
    .contains(&path)
    {
        return respond::text(
            StatusCode::FORBIDDEN,
            "the default calendar, task list and address book are where Salesforce items appear; they cannot be deleted",
        );
    }
    let members = match state.store.read().and_then(|txn| {
        let collection = dav::collection(&txn, path)?;
        Ok(collection.map(|c| (c, dav::members(&txn, path))))
    }) {
        Ok(Some((collection, Ok(members)))) => (collection, members),
        Ok(Some((_, Err(e)))) | Err(e) => {
            return respond::text(StatusCode::INTERNAL_SERVER_ERROR, e);
        }
        Ok(None) => {
            return respond::text(
                StatusCode::NOT_FOUND,
                format!("there is no collection at {path}"),
            );
        }
    };
    let (collection, members) = members;
    // Each member's deletion is an event of its own, so history shows it per record.
    for (name, item) in members {
        let kind = item
            .record
            .kind()
            .unwrap_or(if collection.kind == CollectionKind::Calendar {
                RecordKind::Event
            } else {
                RecordKind::Contact
            });
        let draft = Draft {
            origin: call.origin.clone(),
            body: DraftBody::Observation(ObservationDraft {
                record: Some(item.record.clone()),
                external_id: Some(format!("{path}{name}")),
                uid: item.uid.clone(),
                ..ObservationDraft::new(kind, Op::Delete)
            }),
        };
        if let Err(e) = state.writer.append(draft).await {
            return respond::text(StatusCode::SERVICE_UNAVAILABLE, e);
        }
    }
    let draft = Draft {
        origin: Origin::new(Side::DESKTOP, call.origin.agent.clone()),
        body: DraftBody::Collection(CollectionChange {
            path: path.to_string(),
            op: CollectionOp::Delete,
        }),
    };
    match state.writer.append(draft).await {
        Ok(_) => respond::empty(StatusCode::NO_CONTENT),
        Err(crate::store::WriterError::Store(e)) => super::store_failure(&e),
        Err(e) => respond::text(StatusCode::SERVICE_UNAVAILABLE, e),
    }
}

/// GET of a collection: every member in one body, with an ETag that changes with the
/// collection's sync position (cheap to check on every poll: Notes re-polls hourly).
pub fn export(state: &DavState, call: &Call, path: &str) -> Response<Body> {
    let result = (|| {
        let txn = state.store.read()?;
        let Some(Resource::Collection {
            state: collection,
            position,
        }) = props::collection_resource(&txn, path)?
        else {
            return Ok(None);
        };
        let etag = format!("\"feed-{}-{position}\"", collection.created);
        if not_modified(call.header("if-none-match"), &etag) {
            return Ok(Some((etag, None)));
        }
        let mut feed = match collection.kind {
            CollectionKind::Calendar => {
                let name = collection
                    .props
                    .get("{DAV:}displayname")
                    .and_then(|x| XmlValue::from_xml(x, &Default::default()).ok())
                    .and_then(|v| v.as_text())
                    .unwrap_or_else(|| "tandem".into());
                Feed::calendar(&name)
            }
            CollectionKind::Addressbook => Feed::addressbook(),
        };
        dav::each_body(&txn, path, |_, body| {
            feed.add(body);
            Ok(ControlFlow::Continue(()))
        })?;
        Ok::<_, crate::store::StoreError>(Some((etag, Some(feed))))
    })();
    match result {
        Ok(None) => respond::text(
            StatusCode::NOT_FOUND,
            format!("there is no collection at {path}"),
        ),
        Ok(Some((etag, None))) => respond::builder(StatusCode::NOT_MODIFIED)
            .header(header::ETAG, etag)
            .finish(Default::default()),
        Ok(Some((etag, Some(feed)))) => {
            let headers = respond::builder(StatusCode::OK)
                .header(header::ETAG, etag)
                .header(header::CONTENT_TYPE, feed.content_type());
            respond::entity(headers, &call.method, feed.finish())
        }
        Err(e) => respond::text(StatusCode::INTERNAL_SERVER_ERROR, e),
    }
}
