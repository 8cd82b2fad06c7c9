//! Evolution (evolution-data-server: e-cal-backend-caldav.c, e-book-backend-carddav.c): its
//! request sequence, replayed with its headers and the bodies in `fixtures/dav/evolution/`.

use super::*;

const EVOLUTION_AGENT: &str = "Evolution/3.50.3";

const EVOLUTION_CTAG: &str = include_str!("../../../fixtures/dav/evolution/propfind_getctag.xml");
const EVOLUTION_EVENTS_QUERY: &str =
    include_str!("../../../fixtures/dav/evolution/calendar_query_vevent.xml");
const EVOLUTION_TASKS_QUERY: &str =
    include_str!("../../../fixtures/dav/evolution/calendar_query_vtodo.xml");
const EVOLUTION_MULTIGET: &str =
    include_str!("../../../fixtures/dav/evolution/calendar_multiget.xml");

fn evolution_multiget(hrefs: &[String]) -> String {
    fill(
        EVOLUTION_MULTIGET,
        "hrefs",
        &each_href(hrefs, "<D:href>{href}</D:href>"),
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
    let listed = c.report(CALENDAR, "1", EVOLUTION_EVENTS_QUERY).await;
    assert_eq!(listed.status, StatusCode::MULTI_STATUS);
    let found = hrefs(&listed);
    assert_eq!(found.len(), count, "{}", listed.body);
    for (_, b) in listed.responses() {
        assert_prop(&b, "getetag", 200);
        assert!(!b.contains("calendar-data"), "etags only: {b}");
    }
    let tasks = c.report(TASKS, "1", EVOLUTION_TASKS_QUERY).await;
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
    let no_uid = include_str!("../../../fixtures/vcf/no_uid_v3.vcf");
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
