// End to end, as a user does it (clicks and typing in headless Chromium, web mode): the studio
// does the whole job of a FullSync developer. One named scenario per piece of issue 17:
//   - a map file edited outside the studio: the status bar says "synced", the editor reloads,
//     the view runner answers with the new code, and a new file appears in the explorer;
//   - a view with a custom reduce and a test for it, created from the explorer; the Tests
//     screen runs it (pass), then shows it failing with a diff after the reduce is broken, and
//     jumps to the view;
//   - a filter and a validate_doc_update created from the explorer; a write it refuses;
//   - the project's files (fullsync.toml, handlers/, tests/, data/) in the explorer and Ctrl-P,
//     and the project's description in the title bar;
//   - first run: "Load sample data" into an empty database;
//   - Deploy with a session password (a server that requires it, no keyring), and a changed
//     map shown as a code diff in the next plan.
// STUDIO_SCREENSHOTS=docs refreshes docs/studio-sync.png, studio-tests.png, studio-sample-data.png,
// studio-deploy-diff.png.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, startServer } from './lib/server.mjs';
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

/** Right-clicks the explorer node `node` (`kind:name`) and picks `item` from its menu. */
async function menu(page, node, item) {
  await page.click(`#explorer span[data-node="${node}"]`, { button: 'right' });
  await page.click(`[data-testid="context-menu"] li:text-is("${item}")`);
}

/** Types `name` in the explorer's in-place name field and presses Enter. */
async function typeName(page, name) {
  await page.fill('[data-testid="explorer-name"]', name);
  await page.press('[data-testid="explorer-name"]', 'Enter');
}

/** Replaces the editor's text as typing would, and saves with Ctrl-S. */
async function editAndSave(page, text) {
  await page.evaluate((t) => window.studioEditor.setValue(t), text);
  await page.click('#editor');
  await page.keyboard.press('Control+s');
  await page.waitForFunction(() => !document.querySelector('#tab-title').classList.contains('dirty'));
}

async function runTests(page, scope) {
  await page.click('[data-testid="tests-open"]');
  await page.waitForSelector(`[data-testid="tests-scope"] option[value="${scope}"]`, { state: 'attached' });
  await page.selectOption('[data-testid="tests-scope"]', scope);
  await page.click('[data-testid="tests-run"]');
  await page.waitForFunction(() => /passed/.test(document.querySelector('[data-testid="tests-summary"]').textContent));
  return page.textContent('[data-testid="tests-summary"]');
}

test('a view with a custom reduce and its test: passes, fails once the reduce is broken', async (t) => {
  needUi();
  const { project, studio, page } = await openStudio(t);
  const docs = [
    { _id: 'p1', type: 'product', name: 'Mug', category: 'kitchen', price: 4 },
    { _id: 'p2', type: 'product', name: 'Pan', category: 'kitchen', price: 20 },
    { _id: 'p3', type: 'product', name: 'Pen', category: 'office', price: 2 },
  ];
  assert.equal((await studio.fetch('catalog/_bulk_docs', post({ docs }))).status, 201);

  await menu(page, 'ddoc:products', 'New view');
  await typeName(page, 'price_by_category');
  await page.waitForSelector('#explorer span[data-node="view:price_by_category"]');
  const dir = 'connectors/catalog/design/products/views/price_by_category';
  await page.click(`#explorer span[data-path="${dir}/map.js"]`);
  await page.waitForFunction((p) => document.querySelector('[data-testid="tab-title"]').textContent === p, `${dir}/map.js`);
  await editAndSave(page, "function (doc) {\n  if (doc.type === 'product') emit(doc.category, doc.price);\n}\n");

  // A custom reduce: the starter (sum of the values) opens in the editor.
  await menu(page, 'view:price_by_category', 'Reduce: custom function');
  await page.waitForFunction((p) => document.querySelector('[data-testid="tab-title"]').textContent === p, `${dir}/reduce.js`);
  assert.match(readFileSync(join(project, dir, 'reduce.js'), 'utf8'), /rereduce/);
  const ddoc = await (await studio.fetch('catalog/_design/products')).json();
  assert.match(ddoc.views.price_by_category.reduce, /sum\(values\)/, 'synced into the engine');

  // A test of the view, from what it answers now for the database's documents.
  await menu(page, 'view:price_by_category', 'New test');
  await typeName(page, 'price_total');
  await page.waitForFunction(() => document.querySelector('[data-testid="tab-title"]').textContent === 'tests/price_total.test.json');
  const saved = JSON.parse(readFileSync(join(project, 'tests/price_total.test.json'), 'utf8'));
  assert.deepEqual(saved.expect, { rows: [{ key: null, value: 26 }] });
  assert.equal(saved.docs.length, 3);
  assert.ok(await page.$('#explorer span[data-path="tests/price_total.test.json"]'), 'the test is in the explorer');

  assert.match(await runTests(page, 'test:price_total'), /^1 passed, 0 failed/);
  assert.equal(await page.getAttribute('[data-test="price_total"]', 'data-ok'), 'true');
  await page.click('[data-testid="tests-close"]');

  // Break the reduce: the test fails, with a readable diff, and jumps to the view.
  await page.click(`#explorer span[data-path="${dir}/reduce.js"]`);
  await page.waitForFunction((p) => document.querySelector('[data-testid="tab-title"]').textContent === p, `${dir}/reduce.js`);
  await editAndSave(page, 'function (keys, values, rereduce) {\n  return sum(values) + 1;\n}\n');
  assert.match(await runTests(page, 'test:price_total'), /^0 passed, 1 failed/);
  const diff = await page.textContent('[data-testid="tests-diff"]');
  assert.match(diff, /- {7}"value": 26/);
  assert.match(diff, /\+ {7}"value": 27/);
  await screenshot(page, 'studio-tests.png');
  await page.click('[data-testid="tests-jump"]');
  await page.waitForFunction((p) => document.querySelector('[data-testid="tab-title"]').textContent === p, `${dir}/map.js`);
});

test('a filter and a validate_doc_update from the explorer; a write it refuses', async (t) => {
  needUi();
  const { project, studio, page } = await openStudio(t);
  await menu(page, 'ddoc:products', 'New filter');
  await typeName(page, 'only_kitchen');
  const filter = 'connectors/catalog/design/products/filters/only_kitchen.js';
  await page.waitForFunction((p) => document.querySelector('[data-testid="tab-title"]').textContent === p, filter);
  assert.ok(existsSync(join(project, filter)));
  // A second one with the same name is refused, with a reason.
  await menu(page, 'ddoc:products', 'New filter');
  await typeName(page, 'only_kitchen');
  await page.waitForFunction(() => /already exists/.test(document.querySelector('[data-testid="status"]').textContent));

  await menu(page, 'ddoc:products', 'New validate_doc_update');
  const validate = 'connectors/catalog/design/products/validate_doc_update.js';
  await page.waitForFunction((p) => document.querySelector('[data-testid="tab-title"]').textContent === p, validate);
  const ddoc = await (await studio.fetch('catalog/_design/products')).json();
  assert.ok(ddoc.filters.only_kitchen && ddoc.validate_doc_update, 'both synced into the engine');

  // A new document without a type, from the documents panel: refused by the new function.
  await page.click('#explorer span[data-docs="catalog"]');
  await page.click('[data-testid="docs-new"]');
  await page.evaluate(() => window.studioEditor.setValue('{\n  "_id": "untyped",\n  "name": "No type"\n}\n'));
  await page.click('#editor');
  await page.keyboard.press('Control+s');
  await page.waitForFunction(() => /not saved: forbidden: every document needs a type/.test(document.querySelector('#problems').textContent));
  assert.equal((await studio.fetch('catalog/untyped')).status, 404);
});

test("the project's files in the explorer and Ctrl-P; its description in the title bar", async (t) => {
  needUi();
  const { page } = await openStudio(t);
  assert.match(await page.textContent('[data-testid="project-desc"]'), /Orders synced per user/);
  for (const p of ['fullsync.toml', 'handlers/paid.js', 'tests/by_status.test.json', 'data/orders.jsonl', 'connectors/orders/indexes/by_date.json', 'connectors/orders/design/app/views/lib/money.js']) {
    assert.ok(await page.$(`#explorer span[data-path="${p}"]`), `${p} in the explorer`);
  }
  await menu(page, 'folder:handlers', 'New handler');
  await typeName(page, 'notify');
  await page.waitForFunction(() => document.querySelector('[data-testid="tab-title"]').textContent === 'handlers/notify.js');
  await menu(page, 'connector:orders', 'New Mango index');
  await typeName(page, 'by_customer');
  await typeName(page, 'customer, date');
  await page.waitForFunction(() => document.querySelector('[data-testid="tab-title"]').textContent === 'connectors/orders/indexes/by_customer.json');
  await menu(page, 'ddoc:app', 'New lib module');
  await typeName(page, 'dates');
  await page.waitForSelector('#explorer span[data-path="connectors/orders/design/app/views/lib/dates.js"]');
  await page.keyboard.press('Control+p');
  await page.waitForSelector('[data-testid="quick-open-input"]');
  await page.keyboard.type('fullsynctoml');
  assert.equal(await page.getAttribute('[data-testid="quick-open-list"] li.sel', 'data-path'), 'fullsync.toml');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.querySelector('[data-testid="tab-title"]').textContent === 'fullsync.toml');
});

test('first run: load sample data into an empty database of a fresh data folder', async (t) => {
  needUi();
  const { project, studio, page } = await openStudio(t);
  const lines = readFileSync(join(project, 'data/orders.jsonl'), 'utf8').split('\n').filter((l) => l.trim()).length;
  await page.waitForFunction(() => /no documents yet/.test(document.querySelector('[data-testid="status"]').textContent));
  await page.click('#explorer span[data-docs="orders"]');
  const button = await page.waitForSelector('[data-testid="load-sample"]');
  assert.match(await button.textContent(), new RegExp(`data/orders\\.jsonl, ${lines} document`));
  await button.click();
  await page.waitForFunction(() => /loaded \d+ document\(s\) of data\/orders\.jsonl into orders/.test(document.querySelector('[data-testid="status"]').textContent));
  // The documents table renders the rows in view (virtual scrolling): its count says how many there are.
  await page.waitForFunction((n) => parseInt(document.querySelector('[data-testid="docs-count"]').textContent, 10) >= n && document.querySelector('[data-testid="docs-list"] li[data-id]'), lines);
  assert.equal(await page.$('[data-testid="load-sample"]'), null, 'offered only while the database is empty');
  const info = await (await studio.fetch('orders')).json();
  assert.ok(info.doc_count >= lines, `${info.doc_count} documents`);
  await screenshot(page, 'studio-sample-data.png');
});

test('deploy with a session password; a changed map is a code diff in the plan', async (t) => {
  needUi();
  const { work, project, page } = await openStudio(t, { env: (w) => ({ FULLSYNC_CONFIG_DIR: join(w, 'config') }) });
  const remote = await startServer({ extraArgs: ['--admin', 'deployer'], env: { FULLSYNC_ADMIN_PASSWORD: 'session-only-pw' } });
  t.after(() => remote.stop());
  page.on('dialog', (d) => d.accept());
  await page.click('[data-testid="deploy-open"]');
  await page.waitForSelector('[data-testid="deploy-servers"] li');
  await page.fill('[data-testid="server-name"]', 'locked');
  await page.fill('[data-testid="server-url"]', remote.url);
  await page.fill('[data-testid="server-user"]', 'deployer');
  await page.click('[data-testid="server-save"]');
  await page.waitForSelector('[data-testid="deploy-servers"] li[data-name="locked"] input:checked');
  // Without a password: refused, saying how to give one.
  await page.click('[data-testid="deploy-plan"]');
  await page.waitForSelector('.plan[data-server="locked"] .error');
  assert.match(await page.textContent('.plan[data-server="locked"] .error'), /FULLSYNC_SERVER_LOCKED_PASSWORD/);
  await page.fill('[data-testid="deploy-session-password"]', 'session-only-pw');
  await page.click('[data-testid="deploy-plan"]');
  await page.waitForSelector('.plan[data-server="locked"] li[data-id="orders/_design/app"][data-action="create"]');
  await page.click('[data-testid="deploy-apply"]');
  await page.waitForSelector('[data-testid="deploy-jobs"] .job[data-state="done"]', { timeout: 60_000 });
  await page.click('[data-testid="deploy-close"]');

  // Change a map in the editor; the next plan shows it as code, not escaped JSON.
  const mapPath = 'connectors/orders/design/app/views/by_status/map.js';
  await page.click(`#explorer span[data-path="${mapPath}"]`);
  await page.waitForFunction((p) => document.querySelector('[data-testid="tab-title"]').textContent === p, mapPath);
  const old = readFileSync(join(project, mapPath), 'utf8');
  await editAndSave(page, old.replace('emit(doc.status, doc.total)', 'emit(doc.status, doc.total * 2)'));
  await page.click('[data-testid="deploy-open"]');
  await page.waitForSelector('[data-testid="deploy-servers"] li[data-name="locked"] input:checked');
  await page.click('[data-testid="deploy-plan"]');
  const diff = await page.waitForSelector('.plan[data-server="locked"] li[data-id="orders/_design/app"] [data-testid="code-diff"][data-path="views.by_status.map"]');
  const text = await diff.textContent();
  assert.match(text, /^- .*emit\(doc\.status, doc\.total\);?$/m);
  assert.match(text, /^\+ .*emit\(doc\.status, doc\.total \* 2\);?$/m);
  assert.ok(!text.includes('\\n'), 'code, not escaped JSON');
  await screenshot(page, 'studio-deploy-diff.png');
  // The password is in no file of the configuration folder or the project.
  const files = readFileSync(join(work, 'config', 'servers.toml'), 'utf8');
  assert.ok(!files.includes('session-only-pw'));
});

test('run a PostDocument transaction as a user and see the written document', async (t) => {
  needUi();
  const { studio, page } = await openStudio(t);
  await menu(page, 'transaction:PostOrder', 'Run…');
  // Run is a tab of the bottom panel, not a modal: the editor stays usable next to it.
  await page.waitForSelector('[data-testid="run-screen"]:not([hidden])');
  assert.equal(await page.$('dialog[open]'), null, 'no modal dialog');
  await page.waitForFunction(() => document.querySelector('[data-testid="run-transaction"]')?.value === 'orders/PostOrder');
  assert.match(await page.textContent('[data-testid="run-kind"]'), /PostDocument/);
  // A required variable left empty is refused before running.
  await page.fill('[data-testid="run-form"] [data-var="customer"]', 'ann');
  await page.click('[data-testid="run-go"]');
  await page.waitForFunction(() => /Fill in total \(required\)/.test(document.querySelector('[data-testid="run-msg"]').textContent));
  assert.equal(await page.getAttribute('[data-testid="run-form"] [data-var="total"]', 'type'), 'number', 'xsd:double is a number field');
  await page.fill('[data-testid="run-form"] [data-var="_id"]', 'order-from-run');
  await page.fill('[data-testid="run-form"] [data-var="total"]', '12.5');
  await page.fill('[data-testid="run-form"] [data-var="items"]', 'p1\np2');
  await page.fill('[data-testid="run-user"]', 'ann');
  await page.click('[data-testid="run-go"]');
  await page.waitForSelector('[data-testid="run-state"][data-ok="true"]');
  assert.match(await page.textContent('[data-testid="run-response"]'), /"ok": true/);
  const written = await page.textContent('[data-testid="run-written"]');
  assert.match(written, /order-from-run/);
  assert.match(written, /"~c8oAcl": "ann"/);
  assert.match(written, /"items": \[\s*"p1",\s*"p2"\s*\]/);
  assert.match(await page.textContent('[data-testid="run-history"]'), /orders\/PostOrder as ann/);
  await screenshot(page, 'studio-run.png');
  const doc = await (await studio.fetch('orders/order-from-run')).json();
  assert.equal(doc.customer, 'ann');
  assert.equal(doc.total, 12.5);
  // The written document opens in the editor.
  await page.click('[data-testid="run-written"] button.doc-link[data-id="order-from-run"]');
  await page.waitForFunction(() => window.studioEditor.getValue().includes('"order-from-run"'));
  // ...and the run stays on screen while the document is edited.
  assert.ok(await page.isVisible('[data-testid="run-response"]'), 'the response is still visible');
  await page.click('#editor .view-lines');
  await page.keyboard.press('Control+End');
  await page.keyboard.type(' ');
  await page.waitForFunction(() => window.studioEditor.getValue().endsWith(' '));
  assert.ok(await page.isVisible('[data-testid="run-written"]'), 'the written documents are still visible');
});

test('a Mango query: validated as typed, documents in a table, its _explain', async (t) => {
  needUi();
  const { studio, page } = await openStudio(t);
  const docs = [
    { _id: 'm1', type: 'order', status: 'paid', total: 10, date: '2026-01-03' },
    { _id: 'm2', type: 'order', status: 'paid', total: 5, date: '2026-01-01' },
    { _id: 'm3', type: 'order', status: 'pending', total: 7, date: '2026-01-02' },
  ];
  assert.equal((await studio.fetch('orders/_bulk_docs', post({ docs }))).status, 201);
  await page.click('[data-testid="mango-open"]');
  await page.waitForSelector('[data-testid="mango-db"] option[value="orders"]', { state: 'attached' });
  await page.selectOption('[data-testid="mango-db"]', 'orders');
  // A selector that is not JSON is flagged as typed, and Run is disabled.
  await page.fill('[data-testid="mango-selector"]', '{"status": paid}');
  await page.waitForFunction(() => /selector: not JSON/.test(document.querySelector('[data-testid="mango-invalid"]').textContent));
  assert.ok(await page.$eval('[data-testid="mango-run"]', (b) => b.disabled));
  await page.fill('[data-testid="mango-selector"]', '{"type": "order", "status": "paid", "date": {"$gt": "2026"}}');
  await page.fill('[data-testid="mango-fields"]', '_id, date, total');
  await page.fill('[data-testid="mango-sort"]', '[{"type": "asc"}, {"date": "asc"}]');
  await page.fill('[data-testid="mango-limit"]', '10');
  await page.click('[data-testid="mango-run"]');
  await page.waitForSelector('[data-testid="mango-results"] tbody tr');
  const rows = await page.$$eval('[data-testid="mango-results"] tbody tr', (trs) => trs.map((tr) => tr.dataset.id));
  assert.deepEqual(rows, ['m2', 'm1'], 'paid orders by date');
  const head = await page.$$eval('[data-testid="mango-results"] thead th', (ths) => ths.map((th) => th.textContent));
  assert.deepEqual(head, ['_id', 'date', 'total']);
  assert.match(await page.textContent('[data-testid="mango-meta"]'), /2 document\(s\).*index .*by_date/);
  assert.match(await page.textContent('[data-testid="mango-explain"]'), /"name": "by_date"/);
  await screenshot(page, 'studio-mango.png');
  // Mango lives in the bottom panel: a result row opens the document in the editor and the
  // results stay next to it (no modal to close).
  assert.equal(await page.$('dialog[open]'), null, 'no modal dialog');
  await page.click('[data-testid="mango-results"] tbody tr[data-id="m1"]');
  await page.waitForFunction(() => window.studioEditor.getValue().includes('"m1"'));
  assert.ok(await page.isVisible('[data-testid="mango-results"] tbody tr[data-id="m2"]'), 'the results are still visible');
  // An operator the engine does not know: its error, on screen.
  await page.fill('[data-testid="mango-selector"]', '{"total": {"$bogus": 1}}');
  await page.fill('[data-testid="mango-sort"]', '');
  await page.click('[data-testid="mango-run"]');
  await page.waitForFunction(() => /\$bogus/.test(document.querySelector('[data-testid="mango-msg"]').textContent));
});

test('save the current preview as a test, and run it', async (t) => {
  needUi();
  const { project, studio, page } = await openStudio(t);
  const docs = [
    { _id: 'o1', type: 'order', status: 'paid', total: 10, date: '2026-01-01' },
    { _id: 'o2', type: 'order', status: 'paid', total: 5, date: '2026-01-02' },
    { _id: 'o3', type: 'order', status: 'pending', total: 7, date: '2026-01-03' },
  ];
  assert.equal((await studio.fetch('orders/_bulk_docs', post({ docs }))).status, 201);
  await page.click('#explorer span[data-path="connectors/orders/design/app/views/by_status/map.js"]');
  await page.waitForFunction(() => document.querySelectorAll('#preview-rows tbody tr').length === 2);
  await page.click('[data-testid="preview-save-test"]');
  await page.fill('[data-testid="preview-test-name"]', 'status_totals');
  await page.press('[data-testid="preview-test-name"]', 'Enter');
  await page.waitForFunction(() => document.querySelector('[data-testid="tab-title"]').textContent === 'tests/status_totals.test.json');
  const saved = JSON.parse(readFileSync(join(project, 'tests/status_totals.test.json'), 'utf8'));
  assert.deepEqual(saved.expect, { rows: [{ key: 'paid', value: 15 }, { key: 'pending', value: 7 }] });
  assert.deepEqual(saved.docs.map((d) => d._id), ['o1', 'o2', 'o3']);
  assert.match(await runTests(page, 'test:status_totals'), /^1 passed, 0 failed/);
});
