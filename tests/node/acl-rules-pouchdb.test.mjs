// FullSync access rules with real PouchDB 9 replicating as FullSync users, where conflicts
// make it hard: 40 users, 15 groups (some with dots), 1,500 documents whose conflicting
// leaves belong to different owners and groups, deleted conflicts, owner changes, deleted
// winners. Every user's pull must complete and end with exactly the documents (and leaves)
// the rule gives him; every user then pushes edits of his own and group documents and new
// documents, which must all land, tagged as the rule says; then, after 300 more edits by the
// admin (owner changes, new conflicts, deletions), every user's incremental pull completes
// and ends with what the rule gives him now plus, unchanged, what he held of the documents he
// lost access to (filtered replication never tells a device about those: docs/design.md).
//
// The server runs without --admin, as `fullsync serve` does by default: the admin is the
// generated local admin, and clients without credentials are anonymous on FullSync databases.
//
// Seeded: the seed is printed; rerun with ACL_RULES_SEED=<seed>.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { FullSyncServer } from './lib/server.mjs';
import { mapLimit } from './lib/http.mjs';
import { PouchDB } from './lib/pouch.mjs';
import { makeRng } from './lib/rng.mjs';

const SEED = process.env.ACL_RULES_SEED ? Number(process.env.ACL_RULES_SEED) >>> 0 : (Date.now() ^ (process.pid << 8)) >>> 0;
const N_USERS = 40;
const N_DOCS = Number(process.env.ACL_RULES_DOCS || 1500);
const N_LATER = 300;
const PARALLEL = 4;
const DB = 'fsdb';
const GROUPS = ['sales.eu', 'sales.eu.north', 'sales', 'ops.us', 'ops', 'it.help', 'hr', 'finance', 'field.tech', 'legal', 'dev', 'qa', 'support', 'eu', 'mkt'];
assert.equal(GROUPS.length, 15);

const rng = makeRng(SEED);

// ---------------------------------------------------------------------------------------
// The rule, written here independently of the server.

function enabledGroups(g) {
  if (typeof g === 'string') return [g];
  if (g && typeof g === 'object' && !Array.isArray(g)) {
    return Object.entries(g).filter(([, v]) => v === true || v === 'true').map(([k]) => k);
  }
  return [];
}

/** 'own' | 'group' | 'shared' | 'hidden' for user `u` ({name, groups: Set}). */
function relation(body, u) {
  const hasAcl = Object.hasOwn(body, '~c8oAcl');
  const hasGrp = Object.hasOwn(body, 'c8oGrp');
  if (!hasAcl && !hasGrp) return 'shared';
  if (hasAcl && body['~c8oAcl'] === u.name) return 'own';
  if (enabledGroups(body.c8oGrp).some((g) => u.groups.has(g))) return 'group';
  return 'hidden';
}
const canSee = (body, u) => relation(body, u) !== 'hidden';

// ---------------------------------------------------------------------------------------
// World

let srv;
let ADMIN;
const users = [];

function authHeader(auth) {
  return 'Basic ' + Buffer.from(`${auth.username}:${auth.password}`).toString('base64');
}

async function http(path, { method = 'GET', body, auth = ADMIN } = {}) {
  const headers = { Accept: 'application/json' };
  if (auth) headers.Authorization = authHeader(auth);
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(srv.at(path), { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let data;
  try {
    data = text ? JSON.parse(text) : undefined;
  } catch {
    data = text;
  }
  if (res.status >= 300) throw new Error(`${method} ${path} -> ${res.status} ${text.slice(0, 300)}`);
  return data;
}

const asUser = (u) => ({ username: u.name, password: u.password });

function randomKeys(r) {
  const x = r.next();
  const user = () => r.pick(users).name;
  const grp = () => {
    if (r.chance(0.5)) return r.pick(GROUPS);
    const o = {};
    for (let i = 0, n = 1 + r.int(3); i < n; i++) o[r.pick(GROUPS)] = r.pick([true, 'true', false, 'false']);
    return o;
  };
  if (x < 0.35) return { '~c8oAcl': user() };
  if (x < 0.6) return { c8oGrp: grp() };
  if (x < 0.8) return { '~c8oAcl': user(), c8oGrp: grp() };
  return {};
}

/** A replicated revision tree for one doc, as `new_edits=false` revisions. */
function buildTree(id, r) {
  const revs = [];
  const root = { pos: 1, hash: r.hex(32), parent: null };
  revs.push({ _id: id, _rev: `1-${root.hash}`, n: 0, ...randomKeys(r) });
  const child = (parent, body, deleted = false) => {
    const hash = r.hex(32);
    const d = { _id: id, _rev: `${parent.pos + 1}-${hash}`, _revisions: { start: parent.pos + 1, ids: [hash, ...parent.ids] }, ...body };
    if (deleted) d._deleted = true;
    revs.push(d);
    return { pos: parent.pos + 1, hash, ids: [hash, ...parent.ids] };
  };
  const rootNode = { pos: 1, ids: [root.hash] };
  // Main line, 1-3 more revisions; the owner may change along it.
  let tip = rootNode;
  let keys = revs[0];
  for (let i = 0, n = r.int(3); i < n; i++) {
    if (r.chance(0.3)) keys = randomKeys(r);
    const k = {};
    for (const key of ['~c8oAcl', 'c8oGrp']) if (Object.hasOwn(keys, key)) k[key] = keys[key];
    tip = child(tip, { n: i + 1, ...k });
  }
  // Conflicts: leaves of other owners and groups, some deleted.
  if (r.chance(0.45)) child(rootNode, { n: 'conflict', ...randomKeys(r) });
  if (r.chance(0.2)) child(rootNode, { n: 'conflict2', ...randomKeys(r) });
  if (r.chance(0.2)) child(rootNode, { ...randomKeys(r) }, true);
  if (r.chance(0.05)) child(tip, { ...randomKeys(r) }, true); // a deleted winner (unless a live conflict wins)
  return revs;
}

/** The server as the admin sees it: id -> {winner, deleted, leaves: Map rev -> body}. */
async function serverState() {
  const ch = await http(`/${DB}/_changes?style=all_docs`);
  const state = new Map();
  const ids = ch.results.filter((r) => !r.id.startsWith('_design/')).map((r) => r.id);
  for (let i = 0; i < ids.length; i += 100) {
    const docs = ids.slice(i, i + 100).map((id) => ({ id }));
    // _bulk_get without rev: the winner only; leaves come from open_revs below.
    await mapLimit(docs, 8, async ({ id }) => {
      const open = await http(`/${DB}/${encodeURIComponent(id)}?open_revs=all`);
      const leaves = new Map(open.filter((x) => x.ok).map((x) => [x.ok._rev, x.ok]));
      state.set(id, { leaves });
    });
  }
  // The winner: `style=main_only` lists it alone (`all_docs` lists leaves in no set order).
  const main = await http(`/${DB}/_changes`);
  for (const r of main.results) {
    const s = state.get(r.id);
    if (s) {
      s.winner = r.changes[0].rev;
      s.deleted = !!r.deleted;
    }
  }
  return state;
}

/** What `u` must receive from the server: id -> {winner, leaves: Set}. */
function expectedFor(state, u) {
  const out = new Map();
  for (const [id, s] of state) {
    const w = s.leaves.get(s.winner);
    if (!w || !canSee(w, u)) continue;
    const leaves = new Set([...s.leaves].filter(([, b]) => canSee(b, u)).map(([rev]) => rev));
    out.set(id, { winner: s.winner, deleted: s.deleted, leaves });
  }
  return out;
}

/** A local PouchDB's docs: id -> {winner, deleted, leaves: Set, body}. */
async function localState(local) {
  const ch = await local.changes({ since: 0, style: 'all_docs' });
  const main = await local.changes({ since: 0, include_docs: true });
  const out = new Map();
  for (const r of main.results) {
    if (r.id.startsWith('_design/')) continue;
    out.set(r.id, { winner: r.changes[0].rev, deleted: !!r.deleted, leaves: new Set(), body: r.doc });
  }
  for (const r of ch.results) if (out.has(r.id)) for (const c of r.changes) out.get(r.id).leaves.add(c.rev);
  return out;
}

const sameSet = (a, b) => a.size === b.size && [...a].every((x) => b.has(x));

before(async () => {
  console.log(`# acl-rules-pouchdb seed: ${SEED} (reproduce with ACL_RULES_SEED=${SEED})`);
  srv = new FullSyncServer();
  await srv.start();
  ADMIN = await srv.localAdmin();
  await http('/_users', { method: 'PUT' });
  await http('/c8ofullsyncgrp', { method: 'PUT' });
  const memberships = [];
  for (let i = 0; i < N_USERS; i++) {
    const name = i % 5 === 0 ? `jean.dupont${i}` : `user${String(i).padStart(2, '0')}`;
    const groups = new Set();
    for (let k = 0, n = rng.int(4); k < n; k++) groups.add(rng.pick(GROUPS));
    const roles = [];
    for (const g of groups) {
      if (i % 2 === 0) roles.push(g);
      else memberships.push({ _id: `m:${name}:${g}`, type: 'c8oGrp', user: name, group: g });
    }
    const u = { name, password: `pw-${rng.hex(12)}`, groups };
    users.push(u);
    await http(`/_users/${encodeURIComponent('org.couchdb.user:' + name)}`, { method: 'PUT', body: { name, password: u.password, roles, type: 'user' } });
  }
  await http('/c8ofullsyncgrp/_bulk_docs', { method: 'POST', body: { docs: memberships } });
  await http(`/${DB}`, { method: 'PUT' });
  await http(`/${DB}/_security`, { method: 'PUT', body: { fullsync: { anonymous: 'deny' } } });
  const all = [];
  for (let i = 0; i < N_DOCS; i++) all.push(...buildTree(`doc-${String(i).padStart(5, '0')}`, rng));
  for (let i = 0; i < all.length; i += 500) {
    const res = await http(`/${DB}/_bulk_docs`, { method: 'POST', body: { new_edits: false, docs: all.slice(i, i + 500) } });
    assert.deepEqual(res.filter((r) => r.error), [], 'the admin loads every revision');
  }
});

after(async () => {
  if (srv) await srv.dispose();
});

function compareRound(label, u, local, expected, stale, fails) {
  const who = `${label} ${u.name} (${[...u.groups].join(',') || '-'})`;
  for (const [id, e] of expected) {
    const l = local.get(id);
    if (!l) {
      fails.push(`${who}: MISS ${id}`);
      continue;
    }
    const old = stale.get(id);
    for (const rev of e.leaves) if (!l.leaves.has(rev)) fails.push(`${who}: ${id} lacks visible leaf ${rev}`);
    for (const rev of l.leaves) {
      if (!e.leaves.has(rev) && !(old && old.leaves.has(rev))) fails.push(`${who}: LEAK ${id} leaf ${rev}`);
    }
    if (!old && l.winner !== e.winner) fails.push(`${who}: ${id} winner ${l.winner}, server ${e.winner}`);
  }
  for (const [id, l] of local) {
    if (expected.has(id)) continue;
    const old = stale.get(id);
    if (!old) fails.push(`${who}: LEAK ${id}`);
    else if (old.winner !== l.winner) fails.push(`${who}: lost access to ${id}, yet its copy changed ${old.winner} -> ${l.winner}`);
  }
}

const locals = new Map();

test(`PouchDB 9 pulls as ${N_USERS} FullSync users over ${N_DOCS} conflicted docs: each gets exactly his documents and leaves`, { timeout: 600_000 }, async () => {
  const t0 = Date.now();
  const state = await serverState();
  let conflicted = 0;
  let mixed = 0;
  for (const s of state.values()) {
    if (s.leaves.size > 1) conflicted++;
    const owners = new Set([...s.leaves.values()].map((b) => JSON.stringify([b['~c8oAcl'], b.c8oGrp])));
    if (owners.size > 1) mixed++;
  }
  console.log(`# ${state.size} docs, ${conflicted} with conflicts, ${mixed} whose leaves have different keys`);
  assert.ok(mixed > N_DOCS / 10, 'the data has conflicts whose leaves belong to different owners');
  const fails = await mapLimit(users, PARALLEL, async (u) => {
    const f = [];
    const local = new PouchDB(`acl-rules-${u.name}-${SEED}`, { adapter: 'memory' });
    locals.set(u.name, local);
    const remote = new PouchDB(srv.at(DB), { auth: asUser(u), skip_setup: u.name.startsWith('jean') ? false : true });
    const res = await PouchDB.replicate(remote, local, { batch_size: 100 });
    if (!res.ok || res.doc_write_failures || res.status !== 'complete') f.push(`${u.name}: pull ${JSON.stringify(res).slice(0, 300)}`);
    compareRound('pull', u, await localState(local), expectedFor(state, u), new Map(), f);
    return f;
  });
  const flat = fails.flat();
  assert.deepEqual(flat.slice(0, 30), [], `${flat.length} problems`);
  console.log(`# ${N_USERS} pulls in ${Date.now() - t0} ms`);
});

test('each user pushes edits of his own and group documents and new ones: all land, tagged by the rule', { timeout: 600_000 }, async () => {
  const before = await serverState();
  const planned = [];
  await mapLimit(users, PARALLEL, async (u) => {
    const local = locals.get(u.name);
    assert.ok(local, 'the pull test ran');
    const mine = await localState(local);
    const editable = [...mine].filter(([id, l]) => !l.deleted && ['own', 'group'].includes(relation(before.get(id).leaves.get(l.winner), u)) && l.winner === before.get(id).winner);
    const edits = [];
    for (let i = 0; i < Math.min(5, editable.length); i++) {
      const [id, l] = editable[(i * 7 + u.name.length) % editable.length];
      if (edits.some((e) => e.id === id)) continue;
      const res = await local.put({ ...l.body, pushedBy: u.name, round: 1 });
      edits.push({ id, rev: res.rev, keys: { acl: l.body['~c8oAcl'], grp: l.body.c8oGrp } });
    }
    for (let i = 0; i < 2; i++) {
      const id = `new-${u.name}-${i}`;
      const res = await local.put({ _id: id, note: `from ${u.name}` });
      edits.push({ id, rev: res.rev, keys: { acl: u.name, grp: undefined } });
    }
    const remote = new PouchDB(srv.at(DB), { auth: asUser(u), skip_setup: true });
    const res = await PouchDB.replicate(local, remote, { batch_size: 100 });
    planned.push({ u, edits, res });
  });
  const fails = [];
  for (const { u, edits, res } of planned) {
    if (!res.ok || res.doc_write_failures || res.status !== 'complete') fails.push(`${u.name}: push ${JSON.stringify(res).slice(0, 300)}`);
    for (const e of edits) {
      const open = await http(`/${DB}/${encodeURIComponent(e.id)}?open_revs=${encodeURIComponent(JSON.stringify([e.rev]))}`);
      const body = open[0] && open[0].ok;
      if (!body) {
        fails.push(`${u.name}: pushed ${e.id} ${e.rev} is not on the server`);
        continue;
      }
      if (body['~c8oAcl'] !== e.keys.acl) fails.push(`${u.name}: ${e.id} owner ${body['~c8oAcl']}, expected ${e.keys.acl}`);
      if (JSON.stringify(body.c8oGrp) !== JSON.stringify(e.keys.grp)) fails.push(`${u.name}: ${e.id} groups ${JSON.stringify(body.c8oGrp)}`);
    }
  }
  assert.deepEqual(fails.slice(0, 30), [], `${fails.length} problems`);
  // A push of a shared document's edit is refused, and counted as a failure by PouchDB (from
  // a scratch database, so the users' replicas stay as the rule made them).
  const u = users[0];
  const shared = [...(await localState(locals.get(u.name)))].find(([, l]) => !l.deleted && relation(l.body, u) === 'shared');
  assert.ok(shared, 'the data has shared documents');
  const remote = new PouchDB(srv.at(DB), { auth: asUser(u), skip_setup: true });
  const scratch = new PouchDB(`acl-rules-scratch-${SEED}`, { adapter: 'memory' });
  await PouchDB.replicate(remote, scratch, { doc_ids: [shared[0]] });
  const doc = await scratch.get(shared[0]);
  await scratch.put({ ...doc, hijack: true });
  const res = await PouchDB.replicate(scratch, remote);
  assert.equal(res.doc_write_failures, 1, 'the shared document edit is refused');
  assert.match(JSON.stringify(res.errors), /shared with everyone/);
  const server = await http(`/${DB}/${encodeURIComponent(shared[0])}`);
  assert.equal(server.hijack, undefined, 'the shared document is unchanged');
  await scratch.destroy();
});

test(`after ${N_LATER} admin edits (owner changes, conflicts, deletions) every incremental pull ends with what the rule gives`, { timeout: 600_000 }, async () => {
  const held = new Map();
  for (const u of users) held.set(u.name, await localState(locals.get(u.name)));
  const state0 = await serverState();
  const ids = [...state0.keys()];
  const later = [];
  for (let i = 0; i < N_LATER; i++) {
    const id = rng.pick(ids);
    const s = state0.get(id);
    const [rev] = rng.pick([...s.leaves]);
    const [pos, hash] = rev.split('-');
    const nhash = rng.hex(32);
    const x = rng.next();
    const d = { _id: id, _rev: `${Number(pos) + 1}-${nhash}`, _revisions: { start: Number(pos) + 1, ids: [nhash, hash] }, round: 2, ...randomKeys(rng) };
    if (x < 0.2) d._deleted = true;
    later.push(d);
  }
  const res = await http(`/${DB}/_bulk_docs`, { method: 'POST', body: { new_edits: false, docs: later } });
  assert.deepEqual(res.filter((r) => r.error), []);
  const state = await serverState();
  let lost = 0;
  const fails = await mapLimit(users, PARALLEL, async (u) => {
    const f = [];
    const local = locals.get(u.name);
    const remote = new PouchDB(srv.at(DB), { auth: asUser(u), skip_setup: true });
    const r = await PouchDB.replicate(remote, local, { batch_size: 100 });
    if (!r.ok || r.doc_write_failures || r.status !== 'complete') f.push(`${u.name}: incremental pull ${JSON.stringify(r).slice(0, 300)}`);
    const expected = expectedFor(state, u);
    const before = held.get(u.name);
    const stale = new Map([...before].filter(([id]) => {
      const e = expected.get(id);
      // Kept as held: documents he lost, and leaves that were visible before and are now
      // hidden under a new hidden child (he is never told of the child).
      return !e || [...before.get(id).leaves].some((rev) => !e.leaves.has(rev));
    }));
    for (const id of before.keys()) if (!expected.has(id)) lost++;
    compareRound('incremental', u, await localState(local), expected, stale, f);
    return f;
  });
  console.log(`# documents users lost access to and keep as they were: ${lost}`);
  const flat = fails.flat();
  assert.deepEqual(flat.slice(0, 30), [], `${flat.length} problems`);
  for (const l of locals.values()) await l.destroy();
});
