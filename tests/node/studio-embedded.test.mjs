// The studio compiled into `fullsync` and its Content Security Policy, in headless Chromium:
// - a copy of the `fullsync` binary, run from an empty temporary folder (no ui/dist anywhere
//   near it), serves the studio with `serve --studio`: the page loads, the About dialog names
//   the version and the commit, and nothing is written to the working folder;
// - the studio works under its CSP without a single violation (Monaco and its worker, the live
//   preview, documents, the compare editor, both themes, Settings, About);
// - an inline script and an inline event handler injected into the rendered documents list do
//   not run (reported as CSP violations), while the same injection runs on a page without CSP.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { expectedCommit, workspaceVersion } from './lib/build.mjs';
import { cspViolations, injectInlineScripts, openEmbeddedStudio, recordCspViolations } from './lib/studio.mjs';

test('a copied fullsync run from an empty folder serves the studio compiled into it', async (t) => {
  const { cwd, studio, page } = await openEmbeddedStudio(t);
  assert.match(await page.textContent('[data-testid="project-name"]'), /sample 1\.0\.0/);
  let index;
  await t.test('The page and its CSP come from the binary', async () => {
    index = await fetch(new URL('/_studio/', studio.studio));
    assert.equal(index.status, 200);
    assert.match(index.headers.get('content-security-policy'), /script-src 'self';/);
  });
  await t.test('One script: the small entry (ui/src/main.ts) that asks for the project and loads the rest', async () => {
    assert.match(await index.text(), /<script type="module" crossorigin src="\.\/assets\/index-[^"]+\.js"><\/script>/);
  });
  await t.test('About names this build', async () => {
    await page.click('[data-testid="about-open"]');
    await page.waitForSelector('[data-testid="about"][open]');
    assert.equal(await page.textContent('[data-testid="about-version"]'), workspaceVersion());
    assert.equal(await page.textContent('[data-testid="about-commit"]'), expectedCommit());
    assert.equal(await page.textContent('[data-testid="about-transport"]'), 'web mode (HTTP on loopback)');
    assert.deepEqual(readdirSync(cwd), [], 'serve --studio writes nothing to the working folder');
  });
});

test('the studio runs under its CSP without a violation: Monaco, worker, preview, documents, compare, themes', async (t) => {
  const { studio, page, asAdmin } = await openEmbeddedStudio(t);
  page.on('dialog', (d) => d.accept());
  const docs = [
    { _id: 'o1', type: 'order', status: 'paid', total: 10 },
    { _id: 'o2', type: 'order', status: 'pending', total: 5 },
  ];
  const r = await fetch(`${studio.couch}orders/_bulk_docs`, { method: 'POST', headers: asAdmin, body: JSON.stringify({ docs }) });
  assert.equal(r.status, 201);
  await t.test('Monaco with its worker (JavaScript diagnostics) and the live preview', async () => {
    await page.click('#explorer span[data-path="connectors/orders/design/app/views/by_status/map.js"]');
    await page.waitForFunction(() => document.querySelectorAll('#preview-rows tbody tr').length === 2);
    await page.waitForSelector('#editor .monaco-editor .view-line');
  });
  await t.test('A syntax error, marked on its line (Monaco draws the squiggle as a data: image)', async () => {
    await page.evaluate(() => window.studioEditor.setValue('function (doc) {\n  var total = 0;\n  emit(doc.status;\n}'));
    await page.waitForFunction(() => /SyntaxError|compile/i.test(document.querySelector('#problems').textContent));
    await page.waitForSelector('#editor .squiggly-error');
  });
  await t.test('Documents, and a conflict\'s compare (Monaco\'s diff editor)', async () => {
    const conflicted = [
      { _id: 'cf', _rev: '2-aa', type: 'order', total: 1, status: 'paid', _revisions: { start: 2, ids: ['aa', 'r1'] } },
      { _id: 'cf', _rev: '2-bb', type: 'order', total: 2, status: 'pending', _revisions: { start: 2, ids: ['bb', 'r1'] } },
    ];
    const cr = await fetch(`${studio.couch}orders/_bulk_docs`, { method: 'POST', headers: asAdmin, body: JSON.stringify({ docs: conflicted, new_edits: false }) });
    assert.equal(cr.status, 201);
    await page.click('#explorer span[data-docs="orders"]');
    await page.waitForSelector('#docs-list li[data-id="cf"]');
    await page.click('#docs-list li[data-id="cf"]');
    await page.waitForFunction(() => document.querySelectorAll('#conflict-list li').length === 2);
    await page.click('#conflict-list li[data-rev="2-aa"] button:text("Compare")');
    await page.waitForSelector('#conflict-diff .monaco-diff-editor .line-insert');
  });
  await t.test('Both themes (Monaco writes its theme\'s CSS at run time), Settings and About', async () => {
    await page.click('[data-testid="settings-open"]');
    await page.selectOption('[data-testid="settings-theme"]', 'light');
    await page.waitForFunction(() => document.documentElement.dataset.theme === 'light');
    await page.selectOption('[data-testid="settings-theme"]', 'dark');
    await page.waitForFunction(() => document.documentElement.dataset.theme === 'dark');
    await page.click('[data-testid="settings-close"]');
    await page.click('[data-testid="about-open"]');
    await page.waitForSelector('[data-testid="about"][open]');
    assert.deepEqual(await cspViolations(page), [], 'nothing the studio does is blocked by its CSP');
  });
});

test('an inline script injected into the rendered documents list does not run (CSP); without CSP it does', async (t) => {
  const { studio, page, browser, asAdmin } = await openEmbeddedStudio(t);
  await t.test('A document whose fields carry HTML, listed by the studio', async () => {
    const payload = { _id: 'xss<img src=x onerror=window.__docRan=1>', type: 'note', note: '<script>window.__docRan = 1</script>' };
    const w = await fetch(`${studio.couch}orders`, { method: 'POST', headers: asAdmin, body: JSON.stringify(payload) });
    assert.equal(w.status, 201);
    await page.click('#explorer span[data-docs="orders"]');
    await page.waitForFunction(() => [...document.querySelectorAll('#docs-list li')].some((li) => li.textContent.includes('xss<img')));
    const ran = await injectInlineScripts(page, '#docs-list');
    assert.deepEqual(ran, { script: false, handler: false }, 'the CSP stops both');
    const reported = (await cspViolations(page)).map((v) => v.directive);
    assert.ok(reported.includes('script-src-elem'), `the injected <script> is reported: ${JSON.stringify(reported)}`);
    assert.ok(reported.includes('script-src-attr'), `the injected onerror handler is reported: ${JSON.stringify(reported)}`);
    assert.equal(await page.evaluate(() => window.__docRan ?? null), null, "the document's own HTML never ran");
  });
  await t.test('The same injection on a page without CSP runs: the probe detects a missing policy', async () => {
    const bare = await browser.newPage();
    await recordCspViolations(bare);
    await bare.setContent('<ul id="docs-list"></ul>');
    assert.deepEqual(await injectInlineScripts(bare, '#docs-list'), { script: true, handler: true });
  });
});
