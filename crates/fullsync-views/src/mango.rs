//! Mango: `_find`, `_index`, `_explain`.
//!
//! JSON indexes are stored as CouchDB stores them: design documents with `"language":
//! "query"`. `_find` evaluates the selector over the documents (the engine's selector matcher),
//! sorts with view collation, and pages with an opaque bookmark. As in CouchDB, a `sort` needs a
//! JSON index whose fields start with the sort fields (otherwise `400 no_usable_index`), and a
//! query served by a JSON index only sees documents that have every indexed field.

use base64::Engine as _;
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
    fn all_docs() -> MangoIndex {
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

fn bad(msg: impl Into<String>) -> ViewError {
    ViewError::Engine(fullsync_engine::Error::BadRequest(msg.into()))
}

fn custom(status: u16, error: &str, reason: impl Into<String>) -> ViewError {
    ViewError::Engine(fullsync_engine::Error::Custom {
        status,
        error: error.into(),
        reason: reason.into(),
    })
}

fn parse_fields(v: &Value) -> Result<Vec<(String, bool)>, ViewError> {
    let arr = v.as_array().ok_or_else(|| {
        bad("Invalid fields: must be a JSON array of field names or {\"field\": \"asc|desc\"}")
    })?;
    if arr.is_empty() {
        return Err(bad("Index fields must not be empty"));
    }
    arr.iter()
        .map(|f| match f {
            Value::String(s) => Ok((s.clone(), true)),
            Value::Object(m) if m.len() == 1 => {
                let (k, d) = m.iter().next().expect("one entry");
                match d.as_str() {
                    Some("asc") => Ok((k.clone(), true)),
                    Some("desc") => Ok((k.clone(), false)),
                    _ => Err(bad(format!(
                        "Invalid sort direction for {k}: use \"asc\" or \"desc\""
                    ))),
                }
            }
            other => Err(bad(format!("Invalid field: {other}"))),
        })
        .collect()
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
                let fields = def
                    .and_then(|d| d.get("fields"))
                    .map(parse_fields)
                    .transpose()?
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
                let partial = def.and_then(|d| d.get("partial_filter_selector")).cloned();
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

/// `POST /db/_index`.
pub fn create_index(db: &Database, body: &Value, user: &UserCtx) -> Result<Value, ViewError> {
    let index = body
        .get("index")
        .ok_or_else(|| custom(400, "missing_required_key", "Missing required key: index"))?;
    let fields = parse_fields(
        index
            .get("fields")
            .ok_or_else(|| custom(400, "missing_required_key", "Missing required key: fields"))?,
    )?;
    if let Some(t) = body.get("type").and_then(Value::as_str) {
        if t != "json" {
            return Err(bad(format!("Index type `{t}` is not supported; only json")));
        }
    }
    let partial = index.get("partial_filter_selector").cloned();
    if let Some(p) = &partial {
        Selector::new(p.clone())?;
    }
    let def = json!({"fields": fields.iter().map(|(f, a)| json!({f.clone(): if *a {"asc"} else {"desc"}})).collect::<Vec<_>>(), "partial_filter_selector": partial});
    let hash = crate::hex(&Md5::digest(def.to_string().as_bytes()));
    let ddoc = match body.get("ddoc").and_then(Value::as_str) {
        Some(d) => format!("_design/{}", d.strip_prefix("_design/").unwrap_or(d)),
        None => format!("_design/{hash}"),
    };
    let name = body
        .get("name")
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| hash.clone());
    for ix in list_indexes(db)? {
        if ix.fields == fields && ix.partial == partial && ix.ddoc.is_some() {
            return Ok(json!({"result": "exists", "id": ix.ddoc, "name": ix.name}));
        }
    }
    let mut doc = match db.get(&ddoc, None, &ReadOptions::default()) {
        Ok(d) => d,
        Err(fullsync_engine::Error::NotFound(_)) => {
            json!({"_id": ddoc, "language": "query", "views": {}})
        }
        Err(e) => return Err(e.into()),
    };
    if doc.get("language").and_then(Value::as_str) != Some("query") {
        return Err(bad(format!(
            "{ddoc} exists and is not a query design document; choose another ddoc"
        )));
    }
    let mut map_fields = Map::new();
    for (f, a) in &fields {
        map_fields.insert(f.clone(), json!(if *a { "asc" } else { "desc" }));
    }
    let mut map = json!({"fields": map_fields});
    let mut opt_def = json!({"fields": def["fields"]});
    if let Some(p) = &partial {
        map["partial_filter_selector"] = p.clone();
        opt_def["partial_filter_selector"] = p.clone();
    }
    doc["views"][&name] = json!({"map": map, "reduce": "_count", "options": {"def": opt_def}});
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

/// A parsed `_find` request.
struct Find {
    selector: Selector,
    selector_json: Value,
    limit: usize,
    skip: usize,
    sort: Vec<(String, bool)>,
    fields: Option<Vec<String>>,
    use_index: Option<Value>,
    conflicts: bool,
    stats: bool,
}

fn parse_find(body: &Value) -> Result<Find, ViewError> {
    let sel = body.get("selector").cloned().ok_or_else(|| {
        custom(
            400,
            "missing_required_key",
            "Missing required key: selector",
        )
    })?;
    let selector = Selector::new(sel.clone())?;
    let uint = |k: &str, d: usize| -> Result<usize, ViewError> {
        match body.get(k) {
            None => Ok(d),
            Some(v) => v.as_u64().map(|n| n as usize).ok_or_else(|| {
                bad(format!(
                    "Invalid value for {k}: must be a non-negative integer"
                ))
            }),
        }
    };
    let mut skip = uint("skip", 0)?;
    if let Some(b) = body
        .get("bookmark")
        .and_then(Value::as_str)
        .filter(|b| !b.is_empty() && *b != "nil")
    {
        let decoded = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(b)
            .ok()
            .and_then(|d| serde_json::from_slice::<Value>(&d).ok())
            .and_then(|v| v.get("skip").and_then(Value::as_u64))
            .ok_or_else(|| {
                custom(
                    400,
                    "invalid_bookmark",
                    format!("Invalid bookmark value: {b}"),
                )
            })?;
        skip += decoded as usize;
    }
    let sort = match body.get("sort") {
        None => vec![],
        Some(v) => parse_fields(v)?,
    };
    let fields = match body.get("fields") {
        None => None,
        Some(Value::Array(a)) => Some(
            a.iter()
                .map(|f| {
                    f.as_str()
                        .map(str::to_string)
                        .ok_or_else(|| bad("fields must be an array of strings"))
                })
                .collect::<Result<_, _>>()?,
        ),
        Some(_) => return Err(bad("fields must be an array of strings")),
    };
    Ok(Find {
        selector,
        selector_json: sel,
        limit: uint("limit", 25)?,
        skip,
        sort,
        fields,
        use_index: body.get("use_index").cloned(),
        conflicts: body
            .get("conflicts")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        stats: body
            .get("execution_stats")
            .and_then(Value::as_bool)
            .unwrap_or(false),
    })
}

fn get_path<'a>(doc: &'a Value, path: &str) -> Option<&'a Value> {
    let mut cur = doc;
    for p in path.split('.') {
        cur = cur.as_object()?.get(p)?;
    }
    Some(cur)
}

fn choose_index(db: &Database, f: &Find) -> Result<MangoIndex, ViewError> {
    let indexes = list_indexes(db)?;
    if let Some(u) = &f.use_index {
        let (ddoc, name) = match u {
            Value::String(s) => (s.clone(), None),
            Value::Array(a) => (
                a.first()
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
                a.get(1).and_then(Value::as_str).map(str::to_string),
            ),
            _ => return Err(bad("use_index must be a string or [ddoc, name]")),
        };
        let ddoc = format!("_design/{}", ddoc.strip_prefix("_design/").unwrap_or(&ddoc));
        if let Some(ix) = indexes.iter().find(|i| {
            i.ddoc.as_deref() == Some(&ddoc) && name.as_ref().is_none_or(|n| *n == i.name)
        }) {
            return Ok(ix.clone());
        }
        return Err(custom(
            400,
            "no_usable_index",
            format!("Unknown index {ddoc}: create it with POST /db/_index"),
        ));
    }
    if f.sort.is_empty() {
        return Ok(MangoIndex::all_docs());
    }
    if f.sort.len() == 1 && f.sort[0].0 == "_id" {
        return Ok(MangoIndex::all_docs());
    }
    let dirs_same = f.sort.iter().all(|(_, a)| *a == f.sort[0].1);
    for ix in &indexes {
        if ix.ddoc.is_none() || !dirs_same {
            continue;
        }
        let prefix_ok = f.sort.len() <= ix.fields.len()
            && f.sort.iter().zip(&ix.fields).all(|(s, i)| s.0 == i.0);
        if prefix_ok {
            return Ok(ix.clone());
        }
    }
    Err(custom(
        400,
        "no_usable_index",
        "No index exists for this sort, try indexing by the sort fields.",
    ))
}

fn project(doc: &Value, fields: &Option<Vec<String>>) -> Value {
    let Some(fields) = fields else {
        return doc.clone();
    };
    let mut out = Map::new();
    for f in fields {
        if let Some(v) = get_path(doc, f) {
            let parts: Vec<&str> = f.split('.').collect();
            let mut cur = &mut out;
            for (i, p) in parts.iter().enumerate() {
                if i == parts.len() - 1 {
                    cur.insert(p.to_string(), v.clone());
                } else {
                    let e = cur.entry(p.to_string()).or_insert_with(|| json!({}));
                    match e.as_object_mut() {
                        Some(m) => cur = m,
                        None => break,
                    }
                }
            }
        }
    }
    Value::Object(out)
}

/// `POST /db/_find`.
pub fn find(db: &Database, body: &Value) -> Result<Value, ViewError> {
    let t = std::time::Instant::now();
    let f = parse_find(body)?;
    let index = choose_index(db, &f)?;
    let (_, _, rows) = db.all_docs(&AllDocsOptions {
        include_docs: true,
        conflicts: f.conflicts,
        inclusive_end: true,
        ..Default::default()
    })?;
    let examined = rows.len();
    let mut matched: Vec<Value> = rows
        .into_iter()
        .filter_map(|r| {
            let id = r["id"].as_str().unwrap_or_default();
            if id.starts_with("_design/") {
                return None;
            }
            let d = r.get("doc").cloned().unwrap_or(Value::Null);
            if index.ddoc.is_some()
                && !index
                    .fields
                    .iter()
                    .all(|(fld, _)| get_path(&d, fld).is_some())
            {
                return None;
            }
            if let Some(p) = &index.partial {
                if !Selector::new(p.clone()).is_ok_and(|s| s.matches(&d)) {
                    return None;
                }
            }
            f.selector.matches(&d).then_some(d)
        })
        .collect();
    if index.ddoc.is_some() {
        // Index order: the indexed fields, then the doc id; reversed for a descending sort.
        let keyf = |d: &Value| {
            let mut k: Vec<Value> = index
                .fields
                .iter()
                .map(|(fld, _)| get_path(d, fld).cloned().unwrap_or(Value::Null))
                .collect();
            k.push(d["_id"].clone());
            collate::sort_key(&Value::Array(k))
        };
        matched.sort_by_cached_key(keyf);
        if f.sort.first().is_some_and(|(_, asc)| !asc) {
            matched.reverse();
        }
    } else if f.sort.first().is_some_and(|(_, asc)| !asc) {
        matched.reverse();
    }
    let total = matched.len();
    let docs: Vec<Value> = matched
        .iter()
        .skip(f.skip)
        .take(f.limit)
        .map(|d| project(d, &f.fields))
        .collect();
    let next_skip = (f.skip + docs.len()).min(total);
    let bookmark = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(json!({"skip": next_skip}).to_string());
    let mut out = json!({"docs": docs, "bookmark": bookmark});
    if index.ddoc.is_none() {
        out["warning"] = json!("No matching index found, create an index to optimize query time.");
    }
    if f.stats {
        out["execution_stats"] = json!({
            "total_keys_examined": 0,
            "total_docs_examined": examined,
            "total_quorum_docs_examined": 0,
            "results_returned": out["docs"].as_array().map_or(0, |d| d.len()),
            "execution_time_ms": t.elapsed().as_secs_f64() * 1000.0,
        });
    }
    Ok(out)
}

/// `POST /db/_explain`.
pub fn explain(db: &Database, body: &Value) -> Result<Value, ViewError> {
    let f = parse_find(body)?;
    let index = choose_index(db, &f)?;
    Ok(json!({
        "dbname": db.name(),
        "index": index.to_json(),
        "partitioned": false,
        "selector": f.selector_json,
        "opts": {
            "use_index": f.use_index.clone().map(|u| if u.is_array() { u } else { json!([u]) }).unwrap_or(json!([])),
            "bookmark": body.get("bookmark").cloned().unwrap_or(json!("nil")),
            "limit": f.limit,
            "skip": f.skip,
            "sort": f.sort.iter().map(|(s, a)| json!({s.clone(): if *a {"asc"} else {"desc"}})).collect::<Vec<_>>(),
            "fields": f.fields.clone().map(Value::from).unwrap_or(json!("all_fields")),
            "r": [49],
            "conflicts": f.conflicts,
        },
        "limit": f.limit,
        "skip": f.skip,
        "fields": f.fields.map(Value::from).unwrap_or(json!("all_fields")),
        "covering": false,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use fullsync_engine::Engine;

    fn db() -> std::sync::Arc<Database> {
        let e = Engine::in_memory();
        let db = e.create_db("m").unwrap();
        let docs = vec![
            json!({"_id": "a", "name": "Ann", "age": 30, "tags": ["x"]}),
            json!({"_id": "b", "name": "bob", "age": 25}),
            json!({"_id": "c", "name": "Cy", "age": 35, "addr": {"city": "Paris"}}),
            json!({"_id": "d", "name": "Dee"}),
        ];
        db.bulk_docs_json(docs, true, &UserCtx::default()).unwrap();
        db
    }

    #[test]
    fn find_sort_fields_bookmark() {
        let db = db();
        let r = find(&db, &json!({"selector": {"age": {"$gt": 26}}})).unwrap();
        assert_eq!(r["docs"].as_array().unwrap().len(), 2);
        assert!(r.get("warning").is_some());
        let e = find(
            &db,
            &json!({"selector": {"age": {"$gt": 0}}, "sort": ["age"]}),
        )
        .unwrap_err();
        assert_eq!((e.status(), e.couch_error()), (400, "no_usable_index"));
        let u = UserCtx::default();
        assert_eq!(
            create_index(
                &db,
                &json!({"index": {"fields": ["age"]}, "name": "by_age", "ddoc": "ix"}),
                &u
            )
            .unwrap()["result"],
            "created"
        );
        assert_eq!(
            create_index(&db, &json!({"index": {"fields": ["age"]}}), &u).unwrap()["result"],
            "exists"
        );
        let r = find(&db, &json!({"selector": {"age": {"$gt": 0}}, "sort": [{"age": "desc"}], "fields": ["_id", "age"], "limit": 2})).unwrap();
        assert_eq!(
            r["docs"],
            json!([{"_id": "c", "age": 35}, {"_id": "a", "age": 30}])
        );
        let r2 = find(&db, &json!({"selector": {"age": {"$gt": 0}}, "sort": [{"age": "desc"}], "fields": ["_id"], "bookmark": r["bookmark"]})).unwrap();
        assert_eq!(r2["docs"], json!([{"_id": "b"}]));
        let r = find(
            &db,
            &json!({"selector": {"addr.city": "Paris"}, "fields": ["addr.city"]}),
        )
        .unwrap();
        assert_eq!(r["docs"], json!([{"addr": {"city": "Paris"}}]));
        let x = explain(
            &db,
            &json!({"selector": {"age": {"$gt": 0}}, "sort": ["age"]}),
        )
        .unwrap();
        assert_eq!(x["index"]["name"], "by_age");
        let l = list_indexes(&db).unwrap();
        assert_eq!(l.len(), 2);
        delete_index(&db, "ix", "by_age", &u).unwrap();
        assert_eq!(list_indexes(&db).unwrap().len(), 1);
        assert_eq!(
            find(&db, &json!({})).unwrap_err().couch_error(),
            "missing_required_key"
        );
    }
}
