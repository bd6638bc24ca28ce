// Smoke test of the real desktop window: the Tauri app (src-tauri/, built as `fullsync-studio`)
// under Xvfb, driven over WebDriver by `tauri-driver` + Debian's WebKitWebDriver. It opens the
// sample project on the embedded engine, renders the explorer, opens a map function through the
// Tauri IPC transport, runs a view on the embedded engine's CouchDB API, checks the About dialog
// (version and commit), that the webview is locked down (no `window.__TAURI__`, core commands
// refused by the capability, the CSP stops injected inline scripts), and takes a screenshot of
// the X screen (target/tauri-window.png; docs/studio-desktop.png with STUDIO_SCREENSHOTS=docs).
//
// Needs FULLSYNC_STUDIO_BIN (the app) and TAURI_DRIVER (tauri-driver); scripts/test.sh sets both.
// Skipped only when neither is set; with either set, anything missing (the other variable, the
// app, tauri-driver, Xvfb, WebKitWebDriver) fails the test.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './lib/server.mjs';
import { expectedCommit, workspaceVersion } from './lib/build.mjs';
import { desktopProblems, explorerText, screenColours, sleep, startDesktop, waitFor, webviewLockdown } from './lib/desktop.mjs';

const APP = process.env.FULLSYNC_STUDIO_BIN;
const DRIVER = process.env.TAURI_DRIVER;

test('desktop window (Tauri under Xvfb): explorer, IPC, embedded CouchDB API, About, locked-down webview, screenshot', { timeout: 240_000 }, async (t) => {
  if (!APP && !DRIVER) {
    t.skip('set FULLSYNC_STUDIO_BIN and TAURI_DRIVER (scripts/test.sh does) to test the desktop window');
    return;
  }
  // scripts/test.sh (and so .ci/run) sets both: from here on, whatever keeps the window from
  // running is a failure that says what is missing, never a skip.
  const problems = desktopProblems(APP, DRIVER);
  if (problems.length) assert.fail(`the desktop window cannot run:\n- ${problems.join('\n- ')}`);
  const { wd, display } = await startDesktop(t, APP, DRIVER);

  // The explorer is rendered from the project, through the Tauri IPC transport.
  const explorer = await explorerText(wd);
  assert.match(explorer, /orders/);
  assert.match(explorer, /catalog/);
  assert.match(await wd.exec("return document.querySelector('[data-testid=project-name]').textContent"), /sample 1\.0\.0/);

  // Open a map function: file_read over IPC fills the editor.
  const mapPath = 'connectors/orders/design/app/views/by_status/map.js';
  await wd.exec(`document.querySelector('#explorer span[data-path="${mapPath}"]').click();`);
  const text = await waitFor('the map function in the editor', async () => {
    const v = await wd.exec('return window.studioEditor ? window.studioEditor.getValue() : ""');
    return v.includes('emit') ? v : null;
  });
  assert.match(text, /function/);

  // The embedded engine's CouchDB API answers on loopback while the window is open.
  const info = await wd.execAsync("const done = arguments[arguments.length - 1]; window.__TAURI_INTERNALS__.invoke('app_info').then(done, (e) => done({ error: String(e) }));");
  assert.match(info.http, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.equal(info.commit, expectedCommit(), 'app_info names the commit the app was built from');
  const dbs = await (await fetch(`${info.http}/_all_dbs`)).json();
  assert.ok(dbs.includes('orders') && dbs.includes('catalog'), `the sample's databases are served: ${JSON.stringify(dbs)}`);
  // And an API error crosses IPC as {code, message}.
  const err = await wd.execAsync("const done = arguments[arguments.length - 1]; window.__TAURI_INTERNALS__.invoke('studio', { req: { cmd: 'file_read', args: { path: '../etc/passwd' } } }).then(() => done(null), (e) => done(e));");
  assert.equal(err.code, 'forbidden');
  assert.match(err.message, /outside the project/);

  // About: the version and the commit, over the Tauri transport.
  await wd.exec("document.querySelector('[data-testid=about-open]').click();");
  const about = await waitFor('the About dialog', async () =>
    wd.exec("const d = document.querySelector('[data-testid=about]'); return d && d.open ? { version: d.querySelector('[data-testid=about-version]').textContent, commit: d.querySelector('[data-testid=about-commit]').textContent, transport: d.querySelector('[data-testid=about-transport]').textContent } : null;"),
  );
  assert.deepEqual(about, { version: workspaceVersion(), commit: expectedCommit(), transport: 'desktop app (Tauri IPC)' });
  await wd.exec("document.querySelector('[data-testid=about-close]').click();");

  // The webview is locked down.
  const lock = await webviewLockdown(wd);
  assert.equal(lock.globalTauri, 'undefined', 'no window.__TAURI__ global (withGlobalTauri is off)');
  assert.match(lock.denied.refused ?? `allowed: ${JSON.stringify(lock.denied)}`, /not allowed/i, 'core commands are refused by the capability');
  assert.deepEqual(lock.ran, { script: false, handler: false }, 'the CSP stops injected inline scripts and handlers');
  assert.ok(lock.seen.some((d) => d.startsWith('script-src')), `the CSP reported the injected script: ${JSON.stringify(lock.seen)}`);

  // A screenshot of the real X screen (the window as a user sees it).
  await sleep(500);
  const shot = join(REPO_ROOT, 'target', 'tauri-window.png');
  const { colours, bytes } = screenColours(display, shot);
  assert.ok(colours > 50, `the screenshot looks blank (${colours} colours, ${bytes} bytes)`);
  if (process.env.STUDIO_SCREENSHOTS) cpSync(shot, join(REPO_ROOT, process.env.STUDIO_SCREENSHOTS, 'studio-desktop.png'));
});
