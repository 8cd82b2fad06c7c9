//! Namespace-prefix bookkeeping and element writing shared by every XML renderer here.
//!
//! Output uses fixed prefixes for the well-known namespaces (D, C, CR, CS, ICAL) and `X0`,
//! `X1`, … for others, numbered in order of first appearance, so the same input always renders
//! to the same bytes.

use std::collections::HashMap;
use std::io;

use quick_xml::Writer;
use quick_xml::events::{BytesEnd, BytesStart, Event};

use super::name::{PropName, ns};
use super::value::{XmlElement, XmlNode};

pub(super) type XmlOut = Writer<Vec<u8>>;

const STANDARD: [(&str, &str); 5] = [
    (ns::DAV, "D"),
    (ns::CALDAV, "C"),
    (ns::CARDDAV, "CR"),
    (ns::CALENDARSERVER, "CS"),
    (ns::APPLE_ICAL, "ICAL"),
];

/// Namespace → prefix bindings in declaration order.
#[derive(Debug, Clone, Default)]
pub(super) struct Prefixes {
    bindings: Vec<(String, String)>,
    /// Namespace → index into `bindings`; a stored dead property may use many namespaces.
    index: HashMap<String, usize>,
    unknown: usize,
}

impl Prefixes {
    /// The five standard bindings, as declared on every multistatus and error root.
    pub(super) fn standard() -> Self {
        let mut p = Self::default();
        for (uri, prefix) in STANDARD {
            p.bind(uri.to_owned(), prefix.to_owned());
        }
        p
    }

    /// Makes sure `uri` has a prefix. The empty namespace and `xml:` never get one.
    pub(super) fn add(&mut self, uri: &str) {
        if uri.is_empty() || uri == ns::XML || self.prefix(uri).is_some() {
            return;
        }
        let prefix = STANDARD
            .iter()
            .find(|(u, _)| *u == uri)
            .map(|(_, p)| (*p).to_owned())
            .unwrap_or_else(|| {
                let p = format!("X{}", self.unknown);
                self.unknown += 1;
                p
            });
        self.bind(uri.to_owned(), prefix);
    }

    fn bind(&mut self, uri: String, prefix: String) {
        self.index.insert(uri.clone(), self.bindings.len());
        self.bindings.push((uri, prefix));
    }

    /// Adds every namespace used by `nodes` (element and attribute names).
    pub(super) fn add_nodes(&mut self, nodes: &[XmlNode]) {
        for n in nodes {
            if let XmlNode::Element(e) = n {
                self.add_element(e);
            }
        }
    }

    pub(super) fn add_element(&mut self, e: &XmlElement) {
        self.add(&e.name.ns);
        for a in &e.attrs {
            self.add(&a.name.ns);
        }
        self.add_nodes(&e.children);
    }

    fn prefix(&self, uri: &str) -> Option<&str> {
        // A listing asks this for every element it writes, nearly always of one of the few
        // namespaces bound first: comparing those is cheaper than hashing the URI.
        if let Some((_, p)) = self
            .bindings
            .iter()
            .take(STANDARD.len())
            .find(|(u, _)| u == uri)
        {
            return Some(p);
        }
        self.index
            .get(uri)
            .and_then(|&i| self.bindings.get(i))
            .map(|(_, p)| p.as_str())
    }

    /// The `xmlns:P="uri"` attributes declaring every binding.
    pub(super) fn declarations(&self) -> Vec<(String, String)> {
        self.bindings
            .iter()
            .map(|(uri, p)| (format!("xmlns:{p}"), uri.clone()))
            .collect()
    }

    /// The qualified name to write for `name`. Unbound namespaces are handled by `start`.
    fn qualified(&self, name: &PropName) -> Option<String> {
        self.parts(name).map(|(prefix, local)| match prefix {
            Some(p) => format!("{p}:{local}"),
            None => local.to_string(),
        })
    }

    /// `name`'s prefix (none for the empty namespace) and local part, if its namespace is bound.
    fn parts<'a>(&'a self, name: &'a PropName) -> Option<(Option<&'a str>, &'a str)> {
        if name.ns.is_empty() {
            return Some((None, &name.local));
        }
        if name.ns == ns::XML {
            return Some((Some("xml"), &name.local));
        }
        self.prefix(&name.ns).map(|p| (Some(p), &*name.local))
    }
}

/// Writes `<name>`, or `</name>` when `close`, straight into the buffer: a listing writes
/// several elements per member, and building a `BytesStart` (two strings) for each was a
/// good part of its time. Names are valid XML names already, so nothing needs escaping.
fn raw_tag(w: &mut XmlOut, (prefix, local): (Option<&str>, &str), close: bool) {
    let out = w.get_mut();
    out.extend_from_slice(if close { b"</" } else { b"<" });
    if let Some(prefix) = prefix {
        out.extend_from_slice(prefix.as_bytes());
        out.push(b':');
    }
    out.extend_from_slice(local.as_bytes());
    out.push(b'>');
}

/// The start tag for `name`, declaring its namespace locally if the root did not.
fn start_tag(p: &Prefixes, name: &PropName) -> (BytesStart<'static>, String) {
    match p.qualified(name) {
        Some(q) => (BytesStart::new(q.clone()), q),
        None => {
            // Only reached if a caller forgot to pre-register a namespace; still correct XML.
            let q = format!("XL:{}", name.local);
            let mut s = BytesStart::new(q.clone());
            s.push_attribute(("xmlns:XL", name.ns.as_ref()));
            (s, q)
        }
    }
}

/// Writes `<name/>`.
pub(super) fn empty(w: &mut XmlOut, p: &Prefixes, name: &PropName) -> io::Result<()> {
    let (s, _) = start_tag(p, name);
    w.write_event(Event::Empty(s))
}

/// Writes `<name a="v" …/>`.
pub(super) fn empty_with_attrs(
    w: &mut XmlOut,
    p: &Prefixes,
    name: &PropName,
    attrs: &[(&str, &str)],
) -> io::Result<()> {
    let (mut s, _) = start_tag(p, name);
    for (k, v) in attrs {
        s.push_attribute((*k, *v));
    }
    w.write_event(Event::Empty(s))
}

/// Writes `<name>`, calls `body`, then writes `</name>`.
pub(super) fn element(
    w: &mut XmlOut,
    p: &Prefixes,
    name: &PropName,
    body: impl FnOnce(&mut XmlOut) -> io::Result<()>,
) -> io::Result<()> {
    if let Some(parts) = p.parts(name) {
        raw_tag(w, parts, false);
        body(w)?;
        raw_tag(w, parts, true);
        return Ok(());
    }
    let (s, q) = start_tag(p, name);
    w.write_event(Event::Start(s))?;
    body(w)?;
    w.write_event(Event::End(BytesEnd::new(q)))
}

/// Writes `<name>text</name>` with the text escaped.
pub(super) fn text_element(
    w: &mut XmlOut,
    p: &Prefixes,
    name: &PropName,
    text: &str,
) -> io::Result<()> {
    element(w, p, name, |w| self::text(w, text))
}

pub(super) const HREF: PropName = PropName::new_static(ns::DAV, "href");

/// Writes `<D:href>` with `value` percent-encoded (see `href::encode_href`).
pub(super) fn href(w: &mut XmlOut, p: &Prefixes, value: &str) -> io::Result<()> {
    element(w, p, &HREF, |w| {
        super::href::write_href(w.get_mut(), value);
        Ok(())
    })
}

/// Writes escaped character data. CR is written as `&#13;` because XML parsers turn a literal
/// CRLF into LF, and iCalendar/vCard data must reach the client with its CRLF line ends intact.
pub(super) fn text(w: &mut XmlOut, text: &str) -> io::Result<()> {
    // Escaped text is written as it is: the writer does not indent, so an event would add
    // nothing but its cost, paid several times per member of a listing.
    let out = w.get_mut();
    let bytes = text.as_bytes();
    // Most text (ETags, content types, tokens) has nothing to escape: copied as it is.
    if memchr::memchr3(b'<', b'>', b'&', bytes).is_none() && memchr::memchr(b'\r', bytes).is_none()
    {
        out.extend_from_slice(bytes);
        return Ok(());
    }
    // Only `<`, `>` and `&` need escaping in content; quotes stay readable (`"etag"`). One
    // pass: a body has a CR on every line, and escaping then replacing CRs took two more.
    out.reserve(bytes.len() + bytes.len() / 8);
    let mut copied = 0;
    for (at, byte) in bytes.iter().enumerate() {
        let entity: &[u8] = match byte {
            b'<' => b"&lt;",
            b'>' => b"&gt;",
            b'&' => b"&amp;",
            b'\r' => b"&#13;",
            _ => continue,
        };
        out.extend_from_slice(&bytes[copied..at]);
        out.extend_from_slice(entity);
        copied = at + 1;
    }
    out.extend_from_slice(&bytes[copied..]);
    Ok(())
}

/// Writes a tree of nodes (a dead property value or a structured live value).
pub(super) fn nodes(w: &mut XmlOut, p: &Prefixes, nodes: &[XmlNode]) -> io::Result<()> {
    for n in nodes {
        match n {
            XmlNode::Text(t) => text(w, t)?,
            XmlNode::Element(e) => xml_element(w, p, e, &[])?,
        }
    }
    Ok(())
}

fn xml_element(
    w: &mut XmlOut,
    p: &Prefixes,
    e: &XmlElement,
    extra: &[(String, String)],
) -> io::Result<()> {
    let (mut s, q) = start_tag(p, &e.name);
    for (k, v) in extra {
        s.push_attribute((k.as_str(), v.as_str()));
    }
    for a in &e.attrs {
        let key = p
            .qualified(&a.name)
            .unwrap_or_else(|| a.name.local.to_string());
        s.push_attribute((key.as_str(), a.value.as_str()));
    }
    if e.children.is_empty() {
        return w.write_event(Event::Empty(s));
    }
    w.write_event(Event::Start(s))?;
    nodes(w, p, &e.children)?;
    w.write_event(Event::End(BytesEnd::new(q)))
}

/// Canonical self-contained serialization of a node list: each top-level element declares the
/// namespaces its subtree uses.
pub(super) fn standalone_fragment(list: &[XmlNode]) -> Vec<u8> {
    let mut w = Writer::new(Vec::new());
    let result: io::Result<()> = list.iter().try_for_each(|n| match n {
        XmlNode::Text(t) => text(&mut w, t),
        XmlNode::Element(e) => {
            let mut p = Prefixes::default();
            p.add_element(e);
            xml_element(&mut w, &p, e, &p.declarations())
        }
    });
    // Writing into a Vec cannot fail; keep whatever was produced if it somehow did.
    let _ = result;
    w.into_inner()
}

/// Starts a document: XML declaration, then `<root xmlns:…>`.
pub(super) fn start_document(w: &mut XmlOut, p: &Prefixes, root: &PropName) -> io::Result<String> {
    w.get_mut()
        .extend_from_slice(b"<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
    let (mut s, q) = start_tag(p, root);
    for (k, v) in p.declarations() {
        s.push_attribute((k.as_str(), v.as_str()));
    }
    w.write_event(Event::Start(s))?;
    Ok(q)
}

pub(super) fn end(w: &mut XmlOut, q: &str) -> io::Result<()> {
    w.write_event(Event::End(BytesEnd::new(q)))
}
