//! PROPFIND: the properties of every kind of resource the server has, live and dead.

use super::listing::Listing;
use super::respond::{self, Body};
use super::{Call, DavState};
use crate::store::StoreError;
use crate::store::dav::{self, CollectionState, ItemState, Listed};
use hyper::{Response, StatusCode};
use redb::ReadTransaction;
use std::sync::Arc;
use tandem_protocol::dav::layout::{self as paths, Target};
use tandem_protocol::dav::{
    CalendarDataRequest, MultistatusWriter, PropName, PropRequest, PropValue, Property,
    Response as DavResponse, XmlValue, names, ns, parse_propfind,
};
use tandem_protocol::event::CollectionKind;

/// A resource as PROPFIND and REPORT see it.
pub(crate) enum Resource {
    Root,
    Principal,
    CalendarHome,
    AddressbookHome,
    Collection {
        state: CollectionState,
        position: u64,
    },
    Member {
        /// Shared by every member of one answer: a listing of N members clones it once.
        collection: Arc<CollectionState>,
        name: String,
        item: Listed<'static>,
    },
}

impl Resource {
    pub fn href(&self) -> String {
        match self {
            Resource::Root => paths::DAV_ROOT.to_string(),
            Resource::Principal => paths::PRINCIPAL.to_string(),
            Resource::CalendarHome => paths::CALENDAR_HOME.to_string(),
            Resource::AddressbookHome => paths::ADDRESSBOOK_HOME.to_string(),
            Resource::Collection { state, .. } => state.path.clone(),
            Resource::Member {
                collection, name, ..
            } => format!("{}{name}", collection.path),
        }
    }
}

/// Parse `{ns}local` (how properties are stored) back into a name.
pub fn clark(name: &str) -> PropName {
    match name.strip_prefix('{').and_then(|rest| rest.split_once('}')) {
        Some((ns, local)) => PropName::new(ns, local),
        None => PropName::new("", name),
    }
}

pub fn sync_token(state: &CollectionState, position: u64) -> String {
    format!("urn:tandem:sync:{}-{position}", state.created)
}

pub(crate) fn collection_resource(
    txn: &ReadTransaction,
    path: &str,
) -> Result<Option<Resource>, StoreError> {
    match dav::collection(txn, path)? {
        Some(state) => {
            let position = dav::sync_position(txn, &state)?;
            Ok(Some(Resource::Collection { state, position }))
        }
        None => Ok(None),
    }
}

/// The resource a target names, if it exists.
pub(crate) fn lookup(
    txn: &ReadTransaction,
    target: &Target,
) -> Result<Option<Resource>, StoreError> {
    Ok(match target {
        Target::Root => Some(Resource::Root),
        Target::Principal => Some(Resource::Principal),
        Target::CalendarHome => Some(Resource::CalendarHome),
        Target::AddressbookHome => Some(Resource::AddressbookHome),
        Target::Collection(path) => collection_resource(txn, path)?,
        Target::Member { collection, name } => {
            let Some(state) = dav::collection(txn, collection)? else {
                return Ok(None);
            };
            dav::item(txn, collection, name)?
                .filter(ItemState::live)
                .map(|item| Resource::Member {
                    collection: Arc::new(state),
                    name: name.clone(),
                    item: item.into(),
                })
        }
        Target::WellKnown | Target::Elsewhere | Target::File(_) => None,
    })
}

/// The resources one level below (a collection's members are streamed instead, see
/// `propfind`).
fn children(txn: &ReadTransaction, resource: &Resource) -> Result<Vec<Resource>, StoreError> {
    Ok(match resource {
        Resource::Root => vec![
            Resource::Principal,
            Resource::CalendarHome,
            Resource::AddressbookHome,
        ],
        Resource::CalendarHome | Resource::AddressbookHome => {
            let calendars = matches!(resource, Resource::CalendarHome);
            let mut out = Vec::new();
            for state in dav::collections(txn)? {
                if paths::is_calendar_path(&state.path) == calendars {
                    let position = dav::sync_position(txn, &state)?;
                    out.push(Resource::Collection { state, position });
                }
            }
            out
        }
        Resource::Collection { .. } | Resource::Principal | Resource::Member { .. } => vec![],
    })
}

/// PROPFIND's Depth: `true` for 1 (the default), `false` for 0; infinity is refused with
/// `propfind-finite-depth` (a whole tree per request is what makes servers slow), anything else
/// is a 400.
pub(crate) fn propfind_depth(call: &Call) -> Result<bool, Box<Response<Body>>> {
    match call.header("depth").map(str::trim) {
        Some("0") => Ok(false),
        Some("1") | None => Ok(true),
        Some(other) if other.eq_ignore_ascii_case("infinity") => {
            Err(Box::new(respond::precondition(
                StatusCode::FORBIDDEN,
                &tandem_protocol::dav::Precondition::new(PropName::new(
                    ns::DAV,
                    "propfind-finite-depth",
                )),
            )))
        }
        Some(other) => Err(Box::new(respond::text(
            StatusCode::BAD_REQUEST,
            format!("Depth must be 0, 1 or infinity, not {other}"),
        ))),
    }
}

pub fn propfind(state: &DavState, call: &Call) -> Response<Body> {
    if call.target == Target::WellKnown {
        return super::redirect_to_root();
    }
    let request = match parse_propfind(&call.body, &state.limits) {
        Ok(request) => request,
        Err(e) => return respond::xml_error(&e),
    };
    let deep = match propfind_depth(call) {
        Ok(deep) => deep,
        Err(response) => return *response,
    };
    let result = (|| -> Result<Option<Vec<u8>>, StoreError> {
        let txn = state.store.read()?;
        let Some(resource) = lookup(&txn, &call.target)? else {
            return Ok(None);
        };
        let mut responses = vec![describe(&txn, &resource, &request)?];
        if deep {
            for child in children(&txn, &resource)? {
                responses.push(describe(&txn, &child, &request)?);
            }
        }
        let mut out = MultistatusWriter::new(&responses, &asked(&request));
        for response in &responses {
            out.push(response);
        }
        // A collection's members are written one at a time as they are read: a listing
        // never holds them all.
        if let (true, Resource::Collection { state, .. }) = (deep, &resource) {
            let listing = Listing::new(&txn, &out, Arc::new(state.clone()), &request, None);
            dav::each_listed(&txn, &state.path, |name, item| {
                listing.write(&mut out, name, item)
            })?;
        }
        Ok(Some(out.finish(None, None)))
    })();
    respond::listing(result, &call.path)
}

/// The property names a request asks for by name, whose namespaces a streamed listing declares
/// up front (the rest are the standard ones).
pub(crate) fn asked(request: &PropRequest) -> Vec<PropName> {
    match request {
        PropRequest::Prop(list) => list.clone(),
        PropRequest::AllProp { include } => include.clone(),
        PropRequest::PropName => vec![],
    }
}

/// One `<response>` for a resource and a property request.
pub(crate) fn describe(
    txn: &ReadTransaction,
    resource: &Resource,
    request: &PropRequest,
) -> Result<DavResponse, StoreError> {
    describe_with(txn, resource, request, None)
}

/// The same, with the REPORT's calendar-data request (for CALDAV:expand).
pub(crate) fn describe_with(
    txn: &ReadTransaction,
    resource: &Resource,
    request: &PropRequest,
    data: Option<&CalendarDataRequest>,
) -> Result<DavResponse, StoreError> {
    let mut response = DavResponse::new(resource.href());
    match request {
        PropRequest::PropName => {
            for name in all_names(resource) {
                response.add(200, Property::empty(name));
            }
        }
        PropRequest::AllProp { include } => {
            for name in all_names(resource)
                .into_iter()
                .chain(include.iter().cloned())
            {
                match value(txn, resource, &name, data)? {
                    Some(v) => response.add(200, Property::new(name, v)),
                    None if include.contains(&name) => response.add(404, Property::empty(name)),
                    None => &mut response,
                };
            }
        }
        PropRequest::Prop(list) => {
            for name in list {
                match value(txn, resource, name, data)? {
                    Some(v) => response.add(200, Property::new(name.clone(), v)),
                    None => response.add(404, Property::empty(name.clone())),
                };
            }
        }
    }
    Ok(response)
}

/// The properties allprop and propname list (not the expensive ones like calendar-data).
fn all_names(resource: &Resource) -> Vec<PropName> {
    let mut list = vec![
        names::RESOURCETYPE,
        names::CURRENT_USER_PRINCIPAL,
        names::SUPPORTED_REPORT_SET,
    ];
    match resource {
        Resource::Root | Resource::CalendarHome | Resource::AddressbookHome => {
            list.push(names::DISPLAYNAME);
        }
        Resource::Principal => list.extend([
            names::DISPLAYNAME,
            names::PRINCIPAL_URL,
            names::CALENDAR_HOME_SET,
            names::ADDRESSBOOK_HOME_SET,
            names::CALENDAR_USER_ADDRESS_SET,
        ]),
        Resource::Collection { state, .. } => {
            list.extend([
                names::GETCTAG,
                names::SYNC_TOKEN,
                names::CURRENT_USER_PRIVILEGE_SET,
                names::OWNER,
            ]);
            match state.kind {
                CollectionKind::Calendar => list.extend([
                    names::SUPPORTED_CALENDAR_COMPONENT_SET,
                    names::SUPPORTED_CALENDAR_DATA,
                    names::MAX_RESOURCE_SIZE,
                ]),
                CollectionKind::Addressbook => list.extend([
                    names::SUPPORTED_ADDRESS_DATA,
                    names::CARDDAV_MAX_RESOURCE_SIZE,
                ]),
            }
            for key in state.props.keys() {
                let name = clark(key);
                if !list.contains(&name) {
                    list.push(name);
                }
            }
        }
        Resource::Member { .. } => list.extend([
            names::GETETAG,
            names::GETCONTENTTYPE,
            names::GETCONTENTLENGTH,
            names::GETLASTMODIFIED,
        ]),
    }
    list
}

fn privileges() -> PropValue {
    PropValue::Privileges(
        [
            "read",
            "write",
            "write-properties",
            "write-content",
            "bind",
            "unbind",
            "read-current-user-privilege-set",
        ]
        .into_iter()
        .map(|p| PropName::new_static(ns::DAV, p))
        .collect(),
    )
}

/// The value of one property of a resource; `None` when the resource does not have it (404).
pub(crate) fn value(
    txn: &ReadTransaction,
    resource: &Resource,
    name: &PropName,
    data: Option<&CalendarDataRequest>,
) -> Result<Option<PropValue>, StoreError> {
    use PropValue as V;
    let principal = || V::Href(paths::PRINCIPAL.to_string());
    // Properties every resource has.
    if *name == names::CURRENT_USER_PRINCIPAL {
        return Ok(Some(principal()));
    }
    // Kept with the default address book (see `collection::me_card`).
    if *name == names::ME_CARD
        && matches!(resource, Resource::AddressbookHome | Resource::Principal)
    {
        return Ok(dav::collection(txn, paths::DEFAULT_CONTACTS)?
            .and_then(|book| book.props.get(&name.to_string()).cloned())
            .and_then(|xml| XmlValue::from_xml(&xml, &Default::default()).ok())
            .map(V::Xml));
    }
    Ok(match resource {
        Resource::Root | Resource::CalendarHome | Resource::AddressbookHome => match name {
            n if *n == names::RESOURCETYPE => Some(V::Elements(vec![names::COLLECTION])),
            n if *n == names::DISPLAYNAME => Some(V::Text("tandem".into())),
            n if *n == names::SUPPORTED_REPORT_SET => Some(V::Reports(vec![])),
            n if *n == names::CURRENT_USER_PRIVILEGE_SET => Some(privileges()),
            n if *n == names::CALENDAR_HOME_SET => Some(V::Href(paths::CALENDAR_HOME.into())),
            n if *n == names::ADDRESSBOOK_HOME_SET => Some(V::Href(paths::ADDRESSBOOK_HOME.into())),
            n if *n == names::PRINCIPAL_URL => Some(principal()),
            _ => None,
        },
        Resource::Principal => match name {
            n if *n == names::RESOURCETYPE => {
                Some(V::Elements(vec![names::COLLECTION, names::PRINCIPAL]))
            }
            n if *n == names::DISPLAYNAME => Some(V::Text("tandem".into())),
            n if *n == names::PRINCIPAL_URL => Some(principal()),
            n if *n == names::CALENDAR_HOME_SET => Some(V::Href(paths::CALENDAR_HOME.into())),
            n if *n == names::ADDRESSBOOK_HOME_SET => Some(V::Href(paths::ADDRESSBOOK_HOME.into())),
            // Some clients refuse an empty address set; the principal URL is a valid address.
            n if *n == names::CALENDAR_USER_ADDRESS_SET => {
                Some(V::Hrefs(vec![paths::PRINCIPAL.into()]))
            }
            n if *n == names::PRINCIPAL_COLLECTION_SET => Some(V::Href(paths::DAV_ROOT.into())),
            n if *n == names::SUPPORTED_REPORT_SET => Some(V::Reports(vec![])),
            n if *n == names::CURRENT_USER_PRIVILEGE_SET => Some(privileges()),
            _ => None,
        },
        Resource::Collection { state, position } => {
            if let Some(xml) = state.props.get(&name.to_string()) {
                return Ok(XmlValue::from_xml(xml, &Default::default())
                    .ok()
                    .map(V::Xml));
            }
            let calendar = state.kind == CollectionKind::Calendar;
            match name {
                n if *n == names::RESOURCETYPE => Some(V::Elements(vec![
                    names::COLLECTION,
                    if calendar {
                        names::CALENDAR
                    } else {
                        names::ADDRESSBOOK
                    },
                ])),
                n if *n == names::GETCTAG || *n == names::SYNC_TOKEN => {
                    Some(V::Text(sync_token(state, *position)))
                }
                n if *n == names::CURRENT_USER_PRIVILEGE_SET => Some(privileges()),
                n if *n == names::OWNER => Some(principal()),
                n if *n == names::SUPPORTED_REPORT_SET => Some(V::Reports(if calendar {
                    vec![
                        names::CALENDAR_QUERY,
                        names::CALENDAR_MULTIGET,
                        names::FREE_BUSY_QUERY,
                        names::SYNC_COLLECTION,
                    ]
                } else {
                    vec![
                        names::ADDRESSBOOK_QUERY,
                        names::ADDRESSBOOK_MULTIGET,
                        names::SYNC_COLLECTION,
                    ]
                })),
                n if calendar && *n == names::SUPPORTED_CALENDAR_COMPONENT_SET => {
                    Some(V::Components(state.components.clone()))
                }
                n if calendar && *n == names::SUPPORTED_CALENDAR_DATA => Some(
                    V::CalendarDataTypes(vec![("text/calendar".into(), "2.0".into())]),
                ),
                n if !calendar && *n == names::SUPPORTED_ADDRESS_DATA => {
                    Some(V::AddressDataTypes(vec![
                        ("text/vcard".into(), "3.0".into()),
                        ("text/vcard".into(), "4.0".into()),
                    ]))
                }
                n if *n == names::MAX_RESOURCE_SIZE || *n == names::CARDDAV_MAX_RESOURCE_SIZE => {
                    Some(V::Text(super::MAX_BODY.to_string()))
                }
                n if *n == names::GETCONTENTTYPE => Some(V::Text(
                    if calendar {
                        paths::ICALENDAR
                    } else {
                        paths::VCARD
                    }
                    .into(),
                )),
                _ => None,
            }
        }
        Resource::Member {
            item,
            collection,
            name: member,
        } => match MemberProp::of(name) {
            MemberProp::ResourceType => Some(V::Elements(vec![])),
            MemberProp::Etag => Some(V::Text(item.etag.to_string())),
            MemberProp::ContentType => Some(V::Text(item.content_type.to_string())),
            MemberProp::Length => Some(V::Text(item.length.to_string())),
            MemberProp::Modified => Some(V::Text(http_date(item.modified))),
            MemberProp::Principal => Some(principal()),
            MemberProp::Reports => Some(V::Reports(vec![])),
            MemberProp::Privileges => Some(privileges()),
            MemberProp::Data => {
                let href = format!("{}{member}", collection.path);
                dav::body(txn, &href)?.map(|bytes| {
                    let bytes = match data.and_then(|d| d.expand.as_ref()) {
                        Some(range) => {
                            let (start, end) = tandem_protocol::codec::bounds(range);
                            tandem_protocol::codec::expand(&bytes, start, end).unwrap_or(bytes)
                        }
                        None => bytes,
                    };
                    V::Text(tandem_protocol::codec::utf8_text(&bytes))
                })
            }
            MemberProp::Missing => None,
        },
    })
}

/// What a member has for a property name: the one place that says it, for the lookup above and
/// for a listing that writes its members straight from what it read of them (`Listing`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum MemberProp {
    ResourceType,
    Etag,
    ContentType,
    Length,
    Modified,
    Principal,
    Reports,
    Privileges,
    /// calendar-data, address-data: the member's body.
    Data,
    /// A property no member has (404).
    Missing,
}

impl MemberProp {
    /// Whether a listing writes it from what it read of a member's row and body (a property
    /// no member has included): the rest take the general lookup.
    pub(crate) fn listed(self) -> bool {
        use MemberProp as P;
        matches!(
            self,
            P::ResourceType
                | P::Etag
                | P::ContentType
                | P::Length
                | P::Modified
                | P::Data
                | P::Missing
        )
    }

    pub(crate) fn of(name: &PropName) -> MemberProp {
        match name {
            n if *n == names::RESOURCETYPE => MemberProp::ResourceType,
            n if *n == names::GETETAG => MemberProp::Etag,
            n if *n == names::GETCONTENTTYPE => MemberProp::ContentType,
            n if *n == names::GETCONTENTLENGTH => MemberProp::Length,
            n if *n == names::GETLASTMODIFIED => MemberProp::Modified,
            n if *n == names::CURRENT_USER_PRINCIPAL => MemberProp::Principal,
            n if *n == names::SUPPORTED_REPORT_SET => MemberProp::Reports,
            n if *n == names::CURRENT_USER_PRIVILEGE_SET => MemberProp::Privileges,
            n if *n == names::CALENDAR_DATA || *n == names::ADDRESS_DATA => MemberProp::Data,
            _ => MemberProp::Missing,
        }
    }
}

/// Last-Modified of a member: the time of the newest event its bytes show.
pub(crate) fn http_date(modified: tandem_protocol::Hlc) -> String {
    super::respond::http_date(modified.time())
}
