//! DAVx5 (dav4jvm; manual.davx5.com/technical_information.html): its request sequence, replayed
//! with its headers and the bodies in `fixtures/dav/davx5/`.

use super::*;

const DAVX5_AGENT: &str = "DAVx5/4.4.3.2-ose (2024/10/01; dav4jvm; okhttp/4.12.0) Android/14";

const DAVX5_HOME_LIST: &str = include_str!("../../../fixtures/dav/davx5/propfind_collections.xml");
const DAVX5_CAPABILITIES: &str =
    include_str!("../../../fixtures/dav/davx5/propfind_capabilities.xml");
/// dav4jvm writes an empty element for the initial sync (cyrus-imapd#4985 refused it).
const DAVX5_SYNC_INITIAL: &str =
    include_str!("../../../fixtures/dav/davx5/sync_collection_initial.xml");
const DAVX5_SYNC: &str = include_str!("../../../fixtures/dav/davx5/sync_collection.xml");
const DAVX5_CARD_MULTIGET: &str =
    include_str!("../../../fixtures/dav/davx5/addressbook_multiget.xml");
const DAVX5_TASKS_QUERY: &str =
    include_str!("../../../fixtures/dav/davx5/calendar_query_vtodo.xml");
const DAVX5_EVENTS_QUERY: &str =
    include_str!("../../../fixtures/dav/davx5/calendar_query_vevent.xml");
const DAVX5_VCARD4: &str = include_str!("../../../fixtures/dav/davx5/contact.vcf");

fn davx5_sync(token: &str) -> String {
    if token.is_empty() {
        DAVX5_SYNC_INITIAL.to_string()
    } else {
        fill(DAVX5_SYNC, "token", token)
    }
}

fn davx5_card_multiget(hrefs: &[String]) -> String {
    fill(
        DAVX5_CARD_MULTIGET,
        "hrefs",
        &each_href(hrefs, "<href>{href}</href>"),
    )
}

#[tokio::test]
async fn davx5() {
    let s = Server::start().await;
    let c = Client::new(&s, DAVX5_AGENT, "application/xml; charset=utf-8");

    // Service discovery lists the homes, then asks each collection what it can do.
    let books = c.propfind("/dav/addressbooks/", "1", DAVX5_HOME_LIST).await;
    assert!(block(&books, CONTACTS).contains("<CR:addressbook/>"));
    let calendars = c.propfind("/dav/calendars/", "1", DAVX5_HOME_LIST).await;
    assert!(block(&calendars, TASKS).contains(r#"<C:comp name="VTODO"/>"#));

    let caps = c.propfind(CONTACTS, "0", DAVX5_CAPABILITIES).await;
    let caps = block(&caps, CONTACTS);
    // vCard 4 advertised: DAVx5 then sends 4.0.
    assert!(
        caps.contains(r#"version="4.0""#) && caps.contains(r#"version="3.0""#),
        "{caps}"
    );
    assert_prop(&caps, "sync-token", 200);
    assert_prop(&caps, "getctag", 200);
    assert!(caps.contains("<D:sync-collection/>"), "{caps}");

    // CardDAV with sync-collection; the initial sync sends an empty <sync-token/>.
    let initial = c.report(CONTACTS, "0", &davx5_sync("")).await;
    assert_eq!(initial.status, StatusCode::MULTI_STATUS, "{}", initial.body);
    assert!(initial.responses().is_empty());
    let token = sync_token(&initial);

    let href = format!("{CONTACTS}3b8f7c1e-2d4a-4e6b-9c0d-1f2e3a4b5c6d.vcf");
    let created = c
        .put(
            &href,
            &[
                ("If-None-Match", "*"),
                ("Content-Type", "text/vcard; version=4.0"),
            ],
            DAVX5_VCARD4,
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    // It remembers this ETag and compares it with what sync reports later.
    let remembered = created.etag();
    let delta = c.report(CONTACTS, "0", &davx5_sync(&token)).await;
    assert_eq!(hrefs(&delta), [href.as_str()]);
    assert!(
        block(&delta, &href).contains(&format!("<D:getetag>{}</D:getetag>", xml_text(&remembered))),
        "{}",
        delta.body
    );
    let token = sync_token(&delta);
    let got = c
        .report(
            CONTACTS,
            "1",
            &davx5_card_multiget(std::slice::from_ref(&href)),
        )
        .await;
    assert_eq!(got.status, StatusCode::MULTI_STATUS);
    assert_eq!(data(&block(&got, &href), "CR:address-data"), DAVX5_VCARD4);

    // DELETE with If-Match: a stale ETag is refused, the remembered one deletes.
    let before = s.log_len();
    let stale = c
        .send("DELETE", &href, &[("If-Match", "\"not-this-one\"")], "")
        .await;
    assert_eq!(stale.status, StatusCode::PRECONDITION_FAILED);
    assert_eq!(s.log_len(), before);
    let deleted = c
        .send("DELETE", &href, &[("If-Match", &remembered)], "")
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    let delta = c.report(CONTACTS, "0", &davx5_sync(&token)).await;
    assert_eq!(hrefs(&delta), [href.as_str()]);
    assert!(block(&delta, &href).contains("404"), "{}", delta.body);

    // Tasks always go through calendar-query on VTODO with the past-time limit as time-range.
    let due_soon = format!("{TASKS}due-soon.ics");
    let due_long_ago = format!("{TASKS}due-long-ago.ics");
    let undated = format!("{TASKS}undated.ics");
    for (href, body) in [
        (
            &due_soon,
            todo_due("due-soon", "Send quote", Some("20261130T170000Z")),
        ),
        (
            &due_long_ago,
            todo_due("due-long-ago", "Old follow-up", Some("20200115T170000Z")),
        ),
        (&undated, todo_due("undated", "Someday", None)),
    ] {
        let r = c.put(href, &[("If-None-Match", "*")], &body).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    }
    let tasks = c.report(TASKS, "1", DAVX5_TASKS_QUERY).await;
    assert_eq!(tasks.status, StatusCode::MULTI_STATUS, "{}", tasks.body);
    let mut found = hrefs(&tasks);
    found.sort();
    // RFC 4791 §9.9: DUE inside the range matches, DUE before it does not, no dates always does.
    assert_eq!(
        found,
        [due_soon.as_str(), undated.as_str()],
        "{}",
        tasks.body
    );
    for href in &found {
        assert_prop(&block(&tasks, href), "getetag", 200);
    }

    // Events with the past-event limit on: calendar-query too.
    for (name, start) in [("recent", "20261105T090000Z"), ("old", "20230105T090000Z")] {
        let r = c
            .put(
                &format!("{CALENDAR}{name}.ics"),
                &[("If-None-Match", "*")],
                &event(name, name, start),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED);
    }
    let events = c.report(CALENDAR, "1", DAVX5_EVENTS_QUERY).await;
    assert_eq!(hrefs(&events), [format!("{CALENDAR}recent.ics")]);
}

/// An ETag as it appears in XML character data.
fn xml_text(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
