// Start / stop / restart `fullsync serve` for the Node tests.
//
//   const srv = await startServer();          // temp data dir, free port
//   srv.url                                   // 'http://127.0.0.1:PORT/'
//   await srv.restart();                      // same data dir, same port
//   await srv.stop();                         // SIGTERM, removes the temp dir (if we made it)
//
// The binary comes from FULLSYNC_BIN, default <repo>/target/debug/fullsync.

import { spawn } from 'node:child_process';
import { existsSync, accessSync, constants as fsConstants } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = resolve(HERE, '..', '..', '..');
export const DEFAULT_BIN = join(REPO_ROOT, 'target', 'debug', 'fullsync');

const READY_RE = /^FullSync listening on (http:\/\/127\.0\.0\.1:(\d+)\/)\s*$/;
const STDERR_KEEP = 64 * 1024;

/** Path of the fullsync binary the tests will run. */
export function fullsyncBin() {
  return process.env.FULLSYNC_BIN ? resolve(process.env.FULLSYNC_BIN) : DEFAULT_BIN;
}

/** Throws a clear error if the binary is missing or not executable. */
export function assertBinary(bin = fullsyncBin()) {
  if (!existsSync(bin)) {
    throw new Error(
      `fullsync binary not found at ${bin}. Build it first (cargo build -p fullsync-cli) ` +
        `or point FULLSYNC_BIN at it.`,
    );
  }
  try {
    accessSync(bin, fsConstants.X_OK);
  } catch {
    throw new Error(`fullsync binary at ${bin} is not executable`);
  }
  return bin;
}

// Every live child, so a crashing test run never leaves servers behind.
const live = new Set();
process.on('exit', () => {
  for (const child of live) {
    try {
      child.kill('SIGKILL');
    } catch {
      /* already gone */
    }
  }
});

export class FullSyncServer {
  /**
   * @param {object} [opts]
   * @param {string} [opts.bin]      binary path (default: FULLSYNC_BIN or target/debug/fullsync)
   * @param {string} [opts.dataDir]  data dir (default: a fresh temp dir, removed by stop())
   * @param {number} [opts.port]     port (default 0 = pick a free one)
   * @param {string[]} [opts.extraArgs]
   * @param {object} [opts.env]
   * @param {number} [opts.startTimeoutMs]
   */
  constructor(opts = {}) {
    this.bin = opts.bin ?? fullsyncBin();
    this.dataDir = opts.dataDir ?? null;
    this.ownsDataDir = !opts.dataDir;
    this.port = opts.port ?? 0;
    this.extraArgs = opts.extraArgs ?? [];
    this.env = opts.env ?? {};
    this.startTimeoutMs = opts.startTimeoutMs ?? Number(process.env.FULLSYNC_START_TIMEOUT_MS ?? 20000);
    this.child = null;
    this.url = null;
    this.stderr = '';
    this.stdout = '';
    this.exitInfo = null;
    this.starts = 0;
  }

  /** The local admin `serve` generated when started without --admin: {username, password}. */
  async localAdmin() {
    const dir = this.env.FULLSYNC_CONFIG_DIR ?? this.configDir;
    const v = JSON.parse(await readFile(join(dir, 'local-admin.json'), 'utf8'));
    return { username: v.name, password: v.password };
  }

  get running() {
    return this.child !== null && this.exitInfo === null;
  }

  /** `http://127.0.0.1:PORT/` + path (path without a leading slash is fine too). */
  at(path = '') {
    if (!this.url) throw new Error('server not started');
    return this.url + String(path).replace(/^\//, '');
  }

  async start() {
    if (this.running) throw new Error('server already running');
    assertBinary(this.bin);
    if (!this.dataDir) this.dataDir = await mkdtemp(join(tmpdir(), 'fullsync-test-'));
    // Its own configuration folder (where `serve` keeps the generated local admin), unless
    // the test gives one.
    if (!this.env.FULLSYNC_CONFIG_DIR && !this.configDir) {
      this.configDir = await mkdtemp(join(tmpdir(), 'fullsync-config-'));
    }

    // A restart on the same port can race the old socket; retry "address in use" a few times.
    let lastErr;
    for (let attempt = 0; attempt < 10; attempt++) {
      try {
        await this.#spawnOnce();
        return this;
      } catch (err) {
        lastErr = err;
        const inUse = /address already in use|AddrInUse|EADDRINUSE|os error 98/i.test(this.stderr);
        if (!(this.port !== 0 && inUse)) throw err;
        await sleep(200 * (attempt + 1));
      }
    }
    throw lastErr;
  }

  #spawnOnce() {
    this.stderr = '';
    this.stdout = '';
    this.exitInfo = null;
    this.url = null;
    const args = ['serve', '--data', this.dataDir, '--port', String(this.port), ...this.extraArgs];
    const child = spawn(this.bin, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...(this.configDir ? { FULLSYNC_CONFIG_DIR: this.configDir } : {}), ...this.env },
    });
    this.child = child;
    this.starts++;
    live.add(child);

    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk) => {
      this.stderr += chunk;
      if (this.stderr.length > STDERR_KEEP) this.stderr = this.stderr.slice(-STDERR_KEEP);
      if (process.env.FULLSYNC_SERVER_LOG) process.stderr.write(`[fullsync] ${chunk}`);
    });
    child.stdout.setEncoding('utf8');

    const exited = new Promise((resolveExit) => {
      child.on('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        live.delete(child);
        resolveExit(this.exitInfo);
      });
    });
    this.exited = exited;

    return new Promise((resolveReady, rejectReady) => {
      let settled = false;
      let buf = '';
      const cmd = `${this.bin} ${args.join(' ')}`;
      const fail = (why) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (this.exitInfo === null) child.kill('SIGKILL');
        const err = new Error(
          `fullsync serve did not become ready: ${why}\n  command: ${cmd}\n` +
            `  stdout: ${this.stdout.trim() || '(empty)'}\n  stderr:\n${indent(this.stderr.trim() || '(empty)')}`,
        );
        rejectReady(err);
      };
      const timer = setTimeout(
        () => fail(`no "FullSync listening on http://127.0.0.1:PORT/" line within ${this.startTimeoutMs} ms`),
        this.startTimeoutMs,
      );
      child.on('error', (err) => fail(`spawn failed: ${err.message}`));
      exited.then(({ code, signal }) => fail(`process exited early (code ${code}, signal ${signal})`));
      child.stdout.on('data', (chunk) => {
        this.stdout += chunk;
        if (this.stdout.length > STDERR_KEEP) this.stdout = this.stdout.slice(-STDERR_KEEP);
        if (settled) return;
        buf += chunk;
        let nl;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl).replace(/\r$/, '');
          buf = buf.slice(nl + 1);
          const m = READY_RE.exec(line);
          if (m) {
            settled = true;
            clearTimeout(timer);
            this.url = m[1];
            this.port = Number(m[2]); // keep it so restart() reuses the same port
            resolveReady(this);
            return;
          }
        }
      });
    });
  }

  /** Stop the process. signal: 'SIGTERM' (default, graceful) or 'SIGKILL' (crash). */
  async stop({ signal = 'SIGTERM', timeoutMs = 10000, removeData = undefined } = {}) {
    if (this.child && this.exitInfo === null) {
      this.child.kill(signal);
      const res = await Promise.race([this.exited, sleep(timeoutMs).then(() => null)]);
      if (res === null) {
        this.child.kill('SIGKILL');
        await this.exited;
        throw new Error(
          `fullsync did not exit within ${timeoutMs} ms of ${signal} (killed)\n  stderr:\n${indent(this.stderr.trim())}`,
        );
      }
    }
    const remove = removeData ?? false;
    if (remove && this.dataDir) {
      await rm(this.dataDir, { recursive: true, force: true });
      this.dataDir = null;
    }
    return this.exitInfo;
  }

  /** Stop and start again on the same data dir and the same port. */
  async restart({ signal = 'SIGTERM' } = {}) {
    const port = this.port;
    await this.stop({ signal, removeData: false });
    this.port = port;
    return this.start();
  }

  /** Stop and delete the temp data dir if this object created it. */
  async dispose() {
    try {
      await this.stop({ removeData: this.ownsDataDir });
    } catch (err) {
      if (this.ownsDataDir && this.dataDir) await rm(this.dataDir, { recursive: true, force: true });
      throw err;
    } finally {
      if (this.configDir) await rm(this.configDir, { recursive: true, force: true });
      this.configDir = null;
    }
  }
}

/** Convenience: construct and start. */
export async function startServer(opts = {}) {
  const srv = new FullSyncServer(opts);
  await srv.start();
  return srv;
}

export function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

function indent(text) {
  return text
    .split('\n')
    .map((l) => '    ' + l)
    .join('\n');
}
