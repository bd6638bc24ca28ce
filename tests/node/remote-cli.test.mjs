// The command line on a real server: pouchdb-server 4.2.0 (with an admin password) as the
// remote. `fullsync view URL`, `fullsync find URL`, `fullsync see-as URL`, `fullsync compare
// LOCAL URL` (equal, then with a planted difference: exit 1 and the row named), passwords from
// FULLSYNC_PASSWORD or a server profile and never printed (also by backup/replicate with a
// password in the URL), and servers that are down, slow, answer garbage or refuse the password.
//
// The data is chosen where pouchdb-server and CouchDB/our engine agree: ASCII lowercase ids and
// keys, integers, builtin reduces (pouchdb-server's collation and Mango differ elsewhere).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { assertBinary, fullsyncBin } from './lib/server.mjs';
import { ADMIN, PASSWORD, closedPort, psFetch, startGarbage, startRemote, startSlow } from './lib/remote-fixtures.mjs';

let ps;
let work;
let data;
let config;

/** Runs `fullsync ARGS`; resolves with {code, out, err}. */
function run(args, env = {}) {
  return new Promise((resolve) => {
    const child = spawn(fullsyncBin(), args, {
      env: { ...process.env, FULLSYNC_CONFIG_DIR: config, FULLSYNC_PASSWORD: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('exit', (code) => resolve({ code, out, err }));
  });
}

const lines = (s) => s.split('\n').filter(Boolean).map((l) => JSON.parse(l));
const withPw = { FULLSYNC_PASSWORD: PASSWORD };

before(async () => {
  assertBinary();
  ps = await startRemote();
  work = mkdtempSync(join(tmpdir(), 'fullsync-remote-cli-'));
  data = join(work, 'data');
  config = join(work, 'config');
  mkdirSync(config);
  // The local copy: pulled with our replicator.
  const r = await run(['replicate', '--data', data, `${ps.url}orders`, 'orders', '--user', ADMIN], withPw);
  assert.equal(r.code, 0, r.err);
});

after(async () => {
  await ps?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

test('view, find and see-as on a server URL', async () => {
  const v = await run(['view', `${ps.url}orders`, 'app/by_status', 'group=true', '--user', ADMIN], withPw);
  assert.equal(v.code, 0, v.err);
  assert.deepEqual(lines(v.out), [
    { key: 'cancelled', value: 2100 },
    { key: 'new', value: 1800 },
    { key: 'paid', value: 1900 },
    { key: 'shipped', value: 2000 },
  ]);
  assert.match(v.err, /4 rows from http:\/\/127\.0\.0\.1:\d+\/orders/);

  const opts = await run(
    ['view', `${ps.url}orders`, '_design/app/by_customer', 'reduce=false', 'startkey=["c1"]', 'endkey=["c1",{}]', 'limit=3', 'include_docs=true', '--user', ADMIN],
    withPw,
  );
  assert.equal(opts.code, 0, opts.err);
  const rows = lines(opts.out);
  assert.deepEqual(rows.map((r) => r.key), [['c1', 10], ['c1', 60], ['c1', 110]]);
  assert.equal(rows[0].doc._id, 'o01');

  const f = await run(['find', `${ps.url}orders`, '{"type": "order", "total": {"$gte": 350}}', '--user', ADMIN], withPw);
  assert.equal(f.code, 0, f.err);
  assert.deepEqual(lines(f.out).map((d) => d._id), ['o35', 'o36', 'o37', 'o38', 'o39']);
  const fj = await run(['find', `${ps.url}orders`, '{"selector": {"status": "paid"}, "fields": ["_id", "total"], "limit": 2}', '--user', ADMIN, '--json'], withPw);
  assert.equal(fj.code, 0, fj.err);
  assert.equal(JSON.parse(fj.out).docs.length, 2);
  assert.deepEqual(Object.keys(JSON.parse(fj.out).docs[0]).sort(), ['_id', 'total']);

  // The same on the local copy (find works on local names too; `_design/` may prefix the view).
  const lv = await run(['view', '--data', data, 'orders', '_design/app/by_status', 'group=true']);
  assert.equal(lv.code, 0, lv.err);
  assert.deepEqual(lines(lv.out), lines(v.out));
  const fl = await run(['find', '--data', data, 'orders', '{"type": "order", "total": {"$gte": 350}}']);
  assert.equal(fl.code, 0, fl.err);
  assert.equal(lines(fl.out).length, 5);

  // see-as on a server: documents with ~c8oAcl for bob, and shared ones.
  await psFetch(ps, 'PUT', '/acl');
  await psFetch(ps, 'POST', '/acl/_bulk_docs', {
    docs: [
      { _id: 'mine', '~c8oAcl': 'bob' },
      { _id: 'theirs', '~c8oAcl': 'ann' },
      { _id: 'team', c8oGrp: 'sales' },
      { _id: 'shared' },
    ],
  });
  const s = await run(['see-as', `${ps.url}acl`, '--user', 'bob', '--groups', 'sales', '--login', ADMIN], withPw);
  assert.equal(s.code, 0, s.err);
  assert.deepEqual(s.out.trim().split('\n'), ['mine', 'shared', 'team']);
});

test('compare local and server: equal, then a planted difference exits 1 and names the row', async () => {
  const eq = await run(['compare', '--data', data, 'orders', `${ps.url}orders`, 'app/by_status', 'group=true', '--user', ADMIN], withPw);
  assert.equal(eq.code, 0, eq.out + eq.err);
  assert.match(eq.err, /equal: 4 rows/);
  const eq2 = await run(['compare', '--data', data, 'orders', `${ps.url}orders`, 'app/by_customer', 'reduce=false', '--user', ADMIN], withPw);
  assert.equal(eq2.code, 0, eq2.out + eq2.err);
  const eqm = await run(['compare', '--data', data, 'orders', `${ps.url}orders`, '--find', '{"selector": {"type": "order"}, "limit": 100}', '--user', ADMIN], withPw);
  assert.equal(eqm.code, 0, eqm.out + eqm.err);
  assert.match(eqm.err, /equal: 40 rows/);

  // Plant: o05 costs 999 on the server, o39 is deleted there.
  const o5 = await psFetch(ps, 'GET', '/orders/o05');
  await psFetch(ps, 'PUT', '/orders/o05', { ...o5, total: 999 });
  const o39 = await psFetch(ps, 'GET', '/orders/o39');
  await psFetch(ps, 'DELETE', `/orders/o39?rev=${o39._rev}`);

  const d = await run(['compare', '--data', data, 'orders', `${ps.url}orders`, 'app/by_status', 'group=true', '--user', ADMIN], withPw);
  assert.equal(d.code, 1, d.out + d.err);
  const out = d.out.trim().split('\n');
  assert.equal(out.length, 2, d.out);
  // o39 was cancelled (2100 - 390), o05 paid (1900 - 50 + 999).
  assert.match(out[0], /^value differs: key "cancelled": local orders 2100 \/ http:\/\/127\.0\.0\.1:\d+\/orders 1710$/);
  assert.match(out[1], /^value differs: key "paid": local orders 1900 \/ .* 2849$/);
  assert.match(d.err, /2 difference\(s\)/);

  const rows = await run(['compare', '--data', data, 'orders', `${ps.url}orders`, 'app/by_customer', 'reduce=false', '--user', ADMIN, '--json'], withPw);
  assert.equal(rows.code, 1);
  const c = JSON.parse(rows.out).comparison;
  assert.deepEqual(
    c.differences.map((x) => [x.kind, x.id, x.key]),
    [
      ['only_left', 'o05', ['c0', 50]],
      ['only_left', 'o39', ['c4', 390]],
      ['only_right', 'o05', ['c0', 999]],
    ],
  );

  const m = await run(['compare', '--data', data, 'orders', `${ps.url}orders`, '--find', '{"selector": {"type": "order"}, "limit": 100}', '--user', ADMIN, '--json'], withPw);
  assert.equal(m.code, 1);
  const mc = JSON.parse(m.out).comparison;
  assert.deepEqual(mc.differences.map((x) => [x.kind, x.key]), [['value', 'o05'], ['only_left', 'o39']]);

  // A side that cannot be queried: exit 2.
  const bad = await run(['compare', '--data', data, 'orders', `${ps.url}orders`, 'app/nope', '--user', ADMIN], withPw);
  assert.equal(bad.code, 2, bad.err);
});

test('passwords come from the profile or FULLSYNC_PASSWORD and are never shown', async () => {
  // From a server profile with this URL (its password in the environment).
  writeFileSync(join(config, 'servers.toml'), `[pouch]\nkind = "couchdb"\nurl = "${ps.url}"\nuser = "${ADMIN}"\n`);
  const p = await run(['view', `${ps.url}orders`, 'app/by_status', '--user', ADMIN], { FULLSYNC_SERVER_POUCH_PASSWORD: PASSWORD });
  assert.equal(p.code, 0, p.err);
  // No password anywhere and no terminal: says where to put it.
  const none = await run(['view', `${ps.url}orders`, 'app/by_status', '--user', 'someone']);
  assert.equal(none.code, 1);
  assert.match(none.err, /set FULLSYNC_PASSWORD/);

  // A password in the URL is used but never printed (backup, replicate, view).
  const withUrl = ps.url.replace('http://', `http://${ADMIN}:${PASSWORD}@`);
  const b = await run(['backup', '--data', data, `${withUrl}orders`, join(work, 'b.json')]);
  assert.equal(b.code, 0, b.err);
  assert.ok(!(b.out + b.err).includes(PASSWORD), b.err);
  assert.match(b.err, /backed up \d+ revisions of http:\/\/127\.0\.0\.1:\d+\/orders/);
  const r = await run(['replicate', '--data', data, `${withUrl}orders`, 'copy', '--json-events']);
  assert.equal(r.code, 0, r.err);
  assert.ok(!(r.out + r.err).includes(PASSWORD), r.out + r.err);
  const wrong = ps.url.replace('http://', `http://${ADMIN}:not-${PASSWORD}@`);
  const w = await run(['view', `${wrong}orders`, 'app/by_status']);
  assert.ok(!(w.out + w.err).includes(PASSWORD), w.err);
});

test('a server that is down, slow, answers garbage or refuses the password: a clear message', async () => {
  const port = await closedPort();
  const down = await run(['view', `http://127.0.0.1:${port}/orders`, 'app/by_status']);
  assert.equal(down.code, 1);
  assert.match(down.err, /cannot reach http:\/\/127\.0\.0\.1:\d+.*Is the server running and the URL right\?/);

  const slow = await startSlow();
  try {
    const s = await run(['find', `${slow.url}/orders`, '{}'], { FULLSYNC_REMOTE_TIMEOUT_SECS: '1' });
    assert.equal(s.code, 1);
    assert.match(s.err, /did not answer POST \/orders\/_find within 1 s: the server is slow/);
  } finally {
    await slow.stop();
  }

  const garbage = await startGarbage();
  try {
    const g = await run(['view', `${garbage.url}/orders`, 'app/by_status']);
    assert.equal(g.code, 1);
    assert.match(g.err, /answered GET .* with HTTP 200 and something that is not JSON \("<html><body>Please log in/);
  } finally {
    await garbage.stop();
  }

  const refused = await run(['view', `${ps.url}orders`, 'app/by_status', '--user', ADMIN], { FULLSYNC_PASSWORD: 'not-the-password' });
  assert.equal(refused.code, 1);
  assert.match(refused.err, /refused the credentials of `admin`/);
  assert.ok(!refused.err.includes('not-the-password'));
});
