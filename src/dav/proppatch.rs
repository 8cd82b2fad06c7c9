//! The rules every PROPPATCH shares (RFC 4918 §9.2): all or nothing — one property that cannot
//! be set fails the request, with 403 for it and 424 (failed dependency) for the others — and
//! the set/remove lists that a successful one records.

use super::respond::{self, Body};
use hyper::Response;
use std::collections::BTreeMap;
use tandem_protocol::dav::{
    Multistatus, Precondition, PropName, PropPatchOp, Property, Response as DavResponse, ns,
};

/// The answer refusing a whole PROPPATCH because of the names `refuse` picks out.
pub(crate) fn refusal(
    href: &str,
    names: &[PropName],
    refuse: impl Fn(&PropName) -> bool,
) -> Response<Body> {
    let mut response = DavResponse::new(href.to_string());
    for name in names {
        if refuse(name) {
            response = response.with_propstat_error(
                403,
                Precondition::new(PropName::new_static(
                    ns::DAV,
                    "cannot-modify-protected-property",
                )),
            );
            response.add(403, Property::empty(name.clone()));
        } else {
            response.add(424, Property::empty(name.clone()));
        }
    }
    let mut ms = Multistatus::new();
    ms.push(response);
    respond::multistatus(&ms)
}

/// A successful PROPPATCH: the properties to set (Clark name → XML), to remove, and the 200
/// answer listing each.
pub(crate) fn changes(
    href: &str,
    ops: &[PropPatchOp],
) -> (BTreeMap<String, String>, Vec<String>, Response<Body>) {
    let mut set = BTreeMap::new();
    let mut remove = Vec::new();
    let mut response = DavResponse::new(href.to_string());
    for op in ops {
        match op {
            PropPatchOp::Set(name, value) => {
                set.insert(name.to_string(), value.to_xml());
            }
            PropPatchOp::Remove(name) => remove.push(name.to_string()),
        }
        response.add(200, Property::empty(op.name().clone()));
    }
    let mut ms = Multistatus::new();
    ms.push(response);
    (set, remove, respond::multistatus(&ms))
}
