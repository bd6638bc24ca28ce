//! The one sync path: a change made to the project's files behind the studio's back (another
//! editor, `git checkout`) reaches the engine (CouchDB API and view runner), the listeners and
//! the explorer, and `sync_status` says so.
//!
//! Changes are awaited with `wait_for`, which only gives up after a generous deadline; no
//! assertion depends on timing.

use std::io::{Read, Write};
use std::sync::Arc;

use base64::Engine as _;
use fullsync_api::Studio;
use fullsync_engine::{Engine, UserCtx};
use serde_json::{json, Value};

mod common;
use common::{call, sample_copy, sample_studio, wait_for};

/// `GET path` on the CouchDB API at `port` as the admin; the JSON answer.
fn http_get(port: u16, path: &str) -> Value {
    let auth = base64::engine::general_purpose::STANDARD.encode("admin:secret");
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Basic {auth}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let (head, body) = out.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}\n{body}");
    // The answer may be chunked: the JSON is between the first `{` and the last `}`.
    let body = &body[body.find('{').unwrap()..=body.rfind('}').unwrap()];
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"))
}

fn status(s: &Studio) -> Value {
    call(s, json!({"cmd": "sync_status"}))
}

/// Waits for a generation after `after` in state `state`; answers the status.
fn next_generation(s: &Studio, after: u64, state: &str) -> Value {
    wait_for(
        &format!("a sync after generation {after} in state {state}"),
        || {
            let st = status(s);
            (st["generation"].as_u64().unwrap() > after && st["state"] == state).then_some(st)
        },
    )
}

#[test]
fn a_map_edited_outside_the_studio_runs_in_the_engine_the_couchdb_api_and_the_runner() {
    let dir = tempfile::tempdir().unwrap();
    let root = sample_copy(dir.path());
    let engine = Arc::new(Engine::in_memory());
    let views = Arc::new(fullsync_views::Views::new(engine.clone()));
    let s = Studio::new(engine.clone(), views);
    assert_eq!(status(&s)["state"], "idle");
    call(
        &s,
        json!({"cmd": "project_open", "args": {"path": root.display().to_string()}}),
    );
    let opened = status(&s);
    assert_eq!(opened["state"], "synced", "{opened}");
    let port = fullsync_http::serve_in_background(
        fullsync_http::router(
            engine.clone(),
            fullsync_http::ServerConfig {
                admin: Some(("admin".into(), "secret".into())),
                ..Default::default()
            },
        ),
        "127.0.0.1:0".parse().unwrap(),
    )
    .unwrap()
    .port();
    engine
        .db("catalog")
        .unwrap()
        .bulk_docs_json(
            vec![json!({"_id": "p1", "type": "product", "name": "Mug", "category": "kitchen", "price": 4})],
            true,
            &UserCtx::default(),
        )
        .unwrap();
    let by_name = "/catalog/_design/products/_view/by_name";
    let before = http_get(port, by_name);
    assert_eq!(before["rows"][0]["key"], "mug", "{before}");

    // Another editor rewrites the map.
    let gen = opened["generation"].as_u64().unwrap();
    std::fs::write(
        root.join("connectors/catalog/design/products/views/by_name/map.js"),
        "function (doc) {\n  if (doc.type === 'product') emit(doc.name.toUpperCase(), doc.price * 100);\n}\n",
    )
    .unwrap();
    let st = next_generation(&s, gen, "synced");
    assert_eq!(st["source"], "disk", "{st}");
    assert!(
        st["paths"].as_array().unwrap().contains(&json!(
            "connectors/catalog/design/products/views/by_name/map.js"
        )),
        "{st}"
    );
    assert_eq!(st["updated"], json!(["catalog/_design/products"]), "{st}");
    let after = http_get(port, by_name);
    assert_eq!(
        after["rows"][0]["key"], "MUG",
        "the CouchDB API runs the new map: {after}"
    );
    assert_eq!(after["rows"][0]["value"], 400, "{after}");
    let runner = call(
        &s,
        json!({"cmd": "view_query", "args": {"db": "catalog", "ddoc": "products", "view": "by_name"}}),
    );
    assert_eq!(
        runner["result"]["rows"][0]["key"], "MUG",
        "the runner too: {runner}"
    );

    // A new view file appears in the explorer's tree and in the engine.
    let gen = st["generation"].as_u64().unwrap();
    let v = root.join("connectors/catalog/design/products/views/by_price");
    std::fs::create_dir_all(&v).unwrap();
    std::fs::write(
        v.join("map.js"),
        "function (doc) { if (doc.price) emit(doc.price, null); }\n",
    )
    .unwrap();
    next_generation(&s, gen, "synced");
    let tree = call(&s, json!({"cmd": "project_tree"}));
    assert!(
        tree.to_string()
            .contains("connectors/catalog/design/products/views/by_price/map.js"),
        "{tree}"
    );
    let r = http_get(port, "/catalog/_design/products/_view/by_price");
    assert_eq!(r["rows"][0]["key"], 4, "{r}");
}

#[test]
fn listener_switches_and_broken_files_outside_the_studio_apply_live() {
    let dir = tempfile::tempdir().unwrap();
    let (s, _, root) = sample_studio(dir.path());
    let enabled = |s: &Studio, name: &str| {
        call(s, json!({"cmd": "listener_activity", "args": {}}))["listeners"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["name"] == name)
            .map(|l| l["enabled"].clone())
    };
    assert_eq!(enabled(&s, "new_orders"), Some(json!(true)));
    let gen = status(&s)["generation"].as_u64().unwrap();
    let f = root.join("connectors/orders/listeners/new_orders.toml");
    let text = std::fs::read_to_string(&f).unwrap();
    std::fs::write(&f, text.replace("enabled = true", "enabled = false")).unwrap();
    let st = next_generation(&s, gen, "synced");
    assert_eq!(
        enabled(&s, "new_orders"),
        Some(json!(false)),
        "the runner was restarted with the switch off"
    );

    // A deleted listener file stops that listener.
    let gen = st["generation"].as_u64().unwrap();
    std::fs::remove_file(root.join("connectors/orders/listeners/order_deleted.toml")).unwrap();
    let st = next_generation(&s, gen, "synced");
    assert_eq!(enabled(&s, "order_deleted"), None);

    // A manifest that no longer parses is an error the status bar shows, until fixed.
    let gen = st["generation"].as_u64().unwrap();
    let manifest = root.join("fullsync.toml");
    let good = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(&manifest, "[project\nname = ").unwrap();
    let st = next_generation(&s, gen, "error");
    assert!(
        st["message"].as_str().unwrap().contains("fullsync.toml"),
        "{st}"
    );
    let gen = st["generation"].as_u64().unwrap();
    std::fs::write(&manifest, good).unwrap();
    next_generation(&s, gen, "synced");
    assert_eq!(
        call(&s, json!({"cmd": "listener_activity", "args": {}}))["running"],
        true
    );
}
