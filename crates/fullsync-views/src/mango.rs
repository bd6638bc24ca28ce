//! Mango: `_find`, `_index`, `_explain`.
//!
//! JSON indexes are stored as CouchDB stores them: design documents with `"language":
//! "query"`. `_find` evaluates the selector over the documents (the engine's selector matcher,
//! given ICU string collation from [`crate::collate`], so `$gt`/`$lt`/`$eq` compare across
//! types and strings as CouchDB does), sorts with view collation, and pages with an opaque
//! bookmark.
//!
//! **Index selection** follows CouchDB 3.x (`mango_idx_view:is_usable`,
//! `mango_cursor_view:choose_best_index`, documented under "Index selection" of `/{db}/_find`):
//!
//! 1. Candidates are `_all_docs` and every JSON index; partial indexes (with a
//!    `partial_filter_selector`) only when `use_index` names them.
//! 2. A JSON index is usable when the selector requires every indexed field to exist (a
//!    condition on it other than `$exists: false`, through `$and`, or in every branch of an
//!    `$or`; `_id`, `_rev` and the sort fields excepted), and the sort fields are a prefix of
//!    its fields once leading fields fixed by `$eq` are skipped. `_all_docs` is usable with no
//!    sort or a sort on `_id` only. Nothing usable: `400 no_usable_index`.
//! 3. A usable index named by `use_index` wins; a `use_index` that is not usable is ignored with
//!    a `warning`, as in CouchDB.
//! 4. JSON indexes beat `_all_docs`. Among them: the one whose leading fields cover most of
//!    the selector's range-able fields (`$eq $gt $gte $lt $lte` reachable through `$and`), then
//!    the one with fewest fields, then by design document id and name.
//! 5. Answered from `_all_docs`, `_find` adds the warning "No matching index found, create an
//!    index to optimize query time."
//!
//! A query served by a JSON index only sees documents that have every indexed field (and match
//! its partial filter), as in CouchDB. A sort must use one direction for all fields
//! (`400 unsupported_mixed_sort`).

use std::cmp::Ordering;

use base64::Engine as _;
use fullsync_engine::selector::get_path;
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
fn mango_selector(v: &Value) -> Result<Selector, ViewError> {
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

/// `POST /db/_index`: creates a JSON index, or answers `"exists"` when the design document
/// already holds this index under this name with the same definition. Indexes with the same
/// fields and different names are distinct indexes, as in CouchDB.
pub fn create_index(db: &Database, body: &Value, user: &UserCtx) -> Result<Value, ViewError> {
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

/// A parsed `_find` request.
struct Find {
    selector: Selector,
    selector_json: Value,
    limit: usize,
    skip: usize,
    sort: Vec<(String, bool)>,
    fields: Option<Vec<String>>,
    use_index: Option<(String, Option<String>)>,
    use_index_json: Value,
    conflicts: bool,
    stats: bool,
}

fn parse_use_index(v: Option<&Value>) -> Result<Option<(String, Option<String>)>, ViewError> {
    let ddoc_id = |d: &str| format!("_design/{}", d.strip_prefix("_design/").unwrap_or(d));
    let invalid = |v: &Value| {
        custom(
            400,
            "invalid_index_name",
            format!(
                "Invalid index name: {v}. use_index is \"<design doc>\" or \
                 [\"<design doc>\", \"<index name>\"]"
            ),
        )
    };
    match v {
        None => Ok(None),
        Some(Value::String(d)) if d.is_empty() => Ok(None),
        Some(Value::String(d)) => Ok(Some((ddoc_id(d), None))),
        Some(Value::Array(a)) => match a.as_slice() {
            [] => Ok(None),
            [Value::String(d)] => Ok(Some((ddoc_id(d), None))),
            [Value::String(d), Value::String(n)] => Ok(Some((ddoc_id(d), Some(n.clone())))),
            _ => Err(invalid(v.expect("some"))),
        },
        Some(other) => Err(invalid(other)),
    }
}

fn parse_find(body: &Value) -> Result<Find, ViewError> {
    let sel = body.get("selector").cloned().ok_or_else(|| {
        custom(
            400,
            "missing_required_key",
            "Missing required key: selector",
        )
    })?;
    if !sel.is_object() {
        return Err(custom(
            400,
            "invalid_selector_json",
            format!("Selector must be a JSON object, not: {sel}"),
        ));
    }
    let selector = mango_selector(&sel)?;
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
        Some(Value::Array(a)) if a.is_empty() => vec![],
        Some(v @ Value::Array(_)) => parse_fields(v)?,
        Some(v) => {
            return Err(custom(
                400,
                "invalid_sort_json",
                format!("Sort must be an array of sort specs, not: {v}"),
            ))
        }
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
    let use_index = parse_use_index(body.get("use_index"))?;
    let use_index_json = match body.get("use_index") {
        None => json!([]),
        Some(Value::String(s)) if s.is_empty() => json!([]),
        Some(Value::String(s)) => json!([s]),
        Some(v) => v.clone(),
    };
    Ok(Find {
        selector,
        selector_json: sel,
        limit: uint("limit", 25)?,
        skip,
        sort,
        fields,
        use_index,
        use_index_json,
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

/// A selector reduced to what index selection looks at, as CouchDB's normalized selector:
/// implicit and explicit `$and`, `$or`, and one condition per (dotted) field, after
/// negations are pushed down to the fields (`push_negations`).
#[derive(Debug)]
enum Norm {
    And(Vec<Norm>),
    Or(Vec<Norm>),
    Cond {
        field: String,
        op: String,
        arg: Value,
    },
    Other,
}

fn normalize(sel: &Value, path: &str) -> Norm {
    match sel {
        Value::Object(m) => {
            let mut parts: Vec<Norm> = m.iter().map(|(k, v)| norm_entry(k, v, path)).collect();
            if parts.len() == 1 {
                parts.pop().expect("one part")
            } else {
                Norm::And(parts)
            }
        }
        _ if !path.is_empty() => Norm::Cond {
            field: path.to_string(),
            op: "$eq".into(),
            arg: sel.clone(),
        },
        _ => Norm::Other,
    }
}

fn norm_entry(k: &str, v: &Value, path: &str) -> Norm {
    let list = |v: &Value| -> Vec<Norm> {
        v.as_array()
            .map(|a| a.iter().map(|s| normalize(s, path)).collect())
            .unwrap_or_default()
    };
    match k {
        "$and" => Norm::And(list(v)),
        "$or" => Norm::Or(list(v)),
        // Negations are not used to choose an index here.
        "$not" | "$nor" if path.is_empty() => Norm::Other,
        op if op.starts_with('$') => {
            if path.is_empty() {
                Norm::Other
            } else {
                Norm::Cond {
                    field: path.to_string(),
                    op: op.to_string(),
                    arg: v.clone(),
                }
            }
        }
        field => {
            let p = if path.is_empty() {
                field.to_string()
            } else {
                format!("{path}.{field}")
            };
            match v {
                Value::Object(m) if !m.is_empty() => normalize(v, &p),
                _ => Norm::Cond {
                    field: p,
                    op: "$eq".into(),
                    arg: v.clone(),
                },
            }
        }
    }
}

/// The fields of `required` that the selector does not require to exist (CouchDB's
/// `has_required_fields`: `$and` children cover fields in turn, an `$or` covers a field only
/// when every branch does, `$exists: false` covers nothing).
fn uncovered(n: &Norm, mut required: Vec<String>) -> Vec<String> {
    if required.is_empty() {
        return required;
    }
    match n {
        Norm::And(c) => c.iter().fold(required, |r, x| uncovered(x, r)),
        Norm::Or(c) => {
            let mut out: Vec<String> = c
                .iter()
                .flat_map(|x| uncovered(x, required.clone()))
                .collect();
            out.sort();
            out.dedup();
            out
        }
        Norm::Cond { field, op, arg } => {
            // `$exists: false` does not need the field; a `$not` left on a field (a
            // condition with no opposite) does not prove it either (CouchDB ignores it).
            if !(op == "$not" || op == "$exists" && arg == &Value::Bool(false)) {
                required.retain(|f| f != field);
            }
            required
        }
        Norm::Other => required,
    }
}

/// Fields with a range-able condition (`$eq $gt $gte $lt $lte`) reachable through `$and`.
fn range_fields(n: &Norm, out: &mut Vec<String>) {
    match n {
        Norm::And(c) => c.iter().for_each(|x| range_fields(x, out)),
        Norm::Cond { field, op, .. }
            if matches!(op.as_str(), "$eq" | "$gt" | "$gte" | "$lt" | "$lte")
                && !out.contains(field) =>
        {
            out.push(field.clone());
        }
        _ => {}
    }
}

/// Whether the selector fixes `field` with `$eq` (through `$and`).
fn is_constant(n: &Norm, field: &str) -> bool {
    match n {
        Norm::And(c) => c.iter().any(|x| is_constant(x, field)),
        Norm::Cond { field: f, op, .. } => f == field && op == "$eq",
        _ => false,
    }
}

/// CouchDB's `can_use_sort`: the sort fields are a prefix of the index fields, once leading
/// fields fixed by `$eq` are skipped.
fn can_use_sort(cols: &[&str], sort: &[&str], n: &Norm) -> bool {
    match (cols.first(), sort.first()) {
        (_, None) => true,
        (None, _) => false,
        (Some(c), Some(s)) if c == s => cols.starts_with(sort),
        (Some(c), _) => is_constant(n, c) && can_use_sort(&cols[1..], sort, n),
    }
}

/// Why an index cannot serve the query (CouchDB's reason codes), or `None` when it can.
fn unusable_reason(ix: &MangoIndex, n: &Norm, sort: &[&str]) -> Option<&'static str> {
    if ix.ddoc.is_none() {
        return (!(sort.is_empty() || sort == ["_id"])).then_some("sort_order_mismatch");
    }
    let cols: Vec<&str> = ix.fields.iter().map(|(f, _)| f.as_str()).collect();
    let mut required: Vec<String> = cols
        .iter()
        .filter(|c| !sort.contains(c) && !matches!(**c, "_id" | "_rev"))
        .map(|c| c.to_string())
        .collect();
    required.sort();
    required.dedup();
    if !uncovered(n, required).is_empty() {
        return Some("field_mismatch");
    }
    if !can_use_sort(&cols, sort, n) {
        return Some("sort_order_mismatch");
    }
    None
}

/// The index chosen for a query, the warnings `_find` reports, and the other candidates with
/// the reason they were not chosen (for `_explain`).
struct Plan {
    index: MangoIndex,
    warnings: Vec<String>,
    candidates: Vec<Value>,
}

fn candidate(ix: &MangoIndex, usable: bool, reason: &str, ranking: usize) -> Value {
    json!({
        "index": ix.to_json(),
        "analysis": {
            "usable": usable,
            "reasons": [{"name": reason}],
            "ranking": ranking,
            "covering": if ix.ddoc.is_some() { json!(false) } else { Value::Null },
        }
    })
}

fn choose_index(db: &Database, f: &Find) -> Result<Plan, ViewError> {
    let indexes = list_indexes(db)?;
    let norm = normalize(
        &fullsync_engine::selector::push_negations(&f.selector_json),
        "",
    );
    let sort: Vec<&str> = f.sort.iter().map(|(s, _)| s.as_str()).collect();
    let named = |ix: &MangoIndex| {
        f.use_index.as_ref().is_some_and(|(d, n)| {
            ix.ddoc.as_deref() == Some(d.as_str()) && n.as_ref().is_none_or(|n| *n == ix.name)
        })
    };
    let mut rejected: Vec<(MangoIndex, bool, &str)> = vec![];
    let mut usable: Vec<MangoIndex> = vec![];
    for ix in indexes {
        if ix.partial.is_some() && !named(&ix) {
            rejected.push((ix, false, "is_partial"));
            continue;
        }
        match unusable_reason(&ix, &norm, &sort) {
            None => usable.push(ix),
            Some(r) => rejected.push((ix, false, r)),
        }
    }
    if usable.is_empty() {
        return Err(custom(
            400,
            "no_usable_index",
            "No index exists for this sort, try indexing by the sort fields.",
        ));
    }
    let mut warnings = vec![];
    let mut pool: Vec<MangoIndex> = usable.iter().filter(|i| named(i)).cloned().collect();
    match &f.use_index {
        Some((d, n)) if pool.is_empty() => {
            let short = d.strip_prefix("_design/").unwrap_or(d);
            warnings.push(match n {
                None => format!(
                    "_design/{short} was not used because it does not contain a valid index for this query."
                ),
                Some(n) => format!(
                    "_design/{short}, {n} was not used because it is not a valid index for this query."
                ),
            });
            pool = usable;
        }
        Some(_) => {
            for i in usable.into_iter().filter(|i| !named(i)) {
                rejected.push((i, true, "excluded_by_user"));
            }
        }
        None => pool = usable,
    }
    let (json_ix, special): (Vec<MangoIndex>, Vec<MangoIndex>) =
        pool.into_iter().partition(|i| i.ddoc.is_some());
    let index = if json_ix.is_empty() {
        special.into_iter().next().expect("_all_docs is usable")
    } else {
        for i in special {
            rejected.push((i, true, "unfavored_type"));
        }
        let mut fields = vec![];
        range_fields(&norm, &mut fields);
        let mut scored: Vec<(usize, MangoIndex)> = json_ix
            .into_iter()
            .map(|ix| {
                let prefix = ix
                    .fields
                    .iter()
                    .take_while(|(c, _)| fields.contains(c))
                    .count();
                (fields.len() - prefix, ix)
            })
            .collect();
        scored.sort_by(|(da, a), (db_, b)| {
            da.cmp(db_)
                .then(a.fields.len().cmp(&b.fields.len()))
                .then_with(|| a.ddoc.cmp(&b.ddoc))
                .then_with(|| a.name.cmp(&b.name))
        });
        let mut it = scored.into_iter();
        let (_, winner) = it.next().expect("one json index");
        let ranked: Vec<(usize, MangoIndex)> = it.collect();
        let width = winner.fields.len();
        for (dist, ix) in &ranked {
            let reason = if *dist > 0 {
                "less_overlap"
            } else if ix.fields.len() > width {
                "too_many_fields"
            } else {
                "alphabetically_comes_after"
            };
            rejected.push((ix.clone(), true, reason));
        }
        winner
    };
    if index.ddoc.is_none() {
        warnings.push("No matching index found, create an index to optimize query time.".into());
    }
    let candidates = rejected
        .iter()
        .enumerate()
        .map(|(i, (ix, usable, reason))| candidate(ix, *usable, reason, i + 1))
        .collect::<Vec<_>>();
    Ok(Plan {
        index,
        warnings,
        candidates,
    })
}

fn project(doc: &Value, fields: &Option<Vec<String>>) -> Value {
    let Some(fields) = fields else {
        return doc.clone();
    };
    let mut out = Map::new();
    for f in fields {
        if let Some(v) = get_path(doc, f) {
            let parts = fullsync_engine::selector::field_path(f);
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
    let plan = choose_index(db, &f)?;
    let index = &plan.index;
    let partial = index.partial.as_ref().map(mango_selector).transpose()?;
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
            if partial.as_ref().is_some_and(|p| !p.matches(&d)) {
                return None;
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
    }
    if f.sort.first().is_some_and(|(_, asc)| !asc) {
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
    if !plan.warnings.is_empty() {
        out["warning"] = json!(plan.warnings.join("\n"));
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

/// `POST /db/_explain`: the index `_find` would use (`index`), with the other indexes and why
/// they were not chosen (`index_candidates`, CouchDB's reason codes).
pub fn explain(db: &Database, body: &Value) -> Result<Value, ViewError> {
    let f = parse_find(body)?;
    let plan = choose_index(db, &f)?;
    let fields = f.fields.clone().map(Value::from).unwrap_or(json!([]));
    Ok(json!({
        "dbname": db.name(),
        "index": plan.index.to_json(),
        "partitioned": false,
        "selector": f.selector_json,
        "opts": {
            "use_index": f.use_index_json,
            "bookmark": body.get("bookmark").cloned().unwrap_or(json!("nil")),
            "limit": f.limit,
            "skip": f.skip,
            "sort": f.sort.iter().map(|(s, a)| json!({s.clone(): if *a {"asc"} else {"desc"}})).collect::<Vec<_>>(),
            "fields": fields,
            "r": 1,
            "conflicts": f.conflicts,
        },
        "limit": f.limit,
        "skip": f.skip,
        "fields": fields,
        "covering": false,
        "index_candidates": plan.candidates,
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
            create_index(
                &db,
                &json!({"index": {"fields": ["age"]}, "name": "by_age", "ddoc": "ix"}),
                &u
            )
            .unwrap()["result"],
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
