#!/usr/bin/env bash
# Builds and starts serve mode in one command: the web UI (npm), then `catalog-sync serve`
# (release build of the CLI with its `serve` feature, which embeds ui/dist). Arguments go to
# `catalog-sync`, e.g.:  scripts/serve.sh serve --listen 0.0.0.0:8750
# Needs Rust (https://rustup.rs), a C compiler and Node.js 20+ to build; nothing but the binary
# (target/release/catalog-sync) to run.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v cargo >/dev/null || { echo "error: install Rust first: https://rustup.rs" >&2; exit 2; }
command -v npm >/dev/null || { echo "error: install Node.js 20 or newer (with npm) first" >&2; exit 2; }
npm --prefix ui ci --no-audit --no-fund
npm --prefix ui run build
[ $# -gt 0 ] || set -- serve
exec cargo run --release -p catalog-sync-cli --features serve -- "$@"
