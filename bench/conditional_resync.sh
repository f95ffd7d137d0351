#!/usr/bin/env bash
# Benchmark (issue 12, behaviour 6): what conditional refreshes save on a re-sync. 130 feeds of
# 100 episodes from the testkit server; `catalog-sync sync` twice on one catalog. The second
# sync sends If-None-Match / If-Modified-Since and gets `304 Not Modified` for every unchanged
# feed. Prints, per pass, wall time, requests, 304 answers and feed body bytes the server sent
# (its /_testkit/stats counters), and the bytes saved. Not a test.
#
# Usage: bench/conditional_resync.sh      FEEDS=130 EPISODES=100 to change it.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
FEEDS=${FEEDS:-130} EPISODES=${EPISODES:-100}

build
RUN=$(mktemp -d -p "$OUT" resync.XXXXXX)
start_server "$RUN/server" --feeds "$FEEDS" --episodes "$EPISODES" --size 1
catalog_env "$RUN/catalog"
"$BIN/catalog-sync" -q import "$OPML" >/dev/null

stat_of() { curl -s "${BASE}_testkit/stats" | awk -v k="$1" '$1 == k {print $2}'; }
declare -A before
for pass in 1 2; do
  for k in requests body_bytes not_modified; do before[$k]=$(stat_of "$k"); done
  timed "$RUN/time$pass.txt" "$BIN/catalog-sync" -q sync
  requests=$(( $(stat_of requests) - before[requests] - 3 ))  # less the three stats requests
  bytes=$(( $(stat_of body_bytes) - before[body_bytes] ))
  echo "pass=$pass wall=$(wall_s "$RUN/time$pass.txt")s requests=$requests not_modified=$(( $(stat_of not_modified) - before[not_modified] )) feed_body_bytes=$bytes exit=$RC"
  eval "bytes_$pass=$bytes"
done
echo "saved by conditional refresh: $((bytes_1 - bytes_2)) of $bytes_1 bytes ($(div $(( (bytes_1 - bytes_2) * 100 )) "$bytes_1" 1) %)"
