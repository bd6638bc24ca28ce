// Memory of `fullsync serve` under concurrent large answers (issue #22), and connection
// resets under 1,000 concurrent requests. A benchmark: it prints figures, asserts nothing.
//
//   FULLSYNC_BIN=target/debug/fullsync node bench/node/memory.mjs
//
// 1. One database with a document whose id is 7 MB (legal, as in CouchDB) and 100 small ones:
//    every `_all_docs` answer is then at least 14 MB.
// 2. BENCH_CONCURRENCY (300) concurrent `GET /db/_all_docs`: peak RSS of the server (VmHWM, and
//    VmRSS sampled every 20 ms), RSS 3 s after the last answer, answers received whole.
// 3. A mixed run of BENCH_MIXED (1,000) concurrent requests, each on its own connection (one in
//    ten a whole `_all_docs`; documents, `_changes`, writes): how many failed or were reset.
//
// Environment: FULLSYNC_BIN (default target/debug/fullsync), BENCH_ID_MB (7),
// BENCH_CONCURRENCY (300), BENCH_MIXED (1000).

import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import http from 'node:http';

const bin = process.env.FULLSYNC_BIN ?? 'target/debug/fullsync';
const idMb = Number(process.env.BENCH_ID_MB ?? 7);
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 300);
const mixed = Number(process.env.BENCH_MIXED ?? 1000);
const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });

function start() {
  const data = mkdtempSync(join(tmpdir(), 'fullsync-mem-'));
  const child = spawn(bin, ['serve', '--data', data, '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/http:\/\/127\.0\.0\.1:(\d+)\//);
      if (m) resolve({ child, data, port: Number(m[1]) });
    });
    child.on('exit', (c) => reject(new Error(`server exited with ${c}`)));
  });
}

/** One request; resolves {status, bytes} (the body is counted, not kept) or {error}. */
function request(port, method, path, body) {
  return new Promise((resolve) => {
    const headers = { 'content-type': 'application/json' };
    const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    if (data) headers['content-length'] = data.length;
    const req = http.request({ host: '127.0.0.1', port, method, path, headers, agent }, (res) => {
      let bytes = 0;
      let tail = '';
      res.on('data', (c) => { bytes += c.length; tail = (tail + c.toString('latin1')).slice(-2); });
      res.on('end', () => resolve({ status: res.statusCode, bytes, complete: tail.endsWith('\n') || tail.endsWith('}') }));
      res.on('error', (e) => resolve({ error: e.code ?? e.message }));
    });
    req.on('error', (e) => resolve({ error: e.code ?? e.message }));
    if (data) req.write(data);
    req.end();
  });
}

function memory(pid) {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k) => Number(s.match(new RegExp(`${k}:\\s+(\\d+)`))[1]);
  return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 };
}

const mb = (x) => `${x.toFixed(0)} MB`;

const { child, data, port } = await start();
try {
  await request(port, 'PUT', '/db');
  const bigId = 'k'.repeat(idMb * 1024 * 1024);
  const put = await request(port, 'POST', '/db', { _id: bigId, n: 0 });
  if (put.status !== 201) throw new Error(`could not write the ${idMb} MB id: ${JSON.stringify(put)}`);
  const docs = Array.from({ length: 100 }, (_, i) => ({ _id: `d${String(i).padStart(3, '0')}`, n: i }));
  await request(port, 'POST', '/db/_bulk_docs', { docs });
  const idle = memory(child.pid);

  let peak = 0;
  const sampler = setInterval(() => { peak = Math.max(peak, memory(child.pid).rss); }, 20);
  const t0 = Date.now();
  const answers = await Promise.all(Array.from({ length: concurrency }, () => request(port, 'GET', '/db/_all_docs')));
  const took = (Date.now() - t0) / 1000;
  clearInterval(sampler);
  const whole = answers.filter((a) => a.status === 200 && a.complete && a.bytes >= 2 * bigId.length).length;
  const failed = answers.length - whole;
  await new Promise((r) => setTimeout(r, 3000));
  const after = memory(child.pid);

  // One in ten is a whole (14 MB) _all_docs; the others are small reads and writes.
  const small = [
    () => request(port, 'GET', '/db/d001'),
    () => request(port, 'GET', '/db/_changes?limit=10'),
    (i) => request(port, 'PUT', `/db/m${i}`, { i }),
    () => request(port, 'GET', '/db/_all_docs?limit=5&startkey=%22d%22'),
  ];
  const kinds = Array.from({ length: 10 }, (_, k) => (k === 0 ? () => request(port, 'GET', '/db/_all_docs') : small[k % small.length]));
  const t1 = Date.now();
  const res = await Promise.all(Array.from({ length: mixed }, (_, i) => kinds[i % kinds.length](i)));
  const took2 = (Date.now() - t1) / 1000;
  const errors = {};
  for (const r of res) {
    const k = r.error ?? (r.status >= 500 ? `HTTP ${r.status}` : null);
    if (k) errors[k] = (errors[k] ?? 0) + 1;
  }
  const final = memory(child.pid);

  console.log(`binary: ${bin}`);
  console.log(`database: one ${idMb} MB id + 100 small docs; each _all_docs answer ${mb(answers.find((a) => a.bytes)?.bytes / 1048576 || 0)}`);
  console.log(`idle RSS before the run: ${mb(idle.rss)}`);
  console.log(`${concurrency} concurrent _all_docs: ${whole} whole answers, ${failed} failed, ${took.toFixed(1)} s`);
  console.log(`  peak RSS (sampled every 20 ms): ${mb(peak)}; VmHWM: ${mb(memory(child.pid).hwm)}`);
  console.log(`  RSS 3 s after the last answer: ${mb(after.rss)}`);
  console.log(`${mixed} concurrent mixed requests (one connection each): ${mixed - Object.values(errors).reduce((a, b) => a + b, 0)} ok, errors ${JSON.stringify(errors)}, ${took2.toFixed(1)} s`);
  console.log(`  RSS after: ${mb(final.rss)}; VmHWM over the whole run: ${mb(final.hwm)}`);
} finally {
  child.kill('SIGKILL');
  rmSync(data, { recursive: true, force: true });
}
