#!/usr/bin/env bash
# Opens the desktop app on a catalog under Xvfb (started here when there is no DISPLAY) with
# WebKitWebDriver and prints what opening cost (bench/desktop_open.py: first paint with data,
# CPU of the app and its WebKit processes in the first 10 s, RSS). Used by bench/big_catalog.sh.
#
# Usage: bench/desktop_open.sh APP DB [empty]   (APP: a catalog-sync-desktop binary; `empty`
#   when DB has no playlists, so first paint is the empty page)
set -euo pipefail
cd "$(dirname "$0")/.."
app=$(realpath "$1") db=$(realpath -m "$2") empty=${3:-}
if [ -z "${DISPLAY:-}" ]; then
  exec xvfb-run -a -s "-screen 0 1400x900x24" dbus-run-session -- "$0" "$@"
fi
command -v WebKitWebDriver >/dev/null || { echo "WebKitWebDriver missing: apt-get install webkit2gtk-driver" >&2; exit 2; }
work=$(mktemp -d)
trap 'kill $(cat "$work/app.pid" 2>/dev/null) 2>/dev/null || true; kill "$wd" 2>/dev/null || true; cp "$work/app.log" "${APP_LOG:-/dev/null}" 2>/dev/null; rm -rf "$work"' EXIT
printf '#!/bin/sh\necho $$ > "%s/app.pid"\nexec "%s" "$@" > "%s/app.log" 2>&1\n' "$work" "$app" "$work" > "$work/app.sh"
chmod +x "$work/app.sh"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export CATALOG_SYNC_DATABASE="$db" CATALOG_SYNC_LIBRARY="$work/library" CATALOG_SYNC_CONFIG="$work/config.toml" \
  XDG_CONFIG_HOME="$work/xdg-config" XDG_DATA_HOME="$work/xdg-data" TAURI_WEBVIEW_AUTOMATION=true
WebKitWebDriver --host=127.0.0.1 --port="$port" > "$work/driver.log" 2>&1 &
wd=$!
DRIVER="http://127.0.0.1:$port" APP="$work/app.sh" PIDFILE="$work/app.pid" EMPTY="$([ "$empty" = empty ] && echo 1 || true)" \
  python3 bench/desktop_open.py
