#!/usr/bin/env bash
# Wall-clock A/B on a noisy machine: runs each given `parse_corpus` build in turn, several
# rounds, and keeps each parser's best throughput; the ratio to serde_json's `&RawValue`
# struct is taken inside one build, so code-layout luck in serde_json is not counted as ours.
#
#   cargo build --profile bench --example parse_corpus && cp target/release/examples/parse_corpus /tmp/a
#   ... change something, build again, copy to /tmp/b ...
#   benches/interleave.sh /tmp/a /tmp/b            # ROUNDS=5 PARSER=qmp-codec to change
set -euo pipefail
rounds=${ROUNDS:-5}
parser=${PARSER:-decode_message}
declare -A best
for corpus in small schema mix; do
    case $corpus in small) passes=400 ;; schema) passes=60 ;; *) passes=200 ;; esac
    for _ in $(seq "$rounds"); do
        for bin in "$@"; do
            for p in "$parser" serde_json-raw; do
                mibs=$("$bin" "$corpus" "$passes" "$p" | awk '{print $(NF-1)}')
                key="$bin $corpus $p"
                if [ "${best[$key]:-0}" -lt "$mibs" ]; then best[$key]=$mibs; fi
            done
        done
    done
    for bin in "$@"; do
        ours=${best["$bin $corpus $parser"]}
        theirs=${best["$bin $corpus serde_json-raw"]}
        printf '%-40s %-7s %s %5s MiB/s  serde_json-raw %5s MiB/s  %sx\n' "$bin" "$corpus" \
            "$parser" "$ours" "$theirs" "$(awk -v a="$ours" -v b="$theirs" 'BEGIN{printf "%.2f", a/b}')"
    done
done
