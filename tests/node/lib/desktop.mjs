// Running the desktop app (Tauri, `fullsync-studio`) under Xvfb, driven over WebDriver by
// `tauri-driver` + Debian's WebKitWebDriver: used by the desktop-window test (the app cargo
// built) and the package test (the app installed from the .deb).

import { spawn, execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { fullsyncBin, REPO_ROOT } from './server.mjs';

/** A free TCP port on loopback. */
export function freePort() {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls `fn` until it returns something truthy; fails after `timeoutMs` with its last error. */
export async function waitFor(what, fn, timeoutMs = 60_000) {
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
export class WebDriver {
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

/** Whether `cmd` is a program on the PATH. */
function onPath(cmd) {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * What keeps the desktop window test from running, each with what to do (empty: nothing):
 * `app` (FULLSYNC_STUDIO_BIN) and `driver` (TAURI_DRIVER) set and present, Xvfb and
 * WebKitWebDriver installed.
 */
export function desktopProblems(app, driver) {
  const problems = [];
  if (!app) problems.push('TAURI_DRIVER is set but FULLSYNC_STUDIO_BIN is not: set it to the desktop app (target/debug/fullsync-studio), as scripts/test.sh does');
  else if (!existsSync(app)) problems.push(`FULLSYNC_STUDIO_BIN: ${app} is not built: cargo build -p fullsync-studio`);
  if (!driver) problems.push('FULLSYNC_STUDIO_BIN is set but TAURI_DRIVER is not: set it to tauri-driver, as scripts/test.sh does');
  else if (!existsSync(driver)) problems.push(`TAURI_DRIVER: ${driver} does not exist: install tauri-driver there (scripts/test.sh does: cargo install tauri-driver --version 2.1.0 --locked --root target/tools)`);
  if (!onPath('Xvfb')) problems.push('Xvfb is not installed: run scripts/system-deps.sh (apt-get install xvfb)');
  if (!onPath('WebKitWebDriver')) problems.push('WebKitWebDriver is not installed: run scripts/system-deps.sh (apt-get install webkit2gtk-driver)');
  return problems;
}

/**
 * Starts the desktop app `app` on a copy of projects/sample (loaded into a fresh data folder)
 * under an Xvfb of its own, through tauri-driver `driver`; resolves with {wd, display, work,
 * project, data} once the explorer is rendered. Everything stops after the test `t`.
 */
export async function startDesktop(t, app, driver) {
  const work = mkdtempSync(join(tmpdir(), 'fullsync-tauri-'));
  const project = join(work, 'sample');
  const data = join(work, 'data');
  cpSync(join(REPO_ROOT, 'projects', 'sample'), project, { recursive: true });
  execFileSync(fullsyncBin(), ['project', 'sync', project, '--data', data, '--load-data'], { stdio: 'pipe' });

  // An X server of our own.
  const display = `:${90 + Math.floor(Math.random() * 100)}`;
  const xvfb = spawn('Xvfb', [display, '-screen', '0', '1400x900x24', '-nolisten', 'tcp'], { stdio: 'ignore' });
  // The app's configuration (recent projects, server profiles) goes to the temp folder too.
  const env = { ...process.env, DISPLAY: display, WEBKIT_DISABLE_COMPOSITING_MODE: '1', FULLSYNC_CONFIG_DIR: join(work, 'config') };
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
  const child = spawn(driver, ['--port', String(port), '--native-port', String(nativePort)], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.on('data', (d) => (driverLog += d));
  child.stderr.on('data', (d) => (driverLog += d));
  const wd = new WebDriver(`http://127.0.0.1:${port}`);
  t.after(async () => {
    await wd.stop();
    child.kill('SIGTERM');
    xvfb.kill('SIGTERM');
    rmSync(work, { recursive: true, force: true });
  });
  await waitFor('tauri-driver', async () => (await fetch(`http://127.0.0.1:${port}/status`)).ok, 30_000).catch((e) => {
    throw new Error(`${e.message}\n${driverLog}`);
  });
  await wd.start({ 'tauri:options': { application: app, args: ['--project', project, '--data', data, '--port', '0'] } }).catch((e) => {
    throw new Error(`${e.message}\n${driverLog}`);
  });
  return { wd, display, work, project, data };
}

/** The explorer's text once it lists the project's files (through the Tauri IPC transport). */
export function explorerText(wd) {
  return waitFor('the explorer', async () => {
    const txt = await wd.exec("const e = document.querySelector('[data-testid=explorer]'); return e && e.querySelector('span.file') ? e.textContent : null;");
    return txt;
  });
}

/**
 * A screenshot of the whole X screen `display` into `file`; returns its number of colours (a
 * blank or black screen has one; the rendered studio, with editor, explorer and icons, many).
 */
export function screenColours(display, file) {
  execFileSync('import', ['-display', display, '-window', 'root', file]);
  const colours = Number(execFileSync('identify', ['-format', '%k', file]).toString());
  return { colours, bytes: statSync(file).size };
}

/**
 * What the desktop window's webview may do, checked from inside it (`wd`, a session on the
 * studio): no `window.__TAURI__` global; the app's capability refuses core commands (only the
 * app's own commands are allowed); and the Content Security Policy stops an inline script and an
 * inline event handler injected into the documents panel, reporting both as violations.
 * Resolves with what it saw.
 */
export async function webviewLockdown(wd) {
  const globalTauri = await wd.exec('return typeof window.__TAURI__');
  const denied = await wd.execAsync(
    "const done = arguments[arguments.length - 1]; window.__TAURI_INTERNALS__.invoke('plugin:app|version').then((v) => done({ allowed: v }), (e) => done({ refused: String(e) }));",
  );
  await wd.exec(`
    window.__cspSeen = [];
    document.addEventListener('securitypolicyviolation', (e) => window.__cspSeen.push(e.effectiveDirective));
    const box = document.querySelector('[data-testid=docs-list]') || document.body;
    box.insertAdjacentHTML('beforeend', '<li><img src="data:," onerror="window.__cspHandlerRan = true">injected</li>');
    const s = document.createElement('script');
    s.textContent = 'window.__cspScriptRan = true';
    box.append(s);
  `);
  const seen = await waitFor('the CSP violation reports', async () => {
    const v = await wd.exec('return window.__cspSeen');
    return v.length >= 2 ? v : null;
  }, 15_000).catch(() => wd.exec('return window.__cspSeen'));
  const ran = await wd.exec('return { script: window.__cspScriptRan === true, handler: window.__cspHandlerRan === true }');
  return { globalTauri, denied, seen, ran };
}
