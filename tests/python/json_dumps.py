#!/usr/bin/env python3
"""Oracle: how Python's `json` (and so `qemu.qmp.Message`) re-serializes a JSON text.

stdin: JSON texts, one per line (lines are split on b"\\n" only; each line must be UTF-8).
stdout: one line per input line, in order:
    [PRETTY, COMPACT]
where PRETTY is `json.dumps(json.loads(line), indent=2)` (what `str(Message)` gives) and
COMPACT is `json.dumps(obj, separators=(',', ':'))` (what `bytes(Message)` gives for a changed
message), each as a JSON string literal; or `null` when the line is not accepted.

Semantics, matching `json.loads` defaults except where noted:
- Duplicate keys: the value of the last one wins, at the position of the first one (dict).
- Key order is document order; output is ASCII-only (`\\uXXXX`, lowercase hex).
- Numbers too large for a float (`1e400`) become `Infinity` in the output, as in Python.
- Stricter than `json.loads`: the tokens `NaN`, `Infinity`, `-Infinity` are rejected (`null`),
  and so is any line that is not valid UTF-8 (surrogates included) or starts with a BOM.
  Pass `--allow-nonfinite` to accept the three tokens as Python does.
- Integers of any length are accepted (no `int_max_str_digits` limit).
- Documents nested deeper than about 9,000 levels print `null` (Python's recursion limit).
"""

import json
import sys

sys.setrecursionlimit(20000)
if hasattr(sys, "set_int_max_str_digits"):
    sys.set_int_max_str_digits(0)


def _reject_constant(name):
    raise ValueError("non-standard JSON constant %s" % name)


def convert(line, allow_nonfinite=False):
    """Returns the output line for one input line (bytes, without the b"\\n")."""
    try:
        text = line.decode("utf-8")
        if allow_nonfinite:
            obj = json.loads(text)
        else:
            obj = json.loads(text, parse_constant=_reject_constant)
        pretty = json.dumps(obj, indent=2)
        compact = json.dumps(obj, separators=(",", ":"))
    except (ValueError, RecursionError, UnicodeError):
        return "null"
    return json.dumps([pretty, compact])


def main(argv):
    allow_nonfinite = "--allow-nonfinite" in argv[1:]
    data = sys.stdin.buffer.read()
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    out = sys.stdout
    for line in lines:
        out.write(convert(line, allow_nonfinite))
        out.write("\n")
    out.flush()


if __name__ == "__main__":
    main(sys.argv)
