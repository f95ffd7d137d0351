#!/usr/bin/env bash
# Runs the Catalog Sync desktop app from source on a fresh Debian/Ubuntu machine:
# installs the system packages Tauri needs (once), builds the web UI, then builds and starts
# the app with the UI embedded. Needs a Rust toolchain (https://rustup.rs) and Node.js 20+.
# Extra arguments go to the app (e.g. --hidden starts it in the tray).
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v cc >/dev/null || need+=(build-essential)
command -v pkg-config >/dev/null || need+=(pkg-config)
for pkg in libwebkit2gtk-4.1-dev libayatana-appindicator3-dev librsvg2-dev libxdo-dev; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${need[@]}"
fi
command -v cargo >/dev/null || { echo "error: install Rust first: https://rustup.rs" >&2; exit 2; }
command -v npm >/dev/null || { echo "error: install Node.js 20 or newer (with npm) first" >&2; exit 2; }

npm --prefix ui ci --no-audit --no-fund
npm --prefix ui run build
exec cargo run --release -p catalog-sync-desktop --features custom-protocol -- "$@"
