//! The studio's operations commands end to end, through `Studio::handle_json`: listeners firing
//! on new changes, replication jobs to a real HTTP server (progress, errors kept until
//! dismissed, credentials masked), see-as-user, server profiles and deploy plan/apply.
//!
//! Background work is awaited with `wait_for`, which only gives up after a generous deadline
//! (a hung job fails the test instead of blocking it); no assertion depends on timing.

use std::path::Path;
use std::sync::Arc;

use fullsync_api::{ErrorCode, Studio};
use fullsync_engine::{Engine, UserCtx};
use serde_json::{json, Value};

mod common;
use common::{call, sample_copy, wait_for};

fn studio() -> (Arc<Engine>, Studio) {
    let engine = Arc::new(Engine::in_memory());
    let views = Arc::new(fullsync_views::Views::new(engine.clone()));
    (engine.clone(), Studio::new(engine, views))
}

/// A CouchDB-compatible server over its own engine, like a remote server; answers its URL.
fn remote_server() -> (Arc<Engine>, String) {
    let engine = Arc::new(Engine::in_memory());
    let port = fullsync_http::serve_in_background(
        fullsync_http::router(engine.clone(), Default::default()),
        "127.0.0.1:0".parse().unwrap(),
    )
    .unwrap()
    .port();
    (engine, format!("http://127.0.0.1:{port}"))
}

fn open(s: &Studio, root: &Path) -> Value {
    call(
        s,
        json!({"cmd": "project_open", "args": {"path": root.display().to_string()}}),
    )
}

fn put_orders(engine: &Engine, ids: &[&str]) {
    let docs = ids
        .iter()
        .map(|id| json!({"_id": id, "type": "order", "status": "paid", "total": 3}))
        .collect();
    for r in engine
        .db("orders")
        .unwrap()
        .bulk_docs_json(docs, true, &UserCtx::default())
        .unwrap()
    {
        assert!(r.result.is_ok(), "{} was refused", r.id);
    }
}

fn activity(s: &Studio, after: u64) -> Value {
    call(
        s,
        json!({"cmd": "listener_activity", "args": {"after": after}}),
    )
}

/// The entries of `listener` whose documents include `id`.
fn fired(a: &Value, listener: &str, id: &str) -> Vec<Value> {
    a["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["listener"] == listener && e["docs"].as_array().unwrap().contains(&json!(id)))
        .cloned()
        .collect()
}

#[test]
fn listeners_fire_on_new_changes_and_reopening_replaces_the_runner() {
    let dir = tempfile::tempdir().unwrap();
    let root = sample_copy(dir.path());
    let (engine, s) = studio();
    assert_eq!(activity(&s, 0)["running"], false, "no project, no runner");
    open(&s, &root);
    let a = activity(&s, 0);
    assert_eq!(a["running"], true);
    let names: Vec<&str> = a["listeners"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"new_orders"), "{names:?}");
    assert_eq!(a["entries"], json!([]), "nothing fired before any change");

    put_orders(&engine, &["l1", "l2"]);
    let a = wait_for("new_orders to fire", || {
        let a = activity(&s, 0);
        (!fired(&a, "new_orders", "l2").is_empty()).then_some(a)
    });
    let e = &fired(&a, "new_orders", "l1")[0];
    assert_eq!(e["docs"], json!(["l1", "l2"]), "one chunk with both orders");
    assert_eq!(e["ok"], true, "{e}");
    assert_eq!(e["result"], "ok");
    assert_eq!(e["db"], "orders");
    assert!(e["time"].as_u64().unwrap() > 0);
    assert!(
        fired(&a, "paid", "l1").is_empty(),
        "the disabled `paid` listener never fires"
    );
    let last = a["last"].as_u64().unwrap();
    assert!(last >= 1);
    assert_eq!(
        activity(&s, last)["entries"],
        json!([]),
        "`after` skips what was seen"
    );

    // A deletion: `order_deleted` posts to an HTTP hook nobody serves; its failure is logged.
    let db = engine.db("orders").unwrap();
    let rev = db.get("l1", None, &Default::default()).unwrap()["_rev"].clone();
    db.bulk_docs_json(
        vec![json!({"_id": "l1", "_rev": rev, "_deleted": true})],
        true,
        &UserCtx::default(),
    )
    .unwrap();
    let failed = wait_for("order_deleted to fail", || {
        fired(&activity(&s, last), "order_deleted", "l1")
            .first()
            .cloned()
    });
    assert_eq!(failed["ok"], false);
    assert!(
        failed["result"]
            .as_str()
            .unwrap()
            .contains("127.0.0.1:8080"),
        "{failed}"
    );

    // Reopening replaces the runner: one thread, a fresh log, and only new changes fire.
    open(&s, &root);
    let a = activity(&s, 0);
    assert_eq!(a["runner_threads"], 1, "{a}");
    assert_eq!(a["entries"], json!([]), "the log starts over");
    // Saving a file restarts the runner on the edited project, still one thread.
    call(
        &s,
        json!({"cmd": "file_write", "args": {"path": "handlers/paid.js", "text": "function handle(docs, api) {}\n"}}),
    );
    assert_eq!(activity(&s, 0)["runner_threads"], 1);
    put_orders(&engine, &["l3"]);
    let a = wait_for("new_orders to fire after reopening", || {
        let a = activity(&s, 0);
        (!fired(&a, "new_orders", "l3").is_empty()).then_some(a)
    });
    assert!(
        fired(&a, "new_orders", "l2").is_empty(),
        "changes seen before reopening do not fire again: {a}"
    );
    assert!(a["entries"][0]["index"].as_u64().unwrap() > last);
    s.stop_listeners();
    assert_eq!(activity(&s, 0)["runner_threads"], 0);
}

fn job(s: &Studio, id: &str) -> Value {
    call(s, json!({"cmd": "replication_status"}))
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["id"] == id)
        .cloned()
        .unwrap_or(Value::Null)
}

fn finished(s: &Studio, id: &str) -> Value {
    wait_for(&format!("replication {id} to end"), || {
        let j = job(s, id);
        (j["state"] != "running").then_some(j)
    })
}

#[test]
fn replication_pushes_with_progress_and_keeps_errors_until_dismissed() {
    let (engine, s) = studio();
    let (remote, url) = remote_server();
    let db = engine.create_db("orders").unwrap();
    let docs: Vec<Value> = (0..250)
        .map(|i| json!({"_id": format!("o{i:03}"), "n": i}))
        .collect();
    db.bulk_docs_json(docs, true, &UserCtx::default()).unwrap();

    let started = call(
        &s,
        json!({"cmd": "replication_start", "args": {"db": "orders", "remote": format!("{url}/copy"), "direction": "push"}}),
    );
    let id = started["id"].as_str().unwrap().to_string();
    let j = finished(&s, &id);
    assert_eq!(j["state"], "done", "{j}");
    assert_eq!(j["docs_written"], 250);
    assert_eq!(j["total"], 250, "{j}");
    assert_eq!(j["current"], j["total"], "the progress bar is full");
    assert_eq!(j["legs"][0]["direction"], "push");
    assert_eq!(remote.db("copy").unwrap().info().unwrap().doc_count, 250);

    // Pull it back into a new local database: the same job shape, the other direction.
    let pulled = call(
        &s,
        json!({"cmd": "replication_start", "args": {"db": "orders", "remote": format!("{url}/copy"), "direction": "pull"}}),
    );
    let j = finished(&s, pulled["id"].as_str().unwrap());
    assert_eq!(j["state"], "done", "{j}");
    assert_eq!(j["docs_written"], 0, "nothing new to pull: {j}");
    assert_eq!(j["current"], j["total"]);

    // Unreachable, with a password in the URL: the error stays, the password never shows.
    let bad = call(
        &s,
        json!({"cmd": "replication_start", "args": {"db": "orders", "remote": "http://bob:hunter2@127.0.0.1:1/x", "direction": "sync"}}),
    );
    let bad_id = bad["id"].as_str().unwrap().to_string();
    assert_eq!(bad["remote"], "http://bob:***@127.0.0.1:1/x");
    assert_eq!(bad["user"], "bob");
    let j = finished(&s, &bad_id);
    assert_eq!(j["state"], "error", "{j}");
    assert!(
        j["errors"][0]
            .as_str()
            .unwrap()
            .contains("cannot reach the server"),
        "{j}"
    );
    assert!(
        j["errors"][0]
            .as_str()
            .unwrap()
            .contains("a live replication waits and tries again"),
        "the advice is the studio's, not the CLI's: {j}"
    );
    let everything = call(&s, json!({"cmd": "replication_status"})).to_string();
    assert!(!everything.contains("hunter2"), "{everything}");
    assert_eq!(job(&s, &bad_id)["state"], "error", "still listed");
    call(
        &s,
        json!({"cmd": "replication_dismiss", "args": {"id": bad_id}}),
    );
    assert_eq!(job(&s, &bad_id), Value::Null, "gone once dismissed");
    assert_eq!(
        s.handle_json(json!({"cmd": "replication_dismiss", "args": {"id": bad_id}}))
            .unwrap_err()
            .code,
        ErrorCode::NotFound
    );

    // A live job runs until cancelled, and cannot be dismissed while it runs.
    let live = call(
        &s,
        json!({"cmd": "replication_start", "args": {"db": "orders", "remote": format!("{url}/live"), "direction": "push", "live": true}}),
    );
    let live_id = live["id"].as_str().unwrap().to_string();
    wait_for("the live job to catch up", || {
        let j = job(&s, &live_id);
        (j["legs"][0]["waiting"] == true).then_some(())
    });
    assert_eq!(job(&s, &live_id)["state"], "running");
    assert_eq!(
        s.handle_json(json!({"cmd": "replication_dismiss", "args": {"id": live_id}}))
            .unwrap_err()
            .code,
        ErrorCode::Conflict
    );
    call(
        &s,
        json!({"cmd": "replication_cancel", "args": {"id": live_id}}),
    );
    assert_eq!(finished(&s, &live_id)["state"], "cancelled");
    call(
        &s,
        json!({"cmd": "replication_dismiss", "args": {"id": live_id}}),
    );

    // Input the user can fix is refused at once, saying what to do.
    for (args, says) in [
        (
            json!({"db": "orders", "remote": "copy", "direction": "push"}),
            "not a URL",
        ),
        (
            json!({"db": "nope", "remote": format!("{url}/copy"), "direction": "push"}),
            "no local database",
        ),
        (
            json!({"db": "orders", "remote": format!("{url}/copy"), "direction": "push", "user": "bob"}),
            "password",
        ),
    ] {
        let e = s
            .handle_json(json!({"cmd": "replication_start", "args": args}))
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::BadRequest);
        assert!(e.message.contains(says), "{}", e.message);
    }
}

#[test]
fn see_as_user_applies_the_fullsync_access_rules() {
    let (engine, s) = studio();
    let db = engine.create_db("orders").unwrap();
    db.bulk_docs_json(
        vec![
            json!({"_id": "shared"}),
            json!({"_id": "bobs", "~c8oAcl": "bob"}),
            json!({"_id": "anns", "~c8oAcl": "ann"}),
            json!({"_id": "team", "c8oGrp": {"sales.eu": true}}),
        ],
        true,
        &UserCtx::default(),
    )
    .unwrap();
    let r = call(
        &s,
        json!({"cmd": "see_as", "args": {"db": "orders", "user": "bob", "groups": ["sales.eu", " "]}}),
    );
    assert_eq!(r["ids"], json!(["bobs", "shared", "team"]));
    assert_eq!(r["count"], 3);
    assert_eq!(r["doc_count"], 4);
    assert_eq!(r["groups"], json!(["sales.eu"]));
    let anon = call(&s, json!({"cmd": "see_as", "args": {"db": "orders"}}));
    assert_eq!(anon["ids"], json!(["shared"]));
}

#[test]
fn server_profiles_deploy_plan_and_apply() {
    let dir = tempfile::tempdir().unwrap();
    // The only test that touches server profiles: they go to a temporary folder.
    std::env::set_var("FULLSYNC_CONFIG_DIR", dir.path().join("config"));
    let root = sample_copy(dir.path());
    let (_engine, s) = studio();
    let (remote, url) = remote_server();
    assert_eq!(
        s.handle_json(json!({"cmd": "deploy_plan", "args": {"server": "x"}}))
            .unwrap_err()
            .code,
        ErrorCode::InvalidProject,
        "a deploy needs an open project"
    );
    open(&s, &root);
    s.stop_listeners();
    assert_eq!(
        call(&s, json!({"cmd": "servers_list"}))["servers"],
        json!([])
    );
    call(
        &s,
        json!({"cmd": "server_save", "args": {"name": "remote", "url": format!("{url}/")}}),
    );
    let list = call(&s, json!({"cmd": "servers_list"}));
    assert_eq!(list["servers"][0]["name"], "remote");
    assert_eq!(list["servers"][0]["url"], url, "trailing slash trimmed");
    assert_eq!(list["servers"][0]["password"], "not needed");

    // A password is never written to the profiles file.
    let saved = call(
        &s,
        json!({"cmd": "server_save", "args": {"name": "secured", "url": "https://couch.example.com", "user": "deployer", "password": "pw-not-in-files"}}),
    );
    let file = std::fs::read_to_string(dir.path().join("config/servers.toml")).unwrap();
    assert!(file.contains("deployer"), "{file}");
    assert!(!file.contains("pw-not-in-files"), "{file}");
    if saved["password_stored"] == true {
        let list = call(&s, json!({"cmd": "servers_list"}));
        assert_eq!(list["servers"][1]["password"], "keyring", "{list}");
        fullsync_deploy::profiles::forget_password(
            &fullsync_deploy::profiles::get("secured").unwrap(),
        );
    } else {
        let w = saved["warning"].as_str().unwrap();
        assert!(w.contains("FULLSYNC_SERVER_SECURED_PASSWORD"), "{w}");
    }
    assert!(!call(&s, json!({"cmd": "servers_list"}))
        .to_string()
        .contains("pw-not-in-files"));
    for (args, says) in [
        (json!({"name": "a b", "url": url}), "not a profile name"),
        (json!({"name": "x", "url": "ftp://h"}), "http://"),
        (
            json!({"name": "x", "url": "http://u:p@h"}),
            "no credentials",
        ),
        (
            json!({"name": "x", "url": url, "password": "p"}),
            "needs a user",
        ),
    ] {
        let e = s
            .handle_json(json!({"cmd": "server_save", "args": args}))
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::BadRequest);
        assert!(e.message.contains(says), "{}", e.message);
    }

    // The plan: both databases and every design document of the sample are new there.
    let plan = call(
        &s,
        json!({"cmd": "deploy_plan", "args": {"server": "remote"}}),
    );
    assert_eq!(plan["noop"], false);
    let dbs: Vec<&str> = plan["create_dbs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["db"].as_str().unwrap())
        .collect();
    assert_eq!(dbs, ["catalog", "orders"]);
    let app = plan["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["db"] == "orders" && i["id"] == "_design/app")
        .unwrap_or_else(|| panic!("{plan}"));
    assert_eq!(app["action"], "create");
    assert!(app["reindex"]
        .as_array()
        .unwrap()
        .contains(&json!("by_status")));
    assert!(plan["rendered"]
        .as_str()
        .unwrap()
        .contains("+ orders/_design/app"));
    let creates = plan["counts"]["create"].as_u64().unwrap();
    assert!(creates >= 2, "{plan}");
    assert!(
        remote.db("orders").is_err(),
        "showing a plan changes nothing"
    );

    // Deploy in the background, then the plan is a no-op.
    let d = call(
        &s,
        json!({"cmd": "deploy_apply", "args": {"server": "remote"}}),
    );
    let id = d["id"].as_str().unwrap().to_string();
    let done = wait_for("the deploy to end", || {
        let all = call(&s, json!({"cmd": "deploy_status"}));
        all.as_array()
            .unwrap()
            .iter()
            .find(|j| j["id"] == id.as_str() && j["state"] != "running")
            .cloned()
    });
    assert_eq!(done["state"], "done", "{done}");
    assert_eq!(done["current"], done["total"]);
    assert_eq!(done["total"].as_u64().unwrap(), creates + 2, "{done}");
    assert_eq!(done["created_dbs"], json!(["catalog", "orders"]));
    assert!(remote
        .db("orders")
        .unwrap()
        .get("_design/app", None, &Default::default())
        .is_ok());
    let again = call(
        &s,
        json!({"cmd": "deploy_plan", "args": {"server": "remote"}}),
    );
    assert_eq!(again["noop"], true, "{again}");
    assert!(again["rendered"]
        .as_str()
        .unwrap()
        .contains("nothing to deploy"));
    // The history lists the deploy; rolling back to before it removes its design documents.
    let hist = call(
        &s,
        json!({"cmd": "deploy_history", "args": {"server": "remote"}}),
    );
    let first = hist["deploys"].as_array().unwrap();
    assert_eq!(first.len(), 1, "{hist}");
    assert_eq!(first[0]["kind"], "deploy");
    assert!(first[0]["applied"]
        .as_array()
        .unwrap()
        .contains(&json!("create orders/_design/app")));
    let rb = call(
        &s,
        json!({"cmd": "deploy_apply", "args": {"server": "remote", "rollback_to": 0}}),
    );
    let rb_id = rb["id"].as_str().unwrap().to_string();
    let rolled = wait_for("the rollback to end", || {
        let all = call(&s, json!({"cmd": "deploy_status"}));
        all.as_array()
            .unwrap()
            .iter()
            .find(|j| j["id"] == rb_id.as_str() && j["state"] != "running")
            .cloned()
    });
    assert_eq!(rolled["state"], "done", "{rolled}");
    assert_eq!(rolled["rollback_to"], 0);
    assert!(remote
        .db("orders")
        .unwrap()
        .get("_design/app", None, &Default::default())
        .is_err());
    let hist = call(
        &s,
        json!({"cmd": "deploy_history", "args": {"server": "remote"}}),
    );
    let kinds: Vec<&str> = hist["deploys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["rollback", "deploy"], "{hist}");
    call(&s, json!({"cmd": "deploy_dismiss", "args": {"id": rb_id}}));
    call(&s, json!({"cmd": "deploy_dismiss", "args": {"id": id}}));
    assert_eq!(call(&s, json!({"cmd": "deploy_status"})), json!([]));

    let e = s
        .handle_json(json!({"cmd": "deploy_plan", "args": {"server": "nope"}}))
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::NotFound);
    assert!(e.message.contains("Deploy screen"), "{}", e.message);
}

#[test]
fn used_by_lists_the_sequence_steps_and_follows_a_rename() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("crm");
    fullsync_project::convertigo::import_c8o(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../fullsync-project/tests/fixtures/convertigo/crm79"),
        &root,
    )
    .unwrap();
    let (_engine, s) = studio();
    open(&s, &root);
    let steps = |kind: &str, connector: &str, name: &str| -> Vec<String> {
        let r = call(
            &s,
            json!({"cmd": "used_by", "args": {"kind": kind, "connector": connector, "name": name}}),
        );
        r["used_by"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| {
                format!(
                    "{} ({})",
                    x["sequence"].as_str().unwrap(),
                    x["step"].as_str().unwrap()
                )
            })
            .collect()
    };
    assert_eq!(
        steps("transaction", "crm", "ByName"),
        [
            "crm.FindContact (Call_ByName)",
            "crm.FindContact (Loop/Call_ByName_again)"
        ]
    );
    assert_eq!(
        steps("connector", "", "archive"),
        ["crm.FindContact (Loop/Call_Archive)"]
    );
    // The sheet shows the same list and the kept Convertigo properties, read-only.
    let sheet = call(
        &s,
        json!({"cmd": "sheet_get", "args": {"connector": "crm", "kind": "connector"}}),
    );
    assert_eq!(sheet["kept"][2]["key"], "secureDatabase");
    assert_eq!(sheet["used_by"].as_array().unwrap().len(), 3);
    call(
        &s,
        json!({"cmd": "project_edit", "args": {"op": "rename", "kind": "transaction", "connector": "crm", "name": "ByName", "new_name": "FindByName"}}),
    );
    assert_eq!(steps("transaction", "crm", "ByName"), Vec::<String>::new());
    assert_eq!(steps("transaction", "crm", "FindByName").len(), 2);
}
