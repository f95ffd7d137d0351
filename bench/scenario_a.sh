#!/usr/bin/env bash
# Benchmark, scenario A (issues 2 and 3): 20 feeds x 10 episodes x 2 MB served by the testkit
# server at 2 MB/s per connection with 50 ms latency; `catalog-sync run` with 4 and 16
# parallel downloads. Prints wall time and peak RSS (GNU time -v) and checks every file's
# sha256 against the server's manifest. Not a test: timing goals live here, not in CI.
#
# Usage: bench/scenario_a.sh [parallel...]   (default: 4 16)
#   FEEDS=20 EPISODES=10 SIZE=2000000 RATE=2000000 LATENCY_MS=50 to change the scenario.
set -euo pipefail
cd "$(dirname "$0")/.."
FEEDS=${FEEDS:-20} EPISODES=${EPISODES:-10} SIZE=${SIZE:-2000000} RATE=${RATE:-2000000} LATENCY_MS=${LATENCY_MS:-50}
PARALLEL=("${@:-4 16}"); [ $# -eq 0 ] && PARALLEL=(4 16)
command -v /usr/bin/time >/dev/null || { apt-get update -qq && apt-get install -y -qq time; }

cargo build --release --locked -p catalog-sync-cli -p catalog-sync-testkit --bins
BIN=target/release
OUT=bench/out; mkdir -p "$OUT"
"$BIN/testkit-server" --feeds "$FEEDS" --episodes "$EPISODES" --size "$SIZE" --rate "$RATE" --latency-ms "$LATENCY_MS" --out "$OUT" > "$OUT/server.txt" &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 100); do grep -q '^MANIFEST' "$OUT/server.txt" 2>/dev/null && break; sleep 0.1; done
OPML=$(awk '/^OPML/{print $2}' "$OUT/server.txt")
MANIFEST=$(awk '/^MANIFEST/{print $2}' "$OUT/server.txt")
TOTAL=$((FEEDS * EPISODES * SIZE))

for P in "${PARALLEL[@]}"; do
  WORK=$(mktemp -d)
  export CATALOG_SYNC_DATABASE="$WORK/catalog.redb" CATALOG_SYNC_LIBRARY="$WORK/library" CATALOG_SYNC_CONFIG="$WORK/none.toml"
  "$BIN/catalog-sync" -q import "$OPML" >/dev/null
  /usr/bin/time -v "$BIN/catalog-sync" -q -j "$P" run > "$WORK/run.txt" 2> "$WORK/time.txt"
  WALL=$(awk -F': ' '/Elapsed \(wall clock\)/{print $2}' "$WORK/time.txt")
  RSS=$(awk -F': ' '/Maximum resident set size/{print $2}' "$WORK/time.txt")
  BOUND=$(python3 -c "print(round($TOTAL / ($RATE * min($P, $FEEDS * $EPISODES)), 2))")
  # every file's sha256 must be one of the server's
  BAD=$(find "$WORK/library" -type f -exec sha256sum {} + | awk '{print $1}' | sort | comm -23 - <(awk '{print $1}' "$MANIFEST" | sort) | wc -l)
  FILES=$(find "$WORK/library" -type f | wc -l)
  echo "parallel=$P wall=$WALL bound=${BOUND}s peak_rss=${RSS}KB files=$FILES/$((FEEDS * EPISODES)) sha_mismatch=$BAD"
  tail -n 3 "$WORK/run.txt" | sed 's/^/    /'
  rm -rf "$WORK"
done
