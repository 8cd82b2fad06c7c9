//! Thunderbird (calendar/providers/caldav/CalDavCalendar.sys.mjs, CalDavDetector): its request
//! sequence, replayed with its headers and the bodies in `fixtures/dav/thunderbird/`.

use super::*;

const TB_AGENT: &str =
    "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Thunderbird/128.5.0";

const TB_DISCOVERY: &str = include_str!("../../../fixtures/dav/thunderbird/propfind_discovery.xml");
const TB_HOME_SET: &str =
    include_str!("../../../fixtures/dav/thunderbird/propfind_calendar_home_set.xml");
const TB_HOME_LIST: &str = include_str!("../../../fixtures/dav/thunderbird/propfind_calendars.xml");
/// Also sent by the Apple sequence.
pub(super) const TB_CTAG: &str =
    include_str!("../../../fixtures/dav/thunderbird/propfind_getctag.xml");
const TB_ETAGS: &str = include_str!("../../../fixtures/dav/thunderbird/propfind_etags.xml");
const TB_SYNC_INITIAL: &str =
    include_str!("../../../fixtures/dav/thunderbird/sync_collection_initial.xml");
const TB_SYNC: &str = include_str!("../../../fixtures/dav/thunderbird/sync_collection.xml");
const TB_MULTIGET: &str = include_str!("../../../fixtures/dav/thunderbird/calendar_multiget.xml");

fn tb_sync(token: &str) -> String {
    if token.is_empty() {
        TB_SYNC_INITIAL.to_string()
    } else {
        fill(TB_SYNC, "token", token)
    }
}

/// Also sent by the Apple sequence.
pub(super) fn tb_multiget(hrefs: &[String]) -> String {
    fill(
        TB_MULTIGET,
        "hrefs",
        &each_href(hrefs, "<D:href>{href}</D:href>"),
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
