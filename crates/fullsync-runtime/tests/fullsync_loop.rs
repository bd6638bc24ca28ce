//! The whole FullSync loop for two users, with the local HTTP server acting as the FullSync
//! server: server writes tagged for a user, the device pulls, edits, pushes, the listener fires;
//! neither user ever sees the other's documents.

use std::path::Path;
use std::sync::Arc;

use fullsync_engine::{Engine, UserCtx};
use fullsync_runtime::device::Device;
use fullsync_runtime::transactions::{run, Caller};
use serde_json::{json, Map, Value};

fn vars(v: Value) -> Map<String, Value> {
    v.as_object().unwrap().clone()
}

#[test]
fn two_users_server_write_pull_edit_push_listener() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../projects/sample");
    let (p, _) = fullsync_project::load(&root);
    let p = p.unwrap();
    let engine = Arc::new(Engine::in_memory());
    fullsync_project::sync::sync(&engine, &p);
    // Users.
    let users = engine.create_db("_users").unwrap();
    for u in ["bob", "ann"] {
        let mut d = json!({"_id": format!("org.couchdb.user:{u}"), "name": u, "password": "pw", "roles": [], "type": "user"});
        fullsync_http::auth::hash_user_doc(&mut d);
        users
            .bulk_docs_json(vec![d], true, &UserCtx::default())
            .unwrap();
    }
    // The local server, as a FullSync server.
    let port = fullsync_testkit::serve_loopback(engine.clone(), Default::default());
    let url = format!("http://127.0.0.1:{port}/orders");
    let views = fullsync_views::Views::new(engine.clone());
    let orders = p.connector("orders").unwrap();
    let post = orders
        .transactions
        .iter()
        .find(|t| t.name == "PostOrder")
        .unwrap();

    // 1. Server-side writes, tagged for each user by the access policy.
    for (user, id) in [("bob", "b1"), ("bob", "b2"), ("ann", "a1")] {
        run(
            &engine,
            &views,
            "orders",
            post,
            &vars(json!({"_id": id, "customer": user, "total": 10})),
            &Caller {
                user: Some(user.into()),
            },
        )
        .unwrap();
    }
    // 2. Each device pulls only its user's documents.
    let bob = Device::new("orders", &url, Some(("bob", "pw"))).unwrap();
    let ann = Device::new("orders", &url, Some(("ann", "pw"))).unwrap();
    bob.replicate_pull().unwrap();
    ann.replicate_pull().unwrap();
    assert_eq!(bob.all().unwrap(), vec!["b1", "b2"]);
    assert_eq!(ann.all().unwrap(), vec!["a1"]);
    // Devices query views locally (design documents were replicated).
    let r = bob
        .view("app", "by_status", &json!({"group": true}))
        .unwrap();
    assert_eq!(r["rows"], json!([{"key": "pending", "value": 20}]));
    // 3. Bob's device edits and pushes; the listener fires with his document.
    let runner =
        fullsync_runtime::listeners::Runner::new(engine.clone(), Arc::new(views), &p, "orders")
            .unwrap();
    let since = engine.db("orders").unwrap().update_seq();
    bob.post(&vars(json!({"_id": "b1", "status": "paid"})), "merge")
        .unwrap();
    bob.post(&vars(json!({"_id": "b3", "type": "order", "customer": "bob", "total": 5, "status": "pending", "date": "2026-11-25"})), "none").unwrap();
    let (pushed, _) = bob.sync().unwrap();
    assert_eq!(pushed.docs_written, 2);
    runner.process(since).unwrap();
    let act = runner.activity.lock().unwrap().clone();
    let fired: Vec<String> = act
        .iter()
        .filter(|a| a.listener == "new_orders")
        .flat_map(|a| a.docs.clone())
        .collect();
    assert_eq!(fired, vec!["b1", "b3"]);
    // The server tagged the pushed documents with bob.
    let server_b3 = engine
        .db("orders")
        .unwrap()
        .get("b3", None, &Default::default())
        .unwrap();
    assert_eq!(server_b3["~c8oAcl"], "bob");
    // 4. Ann syncs: she still sees only her document; bob never sees ann's.
    ann.sync().unwrap();
    bob.replicate_pull().unwrap();
    assert_eq!(ann.all().unwrap(), vec!["a1"]);
    assert_eq!(bob.all().unwrap(), vec!["b1", "b2", "b3"]);
    assert_eq!(bob.get("b1").unwrap()["status"], "paid");
    // 5. reset empties the device; a pull brings its documents back.
    bob.reset().unwrap();
    assert!(bob.all().unwrap().is_empty());
    bob.replicate_pull().unwrap();
    assert_eq!(bob.all().unwrap().len(), 3);
}
