#!/usr/bin/env bash
# Scroll benchmark of the web UI's virtual lists (issue 18, part 2): a catalog of 20,000
# playlists of 1 item plus one playlist of 20,000 items (bench-catalog generate), served by
# `catalog-sync serve`, scrolled top to bottom in headless Chromium (bench/ui_scroll.mjs: frame
# deltas from requestAnimationFrame, dropped frames, most rows in the DOM). Needs chromium and
# the UI's npm packages (playwright-core). Not a test; timings are noisy on a shared machine.
#
# Figures (2026-12-02, release serve, headless Chromium, quiet 2-core machine), before -> after
# rows were reused (unkeyed each) and the lists held raw (unproxied) rows: playlists table 67 of
# 163 frames dropped -> 4 of 237 (median 16.7 ms, p99 50 -> 33 ms, max 83 -> 33 ms), at most 44
# rows in the DOM, first row 1.3-1.5 s (20 pages of 1,000 playlists); items pane 26 of 206
# dropped -> 3-7 of 234-237 (p99 50 -> 33 ms), at most 31 rows in the DOM, first row 91-137 ms.
# 2026-12-02, another machine of the same kind (Debian Chromium 156.0.8078.114, quiet): 0 of 241 frames
# dropped on both lists in 3 of 3 runs (median and p99 16.7-16.8 ms, max 16.8 ms), playlists'
# first row 634-1,124 ms, items' 97-107 ms.
# The scroll covers a whole window of rows per frame (700,000 px in 4 s), a stress case: each
# frame shows rows that were not on screen in the last one.
#
# Usage: bench/ui_scroll.sh   (ROWS=20000 SCROLL_S=4 to change it; SKIP_BUILD=1)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
ROWS=${ROWS:-20000} SCROLL_S=${SCROLL_S:-4}
chromium_bin=${CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}
[ -n "$chromium_bin" ] || { echo "chromium missing: apt-get install chromium" >&2; exit 2; }
if [ -z "${SKIP_BUILD:-}" ]; then
  [ -d ui/node_modules ] || npm --prefix ui ci --no-audit --no-fund
  npm --prefix ui run build
  cargo build --release --locked -p catalog-sync-cli --features serve -p catalog-sync-bench --bins
fi
RUN=$(mktemp -d -p "$OUT" ui_scroll.XXXXXX)
"$BIN/bench-catalog" generate "$RUN/catalog.redb" --playlists "$ROWS" --items 1 --big "$ROWS" --jobs 0 | sed 's/^/    /'
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
CATALOG_SYNC_DATABASE="$RUN/catalog.redb" CATALOG_SYNC_LIBRARY="$RUN/library" CATALOG_SYNC_CONFIG="$RUN/config.toml" \
  "$BIN/catalog-sync" serve --listen "127.0.0.1:$port" > "$RUN/serve.log" 2>&1 &
SERVE_PID=$!
trap 'kill $SERVE_PID 2>/dev/null || true' EXIT
for _ in $(seq 300); do grep -q '#token=' "$RUN/serve.log" && break; sleep 0.1; done
login=$(grep -o 'http://[^ ]*#token=[0-9a-f]*' "$RUN/serve.log" | head -1)
[ -n "$login" ] || { cat "$RUN/serve.log"; echo "serve did not start" >&2; exit 2; }
echo "ui scroll: $ROWS playlists and a $ROWS-item playlist, ${SCROLL_S}s top to bottom each; work dir $RUN"
LOGIN_URL="$login" CHROMIUM="$chromium_bin" BIG_TITLE="Show $ROWS" SCROLL_S="$SCROLL_S" node bench/ui_scroll.mjs
