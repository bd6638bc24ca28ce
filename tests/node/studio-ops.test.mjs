// End to end: the studio's operations screens in real headless Chromium, against the sample
// project in web mode and a second `fullsync serve` acting as the remote server.
//   (a) Listeners: documents written through the CouchDB API fire the sample's `new_orders`
//       listener, shown live with their ids; a failing HTTP target shows its error.
//   (b) Replication: a push of `orders` to the second server fills its progress bar
//       (current == total) and ends "done", and the documents are there over HTTP; an
//       unreachable server's error stays on screen until dismissed, its password never shown.
//   (c) Deploy: a server profile for the second server, its plan lists the sample's databases
//       and design documents to create; after deploying, the plan is a no-op.
// STUDIO_SCREENSHOTS=docs writes docs/studio-listeners.png, studio-replication.png, studio-deploy.png.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, startServer } from './lib/server.mjs';
import { openStudio, screenshot } from './lib/studio.mjs';

const json = (method, body) => ({ method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

test('studio operations: listeners fire, replication with progress, deploy plan', async (t) => {
  assert.ok(existsSync(join(REPO_ROOT, 'ui', 'dist', 'index.html')), 'build the UI first: (cd ui && npm ci && npm run build)');
  // Server profiles go to a temporary configuration folder, never the user's.
  const { work, studio, page } = await openStudio(t, { env: (w) => ({ FULLSYNC_CONFIG_DIR: join(w, 'config') }) });
  const config = join(work, 'config');
  const remote = await startServer();
  t.after(() => remote.stop());

  let done, orders, target;
  await t.test('(a) Listeners: the screen lists the sample\'s listeners, then shows them firing', async () => {
    await page.click('[data-testid="listeners-open"]');
    await page.waitForSelector('[data-testid="listeners-defs"] tr[data-name="new_orders"]');
    assert.match(await page.textContent('[data-testid="listeners-state"]'), /Running 3 of 4 listener/);
    orders = [
      { _id: 'order-e2e-1', type: 'order', status: 'paid', total: 12.5, customer: 'ann' },
      { _id: 'order-e2e-2', type: 'order', status: 'pending', total: 7, customer: 'bob' },
    ];
    const w = await studio.fetch(`orders/_bulk_docs`, json('POST', { docs: orders }));
    assert.equal(w.status, 201);
    const fired = await page.waitForSelector('[data-testid="listeners-log"] tr[data-listener="new_orders"]');
    assert.deepEqual(await fired.$$eval('button.doc-link', (bs) => bs.map((b) => b.dataset.id)), ['order-e2e-1', 'order-e2e-2']);
    assert.equal(await fired.$eval('td.result', (td) => td.textContent.trim()), 'ok');
  });
  await t.test('A deletion: `cancelled_removed` logs it, `order_deleted` posts to a hook nobody serves and shows why it failed', async () => {
    const rev = (await (await studio.fetch(`orders/order-e2e-2`)).json())._rev;
    assert.equal((await studio.fetch(`orders/order-e2e-2?rev=${rev}`, { method: 'DELETE' })).status, 200);
    const failed = await page.waitForSelector('[data-testid="listeners-log"] tr[data-listener="order_deleted"].failed');
    assert.match(await failed.textContent(), /order-e2e-2.*127\.0\.0\.1:8080/s);
    await page.waitForSelector('[data-testid="listeners-log"] tr[data-listener="cancelled_removed"].ok');
  });
  await t.test('Newest first', async () => {
    assert.notEqual(await page.$eval('[data-testid="listeners-log"] tbody tr', (tr) => tr.dataset.listener), 'new_orders');
    await screenshot(page, 'studio-listeners.png');
  });
  await t.test('A document id opens the document in the editor', async () => {
    await page.click('[data-testid="listeners-log"] tr[data-listener="new_orders"] button.doc-link[data-id="order-e2e-1"]');
    await page.waitForFunction(() => /orders › order-e2e-1/.test(document.querySelector('#tab-title').textContent));
    assert.match(await page.evaluate(() => window.studioEditor.getValue()), /"total": 12.5/);
  });
  await t.test('(b) Replication: more orders, then a push to the second server with a progress bar. Half of them for bob\'s devices, half for ann\'s (FullSync access rules, for "see as user")', async () => {
    const many = Array.from({ length: 400 }, (_, i) => ({ _id: `bulk-${String(i).padStart(4, '0')}`, type: 'order', status: 'paid', total: i, '~c8oAcl': i % 2 ? 'bob' : 'ann' }));
    assert.equal((await studio.fetch(`orders/_bulk_docs`, json('POST', { docs: many }))).status, 201);
    await page.click('[data-testid="replication-open"]');
    await page.waitForSelector('[data-testid="replication-db"] option[value="orders"]', { state: 'attached' });
    await page.selectOption('[data-testid="replication-db"]', 'orders');
    target = `${remote.url}orders-replica`;
    await page.fill('[data-testid="replication-remote"]', target);
    await page.selectOption('[data-testid="replication-direction"]', 'push');
    await page.click('[data-testid="replication-start"]');
    done = await page.waitForSelector('[data-testid="replication-jobs"] .job[data-state="done"]', { timeout: 60_000 });
    const bar = await done.$eval('progress', (p) => ({ value: p.value, max: p.max, current: Number(p.dataset.current), total: Number(p.dataset.total) }));
    assert.ok(bar.total > 400, JSON.stringify(bar));
    assert.equal(bar.current, bar.total, 'the progress bar is full');
    assert.equal(bar.value, bar.max);
    assert.equal(await done.$eval('[data-testid="job-state"]', (e) => e.textContent), 'done');
    const local = await (await studio.fetch(`orders`)).json();
    const copied = await (await fetch(`${target}`)).json();
    assert.equal(copied.doc_count, local.doc_count, 'every document arrived');
    assert.equal((await (await fetch(`${target}/order-e2e-1`)).json()).total, 12.5);
  });
  await t.test('An unreachable server: the error stays on screen (across polls) until dismissed; the password never shows', async () => {
    await page.fill('[data-testid="replication-remote"]', 'http://bob:hunter2@127.0.0.1:9/orders');
    await page.click('[data-testid="replication-start"]');
    const err = await page.waitForSelector('[data-testid="replication-jobs"] .job[data-state="error"]', { timeout: 60_000 });
    assert.match(await err.$eval('[data-testid="job-errors"]', (e) => e.textContent), /cannot reach the server/);
    assert.match(await err.textContent(), /bob:\*\*\*@127\.0\.0\.1:9/);
    assert.ok(!(await page.content()).includes('hunter2'), 'the password is never shown');
    assert.equal(await page.inputValue('[data-testid="replication-remote"]'), 'http://bob@127.0.0.1:9/orders', 'nor kept in the form');
    await page.waitForTimeout(2000); // the screen polls every 0.7 s
    assert.ok(await page.$('[data-testid="replication-jobs"] .job[data-state="error"] [data-testid="job-errors"]'), 'still shown after more polls');
  });
  await t.test('"See as user": bob, anonymous devices', async () => {
    await page.selectOption('[data-testid="seeas-db"]', 'orders');
    await page.fill('[data-testid="seeas-user"]', 'bob');
    await page.click('[data-testid="seeas-go"]');
    await page.waitForFunction(() => /documents for bob/.test(document.querySelector('[data-testid="seeas-out"]').textContent));
  });
  await t.test('bob\'s 200, plus the order and the design documents that carry no access key', async () => {
    assert.match(await page.textContent('[data-testid="seeas-out"]'), /^203 of 403 documents for bob/);
    await screenshot(page, 'studio-replication.png');
  });
  await t.test('A live sync keeps following: a document written on the server arrives locally; Cancel stops it', async () => {
    await page.fill('[data-testid="replication-remote"]', target);
    await page.selectOption('[data-testid="replication-direction"]', 'sync');
    await page.check('[data-testid="replication-live"]');
    await page.click('[data-testid="replication-start"]');
    const liveJob = '[data-testid="replication-jobs"] .job[data-state="running"]';
    await page.waitForFunction((sel) => document.querySelectorAll(`${sel} .leg`).length === 2 && /waiting for changes/.test(document.querySelector(sel)?.textContent ?? ''), liveJob, { timeout: 60_000 });
    assert.equal((await fetch(`${target}/from-server`, json('PUT', { type: 'order', status: 'paid', total: 1 }))).status, 201);
    for (let i = 0; i < 600 && (await studio.fetch(`orders/from-server`)).status !== 200; i++) await new Promise((r) => setTimeout(r, 100));
    assert.equal((await studio.fetch(`orders/from-server`)).status, 200, 'the live pull brought the server-side write');
    await page.click(`${liveJob} [data-testid="job-cancel"]`);
    await page.waitForSelector('[data-testid="replication-jobs"] .job[data-state="cancelled"]', { timeout: 60_000 });
    await page.click('[data-testid="replication-jobs"] .job[data-state="cancelled"] [data-testid="job-dismiss"]');
    await page.click('[data-testid="replication-jobs"] .job[data-state="error"] [data-testid="job-dismiss"]');
    await page.waitForFunction(() => !document.querySelector('[data-testid="replication-jobs"] .job[data-state="error"]'));
    assert.ok(await page.$('[data-testid="replication-jobs"] .job[data-state="done"]'), 'the other job stays');
    await page.click('[data-testid="replication-close"]');
  });
  await t.test('(c) Deploy: a profile for the second server, the plan, deploy, then nothing left to deploy', async () => {
    page.on('dialog', (d) => d.accept());
    await page.click('[data-testid="deploy-open"]');
    await page.waitForSelector('[data-testid="deploy-servers"] li');
    await page.fill('[data-testid="server-name"]', 'second');
    await page.fill('[data-testid="server-url"]', remote.url);
    await page.click('[data-testid="server-save"]');
    await page.waitForSelector('[data-testid="deploy-servers"] li[data-name="second"] input:checked');
    const profiles = readFileSync(join(config, 'servers.toml'), 'utf8');
    assert.match(profiles, /\[second\]/);
    await page.click('[data-testid="deploy-plan"]');
    await page.waitForSelector('.plan[data-server="second"] [data-testid="plan-items"] li');
    const items = await page.$$eval('.plan[data-server="second"] [data-testid="plan-items"] li', (lis) => lis.map((li) => li.textContent));
    for (const want of ['database catalog', 'database orders', 'catalog/_design/products', 'orders/_design/app']) {
      assert.ok(items.some((i) => i.includes(want)), `${want} in ${JSON.stringify(items)}`);
    }
    assert.equal(await page.getAttribute('.plan[data-server="second"] li[data-id="orders/_design/app"]', 'data-action'), 'create');
    assert.match(await page.textContent('.plan[data-server="second"] li[data-id="orders/_design/app"] .reindex'), /by_status/);
    assert.match(await page.textContent('[data-testid="plan-diff"]'), /\+ orders\/_design\/app/);
    assert.equal((await fetch(`${remote.url}orders`)).status, 404, 'showing the plan changes nothing');
    await page.click('[data-testid="deploy-apply"]');
    const deployed = await page.waitForSelector('[data-testid="deploy-jobs"] .job[data-state="done"]', { timeout: 60_000 });
    const steps = await deployed.$eval('progress', (p) => ({ current: Number(p.dataset.current), total: Number(p.dataset.total) }));
    assert.ok(steps.total >= 4, JSON.stringify(steps));
    assert.equal(steps.current, steps.total);
    await screenshot(page, 'studio-deploy.png');
    const ddoc = await (await fetch(`${remote.url}orders/_design/app`)).json();
    assert.equal(ddoc.fullsync_project, 'sample');
    await page.click('[data-testid="deploy-plan"]');
    await page.waitForSelector('.plan[data-server="second"] [data-testid="plan-noop"]');
    assert.match(await page.textContent('[data-testid="plan-diff"]'), /nothing to deploy/);
  });
});
