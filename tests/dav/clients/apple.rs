//! Apple Calendar, Contacts and Reminders (iOS/macOS dataaccessd, AddressBookCore): their
//! request sequence, replayed with their headers and the bodies in `fixtures/dav/apple/`.

use super::thunderbird::{TB_CTAG, tb_multiget};
use super::*;

const APPLE_CALENDAR_AGENT: &str = "macOS/14.5 (23F79) dataaccessd/1.0";
const APPLE_CONTACTS_AGENT: &str = "macOS/14.5 (23F79) AddressBookCore/2487.600.111";
/// iOS percent-encodes the `@` of an e-mail user name in Basic credentials.
const APPLE_USER: &str = "ana%40example.com";

const APPLE_CURRENT_USER_PRINCIPAL: &str =
    include_str!("../../../fixtures/dav/apple/propfind_current_user_principal.xml");
const APPLE_PRINCIPAL: &str = include_str!("../../../fixtures/dav/apple/propfind_principal.xml");
const APPLE_HOME: &str = include_str!("../../../fixtures/dav/apple/propfind_calendar_home.xml");
const APPLE_BOOK_HOME: &str =
    include_str!("../../../fixtures/dav/apple/propfind_addressbook_home.xml");
const APPLE_MKCALENDAR_REMINDERS: &str =
    include_str!("../../../fixtures/dav/apple/mkcalendar_reminders.xml");
const APPLE_CALENDAR_QUERY: &str = include_str!("../../../fixtures/dav/apple/calendar_query.xml");
const APPLE_ME_CARD: &str = include_str!("../../../fixtures/dav/apple/proppatch_me_card.xml");
const APPLE_CARD_MULTIGET: &str =
    include_str!("../../../fixtures/dav/apple/addressbook_multiget.xml");

fn apple_me_card(href: &str) -> String {
    fill(APPLE_ME_CARD, "href", href)
}

fn apple_card_multiget(hrefs: &[String]) -> String {
    fill(
        APPLE_CARD_MULTIGET,
        "hrefs",
        &each_href(hrefs, "<A:href>{href}</A:href>"),
    )
}

#[tokio::test]
async fn apple_calendar_contacts_and_reminders() {
    let s = Server::start().await;
    let mut cal = Client::new(&s, APPLE_CALENDAR_AGENT, "text/xml");
    cal.user = APPLE_USER;

    // Account setup with only the server name: the well-known URI, then the principal.
    let well_known = cal
        .propfind_raw("/.well-known/caldav", "0", APPLE_CURRENT_USER_PRINCIPAL)
        .await;
    assert!(well_known.status.is_redirection(), "{}", well_known.status);
    let root = well_known.header("location").unwrap().to_string();
    let found = cal.propfind(&root, "0", APPLE_CURRENT_USER_PRINCIPAL).await;
    assert_dav_header(&found);
    let principal = between(
        &found.body,
        "<D:current-user-principal><D:href>",
        "</D:href>",
    )
    .unwrap();

    // The long principal list: what tandem has is 200, the rest 404 inside the 207.
    let props = cal.propfind(&principal, "0", APPLE_PRINCIPAL).await;
    assert_dav_header(&props);
    let p = block(&props, &principal);
    for known in [
        "calendar-home-set",
        "calendar-user-address-set",
        "current-user-principal",
        "principal-URL",
        "supported-report-set",
        "addressbook-home-set",
    ] {
        assert_prop(&p, known, 200);
    }
    for unknown in [
        "dropbox-home-URL",
        "notification-URL",
        "schedule-inbox-URL",
        "schedule-outbox-URL",
    ] {
        assert_prop(&p, unknown, 404);
    }
    let home = between(&props.body, "<C:calendar-home-set><D:href>", "</D:href>").unwrap();
    let book_home = between(
        &props.body,
        "<CR:addressbook-home-set><D:href>",
        "</D:href>",
    )
    .unwrap();

    // The home listing: collection hrefs with their trailing slash, ctag and sync-token on each
    // calendar, the privileges that make it writable.
    let listing = cal.propfind(&home, "1", APPLE_HOME).await;
    assert_dav_header(&listing);
    for href in hrefs(&listing) {
        assert!(
            href.ends_with('/'),
            "collection href without a slash: {href}"
        );
    }
    for collection in [CALENDAR, TASKS] {
        let b = block(&listing, collection);
        assert_prop(&b, "getctag", 200);
        assert_prop(&b, "sync-token", 200);
        assert_prop(&b, "supported-calendar-component-set", 200);
        assert_prop(&b, "current-user-privilege-set", 200);
        assert!(b.contains("<D:write/>"), "{b}");
        // Apple's own properties nobody set yet are 404, not a failure.
        assert_prop(&b, "pushkey", 404);
    }

    // Reminders creates its list with MKCALENDAR: VTODO only, its color and order kept.
    let reminders = "/dav/calendars/9F3C1A22-5B7E-4D1F-8E0A-2B6C4D8E1F30/";
    let made = cal
        .send(
            "MKCALENDAR",
            reminders,
            &[("Content-Type", "text/xml")],
            APPLE_MKCALENDAR_REMINDERS,
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    let listing = cal.propfind(&home, "1", APPLE_HOME).await;
    let list = block(&listing, reminders);
    assert!(
        list.contains(r#"<C:comp name="VTODO"/>"#) && !list.contains("VEVENT"),
        "{list}"
    );
    assert!(
        list.contains("#FF9500FF") && list.contains("Reminders"),
        "{list}"
    );
    assert_prop(&list, "calendar-order", 200);
    // The list is there once: a MKCALENDAR that silently failed makes it create "Reminders"
    // again on every launch.
    assert_eq!(
        listing
            .body
            .matches("<D:displayname>Reminders</D:displayname>")
            .count(),
        1
    );
    let reminder = format!("{reminders}7C1D2E3F-4A5B-4C6D-8E9F-0A1B2C3D4E5F.ics");
    let put = cal
        .put(
            &reminder,
            &[("If-None-Match", "*"), ("Content-Type", "text/calendar")],
            &todo_due(
                "7C1D2E3F-4A5B-4C6D-8E9F-0A1B2C3D4E5F",
                "Buy milk",
                Some("20261120T090000Z"),
            ),
        )
        .await;
    assert_eq!(put.status, StatusCode::CREATED, "{}", put.body);

    // Calendar: an open-ended calendar-query for etags, then a multiget of what changed.
    let meeting = format!("{CALENDAR}A1B2C3D4-E5F6-4789-ABCD-EF0123456789.ics");
    let body = event(
        "A1B2C3D4-E5F6-4789-ABCD-EF0123456789",
        "Lunch",
        "20261115T120000Z",
    );
    assert_eq!(
        cal.put(&meeting, &[("If-None-Match", "*")], &body)
            .await
            .status,
        StatusCode::CREATED
    );
    let etags = cal.report(CALENDAR, "1", APPLE_CALENDAR_QUERY).await;
    assert_eq!(etags.status, StatusCode::MULTI_STATUS, "{}", etags.body);
    assert_eq!(hrefs(&etags), [meeting.as_str()]);
    let got = cal
        .report(CALENDAR, "1", &tb_multiget(std::slice::from_ref(&meeting)))
        .await;
    assert_eq!(data(&block(&got, &meeting), "C:calendar-data"), body);

    // Contacts: getctag on the address books (without it, no cards are fetched), the primary
    // book first, then a vCard 3.0 with itemN. groups and X-ABLabel.
    let mut contacts = Client::new(&s, APPLE_CONTACTS_AGENT, "text/xml");
    contacts.user = APPLE_USER;
    let books = contacts.propfind(&book_home, "1", APPLE_BOOK_HOME).await;
    assert_dav_header(&books);
    let listed = hrefs(&books);
    assert_eq!(listed[0], book_home, "the home first");
    assert_eq!(
        listed[1], CONTACTS,
        "then the primary book: Contacts uses the first"
    );
    let primary = block(&books, CONTACTS);
    assert_prop(&primary, "getctag", 200);
    assert!(primary.contains("<CR:addressbook/>"), "{primary}");
    let ctag_before = ctag(&contacts.propfind(CONTACTS, "0", TB_CTAG).await);

    let apple_card = include_str!("../../../fixtures/vcf/apple_v3.vcf");
    let card = format!("{CONTACTS}E7213AAA-7206-4B97-926A-CDFECBD91C26-ABSPlugin.vcf");
    let put = contacts
        .put(
            &card,
            &[("If-None-Match", "*"), ("Content-Type", "text/vcard")],
            apple_card,
        )
        .await;
    assert_eq!(put.status, StatusCode::CREATED, "{}", put.body);
    assert_ne!(
        ctag(&contacts.propfind(CONTACTS, "0", TB_CTAG).await),
        ctag_before
    );
    let got = contacts
        .report(
            CONTACTS,
            "1",
            &apple_card_multiget(std::slice::from_ref(&card)),
        )
        .await;
    let returned = data(&block(&got, &card), "CR:address-data");
    assert_eq!(returned, apple_card, "groups and labels come back as sent");
    assert!(returned.contains("item1.X-ABLabel:_$!<Work>!$_"));

    // "Make This My Card": a PROPPATCH of me-card on the address book home. tandem keeps it
    // and answers 207 with 200 for the property, so Contacts goes on (a refusal here has been
    // seen to crash it), and reports it back on the home.
    let before = s.log_len();
    let me = contacts
        .send(
            "PROPPATCH",
            &book_home,
            &[("Content-Type", "text/xml")],
            &apple_me_card(&card),
        )
        .await;
    assert_eq!(me.status, StatusCode::MULTI_STATUS, "{}", me.body);
    assert_prop(&block(&me, &book_home), "me-card", 200);
    assert!(s.log_len() > before, "the me-card is kept");
    let home_props = contacts.propfind(&book_home, "0", APPLE_BOOK_HOME).await;
    let home_block = block(&home_props, &book_home);
    assert_prop(&home_block, "me-card", 200);
    assert!(
        home_block.contains(&format!("<D:href>{card}</D:href>")),
        "{home_block}"
    );

    // A wrong password is still refused when the user name is percent-encoded.
    let refused = s
        .client
        .request(
            reqwest::Method::from_bytes(b"PROPFIND").unwrap(),
            s.url(&book_home),
        )
        .basic_auth(APPLE_USER, Some("not the password"))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
}
