#!/usr/bin/env bash
# Benchmark, scenario A (issues 2 and 3): 20 feeds x 10 episodes x 2 MB served by the testkit
# server at 2 MB/s per connection with 50 ms latency; `catalog-sync run` with 4 and 16
# parallel downloads. Prints wall time and peak RSS (GNU time -v) and checks every file's
# sha256 against the server's manifest. Not a test: timing goals live here, not in CI.
# bench/compare.sh runs the same scenario against aria2c and gpo.
#
# Usage: bench/scenario_a.sh [parallel...]   (default: 4 16)
#   FEEDS=20 EPISODES=10 SIZE=2000000 RATE=2000000 LATENCY_MS=50 to change the scenario.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
FEEDS=${FEEDS:-20} EPISODES=${EPISODES:-10} SIZE=${SIZE:-2000000} RATE=${RATE:-2000000} LATENCY_MS=${LATENCY_MS:-50}
PARALLEL=("$@"); [ $# -gt 0 ] || PARALLEL=(4 16)
ITEMS=$((FEEDS * EPISODES))
TOTAL=$((ITEMS * SIZE))

build
RUN=$(mktemp -d -p "$OUT" scenario_a.XXXXXX)
start_server "$RUN/server" --feeds "$FEEDS" --episodes "$EPISODES" --size "$SIZE" --rate "$RATE" --latency-ms "$LATENCY_MS"

for P in "${PARALLEL[@]}"; do
  WORK="$RUN/j$P"; mkdir -p "$WORK"; catalog_env "$WORK"
  "$BIN/catalog-sync" -q import "$OPML" >/dev/null
  timed "$WORK/time.txt" "$BIN/catalog-sync" -q -j "$P" run > "$WORK/run.txt"
  BOUND=$(div "$TOTAL" $((RATE * (P < ITEMS ? P : ITEMS))) 2)
  echo "parallel=$P wall=$(wall_s "$WORK/time.txt")s bound=${BOUND}s peak_rss=$(peak_rss_kb "$WORK/time.txt")KB" \
    "files=$(count_files "$WORK/library")/$ITEMS sha_mismatch=$(sha_mismatches "$WORK/library" "$MANIFEST") exit=$RC"
  tail -n 3 "$WORK/run.txt" | sed 's/^/    /'
  rm -rf "$WORK"
done
