//! calendar-query, addressbook-query and free-busy-query: members filtered by their content.

use super::props::{describe, describe_with};
use super::report::member_resource;
use super::respond::{self, Body};
use crate::store::{StoreError, dav};
use hyper::{Response, StatusCode};
use redb::ReadTransaction;
use std::sync::Arc;
use tandem_protocol::codec::{self, BusyType};
use tandem_protocol::dav::{
    AddressbookQuery, CalendarQuery, FreeBusyQuery, Multistatus, Precondition, PropRequest,
    Response as DavResponse, layout, names,
};

/// Members with their bytes, in name order.
fn bodies(
    txn: &ReadTransaction,
    collection: &dav::CollectionState,
) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
    let names = dav::members(txn, &collection.path)?
        .into_iter()
        .map(|(name, _)| name)
        .collect();
    bodies_of(txn, collection, names)
}

/// These members with their bytes, in the order given.
fn bodies_of(
    txn: &ReadTransaction,
    collection: &dav::CollectionState,
    names: Vec<String>,
) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
    let mut out = Vec::with_capacity(names.len());
    for name in names {
        if let Some(body) = dav::body(txn, &format!("{}{name}", collection.path))? {
            out.push((name, body));
        }
    }
    Ok(out)
}

fn with_data(props: &PropRequest, data: bool, name: tandem_protocol::dav::PropName) -> PropRequest {
    match props {
        PropRequest::Prop(list) if data && !list.contains(&name) => {
            let mut list = list.clone();
            list.push(name);
            PropRequest::Prop(list)
        }
        other => other.clone(),
    }
}

pub(super) fn calendar_query(
    txn: &ReadTransaction,
    collection: &dav::CollectionState,
    q: &CalendarQuery,
) -> Result<Response<Body>, StoreError> {
    let request = with_data(&q.props, q.calendar_data.is_some(), names::CALENDAR_DATA);
    let mut ms = Multistatus::new();
    // A range asked of the events: only the members the span index says may meet it are read.
    let candidates = match codec::event_range(&q.filter.comp) {
        Some((start, end)) => bodies_of(
            txn,
            collection,
            dav::members_meeting(
                txn,
                &collection.path,
                start.timestamp_millis(),
                end.timestamp_millis(),
            )?,
        )?,
        None => bodies(txn, collection)?,
    };
    let shared = Arc::new(collection.clone());
    for (name, body) in candidates {
        // What cannot be parsed cannot match; it was valid when it was stored.
        let Ok(object) = codec::parse_icalendar(&body) else {
            continue;
        };
        if !codec::calendar_matches(&body, &object, &q.filter.comp) {
            continue;
        }
        if let Some(resource) = member_resource(txn, &shared, &name)? {
            ms.push(describe_with(
                txn,
                &resource,
                &request,
                q.calendar_data.as_ref(),
            )?);
        }
    }
    Ok(respond::multistatus(&ms))
}

pub(super) fn addressbook_query(
    txn: &ReadTransaction,
    collection: &dav::CollectionState,
    q: &AddressbookQuery,
) -> Result<Response<Body>, StoreError> {
    let request = with_data(&q.props, q.address_data.is_some(), names::ADDRESS_DATA);
    let mut ms = Multistatus::new();
    let mut matched = 0usize;
    let shared = Arc::new(collection.clone());
    for (name, body) in bodies(txn, collection)? {
        if !codec::card_matches(&body, &q.filter) {
            continue;
        }
        if q.limit.is_some_and(|limit| matched >= limit as usize) {
            // RFC 6352 §8.6.1: say that the answer was truncated.
            ms.push(
                DavResponse::status(collection.path.clone(), 507)
                    .with_error(Precondition::number_of_matches_within_limits()),
            );
            break;
        }
        if let Some(resource) = member_resource(txn, &shared, &name)? {
            ms.push(describe(txn, &resource, &request)?);
            matched += 1;
        }
    }
    Ok(respond::multistatus(&ms))
}

/// RFC 4791 §7.10: busy time of every event in the range, as one VFREEBUSY.
pub(super) fn free_busy(
    txn: &ReadTransaction,
    collection: &dav::CollectionState,
    q: &FreeBusyQuery,
) -> Result<Response<Body>, StoreError> {
    let start = q
        .time_range
        .start
        .and_then(|t| chrono::DateTime::from_timestamp(t.timestamp(), 0));
    let end = q
        .time_range
        .end
        .and_then(|t| chrono::DateTime::from_timestamp(t.timestamp(), 0));
    let (Some(start), Some(end)) = (start, end) else {
        return Ok(respond::text(
            StatusCode::BAD_REQUEST,
            "free-busy-query needs a time-range with start and end",
        ));
    };
    let mut periods = Vec::new();
    for (_, body) in bodies(txn, collection)? {
        if let Ok(object) = codec::parse_icalendar(&body) {
            periods.extend(codec::busy_periods(&object, start, end));
        }
    }
    periods.sort_by_key(|(s, e, _)| (*s, *e));
    let stamp = |t: chrono::DateTime<chrono::Utc>| t.format("%Y%m%dT%H%M%SZ").to_string();
    let mut text = format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//tandem//tandem//EN\r\nBEGIN:VFREEBUSY\r\nDTSTAMP:{}\r\nDTSTART:{}\r\nDTEND:{}\r\n",
        stamp(chrono::Utc::now()),
        stamp(start),
        stamp(end)
    );
    for (s, e, kind) in periods {
        let fbtype = match kind {
            BusyType::Busy => "BUSY",
            BusyType::BusyTentative => "BUSY-TENTATIVE",
            BusyType::BusyUnavailable => "BUSY-UNAVAILABLE",
        };
        text.push_str(&format!(
            "FREEBUSY;FBTYPE={fbtype}:{}/{}\r\n",
            stamp(s),
            stamp(e)
        ));
    }
    text.push_str("END:VFREEBUSY\r\nEND:VCALENDAR\r\n");
    Ok(respond::bytes(
        StatusCode::OK,
        layout::ICALENDAR,
        text.into_bytes(),
    ))
}
