// Fixtures for the remote-server tests (CLI and studio): pouchdb-server 4.2.0 with an admin,
// an `orders` database both sides agree on, and fake servers that are slow or answer garbage.
//
// Data where pouchdb-server and our engine agree (see remote-cli.test.mjs): ASCII lowercase
// keys and ids (no ICU-vs-code-point collation difference), integer values, builtin reduces.

import http from 'node:http';
import net from 'node:net';
import { startPouchdbServer } from './pouchdb-server.mjs';

export const ADMIN = 'admin';
export const PASSWORD = 'remote-pw-4711';

const STATUSES = ['new', 'paid', 'shipped', 'cancelled'];

/** The documents of `orders`: o00..o(n-1), status cycling, total = 10 * i. */
export function orders(n = 40) {
  return Array.from({ length: n }, (_, i) => ({
    _id: `o${String(i).padStart(2, '0')}`,
    type: 'order',
    status: STATUSES[i % STATUSES.length],
    total: 10 * i,
    customer: `c${i % 5}`,
  }));
}

export const DDOC = {
  _id: '_design/app',
  views: {
    by_status: { map: 'function (doc) { if (doc.type === "order") emit(doc.status, doc.total); }', reduce: '_sum' },
    by_customer: { map: 'function (doc) { if (doc.type === "order") emit([doc.customer, doc.total], null); }', reduce: '_count' },
  },
};

/** A request to pouchdb-server as its admin. */
export function psFetch(ps, method, path, body) {
  return fetch(ps.url + path.replace(/^\//, ''), {
    method,
    headers: {
      'content-type': 'application/json',
      authorization: 'Basic ' + Buffer.from(`${ADMIN}:${PASSWORD}`).toString('base64'),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  }).then(async (r) => {
    const text = await r.text();
    if (r.status >= 400) throw new Error(`${method} ${path}: ${r.status} ${text}`);
    return JSON.parse(text);
  });
}

/** pouchdb-server with an admin and `orders` (docs + design doc) and a two-leaf conflict `c1`. */
export async function startRemote(n = 40) {
  const ps = await startPouchdbServer();
  await fetch(ps.url + `_config/admins/${ADMIN}`, { method: 'PUT', body: JSON.stringify(PASSWORD) });
  await psFetch(ps, 'PUT', '/orders');
  await psFetch(ps, 'POST', '/orders/_bulk_docs', { docs: [...orders(n), DDOC] });
  await psFetch(ps, 'POST', '/orders/_bulk_docs', {
    new_edits: false,
    docs: [
      { _id: 'c1', _rev: '1-aaaa', type: 'note', text: 'left' },
      { _id: 'c1', _rev: '1-bbbb', type: 'note', text: 'right' },
    ],
  });
  return ps;
}

/** A TCP server that accepts and never answers (a hung server). */
export function startSlow() {
  return new Promise((resolve) => {
    const held = [];
    const s = net.createServer((c) => held.push(c));
    s.listen(0, '127.0.0.1', () =>
      resolve({
        url: `http://127.0.0.1:${s.address().port}`,
        stop: () => new Promise((r) => (held.forEach((c) => c.destroy()), s.close(r))),
      }),
    );
  });
}

/** An HTTP server that answers every request with an HTML page (a proxy's login page). */
export function startGarbage() {
  return new Promise((resolve) => {
    const s = http.createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html><body>Please log in</body></html>');
    });
    s.listen(0, '127.0.0.1', () =>
      resolve({ url: `http://127.0.0.1:${s.address().port}`, stop: () => new Promise((r) => s.close(r)) }),
    );
  });
}

/** A loopback port nobody listens on. */
export function closedPort() {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}
