//! How a listing (PROPFIND Depth 1, an initial sync-collection) writes each member: straight from
//! what was read of its row when every property asked for is text the row holds, or one no
//! member has; through the general property lookup otherwise. A listing writes thousands of
//! members, and building each one's response (a dozen small allocations) was a fifth of it.

use super::props::{MemberProp, Resource, describe_with, http_date};
use crate::store::StoreError;
use crate::store::dav::{CollectionState, Listed};
use redb::ReadTransaction;
use std::sync::Arc;
use tandem_protocol::dav::{CalendarDataRequest, MultistatusWriter, PropName, PropRequest};

pub(crate) struct Listing<'a> {
    txn: &'a ReadTransaction,
    collection: Arc<CollectionState>,
    request: &'a PropRequest,
    data: Option<&'a CalendarDataRequest>,
    /// The properties asked for, when each can be written from the row.
    direct: Option<Vec<(PropName, MemberProp)>>,
}

impl<'a> Listing<'a> {
    pub fn new(
        txn: &'a ReadTransaction,
        collection: Arc<CollectionState>,
        request: &'a PropRequest,
        data: Option<&'a CalendarDataRequest>,
    ) -> Listing<'a> {
        let direct = match request {
            PropRequest::Prop(names) if data.is_none() => names
                .iter()
                .map(|name| {
                    let prop = MemberProp::of(name);
                    use MemberProp as P;
                    matches!(
                        prop,
                        P::ResourceType
                            | P::Etag
                            | P::ContentType
                            | P::Length
                            | P::Modified
                            | P::Missing
                    )
                    .then(|| (name.clone(), prop))
                })
                .collect(),
            _ => None,
        };
        Listing {
            txn,
            collection,
            request,
            data,
            direct,
        }
    }

    /// Write the member `name` of the collection, as `item` shows it.
    pub fn write(
        &self,
        out: &mut MultistatusWriter,
        name: &str,
        item: Listed,
    ) -> Result<(), StoreError> {
        let Some(direct) = &self.direct else {
            let member = Resource::Member {
                collection: self.collection.clone(),
                name: name.to_string(),
                item,
            };
            out.push(&describe_with(self.txn, &member, self.request, self.data)?);
            return Ok(());
        };
        let (mut length, mut modified) = (String::new(), String::new());
        for (_, prop) in direct {
            match prop {
                MemberProp::Length => length = item.length.to_string(),
                MemberProp::Modified => modified = http_date(item.modified),
                _ => {}
            }
        }
        let props: Vec<(&PropName, Option<&str>)> = direct
            .iter()
            .map(|(name, prop)| {
                let text = match prop {
                    MemberProp::ResourceType => Some(""),
                    MemberProp::Etag => Some(item.etag.as_str()),
                    MemberProp::ContentType => Some(item.content_type.as_str()),
                    MemberProp::Length => Some(length.as_str()),
                    MemberProp::Modified => Some(modified.as_str()),
                    _ => None,
                };
                (name, text)
            })
            .collect();
        out.push_listed([&self.collection.path, name], &props);
        Ok(())
    }
}
