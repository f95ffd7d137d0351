#!/usr/bin/env bash
# Benchmark: engine throughput per item. 100 feeds x 100 episodes of 1-byte media (10,000
# items; an empty body is rejected as not media since the resolver cascade checks files) from the testkit server on 127.0.0.1 with no rate limit and no latency, so the time
# goes to the catalog, the store, the job machinery and HTTP round trips, not to bytes.
#   1. fresh catalog: `import <opml>` (timed), then `run -j 16` (timed): items/s over the run;
#   2. another fresh catalog: `import`, then `sync` and `download -j 16` timed separately.
# Reports wall time, items/s, peak RSS (GNU time -v), the redb file's bytes per item after the
# run, and checks that all 10,000 files exist with their 1 byte and that no `.part` file is left.
# Not a test; the machine's load makes timings noisy.
#
# Figures (2026-12-02, release, quiet 2-core machine): run 1,414 -> 1,866-1,880 items/s, download
# 1,453 -> 1,894-1,923 items/s, once small parts were written in one blocking call and the
# download stage stopped re-reading every playlist per item. What is left per item: ~23 futex
# calls (thread hand-offs), a file and a directory fsync, ~0.4 durable redb commit; the file
# system alone (16 threads creating, fsyncing and renaming 1-byte files) tops out at 6,400-10,400
# files/s here.
# Another machine (2026-12-02): run 1,988-2,088, download 2,020-2,151 items/s, fat LTO or not.
# There the download of 10,000 items took 2.6-3.0 s of user and 4.0-5.3 s of system CPU (two
# cores), against 1.4-1.7 s of system CPU for the bare file-system work (python, 16 threads:
# create, write, fsync, rename, directory fsync): the kernel is where an item costs most.
# perf: fsync + fdatasync (virtio flushes) ~23 %, context switches of the thread hand-offs
# ~16 %, openat 4 %. Right after many files were deleted (an earlier run's library removed with
# rm -rf), ext4 without a journal skips every recently deleted inode when it allocates one
# (`recently_deleted`, 60-300 s): openat then took 42 % of all CPU, serialised on the
# directory's lock. Run this on a file system that has rested a few minutes.
# With directory fsyncs as a group commit (download/dir_sync.rs): run 2,037 -> 2,137-2,179,
# download 2,088 -> 2,179-2,268 items/s; 8,137 directory fsyncs for 10,000 renames (of 18,137
# fsync + 4,332 fdatasync calls in all).
# Another machine (2026-12-03, Xeon, 2 cores; release without LTO, both builds side by side):
# run 1,319-1,337 -> 1,838-2,174, download 1,245-1,422 -> 2,020-2,304 items/s, once claims were
# made up to -j at a time in one store write and a fetched file's commit, tagging and event
# moved to finishing tasks (jobs/finishers.rs): 20,700 writer ops per 10,000 items instead of
# 30,100, downloaders no longer idle through their own commit (it took 45 % of their time).
# The process is then CPU-bound (both cores ~93 % busy, with the test server): of its samples
# the store writer ~27 % (commit 15 %), file fsyncs 13 %, directory fsyncs 7 %, resolving 11 %,
# the transfer ~13 %, tagging 5 %, thread hand-offs ~9 %.
# Same machine (2026-12-03, later): ~22.7 context switches per item (perf stat), of which
# ~7 futex sleeps (thread hand-offs), ~6.5 waits for the disk (file fsync, directory fsync,
# redb's fdatasync) and ~5 preemptions; 52 % of the samples are in the kernel. With the yt-dlp
# check of each item read in place (no trip to the blocking pool) and the name template
# rendered once per item: download alone (6 interleaved pairs, no LTO) 4.23-5.25 s (median
# 4.8) -> 4.11-5.66 s (median 4.2); this script with fat LTO: run 2,288-2,747, download
# 2,632-2,725 items/s, peak RSS 28-30 MB. Then the part read in the path choice's blocking
# call (one trip less): download 5.02-5.37 -> 4.51-4.98 s over 4 more pairs (7 of 8 faster,
# host busier). Then directory fsyncs done by the store's writer, once per folder per batch,
# before the commit that records the files: 12,928 fsync calls per 10,000 items (10,000 files,
# ~2,900 folders) instead of 18,137; download 3.40-3.45 -> 3.20-3.33 s (2,900-3,100 items/s,
# 4 pairs, quiet host, no LTO), system CPU 2.6 -> 2.2 s. This script with fat LTO after all
# three: run 3,236-3,257, download 3,448 items/s, peak RSS 28-30 MB.
# A slower machine (2026-12-03, later; fat LTO both): file-system calls per item trimmed (no
# unlink of a sidecar that cannot exist, a stat less in the adoption check, the first root's
# part length taken from the path choice, free space read on the folder itself, M3U files left
# alone when their text is unchanged): per 10,000 items statx 101,617 -> 61,532, unlink 10,002
# -> 0 (strace -c), then (one lstat before the adoption check and the path choice, a lookup
# before each mkdir) statx -> 51,713, mkdir 10,107 -> 224; `download -j 16` alone after a sync, 4 interleaved pairs: 4.27-5.20 s ->
# 3.92-4.48 s, 4 of 4 faster, system CPU 3.4-4.0 -> 3.1-3.6 s; this script 2,500-3,100 items/s
# either way on that machine (the disk's pace drifts between runs more than the change moves it).
# Same machine (2026-12-03, later): a small body's format is probed from the bytes the transfer
# held (no reading the file back for tagging): per 10,000 items (strace -f -c of `download -j
# 16`) syscalls 432,107 -> 298,827, futex 85,693 -> 63,466, sched_yield 20,766 -> 12,272, openat
# 22,438 -> 12,042, read 40,239 -> 239, lseek 30,003 -> 3; this script: run 2,674, download 2,959
# items/s (a host whose speed drifted by half between runs).
# Same machine (2026-12-03, a later stop), no change to the engine: run 3,215, download 3,448
# items/s, 26.7-28.3 MB; the bare file system (python, as above) 10,251 files/s at that moment,
# 4,083-4,380 two hours earlier. `perf sched` of `download -j 16`: the store's writer is the
# bottleneck, busy ~95% of the run (1.46 s running, 0.58 s runnable, 1.37 s waiting for the disk:
# ~1,600 redb fdatasyncs and ~1,900 folder fsyncs per 10,000 items, queued behind the
# downloaders' 10,000 file fsyncs), asleep only 0.15 s. Tried there and not kept (interleaved
# runs): folder fsyncs on a thread of their own ahead of the writer (no gain: the device
# serialises flushes; with an unbounded hand-off the folder batches shrank, 1,900 -> 6,100
# fsyncs), the writer waiting 1 ms for more writes before a durable commit (CPU -10%, wall the
# same; 3 ms slower), one shared `syncfs` per group of small files instead of an fsync each
# (no gain; python alone: 6,000-6,500 files/s against 9,800 with an fsync each, 16 threads),
# `-j 32` or `-j 64` (within noise). With no file fsync at all (not a fix: a power cut could
# then leave an empty file under its final name): download 4.5-4.8 -> 3.0-3.1 s.
# Same machine (2026-12-03, the next stop): a downloaded file's row written as a deferred write
# (store/deferred.rs: committed at once without fsync, made durable with its folder fsynced by
# the next durable commit, at the latest 500 ms later; a crash before that leaves the item
# claimed and its file complete, which the next run adopts): redb fdatasyncs per 10,000 items
# ~1,600 -> a handful, folder fsyncs ~1,900 -> at most one per folder per durable commit.
# `download -j 16` alone, interleaved: 3.92-4.30 s -> 2.55-3.23 s (3 pairs), the same as with
# neither the commit's nor the folder's fsync at all (2.64-3.22 s): the writer no longer waits
# for the disk. Later, the host slower (file-system floor 7,255 files/s): download 3.69-3.93 ->
# 3.38-3.67 s (4 more pairs), `run -j 16` 3.49-6.21 -> 3.10-4.68 s (3 pairs); this script, fat
# LTO, four runs: run 2,513-3,521, download 2,597-3,509 items/s, peak RSS 24.6-27.9 MB, store
# 1,685 bytes/item (the same as before).
# Tried there and not kept: the writer lingering 200 or 500 us for more writes before a commit
# that need not be durable (batches 6,400 -> 2,600 or 1,900 per 10,000 items, user CPU -0.1 s,
# wall within noise).
#
# Usage: bench/engine_items.sh
#   FEEDS=100 EPISODES=100 PARALLEL=16 to change it.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
FEEDS=${FEEDS:-100} EPISODES=${EPISODES:-100} PARALLEL=${PARALLEL:-16}
ITEMS=$((FEEDS * EPISODES))

build
RUN=$(mktemp -d -p "$OUT" engine.XXXXXX)
start_server "$RUN/server" --feeds "$FEEDS" --episodes "$EPISODES" --size 1
echo "scenario: $FEEDS feeds x $EPISODES episodes x 1 byte ($ITEMS items), no rate limit, no latency, -j $PARALLEL; server $BASE; work dir $RUN"

row() { # row LABEL TIMEFILE [-]   (- : no items/s, e.g. for import)
  local wall rate; wall=$(wall_s "$2")
  if [ "${3:-}" = - ]; then rate=-; else rate=$(div "$ITEMS" "$wall" 0); fi
  printf '%-22s wall=%7ss items/s=%8s peak_rss=%7sKB exit=%s\n' "$1" "$wall" "$rate" "$(peak_rss_kb "$2")" "$RC"
}

check_library() { # check_library DIR
  local lib="$1/library" files nonempty part
  files=$(count_files "$lib")
  nonempty=$( [ -d "$lib" ] && find "$lib" -type f -name '*.mp3' -size 1c | wc -l || echo 0)
  part=$( [ -d "$lib" ] && find "$lib" -type f -name '*.part' | wc -l || echo 0)
  echo "    files=$files/$ITEMS one_byte=$nonempty part_files=$part store=$(stat -c %s "$1/catalog.redb") bytes ($(div "$(stat -c %s "$1/catalog.redb")" "$ITEMS" 0) bytes/item)"
}

# 1. import + run
D="$RUN/run"; mkdir -p "$D"; catalog_env "$D"
timed "$D/import.time" "$BIN/catalog-sync" -q import "$OPML" > "$D/import.txt"; row "import" "$D/import.time" -
timed "$D/run.time" "$BIN/catalog-sync" -q -j "$PARALLEL" run > "$D/run.txt"; row "run -j $PARALLEL" "$D/run.time"
check_library "$D"
tail -n 3 "$D/run.txt" | sed 's/^/    /'

# 2. import, then sync and download separately
D="$RUN/split"; mkdir -p "$D"; catalog_env "$D"
"$BIN/catalog-sync" -q import "$OPML" > "$D/import.txt"
timed "$D/sync.time" "$BIN/catalog-sync" -q sync > "$D/sync.txt"; row "sync" "$D/sync.time"
timed "$D/download.time" "$BIN/catalog-sync" -q -j "$PARALLEL" download > "$D/download.txt"; row "download -j $PARALLEL" "$D/download.time"
echo "    sync + download = $(awk -v a="$(wall_s "$D/sync.time")" -v b="$(wall_s "$D/download.time")" 'BEGIN{printf "%.2f", a + b}')s"
check_library "$D"
