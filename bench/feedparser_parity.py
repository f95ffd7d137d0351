#!/usr/bin/env python3
"""Entry-count parity of catalog-sync's feed parser with Python's feedparser (the reference).

Input: a JSON-lines file written by `cargo run -p catalog-sync-core --example feed_counts`
(one object per document: path, ok, entries, error, warnings) and the same documents read
here with feedparser. A document counts when feedparser reads it as a feed (it names a
version or finds entries). Per category (feedparser's version and the document's folder) it
prints how many documents we accept, how many agree on the entry count, and the gaps by cause:

  rejected   we fail the document, feedparser reads it
  empty      we accept it with 0 entries, feedparser finds entries (the "synced with nothing" case)
  fewer      we keep fewer entries
  folded     fewer only by the entries our identity rule folds or skips on purpose and says so
             in the parse warnings (duplicate ids; entries with nothing to identify or download)
  more       we keep more entries

Usage: feedparser_parity.py OURS.jsonl [--list N] [--show CAUSE]
"""
import argparse
import collections
import json
import os
import re
import sys

import feedparser

SHARE = re.compile(r"^(\d+) entries share")
SKIPPED = re.compile(r"^(\d+) entries have no guid")


def category(path, version):
    parts = path.split(os.sep)
    if "tests" in parts:
        i = parts.index("tests")
        folder = "/".join(parts[i + 1:i + 3]) if parts[i + 1] in ("wellformed", "illformed") else parts[i + 1]
        src = "fp:" + folder
    else:
        src = "corpus"
    return src, version or "unknown"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("ours")
    ap.add_argument("--list", type=int, default=0, help="list up to N mismatching files per cause")
    ap.add_argument("--show", default="", help="only list this cause (rejected/empty/fewer/more)")
    args = ap.parse_args()
    rows = [json.loads(l) for l in open(args.ours, encoding="utf-8") if l.strip()]
    total = collections.Counter()
    by_version = collections.defaultdict(collections.Counter)
    by_source = collections.defaultdict(collections.Counter)
    examples = collections.defaultdict(list)
    ent = collections.Counter()
    for r in rows:
        with open(r["path"], "rb") as f:
            d = feedparser.parse(f.read())
        n_fp = len(d.entries)
        if not d.get("version") and n_fp == 0:
            total["not a feed for feedparser"] += 1
            continue
        src, ver = category(r["path"], d.get("version"))
        warnings = r.get("warnings") or []
        merged = sum(int(m.group(1)) - 1 for w in warnings for m in [SHARE.match(w)] if m)
        merged += sum(int(m.group(1)) for w in warnings for m in [SKIPPED.match(w)] if m)
        if not r["ok"]:
            cause = "rejected"
        elif r["entries"] == n_fp:
            cause = "agree"
        elif r["entries"] + merged == n_fp:
            cause = "folded"
        elif r["entries"] == 0:
            cause = "empty"
        elif r["entries"] < n_fp:
            cause = "fewer"
        else:
            cause = "more"
        for c in (total, by_version[ver], by_source[src]):
            c["docs"] += 1
            c[cause] += 1
            c["accepted"] += r["ok"]
        ent["ours"] += r["entries"]
        ent["fp"] += n_fp
        ent["merged"] += merged
        if cause != "agree":
            examples[cause].append(f'{r["path"]}: ours={r["entries"]} fp={n_fp} {r.get("error") or ""} {warnings}')

    causes = ["rejected", "empty", "fewer", "more", "folded"]

    def line(name, c):
        docs = c["docs"]
        pct = 100.0 * c["agree"] / docs if docs else 0.0
        gaps = " ".join(f"{k}={c[k]}" for k in causes if c[k])
        pct2 = 100.0 * (c["agree"] + c["folded"]) / docs if docs else 0.0
        return f"{name:<30} {docs:>5} {c['accepted']:>6} {c['agree']:>6} {pct:>7.1f}% {pct2:>7.1f}%  {gaps}"

    head = f"{'category':<30} {'docs':>5} {'accept':>6} {'agree':>6} {'strict':>8} {'+folded':>8}  gaps"
    print("strict: same entry count; +folded: also counting the entries we fold/skip on purpose")
    print("and report in the parse warnings (identity rule), as agreement\n")
    print("== by feedparser version ==")
    print(head)
    for k in sorted(by_version):
        print(line(k, by_version[k]))
    print("\n== by source ==")
    print(head)
    for k in sorted(by_source):
        print(line(k, by_source[k]))
    print("\n== overall ==")
    print(head)
    print(line("all", total))
    acc = max(total["accepted"], 1)
    print(f"over accepted documents (the issue's measure): strict {100.0 * total['agree'] / acc:.1f}%, "
          f"+folded {100.0 * (total['agree'] + total['folded']) / acc:.1f}% of {total['accepted']}")
    rejected_with_entries = sum(1 for e in examples["rejected"] if " fp=0 " not in e)
    print(f"rejected documents where feedparser finds entries: {rejected_with_entries}")
    print(f"entries: ours={ent['ours']} feedparser={ent['fp']} (folded/skipped on purpose, reported: {ent['merged']})")
    print(f"not feeds for feedparser (skipped): {total['not a feed for feedparser']}")
    print(f"accepted but silently empty where feedparser finds entries: {total['empty']}")
    if args.list:
        for cause in causes:
            if args.show and cause != args.show:
                continue
            if examples[cause]:
                print(f"\n-- {cause} ({len(examples[cause])}) --")
                for e in examples[cause][: args.list]:
                    print("  " + e)
    return 0


if __name__ == "__main__":
    sys.exit(main())
