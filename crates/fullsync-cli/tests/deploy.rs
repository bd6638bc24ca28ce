//! Deploying the sample project to `fullsync serve` running as a separate process.

use std::path::Path;
use std::process::{Child, Command};
use std::sync::{Arc, Mutex};

use fullsync_deploy::deploy::{apply, plan, rollback_plan, Action, ApplyOptions};
use fullsync_replicate::HttpPeer;
use serde_json::Value;

fn serve(dir: &std::path::Path, port: u16) -> (Child, u16) {
    fullsync_testkit::serve_binary(env!("CARGO_BIN_EXE_fullsync"), dir, port)
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            copy_dir(&p, &to.join(e.file_name()));
        } else {
            std::fs::copy(&p, to.join(e.file_name())).unwrap();
        }
    }
}

fn server(port: u16) -> HttpPeer {
    HttpPeer::new(
        &format!("http://127.0.0.1:{port}/_x"),
        None,
        std::time::Duration::from_secs(10),
    )
    .unwrap()
}

fn ddoc(port: u16, db: &str, id: &str) -> Value {
    let (_, v) = server(port)
        .sibling(db)
        .unwrap()
        .call("GET", id, None)
        .unwrap();
    v
}

#[test]
fn deploy_redeploy_change_rollback_and_resume_after_a_killed_server() {
    let dir = tempfile::tempdir().unwrap();
    let proj = dir.path().join("proj");
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../../projects/sample"),
        &proj,
    );
    let load = || fullsync_project::load(&proj).0.unwrap();
    let (mut srv, port) = serve(&dir.path().join("srv"), 0);

    // First deploy creates the databases and every design document.
    let p1 = plan(&load(), &server(port), "t").unwrap();
    assert_eq!(p1.create_dbs.len(), 2);
    let r = apply(
        &p1,
        &server(port),
        &proj,
        &ApplyOptions::default(),
        &mut |_| {},
    )
    .unwrap();
    assert!(r.complete);
    assert_eq!(
        ddoc(port, "orders", "_design/app")["fullsync_project"],
        "sample"
    );
    // A second deploy changes nothing.
    let p2 = plan(&load(), &server(port), "t").unwrap();
    assert!(p2.is_noop(), "{}", p2.render());
    // A changed view updates only its design document, and says which views reindex: all of
    // the design document's (one index per design document).
    let map = proj.join("connectors/orders/design/app/views/by_status/map.js");
    std::fs::write(
        &map,
        "function (doc) { if (doc.type === 'order') emit(doc.status, 1); }\n",
    )
    .unwrap();
    let p3 = plan(&load(), &server(port), "t").unwrap();
    let changed: Vec<(&str, &Vec<String>)> = p3
        .items
        .iter()
        .filter(|i| i.action != Action::Unchanged)
        .map(|i| (i.id.as_str(), &i.reindex))
        .collect();
    let mut all_views: Vec<String> = ddoc(port, "orders", "_design/app")["views"]
        .as_object()
        .unwrap()
        .keys()
        .filter(|k| *k != "lib")
        .cloned()
        .collect();
    all_views.sort();
    assert!(all_views.len() > 1, "{all_views:?}");
    assert_eq!(changed.len(), 1);
    assert_eq!(changed[0].0, "_design/app");
    let mut reindexed = changed[0].1.clone();
    reindexed.sort();
    assert_eq!(reindexed, all_views);
    let rev_before = ddoc(port, "orders", "_design/app")["_rev"].clone();
    apply(
        &p3,
        &server(port),
        &proj,
        &ApplyOptions {
            staged: true,
            staging_timeout: None,
        },
        &mut |_| {},
    )
    .unwrap();
    let now = ddoc(port, "orders", "_design/app");
    assert_ne!(now["_rev"], rev_before);
    assert!(now["views"]["by_status"]["map"]
        .as_str()
        .unwrap()
        .contains("emit(doc.status, 1)"));
    assert_eq!(
        ddoc(port, "orders", "_design/app-staging")["error"],
        "not_found",
        "staging removed"
    );
    // Rollback restores the previous design document.
    let rb = rollback_plan(&proj, &server(port), "t", None).unwrap();
    apply(
        &rb,
        &server(port),
        &proj,
        &ApplyOptions::default(),
        &mut |_| {},
    )
    .unwrap();
    assert!(
        ddoc(port, "orders", "_design/app")["views"]["by_status"]["map"]
            .as_str()
            .unwrap()
            .contains("doc.total")
    );

    // A server killed mid-deploy: the report says what was applied; running again completes.
    std::fs::write(&map, "function (doc) { emit(doc._id, 2); }\n").unwrap();
    std::fs::write(
        proj.join("connectors/catalog/design/products/views/by_name/map.js"),
        "function (doc) { emit(doc.name, 2); }\n",
    )
    .unwrap();
    let p4 = plan(&load(), &server(port), "t").unwrap();
    assert_eq!(
        p4.items
            .iter()
            .filter(|i| i.action == Action::Update)
            .count(),
        2
    );
    let child = Arc::new(Mutex::new(Some(srv)));
    let c2 = child.clone();
    let err = apply(
        &p4,
        &server(port),
        &proj,
        &ApplyOptions::default(),
        &mut |pr| {
            if pr.current == 1 {
                if let Some(mut c) = c2.lock().unwrap().take() {
                    c.kill().unwrap();
                    c.wait().unwrap();
                }
            }
        },
    );
    assert!(err.is_err(), "the second step fails: the server is gone");
    let hist = fullsync_deploy::deploy::history(&proj, "t").unwrap();
    let last = hist.last().unwrap();
    assert!(
        !last.complete && last.applied.len() == 1 && last.error.is_some(),
        "{last:?}"
    );
    let (s2, port2) = serve(&dir.path().join("srv"), port);
    srv = s2;
    assert_eq!(port2, port);
    let p5 = plan(&load(), &server(port), "t").unwrap();
    assert_eq!(
        p5.items
            .iter()
            .filter(|i| i.action == Action::Update)
            .count(),
        1,
        "only what was not applied"
    );
    apply(
        &p5,
        &server(port),
        &proj,
        &ApplyOptions::default(),
        &mut |_| {},
    )
    .unwrap();
    assert!(plan(&load(), &server(port), "t").unwrap().is_noop());
    srv.kill().unwrap();
    srv.wait().unwrap();
}

/// `fullsync view` reads a data directory without leaving a `server.json` in it.
#[test]
fn view_writes_no_server_json_into_the_data_directory() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../projects/sample");
    let out = Command::new(env!("CARGO_BIN_EXE_fullsync"))
        .args(["project", "sync"])
        .arg(&sample)
        .arg("--data")
        .arg(&data)
        .arg("--load-data")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    std::fs::remove_file(data.join("server.json")).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_fullsync"))
        .args(["view", "--data"])
        .arg(&data)
        .args(["orders", "app/by_status", "group=true"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("paid"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(!data.join("server.json").exists());
}
