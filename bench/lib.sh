# Shared helpers for the bench/ scripts. Source it from a script that has `set -euo pipefail`:
#   . "$(dirname "$0")/lib.sh"
# It cds to the repository root and sets BIN (the release binaries, honouring CARGO_TARGET_DIR)
# and OUT (bench/out, gitignored). Timings come from GNU time -v (Debian package `time`).

cd "$(dirname "${BASH_SOURCE[0]}")/.."
BIN="${CARGO_TARGET_DIR:-target}/release"
OUT=bench/out
mkdir -p "$OUT"
SERVER_PID=

_APT_UPDATED=
# ensure_pkg COMMAND PACKAGE: installs PACKAGE with apt-get when COMMAND is missing.
# Returns non-zero (without exiting) when it cannot be installed.
ensure_pkg() {
  command -v "$1" >/dev/null 2>&1 && return 0
  command -v apt-get >/dev/null 2>&1 || return 1
  if [ -z "$_APT_UPDATED" ]; then apt-get update -qq >/dev/null 2>&1 || true; _APT_UPDATED=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null 2>&1 || return 1
  command -v "$1" >/dev/null 2>&1
}

# build: the release binaries of the CLI and the test server.
# SKIP_BUILD=1 uses the binaries already in $BIN (e.g. to compare two builds side by side).
build() {
  ensure_pkg /usr/bin/time time || { echo "GNU time (package time) is required" >&2; exit 2; }
  [ -n "${SKIP_BUILD:-}" ] && return 0
  cargo build --release --locked -p catalog-sync-cli -p catalog-sync-testkit --bins
}

# start_server DIR [testkit-server args...]: starts the loopback server in the background (killed
# on exit) and sets BASE, OPML and MANIFEST from what it prints.
start_server() {
  local dir=$1; shift
  mkdir -p "$dir"
  "$BIN/testkit-server" "$@" --out "$dir" > "$dir/server.txt" &
  SERVER_PID=$!
  trap stop_server EXIT
  for _ in $(seq 300); do grep -q '^MANIFEST' "$dir/server.txt" 2>/dev/null && break; sleep 0.1; done
  grep -q '^MANIFEST' "$dir/server.txt" || { echo "testkit-server did not start" >&2; exit 2; }
  BASE=$(awk '/^BASE/{print $2}' "$dir/server.txt")
  OPML=$(awk '/^OPML/{print $2}' "$dir/server.txt")
  MANIFEST=$(awk '/^MANIFEST/{print $2}' "$dir/server.txt")
  MEDIA_URLS=$(awk '/^MEDIA_URLS/{print $2}' "$dir/server.txt")
}

stop_server() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
}

# catalog_env DIR: points catalog-sync at a fresh database, library and config in DIR. The
# config lifts the per-host connection cap (default 6) to PER_HOST (default 16): the loopback
# server stands in for the many hosts real feeds are spread over. PER_HOST=default keeps the
# app's own cap.
catalog_env() {
  export CATALOG_SYNC_DATABASE="$1/catalog.redb" CATALOG_SYNC_LIBRARY="$1/library" CATALOG_SYNC_CONFIG="$1/config.toml"
  mkdir -p "$1"
  local cap=""
  [ "${PER_HOST:-16}" = default ] || cap="per_host_connections = ${PER_HOST:-16}"
  printf '%s\n%s' "$cap" "${EXTRA_CONFIG:-}" > "$1/config.toml"
}

# timed TIMEFILE COMMAND...: runs COMMAND under GNU time -v (its report goes to TIMEFILE, the
# command's stderr too). Sets RC to the command's exit status instead of failing.
timed() {
  local tf=$1; shift
  RC=0
  /usr/bin/time -v "$@" 2> "$tf" || RC=$?
}

# wall_s TIMEFILE: elapsed wall-clock seconds; peak_rss_kb TIMEFILE: maximum resident set size.
wall_s() {
  awk -F': ' '/Elapsed \(wall clock\)/{n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; printf "%.2f", s}' "$1"
}
peak_rss_kb() { awk -F': ' '/Maximum resident set size/{print $2}' "$1"; }

# count_files DIR: media files below DIR, exported .m3u playlists left out (0 when DIR does
# not exist).
count_files() { [ -d "$1" ] && find "$1" -type f ! -name '*.m3u' | wc -l || echo 0; }

# sha_mismatches DIR MANIFEST: files below DIR whose sha256 is not one of the manifest's.
sha_mismatches() {
  [ -d "$1" ] || { echo 0; return; }
  find "$1" -type f ! -name '*.m3u' -print0 | xargs -0 -r sha256sum | awk '{print $1}' | sort \
    | comm -23 - <(awk '{print $1}' "$2" | sort -u) | wc -l
}

# div A B [DIGITS]: A / B as a decimal.
div() { awk -v a="$1" -v b="$2" -v d="${3:-2}" 'BEGIN { if (b == 0) print "n/a"; else printf "%.*f\n", d, a / b }'; }

