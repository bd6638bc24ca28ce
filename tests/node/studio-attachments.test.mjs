// End to end in headless Chromium: attachments of a document in the studio's documents panel.
// A document created through the CouchDB API is opened, a binary file is attached through the
// file input (the bytes read back over HTTP are identical), downloaded through the UI (same
// bytes), then deleted (HTTP 404). Each write reopens the document at its new revision; an older
// revision lists its attachments for download only; a stale upload reports the conflict.
// STUDIO_SCREENSHOTS=docs writes docs/studio-attachments.png.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './lib/server.mjs';
import { openStudio, screenshot } from './lib/studio.mjs';

const md5 = (b) => `md5-${createHash('md5').update(b).digest('base64')}`;

test('studio attachments: attach, list, download, delete', async (t) => {
  const { studio, page } = await openStudio(t);
  const dialogs = [];
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.accept();
  });
  const status = () => page.textContent('[data-testid="attachments-msg"]');
  const editorRev = () => page.evaluate(() => JSON.parse(window.studioEditor.getValue())._rev);

  let bytes, doc, download, id;
  await t.test('A document made through the CouchDB API', async () => {
    id = 'att-note';
    const put = await studio.fetch(`orders/${id}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ type: 'note', text: 'with a file' }) });
    assert.equal(put.status, 201);
    const rev1 = (await put.json()).rev;
    assert.match(rev1, /^1-/);

    await page.click('#explorer span[data-docs="orders"]');
    await page.fill('#docs-search', id);
    await page.click(`#docs-list li[data-id="${id}"]`);
    await page.waitForSelector('[data-testid="attachments"]:not([hidden])');
    assert.match(await page.textContent('[data-testid="attachments-list"]'), /No attachments/);
  });
  await t.test('Attach a few KB of binary bytes (every byte value)', async () => {
    bytes = Buffer.alloc(6000);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 37 + (i >> 8)) & 0xff;
    await page.setInputFiles('[data-testid="attachments-file"]', { name: 'scan.bin', mimeType: 'application/x-scan', buffer: bytes });
    await page.waitForSelector('[data-testid="attachments-list"] li[data-name="scan.bin"]');
    await page.waitForFunction(() => /attached scan\.bin \(5\.9 KiB\); att-note is now at 2-/.test(document.querySelector('[data-testid="attachments-msg"]').textContent));
    const row = await page.textContent('[data-testid="attachments-list"] li[data-name="scan.bin"]');
    assert.match(row, /application\/x-scan · 5\.9 KiB/);
    assert.ok(row.includes(md5(bytes)), `the digest is listed: ${row}`);
  });
  await t.test('The editor was reopened at the new revision, with the stub', async () => {
    doc = await (await studio.fetch(`orders/${id}`)).json();
    assert.match(doc._rev, /^2-/);
    assert.equal(await editorRev(), doc._rev);
    const shown = await page.evaluate(() => JSON.parse(window.studioEditor.getValue())._attachments);
    assert.equal(shown['scan.bin'].digest, md5(bytes));
    assert.equal(shown['scan.bin'].length, bytes.length);
    assert.equal(doc.text, 'with a file', 'the body is kept');
  });
  await t.test('Over HTTP, the bytes are identical', async () => {
    const got = await studio.fetch(`orders/${id}/scan.bin`);
    assert.equal(got.status, 200);
    assert.equal(got.headers.get('content-type'), 'application/x-scan');
    assert.ok(Buffer.from(await got.arrayBuffer()).equals(bytes), 'HTTP returns the uploaded bytes');
  });
  await t.test('Download through the UI: the same bytes, under the attachment\'s name', async () => {
    [download] = await Promise.all([
      page.waitForEvent('download'),
      page.click('[data-testid="attachments-list"] li[data-name="scan.bin"] [data-testid="attachment-download"]'),
    ]);
    assert.equal(download.suggestedFilename(), 'scan.bin');
    assert.ok(readFileSync(await download.path()).equals(bytes), 'the download has the uploaded bytes');
    await page.waitForFunction(() => /downloaded scan\.bin/.test(document.querySelector('[data-testid="attachments-msg"]').textContent));
  });
  await t.test('A second, text attachment; then the screenshot', async () => {
    await page.setInputFiles('[data-testid="attachments-file"]', { name: 'readme.txt', mimeType: 'text/plain', buffer: Buffer.from('Delivery notes for att-note.\n') });
    await page.waitForSelector('[data-testid="attachments-list"] li[data-name="readme.txt"]');
    await page.waitForFunction(() => /att-note is now at 3-/.test(document.querySelector('[data-testid="attachments-msg"]').textContent));
    assert.match(await page.textContent('[data-testid="attachments-count"]'), /2 · 5\.9 KiB/);
    if (process.env.STUDIO_SCREENSHOTS) {
      await page.waitForFunction(() => /att-note\s+3-/.test(document.querySelector('#changes-list li')?.textContent ?? ''));
      await page.evaluate(() => document.querySelector('[data-testid="attachments"]').scrollIntoView({ block: 'center' }));
      await screenshot(page, 'studio-attachments.png');
    }
  });
  await t.test('Another client writes meanwhile: the upload on the stale revision is refused, visibly', async () => {
    const rev3 = await editorRev();
    const other = await studio.fetch(`orders/${id}?rev=${rev3}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...doc, _rev: rev3, _attachments: (await (await studio.fetch(`orders/${id}`)).json())._attachments, text: 'edited elsewhere' }) });
    assert.equal(other.status, 201);
    await page.setInputFiles('[data-testid="attachments-file"]', { name: 'late.bin', mimeType: 'application/octet-stream', buffer: Buffer.from([1, 2, 3]) });
    await page.waitForFunction(() => /not attached: late\.bin: .*reload the document/.test(document.querySelector('[data-testid="attachments-msg"]').textContent));
    assert.ok(await page.$eval('[data-testid="attachments-msg"]', (e) => e.classList.contains('error')));
    assert.equal((await studio.fetch(`orders/${id}/late.bin`)).status, 404);
  });
  await t.test('Still there a moment later: errors stay until dismissed or replaced', async () => {
    await page.waitForTimeout(1500);
    assert.match(await status(), /not attached: late\.bin/);
  });
  await t.test('Reload, then delete the binary attachment (confirmed by name): HTTP 404, the other stays', async () => {
    await page.click('[data-tab="docs:orders"]');
    await page.click(`#docs-list li[data-id="${id}"]`);
    await page.waitForFunction(() => /edited elsewhere/.test(window.studioEditor.getValue()));
    dialogs.length = 0;
    await page.click('[data-testid="attachments-list"] li[data-name="scan.bin"] [data-testid="attachment-delete"]');
    await page.waitForFunction(() => /deleted scan\.bin; att-note is now at 5-/.test(document.querySelector('[data-testid="attachments-msg"]').textContent));
    assert.match(dialogs[0], /Delete the attachment scan\.bin \(5\.9 KiB\) of att-note\?/);
    assert.equal((await studio.fetch(`orders/${id}/scan.bin`)).status, 404);
    assert.equal((await studio.fetch(`orders/${id}/readme.txt`)).status, 200);
    assert.equal(await page.$$eval('[data-testid="attachments-list"] li[data-name]', (l) => l.length), 1);
    assert.match(await editorRev(), /^5-/);
    const now = await page.evaluate(() => JSON.parse(window.studioEditor.getValue())._attachments);
    assert.deepEqual(Object.keys(now), ['readme.txt']);
  });
  await t.test('An older revision: its attachments are listed for download only', async () => {
    await page.click(`#history-list li[data-rev="${doc._rev}"]`);
    await page.waitForFunction(() => /read-only/.test(document.querySelector('#tab-title').textContent));
    await page.waitForSelector('[data-testid="attachments-list"] li[data-name="scan.bin"]');
    assert.equal(await page.$$eval('[data-testid="attachment-delete"]', (l) => l.length), 0);
    assert.ok(await page.$eval('[data-testid="attachments-add"]', (e) => e.hidden));
    const [old] = await Promise.all([
      page.waitForEvent('download'),
      page.click('[data-testid="attachments-list"] li[data-name="scan.bin"] [data-testid="attachment-download"]'),
    ]);
    assert.ok(readFileSync(await old.path()).equals(bytes), 'the older revision downloads its bytes');
  });
});
