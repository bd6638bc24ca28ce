//! The Deploy screen's session password (used for one plan or deploy, never stored) and the
//! plan's function changes as code (`functions`: before/after sources), against a real HTTP
//! server that requires its admin's password.

use std::sync::Arc;
use std::time::{Duration, Instant};

use fullsync_api::Studio;
use fullsync_engine::Engine;
use serde_json::{json, Value};

mod common;
use common::{call, sample_copy};

#[test]
fn a_session_password_deploys_without_being_stored_and_plans_show_code_changes() {
    let dir = tempfile::tempdir().unwrap();
    std::env::set_var("FULLSYNC_CONFIG_DIR", dir.path().join("config"));
    let root = sample_copy(dir.path());
    let engine = Arc::new(Engine::in_memory());
    let views = Arc::new(fullsync_views::Views::new(engine.clone()));
    let s = Studio::new(engine, views);
    call(
        &s,
        json!({"cmd": "project_open", "args": {"path": root.display().to_string()}}),
    );
    s.stop_listeners();
    let remote = Arc::new(Engine::in_memory());
    let port = fullsync_http::serve_in_background(
        fullsync_http::router(
            remote.clone(),
            fullsync_http::ServerConfig {
                admin: Some(("deployer".into(), "s3cret-session".into())),
                admin_party: false,
                ..Default::default()
            },
        ),
        "127.0.0.1:0".parse().unwrap(),
    )
    .unwrap()
    .port();
    // A profile name no keyring knows: without a session password there is none.
    call(
        &s,
        json!({"cmd": "server_save", "args": {"name": "locked", "url": format!("http://127.0.0.1:{port}"), "user": "deployer"}}),
    );
    let e = s
        .handle_json(json!({"cmd": "deploy_plan", "args": {"server": "locked"}}))
        .unwrap_err();
    assert!(
        e.message.contains("FULLSYNC_SERVER_LOCKED_PASSWORD"),
        "{}",
        e.message
    );
    let wrong = s
        .handle_json(
            json!({"cmd": "deploy_plan", "args": {"server": "locked", "password": "nope"}}),
        )
        .unwrap_err();
    assert!(!wrong.message.contains("nope"), "{}", wrong.message);

    let plan = call(
        &s,
        json!({"cmd": "deploy_plan", "args": {"server": "locked", "password": "s3cret-session"}}),
    );
    let app = plan["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["db"] == "orders" && i["id"] == "_design/app")
        .unwrap()
        .clone();
    assert_eq!(app["action"], "create");
    let f = app["functions"].as_array().unwrap();
    let map = f
        .iter()
        .find(|x| x["path"] == "views.by_status.map")
        .unwrap();
    assert_eq!(map["before"], Value::Null);
    assert!(map["after"].as_str().unwrap().contains("emit"), "{map}");

    let job = call(
        &s,
        json!({"cmd": "deploy_apply", "args": {"server": "locked", "password": "s3cret-session"}}),
    );
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let st = call(&s, json!({"cmd": "deploy_status"}));
        let j = st
            .as_array()
            .unwrap()
            .iter()
            .find(|j| j["id"] == job["id"])
            .unwrap()
            .clone();
        if j["state"] != "running" {
            assert_eq!(j["state"], "done", "{j}");
            break;
        }
        assert!(Instant::now() < deadline, "the deploy never ended");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(remote
        .db("orders")
        .unwrap()
        .get("_design/app", None, &Default::default())
        .is_ok());

    // A changed map is a code change in the next plan.
    let mapf = root.join("connectors/orders/design/app/views/by_status/map.js");
    let old = std::fs::read_to_string(&mapf).unwrap();
    std::fs::write(&mapf, old.replace("emit(", "emit(/* v2 */ ")).unwrap();
    let plan = call(
        &s,
        json!({"cmd": "deploy_plan", "args": {"server": "locked", "password": "s3cret-session"}}),
    );
    let app = plan["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == "_design/app")
        .unwrap()
        .clone();
    assert_eq!(app["action"], "update");
    assert_eq!(
        app["functions"],
        json!([{"path": "views.by_status.map", "before": old, "after": old.replace("emit(", "emit(/* v2 */ ")}]),
        "only the changed function"
    );
    // Never written anywhere.
    let files = std::fs::read_to_string(dir.path().join("config/servers.toml")).unwrap();
    assert!(!files.contains("s3cret-session"));
    assert!(!call(&s, json!({"cmd": "servers_list"}))
        .to_string()
        .contains("s3cret-session"));
}
