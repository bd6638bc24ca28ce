//! `fullsync-bench queries --docs N --samples S --find-samples F --dir DIR`: queries whose cost
//! should grow with the answer, not with the database, over N reference docs, in-process (no
//! HTTP), one JSON line:
//!  - `_find` with a JSON index on `n`: equality `{"n": k}` and a 25-row range
//!    `{"n": {"$gte": k, "$lt": k + 25}}`, F random `k` each: p50/p99 (ms); the first `_find`
//!    (which builds the index) separately;
//!  - a view `emit([doc.type, doc.n], doc.n)` with `_stats`: whole reduce, `group_level=1`, and
//!    the key range of one type (`[t]` to `[t, {}]`), S samples each: p50/p99 (ms); its build
//!    (docs/s) separately.
//!
//! Every answer is checked (one doc, 25 docs, 10 groups, the type's count) so a fast wrong
//! answer fails the run.

use std::sync::Arc;
use std::time::Instant;

use anyhow::{ensure, Context};
use fullsync_engine::{Engine, UserCtx};
use fullsync_views::{mango, ViewQuery, Views};
use serde_json::{json, Value};

use crate::{arg, insert_docs, ms, percentile, rss_kib};

const STATS_MAP: &str = "function (doc) { emit([doc.type, doc.n], doc.n); }";

/// Runs `f` `samples` times with a pseudo-random `k` below `n`; returns (p50, p99) in ms.
fn timed(
    samples: usize,
    n: u64,
    mut f: impl FnMut(u64) -> anyhow::Result<()>,
) -> anyhow::Result<(f64, f64)> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut times = Vec::with_capacity(samples);
    for _ in 0..samples {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let t = Instant::now();
        f(x % n)?;
        times.push(ms(t));
    }
    times.sort_by(f64::total_cmp);
    Ok((percentile(&times, 0.50), percentile(&times, 0.99)))
}

fn docs_of(v: &Value) -> usize {
    v["docs"].as_array().map_or(0, Vec::len)
}

/// The `_find` part: a JSON index on `n`, equality and 25-row range lookups.
fn find_part(
    db: &fullsync_engine::Database,
    n: u64,
    samples: usize,
    out: &mut serde_json::Map<String, Value>,
) -> anyhow::Result<()> {
    let user = UserCtx::default();
    mango::create_index(db, &json!({"index": {"fields": ["n"]}, "name": "n"}), &user)?;
    let t = Instant::now();
    let r = mango::find(db, &json!({"selector": {"n": 7}}))?;
    out.insert("find_first_ms".into(), json!(ms(t)));
    ensure!(docs_of(&r) == 1, "first _find: {r}");
    let (p50, p99) = timed(samples, n, |k| {
        let r = mango::find(db, &json!({"selector": {"n": k}}))?;
        ensure!(
            docs_of(&r) == 1 && r["docs"][0]["n"] == json!(k),
            "_find n={k}: {r}"
        );
        Ok(())
    })?;
    out.insert("find_eq_p50_ms".into(), json!(p50));
    out.insert("find_eq_p99_ms".into(), json!(p99));
    let (p50, p99) = timed(samples, n.saturating_sub(25).max(1), |k| {
        let r = mango::find(db, &json!({"selector": {"n": {"$gte": k, "$lt": k + 25}}}))?;
        ensure!(
            docs_of(&r) == 25.min(n as usize),
            "_find range at {k}: {} docs",
            docs_of(&r)
        );
        Ok(())
    })?;
    out.insert("find_range25_p50_ms".into(), json!(p50));
    out.insert("find_range25_p99_ms".into(), json!(p99));
    Ok(())
}

/// The reduce part: `_stats` over `[type, n]`, whole, `group_level=1`, one type's range.
fn reduce_part(
    views: &Views,
    db: &fullsync_engine::Database,
    n: u64,
    samples: usize,
    out: &mut serde_json::Map<String, Value>,
) -> anyhow::Result<()> {
    let dd = json!({"_id": "_design/s", "views": {"s": {"map": STATS_MAP, "reduce": "_stats"}}});
    for r in db.bulk_docs_json(vec![dd], true, &UserCtx::default())? {
        r.result.map_err(|e| anyhow::anyhow!("design doc: {e}"))?;
    }
    let t = Instant::now();
    views.build("bench", "s", &mut |_, _| {})?;
    out.insert(
        "stats_build_docs_per_sec".into(),
        json!(n as f64 / t.elapsed().as_secs_f64()),
    );
    let q = |v: Value| -> anyhow::Result<Value> {
        Ok(views.query("bench", "s", "s", &ViewQuery::from_json(&v)?)?)
    };
    let (p50, p99) = timed(samples, n, |_| {
        let r = q(json!({}))?;
        ensure!(
            r["rows"][0]["value"]["count"] == json!(n),
            "whole reduce: {r}"
        );
        Ok(())
    })?;
    out.insert("reduce_whole_p50_ms".into(), json!(p50));
    out.insert("reduce_whole_p99_ms".into(), json!(p99));
    let (p50, p99) = timed(samples, n, |_| {
        let r = q(json!({"group_level": 1}))?;
        ensure!(
            r["rows"].as_array().map_or(0, Vec::len) == 10.min(n as usize),
            "group_level=1: {r}"
        );
        Ok(())
    })?;
    out.insert("reduce_group1_p50_ms".into(), json!(p50));
    out.insert("reduce_group1_p99_ms".into(), json!(p99));
    let (p50, p99) = timed(samples, 10, |t| {
        let ty = format!("type{t}");
        let r = q(json!({"start_key": [ty], "end_key": [ty, {}]}))?;
        let want = (n + 9 - t) / 10;
        ensure!(
            r["rows"][0]["value"]["count"] == json!(want),
            "range of {ty}: {r}"
        );
        Ok(())
    })?;
    out.insert("reduce_range_p50_ms".into(), json!(p50));
    out.insert("reduce_range_p99_ms".into(), json!(p99));
    Ok(())
}

/// `fullsync-bench queries`.
pub fn queries_bench(args: &[String]) -> anyhow::Result<()> {
    let n: u64 = arg(args, "--docs", "100000").parse().context("--docs")?;
    let samples: usize = arg(args, "--samples", "200").parse().context("--samples")?;
    let find_samples: usize = arg(args, "--find-samples", "200")
        .parse()
        .context("--find-samples")?;
    let dir = std::path::PathBuf::from(arg(args, "--dir", "bench-queries-data"));
    let _ = std::fs::remove_dir_all(&dir);
    let engine = Arc::new(Engine::open(&dir)?);
    let views = Views::new(engine.clone());
    let mut out = serde_json::Map::new();
    out.insert("docs".into(), json!(n));
    eprintln!("queries bench: inserting {n} docs");
    let db = engine.create_db("bench")?;
    let t = Instant::now();
    insert_docs(&db, n, 1000)?;
    out.insert(
        "insert_docs_per_sec".into(),
        json!(n as f64 / t.elapsed().as_secs_f64()),
    );
    eprintln!("queries bench: _find");
    find_part(&db, n, find_samples, &mut out)?;
    eprintln!("queries bench: reduce");
    reduce_part(&views, &db, n, samples, &mut out)?;
    out.insert("peak_rss_kib".into(), json!(rss_kib("VmHWM:")));
    println!("{}", Value::Object(out));
    drop(views);
    drop(engine);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
