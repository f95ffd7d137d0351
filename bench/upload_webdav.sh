#!/usr/bin/env bash
# Benchmark: catalog-sync's upload stage against `rclone copy`, both to one `rclone serve webdav`
# on 127.0.0.1 (user and password), same files, same concurrency, one run each. The library is
# FILES x SIZE bytes (default 200 x 2,000,000 = 400 MB) downloaded first from the testkit server
# (not timed). Then, timed with GNU time -v:
#
#   catalog-sync  `upload --target bench` with parallel_uploads = PARALLEL (temporary name +
#                 MOVE per file, each file recorded in the catalog)
#   rclone copy   `rclone copy <library>/<playlist> :webdav:rclone --transfers PARALLEL`
#
# Prints both walls, the ratio (goal: catalog-sync <= 1.2 x rclone) and catalog-sync's peak RSS,
# and checks every uploaded file's sha256 against the library. Not a test; the machine's load
# makes timings noisy.
#
# Usage: bench/upload_webdav.sh    FILES=200 SIZE=2000000 PARALLEL=8 to change it; PROFILE=debug
# uses the debug binaries already built (cargo build -p catalog-sync-cli -p catalog-sync-testkit
# --bins) instead of a release build: a quick figure, slower than release.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
FILES=${FILES:-200} SIZE=${SIZE:-2000000} PARALLEL=${PARALLEL:-8}
ensure_pkg rclone rclone || { echo "rclone (package rclone) is required" >&2; exit 2; }

if [ "${PROFILE:-release}" = debug ]; then
  BIN="${CARGO_TARGET_DIR:-target}/debug"
  ensure_pkg /usr/bin/time time || { echo "GNU time (package time) is required" >&2; exit 2; }
else
  build
fi
RUN=$(mktemp -d -p "$OUT" upload.XXXXXX)
start_server "$RUN/server" --feeds 1 --episodes "$FILES" --size "$SIZE" --rate 1000000000 --latency-ms 0
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$RUN/webdav"
rclone serve webdav --config /dev/null --addr "127.0.0.1:$PORT" --user u --pass p "$RUN/webdav" > "$RUN/webdav.log" 2>&1 &
DAV_PID=$!
trap 'kill $DAV_PID 2>/dev/null || true; stop_server' EXIT
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.1; done

DIR="$RUN/catalog-sync"
EXTRA_CONFIG="parallel_uploads = $PARALLEL

[[upload_targets]]
name = \"bench\"
kind = \"webdav\"
endpoint = \"http://127.0.0.1:$PORT\"
root = \"/catalog-sync\"
username = \"u\"
password = \"p\"
" catalog_env "$DIR"
"$BIN/catalog-sync" -q import "$OPML" > "$DIR/import.txt"
"$BIN/catalog-sync" -q -j 16 run > "$DIR/download.txt"
"$BIN/catalog-sync" -q assign 1 bench > /dev/null
LIB="$DIR/library"
echo "library: $(count_files "$LIB") files, $(du -sb "$LIB" | cut -f1) bytes; webdav 127.0.0.1:$PORT; parallel $PARALLEL; work dir $RUN"

timed "$DIR/time.txt" "$BIN/catalog-sync" -q upload --target bench
[ "$RC" -eq 0 ] || echo "catalog-sync upload: exit status $RC (see $DIR/time.txt)"
OURS=$(wall_s "$DIR/time.txt") RSS=$(peak_rss_kb "$DIR/time.txt")

SRC=$(find "$LIB" -mindepth 1 -maxdepth 1 -type d | head -1)
RCLONE_WEBDAV_URL="http://127.0.0.1:$PORT" RCLONE_WEBDAV_USER=u RCLONE_WEBDAV_PASS=$(rclone obscure p) \
  timed "$RUN/rclone-time.txt" rclone copy --config /dev/null --transfers "$PARALLEL" "$SRC" ":webdav:rclone"
[ "$RC" -eq 0 ] || echo "rclone copy: exit status $RC (see $RUN/rclone-time.txt)"
THEIRS=$(wall_s "$RUN/rclone-time.txt")

bad=0
while IFS= read -r f; do
  rel=${f#"$LIB"/}
  cmp -s "$f" "$RUN/webdav/catalog-sync/$rel" || bad=$((bad + 1))
done < <(find "$LIB" -type f -name '*.mp3')
sent=$(find "$RUN/webdav/catalog-sync" -type f ! -name '*.m3u' | wc -l)

printf '%-14s %8s %10s %7s\n' client wall_s rss_kb files
printf '%-14s %8s %10s %7s\n' catalog-sync "$OURS" "$RSS" "$sent"
printf '%-14s %8s %10s %7s\n' "rclone copy" "$THEIRS" "-" "$(find "$RUN/webdav/rclone" -type f | wc -l)"
echo "ratio catalog-sync / rclone: $(div "$OURS" "$THEIRS" 2) (goal <= 1.20); content mismatches: $bad"
