//! Crash safety: `kill -9` of `fullsync serve` during a 100k-document bulk load. After a
//! restart the database opens, every batch acknowledged before the kill is there in full, and
//! no batch is partially present.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Child;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

fn start(dir: &std::path::Path, port: u16) -> (Child, u16) {
    fullsync_testkit::serve_binary(env!("CARGO_BIN_EXE_fullsync"), dir, port)
}

/// A minimal HTTP/1.1 client (one request per connection).
fn request(
    port: u16,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> std::io::Result<(u16, Value)> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(60)))?;
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw);
    let (head, rest) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| std::io::Error::other("no response head"))?;
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    // Large answers are streamed (`Transfer-Encoding: chunked`): join the chunks.
    let chunked = head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked");
    let body = if chunked {
        dechunk(rest)
    } else {
        rest.to_string()
    };
    let v = serde_json::from_str(body.trim()).unwrap_or(Value::Null);
    Ok((status, v))
}

/// The payload of a chunked HTTP/1.1 body.
fn dechunk(mut rest: &str) -> String {
    let mut out = String::new();
    while let Some((size, after)) = rest.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || after.len() < n {
            break;
        }
        out.push_str(&after[..n]);
        rest = after[n..].trim_start_matches("\r\n");
    }
    out
}

fn doc(batch: usize, i: usize) -> Value {
    let n = batch * 1000 + i;
    json!({"_id": format!("b{batch:03}-{i:04}"), "n": n, "check": format!("{:x}", n * 2654435761usize), "payload": "x".repeat(110)})
}

#[test]
fn kill_9_during_bulk_load_loses_no_acknowledged_write() {
    for round in 0..3u64 {
        let dir = tempfile::tempdir().unwrap();
        let (mut child, port) = start(dir.path(), 0);
        assert_eq!(request(port, "PUT", "/crash", None).unwrap().0, 201);
        let acked = Arc::new(Mutex::new(Vec::<usize>::new()));
        let acked2 = acked.clone();
        let loader = std::thread::spawn(move || {
            for b in 0..100 {
                let docs: Vec<Value> = (0..1000).map(|i| doc(b, i)).collect();
                match request(
                    port,
                    "POST",
                    "/crash/_bulk_docs",
                    Some(&json!({ "docs": docs })),
                ) {
                    Ok((201, v)) if v.as_array().is_some_and(|a| a.len() == 1000) => {
                        acked2.lock().unwrap().push(b)
                    }
                    _ => return,
                }
            }
        });
        // Kill at a varying moment while batches are being written.
        let t = Instant::now();
        let wait = Duration::from_millis(200 + round * 350);
        while t.elapsed() < wait && !loader.is_finished() {
            std::thread::sleep(Duration::from_millis(5));
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        loader.join().unwrap();
        let acked = acked.lock().unwrap().clone();

        let (mut child, port2) = start(dir.path(), 0);
        let (status, all) =
            request(port2, "GET", "/crash/_all_docs?include_docs=true", None).unwrap();
        assert_eq!(status, 200, "database opens after kill -9");
        let rows = all["rows"].as_array().unwrap();
        let mut per_batch = vec![0usize; 100];
        for r in rows {
            let d = &r["doc"];
            let n = d["n"].as_u64().unwrap() as usize;
            assert_eq!(
                d,
                &{
                    let mut e = doc(n / 1000, n % 1000);
                    e["_rev"] = d["_rev"].clone();
                    e
                },
                "document {n} is complete"
            );
            per_batch[n / 1000] += 1;
        }
        for (b, count) in per_batch.iter().enumerate() {
            assert!(
                *count == 0 || *count == 1000,
                "batch {b} is partial: {count} docs"
            );
        }
        for b in &acked {
            assert_eq!(
                per_batch[*b], 1000,
                "acknowledged batch {b} is missing after the crash"
            );
        }
        let stored = per_batch.iter().filter(|&&c| c == 1000).count();
        let info = request(port2, "GET", "/crash", None).unwrap().1;
        assert_eq!(info["doc_count"].as_u64().unwrap() as usize, stored * 1000);
        eprintln!(
            "round {round}: killed after {} acknowledged batches, {stored} batches on disk",
            acked.len()
        );
        child.kill().unwrap();
        child.wait().unwrap();
    }
}
