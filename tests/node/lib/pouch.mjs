// PouchDB 9 set-up shared by the tests: the memory adapter plugin, and an HTTP client whose
// requests are recorded (so tests can assert which endpoints the replicator used).

import { createRequire } from 'node:module';
import PouchDB from 'pouchdb';
import memoryAdapter from 'pouchdb-adapter-memory';

PouchDB.plugin(memoryAdapter);

// PouchDB's own HTTP stack is node-fetch; resolve it from pouchdb's location so we wrap the same one.
const requireFromPouch = createRequire(createRequire(import.meta.url).resolve('pouchdb'));
const nodeFetch = requireFromPouch('node-fetch');

/** Local adapter for the PouchDB peer: POUCH_ADAPTER=memory|leveldb (default leveldb). */
export const LOCAL_ADAPTER = process.env.POUCH_ADAPTER || 'leveldb';

/**
 * A PouchDB HTTP client for `url` that records every request it makes.
 * @returns {{db: PouchDB.Database, log: {method:string, url:string, t:number}[]}}
 */
export function recordedRemote(url, opts = {}) {
  const log = [];
  const fetch = (reqUrl, init = {}) => {
    log.push({ method: (init.method || 'GET').toUpperCase(), url: String(reqUrl), t: Date.now() });
    return nodeFetch(reqUrl, init);
  };
  const db = new PouchDB(url, { fetch, skip_setup: true, ...opts });
  return { db, log };
}

export { PouchDB };
