//! The remote client against a real CouchDB-compatible server (our own HTTP API, in process,
//! with an admin password), and against servers that are down, slow, answer garbage or refuse
//! the password. (The Node tests do the same against pouchdb-server.)

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::Duration;

use fullsync_engine::Engine;
use fullsync_remote::{compare_rows, preview_sample, target::Sample, RemoteError, Server, Target};
use fullsync_replicate::Auth;
use serde_json::{json, Value};

const PASSWORD: &str = "s3cret-pw";

fn serve() -> (SocketAddr, Arc<Engine>) {
    let engine = Arc::new(Engine::in_memory());
    let (tx, rx) = std::sync::mpsc::channel();
    let e = engine.clone();
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
            fullsync_http::serve(e, cfg, move |a| tx.send(a).unwrap(), std::future::pending())
                .await
                .unwrap();
        });
    });
    (rx.recv().unwrap(), engine)
}

fn server(addr: SocketAddr, password: &str) -> Server {
    Server::new(
        &format!("http://{addr}"),
        Some("test-server"),
        Some(Auth {
            user: "admin".into(),
            password: password.into(),
        }),
        Duration::from_secs(30),
        None,
    )
    .unwrap()
}

fn seed(s: &Server) {
    s.json("PUT", "/orders", None).unwrap();
    for (i, st) in ["new", "paid", "new", "shipped", "paid"].iter().enumerate() {
        s.put_doc(
            "orders",
            &json!({"_id": format!("o{i}"), "status": st, "total": i * 10}),
        )
        .unwrap();
    }
    s.put_doc(
        "orders",
        &json!({"_id": "_design/app", "views": {"by_status": {
            "map": "function(d){ if (d.status) emit(d.status, d.total); }",
            "reduce": "_sum"}}}),
    )
    .unwrap();
}

#[test]
fn browse_edit_conflicts_views_and_mango() {
    let (addr, _engine) = serve();
    let s = server(addr, PASSWORD);
    assert!(s.check_login().unwrap()["couchdb"].is_string());
    seed(&s);
    assert!(s.all_dbs().unwrap().contains(&"orders".to_string()));
    assert_eq!(s.db_info("orders").unwrap()["doc_count"], 6);

    // Paging and prefix search.
    let page = s.docs_page("orders", "o", 2, 1).unwrap();
    let ids: Vec<&str> = page["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["o1", "o2"]);

    // Edit with _rev checks: a stale _rev is a conflict naming the server.
    let d = s.get_doc("orders", "o1", None).unwrap();
    let mut edited = d.clone();
    edited["status"] = json!("cancelled");
    let r = s.put_doc("orders", &edited).unwrap();
    assert!(r["rev"].as_str().unwrap().starts_with("2-"));
    let err = s.put_doc("orders", &d).unwrap_err();
    assert!(matches!(err, RemoteError::Conflict { .. }), "{err}");
    assert!(err.to_string().contains("test-server"), "{err}");

    // A conflict, made like a replication would, then resolved.
    s.json(
        "POST",
        "/orders/_bulk_docs",
        Some(&json!({"new_edits": false, "docs": [
            {"_id": "c", "_rev": "1-aaa", "v": "a"},
            {"_id": "c", "_rev": "1-bbb", "v": "b"}]})),
    )
    .unwrap();
    let doc = s.get_doc("orders", "c", None).unwrap();
    assert_eq!(doc["_conflicts"], json!(["1-aaa"]));
    let leaves = s.live_leaves("orders", "c").unwrap();
    assert_eq!(leaves.len(), 2);
    assert_eq!(leaves[0]["_rev"], "1-bbb", "winner first");
    // Asking to delete the wrong set writes nothing.
    assert!(s.resolve("orders", "c", "1-bbb", &[], None).is_err());
    let r = s
        .resolve(
            "orders",
            "c",
            "1-aaa",
            &["1-bbb".to_string()],
            Some(json!({"v": "merged"})),
        )
        .unwrap();
    let after = s.get_doc("orders", "c", None).unwrap();
    assert_eq!(after["v"], "merged");
    assert_eq!(after["_rev"], r["rev"]);
    assert!(after.get("_conflicts").is_none(), "{after}");

    // Attachments.
    let rev = after["_rev"].as_str().unwrap();
    let r = s
        .put_attachment(
            "orders",
            "c",
            rev,
            "a b.txt",
            "text/plain",
            b"hello".to_vec(),
        )
        .unwrap();
    let (bytes, ctype) = s.get_attachment("orders", "c", "a b.txt", None).unwrap();
    assert_eq!(
        (bytes.as_slice(), ctype.starts_with("text/plain")),
        (&b"hello"[..], true)
    );
    s.delete_attachment("orders", "c", r["rev"].as_str().unwrap(), "a b.txt")
        .unwrap();
    assert!(s.get_attachment("orders", "c", "a b.txt", None).is_err());

    // Changes: a longpoll answers as soon as a write happens.
    let last = s.changes("orders", &json!("now"), 10, false, None).unwrap()["last_seq"].clone();
    let s2 = server(addr, PASSWORD);
    let writer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(200));
        s2.put_doc("orders", &json!({"_id": "late"})).unwrap();
    });
    let c = s
        .changes("orders", &last, 10, false, Some(Duration::from_secs(20)))
        .unwrap();
    writer.join().unwrap();
    assert_eq!(c["results"][0]["id"], "late", "{c}");

    // Views with options, then Mango; the same answers through a Target.
    let v = s
        .view("orders", "app", "by_status", &json!({"group": true}))
        .unwrap();
    assert_eq!(
        v["rows"],
        json!([{"key": "cancelled", "value": 10}, {"key": "new", "value": 20}, {"key": "paid", "value": 40}, {"key": "shipped", "value": 30}])
    );
    let v = s
        .view(
            "orders",
            "_design/app",
            "by_status",
            &json!({"reduce": false, "keys": ["paid", "new"], "include_docs": true}),
        )
        .unwrap();
    assert_eq!(v["rows"].as_array().unwrap().len(), 3);
    assert_eq!(v["rows"][0]["doc"]["status"], "paid");
    let v = s
        .view(
            "orders",
            "app",
            "by_status",
            &json!({"reduce": false, "startkey": "p", "endkey": "q", "descending": false, "limit": 1}),
        )
        .unwrap();
    assert_eq!(v["rows"][0]["key"], "paid");
    let f = s
        .find(
            "orders",
            &json!({"selector": {"status": "new"}, "fields": ["_id"], "sort": [{"_id": "asc"}]}),
        )
        .unwrap();
    assert_eq!(f["docs"], json!([{"_id": "o0"}, {"_id": "o2"}]));
    assert!(s
        .explain("orders", &json!({"selector": {"status": "new"}}))
        .unwrap()["index"]
        .is_object());
}

#[test]
fn sample_preview_and_compare_local_with_server() {
    let (addr, _) = serve();
    let s = Arc::new(server(addr, PASSWORD));
    seed(&s);
    // First N skips design documents.
    let first = s.sample("orders", 3, false).unwrap();
    let ids: Vec<&str> = first.iter().map(|d| d["_id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["o0", "o1", "o2"]);
    let random = s.sample("orders", 3, true).unwrap();
    assert_eq!(random.len(), 3);
    assert!(random
        .iter()
        .all(|d| !d["_id"].as_str().unwrap().starts_with("_design")));

    // Preview on a sample, with a per-document error, nothing written to the server.
    let before = s.db_info("orders").unwrap()["update_seq"].clone();
    let p = preview_sample(
        &s,
        "orders",
        "function(d){ if (d._id === 'o1') throw new Error('bad o1'); emit(d.status, 1); }",
        Some("_count"),
        &json!({"group": true}),
        Sample {
            size: 5,
            random: false,
        },
        None,
        None,
    )
    .unwrap();
    assert_eq!(p["docs"], 5);
    assert_eq!(p["errors"][0]["id"], "o1", "{p}");
    assert_eq!(
        p["result"]["rows"],
        json!([{"key": "new", "value": 2}, {"key": "paid", "value": 1}, {"key": "shipped", "value": 1}])
    );
    assert_eq!(s.db_info("orders").unwrap()["update_seq"], before);

    // Compare: a local engine with the same data is equal; a planted difference shows.
    let local_engine = Arc::new(Engine::in_memory());
    let views = Arc::new(fullsync_views::Views::new(local_engine.clone()));
    let db = local_engine.create_db("orders").unwrap();
    let docs: Vec<Value> = s
        .all_docs("orders", &json!({"include_docs": true}))
        .unwrap()["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["doc"].clone())
        .collect();
    db.bulk_docs_json(docs, false, &Default::default()).unwrap();
    let local = Target::Local {
        views,
        db: "orders".into(),
    };
    let remote = Target::Remote {
        server: s.clone(),
        db: "orders".into(),
    };
    for q in [json!({"group": true}), json!({"reduce": false})] {
        let a = local.view("app", "by_status", &q).unwrap();
        let b = remote.view("app", "by_status", &q).unwrap();
        let c = compare_rows(
            &a["rows"].as_array().unwrap().clone(),
            &b["rows"].as_array().unwrap().clone(),
            false,
            100,
        );
        assert!(c.equal, "{q}: {:?}", c.differences);
    }
    let mango = json!({"selector": {"total": {"$gte": 10}}, "sort": [{"_id": "asc"}]});
    let a = local.find(&mango).unwrap();
    let b = remote.find(&mango).unwrap();
    assert!(
        compare_rows(
            a["docs"].as_array().unwrap(),
            b["docs"].as_array().unwrap(),
            true,
            100
        )
        .equal
    );

    let mut o3 = s.get_doc("orders", "o3", None).unwrap();
    o3["total"] = json!(999);
    s.put_doc("orders", &o3).unwrap();
    let a = local
        .view("app", "by_status", &json!({"reduce": false}))
        .unwrap();
    let b = remote
        .view("app", "by_status", &json!({"reduce": false}))
        .unwrap();
    let c = compare_rows(
        a["rows"].as_array().unwrap(),
        b["rows"].as_array().unwrap(),
        false,
        100,
    );
    assert_eq!(c.total_differences, 1, "{:?}", c.differences);
    assert_eq!(c.differences[0].kind, "value");
    assert_eq!(c.differences[0].id.as_deref(), Some("o3"));
    assert_eq!(
        (
            c.differences[0].left.clone(),
            c.differences[0].right.clone()
        ),
        (Some(json!(30)), Some(json!(999)))
    );
}

/// A fake server on a loopback port: `answer` is written after reading the request (none:
/// never answer).
fn fake(answer: Option<&'static str>) -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut held = vec![];
        for mut c in l.incoming().flatten() {
            let mut buf = [0u8; 4096];
            let _ = c.read(&mut buf);
            match answer {
                Some(a) => {
                    let _ = c.write_all(a.as_bytes());
                }
                None => held.push(c),
            }
        }
    });
    addr
}

#[test]
fn down_slow_garbage_and_wrong_password_say_so_without_the_password() {
    let check = |e: RemoteError, want: &str| {
        let m = e.to_string();
        assert!(m.contains(want), "{m}");
        assert!(!m.contains(PASSWORD), "password shown: {m}");
        m
    };
    // Down: a port nobody listens on.
    let closed = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let e = server(closed, PASSWORD).welcome().unwrap_err();
    assert!(matches!(e, RemoteError::Unreachable { .. }), "{e:?}");
    check(e, "cannot reach test-server");

    // Slow: accepts and never answers.
    let slow = Server::new(
        &format!("http://admin:{PASSWORD}@{}", fake(None)),
        None,
        None,
        Duration::from_millis(300),
        None,
    )
    .unwrap();
    assert!(!slow.name().contains(PASSWORD), "{}", slow.name());
    let e = slow.welcome().unwrap_err();
    assert!(matches!(e, RemoteError::Timeout { .. }), "{e:?}");
    check(e, "did not answer");

    // Garbage: an HTML page.
    let g = fake(Some(
        "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 20\r\nConnection: close\r\n\r\n<html>login</html>\r\n",
    ));
    let e = server(g, PASSWORD).all_dbs().unwrap_err();
    assert!(matches!(e, RemoteError::Garbage { .. }), "{e:?}");
    check(e, "not JSON");
    // JSON that is not CouchDB.
    let j = fake(Some(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\nConnection: close\r\n\r\n{\"a\": true}",
    ));
    check(server(j, PASSWORD).welcome().unwrap_err(), "not JSON");

    // Wrong password.
    let (addr, _) = serve();
    let e = server(addr, "wrong-pw").check_login().unwrap_err();
    assert!(matches!(e, RemoteError::Unauthorized { .. }), "{e:?}");
    let m = check(e, "refused the credentials of `admin`");
    assert!(!m.contains("wrong-pw"), "{m}");
    let e = server(addr, "wrong-pw").db_info("x").unwrap_err();
    assert!(matches!(e, RemoteError::Unauthorized { .. }), "{e:?}");
    // Anonymous where an admin is needed: says to give a user.
    let anon = Server::new(
        &format!("http://{addr}"),
        None,
        None,
        Duration::from_secs(10),
        None,
    )
    .unwrap();
    let m = check(
        anon.json("PUT", "/newdb", None).unwrap_err(),
        "refused an anonymous request",
    );
    assert!(m.contains("Give a user"), "{m}");
}
