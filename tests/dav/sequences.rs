//! The request sequences of the real desktop and phone clients, replayed in order with the
//! headers and XML bodies each one sends (reconstructed from their sources and traces; see
//! `/work/shared/reference/dav-anchors.md` §3). Each step asserts what that client depends on
//! to go on to the next one: a client that gets something else stops syncing, disables the
//! calendar, or loses data.

use crate::common::*;
use reqwest::StatusCode;

/// One client: its User-Agent, its user name as it encodes it, and an HTTP client that does not
/// follow redirects, so each hop of discovery is seen as the client sees it.
struct Client<'a> {
    server: &'a Server,
    http: reqwest::Client,
    agent: &'static str,
    user: &'static str,
    content_type: &'static str,
}

impl<'a> Client<'a> {
    fn new(server: &'a Server, agent: &'static str, content_type: &'static str) -> Client<'a> {
        Client {
            server,
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            agent,
            user: USER,
            content_type,
        }
    }

    async fn send(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Reply {
        let mut request = self
            .http
            .request(
                reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
                self.server.url(path),
            )
            .basic_auth(self.user, Some(PASSWORD))
            .header("User-Agent", self.agent)
            .body(body.to_string());
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.unwrap();
        Reply {
            status: response.status(),
            headers: response.headers().clone(),
            body: response.text().await.unwrap(),
        }
    }

    async fn propfind(&self, path: &str, depth: &str, body: &str) -> Reply {
        let reply = self
            .send(
                "PROPFIND",
                path,
                &[("Depth", depth), ("Content-Type", self.content_type)],
                body,
            )
            .await;
        assert_eq!(
            reply.status,
            StatusCode::MULTI_STATUS,
            "PROPFIND {path}: {}",
            reply.body
        );
        reply
    }

    async fn report(&self, path: &str, depth: &str, body: &str) -> Reply {
        self.send(
            "REPORT",
            path,
            &[("Depth", depth), ("Content-Type", self.content_type)],
            body,
        )
        .await
    }

    async fn put(&self, path: &str, headers: &[(&str, &str)], body: &str) -> Reply {
        self.send("PUT", path, headers, body).await
    }

    async fn get(&self, path: &str) -> Reply {
        self.send("GET", path, &[], "").await
    }
}

/// The `<response>` block for one href.
fn block(reply: &Reply, href: &str) -> String {
    reply
        .responses()
        .into_iter()
        .find(|(h, _)| h == href)
        .map(|(_, b)| b)
        .unwrap_or_else(|| panic!("no response for {href} in {}", reply.body))
}

/// The HTTP status of the propstat that holds the property with this local name.
fn prop_status(block: &str, local: &str) -> Option<u16> {
    block.split("<D:propstat>").skip(1).find_map(|propstat| {
        let holds = [">", "/>", " "]
            .iter()
            .any(|end| propstat.contains(&format!(":{local}{end}")));
        holds.then(|| {
            let status = between(propstat, "HTTP/1.1 ", " ").unwrap_or_default();
            status.parse().unwrap_or(0)
        })
    })
}

fn assert_prop(block: &str, local: &str, status: u16) {
    assert_eq!(
        prop_status(block, local),
        Some(status),
        "{local} should be {status} in {block}"
    );
}

/// Character data as an XML parser hands it to the client.
fn unescape(text: &str) -> String {
    text.replace("&#13;", "\r")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

/// The calendar-data or address-data of a response block, unescaped.
fn data(block: &str, element: &str) -> String {
    let open = format!("<{element}>");
    let close = format!("</{element}>");
    unescape(&between(block, &open, &close).unwrap_or_else(|| panic!("no {element} in {block}")))
}

fn sync_token(reply: &Reply) -> String {
    between(&reply.body, "<D:sync-token>", "</D:sync-token>").expect("a sync token")
}

fn ctag(reply: &Reply) -> String {
    between(&reply.body, "<CS:getctag>", "</CS:getctag>").expect("a getctag")
}

fn hrefs(reply: &Reply) -> Vec<String> {
    reply.responses().into_iter().map(|(h, _)| h).collect()
}

fn assert_dav_header(reply: &Reply) {
    let dav = reply.header("dav").unwrap_or_default();
    assert!(
        dav.contains("calendar-access") && dav.contains("addressbook"),
        "DAV header: {dav:?}"
    );
}

fn todo_due(uid: &str, summary: &str, due: Option<&str>) -> String {
    let due = due.map(|d| format!("DUE:{d}\r\n")).unwrap_or_default();
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Test//Test//EN\r\nBEGIN:VTODO\r\nUID:{uid}\r\nDTSTAMP:20261101T000000Z\r\n{due}SUMMARY:{summary}\r\nSTATUS:NEEDS-ACTION\r\nEND:VTODO\r\nEND:VCALENDAR\r\n"
    )
}

// ---------------------------------------------------------------------------------------------
// Outlook CalDav Synchronizer (CalDavDataAccess.cs, CardDavDataAccess.cs, WebDavDataAccess.cs)

const CDS_AGENT: &str = "CalDavSynchronizer/4.4.1";

const CDS_CURRENT_USER_PRINCIPAL: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<D:propfind xmlns:D="DAV:">
  <D:prop>
    <D:current-user-principal/>
  </D:prop>
</D:propfind>"#;

const CDS_HOME_SET: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<D:propfind xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav" xmlns:CS="http://calendarserver.org/ns/">
  <D:prop>
    <C:calendar-home-set/>
    <C:calendar-user-address-set/>
    <CS:calendar-proxy-read-for/>
    <CS:calendar-proxy-write-for/>
  </D:prop>
</D:propfind>"#;

const CDS_LIST_CALENDARS: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<D:propfind xmlns:D="DAV:" xmlns:E="http://apple.com/ns/ical/" xmlns:C="urn:ietf:params:xml:ns:caldav">
  <D:prop>
    <D:resourcetype/>
    <D:displayname/>
    <E:calendar-color/>
    <C:supported-calendar-component-set/>
  </D:prop>
</D:propfind>"#;

const CDS_SUPPORTED_REPORTS: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<D:propfind xmlns:D="DAV:">
  <D:prop>
    <D:supported-report-set/>
  </D:prop>
</D:propfind>"#;

fn cds_sync(token: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?>
<sync-collection xmlns="DAV:">
  <sync-token>{token}</sync-token>
  <sync-level>1</sync-level>
  <prop>
    <getetag />
  </prop>
</sync-collection>"#
    )
}

fn cds_multiget(hrefs: &[String]) -> String {
    let hrefs: String = hrefs
        .iter()
        .map(|h| format!("  <D:href>{h}</D:href>\n"))
        .collect();
    format!(
        r#"<?xml version="1.0"?>
<C:calendar-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
  <D:prop><D:getetag/><D:displayname/><C:calendar-data/></D:prop>
{hrefs}</C:calendar-multiget>"#
    )
}

const CDS_MKCOL_ADDRESSBOOK: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<D:mkcol xmlns:D="DAV:" xmlns:A="urn:ietf:params:xml:ns:carddav">
  <D:set>
    <D:prop>
      <D:resourcetype><D:collection/><A:addressbook/></D:resourcetype>
      <D:displayname>Outlook Contacts</D:displayname>
    </D:prop>
  </D:set>
</D:mkcol>"#;

const CDS_COLOR_PROPPATCH: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<D:propertyupdate xmlns:D="DAV:" xmlns:E="http://apple.com/ns/ical/"><D:set><D:prop><E:calendar-color>#8AB4F8FF</E:calendar-color></D:prop></D:set></D:propertyupdate>"#;

/// What Thought.vCards' vCardStandardWriter writes for an Outlook contact: vCard 3.0 with the
/// Outlook-only relations as X- properties.
const CDS_VCARD: &str = "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:6f1c2d3e-4a5b-4c6d-8e7f-9a0b1c2d3e4f\r\nFN:Ana Lima\r\nN:Lima;Ana;;;\r\nORG:Example Corp;Sales\r\nTITLE:Account Executive\r\nEMAIL;TYPE=INTERNET,WORK:ana.lima@example.com\r\nTEL;TYPE=WORK:+49 221 555 0100\r\nTEL;TYPE=CELL:+49 170 555 0101\r\nADR;TYPE=WORK:;;Domstra\u{df}e 1;K\u{f6}ln;;50667;Germany\r\nX-ASSISTANT:Jonas Weber\r\nX-MANAGER:Marta Silva\r\nX-SPOUSE:Rui Lima\r\nNOTE:Prefers calls before 10.\r\nREV:2024-03-01T10:00:00Z\r\nEND:VCARD\r\n";

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
    let outlook = include_str!("../../fixtures/ics/outlook_windows_tz.ics");
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
        .propfind(
            "/dav/addressbooks/",
            "1",
            r#"<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:"><D:prop><D:resourcetype/><D:displayname/></D:prop></D:propfind>"#,
        )
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

impl Client<'_> {
    /// A PROPFIND whose status the caller checks (a redirect, a refusal).
    async fn propfind_raw(&self, path: &str, depth: &str, body: &str) -> Reply {
        self.send(
            "PROPFIND",
            path,
            &[("Depth", depth), ("Content-Type", self.content_type)],
            body,
        )
        .await
    }
}

// ---------------------------------------------------------------------------------------------
// Thunderbird (calendar/providers/caldav/CalDavCalendar.sys.mjs, CalDavDetector)

const TB_AGENT: &str =
    "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Thunderbird/128.5.0";

const TB_DISCOVERY: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<D:propfind xmlns:D="DAV:" xmlns:CS="http://calendarserver.org/ns/" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:resourcetype/><D:owner/><D:current-user-principal/><D:current-user-privilege-set/><D:supported-report-set/><C:supported-calendar-component-set/><CS:getctag/></D:prop></D:propfind>"#;

const TB_HOME_SET: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<D:propfind xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><C:calendar-home-set/><C:calendar-user-address-set/><C:schedule-inbox-URL/><C:schedule-outbox-URL/></D:prop></D:propfind>"#;

const TB_HOME_LIST: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<D:propfind xmlns:D="DAV:" xmlns:CS="http://calendarserver.org/ns/" xmlns:C="urn:ietf:params:xml:ns:caldav" xmlns:A="http://apple.com/ns/ical/"><D:prop><D:resourcetype/><D:displayname/><D:current-user-privilege-set/><A:calendar-color/><C:supported-calendar-component-set/><CS:getctag/></D:prop></D:propfind>"#;

const TB_CTAG: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<D:propfind xmlns:D="DAV:" xmlns:CS="http://calendarserver.org/ns/"><D:prop><CS:getctag/></D:prop></D:propfind>"#;

const TB_ETAGS: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<D:propfind xmlns:D="DAV:"><D:prop><D:getcontenttype/><D:resourcetype/><D:getetag/></D:prop></D:propfind>"#;

fn tb_sync(token: &str) -> String {
    let token = if token.is_empty() {
        "<sync-token/>".to_string()
    } else {
        format!("<sync-token>{token}</sync-token>")
    };
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<sync-collection xmlns="DAV:">
  {token}
  <sync-level>1</sync-level>
  <prop>
    <getcontenttype/>
    <getetag/>
  </prop>
</sync-collection>"#
    )
}

fn tb_multiget(hrefs: &[String]) -> String {
    let hrefs: String = hrefs
        .iter()
        .map(|h| format!("<D:href>{h}</D:href>"))
        .collect();
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<C:calendar-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/><C:calendar-data/></D:prop>{hrefs}</C:calendar-multiget>"#
    )
}

#[tokio::test]
async fn thunderbird() {
    let s = Server::start().await;
    let c = Client::new(&s, TB_AGENT, "application/xml; charset=utf-8");

    // Discovery from the bare server address: PROPFIND / must answer (a 405 ends it there).
    let root = c.propfind("/", "0", TB_DISCOVERY).await;
    let principal = between(
        &root.body,
        "<D:current-user-principal><D:href>",
        "</D:href>",
    )
    .unwrap();
    let homes = c.propfind(&principal, "0", TB_HOME_SET).await;
    let home = between(&homes.body, "<C:calendar-home-set><D:href>", "</D:href>").unwrap();
    // No scheduling: the inbox is a 404 in the propstat, so it does not poll one.
    assert_prop(&block(&homes, &principal), "schedule-inbox-URL", 404);
    let list = c.propfind(&home, "1", TB_HOME_LIST).await;
    let calendar = block(&list, CALENDAR);
    assert!(calendar.contains("<C:calendar/>"), "{calendar}");
    assert_prop(&calendar, "getctag", 200);
    // Write privilege, or it marks the calendar read-only.
    assert!(calendar.contains("<D:write/>"), "{calendar}");

    // Its first look at the calendar, Depth 0: it sees sync-collection and uses it on every
    // refresh from now on.
    let props = c.propfind(CALENDAR, "0", TB_DISCOVERY).await;
    assert!(
        props.body.contains("<D:sync-collection/>"),
        "{}",
        props.body
    );
    let first_ctag = ctag(&props);

    // A new event from Thunderbird: PUT <uuid>.ics with If-None-Match: *.
    let href = format!("{CALENDAR}0b6d5b1e-9d1f-4a4b-8c4b-4f1f9a3c2d11.ics");
    let body = event(
        "0b6d5b1e-9d1f-4a4b-8c4b-4f1f9a3c2d11",
        "Dentist",
        "20261112T150000Z",
    );
    let created = c
        .put(
            &href,
            &[
                ("If-None-Match", "*"),
                ("Content-Type", "text/calendar; charset=utf-8"),
            ],
            &body,
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let etag = created.etag();

    // The ctag path (servers without sync): ctag moved, so Depth 1 etags, then a multiget.
    let ctag_now = ctag(&c.propfind(CALENDAR, "0", TB_CTAG).await);
    assert_ne!(ctag_now, first_ctag, "a change moves the ctag");
    assert_eq!(
        ctag(&c.propfind(CALENDAR, "0", TB_CTAG).await),
        ctag_now,
        "and nothing else does"
    );
    let etags = c.propfind(CALENDAR, "1", TB_ETAGS).await;
    let own = block(&etags, CALENDAR);
    assert!(own.contains("<C:calendar/>"), "{own}");
    let member = block(&etags, &href);
    assert!(member.contains(&etag), "{member}");
    assert!(member.contains("text/calendar"), "{member}");
    let got = c
        .report(CALENDAR, "1", &tb_multiget(std::slice::from_ref(&href)))
        .await;
    assert_eq!(got.status, StatusCode::MULTI_STATUS);
    assert_eq!(data(&block(&got, &href), "C:calendar-data"), body);

    // The sync path: an empty <sync-token/> first, then the token on every refresh.
    let initial = c.report(CALENDAR, "1", &tb_sync("")).await;
    assert_eq!(initial.status, StatusCode::MULTI_STATUS, "{}", initial.body);
    assert_eq!(hrefs(&initial), [href.as_str()]);
    assert!(block(&initial, &href).contains("text/calendar"));
    let mut token = sync_token(&initial);
    // Refreshes with nothing changed: nothing listed, same token (bounded: a few refreshes).
    for _ in 0..3 {
        let refresh = c.report(CALENDAR, "1", &tb_sync(&token)).await;
        assert!(refresh.responses().is_empty(), "{}", refresh.body);
        assert_eq!(sync_token(&refresh), token);
    }
    // Another client changes one event and deletes it: each refresh shows exactly that.
    let other = Client::new(&s, "DAVx5/4.4.3.2-ose", "application/xml");
    let changed = event(
        "0b6d5b1e-9d1f-4a4b-8c4b-4f1f9a3c2d11",
        "Dentist (moved)",
        "20261113T150000Z",
    );
    assert_eq!(
        other
            .put(&href, &[("If-Match", &etag)], &changed)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    let refresh = c.report(CALENDAR, "1", &tb_sync(&token)).await;
    assert_eq!(hrefs(&refresh), [href.as_str()]);
    token = sync_token(&refresh);
    let got = c
        .report(CALENDAR, "1", &tb_multiget(std::slice::from_ref(&href)))
        .await;
    assert_eq!(data(&block(&got, &href), "C:calendar-data"), changed);
    assert_eq!(
        other.send("DELETE", &href, &[], "").await.status,
        StatusCode::NO_CONTENT
    );
    let refresh = c.report(CALENDAR, "1", &tb_sync(&token)).await;
    assert_eq!(hrefs(&refresh), [href.as_str()]);
    assert!(
        block(&refresh, &href).contains("404"),
        "a deletion is a 404: {}",
        refresh.body
    );
}

// ---------------------------------------------------------------------------------------------
// DAVx5 (dav4jvm; manual.davx5.com/technical_information.html)

const DAVX5_AGENT: &str = "DAVx5/4.4.3.2-ose (2024/10/01; dav4jvm; okhttp/4.12.0) Android/14";

const DAVX5_HOME_LIST: &str = r#"<?xml version='1.0' encoding='UTF-8' ?><propfind xmlns="DAV:" xmlns:CAL="urn:ietf:params:xml:ns:caldav" xmlns:CARD="urn:ietf:params:xml:ns:carddav"><prop><resourcetype /><displayname /><owner /><current-user-privilege-set /><CARD:addressbook-description /><CAL:calendar-description /><calendar-color xmlns="http://apple.com/ns/ical/" /><CAL:supported-calendar-component-set /><CAL:calendar-timezone /><source xmlns="http://calendarserver.org/ns/" /></prop></propfind>"#;

const DAVX5_CAPABILITIES: &str = r#"<?xml version='1.0' encoding='UTF-8' ?><propfind xmlns="DAV:" xmlns:CAL="urn:ietf:params:xml:ns:caldav" xmlns:CARD="urn:ietf:params:xml:ns:carddav"><prop><resourcetype /><displayname /><CARD:supported-address-data /><current-user-privilege-set /><sync-token /><getctag xmlns="http://calendarserver.org/ns/" /><supported-report-set /></prop></propfind>"#;

fn davx5_sync(token: &str) -> String {
    // dav4jvm writes an empty element for the initial sync (cyrus-imapd#4985 refused it).
    let token = if token.is_empty() {
        "<sync-token />".to_string()
    } else {
        format!("<sync-token>{token}</sync-token>")
    };
    format!(
        r#"<?xml version='1.0' encoding='UTF-8' ?><sync-collection xmlns="DAV:">{token}<sync-level>1</sync-level><prop><getetag /></prop></sync-collection>"#
    )
}

fn davx5_card_multiget(hrefs: &[String]) -> String {
    let hrefs: String = hrefs.iter().map(|h| format!("<href>{h}</href>")).collect();
    format!(
        r#"<?xml version='1.0' encoding='UTF-8' ?><CARD:addressbook-multiget xmlns="DAV:" xmlns:CARD="urn:ietf:params:xml:ns:carddav"><prop><getetag /><CARD:address-data content-type="text/vcard" version="4.0" /></prop>{hrefs}</CARD:addressbook-multiget>"#
    )
}

fn davx5_query(component: &str, start: &str) -> String {
    format!(
        r#"<?xml version='1.0' encoding='UTF-8' ?><CAL:calendar-query xmlns="DAV:" xmlns:CAL="urn:ietf:params:xml:ns:caldav"><prop><getetag /></prop><CAL:filter><CAL:comp-filter name="VCALENDAR"><CAL:comp-filter name="{component}"><CAL:time-range start="{start}" /></CAL:comp-filter></CAL:comp-filter></CAL:filter></CAL:calendar-query>"#
    )
}

const DAVX5_VCARD4: &str = "BEGIN:VCARD\r\nVERSION:4.0\r\nUID:urn:uuid:3b8f7c1e-2d4a-4e6b-9c0d-1f2e3a4b5c6d\r\nPRODID:ez-vcard 0.12.1\r\nFN:Marta Silva\r\nN:Silva;Marta;;;\r\nEMAIL;TYPE=work:marta.silva@example.com\r\nTEL;TYPE=cell;VALUE=uri:tel:+351-21-555-0100\r\nREV:20241001T120000Z\r\nEND:VCARD\r\n";

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
    let tasks = c
        .report(TASKS, "1", &davx5_query("VTODO", "20261001T000000Z"))
        .await;
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
    let events = c
        .report(CALENDAR, "1", &davx5_query("VEVENT", "20261001T000000Z"))
        .await;
    assert_eq!(hrefs(&events), [format!("{CALENDAR}recent.ics")]);
}

/// An ETag as it appears in XML character data.
fn xml_text(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

// ---------------------------------------------------------------------------------------------
// Apple Calendar, Contacts and Reminders (iOS/macOS dataaccessd, AddressBookCore)

const APPLE_CALENDAR_AGENT: &str = "macOS/14.5 (23F79) dataaccessd/1.0";
const APPLE_CONTACTS_AGENT: &str = "macOS/14.5 (23F79) AddressBookCore/2487.600.111";
/// iOS percent-encodes the `@` of an e-mail user name in Basic credentials.
const APPLE_USER: &str = "ana%40example.com";

const APPLE_PRINCIPAL: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<A:propfind xmlns:A="DAV:">
  <A:prop>
    <B:calendar-home-set xmlns:B="urn:ietf:params:xml:ns:caldav"/>
    <B:calendar-user-address-set xmlns:B="urn:ietf:params:xml:ns:caldav"/>
    <A:current-user-principal/>
    <A:displayname/>
    <C:dropbox-home-URL xmlns:C="http://calendarserver.org/ns/"/>
    <C:email-address-set xmlns:C="http://calendarserver.org/ns/"/>
    <C:notification-URL xmlns:C="http://calendarserver.org/ns/"/>
    <A:principal-collection-set/>
    <A:principal-URL/>
    <A:resource-id/>
    <B:schedule-inbox-URL xmlns:B="urn:ietf:params:xml:ns:caldav"/>
    <B:schedule-outbox-URL xmlns:B="urn:ietf:params:xml:ns:caldav"/>
    <A:supported-report-set/>
    <D:addressbook-home-set xmlns:D="urn:ietf:params:xml:ns:carddav"/>
  </A:prop>
</A:propfind>"#;

const APPLE_HOME: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<A:propfind xmlns:A="DAV:">
  <A:prop>
    <A:add-member/>
    <C:allowed-sharing-modes xmlns:C="http://calendarserver.org/ns/"/>
    <D:autoprovisioned xmlns:D="http://apple.com/ns/ical/"/>
    <E:bulk-requests xmlns:E="http://me.com/_namespace/"/>
    <D:calendar-color xmlns:D="http://apple.com/ns/ical/"/>
    <B:calendar-description xmlns:B="urn:ietf:params:xml:ns:caldav"/>
    <B:calendar-free-busy-set xmlns:B="urn:ietf:params:xml:ns:caldav"/>
    <D:calendar-order xmlns:D="http://apple.com/ns/ical/"/>
    <B:calendar-timezone xmlns:B="urn:ietf:params:xml:ns:caldav"/>
    <A:current-user-privilege-set/>
    <B:default-alarm-vevent-date xmlns:B="urn:ietf:params:xml:ns:caldav"/>
    <B:default-alarm-vevent-datetime xmlns:B="urn:ietf:params:xml:ns:caldav"/>
    <A:displayname/>
    <C:getctag xmlns:C="http://calendarserver.org/ns/"/>
    <C:invite xmlns:C="http://calendarserver.org/ns/"/>
    <D:language-code xmlns:D="http://apple.com/ns/ical/"/>
    <D:location-code xmlns:D="http://apple.com/ns/ical/"/>
    <A:owner/>
    <C:pre-publish-url xmlns:C="http://calendarserver.org/ns/"/>
    <C:publish-url xmlns:C="http://calendarserver.org/ns/"/>
    <C:push-transports xmlns:C="http://calendarserver.org/ns/"/>
    <C:pushkey xmlns:C="http://calendarserver.org/ns/"/>
    <A:quota-available-bytes/>
    <A:quota-used-bytes/>
    <D:refreshrate xmlns:D="http://apple.com/ns/ical/"/>
    <A:resource-id/>
    <A:resourcetype/>
    <B:schedule-calendar-transp xmlns:B="urn:ietf:params:xml:ns:caldav"/>
    <B:schedule-default-calendar-URL xmlns:B="urn:ietf:params:xml:ns:caldav"/>
    <C:source xmlns:C="http://calendarserver.org/ns/"/>
    <C:subscribed-strip-alarms xmlns:C="http://calendarserver.org/ns/"/>
    <C:subscribed-strip-attachments xmlns:C="http://calendarserver.org/ns/"/>
    <C:subscribed-strip-todos xmlns:C="http://calendarserver.org/ns/"/>
    <B:supported-calendar-component-set xmlns:B="urn:ietf:params:xml:ns:caldav"/>
    <B:supported-calendar-component-sets xmlns:B="urn:ietf:params:xml:ns:caldav"/>
    <A:supported-report-set/>
    <A:sync-token/>
  </A:prop>
</A:propfind>"#;

const APPLE_BOOK_HOME: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<A:propfind xmlns:A="DAV:">
  <A:prop>
    <A:add-member/>
    <A:current-user-privilege-set/>
    <A:displayname/>
    <C:getctag xmlns:C="http://calendarserver.org/ns/"/>
    <C:me-card xmlns:C="http://calendarserver.org/ns/"/>
    <A:owner/>
    <C:push-transports xmlns:C="http://calendarserver.org/ns/"/>
    <C:pushkey xmlns:C="http://calendarserver.org/ns/"/>
    <A:quota-available-bytes/>
    <A:quota-used-bytes/>
    <A:resource-id/>
    <A:resourcetype/>
    <A:supported-report-set/>
    <A:sync-token/>
  </A:prop>
</A:propfind>"#;

const APPLE_MKCALENDAR_REMINDERS: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r
<B:mkcalendar xmlns:B=\"urn:ietf:params:xml:ns:caldav\">\r
  <A:set xmlns:A=\"DAV:\">\r
    <A:prop>\r
      <B:supported-calendar-component-set>\r
        <B:comp name=\"VTODO\"/>\r
      </B:supported-calendar-component-set>\r
      <D:calendar-color xmlns:D=\"http://apple.com/ns/ical/\" symbolic-color=\"orange\">#FF9500FF</D:calendar-color>\r
      <A:displayname>Reminders</A:displayname>\r
      <D:calendar-order xmlns:D=\"http://apple.com/ns/ical/\">2</D:calendar-order>\r
      <B:calendar-timezone><![CDATA[BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//Apple Inc.//macOS 14.5//EN\r
BEGIN:VTIMEZONE\r
TZID:Europe/Berlin\r
BEGIN:STANDARD\r
DTSTART:19701025T030000\r
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r
TZOFFSETFROM:+0200\r
TZOFFSETTO:+0100\r
END:STANDARD\r
BEGIN:DAYLIGHT\r
DTSTART:19700329T020000\r
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r
TZOFFSETFROM:+0100\r
TZOFFSETTO:+0200\r
END:DAYLIGHT\r
END:VTIMEZONE\r
END:VCALENDAR\r
]]></B:calendar-timezone>\r
    </A:prop>\r
  </A:set>\r
</B:mkcalendar>\r
";

const APPLE_CALENDAR_QUERY: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<B:calendar-query xmlns:B="urn:ietf:params:xml:ns:caldav">
  <A:prop xmlns:A="DAV:">
    <A:getetag/>
    <A:getcontenttype/>
  </A:prop>
  <B:filter>
    <B:comp-filter name="VCALENDAR">
      <B:comp-filter name="VEVENT">
        <B:time-range start="20260817T000000Z"/>
      </B:comp-filter>
    </B:comp-filter>
  </B:filter>
</B:calendar-query>"#;

fn apple_me_card(href: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<A:propertyupdate xmlns:A="DAV:"><A:set><A:prop><C:me-card xmlns:C="http://calendarserver.org/ns/"><A:href>{href}</A:href></C:me-card></A:prop></A:set></A:propertyupdate>"#
    )
}

fn apple_card_multiget(hrefs: &[String]) -> String {
    let hrefs: String = hrefs
        .iter()
        .map(|h| format!("<A:href>{h}</A:href>"))
        .collect();
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<B:addressbook-multiget xmlns:A="DAV:" xmlns:B="urn:ietf:params:xml:ns:carddav"><A:prop><A:getetag/><B:address-data/></A:prop>{hrefs}</B:addressbook-multiget>"#
    )
}

#[tokio::test]
async fn apple_calendar_contacts_and_reminders() {
    let s = Server::start().await;
    let mut cal = Client::new(&s, APPLE_CALENDAR_AGENT, "text/xml");
    cal.user = APPLE_USER;

    // Account setup with only the server name: the well-known URI, then the principal.
    let well_known = cal
        .propfind_raw(
            "/.well-known/caldav",
            "0",
            r#"<?xml version="1.0" encoding="UTF-8"?><A:propfind xmlns:A="DAV:"><A:prop><A:current-user-principal/><A:principal-URL/><A:resourcetype/></A:prop></A:propfind>"#,
        )
        .await;
    assert!(well_known.status.is_redirection(), "{}", well_known.status);
    let root = well_known.header("location").unwrap().to_string();
    let found = cal
        .propfind(
            &root,
            "0",
            r#"<?xml version="1.0" encoding="UTF-8"?><A:propfind xmlns:A="DAV:"><A:prop><A:current-user-principal/><A:principal-URL/><A:resourcetype/></A:prop></A:propfind>"#,
        )
        .await;
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

    let apple_card = include_str!("../../fixtures/vcf/apple_v3.vcf");
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

// ---------------------------------------------------------------------------------------------
// Evolution (evolution-data-server: e-cal-backend-caldav.c, e-book-backend-carddav.c)

const EVOLUTION_AGENT: &str = "Evolution/3.50.3";

const EVOLUTION_CTAG: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<D:propfind xmlns:D="DAV:" xmlns:CS="http://calendarserver.org/ns/"><D:prop><CS:getctag/></D:prop></D:propfind>"#;

fn evolution_query(component: &str, start: &str, end: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?>
<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/></D:prop><C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="{component}"><C:time-range start="{start}" end="{end}"/></C:comp-filter></C:comp-filter></C:filter></C:calendar-query>"#
    )
}

fn evolution_multiget(hrefs: &[String]) -> String {
    let hrefs: String = hrefs
        .iter()
        .map(|h| format!("<D:href>{h}</D:href>"))
        .collect();
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?>
<C:calendar-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/><C:calendar-data/></D:prop>{hrefs}</C:calendar-multiget>"#
    )
}

/// `CALDAV_MAX_MULTIGET_AMOUNT` in the old backend.
const EVOLUTION_BATCH: usize = 100;

#[tokio::test]
async fn evolution() {
    let s = Server::start().await;
    let c = Client::new(&s, EVOLUTION_AGENT, "application/xml; charset=utf-8");

    // 120 events in November (more than one multiget batch), two outside the range.
    let count = 120;
    for i in 0..count {
        let day = 1 + i % 28;
        let r = c
            .put(
                &format!("{CALENDAR}evo-{i:03}.ics"),
                &[("If-None-Match", "*")],
                &event(
                    &format!("evo-{i:03}@example.com"),
                    &format!("Visit {i}"),
                    &format!("202611{day:02}T{:02}0000Z", 8 + i % 9),
                ),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    }
    for (name, start) in [
        ("evo-early", "20261015T090000Z"),
        ("evo-late", "20270110T090000Z"),
    ] {
        c.put(
            &format!("{CALENDAR}{name}.ics"),
            &[("If-None-Match", "*")],
            &event(name, name, start),
        )
        .await;
    }
    c.put(
        &format!("{TASKS}evo-task.ics"),
        &[("If-None-Match", "*")],
        &todo_due("evo-task", "Prepare visit", Some("20261105T120000Z")),
    )
    .await;

    // getctag first; it refreshes only when that changed.
    let ctag_calendar = ctag(&c.propfind(CALENDAR, "0", EVOLUTION_CTAG).await);
    let ctag_tasks = ctag(&c.propfind(TASKS, "0", EVOLUTION_CTAG).await);

    // One calendar-query per component with the time range it keeps in its cache: etags only.
    let range = evolution_query("VEVENT", "20261101T000000Z", "20261201T000000Z");
    let listed = c.report(CALENDAR, "1", &range).await;
    assert_eq!(listed.status, StatusCode::MULTI_STATUS);
    let found = hrefs(&listed);
    assert_eq!(found.len(), count, "{}", listed.body);
    for (_, b) in listed.responses() {
        assert_prop(&b, "getetag", 200);
        assert!(!b.contains("calendar-data"), "etags only: {b}");
    }
    let tasks = c
        .report(
            TASKS,
            "1",
            &evolution_query("VTODO", "20261101T000000Z", "20261201T000000Z"),
        )
        .await;
    assert_eq!(hrefs(&tasks), [format!("{TASKS}evo-task.ics")]);

    // Then the bodies in multiget batches of 100.
    let mut fetched = 0;
    for batch in found.chunks(EVOLUTION_BATCH) {
        let got = c.report(CALENDAR, "1", &evolution_multiget(batch)).await;
        assert_eq!(got.status, StatusCode::MULTI_STATUS);
        assert_eq!(got.responses().len(), batch.len());
        for (_, b) in got.responses() {
            assert_prop(&b, "calendar-data", 200);
        }
        fetched += batch.len();
    }
    assert_eq!(fetched, count);

    // An edit: PUT with If-Match, answered 204 with no body.
    let href = format!("{CALENDAR}evo-007.ics");
    let etag = c.get(&href).await.etag();
    let edited = event(
        "evo-007@example.com",
        "Visit 7 (confirmed)",
        "20261108T150000Z",
    );
    let updated = c.put(&href, &[("If-Match", &etag)], &edited).await;
    assert_eq!(updated.status, StatusCode::NO_CONTENT);
    assert!(updated.body.is_empty(), "{:?}", updated.body);
    assert_ne!(
        ctag(&c.propfind(CALENDAR, "0", EVOLUTION_CTAG).await),
        ctag_calendar
    );
    assert_eq!(
        ctag(&c.propfind(TASKS, "0", EVOLUTION_CTAG).await),
        ctag_tasks,
        "the task list did not change"
    );

    // Old Evolution sends If-None-Match: * for a resource that exists: 412, nothing changed.
    let before = s.log_len();
    let clash = c.put(&href, &[("If-None-Match", "*")], &edited).await;
    assert_eq!(clash.status, StatusCode::PRECONDITION_FAILED);
    assert_eq!(s.log_len(), before);
    assert_eq!(c.get(&href).await.body, edited);

    // Old Evolution creates contacts without a UID: the server assigns one rather than refuse,
    // and gives no ETag because the stored bytes are not the ones sent.
    let no_uid = include_str!("../../fixtures/vcf/no_uid_v3.vcf");
    let card = format!("{CONTACTS}evo-contact.vcf");
    let put = c
        .put(
            &card,
            &[("If-None-Match", "*"), ("Content-Type", "text/vcard")],
            no_uid,
        )
        .await;
    assert_eq!(put.status, StatusCode::CREATED, "{}", put.body);
    assert!(put.header("etag").is_none(), "no ETag for changed bytes");
    let stored = c.get(&card).await;
    assert!(stored.body.contains("\nUID:"), "{}", stored.body);
    assert!(stored.body.contains("FN:Jane Doe"), "{}", stored.body);
    // With the ETag from the GET it can edit the card as usual.
    let edited_card = stored.body.replace("Acme Inc.", "Acme Europe");
    let updated = c
        .put(&card, &[("If-Match", &stored.etag())], &edited_card)
        .await;
    assert_eq!(updated.status, StatusCode::NO_CONTENT, "{}", updated.body);
}
