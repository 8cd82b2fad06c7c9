//! calendar-query, addressbook-query and free-busy-query: members filtered by their content.

use super::listing::Answer;
use super::respond::{self, Body};
use crate::store::span;
use crate::store::{StoreError, dav};
use hyper::{Response, StatusCode};
use redb::ReadTransaction;
use std::ops::ControlFlow;
use tandem_protocol::codec::{self, BusyType, Meets};
use tandem_protocol::dav::{
    AddressbookQuery, CalendarQuery, FreeBusyQuery, Precondition, PropRequest,
    Response as DavResponse, layout, names,
};

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
    let mut out = Answer::new(txn, collection, &request, q.calendar_data.as_ref());
    // What cannot be parsed cannot match; it was valid when it was stored.
    let matches = |body: &[u8]| {
        codec::parse_icalendar(body)
            .is_ok_and(|object| codec::calendar_matches(body, &object, &q.filter.comp))
    };
    match codec::event_range(&q.filter.comp) {
        // A range asked of the events: only the members the span index says may meet it are
        // read, and one whose listed instances meet it is not read at all when the range is
        // all that is asked.
        Some(range) => {
            let (start, end) = (range.start.timestamp_millis(), range.end.timestamp_millis());
            for found in span::meeting(txn, &collection.path, start, end)? {
                let sure = range.only && found.meets == Meets::Surely;
                if sure
                    || dav::body(txn, &format!("{}{}", collection.path, found.name))?
                        .is_some_and(|body| matches(&body))
                {
                    out.listed(&found.name, found.listed)?;
                }
            }
        }
        None => dav::each_body(txn, &collection.path, |name, body| {
            if matches(body) {
                out.member(name)?;
            }
            Ok(ControlFlow::Continue(()))
        })?,
    }
    Ok(out.finish(None))
}

pub(super) fn addressbook_query(
    txn: &ReadTransaction,
    collection: &dav::CollectionState,
    q: &AddressbookQuery,
) -> Result<Response<Body>, StoreError> {
    let request = with_data(&q.props, q.address_data.is_some(), names::ADDRESS_DATA);
    let mut out = Answer::new(txn, collection, &request, None);
    let mut matched = 0usize;
    dav::each_body(txn, &collection.path, |name, body| {
        if !codec::card_matches(body, &q.filter) {
            return Ok(ControlFlow::Continue(()));
        }
        if q.limit.is_some_and(|limit| matched >= limit as usize) {
            // RFC 6352 §8.6.1: say that the answer was truncated.
            out.push(
                &DavResponse::status(collection.path.clone(), 507)
                    .with_error(Precondition::number_of_matches_within_limits()),
            );
            return Ok(ControlFlow::Break(()));
        }
        matched += usize::from(out.member(name)?);
        Ok(ControlFlow::Continue(()))
    })?;
    Ok(out.finish(None))
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
    dav::each_body(txn, &collection.path, |_, body| {
        if let Ok(object) = codec::parse_icalendar(body) {
            periods.extend(codec::busy_periods(&object, start, end));
        }
        Ok(ControlFlow::Continue(()))
    })?;
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
