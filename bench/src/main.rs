//! Benchmark driver for the engine, run by `bench/node/run.mjs` next to PouchDB so both are
//! measured in the same run. Prints one JSON line per measurement.
//!
//! `fullsync-bench insert --docs N --batch B --dir DIR`: durable in-process bulk insert of the
//! reference workload (docs/design.md, ../shared/peers.md), batches committed with fsync.
//!
//! `fullsync-bench views --docs N --changed C --incremental-runs R --lookup-docs M --samples S --preview-docs P --dir DIR`:
//! views on the same workload, in-process (no HTTP), one JSON line:
//!  - first build of `function (doc) { emit(doc.type); }` over N docs (docs/s);
//!  - incremental update of that index after C of the N docs changed (ms): the median of R
//!    rounds (`--incremental-runs R`, 5; other docs each round) and the first one;
//!  - key lookups (`key=<n>`) on `function (doc) { emit(doc.n); }` over M docs (a M-row
//!    index): p50 and p99 of S random existing keys (ms), each a full `Views::query` (loads the
//!    design doc, checks the index is up to date, reads the row, computes `offset`); the same
//!    lookups as `keys=[k]` are reported too (`lookup_keys_*`: no `offset` to compute);
//!  - preview of an unsaved map over P docs (`Views::preview`, `limit=100`): the median of 5
//!    runs and the first one (ms), and the median of 5 runs of a map changed each time (as
//!    while typing: `preview_new_map_ms`).
//!
//! `--lookup-docs 0` skips the lookup part. Progress goes to stderr.
//!
//! `fullsync-bench queries ...`: `_find` on a JSON index and reduce queries (see `queries.rs`).

mod queries;

use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, ensure, Context};
use fullsync_engine::{parse_doc, Database, Engine, UserCtx};
use fullsync_views::{ViewQuery, Views};
use serde_json::{json, Value};

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

/// Inserts the reference docs `0..n` in batches of `batch` (durable); returns each doc's rev.
fn insert_docs(db: &Database, n: u64, batch: u64) -> anyhow::Result<Vec<String>> {
    let user = UserCtx::default();
    let mut revs = Vec::with_capacity(n as usize);
    let mut i = 0;
    while i < n {
        let end = (i + batch).min(n);
        let docs = (i..end)
            .map(|k| parse_doc(doc(k), None, &mut |_| None))
            .collect::<Result<Vec<_>, _>>()?;
        for r in db.bulk_docs(docs, true, &user)? {
            match r.result {
                Ok(rev) => revs.push(rev),
                Err(e) => bail!("write of {} failed: {e}", r.id),
            }
        }
        i = end;
    }
    Ok(revs)
}

fn put_view(db: &Database, ddoc: &str, map: &str) -> anyhow::Result<()> {
    let dd = json!({"_id": format!("_design/{ddoc}"), "views": {ddoc: {"map": map}}});
    for r in db.bulk_docs_json(vec![dd], true, &UserCtx::default())? {
        if let Err(e) = r.result {
            bail!("design doc {ddoc}: {e}");
        }
    }
    Ok(())
}

fn query(views: &Views, db: &str, ddoc: &str, q: Value) -> anyhow::Result<Value> {
    Ok(views.query(db, ddoc, ddoc, &ViewQuery::from_json(&q)?)?)
}

fn rows(v: &Value) -> usize {
    v["rows"].as_array().map_or(0, Vec::len)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

const TYPE_MAP: &str = "function (doc) { emit(doc.type); }";
const N_MAP: &str = "function (doc) { emit(doc.n); }";

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1000.0
}

/// Part 3 of `views`: key lookups on a `lookup_n`-row index of `emit(doc.n)`.
fn views_lookups(
    engine: &Engine,
    views: &Views,
    lookup_n: u64,
    samples: usize,
    batch: u64,
    out: &mut serde_json::Map<String, Value>,
) -> anyhow::Result<()> {
    eprintln!("views bench: inserting {lookup_n} docs for lookups");
    let db = engine.create_db("lookup")?;
    let t = Instant::now();
    insert_docs(&db, lookup_n, batch)?;
    out.insert(
        "lookup_insert_docs_per_sec".into(),
        json!(lookup_n as f64 / t.elapsed().as_secs_f64()),
    );
    put_view(&db, "n", N_MAP)?;
    eprintln!("views bench: building the {lookup_n}-row index");
    let t = Instant::now();
    views.build("lookup", "n", &mut |_, _| {})?;
    out.insert(
        "lookup_build_docs_per_sec".into(),
        json!(lookup_n as f64 / t.elapsed().as_secs_f64()),
    );
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut times = Vec::with_capacity(samples);
    for _ in 0..samples {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let k = x % lookup_n;
        let q = ViewQuery::from_json(&json!({"key": k}))?;
        let t = Instant::now();
        let r = views.query("lookup", "n", "n", &q)?;
        times.push(ms(t));
        ensure!(
            rows(&r) == 1 && r["rows"][0]["key"] == json!(k),
            "lookup of {k}: {r}"
        );
    }
    // The same lookups as `keys=[k]` (CouchDB answers offset 0 for them here, so this
    // isolates the cost of computing `offset` for a `key` query).
    let mut keys_times = Vec::with_capacity(samples);
    for _ in 0..samples {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let k = x % lookup_n;
        let q = ViewQuery::from_json(&json!({"keys": [k]}))?;
        let t = Instant::now();
        let r = views.query("lookup", "n", "n", &q)?;
        keys_times.push(ms(t));
        ensure!(
            rows(&r) == 1 && r["rows"][0]["key"] == json!(k),
            "lookup of [{k}]: {r}"
        );
    }
    keys_times.sort_by(f64::total_cmp);
    out.insert(
        "lookup_keys_p50_ms".into(),
        json!(percentile(&keys_times, 0.50)),
    );
    out.insert(
        "lookup_keys_p99_ms".into(),
        json!(percentile(&keys_times, 0.99)),
    );
    times.sort_by(f64::total_cmp);
    out.insert("lookup_docs".into(), json!(lookup_n));
    out.insert("lookup_samples".into(), json!(samples));
    out.insert("lookup_p50_ms".into(), json!(percentile(&times, 0.50)));
    out.insert("lookup_p99_ms".into(), json!(percentile(&times, 0.99)));
    out.insert(
        "lookup_max_ms".into(),
        json!(times.last().copied().unwrap_or(f64::NAN)),
    );
    Ok(())
}

/// Part 2 of `views`: `rounds` incremental updates, each after `changed` of the `n` docs
/// changed (spread over the id range, other docs each round): the median and the first (ms).
fn views_incremental(
    db: &Database,
    views: &Views,
    n: u64,
    changed: u64,
    rounds: usize,
    revs: &mut [String],
    out: &mut serde_json::Map<String, Value>,
) -> anyhow::Result<()> {
    let user = UserCtx::default();
    let step = n / changed;
    let mut times = vec![];
    for round in 0..rounds.max(1) as u64 {
        let mut edits = vec![];
        let ids: Vec<u64> = (0..changed).map(|j| j * step + round % step).collect();
        for &i in &ids {
            let mut d = doc(i);
            d["_rev"] = json!(revs[i as usize]);
            d["type"] = json!(format!("changed{round}"));
            edits.push(parse_doc(d, None, &mut |_| None)?);
        }
        for (r, &i) in db.bulk_docs(edits, true, &user)?.into_iter().zip(&ids) {
            match r.result {
                Ok(rev) => revs[i as usize] = rev,
                Err(e) => bail!("edit of {} failed: {e}", r.id),
            }
        }
        let t = Instant::now();
        views.build("bench", "t", &mut |_, _| {})?;
        times.push(ms(t));
        let r = query(
            views,
            "bench",
            "t",
            json!({"key": format!("changed{round}")}),
        )?;
        ensure!(
            rows(&r) == changed as usize,
            "changed rows: {} != {changed}",
            rows(&r)
        );
        ensure!(
            r["total_rows"] == json!(n),
            "total_rows after edits {}",
            r["total_rows"]
        );
    }
    out.insert("changed".into(), json!(changed));
    out.insert("incremental_first_ms".into(), json!(times[0]));
    out.insert("incremental_runs".into(), json!(times.len()));
    times.sort_by(f64::total_cmp);
    out.insert("incremental_ms".into(), json!(times[times.len() / 2]));
    Ok(())
}

/// Part 4 of `views`: preview of an unsaved map over `preview_n` docs.
fn views_preview(
    engine: &Engine,
    views: &Views,
    preview_n: u64,
    batch: u64,
    out: &mut serde_json::Map<String, Value>,
) -> anyhow::Result<()> {
    eprintln!("views bench: preview over {preview_n} docs");
    let db = engine.create_db("preview")?;
    insert_docs(&db, preview_n, batch)?;
    let q = ViewQuery::from_json(&json!({"limit": 100}))?;
    let mut times = vec![];
    for _ in 0..5 {
        let t = Instant::now();
        let p = views.preview("preview", TYPE_MAP, None, &q)?;
        times.push(ms(t));
        ensure!(
            p.docs == preview_n && p.errors.is_empty(),
            "preview: {} docs, {} errors",
            p.docs,
            p.errors.len()
        );
        ensure!(
            rows(&p.result) == 100usize.min(preview_n as usize),
            "preview rows {}",
            rows(&p.result)
        );
    }
    // As while typing: each preview a map never seen before (compiled on each JS worker).
    let mut typed = vec![];
    for i in 0..5 {
        let map = format!("function (doc) {{ emit(doc.type); }} // keystroke {i}");
        let t = Instant::now();
        let p = views.preview("preview", &map, None, &q)?;
        typed.push(ms(t));
        ensure!(rows(&p.result) == 100usize.min(preview_n as usize));
    }
    typed.sort_by(f64::total_cmp);
    out.insert("preview_new_map_ms".into(), json!(typed[typed.len() / 2]));
    out.insert("preview_docs".into(), json!(preview_n));
    out.insert("preview_first_ms".into(), json!(times[0]));
    times.sort_by(f64::total_cmp);
    out.insert("preview_ms".into(), json!(times[times.len() / 2]));
    Ok(())
}
fn views_bench(args: &[String]) -> anyhow::Result<()> {
    let n: u64 = arg(args, "--docs", "100000").parse().context("--docs")?;
    let changed: u64 = arg(args, "--changed", "1000")
        .parse()
        .context("--changed")?;
    let lookup_n: u64 = arg(args, "--lookup-docs", "1000000")
        .parse()
        .context("--lookup-docs")?;
    let samples: usize = arg(args, "--samples", "1000")
        .parse()
        .context("--samples")?;
    let preview_n: u64 = arg(args, "--preview-docs", "10000")
        .parse()
        .context("--preview-docs")?;
    let batch: u64 = arg(args, "--batch", "1000").parse().context("--batch")?;
    let rounds: usize = arg(args, "--incremental-runs", "5")
        .parse()
        .context("--incremental-runs")?;
    let dir = std::path::PathBuf::from(arg(args, "--dir", "bench-views-data"));
    ensure!(changed <= n, "--changed must be <= --docs");
    let _ = std::fs::remove_dir_all(&dir);
    let engine = Arc::new(Engine::open(&dir)?);
    let views = Views::new(engine.clone());
    let mut out = serde_json::Map::new();
    out.insert("docs".into(), json!(n));

    // 1. First build of emit(doc.type) over n docs.
    eprintln!("views bench: inserting {n} docs");
    let db = engine.create_db("bench")?;
    let t = Instant::now();
    let mut revs = insert_docs(&db, n, batch)?;
    out.insert(
        "insert_docs_per_sec".into(),
        json!(n as f64 / t.elapsed().as_secs_f64()),
    );
    put_view(&db, "t", TYPE_MAP)?;
    eprintln!("views bench: first build over {n} docs");
    let t = Instant::now();
    views.build("bench", "t", &mut |_, _| {})?;
    let build_secs = t.elapsed().as_secs_f64();
    out.insert("build_seconds".into(), json!(build_secs));
    out.insert("build_docs_per_sec".into(), json!(n as f64 / build_secs));
    let t = Instant::now();
    let r = query(&views, "bench", "t", json!({"key": "type3", "limit": 10}))?;
    out.insert("warm_key_query_ms".into(), json!(ms(t)));
    ensure!(
        r["total_rows"] == json!(n),
        "total_rows {} != {n}",
        r["total_rows"]
    );
    ensure!(
        rows(&r) == 10.min(((n + 6) / 10) as usize),
        "key query rows: {}",
        rows(&r)
    );

    // 2. Incremental update after `changed` docs changed (spread over the whole id range).
    if changed > 0 {
        views_incremental(&db, &views, n, changed, rounds, &mut revs, &mut out)?;
    }
    drop(revs);

    // 3. Key lookups on a lookup_n-row index of emit(doc.n).
    if lookup_n > 0 {
        views_lookups(&engine, &views, lookup_n, samples, batch, &mut out)?;
    }
    // 4. Preview of an unsaved map over preview_n docs.
    if preview_n > 0 {
        views_preview(&engine, &views, preview_n, batch, &mut out)?;
    }
    out.insert("rss_kib".into(), json!(rss_kib("VmRSS:")));
    out.insert("peak_rss_kib".into(), json!(rss_kib("VmHWM:")));
    println!("{}", Value::Object(out));
    drop(views);
    drop(engine);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
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
        "views" => views_bench(&args),
        "queries" => queries::queries_bench(&args),
        "backup" => backup_bench(&args),
        "project" => project_bench(&args),
        _ => bail!(
            "usage: fullsync-bench insert --docs N --batch B --dir DIR\n       \
             fullsync-bench views --docs N --changed C --incremental-runs R --lookup-docs M --samples S --preview-docs P --dir DIR\n       \
             fullsync-bench queries --docs N --samples S --find-samples F --dir DIR"
        ),
    }
}

/// `fullsync-bench backup --docs N --att-bytes B --dir DIR [--fullsync PATH]`: builds a database
/// of N reference docs, each 10th with a B-byte attachment, a tenth of them with a conflict and a
/// twentieth deleted; backs it up with the `fullsync` binary (a separate process whose peak
/// resident memory is sampled), restores it into a new database, and checks that both hold the
/// same documents, leaf revisions, winners and attachment digests.
fn backup_bench(args: &[String]) -> anyhow::Result<()> {
    use base64::Engine as _;
    use std::sync::Arc;
    let n: u64 = arg(args, "--docs", "100000").parse().context("--docs")?;
    let att: usize = arg(args, "--att-bytes", "4096")
        .parse()
        .context("--att-bytes")?;
    let dir = std::path::PathBuf::from(arg(args, "--dir", "bench-backup"));
    let bin = arg(args, "--fullsync", "target/release/fullsync");
    let _ = std::fs::remove_dir_all(&dir);
    let data = dir.join("data");
    let user = UserCtx::default();
    let t = Instant::now();
    {
        let engine = Engine::open(&data)?;
        let db = engine.create_db("src")?;
        let mut i = 0;
        while i < n {
            let end = (i + 1000).min(n);
            let docs: Vec<serde_json::Value> = (i..end)
                .map(|k| {
                    let mut d = doc(k);
                    if k % 10 == 0 {
                        // Distinct content per document (attachments are stored once per digest).
                        let mut x = k.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
                        let bytes: Vec<u8> = (0..att)
                            .map(|_| {
                                x ^= x << 13;
                                x ^= x >> 7;
                                x ^= x << 17;
                                x as u8
                            })
                            .collect();
                        d["_attachments"] = json!({"blob.bin": {"content_type": "application/octet-stream", "data": base64::engine::general_purpose::STANDARD.encode(bytes)}});
                    }
                    d
                })
                .collect();
            db.bulk_docs_json(docs, true, &user)?;
            let conflicts: Vec<serde_json::Value> = (i..end)
                .filter(|k| k % 10 == 5)
                .map(|k| json!({"_id": format!("doc-{k:07}"), "_rev": format!("2-c{k}"), "_revisions": {"start": 2, "ids": [format!("c{k}"), "zz"]}, "side": "b"}))
                .collect();
            db.bulk_docs_json(conflicts, false, &user)?;
            i = end;
        }
        let mut dels = vec![];
        db.for_each_record(|id, rec| {
            if id.ends_with('7') && id.as_bytes()[id.len() - 2] % 2 == 0 {
                dels.push(json!({"_id": id, "_rev": rec.tree.nodes[rec.tree.winner()].rev().to_string(), "_deleted": true}));
            }
            Ok(true)
        })?;
        db.bulk_docs_json(dels, true, &user)?;
    }
    let build_s = t.elapsed().as_secs_f64();
    let file_bytes = std::fs::metadata(data.join("src.redb"))
        .map(|m| m.len())
        .unwrap_or(0);
    let backup_file = dir.join("backup.json.gz");
    let t = Instant::now();
    let mut child = std::process::Command::new(&bin)
        .args(["backup", "--data"])
        .arg(&data)
        .arg("src")
        .arg(&backup_file)
        .stderr(std::process::Stdio::null())
        .spawn()
        .with_context(|| format!("cannot run {bin}"))?;
    let status_path = format!("/proc/{}/status", child.id());
    let mut peak_kib = 0u64;
    loop {
        if let Ok(s) = std::fs::read_to_string(&status_path) {
            for line in s.lines() {
                if line.starts_with("VmHWM:") {
                    peak_kib = peak_kib.max(
                        line.split_whitespace()
                            .nth(1)
                            .and_then(|v| v.parse().ok())
                            .unwrap_or(0),
                    );
                }
            }
        }
        if let Some(st) = child.try_wait()? {
            anyhow::ensure!(st.success(), "fullsync backup failed");
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let backup_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let engine = Arc::new(Engine::open(&data)?);
    let target: Arc<dyn fullsync_replicate::Peer> = Arc::new(fullsync_replicate::LocalPeer::new(
        engine.clone(),
        "restored",
        None,
    ));
    let restored =
        fullsync_deploy::backup::restore(&backup_file, &*target, &mut || Ok(()), &mut |_, _| {})?;
    let restore_s = t.elapsed().as_secs_f64();
    type DocState = (String, Vec<String>, String, Vec<String>);
    let state = |db: &fullsync_engine::Database| -> anyhow::Result<Vec<DocState>> {
        let mut out = vec![];
        db.for_each_record(|id, rec| {
            let mut leaves: Vec<String> = rec
                .tree
                .leaves()
                .iter()
                .map(|&i| rec.tree.nodes[i].rev().to_string())
                .collect();
            leaves.sort();
            let w = rec.tree.winner();
            let atts = match &rec.tree.nodes[w].body {
                fullsync_engine::tree::BodyState::Inline(b) => {
                    b.atts.iter().map(|a| a.digest.clone()).collect()
                }
                _ => vec![],
            };
            out.push((
                id.to_string(),
                leaves,
                rec.tree.nodes[w].rev().to_string(),
                atts,
            ));
            Ok(true)
        })?;
        Ok(out)
    };
    let identical = state(&*engine.db("src")?)? == state(&*engine.db("restored")?)?;
    anyhow::ensure!(identical, "the restored database differs from the source");
    println!(
        "{}",
        json!({"docs": n, "attachment_bytes": att, "db_file_bytes": file_bytes, "build_seconds": build_s,
               "backup_seconds": backup_s, "backup_file_bytes": std::fs::metadata(&backup_file)?.len(),
               "backup_peak_rss_kib": peak_kib, "restore_seconds": restore_s, "restored_revisions": restored,
               "identical": identical})
    );
    Ok(())
}

/// `fullsync-bench project --views 200 --dir DIR`: generates a project with that many views
/// (10 connectors, 4 design documents each, listeners and transactions referencing views) and
/// measures loading + validating it (median of 20), and the QuickJS compile check separately.
fn project_bench(args: &[String]) -> anyhow::Result<()> {
    let views: usize = arg(args, "--views", "200").parse().context("--views")?;
    let dir = std::path::PathBuf::from(arg(args, "--dir", "bench-project"));
    let _ = std::fs::remove_dir_all(&dir);
    let w = |rel: &str, text: &str| -> anyhow::Result<()> {
        let p = dir.join(rel);
        std::fs::create_dir_all(p.parent().expect("has a parent"))?;
        std::fs::write(p, text)?;
        Ok(())
    };
    w(
        "fullsync.toml",
        "[project]\nname = \"bench\"\nversion = \"1.0.0\"\n",
    )?;
    for v in 0..views {
        let (c, d) = (v % 10, (v / 10) % 4);
        let base = format!("connectors/db{c}/design/d{d}/views/v{v}");
        w(&format!("{base}/map.js"), &format!("function (doc) {{\n  if (doc.type === 't{v}') {{\n    emit([doc.a, doc.b], doc.n);\n  }}\n}}\n"))?;
        if v % 3 == 0 {
            w(&format!("{base}/reduce.js"), "_sum\n")?;
        }
        w(
            &format!("connectors/db{c}/listeners/l{v}.toml"),
            &format!("kind = \"update\"\nview = \"d{d}/v{v}\"\nchunk = 10\n"),
        )?;
        w(&format!("connectors/db{c}/transactions/t{v}.toml"), &format!("type = \"GetView\"\n[properties]\nviewname = \"d{d}/v{v}\"\n[[variables]]\nname = \"key\"\n"))?;
    }
    for c in 0..10 {
        w(
            &format!("connectors/db{c}/connector.toml"),
            "revs_limit = 10\n",
        )?;
    }
    let mut times = vec![];
    let mut errors = 0;
    for _ in 0..20 {
        let t = Instant::now();
        let (p, diags) = fullsync_project::load(&dir);
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        anyhow::ensure!(p.is_some(), "the project loads");
        errors = diags.len();
    }
    times.sort_by(|a, b| a.total_cmp(b));
    let (p, _) = fullsync_project::load(&dir);
    let pool = fullsync_views::JsPool::new(2, Default::default());
    let t = Instant::now();
    let compile = fullsync_project::load::compile_check(&p.expect("loads"), &pool);
    let compile_ms = t.elapsed().as_secs_f64() * 1000.0;
    println!(
        "{}",
        json!({"views": views, "load_validate_ms_median": times[times.len() / 2], "load_validate_ms_max": times[times.len() - 1],
               "diagnostics": errors, "compile_check_ms": compile_ms, "compile_errors": compile.len()})
    );
    Ok(())
}
