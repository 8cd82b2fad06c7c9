//! Rendering: parse the output back with quick-xml and check structure, encoding, determinism.

use quick_xml::NsReader;
use quick_xml::events::Event;
use quick_xml::name::ResolveResult;

use super::super::*;
use super::limits;

/// A flattened view of a document: `(depth, {ns}local, attributes, text)` per element.
#[derive(Debug, PartialEq)]
struct Node {
    depth: usize,
    name: String,
    attrs: Vec<(String, String)>,
    text: String,
}

fn flatten(xml: &[u8]) -> Vec<Node> {
    let text = std::str::from_utf8(xml).expect("output is UTF-8");
    let mut r = NsReader::from_str(text);
    r.config_mut().check_end_names = true;
    let mut out: Vec<Node> = Vec::new();
    let mut stack: Vec<usize> = Vec::new();
    loop {
        let (res, ev) = r.read_resolved_event().expect("output is well-formed");
        let ns = match res {
            ResolveResult::Bound(n) => n.0.to_string(),
            ResolveResult::Unbound => String::new(),
            ResolveResult::Unknown(p) => panic!("undeclared prefix {p} in output"),
        };
        match ev {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let attrs = e
                    .attributes()
                    .map(|a| a.unwrap())
                    .filter(|a| a.key.as_namespace_binding().is_none())
                    .map(|a| {
                        (
                            a.key.as_ref().to_string(),
                            a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                                .unwrap()
                                .into_owned(),
                        )
                    })
                    .collect();
                out.push(Node {
                    depth: stack.len(),
                    name: format!("{{{ns}}}{}", e.local_name().as_ref()),
                    attrs,
                    text: String::new(),
                });
                if matches!(ev, Event::Start(_)) {
                    stack.push(out.len() - 1);
                }
            }
            Event::End(_) => {
                stack.pop();
            }
            Event::Text(t) => {
                if let Some(&i) = stack.last() {
                    out[i].text.push_str(&t.xml10_content());
                }
            }
            Event::GeneralRef(g) => {
                if let Some(&i) = stack.last() {
                    let s = match g.resolve_char_ref().unwrap() {
                        Some(c) => c.to_string(),
                        None => quick_xml::escape::resolve_predefined_entity(&g)
                            .unwrap()
                            .to_string(),
                    };
                    out[i].text.push_str(&s);
                }
            }
            Event::CData(c) => {
                if let Some(&i) = stack.last() {
                    out[i].text.push_str(&c.xml10_content());
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    out
}

fn names_at(nodes: &[Node], depth: usize) -> Vec<&str> {
    nodes
        .iter()
        .filter(|n| n.depth == depth)
        .map(|n| n.name.as_str())
        .collect()
}

fn sample() -> Multistatus {
    let mut ms = Multistatus::new();
    ms.push(
        Response::new("/calendars/anna/Work & Play/")
            .with(
                200,
                Property::new(
                    names::RESOURCETYPE,
                    PropValue::Elements(vec![names::COLLECTION, names::CALENDAR]),
                ),
            )
            .with(200, Property::text(names::DISPLAYNAME, "Work <& Play>"))
            .with(
                200,
                Property::text(names::GETCTAG, "http://tandem.local/sync/work/17"),
            )
            .with(
                200,
                Property::new(
                    names::SUPPORTED_CALENDAR_COMPONENT_SET,
                    PropValue::Components(vec!["VEVENT".into(), "VTODO".into()]),
                ),
            )
            .with(
                200,
                Property::new(
                    names::SUPPORTED_REPORT_SET,
                    PropValue::Reports(vec![
                        names::CALENDAR_QUERY,
                        names::CALENDAR_MULTIGET,
                        names::SYNC_COLLECTION,
                    ]),
                ),
            )
            .with(
                200,
                Property::new(
                    names::CURRENT_USER_PRIVILEGE_SET,
                    PropValue::Privileges(vec![names::PRIV_READ, names::PRIV_WRITE]),
                ),
            )
            .with(
                200,
                Property::new(
                    names::CALENDAR_USER_ADDRESS_SET,
                    PropValue::Hrefs(vec![
                        "mailto:anna@example.com".into(),
                        "/principals/anna/".into(),
                    ]),
                ),
            )
            .with(
                200,
                Property::new(
                    names::SUPPORTED_ADDRESS_DATA,
                    PropValue::AddressDataTypes(vec![
                        ("text/vcard".into(), "3.0".into()),
                        ("text/vcard".into(), "4.0".into()),
                    ]),
                ),
            )
            .with(
                200,
                Property::new(
                    names::SUPPORTED_CALENDAR_DATA,
                    PropValue::CalendarDataTypes(vec![("text/calendar".into(), "2.0".into())]),
                ),
            )
            .with(404, Property::empty(PropName::new("urn:x-unknown", "foo")))
            .with(
                404,
                Property::empty(PropName::new(ns::CALENDARSERVER, "dropbox-home-URL")),
            )
            .with(403, Property::empty(names::GETETAG)),
    );
    ms.push(
        Response::new("/calendars/anna/Work & Play/ev 1.ics")
            .with(200, Property::text(names::GETETAG, "\"abc\""))
            .with(
                200,
                Property::text(
                    names::CALENDAR_DATA,
                    "BEGIN:VCALENDAR\r\nSUMMARY:a <b> & c\r\nEND:VCALENDAR\r\n",
                ),
            ),
    );
    ms.push(Response::status(
        "/calendars/anna/Work & Play/gone%.ics",
        404,
    ));
    ms.push(
        Response::status("/calendars/anna/Work & Play/", 507)
            .with_error(Precondition::number_of_matches_within_limits())
            .with_description("Only 2 results returned; sync again with the new token"),
    );
    ms.with_sync_token("http://tandem.local/sync/work/18")
}

#[test]
fn structure_of_a_rendered_multistatus() {
    let out = sample().render();
    let text = String::from_utf8(out.clone()).unwrap();
    assert!(text.starts_with(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<D:multistatus xmlns:D=\"DAV:\""
    ));
    for decl in [
        "xmlns:C=\"urn:ietf:params:xml:ns:caldav\"",
        "xmlns:CR=\"urn:ietf:params:xml:ns:carddav\"",
        "xmlns:CS=\"http://calendarserver.org/ns/\"",
        "xmlns:ICAL=\"http://apple.com/ns/ical/\"",
        "xmlns:X0=\"urn:x-unknown\"",
    ] {
        assert!(text.contains(decl), "{decl} missing in {text}");
    }
    let nodes = flatten(&out);
    assert_eq!(nodes[0].name, "{DAV:}multistatus");
    assert_eq!(
        names_at(&nodes, 1),
        [
            "{DAV:}response",
            "{DAV:}response",
            "{DAV:}response",
            "{DAV:}response",
            "{DAV:}sync-token"
        ]
    );
    let token = nodes.iter().find(|n| n.name == "{DAV:}sync-token").unwrap();
    assert_eq!(token.text, "http://tandem.local/sync/work/18");

    // Hrefs: percent-encoded segments, '&' escaped for XML, '%' itself encoded.
    let hrefs: Vec<_> = nodes
        .iter()
        .filter(|n| n.name == "{DAV:}href" && n.depth == 2)
        .map(|n| n.text.as_str())
        .collect();
    assert_eq!(
        hrefs,
        [
            "/calendars/anna/Work%20&%20Play/",
            "/calendars/anna/Work%20&%20Play/ev%201.ics",
            "/calendars/anna/Work%20&%20Play/gone%25.ics",
            "/calendars/anna/Work%20&%20Play/"
        ]
    );
    assert!(text.contains("<D:href>/calendars/anna/Work%20&amp;%20Play/</D:href>"));

    // Three propstat groups in first-use order, each with prop then status.
    let statuses: Vec<_> = nodes
        .iter()
        .filter(|n| n.name == "{DAV:}status")
        .map(|n| n.text.as_str())
        .collect();
    assert_eq!(
        statuses,
        [
            "HTTP/1.1 200 OK",
            "HTTP/1.1 404 Not Found",
            "HTTP/1.1 403 Forbidden",
            "HTTP/1.1 200 OK",
            "HTTP/1.1 404 Not Found",
            "HTTP/1.1 507 Insufficient Storage"
        ]
    );
    assert_eq!(
        nodes.iter().filter(|n| n.name == "{DAV:}propstat").count(),
        4
    );

    // Values.
    // The last match: supported-calendar-data also contains a C:calendar-data element.
    let find = |name: &str| nodes.iter().rev().find(|n| n.name == name).unwrap();
    assert_eq!(find("{DAV:}displayname").text, "Work <& Play>");
    // CRLF survives the client's XML end-of-line normalisation because CR is sent as &#13;.
    assert_eq!(
        find("{urn:ietf:params:xml:ns:caldav}calendar-data").text,
        "BEGIN:VCALENDAR\r\nSUMMARY:a <b> & c\r\nEND:VCALENDAR\r\n"
    );
    assert!(text.contains("SUMMARY:a &lt;b&gt; &amp; c&#13;\n"));
    let comps: Vec<_> = nodes
        .iter()
        .filter(|n| n.name == "{urn:ietf:params:xml:ns:caldav}comp")
        .map(|n| n.attrs[0].1.as_str())
        .collect();
    assert_eq!(comps, ["VEVENT", "VTODO"]);
    let reports: Vec<_> = nodes
        .iter()
        .enumerate()
        .filter(|(_, n)| n.name == "{DAV:}report")
        .map(|(i, _)| nodes[i + 1].name.as_str())
        .collect();
    assert_eq!(
        reports,
        [
            "{urn:ietf:params:xml:ns:caldav}calendar-query",
            "{urn:ietf:params:xml:ns:caldav}calendar-multiget",
            "{DAV:}sync-collection"
        ]
    );
    assert_eq!(
        nodes.iter().filter(|n| n.name == "{DAV:}privilege").count(),
        2
    );
    let adt = nodes
        .iter()
        .filter(|n| n.name == "{urn:ietf:params:xml:ns:carddav}address-data-type")
        .count();
    assert_eq!(adt, 2);
    assert!(
        text.contains("<D:href>mailto:anna@example.com</D:href><D:href>/principals/anna/</D:href>")
    );
    assert!(text.contains("<X0:foo/>") && text.contains("<CS:dropbox-home-URL/>"));
    assert!(text.contains("<D:resourcetype><D:collection/><C:calendar/></D:resourcetype>"));

    // The 507 response: status, error, description in RFC order.
    let tail: Vec<_> = nodes
        .iter()
        .rev()
        .take(5)
        .map(|n| n.name.as_str())
        .collect();
    assert_eq!(
        tail,
        [
            "{DAV:}sync-token",
            "{DAV:}responsedescription",
            "{DAV:}number-of-matches-within-limits",
            "{DAV:}error",
            "{DAV:}status"
        ]
    );
}

#[test]
fn rendering_is_deterministic() {
    let a = sample().render();
    let b = sample().render();
    assert_eq!(a, b);
    assert_eq!(sample().clone().render(), a);
}

#[test]
fn dead_properties_render_as_stored() {
    let body = r#"<D:propertyupdate xmlns:D="DAV:" xmlns:Z="http://ns.example.com/z/"><D:set><D:prop>
        <Z:Authors><Z:Author>Jim &amp; Roy</Z:Author><D:href>/x y</D:href><plain xmlns="">p</plain></Z:Authors>
        <C:me-card xmlns:C="http://calendarserver.org/ns/"><D:href>/ab/me.vcf</D:href></C:me-card>
    </D:prop></D:set></D:propertyupdate>"#;
    let ops = parse_proppatch(body.as_bytes(), &limits()).unwrap();
    let mut resp = Response::new("/calendars/anna/work/");
    for op in &ops {
        let PropPatchOp::Set(name, value) = op else {
            panic!()
        };
        // Simulate storage: canonical string out, string back in.
        let stored = XmlValue::from_xml(&value.to_xml(), &limits()).unwrap();
        resp.add(200, Property::new(name.clone(), PropValue::Xml(stored)));
    }
    let mut ms = Multistatus::new();
    ms.push(resp);
    let out = ms.render();
    let text = String::from_utf8(out.clone()).unwrap();
    assert!(
        text.contains("xmlns:X0=\"http://ns.example.com/z/\""),
        "{text}"
    );
    assert!(
        text.contains("<X0:Authors><X0:Author>Jim &amp; Roy</X0:Author><D:href>/x y</D:href><plain>p</plain></X0:Authors>"),
        "{text}"
    );
    assert!(
        text.contains("<CS:me-card><D:href>/ab/me.vcf</D:href></CS:me-card>"),
        "{text}"
    );
    let nodes = flatten(&out);
    assert!(
        nodes.iter().any(|n| n.name == "{}plain" && n.text == "p"),
        "no-namespace child stays unqualified"
    );
}

#[test]
fn cdata_values_split_terminators() {
    let mut ms = Multistatus::new();
    ms.push(Response::new("/a.ics").with(
        200,
        Property::new(names::CALENDAR_DATA, PropValue::CData("x]]>y]]>".into())),
    ));
    let out = ms.render();
    let nodes = flatten(&out);
    let cd = nodes
        .iter()
        .find(|n| n.name.ends_with("calendar-data"))
        .unwrap();
    assert_eq!(cd.text, "x]]>y]]>");
}

#[test]
fn empty_responses_and_values() {
    let mut ms = Multistatus::new();
    ms.push(Response::new("/empty/"));
    ms.push(
        Response::new("/v/")
            .with(200, Property::text(names::DISPLAYNAME, ""))
            .with(
                200,
                Property::new(names::CALENDAR_HOME_SET, PropValue::Hrefs(vec![])),
            )
            .with(
                200,
                Property::new(names::RESOURCETYPE, PropValue::Elements(vec![])),
            )
            .with(
                200,
                Property::new(names::CALENDAR_COLOR, PropValue::Xml(XmlValue::default())),
            ),
    );
    let text = String::from_utf8(ms.render()).unwrap();
    assert!(text.contains("<D:response><D:href>/empty/</D:href><D:propstat><D:prop/><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>"));
    assert!(
        text.contains(
            "<D:displayname/><C:calendar-home-set/><D:resourcetype/><ICAL:calendar-color/>"
        )
    );
    assert!(!text.contains("sync-token"));
    assert_eq!(status_line(424), "HTTP/1.1 424 Failed Dependency");
}

#[test]
fn proppatch_failure_shape() {
    // RFC 4918 §9.2.1: a protected property fails with 403 and makes the rest 424.
    let resp = Response::new("/calendars/anna/work/")
        .with(403, Property::empty(names::GETETAG))
        .with_propstat_error(403, Precondition::cannot_modify_protected_property())
        .with(424, Property::empty(names::CALENDAR_COLOR));
    let mut ms = Multistatus::new().with_description("Protected property");
    ms.push(resp);
    let nodes = flatten(&ms.render());
    let order: Vec<_> = nodes
        .iter()
        .filter(|n| n.depth == 3)
        .map(|n| n.name.as_str())
        .collect();
    assert_eq!(
        order,
        [
            "{DAV:}prop",
            "{DAV:}status",
            "{DAV:}error",
            "{DAV:}prop",
            "{DAV:}status"
        ]
    );
    assert!(
        nodes
            .iter()
            .any(|n| n.name == "{DAV:}cannot-modify-protected-property")
    );
    assert_eq!(nodes.last().unwrap().name, "{DAV:}responsedescription");
}

#[test]
fn error_bodies_parse_back() {
    for p in [
        Precondition::caldav_no_uid_conflict("/calendars/anna/work/other event.ics"),
        Precondition::carddav_no_uid_conflict("/addressbooks/anna/c/x.vcf"),
        Precondition::caldav_valid_calendar_data(),
        Precondition::carddav_valid_address_data(),
        Precondition::valid_sync_token(),
        Precondition::number_of_matches_within_limits(),
    ] {
        let body = dav_error(&p);
        assert_eq!(body, dav_error(&p), "deterministic");
        let nodes = flatten(&body);
        assert_eq!(nodes[0].name, "{DAV:}error");
        assert_eq!(nodes[1].name, format!("{{{}}}{}", p.name.ns, p.name.local));
        if let Some(h) = p.hrefs.first() {
            assert_eq!(nodes[2].name, "{DAV:}href");
            assert_eq!(href::decode_href(&nodes[2].text).unwrap(), *h);
        }
    }
    let text = String::from_utf8(dav_error(&Precondition::carddav_valid_address_data())).unwrap();
    assert!(text.contains("<D:error") && text.contains("<CR:valid-address-data/></D:error>"));
}

#[test]
fn rendered_multistatus_hrefs_decode_to_the_original_paths() {
    let paths = [
        "/a b/",
        "/ü/€.ics",
        "/x/%41.ics",
        "/user@example.com/c:d;e=f/",
        "/q?/h#/",
    ];
    let mut ms = Multistatus::new();
    for p in paths {
        ms.push(Response::status(p, 200));
    }
    let nodes = flatten(&ms.render());
    let decoded: Vec<_> = nodes
        .iter()
        .filter(|n| n.name == "{DAV:}href")
        .map(|n| {
            assert!(n.text.is_ascii(), "hrefs are ASCII: {}", n.text);
            href::decode_href(&n.text).unwrap()
        })
        .collect();
    assert_eq!(decoded, paths);
}

#[test]
fn a_multistatus_written_response_by_response_is_the_same_document_as_the_tree() {
    let ms = sample();
    let mut out = MultistatusWriter::new(&ms.responses, &[]);
    for r in &ms.responses {
        out.push(r);
    }
    let streamed = out.finish(ms.description.as_deref(), ms.sync_token.as_deref());
    assert_eq!(streamed, ms.render());

    // A listing declares the namespaces of the names it was asked for before any response;
    // a response that uses one nobody declared still reads back with its namespace.
    let asked = PropName::new("urn:x-asked", "colour");
    let stray = PropName::new("urn:x-stray", "flag");
    let mut out = MultistatusWriter::new(&[], std::slice::from_ref(&asked));
    out.push(
        &Response::new("/calendars/anna/work/a.ics")
            .with(404, Property::empty(asked.clone()))
            .with(404, Property::empty(stray)),
    );
    let body = out.finish(None, None);
    let text = String::from_utf8(body.clone()).unwrap();
    assert!(text.contains("<D:multistatus xmlns:D=\"DAV:\""), "{text}");
    assert!(text.contains("xmlns:X0=\"urn:x-asked\""), "{text}");
    let names: Vec<_> = flatten(&body).into_iter().map(|n| n.name).collect();
    assert!(
        names.contains(&"{urn:x-asked}colour".to_string()),
        "{names:?}"
    );
    assert!(
        names.contains(&"{urn:x-stray}flag".to_string()),
        "{names:?}"
    );
}

/// A member written in its listing's shape (`push_shaped`) is the same bytes as the response
/// built and pushed: found and missing properties in either order, an empty value, a body (its
/// line ends and markup), and an href whose pieces need encoding and escaping.
#[test]
fn a_listed_member_is_written_as_its_built_response_would_be() {
    let etag = PropName::new(ns::DAV, "getetag");
    let kind = PropName::new(ns::DAV, "resourcetype");
    let colour = PropName::new("urn:x-asked", "colour");
    let length = PropName::new(ns::DAV, "getcontentlength");
    let data = PropName::new(ns::CALDAV, "calendar-data");
    let body = "BEGIN:VCALENDAR\r\nSUMMARY:Tom & Jerry <3\r\nEND:VCALENDAR\r\n";
    let cases: [&[(&PropName, Option<&str>)]; 6] = [
        &[(&etag, Some("\"e3\"")), (&data, Some(body))],
        &[(&etag, Some("\"e1\"")), (&kind, Some(""))],
        &[
            (&colour, None),
            (&etag, Some("\"a<b&c\"")),
            (&length, Some("12")),
        ],
        &[
            (&etag, Some("\"e2\"")),
            (&colour, None),
            (&length, Some("7")),
        ],
        &[(&colour, None)],
        &[],
    ];
    let (collection, name) = ("/calendars/anna/Work & Play/", "ev 1%.ics");
    for props in cases {
        let mut built = Response::new(format!("{collection}{name}"));
        for (prop, value) in props {
            let prop = (*prop).clone();
            match value {
                Some(text) => built.add(200, Property::text(prop, *text)),
                None => built.add(404, Property::empty(prop)),
            };
        }
        let mut pushed = MultistatusWriter::new(&[], std::slice::from_ref(&colour));
        pushed.push(&built);
        let mut listed = MultistatusWriter::new(&[], std::slice::from_ref(&colour));
        let found: Vec<(&PropName, bool)> = props.iter().map(|(n, v)| (*n, v.is_some())).collect();
        let shape = listed.shape(collection, &found);
        listed.push_shaped(&shape, name, |i| props[i].1.unwrap());
        let (pushed, listed) = (pushed.finish(None, None), listed.finish(None, None));
        assert_eq!(
            String::from_utf8(listed).unwrap(),
            String::from_utf8(pushed).unwrap(),
            "{props:?}"
        );
    }
}
