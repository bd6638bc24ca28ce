//! Differential test of the stored reductions: over random documents, random key ranges,
//! `keys`, group levels, `skip`/`limit` and both directions, the reduce answer read from the
//! reduction tree equals a reduction computed here from the map rows of the same range, before
//! and after documents are added, changed and deleted.

use std::sync::Arc;

use fullsync_engine::{Database, Engine, UserCtx};
use fullsync_views::{collate, ViewQuery, Views};
use serde_json::{json, Value};

/// xorshift64*: seeded, so a failure replays.
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

fn key(r: &mut Rng) -> Value {
    match r.below(12) {
        0 => json!(r.below(5)),
        1 => json!(format!("s{}", r.below(3))),
        2 => json!([format!("t{}", r.below(4))]),
        _ => json!([format!("t{}", r.below(4)), r.below(20), r.below(3)]),
    }
}

fn doc(r: &mut Rng, id: &str) -> Value {
    let mut d = json!({"_id": id, "k": key(r), "v": r.below(101) as i64 - 50});
    if r.below(5) == 0 {
        d["k2"] = key(r);
    }
    d
}

const MAP: &str =
    "function (doc) { emit(doc.k, doc.v); if (doc.k2 !== undefined) emit(doc.k2, doc.v); }";
const VIEWS: [&str; 5] = ["count", "sum", "stats", "js", "distinct"];

fn ddoc() -> Value {
    json!({"_id": "_design/r", "views": {
        "count": {"map": MAP, "reduce": "_count"},
        "sum": {"map": MAP, "reduce": "_sum"},
        "stats": {"map": MAP, "reduce": "_stats"},
        "js": {"map": MAP, "reduce": "function (keys, values, rereduce) { return sum(values); }"},
        "distinct": {"map": MAP, "reduce": "_approx_count_distinct"},
    }})
}

fn put(db: &Database, docs: Vec<Value>) {
    for r in db.bulk_docs_json(docs, true, &UserCtx::default()).unwrap() {
        r.result.unwrap();
    }
}

/// The reduction of `values` (emitted with keys of sort keys `keys`) computed here.
/// `_approx_count_distinct` is exact here: fewer distinct keys than the sketch counts exactly.
fn reduce(view: &str, values: &[i64], keys: &[Vec<u8>]) -> Value {
    let sum: i64 = values.iter().sum();
    match view {
        "count" => json!(values.len()),
        "distinct" => json!(keys.iter().collect::<std::collections::HashSet<_>>().len()),
        "stats" => json!({
            "sum": sum, "count": values.len(),
            "min": values.iter().min(), "max": values.iter().max(),
            "sumsqr": values.iter().map(|v| v * v).sum::<i64>(),
        }),
        _ => json!(sum),
    }
}

fn group_of(k: &Value, level: Option<u64>) -> Value {
    match (level, k) {
        (Some(n), Value::Array(a)) => Value::Array(a.iter().take(n as usize).cloned().collect()),
        _ => k.clone(),
    }
}

/// The expected answer: the map rows of the same range, grouped and reduced here.
fn expected(views: &Views, view: &str, q: &Value) -> Value {
    let mut mq = q.clone();
    let m = mq.as_object_mut().unwrap();
    for k in ["group", "group_level", "skip", "limit"] {
        m.remove(k);
    }
    m.insert("reduce".into(), json!(false));
    let map = views
        .query("db", "r", view, &ViewQuery::from_json(&mq).unwrap())
        .unwrap();
    let level = match (q.get("group"), q.get("group_level")) {
        (_, Some(l)) => Some(Some(l.as_u64().unwrap())),
        (Some(Value::Bool(true)), None) => Some(None),
        _ => None,
    };
    // (group key, its sort key, values, keys' sort keys), consecutive rows of one group together.
    type Group = (Value, Vec<u8>, Vec<i64>, Vec<Vec<u8>>);
    let mut groups: Vec<Group> = vec![];
    for row in map["rows"].as_array().unwrap() {
        let g = match level {
            None => Value::Null,
            Some(l) => group_of(&row["key"], l),
        };
        let s = collate::sort_key(&g);
        let v = row["value"].as_i64().unwrap();
        let k = collate::sort_key(&row["key"]);
        match groups.last_mut() {
            Some((_, ls, vals, keys)) if *ls == s => {
                vals.push(v);
                keys.push(k);
            }
            _ => groups.push((g, s, vec![v], vec![k])),
        }
    }
    let skip = q["skip"].as_u64().unwrap_or(0) as usize;
    let limit = q["limit"].as_u64().unwrap_or(u64::MAX) as usize;
    let rows: Vec<Value> = groups
        .into_iter()
        .skip(skip)
        .take(limit)
        .map(|(g, _, vals, keys)| json!({"key": g, "value": reduce(view, &vals, &keys)}))
        .collect();
    json!({ "rows": rows })
}

fn query(r: &mut Rng) -> Value {
    let mut q = json!({});
    let descending = r.below(3) == 0;
    if r.below(6) == 0 {
        // Each key once: CouchDB answers one row per key asked.
        let mut ks: Vec<Value> = (0..1 + r.below(4)).map(|_| key(r)).collect();
        ks.sort_by_key(collate::sort_key);
        ks.dedup();
        q["keys"] = json!(ks);
        q["group"] = json!(true);
    } else {
        let (mut a, mut b) = (key(r), key(r));
        if (collate::sort_key(&a) > collate::sort_key(&b)) != descending {
            std::mem::swap(&mut a, &mut b);
        }
        match r.below(4) {
            0 => {}
            1 => q["start_key"] = a,
            2 => q["end_key"] = b,
            _ => {
                q["start_key"] = a;
                q["end_key"] = b;
            }
        }
        if r.below(3) == 0 {
            q["inclusive_end"] = json!(false);
        }
        match r.below(4) {
            0 => {}
            1 => q["group"] = json!(true),
            n => q["group_level"] = json!(n - 1),
        }
    }
    if descending {
        q["descending"] = json!(true);
    }
    if r.below(4) == 0 {
        q["skip"] = json!(r.below(3));
    }
    if r.below(4) == 0 {
        q["limit"] = json!(r.below(5));
    }
    q
}

fn check(views: &Views, r: &mut Rng, n: usize) {
    for i in 0..n {
        let q = query(r);
        let view = VIEWS[i % VIEWS.len()];
        let got = views
            .query("db", "r", view, &ViewQuery::from_json(&q).unwrap())
            .unwrap();
        assert_eq!(got, expected(views, view, &q), "view {view}, query {q}");
    }
}

#[test]
fn stored_reductions_answer_as_query_time_reduction() {
    let engine = Arc::new(Engine::in_memory());
    let db = engine.create_db("db").unwrap();
    let views = Views::new(engine.clone());
    let mut r = Rng(0x2545_F491_4F6C_DD1D);
    let mut docs: Vec<Value> = (0..3000)
        .map(|i| doc(&mut r, &format!("d{i:05}")))
        .collect();
    docs.push(ddoc());
    put(&db, docs);
    check(&views, &mut r, 200);
    for round in 0..4 {
        let (_, _, all) = db
            .all_docs(&fullsync_engine::AllDocsOptions {
                include_docs: true,
                ..Default::default()
            })
            .unwrap();
        let mut batch: Vec<Value> = (0..300)
            .map(|i| doc(&mut r, &format!("n{round}-{i:04}")))
            .collect();
        for row in all {
            let d = &row["doc"];
            if d["_id"].as_str().unwrap().starts_with("_design/") || r.below(5) != 0 {
                continue;
            }
            let mut nd = if r.below(2) == 0 {
                json!({"_deleted": true})
            } else {
                doc(&mut r, "")
            };
            nd["_id"] = d["_id"].clone();
            nd["_rev"] = d["_rev"].clone();
            batch.push(nd);
        }
        put(&db, batch);
        check(&views, &mut r, 100);
    }
}

#[test]
fn a_builtin_error_fails_only_the_ranges_that_hold_the_bad_value() {
    let engine = Arc::new(Engine::in_memory());
    let db = engine.create_db("db").unwrap();
    let views = Views::new(engine.clone());
    let mut docs: Vec<Value> = (0..2000)
        .map(|i| json!({"_id": format!("d{i:05}"), "k": i, "v": if i == 1500 { json!("x") } else { json!(1) }}))
        .collect();
    docs.push(json!({"_id": "_design/r", "views": {"sum": {"map": "function (doc) { emit(doc.k, doc.v); }", "reduce": "_sum"}}}));
    put(&db, docs);
    let q = |v: Value| views.query("db", "r", "sum", &ViewQuery::from_json(&v).unwrap());
    assert_eq!(
        q(json!({"end_key": 1499})).unwrap()["rows"][0]["value"],
        1500
    );
    assert_eq!(
        q(json!({"start_key": 1501})).unwrap()["rows"][0]["value"],
        499
    );
    let e = q(json!({})).unwrap_err();
    assert_eq!(e.couch_error(), "builtin_reduce_error");
}

/// Above the sketch's exact range, `_approx_count_distinct` from the tree answers what the
/// query-time sketch of the same rows answers (merging node sketches loses nothing), within the
/// sketch's error of the exact count, before and after changes and deletions.
#[test]
fn approx_count_distinct_from_the_tree_is_the_sketch_of_the_rows() {
    let engine = Arc::new(Engine::in_memory());
    let db = engine.create_db("db").unwrap();
    let views = Views::new(engine.clone());
    let doc =
        |i: u64| json!({"_id": format!("d{i:05}"), "k": i % 4000, "t": format!("t{}", i % 3)});
    let mut docs: Vec<Value> = (0..6000).map(doc).collect();
    docs.push(json!({"_id": "_design/r", "views": {"d": {
        "map": "function (doc) { emit([doc.t, doc.k], null); emit(doc.k, null); }",
        "reduce": "_approx_count_distinct"}}}));
    put(&db, docs);
    let mut r = Rng(7);
    let check = |r: &mut Rng| {
        for _ in 0..30 {
            let a = r.below(4500);
            let b = a + r.below(4500);
            let mut q = json!({"start_key": a, "end_key": b});
            match r.below(3) {
                0 => q = json!({}),
                1 => q["group_level"] = json!(1),
                _ => {}
            }
            if r.below(2) == 0 {
                q = json!({"group_level": 1});
            }
            let got = views
                .query("db", "r", "d", &ViewQuery::from_json(&q).unwrap())
                .unwrap();
            let mut mq = q.clone();
            mq.as_object_mut().unwrap().remove("group_level");
            mq["reduce"] = json!(false);
            let map = views
                .query("db", "r", "d", &ViewQuery::from_json(&mq).unwrap())
                .unwrap();
            let mut groups: Vec<(Value, Vec<Vec<u8>>)> = vec![];
            for row in map["rows"].as_array().unwrap() {
                let g = match (q.get("group_level"), &row["key"]) {
                    (Some(_), Value::Array(a)) => json!([a[0]]),
                    (Some(_), k) => k.clone(),
                    (None, _) => Value::Null,
                };
                let k = collate::sort_key(&row["key"]);
                match groups.last_mut() {
                    Some((lg, keys)) if *lg == g => keys.push(k),
                    _ => groups.push((g, vec![k])),
                }
            }
            let want: Vec<Value> = groups
                .iter()
                .map(|(g, keys)| {
                    let refs: Vec<&[u8]> = keys.iter().map(Vec::as_slice).collect();
                    let est = fullsync_views::reduce::count_distinct(&refs);
                    let exact = keys.iter().collect::<std::collections::HashSet<_>>().len();
                    let err = (est.as_u64().unwrap() as f64 - exact as f64).abs() / exact as f64;
                    assert!(err < 0.065, "estimate {est} for {exact} distinct keys");
                    json!({"key": g, "value": est})
                })
                .collect();
            assert_eq!(got, json!({ "rows": want }), "query {q}");
        }
    };
    check(&mut r);
    let (_, _, all) = db
        .all_docs(&fullsync_engine::AllDocsOptions::default())
        .unwrap();
    let edits: Vec<Value> = all
        .iter()
        .filter(|row| !row["id"].as_str().unwrap().starts_with("_design/"))
        .enumerate()
        .filter(|(i, _)| i % 3 == 0)
        .map(|(i, row)| {
            let mut d = if i % 2 == 0 {
                json!({"_deleted": true})
            } else {
                json!({"k": 10_000 + i, "t": "t9"})
            };
            d["_id"] = row["id"].clone();
            d["_rev"] = row["value"]["rev"].clone();
            d
        })
        .collect();
    put(&db, edits);
    check(&mut r);
}
