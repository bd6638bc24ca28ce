#!/usr/bin/env bash
# Sets up and runs FullSync Studio: builds the `fullsync` tool and the studio UI, loads the sample
# project (projects/sample: databases, design documents, sample data) into the embedded engine in
# ./data the first time, and serves the studio in the browser (web mode) together with the
# CouchDB-compatible API. It prints the studio's URL (with its access token).
# (The desktop window, src-tauri/, is not built yet: the web mode is the studio for now.)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked -p fullsync-cli
(cd ui && npm ci --no-audit --no-fund --loglevel=error && npm run build)
BIN=./target/release/fullsync
PROJECT="${FULLSYNC_PROJECT:-projects/sample}"
if [ ! -d ./data ]; then
  "$BIN" project sync "$PROJECT" --data ./data --load-data
fi
exec "$BIN" serve --studio --project "$PROJECT" --data ./data --port "${FULLSYNC_PORT:-5984}" --ui-dir ui/dist
