#!/usr/bin/env bash
# Builds installable packages of the desktop app (.deb and AppImage by default) with the Tauri
# CLI: `cargo install tauri-cli --version "^2" --locked` once, then `scripts/package.sh`
# (arguments go to `cargo tauri build`, e.g. `--bundles deb`). Packages land in
# target/release/bundle/.
#
# The Tauri CLI looks for tauri.conf.json beside the app crate's Cargo.toml; this repository
# keeps it at the root (ARCHITECTURE.md layout). So the script stages a copy in src-tauri/ with
# absolute paths (the CLI hands its config to the build, which resolves paths against the root
# config's folder) and removes it afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
command -v cargo-tauri >/dev/null || { echo "error: install the Tauri CLI: cargo install tauri-cli --version '^2' --locked" >&2; exit 2; }

staged=src-tauri/tauri.conf.json
trap 'rm -f "$staged"' EXIT
python3 - "$root" > "$staged" <<'PY'
import json, os, sys
root = sys.argv[1]
conf = json.load(open(os.path.join(root, "tauri.conf.json")))
conf.pop("$schema", None)
conf["build"]["frontendDist"] = os.path.join(root, conf["build"]["frontendDist"])
conf["bundle"]["icon"] = [os.path.join(root, p) for p in conf["bundle"]["icon"]]
# the CLI runs these from the UI folder; point them at the UI by absolute path
for key in ("beforeBuildCommand", "beforeDevCommand"):
    if key in conf["build"]:
        conf["build"][key] = conf["build"][key].replace("npm --prefix ui ", "npm --prefix " + os.path.join(root, "ui") + " ")
json.dump(conf, sys.stdout, indent=2)
PY
TAURI_APP_PATH="$root/src-tauri" TAURI_FRONTEND_PATH="$root" cargo tauri build "$@"
