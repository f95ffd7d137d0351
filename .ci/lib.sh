# Helpers for .ci/run and tests/e2e/run.sh (sourced, not run).

# The feature set of every cargo command in CI and in the end-to-end tests: the desktop app with
# its UI embedded, and the command line with `serve` (which embeds the UI too). One feature set
# means one build; the e2e binaries are the ones `cargo test` built.
CI_FEATURES="catalog-sync-desktop/custom-protocol catalog-sync-cli/serve"

# ci_env: the environment every cargo command of .ci/run and tests/e2e/run.sh shares, so they
# share one build:
# - the target directory outside the clone (a fresh clone on a machine that ran CI starts warm);
# - clippy as the compiler of the workspace's own crates (RUSTC_WORKSPACE_WRAPPER, what `cargo
#   clippy` itself sets, with its CLIPPY_ARGS): the one `cargo build` both lints (-D warnings)
#   and produces the binaries the tests run. A separate `cargo clippy` would check every
#   dependency a second time (about a third of a cold build). Dependencies build with rustc.
ci_env() {
  export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/catalog-sync/target}"
  mkdir -p "$CARGO_TARGET_DIR"
  local driver
  driver=$(rustup which clippy-driver 2>/dev/null || command -v clippy-driver || true)
  [ -n "$driver" ] && [ -x "$driver" ] || die "clippy-driver not found: rustup component add clippy"
  export RUSTC_WORKSPACE_WRAPPER="$driver"
  export CLIPPY_ARGS="-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__"
  # Fail fast instead of retrying for minutes when a registry cannot be reached.
  export CARGO_NET_RETRY=1 CARGO_HTTP_TIMEOUT=30
}

# ci_build: the one build (every target of every crate, the UI embedded in the desktop app).
ci_build() {
  cargo build --workspace --all-targets --locked --features "$CI_FEATURES"
}

# e2e_binaries NAME...: for the end-to-end tests: sets `bin` (the debug binaries of ci_build),
# builds the UI and the workspace first unless E2E_SKIP_BUILD is set (CI built them already),
# and dies when one of the named binaries is missing.
e2e_binaries() {
  ci_env
  bin="$CARGO_TARGET_DIR/debug"
  if [ -z "${E2E_SKIP_BUILD:-}" ]; then
    [ -d ui/node_modules ] || npm --prefix ui ci --no-audit --no-fund
    npm --prefix ui run build
    ci_build
  fi
  local name
  for name in "$@"; do
    [ -x "$bin/$name" ] || die "$bin/$name not built"
  done
}

# lint_gate_selftest: proves the wrapper lints and denies: a file with a clippy warning must
# fail to compile through it. Without this a changed clippy could turn the gate off silently.
lint_gate_selftest() {
  local dir
  dir=$(mktemp -d)
  printf '//! canary\n/// canary\npub fn empty(v: &[u8]) -> bool {\n    v.len() == 0\n}\n' >"$dir/canary.rs"
  if CARGO_PRIMARY_PACKAGE=1 "$RUSTC_WORKSPACE_WRAPPER" rustc --edition 2021 --crate-type lib \
    --out-dir "$dir" "$dir/canary.rs" >"$dir/out.txt" 2>&1; then
    rm -rf "$dir"
    die "the clippy lint gate is off: clippy-driver accepted a len_zero warning"
  fi
  grep -q len_zero "$dir/out.txt" || { cat "$dir/out.txt"; rm -rf "$dir"; die "clippy-driver failed for another reason than the canary lint"; }
  rm -rf "$dir"
  echo "clippy lint gate denies warnings"
}

# die MESSAGE: one line on stderr, exit 2.
die() {
  echo "error: $*" >&2
  exit 2
}

STEP_NAMES=()
STEP_SECS=()
# step NAME COMMAND...: runs COMMAND, records its wall time; a failing step ends the run with
# its name and the times so far.
step() {
  local name=$1
  shift
  echo "=== $name"
  local start=$SECONDS rc=0
  "$@" || rc=$?
  STEP_NAMES+=("$name")
  STEP_SECS+=($((SECONDS - start)))
  if [ "$rc" -ne 0 ]; then
    print_step_times
    echo "error: step '$name' failed (exit $rc)" >&2
    exit "$rc"
  fi
}

print_step_times() {
  echo "=== step times (s)"
  local i total=0
  for i in "${!STEP_NAMES[@]}"; do
    printf '%6d  %s\n' "${STEP_SECS[$i]}" "${STEP_NAMES[$i]}"
    total=$((total + STEP_SECS[i]))
  done
  printf '%6d  total\n' "$total"
}

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# ensure_apt_packages PKG...: installs the Debian packages not installed yet (apt-get update
# once, only when something is missing). No apt-get, or no answer from the package mirror,
# ends the run at once naming the packages.
ensure_apt_packages() {
  local need=() pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || need+=("$pkg")
  done
  [ ${#need[@]} -eq 0 ] && { echo "all installed"; return 0; }
  command -v apt-get >/dev/null || die "missing system packages (${need[*]}) and no apt-get to install them"
  local apt_opts=(-o Acquire::Retries=1 -o Acquire::http::Timeout=20 -o Acquire::https::Timeout=20)
  as_root apt-get "${apt_opts[@]}" update -qq \
    || die "apt-get update failed (no network to the Debian mirror?); install by hand: apt-get install ${need[*]}"
  DEBIAN_FRONTEND=noninteractive as_root apt-get "${apt_opts[@]}" install -y -qq --no-install-recommends "${need[@]}" \
    || die "apt-get could not install: ${need[*]}"
}

# ensure_python: python3 (the end-to-end test's driver script, yt-dlp), from Debian when missing.
ensure_python() {
  command -v python3 >/dev/null || ensure_apt_packages python3 python3-venv
}

# ensure_ytdlp VERSION: yt-dlp on PATH; when missing, from PyPI into a virtualenv beside the
# build cache (a system Python may refuse a global pip install, PEP 668).
ensure_ytdlp() {
  if ! command -v yt-dlp >/dev/null; then
    local venv="${XDG_CACHE_HOME:-$HOME/.cache}/catalog-sync/venv"
    if [ ! -x "$venv/bin/pip" ]; then
      python3 -m venv "$venv" 2>/dev/null || { ensure_apt_packages python3-venv && python3 -m venv "$venv"; } \
        || die "could not make a Python virtualenv at $venv (apt-get install python3-venv)"
    fi
    "$venv/bin/pip" install --quiet --retries 1 --timeout 20 "yt-dlp==$1" \
      || die "could not install yt-dlp from PyPI: $venv/bin/pip install yt-dlp==$1"
    export PATH="$PATH:$venv/bin"
  fi
  yt-dlp --version
}

# ensure_moto: `moto_server` (PyPI `moto[server]`, an S3 API on loopback) on PATH; when missing,
# into the same virtualenv as yt-dlp.
ensure_moto() {
  if ! command -v moto_server >/dev/null; then
    local venv="${XDG_CACHE_HOME:-$HOME/.cache}/catalog-sync/venv"
    if [ ! -x "$venv/bin/pip" ]; then
      python3 -m venv "$venv" 2>/dev/null || { ensure_apt_packages python3-venv && python3 -m venv "$venv"; } \
        || die "could not make a Python virtualenv at $venv (apt-get install python3-venv)"
    fi
    "$venv/bin/pip" install --quiet --retries 1 --timeout 20 "moto[server]" \
      || die "could not install moto from PyPI: $venv/bin/pip install 'moto[server]'"
    export PATH="$PATH:$venv/bin"
  fi
  command -v moto_server
}

# npm_ci: the UI's exact npm packages (package-lock.json), skipped when node_modules already
# matches the lock file.
npm_ci() {
  if [ -f ui/node_modules/.package-lock.json ] && cmp -s ui/package-lock.json ui/node_modules/.ci-lock; then
    echo "ui/node_modules is up to date"
    return 0
  fi
  npm --prefix ui ci --no-audit --no-fund --fetch-retries=1 --fetch-timeout=30000 \
    || die "npm ci failed in ui/ (no network to the npm registry?)"
  cp ui/package-lock.json ui/node_modules/.ci-lock
}
