//! REPORT: multiget, sync-collection (RFC 6578), calendar-query, addressbook-query and
//! free-busy-query, all answered from the projections.

use super::listing::Answer;
use super::props::{self, Resource, sync_token};
use super::respond::{self, Body};
use super::{Call, DavState};
use crate::store::{StoreError, dav};
use hyper::{Response, StatusCode};
use redb::ReadTransaction;
use tandem_protocol::dav::layout::Target;
use tandem_protocol::dav::{
    Multiget, Multistatus, Precondition, PropName, PropRequest, Report, Response as DavResponse,
    SyncCollection, names, ns, parse_report,
};

pub fn report(state: &DavState, call: &Call) -> Response<Body> {
    let report = match parse_report(&call.body, &state.limits) {
        Ok(report) => report,
        Err(e) => return respond::xml_error(&e),
    };
    let result = (|| -> Result<Response<Body>, StoreError> {
        let txn = state.store.read()?;
        let Some(resource) = props::lookup(&txn, &call.target)? else {
            return Ok(respond::text(
                StatusCode::NOT_FOUND,
                format!("there is nothing at {}", call.path),
            ));
        };
        match &report {
            Report::PrincipalPropertySearch(search) => {
                return principal_search(&txn, search, &state.credentials.user);
            }
            Report::PrincipalSearchPropertySet => return Ok(search_property_set()),
            _ => {}
        }
        let Resource::Collection {
            state: collection,
            position,
        } = &resource
        else {
            return Ok(unsupported(&report.name()));
        };
        let calendar = collection.kind == tandem_protocol::event::CollectionKind::Calendar;
        Ok(match report {
            Report::CalendarMultiget(m) if calendar => multiget(&txn, collection, &m)?,
            Report::AddressbookMultiget(m) if !calendar => multiget(&txn, collection, &m)?,
            Report::SyncCollection(s) => sync_collection(&txn, collection, *position, &s)?,
            Report::CalendarQuery(q) if calendar => {
                super::query::calendar_query(&txn, collection, &q)?
            }
            Report::AddressbookQuery(q) if !calendar => {
                super::query::addressbook_query(&txn, collection, &q)?
            }
            Report::FreeBusyQuery(q) if calendar => super::query::free_busy(&txn, collection, &q)?,
            other => unsupported(&other.name()),
        })
    })();
    result.unwrap_or_else(|e| respond::text(StatusCode::INTERNAL_SERVER_ERROR, e))
}

fn unsupported(name: &PropName) -> Response<Body> {
    respond::refused(
        StatusCode::FORBIDDEN,
        &Precondition::new(PropName::new_static(ns::DAV, "supported-report")),
        format!("the {name} report is not supported on this resource"),
    )
}

/// The property request of a report on `collection`, with calendar-data/address-data asked
/// for by their own elements.
fn wanted(collection: &dav::CollectionState, props: &PropRequest, data: bool) -> PropRequest {
    match props {
        PropRequest::Prop(list) if data => {
            let data = if collection.kind == tandem_protocol::event::CollectionKind::Calendar {
                names::CALENDAR_DATA
            } else {
                names::ADDRESS_DATA
            };
            let mut list = list.clone();
            if !list.contains(&data) {
                list.push(data);
            }
            PropRequest::Prop(list)
        }
        other => other.clone(),
    }
}

fn multiget(
    txn: &ReadTransaction,
    collection: &dav::CollectionState,
    m: &Multiget,
) -> Result<Response<Body>, StoreError> {
    let data = m.calendar_data.is_some() || m.address_data.is_some();
    let request = wanted(collection, &m.props, data);
    let mut out = Answer::new(txn, collection, &request, m.calendar_data.as_ref());
    for raw in &m.hrefs {
        // One bad or foreign href is a 404 for that href, not a failed request.
        // Resolved as sent: resolving decodes it (decoding it twice made `%2541` name `A`).
        let written = match tandem_protocol::dav::layout::resolve(raw) {
            Ok(Target::Member {
                collection: c,
                name,
            }) if c == collection.path => out.member(&name)?,
            _ => false,
        };
        if !written {
            out.push(&DavResponse::status(raw.clone(), 404));
        }
    }
    Ok(out.finish(None))
}

/// Parse a sync token of this collection: `urn:tandem:sync:<created>-<position>`.
fn token_position(token: &str, collection: &dav::CollectionState, current: u64) -> Option<u64> {
    let rest = token.strip_prefix("urn:tandem:sync:")?;
    let (created, position) = rest.split_once('-')?;
    let (created, position): (u64, u64) = (created.parse().ok()?, position.parse().ok()?);
    (created == collection.created && position <= current).then_some(position)
}

/// RFC 6578. The token is a position in the log; members changed after it are listed in change
/// order (removed ones as 404). With `DAV:limit`, the answer stops after that many and says so
/// with 507, and its token resumes exactly there — nothing is ever skipped.
fn sync_collection(
    txn: &ReadTransaction,
    collection: &dav::CollectionState,
    current: u64,
    s: &SyncCollection,
) -> Result<Response<Body>, StoreError> {
    let since = match s
        .sync_token
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        None => None,
        Some(token) => match token_position(token, collection, current) {
            Some(position) => Some(position),
            None => {
                return Ok(respond::refused(
                    StatusCode::FORBIDDEN,
                    &Precondition::valid_sync_token(),
                    "this sync token does not belong to this collection; sync again from an empty token",
                ));
            }
        },
    };
    let data = s.calendar_data.is_some() || s.address_data.is_some();
    let request = wanted(collection, &s.props, data);
    let mut out = Answer::new(txn, collection, &request, s.calendar_data.as_ref());
    // A member listed with what it shows, or one removed (404).
    let mut write = |name: &str, item: Option<dav::Listed>| -> Result<(), StoreError> {
        match item {
            Some(item) => out.listed(name, item),
            None => {
                out.push(&DavResponse::status(
                    format!("{}{name}", collection.path),
                    404,
                ));
                Ok(())
            }
        }
    };
    let limit = s.limit.map(|l| l as usize);
    let mut position = current;
    let mut truncated = false;
    match (since, limit) {
        // The initial sync lists what exists, in any order: the members are read in one pass
        // and written as they are read (a listing never holds them all).
        (None, None) => {
            dav::each_listed(txn, &collection.path, |name, item| write(name, Some(item)))?
        }
        _ => {
            let mut changes = dav::changes_since(txn, &collection.path, since.unwrap_or(0))?;
            if since.is_none() {
                // Nothing existed before: no removal to report.
                changes.retain(|(_, _, item)| item.live());
            }
            if let Some(limit) = limit.filter(|&l| changes.len() > l) {
                // Cut in change order, so the token resumes exactly after the last one listed.
                changes.truncate(limit);
                truncated = true;
                position = changes
                    .last()
                    .map_or(since.unwrap_or(0), |(seq, _, _)| *seq);
            }
            for (_, name, item) in changes {
                write(&name, item.live().then(|| item.into()))?;
            }
        }
    }
    if truncated {
        out.push(
            &DavResponse::status(collection.path.clone(), 507)
                .with_error(Precondition::number_of_matches_within_limits()),
        );
    }
    Ok(out.finish(Some(&sync_token(collection, position))))
}

/// RFC 3744 §9.4 on a one-user server: the principal is found by its display name or the user
/// name, and listed when nothing is searched for.
fn principal_search(
    txn: &ReadTransaction,
    search: &tandem_protocol::dav::PrincipalPropertySearch,
    user: &str,
) -> Result<Response<Body>, StoreError> {
    use tandem_protocol::dav::{FilterTest, MatchType};
    let matches = |s: &tandem_protocol::dav::PropertySearch| {
        let wanted = s.text.to_lowercase();
        ["tandem", user].iter().any(|candidate| {
            let candidate = candidate.to_lowercase();
            match s.match_type {
                MatchType::Equals => candidate == wanted,
                MatchType::StartsWith => candidate.starts_with(&wanted),
                MatchType::EndsWith => candidate.ends_with(&wanted),
                MatchType::Contains => candidate.contains(&wanted),
            }
        })
    };
    let found = match search.test {
        FilterTest::AllOf => search.searches.iter().all(matches),
        FilterTest::AnyOf => search.searches.is_empty() || search.searches.iter().any(matches),
    };
    let mut ms = Multistatus::new();
    if found {
        ms.push(props::describe(txn, &Resource::Principal, &search.props)?);
    }
    Ok(respond::multistatus(&ms))
}

fn search_property_set() -> Response<Body> {
    let body = concat!(
        r#"<?xml version="1.0" encoding="utf-8"?>"#,
        r#"<D:principal-search-property-set xmlns:D="DAV:"><D:principal-search-property>"#,
        r#"<D:prop><D:displayname/></D:prop><D:description xml:lang="en">Name</D:description>"#,
        r#"</D:principal-search-property></D:principal-search-property-set>"#
    );
    respond::bytes(
        StatusCode::OK,
        "application/xml; charset=utf-8",
        body.as_bytes().to_vec(),
    )
}
