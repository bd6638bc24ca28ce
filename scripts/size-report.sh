#!/usr/bin/env bash
# Size report for the Rust sources: files over a line limit and functions over a line limit,
# outside tests (files under tests/, and everything after a top-level `#[cfg(test)]`).
# Usage: scripts/size-report.sh [--files N] [--fns N] [PATH...]   (defaults: 800, 100, crates src-tauri)
# Counts rustfmt-formatted code: a function runs from its `fn` line to the `}` at its indent.
set -euo pipefail
cd "$(dirname "$0")/.."
file_limit=800
fn_limit=100
paths=()
while [ $# -gt 0 ]; do
  case "$1" in
    --files) file_limit="$2"; shift 2 ;;
    --fns) fn_limit="$2"; shift 2 ;;
    -h|--help) sed -n '2,5p' "$0"; exit 0 ;;
    *) paths+=("$1"); shift ;;
  esac
done
[ ${#paths[@]} -gt 0 ] || paths=(crates src-tauri)
files=$(find "${paths[@]}" -name '*.rs' -not -path '*/tests/*' -not -path '*/target/*' | sort)
echo "== files over $file_limit lines (non-test part) =="
awk -v limit="$file_limit" '
  FNR == 1 { if (prev != "" && n > limit) printf "%6d %s\n", n, prev; prev = FILENAME; n = 0; intest = 0 }
  /^#\[cfg\(test\)\]/ { intest = 1 }
  !intest { n++ }
  END { if (n > limit) printf "%6d %s\n", n, prev }
' $files | sort -rn
echo "== functions over $fn_limit lines (outside tests) =="
awk -v limit="$fn_limit" '
  FNR == 1 { depth = 0; intest = 0 }
  /^#\[cfg\(test\)\]/ { intest = 1 }
  intest { next }
  depth == 0 && match($0, /^ *((pub(\([a-z]+\))? )?((async|const|unsafe|extern "C") )*)fn [A-Za-z0-9_]+/) {
    s = substr($0, RSTART, RLENGTH); sub(/.*fn /, "", s)
    ind = match($0, /[^ ]/) - 1
    name = s; start = FNR; indent = sprintf("%" ind "s", "")
    if ($0 ~ /[;}] *$/ && $0 !~ /\{ *$/) next   # one-line fn or declaration
    depth = 1; next
  }
  depth == 1 && index($0, indent "}") == 1 && substr($0, ind + 1) ~ /^\}/ {
    len = FNR - start + 1
    if (len > limit) printf "%6d %s:%d %s\n", len, FILENAME, start, name
    if (len > max) { max = len; maxat = FILENAME ":" start " " name }
    depth = 0
  }
  END { printf "longest: %d %s\n", max, maxat }
' $files | sort -rn
