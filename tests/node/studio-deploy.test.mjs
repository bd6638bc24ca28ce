// End to end in headless Chromium: the studio's Deploy screen against a `fullsync serve` (as its
// local admin). The plan names every view the server rebuilds with the database's document
// count; a staged deploy shows the index build's progress and leaves the live views built; the
// server's history lists the deploys and rolls back to an older one.
// STUDIO_SCREENSHOTS=docs writes docs/studio-deploy-history.png.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, startServer } from './lib/server.mjs';
import { openStudio, screenshot } from './lib/studio.mjs';

const DOCS = 3000;
const VIEWS = ['by_customer', 'by_id', 'by_status', 'totals'];

test('studio Deploy screen: every reindexed view in the plan, staged deploy with progress, history, rollback to an older deploy', async (t) => {
  assert.ok(existsSync(join(REPO_ROOT, 'ui', 'dist', 'index.html')), 'build the UI first: (cd ui && npm ci && npm run build)');
  const remote = await startServer();
  t.after(() => remote.stop());
  const admin = await remote.localAdmin();
  const auth = { authorization: 'Basic ' + Buffer.from(`${admin.username}:${admin.password}`).toString('base64') };
  const call = async (method, path, body) => {
    const r = await fetch(remote.url + path, { method, headers: { 'content-type': 'application/json', ...auth }, body: body && JSON.stringify(body) });
    return { status: r.status, body: await r.json() };
  };
  const { project, page } = await openStudio(t, {
    env: (w) => ({ FULLSYNC_CONFIG_DIR: join(w, 'config'), FULLSYNC_SERVER_REMOTE_PASSWORD: admin.password }),
  });
  page.on('dialog', (d) => d.accept());

  await page.click('[data-testid="deploy-open"]');
  await page.waitForSelector('[data-testid="deploy-servers"] li');
  await page.fill('[data-testid="server-name"]', 'remote');
  await page.fill('[data-testid="server-url"]', remote.url);
  await page.fill('[data-testid="server-user"]', admin.username);
  await page.click('[data-testid="server-save"]');
  await page.waitForSelector('[data-testid="deploy-servers"] li[data-name="remote"] input:checked');
  assert.match(await page.textContent('[data-testid="deploy-servers"] li[data-name="remote"]'), /password: environment/);

  let docCount, li;
  await t.test('First deploy, then the server gets data', async () => {
    await page.click('[data-testid="deploy-apply"]');
    await page.waitForSelector('[data-testid="deploy-jobs"] .job[data-state="done"]', { timeout: 60_000 });
    const statuses = ['paid', 'new', 'cancelled'];
    const docs = Array.from({ length: DOCS }, (_, i) => ({ _id: `o${i}`, type: 'order', status: statuses[i % 3], total: i % 40, customer: `c${i % 9}`, date: '2026-03-01' }));
    assert.equal((await call('POST', 'orders/_bulk_docs', { docs })).status, 201);
    assert.equal((await call('GET', 'orders/_design/app/_view/by_id?limit=1')).status, 200);
    docCount = (await call('GET', 'orders')).body.doc_count;
  });
  await t.test('One view changes on disk: the plan lists the four views of _design/app and the cost', async () => {
    writeFileSync(join(project, 'connectors/orders/design/app/views/by_status/map.js'), "function (doc) { if (doc.type === 'order') emit(doc.status, 1); }\n");
    await page.click('[data-testid="deploy-plan"]');
    li = '.plan[data-server="remote"] li[data-id="orders/_design/app"]';
    await page.waitForSelector(li);
    assert.equal(await page.getAttribute(li, 'data-action'), 'update');
    assert.deepEqual((await page.getAttribute(`${li} [data-testid="plan-reindex"]`, 'data-views')).split(',').sort(), VIEWS);
    const reindex = await page.textContent(`${li} [data-testid="plan-reindex"]`);
    assert.ok(reindex.includes(`${docCount.toLocaleString('en')} documents`), reindex);
    assert.match(reindex, /one index for 4 views/);
    assert.match(await page.textContent('[data-testid="plan-diff"]'), /these 4 views share one index/);
  });
  await t.test('A staged deploy: the index build\'s progress, and the live views built when it ends', async () => {
    await page.click('[data-testid="deploy-jobs"] .job[data-state="done"] [data-testid="deploy-dismiss"]');
    await page.check('[data-testid="deploy-staged"]');
    await page.click('[data-testid="deploy-apply"]');
    const job = await page.waitForSelector('[data-testid="deploy-jobs"] .job[data-state="done"]', { timeout: 120_000 });
    assert.match(await job.textContent(), /staged deploy to remote/);
    const index = await job.$('[data-testid="deploy-index-progress"]');
    assert.ok(index, 'the index build progress is shown');
    const done = Number(await index.getAttribute('data-done'));
    const total = Number(await index.getAttribute('data-total'));
    assert.equal(done, total);
    assert.ok(total >= DOCS, String(total));
    for (const v of VIEWS) {
      const r = await call('GET', `orders/_design/app/_view/${v}?reduce=false&update=false`);
      assert.equal(r.body.rows.length, DOCS, `${v} with update=false right after the staged deploy`);
    }
    assert.equal((await call('GET', 'orders/_design/app-staging')).status, 404);
  });
  await t.test('History: newest first; roll back to the first deploy', async () => {
    await page.click('[data-testid="deploy-history-show"]');
    await page.waitForSelector('[data-testid="deploy-history"] li[data-kind="staged deploy"]');
    const kinds = await page.$$eval('[data-testid="deploy-history"] li', (lis) => lis.map((l) => l.dataset.kind));
    assert.deepEqual(kinds, ['staged deploy', 'deploy']);
    assert.equal(await page.$eval('[data-testid="deploy-history"] li:first-child [data-testid="history-rollback"]', (b) => b.disabled), true, 'the deploy in effect');
    await page.click('[data-testid="deploy-history"] li[data-kind="deploy"] [data-testid="history-rollback"]');
    await page.waitForSelector('[data-testid="deploy-history"] li[data-kind="rollback"]', { timeout: 60_000 });
    assert.deepEqual(await page.$$eval('[data-testid="deploy-history"] li', (lis) => lis.map((l) => l.dataset.kind)), ['rollback', 'staged deploy', 'deploy']);
    assert.match(await page.textContent('[data-testid="deploy-jobs"]'), /rollback of remote to \d{13}/);
    const app = (await call('GET', 'orders/_design/app')).body;
    assert.match(app.views.by_status.map, /doc\.total/, 'the first deploy\'s by_status is back');
    assert.equal(app.fullsync_project, 'sample');
    await screenshot(page, 'studio-deploy-history.png');
  });
});
