// End to end, as a user does it (clicks and typing in headless Chromium, web mode): the studio
// does the whole job of a FullSync developer. One named scenario per piece of issue 17:
//   - a map file edited outside the studio: the status bar says "synced", the editor reloads,
//     the view runner answers with the new code, and a new file appears in the explorer;
// STUDIO_SCREENSHOTS=docs refreshes docs/studio-sync.png.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './lib/server.mjs';
import { openStudio, screenshot } from './lib/studio.mjs';

const post = (body) => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

function needUi() {
  assert.ok(existsSync(join(REPO_ROOT, 'ui', 'dist', 'index.html')), 'build the UI first: (cd ui && npm ci && npm run build)');
}

/** The sync state's generation is shown in the tooltip's source; wait for the status bar text. */
async function waitSynced(page) {
  await page.waitForFunction(() => document.querySelector('[data-testid="sync-state"]')?.dataset.state === 'synced');
}

test('a map edited outside the studio: synced, and the runner answers with the new code', async (t) => {
  needUi();
  const { project, studio, page } = await openStudio(t);
  const r = await studio.fetch('catalog/_bulk_docs', post({ docs: [{ _id: 'p1', type: 'product', name: 'Mug', category: 'kitchen', price: 4 }] }));
  assert.equal(r.status, 201);
  await waitSynced(page);
  assert.equal(await page.textContent('[data-testid="sync-state"]'), 'synced');

  const mapPath = 'connectors/catalog/design/products/views/by_name/map.js';
  await page.click(`#explorer span[data-path="${mapPath}"]`);
  await page.waitForSelector('[data-testid="runner"]:not([hidden])');
  await page.click('[data-testid="runner-run"]');
  await page.waitForFunction(() => /1 row\(s\)/.test(document.querySelector('#runner-meta').textContent));
  assert.match(await page.textContent('#runner-json'), /"key": "mug"/);

  // Another editor rewrites the map behind the studio's back.
  writeFileSync(join(project, mapPath), "(doc) => {\n  if (doc.type === 'product') emit(doc.name.toUpperCase(), doc.price * 100);\n}\n");
  // The editor reloads it (no unsaved edits), the status bar tells where the change came from.
  await page.waitForFunction(() => window.studioEditor.getValue().includes('toUpperCase'));
  await page.waitForFunction((p) => document.querySelector('[data-testid="sync-state"]').title.includes(p), mapPath);
  await waitSynced(page);
  await page.click('[data-testid="runner-run"]');
  await page.waitForFunction(() => /"key": "MUG"/.test(document.querySelector('#runner-json').textContent));
  assert.match(await page.textContent('#runner-json'), /"value": 400/);
  // ... and so does the CouchDB API.
  const view = await (await studio.fetch('catalog/_design/products/_view/by_name')).json();
  assert.equal(view.rows[0].key, 'MUG');

  // A view created on disk appears in the explorer without a reload.
  const dir = join(project, 'connectors/catalog/design/products/views/by_price');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'map.js'), '(doc) => { if (doc.price) emit(doc.price, null); }\n');
  await page.waitForSelector('#explorer span[data-node="view:by_price"]');
  await waitSynced(page);
  await screenshot(page, 'studio-sync.png');
});
