//! Members: the client's bytes are stored and served back verbatim, the ETag derives from them,
//! and If-Match / If-None-Match are enforced strictly.

use crate::common::*;
use reqwest::StatusCode;

#[tokio::test]
async fn put_get_update_delete_with_strict_conditions() {
    let s = Server::start().await;
    let href = format!("{CALENDAR}review.ics");
    let body = event("review-1", "Quarterly review", "20261123T090000Z");

    let created = s
        .put(
            &href,
            &[("If-None-Match", "*"), ("Content-Type", "text/calendar")],
            &body,
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let etag = created.etag();

    let got = s.send("GET", &href, &[], "").await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.body, body, "the client's bytes come back verbatim");
    assert_eq!(got.etag(), etag);
    assert!(
        got.header("content-type")
            .unwrap()
            .starts_with("text/calendar")
    );
    let not_modified = s.send("GET", &href, &[("If-None-Match", &etag)], "").await;
    assert_eq!(not_modified.status, StatusCode::NOT_MODIFIED);

    // Creating again over it is refused; so is an update against a stale ETag.
    let before = s.log_len();
    let again = s.put(&href, &[("If-None-Match", "*")], &body).await;
    assert_eq!(again.status, StatusCode::PRECONDITION_FAILED);
    let stale = s
        .put(
            &href,
            &[("If-Match", "\"0123\"")],
            &event("review-1", "Overwrite", "20261123T090000Z"),
        )
        .await;
    assert_eq!(stale.status, StatusCode::PRECONDITION_FAILED);
    assert_eq!(s.log_len(), before, "refused writes change nothing");

    let changed = event("review-1", "Quarterly review (moved)", "20261124T090000Z");
    let updated = s.put(&href, &[("If-Match", &etag)], &changed).await;
    assert_eq!(updated.status, StatusCode::NO_CONTENT);
    let new_etag = updated.etag();
    assert_ne!(new_etag, etag);
    assert_eq!(s.send("GET", &href, &[], "").await.body, changed);

    // If-Match: * needs the resource to exist.
    let missing = s
        .put(
            &format!("{CALENDAR}nope.ics"),
            &[("If-Match", "*")],
            &event("n", "N", "20261123T090000Z"),
        )
        .await;
    assert_eq!(missing.status, StatusCode::PRECONDITION_FAILED);

    let wrong = s.send("DELETE", &href, &[("If-Match", &etag)], "").await;
    assert_eq!(
        wrong.status,
        StatusCode::PRECONDITION_FAILED,
        "the old ETag no longer matches"
    );
    let deleted = s
        .send("DELETE", &href, &[("If-Match", &new_etag)], "")
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert_eq!(
        s.send("GET", &href, &[], "").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        s.send("DELETE", &href, &[], "").await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_uid_lives_once_per_collection() {
    let s = Server::start().await;
    let body = event("same-uid", "One", "20261123T090000Z");
    assert_eq!(
        s.put(&format!("{CALENDAR}a.ics"), &[], &body).await.status,
        StatusCode::CREATED
    );
    let before = s.log_len();
    let clash = s.put(&format!("{CALENDAR}b.ics"), &[], &body).await;
    assert_eq!(clash.status, StatusCode::FORBIDDEN);
    assert!(clash.body.contains("no-uid-conflict"), "{}", clash.body);
    assert!(
        clash
            .body
            .contains(&format!("<D:href>{CALENDAR}a.ics</D:href>")),
        "names the holder: {}",
        clash.body
    );
    assert_eq!(s.log_len(), before);
    // A UID freed by a delete can be taken by another member, and stays that member's when
    // the deleted one is made again with a UID of its own.
    let a = format!("{CALENDAR}a.ics");
    assert_eq!(
        s.send("DELETE", &a, &[], "").await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        s.put(&format!("{CALENDAR}b.ics"), &[], &body).await.status,
        StatusCode::CREATED
    );
    let other = event("another-uid", "Two", "20261124T090000Z");
    assert_eq!(s.put(&a, &[], &other).await.status, StatusCode::CREATED);
    let third = s.put(&format!("{CALENDAR}c.ics"), &[], &body).await;
    assert_eq!(third.status, StatusCode::FORBIDDEN, "{}", third.body);
    assert!(
        third
            .body
            .contains(&format!("<D:href>{CALENDAR}b.ics</D:href>")),
        "names the holder: {}",
        third.body
    );
    // Another calendar may hold the same UID.
    s.send("MKCALENDAR", "/dav/calendars/other/", &[], "").await;
    assert_eq!(
        s.put("/dav/calendars/other/b.ics", &[], &body).await.status,
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn tasks_go_to_the_task_list_and_cards_to_the_address_book() {
    let s = Server::start().await;
    let task = todo("call-back", "Call Ana back");
    let wrong = s.put(&format!("{CALENDAR}t.ics"), &[], &task).await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    assert!(
        wrong.body.contains("supported-calendar-component"),
        "{}",
        wrong.body
    );
    assert_eq!(
        s.put(&format!("{TASKS}t.ics"), &[], &task).await.status,
        StatusCode::CREATED
    );

    let with_uid = s
        .put(
            &format!("{CONTACTS}ana.vcf"),
            &[],
            &card(Some("ana-1"), "Lima"),
        )
        .await;
    assert_eq!(with_uid.status, StatusCode::CREATED);
    assert!(with_uid.header("etag").is_some());

    // A card without a UID gets one; since the stored bytes differ from the client's, the
    // response carries no ETag and the client reads the card back.
    let without = s
        .put(&format!("{CONTACTS}bo.vcf"), &[], &card(None, "Bo"))
        .await;
    assert_eq!(without.status, StatusCode::CREATED);
    assert!(without.header("etag").is_none());
    let stored = s.send("GET", &format!("{CONTACTS}bo.vcf"), &[], "").await;
    assert!(stored.body.contains("UID:"), "{}", stored.body);
    assert!(stored.body.contains("FN:Ana Bo"));
}

#[tokio::test]
async fn the_whole_calendar_is_one_icalendar_feed_with_etag() {
    let s = Server::start().await;
    s.put(
        &format!("{CALENDAR}a.ics"),
        &[],
        &event("a", "First", "20261123T090000Z"),
    )
    .await;
    s.put(
        &format!("{CALENDAR}b.ics"),
        &[],
        &event("b", "Second", "20261124T090000Z"),
    )
    .await;
    let feed = s.send("GET", CALENDAR, &[], "").await;
    assert_eq!(feed.status, StatusCode::OK);
    assert!(
        feed.header("content-type")
            .unwrap()
            .starts_with("text/calendar")
    );
    assert_eq!(feed.body.matches("BEGIN:VCALENDAR").count(), 1);
    assert_eq!(feed.body.matches("BEGIN:VEVENT").count(), 2);
    let etag = feed.etag();
    assert_eq!(
        s.send("GET", CALENDAR, &[("If-None-Match", &etag)], "")
            .await
            .status,
        StatusCode::NOT_MODIFIED
    );
    s.put(
        &format!("{CALENDAR}c.ics"),
        &[],
        &event("c", "Third", "20261125T090000Z"),
    )
    .await;
    let changed = s
        .send("GET", CALENDAR, &[("If-None-Match", &etag)], "")
        .await;
    assert_eq!(
        changed.status,
        StatusCode::OK,
        "a new event changes the feed's ETag"
    );
    assert_eq!(changed.body.matches("BEGIN:VEVENT").count(), 3);
    let deleted = s.send("DELETE", &format!("{CALENDAR}b.ics"), &[], "").await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    let after = s.send("GET", CALENDAR, &[], "").await;
    assert_eq!(after.body.matches("BEGIN:VEVENT").count(), 2);
    assert!(
        !after.body.contains("Second"),
        "a deleted event leaves the feed: {}",
        after.body
    );

    s.put(&format!("{CONTACTS}a.vcf"), &[], &card(Some("a"), "A"))
        .await;
    s.put(&format!("{CONTACTS}b.vcf"), &[], &card(Some("b"), "B"))
        .await;
    let cards = s.send("GET", CONTACTS, &[], "").await;
    assert!(
        cards
            .header("content-type")
            .unwrap()
            .starts_with("text/vcard")
    );
    assert_eq!(cards.body.matches("BEGIN:VCARD").count(), 2);
}

#[tokio::test]
async fn a_vcard_2_1_in_a_legacy_charset_is_read_by_its_charset_and_served_as_sent() {
    let s = Server::start().await;
    // What Outlook exports: vCard 2.1, Windows-1252 bytes, a quoted-printable address.
    let card: &[u8] = b"BEGIN:VCARD\r\nVERSION:2.1\r\nN;CHARSET=Windows-1252:M\xFCller;J\xFCrgen\r\nFN;CHARSET=Windows-1252:J\xFCrgen M\xFCller\r\nADR;WORK;CHARSET=Windows-1252;ENCODING=QUOTED-PRINTABLE:;;Stra=DFe 1;K=F6ln\r\nUID:legacy-1\r\nEND:VCARD\r\n";
    let href = format!("{CONTACTS}legacy.vcf");
    let created = s
        .send("PUT", &href, &[("Content-Type", "text/x-vcard")], card)
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);

    let got = s.request("GET", &href).send().await.unwrap();
    assert_eq!(
        got.headers()["content-type"],
        "text/vcard",
        "no claim that the card is UTF-8"
    );
    assert_eq!(
        got.bytes().await.unwrap(),
        card,
        "served back byte for byte"
    );

    // Searched and reported as the names they are.
    let r = s
        .report(
            CONTACTS,
            "1",
            r#"<CR:addressbook-query xmlns:D="DAV:" xmlns:CR="urn:ietf:params:xml:ns:carddav"><D:prop><CR:address-data/></D:prop><CR:filter><CR:prop-filter name="FN"><CR:text-match collation="i;unicode-casemap" match-type="contains">jürgen</CR:text-match></CR:prop-filter></CR:filter></CR:addressbook-query>"#,
        )
        .await;
    let responses = r.responses();
    assert_eq!(responses.len(), 1, "{}", r.body);
    assert!(responses[0].1.contains("FN:Jürgen Müller"), "{}", r.body);
    // Still quoted-printable, now of UTF-8 bytes: "Straße 1", "Köln".
    assert!(
        responses[0]
            .1
            .contains("CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:;;Stra=C3=9Fe 1;K=C3=B6ln"),
        "{}",
        r.body
    );
}

#[tokio::test]
async fn a_body_in_the_charset_its_content_type_names_is_taken_in_as_utf8() {
    let s = Server::start().await;
    let card: &[u8] =
        b"BEGIN:VCARD\r\nVERSION:3.0\r\nUID:latin-1\r\nFN:Ren\xE9e Dupr\xE9\r\nN:Dupr\xE9;Ren\xE9e;;;\r\nEND:VCARD\r\n";
    let href = format!("{CONTACTS}latin.vcf");
    let created = s
        .send(
            "PUT",
            &href,
            &[("Content-Type", "text/vcard; charset=iso-8859-1")],
            card,
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let got = s.send("GET", &href, &[], "").await;
    assert!(got.body.contains("FN:Renée Dupré\r\n"), "{}", got.body);
}

#[tokio::test]
async fn a_charset_tandem_cannot_read_is_named_and_nothing_is_stored() {
    let s = Server::start().await;
    let before = s.log_len();
    // Headers, the card, the answer, and the words it must say.
    type Case<'a> = (
        &'a [(&'a str, &'a str)],
        &'a [u8],
        StatusCode,
        &'a [&'a str],
    );
    let cases: [Case; 3] = [
        // A line's charset nobody knows.
        (
            &[],
            b"BEGIN:VCARD\r\nVERSION:2.1\r\nUID:odd\r\nFN;CHARSET=X-KLINGON:\xFF\r\nEND:VCARD\r\n",
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            &["X-KLINGON"],
        ),
        // The body's.
        (
            &[("Content-Type", "text/vcard; charset=x-klingon")],
            b"BEGIN:VCARD\r\nVERSION:3.0\r\nUID:odd\r\nFN:\xFF\r\nEND:VCARD\r\n",
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            &["x-klingon"],
        ),
        // Undeclared bytes that are not UTF-8: the line, and how to say the charset.
        (
            &[],
            b"BEGIN:VCARD\r\nVERSION:2.1\r\nUID:odd\r\nFN:\xFF\r\nEND:VCARD\r\n",
            StatusCode::FORBIDDEN,
            &["line 4", "CHARSET"],
        ),
    ];
    for (headers, card, status, named) in cases {
        let reply = s
            .send("PUT", &format!("{CONTACTS}odd.vcf"), headers, card)
            .await;
        assert_eq!(reply.status, status, "{}", reply.body);
        for word in named {
            assert!(reply.body.contains(word), "{word}: {}", reply.body);
        }
    }
    assert_eq!(s.log_len(), before, "nothing stored");
}

#[tokio::test]
async fn every_card_and_calendar_of_the_fixtures_comes_back_byte_for_byte() {
    let s = Server::start().await;
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut checked = 0;
    for (dir, collection) in [("vcf", CONTACTS), ("ics", CALENDAR)] {
        let mut files: Vec<_> = std::fs::read_dir(root.join(dir))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        for file in files {
            let bytes = std::fs::read(&file).unwrap();
            let name = file.file_name().unwrap().to_string_lossy().to_string();
            let collection = if bytes.windows(12).any(|w| w == b"BEGIN:VTODO\r") {
                TASKS
            } else {
                collection
            };
            let href = format!("{collection}{name}");
            let put = s.send("PUT", &href, &[], bytes.clone()).await;
            assert!(
                put.status.is_success(),
                "{name}: {} {}",
                put.status,
                put.body
            );
            let got = s.request("GET", &href).send().await.unwrap();
            let served = got.bytes().await.unwrap();
            // A card without a UID is given one (Evolution); every other byte is the client's.
            let without_added_uid: Vec<u8> = served
                .split_inclusive(|&b| b == b'\n')
                .filter(|line| !line.starts_with(b"UID:tandem-"))
                .flatten()
                .copied()
                .collect();
            assert!(without_added_uid == bytes, "{name} changed");
            checked += 1;
        }
    }
    assert!(checked >= 10, "{checked} fixtures");
}
