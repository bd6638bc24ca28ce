//! docdata JSON, written like `JSONObject.toString(2)`.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use crate::model::*;

/// docdata JSON of a design document (no `_rev`), keys in the order import writes them.
pub fn docdata_value(dd: &DesignDoc) -> Value {
    let mut keys: BTreeMap<String, Value> = BTreeMap::new();
    let mut views = Map::new();
    for v in &dd.views {
        let mut def = Map::new();
        def.insert("map".into(), json!(v.map.text));
        if let Some(r) = &v.reduce {
            def.insert("reduce".into(), json!(r.text.trim()));
        }
        views.insert(v.name.clone(), Value::Object(def));
    }
    if !dd.lib.is_empty() {
        let lib: Map<String, Value> = dd
            .lib
            .iter()
            .map(|(k, f)| (k.clone(), json!(f.text)))
            .collect();
        views.insert("lib".into(), Value::Object(lib));
    }
    if !views.is_empty() {
        keys.insert("views".into(), Value::Object(views));
    }
    if !dd.filters.is_empty() {
        let f: Map<String, Value> = dd
            .filters
            .iter()
            .map(|(n, s)| (n.clone(), json!(s.text)))
            .collect();
        keys.insert("filters".into(), Value::Object(f));
    }
    if let Some(v) = &dd.validate {
        keys.insert("validate_doc_update".into(), json!(v.text));
    }
    for (k, v) in &dd.other {
        keys.entry(k.clone()).or_insert_with(|| v.clone());
    }
    let mut doc = Map::new();
    doc.insert("_id".into(), json!(format!("_design/{}", dd.name)));
    doc.extend(keys);
    Value::Object(doc)
}

/// docdata text of a design document, as Convertigo writes it (before YAML quoting).
pub fn docdata_text(dd: &DesignDoc) -> String {
    crate::c8o_style::print(&docdata_value(dd), crate::c8o_style::JsonStyle::default())
}

/// Parses a docdata text (YAML quoting already removed): real newlines are deleted.
pub fn parse_docdata(text: &str) -> Result<Value, serde_json::Error> {
    let t: String = text.chars().filter(|c| *c != '\n' && *c != '\r').collect();
    serde_json::from_str(&t)
}
