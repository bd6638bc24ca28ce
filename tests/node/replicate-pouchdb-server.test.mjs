// `fullsync replicate` against a real CouchDB-compatible server: pouchdb-server 4.2.0.
//
// On pouchdb-server: a database of REPL_PS_DOCS (default 20,000) docs written with _bulk_docs in
// batches of 1000, some with small binary attachments (added, kept as stubs, replaced,
// removed), edits (one chain of 25 revisions), conflicts written with new_edits=false (two or
// three branches, a branch of another root, branches with different attachments, a deleted
// branch), deletions (plain, of a winner whose loser then wins, of every leaf, and
// deleted-then-recreated), a design doc and ids that need URL escaping.
//
//  (a) our replicator PULLS it into a local database of the engine (`fullsync replicate --data
//      DIR http://.../src pulled --json-events`);
//  (b) PouchDB 9's own replicator pulls the same source into an in-memory PouchDB; our local
//      database (served by `fullsync serve` and read over HTTP) must equal it: doc ids, leaf revs,
//      winners, deleted flags, _conflicts, every leaf's body, _revisions and attachment stubs
//      (digest, content_type, length, revpos); attachment bytes are read back and hashed; our
//      _deleted_conflicts must list exactly the deleted non-winning leaves;
//  (c) our replicator PUSHES the local database to a fresh database on pouchdb-server, which must
//      then equal the source the same way.
// Then a second round changes both sides: the local database gets new branches (new_edits=false,
// the same revisions written into PouchDB's copy) on docs that the source then edits, branches
// or deletes; the source also gets new docs. Incremental pull must again equal PouchDB's result
// and hold every source leaf; the incremental push must make the server's copy equal ours; only
// the changes are read (checkpoints); a third pull and push write nothing.
//
// Env: REPL_PS_DOCS, FULLSYNC_BIN (default target/debug/fullsync), POUCHDB_SERVER_LOG=1.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { PouchDB } from './lib/pouch.mjs';
import { FullSyncServer, assertBinary, fullsyncBin } from './lib/server.mjs';
import { startPouchdbServer } from './lib/pouchdb-server.mjs';
import {
  snapshot,
  diffSnapshots,
  summarize,
  httpSource,
  pouchSource,
  attachmentLeaves,
  md5Digest,
  pool,
  encodeDocId,
} from './lib/replication-compare.mjs';

const N = Number(process.env.REPL_PS_DOCS || 20_000);
const BATCH = 1000;
const log = (...a) => console.log(...a);

// ---------- HTTP ----------
async function req(method, url, body) {
  const res = await fetch(url, {
    method,
    headers: { Accept: 'application/json', ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}) },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  if (res.status >= 400) throw new Error(`${method} ${url} -> ${res.status} ${text.slice(0, 500)}`);
  return json;
}

/** _bulk_docs in batches; every per-doc error fails. Returns id -> new rev (new_edits=true). */
async function bulk(dbUrl, docs, { newEdits = true } = {}) {
  const revs = new Map();
  for (let i = 0; i < docs.length; i += BATCH) {
    const chunk = docs.slice(i, i + BATCH);
    const res = await req('POST', `${dbUrl}/_bulk_docs`, newEdits ? { docs: chunk } : { docs: chunk, new_edits: false });
    const bad = (res || []).filter((r) => r.error);
    if (bad.length) throw new Error(`_bulk_docs on ${dbUrl}: ${bad.length} errors, e.g. ${JSON.stringify(bad[0])}`);
    if (newEdits) for (const r of res) revs.set(r.id, r.rev);
  }
  return revs;
}

// ---------- deterministic data ----------
const h = (...parts) => crypto.createHash('md5').update(parts.join('|')).digest('hex');
const id = (i) => 'doc-' + String(i).padStart(7, '0');
const revHash = (rev) => rev.slice(rev.indexOf('-') + 1);

/** Small binary with every byte value represented, 1..~700 bytes. */
function bytes(i, salt) {
  const len = 1 + ((i * 37 + salt.length * 11) % 700);
  const out = Buffer.alloc(len);
  let seed = crypto.createHash('sha256').update(`${salt}:${i}`).digest();
  for (let k = 0; k < len; k++) {
    if (k % 32 === 0 && k) seed = crypto.createHash('sha256').update(seed).digest();
    out[k] = (seed[k % 32] + k) & 0xff;
  }
  return out;
}
const att = (buf, type = 'application/octet-stream') => ({ content_type: type, data: buf.toString('base64') });
// pouchdb-server finds a kept attachment by its digest: a bare {stub: true} is a 412 missing_stub there.
const stub = (buf, type = 'application/octet-stream') => ({ stub: true, content_type: type, digest: md5Digest(buf), length: buf.length, revpos: 1 });

function baseDoc(i) {
  const d = { _id: id(i), type: 'type' + (i % 10), n: i, name: 'name ' + i, tags: ['tag' + (i % 3), 'tag' + (i % 7)] };
  if (i % 25 === 0) {
    d._attachments = { 'blob.bin': att(bytes(i, 'blob')) };
    if (i % 100 === 0) d._attachments['note.txt'] = att(Buffer.from(`note for ${i}\n`), 'text/plain');
  }
  return d;
}

const SPECIAL_IDS = ['a/b', 'é ü', 'x y+z', 'q?&=#%', 'emoji-\u{1F600}', '_design/t'];

/** Branch of `gen` revisions from `parentRev` (or a new root when parentRev is null). */
function branch(docId, parentRev, gen, tag, body = {}) {
  const ids = [];
  const startGen = parentRev ? Number(parentRev.split('-')[0]) + gen : gen;
  for (let g = startGen; g > startGen - gen; g--) ids.push(h(docId, tag, g));
  if (parentRev) ids.push(revHash(parentRev));
  return { _id: docId, _rev: `${startGen}-${ids[0]}`, _revisions: { start: startGen, ids }, ...body };
}

/** Round 1: build the source database. Returns the expected counts for sanity checks. */
async function buildSource(src) {
  // 1. create
  const docs = [];
  for (let i = 0; i < N; i++) docs.push(baseDoc(i));
  for (const sid of SPECIAL_IDS) {
    docs.push(
      sid.startsWith('_design/')
        ? { _id: sid, views: { by_type: { map: 'function (doc) { emit(doc.type); }' } } }
        : { _id: sid, special: true, _attachments: { 'a b/c.bin': att(bytes(sid.length, sid)) } },
    );
  }
  const rev = await bulk(src, docs);

  // 2. edits: every 10th doc; attachments kept as stubs, replaced (i%50) or removed (note.txt, i%200)
  const edits = [];
  for (let i = 0; i < N; i += 10) {
    const d = { ...baseDoc(i), _rev: rev.get(id(i)), edited: 1 };
    if (d._attachments) {
      d._attachments = { 'blob.bin': i % 50 === 0 ? att(bytes(i, 'blob-v2')) : stub(bytes(i, 'blob')) };
      if (i % 100 === 0 && i % 200 !== 0) d._attachments['note.txt'] = stub(Buffer.from(`note for ${i}\n`), 'text/plain');
    }
    edits.push(d);
  }
  for (const [k, v] of await bulk(src, edits)) rev.set(k, v);
  // a chain of 25 revisions on a few docs
  const chainIds = [];
  for (let i = 5; i < N; i += 997) chainIds.push(i);
  for (let round = 0; round < 25; round++) {
    const chain = chainIds.map((i) => ({ ...baseDoc(i), _rev: rev.get(id(i)), round }));
    for (const [k, v] of await bulk(src, chain)) rev.set(k, v);
  }

  // 3. conflicts with new_edits=false
  const branches = [];
  for (let i = 0; i < N; i++) {
    const did = id(i);
    const r1 = rev.get(did);
    if (i % 20 === 3) {
      // two (i%40==3: three) branches from the current rev
      branches.push(branch(did, r1, 1, 'a', { n: i, side: 'a' }));
      branches.push(branch(did, r1, 1, 'b', { n: i, side: 'b' }));
      if (i % 40 === 3) branches.push(branch(did, r1, 2, 'c', { n: i, side: 'c' }));
    } else if (i % 60 === 7) {
      // two branches with different attachments of the same name
      branches.push(branch(did, r1, 1, 'att-a', { n: i, side: 'a', _attachments: { 'blob.bin': att(bytes(i, 'att-a')) } }));
      branches.push(branch(did, r1, 1, 'att-b', { n: i, side: 'b', _attachments: { 'blob.bin': att(bytes(i, 'att-b')) } }));
    } else if (i % 100 === 13) {
      // a live branch and a deleted branch: a deleted conflict
      branches.push(branch(did, r1, 1, 'live', { n: i, side: 'live' }));
      branches.push(branch(did, r1, 3, 'dead', { _deleted: true, reason: 'gone', n: i }));
    } else if (i % 300 === 17) {
      // a second root
      branches.push(branch(did, null, 2, 'root2', { n: i, side: 'root2' }));
    }
  }
  await bulk(src, branches, { newEdits: false });

  // 4. deletions
  const leaves = async (did) => (await req('GET', `${src}/${encodeDocId(did)}?open_revs=all`)).map((x) => x.ok);
  const dels = [];
  for (let i = 0; i < N; i++) {
    if (i % 30 === 1) dels.push({ _id: id(i), _rev: rev.get(id(i)), _deleted: true });
  }
  const multi = [];
  for (let i = 0; i < N; i++) {
    if (i % 120 === 3 || i % 200 === 23) multi.push(i);
  }
  await pool(multi, 8, async (i) => {
    const ls = (await leaves(id(i))).filter((d) => !d._deleted);
    if (i % 120 === 3) {
      // delete the winner (the 3-deep branch c); a 2-branch then wins
      const win = ls.find((d) => d.side === 'c');
      dels.push({ _id: id(i), _rev: win._rev, _deleted: true });
    } else {
      for (const d of ls) dels.push({ _id: id(i), _rev: d._rev, _deleted: true }); // every leaf
    }
  });
  await bulk(src, dels);
  // deleted then recreated
  const recreate = [];
  for (let i = 2; i < N; i += 500) {
    await req('DELETE', `${src}/${id(i)}?rev=${rev.get(id(i))}`);
    recreate.push({ _id: id(i), n: i, recreated: true });
  }
  await bulk(src, recreate);
}

/** Round 2: incremental changes on the source. Returns the number of docs touched. */
async function changeSource(src) {
  const ids = new Set();
  const docs = [];
  for (let i = N; i < N + 500; i++) {
    docs.push(baseDoc(i));
    ids.add(id(i));
  }
  await bulk(src, docs);
  const touched = [];
  for (let i = 0; i < N; i++) {
    if (i % 40 === 5 || i % 100 === 9 || i % 100 === 19) touched.push(i);
  }
  const current = new Map();
  for (let k = 0; k < touched.length; k += BATCH) {
    const keys = touched.slice(k, k + BATCH).map(id);
    const rows = (await req('POST', `${src}/_all_docs`, { keys })).rows;
    for (const r of rows) current.set(r.id, r.value);
  }
  const edits = [];
  const branches = [];
  for (const i of touched) {
    const did = id(i);
    const cur = current.get(did);
    if (!cur || cur.deleted) continue;
    ids.add(did);
    if (i % 40 === 5) {
      const doc = await req('GET', `${src}/${did}`);
      edits.push({ ...doc, round2: true });
    } else if (i % 100 === 9) {
      branches.push(branch(did, cur.rev, 1, 'r2a', { n: i, side: 'r2a' }));
      branches.push(branch(did, cur.rev, 2, 'r2b', { n: i, side: 'r2b' }));
    } else {
      edits.push({ _id: did, _rev: cur.rev, _deleted: true });
    }
  }
  await bulk(src, edits);
  await bulk(src, branches, { newEdits: false });
  return ids.size;
}

// ---------- our replicator ----------
function replicate(dataDir, source, target, extra = []) {
  const args = ['replicate', '--data', dataDir, source, target, '--json-events', ...extra];
  return new Promise((resolve, reject) => {
    const child = spawn(fullsyncBin(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (err = (err + c).slice(-20_000)));
    const timer = setTimeout(() => child.kill('SIGKILL'), 300_000);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      const events = [];
      for (const line of out.split('\n')) {
        if (!line.trim()) continue;
        try {
          events.push(JSON.parse(line));
        } catch {
          /* a non-JSON line: kept in out */
        }
      }
      const complete = events.filter((e) => e.event === 'complete').pop();
      const where = `fullsync ${args.join(' ')} (exit ${code ?? signal})\nstderr: ${err.slice(-3000)}\nstdout tail: ${out.slice(-2000)}`;
      resolve({ code, complete, events, where });
    });
  });
}

async function replicateOk(dataDir, source, target, extra) {
  const t0 = Date.now();
  const r = await replicate(dataDir, source, target, extra);
  assert.equal(r.code, 0, r.where);
  assert.ok(r.complete, `no "complete" event\n${r.where}`);
  assert.equal(r.complete.ok, true, r.where);
  assert.equal(r.complete.doc_write_failures, 0, r.where);
  const s = ((Date.now() - t0) / 1000).toFixed(1);
  log(`ours ${source} -> ${target}: ${s} s, docs_read ${r.complete.docs_read}, docs_written ${r.complete.docs_written}`);
  return r.complete;
}

// ---------- comparisons ----------
// Where PouchDB code wrote the result (its replicator; pouchdb-server receiving our push),
// attachment revpos is not compared: see diffSnapshots.
const LOOSE = { ignoreRevpos: true };
function assertSame(a, b, labelA, labelB, opts = {}) {
  const d = diffSnapshots(a, b, { labelA, labelB, ...opts });
  assert.equal(d.total, 0, `${d.total} docs differ between ${labelA} and ${labelB}:\n  ${d.lines.join('\n  ')}`);
}

/** Attachment bytes of every leaf carrying one hash to its digest. */
async function checkAttachmentBytes(srcAccess, snap) {
  const leaves = attachmentLeaves(snap);
  const bad = [];
  await pool(leaves, 8, async (l) => {
    try {
      const buf = await srcAccess.attachment(l.id, l.name, l.rev);
      if (md5Digest(buf) !== l.digest) bad.push(`${l.id} ${l.rev} ${l.name}: bytes hash to ${md5Digest(buf)}, stub says ${l.digest}`);
    } catch (e) {
      bad.push(e.message);
    }
  });
  assert.equal(bad.length, 0, `${srcAccess.label}: ${bad.length} of ${leaves.length} attachments wrong:\n  ${bad.slice(0, 10).join('\n  ')}`);
  return leaves.length;
}

/** Our _deleted_conflicts must be exactly the deleted non-winning leaves. */
async function checkDeletedConflicts(dbUrl, snap) {
  const want = [];
  for (const [docId, s] of snap) {
    if (s.deleted) continue;
    const dc = s.leaves.filter((r) => r !== s.winner && s.bodies[r]._deleted).sort();
    if (dc.length) want.push([docId, dc]);
  }
  const bad = [];
  await pool(want, 8, async ([docId, dc]) => {
    const doc = await req('GET', `${dbUrl}/${encodeDocId(docId)}?deleted_conflicts=true`);
    const got = [...(doc._deleted_conflicts ?? [])].sort();
    if (JSON.stringify(got) !== JSON.stringify(dc)) bad.push(`${docId}: _deleted_conflicts ${JSON.stringify(got)}, want ${JSON.stringify(dc)}`);
  });
  assert.equal(bad.length, 0, bad.slice(0, 10).join('\n'));
  return want.length;
}

async function snapshotOurs(dataDir, dbName) {
  const srv = new FullSyncServer({ dataDir });
  await srv.start();
  try {
    const access = httpSource(srv.at(dbName));
    const snap = await snapshot(access);
    const atts = await checkAttachmentBytes(access, snap);
    const dcs = await checkDeletedConflicts(srv.at(dbName), snap);
    log(`ours ${dbName}: ${JSON.stringify(summarize(snap))}; ${atts} attachment bytes checked; ${dcs} docs with _deleted_conflicts`);
    return snap;
  } finally {
    await srv.stop();
  }
}

test('fullsync replicate pulls from and pushes to pouchdb-server 4.2.0 with the same result as PouchDB 9', { timeout: 600_000 }, async (t) => {
  assertBinary();
  const ps = await startPouchdbServer();
  const dataDir = await mkdtemp(join(tmpdir(), 'fullsync-repl-ps-'));
  const ref = new PouchDB('ref-' + crypto.randomUUID(), { adapter: 'memory' });
  t.after(async () => {
    await ref.destroy().catch(() => {});
    await ps.stop();
    await rm(dataDir, { recursive: true, force: true });
  });
  const SRC = ps.url + 'src';
  const BACK = ps.url + 'back';
  const srcAccess = httpSource(SRC);
  const backAccess = httpSource(BACK);
  const refAccess = pouchSource(ref, 'pouchdb-ref');

  let t0 = Date.now();
  await req('PUT', SRC);
  await buildSource(SRC);
  const srcSnap = await snapshot(srcAccess);
  const srcSum = summarize(srcSnap);
  log(`source on pouchdb-server built in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${JSON.stringify(srcSum)}`);
  // the workload has what it claims
  assert.equal(srcSum.docs, N + SPECIAL_IDS.length);
  assert.ok(
    srcSum.conflicted > 0.05 * N && srcSum.deleted > 0.03 * N && srcSum.deletedLeaves > 0.05 * N && srcSum.attLeaves > 0.05 * N,
    JSON.stringify(srcSum),
  );

  // (a) our pull
  const pull1 = await replicateOk(dataDir, SRC, 'pulled', ['--batch-size', '500']);
  assert.equal(pull1.docs_written, srcSum.leaves, 'every leaf revision written once');

  // (b) PouchDB's pull of the same source
  t0 = Date.now();
  const pr = await PouchDB.replicate(SRC, ref, { batch_size: 500 });
  assert.equal(pr.ok, true);
  assert.equal(pr.doc_write_failures, 0);
  log(`PouchDB ${SRC} -> memory: ${((Date.now() - t0) / 1000).toFixed(1)} s, docs_written ${pr.docs_written}`);
  const refSnap = await snapshot(refAccess);
  // PouchDB's result is the reference; it should itself equal the source
  assertSame(srcSnap, refSnap, 'source', 'pouchdb', LOOSE);

  const ours = await snapshotOurs(dataDir, 'pulled');
  assertSame(refSnap, ours, 'pouchdb', 'fullsync', LOOSE);
  assertSame(srcSnap, ours, 'source', 'fullsync'); // revpos too: CouchDB keeps the source's

  // (c) our push to a fresh database on pouchdb-server
  const push1 = await replicateOk(dataDir, 'pulled', BACK, ['--batch-size', '500']);
  assert.equal(push1.docs_written, srcSum.leaves);
  const backSnap = await snapshot(backAccess);
  assertSame(srcSnap, backSnap, 'source', 'pushed', LOOSE);
  const backAtts = await checkAttachmentBytes(backAccess, backSnap);
  log(`pushed db on pouchdb-server equals the source; ${backAtts} attachment bytes checked`);

  // ---- round 2: both sides change, then incremental pull and push ----
  // Local side first (the same revisions, new_edits=false, into ours and into PouchDB's copy):
  // branches on docs that the source is about to edit, to branch itself and to delete.
  const localBranches = [];
  for (let i = 0; i < N; i++) {
    if (!(i % 40 === 5 || i % 100 === 9 || i % 100 === 19) || i % 3 !== 0) continue;
    const s = srcSnap.get(id(i));
    if (s.deleted) continue;
    localBranches.push(branch(id(i), s.winner, i % 100 === 9 ? 3 : 1, 'loc', { n: i, side: 'loc' }));
  }
  {
    const srv = new FullSyncServer({ dataDir });
    await srv.start();
    try {
      await bulk(srv.at('pulled'), localBranches, { newEdits: false });
    } finally {
      await srv.stop();
    }
  }
  const lr = await ref.bulkDocs(localBranches, { new_edits: false });
  assert.equal(lr.filter((r) => r.error).length, 0);
  const touched = await changeSource(SRC);
  const srcSnap2 = await snapshot(srcAccess);

  const pull2 = await replicateOk(dataDir, SRC, 'pulled', ['--batch-size', '500']);
  assert.ok(pull2.docs_read <= touched * 3 && pull2.docs_read > 0, `incremental pull read ${pull2.docs_read} docs for ${touched} changed docs: the checkpoint was not used`);
  const pr2 = await PouchDB.replicate(SRC, ref, { batch_size: 500 });
  assert.equal(pr2.doc_write_failures, 0);
  const refSnap2 = await snapshot(refAccess);
  const ours2 = await snapshotOurs(dataDir, 'pulled');
  assertSame(refSnap2, ours2, 'pouchdb', 'fullsync', LOOSE);
  // every source leaf is in ours, with its revpos (CouchDB keeps the source's)
  const missing = [];
  for (const [docId, s] of srcSnap2) {
    for (const rev of s.leaves) {
      const o = ours2.get(docId);
      const a = JSON.stringify(s.bodies[rev]);
      const b = JSON.stringify(o?.bodies[rev] ?? o?.leaves.includes(rev));
      if (a !== b) missing.push(`${docId} ${rev}: source=${a} fullsync=${b}`);
    }
  }
  assert.equal(missing.length, 0, missing.slice(0, 10).join('\n'));

  const push2 = await replicateOk(dataDir, 'pulled', BACK, ['--batch-size', '500']);
  assert.ok(push2.docs_read <= touched * 3 + localBranches.length, `incremental push read ${push2.docs_read} docs for ${touched} changed docs`);
  assertSame(ours2, await snapshot(backAccess), 'fullsync', 'pushed', LOOSE);

  // nothing left to do: a third pull and push write nothing
  const pull3 = await replicateOk(dataDir, SRC, 'pulled');
  assert.equal(pull3.docs_written, 0);
  const push3 = await replicateOk(dataDir, 'pulled', BACK);
  assert.equal(push3.docs_written, 0);
});
