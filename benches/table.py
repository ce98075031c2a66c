#!/usr/bin/env python3
"""Prints the benchmark results as Markdown tables: criterion's median throughput per group
and variant, and the ratios of this crate to serde_json (same run).

Usage: python3 benches/table.py [CRITERION_DIR]   (default: target/criterion)
"""
import json
import os
import sys

GROUPS = ["small", "schema", "mix", "id-echo"]
PARSERS = ["qmp-codec", "framer+qmp-codec", "decode_message", "serde_json-raw", "serde_json-value",
           "serde-json-core", "memchr-lines"]
ENCODE = {
    "request-blockdev-add": ["qmp-codec-value", "qmp-codec-derive", "serde_json-value", "serde_json-derive"],
    "server-return": ["qmp-codec-value", "qmp-codec-derive", "serde_json-value", "serde_json-derive"],
    "server-event": ["qmp-codec-value", "qmp-codec-derive", "serde_json-derive"],
}


def median(root, group_dir, variant):
    d = os.path.join(root, group_dir, variant, "new")
    if not os.path.isdir(d):
        return None
    with open(os.path.join(d, "benchmark.json")) as f:
        nbytes = json.load(f)["throughput"]["Bytes"]
    with open(os.path.join(d, "estimates.json")) as f:
        ns = json.load(f)["median"]["point_estimate"]
    return nbytes / (ns / 1e9) / (1 << 20), nbytes, ns


def fmt(m):
    if m is None:
        return "-"
    mib = m[0]
    return f"{mib / 1024:.2f} GiB/s" if mib >= 1024 else f"{mib:.0f} MiB/s"


def ratio(a, b):
    return f"{a[0] / b[0]:.2f}x" if a and b else "-"


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join("target", "criterion")
    print("| corpus (bytes) | " + " | ".join(PARSERS)
          + " | pre-split / serde_json-raw | decode_message / serde_json-raw | qmp-codec / serde_json-value |")
    print("|---" * (len(PARSERS) + 4) + "|")
    for g in GROUPS:
        row = {p: median(root, f"parse_{g}", p) for p in PARSERS}
        raw, value = row["serde_json-raw"], row["serde_json-value"]
        cells = [fmt(row[p]) for p in PARSERS]
        print(f"| {g} ({row['qmp-codec'][1]:,}) | " + " | ".join(cells)
              + f" | {ratio(row['qmp-codec'], raw)} | {ratio(row['decode_message'], raw)}"
              + f" | {ratio(row['qmp-codec'], value)} |")
    feed = {v: median(root, "feed-1-byte_small", v) for v in ["framer", "decode_message"]}
    if all(feed.values()):
        print()
        print("| one-byte reads, small | framer | decode_message |")
        print("|---|---|---|")
        print(f"| throughput | {fmt(feed['framer'])} | {fmt(feed['decode_message'])} |")
    print()
    print("| encode (bytes) | " + " | ".join(ENCODE["request-blockdev-add"]) + " | best qmp-codec / best serde_json |")
    print("|---" * 6 + "|")
    for g, variants in ENCODE.items():
        row = {v: median(root, f"encode_{g}", v) for v in ENCODE["request-blockdev-add"]}
        if not any(row.values()):
            continue
        nbytes = next(m[1] for m in row.values() if m)
        ours = max((m for v, m in row.items() if m and v.startswith("qmp")), key=lambda m: m[0])
        theirs = max((m for v, m in row.items() if m and v.startswith("serde")), key=lambda m: m[0])
        cells = [f"{fmt(row[v])} ({row[v][2]:.0f} ns)" if row[v] else "-" for v in ENCODE["request-blockdev-add"]]
        print(f"| {g} ({nbytes}) | " + " | ".join(cells) + f" | {ratio(ours, theirs)} |")


if __name__ == "__main__":
    main()
