// Smoke test of the real desktop window: the Tauri app (src-tauri/, built as `fullsync-studio`)
// under Xvfb, driven over WebDriver by `tauri-driver` + Debian's WebKitWebDriver. It opens the
// sample project on the embedded engine, renders the explorer, opens a map function through the
// Tauri IPC transport, runs a view on the embedded engine's CouchDB API, and takes a screenshot
// of the X screen (target/tauri-window.png; docs/studio-desktop.png with STUDIO_SCREENSHOTS=docs).
//
// Needs FULLSYNC_STUDIO_BIN (the app) and TAURI_DRIVER (tauri-driver); scripts/test.sh sets both.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, existsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { fullsyncBin, REPO_ROOT } from './lib/server.mjs';

const APP = process.env.FULLSYNC_STUDIO_BIN;
const DRIVER = process.env.TAURI_DRIVER;

function freePort() {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitFor(what, fn, timeoutMs = 60_000) {
  const end = Date.now() + timeoutMs;
  let last;
  while (Date.now() < end) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    await sleep(250);
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${last.message}` : ''}`);
}

/** A minimal W3C WebDriver client (fetch). */
class WebDriver {
  constructor(base) {
    this.base = base;
  }
  async cmd(method, path, body) {
    const r = await fetch(`${this.base}${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const j = await r.json();
    if (!r.ok || (j.value && j.value.error)) throw new Error(`WebDriver ${method} ${path}: ${JSON.stringify(j.value ?? j)}`);
    return j.value;
  }
  async start(caps) {
    const v = await this.cmd('POST', '/session', { capabilities: { alwaysMatch: caps } });
    this.session = `/session/${v.sessionId}`;
  }
  exec(script, args = []) {
    return this.cmd('POST', `${this.session}/execute/sync`, { script, args });
  }
  execAsync(script, args = []) {
    return this.cmd('POST', `${this.session}/execute/async`, { script, args });
  }
  stop() {
    return this.session ? this.cmd('DELETE', this.session).catch(() => {}) : Promise.resolve();
  }
}

test('desktop window (Tauri under Xvfb): explorer, IPC, embedded CouchDB API, screenshot', { timeout: 240_000 }, async (t) => {
  if (!APP || !DRIVER) {
    t.skip('set FULLSYNC_STUDIO_BIN and TAURI_DRIVER (scripts/test.sh does) to test the desktop window');
    return;
  }
  assert.ok(existsSync(APP), `${APP} is not built: cargo build -p fullsync-studio`);
  const work = mkdtempSync(join(tmpdir(), 'fullsync-tauri-'));
  const project = join(work, 'sample');
  const data = join(work, 'data');
  cpSync(join(REPO_ROOT, 'projects', 'sample'), project, { recursive: true });
  execFileSync(fullsyncBin(), ['project', 'sync', project, '--data', data, '--load-data'], { stdio: 'pipe' });

  // An X server of our own.
  const display = `:${90 + Math.floor(Math.random() * 100)}`;
  const xvfb = spawn('Xvfb', [display, '-screen', '0', '1400x900x24', '-nolisten', 'tcp'], { stdio: 'ignore' });
  const env = { ...process.env, DISPLAY: display, WEBKIT_DISABLE_COMPOSITING_MODE: '1' };
  await waitFor('Xvfb', async () => {
    try {
      execFileSync('xdpyinfo', ['-display', display], { stdio: 'ignore' });
      return true;
    } catch {
      return existsSync(`/tmp/.X11-unix/X${display.slice(1)}`);
    }
  }, 20_000);

  const port = await freePort();
  const nativePort = await freePort();
  let driverLog = '';
  const driver = spawn(DRIVER, ['--port', String(port), '--native-port', String(nativePort)], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  driver.stdout.on('data', (d) => (driverLog += d));
  driver.stderr.on('data', (d) => (driverLog += d));
  const wd = new WebDriver(`http://127.0.0.1:${port}`);
  t.after(async () => {
    await wd.stop();
    driver.kill('SIGTERM');
    xvfb.kill('SIGTERM');
    rmSync(work, { recursive: true, force: true });
  });
  await waitFor('tauri-driver', async () => (await fetch(`http://127.0.0.1:${port}/status`)).ok, 30_000).catch((e) => {
    throw new Error(`${e.message}\n${driverLog}`);
  });
  await wd.start({ 'tauri:options': { application: APP, args: ['--project', project, '--data', data, '--port', '0'] } }).catch((e) => {
    throw new Error(`${e.message}\n${driverLog}`);
  });

  // The explorer is rendered from the project, through the Tauri IPC transport.
  const explorer = await waitFor('the explorer', async () => {
    const txt = await wd.exec("const e = document.querySelector('[data-testid=explorer]'); return e && e.querySelector('span.file') ? e.textContent : null;");
    return txt;
  });
  assert.match(explorer, /orders/);
  assert.match(explorer, /catalog/);
  assert.match(await wd.exec("return document.querySelector('[data-testid=project-name]').textContent"), /sample 1\.0\.0/);
  assert.equal(await wd.exec('return !!window.__TAURI__'), true, 'the desktop window must use the Tauri transport');

  // Open a map function: file_read over IPC fills the editor.
  const mapPath = 'connectors/orders/design/app/views/by_status/map.js';
  await wd.exec(`document.querySelector('#explorer span[data-path="${mapPath}"]').click();`);
  const text = await waitFor('the map function in the editor', async () => {
    const v = await wd.exec('return window.studioEditor ? window.studioEditor.getValue() : ""');
    return v.includes('emit') ? v : null;
  });
  assert.match(text, /function/);

  // The embedded engine's CouchDB API answers on loopback while the window is open.
  const info = await wd.execAsync("const done = arguments[arguments.length - 1]; window.__TAURI__.core.invoke('app_info').then(done, (e) => done({ error: String(e) }));");
  assert.match(info.http, /^http:\/\/127\.0\.0\.1:\d+$/);
  const all = await (await fetch(`${info.http}/orders/_all_docs?limit=0`)).json();
  assert.ok(all.total_rows > 0, `orders has the sample data: ${JSON.stringify(all)}`);
  // And an API error crosses IPC as {code, message}.
  const err = await wd.execAsync("const done = arguments[arguments.length - 1]; window.__TAURI__.core.invoke('studio', { req: { cmd: 'file_read', args: { path: '../etc/passwd' } } }).then(() => done(null), (e) => done(e));");
  assert.equal(err.code, 'forbidden');
  assert.match(err.message, /outside the project/);

  // A screenshot of the real X screen (the window as a user sees it).
  await sleep(500);
  const shot = join(REPO_ROOT, 'target', 'tauri-window.png');
  execFileSync('import', ['-display', display, '-window', 'root', shot]);
  // A blank or black screen has one colour; the rendered studio (editor, explorer, icons) many.
  const colours = Number(execFileSync('identify', ['-format', '%k', shot]).toString());
  assert.ok(colours > 50, `the screenshot looks blank (${colours} colours, ${statSync(shot).size} bytes)`);
  if (process.env.STUDIO_SCREENSHOTS) cpSync(shot, join(REPO_ROOT, process.env.STUDIO_SCREENSHOTS, 'studio-desktop.png'));
});
