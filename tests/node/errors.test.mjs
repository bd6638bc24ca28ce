// CouchDB-compatible error answers, checked with raw HTTP against `fullsync serve`.
//
// Expected bodies follow Apache CouchDB 3.x (chttpd error_info / couch_doc validation):
//   404 {"error":"not_found","reason":"missing"}                          missing doc
//   404 {"error":"not_found","reason":"deleted"}                          deleted doc
//   404 {"error":"not_found","reason":"Database does not exist."}         missing db
//   400 {"error":"bad_request","reason":...}                              malformed JSON
//   409 {"error":"conflict","reason":"Document update conflict."}         stale / missing rev
//   400 {"error":"doc_validation","reason":"Bad special document member: _foo"}
//   412 {"error":"file_exists","reason":"The database could not be created, the file already exists."}
//   415 {"error":"bad_content_type","reason":"Content-Type must be application/json"}
//   413 {"error":"too_large","reason":"the request entity is too large"}  (or document_too_large)
//   400 {"error":"illegal_docid","reason":"Only reserved document ids may start with underscore."}
//   400 {"error":"illegal_database_name","reason":"Name: '...'. Only lowercase characters ..."}
//   400 {"error":"bad_request","reason":"Invalid rev format"}
// Requests send Accept: application/json (as PouchDB does), so answers must be application/json.
// plus FullSync's own rule: a request whose Host is not a loopback name is refused (403 or 400)
// with a JSON error body (DNS-rebinding protection for a loopback-only server).

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { FullSyncServer } from './lib/server.mjs';
import { raw } from './lib/http.mjs';

const DB = 'errdb';
let srv;
const url = (p) => srv.at(p);
const JSON_CT = { 'Content-Type': 'application/json' };

/** Asserts the status, a JSON content type, and the body (exact object, or a checker function). */
function expectError(res, status, body, what) {
  const ctx = `${what}: got ${res.status} ${res.headers['content-type'] ?? '(no content-type)'} ${res.text.slice(0, 300)}`;
  assert.equal(res.status, status, ctx);
  assert.match(res.headers['content-type'] ?? '', /^application\/json/, `${ctx}\n  (error bodies must be application/json)`);
  assert.ok(res.json && typeof res.json === 'object', `${ctx}\n  (body is not a JSON object)`);
  if (typeof body === 'function') body(res.json, ctx);
  else assert.deepEqual(res.json, body, ctx);
}

const errorWithReason = (error) => (b, ctx) => {
  assert.equal(b.error, error, ctx);
  assert.equal(typeof b.reason, 'string', `${ctx}\n  (reason should be a string)`);
};

describe('fullsync HTTP error answers (CouchDB-compatible)', { timeout: 120_000 }, () => {
  before(async () => {
    srv = new FullSyncServer();
    await srv.start();
    const res = await raw(url(DB), { method: 'PUT' });
    assert.equal(res.status, 201, `PUT /${DB}: ${res.status} ${res.text}`);
  });
  after(async () => {
    if (srv) await srv.dispose();
  });

  it('GET a missing doc -> 404 not_found / missing', async () => {
    const res = await raw(url(`${DB}/no-such-doc`));
    expectError(res, 404, { error: 'not_found', reason: 'missing' }, 'GET missing doc');
  });

  it('GET a deleted doc -> 404 not_found / deleted', async () => {
    const put = await raw(url(`${DB}/soon-gone`), { method: 'PUT', headers: JSON_CT, body: '{"a":1}' });
    assert.equal(put.status, 201, put.text);
    const del = await raw(url(`${DB}/soon-gone?rev=${put.json.rev}`), { method: 'DELETE' });
    assert.equal(del.status, 200, del.text);
    const res = await raw(url(`${DB}/soon-gone`));
    expectError(res, 404, { error: 'not_found', reason: 'deleted' }, 'GET deleted doc');
  });

  it('missing database -> 404 not_found / Database does not exist.', async () => {
    const body = { error: 'not_found', reason: 'Database does not exist.' };
    expectError(await raw(url('no_such_db')), 404, body, 'GET /no_such_db');
    expectError(await raw(url('no_such_db/some-doc')), 404, body, 'GET /no_such_db/some-doc');
    expectError(await raw(url('no_such_db/_all_docs')), 404, body, 'GET /no_such_db/_all_docs');
  });

  it('malformed JSON body -> 400 bad_request', async () => {
    const put = await raw(url(`${DB}/bad-json`), { method: 'PUT', headers: JSON_CT, body: '{"a": ' });
    expectError(put, 400, errorWithReason('bad_request'), 'PUT doc with truncated JSON');
    const bulk = await raw(url(`${DB}/_bulk_docs`), { method: 'POST', headers: JSON_CT, body: '{"docs": [{"_id": "x",]}' });
    expectError(bulk, 400, errorWithReason('bad_request'), 'POST _bulk_docs with invalid JSON');
    // Nothing was written.
    expectError(await raw(url(`${DB}/bad-json`)), 404, { error: 'not_found', reason: 'missing' }, 'GET after bad PUT');
  });

  it('stale or missing rev -> 409 conflict / Document update conflict.', async () => {
    const conflict = { error: 'conflict', reason: 'Document update conflict.' };
    const r1 = await raw(url(`${DB}/contested`), { method: 'PUT', headers: JSON_CT, body: '{"v":1}' });
    assert.equal(r1.status, 201, r1.text);
    const rev1 = r1.json.rev;
    const r2 = await raw(url(`${DB}/contested`), { method: 'PUT', headers: JSON_CT, body: JSON.stringify({ _rev: rev1, v: 2 }) });
    assert.equal(r2.status, 201, r2.text);
    const stale = await raw(url(`${DB}/contested`), { method: 'PUT', headers: JSON_CT, body: JSON.stringify({ _rev: rev1, v: 3 }) });
    expectError(stale, 409, conflict, 'PUT with stale _rev');
    const staleQ = await raw(url(`${DB}/contested?rev=${rev1}`), { method: 'PUT', headers: JSON_CT, body: '{"v":3}' });
    expectError(staleQ, 409, conflict, 'PUT with stale ?rev=');
    const noRev = await raw(url(`${DB}/contested`), { method: 'PUT', headers: JSON_CT, body: '{"v":4}' });
    expectError(noRev, 409, conflict, 'PUT over an existing doc without a rev');
    const staleDel = await raw(url(`${DB}/contested?rev=${rev1}`), { method: 'DELETE' });
    expectError(staleDel, 409, conflict, 'DELETE with stale rev');
    const bulk = await raw(url(`${DB}/_bulk_docs`), {
      method: 'POST',
      headers: JSON_CT,
      body: JSON.stringify({ docs: [{ _id: 'contested', _rev: rev1, v: 5 }] }),
    });
    assert.equal(bulk.status, 201, `_bulk_docs with a stale rev answers 201 with a per-doc error: ${bulk.text}`);
    assert.deepEqual(bulk.json, [{ id: 'contested', error: 'conflict', reason: 'Document update conflict.' }], bulk.text);
  });

  it('unknown _field -> 400 doc_validation', async () => {
    const res = await raw(url(`${DB}/underscore-field`), { method: 'PUT', headers: JSON_CT, body: '{"_foo":1,"a":2}' });
    expectError(res, 400, { error: 'doc_validation', reason: 'Bad special document member: _foo' }, 'PUT doc with _foo');
  });

  it('PUT an existing database -> 412 file_exists', async () => {
    const res = await raw(url(DB), { method: 'PUT' });
    expectError(
      res,
      412,
      { error: 'file_exists', reason: 'The database could not be created, the file already exists.' },
      'PUT existing db',
    );
  });

  it('illegal database name -> 400 illegal_database_name', async () => {
    const res = await raw(url('BadName'), { method: 'PUT' });
    expectError(
      res,
      400,
      (b, ctx) => {
        assert.equal(b.error, 'illegal_database_name', ctx);
        assert.match(b.reason, /Only lowercase characters \(a-z\), digits \(0-9\)/, ctx);
      },
      'PUT /BadName',
    );
  });

  it('_bulk_docs with Content-Type text/plain -> 415 bad_content_type', async () => {
    const res = await raw(url(`${DB}/_bulk_docs`), {
      method: 'POST',
      headers: { 'Content-Type': 'text/plain' },
      body: JSON.stringify({ docs: [{ _id: 'via-text-plain' }] }),
    });
    expectError(res, 415, { error: 'bad_content_type', reason: 'Content-Type must be application/json' }, 'POST _bulk_docs text/plain');
    expectError(await raw(url(`${DB}/via-text-plain`)), 404, { error: 'not_found', reason: 'missing' }, 'nothing written');
  });

  it('a 64 MB body -> 413, and the server keeps serving', async () => {
    const size = 64 * 1024 * 1024;
    const prefix = Buffer.from('{"big":"');
    const suffix = Buffer.from('"}');
    const body = Buffer.alloc(size, 'x'.charCodeAt(0));
    prefix.copy(body, 0);
    suffix.copy(body, size - suffix.length);
    const res = await raw(url(`${DB}/huge`), { method: 'PUT', headers: JSON_CT, body, timeoutMs: 60_000 });
    expectError(
      res,
      413,
      (b, ctx) => {
        assert.ok(['too_large', 'document_too_large'].includes(b.error), ctx);
        assert.equal(typeof b.reason, 'string', ctx);
      },
      'PUT 64 MB doc',
    );
    const alive = await raw(url(''));
    assert.equal(alive.status, 200, `GET / after the 413: ${alive.status} ${alive.text}`);
    expectError(await raw(url(`${DB}/huge`)), 404, { error: 'not_found', reason: 'missing' }, 'nothing written');
  });

  it('doc id starting with _ -> 400 illegal_docid', async () => {
    const body = { error: 'illegal_docid', reason: 'Only reserved document ids may start with underscore.' };
    const put = await raw(url(`${DB}/_bad`), { method: 'PUT', headers: JSON_CT, body: '{"a":1}' });
    expectError(put, 400, body, 'PUT /db/_bad');
    const post = await raw(url(DB), { method: 'POST', headers: JSON_CT, body: '{"_id":"_bad","a":1}' });
    expectError(post, 400, body, 'POST /db {"_id":"_bad"}');
  });

  it('malformed rev -> 400 bad_request / Invalid rev format', async () => {
    const put = await raw(url(`${DB}/rev-format`), { method: 'PUT', headers: JSON_CT, body: '{"a":1}' });
    assert.equal(put.status, 201, put.text);
    const res = await raw(url(`${DB}/rev-format?rev=not-a-rev`));
    expectError(res, 400, { error: 'bad_request', reason: 'Invalid rev format' }, 'GET ?rev=not-a-rev');
  });

  it('Host: evil.example is refused with a JSON error; loopback hosts are served', async () => {
    const evil = await raw(url(''), { headers: { Host: 'evil.example' } });
    assert.ok([400, 403].includes(evil.status), `Host: evil.example should be refused (403 or 400), got ${evil.status} ${evil.text.slice(0, 200)}`);
    expectError(evil, evil.status, errorWithReason(evil.json?.error ?? 'forbidden'), 'GET / with Host: evil.example');
    assert.equal(typeof evil.json.error, 'string');
    const evilPort = await raw(url(`${DB}/no-such-doc`), { headers: { Host: `evil.example:${srv.port}` } });
    assert.ok([400, 403].includes(evilPort.status), `Host: evil.example:${srv.port} should be refused, got ${evilPort.status}`);
    for (const host of [`127.0.0.1:${srv.port}`, `localhost:${srv.port}`]) {
      const ok = await raw(url(''), { headers: { Host: host } });
      assert.equal(ok.status, 200, `Host: ${host} should be served: ${ok.status} ${ok.text.slice(0, 200)}`);
    }
  });
});
