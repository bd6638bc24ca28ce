// Starting the studio's web mode and Debian's Chromium for the end-to-end tests.

import { spawn } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { chromium } from 'playwright-core';
import { fullsyncBin, REPO_ROOT } from './server.mjs';

export const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';

/**
 * `fullsync serve --studio` on a free port; resolves with {child, couch, studio} URLs. `env`
 * adds environment variables (e.g. FULLSYNC_CONFIG_DIR). `opts.bin` runs another binary (a
 * copied or installed one), from the folder `opts.cwd`; `opts.embedded` serves the UI compiled
 * into the binary instead of ui/dist (`--ui-dir`).
 */
export async function startStudio(project, data, env = {}, opts = {}) {
  // The generated local admin lives in the configuration folder: a temporary one unless given.
  const config = env.FULLSYNC_CONFIG_DIR ?? mkdtempSync(join(tmpdir(), 'fullsync-studio-config-'));
  const args = ['serve', '--studio', '--data', data, '--port', '0'];
  if (project) args.push('--project', project);
  if (!opts.embedded) args.push('--ui-dir', join(REPO_ROOT, 'ui', 'dist'));
  const child = spawn(opts.bin ?? fullsyncBin(), args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, FULLSYNC_CONFIG_DIR: config, ...env },
    cwd: opts.cwd,
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const lines = createInterface({ input: child.stdout });
  const urls = {};
  await new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`studio did not start: ${stderr}`)), 30_000);
    lines.on('line', (l) => {
      const couch = /listening on (http:\S+)/.exec(l);
      if (couch) urls.couch = couch[1];
      const studio = /Studio \(web mode\): (http:\S+)/.exec(l);
      if (studio) {
        urls.studio = studio[1];
        clearTimeout(t);
        resolve();
      }
    });
    child.on('exit', (c) => reject(new Error(`studio exited with ${c}: ${stderr}`)));
  });
  // The project's databases are FullSync databases: without credentials a client is anonymous
  // there, so the tests' own requests to the CouchDB API go as the local admin.
  const admin = JSON.parse(readFileSync(join(config, 'local-admin.json'), 'utf8'));
  const authorization = 'Basic ' + Buffer.from(`${admin.name}:${admin.password}`).toString('base64');
  /** fetch(`couch` + path) as the local admin. */
  const couchFetch = (path, init = {}) => fetch(urls.couch + path, { ...init, headers: { ...(init.headers ?? {}), authorization } });
  if (!env.FULLSYNC_CONFIG_DIR) child.on('exit', () => rmSync(config, { recursive: true, force: true }));
  return { child, ...urls, fetch: couchFetch, admin: { username: admin.name, password: admin.password } };
}

/** Debian's Chromium, headless, with the flags this machine needs (no background networking). */
export function launchChromium() {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** The default project of `openStudio`: a copy of projects/sample at `project`. */
export function copySample(project) {
  cpSync(join(REPO_ROOT, 'projects', 'sample'), project, { recursive: true });
}

/**
 * The one way the end-to-end tests start the studio: a project in a fresh temporary folder,
 * `fullsync serve --studio` on it and a Chromium page with the explorer rendered; everything is
 * cleaned up after the test `t`. `project(work)` chooses where the project goes, `create(project)`
 * makes it (default: a copy of projects/sample; e.g. `fullsync project import-c8o`), `env(work)`
 * adds environment variables, `viewport` sets the page's size (default 1400x850) and
 * `colorScheme` its scheme (default dark).
 */
export async function openStudio(t, { project: where = (w) => join(w, 'sample'), create = copySample, env = () => ({}), viewport = { width: 1400, height: 850 }, colorScheme = 'dark' } = {}) {
  const work = mkdtempSync(join(tmpdir(), 'fullsync-studio-'));
  const project = where(work);
  mkdirSync(dirname(project), { recursive: true });
  create(project);
  const studio = await startStudio(project, join(work, 'data'), env(work));
  const browser = await launchChromium();
  t.after(async () => {
    await browser.close();
    studio.child.kill('SIGTERM');
    rmSync(work, { recursive: true, force: true });
  });
  // Dark, as the screenshots in docs/ (the studio follows the system's scheme by default).
  const page = await browser.newPage({ viewport, colorScheme });
  await page.goto(studio.studio);
  await page.waitForSelector('#explorer span.file');
  // The explorer shows before the studio's chunk (Monaco, the screens) has loaded: wait for it.
  await page.waitForFunction(() => window.studioEditor);
  return { work, project, studio, browser, page };
}

/**
 * With STUDIO_SCREENSHOTS=DIR (relative to the repository root, e.g. `docs`), saves a
 * screenshot of `page` as DIR/name; does nothing otherwise.
 */
export async function screenshot(page, name) {
  if (process.env.STUDIO_SCREENSHOTS) await page.screenshot({ path: join(REPO_ROOT, process.env.STUDIO_SCREENSHOTS, name) });
}

/**
 * Records the page's Content Security Policy violations from its first script on (an init
 * script, which the page's CSP does not govern); read them with `cspViolations(page)`.
 */
export async function recordCspViolations(page) {
  await page.addInitScript(() => {
    window.__cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e) => window.__cspViolations.push({ directive: e.effectiveDirective, blocked: e.blockedURI, sample: e.sample }));
  });
}

/** The violations recorded since the page loaded (see `recordCspViolations`). */
export function cspViolations(page) {
  return page.evaluate(() => window.__cspViolations ?? null);
}

/**
 * Injects, into the element `selector` of `page`, an inline script element and an element with
 * an inline event handler (what a rendering bug that let a document's HTML through would do);
 * resolves with {script, handler}: whether each ran, once both were reported as CSP violations
 * or 10 s passed.
 */
export async function injectInlineScripts(page, selector) {
  await page.evaluate((sel) => {
    const box = document.querySelector(sel);
    box.insertAdjacentHTML('beforeend', '<li><img src="data:," onerror="window.__handlerRan = true">injected</li>');
    const s = document.createElement('script');
    s.textContent = 'window.__scriptRan = true';
    box.append(s);
  }, selector);
  await page
    .waitForFunction(() => window.__handlerRan || (window.__cspViolations ?? []).filter((v) => v.directive.startsWith('script-src')).length >= 2, null, { timeout: 10_000 })
    .catch(() => {});
  return page.evaluate(() => ({ script: window.__scriptRan === true, handler: window.__handlerRan === true }));
}

/**
 * The studio compiled into a `fullsync` binary: `bin` (default: a copy of the one under test in
 * a temporary folder, or `bin` itself with `copy: false`, e.g. the installed one) runs
 * `serve --studio` without `--ui-dir` from an empty temporary folder (`cwd`), on a copy of
 * projects/sample; a Chromium page records CSP violations and waits for the explorer.
 * `asAdmin`: request headers (JSON, the generated local admin) for writes to the sample's
 * databases. Everything is cleaned up after the test `t`.
 */
export async function openEmbeddedStudio(t, { bin = fullsyncBin(), copy = true } = {}) {
  const work = mkdtempSync(join(tmpdir(), 'fullsync-embedded-'));
  if (copy) {
    mkdirSync(join(work, 'bin'));
    copyFileSync(bin, join(work, 'bin', 'fullsync'));
    bin = join(work, 'bin', 'fullsync');
    chmodSync(bin, 0o755);
  }
  const cwd = join(work, 'empty');
  mkdirSync(cwd);
  const project = join(work, 'sample');
  cpSync(join(REPO_ROOT, 'projects', 'sample'), project, { recursive: true });
  const studio = await startStudio(project, join(work, 'data'), { FULLSYNC_CONFIG_DIR: join(work, 'config') }, { bin, cwd, embedded: true });
  const browser = await launchChromium();
  t.after(async () => {
    await browser.close();
    studio.child.kill('SIGTERM');
    rmSync(work, { recursive: true, force: true });
  });
  const page = await browser.newPage({ viewport: { width: 1400, height: 850 } });
  await recordCspViolations(page);
  await page.goto(studio.studio);
  await page.waitForSelector('#explorer span.file');
  await page.waitForFunction(() => window.studioEditor);
  // The sample's databases follow the FullSync access rules: writes go as the local admin.
  const { username, password } = studio.admin;
  const asAdmin = { 'content-type': 'application/json', authorization: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}` };
  return { work, cwd, bin, studio, browser, page, asAdmin };
}
