// FullSync access rules, property style: random users, groups, memberships and documents,
// then every user replicates with real PouchDB 9 and must get exactly the documents the rule
// gives them: no leak, no miss.
//
//   The server runs with --admin (so a client without credentials is anonymous, not admin).
//   50 users, 20 groups (a third with dots, plus names that are prefixes/suffixes of others,
//   and two users named like groups). Groups come from `roles` for some users, from
//   c8ofullsyncgrp membership docs for others, from both for the rest; decoy membership docs
//   (deleted, wrong type, wrong case) must not count.
//   1,000 docs: `~c8oAcl` only, `c8oGrp` string, `c8oGrp` object mixing true / false / "true" /
//   "false" (and off values like 1, "TRUE", null), both keys, neither key; a few with
//   attachments. Then the admin re-assigns some, users write docs (tagged `~c8oAcl: user`;
//   forged owners and foreign groups refused) and update their own and group docs (keys kept;
//   shared docs refused), users try to overwrite docs they cannot see, and the admin deletes some
//   (DELETE and _bulk_docs).
//
//   The expected set per user is computed here by an independent implementation of the
//   rule. A deleted doc must arrive as a tombstone to exactly the users who could see its last
//   live revision (plus the user who deleted it), and nowhere else.
//
//   Per user: PouchDB replication into a fresh memory db (ids, revs, deleted flags,
//   attachment bytes), raw `_changes?style=all_docs`, `_all_docs`, and probes on docs the user
//   cannot see (GET doc, GET attachment, _bulk_get, open_revs, _revs_diff, _doc_ids filter).
//
//   Seeded: the seed is printed; rerun with ACL_SEED=<seed>.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { isDeepStrictEqual } from 'node:util';

import { FullSyncServer } from './lib/server.mjs';
import { mapLimit } from './lib/http.mjs';
import { PouchDB } from './lib/pouch.mjs';
import { makeRng } from './lib/rng.mjs';

const SEED = process.env.ACL_SEED ? Number(process.env.ACL_SEED) >>> 0 : (Date.now() ^ (process.pid << 16)) >>> 0;
const N_USERS = 50;
const N_DOCS = Number(process.env.ACL_DOCS || 1000);
const PARALLEL = 4;
const ADMIN = { username: 'admin', password: 'admin-secret-' + SEED };
const ATT = 'file.bin';

// ---------------------------------------------------------------------------------------
// The rule, implemented independently of the server.

/** keys: {acl?: any, grp?: any} (a missing property = the doc lacks that key). */
function canSee(keys, user, groups) {
  const hasAcl = Object.hasOwn(keys, 'acl');
  const hasGrp = Object.hasOwn(keys, 'grp');
  if (!hasAcl && !hasGrp) return true;
  if (user === null) return false;
  if (hasAcl && keys.acl === user) return true;
  if (!hasGrp) return false;
  const g = keys.grp;
  if (typeof g === 'string') return groups.has(g);
  if (g !== null && typeof g === 'object' && !Array.isArray(g)) {
    for (const [name, v] of Object.entries(g)) {
      if ((v === true || v === 'true') && groups.has(name)) return true;
    }
  }
  return false;
}

/** Whether `user` (null = anonymous) must hold this doc (live, or as a tombstone). */
function expectedVisible(doc, user, groups) {
  if (canSee(doc.keys, user, groups)) return true;
  return doc.deleted && doc.deletedBy !== null && doc.deletedBy === user;
}

function enabledGroups(g) {
  if (typeof g === 'string') return [g];
  if (g !== null && typeof g === 'object' && !Array.isArray(g)) {
    return Object.entries(g).filter(([, v]) => v === true || v === 'true').map(([k]) => k);
  }
  return [];
}

function keysOf(body) {
  const k = {};
  if (Object.hasOwn(body, '~c8oAcl')) k.acl = body['~c8oAcl'];
  if (Object.hasOwn(body, 'c8oGrp')) k.grp = body.c8oGrp;
  return k;
}

function applyKeys(body, keys) {
  delete body['~c8oAcl'];
  delete body.c8oGrp;
  if (Object.hasOwn(keys, 'acl')) body['~c8oAcl'] = keys.acl;
  if (Object.hasOwn(keys, 'grp')) body.c8oGrp = keys.grp;
  return body;
}

// ---------------------------------------------------------------------------------------
// Population

const GROUPS = [
  // 7 with dots, and undotted names that are prefixes / suffixes / segments of them
  'sales.eu.north',
  'sales.eu.south',
  'sales.eu',
  'ops.us',
  'it.help',
  'field.tech',
  'admin.office',
  'sales',
  'eu',
  'north',
  'ops',
  'it',
  'field',
  'hr',
  'finance',
  'legal',
  'marketing',
  'support',
  'dev',
  'qa',
];
assert.equal(GROUPS.length, 20);

function userName(i) {
  if (i === 10) return 'support'; // same name as a group
  if (i === 11) return 'eu'; // same name as a group
  if (i % 4 === 1) return `jean.dupont${String(i).padStart(2, '0')}`; // dotted user names
  return `u${String(i).padStart(2, '0')}`;
}

function buildWorld(rng) {
  const users = [];
  const memberships = []; // docs for c8ofullsyncgrp
  const decoyDeletes = []; // membership doc ids to delete after creation
  for (let i = 0; i < N_USERS; i++) {
    const name = userName(i);
    const groups = rng.sample(GROUPS, rng.int(5)); // 0..4 groups
    const mode = i % 3; // 0: roles, 1: membership docs, 2: both
    const roles = [];
    for (const g of groups) {
      const viaRole = mode === 0 || (mode === 2 && rng.chance(0.5));
      if (viaRole) roles.push(g);
      else memberships.push({ _id: `m:${name}:${g}`, type: 'c8oGrp', user: name, group: g });
    }
    if (rng.chance(0.2)) roles.push('reader'); // a role that is no group of any doc
    const u = { name, password: `pw-${name}-${rng.int(1e9)}`, roles, groups: new Set(groups), mode };
    users.push(u);
    // Decoys: none of these grant a group.
    const other = GROUPS.find((g) => !u.groups.has(g));
    if (other && rng.chance(0.2)) {
      memberships.push({ _id: `d:${name}:${other}`, type: 'c8oGrp', user: name, group: other });
      decoyDeletes.push(`d:${name}:${other}`);
    }
    if (other && rng.chance(0.1)) memberships.push({ _id: `x:${name}:${other}`, type: 'c8oGrpX', user: name, group: other });
    if (other && rng.chance(0.1)) memberships.push({ _id: `c:${name}:${other}`, type: 'c8oGrp', user: name.toUpperCase(), group: other });
  }
  if (process.env.ACL_DEBUG) for (const u of users) console.log(u.name, [...u.groups].join(','), 'roles', u.roles.join(','));
  return { users, memberships, decoyDeletes };
}

const OFF_VALUES = [false, 'false', false, 'false', 1, 'TRUE', null, 'yes', 0];

function randomKeys(rng, users) {
  const aclTarget = () => {
    const r = rng.next();
    if (r < 0.9) return rng.pick(users).name;
    if (r < 0.95) return rng.pick(GROUPS); // a group name in ~c8oAcl grants nothing to its members
    return 'ghost.user';
  };
  const grpName = () => {
    const r = rng.next();
    if (r < 0.85) return rng.pick(GROUPS);
    if (r < 0.93) return rng.pick(users).name; // a user name as a group
    return 'no.such.group';
  };
  const grpObject = () => {
    const o = {};
    if (rng.chance(0.03)) return o; // empty object: the key is there, it grants nothing
    const n = 1 + rng.int(4);
    for (let i = 0; i < n; i++) {
      const r = rng.next();
      o[grpName()] = r < 0.3 ? true : r < 0.55 ? 'true' : rng.pick(OFF_VALUES);
    }
    return o;
  };
  const grp = () => (rng.chance(0.5) ? grpName() : grpObject());
  const r = rng.next();
  if (r < 0.22) return { acl: aclTarget() };
  if (r < 0.42) return { grp: grpName() };
  if (r < 0.62) return { grp: grpObject() };
  if (r < 0.78) return { acl: aclTarget(), grp: grp() };
  return {};
}

function kindOf(keys) {
  const a = Object.hasOwn(keys, 'acl');
  const g = Object.hasOwn(keys, 'grp');
  if (a && g) return 'both';
  if (a) return 'acl';
  if (g) return typeof keys.grp === 'string' ? 'grp-string' : 'grp-object';
  return 'anonymous';
}

/** Initial docs for a db: model entries + bodies to POST. */
function buildDocs(rng, users, n, prefix) {
  const model = new Map();
  const bodies = [];
  for (let i = 0; i < n; i++) {
    const id = `${prefix}-${String(i).padStart(5, '0')}`;
    const keys = randomKeys(rng, users);
    const body = applyKeys({ _id: id, type: 'item', n: i, title: `item ${i}`, pad: 'x'.repeat(rng.int(200)) }, keys);
    let att = null;
    if (rng.chance(0.04)) {
      att = rng.bytes(16 + rng.int(2048));
      body._attachments = { [ATT]: { content_type: 'application/octet-stream', data: att.toString('base64') } };
    }
    model.set(id, { id, keys, deleted: false, deletedBy: null, att, origin: 'admin', kind: kindOf(keys) });
    bodies.push(body);
  }
  return { model, bodies };
}

// ---------------------------------------------------------------------------------------
// HTTP

let srv;

function authHeader(auth) {
  return 'Basic ' + Buffer.from(`${auth.username}:${auth.password}`).toString('base64');
}

/** auth: {username,password}, or null for an anonymous client. */
async function http(path, { method = 'GET', body, auth = ADMIN, raw = false } = {}) {
  const headers = { Accept: 'application/json' };
  if (auth) headers.Authorization = authHeader(auth);
  let payload;
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    payload = typeof body === 'string' ? body : JSON.stringify(body);
  }
  const res = await fetch(srv.at(path), { method, headers, body: payload });
  if (raw) {
    const buf = Buffer.from(await res.arrayBuffer());
    return { status: res.status, buf, text: buf.toString('utf8') };
  }
  const text = await res.text();
  let data;
  try {
    data = text.length ? JSON.parse(text) : undefined;
  } catch {
    data = text;
  }
  return { status: res.status, data, text };
}

async function ok(path, opts = {}) {
  const r = await http(path, opts);
  if (r.status < 200 || r.status > 299) {
    throw new Error(`${opts.method || 'GET'} ${path} -> ${r.status} ${r.text.slice(0, 400)}`);
  }
  return r.data;
}

const asUser = (u) => ({ username: u.name, password: u.password });
const enc = encodeURIComponent;

async function bulk(db, docs, auth = ADMIN) {
  const out = [];
  for (let i = 0; i < docs.length; i += 250) {
    const res = await ok(`/${db}/_bulk_docs`, { method: 'POST', body: { docs: docs.slice(i, i + 250) }, auth });
    for (const r of res) if (r.error) throw new Error(`_bulk_docs ${db} ${r.id}: ${r.error} ${r.reason}`);
    out.push(...res);
  }
  return out;
}

/** The server's view as admin: id -> {rev, deleted, keys (live docs)} */
async function adminView(db) {
  const ch = await ok(`/${db}/_changes?style=all_docs`);
  const all = await ok(`/${db}/_all_docs?include_docs=true`);
  const view = new Map();
  for (const r of ch.results) {
    if (r.id.startsWith('_design/')) continue;
    view.set(r.id, { rev: r.changes[0].rev, leaves: r.changes.length, deleted: !!r.deleted, keys: null });
  }
  for (const row of all.rows) {
    if (row.id.startsWith('_design/')) continue;
    const v = view.get(row.id);
    if (v) v.keys = keysOf(row.doc);
  }
  return view;
}

// ---------------------------------------------------------------------------------------
// Shared state

// Separate streams, so a test's data never depends on what ran before it or on timing.
const rngFor = (label) => makeRng((SEED ^ [...label].reduce((h, c) => Math.imul(h ^ c.charCodeAt(0), 16777619) >>> 0, 2166136261)) >>> 0);
let world;
const DBS = {}; // name -> {model, anonymous}

async function createFullSyncDb(name, anonymous) {
  await ok(`/${name}`, { method: 'PUT' });
  await ok(`/${name}/_security`, { method: 'PUT', body: { fullsync: { anonymous } } });
}

before(async () => {
  console.log(`# acl-property seed: ${SEED} (reproduce with ACL_SEED=${SEED})`);
  srv = new FullSyncServer({ extraArgs: ['--admin', ADMIN.username], env: { FULLSYNC_ADMIN_PASSWORD: ADMIN.password } });
  await srv.start();

  world = buildWorld(rngFor('world'));
  await ok('/_users', { method: 'PUT' });
  await mapLimit(world.users, 4, (u) =>
    ok(`/_users/${enc('org.couchdb.user:' + u.name)}`, {
      method: 'PUT',
      body: { name: u.name, password: u.password, roles: u.roles, type: 'user' },
    }),
  );
  await ok('/c8ofullsyncgrp', { method: 'PUT' });
  const mres = await bulk('c8ofullsyncgrp', world.memberships);
  const revOf = new Map(mres.map((r) => [r.id, r.rev]));
  if (world.decoyDeletes.length) {
    await bulk(
      'c8ofullsyncgrp',
      world.decoyDeletes.map((id) => ({ _id: id, _rev: revOf.get(id), _deleted: true })),
    );
  }
});

after(async () => {
  if (srv) await srv.dispose();
});

// ---------------------------------------------------------------------------------------
// Per-user verification

/** Compare an actual map id -> {rev, deleted} with the expected one; push messages to `fails`. */
function compareSets(label, who, actual, model, view, user, groups, fails) {
  const describe = (id) => {
    const d = model.get(id);
    if (!d) return `${id} (not in model)`;
    return `${id} [${d.origin}${d.deleted ? ', deleted' + (d.deletedBy ? ' by ' + d.deletedBy : ' by admin') : ''}] keys=${JSON.stringify(d.keys)}`;
  };
  for (const [id, a] of actual) {
    const d = model.get(id);
    if (!d || !expectedVisible(d, user, groups)) {
      fails.push(`${label} ${who}: LEAK ${describe(id)}`);
      continue;
    }
    if (a.deleted !== d.deleted) fails.push(`${label} ${who}: ${id} deleted=${a.deleted}, expected ${d.deleted}`);
    if (a.rev !== undefined && a.rev !== view.get(id).rev) {
      fails.push(`${label} ${who}: ${id} rev ${a.rev}, server winner ${view.get(id).rev}`);
    }
  }
  for (const [id, d] of model) {
    if (expectedVisible(d, user, groups) && !actual.has(id)) fails.push(`${label} ${who}: MISS ${describe(id)}`);
  }
}

async function checkUser(db, model, view, u, { probes = true, attachments = true } = {}) {
  const fails = [];
  const user = u ? u.name : null;
  const groups = u ? u.groups : new Set();
  const auth = u ? asUser(u) : null;
  const who = u ? `${u.name} (groups: ${[...u.groups].join(',') || '-'})` : 'anonymous';

  // 1. PouchDB 9 pull replication into a fresh memory db.
  const remoteOpts = { skip_setup: true };
  if (auth) remoteOpts.auth = auth;
  const remote = new PouchDB(srv.at(db), remoteOpts);
  const local = new PouchDB(`acl-${db}-${user ?? 'anon'}-${Math.random().toString(36).slice(2)}`, { adapter: 'memory' });
  try {
    const res = await PouchDB.replicate(remote, local, { batch_size: 100 });
    if (!res.ok || res.doc_write_failures) fails.push(`pouchdb ${who}: replication not ok: ${JSON.stringify(res).slice(0, 300)}`);
    const ch = await local.changes({ since: 0, style: 'all_docs' });
    const actual = new Map();
    for (const r of ch.results) {
      if (r.id.startsWith('_design/')) continue;
      if (r.changes.length !== 1) fails.push(`pouchdb ${who}: ${r.id} has ${r.changes.length} leaves`);
      actual.set(r.id, { rev: r.changes[0].rev, deleted: !!r.deleted });
    }
    compareSets('pouchdb', who, actual, model, view, user, groups, fails);
    if (attachments) {
      for (const d of model.values()) {
        if (!d.att || d.deleted || !actual.has(d.id) || actual.get(d.id).deleted) continue;
        const got = await local.getAttachment(d.id, ATT);
        if (!Buffer.from(got).equals(d.att)) fails.push(`pouchdb ${who}: ${d.id} attachment bytes differ`);
      }
    }
  } finally {
    await local.destroy();
  }

  // 2. Raw _changes, style=all_docs.
  const ch = await http(`/${db}/_changes?style=all_docs`, { auth });
  if (ch.status !== 200) {
    fails.push(`_changes ${who}: status ${ch.status} ${ch.text.slice(0, 200)}`);
  } else {
    const actual = new Map();
    for (const r of ch.data.results) {
      if (r.id.startsWith('_design/')) continue;
      if (actual.has(r.id)) fails.push(`_changes ${who}: ${r.id} listed twice`);
      actual.set(r.id, { rev: r.changes[0].rev, deleted: !!r.deleted });
    }
    compareSets('_changes', who, actual, model, view, user, groups, fails);
  }

  // 3. _all_docs: the live docs only.
  const ad = await http(`/${db}/_all_docs`, { auth });
  if (ad.status !== 200) {
    fails.push(`_all_docs ${who}: status ${ad.status}`);
  } else {
    const got = ad.data.rows.map((r) => r.id).filter((id) => !id.startsWith('_design/')).sort();
    const want = [...model.values()].filter((d) => !d.deleted && canSee(d.keys, user, groups)).map((d) => d.id).sort();
    const gotSet = new Set(got);
    const wantSet = new Set(want);
    for (const id of got) if (!wantSet.has(id)) fails.push(`_all_docs ${who}: LEAK ${id} keys=${JSON.stringify(model.get(id)?.keys)}`);
    for (const id of want) if (!gotSet.has(id)) fails.push(`_all_docs ${who}: MISS ${id}`);
  }

  // 4. Probes on docs this user must not see.
  if (probes) {
    const rng = rngFor(`probe:${db}:${user}`);
    const hidden = [...model.values()].filter((d) => !expectedVisible(d, user, groups));
    const hiddenLive = hidden.filter((d) => !d.deleted);
    const sample = rng.sample(hiddenLive, 3);
    const withAtt = hiddenLive.find((d) => d.att);
    if (withAtt && !sample.includes(withAtt)) sample.push(withAtt);
    for (const d of sample) {
      const rev = view.get(d.id).rev;
      const g = await http(`/${db}/${enc(d.id)}`, { auth });
      if (g.status === 200) fails.push(`GET ${who}: LEAK ${d.id} readable (keys=${JSON.stringify(d.keys)})`);
      const o = await http(`/${db}/${enc(d.id)}?open_revs=all`, { auth });
      if (o.status === 200 && Array.isArray(o.data) && o.data.some((x) => x.ok)) fails.push(`open_revs ${who}: LEAK ${d.id}`);
      const o2 = await http(`/${db}/${enc(d.id)}?open_revs=${enc(JSON.stringify([rev]))}`, { auth });
      if (o2.status === 200 && Array.isArray(o2.data) && o2.data.some((x) => x.ok)) fails.push(`open_revs=[rev] ${who}: LEAK ${d.id}`);
      const g2 = await http(`/${db}/${enc(d.id)}?rev=${rev}`, { auth });
      if (g2.status === 200) fails.push(`GET ?rev ${who}: LEAK ${d.id}`);
      if (d.att) {
        const a = await http(`/${db}/${enc(d.id)}/${ATT}`, { auth, raw: true });
        if (a.status === 200 || a.buf.includes(d.att.subarray(0, 16))) fails.push(`GET attachment ${who}: LEAK ${d.id}/${ATT}`);
      }
    }
    if (sample.length) {
      const bg = await http(`/${db}/_bulk_get?revs=true&attachments=true`, {
        method: 'POST',
        auth,
        body: { docs: sample.flatMap((d) => [{ id: d.id, rev: view.get(d.id).rev }, { id: d.id }]) },
      });
      if (bg.status === 200) {
        for (const r of bg.data.results) {
          for (const x of r.docs) if (x.ok) fails.push(`_bulk_get ${who}: LEAK ${r.id}`);
        }
      } else if (bg.status < 400) fails.push(`_bulk_get ${who}: status ${bg.status}`);
      const rd = await http(`/${db}/_revs_diff`, {
        method: 'POST',
        auth,
        body: Object.fromEntries(sample.map((d) => [d.id, [view.get(d.id).rev]])),
      });
      if (rd.status === 200) {
        for (const d of sample) {
          const m = rd.data[d.id]?.missing ?? [];
          if (!m.includes(view.get(d.id).rev)) fails.push(`_revs_diff ${who}: reveals ${d.id} (${JSON.stringify(rd.data[d.id])})`);
        }
      }
      const hiddenTomb = hidden.filter((d) => d.deleted).slice(0, 3);
      const fl = await http(`/${db}/_changes?filter=_doc_ids&style=all_docs`, {
        method: 'POST',
        auth,
        body: { doc_ids: [...sample, ...hiddenTomb].map((d) => d.id) },
      });
      if (fl.status === 200 && fl.data.results.length) {
        fails.push(`_changes _doc_ids ${who}: LEAK ${fl.data.results.map((r) => r.id).join(',')}`);
      }
    }
  }
  return fails;
}

function report(fails, model) {
  if (!fails.length) return;
  const byKind = {};
  for (const f of fails) {
    const m = /(LEAK|MISS) (\S+)/.exec(f);
    if (!m) continue;
    const d = model.get(m[2]);
    const k = `${m[1]} ${d ? d.origin + '/' + d.kind + (d.deleted ? '/deleted' : '') : '?'}`;
    byKind[k] = (byKind[k] || 0) + 1;
  }
  assert.fail(
    `seed ${SEED}: ${fails.length} failures; by kind ${JSON.stringify(byKind)}\n` +
      fails.slice(0, 40).join('\n') +
      (fails.length > 40 ? `\n... and ${fails.length - 40} more` : ''),
  );
}

// ---------------------------------------------------------------------------------------
// Tests

test(`ACL property (seed ${SEED}): ${N_USERS} users x ${N_DOCS} random docs, PouchDB 9 gets exactly each user's set`, { timeout: 240_000 }, async () => {
  const t0 = Date.now();
  const db = 'acl';
  const rng = rngFor(db);
  await createFullSyncDb(db, 'deny');
  const { users } = world;
  const byName = new Map(users.map((u) => [u.name, u]));
  const { model, bodies } = buildDocs(rng, users, N_DOCS, 'doc');
  await bulk(db, bodies);

  // The admin re-assigns some docs (GET, new keys, PUT: attachments stay as stubs).
  for (const d of rng.sample([...model.values()], 40)) {
    const body = await ok(`/${db}/${enc(d.id)}`);
    d.keys = randomKeys(rng, users);
    d.kind = kindOf(d.keys);
    d.origin = 'admin-updated';
    await ok(`/${db}/${enc(d.id)}`, { method: 'PUT', body: applyKeys(body, d.keys) });
  }

  // Users write new docs (docs/design.md, FullSync access rules): a doc is tagged with its
  // writer; claiming another owner, or a group the writer is not in, is refused (403).
  let refusedCreates = 0;
  for (let i = 0; i < 25; i++) {
    const u = rng.pick(users);
    const claimed = randomKeys(rng, users);
    const id = `user-doc-${String(i).padStart(3, '0')}`;
    const forged = (Object.hasOwn(claimed, 'acl') && claimed.acl !== u.name) || enabledGroups(claimed.grp).some((g) => !u.groups.has(g));
    const r = await http(`/${db}/${enc(id)}`, { method: 'PUT', auth: asUser(u), body: applyKeys({ type: 'note', by: u.name }, claimed) });
    if (forged) {
      assert.equal(r.status, 403, `${u.name} creates ${id} claiming ${JSON.stringify(claimed)}: ${r.text}`);
      refusedCreates++;
      continue;
    }
    assert.equal(r.status, 201, `${u.name} creates ${id} with ${JSON.stringify(claimed)}: ${r.text}`);
    const keys = { acl: u.name };
    if (Object.hasOwn(claimed, 'grp')) keys.grp = claimed.grp;
    model.set(id, { id, keys, deleted: false, deletedBy: null, att: null, origin: 'user-written', kind: kindOf(keys) });
  }
  assert.ok(refusedCreates > 0 && refusedCreates < 25, `some creates are forged, some not (${refusedCreates})`);

  // Users update docs they can see: their own and their groups' keep their keys; a shared doc
  // (neither key) is read-only for them (403).
  let updates = 0;
  let sharedRefused = 0;
  for (let tries = 0; updates < 12 && tries < 400; tries++) {
    const u = rng.pick(users);
    const d = rng.pick([...model.values()]);
    if (d.deleted || !canSee(d.keys, u.name, u.groups)) continue;
    const body = await ok(`/${db}/${enc(d.id)}`, { auth: asUser(u) });
    body.edited_by = u.name;
    const r = await http(`/${db}/${enc(d.id)}`, { method: 'PUT', auth: asUser(u), body });
    if (kindOf(d.keys) === 'anonymous') {
      assert.equal(r.status, 403, `${u.name} updates shared ${d.id}: ${r.text}`);
      sharedRefused++;
      continue;
    }
    assert.equal(r.status, 201, `${u.name} updates ${d.id} keys=${JSON.stringify(d.keys)}: ${r.text}`);
    d.origin = 'user-updated';
    updates++;
  }

  let view;

  // The admin deletes some docs: half with DELETE, half with _bulk_docs (no keys in the body).
  const toDelete = rng.sample([...model.values()], 40);
  view = await adminView(db);
  const viaBulk = [];
  for (const [i, d] of toDelete.entries()) {
    if (i % 2 === 0) await ok(`/${db}/${enc(d.id)}?rev=${view.get(d.id).rev}`, { method: 'DELETE' });
    else viaBulk.push({ _id: d.id, _rev: view.get(d.id).rev, _deleted: true });
    d.deleted = true;
  }
  await bulk(db, viaBulk);

  // The server's data must be what the model says (else the model, not the filter, is wrong).
  view = await adminView(db);
  const modelFails = [];
  for (const [id, d] of model) {
    const v = view.get(id);
    if (!v) modelFails.push(`${id} missing on the server`);
    else if (v.deleted !== d.deleted) modelFails.push(`${id} deleted=${v.deleted}, model ${d.deleted}`);
    else if (!d.deleted && !isDeepStrictEqual(v.keys, d.keys)) {
      modelFails.push(`${id} [${d.origin}] server keys ${JSON.stringify(v.keys)}, expected ${JSON.stringify(d.keys)}`);
    }
  }
  for (const id of view.keys()) if (!model.has(id)) modelFails.push(`${id} on the server, not in the model`);
  report(modelFails, model);

  const stats = {};
  for (const d of model.values()) stats[d.kind + (d.deleted ? '/deleted' : '')] = (stats[d.kind + (d.deleted ? '/deleted' : '')] || 0) + 1;
  console.log(`# acl: ${model.size} docs ${JSON.stringify(stats)}; setup ${Date.now() - t0} ms`);

  const t1 = Date.now();
  const perUser = await mapLimit(users, PARALLEL, async (u) => checkUser(db, model, view, u));
  const sizes = users.map((u) => [...model.values()].filter((d) => expectedVisible(d, u.name, u.groups)).length);
  console.log(
    `# acl: ${users.length} users replicated in ${Date.now() - t1} ms; visible per user min ${Math.min(...sizes)} max ${Math.max(...sizes)}`,
  );
  assert.ok(byName.size === users.length);
  report(perUser.flat(), model);
});

test('deny database: anonymous and bad credentials get 401, on every read path and through PouchDB', async () => {
  const db = 'acl';
  const view = await adminView(db);
  const anonDoc = [...view.entries()].find(([, v]) => !v.deleted && v.keys && !('acl' in v.keys) && !('grp' in v.keys));
  assert.ok(anonDoc, 'the acl db has at least one doc with neither key');
  const [id, { rev }] = anonDoc;
  const u = world.users[0];
  const cases = [
    ['anonymous', null],
    ['wrong password', { username: u.name, password: u.password + 'x' }],
    ['unknown user', { username: 'nobody.here', password: 'x' }],
  ];
  for (const [label, auth] of cases) {
    const paths = [
      ['GET', `/${db}/_changes?style=all_docs`],
      ['GET', `/${db}/_all_docs`],
      ['GET', `/${db}/${enc(id)}`],
      ['GET', `/${db}/${enc(id)}?open_revs=all`],
      ['POST', `/${db}/_bulk_get`, { docs: [{ id, rev }] }],
      ['POST', `/${db}/_revs_diff`, { [id]: [rev] }],
    ];
    for (const [method, path, body] of paths) {
      const r = await http(path, { method, auth, body });
      assert.equal(r.status, 401, `${label}: ${method} ${path} -> ${r.status} ${r.text.slice(0, 200)}`);
      assert.ok(!r.text.includes(rev), `${label}: ${method} ${path} leaks the rev`);
    }
    const remoteOpts = { skip_setup: true };
    if (auth) remoteOpts.auth = auth;
    const remote = new PouchDB(srv.at(db), remoteOpts);
    const local = new PouchDB(`acl-deny-${Math.random().toString(36).slice(2)}`, { adapter: 'memory' });
    try {
      let err = null;
      try {
        await PouchDB.replicate(remote, local, { batch_size: 100, retry: false });
      } catch (e) {
        err = e;
      }
      assert.ok(err, `${label}: PouchDB replication must fail`);
      assert.equal(err.status, 401, `${label}: PouchDB replication error ${err.status} ${err.message}`);
      const info = await local.info();
      assert.equal(info.doc_count, 0, `${label}: nothing replicated`);
    } finally {
      await local.destroy();
    }
  }
});

test('allow database: anonymous PouchDB gets exactly the docs with neither key; users their own set', { timeout: 120_000 }, async () => {
  const db = 'acl_open';
  const rng = rngFor(db);
  await createFullSyncDb(db, 'allow');
  const { users } = world;
  const { model, bodies } = buildDocs(rng, users, 300, 'open');
  await bulk(db, bodies);
  let view = await adminView(db);
  const toDelete = rng.sample([...model.values()], 30);
  for (const [i, d] of toDelete.entries()) {
    if (i % 2 === 0) await ok(`/${db}/${enc(d.id)}?rev=${view.get(d.id).rev}`, { method: 'DELETE' });
    else await bulk(db, [{ _id: d.id, _rev: view.get(d.id).rev, _deleted: true }]);
    d.deleted = true;
  }
  view = await adminView(db);
  const anonCount = [...model.values()].filter((d) => expectedVisible(d, null, new Set())).length;
  assert.ok(anonCount > 0 && anonCount < model.size, `anonymous should see some but not all docs (${anonCount})`);
  const fails = await checkUser(db, model, view, null);
  const some = rng.sample(users, 5);
  for (const u of some) fails.push(...(await checkUser(db, model, view, u)));
  report(fails, model);
});

test('user deletes: the tombstone reaches every user who could see the doc', { timeout: 120_000 }, async () => {
  const db = 'acl_userdel';
  const rng = rngFor(db);
  await createFullSyncDb(db, 'deny');
  const { users } = world;
  const { model, bodies } = buildDocs(rng, users, 200, 'ud');
  await bulk(db, bodies);
  let view = await adminView(db);
  let deletes = 0;
  for (let tries = 0; deletes < 25 && tries < 1000; tries++) {
    const u = rng.pick(users);
    const d = rng.pick([...model.values()]);
    if (d.deleted || !canSee(d.keys, u.name, u.groups)) continue;
    const r = await http(`/${db}/${enc(d.id)}?rev=${view.get(d.id).rev}`, { method: 'DELETE', auth: asUser(u) });
    if (kindOf(d.keys) === 'anonymous') {
      assert.equal(r.status, 403, `${u.name} deletes shared ${d.id}: only an admin may (${r.text})`);
      continue;
    }
    assert.equal(r.status, 200, `${u.name} deletes ${d.id} it can see: ${r.status} ${r.text}`);
    d.deleted = true;
    d.deletedBy = u.name;
    d.origin = 'user-deleted';
    deletes++;
  }
  view = await adminView(db);
  const perUser = await mapLimit(users, PARALLEL, (u) => checkUser(db, model, view, u, { probes: false, attachments: false }));
  report(perUser.flat(), model);
});

test('users cannot overwrite, delete or out-rev docs they cannot see', { timeout: 60_000 }, async () => {
  const db = 'acl_tamper';
  const rng = rngFor(db);
  await createFullSyncDb(db, 'deny');
  const { users } = world;
  const { model, bodies } = buildDocs(rng, users, 150, 'tp');
  await bulk(db, bodies);
  const before = await adminView(db);
  const attempts = [];
  for (let tries = 0; attempts.length < 12 && tries < 1000; tries++) {
    const u = rng.pick(users);
    const d = rng.pick([...model.values()]);
    if (!canSee(d.keys, u.name, u.groups) && !attempts.some(([, x]) => x === d)) attempts.push([u, d]);
  }
  const fails = [];
  for (const [i, [u, d]] of attempts.entries()) {
    // The rev is no secret: revs are md5 of the content and parent, and anyone who once held
    // the doc knows it. Variant 3 needs no rev at all.
    const rev = before.get(d.id).rev;
    const auth = asUser(u);
    const path = `/${db}/${enc(d.id)}`;
    let how;
    let r;
    switch (i % 4) {
      case 0:
        how = 'PUT with _rev';
        r = await http(path, { method: 'PUT', auth, body: { _rev: rev, hijacked: true } });
        break;
      case 1:
        how = 'DELETE ?rev';
        r = await http(`${path}?rev=${rev}`, { method: 'DELETE', auth });
        break;
      case 2:
        how = '_bulk_docs with _rev';
        r = await http(`/${db}/_bulk_docs`, { method: 'POST', auth, body: { docs: [{ _id: d.id, _rev: rev, hijacked: true }] } });
        break;
      default:
        how = '_bulk_docs new_edits=false with a higher sibling rev';
        r = await http(`/${db}/_bulk_docs`, {
          method: 'POST',
          auth,
          body: { new_edits: false, docs: [{ _id: d.id, _rev: '1-' + 'f'.repeat(32), hijacked: true }] },
        });
    }
    const accepted = r.status >= 200 && r.status < 300 && !(Array.isArray(r.data) && r.data.every((x) => x.error));
    if (accepted) fails.push(`${u.name} (groups: ${[...u.groups].join(',') || '-'}) ${how} on ${d.id} keys=${JSON.stringify(d.keys)} -> ${r.status} ${r.text.trim().slice(0, 160)}`);
  }
  const afterView = await adminView(db);
  for (const [u, d] of attempts) {
    const b = before.get(d.id);
    const a = afterView.get(d.id);
    if (a.rev !== b.rev || a.leaves !== 1 || a.deleted || !isDeepStrictEqual(a.keys, d.keys)) {
      fails.push(`${d.id} changed by ${u.name}: rev ${b.rev} -> ${a.rev}, leaves ${a.leaves}, deleted ${a.deleted}, keys ${JSON.stringify(a.keys)}`);
    }
  }
  if (fails.length) assert.fail(`seed ${SEED}: ${fails.length} failures\n${fails.join('\n')}`);
});
