// Starting the studio's web mode and Debian's Chromium for the end-to-end tests.

import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { chromium } from 'playwright-core';
import { fullsyncBin, REPO_ROOT } from './server.mjs';

export const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';

/**
 * `fullsync serve --studio` on a free port; resolves with {child, couch, studio} URLs. `env`
 * adds environment variables (e.g. FULLSYNC_CONFIG_DIR).
 */
export async function startStudio(project, data, env = {}) {
  const child = spawn(
    fullsyncBin(),
    ['serve', '--studio', '--project', project, '--data', data, '--port', '0', '--ui-dir', join(REPO_ROOT, 'ui', 'dist')],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } },
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
  return { child, ...urls };
}

/** Debian's Chromium, headless, with the flags this machine needs (no background networking). */
export function launchChromium() {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}
