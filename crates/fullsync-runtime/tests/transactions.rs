//! Transactions run locally: one row per PostDocument policy and access policy, views,
//! documents, variables.

use std::path::Path;
use std::sync::Arc;

use fullsync_engine::{Engine, ReadOptions};
use fullsync_project::Transaction;
use fullsync_runtime::transactions::{run, Caller, RunError};
use serde_json::{json, Map, Value};

fn vars(v: Value) -> Map<String, Value> {
    v.as_object().unwrap().clone()
}

fn tx(kind: &str, props: &str) -> Transaction {
    let text = format!("type = \"{kind}\"\n[properties]\n{props}\n");
    toml::from_str(&text).unwrap()
}

struct Env {
    engine: Arc<Engine>,
    views: fullsync_views::Views,
}

fn env() -> Env {
    let engine = Arc::new(Engine::in_memory());
    let views = fullsync_views::Views::new(engine.clone());
    Env { engine, views }
}

impl Env {
    fn run(&self, t: &Transaction, v: Value, user: Option<&str>) -> Result<Value, RunError> {
        run(
            &self.engine,
            &self.views,
            "db",
            t,
            &vars(v),
            &Caller {
                user: user.map(str::to_string),
            },
        )
    }
    fn doc(&self, id: &str) -> Value {
        self.engine
            .db("db")
            .unwrap()
            .get(id, None, &ReadOptions::default())
            .unwrap()
    }
}

#[test]
fn post_document_policies() {
    let e = env();
    // none: plain post; posting again without the rev is a conflict.
    let none = tx("PostDocument", "policy = \"none\"");
    e.run(&none, json!({"_id": "a", "v": 1}), Some("bob"))
        .unwrap();
    let err = e
        .run(&none, json!({"_id": "a", "v": 2}), Some("bob"))
        .unwrap_err();
    assert!(err.to_string().starts_with("conflict"), "{err}");
    // create: _id/_rev dropped, a new document each time.
    let create = tx("PostDocument", "policy = \"create\"");
    let r1 = e.run(&create, json!({"_id": "a", "v": 3}), None).unwrap();
    let r2 = e.run(&create, json!({"_id": "a", "v": 3}), None).unwrap();
    assert_ne!(r1["id"], r2["id"]);
    assert_ne!(r1["id"], "a");
    // override: the whole body is replaced (create on 404).
    let over = tx("PostDocument", "policy = \"override\"");
    e.run(&over, json!({"_id": "o", "a": 1, "b": 2}), Some("bob"))
        .unwrap();
    e.run(&over, json!({"_id": "o", "c": 3}), Some("bob"))
        .unwrap();
    let d = e.doc("o");
    assert_eq!((d.get("a"), d["c"].clone()), (None, json!(3)));
    assert!(d["_rev"].as_str().unwrap().starts_with("2-"));
    // merge: deep merge into the current revision (create on 404). (An object-valued
    // variable is spread into the root, so nested fields are given with subkeys.)
    let merge = tx("PostDocument", "policy = \"merge\"");
    e.run(
        &merge,
        json!({"_id": "m", "a.x": 1, "a.y": 2, "l": [1, 2, 3], "k": 1}),
        Some("bob"),
    )
    .unwrap();
    e.run(
        &merge,
        json!({"_id": "m", "a.y": 5, "l": [9], "k": null, "n": "new"}),
        Some("bob"),
    )
    .unwrap();
    let d = e.doc("m");
    assert_eq!(
        (
            d["a"].clone(),
            d["l"].clone(),
            d["k"].clone(),
            d["n"].clone()
        ),
        (
            json!({"x": 1, "y": 5}),
            json!([9, 2, 3]),
            json!(1),
            json!("new")
        )
    );
    // _use_merge_<path>: override and delete after the merge.
    e.run(
        &merge,
        json!({"_id": "m", "a.z": 1, "_use_merge_a": "override", "_use_merge_k": "delete"}),
        Some("bob"),
    )
    .unwrap();
    let d = e.doc("m");
    assert_eq!((d["a"].clone(), d.get("k")), (json!({"z": 1}), None));
    // Subkeys and p_json_base.
    let based = tx(
        "PostDocument",
        "policy = \"merge\"\np_json_base = '{\"type\": \"order\", \"status\": \"pending\"}'",
    );
    e.run(
        &based,
        json!({"_id": "s", "customer.name": "Ann", "customer.city": "Lyon", "status": "paid"}),
        Some("bob"),
    )
    .unwrap();
    let d = e.doc("s");
    assert_eq!(
        (
            d["type"].clone(),
            d["status"].clone(),
            d["customer"].clone()
        ),
        (
            json!("order"),
            json!("paid"),
            json!({"name": "Ann", "city": "Lyon"})
        )
    );
}

#[test]
fn acl_policies_and_groups() {
    let e = env();
    let rows = [
        (
            "fromAuthenticatedUser",
            json!({"_id": "1"}),
            Some("bob"),
            Some("bob"),
        ),
        ("anonymous", json!({"_id": "2"}), Some("bob"), None),
        ("noOp", json!({"_id": "3"}), Some("bob"), None),
        (
            "fromKeyC8oAcl",
            json!({"_id": "4", "_c8oAcl": "ann"}),
            Some("bob"),
            Some("ann"),
        ),
    ];
    for (policy, v, user, want) in rows {
        let t = tx(
            "PostDocument",
            &format!("policy = \"override\"\nfullSyncAclPolicy = \"{policy}\""),
        );
        let r = e.run(&t, v.clone(), user).unwrap();
        let d = e.doc(r["id"].as_str().unwrap());
        assert_eq!(d.get("~c8oAcl").and_then(Value::as_str), want, "{policy}");
    }
    let t = tx("PostDocument", "policy = \"override\"");
    e.run(&t, json!({"_id": "g", "c8oGrp": "sales.eu"}), Some("bob"))
        .unwrap();
    assert_eq!(e.doc("g")["c8oGrp"], "sales.eu");
}

#[test]
fn update_if_changed_with_hash() {
    let e = env();
    let t = tx("PostDocument", "policy = \"merge\"\nuseHash = true");
    let r1 = e.run(&t, json!({"_id": "h", "v": 1}), Some("bob")).unwrap();
    let r2 = e.run(&t, json!({"_id": "h", "v": 1}), Some("bob")).unwrap();
    assert_eq!(r2["unchanged"], true);
    assert_eq!(r1["rev"], r2["rev"]);
    assert!(e.doc("h")["~c8oHash"].as_str().is_some());
    let r3 = e.run(&t, json!({"_id": "h", "v": 2}), Some("bob")).unwrap();
    assert_ne!(r3["rev"], r1["rev"]);
}

#[test]
fn sample_project_transactions() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../projects/sample");
    let (p, _) = fullsync_project::load(&root);
    let p = p.unwrap();
    let e = env();
    fullsync_project::sync::sync(&e.engine, &p);
    let orders = p.connector("orders").unwrap();
    let post = orders
        .transactions
        .iter()
        .find(|t| t.name == "PostOrder")
        .unwrap();
    let get = orders
        .transactions
        .iter()
        .find(|t| t.name == "GetOrdersByStatus")
        .unwrap();
    let run = |t: &Transaction, v: Value| {
        run(
            &e.engine,
            &e.views,
            "orders",
            t,
            &vars(v),
            &Caller {
                user: Some("bob".into()),
            },
        )
    };
    // Required variables are checked.
    let err = run(post, json!({"customer": "Ann"})).unwrap_err();
    assert_eq!(
        err.to_string(),
        "variable `total` is required; pass it with --var total=VALUE"
    );
    run(post, json!({"_id": "o1", "customer": "Ann", "total": 12.5})).unwrap();
    run(post, json!({"_id": "o2", "customer": "Bob", "total": 3})).unwrap();
    let d = e
        .engine
        .db("orders")
        .unwrap()
        .get("o1", None, &ReadOptions::default())
        .unwrap();
    assert_eq!(
        (d["type"].clone(), d["status"].clone(), d["~c8oAcl"].clone()),
        (json!("order"), json!("pending"), json!("bob"))
    );
    // GetView with the default key variable (pending).
    let r = run(get, json!({})).unwrap();
    let ids: Vec<&str> = r["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec!["o1", "o2"]);
    assert_eq!(
        r["rows"][0]["doc"]["customer"], "Ann",
        "include_docs from q_include_docs"
    );
    let r = run(get, json!({"key": "paid"})).unwrap();
    assert_eq!(r["rows"], json!([]));
}

#[test]
fn documents_bulk_find_and_reset() {
    let e = env();
    let bulk = tx("PostBulkDocuments", "policy = \"override\"");
    let r = e
        .run(
            &bulk,
            json!({"data": [{"_id": "a", "n": 1}, {"_id": "b", "n": 2}]}),
            None,
        )
        .unwrap();
    assert_eq!(r.as_array().unwrap().len(), 2);
    assert_eq!(
        e.run(&tx("GetDocument", ""), json!({"docid": "b"}), None)
            .unwrap()["n"],
        2
    );
    let found = e
        .run(
            &tx("PostFind", ""),
            json!({"selector": "{\"n\": {\"$gt\": 1}}"}),
            None,
        )
        .unwrap();
    assert_eq!(found["docs"][0]["_id"], "b");
    e.run(&tx("DeleteDocument", ""), json!({"docid": "a"}), None)
        .unwrap();
    let all = e
        .run(&tx("AllDocs", "q_include_docs = true"), json!({}), None)
        .unwrap();
    assert_eq!(all["rows"].as_array().unwrap().len(), 1);
    e.run(&tx("PutDocumentAttachment", ""), json!({"docid": "b", "attname": "t.txt", "attdata": "hello", "attcontent_type": "text/plain"}), None).unwrap();
    assert_eq!(
        e.run(
            &tx("GetDocumentAttachment", ""),
            json!({"docid": "b", "attname": "t.txt"}),
            None
        )
        .unwrap()["text"],
        "hello"
    );
    assert_eq!(
        e.run(&tx("GetDatabaseInfo", ""), json!({}), None).unwrap()["doc_count"],
        1
    );
    e.run(&tx("ResetDatabase", ""), json!({}), None).unwrap();
    assert_eq!(
        e.run(&tx("GetDatabaseInfo", ""), json!({}), None).unwrap()["doc_count"],
        0
    );
    let err = e.run(&tx("Custom", ""), json!({}), None).unwrap_err();
    assert!(err.to_string().contains("cannot run locally yet"));
}

#[test]
fn update_functions_copy_replicate_and_server_info() {
    let e = env();
    // (Written directly: an object-valued variable would be spread into the document root.)
    e.engine.db_or_create("db").unwrap().bulk_docs_json(
        vec![json!({"_id": "_design/u", "updates": {"stamp": "function (doc, req) { if (!doc) { return [{_id: req.id, n: 1}, 'created']; } doc.n = (doc.n || 0) + Number(req.form.by || 1); return [doc, 'bumped']; }"}})],
        true,
        &fullsync_engine::UserCtx::default(),
    ).unwrap();
    let up = tx("PostUpdate", "updatename = \"u/stamp\"");
    let r = e.run(&up, json!({"docid": "c"}), None).unwrap();
    assert_eq!(r["response"], "created");
    let r = e.run(&up, json!({"docid": "c", "by": 5}), None).unwrap();
    assert_eq!(r["response"], "bumped");
    assert_eq!(e.doc("c")["n"], 6);
    e.run(
        &tx("CopyDocument", ""),
        json!({"docid": "c", "destination": "c2"}),
        None,
    )
    .unwrap();
    assert_eq!(e.doc("c2")["n"], 6);
    let r = e
        .run(
            &tx("PostReplicate", "p_target = \"copydb\""),
            json!({}),
            None,
        )
        .unwrap();
    assert_eq!(r["ok"], true);
    assert_eq!(e.engine.db("copydb").unwrap().info().unwrap().doc_count, 3);
    assert_eq!(
        e.run(&tx("GetServerInfo", ""), json!({}), None).unwrap()["couchdb"],
        "Welcome"
    );
    assert_eq!(
        e.run(&tx("HeadDatabase", ""), json!({}), None).unwrap()["ok"],
        true
    );
    assert_eq!(
        e.run(&tx("PostCompact", ""), json!({}), None).unwrap()["ok"],
        true
    );
}
