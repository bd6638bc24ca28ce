// What a build of this checkout should say about itself.

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './server.mjs';

/** The workspace version (Cargo.toml's [workspace.package] version). */
export function workspaceVersion() {
  const toml = readFileSync(join(REPO_ROOT, 'Cargo.toml'), 'utf8');
  return /\[workspace\.package\][^[]*?\nversion = "([^"]+)"/.exec(toml)[1];
}

/**
 * The commit the binaries name (their build.rs): FULLSYNC_COMMIT when set, else the checkout's
 * HEAD as 12 hex digits, else `unknown` (no git).
 */
export function expectedCommit() {
  if (process.env.FULLSYNC_COMMIT) return process.env.FULLSYNC_COMMIT.trim();
  try {
    return execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
  } catch {
    return 'unknown';
  }
}
