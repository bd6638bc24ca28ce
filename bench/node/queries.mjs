#!/usr/bin/env node
// Side-by-side query benchmark of the reference workload, in ONE run (never two engines at
// once: the machine has 2 cores):
//
//  PouchDB 9 on LevelDB + pouchdb-find, in-process, over BENCH_POUCH_DOCS docs:
//    - `_find` with a JSON index on `n`: equality {n: k} and a 25-row range
//      {n: {$gte: k, $lt: k + 25}}, BENCH_POUCH_SAMPLES random k: p50/p99 (the first find,
//      which builds the index, separately);
//    - a view emit([doc.type, doc.n], doc.n) with _stats: whole reduce, group_level=1, the
//      range of one type ([t] to [t, {}]): p50/p99.
//  `fullsync-bench queries` (in-process, release) at each size of BENCH_SIZES, and, when
//  BENCH_BEFORE_BIN names another build of fullsync-bench (e.g. the previous commit), the same
//  run with it, so before/after come from one run.
//
// Targets (issue #14): _find equality <= 5 ms, 25-row range <= 10 ms; whole reduce <= 5 ms,
// group_level=1 <= 15 ms; all flat from 100k to 1M docs.
//
// Env: BENCH_SIZES (100000), BENCH_POUCH_DOCS (100000; 0 skips PouchDB), BENCH_SAMPLES (200),
//      BENCH_FIND_SAMPLES (200), BENCH_POUCH_SAMPLES (50),
//      FULLSYNC_BENCH_BIN (target/release/fullsync-bench), BENCH_BEFORE_BIN (optional),
//      BENCH_BEFORE_FIND_SAMPLES (10: a full-scan _find takes about a second),
//      BENCH_BEFORE_SAMPLES (20), BENCH_BEFORE_SIZES (the first size only),
//      BENCH_JSON_OUT (file for the JSON summary).

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import PouchDB from 'pouchdb';
import PouchDBFind from 'pouchdb-find';

import { refBatches } from './workload.mjs';

PouchDB.plugin(PouchDBFind);

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '..', '..');
const env = (k, d) => Number(process.env[k] ?? d);
const SIZES = (process.env.BENCH_SIZES || '100000').split(',').map(Number);
const POUCH_N = env('BENCH_POUCH_DOCS', 100_000);
const SAMPLES = env('BENCH_SAMPLES', 200);
const FIND_SAMPLES = env('BENCH_FIND_SAMPLES', 200);
const POUCH_SAMPLES = env('BENCH_POUCH_SAMPLES', 50);
const BEFORE_FIND_SAMPLES = env('BENCH_BEFORE_FIND_SAMPLES', 10);
const BEFORE_SAMPLES = env('BENCH_BEFORE_SAMPLES', 20);
const BEFORE_SIZES = (process.env.BENCH_BEFORE_SIZES || String(SIZES[0])).split(',').map(Number);
const BENCH_BIN = resolve(process.env.FULLSYNC_BENCH_BIN || join(ROOT, 'target', 'release', 'fullsync-bench'));
const BEFORE_BIN = process.env.BENCH_BEFORE_BIN ? resolve(process.env.BENCH_BEFORE_BIN) : null;
const STATS_MAP = 'function (doc) { emit([doc.type, doc.n], doc.n); }';

const log = (...a) => console.log(...a);
const now = () => Number(process.hrtime.bigint()) / 1e6; // ms
const results = { sizes: SIZES, pouch_docs: POUCH_N, pouchdb_leveldb: null, fullsync: {}, before: {}, notes: [] };

function pct(sorted, p) {
  if (!sorted.length) return null;
  return sorted[Math.min(sorted.length, Math.max(1, Math.ceil(sorted.length * p))) - 1];
}

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

/** Runs `fn(k)` `samples` times; returns [p50, p99] in ms. */
async function timed(samples, n, fn) {
  const next = keyGen(n);
  const times = [];
  for (let i = 0; i < samples; i++) {
    const k = next();
    const t = now();
    await fn(k);
    times.push(now() - t);
  }
  times.sort((a, b) => a - b);
  return [pct(times, 0.5), pct(times, 0.99)];
}

function check(cond, what) {
  if (!cond) throw new Error(`PouchDB: wrong answer: ${what}`);
}

async function pouch() {
  const dir = await mkdtemp(join(tmpdir(), 'bench-queries-pouch-'));
  try {
    const n = POUCH_N;
    const out = { docs: n };
    const db = new PouchDB(join(dir, 'db'));
    log(`  PouchDB: inserting ${n.toLocaleString('en-US')} docs`);
    let t = now();
    for (const docs of refBatches(n, 1000)) await db.bulkDocs(docs);
    out.insert_docs_per_sec = n / ((now() - t) / 1000);
    await db.createIndex({ index: { fields: ['n'] }, name: 'n' });
    log('  PouchDB: first _find (builds the index)');
    t = now();
    let r = await db.find({ selector: { n: 7 } });
    out.find_first_ms = now() - t;
    check(r.docs.length === 1, 'first find');
    [out.find_eq_p50_ms, out.find_eq_p99_ms] = await timed(POUCH_SAMPLES, n, async (k) => {
      const f = await db.find({ selector: { n: k } });
      check(f.docs.length === 1 && f.docs[0].n === k, `find n=${k}`);
    });
    [out.find_range25_p50_ms, out.find_range25_p99_ms] = await timed(POUCH_SAMPLES, n - 25, async (k) => {
      const f = await db.find({ selector: { n: { $gte: k, $lt: k + 25 } } });
      check(f.docs.length === 25, `find range at ${k}: ${f.docs.length}`);
    });
    log('  PouchDB: _stats view');
    await db.put({ _id: '_design/s', views: { s: { map: STATS_MAP, reduce: '_stats' } } });
    t = now();
    await db.query('s/s', { limit: 0, reduce: false });
    out.stats_build_docs_per_sec = n / ((now() - t) / 1000);
    [out.reduce_whole_p50_ms, out.reduce_whole_p99_ms] = await timed(POUCH_SAMPLES, n, async () => {
      const q = await db.query('s/s');
      check(q.rows[0].value.count === n, 'whole reduce');
    });
    [out.reduce_group1_p50_ms, out.reduce_group1_p99_ms] = await timed(POUCH_SAMPLES, n, async () => {
      const q = await db.query('s/s', { group_level: 1 });
      check(q.rows.length === 10, 'group_level=1');
    });
    [out.reduce_range_p50_ms, out.reduce_range_p99_ms] = await timed(POUCH_SAMPLES, 10, async (k) => {
      const ty = `type${k}`;
      const q = await db.query('s/s', { startkey: [ty], endkey: [ty, {}] });
      check(q.rows[0].value.count === Math.floor((n + 9 - k) / 10), `range of ${ty}`);
    });
    await db.close();
    return out;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function ours(bin, n, findSamples, samples = SAMPLES) {
  const dir = await mkdtemp(join(tmpdir(), 'bench-queries-fullsync-'));
  try {
    const args = ['queries', '--docs', String(n), '--samples', String(samples),
      '--find-samples', String(findSamples), '--dir', join(dir, 'data')];
    const { code, stdout, stderr } = await new Promise((res, rej) => {
      const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      let o = '';
      let e = '';
      child.stdout.on('data', (c) => (o += c));
      child.stderr.on('data', (c) => {
        e += c;
        for (const l of String(c).split('\n')) if (l.trim()) log(`  ${l.trim()}`);
      });
      child.on('error', rej);
      child.on('exit', (c) => res({ code: c, stdout: o, stderr: e }));
    });
    if (code !== 0) throw new Error(`${bin} ${args.join(' ')} exited ${code}\n${stderr.trim()}`);
    const line = stdout.trim().split('\n').reverse().find((l) => l.trim().startsWith('{'));
    if (!line) throw new Error(`fullsync-bench printed no JSON line: ${stdout.slice(0, 300)}`);
    return JSON.parse(line);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function measure(label, fn) {
  log(`- ${label}: running ...`);
  const t = now();
  try {
    const r = await fn();
    log(`  ${label}: done in ${((now() - t) / 1000).toFixed(1)} s`);
    return r;
  } catch (e) {
    log(`  ${label}: FAILED: ${e.message}`);
    results.notes.push(`${label}: ${e.message}`);
    return null;
  }
}

const ROWS = [
  ['_find {n: k} (JSON index on n), p50 ms', 'find_eq_p50_ms'],
  ['_find 25-row range, p50 ms', 'find_range25_p50_ms'],
  ['_stats whole reduce, p50 ms', 'reduce_whole_p50_ms'],
  ['_stats group_level=1, p50 ms', 'reduce_group1_p50_ms'],
  ['_stats key range of one type, p50 ms', 'reduce_range_p50_ms'],
  ['first _find (builds the index), ms', 'find_first_ms'],
  ['_stats view build, docs/s', 'stats_build_docs_per_sec'],
  ['bulk insert, docs/s', 'insert_docs_per_sec'],
];

function fmt(x) {
  if (x == null) return 'n/a';
  return x >= 100 ? Math.round(x).toLocaleString('en-US') : x.toFixed(2);
}

async function main() {
  if (!existsSync(BENCH_BIN)) throw new Error(`${BENCH_BIN} not found: cargo build --release -p fullsync-bench`);
  if (POUCH_N > 0) results.pouchdb_leveldb = await measure(`PouchDB ${POUCH_N} docs`, pouch);
  for (const n of SIZES) {
    results.fullsync[n] = await measure(`fullsync ${n} docs`, () => ours(BENCH_BIN, n, FIND_SAMPLES));
    if (BEFORE_BIN && BEFORE_SIZES.includes(n)) {
      results.before[n] = await measure(`fullsync BEFORE ${n} docs`, () => ours(BEFORE_BIN, n, BEFORE_FIND_SAMPLES, BEFORE_SAMPLES));
    }
  }
  log('');
  const cols = [];
  if (results.pouchdb_leveldb) cols.push([`PouchDB ${POUCH_N / 1000}k`, results.pouchdb_leveldb]);
  for (const n of SIZES) {
    if (results.before[n]) cols.push([`before ${n / 1000}k`, results.before[n]]);
    cols.push([`fullsync ${n / 1000}k`, results.fullsync[n]]);
  }
  log(`| query | ${cols.map((c) => c[0]).join(' | ')} |`);
  log(`|---|${cols.map(() => '---').join('|')}|`);
  for (const [label, k] of ROWS) log(`| ${label} | ${cols.map(([, r]) => fmt(r?.[k])).join(' | ')} |`);
  if (process.env.BENCH_JSON_OUT) await writeFile(process.env.BENCH_JSON_OUT, JSON.stringify(results, null, 2));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
