#!/usr/bin/env node
// Side-by-side bulk insert benchmark of the reference workload, in ONE run:
//
//  (a) in-process: PouchDB 9 on LevelDB (bulkDocs, batches of 1000)
//                  vs `fullsync-bench insert --docs N --batch 1000 --dir DIR` (durable)
//  (b) over HTTP, with PouchDB 9's HTTP client (bulkDocs, batches of 1000):
//                  pouchdb-server 4.2.0  vs  `fullsync serve`
//
// Env: BENCH_DOCS (default 100000), BENCH_BATCH (default 1000),
//      FULLSYNC_BIN (default target/release/fullsync),
//      FULLSYNC_BENCH_BIN (default target/release/fullsync-bench),
//      BENCH_JSON_OUT (optional file for the JSON summary).
// A side whose binary is missing is skipped with a message; the run still reports the rest.
// Measurements run one after another (never two engines at once: the machine has 2 cores).

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import net from 'node:net';
import PouchDB from 'pouchdb';

import { refBatches } from './workload.mjs';
import { FullSyncServer } from '../../tests/node/lib/server.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '..', '..');
const N = Number(process.env.BENCH_DOCS || 100_000);
const BATCH = Number(process.env.BENCH_BATCH || 1000);
const FULLSYNC_BIN = resolve(process.env.FULLSYNC_BIN || join(ROOT, 'target', 'release', 'fullsync'));
const BENCH_BIN = resolve(process.env.FULLSYNC_BENCH_BIN || join(ROOT, 'target', 'release', 'fullsync-bench'));
const POUCHDB_SERVER = join(HERE, 'node_modules', 'pouchdb-server', 'bin', 'pouchdb-server');
const KEEPALIVE = join(HERE, 'keepalive.cjs');

const log = (...a) => console.log(...a);
const fmt = (x) => (x == null ? 'skipped' : Math.round(x).toLocaleString('en-US'));
const ratio = (a, b) => (a == null || b == null ? 'n/a' : `${(a / b).toFixed(2)}x`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const results = {
  docs: N,
  batch: BATCH,
  inprocess: { pouchdb_leveldb: null, fullsync: null },
  http: { pouchdb_server: null, fullsync: null },
  notes: [],
};

async function withTmp(prefix, fn) {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** bulkDocs all batches into db; returns docs/s. Fails loudly on any per-doc error. */
async function bulkInsert(db) {
  const batches = refBatches(N, BATCH);
  const t0 = process.hrtime.bigint();
  for (const docs of batches) {
    const res = await db.bulkDocs(docs);
    const bad = res.filter((r) => r.error || r.ok === false);
    if (bad.length) throw new Error(`bulkDocs: ${bad.length} failures, e.g. ${JSON.stringify(bad[0])}`);
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  return { docs: N, seconds, docs_per_sec: N / seconds };
}

// ---------- (a) in-process ----------
async function pouchLevelDb() {
  return withTmp('bench-pouch-leveldb-', async (dir) => {
    const db = new PouchDB(join(dir, 'db'));
    await db.info();
    const r = await bulkInsert(db);
    await db.close();
    return r;
  });
}

function runFullsyncBench() {
  return withTmp('bench-fullsync-', async (dir) => {
    const args = ['insert', '--docs', String(N), '--batch', String(BATCH), '--dir', join(dir, 'data')];
    const { code, stdout, stderr } = await new Promise((res, rej) => {
      const child = spawn(BENCH_BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (c) => (out += c));
      child.stderr.on('data', (c) => (err += c));
      child.on('error', rej);
      child.on('exit', (c) => res({ code: c, stdout: out, stderr: err }));
    });
    if (code !== 0) throw new Error(`${BENCH_BIN} ${args.join(' ')} exited ${code}\n${stderr.trim()}`);
    const line = stdout
      .trim()
      .split('\n')
      .reverse()
      .find((l) => l.trim().startsWith('{'));
    if (!line) throw new Error(`fullsync-bench printed no JSON line; stdout: ${stdout.trim().slice(0, 500)}`);
    const r = JSON.parse(line);
    if (typeof r.docs_per_sec !== 'number') throw new Error(`fullsync-bench JSON lacks docs_per_sec: ${line}`);
    if (r.docs !== N) throw new Error(`fullsync-bench inserted ${r.docs} docs, asked ${N}`);
    return r;
  });
}

// ---------- (b) over HTTP ----------
function freePort() {
  return new Promise((res, rej) => {
    const s = net.createServer();
    s.on('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

async function waitHttp(url, ms, child, stderr) {
  const end = Date.now() + ms;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`pouchdb-server exited (${child.exitCode}) before serving:\n${stderr()}`);
    try {
      const r = await fetch(url);
      if (r.ok) return;
    } catch {
      /* not yet */
    }
    if (Date.now() > end) throw new Error(`pouchdb-server not answering ${url} after ${ms} ms:\n${stderr()}`);
    await sleep(100);
  }
}

async function httpInsert(baseUrl) {
  // Create the database with a plain PUT (not PouchDB's setup, which probes `/db/` with a
  // trailing slash) so the measurement is about inserts only.
  const created = await fetch(baseUrl + 'benchdb', { method: 'PUT', headers: { Accept: 'application/json' } });
  if (created.status !== 201 && created.status !== 202) {
    throw new Error(`PUT ${baseUrl}benchdb -> ${created.status} ${await created.text()}`);
  }
  const db = new PouchDB(baseUrl + 'benchdb', { skip_setup: true });
  const r = await bulkInsert(db);
  const info = await (await fetch(baseUrl + 'benchdb', { headers: { Accept: 'application/json' } })).json();
  if (info.doc_count !== N) throw new Error(`${baseUrl}benchdb has doc_count ${info.doc_count}, expected ${N}`);
  return r;
}

async function pouchdbServer() {
  return withTmp('bench-pouchdb-server-', async (dir) => {
    const port = await freePort();
    let err = '';
    const child = spawn(
      process.execPath,
      ['-r', KEEPALIVE, POUCHDB_SERVER, '-o', '127.0.0.1', '-p', String(port), '-d', dir, '-c', join(dir, 'config.json'), '-n'],
      { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    child.stderr.on('data', (c) => (err = (err + c).slice(-8000)));
    try {
      const base = `http://127.0.0.1:${port}/`;
      await waitHttp(base, 30_000, child, () => err);
      return await httpInsert(base);
    } finally {
      child.kill('SIGTERM');
      await Promise.race([new Promise((r) => child.once('exit', r)), sleep(5000)]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });
}

async function fullsyncServe() {
  return withTmp('bench-fullsync-serve-', async (dir) => {
    const srv = new FullSyncServer({ bin: FULLSYNC_BIN, dataDir: dir, port: 0 });
    await srv.start();
    try {
      return await httpInsert(srv.url);
    } finally {
      await srv.stop();
    }
  });
}

// ---------- driver ----------
async function measure(label, fn, skipReason) {
  if (skipReason) {
    log(`- ${label}: SKIPPED (${skipReason})`);
    results.notes.push(`${label}: skipped (${skipReason})`);
    return null;
  }
  log(`- ${label}: running ...`);
  try {
    const r = await fn();
    log(`  ${label}: ${fmt(r.docs_per_sec)} docs/s (${r.seconds.toFixed(2)} s)`);
    return r;
  } catch (err) {
    log(`  ${label}: FAILED: ${err.message}`);
    results.notes.push(`${label}: failed: ${err.message.split('\n')[0]}`);
    process.exitCode = 1;
    return null;
  }
}

const missing = (p) => (existsSync(p) ? null : `binary not found: ${p} (cargo build --release)`);

log(`Reference workload: ${N.toLocaleString('en-US')} docs of ~200 bytes, bulk insert in batches of ${BATCH}`);
log('(a) in-process');
results.inprocess.pouchdb_leveldb = await measure('PouchDB 9 LevelDB (in-process)', pouchLevelDb);
results.inprocess.fullsync = await measure('fullsync-bench insert (in-process, durable)', runFullsyncBench, missing(BENCH_BIN));
log('(b) over HTTP, PouchDB 9 HTTP client');
results.http.pouchdb_server = await measure(
  'pouchdb-server 4.2.0 (HTTP)',
  pouchdbServer,
  existsSync(POUCHDB_SERVER) ? null : `not installed: ${POUCHDB_SERVER} (npm ci in bench/node)`,
);
results.http.fullsync = await measure('fullsync serve (HTTP)', fullsyncServe, missing(FULLSYNC_BIN));

const rate = (r) => r?.docs_per_sec ?? null;
const rows = [
  ['(a) in-process', 'PouchDB 9, LevelDB', rate(results.inprocess.pouchdb_leveldb), ''],
  ['(a) in-process', 'fullsync-bench', rate(results.inprocess.fullsync), ratio(rate(results.inprocess.fullsync), rate(results.inprocess.pouchdb_leveldb)) + ' PouchDB'],
  ['(b) HTTP', 'pouchdb-server 4.2.0', rate(results.http.pouchdb_server), ''],
  ['(b) HTTP', 'fullsync serve', rate(results.http.fullsync), ratio(rate(results.http.fullsync), rate(results.http.pouchdb_server)) + ' pouchdb-server'],
];
results.ratios = {
  inprocess_fullsync_vs_pouchdb: rate(results.inprocess.fullsync) && rate(results.inprocess.pouchdb_leveldb) ? rate(results.inprocess.fullsync) / rate(results.inprocess.pouchdb_leveldb) : null,
  http_fullsync_vs_pouchdb_server: rate(results.http.fullsync) && rate(results.http.pouchdb_server) ? rate(results.http.fullsync) / rate(results.http.pouchdb_server) : null,
};

const head = ['mode', 'engine', 'bulk insert docs/s', 'ratio'];
const cells = rows.map((r) => [r[0], r[1], fmt(r[2]), r[2] == null ? '' : r[3]]);
const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
const line = (c) => '| ' + c.map((x, i) => x.padEnd(widths[i])).join(' | ') + ' |';
log('');
log(`Bulk insert, ${N.toLocaleString('en-US')} docs, batches of ${BATCH} (one run, same machine)`);
log(line(head));
log('|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|');
for (const c of cells) log(line(c));
for (const n of results.notes) log(`note: ${n}`);
log('');
log('BENCH_JSON ' + JSON.stringify(results));
if (process.env.BENCH_JSON_OUT) await writeFile(process.env.BENCH_JSON_OUT, JSON.stringify(results, null, 2) + '\n');
