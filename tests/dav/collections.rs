//! Discovery and collections: what a client finds when it first connects, and the calendars and
//! address books it can create and configure.

use crate::common::*;
use reqwest::StatusCode;

#[tokio::test]
async fn discovery_from_the_root_the_well_known_uris_and_the_principal() {
    let s = Server::start().await;
    let options = s.send("OPTIONS", "/", &[], "").await;
    assert_eq!(options.status, StatusCode::OK);
    let dav = options.header("dav").unwrap();
    assert!(
        dav.contains("calendar-access") && dav.contains("addressbook"),
        "{dav}"
    );

    for well_known in ["/.well-known/caldav", "/.well-known/carddav"] {
        let r = s
            .client
            .get(s.url(well_known))
            .basic_auth(USER, Some(PASSWORD))
            .send()
            .await
            .unwrap();
        // reqwest follows the redirect: it must land on a page that answers.
        assert_eq!(r.url().path(), "/dav/");
    }

    let root = s
        .propfind("/", "0", r#"<?xml version="1.0"?><d:propfind xmlns:d="DAV:"><d:prop><d:current-user-principal/></d:prop></d:propfind>"#)
        .await;
    assert_eq!(root.status, StatusCode::MULTI_STATUS);
    assert!(
        root.header("dav").is_some(),
        "the DAV header is on PROPFIND answers too"
    );
    assert!(
        root.body
            .contains("<D:current-user-principal><D:href>/dav/principal/</D:href>"),
        "{}",
        root.body
    );

    let principal = s
        .propfind(
            "/dav/principal/",
            "0",
            r#"<propfind xmlns="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav" xmlns:CR="urn:ietf:params:xml:ns:carddav"><prop><C:calendar-home-set/><CR:addressbook-home-set/><C:calendar-user-address-set/><resourcetype/><C:schedule-inbox-URL/></prop></propfind>"#,
        )
        .await;
    let body = &principal.body;
    assert!(
        body.contains("<C:calendar-home-set><D:href>/dav/calendars/</D:href>"),
        "{body}"
    );
    assert!(
        body.contains("<CR:addressbook-home-set><D:href>/dav/addressbooks/</D:href>"),
        "{body}"
    );
    assert!(body.contains("<D:principal/>"), "{body}");
    // What the server does not have is a 404 in the propstat, never a failed request.
    assert!(
        body.contains("HTTP/1.1 404") && body.contains("schedule-inbox-URL"),
        "{body}"
    );
}

#[tokio::test]
async fn the_homes_list_a_calendar_a_vtodo_only_task_list_and_an_address_book() {
    let s = Server::start().await;
    let body = r#"<propfind xmlns="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav" xmlns:CS="http://calendarserver.org/ns/"><prop><resourcetype/><displayname/><C:supported-calendar-component-set/><CS:getctag/><sync-token/><supported-report-set/></prop></propfind>"#;
    let home = s.propfind("/dav/calendars/", "1", body).await;
    let responses = home.responses();
    let find = |href: &str| {
        responses
            .iter()
            .find(|(h, _)| h == href)
            .map(|(_, b)| b.clone())
            .unwrap_or_default()
    };
    let calendar = find(CALENDAR);
    assert!(
        calendar.contains(r#"<C:comp name="VEVENT"/>"#) && !calendar.contains("VTODO"),
        "{calendar}"
    );
    assert!(calendar.contains("<C:calendar/>"), "{calendar}");
    assert!(
        calendar.contains("sync-collection"),
        "sync-collection is advertised: {calendar}"
    );
    let tasks = find(TASKS);
    assert!(
        tasks.contains(r#"<C:comp name="VTODO"/>"#) && !tasks.contains("VEVENT"),
        "{tasks}"
    );
    assert!(
        tasks.contains("<D:displayname>Tasks</D:displayname>"),
        "{tasks}"
    );

    let books = s.propfind("/dav/addressbooks/", "1", r#"<propfind xmlns="DAV:" xmlns:CR="urn:ietf:params:xml:ns:carddav"><prop><resourcetype/><CR:supported-address-data/></prop></propfind>"#).await;
    let contacts = books
        .responses()
        .into_iter()
        .find(|(h, _)| h == CONTACTS)
        .unwrap()
        .1;
    assert!(contacts.contains("<CR:addressbook/>"), "{contacts}");
    assert!(
        contacts.contains(r#"version="3.0""#) && contacts.contains(r#"version="4.0""#),
        "{contacts}"
    );
}

#[tokio::test]
async fn mkcalendar_extended_mkcol_and_proppatch() {
    let s = Server::start().await;
    let made = s
        .send(
            "MKCALENDAR",
            "/dav/calendars/work/",
            &[],
            r#"<C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop><D:displayname>Work</D:displayname><C:supported-calendar-component-set><C:comp name="VEVENT"/></C:supported-calendar-component-set></D:prop></D:set></C:mkcalendar>"#,
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    let again = s.send("MKCALENDAR", "/dav/calendars/work/", &[], "").await;
    assert_eq!(again.status, StatusCode::METHOD_NOT_ALLOWED);

    // Outlook CalDav Synchronizer creates address books with extended MKCOL.
    let book = s
        .send(
            "MKCOL",
            "/dav/addressbooks/team/",
            &[],
            r#"<D:mkcol xmlns:D="DAV:" xmlns:CR="urn:ietf:params:xml:ns:carddav"><D:set><D:prop><D:resourcetype><D:collection/><CR:addressbook/></D:resourcetype><D:displayname>Team</D:displayname></D:prop></D:set></D:mkcol>"#,
        )
        .await;
    assert_eq!(book.status, StatusCode::CREATED, "{}", book.body);

    let patch = s
        .send(
            "PROPPATCH",
            "/dav/calendars/work/",
            &[],
            r##"<D:propertyupdate xmlns:D="DAV:" xmlns:I="http://apple.com/ns/ical/" xmlns:X="urn:example:x"><D:set><D:prop><D:displayname>Work (Q4)</D:displayname><I:calendar-color>#FF8800FF</I:calendar-color><X:flavour><X:sweet/></X:flavour></D:prop></D:set></D:propertyupdate>"##,
        )
        .await;
    assert_eq!(patch.status, StatusCode::MULTI_STATUS);
    assert_eq!(
        patch.body.matches("HTTP/1.1 200").count(),
        1,
        "{}",
        patch.body
    );
    let read = s
        .propfind("/dav/calendars/work/", "0", r#"<propfind xmlns="DAV:" xmlns:I="http://apple.com/ns/ical/" xmlns:X="urn:example:x"><prop><displayname/><I:calendar-color/><X:flavour/></prop></propfind>"#)
        .await;
    assert!(read.body.contains("Work (Q4)"), "{}", read.body);
    assert!(read.body.contains("#FF8800FF"), "{}", read.body);
    assert!(
        read.body.contains("sweet"),
        "dead properties are kept: {}",
        read.body
    );

    // A protected property fails the whole PROPPATCH, and nothing is changed.
    let before = s.log_len();
    let refused = s
        .send(
            "PROPPATCH",
            "/dav/calendars/work/",
            &[],
            r#"<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><D:displayname>Nope</D:displayname><D:getetag>"x"</D:getetag></D:prop></D:set></D:propertyupdate>"#,
        )
        .await;
    assert!(
        refused.body.contains("HTTP/1.1 403") && refused.body.contains("HTTP/1.1 424"),
        "{}",
        refused.body
    );
    assert!(
        refused.body.contains("cannot-modify-protected-property"),
        "{}",
        refused.body
    );
    assert_eq!(s.log_len(), before);

    let deleted = s.send("DELETE", "/dav/calendars/work/", &[], "").await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    let gone = s.propfind("/dav/calendars/work/", "0", "").await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    let default = s.send("DELETE", CALENDAR, &[], "").await;
    assert_eq!(
        default.status,
        StatusCode::FORBIDDEN,
        "the default calendar stays"
    );
}
