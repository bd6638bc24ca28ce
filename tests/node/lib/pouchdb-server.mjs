// Start / stop pouchdb-server 4.2.0 (shared/peers.md) as a real CouchDB-compatible peer.
//
//   const ps = await startPouchdbServer();   // temp dir, free port, keepalive preload
//   ps.url                                   // 'http://127.0.0.1:PORT/'
//   await ps.stop();                         // SIGTERM (then SIGKILL), removes the temp dir
//
// Started as `node -r keepalive.cjs node_modules/pouchdb-server/bin/pouchdb-server
//   -o 127.0.0.1 -p PORT -d DIR -c DIR/config.json -n`, bound to 127.0.0.1 only.
// opts.bin: the pouchdb-server script (default: the one installed next to tests/node);
// opts.keepalive: the preload (default: lib/keepalive.cjs).

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import net from 'node:net';

const HERE = dirname(fileURLToPath(import.meta.url));
export const DEFAULT_POUCHDB_SERVER = resolve(HERE, '..', 'node_modules', 'pouchdb-server', 'bin', 'pouchdb-server');
export const KEEPALIVE = join(HERE, 'keepalive.cjs');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function freePort() {
  return new Promise((res, rej) => {
    const s = net.createServer();
    s.on('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

const live = new Set();
process.on('exit', () => {
  for (const child of live) {
    try {
      child.kill('SIGKILL');
    } catch {
      /* gone */
    }
  }
});

export async function startPouchdbServer({ bin = DEFAULT_POUCHDB_SERVER, keepalive = KEEPALIVE, timeoutMs = 60_000 } = {}) {
  if (!existsSync(bin)) {
    throw new Error(`pouchdb-server not found at ${bin}: run \`npm ci\` in ${resolve(dirname(bin), '..', '..', '..')}`);
  }
  const dir = await mkdtemp(join(tmpdir(), 'pouchdb-server-'));
  const port = await freePort();
  let err = '';
  const child = spawn(
    process.execPath,
    ['-r', keepalive, bin, '-o', '127.0.0.1', '-p', String(port), '-d', dir, '-c', join(dir, 'config.json'), '-n'],
    { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  live.add(child);
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (c) => {
    err = (err + c).slice(-16_000);
    if (process.env.POUCHDB_SERVER_LOG) process.stderr.write(`[pouchdb-server] ${c}`);
  });
  const exited = new Promise((r) => child.once('exit', (code, signal) => (live.delete(child), r({ code, signal }))));
  const url = `http://127.0.0.1:${port}/`;
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      await rm(dir, { recursive: true, force: true });
      throw new Error(`pouchdb-server exited (${child.exitCode ?? child.signalCode}) before serving:\n${err}`);
    }
    try {
      const r = await fetch(url);
      if (r.ok) break;
    } catch {
      /* not yet */
    }
    if (Date.now() > end) {
      child.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
      throw new Error(`pouchdb-server not answering ${url} after ${timeoutMs} ms:\n${err}`);
    }
    await sleep(100);
  }
  return {
    url,
    port,
    dir,
    child,
    stderr: () => err,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const r = await Promise.race([exited, sleep(5000).then(() => null)]);
        if (r === null) {
          child.kill('SIGKILL');
          await exited;
        }
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
