#!/usr/bin/env bash
# The size budget: builds the firmware (`firmware/src/main.rs`: negotiate, execute
# `query-status`, read one member, for thumbv7em-none-eabihf) and fails when its `.text` is
# over the budget at opt-level "s". Also prints "z" and what each optional feature adds.
#
#   bash firmware/size.sh            # BUDGET=24576 by default (24 KiB)
#
# Needs the thumbv7em-none-eabihf target and llvm-size (`rustup component add llvm-tools`).
set -euo pipefail
cd "$(dirname "$0")"
budget=${BUDGET:-24576}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-../target/firmware}
sysroot=$(rustc --print sysroot)
host=$(rustc -vV | sed -n 's/^host: //p')
size_tool="$sysroot/lib/rustlib/$host/bin/llvm-size"
if [[ ! -x "$size_tool" ]]; then
    echo "error: llvm-size not found at $size_tool: run 'rustup component add llvm-tools'" >&2
    exit 1
fi

# .text of one build: profile, then cargo feature arguments.
text_size() {
    local profile=$1
    shift
    RUSTFLAGS="-D warnings -C link-arg=-Tlink.x" cargo build --quiet --profile "$profile" "$@"
    "$size_tool" -A "$CARGO_TARGET_DIR/thumbv7em-none-eabihf/$profile/qmp-codec-firmware" |
        awk '$1 == ".text" { print $2 }'
}

s=$(text_size release)
z=$(text_size release-z)
printf '.text at opt-level "s": %d bytes (budget %d)\n' "$s" "$budget"
printf '.text at opt-level "z": %d bytes\n' "$z"
for feature in defmt serde; do
    f=$(text_size release --features "$feature")
    printf '  + feature %-6s ("s"): %d bytes (%+d)\n' "$feature" "$f" $((f - s))
done
if ((s > budget)); then
    echo "error: the firmware's .text is $s bytes, over the budget of $budget" >&2
    exit 1
fi
