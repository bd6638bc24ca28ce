// End to end: the studio's web mode in real headless Chromium (playwright-core driving Debian's
// chromium): open the sample project, open a map function, see the live preview, edit it and see
// the preview change, save with Ctrl-S (the file changes on disk), and see a syntax error reported
// without saving.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './lib/server.mjs';
import { openStudio, screenshot } from './lib/studio.mjs';

test('studio web mode: explorer, live preview, edit, save, errors', async (t) => {
  assert.ok(existsSync(join(REPO_ROOT, 'ui', 'dist', 'index.html')), 'build the UI first: (cd ui && npm ci && npm run build)');
  const { project, studio, page } = await openStudio(t);
  let docs, mapPath;
  await t.test('Some orders in the local database', async () => {
    docs = [
      { _id: 'o1', type: 'order', status: 'paid', total: 10, date: '2026-01-01' },
      { _id: 'o2', type: 'order', status: 'paid', total: 5, date: '2026-01-02' },
      { _id: 'o3', type: 'order', status: 'pending', total: 7, date: '2026-01-03' },
    ];
    const r = await studio.fetch(`orders/_bulk_docs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ docs }) });
    assert.equal(r.status, 201);

    assert.match(await page.textContent('[data-testid="project-name"]'), /sample 1\.0\.0/);
    mapPath = 'connectors/orders/design/app/views/by_status/map.js';
    await page.click(`#explorer span[data-path="${mapPath}"]`);
  });
  await t.test('Live preview with the saved map and its _sum reduce, grouped', async () => {
    await page.waitForFunction(() => document.querySelectorAll('#preview-rows tbody tr').length === 2);
    let cells = await page.$$eval('#preview-rows tbody tr', (trs) => trs.map((tr) => [...tr.children].map((td) => td.textContent)));
    assert.deepEqual(cells, [['"paid"', '15', ''], ['"pending"', '7', '']]);
  });
  await t.test('The view runner: every option, JSON keys validated as you type, the equivalent curl', async () => {
    await page.waitForSelector('[data-testid="runner"]:not([hidden])');
    await page.fill('#runner-form input[name="key"]', 'paid');
    assert.ok(await page.$eval('#runner-form input[name="key"]', (e) => e.classList.contains('invalid')), 'unquoted string flagged');
    await page.fill('#runner-form input[name="key"]', '"paid"');
    await page.selectOption('#runner-form select[name="reduce"]', 'false');
    await page.click('[data-testid="runner-run"]');
    await page.waitForFunction(() => /2 row\(s\)/.test(document.querySelector('#runner-meta').textContent));
    assert.match(await page.textContent('#runner-curl'), /_view\/by_status\?key=%22paid%22&limit=20&reduce=false/);
    assert.match(await page.textContent('#runner-json'), /"total_rows": 3/);
  });
  await t.test('Edit: the preview follows as you type (debounced), and the tab shows it is dirty', async () => {
    await page.evaluate(() => {
      const ed = window.studioEditor;
      ed.setValue(ed.getValue().replace('emit(doc.status, doc.total)', 'emit(doc.status, 100)'));
    });
    await page.waitForFunction(() => document.querySelector('#preview-rows tbody tr td:nth-child(2)')?.textContent === '200');
    await screenshot(page, 'studio-web-mode.png');
    assert.ok(await page.$eval('#tab-title', (e) => e.classList.contains('dirty')));
    assert.ok(readFileSync(join(project, mapPath), 'utf8').includes('doc.total'), 'not saved yet');
  });
  await t.test('Ctrl-S saves atomically; the tab is clean again', async () => {
    await page.click('#editor');
    await page.keyboard.press('Control+s');
    await page.waitForFunction(() => !document.querySelector('#tab-title').classList.contains('dirty'));
    assert.ok(readFileSync(join(project, mapPath), 'utf8').includes('emit(doc.status, 100)'));
  });
  await t.test('... and the saved view answers on the CouchDB API', async () => {
    const view = await (await studio.fetch(`orders/_design/app/_view/by_status?group=true`)).json();
    assert.deepEqual(view.rows, [{ key: 'paid', value: 200 }, { key: 'pending', value: 100 }]);
  });
  await t.test('A syntax error is reported under the editor; nothing is saved', async () => {
    await page.evaluate(() => window.studioEditor.setValue('function (doc) {\n  var total = 0;\n  emit(doc.status;\n}'));
    await page.waitForFunction(() => /SyntaxError|compile/i.test(document.querySelector('#problems').textContent));
    assert.match(await page.textContent('#problems'), /^line 3: /);
  });
  await t.test('... and marked on its line in the editor', async () => {
    await page.waitForSelector('#editor .squiggly-error');
    assert.ok(readFileSync(join(project, mapPath), 'utf8').includes('emit(doc.status, 100)'));
  });
  await t.test('A bare function is not an error, and CouchDB\'s globals are completed with their signature', async () => {
    await page.evaluate(() => window.studioEditor.setValue('function (doc) {\n  \n}'));
    await page.waitForFunction(() => document.querySelector('#problems').textContent === '');
    await page.waitForFunction(() => !document.querySelector('#editor .squiggly-error'));
    await page.evaluate(() => { window.studioEditor.setPosition({ lineNumber: 2, column: 3 }); window.studioEditor.focus(); });
    await page.keyboard.type('emi');
    await page.keyboard.press('Control+Space');
  });
  await t.test('The text holds no `emit` any more, so only the CouchDB completion provider can offer it', async () => {
    await page.waitForFunction(() => /emit/.test(document.querySelector('.suggest-widget.visible')?.textContent ?? ''));
    await page.keyboard.press('Escape');
  });
  await t.test('Documents: list, create, edit (a new revision), delete, all through the same API', async () => {
    page.on('dialog', (d) => d.accept());
    await page.click('#explorer span[data-docs="orders"]');
    await page.waitForFunction(() => document.querySelectorAll('#docs-list li[data-id^="o"]').length === 3);
  });
  await t.test('The changes panel is live: a write from another client shows up without a reload', async () => {
    await page.waitForSelector('#changes-list li[data-id="o3"]');
    const lw = await studio.fetch(`orders/live1`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ type: 'order', total: 3 }) });
    assert.equal(lw.status, 201);
    await page.waitForFunction(() => document.querySelector('#changes-list li')?.dataset.id === 'live1');
    await page.fill('#docs-search', 'o3');
    await page.waitForFunction(() => /^1 shown of/.test(document.querySelector('#docs-count').textContent));
    await page.fill('#docs-search', '');
    await page.click('[data-testid="docs-new"]');
    await page.evaluate(() => window.studioEditor.setValue('{"_id": "e2e", "type": "order", "status": "paid", "total": 1}'));
    await page.click('#editor');
    await page.keyboard.press('Control+s');
    await page.waitForFunction(() => /saved e2e as 1-/.test(document.querySelector('#status').textContent));
    assert.equal((await (await studio.fetch(`orders/e2e`)).json()).total, 1);
  });
  await t.test('Invalid JSON is refused and nothing is written', async () => {
    await page.evaluate(() => window.studioEditor.setValue('{"_id": "e2e", '));
    await page.keyboard.press('Control+s');
    await page.waitForFunction(() => /not valid JSON/.test(document.querySelector('#problems').textContent));
    // Back to the documents table (its tab), where the new document is listed.
    await page.click('[data-tab="docs:orders"]');
    await page.click('#docs-list li[data-id="e2e"]');
    await page.waitForFunction(() => /"_rev": "1-/.test(window.studioEditor.getValue()));
    await page.evaluate(() => window.studioEditor.setValue(window.studioEditor.getValue().replace('"total": 1', '"total": 2')));
    await page.click('#editor');
    await page.keyboard.press('Control+s');
    await page.waitForFunction(() => /saved e2e as 2-/.test(document.querySelector('#status').textContent));
    assert.equal((await (await studio.fetch(`orders/e2e`)).json()).total, 2);
  });
  await t.test('History: the older revision opens read-only, and the current one comes back', async () => {
    await page.waitForFunction(() => document.querySelectorAll('#history-list li').length === 2);
    await page.click('#history-list li.link');
    await page.waitForFunction(() => /"total": 1/.test(window.studioEditor.getValue()) && /read-only/.test(document.querySelector('#tab-title').textContent));
    await page.click('#editor');
    await page.keyboard.press('Control+s');
    await page.waitForFunction(() => /read-only/.test(document.querySelector('#status').textContent));
    await page.click('#history-list li.link');
    await page.waitForFunction(() => /"total": 2/.test(window.studioEditor.getValue()) && !/read-only/.test(document.querySelector('#tab-title').textContent));
    await page.click('[data-testid="docs-delete"]');
    await page.waitForFunction(() => /deleted e2e/.test(document.querySelector('#status').textContent));
    assert.equal((await studio.fetch(`orders/e2e`)).status, 404);
  });
  await t.test('A conflict: compare side by side, keep the losing revision; the other one is deleted only after confirmation', async () => {
    const conflicted = [
      { _id: 'cf', _rev: '2-aa', type: 'order', total: 1, status: 'paid', _revisions: { start: 2, ids: ['aa', 'r1'] } },
      { _id: 'cf', _rev: '2-bb', type: 'order', total: 2, status: 'pending', _revisions: { start: 2, ids: ['bb', 'r1'] } },
    ];
    const cr = await studio.fetch(`orders/_bulk_docs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ docs: conflicted, new_edits: false }) });
    assert.equal(cr.status, 201);
    assert.deepEqual((await cr.json()).filter((x) => x.error), [], 'the validate_doc_update of the sample accepts both revisions');
    await page.click('[data-tab="docs:orders"]');
    await page.fill('#docs-search', 'cf');
    await page.click('#docs-list li[data-id="cf"]');
    await page.waitForFunction(() => document.querySelectorAll('#conflict-list li').length === 2);
    assert.match(await page.textContent('#status'), /1 conflicting revision/);
    // The diff editor loads with the first compare, not with the studio.
    const compareChunk = () => page.evaluate(() => performance.getEntriesByType('resource').filter((r) => /\/compare-[^/]*\.js$/.test(r.name)).length);
    assert.equal(await compareChunk(), 0, 'the diff editor is not loaded before a compare');
    await page.click('#conflict-list li[data-rev="2-aa"] button:text("Compare")');
    await page.waitForSelector('#conflict-diff .monaco-diff-editor .line-insert');
    assert.equal(await compareChunk(), 1, 'the diff editor loaded on its first showing');
  });
  await t.test('STUDIO_SCREENSHOTS=docs refreshes the screenshots in the documentation', async () => {
    await screenshot(page, 'studio-conflicts.png');
    const confirmed = [];
    page.removeAllListeners('dialog');
    page.on('dialog', (d) => { confirmed.push(d.message()); d.accept(); });
    await page.click('#conflict-list li[data-rev="2-aa"] button.keep');
    await page.waitForFunction(() => /cf resolved/.test(document.querySelector('#status').textContent));
    assert.match(confirmed[0], /Keep 2-aa and delete 1 revision\(s\): 2-bb/);
    const resolved = await (await studio.fetch(`orders/cf?conflicts=true`)).json();
    assert.equal(resolved._rev, '2-aa');
    assert.equal(resolved.status, 'paid');
    assert.equal(resolved._conflicts, undefined);
    assert.ok(await page.$eval('#conflicts', (e) => e.hidden), 'the conflict panel closes once resolved');
  });
  await t.test('A request without the token is refused', async () => {
    const noToken = await fetch(studio.studio.replace(/#.*$/, '') + 'api', { method: 'POST', body: '{"cmd":"project_tree"}' });
    assert.equal(noToken.status, 401);
  });
});
