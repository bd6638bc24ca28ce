//! Replication between the local engine and `fullsync serve` processes: equality of results,
//! checkpoints and resume after a kill, faults (dropping and stalling connections, garbage).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use fullsync_engine::{parse_doc, Database, Engine, OpenRev, OpenRevs, ReadOptions, UserCtx};
use fullsync_replicate::{Direction, HttpPeer, LocalPeer, Options, Peer};
use serde_json::{json, Value};

fn serve(dir: &std::path::Path, port: u16) -> (Child, u16) {
    fullsync_testkit::serve_binary(env!("CARGO_BIN_EXE_fullsync"), dir, port)
}

fn quiet() -> fullsync_replicate::Listener {
    Arc::new(|_| {})
}

fn put(db: &Database, v: Value) -> String {
    db.put(
        parse_doc(v, None, &mut |_| None).unwrap(),
        &UserCtx::default(),
    )
    .unwrap()
}

/// Every document's sorted leaf revisions and winner.
fn state(db: &Database) -> Vec<(String, Vec<String>, String)> {
    let mut out = vec![];
    db.for_each_record(|id, rec| {
        let mut leaves: Vec<String> = rec
            .tree
            .leaves()
            .iter()
            .map(|&i| rec.tree.nodes[i].rev().to_string())
            .collect();
        leaves.sort();
        out.push((
            id.to_string(),
            leaves,
            rec.tree.nodes[rec.tree.winner()].rev().to_string(),
        ));
        Ok(true)
    })
    .unwrap();
    out
}

fn run(src: Arc<dyn Peer>, tgt: Arc<dyn Peer>, opts: Options) -> fullsync_replicate::Summary {
    fullsync_replicate::start(src, tgt, Direction::Push, opts, quiet()).wait()
}

#[test]
fn local_to_local_conflicts_deletions_attachments_converge() {
    let engine = Arc::new(Engine::in_memory());
    let a = engine.create_db("a").unwrap();
    let b = engine.create_db("b").unwrap();
    for i in 0..300 {
        put(
            &a,
            json!({"_id": format!("d{i:03}"), "i": i, "_attachments": {"f": {"data": "aGVsbG8="}}}),
        );
    }
    let pa: Arc<dyn Peer> = Arc::new(LocalPeer::new(engine.clone(), "a", None));
    let pb: Arc<dyn Peer> = Arc::new(LocalPeer::new(engine.clone(), "b", None));
    let s = run(pa.clone(), pb.clone(), Options::default());
    assert!(s.ok, "{:?}", s.errors);
    assert_eq!(s.docs_written, 300);
    // Conflicting edits on both sides, deletions on both sides.
    for i in 0..50 {
        let id = format!("d{i:03}");
        let ra = a.get(&id, None, &ReadOptions::default()).unwrap()["_rev"].clone();
        let rb = b.get(&id, None, &ReadOptions::default()).unwrap()["_rev"].clone();
        put(&a, json!({"_id": id, "_rev": ra, "side": "a"}));
        if i % 2 == 0 {
            put(&b, json!({"_id": id, "_rev": rb, "side": "b"}));
        } else {
            put(&b, json!({"_id": id, "_rev": rb, "_deleted": true}));
        }
    }
    let s1 = run(pa.clone(), pb.clone(), Options::default());
    let s2 = run(pb.clone(), pa.clone(), Options::default());
    assert!(s1.ok && s2.ok);
    assert_eq!(state(&a), state(&b));
    let d = a
        .get(
            "d000",
            None,
            &ReadOptions {
                conflicts: true,
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(d["_conflicts"].as_array().unwrap().len(), 1);
    // Attachments arrived with their data.
    let (_, data) = b.attachment("d299", "f", None).unwrap();
    assert_eq!(data, b"hello");
    // Nothing left to do.
    let again = run(pa, pb, Options::default());
    assert_eq!((again.docs_read, again.docs_written), (0, 0));
}

#[test]
fn push_pull_over_http_and_resume_after_kill() {
    let dir = tempfile::tempdir().unwrap();
    let (mut srv, port) = serve(&dir.path().join("srv"), 0);
    let engine = Arc::new(Engine::open(&dir.path().join("local")).unwrap());
    let local = engine.create_db("local").unwrap();
    for i in 0..500 {
        put(&local, json!({"_id": format!("d{i:04}"), "i": i}));
    }
    let url = format!("http://127.0.0.1:{port}/remote");
    let lp: Arc<dyn Peer> = Arc::new(LocalPeer::new(engine.clone(), "local", None));
    let rp: Arc<dyn Peer> = Arc::new(HttpPeer::new(&url, None, Duration::from_secs(10)).unwrap());
    let s = run(lp.clone(), rp.clone(), Options::default());
    assert!(s.ok, "{:?}", s.errors);
    assert_eq!(s.docs_written, 500);
    // Kill the server, restart it on the same data: the checkpoint makes the next run copy only new docs.
    srv.kill().unwrap();
    srv.wait().unwrap();
    let (mut srv, port2) = serve(&dir.path().join("srv"), port);
    assert_eq!(port, port2);
    for i in 500..600 {
        put(&local, json!({"_id": format!("d{i:04}"), "i": i}));
    }
    let s = run(lp.clone(), rp.clone(), Options::default());
    assert!(s.ok, "{:?}", s.errors);
    assert_eq!(
        s.docs_read, 100,
        "resumed from the checkpoint, not from zero"
    );
    // Pull into a fresh local database: same state.
    let copy: Arc<dyn Peer> = Arc::new(LocalPeer::new(engine.clone(), "copy", None));
    let s = run(rp, copy, Options::default());
    assert_eq!(s.docs_written, 600);
    assert_eq!(state(&engine.db("copy").unwrap()), state(&local));
    srv.kill().unwrap();
    srv.wait().unwrap();
}

/// A loopback proxy that drops every third connection right away, or stalls the first ones.
fn proxy(upstream: u16, mode: &'static str) -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let n = Arc::new(AtomicUsize::new(0));
    std::thread::spawn(move || {
        for conn in l.incoming().take(100_000) {
            let Ok(client) = conn else { continue };
            let k = n.fetch_add(1, Ordering::SeqCst);
            match mode {
                "drop" if k % 3 == 1 => {
                    drop(client);
                    continue;
                }
                "stall" if k < 2 => {
                    std::thread::spawn(move || {
                        std::thread::sleep(Duration::from_secs(20));
                        drop(client);
                    });
                    continue;
                }
                _ => {}
            }
            let Ok(up) = TcpStream::connect(("127.0.0.1", upstream)) else {
                continue;
            };
            let (mut c2, mut u2) = (client.try_clone().unwrap(), up.try_clone().unwrap());
            let (mut c1, mut u1) = (client, up);
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut c1, &mut u1);
                let _ = u1.shutdown(std::net::Shutdown::Write);
            });
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut u2, &mut c2);
                let _ = c2.shutdown(std::net::Shutdown::Write);
            });
        }
    });
    port
}

#[test]
fn faults_dropped_and_stalled_connections_with_retry() {
    let dir = tempfile::tempdir().unwrap();
    let (mut srv, port) = serve(&dir.path().join("srv"), 0);
    let engine = Arc::new(Engine::in_memory());
    let local = engine.create_db("local").unwrap();
    for i in 0..400 {
        put(&local, json!({"_id": format!("d{i:04}"), "i": i}));
    }
    for (mode, db) in [("drop", "dropped"), ("stall", "stalled")] {
        let p = proxy(port, mode);
        let url = format!("http://127.0.0.1:{p}/{db}");
        let lp: Arc<dyn Peer> = Arc::new(LocalPeer::new(engine.clone(), "local", None));
        let rp: Arc<dyn Peer> =
            Arc::new(HttpPeer::new(&url, None, Duration::from_secs(1)).unwrap());
        let opts = Options {
            retry: true,
            timeout: Duration::from_secs(1),
            max_backoff: Duration::from_millis(400),
            batch_size: 50,
            ..Default::default()
        };
        let s = run(lp, rp, opts);
        assert!(s.ok, "{mode}: {:?}", s.errors);
        // Verify directly against the server: all docs, no duplicates, same revisions.
        let direct: Arc<dyn Peer> = Arc::new(
            HttpPeer::new(
                &format!("http://127.0.0.1:{port}/{db}"),
                None,
                Duration::from_secs(10),
            )
            .unwrap(),
        );
        let copy = engine.create_db(&format!("check{db}")).unwrap();
        let c: Arc<dyn Peer> =
            Arc::new(LocalPeer::new(engine.clone(), &format!("check{db}"), None));
        run(direct, c, Options::default());
        assert_eq!(state(&copy), state(&local), "{mode}");
    }
    srv.kill().unwrap();
    srv.wait().unwrap();
}

#[test]
fn a_server_answering_garbage_gives_a_clear_error() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for mut c in l.incoming().flatten().take(20) {
            let mut buf = [0u8; 4096];
            let _ = c.read(&mut buf);
            let _ = c.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 20\r\nConnection: close\r\n\r\n<html>hello</html>\r\n");
        }
    });
    let engine = Arc::new(Engine::in_memory());
    engine.create_db("local").unwrap();
    let lp: Arc<dyn Peer> = Arc::new(LocalPeer::new(engine.clone(), "local", None));
    let rp: Arc<dyn Peer> = Arc::new(
        HttpPeer::new(
            &format!("http://127.0.0.1:{port}/db"),
            None,
            Duration::from_secs(2),
        )
        .unwrap(),
    );
    let s = fullsync_replicate::start(rp, lp, Direction::Pull, Options::default(), quiet()).wait();
    assert!(!s.ok);
    let e = &s.errors[0];
    assert!(
        e.contains("not JSON") && e.contains("CouchDB-compatible"),
        "{e}"
    );
    // Nothing was written locally.
    assert_eq!(engine.db("local").unwrap().info().unwrap().doc_count, 0);
}

#[test]
fn live_replication_follows_changes_until_cancelled() {
    let engine = Arc::new(Engine::in_memory());
    let a = engine.create_db("a").unwrap();
    let b = engine.create_db("b").unwrap();
    let pa: Arc<dyn Peer> = Arc::new(LocalPeer::new(engine.clone(), "a", None));
    let pb: Arc<dyn Peer> = Arc::new(LocalPeer::new(engine.clone(), "b", None));
    let events = Arc::new(std::sync::Mutex::new(vec![]));
    let ev = events.clone();
    let rep = fullsync_replicate::start(
        pa,
        pb,
        Direction::Push,
        Options {
            live: true,
            heartbeat: Duration::from_millis(200),
            ..Default::default()
        },
        Arc::new(move |e| ev.lock().unwrap().push(e)),
    );
    put(&a, json!({"_id": "late"}));
    let t = std::time::Instant::now();
    while b.get("late", None, &ReadOptions::default()).is_err()
        && t.elapsed() < Duration::from_secs(10)
    {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(b.get("late", None, &ReadOptions::default()).is_ok());
    rep.cancel();
    let s = rep.wait();
    assert!(s.cancelled);
    let ev = events.lock().unwrap();
    assert!(ev
        .iter()
        .any(|e| matches!(e, fullsync_replicate::Event::Change { .. })));
    assert!(matches!(
        ev.last(),
        Some(fullsync_replicate::Event::Complete {
            cancelled: true,
            ..
        })
    ));
    // All leaves equal.
    let leaves = |db: &Database| {
        db.open_revs("late", &OpenRevs::All, &ReadOptions::default())
            .unwrap()
            .len()
    };
    assert_eq!(leaves(&a), leaves(&b));
    let _ = OpenRev::Missing(String::new());
}

#[test]
fn a_killed_replication_resumes_from_its_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    {
        let engine = Engine::open(&data).unwrap();
        let db = engine.create_db("src").unwrap();
        let docs: Vec<Value> = (0..20_000)
            .map(|i| json!({"_id": format!("d{i:06}"), "payload": "x".repeat(200)}))
            .collect();
        for chunk in docs.chunks(1000) {
            db.bulk_docs_json(chunk.to_vec(), true, &UserCtx::default())
                .unwrap();
        }
    }
    let run = |kill_after: Option<Duration>| -> Option<Value> {
        let mut child = Command::new(env!("CARGO_BIN_EXE_fullsync"))
            .args(["replicate", "--data"])
            .arg(&data)
            .args(["src", "dst", "--batch-size", "50", "--json-events"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        if let Some(d) = kill_after {
            std::thread::sleep(d);
            child.kill().unwrap();
            child.wait().unwrap();
            return None;
        }
        let out = child.wait_with_output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        text.lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .find(|e| e["event"] == "complete")
    };
    run(Some(Duration::from_millis(700)));
    let done = run(None).expect("complete event");
    assert_eq!(done["ok"], true);
    let read = done["docs_read"].as_u64().unwrap();
    assert!(
        read < 20_000,
        "the second run read {read} docs: it must resume, not start from zero"
    );
    let engine = Engine::open(&data).unwrap();
    assert_eq!(engine.db("dst").unwrap().info().unwrap().doc_count, 20_000);
    eprintln!("resumed run read {read} of 20000 docs");
}

/// A loopback proxy that cuts every connection (both ways) once `limit` bytes went through it,
/// in either direction; counts the cuts.
fn cutting_proxy(upstream: u16, limit: usize, cuts: Arc<AtomicUsize>) -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for conn in l.incoming() {
            let Ok(client) = conn else { continue };
            let Ok(up) = TcpStream::connect(("127.0.0.1", upstream)) else {
                continue;
            };
            let moved = Arc::new(AtomicUsize::new(0));
            for (from, to) in [
                (client.try_clone().unwrap(), up.try_clone().unwrap()),
                (up, client),
            ] {
                let (moved, cuts) = (moved.clone(), cuts.clone());
                std::thread::spawn(move || pump(from, to, limit, &moved, &cuts));
            }
        }
    });
    port
}

/// Copies `from` to `to` until either side closes or the connection moved `limit` bytes.
fn pump(
    mut from: TcpStream,
    mut to: TcpStream,
    limit: usize,
    moved: &AtomicUsize,
    cuts: &AtomicUsize,
) {
    let mut buf = [0u8; 8192];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let before = moved.fetch_add(n, Ordering::SeqCst);
        if before + n > limit {
            let keep = limit.saturating_sub(before);
            let _ = to.write_all(&buf[..keep]);
            if before <= limit {
                cuts.fetch_add(1, Ordering::SeqCst);
            }
            let _ = from.shutdown(std::net::Shutdown::Both);
            let _ = to.shutdown(std::net::Shutdown::Both);
            return;
        }
        if to.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    let _ = to.shutdown(std::net::Shutdown::Write);
}

/// Pulls `db` from `url` into a new local database `into`; answers how long it took and the
/// events it sent.
fn timed_pull(
    engine: &Arc<Engine>,
    url: &str,
    into: &str,
) -> (
    Duration,
    fullsync_replicate::Summary,
    Vec<fullsync_replicate::Event>,
) {
    let src: Arc<dyn Peer> = Arc::new(HttpPeer::new(url, None, Duration::from_secs(10)).unwrap());
    let tgt: Arc<dyn Peer> = Arc::new(LocalPeer::new(engine.clone(), into, None));
    let events = Arc::new(std::sync::Mutex::new(vec![]));
    let ev = events.clone();
    let opts = Options {
        retry: true,
        ..Default::default()
    };
    let t = std::time::Instant::now();
    let rep = fullsync_replicate::start(
        src,
        tgt,
        Direction::Pull,
        opts,
        Arc::new(move |e| ev.lock().unwrap().push(e)),
    );
    // A hang guard, not a performance threshold: give up (and fail) after two minutes.
    while !rep.is_finished() && t.elapsed() < Duration::from_secs(120) {
        std::thread::sleep(Duration::from_millis(20));
    }
    let took = t.elapsed();
    rep.cancel();
    let s = rep.wait();
    assert!(!s.cancelled, "{into}: still running after {took:?}");
    let events = events.lock().unwrap().clone();
    (took, s, events)
}

/// Every connection is cut after 160 KB: the replication still completes, because the wait goes
/// back to the shortest after every attempt that replicated something (instead of doubling up
/// to minutes). The timings clean vs cut are printed (`--nocapture`), not asserted.
#[test]
fn a_replication_through_a_proxy_that_cuts_every_connection_completes() {
    let dir = tempfile::tempdir().unwrap();
    let (mut srv, port) = serve(&dir.path().join("srv"), 0);
    let engine = Arc::new(Engine::in_memory());
    let local = engine.create_db("local").unwrap();
    // ~400 bytes per document: a batch of 100 is ~45 KB, so each connection carries a few
    // requests before it is cut.
    let filler = "x".repeat(350);
    for i in 0..3000 {
        put(
            &local,
            json!({"_id": format!("d{i:05}"), "i": i, "filler": filler}),
        );
    }
    let lp: Arc<dyn Peer> = Arc::new(LocalPeer::new(engine.clone(), "local", None));
    let direct = format!("http://127.0.0.1:{port}/big");
    let rp: Arc<dyn Peer> =
        Arc::new(HttpPeer::new(&direct, None, Duration::from_secs(10)).unwrap());
    assert!(run(lp, rp, Options::default()).ok);

    let clean_cuts = Arc::new(AtomicUsize::new(0));
    let clean = cutting_proxy(port, usize::MAX, clean_cuts.clone());
    let (t_clean, s, _) = timed_pull(&engine, &format!("http://127.0.0.1:{clean}/big"), "clean");
    assert!(s.ok, "{:?}", s.errors);
    assert_eq!(clean_cuts.load(Ordering::SeqCst), 0);

    let cuts = Arc::new(AtomicUsize::new(0));
    let cut = cutting_proxy(port, 160 * 1024, cuts.clone());
    let (t_cut, s, events) = timed_pull(&engine, &format!("http://127.0.0.1:{cut}/big"), "cut");
    assert!(s.ok, "{:?}", s.errors);
    assert_eq!(state(&engine.db("cut").unwrap()), state(&local));
    let n_cuts = cuts.load(Ordering::SeqCst);
    assert!(n_cuts >= 5, "the proxy cut only {n_cuts} connections");
    // After every attempt that replicated a batch, the next wait is the shortest one.
    let mut progressed = false;
    let mut waits = vec![];
    for e in &events {
        match e {
            fullsync_replicate::Event::Change { .. } => progressed = true,
            fullsync_replicate::Event::Paused {
                error: Some(_),
                retry_in_ms,
                retry_at,
                ..
            } => {
                assert!(retry_at.is_some());
                waits.push(retry_in_ms.unwrap());
                if progressed {
                    assert_eq!(*retry_in_ms, Some(500), "waits so far: {waits:?}");
                }
                progressed = false;
            }
            _ => {}
        }
    }
    assert!(!waits.is_empty());
    println!(
        "pull of 3,000 docs (~1.2 MB): clean {t_clean:?}; cut every 160 KB: {t_cut:?} ({n_cuts} cuts, {} retries, waits {waits:?} ms)",
        waits.len()
    );
    srv.kill().unwrap();
    srv.wait().unwrap();
}
