//! The one place untrusted XML is read: namespace resolution, limits, and hostile-input checks.
//!
//! Every parser in this module goes through [`parse_document`], which turns the body into a
//! small tree of [`XmlElement`]s with resolved `{ns}local` names. Request bodies are small, and
//! a tree lets the parsers be plain functions over elements, ignoring whatever they do not know
//! (the lenient behaviour real clients need) without hand-written state machines.

use quick_xml::NsReader;
use quick_xml::XmlVersion;
use quick_xml::events::Event;
use quick_xml::name::ResolveResult;

use super::error::XmlError;
use super::limits::Limits;
use super::name::{PropName, ns};
use super::value::{XmlAttr, XmlElement, XmlNode};

/// Parses a request body into its root element.
///
/// Returns `Ok(None)` when the body holds no element at all (empty, whitespace, or only an XML
/// declaration and comments): several methods give that a meaning (PROPFIND = allprop).
pub(super) fn parse_document(body: &[u8], limits: &Limits) -> Result<Option<XmlElement>, XmlError> {
    if body.len() > limits.max_body_bytes {
        return Err(XmlError::TooLarge {
            max: limits.max_body_bytes,
            actual: body.len(),
        });
    }
    let text = decode(body)?;
    let mut reader = NsReader::from_str(text);
    let config = reader.config_mut();
    config.expand_empty_elements = false;
    config.check_end_names = true;
    config.trim_text(false);

    let mut stack: Vec<XmlElement> = Vec::new();
    let mut root: Option<XmlElement> = None;
    let mut elements = 0usize;

    loop {
        let (resolved, event) = match reader.read_resolved_event() {
            Ok(pair) => pair,
            Err(e) => {
                return Err(malformed(e.to_string(), reader.error_position()));
            }
        };
        // Take the namespace out as an owned value so the reader can be used again below.
        let namespace: Result<String, String> = match resolved {
            ResolveResult::Bound(n) => Ok(n.0.to_owned()),
            ResolveResult::Unbound => Ok(String::new()),
            ResolveResult::Unknown(prefix) => Err(prefix),
        };
        match event {
            Event::Start(ref start) | Event::Empty(ref start) => {
                let namespace =
                    namespace.map_err(|prefix| XmlError::UndeclaredPrefix { prefix })?;
                if root.is_some() {
                    return Err(malformed(
                        "a second root element follows the first one".into(),
                        reader.buffer_position(),
                    ));
                }
                elements += 1;
                if elements > limits.max_elements {
                    return Err(XmlError::TooManyElements {
                        max: limits.max_elements,
                    });
                }
                if stack.len() >= limits.max_depth {
                    return Err(XmlError::TooDeep {
                        max: limits.max_depth,
                    });
                }
                let local = start.local_name().as_ref().to_owned();
                let mut element = XmlElement::new(PropName::new(namespace, local));
                for attr in start.attributes() {
                    let attr =
                        attr.map_err(|e| malformed(e.to_string(), reader.buffer_position()))?;
                    let key = attr.key;
                    if key.as_namespace_binding().is_some() {
                        continue; // xmlns declarations are consumed by the resolver
                    }
                    let (resolved, local) = reader.resolver().resolve_attribute(key);
                    let attr_ns = match resolved {
                        ResolveResult::Bound(n) => n.0.to_owned(),
                        ResolveResult::Unbound => String::new(),
                        ResolveResult::Unknown(prefix) => {
                            return Err(XmlError::UndeclaredPrefix { prefix });
                        }
                    };
                    let local = local.as_ref().to_owned();
                    let value = attr
                        .normalized_value(XmlVersion::Implicit1_0)
                        .map_err(|e| entity_error(e.to_string(), reader.buffer_position()))?
                        .into_owned();
                    element.attrs.push(XmlAttr {
                        name: PropName::new(attr_ns, local),
                        value,
                    });
                }
                if matches!(event, Event::Empty(_)) {
                    attach(&mut stack, &mut root, element);
                } else {
                    stack.push(element);
                }
            }
            Event::End(_) => {
                let Some(done) = stack.pop() else {
                    return Err(malformed(
                        "closing tag without an opening tag".into(),
                        reader.buffer_position(),
                    ));
                };
                attach(&mut stack, &mut root, done);
            }
            Event::Text(t) => {
                let content = t.xml10_content();
                push_text(&mut stack, &content, reader.buffer_position())?;
            }
            Event::CData(c) => {
                let content = c.xml10_content();
                if stack.is_empty() {
                    return Err(malformed(
                        "CDATA outside the root element".into(),
                        reader.buffer_position(),
                    ));
                }
                push_text(&mut stack, &content, reader.buffer_position())?;
            }
            Event::GeneralRef(r) => {
                let resolved: String = if r.is_char_ref() {
                    match r.resolve_char_ref() {
                        Ok(Some(ch)) => ch.to_string(),
                        Ok(None) | Err(_) => {
                            return Err(malformed(
                                format!("invalid character reference `&{};`", &*r),
                                reader.buffer_position(),
                            ));
                        }
                    }
                } else {
                    match quick_xml::escape::resolve_predefined_entity(&r) {
                        Some(s) => s.to_owned(),
                        None => return Err(XmlError::UnknownEntity(r.to_string())),
                    }
                };
                if stack.is_empty() {
                    return Err(malformed(
                        "entity reference outside the root element".into(),
                        reader.buffer_position(),
                    ));
                }
                push_text(&mut stack, &resolved, reader.buffer_position())?;
            }
            Event::DocType(_) => return Err(XmlError::DocType),
            Event::Comment(_) | Event::PI(_) | Event::Decl(_) => {}
            Event::Eof => {
                if let Some(open) = stack.last() {
                    return Err(malformed(
                        format!(
                            "the document ends before element {} is closed (truncated body?)",
                            open.name
                        ),
                        reader.buffer_position(),
                    ));
                }
                return Ok(root);
            }
        }
    }
}

/// Hangs a finished element under its parent, or makes it the root.
fn attach(stack: &mut [XmlElement], root: &mut Option<XmlElement>, mut done: XmlElement) {
    drop_formatting_whitespace(&mut done);
    match stack.last_mut() {
        Some(parent) => parent.children.push(XmlNode::Element(done)),
        None => *root = Some(done),
    }
}

/// Validates UTF-8 and strips a byte-order mark. DAV clients send UTF-8; anything else is
/// reported instead of being guessed at.
fn decode(body: &[u8]) -> Result<&str, XmlError> {
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    if body.starts_with(b"\xFF\xFE") || body.starts_with(b"\xFE\xFF") {
        return Err(XmlError::NotUtf8(
            "the body is UTF-16 (byte-order mark found)".into(),
        ));
    }
    std::str::from_utf8(body).map_err(|e| {
        XmlError::NotUtf8(format!("invalid byte sequence at byte {}", e.valid_up_to()))
    })
}

fn push_text(stack: &mut [XmlElement], text: &str, position: u64) -> Result<(), XmlError> {
    match stack.last_mut() {
        Some(el) => {
            if let Some(XmlNode::Text(prev)) = el.children.last_mut() {
                prev.push_str(text);
            } else if !text.is_empty() {
                el.children.push(XmlNode::Text(text.to_owned()));
            }
            Ok(())
        }
        None if is_xml_whitespace(text) => Ok(()),
        None => Err(malformed("text outside the root element".into(), position)),
    }
}

/// Whitespace between child elements is indentation, not data; text-only elements keep theirs.
fn drop_formatting_whitespace(el: &mut XmlElement) {
    if el.children.iter().any(|n| matches!(n, XmlNode::Element(_))) {
        el.children
            .retain(|n| !matches!(n, XmlNode::Text(t) if is_xml_whitespace(t)));
    }
}

pub(super) fn is_xml_whitespace(s: &str) -> bool {
    s.bytes().all(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
}

/// Trims XML whitespace (not Unicode whitespace) from both ends.
pub(super) fn trim_xml(s: &str) -> &str {
    s.trim_matches(|c| matches!(c, ' ' | '\t' | '\r' | '\n'))
}

fn malformed(message: String, position: u64) -> XmlError {
    XmlError::Malformed { message, position }
}

fn entity_error(message: String, position: u64) -> XmlError {
    malformed(format!("bad attribute value: {message}"), position)
}

/// Checks the root element's name, mapping a mismatch to [`XmlError::WrongRoot`].
pub(super) fn expect_root(root: &XmlElement, name: &PropName) -> Result<(), XmlError> {
    if root.name == *name {
        Ok(())
    } else {
        Err(XmlError::WrongRoot {
            expected: name.to_string(),
            found: root.name.clone(),
        })
    }
}

/// Parses a body that must contain a root element.
pub(super) fn parse_required(
    body: &[u8],
    limits: &Limits,
    expected: &'static str,
) -> Result<XmlElement, XmlError> {
    parse_document(body, limits)?.ok_or(XmlError::EmptyBody { expected })
}

/// True for `{DAV:}local`.
pub(super) fn is_dav(el: &XmlElement, local: &str) -> bool {
    el.name.is(ns::DAV, local)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Option<XmlElement>, XmlError> {
        parse_document(s.as_bytes(), &Limits::default())
    }

    #[test]
    fn resolves_default_and_prefixed_namespaces() {
        let root = parse(r#"<propfind xmlns="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><prop><c:calendar-data/><x:y xmlns:x="urn:x"/></prop></propfind>"#)
            .unwrap()
            .unwrap();
        assert!(root.name.is_dav("propfind"));
        let prop = root.child(ns::DAV, "prop").unwrap();
        let names: Vec<_> = prop.elements().map(|e| e.name.clone()).collect();
        assert_eq!(
            names,
            vec![
                PropName::new(ns::CALDAV, "calendar-data"),
                PropName::new("urn:x", "y")
            ]
        );
    }

    #[test]
    fn entities_and_cdata_become_text() {
        let root = parse("<a>x &amp; &#65;&#x42; <![CDATA[<c>]]></a>")
            .unwrap()
            .unwrap();
        assert_eq!(root.text(), "x & AB <c>");
    }

    #[test]
    fn empty_and_comment_only_bodies_have_no_root() {
        assert_eq!(parse("").unwrap(), None);
        assert_eq!(parse("  \r\n ").unwrap(), None);
        assert_eq!(
            parse("<?xml version=\"1.0\"?><!-- nothing -->").unwrap(),
            None
        );
    }

    #[test]
    fn rejects_hostile_and_broken_input() {
        assert_eq!(
            parse("<!DOCTYPE a [<!ENTITY x \"y\">]><a>&x;</a>"),
            Err(XmlError::DocType)
        );
        assert_eq!(
            parse("<a>&x;</a>"),
            Err(XmlError::UnknownEntity("x".into()))
        );
        assert!(
            matches!(parse("<D:a/>"), Err(XmlError::UndeclaredPrefix { prefix }) if prefix == "D")
        );
        assert!(matches!(
            parse("<a><b></a>"),
            Err(XmlError::Malformed { .. })
        ));
        assert!(matches!(parse("<a><b/>"), Err(XmlError::Malformed { .. })));
        assert!(matches!(parse("<a/><b/>"), Err(XmlError::Malformed { .. })));
        assert!(matches!(parse("junk<a/>"), Err(XmlError::Malformed { .. })));
        assert!(matches!(
            parse_document(b"<a>\xff</a>", &Limits::default()),
            Err(XmlError::NotUtf8(_))
        ));
    }

    #[test]
    fn enforces_limits() {
        let limits = Limits {
            max_depth: 3,
            max_elements: 5,
            max_body_bytes: 100,
        };
        assert!(parse_document(b"<a><b><c/></b></a>", &limits).is_ok());
        assert_eq!(
            parse_document(b"<a><b><c><d/></c></b></a>", &limits),
            Err(XmlError::TooDeep { max: 3 })
        );
        assert_eq!(
            parse_document(b"<a><b/><b/><b/><b/><b/></a>", &limits),
            Err(XmlError::TooManyElements { max: 5 })
        );
        assert!(matches!(
            parse_document(&[b' '; 101], &limits),
            Err(XmlError::TooLarge { .. })
        ));
    }
}
