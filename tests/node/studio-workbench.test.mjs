// End to end: the studio's workbench (issue 18) in headless Chromium at 1440x900 and 1024x700:
// the layout never makes the page scroll and keeps errors whole, panes resize, collapse and
// remember their sizes, tabs keep their state and come back after a reload, the explorer works
// from the keyboard alone, the Problems panel jumps to a diagnostic's line, the documents table
// pages through 100,000 documents (conflicted filter, Mango selector, click-through from view
// results and changes), the revision tree opens an old revision, the command palette runs any
// action, completions offer the fields of the data, and the tester reports pass/fail per document.
//
// STUDIO_SCREENSHOTS=docs writes docs/studio-workbench-{dark,light}-{1440,1024}.png.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './lib/server.mjs';
import { copySample, openStudio, screenshot } from './lib/studio.mjs';

const SIZES = [
  { width: 1440, height: 900 },
  { width: 1024, height: 700 },
];
const MAP = 'connectors/orders/design/app/views/by_status/map.js';
const REDUCE = 'connectors/orders/design/app/views/by_status/reduce.js';
const json = (method, body) => ({ method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

function built() {
  assert.ok(existsSync(join(REPO_ROOT, 'ui', 'dist', 'index.html')), 'build the UI first: (cd ui && npm ci && npm run build)');
}

/** Whether the page scrolls (it must not: every pane scrolls inside itself). */
const overflow = (page) => page.evaluate(() => ({ h: document.scrollingElement.scrollHeight > innerHeight, w: document.scrollingElement.scrollWidth > innerWidth }));
/** Width and height of an element. */
const box = (page, sel) => page.$eval(sel, (e) => { const r = e.getBoundingClientRect(); return { w: Math.round(r.width), h: Math.round(r.height), top: r.top, bottom: r.bottom, left: r.left, right: r.right }; });
/** Whether an element's text is whole: inside the window and not clipped by its own box. */
const whole = (page, sel) => page.$eval(sel, (e) => { const r = e.getBoundingClientRect(); return r.bottom <= innerHeight && r.right <= innerWidth && r.top >= 0 && e.scrollHeight <= e.clientHeight + 1 && e.scrollWidth <= e.clientWidth + 1; });

async function seed(studio, db, docs) {
  for (let i = 0; i < docs.length; i += 10_000) {
    const r = await studio.fetch(`${db}/_bulk_docs`, json('POST', { docs: docs.slice(i, i + 10_000) }));
    assert.equal(r.status, 201);
    assert.deepEqual((await r.json()).filter((x) => x.error), [], 'every document written');
  }
}

test('layout at 1440x900 and 1024x700: no page overflow, errors whole, panes resize, collapse and are remembered', async (t) => {
  built();
  for (const viewport of SIZES) {
    const { studio, page } = await openStudio(t, { viewport });
    await seed(studio, 'orders', [{ _id: 'o1', type: 'order', status: 'paid', total: 3 }]);
    await page.click(`#explorer span[data-path="${MAP}"]`);
    await page.waitForFunction(() => document.querySelectorAll('#preview-rows tbody tr').length > 0);
    assert.deepEqual(await overflow(page), { h: false, w: false }, `${viewport.width}: the page does not scroll`);
    // Header, tabs, editor, bottom panel, context panel and status bar are all on screen.
    for (const sel of ['#top', '#tabbar', '#editor', '#bottom', '#preview', '#statusbar']) {
      const b = await box(page, sel);
      assert.ok(b.top >= 0 && b.bottom <= viewport.height + 0.5 && b.right <= viewport.width + 0.5 && b.w > 0 && b.h > 0, `${sel} on screen at ${viewport.width}: ${JSON.stringify(b)}`);
    }
    assert.ok((await box(page, '#editor')).w >= 300, 'the editor keeps room');
    // The project's name is never cut off by the header's buttons (at 1024 px the description
    // gives way, and the name's tooltip carries it).
    assert.ok(await page.evaluate(() => { const n = document.querySelector('#project-name'); return n.textContent.length > 0 && n.scrollWidth <= n.clientWidth; }), `the project's name is whole at ${viewport.width}`);
    assert.match(await page.getAttribute('#project-name', 'title'), /Orders synced per user/);

    // A long error (an invalid document saved) is shown whole: under the editor and in the status bar.
    await page.click('#explorer span[data-docs="orders"]');
    await page.click('#docs-list li[data-id="o1"]');
    await page.waitForSelector('[data-tab="doc:orders/o1"].active');
    await page.waitForFunction(() => /"_rev"/.test(window.studioEditor.getValue()));
    await page.evaluate(() => window.studioEditor.setValue('{"_id": "o1", "type": "order", "note": "' + 'a long line that does not fit '.repeat(12) + '"'));
    await page.click('#editor');
    await page.keyboard.press('Control+s');
    await page.waitForFunction(() => /not valid JSON/.test(document.querySelector('#problems').textContent));
    assert.ok(await whole(page, '#problems'), 'the error under the editor is not cut off');
    await page.evaluate(() => window.studioEditor.setValue('{"_id": "o1", "_rev": "1-wrong", "type": "order", "total": 3}'));
    await page.keyboard.press('Control+s');
    await page.waitForFunction(() => /not saved/.test(document.querySelector('#status').textContent));
    assert.ok(await whole(page, '#status'), 'the status bar error is not cut off');
    assert.deepEqual(await overflow(page), { h: false, w: false });

    // Resize with the mouse: the explorer (right), the bottom panel (up), and the context panel from the keyboard.
    const ex0 = (await box(page, '#explorer-pane')).w;
    const sp = await box(page, '.splitter[data-split="explorer"]');
    await page.mouse.move(sp.left + 2, sp.top + 200);
    await page.mouse.down();
    await page.mouse.move(sp.left + 42, sp.top + 200, { steps: 4 });
    await page.mouse.move(sp.left + 62, sp.top + 200, { steps: 2 });
    await page.mouse.up();
    const ex1 = (await box(page, '#explorer-pane')).w;
    assert.ok(Math.abs(ex1 - (ex0 + 60)) <= 2, `explorer ${ex0} -> ${ex1}`);
    const bt0 = (await box(page, '#bottom')).h;
    const sb = await box(page, '.splitter[data-split="bottom"]');
    await page.mouse.move(sb.left + 100, sb.top + 2);
    await page.mouse.down();
    await page.mouse.move(sb.left + 100, sb.top - 40, { steps: 4 });
    await page.mouse.up();
    const bt1 = (await box(page, '#bottom')).h;
    assert.ok(Math.abs(bt1 - (bt0 + 42)) <= 3, `bottom ${bt0} -> ${bt1}`);
    const cx0 = (await box(page, '#preview')).w;
    await page.focus('.splitter[data-split="context"]');
    await page.keyboard.press('ArrowLeft');
    await page.keyboard.press('ArrowLeft');
    const cx1 = (await box(page, '#preview')).w;
    assert.equal(cx1, cx0 + 32, 'the context panel grows by 16 px per arrow');
    assert.deepEqual(await overflow(page), { h: false, w: false });

    // Collapse and show again (Ctrl-B, Ctrl-J, Ctrl-Alt-B): the sizes come back.
    await page.keyboard.press('Control+b');
    await page.waitForFunction(() => document.querySelector('#explorer-pane').getBoundingClientRect().width === 0);
    await page.keyboard.press('Control+j');
    await page.waitForFunction(() => document.querySelector('#bottom').getBoundingClientRect().height === 0);
    await page.keyboard.press('Control+Alt+b');
    await page.waitForFunction(() => document.querySelector('#preview').getBoundingClientRect().width === 0);
    assert.ok((await box(page, '#editor')).w > viewport.width - 60, 'the editor takes the room');
    await page.click('[data-testid="reopen-explorer"]');
    await page.keyboard.press('Control+j');
    await page.keyboard.press('Control+Alt+b');
    assert.equal((await box(page, '#explorer-pane')).w, ex1);
    assert.equal((await box(page, '#bottom')).h, bt1);

    // Remembered after a reload.
    await page.reload();
    await page.waitForSelector('#explorer span.file');
    assert.equal((await box(page, '#explorer-pane')).w, ex1);
    assert.equal((await box(page, '#bottom')).h, bt1);
    assert.equal((await box(page, '#preview')).w, cx1);
    assert.deepEqual(await overflow(page), { h: false, w: false });
  }
});

test('tabs keep their state and reopen after a reload', async (t) => {
  built();
  const { page } = await openStudio(t, { viewport: SIZES[1] });
  await page.click(`#explorer span[data-path="${MAP}"]`);
  await page.waitForSelector(`[data-tab="file:${MAP}"].active`);
  // An edit as typing makes it (undoable), then the cursor somewhere.
  await page.evaluate(() => { const ed = window.studioEditor; const m = ed.getModel(); ed.executeEdits('test', [{ range: m.getFullModelRange(), text: m.getValue().replace('emit(doc.status, doc.total)', 'emit(doc.status, 1)') }]); ed.setPosition({ lineNumber: 3, column: 7 }); });
  await page.waitForSelector(`[data-tab="file:${MAP}"].dirty`);
  await page.click(`#explorer span[data-path="${REDUCE}"]`);
  await page.waitForSelector(`[data-tab="file:${REDUCE}"].active`);
  assert.doesNotMatch(await page.evaluate(() => window.studioEditor.getValue()), /emit\(doc\.status, 1\)/);
  await page.click('#explorer span[data-docs="orders"]');
  await page.waitForSelector('[data-tab="docs:orders"].active');
  await page.fill('#docs-search', '_design');
  await page.waitForFunction(() => /shown of/.test(document.querySelector('#docs-count').textContent));
  assert.equal(await page.$$eval('[data-tab]', (ts) => ts.length), 3);
  // Back to the map: its unsaved text, its dirty marker and its cursor are as they were.
  await page.click(`[data-tab="file:${MAP}"]`);
  assert.match(await page.evaluate(() => window.studioEditor.getValue()), /emit\(doc\.status, 1\)/);
  assert.deepEqual(await page.evaluate(() => window.studioEditor.getPosition()), { lineNumber: 3, column: 7 });
  assert.ok(await page.$eval('#tab-title', (e) => e.classList.contains('dirty')));
  // ... and the context panel shows only what belongs to it (the query form, not the documents' side).
  assert.ok(await page.isVisible('#runner'));
  assert.ok(!(await page.isVisible('#docs-side')) && !(await page.isVisible('#docs')));
  // Undo history is the tab's own.
  await page.click('#editor');
  await page.keyboard.press('Control+z');
  await page.waitForFunction(() => /emit\(doc\.status, doc\.total\)/.test(window.studioEditor.getValue()));
  await page.waitForSelector(`[data-tab="file:${MAP}"]:not(.dirty)`);
  // The search of the documents tab is still there.
  await page.click('[data-tab="docs:orders"]');
  assert.equal(await page.inputValue('#docs-search'), '_design');
  assert.ok(await page.isVisible('#docs-side'));
  // After a reload the same tabs are open, the same one active.
  await page.click(`[data-tab="file:${REDUCE}"]`);
  await page.reload();
  await page.waitForSelector(`[data-tab="file:${REDUCE}"].active`);
  assert.deepEqual(await page.$$eval('[data-tab]', (ts) => ts.map((x) => x.dataset.tab)), [`file:${MAP}`, `file:${REDUCE}`, 'docs:orders']);
  assert.equal(await page.textContent('#tab-title'), REDUCE);
  // Closing a tab from its ×.
  await page.click(`[data-tab="file:${REDUCE}"] .tab-close`);
  assert.equal(await page.$$eval('[data-tab]', (ts) => ts.length), 2);
});

test('the explorer works from the keyboard alone', async (t) => {
  built();
  // Two server profiles (nothing listens there: the workspace opens and says so).
  const { project, page } = await openStudio(t, {
    viewport: SIZES[1],
    env: (w) => {
      const config = join(w, 'config');
      mkdirSync(config, { recursive: true });
      writeFileSync(join(config, 'servers.toml'), '[alpha]\nkind = "couchdb"\nurl = "http://127.0.0.1:9"\n\n[beta]\nkind = "couchdb"\nurl = "http://127.0.0.1:9/beta"\n');
      return { FULLSYNC_CONFIG_DIR: config, FULLSYNC_REMOTE_TIMEOUT_SECS: '2' };
    },
  });
  const focused = () => page.evaluate(() => document.activeElement?.closest('span.node')?.dataset.node ?? document.activeElement?.id ?? document.activeElement?.tagName);
  // F6 puts the focus in the tree; arrows move, Left collapses, Right expands.
  await page.keyboard.press('F6');
  assert.equal(await focused(), 'connector:catalog');
  await page.keyboard.press('ArrowLeft');
  assert.equal(await page.getAttribute('#explorer span[data-node="connector:catalog"]', 'aria-expanded'), 'false');
  assert.ok(!(await page.isVisible('#explorer span[data-node="ddoc:products"]')));
  await page.keyboard.press('ArrowDown');
  assert.equal(await focused(), 'connector:orders', 'a collapsed node is skipped over');
  await page.keyboard.press('ArrowUp');
  await page.keyboard.press('ArrowRight');
  assert.ok(await page.isVisible('#explorer span[data-node="ddoc:products"]'));
  // The filter (Ctrl-Shift-E), then down into the tree and Enter opens the file.
  await page.keyboard.press('Control+Shift+E');
  await page.keyboard.type('by_status');
  assert.ok(!(await page.isVisible('#explorer span[data-node="view:by_customer"]')), 'filtered out');
  await page.keyboard.press('ArrowDown');
  for (let i = 0; i < 8 && (await page.evaluate(() => document.activeElement?.dataset.path)) !== MAP; i++) await page.keyboard.press('ArrowDown');
  await page.keyboard.press('Enter');
  await page.waitForFunction((p) => document.querySelector('#tab-title').textContent === p, MAP);
  // Tab does not stay in the editor: F6 moves on to the context panel.
  await page.click('#editor');
  await page.keyboard.press('F6');
  assert.ok(await page.evaluate(() => document.querySelector('#preview').contains(document.activeElement)), 'focus left the editor');
  // Clear the filter; F2 renames a view (typed in place), Delete deletes it (confirmed).
  await page.fill('#explorer-filter', '');
  await page.keyboard.press('Escape');
  await page.focus('#explorer span[data-node="view:by_customer"]');
  await page.keyboard.press('F2');
  await page.waitForSelector('[data-testid="explorer-name"]');
  await page.keyboard.press('Control+a');
  await page.keyboard.type('by_buyer');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#explorer span[data-node="view:by_buyer"]');
  assert.ok(existsSync(join(project, 'connectors/orders/design/app/views/by_buyer/map.js')));
  const dialogs = [];
  page.on('dialog', (d) => { dialogs.push(d.message()); d.accept(); });
  await page.focus('#explorer span[data-node="view:by_buyer"]');
  await page.keyboard.press('Delete');
  await page.waitForFunction(() => !document.querySelector('#explorer span[data-node="view:by_buyer"]'));
  assert.match(dialogs[0], /Delete the view by_buyer/);
  assert.ok(!existsSync(join(project, 'connectors/orders/design/app/views/by_buyer')));
  // The context-menu key opens the node's menu; arrows and Escape work in it, the focus comes back.
  await page.focus('#explorer span[data-node="ddoc:app"]');
  await page.keyboard.press('ContextMenu');
  await page.waitForSelector('[data-testid="context-menu"]');
  assert.equal(await page.evaluate(() => document.activeElement.textContent), 'New view');
  await page.keyboard.press('ArrowDown');
  assert.ok(await page.evaluate(() => document.activeElement === document.querySelectorAll('[data-testid="context-menu"] li')[1]), 'ArrowDown moves to the second action');
  await page.keyboard.press('Escape');
  assert.equal(await page.$('[data-testid="context-menu"]'), null);
  assert.equal(await focused(), 'ddoc:app');
  // Enter on "documents" opens the documents table; the tree is one Tab stop.
  await page.focus('#explorer span[data-docs="orders"]');
  await page.keyboard.press('Enter');
  await page.waitForSelector('[data-tab="docs:orders"].active');
  await page.focus('#explorer span[data-node="ddoc:app"]');
  await page.keyboard.press('Tab');
  assert.ok(!(await page.evaluate(() => document.activeElement.matches('#explorer span.node'))), 'Tab leaves the tree (to the connections below it)');

  // The connections below the tree: Tab reaches the list (one stop), arrows move in it, Up from
  // the first entry goes back to the tree, Down from the tree's last item comes into it.
  const conn = () => page.evaluate(() => document.activeElement?.dataset?.conn ?? null);
  await page.waitForSelector('#connections [data-conn="beta"]');
  for (let i = 0; i < 3 && (await conn()) === null; i++) await page.keyboard.press('Tab');
  assert.equal(await conn(), 'alpha', 'Tab lands on the first server of the list');
  await page.keyboard.press('ArrowDown');
  assert.equal(await conn(), 'beta');
  await page.keyboard.press('Home');
  assert.equal(await conn(), 'engine');
  await page.keyboard.press('ArrowUp');
  assert.ok(await page.evaluate(() => document.activeElement.matches('#explorer span.node')), 'Up from the first connection: back in the tree');
  await page.keyboard.press('ArrowDown');
  assert.equal(await conn(), 'engine', 'Down from the last tree item: the connections');
  await page.keyboard.press('ArrowDown');
  // Enter opens the server's workspace; Escape closes it and the focus comes back to the entry.
  await page.keyboard.press('Enter');
  await page.waitForSelector('[data-testid="srv-screen"][open]');
  assert.equal(await page.textContent('[data-testid="srv-name"]'), 'alpha');
  await page.keyboard.press('Escape');
  await page.waitForSelector('[data-testid="srv-screen"]:not([open])', { state: 'attached' });
  // The focus comes back once the dialog has closed (and the list, refreshed meanwhile, is drawn).
  await page.waitForFunction(() => document.activeElement?.dataset?.conn === 'alpha', null, { timeout: 5000 }).catch(() => {});
  assert.equal(await conn(), 'alpha', 'the focus is back on the connection');
  // The command palette opens a connection too.
  await page.keyboard.press('Control+Shift+P');
  await page.keyboard.type('open the server beta');
  await page.keyboard.press('Enter');
  await page.waitForSelector('[data-testid="srv-screen"][open]');
  assert.equal(await page.textContent('[data-testid="srv-name"]'), 'beta');
});

test('problems panel: every diagnostic with file and line, a click opens the file there', async (t) => {
  built();
  const broken = 'connectors/orders/design/app/views/by_id/map.js';
  const { page } = await openStudio(t, {
    viewport: SIZES[1],
    create: (p) => {
      copySample(p);
      writeFileSync(join(p, broken), 'function (doc) {\n  var a = 1;\n  emit(doc._id;\n}\n');
    },
  });
  await page.click('[data-testid="sb-errors"]');
  await page.waitForSelector('#problems-list li.problem');
  const items = await page.$$eval('#problems-list li.problem', (l) => l.map((li) => ({ file: li.dataset.file, line: li.dataset.line, text: li.textContent })));
  const mine = items.find((i) => i.file === broken);
  assert.ok(mine, JSON.stringify(items));
  assert.equal(mine.line, '3');
  assert.match(await page.textContent('[data-testid="sb-errors"]'), /^[1-9]\d* error/);
  await page.click(`#problems-list li.problem[data-file="${broken}"]`);
  await page.waitForFunction((p) => document.querySelector('#tab-title').textContent === p, broken);
  assert.equal(await page.evaluate(() => window.studioEditor.getPosition().lineNumber), 3);
});

test('documents table: pages through 100,000 documents, conflicted filter, Mango selector, click-through', async (t) => {
  built();
  const { studio, page } = await openStudio(t, { viewport: SIZES[0] });
  const N = 100_000;
  const id = (i) => `d${String(i).padStart(6, '0')}`;
  await seed(studio, 'orders', Array.from({ length: N }, (_, i) => ({ _id: id(i), type: 'order', status: i % 2 ? 'paid' : 'pending', total: i })));
  // Three conflicted documents, spread over the ids: a second branch written as a replicator does.
  const conflicted = [id(17), id(50_123), id(99_990)];
  for (const c of conflicted) {
    const r = await studio.fetch(`orders/_bulk_docs`, json('POST', { new_edits: false, docs: [{ _id: c, _rev: '1-ffffffffffffffffffffffffffffffff', type: 'order', status: 'paid', total: -1 }] }));
    assert.equal(r.status, 201);
  }
  const calls = [];
  page.on('request', (r) => { if (r.method() === 'POST' && (r.postData() ?? '').includes('"docs_page"')) calls.push(JSON.parse(r.postData()).args); });
  await page.click('#explorer span[data-docs="orders"]');
  await page.waitForFunction(() => /^100002 document\(s\)/.test(document.querySelector('#docs-count').textContent));
  // Columns inferred from the documents.
  const head = await page.$$eval('#docs-head span', (s) => s.map((x) => x.textContent));
  for (const c of ['type', 'status', 'total']) assert.ok(head.includes(c), head.join(','));
  // Jump to the middle: the rows there are fetched (not everything), in id order.
  const expected = async (skip) => (await (await studio.fetch(`orders/_all_docs?skip=${skip}&limit=1`)).json()).rows[0].id;
  await page.$eval('#docs-scroll', (e) => { e.scrollTop = 50_000 * 24; });
  await page.waitForSelector('#docs-list li[data-index="50000"][data-id]');
  assert.equal(await page.getAttribute('#docs-list li[data-index="50000"]', 'data-id'), await expected(50_000));
  await page.$eval('#docs-scroll', (e) => { e.scrollTop = e.scrollHeight; });
  await page.waitForSelector('#docs-list li[data-index="100001"][data-id]');
  assert.equal(await page.getAttribute('#docs-list li[data-index="100001"]', 'data-id'), id(N - 1));
  assert.ok((await page.$$('#docs-list li')).length < 200, 'only the rows in view are in the page');
  assert.ok(calls.length < 20 && calls.every((a) => a.limit <= 100), `paged requests: ${calls.length}`);
  // The keyboard: End, Up, Enter opens the document.
  await page.focus('#docs-scroll');
  await page.keyboard.press('End');
  await page.keyboard.press('ArrowUp');
  await page.keyboard.press('Enter');
  await page.waitForSelector(`[data-tab="doc:orders/${id(N - 2)}"].active`);
  await page.click('[data-tab="docs:orders"]');
  // Sort by id, descending.
  await page.click('[data-testid="docs-sort"]');
  await page.waitForFunction((last) => document.querySelector('#docs-list li[data-index="0"]')?.dataset.id === last, id(N - 1));
  await page.click('[data-testid="docs-sort"]');
  // Conflicted only: exactly the three, each marked.
  await page.check('#docs-conflicted');
  await page.waitForFunction(() => !/more below/.test(document.querySelector('#docs-count').textContent) && /^3 shown/.test(document.querySelector('#docs-count').textContent), null, { timeout: 60_000 });
  assert.deepEqual(await page.$$eval('#docs-list li[data-id]', (l) => l.map((li) => [li.dataset.id, li.classList.contains('conflicted'), li.querySelector('.c-flag').textContent])), conflicted.map((c) => [c, true, '⚑']));
  await page.uncheck('#docs-conflicted');
  // A Mango selector, and an invalid one explained.
  await page.fill('#docs-search', '{"total": {"$gte": 99998}}');
  await page.waitForFunction(() => /^2 shown/.test(document.querySelector('#docs-count').textContent), null, { timeout: 60_000 });
  assert.deepEqual(await page.$$eval('#docs-list li[data-id]', (l) => l.map((li) => li.dataset.id)), [id(99_998), id(99_999)]);
  await page.fill('#docs-search', '{"total": ');
  await page.waitForFunction(() => /not valid JSON/.test(document.querySelector('#docs-count').textContent));
  await page.fill('#docs-search', 'd00001');
  await page.waitForFunction(() => /^10 shown/.test(document.querySelector('#docs-count').textContent));
  // Click-through from the changes feed...
  await page.click('[data-testid="bottom-tab-changes"]');
  await page.click(`#changes-list li[data-id="${conflicted[2]}"]`);
  await page.waitForSelector(`[data-tab="doc:orders/${conflicted[2]}"].active`);
  assert.match(await page.textContent('#status'), /1 conflicting revision/);
  // ... and from a view's results.
  await page.click(`#explorer span[data-path="${MAP}"]`);
  await page.selectOption('#runner-form select[name="reduce"]', 'false');
  await page.fill('#runner-form input[name="limit"]', '3');
  await page.click('[data-testid="runner-run"]');
  await page.waitForSelector('#runner-rows button.doc-link');
  const first = await page.getAttribute('#runner-rows button.doc-link', 'data-id');
  await page.click('#runner-rows button.doc-link');
  await page.waitForSelector(`[data-tab="doc:orders/${first}"].active`);
});

test('revision tree: branches, deleted leaf, winner; an old revision opens', async (t) => {
  built();
  const { studio, page } = await openStudio(t, { viewport: SIZES[1] });
  const r1 = await (await studio.fetch('orders/tree', json('PUT', { type: 'order', total: 1 }))).json();
  const r2 = await (await studio.fetch('orders/tree', json('PUT', { _rev: r1.rev, type: 'order', total: 2 }))).json();
  const h1 = r1.rev.slice(2);
  // A branch from 1-: 2-bbbb (as its stub only) then 3-dead, deleted.
  const w = await studio.fetch('orders/_bulk_docs', json('POST', { new_edits: false, docs: [{ _id: 'tree', _rev: '3-dead', _deleted: true, _revisions: { start: 3, ids: ['dead', 'bbbb', h1] } }] }));
  assert.equal(w.status, 201);
  await page.click('#explorer span[data-docs="orders"]');
  await page.click('#docs-list li[data-id="tree"]');
  await page.waitForSelector('#revtree g.node');
  const nodes = await page.$$eval('#revtree g.node', (l) => Object.fromEntries(l.map((g) => [g.dataset.rev, g.getAttribute('class')])));
  assert.deepEqual(Object.keys(nodes).sort(), [r1.rev, r2.rev, '2-bbbb', '3-dead'].sort());
  assert.match(nodes[r2.rev], /winner/);
  assert.match(nodes['3-dead'], /deleted/);
  assert.match(nodes['3-dead'], /leaf/);
  assert.match(nodes['2-bbbb'], /missing/);
  assert.match(nodes[r1.rev], /available/);
  assert.equal(await page.$$eval('#revtree path.edge', (l) => l.length), 3);
  await screenshot(page, 'studio-revision-tree.png');
  // The old revision opens (read-only), and the winner comes back from the graph.
  await page.click(`#revtree g.node[data-rev="${r1.rev}"]`);
  await page.waitForFunction(() => /"total": 1/.test(window.studioEditor.getValue()) && /read-only/.test(document.querySelector('#tab-title').textContent));
  await page.waitForSelector(`#revtree g.node.shown[data-rev="${r1.rev}"]`);
  await page.click(`#revtree g.node[data-rev="${r2.rev}"]`);
  await page.waitForFunction(() => /"total": 2/.test(window.studioEditor.getValue()) && !/read-only/.test(document.querySelector('#tab-title').textContent));
});

test('command palette lists every action and runs one from the keyboard', async (t) => {
  built();
  const { page } = await openStudio(t, { viewport: SIZES[1] });
  await page.keyboard.press('Control+Shift+P');
  await page.waitForSelector('[data-testid="palette-input"]');
  const all = await page.$$eval('[data-testid="palette-list"] li', (l) => l.map((li) => li.dataset.command));
  for (const c of ['open-project', 'git', 'settings', 'toggle-explorer', 'toggle-bottom', 'toggle-context', 'save', 'quick-open', 'screen-replication', 'screen-deploy', 'screen-listeners', 'docs:orders', 'docs:catalog', 'show-problems', 'next-region']) assert.ok(all.includes(c), `${c} in ${all.join(',')}`);
  await page.keyboard.type('open the documents of orders');
  await page.keyboard.press('Enter');
  await page.waitForSelector('[data-tab="docs:orders"].active');
  await page.keyboard.press('Control+Shift+P');
  await page.keyboard.type('toggle bottom');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.querySelector('#bottom').getBoundingClientRect().height === 0);
  // The palette also offers the explorer's actions of the node in focus.
  await page.focus('#explorer span[data-node="ddoc:app"]');
  await page.keyboard.press('Control+Shift+P');
  await page.keyboard.type('explorer new view');
  assert.match(await page.textContent('[data-testid="palette-list"] li.sel'), /Explorer: New view \(app\)/);
  await page.keyboard.press('Escape');
  assert.equal(await page.$('[data-testid="palette"]'), null);
});

test('completions offer the fields present in the data', async (t) => {
  built();
  const { project, studio, page } = await openStudio(t, { viewport: SIZES[1] });
  await seed(studio, 'orders', [
    { _id: 'c1', type: 'order', total: 4, zipcode_in_data: '75001', customer: { name: 'Ann', vip_level: 2 } },
    { _id: 'c2', type: 'quote', total: '5', customer: { name: 'Bob' } },
  ]);
  await page.click(`#explorer span[data-path="${MAP}"]`);
  await page.waitForSelector(`[data-tab="file:${MAP}"].active`);
  await page.evaluate(() => { window.studioEditor.setValue('function (doc) {\n  emit(doc.);\n}'); window.studioEditor.setPosition({ lineNumber: 2, column: 12 }); window.studioEditor.focus(); });
  await page.keyboard.press('Control+Space');
  await page.waitForFunction(() => /zipcode_in_data/.test(document.querySelector('.suggest-widget.visible')?.textContent ?? ''));
  const text = await page.textContent('.suggest-widget.visible');
  assert.match(text, /customer/);
  assert.match(text, /total/);
  assert.match(text, /number \| string/, `the types seen in the data: ${text}`);
  assert.doesNotMatch(text, /\bemit\b/, 'after a dot, no globals');
  await page.keyboard.press('Escape');
  // Nested: doc.customer.
  await page.keyboard.type('customer.');
  await page.waitForFunction(() => /vip_level/.test(document.querySelector('.suggest-widget.visible')?.textContent ?? ''));
  assert.doesNotMatch(await page.textContent('.suggest-widget.visible'), /zipcode_in_data/);
  await page.keyboard.press('Escape');

  // validate_doc_update: newDoc. offers the data's fields, userCtx. what CouchDB passes.
  const suggest = async (file, code, line, column, re) => {
    await page.click(`#explorer span[data-path="${file}"]`);
    await page.waitForSelector(`[data-tab="file:${file}"].active`);
    await page.evaluate(([c, l, col]) => { window.studioEditor.setValue(c); window.studioEditor.setPosition({ lineNumber: l, column: col }); window.studioEditor.focus(); }, [code, line, column]);
    await page.keyboard.press('Control+Space');
    await page.waitForFunction((src) => new RegExp(src).test(document.querySelector('.suggest-widget.visible')?.textContent ?? ''), re.source);
    const text = await page.textContent('.suggest-widget.visible');
    await page.keyboard.press('Escape');
    return text;
  };
  const VALIDATE = 'connectors/orders/design/app/validate_doc_update.js';
  await suggest(VALIDATE, 'function (newDoc, oldDoc, userCtx) {\n  newDoc.\n}', 2, 10, /zipcode_in_data/);
  assert.match(await suggest(VALIDATE, 'function (newDoc, oldDoc, userCtx) {\n  userCtx.\n}', 2, 11, /roles/), /name/);
  // A filter: doc. and req.
  const FILTER = 'connectors/orders/design/app/filters/by_type.js';
  await suggest(FILTER, 'function (doc, req) {\n  return doc.\n}', 2, 14, /zipcode_in_data/);
  await suggest(FILTER, 'function (doc, req) {\n  return req.\n}', 2, 14, /userCtx/);

  // A reduce: its parameters, and the fields of the values its map emits (the map on disk, run
  // over the same sample): not the documents' fields.
  writeFileSync(join(project, MAP), 'function (doc) {\n  emit(doc.type, { amount_emitted: doc.total, who: doc.customer });\n}\n');
  const reduce = 'function (keys, values, rereduce) {\n  return values.map(function (v) { return v.; });\n}';
  const fromMap = await suggest(REDUCE, reduce, 2, 45, /amount_emitted/);
  assert.match(fromMap, /who/);
  assert.doesNotMatch(fromMap, /zipcode_in_data/, 'the values emitted, not the documents');
  assert.match(await suggest(REDUCE, 'function (keys, values, rereduce) {\n  if (rere\n}', 2, 11, /rereduce/), /rereduce/);
  assert.match(await suggest(REDUCE, 'function (keys, values, rereduce) {\n  return values[0].\n}', 2, 20, /amount_emitted/), /who/);
});

test('tester: filter and validate_doc_update report pass or fail per document, as a given user', async (t) => {
  built();
  const { studio, page } = await openStudio(t, { viewport: SIZES[1] });
  await seed(studio, 'orders', [{ _id: 'p1', type: 'product', price: 3 }, { _id: 'o1', type: 'order', total: 2 }]);
  await page.click('#explorer span[data-path="connectors/orders/design/app/filters/by_type.js"]');
  await page.waitForSelector('[data-testid="tester-run"]');
  // Documents picked by id, and req.query.
  await page.fill('[data-testid="tester-ids"]', 'p1, o1');
  await page.fill('[data-testid="tester-query"]', '{"type": "order"}');
  await page.click('[data-testid="tester-run"]');
  await page.waitForSelector('[data-testid="tester-results"] li[data-id="o1"]');
  const pass = () => page.$$eval('[data-testid="tester-results"] li', (l) => Object.fromEntries(l.map((li) => [li.dataset.id, li.dataset.pass])));
  assert.deepEqual(await pass(), { p1: 'false', o1: 'true' });
  // validate_doc_update, with the editor's unsaved text, as a user without the role.
  await page.click('#explorer span[data-path="connectors/orders/design/app/validate_doc_update.js"]');
  await page.waitForSelector('[data-tab="file:connectors/orders/design/app/validate_doc_update.js"].active');
  await page.evaluate(() => { const ed = window.studioEditor; ed.setValue(ed.getValue().replace('if (newDoc._deleted) return;', "if (newDoc._deleted) return;\n  if (userCtx.roles.indexOf('writer') < 0) throw({ unauthorized: 'only writers, not ' + userCtx.name });")); });
  await page.fill('[data-testid="tester-ids"]', '');
  await page.fill('[data-testid="tester-doc"]', '[{"_id": "x", "type": "order", "total": "3"}, {"_id": "y", "type": "order", "total": 3}]');
  await page.fill('[data-testid="tester-user"]', 'bob');
  await page.fill('[data-testid="tester-roles"]', '');
  await page.click('[data-testid="tester-run"]');
  await page.waitForFunction(() => /only writers, not bob/.test(document.querySelector('[data-testid="tester-results"]')?.textContent));
  assert.deepEqual(await pass(), { x: 'false', y: 'false' });
  await page.fill('[data-testid="tester-roles"]', 'writer');
  await page.click('[data-testid="tester-run"]');
  await page.waitForFunction(() => /1 accepted, 1 refused/.test(document.querySelector('[data-testid="tester-summary"]')?.textContent));
  assert.deepEqual(await pass(), { x: 'false', y: 'true' });
  assert.match(await page.textContent('[data-testid="tester-results"] li[data-id="x"]'), /forbidden: an order needs a numeric total/);
  // A function that does not compile says so.
  await page.evaluate(() => window.studioEditor.setValue('function (newDoc {'));
  await page.click('[data-testid="tester-run"]');
  await page.waitForFunction(() => /does not compile/.test(document.querySelector('[data-testid="tester-results"]')?.textContent));
});

test('screenshots of the workbench, light and dark, at both sizes', async (t) => {
  built();
  for (const colorScheme of ['dark', 'light']) {
    for (const viewport of SIZES) {
      const { studio, page } = await openStudio(t, { viewport, colorScheme });
      await seed(studio, 'orders', Array.from({ length: 120 }, (_, i) => ({ _id: `order-${String(i).padStart(3, '0')}`, type: 'order', status: ['paid', 'pending', 'cancelled'][i % 3], total: (i * 7) % 50, customer: { name: ['Ann', 'Bob', 'Eve'][i % 3] }, date: `2026-01-${String((i % 28) + 1).padStart(2, '0')}` })));
      await studio.fetch('orders/_bulk_docs', json('POST', { new_edits: false, docs: [{ _id: 'order-004', _rev: '1-ffffffffffffffffffffffffffffffff', type: 'order', status: 'paid', total: 99 }] }));
      await page.click(`#explorer span[data-path="${MAP}"]`);
      await page.click('#explorer span[data-docs="orders"]');
      await page.waitForSelector('#docs-list li[data-id="order-004"]');
      await page.click('#docs-list li[data-id="order-004"]');
      await page.waitForSelector('#revtree g.node');
      await page.click('[data-tab="docs:orders"]');
      await page.click('[data-testid="bottom-tab-changes"]');
      assert.deepEqual(await overflow(page), { h: false, w: false });
      // A preview that answers after its tab was left is dropped (it once failed here, on screen).
      assert.equal(await page.textContent('#problems'), '', 'no error under the table');
      await screenshot(page, `studio-workbench-${colorScheme}-${viewport.width}.png`);
      await page.click(`[data-tab="doc:orders/order-004"]`);
      await page.click(`[data-tab="file:${MAP}"]`);
      await page.click('[data-testid="runner-run"]');
      await page.waitForFunction(() => /row\(s\)/.test(document.querySelector('#runner-meta').textContent));
      assert.deepEqual(await overflow(page), { h: false, w: false });
      await screenshot(page, `studio-workbench-view-${colorScheme}-${viewport.width}.png`);
      // Mango in the bottom panel, next to the map being edited (no modal over it).
      await page.click('[data-testid="mango-open"]');
      await page.waitForSelector('[data-testid="mango-db"] option[value="orders"]', { state: 'attached' });
      await page.selectOption('[data-testid="mango-db"]', 'orders');
      await page.fill('[data-testid="mango-selector"]', '{"status": "paid"}');
      await page.fill('[data-testid="mango-fields"]', '_id, status, total, customer');
      await page.click('[data-testid="mango-run"]');
      await page.waitForSelector('[data-testid="mango-results"] tbody tr');
      assert.ok(await page.isVisible('#editor'), 'the editor stays on screen');
      assert.deepEqual(await overflow(page), { h: false, w: false });
      await page.mouse.move(0, 0); // no hover on the Run button in the picture
      await screenshot(page, `studio-workbench-mango-${colorScheme}-${viewport.width}.png`);
    }
  }
});
