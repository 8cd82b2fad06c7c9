//! PROPPATCH parsing and dead-property round-trips.

use super::super::*;
use super::bodies::*;
use super::limits;

#[test]
fn outlook_sets_calendar_color() {
    let ops = parse_proppatch(CDS_COLOR_PROPPATCH.as_bytes(), &limits()).unwrap();
    assert_eq!(
        ops,
        vec![PropPatchOp::Set(
            names::CALENDAR_COLOR,
            XmlValue::text("#8AB4F8FF")
        )]
    );
}

#[test]
fn vdirsyncer_set_and_remove() {
    let ops = parse_proppatch(VDIRSYNCER_SET_COLOR.as_bytes(), &limits()).unwrap();
    assert_eq!(
        ops,
        vec![PropPatchOp::Set(
            names::CALENDAR_COLOR,
            XmlValue::text("#ff0000")
        )]
    );
    let ops = parse_proppatch(VDIRSYNCER_REMOVE_DISPLAYNAME.as_bytes(), &limits()).unwrap();
    assert_eq!(ops, vec![PropPatchOp::Remove(names::DISPLAYNAME)]);
}

#[test]
fn apple_me_card_keeps_nested_xml() {
    let ops = parse_proppatch(APPLE_ME_CARD_PROPPATCH.as_bytes(), &limits()).unwrap();
    let [PropPatchOp::Set(name, value)] = ops.as_slice() else {
        panic!("{ops:?}");
    };
    assert_eq!(*name, names::ME_CARD);
    assert_eq!(
        value.to_xml(),
        r#"<D:href xmlns:D="DAV:">/addressbooks/anna/contacts/me.vcf</D:href>"#
    );
}

#[test]
fn document_order_is_kept_across_set_and_remove() {
    let body = r#"<D:propertyupdate xmlns:D="DAV:" xmlns:Z="http://ns.example.com/z/">
      <D:set><D:prop><Z:Authors><Z:Author>Jim Whitehead</Z:Author><Z:Author>Roy Fielding</Z:Author></Z:Authors></D:prop></D:set>
      <D:remove><D:prop><Z:Copyright-Owner/></D:prop></D:remove>
      <D:set><D:prop><D:displayname>Second</D:displayname><Z:empty/></D:prop></D:set>
    </D:propertyupdate>"#;
    let ops = parse_proppatch(body.as_bytes(), &limits()).unwrap();
    let names: Vec<_> = ops.iter().map(|o| o.name().local.to_string()).collect();
    assert_eq!(
        names,
        ["Authors", "Copyright-Owner", "displayname", "empty"]
    );
    assert!(matches!(&ops[1], PropPatchOp::Remove(_)));
    let PropPatchOp::Set(_, authors) = &ops[0] else {
        panic!()
    };
    assert_eq!(
        authors.to_xml(),
        r#"<X0:Author xmlns:X0="http://ns.example.com/z/">Jim Whitehead</X0:Author><X0:Author xmlns:X0="http://ns.example.com/z/">Roy Fielding</X0:Author>"#
    );
    let PropPatchOp::Set(_, empty) = &ops[3] else {
        panic!()
    };
    assert!(empty.is_empty());
}

#[test]
fn dead_property_values_round_trip_through_storage() {
    // litmus-style values: mixed content, namespaced attributes, escapes, high Unicode.
    let body = r#"<propertyupdate xmlns="DAV:"><set><prop>
      <valnspace xmlns="http://example.com/alpha"><foo xmlns="http://bar">baz</foo> &amp; <q a="1 &lt; 2" xmlns:b="urn:b" b:c="d"/>text</valnspace>
      <high xmlns="urn:x">&#x10000; ü</high>
    </prop></set></propertyupdate>"#;
    let ops = parse_proppatch(body.as_bytes(), &limits()).unwrap();
    for op in &ops {
        let PropPatchOp::Set(_, v) = op else { panic!() };
        let stored = v.to_xml();
        let back = XmlValue::from_xml(&stored, &limits()).unwrap();
        assert_eq!(&back, v, "{stored}");
        assert_eq!(back.to_xml(), stored, "canonical form is stable");
    }
    let PropPatchOp::Set(_, v) = &ops[0] else {
        panic!()
    };
    assert_eq!(
        v.to_xml(),
        r#"<X0:foo xmlns:X0="http://bar">baz</X0:foo> &amp; <X0:q xmlns:X0="http://example.com/alpha" xmlns:X1="urn:b" a="1 &lt; 2" X1:c="d"/>text"#
    );
}

#[test]
fn whitespace_in_text_values_is_kept() {
    let body = r#"<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><D:displayname>  Work  </D:displayname></D:prop></D:set></D:propertyupdate>"#;
    let ops = parse_proppatch(body.as_bytes(), &limits()).unwrap();
    assert_eq!(
        ops,
        vec![PropPatchOp::Set(
            names::DISPLAYNAME,
            XmlValue::text("  Work  ")
        )]
    );
}

#[test]
fn empty_and_wrong_bodies() {
    assert_eq!(
        parse_proppatch(b"", &limits()),
        Err(XmlError::EmptyBody {
            expected: "D:propertyupdate"
        })
    );
    let err = parse_proppatch(
        b"<propertyupdate xmlns='DAV:'><set/></propertyupdate>",
        &limits(),
    )
    .unwrap_err();
    assert!(matches!(err, XmlError::Invalid(_)));
    assert_eq!(err.status(), 400);
    let err = parse_proppatch(RFC4918_PROPNAME.as_bytes(), &limits()).unwrap_err();
    assert!(matches!(err, XmlError::WrongRoot { .. }));
}
