//! Design documents: views, filters, `validate_doc_update`, and the signature that names a
//! view index.

use md5::{Digest, Md5};
use serde_json::{json, Map, Value};

use crate::error::ViewError;
use crate::js::FnSet;

/// A reduce function.
#[derive(Clone, Debug, PartialEq)]
pub enum Reduce {
    /// `_sum`
    Sum,
    /// `_count`
    Count,
    /// `_stats`
    Stats,
    /// `_approx_count_distinct`
    ApproxCountDistinct,
    /// A JavaScript `function (keys, values, rereduce)`.
    Js(String),
}

impl Reduce {
    /// Parses a reduce source; a `_name` that is not a builtin is an error that names the
    /// builtins (a misspelled `_cout` is a common mistake).
    pub fn parse(src: &str) -> Result<Reduce, ViewError> {
        let t = src.trim();
        // As CouchDB (a binary prefix match): `"_sum\n..."` and `"_count // x"` are builtins.
        let builtin = |name: &str| t.starts_with(name);
        Ok(match t {
            _ if builtin("_sum") => Reduce::Sum,
            _ if builtin("_count") => Reduce::Count,
            _ if builtin("_stats") => Reduce::Stats,
            _ if builtin("_approx_count_distinct") => Reduce::ApproxCountDistinct,
            s if s.starts_with('_') => {
                return Err(ViewError::InvalidDesignDoc(format!(
                    "`{s}` is not a builtin reduce function; use _sum, _count, _stats or _approx_count_distinct, or a JavaScript function"
                )))
            }
            s => Reduce::Js(s.to_string()),
        })
    }
}

/// One view of a design document.
#[derive(Clone, Debug)]
pub struct ViewDef {
    /// View name.
    pub name: String,
    /// Map function source.
    pub map: String,
    /// Reduce, if any.
    pub reduce: Option<Reduce>,
}

/// The parts of a design document this crate uses.
#[derive(Clone, Debug)]
pub struct DesignDoc {
    /// `_design/...`
    pub id: String,
    /// Views sorted by name (index `i` of a view is its position here).
    pub views: Vec<ViewDef>,
    /// `filters`: name -> source.
    pub filters: Vec<(String, String)>,
    /// `validate_doc_update` source.
    pub validate: Option<String>,
    /// `options.include_design`: map design documents too.
    pub include_design: bool,
    /// `options.local_seq`: give map functions `_local_seq`.
    pub local_seq: bool,
    /// The whole document (for `require()`).
    pub raw: Value,
}

impl DesignDoc {
    /// Reads a design document. Views whose `map` is not a string are reported.
    pub fn from_json(v: &Value) -> Result<DesignDoc, ViewError> {
        let id = v
            .get("_id")
            .and_then(Value::as_str)
            .unwrap_or("_design/?")
            .to_string();
        if let Some(lang) = v.get("language").and_then(Value::as_str) {
            if lang != "javascript" && lang != "query" {
                return Err(ViewError::InvalidDesignDoc(format!(
                    "{id}: language `{lang}` is not supported; only javascript"
                )));
            }
        }
        let mut views = vec![];
        let is_query = v.get("language").and_then(Value::as_str) == Some("query");
        if let (false, Some(Value::Object(vs))) = (is_query, v.get("views")) {
            for (name, def) in vs {
                if name == "lib" {
                    continue;
                }
                let map = def.get("map").and_then(Value::as_str).ok_or_else(|| {
                    ViewError::InvalidDesignDoc(format!(
                        "{id}: view `{name}` has no map function (a string)"
                    ))
                })?;
                let reduce = match def.get("reduce") {
                    Some(Value::String(r)) => Some(Reduce::parse(r).map_err(|e| match e {
                        ViewError::InvalidDesignDoc(m) => {
                            ViewError::InvalidDesignDoc(format!("{id}: view `{name}`: {m}"))
                        }
                        e => e,
                    })?),
                    None | Some(Value::Null) => None,
                    Some(_) => {
                        return Err(ViewError::InvalidDesignDoc(format!(
                            "{id}: view `{name}`: reduce must be a string"
                        )))
                    }
                };
                views.push(ViewDef {
                    name: name.clone(),
                    map: map.to_string(),
                    reduce,
                });
            }
        }
        views.sort_by(|a, b| a.name.cmp(&b.name));
        let filters = match v.get("filters") {
            Some(Value::Object(f)) => f
                .iter()
                .filter_map(|(k, s)| s.as_str().map(|s| (k.clone(), s.to_string())))
                .collect(),
            _ => vec![],
        };
        let opts = v.get("options").cloned().unwrap_or(Value::Null);
        Ok(DesignDoc {
            id,
            views,
            filters,
            validate: v
                .get("validate_doc_update")
                .and_then(Value::as_str)
                .map(str::to_string),
            include_design: opts
                .get("include_design")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            local_seq: opts
                .get("local_seq")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            raw: v.clone(),
        })
    }

    /// The index signature: changes when any map/reduce, `views.lib` or option changes, so an
    /// edit invalidates this design document's index only.
    pub fn signature(&self) -> String {
        let views: Map<String, Value> = self
            .views
            .iter()
            .map(|v| {
                let r = match &v.reduce {
                    None => Value::Null,
                    Some(Reduce::Js(s)) => json!(s),
                    Some(b) => json!(format!("{b:?}")),
                };
                (v.name.clone(), json!({"map": v.map, "reduce": r}))
            })
            .collect();
        let sig = json!({
            "views": views,
            "lib": self.raw.get("views").and_then(|v| v.get("lib")).cloned().unwrap_or(Value::Null),
            "include_design": self.include_design,
            "local_seq": self.local_seq,
        });
        crate::hex(&Md5::digest(sig.to_string().as_bytes()))
    }

    /// Index of a view by name.
    pub fn view_index(&self, name: &str) -> Option<usize> {
        self.views.iter().position(|v| v.name == name)
    }

    /// The map functions as a JS function set.
    pub fn map_set(&self, db: &str) -> FnSet {
        FnSet {
            key: format!("map:{db}:{}:{}", self.id, self.signature()),
            sources: self
                .views
                .iter()
                .map(|v| (format!("{}/views/{}/map", self.id, v.name), v.map.clone()))
                .collect(),
            ddoc: self.raw.clone(),
        }
    }

    /// JS reduce functions (one per view; builtins get a placeholder).
    pub fn reduce_set(&self, db: &str) -> FnSet {
        FnSet {
            key: format!("reduce:{db}:{}:{}", self.id, self.signature()),
            sources: self
                .views
                .iter()
                .map(|v| {
                    let src = match &v.reduce {
                        Some(Reduce::Js(s)) => s.clone(),
                        _ => "function () { return null; }".to_string(),
                    };
                    (format!("{}/views/{}/reduce", self.id, v.name), src)
                })
                .collect(),
            ddoc: self.raw.clone(),
        }
    }

    /// Filter functions followed by `validate_doc_update` (if any) as a JS function set.
    pub fn other_set(&self, db: &str) -> FnSet {
        let mut sources: Vec<(String, String)> = self
            .filters
            .iter()
            .map(|(n, s)| (format!("{}/filters/{n}", self.id), s.clone()))
            .collect();
        if let Some(v) = &self.validate {
            sources.push((format!("{}/validate_doc_update", self.id), v.clone()));
        }
        let key = crate::hex(&Md5::digest(
            serde_json::to_string(&sources)
                .unwrap_or_default()
                .as_bytes(),
        ));
        FnSet {
            key: format!("other:{db}:{}:{key}", self.id),
            sources,
            ddoc: self.raw.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_signature() {
        let d = json!({"_id": "_design/a", "views": {
            "b": {"map": "function (doc) { emit(doc.x); }", "reduce": "_count"},
            "a": {"map": "function (doc) {}"},
            "lib": {"m": "exports.x = 1;"}}});
        let dd = DesignDoc::from_json(&d).unwrap();
        assert_eq!(
            dd.views.iter().map(|v| v.name.as_str()).collect::<Vec<_>>(),
            vec!["a", "b"]
        );
        assert_eq!(dd.views[1].reduce, Some(Reduce::Count));
        let sig = dd.signature();
        let mut d2 = d.clone();
        d2["other"] = json!("not part of the signature");
        assert_eq!(DesignDoc::from_json(&d2).unwrap().signature(), sig);
        d2["views"]["a"]["map"] = json!("function (doc) { emit(1); }");
        assert_ne!(DesignDoc::from_json(&d2).unwrap().signature(), sig);
        let bad = json!({"_id": "_design/a", "views": {"v": {"map": "function(doc){}", "reduce": "_cout"}}});
        let e = DesignDoc::from_json(&bad).unwrap_err().to_string();
        assert!(e.contains("_cout") && e.contains("_count"), "{e}");
    }
}
