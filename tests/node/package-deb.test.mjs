// The Debian package, installed as a user would: FULLSYNC_DEB (built by scripts/package.sh,
// which scripts/test.sh runs) is installed with apt on this machine, then
// - its files are there: the desktop app, the `fullsync` CLI beside it, the desktop entry, the
//   icons, the shell completions; `fullsync --version` names this checkout's commit;
// - the installed `fullsync`, run from an empty temporary folder, serves the studio compiled
//   into it (`serve --studio`) and Chromium loads it;
// - the installed desktop app starts under Xvfb (tauri-driver + WebKitWebDriver) and shows the
//   project, as the desktop-window test checks the built one, with the same locked-down webview;
// and the package is removed with apt, also when a check fails.
//
// Needs root (or sudo without a password), FULLSYNC_DEB and TAURI_DRIVER; skipped without them.
// The package must not be installed before (the test installs and removes its own).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { expectedCommit, workspaceVersion } from './lib/build.mjs';
import { explorerText, screenColours, startDesktop, webviewLockdown } from './lib/desktop.mjs';
import { openEmbeddedStudio } from './lib/studio.mjs';
import { REPO_ROOT } from './lib/server.mjs';

const DEB = process.env.FULLSYNC_DEB ? resolve(process.env.FULLSYNC_DEB) : null;
const DRIVER = process.env.TAURI_DRIVER;
const root = process.getuid?.() === 0;
const sudo = root ? [] : ['sudo', '-n'];

/** Runs a command as root (directly, or through `sudo -n`); throws with its output when it fails. */
function asRoot(cmd, args) {
  const [bin, ...rest] = [...sudo, cmd, ...args];
  const r = spawnSync(bin, rest, { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }, encoding: 'utf8', timeout: 600_000 });
  if (r.status !== 0) throw new Error(`${[cmd, ...args].join(' ')} failed (${r.status ?? r.signal}): ${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

const installed = (pkg) => spawnSync('dpkg-query', ['-W', '-f=${Status}', pkg], { encoding: 'utf8' }).stdout.includes('install ok installed');

test('the .deb installs with apt, its fullsync serves the studio from an empty folder, its app opens its window, and it is removed', { timeout: 900_000 }, async (t) => {
  if (!DEB || !DRIVER) {
    t.skip('set FULLSYNC_DEB (scripts/package.sh --debug builds it) and TAURI_DRIVER; scripts/test.sh does');
    return;
  }
  if (!root && spawnSync('sudo', ['-n', 'true']).status !== 0) {
    t.skip('installing the .deb needs root or sudo without a password');
    return;
  }
  assert.ok(existsSync(DEB), `${DEB} does not exist: run scripts/package.sh --debug`);
  const pkg = execFileSync('dpkg-deb', ['-f', DEB, 'Package']).toString().trim();
  assert.equal(execFileSync('dpkg-deb', ['-f', DEB, 'Version']).toString().trim(), workspaceVersion());
  assert.ok(!installed(pkg), `${pkg} is already installed: remove it first (apt-get remove ${pkg}); this test installs and removes its own`);

  try {
    // Waits for apt's lock (a fresh machine may be running its own apt jobs).
    asRoot('apt-get', ['-o', 'DPkg::Lock::Timeout=300', 'install', '-y', '-q', '--no-install-recommends', DEB]);
    assert.ok(installed(pkg), `${pkg} is installed`);

    await t.test('files: the app, fullsync beside it, desktop entry, icons, completions; --version', () => {
      const files = execFileSync('dpkg-query', ['-L', pkg]).toString().split('\n');
      for (const f of ['/usr/bin/fullsync-studio', '/usr/bin/fullsync', '/usr/share/bash-completion/completions/fullsync', '/usr/share/zsh/vendor-completions/_fullsync', '/usr/share/fish/vendor_completions.d/fullsync.fish']) {
        assert.ok(files.includes(f), `${pkg} has ${f}`);
      }
      const desktop = files.find((f) => /^\/usr\/share\/applications\/.*\.desktop$/.test(f));
      assert.ok(desktop, `${pkg} has a desktop entry: ${files.join(' ')}`);
      const entry = readFileSync(desktop, 'utf8');
      assert.match(entry, /^Exec=fullsync-studio\b/m);
      assert.match(entry, /^Name=FullSync Studio$/m);
      const icon = /^Icon=(.+)$/m.exec(entry)[1];
      assert.ok(files.some((f) => f.startsWith('/usr/share/icons/hicolor/') && f.endsWith(`/apps/${icon}.png`)), `the icon ${icon} is installed`);
      const version = execFileSync('/usr/bin/fullsync', ['--version']).toString().trim();
      assert.equal(version, `fullsync ${workspaceVersion()} (commit ${expectedCommit()})`);
      assert.match(execFileSync('/usr/bin/fullsync-studio', ['--version']).toString(), new RegExp(`\\(commit ${expectedCommit()}\\)`));
      assert.match(readFileSync('/usr/share/bash-completion/completions/fullsync', 'utf8'), /complete .*fullsync/);
    });

    await t.test('the installed fullsync, from an empty folder, serves the studio to Chromium', async (t) => {
      const { page } = await openEmbeddedStudio(t, { bin: '/usr/bin/fullsync', copy: false });
      assert.match(await page.textContent('[data-testid="project-name"]'), /sample 1\.0\.0/);
      await page.click('[data-testid="about-open"]');
      await page.waitForSelector('[data-testid="about"][open]');
      assert.equal(await page.textContent('[data-testid="about-commit"]'), expectedCommit());
    });

    await t.test('the installed desktop app opens its window under Xvfb, locked down', async (t) => {
      const { wd, display } = await startDesktop(t, '/usr/bin/fullsync-studio', DRIVER);
      const explorer = await explorerText(wd);
      assert.match(explorer, /orders/);
      assert.match(await wd.exec("return document.querySelector('[data-testid=project-name]').textContent"), /sample 1\.0\.0/);
      const info = await wd.execAsync("const done = arguments[arguments.length - 1]; window.__TAURI_INTERNALS__.invoke('app_info').then(done, (e) => done({ error: String(e) }));");
      assert.equal(info.commit, expectedCommit());
      const dbs = await (await fetch(`${info.http}/_all_dbs`)).json();
      assert.ok(dbs.includes('orders') && dbs.includes('catalog'), `the installed app serves the sample's databases: ${JSON.stringify(dbs)}`);
      const lock = await webviewLockdown(wd);
      assert.equal(lock.globalTauri, 'undefined');
      assert.match(lock.denied.refused ?? `allowed: ${JSON.stringify(lock.denied)}`, /not allowed/i);
      assert.deepEqual(lock.ran, { script: false, handler: false });
      const { colours, bytes } = screenColours(display, join(REPO_ROOT, 'target', 'package-window.png'));
      assert.ok(colours > 50, `the screenshot looks blank (${colours} colours, ${bytes} bytes)`);
    });
  } finally {
    // Also after a failed or partial install: whatever dpkg knows of the package goes.
    if (spawnSync('dpkg-query', ['-W', pkg]).status === 0) asRoot('apt-get', ['-o', 'DPkg::Lock::Timeout=300', 'remove', '-y', '-q', pkg]);
  }
  assert.ok(!installed(pkg), `${pkg} is removed`);
  assert.ok(!existsSync('/usr/bin/fullsync-studio') && !existsSync('/usr/bin/fullsync'), 'its binaries are gone');
});
