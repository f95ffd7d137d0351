#!/usr/bin/env bash
# Benchmark: catalog-sync against aria2c and gPodder's `gpo` on scenario A — 20 feeds x 10
# episodes x 2,000,000 bytes (400 MB) from one testkit server on 127.0.0.1, 2 MB/s per
# connection, 50 ms latency, 16 parallel connections per client. For each client: wall time
# and peak RSS (GNU time -v), files downloaded, sha256 mismatches against the server's manifest;
# then the ratios to catalog-sync and to the bound 400 MB / (2 MB/s x 16) = 12.5 s.
#
#   catalog-sync  `import <opml>` (not timed), then timed `run -j 16` (feed sync + downloads).
#   aria2c        timed `aria2c -j16 -x1 -s1 -i <list>`: the 200 media URLs directly (built from
#                 the manifest), no feed fetching or parsing.
#   gpo           `subscribe` each feed (not timed), then timed `update` + `download`.
#                 limit.downloads.concurrent is set to 16, but the gpo CLI downloads one episode
#                 at a time (only the GTK app's queue manager honours that setting).
# A client whose package (aria2, gpodder) cannot be installed with apt-get is skipped.
#
# PARALLEL=default runs every client at its own defaults instead (catalog-sync: no `-j`, its
# per-host cap; aria2c: no `-j`, i.e. 5; gpo as ever), the comparison of issue 18. HOSTS=20
# spreads the media over 20 loopback hosts (127.0.0.1-20; testkit-server --hosts): feed f's
# enclosures on host f mod 20 + 1, so per-host caps no longer bind.
# Not a test; the machine's load makes timings noisy.
#
# Usage: bench/compare.sh [client...]   (default: catalog-sync aria2c gpo)
#   FEEDS=20 EPISODES=10 SIZE=2000000 RATE=2000000 LATENCY_MS=50 PARALLEL=16 HOSTS=1 to change it.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
FEEDS=${FEEDS:-20} EPISODES=${EPISODES:-10} SIZE=${SIZE:-2000000} RATE=${RATE:-2000000}
LATENCY_MS=${LATENCY_MS:-50} PARALLEL=${PARALLEL:-16} HOSTS=${HOSTS:-1}
CLIENTS=("$@"); [ $# -gt 0 ] || CLIENTS=(catalog-sync aria2c gpo)
ITEMS=$((FEEDS * EPISODES))
TOTAL=$((ITEMS * SIZE))
if [ "$PARALLEL" = default ]; then
  J=(); export PER_HOST=default
  CONNS=5 # aria2c's default -j, the fewest of the clients' defaults (gpo aside)
else
  J=(-j "$PARALLEL")
  CONNS=$((PARALLEL < ITEMS ? PARALLEL : ITEMS))
fi
BOUND=$(div "$TOTAL" $((RATE * CONNS)) 2)

build
RUN=$(mktemp -d -p "$OUT" compare.XXXXXX)
start_server "$RUN/server" --feeds "$FEEDS" --episodes "$EPISODES" --size "$SIZE" --rate "$RATE" --latency-ms "$LATENCY_MS" --hosts "$HOSTS"
echo "scenario: $FEEDS feeds x $EPISODES episodes x $SIZE bytes on $HOSTS host(s), --rate $RATE, --latency-ms $LATENCY_MS, parallel $PARALLEL; server $BASE; work dir $RUN"

ROWS=()   # "client wall rss files mismatches"
NOTES=()

record() { # record CLIENT DIR TIMEFILE: one table row, then deletes the downloaded files in DIR
  local wall rss
  wall=$(wall_s "$3") rss=$(peak_rss_kb "$3")
  ROWS+=("$1 $wall $rss $(count_files "$2") $(sha_mismatches "$2" "$MANIFEST")")
  rm -rf "$2"   # 400 MB per client; the logs and time reports stay in $RUN
  [ "$RC" -eq 0 ] || NOTES+=("$1: exit status $RC (see $3)")
}

run_catalog_sync() {
  local dir="$RUN/catalog-sync"
  mkdir -p "$dir"; catalog_env "$dir"
  "$BIN/catalog-sync" -q import "$OPML" > "$dir/import.txt"
  timed "$dir/time.txt" "$BIN/catalog-sync" -q "${J[@]}" run > "$dir/run.txt"
  record catalog-sync "$dir/library" "$dir/time.txt"
}

run_aria2c() {
  ensure_pkg aria2c aria2 || { NOTES+=("aria2c: skipped (package aria2 could not be installed)"); return; }
  local dir="$RUN/aria2c"
  mkdir -p "$dir/files"
  # one URL per media file, on the host the feed names; out= keeps feed-NNN/ apart
  awk '{print $1; p = $1; sub(/^[a-z]+:\/\/[^\/]+\//, "", p); print "  out=" p}' "$MEDIA_URLS" > "$dir/urls.txt"
  timed "$dir/time.txt" aria2c "${J[@]}" -x1 -s1 --dir "$dir/files" -i "$dir/urls.txt" \
    --console-log-level=warn --summary-interval=0 --allow-overwrite=true > "$dir/aria2c.txt"
  record aria2c "$dir/files" "$dir/time.txt"
  NOTES+=("aria2c: fetches the $ITEMS media URLs directly (list built from the manifest), no feed fetching or parsing")
}

run_gpo() {
  ensure_pkg gpo gpodder || { NOTES+=("gpo: skipped (package gpodder could not be installed)"); return; }
  local dir="$RUN/gpo" f
  mkdir -p "$dir/home" "$dir/files"
  export GPODDER_HOME="$dir/home" GPODDER_DOWNLOAD_DIR="$dir/files"
  if [ "$PARALLEL" != default ] && ! gpo set limit.downloads.concurrent "$PARALLEL" > "$dir/setup.txt" 2>&1; then
    NOTES+=("gpo: skipped (gpo set failed, see $dir/setup.txt)"); return
  fi
  for f in $(seq 0 $((FEEDS - 1))); do
    gpo subscribe "${BASE}$(printf 'feed-%03d' "$f")/feed.xml" >> "$dir/setup.txt" 2>&1
  done
  timed "$dir/time.txt" bash -c 'gpo update && gpo download' > "$dir/gpo.txt"
  record gpo "$dir/files" "$dir/time.txt"
  NOTES+=("gpo: timed update + download; the gpo CLI downloads sequentially (limit.downloads.concurrent=$PARALLEL is only used by the GTK queue)")
}

for c in "${CLIENTS[@]}"; do
  case $c in
    catalog-sync) run_catalog_sync ;;
    aria2c) run_aria2c ;;
    gpo) run_gpo ;;
    *) echo "unknown client $c" >&2; exit 2 ;;
  esac
done

REF=$(printf '%s\n' "${ROWS[@]}" | awk '$1 == "catalog-sync" {print $2}')
echo
printf '%-13s %9s %12s %9s %13s %16s %14s\n' client wall_s peak_rss_kb files sha_mismatch vs_catalog-sync "vs_bound(${BOUND}s)"
for r in "${ROWS[@]}"; do
  read -r name wall rss files bad <<< "$r"
  printf '%-13s %9s %12s %9s %13s %16s %14s\n' "$name" "$wall" "$rss" "$files/$ITEMS" "$bad" \
    "$([ -n "$REF" ] && div "$wall" "$REF" || echo n/a)" "$(div "$wall" "$BOUND")"
done
echo "bound: $TOTAL bytes / ($RATE B/s x $CONNS connections) = ${BOUND}s"
for n in "${NOTES[@]}"; do echo "note: $n"; done
