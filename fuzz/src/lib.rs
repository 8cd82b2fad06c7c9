//! The fuzz targets of tandem's parsers, as plain functions of the fuzzer's bytes.
//!
//! Each `src/bin/<target>.rs` hands AFL++'s input to the function of the same name here, and
//! `repro` runs the same functions on files without instrumentation. The property checked is
//! the same everywhere: **no input makes tandem panic** (a panic aborts the process and AFL++
//! records a crash). Results are otherwise ignored: an error is a fine answer to garbage.
//!
//! Only public functions of `tandem-protocol` and `tandem` are called, the way the daemon calls
//! them on what a client, a DAV request, a connector or the user hands it.

use chrono::{DateTime, TimeZone, Utc};
use serde_json::{Map, Value};
use tandem_protocol::RecordKind;

/// A target: the fuzzer's bytes in, nothing out (a panic is the finding).
pub type Target = fn(&[u8]);

/// The targets, in the order `fuzz/run` runs them.
pub const TARGETS: [(&str, Target); 9] = [
    ("ical", ical),
    ("vcard", vcard),
    ("dav_xml", dav_xml),
    ("dav_headers", dav_headers),
    ("salesforce", salesforce),
    ("graph", graph),
    ("notes", notes),
    ("settings", settings),
    ("ingest", ingest),
];

fn utc(y: i32, m: u32, d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, 0, 0, 0).unwrap()
}

/// A PUT body and the charset its `Content-Type` names: an input `\0LABEL\n BODY` declares the
/// charset `LABEL` (as `charset=LABEL` would); any other input is a body without one.
fn declared_charset(data: &[u8]) -> (Option<String>, &[u8]) {
    if let Some(rest) = data.strip_prefix(b"\0")
        && let Some(nl) = rest.iter().position(|&b| b == b'\n')
    {
        let label = String::from_utf8_lossy(&rest[..nl]).into_owned();
        return (Some(label), &rest[nl + 1..]);
    }
    (None, data)
}

/// iCalendar: what a CalDAV PUT, the store's projection and a REPORT do with a body. Parse (after
/// the body charset step of a PUT); when it parses, render the fields back (clean, and as an edit
/// of the client's bytes) and parse the clean render again, read the overrides kept in
/// `unmapped`, and expand the recurrence over a bounded window with a small `max`.
pub fn ical(data: &[u8]) {
    use tandem_protocol::codec;
    let (charset, raw) = declared_charset(data);
    let Ok(body) = codec::body_in_utf8(raw, charset.as_deref()) else {
        return;
    };
    let _ = codec::utf8_text(&body);
    let Ok(object) = codec::parse_icalendar(&body) else {
        return;
    };
    let _ = object.is_cancelled();
    let _ = object.recurrence_id();
    let clean = codec::render_icalendar(object.kind, &object.uid, &object.fields, None);
    let _ = codec::parse_icalendar(&clean);
    let _ = codec::render_icalendar(object.kind, &object.uid, &object.fields, Some(&body));
    let _ = codec::overrides::of(&object.fields);

    // Two months, as a calendar app's month view asks; at most 16 instances. Each of these
    // functions walks the rule anew, and one walk may legitimately take up to its bound (about
    // 80 ms in a release build and 300 ms instrumented, for a weekly rule started in year 176),
    // so each input runs one of them, chosen by its length: all four would add up to AFL++'s
    // 1 s hang limit on inputs that are merely slow. (`occurrences` is
    // `expansion(..).occurrences`, so it covers `expansion` too.)
    let (start, end) = (utc(2025, 1, 1), utc(2025, 3, 1));
    match data.len() % 4 {
        0 => {
            let _ = codec::occurrences(&object, start, end, 16);
        }
        1 => {
            let _ = codec::busy_periods(&object, start, end);
        }
        2 => {
            let _ = codec::overlaps(&object, start, end);
        }
        // CALDAV:expand of a REPORT, over the same window.
        _ => {
            let _ = codec::expand(&body, start, end);
        }
    }
}

/// vCard 2.1/3.0/4.0: a CardDAV PUT. The body in the charset its request declares
/// (`body_in_utf8`; lines that name their own `CHARSET` are decoded by the parser), parsed; a
/// card without a UID gets one (`with_uid`); the fields rendered back, clean and as an edit.
pub fn vcard(data: &[u8]) {
    use tandem_protocol::codec;
    let (charset, raw) = declared_charset(data);
    let Ok(body) = codec::body_in_utf8(raw, charset.as_deref()) else {
        return;
    };
    let _ = codec::utf8_text(&body);
    let Ok(card) = codec::parse_vcard(&body) else {
        return;
    };
    let _ = card.version.as_str();
    let uid = card
        .uid
        .clone()
        .unwrap_or_else(|| "tandem-fuzz".to_string());
    let _ = codec::with_uid(&body, &uid);
    let clean = codec::render_vcard(&uid, &card.fields, None);
    let _ = codec::parse_vcard(&clean);
    let _ = codec::render_vcard(&uid, &card.fields, Some(&body));
}

/// WebDAV/CalDAV/CardDAV XML request bodies: every public parser in `tandem_protocol::dav`
/// (PROPFIND, PROPPATCH, REPORT and each report on its own, MKCOL, MKCALENDAR), with the
/// server's default limits; then what the server does next with a parse (decode multiget
/// hrefs, store and re-read PROPPATCH values as XML, read MKCOL properties) or an error (its
/// status, precondition and error body).
pub fn dav_xml(data: &[u8]) {
    use tandem_protocol::dav::{self, Limits, PropPatchOp, XmlError, XmlValue, href};
    let limits = Limits::default();
    fn answered<T>(result: Result<T, XmlError>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(e) => {
                let _ = e.status();
                let _ = e.precondition();
                let _ = e.error_body();
                let _ = e.to_string();
                None
            }
        }
    }
    let hrefs = |m: &dav::Multiget| {
        for h in &m.hrefs {
            let _ = href::decode_href(h);
        }
    };

    let _ = answered(dav::parse_propfind(data, &limits));
    if let Some(ops) = answered(dav::parse_proppatch(data, &limits)) {
        for op in &ops {
            let _ = op.name();
            if let PropPatchOp::Set(_, value) = op {
                let _ = value.as_text();
                let xml = value.to_xml();
                let _ = XmlValue::from_xml(&xml, &limits);
            }
        }
    }
    if let Some(report) = answered(dav::parse_report(data, &limits)) {
        let _ = report.name();
        if let dav::Report::CalendarMultiget(m) | dav::Report::AddressbookMultiget(m) = &report {
            hrefs(m);
        }
    }
    let _ = answered(dav::parse_calendar_query(data, &limits));
    if let Some(m) = answered(dav::parse_calendar_multiget(data, &limits)) {
        hrefs(&m);
    }
    let _ = answered(dav::parse_free_busy_query(data, &limits));
    let _ = answered(dav::parse_addressbook_query(data, &limits));
    if let Some(m) = answered(dav::parse_addressbook_multiget(data, &limits)) {
        hrefs(&m);
    }
    let _ = answered(dav::parse_sync_collection(data, &limits));
    for mkcol in [
        answered(dav::parse_mkcol(data, &limits)),
        answered(dav::parse_mkcalendar(data, &limits)),
    ]
    .into_iter()
    .flatten()
    {
        let _ = mkcol.displayname();
        let _ = mkcol.calendar_description();
        let _ = mkcol.addressbook_description();
        let _ = mkcol.calendar_color();
        let _ = mkcol.calendar_timezone();
        let _ = mkcol.supported_components();
        let _ = mkcol.is_calendar();
        let _ = mkcol.is_addressbook();
    }
    if let Ok(text) = std::str::from_utf8(data)
        && let Some(value) = answered(XmlValue::from_xml(text, &limits))
    {
        let _ = value.as_text();
        let _ = XmlValue::from_xml(&value.to_xml(), &limits);
    }
}

/// The request headers and paths tandem reads itself. The input is lines:
/// `If-Match`, `If-None-Match`, `Destination`, `Host`, then a request path; a missing line is
/// a missing header. `If-Match`/`If-None-Match` become a `VersionCondition` (checked against a
/// missing, unversioned and versioned resource) and a GET's `not_modified`; `Destination` is
/// read as COPY/MOVE read it (a URI, then its path resolved in the DAV layout); the path is
/// resolved as a request path and as an href (`decode_href`, re-encoded, split into collection
/// and member), and read as a `time-range` date-time.
///
/// `Depth` and `Overwrite` have no parser to fuzz: the server matches the trimmed value against
/// `0`, `1`, `infinity`, `T`, `F` inline (src/dav/props.rs, src/dav/copymove.rs).
pub fn dav_headers(data: &[u8]) {
    use tandem_protocol::dav::conditional::{Current, VersionCondition, not_modified};
    use tandem_protocol::dav::{UtcDateTime, href, layout, resource};
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut lines = text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
    let if_match = lines.next();
    let if_none_match = lines.next();
    let destination = lines.next();
    let host = lines.next();
    let path = lines.next().unwrap_or("");

    let etag = resource::etag(data);
    if let Some(condition) = VersionCondition::from_headers(if_match, if_none_match) {
        for current in [
            Current::Missing,
            Current::Unversioned,
            Current::At(&etag),
            Current::At(path),
        ] {
            let _ = condition.check(path, current).map_err(|e| e.to_string());
        }
    }
    let _ = not_modified(if_none_match, &etag);
    let _ = not_modified(if_none_match, path);

    if let Some(raw) = destination.map(str::trim)
        && let Ok(uri) = raw.parse::<http::Uri>()
    {
        if let Some(authority) = uri.authority() {
            let _ = authority
                .as_str()
                .eq_ignore_ascii_case(host.unwrap_or_default());
        }
        let _ = layout::resolve(uri.path());
    }

    let _ = layout::resolve(path);
    if let Ok(decoded) = href::decode_href(path) {
        let _ = href::encode_href(&decoded);
        let _ = resource::split_member(&decoded);
        let _ = layout::is_calendar_path(&decoded);
    }
    let _ = resource::split_member(path);
    if let Ok(t) = UtcDateTime::parse(path) {
        let _ = t.to_string();
        let _ = t.to_parts();
    }
}

/// The JSON value of an input, or nothing.
fn json(data: &[u8]) -> Option<Value> {
    serde_json::from_slice(data).ok()
}

/// The objects of a value: itself, or the elements of an array (a query's `records`).
fn objects(value: &Value) -> Vec<&Map<String, Value>> {
    match value {
        Value::Object(map) => match map.get("records") {
            Some(Value::Array(rows)) => rows.iter().filter_map(Value::as_object).collect(),
            _ => vec![map],
        },
        Value::Array(items) => items.iter().filter_map(Value::as_object).collect(),
        _ => Vec::new(),
    }
}

/// Salesforce query rows → record fields, for each record kind, with a new org's context (UTC,
/// as asked; and America/New_York, since timed and all-day values are read in the user's zone);
/// plus the helpers the poller applies to a row (its object's kind, whether it is a later
/// occurrence of a series, its date-times).
pub fn salesforce(data: &[u8]) {
    use tandem_protocol::mapping::{self, SalesforceContext};
    let Some(value) = json(data) else {
        return;
    };
    let contexts = [
        SalesforceContext::standard(chrono_tz::UTC),
        SalesforceContext::standard(chrono_tz::America::New_York),
    ];
    for row in objects(&value) {
        for ctx in &contexts {
            for kind in RecordKind::ALL {
                let _ = mapping::from_salesforce(kind, row, ctx);
            }
        }
        let _ = mapping::is_later_series_occurrence(row);
        if let Some(object) = row
            .get("attributes")
            .and_then(|a| a.get("type"))
            .and_then(Value::as_str)
        {
            let _ = mapping::kind_for_object(object);
        }
        for v in row.values() {
            if let Some(s) = v.as_str() {
                let _ = mapping::parse_salesforce_datetime(s);
            }
        }
    }
}

/// Microsoft Graph JSON: an item → record fields (`from_graph`, each kind, UTC and a zone with
/// DST) and its stamped record id; an array is a delta round: split, and each series master
/// gathered with its instances over a window.
pub fn graph(data: &[u8]) {
    use tandem_protocol::graph;
    let Some(value) = json(data) else {
        return;
    };
    match &value {
        Value::Array(items) => {
            let round = graph::split_event_round(items);
            let window = (utc(2026, 10, 1), utc(2027, 2, 1));
            for master in &round.masters {
                let id = master.get("id").and_then(Value::as_str).unwrap_or("");
                let instances = round.instances.get(id).map(Vec::as_slice).unwrap_or(&[]);
                if let Ok(series) = graph::gather_series(master, instances, window, chrono_tz::UTC)
                {
                    let _ = series.fields_with_overrides("fuzz-uid");
                }
            }
            for item in items {
                item_from_graph(item);
            }
        }
        item => item_from_graph(item),
    }
}

fn item_from_graph(item: &Value) {
    use tandem_protocol::graph;
    for zone in [chrono_tz::UTC, chrono_tz::Europe::Berlin] {
        for kind in RecordKind::ALL {
            let _ = graph::from_graph(kind, item, zone);
        }
    }
    let _ = graph::stamped_record_id(item);
    if let Some(exdates) = item.get("exdates").and_then(Value::as_array) {
        let _ = graph::exdate_window(exdates);
        if let Some(start) = item.get("originalStart").and_then(Value::as_str) {
            let _ = graph::cancels(exdates, start);
        }
    }
}

/// HCL Domino / Notes JSON: a document or a jsevent → record fields (`from_notes`, each kind,
/// UTC and a zone with DST), its stamped record id, and the zone names in it (`zone`).
pub fn notes(data: &[u8]) {
    use tandem_protocol::notes;
    let Some(value) = json(data) else {
        return;
    };
    let items: Vec<&Value> = match &value {
        Value::Array(items) => items.iter().collect(),
        item => vec![item],
    };
    for item in items {
        for kind in RecordKind::ALL {
            for zone in [chrono_tz::UTC, chrono_tz::America::New_York] {
                let _ = notes::from_notes(kind, item, zone);
            }
            let _ = notes::stamped_record_id(kind, item);
        }
        if let Some(map) = item.as_object() {
            for (key, v) in map {
                if key.to_ascii_lowercase().contains("zone")
                    && let Some(name) = v.as_str()
                {
                    let _ = notes::zone(name);
                }
            }
        }
    }
}

/// The settings file (`tandem.toml`): parsed strictly, the rules of each kind resolved from it,
/// and the comment-keeping edit tandem makes when it stores a token in it.
pub fn settings(data: &[u8]) {
    use tandem::config::{self, Change, Settings};
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(settings) = Settings::parse(text) {
        for kind in RecordKind::ALL {
            let _ = settings.rules(kind);
            let _ = settings.policy(kind);
        }
        let _ = settings.sides();
        let _ = settings.enabled_kinds();
        let _ = settings.policies();
    }
    let _ = config::changed(
        text,
        &[
            Change::new("salesforce", "refresh_token", Some("fuzz".into())),
            Change::new("salesforce", "instance_url", None),
        ],
    )
    .map_err(|e| e.to_string());
}

/// `tandem ingest`: JSON lines, each an event draft (`serde_json::from_str::<Draft>`, as
/// src/cli/commands.rs reads them); an observation's changes are then checked as the writer
/// checks them (`RecordKind::check_changes`), and the draft written back as JSON.
pub fn ingest(data: &[u8]) {
    use tandem::store::{Draft, DraftBody};
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for line in text.lines() {
        if line.trim().is_empty() {
            continue;
        }
        let Ok(draft) = serde_json::from_str::<Draft>(line) else {
            continue;
        };
        if let DraftBody::Observation(o) = &draft.body {
            let _ = o.kind.check_changes(&o.changes).map_err(|e| e.to_string());
            if let Some(snapshot) = &o.snapshot {
                let _ = o.kind.check_changes(snapshot).map_err(|e| e.to_string());
            }
        }
        let _ = serde_json::to_string(&draft);
    }
}
