// Differential test of views: the server's answers must equal real PouchDB 9's (memory
// adapter) for the same documents, design documents and queries.
//
// A seeded PRNG (VIEWS_DIFF_SEED, default below; VIEWS_DIFF_QUERIES, default 200) generates:
//   - ~300 documents with every JSON type: null, booleans, integers, negative and float
//     numbers, large numbers (2^60, 1e21, 1.5e300, ...), strings, nested arrays and objects,
//     unicode (accents, CJK, emoji, quotes, control characters) and missing fields. Each doc
//     has an explicit revision history loaded with new_edits=false into both sides, so ids and
//     revs match: some docs have 2-3 generations, some are deleted, some have conflicting
//     leaves (live vs live, live vs deleted), so both sides must index the same winner;
//   - 5 design documents whose views cover scalar, compound and object keys, missing fields
//     (emit(undefined) -> null key/value), several emits per doc, whole docs as values, linked
//     docs ({_id}) for include_docs, map functions that throw (the doc is skipped, not fatal),
//     and reduces among _sum (numbers and arrays), _count, _stats, a JS reduce
//     `function (keys, values, rereduce) { return sum(values); }` and _approx_count_distinct;
//   - ~200 random queries over key, keys, startkey/endkey, startkey_docid/endkey_docid,
//     inclusive_end, limit, skip, descending, group, group_level, reduce, include_docs and
//     update_seq, including invalid combinations (both sides must answer query_parse_error).
//
// Each query runs through `db.query('ddoc/view', opts)` on PouchDB and the HTTP API here (GET
// with JSON-encoded parameters, or POST with a body), and the answers must be equal: rows (id,
// key, value, doc), total_rows, and for reduces the grouped rows. Batches of the same queries
// also go through `POST .../_view/VIEW/queries` and must give the same results.
//
// Where PouchDB deliberately differs from CouchDB, the test follows CouchDB and says so:
//   - STRING COLLATION: CouchDB (and this server) collate strings ICU-like (lowercase before
//     uppercase, punctuation first, accents secondary); PouchDB uses code-point order. The two
//     agree only on some characters, so every string that can end up in an emitted KEY (or an
//     object key inside a key, or a doc id) is made of lowercase a-z and digits 0-9. Unicode
//     appears only in values and doc bodies. Everything else (type order null < false < true <
//     numbers < strings < arrays < objects, numbers, arrays, objects) must match as is.
//   - `offset`: PouchDB reports `skip`; CouchDB reports the number of index rows before the
//     first returned row (in the scan direction). The expected offset is computed from the
//     full index listing (checked equal first). It is not checked for `keys` queries or when
//     no row is returned (CouchDB's value there is not the same across versions).
//   - startkey_docid / endkey_docid are not supported by PouchDB's local views: the expected
//     rows are PouchDB's answer for the key range, cut at the doc-id bounds in JS (CouchDB
//     orders rows with equal keys by raw doc id), then skip/limit applied.
//   - `keys` with `descending`: CouchDB answers the keys last to first (Apache CouchDB 3.4.3,
//     shared/peers.md), PouchDB in the given order: PouchDB is asked with the keys reversed.
//     On map views PouchDB also ignores descending within a key; not generated there.
//   - a missing linked doc (include_docs with {_id}): PouchDB leaves `doc` out, CouchDB sends
//     `"doc": null`; the expected row has `doc: null`.
//   - `keys` on a reduce view without group=true: CouchDB rejects it (even one key); PouchDB
//     only rejects more than one key. CouchDB's rule is expected here.
//   - group / group_level with reduce=false: CouchDB rejects it, PouchDB ignores it. Expected:
//     query_parse_error.
//   - _approx_count_distinct does not exist in PouchDB: checked against the exact number of
//     distinct keys computed from PouchDB's map rows (within 2 %).
//   - Several emits of the SAME key by one doc are ordered by value in PouchDB and by Erlang
//     term order in CouchDB; the views emit distinct keys per doc, so this is not exercised.
//   - NUMBERS IN KEYS: PouchDB stores a negative key's mantissa as 10 - m, which loses bits
//     (-11291.265625 comes back as -11291.265624999998, and near-equal keys can misorder); key
//     numbers are limited to those PouchDB's encoding round-trips exactly (checked with
//     pouchdb-collate). Numbers in values are unrestricted.
//   - Sums are of numbers exact in binary (integers, quarters) so the order of additions
//     cannot change a result.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { isDeepStrictEqual } from 'node:util';
import { collate, toIndexableString, parseIndexableString } from 'pouchdb-collate';

import { startServer } from './lib/server.mjs';
import { json } from './lib/http.mjs';
import { PouchDB } from './lib/pouch.mjs';

const SEED = Number(process.env.VIEWS_DIFF_SEED || 20261125);
const NDOCS = Number(process.env.VIEWS_DIFF_DOCS || 300);
const NQUERIES = Number(process.env.VIEWS_DIFF_QUERIES || 200);
const NDDOCS = 5;
const DB = 'viewsdiff';

// ---------------------------------------------------------------- seeded PRNG (mulberry32)
function mulberry32(a) {
  return function () {
    a |= 0;
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rnd = mulberry32(SEED);
const chance = (p) => rnd() < p;
const int = (lo, hi) => lo + Math.floor(rnd() * (hi - lo + 1)); // inclusive
const pick = (arr) => arr[Math.floor(rnd() * arr.length)];
const hex32 = () => Array.from({ length: 32 }, () => '0123456789abcdef'[int(0, 15)]).join('');
function shuffle(arr) {
  for (let i = arr.length - 1; i > 0; i--) {
    const j = int(0, i);
    [arr[i], arr[j]] = [arr[j], arr[i]];
  }
  return arr;
}

// ---------------------------------------------------------------- values
// Strings that may end up in keys: lowercase a-z and digits only (see header).
const KEY_CHARS = 'abcdefghijklmnopqrstuvwxyz0123456789';
const keyString = (maxLen = 4) => Array.from({ length: int(0, maxLen) }, () => pick(KEY_CHARS)).join('');
const STR_POOL = ['', 'a', 'b', 'ab', 'abc', 'a1', 'a10', 'a2', '1', '10', '2', '9z', 'z', 'zz', 'm', 'mm0', 'x', 'y7'];
const keyStr = () => (chance(0.8) ? pick(STR_POOL) : keyString());
const NUM_POOL = [
  0, 1, -1, 2, 3, 10, -10, 0.5, -0.25, 3.75, 1e-7, -1e-7, 42, 123456789, -987654321,
  2 ** 53 - 1, -(2 ** 53 - 1), 2 ** 60, 1e21, -1e21, 1.5e300, -1.5e300, 1e-300, 0.1, 1 / 3,
];
// PouchDB's index encoding of a negative number (10 - mantissa) is lossy: a key such as
// -11291.265625 comes back as -11291.265624999998. Key numbers are those PouchDB round-trips.
const pouchExact = (x) => parseIndexableString(toIndexableString(x)) === x;
function keyNum() {
  for (;;) {
    const x = chance(0.7) ? pick(NUM_POOL) : chance(0.5) ? int(-1000, 1000) : int(-1e6, 1e6) / 64;
    if (pouchExact(x)) return x;
  }
}
const OBJ_KEYS = ['a', 'b', 'c', 'k', 'n', 'x', 'zz'];

/** A value made only of key-safe parts (any JSON type). */
function keyValue(depth = 2) {
  const r = rnd();
  if (r < 0.08) return null;
  if (r < 0.14) return false;
  if (r < 0.2) return true;
  if (r < 0.45) return keyNum();
  if (r < 0.75 || depth <= 0) return keyStr();
  if (r < 0.9) return Array.from({ length: int(0, 3) }, () => keyValue(depth - 1));
  const o = {};
  for (let i = int(0, 3); i > 0; i--) o[pick(OBJ_KEYS)] = keyValue(depth - 1);
  return o;
}

const UNI = ['é', 'É', 'ü', 'ñ', 'Ж', 'ж', 'Ω', '中文', '日本語', '한국어', '😀', '👩‍💻', 'A', 'Z', ' ', '\n', '\t', '"', '\\', '/', '\u0001', '\u2028', 'ſ', 'ß', 'ﬁ', 'a', '1'];
const uniString = () => Array.from({ length: int(0, 6) }, () => pick(UNI)).join('');

/** Any JSON value, unicode allowed (never collated). */
function anyValue(depth = 3) {
  const r = rnd();
  if (r < 0.07) return null;
  if (r < 0.14) return chance(0.5);
  if (r < 0.35) return keyNum();
  if (r < 0.6 || depth <= 0) return uniString();
  if (r < 0.8) return Array.from({ length: int(0, 4) }, () => anyValue(depth - 1));
  const o = {};
  for (let i = int(0, 4); i > 0; i--) o[chance(0.5) ? uniString() || 'k' : pick(OBJ_KEYS)] = anyValue(depth - 1);
  return o;
}
/** Numbers whose sums are exact in binary. */
const exactNum = () => (chance(0.6) ? int(-50, 50) : int(-400, 400) / 4);

// ---------------------------------------------------------------- documents with revisions
function makeIds(n) {
  const ids = new Set();
  while (ids.size < n) {
    const id = chance(0.5) ? 'd' + String(int(0, 9999)).padStart(4, '0') : pick('abcdefghijklmnopqrstuvwxyz') + keyString(5);
    ids.add(id);
  }
  return [...ids];
}

function makeBody(ids) {
  const b = {};
  if (chance(0.9)) b.k = keyStr();
  if (chance(0.85)) b.n = keyNum();
  if (chance(0.9)) b.v = exactNum();
  else if (chance(0.5)) b.v = uniString();
  if (chance(0.85)) b.x = keyValue(2);
  if (chance(0.7)) b.arr = Array.from({ length: int(0, 3) }, () => keyValue(1));
  if (chance(0.7)) {
    b.o = {};
    for (let i = int(0, 3); i > 0; i--) b.o[pick(OBJ_KEYS)] = keyValue(1);
  }
  if (chance(0.8)) b.tags = [...new Set(Array.from({ length: int(0, 4) }, keyStr))];
  if (chance(0.8)) b.u = uniString();
  if (chance(0.6)) b.deep = anyValue(3);
  if (chance(0.35)) b.ref = chance(0.8) ? pick(ids) : 'missing-' + keyString(3);
  if (chance(0.8)) b.big = pick([2 ** 60, -(2 ** 60), 1e21, 2 ** 53 - 1, 1.5e300, -1.5e300, 1e-300, 5e-324, int(-5, 5)].filter(pouchExact));
  b[uniString() || 'ключ'] = anyValue(1); // a unicode field name
  return b;
}

/**
 * Every revision to write with new_edits=false: {_id, _rev, _revisions, ...body, _deleted?}.
 * Kinds: plain (1-3 generations), deleted winner, live/live conflict, live/deleted conflict.
 */
function makeDocs() {
  const ids = makeIds(NDOCS);
  const writes = [];
  for (const id of ids) {
    const gens = int(1, 3);
    const hist = Array.from({ length: gens }, hex32); // oldest first
    const leaf = (h, extra = {}) => ({
      _id: id,
      _rev: `${h.length}-${h[h.length - 1]}`,
      _revisions: { start: h.length, ids: [...h].reverse() },
      ...makeBody(ids),
      ...extra,
    });
    const r = rnd();
    if (r < 0.08) {
      writes.push(leaf(hist, { _deleted: true }));
    } else if (r < 0.18) {
      // two live leaves sharing the first generation
      writes.push(leaf(hist));
      writes.push(leaf([hist[0], ...Array.from({ length: int(1, 3) }, hex32)]));
    } else if (r < 0.24) {
      // a live leaf and a deleted (possibly longer) one: the live one wins
      writes.push(leaf(hist));
      writes.push(leaf([hist[0], ...Array.from({ length: int(1, 4) }, hex32)], { _deleted: true }));
    } else {
      writes.push(leaf(hist));
    }
  }
  return { ids, writes };
}

// ---------------------------------------------------------------- design documents
const NUMV = "(typeof doc.v === 'number' ? doc.v : 0)";
// kind: 'num' values are numbers (any reduce), 'arr' values are arrays of numbers (_sum/_count),
// 'any' values are anything (_count / none).
const TEMPLATES = [
  { name: 'by_k', kind: 'num', map: `function (doc) { emit(doc.k, ${NUMV}); }` },
  { name: 'by_x', kind: 'any', approx: true, map: 'function (doc) { emit(doc.x, doc.u); }' },
  { name: 'compound', kind: 'num', map: `function (doc) { emit([doc.k, doc.n, doc.x], ${NUMV}); }` },
  { name: 'tags', kind: 'num', map: 'function (doc) { if (Array.isArray(doc.tags)) { doc.tags.forEach(function (t, i) { emit(t, i); }); } }' },
  {
    name: 'multi',
    kind: 'any',
    map: "function (doc) { emit(['a', doc.n], null); emit(['b', doc.k, doc.x], doc.deep); if (doc.o) { emit(['c', doc.o], doc.o); } }",
  },
  { name: 'by_n', kind: 'any', approx: true, map: 'function (doc) { emit(doc.n); }' },
  { name: 'linked', kind: 'link', map: "function (doc) { if ('ref' in doc) { emit(doc.k, {_id: doc.ref, u: doc.u}); } }" },
  { name: 'by_arr', kind: 'any', map: 'function (doc) { emit(doc.arr, doc.o); }' },
  { name: 'by_obj', kind: 'arr', map: `function (doc) { emit(doc.o, [${NUMV}, 1]); }` },
  {
    name: 'throws',
    kind: 'any',
    map: "function (doc) { if (typeof doc.n === 'number' && doc.n > 1e20) { throw new Error('too big: ' + doc.n); } emit(doc.big, doc.n); }",
  },
  { name: 'whole', kind: 'any', map: 'function (doc) { emit(doc._id, doc); }' },
  { name: 'pos', kind: 'num', map: "function (doc) { if (typeof doc.v === 'number' && doc.v > 0) { emit([doc.v, doc.k], doc.v); } }" },
  { name: 'klen', kind: 'any', map: 'function (doc) { emit(doc.k.length, doc.k); }' }, // TypeError when k is missing
  { name: 'by_id_u', kind: 'any', map: 'function (doc) { emit([doc._id.length, doc._id], doc.u); }' },
];
const JS_SUM = 'function (keys, values, rereduce) { return sum(values); }';
function pickReduce(t) {
  const opts = {
    num: [null, '_sum', '_count', '_stats', JS_SUM],
    arr: [null, '_sum', '_count'],
    any: t.approx ? [null, '_count', '_approx_count_distinct'] : [null, '_count'],
    link: [null],
  }[t.kind];
  return pick(opts);
}

function makeDesignDocs() {
  // every template at least once, spread over NDDOCS design docs, plus a few repeats
  const list = shuffle([...TEMPLATES, ...Array.from({ length: 4 }, () => pick(TEMPLATES))]);
  const ddocs = Array.from({ length: NDDOCS }, (_, i) => ({ _id: `_design/dd${i}`, language: 'javascript', views: {} }));
  const views = [];
  list.forEach((t, i) => {
    const dd = ddocs[i % NDDOCS];
    let name = t.name;
    while (dd.views[name]) name += '_';
    const reduce = pickReduce(t);
    dd.views[name] = reduce ? { map: t.map, reduce } : { map: t.map };
    views.push({ ddoc: dd._id.slice(8), name, reduce, template: t });
  });
  // every reduce at least once (on a view whose values suit it)
  for (const r of ['_sum', '_count', '_stats', JS_SUM, '_approx_count_distinct']) {
    if (views.some((v) => v.reduce === r)) continue;
    const fits = views.filter((v) => (r === '_approx_count_distinct' ? v.template.approx : r === '_count' ? v.template.kind !== 'link' : v.template.kind === 'num'));
    const counts = new Map();
    for (const v of views) counts.set(v.reduce, (counts.get(v.reduce) || 0) + 1);
    const v = fits.find((x) => counts.get(x.reduce) > 1) || fits[0];
    v.reduce = r;
    ddocs.find((d) => d._id === `_design/${v.ddoc}`).views[v.name].reduce = r;
  }
  return { ddocs, views };
}

// ---------------------------------------------------------------- server side
let srv;
let pdb;
const base = () => srv.at(DB);

function viewUrl(v, params) {
  const q = new URLSearchParams();
  for (const [k, val] of Object.entries(params)) {
    const jsonParam = ['key', 'keys', 'startkey', 'endkey', 'start_key', 'end_key'].includes(k);
    q.set(k, jsonParam ? JSON.stringify(val) : String(val));
  }
  const s = q.toString();
  return `${base()}/_design/${v.ddoc}/_view/${v.name}${s ? '?' + s : ''}`;
}

/** Our answer: {ok, body} or {ok:false, status, body}. GET with JSON params, or POST. */
async function ours(v, opts, method) {
  let res;
  if (method === 'POST') {
    // keys in the body, the rest in the body too (CouchDB accepts every option there)
    res = await json(`${base()}/_design/${v.ddoc}/_view/${v.name}`, { method: 'POST', body: opts, allowError: true });
  } else {
    res = await json(viewUrl(v, opts), { allowError: true });
  }
  if (res.status >= 200 && res.status < 300) return { ok: true, body: res.data };
  return { ok: false, status: res.status, body: res.data };
}

/** PouchDB's answer: {ok, body} or {ok:false, status, name}. */
async function theirs(v, opts) {
  const p = structuredClone(opts);
  // CouchDB answers `keys` with `descending=true` last key first; PouchDB in the given order.
  if (p.keys && p.descending) p.keys.reverse();
  try {
    const body = await pdb.query(`${v.ddoc}/${v.name}`, p);
    return { ok: true, body };
  } catch (err) {
    return { ok: false, status: err.status, name: err.name, message: err.message };
  }
}

// ---------------------------------------------------------------- comparisons
const cmpRow = (a, b) => collate(a.key, b.key) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
const cmpBound = (row, key, docid) => collate(row.key, key) || (docid === undefined ? 0 : row.id < docid ? -1 : row.id > docid ? 1 : 0);

/** Rows of a map answer, normalized to CouchDB's shape (doc: null for a missing linked doc). */
function normRows(rows, includeDocs) {
  return rows.map((r) => {
    const out = { id: r.id, key: r.key, value: r.value === undefined ? null : r.value };
    if (includeDocs) out.doc = r.doc === undefined ? null : r.doc;
    return out;
  });
}

function describe(v, opts, method) {
  return `seed ${SEED}: ${method} ${v.ddoc}/${v.name} (reduce ${JSON.stringify(v.reduce)}; map ${v.template.map}) opts ${JSON.stringify(opts)}`;
}

function firstDiff(a, b) {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (!isDeepStrictEqual(a[i], b[i])) return `row ${i} (of ours ${a.length}, expected ${b.length}):\n  ours     ${JSON.stringify(a[i])}\n  expected ${JSON.stringify(b[i])}`;
  }
  return 'equal';
}

function assertRows(got, want, what) {
  if (!isDeepStrictEqual(got, want)) assert.fail(`${what}\n${firstDiff(got, want)}`);
  // key order inside object keys matters for collation: compare the exact JSON too
  const ks = (rows) => JSON.stringify(rows.map((r) => r.key));
  assert.equal(ks(got), ks(want), `${what}: keys equal but JSON differs (object key order)`);
}

// ---------------------------------------------------------------- query generation
/** Does the query reduce? (CouchDB's rules; validity is checked separately.) */
const reduces = (v, o) => !!v.reduce && o.reduce !== false;

function keyCandidates(listing) {
  // existing keys (weighted), their array prefixes, and random keys
  const keys = listing.map((r) => r.key);
  return () => {
    const r = rnd();
    if (keys.length && r < 0.6) return structuredClone(pick(keys));
    if (keys.length && r < 0.8) {
      const k = pick(keys);
      if (Array.isArray(k) && k.length > 1) return structuredClone(k.slice(0, int(1, k.length - 1)));
      return structuredClone(k);
    }
    return keyValue(2);
  };
}

function genQuery(v, listing, ids) {
  const key = keyCandidates(listing);
  const o = {};
  const isRed = !!v.reduce;
  let red = isRed;
  if (isRed) {
    const r = rnd();
    if (r < 0.35) {
      o.reduce = false;
      red = false;
    } else if (r < 0.45) o.reduce = true;
  }
  const expectError = [];
  const mode = pick(['none', 'none', 'key', 'keys', 'range', 'range', 'start', 'end']);
  const descending = chance(0.4);
  if (mode === 'key') o.key = key();
  else if (mode === 'keys') {
    o.keys = Array.from({ length: int(0, 5) }, key);
    if (red) o.keys = o.keys.filter((k, i) => o.keys.findIndex((j) => collate(j, k) === 0) === i);
  } else if (mode === 'range' || mode === 'start' || mode === 'end') {
    let a = key();
    let b = key();
    if (mode === 'range') {
      let c = collate(a, b);
      if (descending ? c < 0 : c > 0) [a, b] = [b, a];
      if (chance(0.08) && collate(a, b) !== 0) {
        [a, b] = [b, a]; // reversed: query_parse_error on both sides
        expectError.push('reversed range');
      }
      o.startkey = a;
      o.endkey = b;
    } else if (mode === 'start') o.startkey = a;
    else o.endkey = b;
    if ('endkey' in o && chance(0.4)) o.inclusive_end = chance(0.5);
  }
  if (descending && !(mode === 'keys' && !red)) o.descending = true;
  if (chance(0.45)) o.limit = int(0, 15);
  if (chance(0.3)) o.skip = int(0, 12);
  if (red) {
    const g = rnd();
    if (g < 0.35) o.group = true;
    else if (g < 0.6) o.group_level = int(0, 3);
    else if (g < 0.65) o.group = false;
    if (mode === 'keys' && !o.group) {
      if (o.keys.length > 1 || chance(0.7)) o.group = true;
      else expectError.push('keys on a reduce view without group=true');
      delete o.group_level;
    }
    if (chance(0.04)) {
      o.include_docs = true;
      expectError.push('include_docs on reduce');
    }
  } else {
    if (chance(0.35) || v.template.kind === 'link') o.include_docs = chance(0.8);
    if (isRed && chance(0.04)) {
      o.group = true;
      expectError.push('group with reduce=false');
    }
    // doc id bounds (not in PouchDB: modeled, see header)
    if ((mode === 'range' || mode === 'start') && chance(0.3)) o.startkey_docid = chance(0.7) ? pick(ids) : keyString(3);
    if ((mode === 'range' || mode === 'end') && chance(0.3)) o.endkey_docid = chance(0.7) ? pick(ids) : keyString(3);
    if (mode === 'key' && chance(0.1)) o.startkey_docid = pick(ids);
    if (o.startkey_docid !== undefined && o.endkey_docid !== undefined && !expectError.length &&
        collate(o.startkey, o.endkey) === 0 && (o.descending ? o.startkey_docid < o.endkey_docid : o.startkey_docid > o.endkey_docid)) {
      [o.startkey_docid, o.endkey_docid] = [o.endkey_docid, o.startkey_docid];
    }
  }
  if (chance(0.12)) o.update_seq = true;
  return { opts: o, expectError };
}

/** The expected answer for a map query with doc-id bounds: PouchDB's key range, cut in JS. */
async function expectedWithDocids(v, o, listing) {
  const p = structuredClone(o);
  delete p.startkey_docid;
  delete p.endkey_docid;
  delete p.limit;
  delete p.skip;
  if ('key' in p) {
    p.startkey = p.key;
    p.endkey = p.key;
    delete p.key;
  }
  const inclusive = p.inclusive_end !== false;
  p.inclusive_end = true;
  const res = await theirs(v, p);
  if (!res.ok) return res;
  const sk = 'key' in o ? o.key : o.startkey;
  const ek = 'key' in o ? o.key : o.endkey;
  const dir = o.descending ? -1 : 1;
  let rows = res.body.rows.filter((r) => {
    if (sk !== undefined && o.startkey_docid !== undefined && dir * cmpBound(r, sk, o.startkey_docid) < 0) return false;
    if (ek !== undefined) {
      const c = dir * cmpBound(r, ek, o.endkey_docid);
      if (inclusive ? c > 0 : c >= 0) return false;
    }
    return true;
  });
  const skip = o.skip || 0;
  rows = rows.slice(skip, o.limit === undefined ? undefined : skip + o.limit);
  return { ok: true, body: { total_rows: res.body.total_rows, offset: skip, rows } };
}

/** CouchDB's offset: index rows before the first returned row, in the scan direction. */
function expectedOffset(listing, firstRow, descending) {
  const i = listing.findIndex((r) => cmpRow(r, firstRow) === 0);
  assert.ok(i >= 0, `returned row ${JSON.stringify(firstRow)} is not in the index`);
  return descending ? listing.length - 1 - i : i;
}

/** _approx_count_distinct has no PouchDB equivalent: exact distinct keys from PouchDB's map rows. */
async function expectedApprox(v, o) {
  const p = structuredClone(o);
  p.reduce = false;
  for (const k of ['group', 'group_level', 'limit', 'skip']) delete p[k];
  const res = await theirs(v, p);
  if (!res.ok) return res;
  const level = o.group ? Infinity : o.group_level ? o.group_level : 0;
  const groups = [];
  for (const r of res.body.rows) {
    let g = level === 0 ? null : Array.isArray(r.key) ? r.key.slice(0, level) : r.key;
    const last = groups[groups.length - 1];
    if (last && collate(last.key, g) === 0) last.keys.push(r.key);
    else groups.push({ key: g, keys: [r.key] });
  }
  const rows = groups.map((g) => ({
    key: g.key,
    value: g.keys.filter((k, i) => g.keys.findIndex((j) => collate(j, k) === 0) === i).length,
  }));
  const skip = o.skip || 0;
  return { ok: true, approx: true, body: { rows: rows.slice(skip, o.limit === undefined ? undefined : skip + o.limit) } };
}

// ---------------------------------------------------------------- the test
const state = {};
const listings = new Map();

/** PouchDB's full map rows of a view (the index, in order). */
async function listingOf(v) {
  const k = `${v.ddoc}/${v.name}`;
  if (!listings.has(k)) {
    const res = await theirs(v, v.reduce ? { reduce: false } : {});
    assert.ok(res.ok, `PouchDB listing of ${k}: ${res.message}`);
    listings.set(k, normRows(res.body.rows, false));
  }
  return listings.get(k);
}

let pouchSerial = 0;
/** A new PouchDB (memory) holding the given revision batches and design docs. */
async function loadPouch(batches, ddocs) {
  const db = new PouchDB(`views-diff-${SEED}-${process.pid}-${pouchSerial++}`, { adapter: 'memory' });
  db.on('error', () => {}); // map functions that throw (on purpose): PouchDB would log each one
  for (const docs of batches) {
    const res = await db.bulkDocs(structuredClone(docs), { new_edits: false });
    assert.ok(!res.some((r) => r.error), `PouchDB bulkDocs: ${JSON.stringify(res.find((r) => r.error))}`);
  }
  for (const dd of ddocs) await db.put(structuredClone(dd));
  return db;
}

before(async () => {
  srv = await startServer();
  await json(srv.at(DB), { method: 'PUT' });

  const { ids, writes } = makeDocs();
  const { ddocs, views } = makeDesignDocs();
  Object.assign(state, { ids, writes, ddocs, views });

  pdb = await loadPouch([writes], ddocs);
  for (let i = 0; i < writes.length; i += 100) {
    const res = await json(`${base()}/_bulk_docs`, { method: 'POST', body: { docs: writes.slice(i, i + 100), new_edits: false } });
    const bad = res.filter((r) => r.error);
    assert.equal(bad.length, 0, `our _bulk_docs: ${JSON.stringify(bad[0])}`);
  }
  for (const dd of ddocs) await json(`${base()}/${dd._id}`, { method: 'PUT', body: dd });
});

after(async () => {
  if (pdb) await pdb.destroy();
  if (srv) await srv.dispose();
});

test('same winning revisions on both sides', async () => {
  await compareWinners();
  assert.ok(state.writes.some((w) => w._deleted), 'the generator made deleted docs');
});

test('full index listings equal PouchDB (every view, reduce=false, include_docs)', async () => {
  await compareListings();
  const throws = state.views.find((v) => v.template.name === 'throws');
  const listing = await listingOf(throws);
  assert.ok(listing.length < state.ids.length, 'the throwing map skipped some docs');
});

/** Runs n random queries on both sides and compares; returns the answered ones. */
async function runQueries(n, t, label) {
  const answered = [];
  const stats = { checked: 0, errors: 0, nonEmpty: 0, reduce: 0, keys: 0, docids: 0, approx: 0, include_docs: 0, descending: 0, post: 0 };
  for (let qi = 0; qi < n; qi++) {
    const v = pick(state.views);
    const listing = await listingOf(v);
    const { opts, expectError } = genQuery(v, listing, state.ids);
    const method = opts.keys !== undefined ? (chance(0.7) ? 'POST' : 'GET') : chance(0.2) ? 'POST' : 'GET';
    const what = `${label} query #${qi} ${describe(v, opts, method)}`;
    const got = await ours(v, opts, method);

    let want;
    const red = reduces(v, opts);
    if (expectError.length) {
      want = { ok: false, status: 400, name: 'query_parse_error', why: expectError.join(', ') };
    } else if (red && v.reduce === '_approx_count_distinct') {
      want = await expectedApprox(v, opts);
      stats.approx++;
    } else if (!red && (opts.startkey_docid !== undefined || opts.endkey_docid !== undefined)) {
      want = await expectedWithDocids(v, opts, listing);
      stats.docids++;
    } else {
      want = await theirs(v, opts);
    }

    if (!want.ok) {
      stats.errors++;
      assert.ok(!got.ok, `${what}: expected query_parse_error (${want.why || want.message}), ours answered ${JSON.stringify(got.body).slice(0, 300)}`);
      assert.equal(got.status, 400, `${what}: status`);
      assert.equal(got.body.error, 'query_parse_error', `${what}: error ${JSON.stringify(got.body)}`);
      if (!expectError.length) assert.equal(want.name, 'query_parse_error', `${what}: PouchDB error ${want.message}`);
      continue;
    }
    assert.ok(got.ok, `${what}: ours failed ${got.status} ${JSON.stringify(got.body)}`);
    const body = got.body;
    if (opts.update_seq) assert.ok(body.update_seq !== undefined, `${what}: update_seq missing`);
    else assert.equal(body.update_seq, undefined, `${what}: update_seq not asked for`);

    if (red) {
      assert.equal(body.total_rows, undefined, `${what}: reduce answers have no total_rows`);
      if (want.approx) {
        assert.deepEqual(body.rows.map((r) => r.key), want.body.rows.map((r) => r.key), `${what}: group keys`);
        body.rows.forEach((r, i) => {
          const exact = want.body.rows[i].value;
          assert.ok(Math.abs(r.value - exact) <= Math.max(0, exact * 0.02), `${what}: approx ${r.value} vs exact ${exact}`);
        });
      } else {
        assertRows(body.rows, want.body.rows.map((r) => ({ key: r.key, value: r.value })), what);
      }
    } else {
      const wantRows = normRows(want.body.rows, !!opts.include_docs);
      assertRows(body.rows, wantRows, what);
      assert.equal(body.total_rows, want.body.total_rows, `${what}: total_rows`);
      assert.equal(body.total_rows, listing.length, `${what}: total_rows vs listing`);
      if (opts.keys === undefined && wantRows.length) {
        assert.equal(body.offset, expectedOffset(listing, wantRows[0], !!opts.descending), `${what}: offset (CouchDB's)`);
      } else {
        assert.ok(Number.isInteger(body.offset) && body.offset >= 0 && body.offset <= body.total_rows, `${what}: offset ${body.offset}`);
      }
    }
    if (body.rows.length) stats.nonEmpty++;
    stats.checked++;
    if (red) stats.reduce++;
    if (opts.keys) stats.keys++;
    if (opts.include_docs) stats.include_docs++;
    if (opts.descending) stats.descending++;
    if (method === 'POST') stats.post++;
    answered.push({ v, opts, body });
  }
  t.diagnostic(`${label}: ${JSON.stringify(stats)}`);
  assert.ok(stats.checked > n * 0.6, `most queries are valid (${stats.checked} of ${n})`);
  assert.ok(stats.nonEmpty > stats.checked * 0.4, `most answers have rows (${stats.nonEmpty} of ${stats.checked})`);
  return answered;
}

/** The same queries in batches through POST .../queries give the same answers. */
async function checkBatches(answered) {
  const byView = new Map();
  for (const a of answered) {
    const k = `${a.v.ddoc}/${a.v.name}`;
    if (!byView.has(k)) byView.set(k, []);
    byView.get(k).push(a);
  }
  for (const list of byView.values()) {
    for (let i = 0; i < list.length; i += 5) {
      const batch = list.slice(i, i + 5);
      const v = batch[0].v;
      const res = await json(`${base()}/_design/${v.ddoc}/_view/${v.name}/queries`, {
        method: 'POST',
        body: { queries: batch.map((a) => a.opts) },
      });
      assert.equal(res.results.length, batch.length);
      batch.forEach((a, j) => {
        const strip = ({ update_seq, ...rest }) => rest;
        assert.deepEqual(strip(res.results[j]), strip(a.body), `queries batch: ${describe(v, a.opts, 'POST queries')}`);
      });
    }
  }
}

async function compareListings() {
  listings.clear();
  for (const v of state.views) {
    const opts = v.reduce ? { reduce: false, include_docs: true } : { include_docs: true };
    const [a, b] = [await ours(v, opts, 'GET'), await theirs(v, opts)];
    const what = describe(v, opts, 'GET');
    assert.ok(a.ok, `${what}: ours failed ${JSON.stringify(a.body)}`);
    assert.ok(b.ok, `${what}: PouchDB failed ${b.message}`);
    assertRows(a.body.rows, normRows(b.body.rows, true), what);
    assert.equal(a.body.total_rows, b.body.total_rows, `${what}: total_rows`);
    assert.equal(a.body.offset, 0, `${what}: offset`);
  }
}

async function compareWinners() {
  const mine = await json(`${base()}/_all_docs`);
  const pouch = await pdb.allDocs();
  const strip = (rows) => rows.filter((r) => !r.id.startsWith('_design/')).map((r) => ({ id: r.id, rev: r.value.rev }));
  assert.deepEqual(strip(mine.rows), strip(pouch.rows));
}

test(`${NQUERIES} random queries equal PouchDB`, { timeout: 120_000 }, async (t) => {
  const answered = await runQueries(NQUERIES, t, 'initial');
  await checkBatches(answered);
});

test('after edits, deletions, new conflicts and a changed design doc (incremental update)', { timeout: 120_000 }, async (t) => {
  // New revisions on top of the current leaves, written with new_edits=false on both sides.
  const leaves = new Map(); // id -> the leaves written so far
  for (const w of state.writes) {
    if (!leaves.has(w._id)) leaves.set(w._id, []);
    leaves.get(w._id).push(w);
  }
  const child = (parent, extra = {}) => {
    const h = hex32();
    return {
      _id: parent._id,
      _rev: `${parent._revisions.start + 1}-${h}`,
      _revisions: { start: parent._revisions.start + 1, ids: [h, ...parent._revisions.ids] },
      ...makeBody(state.ids),
      ...extra,
    };
  };
  const edits = [];
  for (const [id, ls] of leaves) {
    const r = rnd();
    const winner = await pdb.get(id, { revs: true }).catch(() => null);
    const leaf = winner ? ls.find((l) => l._rev === winner._rev) : pick(ls);
    if (r < 0.2) edits.push(child(leaf)); // edit the winner (or undelete)
    else if (r < 0.27 && winner) edits.push(child(leaf, { _deleted: true })); // delete the winner: a conflict may win
    else if (r < 0.32) edits.push(child(child(pick(ls)))); // a longer branch from any leaf: new winner
  }
  const fresh = makeIds(40).filter((id) => !leaves.has(id));
  for (const id of fresh) {
    const h = hex32();
    edits.push({ _id: id, _rev: `1-${h}`, _revisions: { start: 1, ids: [h] }, ...makeBody(state.ids) });
  }
  state.ids.push(...fresh);
  const res = await json(`${base()}/_bulk_docs`, { method: 'POST', body: { docs: edits, new_edits: false } });
  assert.equal(res.filter((r) => r.error).length, 0, `our _bulk_docs: ${JSON.stringify(res.find((r) => r.error))}`);
  t.diagnostic(`${edits.length} new revisions (${fresh.length} new docs)`);

  // A changed design doc (a view is added): its index is rebuilt under a new signature.
  const dd = state.ddocs[0];
  const mineDd = await json(`${base()}/${dd._id}`);
  const t0 = TEMPLATES.find((x) => x.name === 'by_k');
  dd.views = { ...dd.views, by_k_new: { map: t0.map, reduce: JS_SUM } };
  await json(`${base()}/${dd._id}`, { method: 'PUT', body: { ...mineDd, views: dd.views } });
  state.views.push({ ddoc: dd._id.slice(8), name: 'by_k_new', reduce: JS_SUM, template: t0 });

  // The oracle is a FRESH PouchDB with the final documents, its views built from scratch:
  // PouchDB's incremental update keeps a stale value when a doc re-emits the same key with a
  // null/undefined value (processKeyValueDocs only overwrites `value` when one is emitted),
  // e.g. emit(k, doc.u) after `u` was removed still answers the old `u`. Ours is updated
  // incrementally (its index was built by the queries above).
  const old = pdb;
  pdb = await loadPouch([state.writes, edits], state.ddocs);
  await old.destroy();

  await compareWinners();
  await compareListings();
  const answered = await runQueries(Math.ceil(NQUERIES / 4), t, 'after edits');
  await checkBatches(answered);
});
