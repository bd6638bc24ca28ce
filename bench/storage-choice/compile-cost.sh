#!/usr/bin/env bash
# Compile cost of each backend alone: clean build time (release and dev) with
# ONE build job, and dependency counts. Each build uses its own fresh target
# dir (target-<backend>-<profile>/, git-ignored) so nothing is shared.
# Sources must already be fetched (cargo fetch); network time is not measured.
#
# Usage: ./compile-cost.sh [repeats]   (default 3; prints medians)
set -euo pipefail
cd "$(dirname "$0")"
REPEATS="${1:-3}"
export CARGO_BUILD_JOBS=1
cargo fetch -q

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

printf '%-6s %-8s %10s %10s %10s %10s\n' backend profile median_s tree_lines unique_pkgs bin_KiB
for b in redb fjall; do
  feats=(--no-default-features --features "$b")
  tree_lines=$(cargo tree -e normal "${feats[@]}" | wc -l)
  unique=$(cargo tree -e normal "${feats[@]}" --prefix none | sed 's/ (\*)//' | sort -u | wc -l)
  for profile in release dev; do
    times=()
    for i in $(seq 1 "$REPEATS"); do
      dir="target-$b-$profile"
      rm -rf "$dir"
      start=$(date +%s.%N)
      CARGO_TARGET_DIR="$dir" nice -n 10 cargo build -q --profile "$profile" "${feats[@]}"
      end=$(date +%s.%N)
      t=$(echo "$end - $start" | bc)
      times+=("$t")
      echo "  $b $profile run $i: ${t}s (load: $(cut -d' ' -f1-3 /proc/loadavg))" >&2
    done
    out=$([ "$profile" = dev ] && echo debug || echo release)
    size=$(( $(stat -c %s "target-$b-$profile/$out/storage-choice") / 1024 ))
    m=$(printf '%s\n' "${times[@]}" | median)
    printf '%-6s %-8s %10.1f %10s %10s %10s\n' "$b" "$profile" "$m" "$tree_lines" "$unique" "$size"
    rm -rf "target-$b-$profile"
  done
done
