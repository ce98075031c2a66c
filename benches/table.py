#!/usr/bin/env python3
"""Prints the parse benchmark results as a Markdown table: criterion's median throughput per
corpus and parser, and the ratio of this crate to each other parser (same run).

Usage: python3 benches/table.py [CRITERION_DIR]   (default: target/criterion)
"""
import json
import os
import sys

GROUPS = ["small", "schema", "mix", "id-echo"]
PARSERS = ["qmp-codec", "framer+qmp-codec", "serde_json-raw", "serde_json-value", "serde-json-core", "memchr-lines"]


def median_mib_s(root, group, parser):
    d = os.path.join(root, f"parse_{group}", parser, "new")
    with open(os.path.join(d, "benchmark.json")) as f:
        nbytes = json.load(f)["throughput"]["Bytes"]
    with open(os.path.join(d, "estimates.json")) as f:
        ns = json.load(f)["median"]["point_estimate"]
    return nbytes / (ns / 1e9) / (1 << 20), nbytes


def fmt(mib):
    return f"{mib / 1024:.2f} GiB/s" if mib >= 1024 else f"{mib:.0f} MiB/s"


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join("target", "criterion")
    print("| corpus (bytes) | " + " | ".join(PARSERS) + " | vs serde_json-raw | vs serde_json-value |")
    print("|---" * (len(PARSERS) + 3) + "|")
    for g in GROUPS:
        row = {p: median_mib_s(root, g, p) for p in PARSERS}
        ours = row["qmp-codec"][0]
        cells = [fmt(row[p][0]) for p in PARSERS]
        raw = ours / row["serde_json-raw"][0]
        value = ours / row["serde_json-value"][0]
        print(f"| {g} ({row['qmp-codec'][1]:,}) | " + " | ".join(cells) + f" | {raw:.2f}x | {value:.2f}x |")


if __name__ == "__main__":
    main()
