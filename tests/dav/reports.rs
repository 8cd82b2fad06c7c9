//! REPORTs: multiget, sync-collection with its edge cases, calendar-query with time ranges,
//! addressbook-query and free-busy.

use crate::common::*;
use reqwest::StatusCode;
use tandem_protocol::codec;

fn sync_body(token: &str, limit: Option<u32>) -> String {
    let limit = limit
        .map(|n| format!("<D:limit><D:nresults>{n}</D:nresults></D:limit>"))
        .unwrap_or_default();
    format!(
        r#"<?xml version="1.0"?><D:sync-collection xmlns:D="DAV:"><D:sync-token>{token}</D:sync-token><D:sync-level>1</D:sync-level>{limit}<D:prop><D:getetag/></D:prop></D:sync-collection>"#
    )
}

fn token(reply: &Reply) -> String {
    between(&reply.body, "<D:sync-token>", "</D:sync-token>").expect("a sync token")
}

#[tokio::test]
async fn sync_collection_initial_incremental_and_deletions() {
    let s = Server::start().await;
    for uid in ["a", "b", "c"] {
        s.put(&format!("{CONTACTS}{uid}.vcf"), &[], &card(Some(uid), uid))
            .await;
    }
    let initial = s.report(CONTACTS, "0", &sync_body("", None)).await;
    assert_eq!(initial.status, StatusCode::MULTI_STATUS);
    assert_eq!(initial.responses().len(), 3);
    let t1 = token(&initial);

    let nothing = s.report(CONTACTS, "0", &sync_body(&t1, None)).await;
    assert_eq!(nothing.responses().len(), 0);
    assert_eq!(token(&nothing), t1, "no change, same token");

    s.put(
        &format!("{CONTACTS}b.vcf"),
        &[],
        &card(Some("b"), "B changed"),
    )
    .await;
    s.send("DELETE", &format!("{CONTACTS}c.vcf"), &[], "").await;
    s.put(&format!("{CONTACTS}d.vcf"), &[], &card(Some("d"), "d"))
        .await;
    let delta = s.report(CONTACTS, "0", &sync_body(&t1, None)).await;
    let responses = delta.responses();
    let hrefs: Vec<&str> = responses.iter().map(|(h, _)| h.as_str()).collect();
    assert_eq!(
        hrefs,
        [
            format!("{CONTACTS}b.vcf"),
            format!("{CONTACTS}c.vcf"),
            format!("{CONTACTS}d.vcf")
        ]
    );
    assert!(
        responses[1].1.contains("404"),
        "a deletion is reported as 404: {}",
        responses[1].1
    );
    assert!(responses[0].1.contains("getetag"));

    // getctag follows the same position.
    let ctag = s
        .propfind(CONTACTS, "0", r#"<propfind xmlns="DAV:" xmlns:CS="http://calendarserver.org/ns/"><prop><CS:getctag/></prop></propfind>"#)
        .await;
    assert!(ctag.body.contains(&token(&delta)), "{}", ctag.body);
}

#[tokio::test]
async fn an_unknown_token_is_refused_with_valid_sync_token() {
    let s = Server::start().await;
    for bad in [
        "urn:tandem:sync:1-999999",
        "urn:tandem:sync:77-1",
        "http://other.example/token/5",
        "garbage",
    ] {
        let r = s.report(CONTACTS, "0", &sync_body(bad, None)).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{bad}");
        assert!(r.body.contains("<D:valid-sync-token"), "{bad}: {}", r.body);
    }
    // A token of another collection is not valid here either.
    let calendar = s.report(CALENDAR, "0", &sync_body("", None)).await;
    let r = s
        .report(CONTACTS, "0", &sync_body(&token(&calendar), None))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_limit_truncates_with_507_and_the_next_page_skips_nothing() {
    let s = Server::start().await;
    for i in 0..7 {
        s.put(
            &format!("{CONTACTS}{i}.vcf"),
            &[],
            &card(Some(&format!("u{i}")), &format!("n{i}")),
        )
        .await;
    }
    let mut seen = std::collections::BTreeSet::new();
    let mut token_now = String::new();
    for page in 0..10 {
        let r = s
            .report(CONTACTS, "0", &sync_body(&token_now, Some(3)))
            .await;
        let members: Vec<String> = r
            .responses()
            .into_iter()
            .map(|(h, _)| h)
            .filter(|h| h != CONTACTS)
            .collect();
        let truncated =
            r.body.contains("507") && r.body.contains("number-of-matches-within-limits");
        seen.extend(members);
        token_now = token(&r);
        if !truncated {
            break;
        }
        assert!(page < 5, "paging does not end");
        // A change between pages is not lost either.
        if page == 0 {
            s.put(
                &format!("{CONTACTS}0.vcf"),
                &[],
                &card(Some("u0"), "n0 changed"),
            )
            .await;
        }
    }
    assert_eq!(seen.len(), 7, "every member was listed: {seen:?}");
}

#[tokio::test]
async fn multiget_returns_the_data_and_404_for_unknown_hrefs() {
    let s = Server::start().await;
    let body = event("m1", "Multi", "20261123T090000Z");
    s.put(&format!("{CALENDAR}m1.ics"), &[], &body).await;
    let r = s
        .report(
            CALENDAR,
            "1",
            &format!(
                r#"<C:calendar-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/><C:calendar-data/></D:prop><D:href>{CALENDAR}m1.ics</D:href><D:href>{CALENDAR}missing.ics</D:href><D:href>/dav/addressbooks/contacts/x.vcf</D:href></C:calendar-multiget>"#
            ),
        )
        .await;
    let responses = r.responses();
    assert_eq!(responses.len(), 3);
    assert!(
        responses[0].1.contains("SUMMARY:Multi"),
        "{}",
        responses[0].1
    );
    assert!(
        responses[0].1.contains("&#13;"),
        "CR of CRLF survives XML: {}",
        responses[0].1
    );
    assert!(responses[1].1.contains("404") && responses[2].1.contains("404"));
}

/// A member is found by its href as a client sends it: percent-encoded once (a `%` in the
/// name is `%25`, and never decoded twice), or as an absolute URL.
#[tokio::test]
async fn multiget_finds_a_member_by_its_href_as_sent() {
    let s = Server::start().await;
    // The member `%41 off.ics`; decoded twice, its href would name `A off.ics`.
    let encoded = format!("{CALENDAR}%2541%20off.ics");
    for (href, uid, summary) in [
        (encoded.clone(), "sale", "Sale"),
        (format!("{CALENDAR}A%20off.ics"), "other", "Other"),
    ] {
        let put = s
            .put(&href, &[], &event(uid, summary, "20261123T090000Z"))
            .await;
        assert_eq!(put.status, StatusCode::CREATED, "{}", put.body);
    }
    let r = s
        .report(
            CALENDAR,
            "1",
            &format!(
                r#"<C:calendar-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/><C:calendar-data/></D:prop><D:href>{encoded}</D:href><D:href>{}</D:href></C:calendar-multiget>"#,
                s.url(&encoded)
            ),
        )
        .await;
    let responses = r.responses();
    assert_eq!(responses.len(), 2, "{}", r.body);
    for (href, body) in &responses {
        assert_eq!(href, &encoded);
        assert!(body.contains("SUMMARY:Sale"), "{body}");
    }
}

/// The names of the calendar's members a calendar-query with this filter (inside the VCALENDAR
/// comp-filter) answers with, sorted.
async fn queried(s: &Server, filter: String) -> Vec<String> {
    let body = format!(
        r#"<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/></D:prop><C:filter><C:comp-filter name="VCALENDAR">{filter}</C:comp-filter></C:filter></C:calendar-query>"#
    );
    let reply = s.report(CALENDAR, "1", &body).await;
    assert_eq!(reply.status, StatusCode::MULTI_STATUS, "{}", reply.body);
    let mut names: Vec<String> = reply
        .responses()
        .into_iter()
        .map(|(href, _)| href.trim_start_matches(CALENDAR).to_string())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn calendar_query_by_component_and_time_range() {
    let s = Server::start().await;
    s.put(
        &format!("{CALENDAR}nov.ics"),
        &[],
        &event("nov", "November", "20261123T090000Z"),
    )
    .await;
    s.put(
        &format!("{CALENDAR}jan.ics"),
        &[],
        &event("jan", "January", "20270115T090000Z"),
    )
    .await;
    let query = |start: &str, end: &str| {
        format!(
            r#"<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/></D:prop><C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:time-range start="{start}" end="{end}"/></C:comp-filter></C:comp-filter></C:filter></C:calendar-query>"#
        )
    };
    let november = query("20261101T000000Z", "20261201T000000Z");
    let nov = s.report(CALENDAR, "1", &november).await;
    let hrefs: Vec<String> = nov.responses().into_iter().map(|(h, _)| h).collect();
    assert_eq!(hrefs, [format!("{CALENDAR}nov.ics")]);
    // Changed: the query shows the ETag the change was answered with, not the one before.
    let changed = s
        .put(
            &format!("{CALENDAR}nov.ics"),
            &[],
            &event("nov", "November, moved", "20261124T090000Z"),
        )
        .await
        .etag();
    let nov = s.report(CALENDAR, "1", &november).await;
    assert!(
        nov.responses().len() == 1 && nov.body.contains(&format!("<D:getetag>{changed}<")),
        "{changed}: {}",
        nov.body
    );
    let both = s
        .report(
            CALENDAR,
            "1",
            &query("20261101T000000Z", "20270201T000000Z"),
        )
        .await;
    assert_eq!(both.responses().len(), 2);

    // Text match on a property.
    let by_summary = s
        .report(
            CALENDAR,
            "1",
            r#"<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/></D:prop><C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:prop-filter name="SUMMARY"><C:text-match collation="i;ascii-casemap">JANUARY</C:text-match></C:prop-filter></C:comp-filter></C:comp-filter></C:filter></C:calendar-query>"#,
        )
        .await;
    let hrefs: Vec<String> = by_summary.responses().into_iter().map(|(h, _)| h).collect();
    assert_eq!(hrefs, [format!("{CALENDAR}jan.ics")]);

    // Tasks: a VTODO with only DUE is found by a range that contains its due date.
    s.put(&format!("{TASKS}t.ics"), &[], &todo("t", "Send the quote"))
        .await;
    let tasks = s
        .report(
            TASKS,
            "1",
            r#"<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/></D:prop><C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VTODO"><C:time-range start="20261101T000000Z" end="20261231T000000Z"/></C:comp-filter></C:comp-filter></C:filter></C:calendar-query>"#,
        )
        .await;
    assert_eq!(tasks.responses().len(), 1, "{}", tasks.body);
}

/// A time-range query reads only the members the span index names: series (endless, counted,
/// with an occurrence moved out of their span) and moved or deleted events are found where they
/// are now, never where they were.
#[tokio::test]
async fn a_time_range_finds_series_and_moved_events_where_they_are_now() {
    let s = Server::start().await;
    let series = |uid: &str, start: &str, rule: &str, extra: &str| {
        format!(
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Test//Test//EN\r\nBEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20261101T000000Z\r\nDTSTART:{start}\r\nDURATION:PT1H\r\nRRULE:{rule}\r\nSUMMARY:{uid}\r\nEND:VEVENT\r\n{extra}END:VCALENDAR\r\n"
        )
    };
    let put = |name: &str, body: String| {
        let s = &s;
        let path = format!("{CALENDAR}{name}.ics");
        async move {
            let reply = s.put(&path, &[], &body).await;
            assert!(reply.status.is_success(), "{}", reply.body);
        }
    };
    put(
        "weekly",
        series("weekly", "20200106T090000Z", "FREQ=WEEKLY", ""),
    )
    .await;
    put(
        "three",
        series("three", "20250106T090000Z", "FREQ=WEEKLY;COUNT=3", ""),
    )
    .await;
    // Its second occurrence moved to December 2026.
    let moved = "BEGIN:VEVENT\r\nUID:moved-out\r\nDTSTAMP:20261101T000000Z\r\nRECURRENCE-ID:20250113T090000Z\r\nDTSTART:20261215T090000Z\r\nDURATION:PT1H\r\nSUMMARY:moved\r\nEND:VEVENT\r\n";
    put(
        "moved-out",
        series(
            "moved-out",
            "20250106T090000Z",
            "FREQ=WEEKLY;COUNT=3",
            moved,
        ),
    )
    .await;
    put("old", event("old", "Old", "20190301T090000Z")).await;
    put("later", event("later", "Later", "20270301T090000Z")).await;
    put("gone", event("gone", "Gone", "20261214T090000Z")).await;
    // Moved from December to March, and deleted: neither is in December any more.
    put(
        "later-now",
        event("later-now", "Later now", "20261216T090000Z"),
    )
    .await;
    put(
        "later-now",
        event("later-now", "Later now", "20270302T090000Z"),
    )
    .await;
    let gone = s
        .send("DELETE", &format!("{CALENDAR}gone.ics"), &[], "")
        .await;
    assert!(gone.status.is_success(), "{}", gone.body);

    let in_range = |start: &'static str, end: &'static str| {
        queried(
            &s,
            format!(
                r#"<C:comp-filter name="VEVENT"><C:time-range start="{start}" end="{end}"/></C:comp-filter>"#
            ),
        )
    };
    assert_eq!(
        in_range("20261214T000000Z", "20261221T000000Z").await,
        ["moved-out.ics", "weekly.ics"]
    );
    assert_eq!(
        in_range("20250101T000000Z", "20250201T000000Z").await,
        ["moved-out.ics", "three.ics", "weekly.ics"]
    );
    assert_eq!(
        in_range("20270301T000000Z", "20270303T000000Z").await,
        ["later-now.ics", "later.ics", "weekly.ics"]
    );
    assert_eq!(
        in_range("20190101T000000Z", "20191231T000000Z").await,
        ["old.ics"]
    );
}

/// A range alone is answered from the span index, without reading an event whose instances it
/// lists; a filter that asks more reads every candidate the index names. Both give the members whose
/// instances meet the range (RFC 4791 §9.9, computed here from each event's bytes) for ranges
/// that start and end at, just before and just after every event's edges, for events of every
/// length (an instant, an hour, a day, a quarter, a year: each in its own class of the index,
/// the long ones starting long before the ranges), in UTC, floating or in a zone, a short series
/// with an occurrence moved and one excluded, and an endless one.
#[tokio::test]
async fn a_range_is_answered_from_the_index_as_the_events_own_bytes_answer_it() {
    let s = Server::start().await;
    let timed = [
        ("instant", "DTSTART:20261210T090000Z"),
        ("zero", "DTSTART:20261210T090000Z\r\nDTEND:20261210T090000Z"),
        ("minute", "DTSTART:20261210T093000Z\r\nDURATION:PT1M"),
        ("hour", "DTSTART:20261210T100000Z\r\nDTEND:20261210T110000Z"),
        ("day", "DTSTART;VALUE=DATE:20261211"),
        ("week", "DTSTART:20261205T000000Z\r\nDURATION:P7D"),
        (
            "quarter",
            "DTSTART:20260915T000000Z\r\nDTEND:20261215T000000Z",
        ),
        ("year", "DTSTART:20260101T000000Z\r\nDTEND:20270101T000000Z"),
        ("floating", "DTSTART:20261210T120000\r\nDURATION:PT2H"),
        (
            "berlin",
            "DTSTART;TZID=Europe/Berlin:20261210T080000\r\nDURATION:PT30M",
        ),
        (
            "series",
            "DTSTART:20261103T090000Z\r\nDURATION:PT1H\r\nRRULE:FREQ=WEEKLY;COUNT=5\r\nEXDATE:20261117T090000Z",
        ),
        (
            "endless",
            "DTSTART:20261204T090000Z\r\nDURATION:PT1H\r\nRRULE:FREQ=WEEKLY",
        ),
    ];
    // The series' second occurrence moved into the week of the quarter's end.
    let moved = "BEGIN:VEVENT\r\nUID:series\r\nDTSTAMP:20261101T000000Z\r\nRECURRENCE-ID:20261110T090000Z\r\nDTSTART:20261214T230000Z\r\nDURATION:PT2H\r\nSUMMARY:moved\r\nEND:VEVENT\r\n";
    let mut events = Vec::new();
    for (uid, timing) in timed {
        let body = format!(
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Test//Test//EN\r\nBEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\nBEGIN:STANDARD\r\nDTSTART:19701025T030000\r\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nEND:STANDARD\r\nBEGIN:DAYLIGHT\r\nDTSTART:19700329T020000\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nEND:DAYLIGHT\r\nEND:VTIMEZONE\r\nBEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20261101T000000Z\r\n{timing}\r\nSUMMARY:{uid}\r\nEND:VEVENT\r\n{}END:VCALENDAR\r\n",
            if uid == "series" { moved } else { "" }
        );
        let reply = s.put(&format!("{CALENDAR}{uid}.ics"), &[], &body).await;
        assert!(reply.status.is_success(), "{uid}: {}", reply.body);
        events.push((uid, codec::parse_icalendar(body.as_bytes()).unwrap()));
    }
    // Edges: where the events start and end, a second either side, and far away.
    let edges = [
        "20250101T000000Z",
        "20260101T000000Z",
        "20260915T000000Z",
        "20261103T090000Z",
        "20261201T000000Z",
        "20261205T000000Z",
        "20261210T070000Z",
        "20261210T085959Z",
        "20261210T090000Z",
        "20261210T090001Z",
        "20261210T093100Z",
        "20261210T110000Z",
        "20261210T120000Z",
        "20261210T140000Z",
        "20261211T000000Z",
        "20261212T000000Z",
        "20261215T000000Z",
        "20261215T000001Z",
        "20261215T010000Z",
        "20270101T000000Z",
        "20280101T000000Z",
    ];
    let members = |filter: String| queried(&s, filter);
    let at = |t: &str| {
        chrono::NaiveDateTime::parse_from_str(t, "%Y%m%dT%H%M%SZ")
            .unwrap()
            .and_utc()
    };
    let (mut found, mut ranges) = (0, 0);
    for (i, start) in edges.iter().enumerate() {
        for end in &edges[i + 1..] {
            let mut meeting: Vec<String> = events
                .iter()
                .filter(|(_, object)| codec::overlaps(object, at(start), at(end)))
                .map(|(uid, _)| format!("{uid}.ics"))
                .collect();
            meeting.sort();
            let range = format!(r#"<C:time-range start="{start}" end="{end}"/>"#);
            let from_index = members(format!(
                r#"<C:comp-filter name="VEVENT">{range}</C:comp-filter>"#
            ))
            .await;
            // Every event has a UID: the same question, which the index alone cannot answer.
            let from_bytes = members(format!(
                r#"<C:comp-filter name="VEVENT">{range}<C:prop-filter name="UID"/></C:comp-filter>"#
            ))
            .await;
            assert_eq!(from_index, meeting, "[{start}, {end}) from the index");
            assert_eq!(from_bytes, meeting, "[{start}, {end}) from the bytes");
            found += meeting.len();
            ranges += 1;
        }
    }
    // The ranges are not all empty or all full.
    assert!(found > ranges && found < ranges * timed.len(), "{found}");
    // The index was written from the server's own parse of each event; a replay, from the bytes
    // alone, writes the same rows.
    assert_replays(&s);
}

#[tokio::test]
async fn addressbook_query_matches_properties() {
    let s = Server::start().await;
    s.put(
        &format!("{CONTACTS}lima.vcf"),
        &[],
        &card(Some("lima"), "Lima"),
    )
    .await;
    s.put(
        &format!("{CONTACTS}okafor.vcf"),
        &[],
        &card(Some("okafor"), "Okafor"),
    )
    .await;
    let r = s
        .report(
            CONTACTS,
            "1",
            r#"<CR:addressbook-query xmlns:D="DAV:" xmlns:CR="urn:ietf:params:xml:ns:carddav"><D:prop><D:getetag/><CR:address-data/></D:prop><CR:filter test="anyof"><CR:prop-filter name="EMAIL"><CR:text-match collation="i;unicode-casemap" match-type="contains">okafor</CR:text-match></CR:prop-filter></CR:filter></CR:addressbook-query>"#,
        )
        .await;
    let responses = r.responses();
    assert_eq!(responses.len(), 1, "{}", r.body);
    assert!(responses[0].0.ends_with("okafor.vcf"));
    assert!(responses[0].1.contains("FN:Ana Okafor"));
}

#[tokio::test]
async fn free_busy_lists_busy_time() {
    let s = Server::start().await;
    s.put(
        &format!("{CALENDAR}busy.ics"),
        &[],
        &event("busy", "Busy", "20261123T090000Z"),
    )
    .await;
    let r = s
        .report(
            CALENDAR,
            "1",
            r#"<C:free-busy-query xmlns:C="urn:ietf:params:xml:ns:caldav"><C:time-range start="20261123T000000Z" end="20261124T000000Z"/></C:free-busy-query>"#,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("BEGIN:VFREEBUSY"), "{}", r.body);
    assert!(r.body.contains("FREEBUSY"), "{}", r.body);
    assert!(
        r.body.contains("20261123T090000Z/20261123T100000Z")
            || r.body.contains("20261123T090000Z/PT1H"),
        "{}",
        r.body
    );
}
