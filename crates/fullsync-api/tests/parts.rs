//! Creating every part of a project from the studio (`part_edit`): reduces, filters,
//! `validate_doc_update`, lib modules, Mango indexes, handlers, view tests; each reaches the
//! engine through the one sync path, and bad requests are refused with a reason.

use std::path::Path;
use std::sync::Arc;

use fullsync_api::{ErrorCode, Studio};
use fullsync_engine::{Engine, ReadOptions, UserCtx};
use serde_json::{json, Value};

mod common;
use common::call;

fn part(s: &Studio, args: Value) -> Result<Value, fullsync_api::ApiError> {
    s.handle_json(json!({"cmd": "part_edit", "args": args}))
}

fn project(dir: &Path) -> std::path::PathBuf {
    let root = dir.join("p");
    std::fs::create_dir_all(root.join("connectors/shop/design/app/views/by_type")).unwrap();
    std::fs::write(
        root.join("fullsync.toml"),
        "[project]\nname = \"p\"\ndescription = \"A shop\"\n",
    )
    .unwrap();
    std::fs::write(
        root.join("connectors/shop/connector.toml"),
        "anonymous_replication = \"allow\"\n",
    )
    .unwrap();
    std::fs::write(
        root.join("connectors/shop/design/app/views/by_type/map.js"),
        "function (doc) { emit(doc.type, doc.n); }\n",
    )
    .unwrap();
    root
}

#[test]
fn every_part_is_created_synced_and_refused_when_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let root = project(dir.path());
    let engine = Arc::new(Engine::in_memory());
    let views = Arc::new(fullsync_views::Views::new(engine.clone()));
    let s = Studio::new(engine.clone(), views);
    let t = call(
        &s,
        json!({"cmd": "project_open", "args": {"path": root.display().to_string()}}),
    );
    assert_eq!(t["description"], "A shop");
    let names: Vec<&str> = t["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["fullsync.toml", "handlers", "tests", "data"]);
    let db = engine.db("shop").unwrap();
    let admin = UserCtx {
        name: None,
        roles: vec!["_admin".into()],
    };
    db.bulk_docs_json(
        vec![
            json!({"_id": "a", "type": "x", "n": 2}),
            json!({"_id": "b", "type": "x", "n": 3}),
            json!({"_id": "c", "type": "y", "n": 5}),
        ],
        true,
        &admin,
    )
    .unwrap();
    let ddoc = || {
        db.get("_design/app", None, &ReadOptions::default())
            .unwrap()
    };
    let at = |a: Value| {
        let mut base = json!({"connector": "shop", "ddoc": "app"});
        base.as_object_mut()
            .unwrap()
            .extend(a.as_object().unwrap().clone());
        base
    };

    // Reduces: builtin, custom, refused, removed.
    let r = part(
        &s,
        at(json!({"op": "set_reduce", "view": "by_type", "reduce": "_stats"})),
    )
    .unwrap();
    assert_eq!(
        r["path"],
        "connectors/shop/design/app/views/by_type/reduce.js"
    );
    assert_eq!(ddoc()["views"]["by_type"]["reduce"], "_stats");
    let e = part(
        &s,
        at(json!({"op": "set_reduce", "view": "by_type", "reduce": "_summ"})),
    )
    .unwrap_err();
    assert_eq!(e.code, ErrorCode::BadRequest);
    assert!(e.message.contains("_sum"), "{}", e.message);
    part(
        &s,
        at(json!({"op": "set_reduce", "view": "by_type", "reduce": "custom"})),
    )
    .unwrap();
    assert!(ddoc()["views"]["by_type"]["reduce"]
        .as_str()
        .unwrap()
        .contains("rereduce"));
    part(&s, at(json!({"op": "set_reduce", "view": "by_type"}))).unwrap();
    assert!(ddoc()["views"]["by_type"].get("reduce").is_none());

    // A filter and a validate_doc_update, which refuses a write at once.
    part(&s, at(json!({"op": "filter", "name": "only_type"}))).unwrap();
    assert!(ddoc()["filters"]["only_type"].is_string());
    let e = part(&s, at(json!({"op": "filter", "name": "only_type"}))).unwrap_err();
    assert_eq!(e.code, ErrorCode::Conflict, "{}", e.message);
    assert!(e.message.contains("already exists"), "{}", e.message);
    assert_eq!(
        part(&s, at(json!({"op": "filter", "name": "a/b"})))
            .unwrap_err()
            .code,
        ErrorCode::BadRequest
    );
    part(&s, at(json!({"op": "validate"}))).unwrap();
    let e = s
        .handle_json(json!({"cmd": "doc_put", "args": {"db": "shop", "doc": {"_id": "untyped"}}}))
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::Forbidden);
    assert!(
        e.message.contains("every document needs a type"),
        "{}",
        e.message
    );
    call(
        &s,
        json!({"cmd": "doc_put", "args": {"db": "shop", "doc": {"_id": "typed", "type": "z", "n": 0}}}),
    );
    db.bulk_docs_json(vec![json!({"_id": "typed", "_rev": db.get("typed", None, &ReadOptions::default()).unwrap()["_rev"], "_deleted": true})], true, &admin).unwrap();

    // A lib module, a Mango index, a handler.
    let r = part(&s, at(json!({"op": "lib", "name": "util"}))).unwrap();
    assert_eq!(r["path"], "connectors/shop/design/app/views/lib/util.js");
    assert!(ddoc()["views"]["lib"]["util"]
        .as_str()
        .unwrap()
        .contains("exports"));
    let e = part(
        &s,
        json!({"op": "index", "connector": "shop", "name": "by_n", "fields": [" "]}),
    )
    .unwrap_err();
    assert!(e.message.contains("at least one field"), "{}", e.message);
    part(
        &s,
        json!({"op": "index", "connector": "shop", "name": "by_n", "fields": ["n", "type"]}),
    )
    .unwrap();
    assert!(db
        .get("_design/idx-by_n", None, &ReadOptions::default())
        .is_ok());
    let r = part(&s, json!({"op": "handler", "name": "notify"})).unwrap();
    assert_eq!(r["path"], "handlers/notify.js");
    assert!(r["project"]["files"]
        .to_string()
        .contains("handlers/notify.js"));

    // A view test snapshots what the view answers for the database's documents.
    part(
        &s,
        at(json!({"op": "set_reduce", "view": "by_type", "reduce": "_sum"})),
    )
    .unwrap();
    let r = part(
        &s,
        at(json!({"op": "test", "view": "by_type", "name": "sums", "query": {"group": true}})),
    )
    .unwrap();
    assert_eq!(r["path"], "tests/sums.test.json");
    let saved: Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("tests/sums.test.json")).unwrap())
            .unwrap();
    assert_eq!(
        saved["expect"],
        json!({"rows": [{"key": "x", "value": 5}, {"key": "y", "value": 5}]})
    );
    assert_eq!(saved["docs"].as_array().unwrap().len(), 3, "{saved}");
    assert!(saved["docs"][0].get("_rev").is_none());
    let e = part(&s, at(json!({"op": "test", "view": "nope", "name": "t2"}))).unwrap_err();
    assert!(e.message.contains("create it first"), "{}", e.message);

    // Saved from the preview: every document, the rows on screen as the expectation.
    let shown = json!({"rows": [{"key": "x", "value": 5}]});
    part(&s, at(json!({"op": "test", "view": "by_type", "name": "from_preview", "all_docs": true, "query": {"group": true, "limit": 1}, "expect": shown}))).unwrap();
    let saved: Value = serde_json::from_str(
        &std::fs::read_to_string(root.join("tests/from_preview.test.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(saved["expect"], shown);
    assert_eq!(saved["docs"].as_array().unwrap().len(), 3);
    std::fs::remove_file(root.join("tests/from_preview.test.json")).unwrap();

    // The Tests panel runs it: it passes, then fails once the reduce changes, with a diff.
    let run = |args: Value| call(&s, json!({"cmd": "tests_run", "args": args}));
    let r = run(json!({}));
    assert_eq!(
        (r["passed"].as_u64(), r["failed"].as_u64()),
        (Some(1), Some(0)),
        "{r}"
    );
    assert_eq!(
        r["results"][0]["view_path"],
        "connectors/shop/design/app/views/by_type/map.js"
    );
    part(
        &s,
        at(json!({"op": "set_reduce", "view": "by_type", "reduce": "_count"})),
    )
    .unwrap();
    let r = run(json!({"name": "sums"}));
    assert_eq!(r["failed"], 1, "{r}");
    let diff = r["results"][0]["diff"].as_str().unwrap();
    assert!(
        diff.contains("-       \"value\": 5") && diff.contains("+       \"value\": 2"),
        "{diff}"
    );
    assert_eq!(run(json!({"connector": "other"}))["results"], json!([]));
    let e = s
        .handle_json(json!({"cmd": "tests_run", "args": {"name": "sum"}}))
        .unwrap_err();
    assert_eq!(
        e.code,
        ErrorCode::NotFound,
        "exact names only: {}",
        e.message
    );

    // Deleting: only part files.
    let e = part(&s, json!({"op": "delete", "path": "fullsync.toml"})).unwrap_err();
    assert_eq!(e.code, ErrorCode::Forbidden);
    part(
        &s,
        json!({"op": "delete", "path": "connectors/shop/design/app/filters/only_type.js"}),
    )
    .unwrap();
    assert!(ddoc()
        .get("filters")
        .is_none_or(|f| f.get("only_type").is_none()));
}

#[test]
fn sample_data_loads_only_into_an_empty_database() {
    let dir = tempfile::tempdir().unwrap();
    let root = project(dir.path());
    std::fs::create_dir_all(root.join("data")).unwrap();
    std::fs::write(
        root.join("data/shop.jsonl"),
        "{\"_id\": \"s1\", \"type\": \"x\", \"n\": 1}\n\n{\"_id\": \"_bad\"}\n{\"_id\": \"s2\", \"type\": \"y\", \"n\": 2}\n",
    )
    .unwrap();
    let engine = Arc::new(Engine::in_memory());
    let views = Arc::new(fullsync_views::Views::new(engine.clone()));
    let s = Studio::new(engine.clone(), views);
    call(
        &s,
        json!({"cmd": "project_open", "args": {"path": root.display().to_string()}}),
    );
    let l = call(&s, json!({"cmd": "sample_data"}));
    assert_eq!(
        l["data"],
        json!([{"db": "shop", "file": "data/shop.jsonl", "documents": 3, "db_documents": 0, "loadable": true}]),
        "design documents do not count"
    );
    let r = call(
        &s,
        json!({"cmd": "sample_data_load", "args": {"db": "shop"}}),
    );
    assert_eq!(r["written"], 2, "{r}");
    assert!(
        r["refused"][0]
            .as_str()
            .unwrap()
            .contains("data/shop.jsonl:3"),
        "{r}"
    );
    assert!(engine
        .db("shop")
        .unwrap()
        .get("s2", None, &ReadOptions::default())
        .is_ok());
    let e = s
        .handle_json(json!({"cmd": "sample_data_load", "args": {"db": "shop"}}))
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::Conflict);
    assert!(
        e.message.contains("already has 2 document(s)"),
        "{}",
        e.message
    );
    assert_eq!(
        call(&s, json!({"cmd": "sample_data"}))["data"][0]["loadable"],
        false
    );
}
