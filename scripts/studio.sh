#!/usr/bin/env bash
# Sets up and runs FullSync: builds the `fullsync` tool, loads the sample project
# (projects/sample: databases, design documents, sample data) into the embedded engine in ./data
# the first time, and serves it on http://127.0.0.1:5984/. The desktop studio and its web mode
# will start from here as they land (see README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked -p fullsync-cli
BIN=./target/release/fullsync
PROJECT="${FULLSYNC_PROJECT:-projects/sample}"
if [ ! -d ./data ]; then
  "$BIN" project sync "$PROJECT" --data ./data --load-data
else
  "$BIN" project sync "$PROJECT" --data ./data
fi
echo "Project $PROJECT is loaded. Try: curl 'http://127.0.0.1:${FULLSYNC_PORT:-5984}/orders/_design/app/_view/by_status?group=true'"
exec "$BIN" serve --data ./data --port "${FULLSYNC_PORT:-5984}"
