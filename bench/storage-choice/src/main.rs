//! redb vs fjall: durable batch throughput, reads, space, memory and kill -9
//! safety for the FullSync Studio document engine write pattern.
//!
//! Subcommands:
//!   all                       3 bench runs per backend (medians) + 5 kill -9 runs per backend
//!   bench <backend>           one bench run in this process (prints a RESULT line)
//!   crash <backend> [runs]    kill -9 test only
//!   crash-child <backend> <dir>   (internal) bulk loader that gets SIGKILLed
//!   verify <backend> <dir> <acked_seq>   (internal) reopen + consistency check
//!
//! Env: RESULTS_TAG (results/latest-<tag>.md), DATA_DIR (default ./data), RUNS (default 3), CRASH_RUNS (default 5, 0 = skip),
//!      BENCH_DOCS (default 100000; scales the bench pattern only),
//!      REDB_CACHE_MIB / FJALL_CACHE_MIB (cache overrides for sensitivity runs),
//!      KILL_MIN_MS / KILL_MAX_MS (default 20 / 250, counted from the child's START line).

mod record;
mod store;

use record::*;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use store::*;

const N_DOCS: u64 = 100_000;
const BATCH: u64 = 1_000;
const N_UPDATES: u64 = 10_000;
const N_READS: usize = 100_000;
const BODY_BYTES: usize = 220; // + ~78 bytes rev tree/header/checksum = ~298-byte record

fn env_u64(k: &str, d: u64) -> u64 {
    std::env::var(k).ok().and_then(|v| v.parse().ok()).unwrap_or(d)
}

/// Number of docs for the bench pattern (default 100k; BENCH_DOCS to scale up).
fn bench_docs() -> u64 {
    let n = env_u64("BENCH_DOCS", N_DOCS);
    assert!(n % BATCH == 0 && n >= N_UPDATES, "BENCH_DOCS must be a multiple of 1000, >= 10000");
    n
}

fn data_dir() -> PathBuf {
    PathBuf::from(std::env::var("DATA_DIR").unwrap_or_else(|_| "data".into()))
}

fn vm_hwm_kib() -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    for line in s.lines() {
        if let Some(r) = line.strip_prefix("VmHWM:") {
            return r.trim().trim_end_matches("kB").trim().parse().unwrap_or(0);
        }
    }
    0
}

/// (wchar, write_bytes) from /proc/self/io: bytes passed to write syscalls,
/// and bytes this process caused to be sent to the block layer.
fn proc_io() -> (u64, u64) {
    let s = std::fs::read_to_string("/proc/self/io").unwrap_or_default();
    let get = |k: &str| {
        s.lines()
            .find_map(|l| l.strip_prefix(k))
            .and_then(|r| r.trim().parse().ok())
            .unwrap_or(0u64)
    };
    (get("wchar:"), get("write_bytes:"))
}

/// (apparent bytes, allocated bytes, file count) of everything under `p`.
fn disk_usage(p: &Path) -> (u64, u64, u64) {
    use std::os::unix::fs::MetadataExt;
    let mut acc = (0, 0, 0);
    let Ok(md) = std::fs::symlink_metadata(p) else {
        return acc;
    };
    if md.is_dir() {
        for e in std::fs::read_dir(p).unwrap().flatten() {
            let (a, b, c) = disk_usage(&e.path());
            acc.0 += a;
            acc.1 += b;
            acc.2 += c;
        }
    } else {
        acc = (md.len(), md.blocks() * 512, 1);
    }
    acc
}

fn fresh_dir(p: &Path) {
    let _ = std::fs::remove_dir_all(p);
    std::fs::create_dir_all(p).unwrap();
}

fn insert_batch(st: &dyn Store, batch: u64, revs: &[String], bodies: &[String], ids: &[String]) {
    let lo = batch * BATCH;
    let hi = lo + BATCH;
    st.write_txn(&mut |ops| {
        for i in lo..hi {
            let id = ids[i as usize].as_bytes();
            // The engine always reads the current doc first (absent for new docs).
            let prev = ops.get_doc(id);
            assert!(prev.is_none(), "new doc already present");
            let seq = i + 1;
            let rec = encode(seq, &revs[i as usize], &bodies[i as usize]);
            ops.put_doc(id, &rec);
            ops.put_seq(seq, id);
        }
        ops.put_meta(b"update_seq", &hi.to_be_bytes());
    });
}

/// Pre-generated data shared by bench and crash child (identical on both backends).
struct Dataset {
    ids: Vec<String>,
    revs: Vec<String>,
    bodies: Vec<String>,
}

fn dataset(n: u64) -> Dataset {
    let mut rng = Rng::new(0xF5_5717_D10);
    let ids: Vec<String> = (0..n).map(doc_id).collect();
    let revs = (0..n).map(|_| rev_tree_new(&mut rng)).collect();
    let bodies = ids
        .iter()
        .map(|id| json_body(&mut rng, id, BODY_BYTES))
        .collect();
    Dataset { ids, revs, bodies }
}

// ---------------------------------------------------------------- bench

fn cmd_bench(backend: &str) {
    let n_docs = bench_docs();
    let dir = data_dir().join(format!("bench-{backend}"));
    fresh_dir(&dir);
    let ds = dataset(n_docs);
    let mut rng = Rng::new(0xBEEF);
    // 10k distinct docs to update (partial Fisher-Yates), with new bodies.
    let mut perm: Vec<u64> = (0..n_docs).collect();
    for i in 0..N_UPDATES as usize {
        let j = i + rng.below(n_docs - i as u64) as usize;
        perm.swap(i, j);
    }
    let upd: Vec<u64> = perm[..N_UPDATES as usize].to_vec();
    let upd_bodies: Vec<String> = upd
        .iter()
        .map(|&i| json_body(&mut rng, &ds.ids[i as usize], BODY_BYTES))
        .collect();
    let reads_a: Vec<&[u8]> = (0..N_READS)
        .map(|_| ds.ids[rng.below(n_docs) as usize].as_bytes())
        .collect();
    let reads_b: Vec<&[u8]> = (0..N_READS)
        .map(|_| ds.ids[rng.below(n_docs) as usize].as_bytes())
        .collect();
    // Harness-only cost (record encoding + checksum for 100k docs, no store),
    // included in the insert figure for both backends alike.
    let t = Instant::now();
    let mut sink = 0usize;
    for i in 0..n_docs as usize {
        sink += encode(i as u64 + 1, &ds.revs[i], &ds.bodies[i]).len();
    }
    let harness_encode_ms = t.elapsed().as_secs_f64() * 1000.0;
    assert!(sink > 0);
    let hwm_base = vm_hwm_kib();

    let mut res: Vec<(&str, f64)> = Vec::new();

    let st = open_store(backend, &dir).unwrap();

    // 1. bulk insert 100k new docs, 100 durable transactions of 1000.
    let io0 = proc_io();
    let t = Instant::now();
    for b in 0..n_docs / BATCH {
        insert_batch(&*st, b, &ds.revs, &ds.bodies, &ds.ids);
    }
    let dt = t.elapsed().as_secs_f64();
    res.push(("insert_docs_per_s", n_docs as f64 / dt));
    res.push(("insert_commit_ms", dt * 1000.0 / (n_docs / BATCH) as f64));
    res.push(("harness_encode_ms", harness_encode_ms));
    let io1 = proc_io();
    res.push(("insert_wchar_mib", (io1.0 - io0.0) as f64 / 1048576.0));
    let (app, alloc, files) = disk_usage(&dir);
    res.push(("size_after_insert_mib", app as f64 / 1048576.0));
    res.push(("alloc_after_insert_mib", alloc as f64 / 1048576.0));
    res.push(("files_after_insert", files as f64));

    // 2. update 10k existing docs, 10 durable transactions of 1000.
    let mut seq = n_docs;
    let mut rrng = Rng::new(0xC0FFEE);
    let t = Instant::now();
    for chunk in 0..(N_UPDATES / BATCH) as usize {
        let lo = chunk * BATCH as usize;
        st.write_txn(&mut |ops| {
            for k in lo..lo + BATCH as usize {
                let id = ds.ids[upd[k] as usize].as_bytes();
                let old = ops.get_doc(id).expect("doc to update missing");
                let d = decode(&old).expect("corrupt record");
                seq += 1;
                let rev = rev_tree_next(d.rev, &mut rrng);
                let rec = encode(seq, &rev, &upd_bodies[k]);
                ops.put_doc(id, &rec);
                ops.del_seq(d.seq);
                ops.put_seq(seq, id);
            }
            ops.put_meta(b"update_seq", &seq.to_be_bytes());
        });
    }
    let dt = t.elapsed().as_secs_f64();
    res.push(("update_docs_per_s", N_UPDATES as f64 / dt));
    let io2 = proc_io();
    res.push(("update_wchar_mib", (io2.0 - io1.0) as f64 / 1048576.0));

    // 3. random point reads, right after the writes (fjall: still in memtable).
    let t = Instant::now();
    let (found, _) = st.read_docs(&reads_a);
    let dt = t.elapsed().as_secs_f64();
    assert_eq!(found, N_READS);
    res.push(("reads_per_s", N_READS as f64 / dt));

    // 4. checkpoint (fjall: memtables -> SST tables; redb: no-op), then reads again.
    let t = Instant::now();
    st.checkpoint();
    res.push(("checkpoint_ms", t.elapsed().as_secs_f64() * 1000.0));
    let t = Instant::now();
    let (found, _) = st.read_docs(&reads_b);
    let dt = t.elapsed().as_secs_f64();
    assert_eq!(found, N_READS);
    res.push(("reads_after_ckpt_per_s", N_READS as f64 / dt));

    // 5. full ordered scan of by_seq.
    let t = Instant::now();
    let mut n = 0u64;
    let mut last = 0u64;
    st.scan_by_seq(&mut |k, v| {
        let s = u64::from_be_bytes(k.try_into().unwrap());
        assert!(s > last, "by_seq not ordered");
        last = s;
        n += v.len() as u64 / v.len() as u64;
    });
    let dt = t.elapsed().as_secs_f64();
    assert_eq!(n, n_docs, "by_seq should hold exactly one entry per doc");
    assert_eq!(last, seq);
    res.push(("scan_entries_per_s", n as f64 / dt));

    let (app, alloc, _) = disk_usage(&dir);
    res.push(("size_end_mib", app as f64 / 1048576.0));
    res.push(("alloc_end_mib", alloc as f64 / 1048576.0));

    // 6. clean close + reopen.
    let t = Instant::now();
    drop(st);
    res.push(("close_ms", t.elapsed().as_secs_f64() * 1000.0));
    let t = Instant::now();
    let st = open_store(backend, &dir).unwrap();
    let v = st.get_doc(ds.ids[0].as_bytes()).unwrap();
    decode(&v).unwrap();
    res.push(("reopen_ms", t.elapsed().as_secs_f64() * 1000.0));
    assert_eq!(
        st.get_meta(b"update_seq").unwrap(),
        seq.to_be_bytes().to_vec()
    );
    let (_, alloc, files) = disk_usage(&dir);
    res.push(("alloc_reopen_mib", alloc as f64 / 1048576.0));
    res.push(("files_reopen", files as f64));
    res.push(("vmhwm_base_mib", hwm_base as f64 / 1024.0));
    res.push(("vmhwm_end_mib", vm_hwm_kib() as f64 / 1024.0));
    drop(st);

    let mut line = format!("RESULT backend={backend}");
    for (k, v) in &res {
        line.push_str(&format!(" {k}={v:.3}"));
    }
    println!("{line}");
    if std::env::var("KEEP_DATA").is_err() {
        let _ = std::fs::remove_dir_all(&dir);
    }
}

// ---------------------------------------------------------------- crash

fn cmd_crash_child(backend: &str, dir: &Path) {
    // CRASH_DOCS scales the load (default 100k); HOLD=1 keeps the store open
    // after DONE so it can be killed with everything committed (recovery-time test).
    let n = env_u64("CRASH_DOCS", N_DOCS);
    let ds = dataset(n);
    let st = open_store(backend, dir).unwrap();
    let out = std::io::stdout();
    let mut out = out.lock();
    writeln!(out, "START").unwrap();
    out.flush().unwrap();
    for b in 0..n / BATCH {
        insert_batch(&*st, b, &ds.revs, &ds.bodies, &ds.ids);
        // Acknowledge only after the durable commit returned.
        writeln!(out, "ACK {}", (b + 1) * BATCH).unwrap();
        out.flush().unwrap();
    }
    writeln!(out, "DONE").unwrap();
    out.flush().unwrap();
    if std::env::var("HOLD").is_ok() {
        loop {
            std::thread::sleep(Duration::from_secs(3600));
        }
    }
}

/// Reopen after SIGKILL and check every invariant. Returns (pass, detail).
fn verify(backend: &str, dir: &Path, acked: u64) -> (bool, String) {
    let t = Instant::now();
    let st = match open_store(backend, dir) {
        Ok(s) => s,
        Err(e) => return (false, format!("OPEN FAILED: {e}")),
    };
    let open_ms = t.elapsed().as_secs_f64() * 1000.0;
    let mut errs: Vec<String> = Vec::new();
    let committed = st
        .get_meta(b"update_seq")
        .map(|v| u64::from_be_bytes(v.try_into().unwrap()))
        .unwrap_or(0);
    if committed % BATCH != 0 {
        errs.push(format!("update_seq {committed} not on a batch boundary"));
    }
    if committed < acked {
        errs.push(format!("LOST ACKED DATA: update_seq {committed} < acked {acked}"));
    }
    // docs: checksum every record, tally per batch.
    let nb = (N_DOCS.max(committed) / BATCH) as usize;
    let mut tally = vec![0u64; nb + 2];
    let mut n_docs = 0u64;
    let mut bad = 0u64;
    st.scan_docs(&mut |k, v| {
        n_docs += 1;
        match decode(v) {
            Ok(d) => {
                let idx = parse_doc_id(k).unwrap_or(u64::MAX);
                if d.seq != idx + 1 {
                    bad += 1;
                } else {
                    let b = (idx / BATCH) as usize;
                    tally[b.min(nb + 1)] += 1;
                }
            }
            Err(_) => bad += 1,
        }
    });
    if bad > 0 {
        errs.push(format!("{bad} corrupt/mismatched doc records"));
    }
    let full_batches = (committed / BATCH) as usize;
    let mut partial = 0;
    for (b, &c) in tally.iter().enumerate() {
        let want = if b < full_batches { BATCH } else { 0 };
        if c != want {
            partial += 1;
            if partial <= 3 {
                errs.push(format!("batch {b}: {c} docs present, expected {want}"));
            }
        }
    }
    // by_seq: ordered, points at the right doc, exactly 1..=committed.
    let mut n_seq = 0u64;
    let mut bad_seq = 0u64;
    let mut expect = 1u64;
    st.scan_by_seq(&mut |k, v| {
        n_seq += 1;
        let s = u64::from_be_bytes(k.try_into().unwrap());
        if s != expect || parse_doc_id(v) != Some(s - 1) {
            bad_seq += 1;
        }
        expect = s + 1;
    });
    if n_docs != committed || n_seq != committed || bad_seq > 0 {
        errs.push(format!(
            "counts: docs={n_docs} by_seq={n_seq} update_seq={committed} bad_by_seq={bad_seq}"
        ));
    }
    // Explicit point lookups of every acknowledged seq's doc.
    let mut missing_acked = 0;
    for i in 0..acked {
        match st.get_doc(doc_id(i).as_bytes()) {
            Some(v) if decode(&v).map(|d| d.seq == i + 1).unwrap_or(false) => {}
            _ => missing_acked += 1,
        }
    }
    if missing_acked > 0 {
        errs.push(format!("{missing_acked} acknowledged docs missing/corrupt"));
    }
    // Still writable: commit one more batch after recovery.
    let writable = {
        let ds = dataset(committed + BATCH);
        insert_batch(&*st, committed / BATCH, &ds.revs, &ds.bodies, &ds.ids);
        st.get_meta(b"update_seq")
            .map(|v| u64::from_be_bytes(v.try_into().unwrap()) == committed + BATCH)
            .unwrap_or(false)
    };
    if !writable {
        errs.push("not writable after recovery".into());
    }
    let detail = format!(
        "acked={acked} committed={committed} open_ms={open_ms:.1} docs={n_docs} {}",
        if errs.is_empty() {
            "all checks ok".to_string()
        } else {
            errs.join("; ")
        }
    );
    (errs.is_empty(), detail)
}

struct CrashOutcome {
    pass: bool,
    kill_ms: u64,
    finished_before_kill: bool,
    detail: String,
}

fn crash_once(backend: &str, run: u64, rng: &mut Rng) -> CrashOutcome {
    let dir = data_dir().join(format!("crash-{backend}-{run}"));
    fresh_dir(&dir);
    let kmin = env_u64("KILL_MIN_MS", 20);
    let kmax = env_u64("KILL_MAX_MS", 250);
    let kill_ms = kmin + rng.below(kmax - kmin + 1);
    let exe = std::env::current_exe().unwrap();
    let mut child = Command::new(exe)
        .args(["crash-child", backend, dir.to_str().unwrap()])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut acked = 0u64;
        let mut done = false;
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if line == "START" {
                let _ = tx.send(());
            } else if let Some(s) = line.strip_prefix("ACK ") {
                acked = acked.max(s.parse().unwrap());
            } else if line == "DONE" {
                done = true;
            }
        }
        (acked, done)
    });
    // The kill timer starts when the child reports START (store open, data
    // generated, about to begin the first batch).
    let _ = rx.recv_timeout(Duration::from_secs(60));
    std::thread::sleep(Duration::from_millis(kill_ms));
    // std's Child::kill sends SIGKILL on Unix.
    let _ = child.kill();
    let _ = child.wait();
    // Every ACK line the child managed to write before dying counts as acknowledged.
    let (acked, done) = reader.join().unwrap();
    let (pass, detail) = verify(backend, &dir, acked);
    let _ = std::fs::remove_dir_all(&dir);
    CrashOutcome {
        pass,
        kill_ms,
        finished_before_kill: done,
        detail,
    }
}

fn run_crash(backend: &str, runs: u64, seed: u64) -> Vec<CrashOutcome> {
    let mut rng = Rng::new(seed);
    (1..=runs)
        .map(|r| {
            let o = crash_once(backend, r, &mut rng);
            eprintln!(
                "[crash {backend} #{r}] kill after {} ms: {}{} | {}",
                o.kill_ms,
                if o.pass { "PASS" } else { "FAIL" },
                if o.finished_before_kill {
                    " (WARNING: child finished before kill)"
                } else {
                    ""
                },
                o.detail
            );
            o
        })
        .collect()
}

// ---------------------------------------------------------------- all

fn parse_result(line: &str) -> BTreeMap<String, f64> {
    line.split_whitespace()
        .skip(2)
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), v.parse().unwrap()))
        .collect()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

const ROWS: &[(&str, &str)] = &[
    ("insert_docs_per_s", "Bulk insert N new docs, 1k/txn, fsync (docs/s)"),
    ("insert_commit_ms", "  = mean time per durable 1k-doc batch (ms)"),
    ("harness_encode_ms", "  of which harness record encoding, all N docs (ms)"),
    ("insert_wchar_mib", "  bytes written by the N/1000 insert commits (MiB, /proc/self/io wchar)"),
    ("update_docs_per_s", "Update 10k existing docs, 1k/txn, fsync (docs/s)"),
    ("update_wchar_mib", "  bytes written by the 10 update commits (MiB, wchar)"),
    ("reads_per_s", "100k random point reads right after writes (reads/s)"),
    ("checkpoint_ms", "Checkpoint: fjall memtable->SST flush / redb no-op (ms)"),
    ("reads_after_ckpt_per_s", "100k random point reads after checkpoint (reads/s)"),
    ("scan_entries_per_s", "Full ordered scan of by_seq, N entries (entries/s)"),
    ("size_after_insert_mib", "Size on disk after N inserts, apparent (MiB)"),
    ("alloc_after_insert_mib", "  allocated blocks after N inserts (MiB)"),
    ("files_after_insert", "  files after N inserts"),
    ("size_end_mib", "Size on disk at end (after updates + checkpoint) (MiB)"),
    ("alloc_end_mib", "  allocated blocks at end (MiB)"),
    ("alloc_reopen_mib", "Allocated on disk after clean close + reopen (MiB)"),
    ("files_reopen", "  files after reopen"),
    ("close_ms", "Clean close (ms)"),
    ("reopen_ms", "Reopen after clean close + first read (ms)"),
    ("vmhwm_base_mib", "VmHWM before opening store (harness + dataset) (MiB)"),
    ("vmhwm_end_mib", "VmHWM at end of run (MiB)"),
];

fn fmt_num(v: f64) -> String {
    if v >= 1000.0 {
        let s = format!("{:.0}", v);
        let b = s.as_bytes();
        let mut out = String::new();
        for (i, c) in b.iter().enumerate() {
            if i > 0 && (b.len() - i) % 3 == 0 {
                out.push(',');
            }
            out.push(*c as char);
        }
        out
    } else if v >= 100.0 {
        format!("{:.0}", v)
    } else {
        format!("{:.1}", v)
    }
}

fn cmd_all() {
    let runs = env_u64("RUNS", 3);
    let crash_runs = env_u64("CRASH_RUNS", 5);
    let backends = compiled_backends();
    let exe = std::env::current_exe().unwrap();
    let mut results: BTreeMap<&str, Vec<BTreeMap<String, f64>>> = BTreeMap::new();
    // Interleave backends (redb, fjall, redb, fjall, ...) so that machine noise
    // hits both alike; each run is a fresh process so VmHWM is per backend.
    for r in 1..=runs {
        for &b in &backends {
            let load0 = loadavg1();
            eprintln!("[bench] run {r}/{runs} {b} (loadavg {load0}) ...");
            let out = Command::new(&exe)
                .args(["bench", b])
                .stderr(Stdio::inherit())
                .output()
                .unwrap();
            assert!(out.status.success(), "bench {b} failed");
            let s = String::from_utf8_lossy(&out.stdout);
            let line = s.lines().find(|l| l.starts_with("RESULT")).unwrap();
            eprintln!("  {line}");
            let mut m = parse_result(line);
            m.insert("loadavg_before".into(), load0);
            m.insert("loadavg_after".into(), loadavg1());
            results.entry(b).or_default().push(m);
        }
    }
    let mut md = String::new();
    md.push_str(&format!(
        "N = {} docs. Median of {runs} runs (each a fresh process and a fresh store), release build. Cache overrides: redb {:?} MiB, fjall {:?} MiB (None = crate default).\n\n",
        bench_docs(),
        std::env::var("REDB_CACHE_MIB").ok(),
        std::env::var("FJALL_CACHE_MIB").ok()
    ));
    md.push_str("| metric |");
    for b in &backends {
        md.push_str(&format!(" {b} |"));
    }
    md.push_str("\n|---|");
    for _ in &backends {
        md.push_str("---:|");
    }
    md.push('\n');
    for (key, label) in ROWS {
        md.push_str(&format!("| {label} |"));
        for b in &backends {
            let vals: Vec<f64> = results[b].iter().map(|m| m[*key]).collect();
            md.push_str(&format!(" {} |", fmt_num(median(vals))));
        }
        md.push('\n');
    }
    md.push_str("\nAll runs (raw):\n\n```\n");
    for b in &backends {
        for (i, m) in results[b].iter().enumerate() {
            md.push_str(&format!("{b} run {}:", i + 1));
            for (key, _) in ROWS {
                md.push_str(&format!(" {key}={}", fmt_num(m[*key])));
            }
            md.push_str(&format!(
                " | 1-min loadavg before/after: {:.2}/{:.2}",
                m["loadavg_before"], m["loadavg_after"]
            ));
            md.push('\n');
        }
    }
    md.push_str("```\n\n## kill -9\n\n");
    for (bi, &b) in backends.iter().enumerate() {
        eprintln!("[crash] {b} x{crash_runs} ...");
        let outs = run_crash(b, crash_runs, 0x5EED + bi as u64 * 1000 + now_seed());
        let passed = outs.iter().filter(|o| o.pass).count();
        md.push_str(&format!("{b}: {passed}/{} passed\n\n```\n", outs.len()));
        for (i, o) in outs.iter().enumerate() {
            md.push_str(&format!(
                "#{} kill@{}ms {}{} {}\n",
                i + 1,
                o.kill_ms,
                if o.pass { "PASS" } else { "FAIL" },
                if o.finished_before_kill {
                    " (child finished before kill)"
                } else {
                    ""
                },
                o.detail
            ));
        }
        md.push_str("```\n\n");
    }
    println!("{md}");
    std::fs::create_dir_all("results").ok();
    let tag = std::env::var("RESULTS_TAG").unwrap_or_default();
    let name = if !tag.is_empty() {
        format!("results/latest-{tag}.md")
    } else if bench_docs() == N_DOCS {
        "results/latest.md".to_string()
    } else {
        format!("results/latest-{}docs.md", bench_docs())
    };
    std::fs::write(&name, &md).unwrap();
    eprintln!("written {name}");
}

/// 1-minute load average (the machine is shared; recorded next to each run).
fn loadavg1() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|v| v.parse().ok()))
        .unwrap_or(-1.0)
}

fn now_seed() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let a = |i: usize| args.get(i).map(String::as_str).unwrap_or("");
    match a(1) {
        "all" => cmd_all(),
        "bench" => cmd_bench(a(2)),
        "crash" => {
            let runs = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(5);
            let outs = run_crash(a(2), runs, now_seed());
            let passed = outs.iter().filter(|o| o.pass).count();
            println!("{}: {passed}/{} passed", a(2), outs.len());
        }
        "crash-child" => cmd_crash_child(a(2), Path::new(a(3))),
        "verify" => {
            let (ok, d) = verify(a(2), Path::new(a(3)), a(4).parse().unwrap_or(0));
            println!("{} {d}", if ok { "PASS" } else { "FAIL" });
        }
        _ => {
            eprintln!(
                "usage: storage-choice all | bench <redb|fjall> | crash <redb|fjall> [runs]\n\
                 compiled backends: {:?}",
                compiled_backends()
            );
            std::process::exit(2);
        }
    }
}
