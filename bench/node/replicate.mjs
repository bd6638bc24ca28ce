#!/usr/bin/env node
// Side-by-side replication benchmark, in ONE run, on the reference workload (shared/peers.md):
// BENCH_DOCS docs (default 50,000) of ~200 bytes stored on a server, then for each batch size:
//
//   ours:    `fullsync replicate --data DIR SERVER/src local --batch-size B`   (pull into the engine)
//            `fullsync replicate --data DIR local SERVER/fresh --batch-size B` (push back)
//   PouchDB: PouchDB.replicate(SERVER/src, LevelDB in a temp dir, {batch_size: B})  (pull)
//            PouchDB.replicate(that LevelDB, SERVER/fresh, {batch_size: B})         (push)
//
// Servers: pouchdb-server 4.2.0 (always), then `fullsync serve` (release build) as the server,
// unless BENCH_FULLSYNC_SERVER=0. Every target is checked afterwards (doc_count = N, no write
// failures). Measurements run one after another, alternating ours and PouchDB's, never two at
// once (2 cores). Our timings are the wall time of the `fullsync replicate` process.
//
// Env: BENCH_DOCS (default 50000), BENCH_BATCHES (default 100,500,1000),
//      BENCH_FS_BATCHES (batch sizes against fullsync serve, default 1000),
//      BENCH_FULLSYNC_SERVER=0 (skip the fullsync serve part),
//      FULLSYNC_BIN (default target/release/fullsync), BENCH_JSON_OUT (JSON summary file).

import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import PouchDB from 'pouchdb';

import { refBatches } from './workload.mjs';
import { FullSyncServer } from '../../tests/node/lib/server.mjs';
import { startPouchdbServer } from '../../tests/node/lib/pouchdb-server.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '..', '..');
const N = Number(process.env.BENCH_DOCS || 50_000);
const BATCHES = (process.env.BENCH_BATCHES || '100,500,1000').split(',').map(Number);
const FS_BATCHES = (process.env.BENCH_FS_BATCHES || '1000').split(',').map(Number);
const WITH_FS_SERVER = process.env.BENCH_FULLSYNC_SERVER !== '0';
const FULLSYNC_BIN = resolve(process.env.FULLSYNC_BIN || join(ROOT, 'target', 'release', 'fullsync'));
const POUCHDB_SERVER = join(HERE, 'node_modules', 'pouchdb-server', 'bin', 'pouchdb-server');
const KEEPALIVE = join(HERE, 'keepalive.cjs');

const log = (...a) => console.log(...a);
const fmt = (x) => (x == null ? 'n/a' : Math.round(x).toLocaleString('en-US'));
const secs = () => {
  const t0 = process.hrtime.bigint();
  return () => Number(process.hrtime.bigint() - t0) / 1e9;
};

// CPU seconds, to see who is the bottleneck: the server process (utime+stime from /proc), our
// `fullsync replicate` child (this process's cutime+cstime: children it has waited for), and
// PouchDB in this process (process.cpuUsage()).
const TICK = 100; // CLK_TCK on Linux
function procCpu(pid, children = false) {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const x = f.slice(f.lastIndexOf(')') + 2).split(' ');
    // fields after ")": state=0 ... utime=11 stime=12 cutime=13 cstime=14
    return children ? (Number(x[13]) + Number(x[14])) / TICK : (Number(x[11]) + Number(x[12])) / TICK;
  } catch {
    return null;
  }
}
const selfCpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
let SERVER_PID = null;
/** Run fn; add server_cpu and client_cpu (seconds) to its result. */
async function withCpu(kind, fn) {
  const s0 = SERVER_PID ? procCpu(SERVER_PID) : null;
  const c0 = kind === 'child' ? procCpu(process.pid, true) : selfCpu();
  const r = await fn();
  const s1 = SERVER_PID ? procCpu(SERVER_PID) : null;
  const c1 = kind === 'child' ? procCpu(process.pid, true) : selfCpu();
  r.server_cpu = s0 == null || s1 == null ? null : s1 - s0;
  r.client_cpu = c0 == null || c1 == null ? null : c1 - c0;
  return r;
}

async function req(method, url, body) {
  const res = await fetch(url, {
    method,
    headers: { Accept: 'application/json', ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}) },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  if (res.status >= 400) throw new Error(`${method} ${url} -> ${res.status} ${text.slice(0, 300)}`);
  return text ? JSON.parse(text) : undefined;
}

async function load(dbUrl) {
  await req('PUT', dbUrl);
  const t = secs();
  for (const docs of refBatches(N, 1000)) {
    const res = await req('POST', `${dbUrl}/_bulk_docs`, { docs });
    const bad = res.filter((r) => r.error);
    if (bad.length) throw new Error(`_bulk_docs: ${bad.length} errors, e.g. ${JSON.stringify(bad[0])}`);
  }
  const s = t();
  const info = await req('GET', dbUrl);
  if (info.doc_count !== N) throw new Error(`${dbUrl}: doc_count ${info.doc_count} after loading ${N}`);
  return s;
}

async function expectCount(dbUrl) {
  const info = await req('GET', dbUrl);
  if (info.doc_count !== N) throw new Error(`${dbUrl}: doc_count ${info.doc_count}, expected ${N}`);
}

function fullsyncReplicate(dataDir, source, target, batch) {
  return withCpu('child', () => fullsyncReplicate1(dataDir, source, target, batch));
}
function fullsyncReplicate1(dataDir, source, target, batch) {
  const args = ['replicate', '--data', dataDir, source, target, '--batch-size', String(batch), '--json-events'];
  return new Promise((res, rej) => {
    const t = secs();
    const child = spawn(FULLSYNC_BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c) => (out = (out + c).slice(-20_000)));
    child.stderr.on('data', (c) => (err = (err + c).slice(-8_000)));
    child.on('error', rej);
    child.on('exit', (code) => {
      const seconds = t();
      const complete = out
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => {
          try {
            return JSON.parse(l);
          } catch {
            return {};
          }
        })
        .filter((e) => e.event === 'complete')
        .pop();
      if (code !== 0 || !complete || !complete.ok || complete.doc_write_failures) {
        return rej(new Error(`fullsync ${args.join(' ')} exited ${code}: ${JSON.stringify(complete)}\n${err.trim().slice(-2000)}`));
      }
      if (complete.docs_written !== N) return rej(new Error(`fullsync ${args.join(' ')}: docs_written ${complete.docs_written}, expected ${N}`));
      res({ seconds, docs_per_sec: N / seconds });
    });
  });
}

function pouchReplicate(source, target, batch) {
  return withCpu('self', () => pouchReplicate1(source, target, batch));
}
async function pouchReplicate1(source, target, batch) {
  const t = secs();
  const r = await PouchDB.replicate(source, target, { batch_size: batch });
  const seconds = t();
  if (!r.ok || r.doc_write_failures) throw new Error(`PouchDB.replicate: ${JSON.stringify({ ok: r.ok, failures: r.doc_write_failures, errors: r.errors })}`);
  if (r.docs_written !== N) throw new Error(`PouchDB.replicate: docs_written ${r.docs_written}, expected ${N}`);
  return { seconds, docs_per_sec: N / seconds };
}

const cpuNote = (r) => `(${r.seconds.toFixed(1)} s wall; CPU s: server ${r.server_cpu?.toFixed(1) ?? '?'}, client ${r.client_cpu?.toFixed(1) ?? '?'})`;

/** Pull then push with both replicators, at one batch size, against the server at baseUrl. */
async function pair(server, baseUrl, batch, results) {
  const src = baseUrl + 'src';
  const row = { server, batch, ours: {}, pouchdb: {} };
  results.push(row);

  // ours
  const dir = await mkdtemp(join(tmpdir(), 'bench-repl-fullsync-'));
  try {
    log(`- ${server}, batch ${batch}: fullsync pull ...`);
    row.ours.pull = await fullsyncReplicate(dir, src, 'local', batch);
    const pushUrl = `${baseUrl}push-ours-${batch}`;
    log(`  fullsync pull ${fmt(row.ours.pull.docs_per_sec)} docs/s ${cpuNote(row.ours.pull)}; push ...`);
    row.ours.push = await fullsyncReplicate(dir, 'local', pushUrl, batch);
    await expectCount(pushUrl);
    log(`  fullsync push ${fmt(row.ours.push.docs_per_sec)} docs/s ${cpuNote(row.ours.push)}`);
    await req('DELETE', pushUrl);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }

  // PouchDB 9, LevelDB
  const pdir = await mkdtemp(join(tmpdir(), 'bench-repl-pouch-'));
  try {
    const local = new PouchDB(join(pdir, 'local'));
    const remoteSrc = new PouchDB(src, { skip_setup: true });
    log(`- ${server}, batch ${batch}: PouchDB pull ...`);
    row.pouchdb.pull = await pouchReplicate(remoteSrc, local, batch);
    const info = await local.info();
    if (info.doc_count !== N) throw new Error(`PouchDB local doc_count ${info.doc_count}`);
    const pushUrl = `${baseUrl}push-pouch-${batch}`;
    await req('PUT', pushUrl);
    log(`  PouchDB pull ${fmt(row.pouchdb.pull.docs_per_sec)} docs/s ${cpuNote(row.pouchdb.pull)}; push ...`);
    row.pouchdb.push = await pouchReplicate(local, new PouchDB(pushUrl, { skip_setup: true }), batch);
    await expectCount(pushUrl);
    log(`  PouchDB push ${fmt(row.pouchdb.push.docs_per_sec)} docs/s ${cpuNote(row.pouchdb.push)}`);
    await req('DELETE', pushUrl);
    await local.close();
  } finally {
    await rm(pdir, { recursive: true, force: true });
  }
  for (const side of [row.ours, row.pouchdb]) {
    const sum = (k) => (side.pull[k] == null || side.push[k] == null ? null : side.pull[k] + side.push[k]);
    side.round_trip = { seconds: sum('seconds'), docs_per_sec: N / sum('seconds'), server_cpu: sum('server_cpu'), client_cpu: sum('client_cpu') };
  }
}

const results = { docs: N, rows: [], notes: [] };

async function onPouchdbServer() {
  const ps = await startPouchdbServer({ bin: POUCHDB_SERVER, keepalive: KEEPALIVE });
  SERVER_PID = ps.child.pid;
  try {
    const s = await load(ps.url + 'src');
    log(`pouchdb-server 4.2.0: loaded ${N.toLocaleString('en-US')} docs in ${s.toFixed(1)} s (${fmt(N / s)} docs/s)`);
    for (const b of BATCHES) await pair('pouchdb-server 4.2.0', ps.url, b, results.rows);
  } finally {
    await ps.stop();
  }
}

async function onFullsyncServe() {
  const srv = new FullSyncServer({ bin: FULLSYNC_BIN });
  await srv.start();
  SERVER_PID = srv.child.pid;
  try {
    const s = await load(srv.url + 'src');
    log(`fullsync serve: loaded ${N.toLocaleString('en-US')} docs in ${s.toFixed(1)} s (${fmt(N / s)} docs/s)`);
    for (const b of FS_BATCHES) await pair('fullsync serve', srv.url, b, results.rows);
  } finally {
    await srv.dispose();
  }
}

if (!existsSync(FULLSYNC_BIN)) {
  console.error(`fullsync binary not found at ${FULLSYNC_BIN} (cargo build --release -p fullsync-cli)`);
  process.exit(2);
}
if (!existsSync(POUCHDB_SERVER)) {
  console.error(`pouchdb-server not installed at ${POUCHDB_SERVER} (npm ci in bench/node)`);
  process.exit(2);
}

log(`Replication benchmark: reference workload, ${N.toLocaleString('en-US')} docs; fullsync = ${FULLSYNC_BIN}`);
for (const [label, fn, on] of [
  ['pouchdb-server', onPouchdbServer, true],
  ['fullsync serve', onFullsyncServe, WITH_FS_SERVER],
]) {
  if (!on) {
    results.notes.push(`${label}: skipped (BENCH_FULLSYNC_SERVER=0)`);
    continue;
  }
  try {
    await fn();
  } catch (err) {
    log(`${label}: FAILED: ${err.stack || err.message}`);
    results.notes.push(`${label}: failed: ${err.message.split('\n')[0]}`);
    process.exitCode = 1;
  }
}

// ---------- table ----------
const ratio = (a, b) => (a && b ? a / b : null);
const head = ['server', 'batch', 'direction', 'fullsync docs/s', 'PouchDB 9 docs/s', 'ratio', '>= 3x', 'CPU s fullsync (server+client)', 'CPU s PouchDB (server+client)'];
const cpu = (x) => (x && x.server_cpu != null ? `${x.server_cpu.toFixed(1)} + ${x.client_cpu.toFixed(1)}` : '');
const cells = [];
for (const r of results.rows) {
  r.ratio = {};
  for (const dir of ['pull', 'push', 'round_trip']) {
    const a = r.ours[dir]?.docs_per_sec;
    const b = r.pouchdb[dir]?.docs_per_sec;
    const x = ratio(a, b);
    r.ratio[dir] = x;
    cells.push([
      r.server,
      String(r.batch),
      dir.replace('_', ' '),
      fmt(a),
      fmt(b),
      x == null ? 'n/a' : x.toFixed(2) + 'x',
      x == null ? '' : x >= 3 ? 'yes' : 'NO',
      cpu(r.ours[dir]),
      cpu(r.pouchdb[dir]),
    ]);
  }
}
const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
const line = (c) => '| ' + c.map((x, i) => x.padEnd(widths[i])).join(' | ') + ' |';
log('');
log(`Replication, reference workload, ${N.toLocaleString('en-US')} docs (one run, same machine; round trip = N / (pull s + push s))`);
log(line(head));
log('|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|');
for (const c of cells) log(line(c));
for (const n of results.notes) log(`note: ${n}`);
log('');
log('BENCH_JSON ' + JSON.stringify(results));
if (process.env.BENCH_JSON_OUT) await writeFile(process.env.BENCH_JSON_OUT, JSON.stringify(results, null, 2) + '\n');
