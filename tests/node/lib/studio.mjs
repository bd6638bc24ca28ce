// Starting the studio's web mode and Debian's Chromium for the end-to-end tests.

import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { chromium } from 'playwright-core';
import { fullsyncBin, REPO_ROOT } from './server.mjs';

export const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';

/**
 * `fullsync serve --studio` on a free port; resolves with {child, couch, studio} URLs. `env`
 * adds environment variables (e.g. FULLSYNC_CONFIG_DIR).
 */
export async function startStudio(project, data, env = {}) {
  // The generated local admin lives in the configuration folder: a temporary one unless given.
  const config = env.FULLSYNC_CONFIG_DIR ?? mkdtempSync(join(tmpdir(), 'fullsync-studio-config-'));
  const child = spawn(
    fullsyncBin(),
    ['serve', '--studio', '--project', project, '--data', data, '--port', '0', '--ui-dir', join(REPO_ROOT, 'ui', 'dist')],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, FULLSYNC_CONFIG_DIR: config, ...env } },
  );
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

/**
 * A studio on a fresh copy of projects/sample in a temporary folder, and a Chromium page on it
 * with the explorer rendered; everything is cleaned up after the test `t`. `project(work)`
 * chooses where the copy goes, `env(work)` adds environment variables.
 */
export async function openStudio(t, { project: where = (w) => join(w, 'sample'), env = () => ({}) } = {}) {
  const work = mkdtempSync(join(tmpdir(), 'fullsync-studio-'));
  const project = where(work);
  mkdirSync(dirname(project), { recursive: true });
  cpSync(join(REPO_ROOT, 'projects', 'sample'), project, { recursive: true });
  const studio = await startStudio(project, join(work, 'data'), env(work));
  const browser = await launchChromium();
  t.after(async () => {
    await browser.close();
    studio.child.kill('SIGTERM');
    rmSync(work, { recursive: true, force: true });
  });
  // Dark, as the screenshots in docs/ (the studio follows the system's scheme by default).
  const page = await browser.newPage({ viewport: { width: 1400, height: 850 }, colorScheme: 'dark' });
  await page.goto(studio.studio);
  await page.waitForSelector('#explorer span.file');
  return { work, project, studio, browser, page };
}

/**
 * With STUDIO_SCREENSHOTS=DIR (relative to the repository root, e.g. `docs`), saves a
 * screenshot of `page` as DIR/name; does nothing otherwise.
 */
export async function screenshot(page, name) {
  if (process.env.STUDIO_SCREENSHOTS) await page.screenshot({ path: join(REPO_ROOT, process.env.STUDIO_SCREENSHOTS, name) });
}
