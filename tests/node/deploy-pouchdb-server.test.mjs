// `fullsync deploy` of the sample project to pouchdb-server 4.2.0 (a real CouchDB-compatible
// server started by the test): first deploy, a second deploy that changes nothing, a changed view
// that updates only its design document, and a rollback.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPouchdbServer } from './lib/pouchdb-server.mjs';
import { fullsyncBin, REPO_ROOT } from './lib/server.mjs';

function fullsync(args, env) {
  return execFileSync(fullsyncBin(), args, { env: { ...process.env, ...env }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

async function ddoc(base, db, id) {
  const r = await fetch(`${base}${db}/${id}`);
  return r.json();
}

test('deploy the sample project to pouchdb-server: deploy, no-op, one changed view, rollback', async (t) => {
  const ps = await startPouchdbServer();
  const work = mkdtempSync(join(tmpdir(), 'fullsync-deploy-'));
  t.after(async () => {
    await ps.stop();
    rmSync(work, { recursive: true, force: true });
  });
  const proj = join(work, 'sample');
  cpSync(join(REPO_ROOT, 'projects', 'sample'), proj, { recursive: true });
  const env = { FULLSYNC_CONFIG_DIR: join(work, 'config') };
  fullsync(['server', 'add', 'ps', '--url', ps.url.replace(/\/$/, '')], env);

  const plan = fullsync(['deploy', proj, '--server', 'ps', '--dry-run'], env);
  assert.match(plan, /\+ database orders/);
  assert.match(plan, /\+ orders\/_design\/app/);
  fullsync(['deploy', proj, '--server', 'ps'], env);
  const app = await ddoc(ps.url, 'orders', '_design/app');
  assert.equal(app.fullsync_project, 'sample');
  assert.equal(app.views.by_status.reduce, '_sum');
  const products = await ddoc(ps.url, 'catalog', '_design/products');
  assert.ok(products.views.by_category);

  // The deployed views answer on pouchdb-server.
  await fetch(`${ps.url}orders/o1`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ type: 'order', status: 'paid', total: 3, date: '2026-01-01' }) });
  const view = await (await fetch(`${ps.url}orders/_design/app/_view/by_status?group=true`)).json();
  assert.deepEqual(view.rows, [{ key: 'paid', value: 3 }]);

  // A second deploy changes nothing.
  assert.match(fullsync(['deploy', proj, '--server', 'ps'], env), /nothing to deploy/);
  const rev1 = (await ddoc(ps.url, 'orders', '_design/app'))._rev;
  const productsRev = (await ddoc(ps.url, 'catalog', '_design/products'))._rev;

  // A changed view updates only its design document.
  writeFileSync(join(proj, 'connectors/orders/design/app/views/by_status/map.js'), "function (doc) { if (doc.type === 'order') emit(doc.status, 1); }\n");
  const plan2 = fullsync(['deploy', proj, '--server', 'ps', '--dry-run'], env);
  // One index per design document: every view of _design/app is rebuilt, not only by_status.
  assert.match(plan2, /~ orders\/_design\/app  \(reindex: by_customer, by_id, by_status, totals; \d+ document\(s\) to index\)/);
  assert.match(plan2, /= catalog\/_design\/products/);
  fullsync(['deploy', proj, '--server', 'ps'], env);
  const app2 = await ddoc(ps.url, 'orders', '_design/app');
  assert.notEqual(app2._rev, rev1);
  assert.match(app2.views.by_status.map, /emit\(doc.status, 1\)/);
  assert.equal((await ddoc(ps.url, 'catalog', '_design/products'))._rev, productsRev, 'other design docs untouched');

  // Rollback restores the previous design document.
  fullsync(['deploy', proj, '--server', 'ps', '--rollback'], env);
  const app3 = await ddoc(ps.url, 'orders', '_design/app');
  assert.match(app3.views.by_status.map, /doc\.total/);
});
