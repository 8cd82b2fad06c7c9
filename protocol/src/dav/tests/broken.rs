//! Broken and hostile bodies: each must fail with its specific error, never panic.

use super::super::*;
use super::bodies::*;
use super::limits;

type Parser = fn(&[u8], &Limits) -> Result<(), XmlError>;

/// Every public parser, erased to `Result<(), XmlError>`.
pub(super) const PARSERS: &[(&str, Parser)] = &[
    ("propfind", |b, l| parse_propfind(b, l).map(drop)),
    ("proppatch", |b, l| parse_proppatch(b, l).map(drop)),
    ("mkcol", |b, l| parse_mkcol(b, l).map(drop)),
    ("mkcalendar", |b, l| parse_mkcalendar(b, l).map(drop)),
    ("report", |b, l| parse_report(b, l).map(drop)),
    ("calendar-query", |b, l| {
        parse_calendar_query(b, l).map(drop)
    }),
    ("calendar-multiget", |b, l| {
        parse_calendar_multiget(b, l).map(drop)
    }),
    ("free-busy-query", |b, l| {
        parse_free_busy_query(b, l).map(drop)
    }),
    ("addressbook-query", |b, l| {
        parse_addressbook_query(b, l).map(drop)
    }),
    ("addressbook-multiget", |b, l| {
        parse_addressbook_multiget(b, l).map(drop)
    }),
    ("sync-collection", |b, l| {
        parse_sync_collection(b, l).map(drop)
    }),
    ("xml-value", |b, l| match std::str::from_utf8(b) {
        Ok(s) => XmlValue::from_xml(s, l).map(drop),
        Err(_) => Ok(()),
    }),
];

fn all_fail_with(body: &[u8], check: impl Fn(&XmlError) -> bool) {
    for (name, parse) in PARSERS {
        if *name == "xml-value" {
            continue;
        }
        match parse(body, &limits()) {
            Err(e) if check(&e) => {}
            other => panic!(
                "{name}: unexpected {other:?} for {:?}",
                String::from_utf8_lossy(body)
            ),
        }
    }
}

#[test]
fn truncated_bodies() {
    for cut in [40, 120, TB_CALENDAR_MULTIGET.len() - 5] {
        let body = &TB_CALENDAR_MULTIGET.as_bytes()[..cut];
        let err = parse_report(body, &limits()).unwrap_err();
        assert!(
            matches!(err, XmlError::Malformed { .. }),
            "cut {cut}: {err:?}"
        );
        assert_eq!(err.status(), 400);
    }
    let err = parse_report(
        &TB_CALENDAR_MULTIGET.as_bytes()[..TB_CALENDAR_MULTIGET.len() - 5],
        &limits(),
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("truncated") || err.to_string().contains("not well-formed"),
        "{err}"
    );
}

#[test]
fn mismatched_end_tag() {
    all_fail_with(b"<D:propfind xmlns:D='DAV:'><D:prop></D:propfind>", |e| {
        matches!(e, XmlError::Malformed { .. })
    });
}

#[test]
fn undeclared_prefix() {
    all_fail_with(
        b"<D:propfind><D:prop/></D:propfind>",
        |e| matches!(e, XmlError::UndeclaredPrefix { prefix } if prefix == "D"),
    );
    let err = parse_propfind(
        b"<propfind xmlns='DAV:'><prop><C:calendar-data/></prop></propfind>",
        &limits(),
    )
    .unwrap_err();
    assert_eq!(err, XmlError::UndeclaredPrefix { prefix: "C".into() });
    assert!(err.to_string().contains("xmlns:C="));
    let err = parse_propfind(b"<propfind xmlns='DAV:' x:a='1'/>", &limits()).unwrap_err();
    assert_eq!(err, XmlError::UndeclaredPrefix { prefix: "x".into() });
}

#[test]
fn doctype_and_entities_are_refused() {
    let billion_laughs = br#"<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<D:propfind xmlns:D="DAV:"><D:prop><D:displayname>&lol2;</D:displayname></D:prop></D:propfind>"#;
    all_fail_with(billion_laughs, |e| *e == XmlError::DocType);
    let xxe = br#"<!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><propfind xmlns="DAV:"><prop>&xxe;</prop></propfind>"#;
    all_fail_with(xxe, |e| *e == XmlError::DocType);
    let undefined =
        br#"<propfind xmlns="DAV:"><prop><displayname>&xxe;</displayname></prop></propfind>"#;
    all_fail_with(undefined, |e| *e == XmlError::UnknownEntity("xxe".into()));
}

#[test]
fn too_deep() {
    let depth = 200;
    let mut body = String::from("<propfind xmlns='DAV:'>");
    body.push_str(&"<a>".repeat(depth));
    body.push_str(&"</a>".repeat(depth));
    body.push_str("</propfind>");
    all_fail_with(body.as_bytes(), |e| *e == XmlError::TooDeep { max: 64 });
    // 64 levels (root included) is still fine.
    let mut ok = String::from("<propfind xmlns='DAV:'>");
    ok.push_str(&"<a>".repeat(63));
    ok.push_str(&"</a>".repeat(63));
    ok.push_str("</propfind>");
    assert!(parse_propfind(ok.as_bytes(), &limits()).is_ok());
}

#[test]
fn deeply_nested_comp_filters_are_bounded() {
    let mut body =
        String::from(r#"<C:calendar-query xmlns:C="urn:ietf:params:xml:ns:caldav"><C:filter>"#);
    body.push_str(&r#"<C:comp-filter name="X">"#.repeat(10_000));
    let err = parse_calendar_query(body.as_bytes(), &limits()).unwrap_err();
    assert_eq!(err, XmlError::TooDeep { max: 64 });
}

#[test]
fn too_many_elements() {
    let small = Limits {
        max_elements: 100,
        ..Limits::default()
    };
    let mut body = String::from(
        "<C:calendar-multiget xmlns:C='urn:ietf:params:xml:ns:caldav' xmlns:D='DAV:'>",
    );
    for i in 0..150 {
        body.push_str(&format!("<D:href>/c/{i}.ics</D:href>"));
    }
    body.push_str("</C:calendar-multiget>");
    let err = parse_report(body.as_bytes(), &small).unwrap_err();
    assert_eq!(err, XmlError::TooManyElements { max: 100 });
    assert_eq!(err.status(), 413);
    assert!(parse_report(body.as_bytes(), &limits()).is_ok());
}

#[test]
fn too_large() {
    let small = Limits {
        max_body_bytes: 64,
        ..Limits::default()
    };
    let err = parse_propfind(TB_CTAG_PROPFIND.as_bytes(), &small).unwrap_err();
    assert!(matches!(err, XmlError::TooLarge { max: 64, .. }));
    assert_eq!(err.status(), 413);
}

#[test]
fn garbage_bytes() {
    all_fail_with(b"\x00\x01\x02\xff\xfe garbage", |e| {
        matches!(e, XmlError::NotUtf8(_))
    });
    all_fail_with(
        b"\xff\xfe<\x00a\x00/\x00>\x00",
        |e| matches!(e, XmlError::NotUtf8(m) if m.contains("UTF-16")),
    );
    all_fail_with(b"hello world", |e| matches!(e, XmlError::Malformed { .. }));
    all_fail_with(b"{\"json\": true}", |e| {
        matches!(e, XmlError::Malformed { .. })
    });
    all_fail_with(b"<<<>>>", |e| matches!(e, XmlError::Malformed { .. }));
    all_fail_with(b"<a b='1' b='2'/>", |e| {
        matches!(e, XmlError::Malformed { .. })
    });
    all_fail_with(b"<propfind xmlns='DAV:'/><propfind xmlns='DAV:'/>", |e| {
        matches!(e, XmlError::Malformed { .. })
    });
}

#[test]
fn utf8_bom_is_accepted() {
    let mut body = b"\xEF\xBB\xBF".to_vec();
    body.extend_from_slice(VDIRSYNCER_LIST_PROPFIND.as_bytes());
    assert!(matches!(
        parse_propfind(&body, &limits()),
        Ok(PropRequest::Prop(_))
    ));
}

#[test]
fn wrong_root_for_each_method() {
    let cases: &[(Parser, &str)] = &[
        (PARSERS[0].1, CDS_MULTIGET),
        (PARSERS[1].1, TB_CTAG_PROPFIND),
        (PARSERS[2].1, CDS_COLOR_PROPPATCH),
        (PARSERS[3].1, CDS_EXTENDED_MKCOL),
        (PARSERS[5].1, CDS_MULTIGET),
        (PARSERS[6].1, TB_ADDRESSBOOK_MULTIGET),
        (PARSERS[7].1, CDS_CALENDAR_QUERY_RANGE),
        (PARSERS[8].1, CDS_CALENDAR_QUERY_RANGE),
        (PARSERS[9].1, CDS_MULTIGET),
        (PARSERS[10].1, CDS_MULTIGET),
    ];
    for (parse, body) in cases {
        let err = parse(body.as_bytes(), &limits()).unwrap_err();
        assert!(matches!(err, XmlError::WrongRoot { .. }), "{err:?}");
        assert!(err.to_string().contains("expects"), "{err}");
    }
}

#[test]
fn bad_time_ranges() {
    for (start, end) in [
        ("20240101", "20230101T000000Z"),
        ("20241301T000000Z", "20250101T000000Z"),
        ("20240101T000000+0100", "20250101T000000Z"),
        ("yesterday", "20250101T000000Z"),
    ] {
        let body = format!(
            r#"<C:free-busy-query xmlns:C="urn:ietf:params:xml:ns:caldav"><C:time-range start="{start}" end="{end}"/></C:free-busy-query>"#
        );
        let err = parse_report(body.as_bytes(), &limits()).unwrap_err();
        assert!(
            matches!(
                err,
                XmlError::InvalidFilter {
                    dialect: FilterDialect::Calendar,
                    ..
                }
            ),
            "{err:?}"
        );
        assert_eq!(err.status(), 403);
        let xml = String::from_utf8(err.error_body().unwrap()).unwrap();
        assert!(xml.contains("<C:valid-filter/>"), "{xml}");
    }
}
