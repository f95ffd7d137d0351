#!/usr/bin/env bash
# Entry-count parity with Python's feedparser (issue 17). Installs feedparser from PyPI into a
# virtualenv, downloads its sdist and unpacks the test documents (tests/**/*.xml, never
# committed), adds every feed of ../shared/corpus (read in place), runs our real parser over all
# of them (`examples/feed_counts.rs` -> catalog::parse_document) and compares per document with
# bench/feedparser_parity.py. Prints parity per feedparser version, per source folder, overall.
#
# Usage: bench/feedparser_parity.sh [--list N]   (WORK=dir to reuse the venv/sdist; default
# $CARGO_TARGET_DIR/feedparser-parity or target/feedparser-parity)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=${WORK:-${CARGO_TARGET_DIR:-$ROOT/target}/feedparser-parity}
CORPUS=${CORPUS:-$ROOT/../shared/corpus}
mkdir -p "$WORK"
if [ ! -x "$WORK/venv/bin/python" ]; then
  python3 -m venv "$WORK/venv"
  "$WORK/venv/bin/pip" install -q feedparser
fi
if ! ls "$WORK"/sdist/feedparser-*.tar.gz >/dev/null 2>&1; then
  "$WORK/venv/bin/pip" download -q --no-binary :all: --no-deps feedparser -d "$WORK/sdist"
fi
SDIST=$(ls "$WORK"/sdist/feedparser-*.tar.gz | head -1)
SRC="$WORK/src"
if [ ! -d "$SRC" ]; then
  mkdir -p "$SRC" && tar xzf "$SDIST" -C "$SRC"
fi
LIST="$WORK/files.txt"
{
  # feedparser's own test documents (http/ and compression/ test the fetcher, not the parser).
  find "$SRC"/feedparser-*/tests -name '*.xml' -not -path '*/tests/http/*' -not -path '*/tests/compression/*'
  # The corpus feeds (MANIFEST kinds feed-*), read in place.
  awk -F'\t' 'NR > 1 && $2 ~ /^feed-/ { print $1 }' "$CORPUS/MANIFEST.tsv" | sed "s|^|$CORPUS/|"
} | sort >"$LIST"
echo "documents: $(wc -l <"$LIST") (feedparser $(basename "$SDIST" .tar.gz | cut -d- -f2), corpus $CORPUS)"
(cd "$ROOT" && cargo build -q -p catalog-sync-core --example feed_counts)
BIN=${CARGO_TARGET_DIR:-$ROOT/target}/debug/examples/feed_counts
timeout 600 "$BIN" <"$LIST" >"$WORK/ours.jsonl"
"$WORK/venv/bin/python" "$ROOT/bench/feedparser_parity.py" "$WORK/ours.jsonl" "$@"
