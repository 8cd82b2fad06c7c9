//! Outlook CalDav Synchronizer (CalDavDataAccess.cs, CardDavDataAccess.cs, WebDavDataAccess.cs):
//! its request sequence, replayed with its headers and the bodies in
//! `fixtures/dav/caldav_synchronizer/`.

use super::*;

const CDS_AGENT: &str = "CalDavSynchronizer/4.4.1";

const CDS_CURRENT_USER_PRINCIPAL: &str =
    include_str!("../../../fixtures/dav/caldav_synchronizer/propfind_current_user_principal.xml");
const CDS_HOME_SET: &str =
    include_str!("../../../fixtures/dav/caldav_synchronizer/propfind_calendar_home_set.xml");
const CDS_LIST_CALENDARS: &str =
    include_str!("../../../fixtures/dav/caldav_synchronizer/propfind_calendars.xml");
const CDS_SUPPORTED_REPORTS: &str =
    include_str!("../../../fixtures/dav/caldav_synchronizer/propfind_supported_report_set.xml");
const CDS_LIST_ADDRESSBOOKS: &str =
    include_str!("../../../fixtures/dav/caldav_synchronizer/propfind_addressbooks.xml");
const CDS_SYNC_INITIAL: &str =
    include_str!("../../../fixtures/dav/caldav_synchronizer/sync_collection_initial.xml");
const CDS_SYNC: &str =
    include_str!("../../../fixtures/dav/caldav_synchronizer/sync_collection.xml");
const CDS_MULTIGET: &str =
    include_str!("../../../fixtures/dav/caldav_synchronizer/calendar_multiget.xml");
const CDS_MKCOL_ADDRESSBOOK: &str =
    include_str!("../../../fixtures/dav/caldav_synchronizer/mkcol_addressbook.xml");
const CDS_COLOR_PROPPATCH: &str =
    include_str!("../../../fixtures/dav/caldav_synchronizer/proppatch_calendar_color.xml");

/// What Thought.vCards' vCardStandardWriter writes for an Outlook contact: vCard 3.0 with the
/// Outlook-only relations as X- properties.
const CDS_VCARD: &str = include_str!("../../../fixtures/dav/caldav_synchronizer/contact.vcf");

fn cds_sync(token: &str) -> String {
    if token.is_empty() {
        CDS_SYNC_INITIAL.to_string()
    } else {
        fill(CDS_SYNC, "token", token)
    }
}

fn cds_multiget(hrefs: &[String]) -> String {
    fill(
        CDS_MULTIGET,
        "hrefs",
        &each_href(hrefs, "  <D:href>{href}</D:href>\n"),
    )
}

#[tokio::test]
async fn outlook_caldav_synchronizer() {
    let s = Server::start().await;
    let c = Client::new(&s, CDS_AGENT, "application/xml; charset=utf-8");

    // Autodiscovery from the server's address: the well-known URI points at the context path.
    let well_known = c
        .propfind_raw("/.well-known/caldav", "0", CDS_CURRENT_USER_PRINCIPAL)
        .await;
    assert!(well_known.status.is_redirection(), "{}", well_known.status);
    let root = well_known.header("location").unwrap().to_string();
    let found = c.propfind(&root, "0", CDS_CURRENT_USER_PRINCIPAL).await;
    let principal = between(
        &found.body,
        "<D:current-user-principal><D:href>",
        "</D:href>",
    )
    .unwrap();
    assert_eq!(principal, "/dav/principal/");

    let homes = c.propfind(&principal, "0", CDS_HOME_SET).await;
    let home = between(&homes.body, "<C:calendar-home-set><D:href>", "</D:href>").unwrap();
    assert!(home.ends_with('/'), "the DAV URL must end with /: {home}");
    let principal_block = block(&homes, &principal);
    assert_prop(&principal_block, "calendar-user-address-set", 200);
    // Delegation is not offered: 404 for those, and the request still succeeds.
    assert_prop(&principal_block, "calendar-proxy-read-for", 404);

    // It sorts calendars from task lists by the component set: the task list must be VTODO only.
    let list = c.propfind(&home, "1", CDS_LIST_CALENDARS).await;
    let tasks = block(&list, TASKS);
    assert!(tasks.contains("<C:calendar/>"), "{tasks}");
    assert!(
        tasks.contains(r#"<C:comp name="VTODO"/>"#) && !tasks.contains("VEVENT"),
        "{tasks}"
    );
    let calendar = block(&list, CALENDAR);
    assert!(
        calendar.contains(r#"<C:comp name="VEVENT"/>"#) && !calendar.contains("VTODO"),
        "{calendar}"
    );

    // WebDAV Collection Sync is used only if the collection lists it (Depth 0).
    let reports = c.propfind(CALENDAR, "0", CDS_SUPPORTED_REPORTS).await;
    assert!(
        reports.body.contains("<D:sync-collection/>"),
        "{}",
        reports.body
    );

    // Initial sync: Depth 0 and an empty token.
    let initial = c.report(CALENDAR, "0", &cds_sync("")).await;
    assert_eq!(initial.status, StatusCode::MULTI_STATUS, "{}", initial.body);
    assert!(initial.responses().is_empty());
    let token = sync_token(&initial);

    // Create: If-None-Match: *, an Outlook body with a Windows time zone and an HTML body.
    let outlook = include_str!("../../../fixtures/ics/outlook_windows_tz.ics");
    let meeting = format!("{CALENDAR}8e4b1a52-6c3d-4f1e-9a7b-2d5c8f0e1b3a.ics");
    let created = c
        .put(
            &meeting,
            &[
                ("If-None-Match", "*"),
                ("Content-Type", "text/calendar; charset=utf-8"),
            ],
            outlook,
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    // It stores the ETag it gets, or asks for it when there is none.
    let etag = created.etag();

    // Incremental sync lists just that change, with the same ETag.
    let delta = c.report(CALENDAR, "0", &cds_sync(&token)).await;
    assert_eq!(delta.status, StatusCode::MULTI_STATUS);
    assert_eq!(hrefs(&delta), [meeting.as_str()]);
    assert!(block(&delta, &meeting).contains(&etag), "{}", delta.body);
    let token = sync_token(&delta);

    // A token the server does not know: exactly a 403 with <D:error><D:valid-sync-token/>, which
    // it parses to fall back to a full sync. Anything else is fatal to it.
    let before = s.log_len();
    let bad = c
        .report(CALENDAR, "0", &cds_sync("http://elsewhere.example/sync/17"))
        .await;
    assert_eq!(bad.status, StatusCode::FORBIDDEN);
    assert!(
        bad.header("content-type")
            .unwrap()
            .starts_with("application/xml"),
        "{:?}",
        bad.headers
    );
    // The root element is DAV:error and its first child the condition.
    let error = bad
        .body
        .split_once("?>")
        .map_or(bad.body.as_str(), |(_, rest)| rest)
        .trim_start();
    assert!(
        error.starts_with("<D:error ")
            && error.contains(r#"xmlns:D="DAV:""#)
            && between(error, ">", "<").is_some_and(|between_tags| between_tags.is_empty())
            && error.contains("><D:valid-sync-token/>"),
        "{}",
        bad.body
    );
    assert_eq!(s.log_len(), before);
    let full = c.report(CALENDAR, "0", &cds_sync("")).await;
    assert_eq!(hrefs(&full), [meeting.as_str()]);

    // More items, then a download in chunks of 3 with getetag, displayname and calendar-data.
    let mut created_hrefs = vec![meeting.clone()];
    for i in 0..5 {
        let href = format!("{CALENDAR}cds-{i}.ics");
        let r = c
            .put(
                &href,
                &[("If-None-Match", "*")],
                &event(
                    &format!("cds-{i}"),
                    &format!("Call {i}"),
                    "20261110T090000Z",
                ),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED);
        created_hrefs.push(href);
    }
    let delta = c.report(CALENDAR, "0", &cds_sync(&token)).await;
    assert_eq!(delta.responses().len(), 5);
    let mut downloaded = Vec::new();
    for chunk in created_hrefs.chunks(3) {
        let got = c.report(CALENDAR, "1", &cds_multiget(chunk)).await;
        assert_eq!(got.status, StatusCode::MULTI_STATUS);
        for href in chunk {
            let b = block(&got, href);
            assert_prop(&b, "getetag", 200);
            assert_prop(&b, "calendar-data", 200);
            downloaded.push(href.clone());
        }
    }
    assert_eq!(downloaded, created_hrefs);
    let got = c
        .report(CALENDAR, "1", &cds_multiget(std::slice::from_ref(&meeting)))
        .await;
    // The Windows time zone and the HTML description come back byte for byte.
    assert_eq!(
        data(&block(&got, &meeting), "C:calendar-data"),
        outlook,
        "verbatim round trip"
    );

    // Update with If-Match: the ETag it holds.
    let edited = outlook.replace("Weekly sync with the team.", "Weekly sync, new agenda.");
    let updated = c.put(&meeting, &[("If-Match", &etag)], &edited).await;
    assert_eq!(updated.status, StatusCode::NO_CONTENT, "{}", updated.body);
    let new_etag = updated.etag();
    assert_ne!(new_etag, etag);

    // Its issue #442: a PUT with a stale ETag must not overwrite the newer version.
    let before = s.log_len();
    let stale = c.put(&meeting, &[("If-Match", &etag)], outlook).await;
    assert_eq!(stale.status, StatusCode::PRECONDITION_FAILED);
    assert_eq!(s.log_len(), before, "a refused PUT changes nothing");
    assert_eq!(c.get(&meeting).await.body, edited);
    // A color set from Outlook's calendar settings.
    let patch = c
        .send(
            "PROPPATCH",
            CALENDAR,
            &[("Content-Type", "application/xml; charset=utf-8")],
            CDS_COLOR_PROPPATCH,
        )
        .await;
    assert_eq!(patch.status, StatusCode::MULTI_STATUS);
    assert_prop(&block(&patch, CALENDAR), "calendar-color", 200);
    let list = c.propfind(&home, "1", CDS_LIST_CALENDARS).await;
    assert!(
        block(&list, CALENDAR).contains("#8AB4F8FF"),
        "{}",
        list.body
    );

    // Contacts: an address book made with extended MKCOL, then a vCard 3.0 from Outlook.
    let book = "/dav/addressbooks/outlook-contacts/";
    let made = c
        .send(
            "MKCOL",
            book,
            &[("Content-Type", "application/xml; charset=utf-8")],
            CDS_MKCOL_ADDRESSBOOK,
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    let listed = c
        .propfind("/dav/addressbooks/", "1", CDS_LIST_ADDRESSBOOKS)
        .await;
    let entry = block(&listed, book);
    assert!(
        entry.contains("<CR:addressbook/>") && entry.contains("Outlook Contacts"),
        "{entry}"
    );
    let card_href = format!("{book}6f1c2d3e-4a5b-4c6d-8e7f-9a0b1c2d3e4f.vcf");
    let put = c
        .put(
            &card_href,
            &[
                ("If-None-Match", "*"),
                ("Content-Type", "text/vcard; charset=utf-8"),
            ],
            CDS_VCARD,
        )
        .await;
    assert_eq!(put.status, StatusCode::CREATED, "{}", put.body);
    assert_eq!(c.get(&card_href).await.body, CDS_VCARD);
}
