// Load: 1,000 concurrent requests, each on its own connection, mixing large answers
// (`_all_docs` over a database with a 1 MB document id, views, `_changes`, `_find`, `_bulk_get`)
// with reads and writes. Every request must get a whole answer: no connection reset, no 5xx.
// (Memory under load is measured by bench/node/memory.mjs, not asserted here.)

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { FullSyncServer } from './lib/server.mjs';
import { raw } from './lib/http.mjs';

const DB = 'loaddb';
const CONCURRENT = 1000;
let srv;
const url = (p) => srv.at(p);
const JSON_CT = { 'Content-Type': 'application/json' };

describe('1,000 concurrent requests', { timeout: 120_000 }, () => {
  const bigId = 'k'.repeat(1024 * 1024);
  before(async () => {
    srv = new FullSyncServer();
    await srv.start();
    assert.equal((await raw(url(DB), { method: 'PUT' })).status, 201);
    const docs = [{ _id: bigId, type: 'big' }];
    for (let i = 0; i < 200; i++) docs.push({ _id: `d${String(i).padStart(3, '0')}`, type: i % 2 ? 'odd' : 'even', n: i });
    docs.push({ _id: '_design/app', views: { by_type: { map: 'function (doc) { emit(doc.type, 1); }', reduce: '_count' } } });
    const res = await raw(url(`${DB}/_bulk_docs`), { method: 'POST', headers: JSON_CT, body: JSON.stringify({ docs }) });
    assert.equal(res.status, 201, res.text.slice(0, 300));
  });
  after(async () => {
    if (srv) await srv.dispose();
  });

  it('every request gets a whole answer: no reset, no 5xx', async () => {
    const post = (path, body) => raw(url(path), { method: 'POST', headers: JSON_CT, body: JSON.stringify(body), timeoutMs: 100_000 });
    const kinds = [
      ['_all_docs', () => raw(url(`${DB}/_all_docs`), { timeoutMs: 100_000 }), (j) => j.rows.length === 201 && j.rows[0].id === bigId],
      ['view', () => raw(url(`${DB}/_design/app/_view/by_type?group=true`), { timeoutMs: 100_000 }), (j) => j.rows.length === 3],
      ['_changes', () => raw(url(`${DB}/_changes`), { timeoutMs: 100_000 }), (j) => j.results.length === 202],
      ['_find', () => post(`${DB}/_find`, { selector: { type: 'odd' } }), (j) => j.docs.length === 100],
      ['_bulk_get', () => post(`${DB}/_bulk_get`, { docs: [{ id: 'd001' }, { id: 'd002' }] }), (j) => j.results.length === 2],
      ['GET doc', () => raw(url(`${DB}/d003`), { timeoutMs: 100_000 }), (j) => j.n === 3],
      ['PUT doc', (i) => raw(url(`${DB}/w${i}`), { method: 'PUT', headers: JSON_CT, body: JSON.stringify({ i }), timeoutMs: 100_000 }), (j) => j.ok === true],
    ];
    const results = await Promise.all(
      Array.from({ length: CONCURRENT }, (_, i) => {
        const [name, send, check] = kinds[i % kinds.length];
        return send(i).then(
          (res) => ({ name, ok: res.status < 500 && res.json !== undefined && check(res.json), status: res.status, text: res.text.slice(0, 200) }),
          (err) => ({ name, ok: false, error: err.code ?? err.message }),
        );
      }),
    );
    const failures = results.filter((r) => !r.ok);
    const summary = {};
    for (const f of failures) {
      const k = `${f.name}: ${f.error ?? `HTTP ${f.status} ${f.text}`}`;
      summary[k] = (summary[k] ?? 0) + 1;
    }
    assert.deepEqual(summary, {}, `${failures.length} of ${CONCURRENT} requests failed`);
  });
});
