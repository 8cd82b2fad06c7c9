//! PROPFIND parsing against client bodies.

use super::super::*;
use super::bodies::*;
use super::limits;

fn props(body: &str) -> Vec<PropName> {
    match parse_propfind(body.as_bytes(), &limits()).unwrap() {
        PropRequest::Prop(list) => list,
        other => panic!("expected <prop>, got {other:?}"),
    }
}

#[test]
fn empty_body_is_allprop() {
    for body in ["", "   \r\n", "<?xml version=\"1.0\"?>"] {
        assert_eq!(
            parse_propfind(body.as_bytes(), &limits()).unwrap(),
            PropRequest::AllProp { include: vec![] }
        );
    }
}

#[test]
fn propfind_without_selection_is_allprop() {
    assert_eq!(
        parse_propfind(b"<propfind xmlns='DAV:'/>", &limits()).unwrap(),
        PropRequest::AllProp { include: vec![] }
    );
}

#[test]
fn allprop_with_include() {
    assert_eq!(
        parse_propfind(RFC4918_ALLPROP_INCLUDE.as_bytes(), &limits()).unwrap(),
        PropRequest::AllProp {
            include: vec![
                PropName::new("DAV:", "supported-live-property-set"),
                names::SUPPORTED_REPORT_SET
            ]
        }
    );
}

#[test]
fn propname() {
    assert_eq!(
        parse_propfind(RFC4918_PROPNAME.as_bytes(), &limits()).unwrap(),
        PropRequest::PropName
    );
}

#[test]
fn thunderbird_ctag() {
    assert_eq!(
        props(TB_CTAG_PROPFIND),
        vec![
            names::RESOURCETYPE,
            names::OWNER,
            names::CURRENT_USER_PRINCIPAL,
            names::CURRENT_USER_PRIVILEGE_SET,
            names::SUPPORTED_REPORT_SET,
            names::SUPPORTED_CALENDAR_COMPONENT_SET,
            names::GETCTAG,
        ]
    );
}

#[test]
fn davx5_inline_default_namespace() {
    let p = props(DAVX5_CAPABILITIES_PROPFIND);
    assert_eq!(p.len(), 7);
    assert!(
        p.contains(&names::GETCTAG),
        "getctag declared with an inline default namespace"
    );
    assert!(p.contains(&names::SUPPORTED_ADDRESS_DATA));
    assert!(p.contains(&names::SYNC_TOKEN));
}

#[test]
fn apple_principal_with_unknown_properties() {
    let p = props(APPLE_PRINCIPAL_PROPFIND);
    assert_eq!(p.len(), 13);
    assert_eq!(p[0], names::CALENDAR_HOME_SET);
    // Properties we do not implement are kept as names: the server answers 404 for them.
    assert!(p.contains(&PropName::new(ns::CALENDARSERVER, "dropbox-home-URL")));
    assert!(p.contains(&PropName::new(ns::DAV, "resource-id")));
}

#[test]
fn vdirsyncer_listing() {
    assert_eq!(
        props(VDIRSYNCER_LIST_PROPFIND),
        vec![names::RESOURCETYPE, names::GETCONTENTTYPE, names::GETETAG]
    );
}

#[test]
fn unknown_namespaces_and_elements_are_tolerated() {
    let body = r#"<D:propfind xmlns:D="DAV:"><D:prop><X:foo xmlns:X="urn:x"/><bar xmlns=""/><D:getetag/><D:getetag/></D:prop><D:unknown-child/><Y:junk xmlns:Y="urn:y">text</Y:junk></D:propfind>"#;
    assert_eq!(
        props(body),
        vec![
            PropName::new("urn:x", "foo"),
            PropName::new("", "bar"),
            names::GETETAG
        ]
    );
}

#[test]
fn split_prop_elements_merge() {
    let body =
        r#"<propfind xmlns="DAV:"><prop><getetag/></prop><prop><displayname/></prop></propfind>"#;
    assert_eq!(props(body), vec![names::GETETAG, names::DISPLAYNAME]);
}

#[test]
fn prefixes_declared_late_and_redeclared() {
    let body = r#"<?xml version="1.0"?><!-- a comment --><?pi stuff?>
<a:propfind xmlns:a="DAV:"><a:prop xmlns:a="http://calendarserver.org/ns/"><a:getctag/></a:prop></a:propfind>"#;
    // The inner `a` rebinds to the CalendarServer namespace, so this <prop> is not DAV:prop.
    assert_eq!(
        parse_propfind(body.as_bytes(), &limits()).unwrap(),
        PropRequest::AllProp { include: vec![] }
    );
    let body = r#"<propfind xmlns="DAV:"><prop><c:getctag xmlns:c="http://calendarserver.org/ns/"/></prop></propfind>"#;
    assert_eq!(props(body), vec![names::GETCTAG]);
}

#[test]
fn wrong_root() {
    let err = parse_propfind(VDIRSYNCER_MULTIGET.as_bytes(), &limits()).unwrap_err();
    assert!(
        matches!(&err, XmlError::WrongRoot { found, .. } if *found == names::CALENDAR_MULTIGET)
    );
    assert_eq!(err.status(), 400);
    // A propfind element in another namespace is not a PROPFIND.
    let err = parse_propfind(b"<propfind><prop/></propfind>", &limits()).unwrap_err();
    assert!(matches!(err, XmlError::WrongRoot { .. }));
}
