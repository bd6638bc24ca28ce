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

mod defs;
mod plan;
mod range;
mod request;
mod store;

use std::ops::Bound;

use base64::Engine as _;
use fullsync_engine::selector::get_path;
use fullsync_engine::{AllDocsOptions, Database, ReadOptions};
use serde_json::{json, Map, Value};

use crate::error::ViewError;
pub use defs::{create_index, delete_index, icu_string_order, list_indexes, MangoIndex};
use plan::choose_index;
pub use range::succ;
use request::{parse_find, Find};
pub use store::register_dir;
pub(crate) use store::{file_name as index_file_name, forget_db, retain};

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

/// What a `_find` read: the page of documents, the `skip` its bookmark holds, and the counts
/// `execution_stats` reports.
struct Found {
    docs: Vec<Value>,
    next_skip: usize,
    keys_examined: usize,
    docs_examined: usize,
}

/// Answers from a JSON index: scans only its key ranges (reversed for a descending sort),
/// reads each row's document, keeps those the whole selector matches, and stops once
/// `skip + limit` documents matched.
fn find_indexed(db: &Database, f: &Find, index: &MangoIndex) -> Result<Found, ViewError> {
    let store = store::up_to_date(db, index)?;
    let mapper = store::JsonMapper::new(index)?;
    let fields: Vec<String> = index.fields.iter().map(|(c, _)| c.clone()).collect();
    let mut ranges = range::key_range(&fields, &plan::normalize(&f.selector_json, "")).ranges;
    let desc = f.sort.first().is_some_and(|(_, asc)| !asc);
    if desc {
        ranges.reverse();
    }
    let want = f.skip.saturating_add(f.limit);
    let opts = ReadOptions {
        conflicts: f.conflicts,
        ..Default::default()
    };
    let (mut matched, mut keys, mut examined, mut docs) = (0usize, 0usize, 0usize, vec![]);
    for (lo, hi) in ranges {
        if matched >= want {
            break;
        }
        store.scan(
            0,
            Bound::Included(lo),
            Bound::Excluded(hi),
            desc,
            &mut |_, row| {
                if matched >= want {
                    return Ok(false);
                }
                keys += 1;
                let doc = match db.get(&row.id, None, &opts) {
                    Ok(d) => d,
                    Err(fullsync_engine::Error::NotFound(_)) => return Ok(true),
                    Err(e) => return Err(e.into()),
                };
                examined += 1;
                // The document may have changed since the index was read: it must still be in it.
                if mapper.key(&doc).is_some() && f.selector.matches(&doc) {
                    if matched >= f.skip {
                        docs.push(project(&doc, &f.fields));
                    }
                    matched += 1;
                }
                Ok(true)
            },
        )?;
    }
    Ok(Found {
        next_skip: (f.skip + docs.len()).min(matched),
        docs,
        keys_examined: keys,
        docs_examined: examined,
    })
}

/// Answers from `_all_docs`: every document is read and matched.
fn find_all_docs(db: &Database, f: &Find) -> Result<Found, ViewError> {
    let (_, _, rows) = db.all_docs(&AllDocsOptions {
        include_docs: true,
        conflicts: f.conflicts,
        inclusive_end: true,
        ..Default::default()
    })?;
    let examined = rows.len();
    let mut matched: Vec<Value> = rows
        .into_iter()
        .filter_map(|mut r| {
            let id = r["id"].as_str().unwrap_or_default();
            if id.starts_with("_design/") {
                return None;
            }
            let d = r.get_mut("doc").map(Value::take).unwrap_or(Value::Null);
            f.selector.matches(&d).then_some(d)
        })
        .collect();
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
    Ok(Found {
        next_skip: (f.skip + docs.len()).min(total),
        docs,
        keys_examined: examined,
        docs_examined: examined,
    })
}

/// `POST /db/_find`: answered from the index `choose_index` picks (see the module
/// documentation), with CouchDB's warning when that is `_all_docs`.
pub fn find(db: &Database, body: &Value) -> Result<Value, ViewError> {
    let t = std::time::Instant::now();
    let f = parse_find(body)?;
    let plan = choose_index(db, &f)?;
    let found = if plan.index.ddoc.is_some() {
        find_indexed(db, &f, &plan.index)?
    } else {
        find_all_docs(db, &f)?
    };
    let bookmark = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(json!({"skip": found.next_skip}).to_string());
    let returned = found.docs.len();
    let mut out = json!({"docs": found.docs, "bookmark": bookmark});
    if !plan.warnings.is_empty() {
        out["warning"] = json!(plan.warnings.join("\n"));
    }
    if f.stats {
        out["execution_stats"] = json!({
            "total_keys_examined": found.keys_examined,
            "total_docs_examined": found.docs_examined,
            "total_quorum_docs_examined": 0,
            "results_returned": returned,
            "execution_time_ms": t.elapsed().as_secs_f64() * 1000.0,
        });
    }
    Ok(out)
}

/// `POST /db/_explain`: the index `_find` would use (`index`), the key range it reads
/// (`mrargs` as CouchDB shows it, and `range`), and the other indexes with why they were not
/// chosen (`index_candidates`, CouchDB's reason codes).
pub fn explain(db: &Database, body: &Value) -> Result<Value, ViewError> {
    let f = parse_find(body)?;
    let plan = choose_index(db, &f)?;
    let fields = f.fields.clone().map(Value::from).unwrap_or(json!([]));
    let desc = f.sort.first().is_some_and(|(_, asc)| !asc);
    let range = match &plan.index.ddoc {
        Some(_) => {
            let cols: Vec<String> = plan.index.fields.iter().map(|(c, _)| c.clone()).collect();
            range::key_range(&cols, &plan::normalize(&f.selector_json, "")).explain
        }
        None => {
            json!({"start_key": null, "end_key": "<MAX>", "inclusive_start": true, "inclusive_end": true})
        }
    };
    let mut mrargs = json!({
        "include_docs": true,
        "view_type": "map",
        "reduce": false,
        "partition": null,
        "direction": if desc { "rev" } else { "fwd" },
        "stable": false,
        "update": true,
        "conflicts": f.conflicts,
    });
    for k in ["start_key", "end_key", "keys", "inclusive_end"] {
        if let Some(v) = range.get(k) {
            mrargs[k] = v.clone();
        }
    }
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
            "execution_stats": f.stats,
        },
        "limit": f.limit,
        "skip": f.skip,
        "fields": fields,
        "mrargs": mrargs,
        "range": range,
        "covering": false,
        "index_candidates": plan.candidates,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use fullsync_engine::{Engine, UserCtx};

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
