// End to end in headless Chromium, on a Convertigo project imported with the CLI (fixture
// crm79): a transaction's sheet shows the sequence steps that call it and the Convertigo
// properties kept read-only; renaming it asks first with that list and rewrites the steps;
// deleting a connector asks first naming the steps that will break.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { fullsyncBin, REPO_ROOT } from './lib/server.mjs';
import { openStudio, screenshot } from './lib/studio.mjs';

test('studio on a Convertigo project: used by, kept properties, confirmed rename and delete', async (t) => {
  const fixture = join(REPO_ROOT, 'crates', 'fullsync-project', 'tests', 'fixtures', 'convertigo', 'crm79');
  const { project, page } = await openStudio(t, {
    project: (w) => join(w, 'crm'),
    create: (dir) => execFileSync(fullsyncBin(), ['project', 'import-c8o', fixture, dir], { stdio: 'pipe' }),
    env: (w) => ({ FULLSYNC_CONFIG_DIR: join(w, 'config') }),
  });
  await page.waitForSelector('#explorer span[data-node="transaction:ByName"]');

  let dialogs;
  await t.test('The sheet: used by, and the kept properties of the variables, read-only', async () => {
    await page.click('#explorer span[data-node="transaction:addContact"]');
    await page.waitForSelector('[data-testid="sheet-used-by"]');
    assert.equal(await page.textContent('[data-testid="sheet-used-by"]'), 'crm.SaveContact (Call_Add)');
    const kept = await page.$$eval('[data-testid="sheet-kept"] tr[data-kept]', (rows) => rows.map((r) => [...r.querySelectorAll('td')].map((td) => td.querySelector('input')?.value ?? td.textContent)));
    assert.deepEqual(kept, [
      ['variable name', 'comment', 'Full name'],
      ['variable age', 'visibility', '1'],
      ['variable age', 'xmlTypeAffectation', 'xsd:long'],
    ]);
    assert.equal(await page.$eval('[data-testid="sheet-kept"] input', (i) => i.readOnly), true);
    await screenshot(page, 'studio-convertigo-used-by.png');
  });
  await t.test('Rename: the confirmation lists the calling steps; accepted, the steps are rewritten', async () => {
    dialogs = [];
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.accept();
    });
    await page.click('#explorer span[data-node="transaction:ByName"]', { button: 'right' });
    await page.click('[data-testid="context-menu"] li:has-text("Rename")');
    await page.fill('[data-testid="explorer-name"]', 'FindByName');
    await page.press('[data-testid="explorer-name"]', 'Enter');
    await page.waitForSelector('#explorer span[data-node="transaction:FindByName"]');
    assert.equal(dialogs.length, 1);
    assert.match(dialogs[0], /Rename the transaction ByName to FindByName\? These Convertigo sequence steps call it/);
    assert.match(dialogs[0], /crm\.FindContact \(Call_ByName\)\n {2}• crm\.FindContact \(Loop\/Call_ByName_again\)/);
    const seq = readFileSync(join(project, '.convertigo/project/_c8oProject/sequences/FindContact.yaml'), 'utf8');
    assert.equal(seq.match(/sourceTransaction: crm\.crm\.FindByName\r\n/g)?.length, 2);
  });
  await t.test('A transaction nobody calls is renamed without asking', async () => {
    await page.click('#explorer span[data-node="transaction:deleteContact"]', { button: 'right' });
    await page.click('[data-testid="context-menu"] li:has-text("Rename")');
    await page.fill('[data-testid="explorer-name"]', 'removeContact');
    await page.press('[data-testid="explorer-name"]', 'Enter');
    await page.waitForSelector('#explorer span[data-node="transaction:removeContact"]');
    assert.equal(dialogs.length, 1);
  });
  await t.test('Delete a connector: the confirmation names the step that will break', async () => {
    await page.click('#explorer span[data-node="connector:archive"]', { button: 'right' });
    await page.click('[data-testid="context-menu"] li:has-text("Delete")');
    await page.waitForFunction(() => !document.querySelector('#explorer span[data-node="connector:archive"]'));
    assert.equal(dialogs.length, 2);
    assert.match(dialogs[1], /Delete the connector archive[^]*These Convertigo sequence steps call it and will fail[^]*crm\.FindContact \(Loop\/Call_Archive\)/);
    assert.ok(!existsSync(join(project, 'connectors/archive')));
  });
});
