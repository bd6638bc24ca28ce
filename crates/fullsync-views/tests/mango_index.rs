//! Differential tests of `_find` on a JSON index: over random documents and random selectors,
//! the answer read from the index (key ranges, early stop) equals the answer computed by
//! matching every document and sorting them in index order; before and after documents are
//! written, changed and deleted once the index exists.

use std::sync::Arc;

use fullsync_engine::{Database, Engine, UserCtx};
use fullsync_views::{collate, mango, Views};
use serde_json::{json, Value};

/// xorshift64*: a seeded generator, so a failure replays.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A value for field `a` or `b`: mostly small numbers, some strings, nulls, booleans, arrays.
fn value(r: &mut Rng) -> Value {
    match r.below(10) {
        0 => json!(format!("s{}", r.below(4))),
        1 => Value::Null,
        2 => json!(r.below(2) == 0),
        3 => json!([r.below(3)]),
        4 => json!(r.below(8) as f64 + 0.5),
        _ => json!(r.below(8)),
    }
}

fn doc(r: &mut Rng, i: u64) -> Value {
    let mut d = json!({"_id": format!("d{:04}", i), "c": r.below(3)});
    for f in ["a", "b"] {
        if r.below(8) != 0 {
            d[f] = value(r);
        }
    }
    d
}

/// A condition on one field.
fn cond(r: &mut Rng) -> Value {
    let v = value(r);
    match r.below(9) {
        0 => v,
        1 => json!({"$gt": v}),
        2 => json!({"$gte": v}),
        3 => json!({"$lt": v}),
        4 => json!({"$lte": v}),
        5 => json!({"$in": [v, value(r), value(r)]}),
        6 => json!({"$gt": v, "$lt": value(r)}),
        7 => json!({"$ne": v}),
        _ => json!({"$exists": true}),
    }
}

fn selector(r: &mut Rng) -> Value {
    let mut s = json!({"a": cond(r), "b": cond(r)});
    match r.below(5) {
        0 => s["$or"] = json!([{"c": 0}, {"a": cond(r)}]),
        1 => s["c"] = json!({"$ne": r.below(3)}),
        2 => s = json!({"$and": [{"a": cond(r)}, s]}),
        _ => {}
    }
    s
}

fn put(db: &Database, docs: Vec<Value>) {
    for r in db.bulk_docs_json(docs, true, &UserCtx::default()).unwrap() {
        r.result.unwrap();
    }
}

fn all_docs(db: &Database) -> Vec<Value> {
    let (_, _, rows) = db
        .all_docs(&fullsync_engine::AllDocsOptions {
            include_docs: true,
            ..Default::default()
        })
        .unwrap();
    rows.into_iter().map(|r| r["doc"].clone()).collect()
}

/// The answer computed without the index: every document that has both fields and matches,
/// in index order (`[a, b]`, then `_id`), reversed for a descending sort, then paged.
fn expected(db: &Database, q: &Value) -> Value {
    let sel = json!({"$and": [q["selector"], {"a": {"$exists": true}}, {"b": {"$exists": true}}]});
    let matcher = fullsync_engine::Selector::new(sel)
        .unwrap()
        .with_string_order(mango::icu_string_order);
    let mut docs: Vec<Value> = all_docs(db)
        .into_iter()
        .filter(|d| !d["_id"].as_str().unwrap().starts_with("_design/") && matcher.matches(d))
        .collect();
    docs.sort_by_cached_key(|d| collate::sort_key(&json!([d["a"], d["b"], d["_id"]])));
    if q["sort"][0]["a"] == "desc" {
        docs.reverse();
    }
    let skip = q["skip"].as_u64().unwrap_or(0) as usize;
    let limit = q["limit"].as_u64().unwrap_or(25) as usize;
    Value::Array(docs.into_iter().skip(skip).take(limit).collect())
}

fn query(r: &mut Rng) -> Value {
    let mut q = json!({"selector": selector(r), "limit": 1 + r.below(30), "execution_stats": true});
    if r.below(3) == 0 {
        q["skip"] = json!(r.below(10));
    }
    match r.below(3) {
        0 => q["sort"] = json!([{"a": "asc"}, {"b": "asc"}]),
        1 => q["sort"] = json!([{"a": "desc"}, {"b": "desc"}]),
        _ => {}
    }
    q
}

fn check_queries(db: &Database, r: &mut Rng, n: usize) -> usize {
    let mut indexed = 0;
    for _ in 0..n {
        let q = query(r);
        let got = mango::find(db, &q).unwrap();
        let x = mango::explain(db, &q).unwrap();
        if x["index"]["name"] == "ab" {
            indexed += 1;
            assert!(got.get("warning").is_none(), "{q}: {got}");
        }
        assert_eq!(got["docs"], expected(db, &q), "query {q}\nexplain {x}");
    }
    indexed
}

fn setup(dir: &std::path::Path) -> (Arc<Engine>, Views, Arc<Database>) {
    let engine = Arc::new(Engine::open(dir).unwrap());
    let views = Views::new(engine.clone());
    let db = engine.create_db("m").unwrap();
    (engine, views, db)
}

#[test]
fn find_on_an_index_answers_as_a_full_scan() {
    let tmp = tempfile::tempdir().unwrap();
    let (_engine, _views, db) = setup(tmp.path());
    let mut r = Rng(0x9E37_79B9_7F4A_7C15);
    put(&db, (0..400).map(|i| doc(&mut r, i)).collect());
    let u = UserCtx::default();
    let body = json!({"index": {"fields": ["a", "b"]}, "name": "ab", "ddoc": "ix"});
    mango::create_index(&db, &body, &u).unwrap();
    let indexed = check_queries(&db, &mut r, 150);
    assert!(
        indexed > 100,
        "only {indexed} of 150 queries used the index"
    );
    // Incremental: new, changed and deleted documents after the index exists.
    for round in 0..3 {
        let mut changes: Vec<Value> = (0..40).map(|i| doc(&mut r, 400 + round * 40 + i)).collect();
        for mut d in all_docs(&db) {
            if r.below(6) != 0 || d["_id"].as_str().unwrap().starts_with("_design/") {
                continue;
            }
            if r.below(2) == 0 {
                d["_deleted"] = json!(true);
            } else {
                let fresh = doc(&mut r, 0);
                for f in ["a", "b", "c"] {
                    match fresh.get(f) {
                        Some(v) => d[f] = v.clone(),
                        None => {
                            d.as_object_mut().unwrap().shift_remove(f);
                        }
                    }
                }
            }
            changes.push(d);
        }
        put(&db, changes);
        check_queries(&db, &mut r, 60);
    }
}

#[test]
fn equality_and_range_read_only_their_rows() {
    let tmp = tempfile::tempdir().unwrap();
    let (_engine, _views, db) = setup(tmp.path());
    put(
        &db,
        (0..1000)
            .map(|i| json!({"_id": format!("d{i:04}"), "n": i, "t": i % 10}))
            .collect(),
    );
    let u = UserCtx::default();
    mango::create_index(&db, &json!({"index": {"fields": ["n"]}, "name": "n"}), &u).unwrap();
    let r = mango::find(
        &db,
        &json!({"selector": {"n": 777}, "execution_stats": true}),
    )
    .unwrap();
    assert_eq!(r["docs"][0]["_id"], "d0777");
    assert_eq!(r["execution_stats"]["total_docs_examined"], 1);
    assert!(r.get("warning").is_none());
    let q = json!({"selector": {"n": {"$gte": 900, "$lt": 925}, "t": 3}, "execution_stats": true});
    let r = mango::find(&db, &q).unwrap();
    let ids: Vec<&str> = r["docs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["d0903", "d0913", "d0923"]);
    assert_eq!(r["execution_stats"]["total_docs_examined"], 25);
    assert_eq!(r["execution_stats"]["results_returned"], 3);
    let x = mango::explain(&db, &q).unwrap();
    assert_eq!(x["index"]["name"], "n");
    assert_eq!(x["mrargs"]["start_key"], json!([900]));
    assert_eq!(x["mrargs"]["end_key"], json!([925]));
    assert_eq!(x["range"]["inclusive_end"], false);
    // A full scan keeps CouchDB's warning.
    let r = mango::find(&db, &json!({"selector": {"t": 3}, "execution_stats": true})).unwrap();
    assert_eq!(
        r["warning"],
        "No matching index found, create an index to optimize query time."
    );
    assert_eq!(r["execution_stats"]["total_docs_examined"], 1001);
    // The index is a file next to the view indexes, and `_view_cleanup` keeps it.
    let files = || {
        std::fs::read_dir(tmp.path().join(".views").join("m"))
            .map(|d| {
                d.flatten()
                    .map(|e| e.file_name().to_string_lossy().to_string())
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default()
    };
    assert!(
        files().iter().any(|f| f.starts_with("mango-")),
        "{:?}",
        files()
    );
    _views.cleanup("m").unwrap();
    assert!(
        files().iter().any(|f| f.starts_with("mango-")),
        "{:?}",
        files()
    );
    // Deleting a document removes it from the index.
    let d = db.get("d0777", None, &Default::default()).unwrap();
    put(
        &db,
        vec![json!({"_id": "d0777", "_rev": d["_rev"], "_deleted": true})],
    );
    let r = mango::find(&db, &json!({"selector": {"n": 777}})).unwrap();
    assert_eq!(r["docs"], json!([]));
}
