//! Rendering `207 Multi-Status` bodies: responses, propstat groups, values and sync-token.

use std::io;

use quick_xml::Writer;
use quick_xml::events::{BytesCData, Event};

use super::name::{PropName, ns};
use super::precondition::Precondition;
use super::value::XmlValue;
use super::xml_writer::{self, Prefixes, XmlOut};

const MULTISTATUS: PropName = PropName::new_static(ns::DAV, "multistatus");
const RESPONSE: PropName = PropName::new_static(ns::DAV, "response");
const PROPSTAT: PropName = PropName::new_static(ns::DAV, "propstat");
const PROP: PropName = PropName::new_static(ns::DAV, "prop");
const STATUS: PropName = PropName::new_static(ns::DAV, "status");
const ERROR: PropName = PropName::new_static(ns::DAV, "error");
const RESPONSEDESCRIPTION: PropName = PropName::new_static(ns::DAV, "responsedescription");
const SYNC_TOKEN: PropName = PropName::new_static(ns::DAV, "sync-token");
const SUPPORTED_REPORT: PropName = PropName::new_static(ns::DAV, "supported-report");
const REPORT: PropName = PropName::new_static(ns::DAV, "report");
const PRIVILEGE: PropName = PropName::new_static(ns::DAV, "privilege");
const COMP: PropName = PropName::new_static(ns::CALDAV, "comp");
const CALENDAR_DATA_TYPE: PropName = PropName::new_static(ns::CALDAV, "calendar-data");
const ADDRESS_DATA_TYPE: PropName = PropName::new_static(ns::CARDDAV, "address-data-type");

/// A property value to render.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PropValue {
    /// `<name/>`: for propname answers and for 404/403/424 propstat entries.
    Empty,
    /// Escaped character data (displayname, getetag, getctag, sync-token, calendar-data, …).
    Text(String),
    /// Character data in CDATA sections. Note that a client's XML parser turns CRLF inside CDATA
    /// into LF; prefer `Text`, which preserves CR.
    CData(String),
    /// One `<D:href>`: a decoded path (encoded on output) or an absolute URI.
    Href(String),
    /// Several `<D:href>`s (calendar-user-address-set, calendar-home-set, …).
    Hrefs(Vec<String>),
    /// Empty child elements, e.g. resourcetype `<D:collection/><C:calendar/>`.
    Elements(Vec<PropName>),
    /// supported-calendar-component-set: `<C:comp name="VEVENT"/>` per component.
    Components(Vec<String>),
    /// supported-report-set: `<D:supported-report><D:report><R/></D:report></D:supported-report>`.
    Reports(Vec<PropName>),
    /// current-user-privilege-set: `<D:privilege><P/></D:privilege>` per privilege.
    Privileges(Vec<PropName>),
    /// supported-calendar-data: `<C:calendar-data content-type=… version=…/>` per (type, version).
    CalendarDataTypes(Vec<(String, String)>),
    /// supported-address-data: `<CR:address-data-type content-type=… version=…/>`.
    AddressDataTypes(Vec<(String, String)>),
    /// Arbitrary XML, e.g. a stored dead property.
    Xml(XmlValue),
}

/// A property and its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Property {
    pub name: PropName,
    pub value: PropValue,
}

impl Property {
    pub fn new(name: PropName, value: PropValue) -> Self {
        Self { name, value }
    }

    /// A value-less entry (propname, or a failed property in a non-200 propstat).
    pub fn empty(name: PropName) -> Self {
        Self::new(name, PropValue::Empty)
    }

    pub fn text(name: PropName, text: impl Into<String>) -> Self {
        Self::new(name, PropValue::Text(text.into()))
    }
}

/// The properties of one response that share a status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PropStat {
    pub status: u16,
    pub props: Vec<Property>,
    pub error: Option<Precondition>,
    pub description: Option<String>,
}

/// What a response reports: properties grouped by status, or a bare status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResponseKind {
    PropStats(Vec<PropStat>),
    /// e.g. 404 for a member removed since the sync-token, 507 for a truncated listing.
    Status(u16),
}

/// One `<D:response>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// A decoded path (`/cal/work/a b.ics`, collections with their trailing `/`) or absolute URI.
    pub href: String,
    pub kind: ResponseKind,
    pub error: Option<Precondition>,
    pub description: Option<String>,
}

impl Response {
    /// A response that will carry propstat groups.
    pub fn new(href: impl Into<String>) -> Self {
        Self {
            href: href.into(),
            kind: ResponseKind::PropStats(Vec::new()),
            error: None,
            description: None,
        }
    }

    /// A response with only a status line.
    pub fn status(href: impl Into<String>, status: u16) -> Self {
        Self {
            kind: ResponseKind::Status(status),
            ..Self::new(href)
        }
    }

    /// Adds a property under `status`, creating that propstat group on first use. Groups keep
    /// the order in which their status first appeared. On a status-only response this turns
    /// it into a propstat response.
    pub fn add(&mut self, status: u16, property: Property) -> &mut Self {
        if let ResponseKind::Status(_) = self.kind {
            self.kind = ResponseKind::PropStats(Vec::new());
        }
        if let ResponseKind::PropStats(groups) = &mut self.kind {
            match groups.iter_mut().find(|g| g.status == status) {
                Some(g) => g.props.push(property),
                None => groups.push(PropStat {
                    status,
                    props: vec![property],
                    error: None,
                    description: None,
                }),
            }
        }
        self
    }

    /// Builder form of [`Response::add`].
    pub fn with(mut self, status: u16, property: Property) -> Self {
        self.add(status, property);
        self
    }

    /// Attaches a precondition to the propstat group with `status` (creating it if needed),
    /// e.g. 403 `cannot-modify-protected-property` in a PROPPATCH answer.
    pub fn with_propstat_error(mut self, status: u16, error: Precondition) -> Self {
        if let ResponseKind::PropStats(groups) = &mut self.kind {
            match groups.iter_mut().find(|g| g.status == status) {
                Some(g) => g.error = Some(error),
                None => groups.push(PropStat {
                    status,
                    props: Vec::new(),
                    error: Some(error),
                    description: None,
                }),
            }
        }
        self
    }

    pub fn with_error(mut self, error: Precondition) -> Self {
        self.error = Some(error);
        self
    }

    pub fn with_description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }
}

/// A `207 Multi-Status` body.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Multistatus {
    pub responses: Vec<Response>,
    pub description: Option<String>,
    /// RFC 6578: the new sync-token, rendered after all responses.
    pub sync_token: Option<String>,
}

impl Multistatus {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, response: Response) -> &mut Self {
        self.responses.push(response);
        self
    }

    pub fn with_sync_token(mut self, token: impl Into<String>) -> Self {
        self.sync_token = Some(token.into());
        self
    }

    pub fn with_description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// Renders the body: UTF-8, compact, namespace prefixes declared once on the root.
    /// Byte-identical output for equal input.
    pub fn render(&self) -> Vec<u8> {
        let mut out = MultistatusWriter::new(&self.responses, &[]);
        for r in &self.responses {
            out.push(r);
        }
        out.finish(self.description.as_deref(), self.sync_token.as_deref())
    }
}

/// A multistatus body written response by response, so that a listing of many members never
/// holds them all as one tree: each response can be built, written and dropped in turn.
pub struct MultistatusWriter {
    w: XmlOut,
    p: Prefixes,
    root: String,
}

/// What every member of a listing shares, written once: the tags around its href and its
/// properties, its collection's path, its status lines, the properties no member has. A member
/// adds its name and its texts between them.
pub struct ListedShape {
    pieces: Vec<Piece>,
}

enum Piece {
    Bytes(Vec<u8>),
    /// The member's name, encoded as the rest of the href (its collection's path) is.
    Name(&'static percent_encoding::AsciiSet),
    /// The member's text for the property at `index`: between `open` and `close`, or `empty`
    /// when the text is.
    Text {
        index: usize,
        open: Vec<u8>,
        close: Vec<u8>,
        empty: Vec<u8>,
    },
}

impl Piece {
    /// The text of the property `name`, the `index`th a shape was made for.
    fn text(p: &Prefixes, index: usize, name: &PropName) -> io::Result<Piece> {
        let mut open = Writer::new(Vec::new());
        let mut at = 0;
        xml_writer::element(&mut open, p, name, |w| {
            at = w.get_ref().len();
            Ok(())
        })?;
        let close = open.get_mut().split_off(at);
        let mut empty = Writer::new(Vec::new());
        xml_writer::empty(&mut empty, p, name)?;
        Ok(Piece::Text {
            index,
            open: open.into_inner(),
            close,
            empty: empty.into_inner(),
        })
    }
}

impl MultistatusWriter {
    /// Starts the body. The root declares the namespaces used by `responses` and `names` (the
    /// property names a listing asks for), besides the five standard ones; a response that
    /// uses another declares it on its own element, which is still correct XML.
    pub fn new(responses: &[Response], names: &[PropName]) -> Self {
        let mut p = Prefixes::standard();
        for r in responses {
            collect_namespaces(r, &mut p);
        }
        for name in names {
            p.add(&name.ns);
        }
        let mut w = Writer::new(Vec::new());
        // Writing into a Vec cannot fail.
        let root = xml_writer::start_document(&mut w, &p, &MULTISTATUS).unwrap_or_default();
        MultistatusWriter { w, p, root }
    }

    pub fn push(&mut self, response: &Response) {
        let _ = write_response(&mut self.w, &self.p, response);
    }

    /// The shape of a listing's members of `collection` (its decoded path) whose properties are
    /// all text (`true`) or missing (`false`): made once, it writes each member as
    /// [`push`](Self::push) writes the same response, without building one (see
    /// [`push_shaped`](Self::push_shaped)).
    pub fn shape(&self, collection: &str, props: &[(&PropName, bool)]) -> ListedShape {
        let p = &self.p;
        let pieces = std::cell::RefCell::new(Vec::new());
        // What was written so far is one piece of bytes, and `piece` comes after it.
        let cut = |w: &mut XmlOut, piece: Piece| {
            let bytes = std::mem::take(w.get_mut());
            pieces.borrow_mut().extend([Piece::Bytes(bytes), piece]);
        };
        let mut w = Writer::new(Vec::new());
        // Writing into a Vec cannot fail.
        let _ = xml_writer::element(&mut w, p, &RESPONSE, |w| {
            xml_writer::element(w, p, &xml_writer::HREF, |w| {
                let set = super::href::set_for(collection);
                super::href::write_encoded(w.get_mut(), collection, set);
                cut(w, Piece::Name(set));
                Ok(())
            })?;
            if props.is_empty() {
                let nothing = None::<fn(&mut XmlOut) -> io::Result<()>>;
                return propstat(w, p, 200, nothing, None, None);
            }
            // Groups in the order their status first appears, as `Response::add` makes them.
            let first_found = props.first().is_none_or(|(_, found)| *found);
            for wanted in [first_found, !first_found] {
                let mut group = props
                    .iter()
                    .enumerate()
                    .filter(|(_, (_, found))| *found == wanted)
                    .peekable();
                if group.peek().is_none() {
                    continue;
                }
                let write = |w: &mut XmlOut| {
                    group.try_for_each(|(index, (name, found))| {
                        if !found {
                            return xml_writer::empty(w, p, name);
                        }
                        cut(w, Piece::text(p, index, name)?);
                        Ok(())
                    })
                };
                propstat(
                    w,
                    p,
                    if wanted { 200 } else { 404 },
                    Some(write),
                    None,
                    None,
                )?;
            }
            Ok(())
        });
        let mut pieces = pieces.into_inner();
        pieces.push(Piece::Bytes(w.into_inner()));
        pieces.retain(|piece| !matches!(piece, Piece::Bytes(bytes) if bytes.is_empty()));
        ListedShape { pieces }
    }

    /// Writes the member `name` of a listing in `shape`: `text(i)` is its text for the `i`th
    /// property the shape was made for (an empty one is written as an empty element).
    pub fn push_shaped<'t>(
        &mut self,
        shape: &ListedShape,
        name: &str,
        text: impl Fn(usize) -> &'t str,
    ) {
        for piece in &shape.pieces {
            match piece {
                Piece::Bytes(bytes) => self.w.get_mut().extend_from_slice(bytes),
                Piece::Name(set) => super::href::write_encoded(self.w.get_mut(), name, set),
                Piece::Text {
                    index,
                    open,
                    close,
                    empty,
                } => match text(*index) {
                    "" => self.w.get_mut().extend_from_slice(empty),
                    value => {
                        self.w.get_mut().extend_from_slice(open);
                        let _ = xml_writer::text(&mut self.w, value);
                        self.w.get_mut().extend_from_slice(close);
                    }
                },
            }
        }
    }

    /// The body, closed after an optional description and sync-token (RFC 6578).
    pub fn finish(mut self, description: Option<&str>, sync_token: Option<&str>) -> Vec<u8> {
        let (w, p) = (&mut self.w, &self.p);
        if let Some(d) = description {
            let _ = xml_writer::text_element(w, p, &RESPONSEDESCRIPTION, d);
        }
        if let Some(t) = sync_token {
            let _ = xml_writer::text_element(w, p, &SYNC_TOKEN, t);
        }
        let _ = xml_writer::end(w, &self.root);
        self.w.into_inner()
    }
}

fn collect_namespaces(r: &Response, p: &mut Prefixes) {
    if let Some(e) = &r.error {
        p.add(&e.name.ns);
    }
    if let ResponseKind::PropStats(groups) = &r.kind {
        for g in groups {
            if let Some(e) = &g.error {
                p.add(&e.name.ns);
            }
            for prop in &g.props {
                p.add(&prop.name.ns);
                match &prop.value {
                    PropValue::Elements(list)
                    | PropValue::Reports(list)
                    | PropValue::Privileges(list) => {
                        for n in list {
                            p.add(&n.ns);
                        }
                    }
                    PropValue::Xml(v) => p.add_nodes(&v.nodes),
                    _ => {}
                }
            }
        }
    }
}

fn write_response(w: &mut XmlOut, p: &Prefixes, r: &Response) -> io::Result<()> {
    xml_writer::element(w, p, &RESPONSE, |w| {
        xml_writer::href(w, p, &r.href)?;
        match &r.kind {
            ResponseKind::Status(code) => {
                xml_writer::text_element(w, p, &STATUS, &status_line(*code))?
            }
            ResponseKind::PropStats(groups) if groups.is_empty() => {
                // A response needs a status or a propstat; an empty 200 group says "nothing".
                write_propstat(
                    w,
                    p,
                    &PropStat {
                        status: 200,
                        props: Vec::new(),
                        error: None,
                        description: None,
                    },
                )?;
            }
            ResponseKind::PropStats(groups) => {
                for g in groups {
                    write_propstat(w, p, g)?;
                }
            }
        }
        if let Some(e) = &r.error {
            xml_writer::element(w, p, &ERROR, |w| e.write(w, p))?;
        }
        if let Some(d) = &r.description {
            xml_writer::text_element(w, p, &RESPONSEDESCRIPTION, d)?;
        }
        Ok(())
    })
}

fn write_propstat(w: &mut XmlOut, p: &Prefixes, g: &PropStat) -> io::Result<()> {
    let props = (!g.props.is_empty()).then_some(|w: &mut XmlOut| {
        g.props
            .iter()
            .try_for_each(|prop| write_property(w, p, prop))
    });
    propstat(
        w,
        p,
        g.status,
        props,
        g.error.as_ref(),
        g.description.as_deref(),
    )
}

/// A `<D:propstat>`: the properties `props` writes (an empty `<D:prop/>` when `None`), their
/// status, and what went wrong with them.
fn propstat(
    w: &mut XmlOut,
    p: &Prefixes,
    status: u16,
    props: Option<impl FnOnce(&mut XmlOut) -> io::Result<()>>,
    error: Option<&Precondition>,
    description: Option<&str>,
) -> io::Result<()> {
    xml_writer::element(w, p, &PROPSTAT, |w| {
        match props {
            Some(props) => xml_writer::element(w, p, &PROP, props)?,
            None => xml_writer::empty(w, p, &PROP)?,
        }
        // A listing has one 200 group per member: its line is not formatted each time.
        let line = match status {
            200 => std::borrow::Cow::Borrowed("HTTP/1.1 200 OK"),
            other => status_line(other).into(),
        };
        xml_writer::text_element(w, p, &STATUS, &line)?;
        if let Some(e) = error {
            xml_writer::element(w, p, &ERROR, |w| e.write(w, p))?;
        }
        if let Some(d) = description {
            xml_writer::text_element(w, p, &RESPONSEDESCRIPTION, d)?;
        }
        Ok(())
    })
}

fn write_property(w: &mut XmlOut, p: &Prefixes, prop: &Property) -> io::Result<()> {
    let name = &prop.name;
    match &prop.value {
        PropValue::Empty => xml_writer::empty(w, p, name),
        PropValue::Text(t) if t.is_empty() => xml_writer::empty(w, p, name),
        PropValue::Text(t) => xml_writer::text_element(w, p, name, t),
        PropValue::CData(t) if t.is_empty() => xml_writer::empty(w, p, name),
        PropValue::CData(t) => xml_writer::element(w, p, name, |w| write_cdata(w, t)),
        PropValue::Href(h) => xml_writer::element(w, p, name, |w| xml_writer::href(w, p, h)),
        PropValue::Hrefs(list) if list.is_empty() => xml_writer::empty(w, p, name),
        PropValue::Hrefs(list) => xml_writer::element(w, p, name, |w| {
            list.iter().try_for_each(|h| xml_writer::href(w, p, h))
        }),
        PropValue::Elements(list) if list.is_empty() => xml_writer::empty(w, p, name),
        PropValue::Elements(list) => xml_writer::element(w, p, name, |w| {
            list.iter().try_for_each(|n| xml_writer::empty(w, p, n))
        }),
        PropValue::Components(list) => xml_writer::element(w, p, name, |w| {
            list.iter()
                .try_for_each(|c| attr_element(w, p, &COMP, &[("name", c)]))
        }),
        PropValue::Reports(list) => xml_writer::element(w, p, name, |w| {
            list.iter().try_for_each(|r| {
                xml_writer::element(w, p, &SUPPORTED_REPORT, |w| {
                    xml_writer::element(w, p, &REPORT, |w| xml_writer::empty(w, p, r))
                })
            })
        }),
        PropValue::Privileges(list) => xml_writer::element(w, p, name, |w| {
            list.iter().try_for_each(|r| {
                xml_writer::element(w, p, &PRIVILEGE, |w| xml_writer::empty(w, p, r))
            })
        }),
        PropValue::CalendarDataTypes(list) => xml_writer::element(w, p, name, |w| {
            list.iter().try_for_each(|(t, v)| {
                attr_element(
                    w,
                    p,
                    &CALENDAR_DATA_TYPE,
                    &[("content-type", t), ("version", v)],
                )
            })
        }),
        PropValue::AddressDataTypes(list) => xml_writer::element(w, p, name, |w| {
            list.iter().try_for_each(|(t, v)| {
                attr_element(
                    w,
                    p,
                    &ADDRESS_DATA_TYPE,
                    &[("content-type", t), ("version", v)],
                )
            })
        }),
        PropValue::Xml(v) if v.is_empty() => xml_writer::empty(w, p, name),
        PropValue::Xml(v) => xml_writer::element(w, p, name, |w| xml_writer::nodes(w, p, &v.nodes)),
    }
}

fn attr_element(
    w: &mut XmlOut,
    p: &Prefixes,
    name: &PropName,
    attrs: &[(&str, &str)],
) -> io::Result<()> {
    xml_writer::empty_with_attrs(w, p, name, attrs)
}

/// CDATA cannot contain `]]>`; split it across two sections so any text is representable.
fn write_cdata(w: &mut XmlOut, text: &str) -> io::Result<()> {
    let pieces: Vec<&str> = text.split("]]>").collect();
    let last = pieces.len().saturating_sub(1);
    for (i, piece) in pieces.iter().enumerate() {
        let mut chunk = String::with_capacity(piece.len() + 3);
        if i > 0 {
            chunk.push('>');
        }
        chunk.push_str(piece);
        if i < last {
            chunk.push_str("]]");
        }
        w.write_event(Event::CData(BytesCData::new(chunk)))?;
    }
    Ok(())
}

/// `HTTP/1.1 <code> <reason>` as used in `<D:status>` (upper-case reason text: old iOS
/// needed it).
pub fn status_line(code: u16) -> String {
    format!("HTTP/1.1 {code} {}", reason_phrase(code))
}

fn reason_phrase(code: u16) -> &'static str {
    match code {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        207 => "Multi-Status",
        301 => "Moved Permanently",
        302 => "Found",
        304 => "Not Modified",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        412 => "Precondition Failed",
        413 => "Payload Too Large",
        415 => "Unsupported Media Type",
        422 => "Unprocessable Entity",
        423 => "Locked",
        424 => "Failed Dependency",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        507 => "Insufficient Storage",
        _ => "Unknown",
    }
}
