#!/usr/bin/env bash
# Sets up and runs every test: Rust (fmt, clippy, unit, integration, property) and the Node
# suites that use real PouchDB as the peer. Works on a fresh Debian machine with Rust, Node 20
# and apt.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== checks: rustfmt, clippy"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings

echo "== Rust tests"
cargo build --locked -p fullsync-cli
cargo test --workspace --locked

echo "== Studio UI build (Vite + TypeScript + Monaco)"
(cd ui && npm ci --no-audit --no-fund --loglevel=error && npm run build)

echo "== Node tests (real PouchDB 9 and pouchdb-server against fullsync; the studio in headless Chromium)"
(cd tests/node && npm ci --no-audit --no-fund --loglevel=error)
export FULLSYNC_BIN="$PWD/target/debug/fullsync"
(cd tests/node && node --test --test-concurrency=1 ./*.test.mjs)
