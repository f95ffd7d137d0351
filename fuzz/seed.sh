#!/usr/bin/env bash
# Copies seed inputs for every fuzz target from the shared corpus (../shared/corpus beside the
# repository, or $CATALOG_SYNC_CORPUS) into fuzz/corpus/<target>/. The copies are not
# committed (fuzz/.gitignore): the corpus files carry their own, varying licences
# (../shared/corpus/MANIFEST.tsv). Every target also gets the other formats' files, since
# detection is by content and a parser must survive any input. Run it before `cargo fuzz run`.
#
# Usage: fuzz/seed.sh            (idempotent; existing inputs found by fuzzing are kept)
set -euo pipefail
cd "$(dirname "$0")"
SRC=${CATALOG_SYNC_CORPUS:-../../shared/corpus}
[ -d "$SRC" ] || { echo "corpus not found at $SRC (set CATALOG_SYNC_CORPUS)" >&2; exit 2; }

seed() { # seed TARGET FILE...
  local target=$1; shift
  mkdir -p "corpus/$target"
  for f in "$@"; do
    [ -f "$f" ] && cp "$f" "corpus/$target/seed-$(basename "$f")"
  done
}

shopt -s nullglob
FEEDS=("$SRC"/feeds/*)
OPML=("$SRC"/opml/*)
M3U=("$SRC"/playlists/*.m3u "$SRC"/playlists/*.m3u8)
PLS=("$SRC"/playlists/*.pls)
XSPF=("$SRC"/playlists/*.xspf)

seed feed "${FEEDS[@]}" "${OPML[@]}" "${XSPF[@]}"
seed opml "${OPML[@]}" "${FEEDS[@]:0:10}"
seed m3u "${M3U[@]}" "${PLS[@]}"
seed pls "${PLS[@]}" "${M3U[@]}"
seed xspf "${XSPF[@]}" "${OPML[@]:0:3}"
seed document "${FEEDS[@]}" "${OPML[@]}" "${M3U[@]}" "${PLS[@]}" "${XSPF[@]}"
for t in feed opml m3u pls xspf document; do
  echo "$t: $(ls "corpus/$t" | wc -l) inputs"
done
