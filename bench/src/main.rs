//! Benchmark driver for the engine, run by `bench/node/run.mjs` next to PouchDB so both are
//! measured in the same run. Prints one JSON line per measurement.
//!
//! `fullsync-bench insert --docs N --batch B --dir DIR`: durable in-process bulk insert of the
//! reference workload (docs/design.md, ../shared/peers.md), batches committed with fsync.

use std::time::Instant;

use anyhow::{bail, Context};
use fullsync_engine::{parse_doc, Engine, UserCtx};
use serde_json::json;

/// The reference document number `i` (about 200 bytes).
fn doc(i: u64) -> serde_json::Value {
    json!({
        "_id": format!("doc-{i:07}"),
        "type": format!("type{}", i % 10),
        "n": i,
        "name": format!("name number {i}"),
        "tags": ["a", "b", format!("t{}", i % 7)],
        "payload": "x".repeat(110),
    })
}

fn arg(args: &[String], name: &str, default: &str) -> String {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
        .unwrap_or_else(|| default.to_string())
}

fn rss_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let cmd = args.get(1).map(String::as_str).unwrap_or("");
    match cmd {
        "insert" => {
            let n: u64 = arg(&args, "--docs", "100000").parse().context("--docs")?;
            let batch: u64 = arg(&args, "--batch", "1000").parse().context("--batch")?;
            let dir = std::path::PathBuf::from(arg(&args, "--dir", "bench-data"));
            let _ = std::fs::remove_dir_all(&dir);
            let engine = Engine::open(&dir)?;
            let db = engine.create_db("bench")?;
            let user = UserCtx::default();
            let t = Instant::now();
            let mut i = 0;
            while i < n {
                let end = (i + batch).min(n);
                let docs = (i..end)
                    .map(|k| parse_doc(doc(k), None, &mut |_| None))
                    .collect::<Result<Vec<_>, _>>()?;
                for r in db.bulk_docs(docs, true, &user)? {
                    if let Err(e) = r.result {
                        bail!("write of {} failed: {e}", r.id);
                    }
                }
                i = end;
            }
            let secs = t.elapsed().as_secs_f64();
            let info = db.info()?;
            println!(
                "{}",
                json!({"docs": n, "seconds": secs, "docs_per_sec": n as f64 / secs, "file_bytes": info.file_size,
                       "rss_kib": rss_kib("VmRSS:"), "peak_rss_kib": rss_kib("VmHWM:")})
            );
            Ok(())
        }
        _ => bail!("usage: fullsync-bench insert --docs N --batch B --dir DIR"),
    }
}
