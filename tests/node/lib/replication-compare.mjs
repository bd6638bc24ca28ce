// Snapshot a database's full revision state and diff two snapshots. Used to check that a
// replication produced the same result as a reference (PouchDB's own replicator, or the source).
//
// A snapshot maps every doc id (deleted ones too) to:
//   { winner, deleted, leaves: [rev...sorted], conflicts: [rev...sorted] (live winners only),
//     bodies: { rev: {body, _deleted, _revisions, _attachments: {name: {content_type, digest, length, revpos}}} } }
// read through `_changes?style=all_docs`, `POST _all_docs {keys}` with conflicts and
// `_bulk_get?revs=true` for every leaf (attachment stubs only; bytes are checked separately).
//
// Two sources: an HTTP database URL (raw fetch, one request per step, no paging surprises) or a
// local PouchDB object (same steps through its API).

import crypto from 'node:crypto';

const CHUNK = 1000;

async function http(method, url, body) {
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
    throw new Error(`${method} ${url} -> ${res.status}: not JSON: ${text.slice(0, 300)}`);
  }
  if (res.status >= 400) throw new Error(`${method} ${url} -> ${res.status} ${text.slice(0, 500)}`);
  return json;
}

/** Access to one database: HTTP (`dbUrl` without trailing slash) or a local PouchDB. */
export function httpSource(dbUrl) {
  const u = dbUrl.replace(/\/$/, '');
  return {
    label: u,
    changes: async () => (await http('GET', `${u}/_changes?style=all_docs&since=0`)).results,
    allDocs: async (keys) => (await http('POST', `${u}/_all_docs?conflicts=true&include_docs=true`, { keys })).rows,
    bulkGet: async (docs) => (await http('POST', `${u}/_bulk_get?revs=true`, { docs })).results,
    attachment: async (id, name, rev) => {
      const res = await fetch(`${u}/${encodeDocId(id)}/${encodeURIComponent(name)}?rev=${encodeURIComponent(rev)}`);
      if (res.status !== 200) throw new Error(`GET attachment ${id}/${name}?rev=${rev} -> ${res.status} ${await res.text()}`);
      return Buffer.from(await res.arrayBuffer());
    },
    info: async () => http('GET', u),
  };
}

export function pouchSource(db, label = 'pouchdb') {
  return {
    label,
    changes: async () => (await db.changes({ since: 0, style: 'all_docs' })).results,
    allDocs: async (keys) => (await db.allDocs({ keys, include_docs: true, conflicts: true })).rows,
    bulkGet: async (docs) => (await db.bulkGet({ docs, revs: true })).results,
    attachment: async (id, name, rev) => {
      const b = await db.getAttachment(id, name, { rev });
      return Buffer.isBuffer(b) ? b : Buffer.from(await b.arrayBuffer());
    },
    info: async () => db.info(),
  };
}

export function encodeDocId(id) {
  if (id.startsWith('_design/')) return '_design/' + encodeURIComponent(id.slice(8));
  return encodeURIComponent(id);
}

function normAtts(atts) {
  if (!atts) return undefined;
  const out = {};
  for (const name of Object.keys(atts).sort()) {
    const a = atts[name];
    out[name] = { content_type: a.content_type, digest: a.digest, length: a.length, revpos: a.revpos };
  }
  return out;
}

function normBody(doc) {
  const body = {};
  for (const k of Object.keys(doc).sort()) {
    if (k === '_attachments' || k === '_revisions' || k === '_rev' || k === '_id' || k === '_deleted') continue;
    if (k === '_conflicts' || k === '_deleted_conflicts' || k === '_revs_info') continue;
    body[k] = doc[k];
  }
  return {
    body,
    _deleted: doc._deleted === true,
    _revisions: doc._revisions,
    _attachments: normAtts(doc._attachments),
  };
}

/** Full snapshot; see the header. */
export async function snapshot(src) {
  const snap = new Map();
  const changes = await src.changes();
  for (const c of changes) {
    if (snap.has(c.id)) throw new Error(`${src.label}: _changes lists ${c.id} twice`);
    snap.set(c.id, {
      changed_deleted: c.deleted === true,
      leaves: c.changes.map((x) => x.rev).sort(),
      bodies: {},
    });
  }
  const ids = [...snap.keys()];
  for (let i = 0; i < ids.length; i += CHUNK) {
    const rows = await src.allDocs(ids.slice(i, i + CHUNK));
    for (const row of rows) {
      const s = snap.get(row.key);
      if (row.error || !row.value) throw new Error(`${src.label}: _all_docs key ${row.key}: ${JSON.stringify(row)}`);
      s.winner = row.value.rev;
      s.deleted = row.value.deleted === true;
      s.conflicts = s.deleted ? [] : [...(row.doc?._conflicts ?? [])].sort();
    }
  }
  const leafReqs = [];
  for (const [id, s] of snap) for (const rev of s.leaves) leafReqs.push({ id, rev });
  for (let i = 0; i < leafReqs.length; i += CHUNK) {
    const results = await src.bulkGet(leafReqs.slice(i, i + CHUNK));
    for (const r of results) {
      for (const d of r.docs) {
        if (!d.ok) throw new Error(`${src.label}: _bulk_get ${r.id}: ${JSON.stringify(d)}`);
        snap.get(r.id).bodies[d.ok._rev] = normBody(d.ok);
      }
    }
  }
  return snap;
}

/** Differences between two snapshots, as readable lines (at most `max`). */
// ignoreRevpos: attachment revpos is not compared. PouchDB's replicator (and pouchdb-server,
// which is PouchDB) strips the stub and writes the bytes, so a kept attachment gets the new
// revision's generation as revpos instead of the source's; CouchDB keeps the source's revpos.
export function diffSnapshots(a, b, { labelA = 'A', labelB = 'B', max = 15, ignoreRevpos = false } = {}) {
  const body = (s, rev) => {
    const x = s.bodies[rev];
    if (!ignoreRevpos || !x || !x._attachments) return JSON.stringify(x);
    const atts = {};
    for (const [k, v] of Object.entries(x._attachments)) atts[k] = { ...v, revpos: undefined };
    return JSON.stringify({ ...x, _attachments: atts });
  };
  const out = [];
  const push = (s) => out.length < max && out.push(s);
  let total = 0;
  const ids = new Set([...a.keys(), ...b.keys()]);
  for (const id of [...ids].sort()) {
    const x = a.get(id);
    const y = b.get(id);
    if (!x || !y) {
      total++;
      push(`${JSON.stringify(id)}: only in ${x ? labelA : labelB}`);
      continue;
    }
    const fields = ['winner', 'deleted', 'changed_deleted', 'leaves', 'conflicts'];
    let bad = false;
    for (const f of fields) {
      if (JSON.stringify(x[f]) !== JSON.stringify(y[f])) {
        bad = true;
        push(`${JSON.stringify(id)}: ${f} ${labelA}=${JSON.stringify(x[f])} ${labelB}=${JSON.stringify(y[f])}`);
      }
    }
    if (!bad) {
      for (const rev of x.leaves) {
        const bx = body(x, rev);
        const by = body(y, rev);
        if (bx !== by) {
          bad = true;
          push(`${JSON.stringify(id)} ${rev}: ${labelA}=${bx} ${labelB}=${by}`);
        }
      }
    }
    if (bad) total++;
  }
  return { total, lines: out };
}

/** Counts, for the log. */
export function summarize(snap) {
  let docs = 0,
    deleted = 0,
    conflicted = 0,
    leaves = 0,
    deletedLeaves = 0,
    attLeaves = 0;
  for (const s of snap.values()) {
    docs++;
    if (s.deleted) deleted++;
    if (s.conflicts.length) conflicted++;
    leaves += s.leaves.length;
    for (const b of Object.values(s.bodies)) {
      if (b._deleted) deletedLeaves++;
      if (b._attachments) attLeaves++;
    }
  }
  return { docs, deleted, conflicted, leaves, deletedLeaves, attLeaves };
}

/** Every (id, rev, name, digest) of a leaf that carries attachments. */
export function attachmentLeaves(snap) {
  const out = [];
  for (const [id, s] of snap) {
    for (const [rev, b] of Object.entries(s.bodies)) {
      for (const [name, a] of Object.entries(b._attachments ?? {})) out.push({ id, rev, name, digest: a.digest });
    }
  }
  return out;
}

export function md5Digest(buf) {
  return 'md5-' + crypto.createHash('md5').update(buf).digest('base64');
}

/** Run fn over items with at most `n` in flight. */
export async function pool(items, n, fn) {
  let next = 0;
  const results = new Array(items.length);
  await Promise.all(
    Array.from({ length: Math.min(n, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        results[i] = await fn(items[i], i);
      }
    }),
  );
  return results;
}
