// `fullsync deploy` against `fullsync serve` (with its local admin) and pouchdb-server 4.2.0:
// staged deploys that leave the live views fully built, plans that list every view the server
// rebuilds, design-document conflicts left by a replication, and the deploy history with
// rollback to any earlier deploy. Each case runs on both servers.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPouchdbServer } from './lib/pouchdb-server.mjs';
import { startServer, fullsyncBin, REPO_ROOT } from './lib/server.mjs';
import { startRecordingProxy } from './lib/recording-proxy.mjs';

const run = promisify(execFile);
const DOCS = 3000;
const MAP = (body) => `function (doc) { if (doc.type === 'order') { ${body} } }\n`;

/** Runs the CLI (asynchronously: the recording proxy lives in this process). */
async function fullsync(args, env, { allowFail = false } = {}) {
  try {
    const { stdout, stderr } = await run(fullsyncBin(), args, { env: { ...process.env, ...env }, maxBuffer: 64 << 20 });
    return { stdout, stderr, code: 0 };
  } catch (e) {
    if (!allowFail) throw new Error(`fullsync ${args.join(' ')} failed (${e.code}):\n${e.stdout}\n${e.stderr}`);
    return { stdout: e.stdout, stderr: e.stderr, code: e.code };
  }
}

/**
 * A server to deploy to, a copy of the sample project and a profile `target` for it.
 * `fullsync serve` is reached as its local admin (password in FULLSYNC_SERVER_TARGET_PASSWORD).
 */
async function setup(t, kind, { proxy = false } = {}) {
  const work = mkdtempSync(join(tmpdir(), `fullsync-deploy-${kind}-`));
  let url;
  let auth = {};
  let stopServer;
  const env = { FULLSYNC_CONFIG_DIR: join(work, 'config') };
  const profile = [];
  if (kind === 'serve') {
    const srv = await startServer();
    url = srv.url;
    const admin = await srv.localAdmin();
    auth = { authorization: 'Basic ' + Buffer.from(`${admin.username}:${admin.password}`).toString('base64') };
    env.FULLSYNC_SERVER_TARGET_PASSWORD = admin.password;
    profile.push('--user', admin.username);
    stopServer = () => srv.stop();
  } else {
    const ps = await startPouchdbServer();
    url = ps.url;
    stopServer = () => ps.stop();
  }
  const rec = proxy ? await startRecordingProxy(url) : null;
  t.after(async () => {
    if (rec) await rec.stop();
    await stopServer();
    rmSync(work, { recursive: true, force: true });
  });
  const proj = join(work, 'sample');
  cpSync(join(REPO_ROOT, 'projects', 'sample'), proj, { recursive: true });
  await fullsync(['server', 'add', 'target', '--url', (rec ? rec.url : url).replace(/\/$/, ''), ...profile], env);
  const call = async (method, path, body) => {
    const r = await fetch(url + path, {
      method,
      headers: { 'content-type': 'application/json', ...auth },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: r.status, body: await r.json() };
  };
  const deploy = (...args) => fullsync(['deploy', proj, '--server', 'target', ...args], env);
  const setMap = (view, body) => writeFileSync(join(proj, `connectors/orders/design/app/views/${view}/map.js`), MAP(body));
  return { work, proj, env, url, call, deploy, setMap, rec };
}

async function loadOrders(call) {
  const statuses = ['paid', 'new', 'cancelled'];
  const docs = Array.from({ length: DOCS }, (_, i) => ({
    _id: `o${String(i).padStart(5, '0')}`,
    type: 'order',
    status: statuses[i % 3],
    total: i % 50,
    customer: `c${i % 17}`,
    date: `2026-${String((i % 12) + 1).padStart(2, '0')}-01`,
  }));
  const r = await call('POST', 'orders/_bulk_docs', { docs });
  assert.equal(r.status, 201, JSON.stringify(r.body).slice(0, 300));
  assert.equal(r.body.filter((x) => x.ok).length, DOCS);
}

const VIEWS = ['by_customer', 'by_id', 'by_status', 'totals'];

for (const kind of ['serve', 'pouchdb-server']) {
  test(`${kind}: a staged deploy leaves every live view built (update=false answers all rows); the plan lists every view the server rebuilds`, async (t) => {
    const s = await setup(t, kind, { proxy: true });
    await s.deploy();
    await loadOrders(s.call);
    // The views in service are built, as on a production server.
    for (const v of VIEWS) assert.equal((await s.call('GET', `orders/_design/app/_view/${v}?reduce=false&limit=1`)).status, 200);

    // One view changes: the plan names every view of the design document, with the cost.
    s.setMap('by_status', 'emit(doc.status, 1);');
    const plan = (await s.deploy('--dry-run')).stdout;
    const line = plan.split('\n').find((l) => l.startsWith('~ orders/_design/app'));
    assert.ok(line, plan);
    const listed = line.match(/reindex: ([^;)]*)/)[1].split(', ').sort();
    assert.deepEqual(listed, VIEWS);
    const count = (await s.call('GET', 'orders')).body.doc_count; // orders and design documents
    assert.ok(count >= DOCS);
    assert.match(line, new RegExp(`; ${count} document\\(s\\) to index`));
    assert.match(plan, /these 4 views share one index: changing any of them rebuilds them all/);
    assert.match(plan, /= catalog\/_design\/products/, 'the other design document rebuilds nothing');

    s.rec.log.length = 0;
    const { stderr } = await s.deploy('--staged');
    // Progress while the staging index builds, ending with every change indexed.
    const progress = [...stderr.matchAll(/building _design\/app-staging: (\d+) of (\d+) change\(s\) indexed/g)];
    assert.ok(progress.length > 0, stderr);
    const [, done, total] = progress.at(-1);
    assert.equal(done, total, stderr);
    assert.ok(Number(total) >= DOCS, stderr);

    // Straight after the deploy, the live views answer from a complete index without building.
    // (pouchdb-server ignores `update=false`: its equivalent is `stale=ok`. PouchDB has no
    // require(), so the sample's `totals`, which uses views/lib, emits nothing there.)
    const stale = kind === 'serve' ? 'update=false' : 'stale=ok';
    for (const v of VIEWS) {
      if (kind !== 'serve' && v === 'totals') continue;
      const r = await s.call('GET', `orders/_design/app/_view/${v}?reduce=false&${stale}`);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal(r.body.rows.length, DOCS, `${v} answers every row with ${stale}`);
    }
    const counted = await s.call('GET', `orders/_design/app/_view/by_status?group=true&${stale}`);
    assert.deepEqual(counted.body.rows, [
      { key: 'cancelled', value: DOCS / 3 },
      { key: 'new', value: DOCS / 3 },
      { key: 'paid', value: DOCS / 3 },
    ]);
    assert.equal((await s.call('GET', 'orders/_design/app-staging')).status, 404, 'the staging copy is gone');

    // The order that keeps the index on CouchDB: the staging copy is built, the live design
    // document written and then queried (opening the index), and only then the staging copy
    // deleted.
    const at = (pred) => s.rec.log.findIndex(pred);
    const ok = (e) => e.status >= 200 && e.status < 300;
    const stagingBuilt = at((e) => e.method === 'GET' && e.path.startsWith('/orders/_design/app-staging/_view/') && ok(e));
    const livePut = at((e) => e.method === 'PUT' && e.path === '/orders/_design/app' && ok(e));
    const liveQuery = s.rec.log.findIndex((e, i) => i > livePut && e.method === 'GET' && e.path.startsWith('/orders/_design/app/_view/') && ok(e));
    const stagingDeleted = at((e) => e.method === 'DELETE' && e.path.startsWith('/orders/_design/app-staging?') && ok(e));
    assert.ok(stagingBuilt >= 0 && livePut > stagingBuilt, JSON.stringify(s.rec.log));
    assert.ok(liveQuery > livePut, 'the live design document is queried after it is written');
    assert.ok(stagingDeleted > liveQuery, 'the staging copy is deleted only once the live index is open');
  });

  test(`${kind}: --history lists deploys, --rollback goes one step back each time, --rollback-to restores any deploy`, async (t) => {
    const s = await setup(t, kind);
    const mapOf = async () => (await s.call('GET', 'orders/_design/app')).body.views.by_status.map;
    await s.deploy(); // v1: the sample as is
    const v1 = await mapOf();
    s.setMap('by_status', 'emit(doc.status, 2);');
    await s.deploy(); // v2
    s.setMap('by_status', 'emit(doc.status, 3);');
    await s.deploy('--staged'); // v3
    assert.match(await mapOf(), /emit\(doc.status, 3\)/);

    const hist = (await s.deploy('--history')).stdout;
    const ids = [...hist.matchAll(/^(\d{13})  \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC  (.*)$/gm)];
    assert.equal(ids.length, 3, hist);
    assert.match(ids[0][2], /^deploy \(staged\): 1 updated  \[orders\/_design\/app\]/, 'newest first');
    assert.match(ids[2][2], /^deploy: \d+ created, 2 database\(s\) created/);
    const [id3, id2, id1] = ids.map((m) => m[1]);

    await s.deploy('--rollback');
    assert.match(await mapOf(), /emit\(doc.status, 2\)/, 'first rollback: v2');
    await s.deploy('--rollback');
    assert.equal(await mapOf(), v1, 'second rollback: v1, not v3 again');
    const plan = (await s.deploy('--rollback-to', id3, '--dry-run')).stdout;
    assert.match(plan, new RegExp(`rollback to deploy ${id3}`));
    assert.match(plan, /~ orders\/_design\/app  \(reindex: /);
    await s.deploy('--rollback-to', id3);
    assert.match(await mapOf(), /emit\(doc.status, 3\)/, 'rolled forward to v3');
    await s.deploy('--rollback-to', id2);
    assert.match(await mapOf(), /emit\(doc.status, 2\)/);
    assert.ok(id1);
    const hist2 = (await s.deploy('--history')).stdout;
    assert.match(hist2, new RegExp(`^\\d{13}  .*  rollback to ${id2}: 1 updated`, 'm'));

    const bad = await fullsync(['deploy', s.proj, '--server', 'target', '--rollback-to', '123'], s.env, { allowFail: true });
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /no deploy `123` in the history of `target`; list them with `fullsync deploy PROJECT --server target --history`/);
  });

  test(`${kind}: design documents replicated from a local copy carry the deploy marker; deploy resolves conflicts on the design documents it owns`, async (t) => {
    const s = await setup(t, kind);
    await s.deploy();
    // A local copy of the project, synced and then pushed to the server.
    const data = join(s.work, 'data');
    await fullsync(['project', 'sync', s.proj, '--data', data], s.env);
    const rep = await fullsync(['replicate', '--data', data, 'orders', `${s.url}orders`, '--json-events'], s.env);
    const events = rep.stdout.trim().split('\n').map((l) => JSON.parse(l));
    const directions = new Set(events.filter((e) => e.direction).map((e) => e.direction));
    assert.deepEqual([...directions], ['push'], rep.stdout);
    // Server to server is a push too (it writes to the target).
    assert.ok([201, 412].includes((await s.call('PUT', 'orders-copy')).status));
    const rep2 = await fullsync(['replicate', '--data', data, `${s.url}orders`, `${s.url}orders-copy`, '--json-events'], s.env);
    const dirs2 = new Set(rep2.stdout.trim().split('\n').map((l) => JSON.parse(l)).filter((e) => e.direction).map((e) => e.direction));
    assert.deepEqual([...dirs2], ['push'], rep2.stdout);
    const leaves = (await s.call('GET', 'orders/_design/app?open_revs=all')).body;
    assert.ok(leaves.length >= 1);
    for (const l of leaves) assert.equal(l.ok.fullsync_project, 'sample', 'every version of _design/app has the marker');
    if (kind === 'serve') assert.equal(leaves.length, 1, 'the same content is the same revision: no conflict');
    // The plan sees nothing to change in the content.
    const winner = (await s.call('GET', 'orders/_design/app?conflicts=true')).body;
    assert.equal(winner.fullsync_project, 'sample');

    // An older copy without the marker, replicated in with a longer history, wins over the
    // deployed one: deploy finds the conflict and leaves only the project's version.
    const { _rev, _conflicts, fullsync_project, ...old } = winner;
    assert.ok(_rev && fullsync_project);
    void _conflicts;
    const stray = { ...old, _rev: `9-${'f'.repeat(32)}` };
    const put = await s.call('POST', 'orders/_bulk_docs', { docs: [stray], new_edits: false });
    assert.equal(put.status, 201, JSON.stringify(put.body));
    const fought = (await s.call('GET', 'orders/_design/app?conflicts=true')).body;
    assert.equal(fought.fullsync_project, undefined, 'the stray version wins');
    assert.ok(fought._conflicts.length >= 1);
    const plan = (await s.deploy('--dry-run')).stdout;
    assert.match(plan, /~ orders\/_design\/app/);
    assert.match(plan, new RegExp(`! ${fought._conflicts.length} conflicting revision\\(s\\) on the server`));
    await s.deploy();
    const after = (await s.call('GET', 'orders/_design/app?conflicts=true')).body;
    assert.equal(after.fullsync_project, 'sample');
    assert.equal(after._conflicts, undefined, JSON.stringify(after._conflicts));
    assert.match((await s.deploy('--dry-run')).stdout, /nothing to deploy/);
  });
}
