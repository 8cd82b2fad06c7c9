//! The parsed XML tree, and `XmlValue`: a property value kept as XML so dead properties round-trip.

use super::error::XmlError;
use super::limits::Limits;
use super::name::PropName;

/// An attribute. Unprefixed attributes have an empty namespace (XML Namespaces §6.2).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct XmlAttr {
    pub name: PropName,
    pub value: String,
}

/// An element with resolved names. Comments and processing instructions are not kept.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct XmlElement {
    pub name: PropName,
    pub attrs: Vec<XmlAttr>,
    pub children: Vec<XmlNode>,
}

/// A child of an element: another element or character data (entities and CDATA resolved).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum XmlNode {
    Element(XmlElement),
    Text(String),
}

impl XmlElement {
    pub fn new(name: PropName) -> Self {
        Self {
            name,
            attrs: Vec::new(),
            children: Vec::new(),
        }
    }

    /// Child elements, skipping text.
    pub fn elements(&self) -> impl Iterator<Item = &XmlElement> {
        self.children.iter().filter_map(|n| match n {
            XmlNode::Element(e) => Some(e),
            XmlNode::Text(_) => None,
        })
    }

    /// The first child element with the given name.
    pub fn child(&self, ns: &str, local: &str) -> Option<&XmlElement> {
        self.elements().find(|e| e.name.is(ns, local))
    }

    /// The concatenated character data directly inside this element.
    pub fn text(&self) -> String {
        let mut out = String::new();
        for n in &self.children {
            if let XmlNode::Text(t) = n {
                out.push_str(t);
            }
        }
        out
    }

    /// The value of an unprefixed attribute (the only kind DAV request elements use).
    pub fn attr(&self, local: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|a| a.name.ns.is_empty() && a.name.local == local)
            .map(|a| a.value.as_str())
    }
}

/// A property value as XML: the content between `<prop-name>` and `</prop-name>`.
///
/// PROPPATCH may set any property to any XML (RFC 4918 §9.2), so values are kept as a tree
/// with resolved namespaces rather than as typed data. `to_xml` gives a canonical,
/// self-contained string for storage (every namespace declared where used), and `from_xml`
/// reads it back, so a stored dead property renders exactly as it was set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct XmlValue {
    pub nodes: Vec<XmlNode>,
}

impl XmlValue {
    /// A value that is plain text, e.g. a displayname.
    pub fn text(s: impl Into<String>) -> Self {
        let s = s.into();
        if s.is_empty() {
            return Self::default();
        }
        Self {
            nodes: vec![XmlNode::Text(s)],
        }
    }

    pub fn from_nodes(nodes: Vec<XmlNode>) -> Self {
        Self { nodes }
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// The value as text when it contains no elements (`None` if it has element children).
    pub fn as_text(&self) -> Option<String> {
        let mut out = String::new();
        for n in &self.nodes {
            match n {
                XmlNode::Text(t) => out.push_str(t),
                XmlNode::Element(_) => return None,
            }
        }
        Some(out)
    }

    /// The top-level elements of the value.
    pub fn elements(&self) -> impl Iterator<Item = &XmlElement> {
        self.nodes.iter().filter_map(|n| match n {
            XmlNode::Element(e) => Some(e),
            XmlNode::Text(_) => None,
        })
    }

    /// Canonical, self-contained XML for storage. Deterministic for equal values.
    pub fn to_xml(&self) -> String {
        let bytes = super::xml_writer::standalone_fragment(&self.nodes);
        // The writer only ever receives `&str` input, so the output is UTF-8.
        String::from_utf8(bytes).unwrap_or_default()
    }

    /// Reads back a string produced by [`XmlValue::to_xml`] (or any well-formed XML fragment
    /// whose prefixes are declared inside it).
    pub fn from_xml(xml: &str, limits: &Limits) -> Result<Self, XmlError> {
        let wrapped = format!("<v>{xml}</v>");
        let inner = Limits {
            max_depth: limits.max_depth.saturating_add(1),
            max_elements: limits.max_elements.saturating_add(1),
            max_body_bytes: limits.max_body_bytes.saturating_add(7),
        };
        match super::reader::parse_document(wrapped.as_bytes(), &inner)? {
            Some(root) => Ok(Self {
                nodes: root.children,
            }),
            None => Ok(Self::default()),
        }
    }
}
