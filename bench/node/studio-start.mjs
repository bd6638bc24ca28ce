#!/usr/bin/env node
// Studio cold start and memory, web mode (desktop-start.mjs measures the desktop window):
//
//  1. a data folder with BENCH_DOCS (100000) orders in the `orders` database of the sample project;
//  2. BENCH_RUNS (5) cold starts of `fullsync serve --studio --project projects/sample` on it, each
//     timed from spawn to (a) the studio URL printed and (b) the project explorer rendered and
//     clickable in headless Chromium (not the page's load event, which waits for Monaco too) (the browser is started once before, so its own start-up is
//     not counted, nor is opening its tab; a desktop window would start its webview instead),
//     with where the time goes:
//     the CouchDB API listening, the studio URL printed, the HTML received, the shell chunk and
//     the first `project_tree` answer received, the explorer drawn (`explorer-shown` mark), the
//     first contentful paint, and the studio chunk (Monaco) received, all from spawn (the page's
//     Resource Timing, on the same clock through performance.timeOrigin);
//  3. resident memory of the fullsync process (VmRSS and peak VmHWM from /proc) after the last
//     start, once the documents of the 100k-doc database are listed and the by_status view has
//     been built and queried in the view runner.
//
// Targets (issue 6): interactive explorer < 1 s; resident memory < 200 MB with a 100k-doc
// database open.
//
// Needs: `cargo build --release -p fullsync-cli`, the UI built (`cd ui && npm ci && npm run build`)
// and `npm ci` in tests/node (for playwright-core); Debian's chromium (or CHROMIUM_BIN).
// Env: BENCH_DOCS, BENCH_RUNS, FULLSYNC_BIN (target/release/fullsync), BENCH_JSON_OUT,
// BENCH_UI_DIR (ui/dist), BENCH_SKIP_VIEW=1 (no view build: start-up and memory only).

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
/** The built UI to serve (BENCH_UI_DIR: another build, e.g. an older one to compare). */
const UI_DIR = process.env.BENCH_UI_DIR || join(ROOT, 'ui', 'dist');
/** BENCH_SKIP_VIEW=1: the cold starts only (no view build, no memory figure). */
const SKIP_VIEW = process.env.BENCH_SKIP_VIEW === '1';
const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';

function start(args) {
  const t0 = performance.now();
  const epoch0 = Date.now();
  const steps = {};
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
        steps.couchUp = Math.round(performance.now() - t0);
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
  return { child, urls, t0, epoch0, steps, ready };
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
    // The tab exists before the start (as the browser does): creating it (~300 ms on this
    // machine) is the browser's cost, not the studio's.
    const page = await browser.newPage({ viewport: { width: 1400, height: 800 } });
    const st = start(['serve', '--studio', '--project', project, '--data', data, '--port', '0', '--ui-dir', UI_DIR]);
    await st.ready;
    const urlMs = performance.now() - st.t0;
    // Not waiting for the page's load event (which also waits for the studio chunk, Monaco,
    // fetched after the explorer is drawn): the explorer's entry, as soon as it is there (the
    // selector is polled in the page, so a main thread busy evaluating a chunk delays it too).
    await page.goto(st.urls.studio, { waitUntil: 'commit' });
    await page.waitForSelector('#explorer span[data-docs="orders"]');
    const interactiveMs = performance.now() - st.t0;
    // Where the time went, from spawn (the page's clock is the epoch through timeOrigin).
    const page_ = await page.evaluate(() => {
      const at = (ms) => (ms ? performance.timeOrigin + ms : null);
      const res = performance.getEntriesByType('resource');
      const first = (re) => res.find((r) => re.test(r.name));
      const nav = performance.getEntriesByType('navigation')[0];
      return {
        navStart: performance.timeOrigin,
        html: at(nav.responseEnd),
        mainJs: at(first(/\/index-[^/]*\.js$/)?.responseEnd),
        // The shell (layout + explorer): its own chunk, or part of the main one.
        shellJs: at((first(/\/explorer-[^/]*\.js$/) ?? first(/\/index-[^/]*\.js$/))?.responseEnd),
        projectTree: at(first(/\/_studio\/api$/)?.responseEnd),
        explorerShown: at(performance.getEntriesByName('explorer-shown')[0]?.startTime),
        fcp: at(performance.getEntriesByName('first-contentful-paint')[0]?.startTime),
        studioJs: at(first(/\/studio-[^/]*\.js$/)?.responseEnd),
        studioLoaded: at(performance.getEntriesByName('studio-loaded')[0]?.startTime),
      };
    });
    const rel = Object.fromEntries(Object.entries(page_).map(([k, v]) => [k, v === null ? null : Math.round(v - st.epoch0)]));
    const breakdown = { couchUp: st.steps.couchUp, studioUrl: Math.round(urlMs), ...rel };
    runs.push({ urlMs: Math.round(urlMs), interactiveMs: Math.round(interactiveMs), breakdown });
    console.log(`# run ${i + 1}: studio URL after ${Math.round(urlMs)} ms, explorer interactive after ${Math.round(interactiveMs)} ms; ${Object.entries(breakdown).map(([k, v]) => `${k} ${v}`).join(', ')}`);
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
  let viewMs = null;
  if (!SKIP_VIEW) {
    const tv = performance.now();
    await page.click('#explorer span[data-path="connectors/orders/design/app/views/by_status/map.js"]');
    await page.waitForFunction(() => !document.querySelector('#runner').hidden);
    await page.selectOption('#runner-form select[name="reduce"]', 'false');
    await page.click('[data-testid="runner-run"]');
    await page.waitForFunction(() => /total_rows/.test(document.querySelector('#runner-meta').textContent), null, { timeout: 600_000 });
    viewMs = Math.round(performance.now() - tv);
    console.log(`# by_status built and queried from the studio in ${viewMs} ms (${await page.textContent('#runner-meta')})`);
  }
  const mem = memory(st.child.pid);
  console.log(`# documents panel: ${docsCount}`);
  console.log(`# fullsync process with the ${DOCS}-doc database open${SKIP_VIEW ? '' : ' and by_status built'}: RSS ${mem.rssMB} MB, peak ${mem.peakMB} MB`);
  await browser.close();
  await stop(st.child);

  const sorted = (k) => runs.map((r) => r[k]).sort((a, b) => a - b);
  const median = (k) => sorted(k)[Math.floor(runs.length / 2)];
  const medianStep = (k) => runs.map((r) => r.breakdown[k]).filter((v) => v !== null && v !== undefined).sort((a, b) => a - b)[Math.floor(runs.length / 2)] ?? null;
  const summary = {
    docs: DOCS,
    runs,
    medianUrlMs: median('urlMs'),
    medianInteractiveMs: median('interactiveMs'),
    medianBreakdownMs: Object.fromEntries(Object.keys(runs[0].breakdown).map((k) => [k, medianStep(k)])),
    viewBuildFromStudioMs: viewMs,
    ...mem,
    targets: { interactiveUnder1s: median('interactiveMs') < 1000, rssUnder200MB: mem.rssMB < 200 && mem.peakMB < 200 },
  };
  console.log(JSON.stringify(summary, null, 2));
  if (process.env.BENCH_JSON_OUT) writeFileSync(process.env.BENCH_JSON_OUT, JSON.stringify(summary, null, 2));
} finally {
  rmSync(work, { recursive: true, force: true });
}
