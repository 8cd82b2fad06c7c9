//! PROPFIND request bodies (RFC 4918 §9.1).

use super::error::XmlError;
use super::limits::Limits;
use super::name::{PropName, ns};
use super::prop::{PropRequest, parse_selection};
use super::reader::{expect_root, parse_document};

const PROPFIND: PropName = PropName::new_static(ns::DAV, "propfind");

/// Parses a PROPFIND body.
///
/// An empty body means allprop (RFC 4918 §9.1), and so does a `<propfind/>` with no selection
/// child: refusing it would break clients for no gain. Unknown children are ignored.
pub fn parse_propfind(body: &[u8], limits: &Limits) -> Result<PropRequest, XmlError> {
    let Some(root) = parse_document(body, limits)? else {
        return Ok(PropRequest::AllProp {
            include: Vec::new(),
        });
    };
    expect_root(&root, &PROPFIND)?;
    let selection = parse_selection(
        &root,
        PropRequest::AllProp {
            include: Vec::new(),
        },
    )?;
    Ok(selection.request)
}
