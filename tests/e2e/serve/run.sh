#!/usr/bin/env bash
# End-to-end test of serve mode (see serve.mjs): `catalog-sync serve` (the CLI built with its
# `serve` feature, as .ci/run builds it) against the testkit loopback server, driven in headless
# Chromium (the Debian package `chromium`) by playwright-core (the UI's npm dev dependency).
# One try, no retries. Screenshots and the server's log land in target/e2e/serve/.
# E2E_SKIP_BUILD=1 skips the build (.ci/run has just built the same thing).
set -euo pipefail
cd "$(dirname "$0")/../../.."
root=$(pwd)
source .ci/lib.sh

chromium_bin=${CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}
[ -n "$chromium_bin" ] || die "chromium missing: apt-get install chromium"
command -v node >/dev/null || die "node missing: install Node.js 20 or newer"

e2e_binaries catalog-sync testkit-server
"$bin/catalog-sync" serve --help >/dev/null 2>&1 || die "$bin/catalog-sync has no serve command: build with --features catalog-sync-cli/serve"

work=$(mktemp -d)
out="$root/target/e2e/serve"
rm -rf "$out"
mkdir -p "$out"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# 3 podcasts of 3 episodes of 2 MB at 500 kB/s per connection: long enough to pause.
"$bin/testkit-server" --feeds 3 --episodes 3 --size 2000000 --rate 500000 --out "$work/server" >"$work/testkit.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do grep -q '^OPML ' "$work/testkit.log" && break; sleep 0.1; done
opml=$(awk '/^OPML /{print $2}' "$work/testkit.log")
[ -n "$opml" ] || { cat "$work/testkit.log"; die "testkit-server did not start"; }

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
CATALOG_SYNC_DATABASE="$work/catalog.redb" CATALOG_SYNC_LIBRARY="$work/library" \
  CATALOG_SYNC_CONFIG="$work/config.toml" CATALOG_SYNC_LISTEN="127.0.0.1:$port" \
  "$bin/catalog-sync" serve >"$out/serve.log" 2>&1 &
serve_pid=$!
pids+=($serve_pid)
for _ in $(seq 100); do grep -q '#token=' "$out/serve.log" && break; sleep 0.1; done
login=$(grep -o 'http://[^ ]*#token=[0-9a-f]*' "$out/serve.log" | head -1)
[ -n "$login" ] || { cat "$out/serve.log"; die "catalog-sync serve printed no login URL"; }
grep -q "serve_token" "$work/config.toml" || die "the token was not saved in the config file"

LOGIN_URL="$login" OPML="$opml" LIBRARY="$work/library" ARTIFACTS="$out" CHROMIUM="$chromium_bin" \
  EXPECTED_FILES=6 node tests/e2e/serve/serve.mjs

# SIGTERM: a graceful stop
kill -TERM "$serve_pid"
for _ in $(seq 300); do kill -0 "$serve_pid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$serve_pid" 2>/dev/null; then die "catalog-sync serve did not stop within 30 s of SIGTERM"; fi
wait "$serve_pid" || die "catalog-sync serve exited with status $? after SIGTERM"
grep -q "stopped" "$out/serve.log" || die "catalog-sync serve did not report a clean stop"
echo "e2e serve: stopped cleanly on SIGTERM"
