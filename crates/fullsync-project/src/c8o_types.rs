//! Variable types written the Convertigo 7.x way: an `xmlTypeAffectation` property holding an
//! `XmlQName` (`schemaDefinition` with `pLocalPart` and `pNamespace` attributes) instead of
//! `schemaType: xsd:...`:
//!
//! ```text
//! xmlTypeAffectation:
//!   - xmlizable:
//!     - ↑classname: com.twinsoft.convertigo.beans.common.XmlQName
//!     - schemaDefinition:
//!       - ↑pLocalPart: long
//!       - ↑pNamespace: http://www.w3.org/2001/XMLSchema
//! ```

use crate::convertigo::{Elem, Node};

/// The XML Schema namespace (`xsd:`).
pub const XSD_NS: &str = "http://www.w3.org/2001/XMLSchema";

fn child<'a>(e: &'a Elem, key: &str) -> Option<&'a Elem> {
    e.children.iter().find_map(|n| match n {
        Node::Elem(c) if !c.bean && c.key == key => Some(c),
        _ => None,
    })
}

fn child_mut<'a>(e: &'a mut Elem, key: &str) -> Option<&'a mut Elem> {
    e.children.iter_mut().find_map(|n| match n {
        Node::Elem(c) if !c.bean && c.key == key => Some(c),
        _ => None,
    })
}

fn qname(e: &Elem) -> Option<&Elem> {
    child(
        child(child(e, "xmlTypeAffectation")?, "xmlizable")?,
        "schemaDefinition",
    )
}

/// The type of a variable bean given by its `xmlTypeAffectation` (`xsd:long`), when it has one
/// in the XML Schema namespace.
pub fn qname_type(var: &Elem) -> Option<String> {
    let q = qname(var)?;
    let local = q.attr("pLocalPart").filter(|l| !l.is_empty())?;
    match q.attr("pNamespace") {
        None | Some(XSD_NS) => Some(format!("xsd:{local}")),
        Some(_) => None,
    }
}

/// Sets the local part of a variable bean's `xmlTypeAffectation` (`long`); nothing changes when
/// it is already that, or when the bean has none.
pub fn set_qname_type(var: &mut Elem, local: &str) {
    let Some(q) = child_mut(var, "xmlTypeAffectation")
        .and_then(|x| child_mut(x, "xmlizable"))
        .and_then(|x| child_mut(x, "schemaDefinition"))
    else {
        return;
    };
    match q.attrs.iter_mut().find(|(k, _)| k == "pLocalPart") {
        Some((_, v)) if v == local => {}
        Some((_, v)) => *v = local.to_string(),
        None => q.attrs.insert(0, ("pLocalPart".into(), local.into())),
    }
}
