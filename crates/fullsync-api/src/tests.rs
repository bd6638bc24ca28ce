use std::sync::Arc;

use fullsync_engine::{Engine, ReadOptions, UserCtx};
use serde_json::json;

use super::*;

#[test]
fn error_messages_never_show_the_data_folder_or_the_home() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let m = format!("cannot open {}/db.redb", data.display());
    assert_eq!(
        without_private_dirs(&m, Some(&data)),
        "cannot open the data folder/db.redb"
    );
    if let Some(home) = std::env::var_os("HOME").filter(|h| h.len() > 1) {
        let home = home.to_string_lossy().to_string();
        let m = format!("{home}/.config/fullsync/servers.toml is invalid");
        assert_eq!(
            without_private_dirs(&m, None),
            "~/.config/fullsync/servers.toml is invalid"
        );
    }
}

#[test]
fn documents_put_get_delete_with_conflicts() {
    let engine = Arc::new(Engine::in_memory());
    let views = Arc::new(fullsync_views::Views::new(engine.clone()));
    let s = Studio::new(engine.clone(), views);
    engine.create_db("db").unwrap();
    let put = s
        .handle_json(json!({"cmd": "doc_put", "args": {"db": "db", "doc": {"_id": "x", "n": 1}}}))
        .unwrap();
    let rev1 = put["rev"].as_str().unwrap().to_string();
    assert!(rev1.starts_with("1-"));
    let stale = s
        .handle_json(json!({"cmd": "doc_put", "args": {"db": "db", "doc": {"_id": "x", "n": 2}}}))
        .unwrap_err();
    assert_eq!(
        stale.code,
        ErrorCode::Conflict,
        "a write without _rev conflicts"
    );
    let got = s
        .handle_json(json!({"cmd": "doc_get", "args": {"db": "db", "id": "x"}}))
        .unwrap();
    assert_eq!(got["n"], 1);
    assert_eq!(got["_revs_info"][0]["rev"], rev1.as_str());
    let rev2 = s
        .handle_json(json!({"cmd": "doc_put", "args": {"db": "db", "doc": {"_id": "x", "_rev": rev1, "n": 2}}}))
        .unwrap()["rev"]
        .as_str()
        .unwrap()
        .to_string();
    let old = s
        .handle_json(json!({"cmd": "doc_get", "args": {"db": "db", "id": "x", "rev": rev1}}))
        .unwrap();
    assert_eq!(old["n"], 1, "the older revision's body");
    let rev1 = rev2;
    let bad = s
        .handle_json(json!({"cmd": "doc_delete", "args": {"db": "db", "id": "x", "rev": "1-00"}}))
        .unwrap_err();
    assert_eq!(
        bad.code,
        ErrorCode::Conflict,
        "deleting a stale rev conflicts"
    );
    let del = s
        .handle_json(json!({"cmd": "doc_delete", "args": {"db": "db", "id": "x", "rev": rev1}}))
        .unwrap();
    assert!(del["rev"].as_str().unwrap().starts_with("3-"));
    let gone = s
        .handle_json(json!({"cmd": "doc_get", "args": {"db": "db", "id": "x"}}))
        .unwrap_err();
    assert_eq!(gone.code, ErrorCode::NotFound);
}

#[test]
fn conflicts_are_listed_and_resolved_only_as_confirmed() {
    let engine = Arc::new(Engine::in_memory());
    let views = Arc::new(fullsync_views::Views::new(engine.clone()));
    let s = Studio::new(engine.clone(), views);
    let db = engine.create_db("db").unwrap();
    let revs = |n: &str, h: &str| json!({"start": 2, "ids": [h, n]});
    db.bulk_docs_json(
        vec![
            json!({"_id": "c", "_rev": "2-aa", "v": "a", "_revisions": revs("r1", "aa")}),
            json!({"_id": "c", "_rev": "2-bb", "v": "b", "_revisions": revs("r1", "bb")}),
            json!({"_id": "c", "_rev": "2-cc", "v": "c", "_revisions": revs("r1", "cc")}),
        ],
        false,
        &UserCtx::default(),
    )
    .unwrap();
    let leaves = s
        .handle_json(json!({"cmd": "doc_revisions", "args": {"db": "db", "id": "c"}}))
        .unwrap();
    let leaves = leaves.as_array().unwrap();
    assert_eq!(leaves.len(), 3);
    assert_eq!(leaves[0]["_rev"], "2-cc", "the winner comes first");
    // Confirming only some of the other leaves deletes nothing.
    let e = s
        .handle_json(json!({"cmd": "doc_resolve", "args": {"db": "db", "id": "c", "keep": "2-aa", "delete": ["2-bb"]}}))
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::Conflict);
    assert_eq!(
        s.handle_json(json!({"cmd": "doc_revisions", "args": {"db": "db", "id": "c"}}))
            .unwrap()
            .as_array()
            .unwrap()
            .len(),
        3
    );
    // Keep a losing revision, merged with the others' values.
    let r = s
        .handle_json(json!({"cmd": "doc_resolve", "args": {"db": "db", "id": "c", "keep": "2-aa", "delete": ["2-bb", "2-cc"], "body": {"v": "abc"}}}))
        .unwrap();
    assert!(r["rev"].as_str().unwrap().starts_with("3-"));
    let d = db
        .get(
            "c",
            None,
            &ReadOptions {
                conflicts: true,
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(d["v"], "abc");
    let listed = s
        .handle_json(json!({"cmd": "docs_list", "args": {"db": "db", "prefix": "c"}}))
        .unwrap();
    assert_eq!(listed["rows"][0]["id"], "c", "{listed}");
    let latest = s
        .handle_json(json!({"cmd": "changes", "args": {"db": "db", "latest": true, "limit": 1}}))
        .unwrap();
    assert_eq!(latest["results"].as_array().unwrap().len(), 1);
    assert_eq!(latest["results"][0]["id"], "c");
    let since = latest["last_seq"].as_u64().unwrap();
    db.bulk_docs_json(vec![json!({"_id": "d"})], true, &UserCtx::default())
        .unwrap();
    let next = s
        .handle_json(json!({"cmd": "changes", "args": {"db": "db", "since": since}}))
        .unwrap();
    assert_eq!(next["results"][0]["id"], "d", "{next}");
    assert_eq!(next["results"].as_array().unwrap().len(), 1, "{next}");
    assert!(d.get("_conflicts").is_none(), "{d}");
}

#[test]
fn open_read_write_preview() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("p");
    std::fs::create_dir_all(root.join("connectors/db/design/app/views/v")).unwrap();
    std::fs::write(root.join("fullsync.toml"), "[project]\nname = \"p\"\n").unwrap();
    std::fs::write(
        root.join("connectors/db/design/app/views/v/map.js"),
        "function (doc) { emit(doc.n); }\n",
    )
    .unwrap();
    let engine = Arc::new(Engine::in_memory());
    let views = Arc::new(fullsync_views::Views::new(engine.clone()));
    let s = Studio::new(engine.clone(), views);
    assert_eq!(
        s.handle_json(json!({"cmd": "project_tree"}))
            .unwrap_err()
            .code,
        ErrorCode::InvalidProject
    );
    let t = s
        .handle_json(json!({"cmd": "project_open", "args": {"path": root.display().to_string()}}))
        .unwrap();
    assert_eq!(t["tree"][0]["name"], "db");
    assert_eq!(
        t["tree"][0]["children"][1]["children"][0]["children"][0]["path"],
        "connectors/db/design/app/views/v/map.js"
    );
    engine
        .db("db")
        .unwrap()
        .bulk_docs_json(vec![json!({"_id": "a", "n": 1})], true, &UserCtx::default())
        .unwrap();
    let p = s.handle_json(json!({"cmd": "preview", "args": {"db": "db", "map": "function (doc) { emit(doc.n * 10); }"}})).unwrap();
    assert_eq!(p["result"]["rows"][0]["key"], 10);
    let e = s
        .handle_json(
            json!({"cmd": "preview", "args": {"db": "db", "map": "function (doc) { emit(; }"}}),
        )
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::JsError);
    // The line of a syntax error, for the editor's marker.
    let e = s
        .handle_json(json!({"cmd": "preview", "args": {"db": "db", "map": "function (doc) {\n  var x = 1;\n  emit(;\n}"}}))
        .unwrap_err();
    assert_eq!(e.line, Some(3), "{}", e.message);
    assert_eq!(serde_json::to_value(&e).unwrap()["line"], 3);
    assert_eq!(
        s.handle_json(json!({"cmd": "file_read", "args": {"path": "../etc/passwd"}}))
            .unwrap_err()
            .code,
        ErrorCode::Forbidden
    );
    s.handle_json(json!({"cmd": "file_write", "args": {"path": "connectors/db/design/app/views/v/map.js", "text": "function (doc) { emit(doc.n + 1); }\n"}})).unwrap();
    let r = s
        .handle_json(json!({"cmd": "view_query", "args": {"db": "db", "ddoc": "app", "view": "v"}}))
        .unwrap();
    assert_eq!(
        r["result"]["rows"][0]["key"], 2,
        "the saved file was synced into the engine"
    );
    assert_eq!(
        s.handle_json(json!({"cmd": "bogus"})).unwrap_err().code,
        ErrorCode::BadRequest
    );
}
