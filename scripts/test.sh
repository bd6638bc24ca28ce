#!/usr/bin/env bash
# Sets up and runs every test: Rust (fmt, clippy, unit, integration, property), the Node suites
# that use real PouchDB as the peer, the studio in headless Chromium (web mode), the desktop
# window (Tauri) under Xvfb, and the Debian package (built from the same debug build, installed
# with apt, run, removed). Works on a fresh Debian machine with Rust, Node 20 and apt.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

echo "== system packages (apt, when missing)"
./scripts/system-deps.sh
rustup component add rustfmt clippy >/dev/null 2>&1 || true

# Both `fullsync` and the desktop app embed the built UI at compile time, so the UI comes first
# (its npm packages also bring the Tauri CLI that bundles the .deb).
echo "== Studio UI build (Vite + TypeScript + Monaco)"
(cd ui && npm ci --no-audit --no-fund --loglevel=error && npm run build)

echo "== checks: rustfmt, clippy"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings

echo "== Rust tests"
cargo build --locked -p fullsync-cli -p fullsync-studio
cargo test --workspace --locked

echo "== tauri-driver (WebDriver for the desktop window's test)"
if [ ! -x target/tools/bin/tauri-driver ]; then
  cargo install tauri-driver --version 2.1.0 --locked --root target/tools
fi

echo "== Debian package (.deb) of the debug build above (scripts/package.sh)"
package_start=$SECONDS
FULLSYNC_DEB=$(./scripts/package.sh --debug | tail -n 1)
echo "packaged $FULLSYNC_DEB ($(du -h "$FULLSYNC_DEB" | cut -f1)) in $((SECONDS - package_start)) s"
export FULLSYNC_DEB

echo "== Node tests (real PouchDB 9 and pouchdb-server against fullsync; the studio in headless Chromium; the desktop window under Xvfb)"
(cd tests/node && npm ci --no-audit --no-fund --loglevel=error)
export FULLSYNC_BIN="$PWD/target/debug/fullsync"
export FULLSYNC_STUDIO_BIN="$PWD/target/debug/fullsync-studio"
export TAURI_DRIVER="$PWD/target/tools/bin/tauri-driver"
(cd tests/node && node --test --test-concurrency=1 ./*.test.mjs)
