#!/usr/bin/env node
// Studio cold start and memory, web mode (desktop-start.mjs measures the desktop window):
//
//  1. a data folder with BENCH_DOCS (100000) orders in the `orders` database of the sample project;
//  2. BENCH_RUNS (5) cold starts of `fullsync serve --studio --project projects/sample` on it, each
//     timed from spawn to (a) the studio URL printed and (b) the project explorer rendered and
//     clickable in headless Chromium (the browser is started once before, so its own start-up is
//     not counted; a desktop window would start its webview instead);
//  3. resident memory of the fullsync process (VmRSS and peak VmHWM from /proc) after the last
//     start, once the documents of the 100k-doc database are listed and the by_status view has
//     been built and queried in the view runner.
//
// Targets (issue 6): interactive explorer < 1 s; resident memory < 200 MB with a 100k-doc
// database open.
//
// Needs: `cargo build --release -p fullsync-cli`, the UI built (`cd ui && npm ci && npm run build`)
// and `npm ci` in tests/node (for playwright-core); Debian's chromium (or CHROMIUM_BIN).
// Env: BENCH_DOCS, BENCH_RUNS, FULLSYNC_BIN (target/release/fullsync), BENCH_JSON_OUT.

import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { chromium } from '../../tests/node/node_modules/playwright-core/index.mjs';
import { loadOrders } from './orders-data.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = process.env.FULLSYNC_BIN || join(ROOT, 'target', 'release', 'fullsync');
const DOCS = Number(process.env.BENCH_DOCS || 100_000);
const RUNS = Number(process.env.BENCH_RUNS || 5);
const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';

function start(args) {
  const t0 = performance.now();
  const child = spawn(BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const urls = {};
  const ready = new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    lines.on('line', (l) => {
      const couch = /listening on (http:\S+)/.exec(l);
      if (couch) {
        urls.couch = couch[1];
        if (!args.includes('--studio')) resolve();
      }
      const studio = /Studio \(web mode\): (http:\S+)/.exec(l);
      if (studio) {
        urls.studio = studio[1];
        resolve();
      }
    });
    child.on('exit', (c) => reject(new Error(`fullsync exited with ${c}: ${stderr}`)));
  });
  return { child, urls, t0, ready };
}

function stop(child) {
  return new Promise((resolve) => {
    child.once('exit', resolve);
    child.kill('SIGTERM');
  });
}

function memory(pid) {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(s)[1]);
  return { rssMB: +(kb('VmRSS') / 1024).toFixed(1), peakMB: +(kb('VmHWM') / 1024).toFixed(1) };
}

const work = mkdtempSync(join(tmpdir(), 'fullsync-studio-bench-'));
const project = join(work, 'sample');
const data = join(work, 'data');
cpSync(join(ROOT, 'projects', 'sample'), project, { recursive: true });
try {
  // 1. The data.
  const secs = await loadOrders(BIN, data, DOCS);
  console.log(`# ${DOCS} docs loaded in ${secs.toFixed(1)} s`);

  // 2. Cold starts.
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
  const runs = [];
  let last;
  for (let i = 0; i < RUNS; i++) {
    const st = start(['serve', '--studio', '--project', project, '--data', data, '--port', '0', '--ui-dir', join(ROOT, 'ui', 'dist')]);
    await st.ready;
    const urlMs = performance.now() - st.t0;
    const page = await browser.newPage({ viewport: { width: 1400, height: 800 } });
    await page.goto(st.urls.studio);
    await page.waitForSelector('#explorer span[data-docs="orders"]');
    const interactiveMs = performance.now() - st.t0;
    runs.push({ urlMs: Math.round(urlMs), interactiveMs: Math.round(interactiveMs) });
    console.log(`# run ${i + 1}: studio URL after ${Math.round(urlMs)} ms, explorer interactive after ${Math.round(interactiveMs)} ms`);
    if (i < RUNS - 1) {
      await page.close();
      await stop(st.child);
    } else {
      last = { st, page };
    }
  }

  // 3. Memory with the 100k-doc database open.
  const { st, page } = last;
  await page.click('#explorer span[data-docs="orders"]');
  await page.waitForFunction(() => /\d+ document\(s\)/.test(document.querySelector('#docs-count').textContent) && document.querySelector('#docs-list li[data-id]'));
  const docsCount = await page.textContent('#docs-count');
  const tv = performance.now();
  await page.click('#explorer span[data-path="connectors/orders/design/app/views/by_status/map.js"]');
  await page.waitForFunction(() => !document.querySelector('#runner').hidden);
  await page.selectOption('#runner-form select[name="reduce"]', 'false');
  await page.click('[data-testid="runner-run"]');
  await page.waitForFunction(() => /total_rows/.test(document.querySelector('#runner-meta').textContent), null, { timeout: 600_000 });
  const viewMs = Math.round(performance.now() - tv);
  const runnerMeta = await page.textContent('#runner-meta');
  const mem = memory(st.child.pid);
  console.log(`# documents panel: ${docsCount}; by_status built and queried from the studio in ${viewMs} ms (${runnerMeta})`);
  console.log(`# fullsync process with the ${DOCS}-doc database open: RSS ${mem.rssMB} MB, peak ${mem.peakMB} MB`);
  await browser.close();
  await stop(st.child);

  const sorted = (k) => runs.map((r) => r[k]).sort((a, b) => a - b);
  const median = (k) => sorted(k)[Math.floor(runs.length / 2)];
  const summary = {
    docs: DOCS,
    runs,
    medianUrlMs: median('urlMs'),
    medianInteractiveMs: median('interactiveMs'),
    viewBuildFromStudioMs: viewMs,
    ...mem,
    targets: { interactiveUnder1s: median('interactiveMs') < 1000, rssUnder200MB: mem.rssMB < 200 && mem.peakMB < 200 },
  };
  console.log(JSON.stringify(summary, null, 2));
  if (process.env.BENCH_JSON_OUT) writeFileSync(process.env.BENCH_JSON_OUT, JSON.stringify(summary, null, 2));
} finally {
  rmSync(work, { recursive: true, force: true });
}
