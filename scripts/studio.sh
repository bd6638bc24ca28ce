#!/usr/bin/env bash
# Sets up and runs FullSync: builds the `fullsync` tool and serves the local engine on
# http://127.0.0.1:5984/ with its data in ./data. (The desktop studio and its web mode will
# start from here as they land; see README.md.)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked -p fullsync-cli
exec ./target/release/fullsync serve --data ./data --port "${FULLSYNC_PORT:-5984}"
