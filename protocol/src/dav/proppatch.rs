//! PROPPATCH request bodies (RFC 4918 §9.2): ordered set/remove instructions.

use super::error::XmlError;
use super::limits::Limits;
use super::name::{PropName, ns};
use super::reader::{expect_root, is_dav, parse_required};
use super::value::XmlValue;

const PROPERTYUPDATE: PropName = PropName::new_static(ns::DAV, "propertyupdate");

/// One instruction of a PROPPATCH, in document order (RFC 4918 §9.2 requires that order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PropPatchOp {
    Set(PropName, XmlValue),
    Remove(PropName),
}

impl PropPatchOp {
    pub fn name(&self) -> &PropName {
        match self {
            PropPatchOp::Set(n, _) | PropPatchOp::Remove(n) => n,
        }
    }
}

/// Parses a PROPPATCH body into its instructions.
///
/// Values are kept as XML ([`XmlValue`]) so arbitrary dead properties round-trip; the server
/// decides per property whether it is protected (403 `cannot-modify-protected-property`).
pub fn parse_proppatch(body: &[u8], limits: &Limits) -> Result<Vec<PropPatchOp>, XmlError> {
    let root = parse_required(body, limits, "D:propertyupdate")?;
    expect_root(&root, &PROPERTYUPDATE)?;
    let mut ops = Vec::new();
    for instruction in root.elements() {
        let set = is_dav(instruction, "set");
        if !set && !is_dav(instruction, "remove") {
            continue;
        }
        for prop in instruction.elements().filter(|e| is_dav(e, "prop")) {
            for p in prop.elements() {
                ops.push(if set {
                    PropPatchOp::Set(p.name.clone(), XmlValue::from_nodes(p.children.clone()))
                } else {
                    PropPatchOp::Remove(p.name.clone())
                });
            }
        }
    }
    if ops.is_empty() {
        return Err(XmlError::Invalid(
            "propertyupdate contains no <set> or <remove> with properties".into(),
        ));
    }
    Ok(ops)
}
