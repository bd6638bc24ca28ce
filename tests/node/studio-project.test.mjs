// End to end in headless Chromium: the explorer's context menu (create a view, rename it, delete
// it, with the engine's design document following), the Git screen (init, diff, commit,
// history, discard), and external changes to the open file (reloaded when clean, offered when
// the editor has unsaved edits, never overwritten silently).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './lib/server.mjs';
import { openStudio, screenshot } from './lib/studio.mjs';

test('studio explorer menu and git screen', async (t) => {
  const { project, studio, page } = await openStudio(t);
  const ddoc = async () => (await studio.fetch(`orders/_design/app`)).json();

  let before, d, mapFile, mapPath;
  await t.test('Quick open: Ctrl-P, the letters of a path in order, Enter', async () => {
    await page.keyboard.press('Control+p');
    await page.waitForSelector('[data-testid="quick-open-input"]');
    await page.keyboard.type('ordtotalsred');
    assert.equal(await page.getAttribute('[data-testid="quick-open-list"] li.sel', 'data-path'), 'connectors/orders/design/app/views/totals/reduce.js');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.querySelector('[data-testid="tab-title"]').textContent === 'connectors/orders/design/app/views/totals/reduce.js');
    assert.equal(await page.$('[data-testid="quick-open"]'), null);
  });
  await t.test('Create a view from the design document\'s context menu; the name is typed in place', async () => {
    await page.click('#explorer span[data-node="ddoc:app"]', { button: 'right' });
    await page.click('[data-testid="context-menu"] li:has-text("New view")');
    await page.fill('[data-testid="explorer-name"]', 'by_customer_name');
    await page.press('[data-testid="explorer-name"]', 'Enter');
    await page.waitForSelector('#explorer span[data-node="view:by_customer_name"]');
    mapFile = join(project, 'connectors/orders/design/app/views/by_customer_name/map.js');
    assert.match(readFileSync(mapFile, 'utf8'), /emit\(doc\._id/);
    assert.ok((await ddoc()).views.by_customer_name, 'the new view is synced into the engine');
  });
  await t.test('A bad name is refused with a message; nothing changes', async () => {
    await page.click('#explorer span[data-node="view:by_customer_name"]', { button: 'right' });
    await page.click('[data-testid="context-menu"] li:has-text("Rename")');
    await page.fill('[data-testid="explorer-name"]', 'by_status');
    await page.press('[data-testid="explorer-name"]', 'Enter');
    await page.waitForFunction(() => /already exists/.test(document.querySelector('[data-testid="status"]').textContent));
    assert.ok(existsSync(mapFile));
  });
  await t.test('Rename, then delete (confirmed)', async () => {
    await page.click('#explorer span[data-node="view:by_customer_name"]', { button: 'right' });
    await page.click('[data-testid="context-menu"] li:has-text("Rename")');
    await page.fill('[data-testid="explorer-name"]', 'by_buyer');
    await page.press('[data-testid="explorer-name"]', 'Enter');
    await page.waitForSelector('#explorer span[data-node="view:by_buyer"]');
    assert.ok(!existsSync(mapFile));
    for (let i = 0; i < 50; i++) {
      d = await ddoc();
      if (d.views.by_buyer && !d.views.by_customer_name) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(d.views.by_buyer && !d.views.by_customer_name, `renamed in the engine: ${Object.keys(d.views)}`);
    let dialogText = '';
    page.once('dialog', (dl) => {
      dialogText = dl.message();
      void dl.accept();
    });
    await page.click('#explorer span[data-node="view:by_buyer"]', { button: 'right' });
    await page.click('[data-testid="context-menu"] li:has-text("Delete")');
    await page.waitForFunction(() => !document.querySelector('#explorer span[data-node="view:by_buyer"]'));
    assert.match(dialogText, /Delete the view by_buyer\?/);
    // The engine follows through the one sync path (debounced): wait for it, then check.
    for (let i = 0; i < 50; i++) {
      d = await ddoc();
      if (!d.views.by_buyer) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(!d.views.by_buyer, `deleted in the engine: ${Object.keys(d.views)}`);
  });
  await t.test('Git: init, see the changed file\'s diff, commit, history; then discard an edit', async () => {
    await page.click('[data-testid="git-open"]');
    await page.click('[data-testid="git-init"]');
    await page.waitForSelector('[data-testid="git-files"] li[data-path="fullsync.toml"]');
    await page.fill('[data-testid="git-message"]', 'Sample project');
    await page.fill('[data-testid="git-author"]', 'Ada Lovelace');
    await page.fill('[data-testid="git-email"]', 'ada@example.com');
    await page.click('[data-testid="git-commit"]');
    await page.waitForFunction(() => /Committed \d+ file\(s\)/.test(document.querySelector('[data-testid="git-msg"]').textContent));
    assert.match(await page.textContent('[data-testid="git-log"]'), /Sample project.*Ada Lovelace/);
    assert.match(await page.textContent('[data-testid="git-files"]'), /No changes/);
    await page.click('[data-testid="git-close"]');

    mapPath = join(project, 'connectors/orders/design/app/views/by_status/map.js');
    before = readFileSync(mapPath, 'utf8');
    writeFileSync(mapPath, before.replace('emit(', '// edited outside\n  emit('));
    await page.click('[data-testid="git-open"]');
    await page.waitForSelector('[data-testid="git-files"] li[data-path="connectors/orders/design/app/views/by_status/map.js"]');
    await page.waitForFunction(() => /\+\s*\/\/ edited outside/.test(document.querySelector('[data-testid="git-diff"]').textContent));
    await screenshot(page, 'studio-git.png');
    page.once('dialog', (dl) => void dl.accept());
    await page.click('[data-testid="git-files"] li[data-path="connectors/orders/design/app/views/by_status/map.js"] [data-testid="git-discard"]');
    await page.waitForFunction(() => /Discarded/.test(document.querySelector('[data-testid="git-msg"]').textContent));
    assert.equal(readFileSync(mapPath, 'utf8'), before);

    await page.click('[data-testid="git-close"]');
  });
  await t.test('External changes. A clean editor reloads the file', async () => {
    await page.click(`#explorer span[data-path="connectors/orders/design/app/views/by_status/map.js"]`);
    await page.waitForFunction(() => window.studioEditor.getValue().includes('emit('));
    writeFileSync(mapPath, before.replace('emit(', '// from another editor\n  emit('));
    await page.waitForFunction(() => window.studioEditor.getValue().includes('from another editor'));
    assert.match(await page.textContent('[data-testid="status"]'), /reloaded .*changed on disk/);
  });
  await t.test('With unsaved edits, the change is offered instead, and a save does not overwrite it', async () => {
    await page.evaluate(() => window.studioEditor.setValue(window.studioEditor.getValue().replace('emit(', '// mine\n  emit(')));
    writeFileSync(mapPath, before.replace('emit(', '// theirs\n  emit('));
    await page.waitForSelector('[data-testid="extbar"]:not([hidden])');
    assert.match(await page.textContent('[data-testid="extbar"]'), /changed on disk while you were editing/);
    assert.match(await page.evaluate(() => window.studioEditor.getValue()), /\/\/ mine/, 'the edits are kept');
    await page.click('[data-testid="ext-compare"]');
    await page.waitForSelector('#conflict-diff:not([hidden])');
    assert.match(await page.textContent('[data-testid="diff-title"]'), /on disk .* your edits/);
    await screenshot(page, 'studio-external-change.png');
    await page.click('[data-testid="ext-keep"]');
    await page.click('#editor');
    await page.keyboard.press('Control+s');
    await page.waitForFunction(() => /saved connectors/.test(document.querySelector('[data-testid="status"]').textContent));
    assert.match(readFileSync(mapPath, 'utf8'), /\/\/ mine/);
    assert.doesNotMatch(readFileSync(mapPath, 'utf8'), /theirs/);
  });
  await t.test('A new listener from the connector\'s menu: created disabled, then edited in its sheet', async () => {
    await page.click('#explorer span[data-node="connector:orders"]', { button: 'right' });
    await page.click('[data-testid="context-menu"] li:has-text("New listener")');
    await page.fill('[data-testid="explorer-name"]', 'on_paid');
    await page.press('[data-testid="explorer-name"]', 'Enter');
    await page.click('#explorer span[data-node="listener:on_paid"]');
    await page.waitForSelector('[data-testid="sheet"][data-kind="listener"][data-name="on_paid"]');
    assert.equal(await page.isChecked('[data-testid="sheet-enabled"]'), false);
    assert.equal(await page.inputValue('[data-testid="sheet-view"]'), 'app/by_customer');
  });
  await t.test('Property sheets: a listener', async () => {
    const listenerPath = 'connectors/orders/listeners/paid.toml';
    await page.click(`#explorer span[data-path="${listenerPath}"]`);
    await page.waitForSelector('[data-testid="sheet"][data-kind="listener"][data-name="paid"]');
    assert.equal(await page.inputValue('[data-testid="sheet-chunk"]'), '5');
    assert.equal(await page.inputValue('[data-testid="sheet-handler"]'), 'handlers/paid.js');
    await page.fill('[data-testid="sheet-chunk"]', '20');
    await page.check('[data-testid="sheet-enabled"]');
    await page.selectOption('[data-testid="sheet-filter"]', '');
    await page.selectOption('[data-testid="sheet-view"]', 'app/by_status');
    await page.click('[data-testid="sheet-save"]');
    await page.waitForFunction(() => /Saved connectors\/orders\/listeners\/paid\.toml/.test(document.querySelector('[data-testid="sheet-msg"]').textContent));
    const ltext = readFileSync(join(project, listenerPath), 'utf8');
    assert.match(ltext, /chunk = 20/);
    assert.match(ltext, /enabled = true/);
    assert.match(ltext, /view = "app\/by_status"/);
    assert.doesNotMatch(ltext, /filter/);
  });
  await t.test('The TOML open in the editor follows the save', async () => {
    await page.waitForFunction(() => window.studioEditor.getValue().includes('chunk = 20'));
  });
  await t.test('A transaction: a property, dynamic-property variables, reorder, remove, save', async () => {
    const txPath = 'connectors/orders/transactions/GetOrdersByStatus.toml';
    await page.click(`#explorer span[data-path="${txPath}"]`);
    await page.waitForSelector('[data-testid="sheet"][data-kind="transaction"]');
    assert.equal(await page.inputValue('[data-testid="sheet-type"]'), 'GetView');
    await page.selectOption('[data-testid="sheet-props"] select[data-prop="q_descending"]', 'true');
    await page.fill('[data-testid="sheet-props"] input[data-prop="q_startkey"]', '["a", 1');
    await page.click('[data-testid="sheet-save"]');
    await page.waitForFunction(() => /fix the JSON of q_startkey/.test(document.querySelector('[data-testid="sheet-msg"]').textContent));
    await page.fill('[data-testid="sheet-props"] input[data-prop="q_startkey"]', '');
    await page.click('[data-testid="var-dynamic"]');
    assert.match(await page.textContent('[data-testid="sheet-msg"]'), /Added \d+ variable\(s\): .*descending/);
    assert.ok(await page.$('[data-testid="sheet-vars"] tr[data-var="skip"]'));
    await page.click('[data-testid="sheet-vars"] tr[data-var="limit"] [data-testid="var-up"]');
    await page.click('[data-testid="sheet-vars"] tr[data-var="stale"] [data-testid="var-remove"]');
    if (process.env.STUDIO_SCREENSHOTS) {
      await page.evaluate(() => document.querySelector('[data-testid="sheet-vars"]').scrollIntoView({ block: 'center' }));
      await screenshot(page, 'studio-property-sheet.png');
    }
    await page.click('[data-testid="sheet-save"]');
    await page.waitForFunction(() => /Saved connectors\/orders\/transactions/.test(document.querySelector('[data-testid="sheet-msg"]').textContent));
    const ttext = readFileSync(join(project, txPath), 'utf8');
    assert.match(ttext, /q_descending = true/);
    assert.doesNotMatch(ttext, /^q_startkey =/m);
    assert.ok(ttext.indexOf('name = "limit"') < ttext.indexOf('name = "key"'), 'limit moved above key');
    assert.match(ttext, /name = "skip"/);
    assert.doesNotMatch(ttext, /name = "stale"/);
    assert.match(ttext, /overrides q_group_level/);
  });
});
