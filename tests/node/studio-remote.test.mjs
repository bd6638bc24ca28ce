// The studio on a real server, through its UI in web mode (headless Chromium, clicks and
// typing), with pouchdb-server 4.2.0 (admin password) as the remote: the Connections section
// of the explorer lists the engine and the server profiles; opening the server asks for the
// password (a wrong one is refused and asked again), lists its databases; documents: search,
// edit (the first write asks for a confirmation naming the server, the next does not), an
// attachment, a conflict resolved; a view run, a Mango query, a preview of an unsaved map on a
// sample (with a per-document error, nothing written), pulls into the engine (whole, and
// filtered by a selector), compare (equal, then a planted difference), the live changes feed;
// then servers that are down, slow and answer garbage: a clear message each, and the studio
// stays usable. STUDIO_SCREENSHOTS=docs writes the three screenshots of docs/.
//
// Data where pouchdb-server and our engine agree: ASCII lowercase keys and ids, integer values,
// builtin reduces (see lib/remote-fixtures.mjs).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './lib/server.mjs';
import { openStudio, screenshot } from './lib/studio.mjs';
import { ADMIN, PASSWORD, closedPort, psFetch, startGarbage, startRemote, startSlow } from './lib/remote-fixtures.mjs';

const tid = (id) => `[data-testid="${id}"]`;

test('studio on a server: connect, browse, edit, resolve, view, Mango, preview on a sample, pull, compare, changes; failing servers', async (t) => {
  assert.ok(existsSync(join(REPO_ROOT, 'ui', 'dist', 'index.html')), 'build the UI first: (cd ui && npm ci && npm run build)');
  const ps = await startRemote();
  t.after(() => ps.stop());
  const slow = await startSlow();
  t.after(() => slow.stop());
  const garbage = await startGarbage();
  t.after(() => garbage.stop());
  const down = await closedPort();
  const { page, studio } = await openStudio(t, {
    env: (w) => {
      const config = join(w, 'config');
      mkdirSync(config, { recursive: true });
      writeFileSync(join(config, 'servers.toml'), [
        `[pouch]\nkind = "couchdb"\nurl = "${ps.url}"\nuser = "${ADMIN}"\n`,
        `[down]\nkind = "couchdb"\nurl = "http://127.0.0.1:${down}"\n`,
        `[slow]\nkind = "couchdb"\nurl = "${slow.url}"\n`,
        `[garbage]\nkind = "couchdb"\nurl = "${garbage.url}"\n`,
      ].join('\n'));
      return { FULLSYNC_CONFIG_DIR: config, FULLSYNC_REMOTE_TIMEOUT_SECS: '2' };
    },
  });

  await t.test('Connections: the engine and every profile', async () => {
    // Connections: the engine, then every profile (the one with a user has no password yet).
    await page.waitForSelector('[data-conn="pouch"]');
    const conns = await page.$$eval('#connections [data-conn]', (n) => n.map((x) => x.dataset.conn));
    assert.deepEqual(conns, ['engine', 'down', 'garbage', 'pouch', 'slow']);
    assert.match(await page.textContent('[data-conn="pouch"]'), /no password/);
    // The list is under the project's tree: scrolled into view for the picture.
    await page.$eval('#connections', (e) => e.scrollIntoView({ block: 'end' }));
    await screenshot(page, 'studio-remote-connections.png');
  });

  await t.test('Open the server: the password asked, a wrong one refused, then accepted', async () => {
    // Open it: the password is asked; a wrong one is refused with the server named, then retried.
    await page.click('[data-conn="pouch"]');
    await page.waitForSelector(tid('srv-login-form'));
    assert.match(await page.textContent(tid('srv-login-form')), /needs the password of `admin`/);
    await page.fill(tid('srv-password'), 'wrong');
    await page.click(tid('srv-login'));
    await page.waitForSelector(`${tid('srv-msg')}.error`);
    assert.match(await page.textContent(tid('srv-msg')), /pouch refused the credentials of `admin`/);
    await page.click(tid('srv-retry'));
    await page.fill(tid('srv-password'), PASSWORD);
    await page.click(tid('srv-login'));
    await page.waitForSelector('[data-testid="srv-dbs"] [data-db="orders"]');
    assert.ok(!(await page.content()).includes(PASSWORD), 'the password is not in the page');
  });

  await t.test('Database info', async () => {
    // Database info.
    await page.click('[data-db="orders"]');
    await page.waitForSelector(tid('srv-info'));
    assert.match(await page.textContent(tid('srv-info')), /"doc_count": 42/);
  });

  await t.test('Documents: search, edit with one confirmation, a stale _rev, create and delete, an attachment added and downloaded', async () => {
    // Documents: search, open, edit; the first write asks for a confirmation naming the server.
    await page.click(tid('srv-tab-documents'));
    await page.fill(tid('rdocs-search'), 'o0');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="rdocs-list"] li').length === 10);
    await page.click('[data-testid="rdocs-list"] [data-id="o01"]');
    await page.waitForSelector(tid('rdoc-text'));
    const o1 = JSON.parse(await page.inputValue(tid('rdoc-text')));
    assert.equal(o1.total, 10);
    await page.fill(tid('rdoc-text'), JSON.stringify({ ...o1, total: 11 }, null, 2));
    await page.click(tid('rdoc-save'));
    await page.waitForSelector(tid('confirm-write'));
    assert.match(await page.textContent(tid('confirm-write')), /writes to server `pouch` \(http:\/\/127\.0\.0\.1:\d+\/\)/);
    await page.click(tid('confirm-write-yes'));
    await page.waitForFunction(() => /saved o01 as 2-/.test(document.querySelector('[data-testid="srv-msg"]').textContent));
    assert.equal((await psFetch(ps, 'GET', '/orders/o01')).total, 11);
    await page.waitForSelector('[data-testid="rdoc"][data-id="o01"][data-rev^="2-"]');
    // A stale _rev is a conflict; the next write is not asked again.
    await page.fill(tid('rdoc-text'), JSON.stringify({ ...o1, total: 12 }, null, 2));
    await page.click(tid('rdoc-save'));
    await page.waitForFunction(() => /conflict/.test(document.querySelector('[data-testid="srv-msg"]').textContent));
    assert.equal(await page.$(tid('confirm-write')), null, 'confirmed once per session');
    // Create a document, then delete it.
    await page.click(tid('rdocs-new'));
    await page.fill(tid('rdoc-text'), '{"_id": "made-in-studio", "type": "note"}');
    await page.click(tid('rdoc-save'));
    await page.waitForSelector('[data-testid="rdoc"][data-id="made-in-studio"][data-rev^="1-"]');
    assert.equal((await psFetch(ps, 'GET', '/orders/made-in-studio')).type, 'note');
    await page.click(tid('rdoc-delete'));
    await page.waitForFunction(() => /deleted made-in-studio on pouch/.test(document.querySelector('[data-testid="srv-msg"]').textContent));
    await assert.rejects(psFetch(ps, 'GET', '/orders/made-in-studio'), /404/);
    // An attachment.
    await page.click('[data-testid="rdocs-list"] [data-id="o03"]');
    await page.waitForSelector('[data-testid="rdoc"][data-id="o03"] [data-testid="rdoc-att-file"]');
    await page.setInputFiles(tid('rdoc-att-file'), { name: 'note.txt', mimeType: 'text/plain', buffer: Buffer.from('hello') });
    await page.waitForFunction(() => /note\.txt \(text\/plain, 5 bytes\)/.test(document.querySelector('[data-testid="rdoc-attachments"]')?.textContent ?? ''));
    const [download] = await Promise.all([page.waitForEvent('download'), page.click(tid('rdoc-att-download-note.txt'))]);
    assert.equal(download.suggestedFilename(), 'note.txt');
    const chunks = [];
    for await (const c of await download.createReadStream()) chunks.push(c);
    assert.equal(Buffer.concat(chunks).toString(), 'hello');
  });

  await t.test('A conflict resolved', async () => {
    // The conflict of c1: keep the losing branch.
    await page.fill(tid('rdocs-search'), 'c');
    await page.waitForSelector('[data-testid="rdocs-list"] [data-id="c1"]');
    await page.click('[data-testid="rdocs-list"] [data-id="c1"]');
    await page.waitForSelector(tid('rdoc-conflicts'));
    assert.equal(await page.$$eval('[data-testid="rdoc-conflicts"] > li', (l) => l.length), 2);
    await page.click(tid('rdoc-keep-1-aaaa'));
    await page.waitForFunction(() => /resolved c1: kept 1-aaaa, deleted 1-bbbb/.test(document.querySelector('[data-testid="srv-msg"]').textContent));
    const c1 = await psFetch(ps, 'GET', '/orders/c1?conflicts=true');
    assert.equal(c1.text, 'left');
    assert.equal(c1._conflicts, undefined);
  });

  await t.test('A view run on the server', async () => {
    // The view runner on the server's design document.
    await page.click(tid('srv-tab-views'));
    await page.waitForSelector(tid('rview-select'));
    await page.selectOption(tid('rview-select'), 'app/by_status');
    await page.fill(tid('rview-query'), '{"group": true}');
    await page.click(tid('rview-run'));
    await page.waitForSelector('[data-testid="rview-rows"] tbody tr');
    const rows = await page.$$eval('[data-testid="rview-rows"] tbody tr', (trs) => trs.map((tr) => Array.from(tr.children).slice(0, 2).map((td) => td.textContent)));
    assert.deepEqual(rows, [['"cancelled"', '2100'], ['"new"', '1800'], ['"paid"', '1901'], ['"shipped"', '2000']]);
    assert.match(await page.textContent(tid('rview-meta')), /4 rows from pouch/);
    await screenshot(page, 'studio-remote-view.png');
  });

  await t.test('A Mango query and its explanation', async () => {
    // Mango.
    await page.click(tid('srv-tab-mango'));
    await page.fill(tid('rmango-query'), '{"selector": {"status": "paid"}, "fields": ["_id", "total"], "limit": 100}');
    await page.click(tid('rmango-run'));
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="rmango-docs"] li').length === 10);
    assert.match(await page.textContent('[data-testid="rmango-docs"] li'), /^\{"_id":"o01","total":11\}$/);
    await page.click(tid('rmango-explain'));
    await page.waitForFunction(() => /"index"/.test(document.querySelector('[data-testid="rmango-docs"]').textContent));
  });

  await t.test('Preview on the first 10 documents and on a random sample, nothing written', async () => {
    // Preview of an unsaved map/reduce on the first 10 documents (c1, o00..o08): o02 throws.
    const seqBefore = (await psFetch(ps, 'GET', '/orders')).update_seq;
    await page.click(tid('srv-tab-preview'));
    await page.fill(tid('rpreview-map'), "function (doc) {\n  if (doc._id === 'o02') throw new Error('boom');\n  if (doc.type === 'order') emit(doc.customer, 1);\n}");
    await page.fill(tid('rpreview-reduce'), '_count');
    await page.fill(tid('rpreview-size'), '10');
    await page.fill(tid('rpreview-query'), '{"group": true}');
    await page.click(tid('rpreview-run'));
    await page.waitForSelector('[data-testid="rpreview-rows"] tbody tr');
    const prow = await page.$$eval('[data-testid="rpreview-rows"] tbody tr', (trs) => trs.map((tr) => Array.from(tr.children).slice(0, 2).map((td) => td.textContent).join('=')));
    assert.deepEqual(prow, ['"c0"=2', '"c1"=2', '"c2"=1', '"c3"=2', '"c4"=1']);
    assert.match(await page.textContent(tid('rpreview-errors')), /o02: .*boom/);
    assert.match(await page.textContent(tid('rpreview-meta')), /sample of 10 documents/);
    // A random sample of 5.
    await page.fill(tid('rpreview-size'), '5');
    await page.check(tid('rpreview-random'));
    await page.click(tid('rpreview-run'));
    await page.waitForFunction(() => /from a random sample of 5 documents/.test(document.querySelector('[data-testid="rpreview-meta"]').textContent));
    assert.equal((await psFetch(ps, 'GET', '/orders')).update_seq, seqBefore, 'nothing written to the server');
  });

  await t.test('Pull the whole database, then a selector', async () => {
    // Pull: the whole database, then only the shipped orders (a selector).
    await page.click(tid('srv-tab-pull'));
    await page.fill(tid('rpull-target'), 'orders_copy');
    await page.click(tid('rpull-start'));
    await page.waitForFunction(() => /^done: /.test(document.querySelector('[data-testid="rpull-progress"]').textContent), null, { timeout: 60_000 });
    await page.fill(tid('rpull-target'), 'shipped_only');
    await page.selectOption(tid('rpull-kind'), 'selector');
    await page.fill(tid('rpull-arg'), '{"status": "shipped"}');
    await page.click(tid('rpull-start'));
    await page.waitForFunction(() => /^(done|error|cancelled): /.test(document.querySelector('[data-testid="rpull-progress"]').textContent), null, { timeout: 60_000 });
    assert.match(await page.textContent(tid('rpull-progress')), /^done: 10 revisions written/);
    const shipped = await (await studio.fetch('shipped_only/_all_docs')).json();
    assert.deepEqual(shipped.rows.map((r) => r.id), ['o02', 'o06', 'o10', 'o14', 'o18', 'o22', 'o26', 'o30', 'o34', 'o38']);
  });

  await t.test('Compare: equal, then a planted difference', async () => {
    // Compare the engine's copy with the server: equal; then a planted difference.
    await page.click(tid('srv-tab-compare'));
    await page.waitForSelector(tid('rcompare-local'));
    await page.selectOption(tid('rcompare-local'), 'orders_copy');
    await page.selectOption(tid('rview-select'), 'app/by_status');
    await page.fill(tid('rcompare-query'), '{"group": true}');
    await page.click(tid('rcompare-run'));
    await page.waitForFunction(() => /^Equal: 4 rows/.test(document.querySelector('[data-testid="rcompare-summary"]').textContent));
    const o5 = await psFetch(ps, 'GET', '/orders/o05');
    await psFetch(ps, 'PUT', '/orders/o05', { ...o5, total: 999 });
    await page.selectOption(tid('rview-select'), 'app/by_customer');
    await page.fill(tid('rcompare-query'), '{"reduce": false}');
    await page.click(tid('rcompare-run'));
    await page.waitForFunction(() => /^2 difference\(s\)/.test(document.querySelector('[data-testid="rcompare-summary"]').textContent));
    const diffs = await page.$$eval('[data-testid="rcompare-diffs"] tbody tr', (trs) => trs.map((tr) => Array.from(tr.children).slice(0, 3).map((td) => td.textContent)));
    assert.deepEqual(diffs, [
      ['only in local orders_copy', '["c0",50]', 'o05'],
      [`only in pouch/orders`, '["c0",999]', 'o05'],
    ]);
    await screenshot(page, 'studio-remote-compare.png');
    await page.selectOption(tid('rcompare-mode'), 'mango');
    await page.fill(tid('rcompare-query'), '{"selector": {"type": "order"}, "limit": 100}');
    await page.click(tid('rcompare-run'));
    await page.waitForFunction(() => /^1 difference\(s\)/.test(document.querySelector('[data-testid="rcompare-summary"]').textContent));
    assert.match(await page.textContent(tid('rcompare-diffs')), /value differs"o05"/);
  });

  await t.test('The changes feed follows the server', async () => {
    // The changes feed follows the server (longpoll).
    await page.click(tid('srv-tab-changes'));
    await page.waitForSelector('[data-testid="rchanges-list"] li');
    await psFetch(ps, 'PUT', '/orders/late-arrival', { type: 'note' });
    await page.waitForSelector('[data-testid="rchanges-list"] li[data-id="late-arrival"]', { timeout: 30_000 });
    await page.click(tid('srv-close'));
  });

  await t.test('Down, slow and garbage servers: a clear message; the studio stays usable', async () => {
    // Failing servers: a clear message each; the studio stays usable.
    for (const [name, want] of [
      ['down', /cannot reach down: .*Is the server running and the URL right\?/],
      ['slow', /slow did not answer GET \/ within 2 s: the server is slow or overloaded/],
      ['garbage', /garbage answered GET \/ with HTTP 200 and something that is not JSON \("<html><body>Please log in/],
    ]) {
      await page.click(`[data-conn="${name}"]`);
      await page.waitForSelector(`${tid('srv-msg')}.error`, { timeout: 30_000 });
      assert.match(await page.textContent(tid('srv-msg')), want);
      assert.ok(await page.$(tid('srv-retry')), 'a retry button');
      await page.click(tid('srv-close'));
    }
    // Still usable: a project file opens in the editor.
    await page.click('#explorer span.file[data-path]');
    await page.waitForFunction(() => !/Open a file/.test(document.querySelector('[data-testid="tab-title"]').textContent));
  });
});
