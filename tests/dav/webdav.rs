//! The plain WebDAV area `/dav/files/`: collections and resources, COPY/MOVE with Overwrite and
//! Depth, dead properties — and every refusal leaves the log untouched.

use crate::common::*;
use reqwest::StatusCode;

/// A request header, and a list of them, for the tables of cases below.
type Header<'a> = (&'a str, &'a str);
type Headers<'a> = &'a [Header<'a>];

async fn mkcol(s: &Server, path: &str) {
    let r = s.send("MKCOL", path, &[], "").await;
    assert_eq!(r.status, StatusCode::CREATED, "MKCOL {path}: {}", r.body);
}

async fn put_text(s: &Server, path: &str, text: &str) -> Reply {
    s.send(
        "PUT",
        path,
        &[("Content-Type", "text/plain")],
        text.to_string(),
    )
    .await
}

#[tokio::test]
async fn mkcol_put_get_delete_of_plain_collections_and_resources() {
    let s = Server::start().await;
    mkcol(&s, "/dav/files/docs/").await;
    mkcol(&s, "/dav/files/docs/sub/").await;

    let created = put_text(&s, "/dav/files/docs/note.txt", "hello\n").await;
    assert_eq!(created.status, StatusCode::CREATED);
    let etag = created.etag();
    let got = s.send("GET", "/dav/files/docs/note.txt", &[], "").await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.body, "hello\n");
    assert_eq!(got.header("content-type"), Some("text/plain"));
    assert_eq!(got.etag(), etag);
    assert!(got.header("last-modified").is_some());
    let cached = s
        .send(
            "GET",
            "/dav/files/docs/note.txt",
            &[("If-None-Match", &etag)],
            "",
        )
        .await;
    assert_eq!(cached.status, StatusCode::NOT_MODIFIED);
    let head = s.send("HEAD", "/dav/files/docs/note.txt", &[], "").await;
    assert_eq!(head.status, StatusCode::OK);
    assert!(head.body.is_empty());

    // Arbitrary bytes and names, kept as sent.
    let r = s
        .send(
            "PUT",
            "/dav/files/docs/res-%e2%82%ac%23x",
            &[],
            vec![0u8, 255, 1],
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let raw = s
        .request("GET", "/dav/files/docs/res-%E2%82%AC%23x")
        .send()
        .await
        .unwrap();
    assert_eq!(raw.bytes().await.unwrap().as_ref(), &[0u8, 255, 1]);

    let replaced = s
        .send(
            "PUT",
            "/dav/files/docs/note.txt",
            &[("If-Match", &etag)],
            "bye\n",
        )
        .await;
    assert_eq!(replaced.status, StatusCode::NO_CONTENT);

    let listing = s.propfind("/dav/files/docs/", "1", "").await;
    assert_eq!(listing.status, StatusCode::MULTI_STATUS);
    let hrefs: Vec<String> = listing.responses().into_iter().map(|(h, _)| h).collect();
    assert_eq!(
        hrefs,
        [
            "/dav/files/docs/",
            "/dav/files/docs/note.txt",
            "/dav/files/docs/res-%E2%82%AC%23x",
            "/dav/files/docs/sub/"
        ]
    );
    assert!(listing.body.contains("<D:collection/>"), "{}", listing.body);
    assert!(
        listing.body.contains("<D:getcontentlength>4<"),
        "{}",
        listing.body
    );

    // Deleting a collection takes everything below it.
    let r = s.send("DELETE", "/dav/files/docs", &[], "").await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    for gone in [
        "/dav/files/docs/note.txt",
        "/dav/files/docs/sub/",
        "/dav/files/docs/",
    ] {
        assert_eq!(
            s.send("GET", gone, &[], "").await.status,
            StatusCode::NOT_FOUND
        );
    }
    assert_replays(&s);
}

#[tokio::test]
async fn refused_plain_requests_say_why_and_change_nothing() {
    let s = Server::start().await;
    mkcol(&s, "/dav/files/docs/").await;
    let etag = put_text(&s, "/dav/files/docs/a.txt", "a").await.etag();
    let before = s.log_len();
    let xml = [("Content-Type", "application/xml")];
    let calendar = "<D:mkcol xmlns:D=\"DAV:\" xmlns:C=\"urn:ietf:params:xml:ns:caldav\"><D:set><D:prop><D:resourcetype><D:collection/><C:calendar/></D:resourcetype></D:prop></D:set></D:mkcol>";
    let cases: Vec<(&str, &str, Headers, &str, StatusCode, &str)> = vec![
        (
            "MKCOL",
            "/dav/files/docs/",
            &[],
            "",
            StatusCode::METHOD_NOT_ALLOWED,
            "exists",
        ),
        (
            "MKCOL",
            "/dav/files/docs/a.txt",
            &[],
            "",
            StatusCode::METHOD_NOT_ALLOWED,
            "exists",
        ),
        (
            "MKCOL",
            "/dav/files/no/such/",
            &[],
            "",
            StatusCode::CONFLICT,
            "MKCOL",
        ),
        (
            "MKCOL",
            "/dav/files/body/",
            &[("Content-Type", "xzy-foo/bar-512")],
            "afafafaf",
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "body",
        ),
        (
            "MKCOL",
            "/dav/files/cal/",
            &xml,
            calendar,
            StatusCode::FORBIDDEN,
            "/dav/calendars/",
        ),
        (
            "PUT",
            "/dav/files/no/a.txt",
            &[],
            "x",
            StatusCode::CONFLICT,
            "create it first",
        ),
        (
            "PUT",
            "/dav/files/docs/",
            &[],
            "x",
            StatusCode::METHOD_NOT_ALLOWED,
            "collection",
        ),
        (
            "PUT",
            "/dav/files/",
            &[],
            "x",
            StatusCode::METHOD_NOT_ALLOWED,
            "collection",
        ),
        (
            "PUT",
            "/dav/files/docs/a.txt",
            &[("If-Match", "\"other\"")],
            "x",
            StatusCode::PRECONDITION_FAILED,
            "version",
        ),
        (
            "PUT",
            "/dav/files/docs/a.txt",
            &[("If-None-Match", "*")],
            "x",
            StatusCode::PRECONDITION_FAILED,
            "exists",
        ),
        (
            "DELETE",
            "/dav/files/docs/nothing",
            &[],
            "",
            StatusCode::NOT_FOUND,
            "nothing",
        ),
        (
            "DELETE",
            "/dav/files/",
            &[],
            "",
            StatusCode::FORBIDDEN,
            "root",
        ),
        (
            "DELETE",
            "/dav/files/docs/a.txt",
            &[("If-Match", "\"stale\"")],
            "",
            StatusCode::PRECONDITION_FAILED,
            "version",
        ),
        (
            "GET",
            "/dav/files/docs//a.txt",
            &[],
            "",
            StatusCode::BAD_REQUEST,
            "empty",
        ),
        (
            "MKCALENDAR",
            "/dav/files/c/",
            &[],
            "",
            StatusCode::FORBIDDEN,
            "MKCOL",
        ),
    ];
    for (method, path, headers, body, status, marker) in cases {
        let r = s.send(method, path, headers, body.to_string()).await;
        assert_eq!(r.status, status, "{method} {path}: {}", r.body);
        assert!(r.body.contains(marker), "{method} {path}: {}", r.body);
    }
    let huge = "X".repeat(tandem::dav::MAX_BODY + 1);
    let r = put_text(&s, "/dav/files/docs/huge.txt", &huge).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(s.log_len(), before, "nothing was appended");
    let still = s.send("GET", "/dav/files/docs/a.txt", &[], "").await;
    assert_eq!((still.body.as_str(), still.etag()), ("a", etag));
}

#[tokio::test]
async fn copy_and_move_follow_overwrite_and_depth() {
    let s = Server::start().await;
    let dest = |path: &str| format!("{}{path}", s.base);
    mkcol(&s, "/dav/files/src/").await;
    put_text(&s, "/dav/files/src/a.txt", "a").await;
    mkcol(&s, "/dav/files/src/sub/").await;
    put_text(&s, "/dav/files/src/sub/b.txt", "b").await;
    put_text(&s, "/dav/files/one.txt", "one").await;
    put_text(&s, "/dav/files/two.txt", "two").await;

    // A resource: 201 when new, 412 with Overwrite: F, 204 when replacing.
    let r = s
        .send(
            "COPY",
            "/dav/files/one.txt",
            &[("Destination", &dest("/dav/files/copy.txt"))],
            "",
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let before = s.log_len();
    let r = s
        .send(
            "COPY",
            "/dav/files/two.txt",
            &[
                ("Destination", &dest("/dav/files/copy.txt")),
                ("Overwrite", "F"),
            ],
            "",
        )
        .await;
    assert_eq!(r.status, StatusCode::PRECONDITION_FAILED);
    assert_eq!(s.log_len(), before);
    // An absolute path is a Destination too (RFC 4918 §10.3).
    let r = s
        .send(
            "COPY",
            "/dav/files/two.txt",
            &[("Destination", "/dav/files/copy.txt")],
            "",
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(
        s.send("GET", "/dav/files/copy.txt", &[], "").await.body,
        "two"
    );

    // Depth 0 copies the collection without its members; infinity copies the tree.
    let r = s
        .send(
            "COPY",
            "/dav/files/src/",
            &[
                ("Destination", &dest("/dav/files/shallow/")),
                ("Depth", "0"),
            ],
            "",
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(
        s.send("GET", "/dav/files/shallow/a.txt", &[], "")
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let r = s
        .send(
            "COPY",
            "/dav/files/src/",
            &[("Destination", &dest("/dav/files/deep/"))],
            "",
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(
        s.send("GET", "/dav/files/deep/sub/b.txt", &[], "")
            .await
            .body,
        "b"
    );
    assert_eq!(
        s.send("GET", "/dav/files/src/sub/b.txt", &[], "")
            .await
            .body,
        "b"
    );

    // MOVE takes the tree away from the source.
    let r = s
        .send(
            "MOVE",
            "/dav/files/src",
            &[("Destination", &dest("/dav/files/moved/"))],
            "",
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(
        s.send("GET", "/dav/files/src/a.txt", &[], "").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        s.send("GET", "/dav/files/moved/sub/b.txt", &[], "")
            .await
            .body,
        "b"
    );

    // A resource over a collection, and a collection over a resource, with Overwrite: T.
    let r = s
        .send(
            "MOVE",
            "/dav/files/one.txt",
            &[("Destination", &dest("/dav/files/shallow/"))],
            "",
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(
        s.send("GET", "/dav/files/shallow", &[], "").await.body,
        "one"
    );
    let r = s
        .send(
            "MOVE",
            "/dav/files/deep/",
            &[("Destination", &dest("/dav/files/two.txt"))],
            "",
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(
        s.send("GET", "/dav/files/two.txt/a.txt", &[], "")
            .await
            .body,
        "a"
    );
    assert_replays(&s);
}

#[tokio::test]
async fn broken_copy_and_move_requests_are_refused_and_change_nothing() {
    let s = Server::start().await;
    let dest = |path: &str| format!("{}{path}", s.base);
    mkcol(&s, "/dav/files/src/").await;
    put_text(&s, "/dav/files/src/a.txt", "a").await;
    put_text(&s, "/dav/files/b.txt", "b").await;
    put_text(
        &s,
        &format!("{CALENDAR}e.ics"),
        &event("e", "E", "20261123T090000Z"),
    )
    .await;
    let before = s.log_len();
    let here = dest("/dav/files/x");
    let elsewhere = "http://elsewhere.example:80/dav/files/x".to_string();
    let itself = dest("/dav/files/src/");
    let inside = dest("/dav/files/src/sub/");
    let calendar = dest(&format!("{CALENDAR}x.ics"));
    let no_parent = dest("/dav/files/no/x");
    let b = dest("/dav/files/b.txt");
    let cases: Vec<(&str, String, Vec<Header>, StatusCode, &str)> = vec![
        (
            "COPY",
            "/dav/files/src/".into(),
            vec![],
            StatusCode::BAD_REQUEST,
            "Destination",
        ),
        (
            "MOVE",
            "/dav/files/src/".into(),
            vec![("Destination", &elsewhere)],
            StatusCode::BAD_GATEWAY,
            "another server",
        ),
        (
            "COPY",
            "/dav/files/src/".into(),
            vec![("Destination", &itself)],
            StatusCode::FORBIDDEN,
            "itself",
        ),
        (
            "MOVE",
            "/dav/files/src".into(),
            vec![("Destination", &itself)],
            StatusCode::FORBIDDEN,
            "itself",
        ),
        (
            "COPY",
            "/dav/files/src/".into(),
            vec![("Destination", &inside)],
            StatusCode::FORBIDDEN,
            "outside the source",
        ),
        (
            "COPY",
            "/dav/files/b.txt".into(),
            vec![("Destination", &calendar)],
            StatusCode::FORBIDDEN,
            "outside /dav/files/",
        ),
        (
            "COPY",
            "/dav/files/b.txt".into(),
            vec![("Destination", &no_parent)],
            StatusCode::CONFLICT,
            "MKCOL",
        ),
        (
            "COPY",
            "/dav/files/b.txt".into(),
            vec![("Destination", &here), ("Overwrite", "maybe")],
            StatusCode::BAD_REQUEST,
            "Overwrite",
        ),
        (
            "COPY",
            "/dav/files/src/".into(),
            vec![("Destination", &here), ("Depth", "1")],
            StatusCode::BAD_REQUEST,
            "Depth",
        ),
        (
            "MOVE",
            "/dav/files/src/".into(),
            vec![("Destination", &here), ("Depth", "0")],
            StatusCode::BAD_REQUEST,
            "Depth infinity",
        ),
        (
            "MOVE",
            "/dav/files/src/a.txt".into(),
            vec![("Destination", &b), ("Overwrite", "F")],
            StatusCode::PRECONDITION_FAILED,
            "Overwrite",
        ),
        (
            "COPY",
            "/dav/files/none".into(),
            vec![("Destination", &here)],
            StatusCode::NOT_FOUND,
            "nothing",
        ),
        (
            "COPY",
            "/dav/files/".into(),
            vec![("Destination", &here)],
            StatusCode::FORBIDDEN,
            "root",
        ),
        (
            "COPY",
            "/dav/files/b.txt".into(),
            vec![("Destination", "not a uri")],
            StatusCode::BAD_REQUEST,
            "URI",
        ),
        (
            "COPY",
            "/dav/files/b.txt".into(),
            vec![("Destination", "/dav/files/../etc")],
            StatusCode::BAD_REQUEST,
            "..",
        ),
        (
            "COPY",
            format!("{CALENDAR}e.ics"),
            vec![("Destination", &here)],
            StatusCode::FORBIDDEN,
            "PUT it in the other collection",
        ),
        (
            "MOVE",
            CONTACTS.into(),
            vec![("Destination", &here)],
            StatusCode::FORBIDDEN,
            "/dav/files/ only",
        ),
    ];
    for (method, path, headers, status, marker) in cases {
        let r = s.send(method, &path, &headers, "").await;
        assert_eq!(r.status, status, "{method} {path} {headers:?}: {}", r.body);
        assert!(r.body.contains(marker), "{method} {path}: {}", r.body);
    }
    assert_eq!(s.log_len(), before, "nothing was appended");
    assert_eq!(
        s.send("GET", "/dav/files/src/a.txt", &[], "").await.body,
        "a"
    );
}

fn proppatch(set: &str, remove: &str) -> String {
    let mut body = String::from(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><D:propertyupdate xmlns:D=\"DAV:\" xmlns:Z=\"urn:z\">",
    );
    if !remove.is_empty() {
        body.push_str(&format!("<D:remove><D:prop>{remove}</D:prop></D:remove>"));
    }
    if !set.is_empty() {
        body.push_str(&format!("<D:set><D:prop>{set}</D:prop></D:set>"));
    }
    body.push_str("</D:propertyupdate>");
    body
}

#[tokio::test]
async fn dead_properties_are_set_removed_copied_and_moved() {
    let s = Server::start().await;
    put_text(&s, "/dav/files/p.txt", "p").await;
    let set = "<Z:color>blue</Z:color><Z:tree><x xmlns=\"urn:other\">1</x></Z:tree><plain xmlns=\"\">no namespace</plain><Z:high>&#65536;</Z:high>";
    let r = s
        .send("PROPPATCH", "/dav/files/p.txt", &[], proppatch(set, ""))
        .await;
    assert_eq!(r.status, StatusCode::MULTI_STATUS);
    assert_eq!(r.body.matches("HTTP/1.1 200 OK").count(), 1, "{}", r.body);
    let ask = "<D:propfind xmlns:D=\"DAV:\" xmlns:Z=\"urn:z\"><D:prop><Z:color/><Z:tree/><plain xmlns=\"\"/><Z:high/><Z:missing/></D:prop></D:propfind>";
    let found = s.propfind("/dav/files/p.txt", "0", ask).await;
    assert!(found.body.contains(">blue<"), "{}", found.body);
    assert!(found.body.contains("urn:other"), "{}", found.body);
    assert!(found.body.contains(">no namespace<"), "{}", found.body);
    assert!(found.body.contains("\u{10000}"), "{}", found.body);
    assert!(found.body.contains("404"), "{}", found.body);

    // Document order: remove then set keeps the last set; set then remove removes.
    let r = s
        .send(
            "PROPPATCH",
            "/dav/files/p.txt",
            &[],
            proppatch("<Z:color>green</Z:color>", "<Z:color/>"),
        )
        .await;
    assert_eq!(r.status, StatusCode::MULTI_STATUS);
    let ordered = "<D:propertyupdate xmlns:D=\"DAV:\" xmlns:Z=\"urn:z\"><D:set><D:prop><Z:tree>x</Z:tree></D:prop></D:set><D:remove><D:prop><Z:tree/></D:prop></D:remove></D:propertyupdate>";
    let r = s.send("PROPPATCH", "/dav/files/p.txt", &[], ordered).await;
    assert_eq!(r.status, StatusCode::MULTI_STATUS);

    // A protected property fails the whole request: 403 for it, 424 for the others.
    let before = s.log_len();
    let r = s
        .send(
            "PROPPATCH",
            "/dav/files/p.txt",
            &[],
            proppatch("<Z:color>red</Z:color><D:getetag>x</D:getetag>", ""),
        )
        .await;
    assert_eq!(r.status, StatusCode::MULTI_STATUS);
    assert!(
        r.body.contains("403") && r.body.contains("424"),
        "{}",
        r.body
    );
    assert!(
        r.body.contains("cannot-modify-protected-property"),
        "{}",
        r.body
    );
    for (path, body, status) in [
        (
            "/dav/files/none",
            proppatch("<Z:a>1</Z:a>", ""),
            StatusCode::NOT_FOUND,
        ),
        (
            "/dav/files/",
            proppatch("<Z:a>1</Z:a>", ""),
            StatusCode::FORBIDDEN,
        ),
        (
            "/dav/files/p.txt",
            "<D:propertyupdate".to_string(),
            StatusCode::BAD_REQUEST,
        ),
    ] {
        let r = s.send("PROPPATCH", path, &[], body).await;
        assert_eq!(r.status, status, "{path}: {}", r.body);
    }
    assert_eq!(s.log_len(), before, "refusals appended nothing");

    // Dead properties travel with COPY and MOVE, and allprop lists them.
    let dest = format!("{}/dav/files/q.txt", s.base);
    let r = s
        .send("MOVE", "/dav/files/p.txt", &[("Destination", &dest)], "")
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let all = s
        .propfind(
            "/dav/files/q.txt",
            "0",
            "<D:propfind xmlns:D=\"DAV:\"><D:allprop/></D:propfind>",
        )
        .await;
    assert!(all.body.contains(">green<"), "{}", all.body);
    assert!(!all.body.contains("tree"), "removed: {}", all.body);
    assert!(all.body.contains("getetag"), "{}", all.body);
    // Props on a collection too.
    mkcol(&s, "/dav/files/c/").await;
    let r = s
        .send(
            "PROPPATCH",
            "/dav/files/c/",
            &[],
            proppatch("<Z:color>c</Z:color>", ""),
        )
        .await;
    assert_eq!(r.status, StatusCode::MULTI_STATUS);
    let found = s
        .propfind("/dav/files/c", "0", "<D:propfind xmlns:D=\"DAV:\" xmlns:Z=\"urn:z\"><D:prop><Z:color/></D:prop></D:propfind>")
        .await;
    assert!(found.body.contains(">c<"), "{}", found.body);
    assert_replays(&s);
}
