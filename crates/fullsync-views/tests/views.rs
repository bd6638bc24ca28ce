//! Views through the service API: every query option, reduces, errors, incremental updates.

use std::sync::Arc;
use std::time::Duration;

use fullsync_engine::{parse_doc, Database, Engine, UserCtx};
use fullsync_views::{JsLimits, JsPool, ViewQuery, Views};
use serde_json::{json, Value};

fn setup(docs: Vec<Value>, ddoc: Value) -> (Views, Arc<Database>) {
    let engine = Arc::new(Engine::in_memory());
    let db = engine.create_db("db").unwrap();
    let mut all = docs;
    all.push(ddoc);
    db.bulk_docs_json(all, true, &UserCtx::default()).unwrap();
    let pool = Arc::new(JsPool::new(
        1,
        JsLimits {
            timeout: Duration::from_millis(300),
            memory: 64 << 20,
        },
    ));
    (Views::with_pool(engine, pool), db)
}

fn q(v: Value) -> ViewQuery {
    ViewQuery::from_json(&v).unwrap()
}

fn keys(r: &Value) -> Vec<Value> {
    r["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["key"].clone())
        .collect()
}

fn sample() -> (Views, Arc<Database>) {
    let docs = (0..10).map(|i| json!({"_id": format!("d{i}"), "n": i, "type": if i % 2 == 0 {"even"} else {"odd"}, "tags": [i % 3, i]})).collect();
    let ddoc = json!({"_id": "_design/t", "views": {
        "by_n": {"map": "function (doc) { if (doc.n !== undefined) emit(doc.n, doc.type); }"},
        "by_type": {"map": "function (doc) { if (doc.type) emit(doc.type, doc.n); }", "reduce": "_sum"},
        "by_tags": {"map": "function (doc) { if (doc.tags) emit(doc.tags, 1); }", "reduce": "_count"},
        "stats": {"map": "function (doc) { if (doc.type) emit(doc.type, doc.n); }", "reduce": "_stats"},
        "js": {"map": "function (doc) { if (doc.type) emit(doc.type, doc.n); }",
               "reduce": "function (keys, values, rereduce) { return sum(values) * 1; }"},
        "distinct": {"map": "function (doc) { if (doc.type) emit(doc.type, null); }", "reduce": "_approx_count_distinct"}
    }});
    setup(docs, ddoc)
}

#[test]
fn map_options() {
    let (v, _db) = sample();
    let r = v.query("db", "t", "by_n", &q(json!({}))).unwrap();
    assert_eq!(r["total_rows"], 10);
    assert_eq!(keys(&r), (0..10).map(|i| json!(i)).collect::<Vec<_>>());
    let r = v
        .query("db", "t", "by_n", &q(json!({"startkey": 3, "endkey": 5})))
        .unwrap();
    assert_eq!(keys(&r), vec![json!(3), json!(4), json!(5)]);
    assert_eq!(r["offset"], 3);
    let r = v
        .query(
            "db",
            "t",
            "by_n",
            &q(json!({"startkey": 3, "endkey": 5, "inclusive_end": false})),
        )
        .unwrap();
    assert_eq!(keys(&r), vec![json!(3), json!(4)]);
    let r = v
        .query(
            "db",
            "t",
            "by_n",
            &q(json!({"startkey": 5, "endkey": 3, "descending": true})),
        )
        .unwrap();
    assert_eq!(keys(&r), vec![json!(5), json!(4), json!(3)]);
    assert_eq!(r["offset"], 4);
    let r = v
        .query(
            "db",
            "t",
            "by_n",
            &q(json!({"startkey": 5, "endkey": 3, "descending": true, "inclusive_end": false})),
        )
        .unwrap();
    assert_eq!(keys(&r), vec![json!(5), json!(4)]);
    let r = v
        .query("db", "t", "by_n", &q(json!({"skip": 2, "limit": 3})))
        .unwrap();
    assert_eq!(keys(&r), vec![json!(2), json!(3), json!(4)]);
    assert_eq!(r["offset"], 2);
    let r = v.query("db", "t", "by_n", &q(json!({"key": 7}))).unwrap();
    assert_eq!(r["rows"], json!([{"id": "d7", "key": 7, "value": "odd"}]));
    let r = v
        .query("db", "t", "by_n", &q(json!({"keys": [8, 1, 42, 8]})))
        .unwrap();
    assert_eq!(keys(&r), vec![json!(8), json!(1), json!(8)]);
    let r = v
        .query(
            "db",
            "t",
            "by_n",
            &q(json!({"key": 2, "include_docs": true})),
        )
        .unwrap();
    assert_eq!(r["rows"][0]["doc"]["_id"], "d2");
    assert!(r["rows"][0]["doc"]["_rev"]
        .as_str()
        .unwrap()
        .starts_with("1-"));
    // Equal keys are ordered by doc id; startkey_docid / endkey_docid narrow within a key.
    let r = v
        .query(
            "db",
            "t",
            "by_type",
            &q(json!({"reduce": false, "key": "even"})),
        )
        .unwrap();
    let ids: Vec<&str> = r["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec!["d0", "d2", "d4", "d6", "d8"]);
    let r = v
        .query("db", "t", "by_type", &q(json!({"reduce": false, "startkey": "even", "startkey_docid": "d4", "endkey": "even", "endkey_docid": "d6"})))
        .unwrap();
    let ids: Vec<&str> = r["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec!["d4", "d6"]);
    let r = v
        .query(
            "db",
            "t",
            "by_n",
            &q(json!({"update_seq": true, "limit": 0})),
        )
        .unwrap();
    assert_eq!(r["update_seq"], 11);
    assert_eq!(r["rows"], json!([]));
}

#[test]
fn reduce_options() {
    let (v, _db) = sample();
    let r = v.query("db", "t", "by_type", &q(json!({}))).unwrap();
    assert_eq!(r, json!({"rows": [{"key": null, "value": 45}]}));
    let r = v
        .query("db", "t", "by_type", &q(json!({"group": true})))
        .unwrap();
    assert_eq!(
        r["rows"],
        json!([{"key": "even", "value": 20}, {"key": "odd", "value": 25}])
    );
    let r = v
        .query(
            "db",
            "t",
            "by_type",
            &q(json!({"group": true, "descending": true, "limit": 1})),
        )
        .unwrap();
    assert_eq!(r["rows"], json!([{"key": "odd", "value": 25}]));
    let r = v
        .query(
            "db",
            "t",
            "by_type",
            &q(json!({"keys": ["odd", "nope", "even"], "group": true})),
        )
        .unwrap();
    assert_eq!(
        r["rows"],
        json!([{"key": "odd", "value": 25}, {"key": "even", "value": 20}])
    );
    let r = v
        .query("db", "t", "by_tags", &q(json!({"group_level": 1})))
        .unwrap();
    assert_eq!(
        r["rows"],
        json!([{"key": [0], "value": 4}, {"key": [1], "value": 3}, {"key": [2], "value": 3}])
    );
    let r = v
        .query(
            "db",
            "t",
            "by_tags",
            &q(json!({"group_level": 1, "skip": 1})),
        )
        .unwrap();
    assert_eq!(keys(&r), vec![json!([1]), json!([2])]);
    let r = v
        .query("db", "t", "stats", &q(json!({"key": "odd"})))
        .unwrap();
    assert_eq!(
        r["rows"][0]["value"],
        json!({"sum": 25, "count": 5, "min": 1, "max": 9, "sumsqr": 165})
    );
    let r = v
        .query("db", "t", "js", &q(json!({"group": true})))
        .unwrap();
    assert_eq!(
        r["rows"],
        json!([{"key": "even", "value": 20}, {"key": "odd", "value": 25}])
    );
    let r = v.query("db", "t", "distinct", &q(json!({}))).unwrap();
    assert_eq!(r["rows"][0]["value"], 2);
    let r = v
        .query("db", "t", "by_type", &q(json!({"startkey": "x"})))
        .unwrap();
    assert_eq!(r["rows"], json!([]));
}

#[test]
fn errors_as_couchdb() {
    let (v, _db) = sample();
    let e = |view: &str, o: Value| v.query("db", "t", view, &q(o)).unwrap_err();
    let err = e("by_n", json!({"group": true}));
    assert_eq!(
        (err.status(), err.couch_error(), err.to_string().as_str()),
        (
            400,
            "query_parse_error",
            "Invalid use of grouping on a map view."
        )
    );
    assert_eq!(
        e("by_type", json!({"group": true, "reduce": false})).to_string(),
        "Invalid use of grouping on a map view."
    );
    assert_eq!(
        e("by_n", json!({"reduce": true})).to_string(),
        "Reduce is invalid for map-only views."
    );
    assert_eq!(
        e("by_type", json!({"include_docs": true})).to_string(),
        "`include_docs` is invalid for reduce"
    );
    let err = v.query("db", "t", "nope", &q(json!({}))).unwrap_err();
    assert_eq!(
        (err.status(), err.to_string().as_str()),
        (404, "missing_named_view")
    );
    let err = v.query("db", "nope", "x", &q(json!({}))).unwrap_err();
    assert_eq!((err.status(), err.to_string().as_str()), (404, "missing"));
}

#[test]
fn one_throwing_doc_in_a_thousand_is_reported_not_swallowed() {
    let docs = (0..1000).map(|i| json!({"_id": format!("d{i:04}"), "v": if i == 500 { json!(null) } else { json!({"x": i}) }})).collect();
    let (v, _db) = setup(
        docs,
        json!({"_id": "_design/t", "views": {"x": {"map": "function (doc) { emit(doc.v.x, null); }"}}}),
    );
    let r = v.query("db", "t", "x", &q(json!({"limit": 0}))).unwrap();
    assert_eq!(r["total_rows"], 999);
    let errs = v.errors("db", "t", 100).unwrap();
    assert_eq!(errs.len(), 1);
    assert_eq!(errs[0].id, "d0500");
    assert_eq!(errs[0].view, "x");
    assert!(errs[0].error.contains("TypeError"), "{}", errs[0].error);
}

#[test]
fn infinite_loop_times_out_and_other_docs_are_indexed() {
    let docs = (0..20)
        .map(|i| json!({"_id": format!("d{i:02}"), "loop": i == 7}))
        .collect();
    let (v, _db) = setup(
        docs,
        json!({"_id": "_design/t", "views": {"x": {"map": "function (doc) { while (doc.loop) {} emit(doc._id); }"}}}),
    );
    let t = std::time::Instant::now();
    let r = v.query("db", "t", "x", &q(json!({}))).unwrap();
    assert!(t.elapsed() < Duration::from_secs(10));
    assert_eq!(r["total_rows"], 19);
    let errs = v.errors("db", "t", 10).unwrap();
    assert_eq!(errs.len(), 1);
    assert!(errs[0].error.contains("timed out"), "{}", errs[0].error);
}

#[test]
fn incremental_updates_and_deletes() {
    let (v, db) = sample();
    assert_eq!(
        v.query("db", "t", "by_type", &q(json!({}))).unwrap()["rows"][0]["value"],
        45
    );
    let cur = db.get("d9", None, &Default::default()).unwrap();
    db.put(
        parse_doc(
            json!({"_id": "d9", "_rev": cur["_rev"], "n": 100, "type": "odd"}),
            None,
            &mut |_| None,
        )
        .unwrap(),
        &UserCtx::default(),
    )
    .unwrap();
    let cur = db.get("d8", None, &Default::default()).unwrap();
    db.put(
        parse_doc(
            json!({"_id": "d8", "_rev": cur["_rev"], "_deleted": true}),
            None,
            &mut |_| None,
        )
        .unwrap(),
        &UserCtx::default(),
    )
    .unwrap();
    // stale: the old answer, then the new one.
    assert_eq!(
        v.query("db", "t", "by_type", &q(json!({"stale": "ok"})))
            .unwrap()["rows"][0]["value"],
        45
    );
    assert_eq!(
        v.query("db", "t", "by_type", &q(json!({}))).unwrap()["rows"][0]["value"],
        45 - 9 - 8 + 100
    );
    assert_eq!(
        v.query("db", "t", "by_n", &q(json!({}))).unwrap()["total_rows"],
        9
    );
}

#[test]
fn changing_one_ddoc_keeps_the_other_index() {
    let (v, db) = sample();
    db.put(
        parse_doc(
            json!({"_id": "_design/u", "views": {"a": {"map": "function (doc) { emit(1); }"}}}),
            None,
            &mut |_| None,
        )
        .unwrap(),
        &UserCtx::default(),
    )
    .unwrap();
    v.query("db", "t", "by_n", &q(json!({}))).unwrap();
    v.query("db", "u", "a", &q(json!({}))).unwrap();
    let cur = db.get("_design/u", None, &Default::default()).unwrap();
    db.put(parse_doc(json!({"_id": "_design/u", "_rev": cur["_rev"], "views": {"a": {"map": "function (doc) { emit(2); }"}}}), None, &mut |_| None).unwrap(), &UserCtx::default()).unwrap();
    let r = v.query("db", "u", "a", &q(json!({"limit": 1}))).unwrap();
    assert_eq!(r["rows"][0]["key"], 2);
    // t's index was not invalidated: stale=ok still answers from it.
    assert_eq!(
        v.query("db", "t", "by_n", &q(json!({"stale": "ok"})))
            .unwrap()["total_rows"],
        10
    );
}

#[test]
fn collation_of_view_keys() {
    let words = ["b", "B", "a", "A", "aa", "é", "e", "1", "10", "2", "_", "~"];
    let docs = words
        .iter()
        .enumerate()
        .map(|(i, w)| json!({"_id": format!("d{i}"), "w": w}))
        .collect();
    let (v, _db) = setup(
        docs,
        json!({"_id": "_design/t", "views": {"w": {"map": "function (doc) { if (doc.w) emit(doc.w); }"}}}),
    );
    let r = v.query("db", "t", "w", &q(json!({}))).unwrap();
    assert_eq!(
        keys(&r),
        ["_", "~", "1", "10", "2", "a", "A", "aa", "b", "B", "e", "é"]
            .iter()
            .map(|s| json!(s))
            .collect::<Vec<_>>()
    );
}

#[test]
fn preview_of_an_unsaved_map() {
    let (v, _db) = sample();
    let p = v
        .preview("db", "function (doc) { if (doc.n > 7) emit(doc.n); if (doc.n === 3) throw new Error('three'); }", None, &q(json!({})))
        .unwrap();
    assert_eq!(keys(&p.result), vec![json!(8), json!(9)]);
    assert_eq!(p.errors.len(), 1);
    assert_eq!(p.errors[0].id, "d3");
    let p = v
        .preview(
            "db",
            "function (doc) { if (doc.type) emit(doc.type, 1); }",
            Some("_count"),
            &q(json!({"group": true})),
        )
        .unwrap();
    assert_eq!(p.result["rows"][1], json!({"key": "odd", "value": 5}));
    assert!(v
        .preview("db", "function (doc) { emit(doc.x; }", None, &q(json!({})))
        .is_err());
    // The documents are kept between previews, and read again after a write or a delete.
    let count = |v: &Views| {
        let p = v
            .preview(
                "db",
                "function (doc) { if (doc.type) emit(doc.type, 1); }",
                Some("_count"),
                &q(json!({})),
            )
            .unwrap();
        p.result["rows"][0]["value"].clone()
    };
    assert_eq!(count(&v), json!(10));
    _db.bulk_docs_json(
        vec![json!({"_id": "new", "type": "odd"})],
        true,
        &UserCtx::default(),
    )
    .unwrap();
    assert_eq!(count(&v), json!(11));
    let d1 = _db.get("d1", None, &Default::default()).unwrap();
    _db.bulk_docs_json(
        vec![json!({"_id": "d1", "_rev": d1["_rev"], "_deleted": true})],
        true,
        &UserCtx::default(),
    )
    .unwrap();
    assert_eq!(count(&v), json!(10));
}

#[test]
fn the_live_preview_maps_the_first_documents_of_a_large_database() {
    use fullsync_views::MAX_PREVIEW_DOCS;
    let n = MAX_PREVIEW_DOCS + 5;
    let docs = (0..n)
        .map(|i| json!({"_id": format!("d{i:06}"), "n": i}))
        .collect();
    let (v, db) = setup(docs, json!({"_id": "_design/x", "views": {}}));
    let map = "function (doc) { emit(doc.n, null); }";
    let p = v.preview("db", map, Some("_count"), &q(json!({}))).unwrap();
    assert_eq!(
        p.result["rows"][0]["value"],
        json!(MAX_PREVIEW_DOCS),
        "only the first documents are mapped"
    );
    assert_eq!(
        (p.docs, p.total, p.limited),
        (MAX_PREVIEW_DOCS as u64, n as u64 + 1, true)
    );
    // The rows are those of the first documents by id.
    let p = v
        .preview("db", map, None, &q(json!({"descending": true, "limit": 1})))
        .unwrap();
    assert_eq!(keys(&p.result), vec![json!(MAX_PREVIEW_DOCS - 1)]);
    // Back under the limit: everything is mapped again, and not limited.
    let gone: Vec<Value> = (MAX_PREVIEW_DOCS - 1..n)
        .map(|i| {
            let id = format!("d{i:06}");
            let rev = db.get(&id, None, &Default::default()).unwrap()["_rev"].clone();
            json!({"_id": id, "_rev": rev, "_deleted": true})
        })
        .collect();
    db.bulk_docs_json(gone, true, &UserCtx::default()).unwrap();
    let p = v.preview("db", map, Some("_count"), &q(json!({}))).unwrap();
    assert_eq!(p.result["rows"][0]["value"], json!(MAX_PREVIEW_DOCS - 1));
    assert_eq!((p.docs, p.limited), (MAX_PREVIEW_DOCS as u64 - 1, false));
}

#[test]
fn index_survives_restart() {
    let dir = tempfile::tempdir().unwrap();
    {
        let engine = Arc::new(Engine::open(dir.path()).unwrap());
        let db = engine.create_db("db").unwrap();
        db.bulk_docs_json(
            vec![json!({"_id": "a", "n": 1}), json!({"_id": "_design/t", "views": {"n": {"map": "function (doc) { emit(doc.n); }"}}})],
            true,
            &UserCtx::default(),
        )
        .unwrap();
        let v = Views::new(engine);
        assert_eq!(
            v.query("db", "t", "n", &q(json!({}))).unwrap()["total_rows"],
            1
        );
    }
    let engine = Arc::new(Engine::open(dir.path()).unwrap());
    let v = Views::new(engine);
    let r = v.query("db", "t", "n", &q(json!({"stale": "ok"}))).unwrap();
    assert_eq!(r["total_rows"], 1, "the index was persisted");
}

#[test]
fn validate_doc_update_and_ddoc_checks() {
    let (_v, db) = sample();
    let put = |v: Value| {
        db.put(
            parse_doc(v, None, &mut |_| None).unwrap(),
            &UserCtx {
                name: Some("bob".into()),
                roles: vec![],
            },
        )
    };
    put(json!({"_id": "_design/guard", "validate_doc_update":
        "function (newDoc, oldDoc, userCtx, secObj) { if (!newDoc.owner) throw({forbidden: 'every doc needs an owner'}); if (newDoc.owner !== userCtx.name) throw({unauthorized: 'not yours'}); }"}))
    .unwrap();
    let e = put(json!({"_id": "x"})).unwrap_err();
    assert_eq!(
        (e.status(), e.couch_error(), e.reason()),
        (403, "forbidden", "every doc needs an owner".to_string())
    );
    let e = put(json!({"_id": "x", "owner": "alice"})).unwrap_err();
    assert_eq!((e.status(), e.reason()), (401, "not yours".to_string()));
    put(json!({"_id": "x", "owner": "bob"})).unwrap();
    // Design documents are checked before they are stored.
    let e = put(
        json!({"_id": "_design/bad", "views": {"v": {"map": "function (doc) { emit(doc.x; }"}}}),
    )
    .unwrap_err();
    assert_eq!(
        (e.status(), e.error_name()),
        (400, "compilation_error".to_string())
    );
    let e = put(json!({"_id": "_design/bad", "views": {"v": {"map": "function (doc) {}", "reduce": "_cout"}}})).unwrap_err();
    assert_eq!(e.error_name(), "invalid_design_doc");
    assert!(e.reason().contains("_count"));
}

#[test]
fn offsets_are_exact_across_rank_samples() {
    // 2,500 rows (several rank samples), duplicate keys, ascending and descending.
    let docs = (0..2500)
        .map(|i| json!({"_id": format!("d{i:05}"), "n": i / 2}))
        .collect();
    let (v, _db) = setup(
        docs,
        json!({"_id": "_design/t", "views": {"n": {"map": "function (doc) { emit(doc.n); }"}}}),
    );
    for k in [0, 1, 255, 256, 257, 511, 700, 1023, 1024, 1249] {
        let r = v
            .query("db", "t", "n", &q(json!({"startkey": k, "limit": 1})))
            .unwrap();
        assert_eq!(r["offset"], json!(k * 2), "asc startkey {k}");
        let r = v
            .query(
                "db",
                "t",
                "n",
                &q(json!({"startkey": k, "limit": 1, "descending": true})),
            )
            .unwrap();
        assert_eq!(r["offset"], json!(2500 - (k * 2 + 2)), "desc startkey {k}");
        let r = v.query("db", "t", "n", &q(json!({"key": k}))).unwrap();
        assert_eq!(
            (r["offset"].clone(), r["rows"].as_array().unwrap().len()),
            (json!(k * 2), 2),
            "key {k}"
        );
        let r = v.query("db", "t", "n", &q(json!({"startkey": k, "startkey_docid": format!("d{:05}", k * 2 + 1), "limit": 1}))).unwrap();
        assert_eq!(r["offset"], json!(k * 2 + 1), "startkey_docid {k}");
    }
}

/// A staged deploy's order of operations, on disk and after a restart: the staging design
/// document builds the index, the live one (same views: same signature) is written, the staging
/// one deleted and `_view_cleanup` run. The live design document answers `update=false` with
/// every row from the shared index, never rebuilding it.
#[test]
fn deleting_a_design_document_keeps_the_index_another_with_its_signature_uses() {
    let dir = tempfile::tempdir().unwrap();
    let views =
        json!({"by_n": {"map": "function (doc) { if (doc.n !== undefined) emit(doc.n); }"}});
    let index_files = |dir: &std::path::Path| -> Vec<String> {
        let mut out = vec![];
        for d in std::fs::read_dir(dir.join(".views")).unwrap().flatten() {
            for f in std::fs::read_dir(d.path()).unwrap().flatten() {
                out.push(f.file_name().to_string_lossy().to_string());
            }
        }
        out
    };
    {
        let engine = Arc::new(Engine::open(dir.path()).unwrap());
        let db = engine.create_db("db").unwrap();
        let mut docs: Vec<Value> = (0..1500)
            .map(|i| json!({"_id": format!("d{i:05}"), "n": i}))
            .collect();
        docs.push(json!({"_id": "_design/app-staging", "views": views}));
        db.bulk_docs_json(docs, true, &UserCtx::default()).unwrap();
        let v = Views::new(engine.clone());
        let built = v
            .query("db", "app-staging", "by_n", &q(json!({"limit": 0})))
            .unwrap();
        assert_eq!(built["total_rows"], 1500);
        db.put(
            parse_doc(
                json!({"_id": "_design/app", "views": views}),
                None,
                &mut |_| None,
            )
            .unwrap(),
            &UserCtx::default(),
        )
        .unwrap();
        let staging = db
            .get("_design/app-staging", None, &Default::default())
            .unwrap();
        db.put(
            parse_doc(
                json!({"_id": "_design/app-staging", "_rev": staging["_rev"], "_deleted": true}),
                None,
                &mut |_| None,
            )
            .unwrap(),
            &UserCtx::default(),
        )
        .unwrap();
        assert_eq!(
            v.cleanup("db").unwrap(),
            0,
            "the index is still used by _design/app"
        );
        let r = v
            .query("db", "app", "by_n", &q(json!({"update": false})))
            .unwrap();
        assert_eq!(r["rows"].as_array().unwrap().len(), 1500);
    }
    assert_eq!(
        index_files(dir.path()).len(),
        1,
        "{:?}",
        index_files(dir.path())
    );
    let engine = Arc::new(Engine::open(dir.path()).unwrap());
    let v = Views::new(engine);
    assert_eq!(v.cleanup("db").unwrap(), 0);
    let r = v
        .query("db", "app", "by_n", &q(json!({"update": false})))
        .unwrap();
    assert_eq!(
        r["rows"].as_array().unwrap().len(),
        1500,
        "still there after a restart"
    );
}

#[test]
fn first_build_scan_gives_maps_the_documents_changes_gives() {
    // `seen` is built once before the documents exist (then updated from `_changes`), `fresh`
    // after (its first build scans the stored bodies): both must hand map functions the same
    // documents, attachments stubs and `_conflicts` included.
    let map = "function (doc) { emit(doc._id, doc); }";
    let dd = |name: &str| json!({"_id": format!("_design/{name}"), "views": {"all": {"map": map}}});
    let (v, db) = setup(vec![], dd("seen"));
    v.query("db", "seen", "all", &q(json!({}))).unwrap();
    let u = UserCtx::default();
    db.bulk_docs_json(
        vec![
            json!({"_id": "plain", "n": 1.5, "s": "é\"x", "o": {"a": [1, {}]}}),
            json!({"_id": "empty"}),
            json!({"_id": "att", "_attachments": {"a.txt": {"content_type": "text/plain", "data": "aGVsbG8="}}}),
        ],
        true,
        &u,
    )
    .unwrap();
    db.bulk_docs_json(
        vec![
            json!({"_id": "c", "v": 1, "_rev": "1-aaa"}),
            json!({"_id": "c", "v": 2, "_rev": "1-bbb"}),
        ],
        false,
        &u,
    )
    .unwrap();
    db.bulk_docs_json(vec![dd("fresh")], true, &u).unwrap();
    let seen = v.query("db", "seen", "all", &q(json!({}))).unwrap();
    let fresh = v.query("db", "fresh", "all", &q(json!({}))).unwrap();
    assert_eq!(seen["rows"].as_array().unwrap().len(), 4);
    assert_eq!(seen["rows"], fresh["rows"]);
    let c = &fresh["rows"][1];
    assert_eq!(c["id"], "c");
    assert_eq!(c["value"]["_conflicts"], json!(["1-aaa"]));
    assert_eq!(
        fresh["rows"][0]["value"]["_attachments"]["a.txt"]["stub"],
        true
    );
}

/// A small update commits without fsync when the index's last durable commit is recent
/// (`index::COMMIT_DELAY`, as CouchDB's `commit_freq`); closing the index makes it durable: after
/// a restart, `update=false` answers the updated rows and the indexed sequence is the new one.
#[test]
fn a_small_update_is_kept_when_the_index_closes() {
    let dir = tempfile::tempdir().unwrap();
    let seq;
    {
        let engine = Arc::new(Engine::open(dir.path()).unwrap());
        let db = engine.create_db("db").unwrap();
        let mut docs: Vec<Value> = (0..50)
            .map(|i| json!({"_id": format!("d{i:02}"), "n": i}))
            .collect();
        docs.push(
            json!({"_id": "_design/a", "views": {"n": {"map": "function (doc) { emit(doc.n); }"}}}),
        );
        db.bulk_docs_json(docs, true, &UserCtx::default()).unwrap();
        let v = Views::new(engine.clone());
        assert_eq!(
            v.query("db", "a", "n", &q(json!({"limit": 0}))).unwrap()["total_rows"],
            50
        );
        let d = db.get("d07", None, &Default::default()).unwrap();
        db.bulk_docs_json(
            vec![
                json!({"_id": "d07", "_rev": d["_rev"], "n": 700}),
                json!({"_id": "new", "n": 1000}),
            ],
            true,
            &UserCtx::default(),
        )
        .unwrap();
        let r = v
            .query(
                "db",
                "a",
                "n",
                &q(json!({"start_key": 700, "update_seq": true})),
            )
            .unwrap();
        assert_eq!(keys(&r), vec![json!(700), json!(1000)]);
        seq = r["update_seq"].clone();
        assert_eq!(seq, json!(db.update_seq()));
    }
    let engine = Arc::new(Engine::open(dir.path()).unwrap());
    let v = Views::new(engine.clone());
    let r = v
        .query(
            "db",
            "a",
            "n",
            &q(json!({"start_key": 7, "end_key": 8, "update": false, "update_seq": true})),
        )
        .unwrap();
    assert_eq!(keys(&r), vec![json!(8)], "d07 no longer emits 7");
    assert_eq!(r["update_seq"], seq);
    assert_eq!(r["total_rows"], 51);
}
