// End to end in headless Chromium: the Open dialog (browse folders with FullSync and Convertigo
// projects marked, open another project and see the explorer and the engine follow, find it in
// the recent list, import a Convertigo project into a new folder) and Settings (where things
// are, the light theme, kept across reloads).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './lib/server.mjs';
import { openStudio, screenshot } from './lib/studio.mjs';

test('studio open dialog: browse, open, recent, import a Convertigo project', async (t) => {
  const { work, project: first, studio, page } = await openStudio(t, {
    project: (w) => join(w, 'projects', 'shop'),
    env: (w) => ({ FULLSYNC_CONFIG_DIR: join(w, 'config') }),
  });
  const projects = join(work, 'projects');
  const config = join(work, 'config');
  const second = join(projects, 'notes');
  mkdirSync(join(second, 'connectors', 'notes', 'design', 'app', 'views', 'by_title'), { recursive: true });
  writeFileSync(join(second, 'fullsync.toml'), '[project]\nname = "notes"\nversion = "0.3.0"\n');
  writeFileSync(join(second, 'connectors', 'notes', 'connector.toml'), 'anonymous_replication = "deny"\nrevs_limit = 10\n');
  writeFileSync(join(second, 'connectors', 'notes', 'design', 'app', 'views', 'by_title', 'map.js'), 'function (doc) {\n  emit(doc.title, null);\n}\n');
  cpSync(join(REPO_ROOT, 'crates', 'fullsync-project', 'tests', 'fixtures', 'convertigo', 'shop8'), join(projects, 'legacy-shop'), { recursive: true });

  await t.test('The start-up project is remembered', async () => {
    await page.click('[data-testid="open-open"]');
    await page.waitForSelector('[data-testid="open-recent"] li.link');
    assert.match(await page.textContent('[data-testid="open-recent"]'), /sample 1\.0\.0/);
  });
  await t.test('The browser starts next to the open project, with projects marked', async () => {
    await page.waitForSelector('[data-testid="open-dirs"] li[data-name="notes"]');
    assert.match(await page.textContent('[data-testid="open-dirs"] li[data-name="notes"]'), /FullSync project/);
    assert.match(await page.textContent('[data-testid="open-dirs"] li[data-name="legacy-shop"]'), /Convertigo project/);
  });
  await t.test('A folder that does not exist says so', async () => {
    await page.fill('[data-testid="open-path"]', join(work, 'nope'));
    await page.click('[data-testid="open-go"]');
    await page.waitForFunction(() => /cannot list/.test(document.querySelector('[data-testid="open-msg"]').textContent));
  });
  await t.test('Open the other project', async () => {
    await page.fill('[data-testid="open-path"]', projects);
    await page.click('[data-testid="open-go"]');
    await page.click('[data-testid="open-dirs"] li[data-name="notes"]');
    await screenshot(page, 'studio-open.png');
    await page.click('[data-testid="open-this"]');
    await page.waitForFunction(() => /notes 0\.3\.0/.test(document.querySelector('[data-testid="project-name"]').textContent));
    await page.waitForSelector('#explorer span[data-node="view:by_title"]');
    const ddoc = await (await studio.fetch(`notes/_design/app`)).json();
    assert.ok(ddoc.views.by_title, 'the opened project is synced into the engine');
    const recent = JSON.parse(readFileSync(join(config, 'recent-projects.json'), 'utf8')).projects;
    assert.deepEqual(recent.slice(0, 2), [second, first]);
  });
  await t.test('Import the Convertigo project into a new folder; it opens', async () => {
    await page.click('[data-testid="open-open"]');
    await page.fill('[data-testid="open-path"]', join(projects, 'legacy-shop'));
    await page.click('[data-testid="open-go"]');
    await page.waitForSelector('[data-testid="import-this"]');
    assert.equal(await page.inputValue('[data-testid="import-dest"]'), `${join(projects, 'legacy-shop')}-fullsync`);
    // The status already says "opened …" for the project opened before: wait for a new one.
    const before = await page.textContent('[data-testid="status"]');
    await page.click('[data-testid="import-this"]');
    await page.waitForFunction((prev) => {
      const now = document.querySelector('[data-testid="status"]').textContent;
      return /^opened /.test(now) && now !== prev;
    }, before);
    assert.ok(existsSync(join(projects, 'legacy-shop-fullsync', 'fullsync.toml')));
    assert.match(await page.textContent('[data-testid="explorer"]'), /connector/);
  });
  await t.test('Importing again into the same, now non-empty, folder is refused', async () => {
    await page.click('[data-testid="open-open"]');
    await page.fill('[data-testid="open-path"]', join(projects, 'legacy-shop'));
    await page.click('[data-testid="open-go"]');
    await page.click('[data-testid="import-this"]');
    await page.waitForFunction(() => /is not empty/.test(document.querySelector('[data-testid="open-msg"]').textContent));
    await page.click('[data-testid="open-close"]');
  });
  await t.test('Settings: where things are, and the light theme (Monaco follows; kept after a reload)', async () => {
    await page.click('[data-testid="settings-open"]');
    await page.waitForSelector('[data-testid="settings-theme"]');
    const settingsText = await page.textContent('[data-testid="settings"]');
    assert.ok(settingsText.includes(join(work, 'data')), settingsText);
    assert.ok(settingsText.includes(config), settingsText);
    assert.match(settingsText, /No server profiles yet/);
    await page.selectOption('[data-testid="settings-theme"]', 'light');
    assert.equal(await page.getAttribute('html', 'data-theme'), 'light');
    // (the editor is hidden until a tab opens: attached is enough to see its theme)
    await page.waitForSelector('.monaco-editor.vs', { state: 'attached' });
    await page.click('[data-testid="settings-close"]');
    await page.reload();
    await page.waitForSelector('#explorer span.file');
    assert.equal(await page.getAttribute('html', 'data-theme'), 'light');
    if (process.env.STUDIO_SCREENSHOTS) {
      await page.click('#explorer span[data-path="connectors/orders/design/app/views/by_status/map.js"]').catch(() => {});
      await screenshot(page, 'studio-light.png');
    }
  });
});
