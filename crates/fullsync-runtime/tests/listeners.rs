//! Listeners on 1,000 replicated documents: the right listener, exactly the matching docs, in
//! chunks; HTTP targets; failing and hanging targets; disabled listeners.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use fullsync_engine::{Engine, UserCtx};
use fullsync_runtime::listeners::Runner;
use serde_json::{json, Value};

fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

/// A loopback HTTP server recording JSON bodies; `mode` = ok | hang.
fn target(mode: &'static str) -> (u16, Arc<Mutex<Vec<Value>>>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let got = Arc::new(Mutex::new(vec![]));
    let g = got.clone();
    std::thread::spawn(move || {
        for s in l.incoming().flatten().take(1000) {
            let g = g.clone();
            std::thread::spawn(move || {
                let mut r = BufReader::new(s.try_clone().unwrap());
                let mut len = 0;
                let mut line = String::new();
                r.read_line(&mut line).unwrap();
                loop {
                    let mut h = String::new();
                    r.read_line(&mut h).unwrap();
                    if h.trim().is_empty() {
                        break;
                    }
                    if let Some(v) = h.to_ascii_lowercase().strip_prefix("content-length:") {
                        len = v.trim().parse().unwrap();
                    }
                }
                let mut body = vec![0; len];
                r.read_exact(&mut body).unwrap();
                if mode == "hang" {
                    std::thread::sleep(Duration::from_secs(5));
                }
                g.lock()
                    .unwrap()
                    .push(serde_json::from_slice(&body).unwrap());
                let mut s = s;
                let _ = s.write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
                );
            });
        }
    });
    (port, got)
}

#[test]
fn listeners_fire_on_replicated_docs_in_chunks() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let (ok_port, received) = target("ok");
    let (hang_port, _) = target("hang");
    let dead_port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port(); // closed when dropped
    write(root, "fullsync.toml", "[project]\nname = \"l\"\n");
    write(
        root,
        "connectors/orders/design/app/views/orders/map.js",
        "function (doc) { if (doc.type === 'order') emit(doc._id, null); }\n",
    );
    write(
        root,
        "connectors/orders/design/app/filters/big.js",
        "function (doc) { return doc.n >= 900; }\n",
    );
    write(
        root,
        "connectors/orders/listeners/by_view.toml",
        "kind = \"update\"\nview = \"app/orders\"\nchunk = 10\n[target]\nlog = true\n",
    );
    write(root, "connectors/orders/listeners/to_http.toml", &format!("kind = \"update\"\nfilter = \"_doc_ids\"\nchunk = 100\n[target]\nhttp = \"http://127.0.0.1:{ok_port}/hook\"\n"));
    write(root, "connectors/orders/listeners/failing.toml", &format!("kind = \"update\"\nfilter = \"app/big\"\nchunk = 25\n[target]\nhttp = \"http://127.0.0.1:{dead_port}/nobody\"\n"));
    write(root, "connectors/orders/listeners/hanging.toml", &format!("kind = \"update\"\nfilter = \"app/big\"\nchunk = 50\n[target]\nhttp = \"http://127.0.0.1:{hang_port}/slow\"\n"));
    write(
        root,
        "connectors/orders/listeners/off.toml",
        "kind = \"update\"\nfilter = \"_doc_ids\"\nenabled = false\n[target]\nlog = true\n",
    );
    write(
        root,
        "connectors/orders/listeners/zero.toml",
        "kind = \"update\"\nfilter = \"_doc_ids\"\nchunk = 0\n[target]\nlog = true\n",
    );
    write(
        root,
        "connectors/orders/listeners/deleted.toml",
        "kind = \"delete\"\nview = \"app/orders\"\nchunk = 5\n[target]\nlog = true\n",
    );
    write(root, "handlers/h.js", "function handle(docs, api) { var first = api.get(docs[0]._id); api.post({_id: 'summary', count: docs.length, first: first.n}); }\n");
    write(root, "connectors/orders/listeners/handler.toml", "kind = \"update\"\nfilter = \"app/big\"\nchunk = 1000\n[target]\nhandler = \"handlers/h.js\"\n");
    let (p, diags) = fullsync_project::load(root);
    let p = p.unwrap();
    assert!(
        diags
            .iter()
            .all(|d| d.severity != fullsync_project::Severity::Error),
        "{diags:?}"
    );
    let engine = Arc::new(Engine::in_memory());
    let views = Arc::new(fullsync_views::Views::new(engine.clone()));
    fullsync_project::sync::sync(&engine, &p);
    let db = engine.db("orders").unwrap();
    let start = db.update_seq();
    let mut runner = Runner::new(engine.clone(), views, &p, "orders").unwrap();
    runner.http_timeout = Duration::from_millis(500);
    // 1,000 documents arrive as a replicator writes them (new_edits=false with history).
    let docs: Vec<Value> = (0..1000)
        .map(|i| json!({"_id": format!("d{i:04}"), "_rev": format!("1-r{i}"), "_revisions": {"start": 1, "ids": [format!("r{i}")]},
                         "type": if i % 3 == 0 { "order" } else { "other" }, "n": i, "~c8oAcl": "bob"}))
        .collect();
    db.bulk_docs_json(docs, false, &UserCtx::default()).unwrap();
    let seq = runner.process(start).unwrap();
    let act = runner.activity.lock().unwrap().clone();
    let of = |name: &str| {
        act.iter()
            .filter(|a| a.listener == name)
            .cloned()
            .collect::<Vec<_>>()
    };
    // The view listener got exactly the orders, in chunks of at most 10.
    let by_view = of("by_view");
    let mut ids: Vec<String> = by_view.iter().flat_map(|a| a.docs.clone()).collect();
    ids.sort();
    let want: Vec<String> = (0..1000)
        .filter(|i| i % 3 == 0)
        .map(|i| format!("d{i:04}"))
        .collect();
    assert_eq!(ids, want);
    assert!(by_view
        .iter()
        .all(|a| a.docs.len() <= 10 && a.result == "ok"));
    assert_eq!(by_view.len(), want.len().div_ceil(10));
    // The HTTP target received all 1,000, in 10 POSTs, without ~c8oAcl.
    let bodies = received.lock().unwrap().clone();
    assert_eq!(bodies.len(), 10);
    assert_eq!(
        bodies
            .iter()
            .map(|b| b["docs"].as_array().unwrap().len())
            .sum::<usize>(),
        1000
    );
    assert!(bodies[0]["docs"][0].get("~c8oAcl").is_none());
    // A failing target is logged for every chunk; later chunks still ran.
    let failing = of("failing");
    assert_eq!(failing.len(), 4);
    assert!(
        failing.iter().all(|a| a.result.starts_with("error")),
        "{failing:?}"
    );
    // A hanging target times out, is logged, and the other listeners were not stopped.
    let hanging = of("hanging");
    assert_eq!(hanging.len(), 2);
    assert!(
        hanging.iter().all(|a| a.result.starts_with("error")),
        "{hanging:?}"
    );
    assert_eq!(of("handler").len(), 1);
    assert_eq!(of("handler")[0].result, "ok");
    // The handler read a document and posted one through its API.
    let summary = db.get("summary", None, &Default::default()).unwrap();
    assert_eq!(
        (summary["count"].clone(), summary["first"].clone()),
        (json!(100), json!(900))
    );
    // Disabled and chunk 0 never fire.
    assert!(of("off").is_empty() && of("zero").is_empty());
    // Deletions fire the delete listener with the deleted orders only.
    let dels: Vec<Value> = [0, 1, 3]
        .iter()
        .map(|i| json!({"_id": format!("d{i:04}"), "_rev": format!("1-r{i}"), "_deleted": true}))
        .collect();
    let r = db.bulk_docs_json(dels, true, &UserCtx::default()).unwrap();
    assert!(r.iter().all(|x| x.result.is_ok()));
    runner.process(seq).unwrap();
    let act = runner.activity.lock().unwrap().clone();
    let deleted: Vec<String> = act
        .iter()
        .filter(|a| a.listener == "deleted")
        .flat_map(|a| a.docs.clone())
        .collect();
    assert_eq!(deleted, vec!["d0000", "d0003"]);
}
