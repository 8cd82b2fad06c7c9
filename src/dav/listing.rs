//! How a listing (PROPFIND Depth 1, sync-collection, a multiget, a query's matches) writes
//! each member: straight from what was read of its row (and its body, for calendar-data or
//! address-data) when every property asked for is text the store holds, or one no member has;
//! through the general property lookup otherwise. A listing writes thousands of members, and
//! building each one's response (a dozen small allocations) was a fifth of it.

use super::props::{MemberProp, Resource, asked, describe_with, http_date};
use super::respond::{Body, multistatus_body};
use crate::store::StoreError;
use crate::store::dav::{Bodies, CollectionState, Listed, MemberRows};
use hyper::Response;
use redb::ReadTransaction;
use std::cell::OnceCell;
use std::sync::Arc;
use tandem_protocol::dav::{
    CalendarDataRequest, ListedShape, MultistatusWriter, PropName, PropRequest,
    Response as DavResponse,
};

pub(crate) struct Listing<'a> {
    txn: &'a ReadTransaction,
    collection: Arc<CollectionState>,
    request: &'a PropRequest,
    data: Option<&'a CalendarDataRequest>,
    /// The properties asked for and the shape of a member that has them, when each can be
    /// written from the row.
    direct: Option<(Vec<MemberProp>, ListedShape)>,
    /// Opened at the first member looked up by name.
    rows: OnceCell<MemberRows>,
    /// Opened at the first body written.
    bodies: OnceCell<Bodies>,
}

impl<'a> Listing<'a> {
    /// A listing written into `out`, of the members of `collection`.
    pub fn new(
        txn: &'a ReadTransaction,
        out: &MultistatusWriter,
        collection: Arc<CollectionState>,
        request: &'a PropRequest,
        data: Option<&'a CalendarDataRequest>,
    ) -> Listing<'a> {
        let direct = match request {
            // A body is written as stored, unless the request expands its recurrences.
            PropRequest::Prop(names) if data.is_none_or(|d| d.expand.is_none()) => names
                .iter()
                .map(|name| Some(MemberProp::of(name)).filter(|prop| prop.listed()))
                .collect::<Option<Vec<_>>>()
                .map(|props| {
                    let found: Vec<(&PropName, bool)> = names
                        .iter()
                        .zip(&props)
                        .map(|(name, prop)| (name, *prop != MemberProp::Missing))
                        .collect();
                    let shape = out.shape(&collection.path, &found);
                    (props, shape)
                }),
            _ => None,
        };
        Listing {
            txn,
            collection,
            request,
            data,
            direct,
            rows: OnceCell::new(),
            bodies: OnceCell::new(),
        }
    }

    /// Write the member `name` of the collection as the store has it, if it is still there:
    /// whether it was written.
    pub fn write_member(
        &self,
        out: &mut MultistatusWriter,
        name: &str,
    ) -> Result<bool, StoreError> {
        let rows = opened(&self.rows, || MemberRows::open(self.txn))?;
        let written = rows.with_listed(&self.collection.path, name, |item| {
            self.write(out, name, item)
        })?;
        Ok(written.is_some())
    }

    /// Write the member `name` of the collection, as `item` shows it.
    pub fn write(
        &self,
        out: &mut MultistatusWriter,
        name: &str,
        item: Listed<'_>,
    ) -> Result<(), StoreError> {
        let Some((props, shape)) = &self.direct else {
            return self.describe(out, name, item);
        };
        // Text made for the member only when asked for.
        let asked = |prop| props.contains(&prop);
        let mut length = String::new();
        let mut modified = String::new();
        if asked(MemberProp::Length) {
            length = item.length.to_string();
        }
        if asked(MemberProp::Modified) {
            modified = http_date(item.modified);
        }
        let push = |out: &mut MultistatusWriter, body: &str| {
            out.push_shaped(shape, name, |i| match props[i] {
                MemberProp::Etag => &item.etag,
                MemberProp::ContentType => &item.content_type,
                MemberProp::Length => &length,
                MemberProp::Modified => &modified,
                MemberProp::Data => body,
                _ => "",
            })
        };
        if !asked(MemberProp::Data) {
            push(out, "");
            return Ok(());
        }
        let href = format!("{}{name}", self.collection.path);
        let bodies = opened(&self.bodies, || Bodies::open(self.txn))?;
        let written = bodies.with_body(&href, |body| match std::str::from_utf8(body) {
            Ok(text) => push(out, text),
            Err(_) => push(out, &tandem_protocol::codec::utf8_text(body)),
        })?;
        match written {
            Some(()) => Ok(()),
            // No body: the general lookup says so (404 for the data).
            None => self.describe(out, name, item),
        }
    }

    /// Write the member through the general property lookup.
    fn describe(
        &self,
        out: &mut MultistatusWriter,
        name: &str,
        item: Listed<'_>,
    ) -> Result<(), StoreError> {
        let member = Resource::Member {
            collection: self.collection.clone(),
            name: name.to_string(),
            item: item.into_owned(),
        };
        out.push(&describe_with(self.txn, &member, self.request, self.data)?);
        Ok(())
    }
}

/// What `cell` holds, opened into it the first time.
fn opened<T>(
    cell: &OnceCell<T>,
    open: impl FnOnce() -> Result<T, StoreError>,
) -> Result<&T, StoreError> {
    if cell.get().is_none() {
        let _ = cell.set(open()?);
    }
    Ok(cell.get().expect("set above"))
}

/// A report's multistatus, written member by member as they are found: a query or a sync never
/// holds every member's answer.
pub(crate) struct Answer<'a> {
    listing: Listing<'a>,
    writer: MultistatusWriter,
}

impl<'a> Answer<'a> {
    pub fn new(
        txn: &'a ReadTransaction,
        collection: &CollectionState,
        request: &'a PropRequest,
        data: Option<&'a CalendarDataRequest>,
    ) -> Self {
        let writer = MultistatusWriter::new(&[], &asked(request));
        let listing = Listing::new(txn, &writer, Arc::new(collection.clone()), request, data);
        Answer { listing, writer }
    }

    /// Describe the member `name` (if it is still there: whether it was written).
    pub fn member(&mut self, name: &str) -> Result<bool, StoreError> {
        self.listing.write_member(&mut self.writer, name)
    }

    /// Describe the member `name`, as `item` shows it.
    pub fn listed(&mut self, name: &str, item: Listed<'_>) -> Result<(), StoreError> {
        self.listing.write(&mut self.writer, name, item)
    }

    /// Add a response that is not a member's (a 404, a 507).
    pub fn push(&mut self, response: &DavResponse) {
        self.writer.push(response);
    }

    /// The answer, closed with `sync_token` when it has one (RFC 6578).
    pub fn finish(self, sync_token: Option<&str>) -> Response<Body> {
        multistatus_body(self.writer.finish(None, sync_token))
    }
}
