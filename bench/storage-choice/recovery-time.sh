#!/usr/bin/env bash
# Recovery (reopen) time after kill -9 of a writer holding a fully loaded store.
# Usage: ./recovery-time.sh [docs] [repeats]   (default 1000000 docs, 3 repeats)
set -euo pipefail
cd "$(dirname "$0")"
N="${1:-1000000}"; R="${2:-3}"
BIN=target/release/storage-choice
[ -x "$BIN" ] || CARGO_TARGET_DIR=$PWD/target CARGO_BUILD_JOBS=1 nice -n 10 cargo build --release -q
for b in redb fjall; do
  for i in $(seq 1 "$R"); do
    d="data/recovery-$b"; rm -rf "$d"; mkdir -p data
    fifo=$(mktemp -u); mkfifo "$fifo"
    CRASH_DOCS=$N HOLD=1 "$BIN" crash-child "$b" "$d" > "$fifo" & pid=$!
    acked=0
    while read -r line; do
      case "$line" in ACK*) acked=${line#ACK };; DONE) break;; esac
    done < "$fifo"
    kill -9 "$pid"; wait "$pid" 2>/dev/null || true; rm -f "$fifo"
    echo "$b run $i ($N docs, killed while open, acked=$acked): $("$BIN" verify "$b" "$d" "$acked")"
    rm -rf "$d"
  done
done
