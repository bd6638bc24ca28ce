#!/usr/bin/env node
// Desktop studio (Tauri, src-tauri/) cold start and memory, under Xvfb:
//
//  1. a data folder with BENCH_DOCS (100000) orders in the sample project's `orders` database;
//  2. BENCH_RUNS (5) cold starts of `fullsync-studio --project projects/sample` on it, launched by
//     tauri-driver (WebKitWebDriver), each timed from the WebDriver "new session" request (which
//     spawns the app) to the project explorer rendered in the window. The WebDriver hand-shake is
//     counted too, so the figure is an upper bound of what a user waits;
//  3. the memory of the whole app after the last start, once the documents panel lists the
//     100k-doc database and the by_status view was built and queried from the view runner: RSS
//     and PSS (shared pages split between processes) summed over the app process and its
//     WebKit web and network processes.
//
// Targets (issue 6): interactive explorer < 1 s; resident memory < 200 MB with a 100k-doc
// database open.
//
// Needs: `cargo build --release -p fullsync-cli -p fullsync-studio` (after building the UI),
// tauri-driver (scripts/test.sh installs it in target/tools), Xvfb and WebKitWebDriver.
// Env: BENCH_DOCS, BENCH_RUNS, FULLSYNC_BIN, FULLSYNC_STUDIO_BIN, TAURI_DRIVER, BENCH_JSON_OUT.

import { execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadOrders } from './orders-data.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = process.env.FULLSYNC_BIN || join(ROOT, 'target', 'release', 'fullsync');
const APP = process.env.FULLSYNC_STUDIO_BIN || join(ROOT, 'target', 'release', 'fullsync-studio');
const DRIVER = process.env.TAURI_DRIVER || join(ROOT, 'target', 'tools', 'bin', 'tauri-driver');
const DOCS = Number(process.env.BENCH_DOCS || 100_000);
const RUNS = Number(process.env.BENCH_RUNS || 5);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function freePort() {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function wd(base, method, path, body) {
  const r = await fetch(`${base}${path}`, { method, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  const j = await r.json();
  if (!r.ok) throw new Error(`WebDriver ${method} ${path}: ${JSON.stringify(j.value ?? j)}`);
  return j.value;
}

async function until(what, fn, ms = 600_000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await fn().catch(() => false)) return;
    await sleep(20);
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** The app process and its descendants (WebKit's web and network processes). */
function tree(pid) {
  const out = [pid];
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    const kids = readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim();
    for (const k of kids ? kids.split(/\s+/) : []) out.push(...tree(Number(k)));
  }
  return out;
}

function mem(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const kb = (text, k) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? 0);
  const name = /^Name:\s+(\S+)/m.exec(status)[1];
  return { pid, name, rssMB: kb(status, 'VmRSS') / 1024, pssMB: kb(rollup, 'Pss') / 1024, peakMB: kb(status, 'VmHWM') / 1024 };
}

if (!existsSync(APP)) throw new Error(`${APP} is not built: (cd ui && npm run build) && cargo build --release -p fullsync-studio`);
const work = mkdtempSync(join(tmpdir(), 'fullsync-desktop-bench-'));
const project = join(work, 'sample');
const data = join(work, 'data');
cpSync(join(ROOT, 'projects', 'sample'), project, { recursive: true });
const display = `:${150 + Math.floor(Math.random() * 50)}`;
const xvfb = spawn('Xvfb', [display, '-screen', '0', '1400x900x24', '-nolisten', 'tcp'], { stdio: 'ignore' });
const env = { ...process.env, DISPLAY: display, WEBKIT_DISABLE_COMPOSITING_MODE: '1', FULLSYNC_CONFIG_DIR: join(work, 'config') };
let driver;
try {
  execFileSync(BIN, ['project', 'sync', project, '--data', data], { stdio: 'ignore' });
  const secs = await loadOrders(BIN, data, DOCS);
  console.log(`# ${DOCS} docs loaded in ${secs.toFixed(1)} s`);
  await until('Xvfb', async () => existsSync(`/tmp/.X11-unix/X${display.slice(1)}`), 20_000);
  const port = await freePort();
  driver = spawn(DRIVER, ['--port', String(port), '--native-port', String(await freePort())], { env, stdio: 'ignore' });
  const base = `http://127.0.0.1:${port}`;
  await until('tauri-driver', async () => (await fetch(`${base}/status`)).ok, 30_000);

  const runs = [];
  let session;
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    const s = await wd(base, 'POST', '/session', { capabilities: { alwaysMatch: { 'tauri:options': { application: APP, args: ['--project', project, '--data', data, '--port', '0'] } } } });
    const sessionMs = performance.now() - t0;
    session = `/session/${s.sessionId}`;
    const exec = (script) => wd(base, 'POST', `${session}/execute/sync`, { script, args: [] });
    await until('the explorer', () => exec("return !!document.querySelector('#explorer span[data-docs=\"orders\"]')"));
    const interactiveMs = performance.now() - t0;
    if (process.env.BENCH_TIMELINE) console.log('#   in the webview:', JSON.stringify(await exec("const n = performance.getEntriesByType('navigation')[0] || {}; return { now: Math.round(performance.now()), domInteractive: Math.round(n.domInteractive || 0), domContentLoaded: Math.round(n.domContentLoadedEventEnd || 0), resources: performance.getEntriesByType('resource').map((r) => [r.name.split('/').pop(), Math.round(r.startTime), Math.round(r.responseEnd)]) };")));
    runs.push({ sessionMs: Math.round(sessionMs), interactiveMs: Math.round(interactiveMs) });
    console.log(`# run ${i + 1}: window up (WebDriver session) after ${Math.round(sessionMs)} ms, explorer interactive after ${Math.round(interactiveMs)} ms`);
    if (i < RUNS - 1) {
      await wd(base, 'DELETE', session);
      await sleep(300);
    }
  }

  // Memory with the 100k-doc database open.
  const exec = (script) => wd(base, 'POST', `${session}/execute/sync`, { script, args: [] });
  await exec("document.querySelector('#explorer span[data-docs=\"orders\"]').click()");
  await until('the documents list', () => exec("return /of \\d+ document/.test(document.querySelector('#docs-count').textContent)"));
  const docsCount = await exec("return document.querySelector('#docs-count').textContent");
  const tv = performance.now();
  await exec("document.querySelector('#explorer span[data-path=\"connectors/orders/design/app/views/by_status/map.js\"]').click()");
  await until('the runner', () => exec("return !document.querySelector('#runner').hidden"));
  await exec("const s = document.querySelector('#runner-form select[name=\"reduce\"]'); s.value = 'false'; s.dispatchEvent(new Event('change')); document.querySelector('[data-testid=\"runner-run\"]').click();");
  await until('the query', () => exec("return /total_rows/.test(document.querySelector('#runner-meta').textContent)"));
  const viewMs = Math.round(performance.now() - tv);
  await sleep(1000);
  const appPid = Number(execFileSync('pgrep', ['-n', '-f', APP]).toString().trim());
  const procs = tree(appPid).map(mem);
  const sum = (k) => +procs.reduce((a, p) => a + p[k], 0).toFixed(1);
  for (const p of procs) console.log(`#   ${p.name} (${p.pid}): RSS ${p.rssMB.toFixed(1)} MB, PSS ${p.pssMB.toFixed(1)} MB, peak ${p.peakMB.toFixed(1)} MB`);
  console.log(`# documents panel: ${docsCount}; by_status built and queried from the desktop studio in ${viewMs} ms`);
  console.log(`# whole app with the ${DOCS}-doc database open: RSS ${sum('rssMB')} MB, PSS ${sum('pssMB')} MB`);
  await wd(base, 'DELETE', session);

  const sorted = (k) => runs.map((r) => r[k]).sort((a, b) => a - b);
  const median = (k) => sorted(k)[Math.floor(runs.length / 2)];
  const summary = {
    docs: DOCS,
    runs,
    medianSessionMs: median('sessionMs'),
    medianInteractiveMs: median('interactiveMs'),
    viewBuildMs: viewMs,
    processes: procs.map((p) => ({ name: p.name, rssMB: +p.rssMB.toFixed(1), pssMB: +p.pssMB.toFixed(1), peakMB: +p.peakMB.toFixed(1) })),
    totalRssMB: sum('rssMB'),
    totalPssMB: sum('pssMB'),
    targets: { interactiveUnder1s: median('interactiveMs') < 1000, pssUnder200MB: sum('pssMB') < 200 },
  };
  console.log(JSON.stringify(summary, null, 2));
  if (process.env.BENCH_JSON_OUT) writeFileSync(process.env.BENCH_JSON_OUT, JSON.stringify(summary, null, 2));
} finally {
  driver?.kill('SIGTERM');
  xvfb.kill('SIGTERM');
  rmSync(work, { recursive: true, force: true });
}
