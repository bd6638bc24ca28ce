//! JSON index definitions: the design documents `_index` writes, lists and deletes.

use std::cmp::Ordering;

use fullsync_engine::{AllDocsOptions, Database, ReadOptions, Selector, UserCtx};
use md5::{Digest, Md5};
use serde_json::{json, Map, Value};

use crate::collate;
use crate::error::ViewError;

/// A JSON index definition.
#[derive(Debug, Clone)]
pub struct MangoIndex {
    /// `_design/...`, or `None` for `_all_docs`.
    pub ddoc: Option<String>,
    /// Index name.
    pub name: String,
    /// Fields with direction (`true` = asc).
    pub fields: Vec<(String, bool)>,
    /// Optional partial filter.
    pub partial: Option<Value>,
}

impl MangoIndex {
    pub(crate) fn all_docs() -> MangoIndex {
        MangoIndex {
            ddoc: None,
            name: "_all_docs".into(),
            fields: vec![("_id".into(), true)],
            partial: None,
        }
    }

    /// The JSON CouchDB lists for this index.
    pub fn to_json(&self) -> Value {
        let fields: Vec<Value> = self
            .fields
            .iter()
            .map(|(f, asc)| json!({ f.clone(): if *asc { "asc" } else { "desc" } }))
            .collect();
        match &self.ddoc {
            None => {
                json!({"ddoc": null, "name": "_all_docs", "type": "special", "def": {"fields": fields}})
            }
            Some(d) => {
                let mut def = json!({ "fields": fields });
                if let Some(p) = &self.partial {
                    def["partial_filter_selector"] = p.clone();
                }
                json!({"ddoc": d, "name": self.name, "type": "json", "partitioned": false, "def": def})
            }
        }
    }
}

pub(crate) fn bad(msg: impl Into<String>) -> ViewError {
    ViewError::Engine(fullsync_engine::Error::BadRequest(msg.into()))
}

pub(crate) fn custom(status: u16, error: &str, reason: impl Into<String>) -> ViewError {
    ViewError::Engine(fullsync_engine::Error::Custom {
        status,
        error: error.into(),
        reason: reason.into(),
    })
}

pub(crate) fn parse_fields(v: &Value) -> Result<Vec<(String, bool)>, ViewError> {
    let arr = v.as_array().ok_or_else(|| {
        bad("Invalid fields: must be a JSON array of field names or {\"field\": \"asc|desc\"}")
    })?;
    if arr.is_empty() {
        return Err(bad("Index fields must not be empty"));
    }
    let fields = arr
        .iter()
        .map(|f| match f {
            Value::String(s) => Ok((s.clone(), true)),
            Value::Object(m) if m.len() == 1 => {
                let (k, d) = m.iter().next().expect("one entry");
                match d.as_str() {
                    Some("asc") => Ok((k.clone(), true)),
                    Some("desc") => Ok((k.clone(), false)),
                    _ => Err(custom(
                        400,
                        "invalid_sort_dir",
                        format!("Invalid sort direction: {d}; use \"asc\" or \"desc\""),
                    )),
                }
            }
            other => Err(custom(
                400,
                "invalid_sort_field",
                format!("Invalid sort field: {other}"),
            )),
        })
        .collect::<Result<Vec<_>, _>>()?;
    if fields.iter().any(|(_, asc)| *asc != fields[0].1) {
        return Err(custom(
            400,
            "unsupported_mixed_sort",
            "Sorts currently only support a single direction for all fields.",
        ));
    }
    Ok(fields)
}

/// Compares strings with ICU's root collator, as CouchDB's selectors do (for
/// `fullsync_engine::selector::set_default_string_order`, which a server calls once so that
/// `_changes?filter=_selector` collates as `_find` does).
pub fn icu_string_order(a: &str, b: &str) -> Ordering {
    collate::collate(&Value::String(a.to_owned()), &Value::String(b.to_owned()))
}

/// A selector that compares strings with ICU collation.
pub(crate) fn mango_selector(v: &Value) -> Result<Selector, ViewError> {
    Ok(Selector::new(v.clone())?.with_string_order(icu_string_order))
}

/// Lists the JSON indexes of a database (after `_all_docs`).
pub fn list_indexes(db: &Database) -> Result<Vec<MangoIndex>, ViewError> {
    let (_, _, rows) = db.all_docs(&AllDocsOptions {
        start: Some("_design/".into()),
        end: Some("_design0".into()),
        inclusive_end: false,
        include_docs: true,
        ..Default::default()
    })?;
    let mut out = vec![MangoIndex::all_docs()];
    for r in rows {
        let d = &r["doc"];
        if d.get("language").and_then(Value::as_str) != Some("query") {
            continue;
        }
        let id = d["_id"].as_str().unwrap_or_default().to_string();
        if let Some(Value::Object(views)) = d.get("views") {
            for (name, v) in views {
                let def = v.get("options").and_then(|o| o.get("def"));
                // As CouchDB, a view whose definition does not parse is not an index.
                let Ok(fields) = def
                    .and_then(|d| d.get("fields"))
                    .map(parse_fields)
                    .transpose()
                else {
                    continue;
                };
                let fields = fields
                    .or_else(|| {
                        v.get("map")
                            .and_then(|m| m.get("fields"))
                            .and_then(Value::as_object)
                            .map(|m| {
                                m.iter()
                                    .map(|(k, d)| (k.clone(), d.as_str() != Some("desc")))
                                    .collect()
                            })
                    })
                    .unwrap_or_default();
                if fields.is_empty() {
                    continue;
                }
                let partial = def
                    .and_then(|d| d.get("partial_filter_selector"))
                    .filter(|p| p.as_object().is_some_and(|m| !m.is_empty()))
                    .cloned();
                out.push(MangoIndex {
                    ddoc: Some(id.clone()),
                    name: name.clone(),
                    fields,
                    partial,
                });
            }
        }
    }
    Ok(out)
}

/// The fields, partial filter and name of an `_index` request, checked.
type IndexRequest = (Vec<(String, bool)>, Option<Value>, Option<String>);

fn parse_index_request(body: &Value) -> Result<IndexRequest, ViewError> {
    let index = body
        .get("index")
        .ok_or_else(|| custom(400, "missing_required_key", "Missing required key: index"))?;
    if !index.is_object() {
        return Err(custom(
            400,
            "invalid_index",
            format!("JSON indexes must be an object, not: {index}"),
        ));
    }
    let fields = parse_fields(
        index
            .get("fields")
            .ok_or_else(|| custom(400, "missing_required_key", "Missing required key: fields"))?,
    )?;
    if let Some(t) = body.get("type") {
        if t.as_str() != Some("json") {
            return Err(custom(
                400,
                "invalid_index",
                format!("Invalid type for index: {t}. Only \"json\" indexes are supported here."),
            ));
        }
    }
    let partial = index
        .get("partial_filter_selector")
        .filter(|p| !p.as_object().is_some_and(|m| m.is_empty()))
        .cloned();
    if let Some(p) = &partial {
        if !p.is_object() {
            return Err(custom(
                400,
                "invalid_selector_json",
                format!("Selector must be a JSON object, not: {p}"),
            ));
        }
        mango_selector(p)?;
    }
    let name_given = match body.get("name") {
        None => None,
        Some(Value::String(n)) if !n.is_empty() => Some(n.clone()),
        Some(other) => {
            return Err(custom(
                400,
                "invalid_index_name",
                format!("Invalid index name: {other}"),
            ))
        }
    };
    Ok((fields, partial, name_given))
}

/// `POST /db/_index`: creates a JSON index, or answers `"exists"` when the design document
/// already holds this index under this name with the same definition. Indexes with the same
/// fields and different names are distinct indexes, as in CouchDB.
pub fn create_index(db: &Database, body: &Value, user: &UserCtx) -> Result<Value, ViewError> {
    let (fields, partial, name_given) = parse_index_request(body)?;
    let field_json: Vec<Value> = fields
        .iter()
        .map(|(f, a)| json!({f.clone(): if *a {"asc"} else {"desc"}}))
        .collect();
    let mut opt_def = json!({ "fields": field_json });
    if let Some(p) = &partial {
        opt_def["partial_filter_selector"] = p.clone();
    }
    // Each index gets its own design document by default, named by its definition (and its
    // name, when one is given).
    let hash_input = match &name_given {
        None => {
            json!({"fields": opt_def["fields"], "partial_filter_selector": partial}).to_string()
        }
        Some(n) => {
            json!({"fields": opt_def["fields"], "partial_filter_selector": partial, "name": n})
                .to_string()
        }
    };
    let hash = crate::hex(&Md5::digest(hash_input.as_bytes()));
    let ddoc = match body.get("ddoc").and_then(Value::as_str) {
        Some(d) => format!("_design/{}", d.strip_prefix("_design/").unwrap_or(d)),
        None => format!("_design/{hash}"),
    };
    let name = name_given.unwrap_or_else(|| hash.clone());
    let mut doc = match db.get(&ddoc, None, &ReadOptions::default()) {
        Ok(d) => d,
        Err(fullsync_engine::Error::NotFound(_)) => {
            json!({"_id": ddoc, "language": "query", "views": {}})
        }
        Err(e) => return Err(e.into()),
    };
    if doc.get("language").and_then(Value::as_str) != Some("query") {
        return Err(custom(
            400,
            "invalid_ddoc_lang",
            format!(
                "Existing design doc has an invalid language: {}. {ddoc} is not a query design \
                 document; choose another ddoc.",
                doc.get("language").cloned().unwrap_or(Value::Null)
            ),
        ));
    }
    let mut map_fields = Map::new();
    for (f, a) in &fields {
        map_fields.insert(f.clone(), json!(if *a { "asc" } else { "desc" }));
    }
    let mut map = json!({"fields": map_fields});
    if let Some(p) = &partial {
        map["partial_filter_selector"] = p.clone();
    }
    let view = json!({"map": map, "reduce": "_count", "options": {"def": opt_def}});
    if doc.get("views").and_then(|v| v.get(&name)) == Some(&view) {
        return Ok(json!({"result": "exists", "id": ddoc, "name": name}));
    }
    if !doc.get("views").is_some_and(Value::is_object) {
        doc["views"] = json!({});
    }
    doc["views"][&name] = view;
    let parsed = fullsync_engine::parse_doc(doc, None, &mut |_| None)?;
    db.put(parsed, user)?;
    Ok(json!({"result": "created", "id": ddoc, "name": name}))
}

/// `DELETE /db/_index/{ddoc}/json/{name}`.
pub fn delete_index(
    db: &Database,
    ddoc: &str,
    name: &str,
    user: &UserCtx,
) -> Result<Value, ViewError> {
    let id = format!("_design/{}", ddoc.strip_prefix("_design/").unwrap_or(ddoc));
    let mut doc = db
        .get(&id, None, &ReadOptions::default())
        .map_err(|_| ViewError::NotFound("Index not found".into()))?;
    let views = doc
        .get_mut("views")
        .and_then(Value::as_object_mut)
        .ok_or_else(|| ViewError::NotFound("Index not found".into()))?;
    if views.shift_remove(name).is_none() {
        return Err(ViewError::NotFound("Index not found".into()));
    }
    if views.is_empty() {
        doc["_deleted"] = json!(true);
    }
    let parsed = fullsync_engine::parse_doc(doc, None, &mut |_| None)?;
    db.put(parsed, user)?;
    Ok(json!({"ok": true}))
}
