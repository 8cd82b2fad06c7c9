//! PROPFIND and PROPPATCH in the plain file area: live properties the server computes, and
//! dead properties a client sets on any collection or resource (RFC 4918 §4, §9.1, §9.2).

use super::files::{self as area, href, http_date};
use super::props::clark;
use super::respond::{self, Body};
use super::{Call, DavState};
use crate::store::StoreError;
use crate::store::files::{self, FileState, ROOT};
use hyper::{Response, StatusCode};
use redb::ReadTransaction;
use tandem_protocol::dav::{
    Multistatus, PropName, PropPatchOp, PropRequest, PropValue, Property, Response as DavResponse,
    XmlValue, names, ns, parse_propfind, parse_proppatch,
};
use tandem_protocol::event::{FileChange, PropOp};

/// The live properties of the area, in the order allprop lists them.
const LIVE: &[PropName] = &[
    names::RESOURCETYPE,
    names::GETETAG,
    names::GETCONTENTTYPE,
    names::GETCONTENTLENGTH,
    names::GETLASTMODIFIED,
    names::CURRENT_USER_PRINCIPAL,
    names::CURRENT_USER_PRIVILEGE_SET,
];

/// Properties a client cannot set: the live ones, and those RFC 4918 defines as live even
/// though tandem does not serve them (locks, creation date).
pub(crate) fn is_protected(name: &PropName) -> bool {
    LIVE.contains(name)
        || [
            names::LOCKDISCOVERY,
            names::SUPPORTEDLOCK,
            names::CREATIONDATE,
            names::SUPPORTED_REPORT_SET,
            names::SYNC_TOKEN,
            names::GETCTAG,
            names::OWNER,
        ]
        .contains(name)
}

/// The value of a live property; `None` when the entry does not have it.
fn live(entry: &FileState, name: &PropName) -> Option<PropValue> {
    use PropValue as V;
    match name {
        n if *n == names::RESOURCETYPE => Some(V::Elements(if entry.collection {
            vec![names::COLLECTION]
        } else {
            vec![]
        })),
        n if *n == names::GETETAG => entry.etag.clone().map(V::Text),
        n if *n == names::GETCONTENTTYPE => entry.content_type.clone().map(V::Text),
        n if *n == names::GETCONTENTLENGTH && !entry.collection => {
            Some(V::Text(entry.length.to_string()))
        }
        n if *n == names::GETLASTMODIFIED => Some(V::Text(http_date(entry))),
        n if *n == names::CURRENT_USER_PRINCIPAL => {
            Some(V::Href(tandem_protocol::dav::layout::PRINCIPAL.to_string()))
        }
        n if *n == names::CURRENT_USER_PRIVILEGE_SET => Some(V::Privileges(
            [
                "read",
                "write",
                "write-properties",
                "write-content",
                "bind",
                "unbind",
            ]
            .into_iter()
            .map(|p| PropName::new_static(ns::DAV, p))
            .collect(),
        )),
        _ => None,
    }
}

fn value(entry: &FileState, name: &PropName) -> Option<PropValue> {
    if let Some(xml) = entry.props.get(&name.to_string()) {
        return XmlValue::from_xml(xml, &Default::default())
            .ok()
            .map(PropValue::Xml);
    }
    live(entry, name)
}

fn describe(path: &str, entry: &FileState, request: &PropRequest) -> DavResponse {
    let mut response = DavResponse::new(href(path, entry.collection));
    let mut all: Vec<PropName> = LIVE
        .iter()
        .filter(|n| live(entry, n).is_some())
        .cloned()
        .collect();
    all.extend(entry.props.keys().map(|k| clark(k)));
    match request {
        PropRequest::PropName => {
            for name in all {
                response.add(200, Property::empty(name));
            }
        }
        PropRequest::AllProp { include } => {
            for name in include {
                if !all.contains(name) {
                    all.push(name.clone());
                }
            }
            for name in all {
                match value(entry, &name) {
                    Some(v) => response.add(200, Property::new(name, v)),
                    None => response.add(404, Property::empty(name)),
                };
            }
        }
        PropRequest::Prop(list) => {
            for name in list {
                match value(entry, name) {
                    Some(v) => response.add(200, Property::new(name.clone(), v)),
                    None => response.add(404, Property::empty(name.clone())),
                };
            }
        }
    }
    response
}

pub fn propfind(state: &DavState, call: &Call, path: &str) -> Response<Body> {
    let request = match parse_propfind(&call.body, &state.limits) {
        Ok(request) => request,
        Err(e) => return respond::xml_error(&e),
    };
    let deep = match super::props::propfind_depth(call) {
        Ok(deep) => deep,
        Err(response) => return *response,
    };
    let result = (|| -> Result<Option<Multistatus>, StoreError> {
        let txn: ReadTransaction = state.store.read()?;
        let Some(entry) = files::entry(&txn, path)? else {
            return Ok(None);
        };
        let mut ms = Multistatus::new();
        ms.push(describe(path, &entry, &request));
        if deep && entry.collection {
            for (child, state) in files::children(&txn, path)? {
                ms.push(describe(&child, &state, &request));
            }
        }
        Ok(Some(ms))
    })();
    respond::found(result, &call.path)
}

pub async fn proppatch(state: &DavState, call: &Call, path: &str) -> Response<Body> {
    let ops = match parse_proppatch(&call.body, &state.limits) {
        Ok(ops) => ops,
        Err(e) => return respond::xml_error(&e),
    };
    if path == ROOT {
        return respond::text(
            StatusCode::FORBIDDEN,
            "the root of the file area has no dead properties; set them on a collection inside it",
        );
    }
    let entry = match area::lookup(state, path) {
        Ok(Some(entry)) => entry,
        Ok(None) => {
            return respond::text(StatusCode::NOT_FOUND, format!("there is nothing at {path}"));
        }
        Err(response) => return *response,
    };
    // Each property once in the answer, in the order first named.
    let mut named: Vec<PropName> = Vec::new();
    for op in &ops {
        if !named.contains(op.name()) {
            named.push(op.name().clone());
        }
    }
    // All or nothing (RFC 4918 §9.2): one protected property fails the whole request, and the
    // others are reported as 424 Failed Dependency.
    if named.iter().any(is_protected) {
        return super::proppatch::refusal(&href(path, entry.collection), &named, is_protected);
    }
    let ops = ops
        .iter()
        .map(|op| match op {
            PropPatchOp::Set(name, value) => PropOp::Set {
                name: name.to_string(),
                value: value.to_xml(),
            },
            PropPatchOp::Remove(name) => PropOp::Remove {
                name: name.to_string(),
            },
        })
        .collect();
    let change = FileChange::Props {
        path: path.to_string(),
        ops,
    };
    if let Err(refused) = area::append(state, call, change, vec![]).await {
        return *refused;
    }
    let mut response = DavResponse::new(href(path, entry.collection));
    for name in named {
        response.add(200, Property::empty(name));
    }
    let mut ms = Multistatus::new();
    ms.push(response);
    respond::multistatus(&ms)
}
