//! Properties of an imported Convertigo project that FullSync Studio keeps (export writes them
//! back as they were) but does not edit: a connector's `secureDatabase` and `comment`, a
//! variable's `comment`, `visibility`, ciphered value, 7.x `xmlTypeAffectation`... The studio
//! shows them read-only in the property sheets.

use std::path::Path;

use serde::Serialize;

use crate::convertigo::{read_c8o, C8oError, Elem, Node, ORIGINAL_DIR};

/// One kept property.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct KeptProperty {
    /// What it belongs to: `connector`, or `variable <name>` of a transaction.
    pub owner: String,
    /// Convertigo property name.
    pub key: String,
    /// Its value as written (a complex value is summarised).
    pub value: String,
}

/// Connector properties FullSync Studio edits.
const CONNECTOR_EDITED: &[&str] = &["anonymousReplication"];
/// Variable properties FullSync Studio edits.
const VARIABLE_EDITED: &[&str] = &["description", "value", "required", "schemaType"];

fn props(e: &Elem, owner: &str, skip: &[&str], out: &mut Vec<KeptProperty>) {
    for n in &e.children {
        let Node::Elem(p) = n else { continue };
        if p.bean || skip.contains(&p.key.as_str()) {
            continue;
        }
        let value = match e.prop(&p.key) {
            Some(v) => v,
            None if p.key == "xmlTypeAffectation" => {
                crate::c8o_types::qname_type(e).unwrap_or_else(|| "(XML type)".into())
            }
            None => "(structured value)".into(),
        };
        out.push(KeptProperty {
            owner: owner.into(),
            key: p.key.clone(),
            value,
        });
    }
}

/// The kept properties of a FullSync connector (`transaction: None`) or of the variables of
/// one of its transactions, read from the project's Convertigo copy. Empty for a project that
/// was not imported from Convertigo, or an item that is not in the copy.
pub fn kept_properties(
    root: &Path,
    connector: &str,
    transaction: Option<&str>,
) -> Result<Vec<KeptProperty>, C8oError> {
    let base = root.join(ORIGINAL_DIR);
    if !base.join("c8oProject.yaml").exists() {
        return Ok(vec![]);
    }
    let c8o = read_c8o(&base)?;
    let Some(conn) = c8o.project().and_then(|p| {
        p.beans()
            .find(|b| b.class() == "connectors.FullSyncConnector" && b.name() == connector)
    }) else {
        return Ok(vec![]);
    };
    let mut out = vec![];
    match transaction {
        None => props(conn, "connector", CONNECTOR_EDITED, &mut out),
        Some(t) => {
            let tx = conn
                .beans()
                .find(|b| b.class().starts_with("transactions.") && b.name() == t);
            for v in tx.into_iter().flat_map(|t| t.beans()) {
                if v.class().starts_with("variables.Requestable") {
                    props(
                        v,
                        &format!("variable {}", v.name()),
                        VARIABLE_EDITED,
                        &mut out,
                    );
                }
            }
        }
    }
    Ok(out)
}
