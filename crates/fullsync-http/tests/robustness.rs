//! Hostile but legal input answers 4xx or a CouchDB answer, never 500, and no answer shows a
//! server path: database names too long for a file name, a reduce that overflows, a
//! `validate_doc_update` that never returns.

use std::path::Path;
use std::sync::Arc;

use fullsync_engine::Engine;
use fullsync_http::ServerConfig;
use fullsync_testkit::TestServer;
use serde_json::{json, Value};

/// One request through the router; answers status and JSON body, and checks that the body
/// names neither the data folder nor the temporary folder holding it.
async fn call(
    app: &TestServer,
    data: &Path,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let body = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
    let r = app
        .request(method, path, &[("content-type", "application/json")], body)
        .await;
    let text = r.text();
    let parent = data.parent().unwrap().to_string_lossy().to_string();
    assert!(
        !text.contains(&parent),
        "{method} {path} shows a server path: {text}"
    );
    (r.status, r.json())
}

#[tokio::test]
async fn a_legal_name_with_many_slashes_is_a_database_like_any_other() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // 238 characters (the longest legal name), 118 of them `/`: escaped, 710 bytes.
    let name = format!("a{}b", "/b".repeat(118));
    assert_eq!(name.len(), 238);
    let other = format!("a{}c", "/b".repeat(118));
    let url = format!("/{}", name.replace('/', "%2F"));
    let app = TestServer::new(
        Arc::new(Engine::open(&data).unwrap()),
        ServerConfig::default(),
    );
    assert_eq!(call(&app, &data, "PUT", &url, None).await.0, 201);
    let other_url = format!("/{}", other.replace('/', "%2F"));
    assert_eq!(call(&app, &data, "PUT", &other_url, None).await.0, 201);
    assert_eq!(call(&app, &data, "PUT", &url, None).await.0, 412);
    let (s, _) = call(
        &app,
        &data,
        "PUT",
        &format!("{url}/doc"),
        Some(json!({"n": 1})),
    )
    .await;
    assert_eq!(s, 201);
    let ddoc = json!({"views": {"v": {"map": "function (doc) { emit(doc.n, 1); }"}}});
    assert_eq!(
        call(&app, &data, "PUT", &format!("{url}/_design/d"), Some(ddoc))
            .await
            .0,
        201
    );
    let (s, v) = call(
        &app,
        &data,
        "GET",
        &format!("{url}/_design/d/_view/v"),
        None,
    )
    .await;
    assert_eq!((s, v["rows"][0]["key"].clone()), (200, json!(1)), "{v}");
    let (_, info) = call(&app, &data, "GET", &url, None).await;
    assert_eq!(info["db_name"], json!(name));
    // After a restart, both are listed under their own names and keep their documents.
    drop(app);
    let app = TestServer::new(
        Arc::new(Engine::open(&data).unwrap()),
        ServerConfig::default(),
    );
    let (_, all) = call(&app, &data, "GET", "/_all_dbs", None).await;
    assert_eq!(all, json!([name, other]));
    let (s, doc) = call(&app, &data, "GET", &format!("{url}/doc"), None).await;
    assert_eq!((s, doc["n"].clone()), (200, json!(1)));
    assert_eq!(call(&app, &data, "DELETE", &url, None).await.0, 200);
    assert_eq!(
        call(&app, &data, "GET", "/_all_dbs", None).await.1,
        json!([other])
    );
    for e in std::fs::read_dir(&data).unwrap().flatten() {
        assert!(e.file_name().len() < 255);
    }
}

#[tokio::test]
async fn a_reduce_overflow_is_reported_in_the_rows_as_couchdb_does() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let app = TestServer::new(
        Arc::new(Engine::open(&data).unwrap()),
        ServerConfig::default(),
    );
    call(&app, &data, "PUT", "/db", None).await;
    let docs: Vec<Value> = (0..300)
        .map(|i| json!({"_id": format!("d{i:03}"), "t": if i % 2 == 0 { "even" } else { "odd" }, "text": "x".repeat(40)}))
        .collect();
    call(
        &app,
        &data,
        "POST",
        "/db/_bulk_docs",
        Some(json!({"docs": docs})),
    )
    .await;
    let ddoc = json!({"views": {
        "all": {"map": "function (doc) { emit(doc.t, doc.text); }",
                "reduce": "function (keys, values, rereduce) { return values.concat(values); }"},
        "count": {"map": "function (doc) { emit(doc.t, 1); }", "reduce": "_count"}
    }});
    assert_eq!(
        call(&app, &data, "PUT", "/db/_design/d", Some(ddoc))
            .await
            .0,
        201
    );
    for q in ["", "?group=true"] {
        let (s, v) = call(
            &app,
            &data,
            "GET",
            &format!("/db/_design/d/_view/all{q}"),
            None,
        )
        .await;
        assert_eq!(s, 200, "{v}");
        let rows = v["rows"].as_array().unwrap();
        assert_eq!(rows.len(), if q.is_empty() { 1 } else { 2 });
        for r in rows {
            let m = r["value"]["reduce_overflow_error"]
                .as_str()
                .unwrap_or_default();
            assert!(
                m.starts_with("Reduce output must shrink more rapidly"),
                "{r}"
            );
        }
    }
    // Other views of the same design document still answer.
    let (s, v) = call(&app, &data, "GET", "/db/_design/d/_view/count", None).await;
    assert_eq!((s, v["rows"][0]["value"].clone()), (200, json!(300)));
}

#[tokio::test]
async fn a_validate_doc_update_that_never_returns_refuses_the_write_and_names_itself() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let app = TestServer::new(
        Arc::new(Engine::open(&data).unwrap()),
        ServerConfig::default(),
    );
    call(&app, &data, "PUT", "/db", None).await;
    let ddoc = json!({"validate_doc_update":
        "function (doc) { if (doc.loop) { while (true) {} } }"});
    assert_eq!(
        call(&app, &data, "PUT", "/db/_design/guard", Some(ddoc))
            .await
            .0,
        201
    );
    let (s, v) = call(&app, &data, "PUT", "/db/x", Some(json!({"loop": true}))).await;
    assert_eq!(s, 403, "{v}");
    assert_eq!(v["error"], "forbidden");
    let reason = v["reason"].as_str().unwrap();
    assert!(
        reason.contains("_design/guard") && reason.contains("timed out"),
        "{reason}"
    );
    // In _bulk_docs, only that document is refused.
    let (s, v) = call(
        &app,
        &data,
        "POST",
        "/db/_bulk_docs",
        Some(json!({"docs": [{"_id": "ok"}, {"_id": "bad", "loop": true}]})),
    )
    .await;
    assert_eq!(s, 201, "{v}");
    assert!(v[0]["rev"].is_string(), "{v}");
    assert_eq!(v[1]["error"], "forbidden", "{v}");
    assert_eq!(call(&app, &data, "GET", "/db/bad", None).await.0, 404);
}
