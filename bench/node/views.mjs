#!/usr/bin/env node
// Side-by-side views benchmark of the reference workload, in ONE run (never two engines at
// once: the machine has 2 cores):
//
//  PouchDB 9 on LevelDB, in-process:
//    - first build of `function (doc) { emit(doc.type); }` over BENCH_POUCH_DOCS docs (the first
//      query builds the index), docs/s;
//    - incremental update after min(1000, N/10) docs changed (a query that brings it up to date), ms
//      (one run; ours: the median of 5 rounds, other docs each round);
//    - key lookups on `emit(doc.n)` over the same docs (BENCH_POUCH_SAMPLES random keys), p50/p99;
//    - a temporary view (`db.query(mapFunction)`, PouchDB's "preview") over BENCH_PREVIEW_DOCS docs.
//  `fullsync-bench views` (in-process, release): the same over BENCH_DOCS docs, lookups on a
//    BENCH_LOOKUP_DOCS-row index, preview of an unsaved map over BENCH_PREVIEW_DOCS docs.
//
// PouchDB builds views at ~1.5k docs/s here (shared/peers.md), so it gets fewer docs by default
// (BENCH_POUCH_DOCS=20000) and is compared in docs/s. Apache CouchDB cannot be installed here;
// its first build figure (11.6k docs/s at 50k docs, peers.md) is the reference for "vs CouchDB".
//
// Targets: build >= 58k docs/s and >= 30x PouchDB; incremental < 30 ms (issue #14, the median of
// `--incremental-runs`, 5); lookup p50 < 1 ms;
// preview < 100 ms.
//
// Env: BENCH_DOCS (100000), BENCH_POUCH_DOCS (20000), BENCH_CHANGED (1000),
//      BENCH_LOOKUP_DOCS (1000000), BENCH_SAMPLES (1000), BENCH_POUCH_SAMPLES (200),
//      BENCH_PREVIEW_DOCS (10000), FULLSYNC_BENCH_BIN (target/release/fullsync-bench),
//      BENCH_SKIP_POUCH=1 (ours only), BENCH_JSON_OUT (file for the JSON summary),
//      BENCH_STRICT=1 (exit 1 when a target is missed).

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import PouchDB from 'pouchdb';

import { refBatches, refDoc } from './workload.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '..', '..');
const env = (k, d) => Number(process.env[k] || d);
const N = env('BENCH_DOCS', 100_000);
const POUCH_N = env('BENCH_POUCH_DOCS', 20_000);
const CHANGED = env('BENCH_CHANGED', 1000);
const LOOKUP_N = env('BENCH_LOOKUP_DOCS', 1_000_000);
const SAMPLES = env('BENCH_SAMPLES', 1000);
const POUCH_SAMPLES = env('BENCH_POUCH_SAMPLES', 200);
const PREVIEW_N = env('BENCH_PREVIEW_DOCS', 10_000);
const BENCH_BIN = resolve(process.env.FULLSYNC_BENCH_BIN || join(ROOT, 'target', 'release', 'fullsync-bench'));
const COUCHDB_BUILD_DOCS_PER_SEC = 11_600; // shared/peers.md: Apache CouchDB 3.4.3, 50k docs in 4.3 s
const COUCHDB_WARM_KEY_QUERY_MS = 3; // shared/peers.md, over HTTP at 50k docs
const TYPE_MAP = 'function (doc) { emit(doc.type); }';
const N_MAP = 'function (doc) { emit(doc.n); }';

const log = (...a) => console.log(...a);
const now = () => Number(process.hrtime.bigint()) / 1e6; // ms
const results = { docs: N, pouch_docs: POUCH_N, pouchdb_leveldb: null, fullsync: null, notes: [] };

async function withTmp(prefix, fn) {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function pct(sorted, p) {
  if (!sorted.length) return null;
  return sorted[Math.min(sorted.length, Math.max(1, Math.ceil(sorted.length * p))) - 1];
}

/** Insert the reference docs 0..n into db; returns the revs. */
async function insert(db, n) {
  const revs = [];
  for (const docs of refBatches(n, 1000)) {
    const res = await db.bulkDocs(docs);
    const bad = res.filter((r) => r.error || r.ok === false);
    if (bad.length) throw new Error(`bulkDocs: ${bad.length} failures, e.g. ${JSON.stringify(bad[0])}`);
    for (const r of res) revs.push(r.rev);
  }
  return revs;
}

// xorshift64 like the Rust side (only the distribution matters)
function keyGen(n) {
  let x = 0x9e3779b97f4a7c15n;
  const mask = (1n << 64n) - 1n;
  return () => {
    x ^= (x << 13n) & mask;
    x ^= x >> 7n;
    x ^= (x << 17n) & mask;
    return Number(x % BigInt(n));
  };
}

async function pouch() {
  return withTmp('bench-views-pouch-', async (dir) => {
    const out = { docs: POUCH_N };
    const db = new PouchDB(join(dir, 'db'));
    log(`  PouchDB: inserting ${POUCH_N.toLocaleString('en-US')} docs`);
    const revs = await insert(db, POUCH_N);
    await db.put({ _id: '_design/t', views: { t: { map: TYPE_MAP } } });

    log('  PouchDB: first build of emit(doc.type)');
    let t = now();
    let r = await db.query('t/t', { key: 'type3', limit: 10 });
    out.build_seconds = (now() - t) / 1000;
    out.build_docs_per_sec = POUCH_N / out.build_seconds;
    if (r.total_rows !== POUCH_N) throw new Error(`PouchDB total_rows ${r.total_rows} != ${POUCH_N}`);
    t = now();
    await db.query('t/t', { key: 'type3', limit: 10 });
    out.warm_key_query_ms = now() - t;

    const changed = Math.min(CHANGED, Math.floor(POUCH_N / 10));
    const step = Math.floor(POUCH_N / changed);
    const edits = [];
    for (let j = 0; j < changed; j++) edits.push({ ...refDoc(j * step), _rev: revs[j * step], type: 'changed' });
    await db.bulkDocs(edits);
    t = now();
    r = await db.query('t/t', { key: 'changed' });
    out.incremental_ms = now() - t;
    out.changed = changed;
    if (r.rows.length !== changed) throw new Error(`PouchDB changed rows ${r.rows.length} != ${changed}`);

    log('  PouchDB: build of emit(doc.n) and key lookups');
    await db.put({ _id: '_design/n', views: { n: { map: N_MAP } } });
    t = now();
    await db.query('n/n', { limit: 0 });
    out.lookup_build_docs_per_sec = POUCH_N / ((now() - t) / 1000);
    const next = keyGen(POUCH_N);
    const times = [];
    for (let i = 0; i < POUCH_SAMPLES; i++) {
      const k = next();
      t = now();
      r = await db.query('n/n', { key: k });
      times.push(now() - t);
      if (r.rows.length !== 1) throw new Error(`PouchDB lookup of ${k}: ${r.rows.length} rows`);
    }
    times.sort((a, b) => a - b);
    out.lookup_docs = POUCH_N;
    out.lookup_p50_ms = pct(times, 0.5);
    out.lookup_p99_ms = pct(times, 0.99);
    await db.close();

    log(`  PouchDB: temporary view (preview) over ${PREVIEW_N.toLocaleString('en-US')} docs`);
    const pdb = new PouchDB(join(dir, 'preview'));
    await insert(pdb, PREVIEW_N);
    // eslint-disable-next-line no-new-func
    const mapFn = new Function('doc', 'emit(doc.type);');
    t = now();
    r = await pdb.query(mapFn, { limit: 100 });
    out.preview_ms = now() - t;
    out.preview_docs = PREVIEW_N;
    if (r.rows.length !== Math.min(100, PREVIEW_N)) throw new Error(`PouchDB temp view rows ${r.rows.length}`);
    await pdb.close();
    return out;
  });
}

function fullsync() {
  return withTmp('bench-views-fullsync-', async (dir) => {
    const args = [
      'views', '--docs', String(N), '--changed', String(CHANGED), '--lookup-docs', String(LOOKUP_N),
      '--samples', String(SAMPLES), '--preview-docs', String(PREVIEW_N), '--dir', join(dir, 'data'),
    ];
    const { code, stdout, stderr } = await new Promise((res, rej) => {
      const child = spawn(BENCH_BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      let o = '';
      let e = '';
      child.stdout.on('data', (c) => (o += c));
      let pending = '';
      child.stderr.on('data', (c) => {
        e += c;
        pending += c;
        const lines = pending.split('\n');
        pending = lines.pop();
        for (const l of lines) if (l.trim()) log(`  ${l.trim()}`);
      });
      child.on('error', rej);
      child.on('exit', (c) => res({ code: c, stdout: o, stderr: e }));
    });
    if (code !== 0) throw new Error(`${BENCH_BIN} ${args.join(' ')} exited ${code}\n${stderr.trim()}`);
    const line = stdout.trim().split('\n').reverse().find((l) => l.trim().startsWith('{'));
    if (!line) throw new Error(`fullsync-bench printed no JSON line; stdout: ${stdout.trim().slice(0, 500)}`);
    const r = JSON.parse(line);
    if (r.docs !== N || typeof r.build_docs_per_sec !== 'number') throw new Error(`unexpected fullsync-bench output: ${line}`);
    return r;
  });
}

async function measure(label, fn, skipReason) {
  if (skipReason) {
    log(`- ${label}: SKIPPED (${skipReason})`);
    results.notes.push(`${label}: skipped (${skipReason})`);
    return null;
  }
  log(`- ${label}: running ...`);
  const t = now();
  try {
    const r = await fn();
    log(`  ${label}: done in ${((now() - t) / 1000).toFixed(1)} s`);
    return r;
  } catch (err) {
    log(`  ${label}: FAILED: ${err.message}`);
    results.notes.push(`${label}: failed: ${err.message.split('\n')[0]}`);
    process.exitCode = 1;
    return null;
  }
}

// ---------- run ----------
log(`Views on the reference workload: fullsync ${N.toLocaleString('en-US')} docs, PouchDB ${POUCH_N.toLocaleString('en-US')} docs`);
results.pouchdb_leveldb = await measure('PouchDB 9 LevelDB (in-process)', pouch, process.env.BENCH_SKIP_POUCH === '1' ? 'BENCH_SKIP_POUCH=1' : null);
results.fullsync = await measure(
  'fullsync-bench views (in-process)',
  fullsync,
  existsSync(BENCH_BIN) ? null : `binary not found: ${BENCH_BIN} (cargo build --release -p fullsync-bench)`,
);

// ---------- table ----------
const P = results.pouchdb_leveldb || {};
const F = results.fullsync || {};
const num = (x, d = 0) => (x == null || Number.isNaN(x) ? 'n/a' : x.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d }));
const ratioHi = (a, b) => (a == null || b == null ? 'n/a' : `${(a / b).toFixed(1)}x`); // higher is better
const ratioLo = (a, b) => (a == null || b == null ? 'n/a' : `${(b / a).toFixed(1)}x`); // lower is better
const verdict = (ok) => (ok == null ? 'n/a' : ok ? 'PASS' : 'FAIL');
const t = {
  build: F.build_docs_per_sec == null ? null : F.build_docs_per_sec >= 58_000,
  buildVsPouch: F.build_docs_per_sec == null || P.build_docs_per_sec == null ? null : F.build_docs_per_sec / P.build_docs_per_sec >= 30,
  incremental: F.incremental_ms == null ? null : F.incremental_ms < 30,
  lookup: F.lookup_p50_ms == null ? null : F.lookup_p50_ms < 1,
  preview: F.preview_ms == null ? null : F.preview_ms < 100,
};
results.targets = t;
results.ratios = {
  build_vs_pouchdb: F.build_docs_per_sec && P.build_docs_per_sec ? F.build_docs_per_sec / P.build_docs_per_sec : null,
  build_vs_couchdb_reference: F.build_docs_per_sec ? F.build_docs_per_sec / COUCHDB_BUILD_DOCS_PER_SEC : null,
};

const head = ['measure', 'fullsync', 'PouchDB 9 LevelDB', 'vs PouchDB', 'CouchDB ref.', 'vs CouchDB', 'target', 'result'];
const rows = [
  [
    `first build, emit(doc.type) (docs/s)`,
    `${num(F.build_docs_per_sec)} (${num(F.docs)} docs)`,
    `${num(P.build_docs_per_sec)} (${num(P.docs)} docs)`,
    ratioHi(F.build_docs_per_sec, P.build_docs_per_sec),
    num(COUCHDB_BUILD_DOCS_PER_SEC),
    ratioHi(F.build_docs_per_sec, COUCHDB_BUILD_DOCS_PER_SEC),
    '>= 58,000 and >= 30x PouchDB',
    t.build == null ? 'n/a' : `${verdict(t.build)} / ${verdict(t.buildVsPouch)}`,
  ],
  [
    'incremental update (ms)',
    `${num(F.incremental_ms, 1)} (${num(F.changed)} of ${num(F.docs)})`,
    `${num(P.incremental_ms, 1)} (${num(P.changed)} of ${num(P.docs)})`,
    ratioLo(F.incremental_ms, P.incremental_ms),
    'n/a',
    'n/a',
    '< 30 ms',
    verdict(t.incremental),
  ],
  [
    'key lookup p50 (ms)',
    `${num(F.lookup_p50_ms, 3)} (${num(F.lookup_docs)} rows)`,
    `${num(P.lookup_p50_ms, 3)} (${num(P.lookup_docs)} rows)`,
    ratioLo(F.lookup_p50_ms, P.lookup_p50_ms),
    `${COUCHDB_WARM_KEY_QUERY_MS} (HTTP, 50k)`,
    ratioLo(F.lookup_p50_ms, COUCHDB_WARM_KEY_QUERY_MS),
    '< 1 ms',
    verdict(t.lookup),
  ],
  [
    'key lookup p99 (ms)',
    `${num(F.lookup_p99_ms, 3)} (${num(F.lookup_docs)} rows)`,
    `${num(P.lookup_p99_ms, 3)} (${num(P.lookup_docs)} rows)`,
    ratioLo(F.lookup_p99_ms, P.lookup_p99_ms),
    'n/a',
    'n/a',
    '',
    '',
  ],
  [
    'keys=[k] lookup p50 / p99 (ms)',
    `${num(F.lookup_keys_p50_ms, 3)} / ${num(F.lookup_keys_p99_ms, 3)}`,
    '',
    '',
    '',
    '',
    '(no offset to compute)',
    '',
  ],
  [
    'preview of an unsaved map (ms)',
    `${num(F.preview_ms, 1)} (${num(F.preview_docs)} docs; first ${num(F.preview_first_ms, 1)})`,
    `${num(P.preview_ms, 1)} (temp view, ${num(P.preview_docs)} docs)`,
    ratioLo(F.preview_ms, P.preview_ms),
    'n/a',
    'n/a',
    '< 100 ms',
    verdict(t.preview),
  ],
  [
    'warm key query, type index (ms)',
    num(F.warm_key_query_ms, 3),
    num(P.warm_key_query_ms, 3),
    ratioLo(F.warm_key_query_ms, P.warm_key_query_ms),
    `${COUCHDB_WARM_KEY_QUERY_MS} (HTTP)`,
    ratioLo(F.warm_key_query_ms, COUCHDB_WARM_KEY_QUERY_MS),
    '',
    '',
  ],
];
const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
const line = (c) => '| ' + c.map((x, i) => x.padEnd(widths[i])).join(' | ') + ' |';
log('');
log('Views, in-process, one run on this machine ("vs": how many times better fullsync is)');
log(line(head));
log('|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|');
for (const r of rows) log(line(r));
for (const n of results.notes) log(`note: ${n}`);
log('');
log('BENCH_JSON ' + JSON.stringify(results));
if (process.env.BENCH_JSON_OUT) await writeFile(process.env.BENCH_JSON_OUT, JSON.stringify(results, null, 2) + '\n');
if (process.env.BENCH_STRICT === '1' && Object.values(t).some((ok) => ok === false)) process.exitCode = 1;
