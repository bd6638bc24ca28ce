//! The `remote` command against a real server (our HTTP API with an admin password, in
//! process): connections, session password, write confirmation, documents, compare with the
//! engine, pull a sample. (The Node tests drive the same through the UI on pouchdb-server.)

use std::net::SocketAddr;
use std::sync::Arc;

use fullsync_api::{ErrorCode, Studio};
use fullsync_engine::Engine;
use serde_json::{json, Value};

const PASSWORD: &str = "remote-pw-123";

fn serve() -> SocketAddr {
    let engine = Arc::new(Engine::in_memory());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let cfg = fullsync_http::ServerConfig {
                bind: SocketAddr::from(([127, 0, 0, 1], 0)),
                admin: Some(("admin".into(), PASSWORD.into())),
                admin_party: false,
                ..Default::default()
            };
            fullsync_http::serve(
                engine,
                cfg,
                move |a| tx.send(a).unwrap(),
                std::future::pending(),
            )
            .await
            .unwrap();
        });
    });
    rx.recv().unwrap()
}

fn call(s: &Studio, args: Value) -> Result<Value, fullsync_api::ApiError> {
    s.handle_json(json!({"cmd": "remote", "args": args}))
}

#[test]
fn remote_screens_on_a_server() {
    let cfg = tempfile::tempdir().unwrap();
    std::env::set_var("FULLSYNC_CONFIG_DIR", cfg.path());
    let addr = serve();
    std::fs::write(
        cfg.path().join("servers.toml"),
        format!("[staging]\nkind = \"couchdb\"\nurl = \"http://{addr}\"\nuser = \"admin\"\n\n[c8o]\nkind = \"convertigo\"\nurl = \"http://{addr}/convertigo\"\n\n[anon]\nkind = \"couchdb\"\nurl = \"http://{addr}\"\n"),
    )
    .unwrap();
    let engine = Arc::new(Engine::in_memory());
    let views = Arc::new(fullsync_views::Views::new(engine.clone()));
    let s = Studio::new(engine.clone(), views);

    let conns = call(&s, json!({"op": "connections"})).unwrap();
    assert_eq!(conns[0]["name"], "engine");
    let names: Vec<&str> = conns
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["engine", "anon", "c8o", "staging"]);
    assert_eq!(conns[3]["password"], "missing");
    assert_eq!(conns[1]["password"], "none");
    // A Convertigo profile (its admin API) says which profile to add instead.
    let e = call(&s, json!({"op": "databases", "conn": "c8o"})).unwrap_err();
    assert_eq!(e.code, ErrorCode::BadRequest);
    assert!(e.message.contains("add a CouchDB profile"), "{e}");

    // No password yet: the answer asks for it; a wrong one is refused and not kept.
    let e = call(&s, json!({"op": "databases", "conn": "staging"})).unwrap_err();
    assert_eq!(e.code, ErrorCode::Unauthorized, "{e}");
    assert!(e.message.contains("needs the password of `admin`"), "{e}");
    let e = call(
        &s,
        json!({"op": "login", "conn": "staging", "password": "nope"}),
    )
    .unwrap_err();
    assert_eq!(e.code, ErrorCode::Unauthorized, "{e}");
    assert!(!e.message.contains("nope"), "{e}");
    call(
        &s,
        json!({"op": "login", "conn": "staging", "password": PASSWORD}),
    )
    .unwrap();
    let conns = call(&s, json!({"op": "connections"})).unwrap();
    assert_eq!(conns[3]["password"], "session");
    assert!(!conns.to_string().contains(PASSWORD));

    // The first write needs a confirmation naming the server; then it is remembered.
    let e = call(
        &s,
        json!({"op": "doc_put", "conn": "staging", "db": "shop", "doc": {"_id": "x"}}),
    )
    .unwrap_err();
    assert_eq!(e.code, ErrorCode::ConfirmRequired, "{e}");
    assert!(e.message.contains("`staging`"), "{e}");
    // (The database does not exist yet: create it through the server itself.)
    let server = fullsync_remote::Server::new(
        &format!("http://admin:{PASSWORD}@{addr}"),
        None,
        None,
        std::time::Duration::from_secs(10),
        None,
    )
    .unwrap();
    server.json("PUT", "/shop", None).unwrap();
    let r = call(
        &s,
        json!({"op": "doc_put", "conn": "staging", "db": "shop", "doc": {"_id": "a", "n": 1}, "confirm": true}),
    )
    .unwrap();
    assert!(r["rev"].as_str().unwrap().starts_with("1-"));
    for (id, n) in [("b", 2), ("c", 3), ("d", 4)] {
        call(
            &s,
            json!({"op": "doc_put", "conn": "staging", "db": "shop", "doc": {"_id": id, "n": n}}),
        )
        .unwrap();
    }
    call(
        &s,
        json!({"op": "doc_put", "conn": "staging", "db": "shop", "doc": {"_id": "_design/app", "views": {"by_n": {"map": "function(d){ emit(d.n, d._id); }"}}}}),
    )
    .unwrap();
    let dbs = call(&s, json!({"op": "databases", "conn": "staging"})).unwrap();
    assert!(dbs["databases"]
        .as_array()
        .unwrap()
        .contains(&json!("shop")));
    let list = call(
        &s,
        json!({"op": "docs_list", "conn": "staging", "db": "shop", "limit": 2}),
    )
    .unwrap();
    assert_eq!(list["rows"].as_array().unwrap().len(), 2);
    let ddocs = call(
        &s,
        json!({"op": "design_docs", "conn": "staging", "db": "shop"}),
    )
    .unwrap();
    assert_eq!(ddocs[0]["views"][0]["name"], "by_n");

    // Pull a filtered sample into the engine, then compare: equal, then with a difference.
    let job = call(
        &s,
        json!({"op": "pull_sample", "conn": "staging", "db": "shop", "target": "shop_sample", "selector": {"n": {"$lte": 2}}}),
    )
    .unwrap();
    assert!(!job.to_string().contains(PASSWORD), "{job}");
    let id = job["id"].as_str().unwrap().to_string();
    let state = loop {
        let st = s.handle_json(json!({"cmd": "replication_status"})).unwrap();
        let j = st
            .as_array()
            .unwrap()
            .iter()
            .find(|j| j["id"] == id)
            .unwrap()
            .clone();
        if j["state"] != "running" {
            break j;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert_eq!(state["state"], "done", "{state}");
    let local = engine.db("shop_sample").unwrap();
    assert_eq!(local.info().unwrap().doc_count, 2, "a and b only");

    let job = call(
        &s,
        json!({"op": "pull_sample", "conn": "staging", "db": "shop", "target": "shop_all"}),
    )
    .unwrap();
    let id = job["id"].as_str().unwrap().to_string();
    loop {
        let st = s.handle_json(json!({"cmd": "replication_status"})).unwrap();
        if st
            .as_array()
            .unwrap()
            .iter()
            .any(|j| j["id"] == id && j["state"] != "running")
        {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let cmp = json!({"op": "compare",
        "left": {"conn": "engine", "db": "shop_all"},
        "right": {"conn": "staging", "db": "shop"},
        "ddoc": "app", "view": "by_n", "query": {}});
    let c = call(&s, cmp.clone()).unwrap();
    assert_eq!(c["comparison"]["equal"], true, "{c}");
    assert_eq!(c["comparison"]["left_rows"], 4);
    let mango = json!({"op": "compare",
        "left": {"conn": "engine", "db": "shop_all"},
        "right": {"conn": "staging", "db": "shop"},
        "mango": {"selector": {"n": {"$gt": 1}}, "sort": [{"_id": "asc"}]}});
    assert_eq!(
        call(&s, mango.clone()).unwrap()["comparison"]["equal"],
        true
    );

    let d = call(
        &s,
        json!({"op": "doc_get", "conn": "staging", "db": "shop", "id": "c"}),
    )
    .unwrap();
    call(
        &s,
        json!({"op": "doc_put", "conn": "staging", "db": "shop", "doc": {"_id": "c", "_rev": d["_rev"], "n": 30}}),
    )
    .unwrap();
    let c = call(&s, cmp).unwrap();
    assert_eq!(c["comparison"]["equal"], false);
    let kinds: Vec<&str> = c["comparison"]["differences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["kind"].as_str().unwrap())
        .collect();
    // Key 3 is gone from the server, key 30 is new there.
    assert_eq!(kinds, ["only_left", "only_right"], "{c}");
    let c = call(&s, mango).unwrap();
    assert_eq!(c["comparison"]["differences"][0]["kind"], "value", "{c}");

    // Preview on a sample of the server's documents.
    let p = call(
        &s,
        json!({"op": "preview_sample", "conn": "staging", "db": "shop", "map": "function(d){ emit(d.n, 1); }", "reduce": "_count", "size": 3}),
    )
    .unwrap();
    assert_eq!(p["docs"], 3);
    assert_eq!(p["result"]["rows"][0]["value"], 3, "{p}");

    // Logout forgets the password and the confirmation.
    call(&s, json!({"op": "logout", "conn": "staging"})).unwrap();
    let e = call(
        &s,
        json!({"op": "db_info", "conn": "staging", "db": "shop"}),
    )
    .unwrap_err();
    assert_eq!(e.code, ErrorCode::Unauthorized);
}
