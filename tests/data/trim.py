#!/usr/bin/env python3
"""Regenerate the trimmed capture files under tests/data/corpus/ (stdlib only).

Usage:
    python3 tests/data/trim.py SRC_CAPTURE_DIR [DEST_DIR]

SRC_CAPTURE_DIR is one full, untrimmed capture folder (`qsd`, `qsd-pretty` or
`qemu.qmp-client`); DEST_DIR defaults to tests/data/corpus/<name of SRC_CAPTURE_DIR>.

- stream.bin, facts.json and every file of a client capture (no expect.jsonl) are copied byte
  for byte.
- expect.jsonl keeps one compact line per server message with only the fields in EXPECT_FIELDS.
  An echoed id whose raw text exceeds ID_RAW_MAX bytes is replaced by `id_raw_len` and
  `id_raw_sha256` (both computed from stream.bin); `id` and `id_raw` are left out for it.
- cases.jsonl keeps only what a replay needs (CASE_FIELDS; each write keeps len, delay_before_s
  and b64). If the result would be CASES_MAX bytes or more, cases whose writes add up to more
  than WRITES_MAX bytes are dropped (their messages stay in stream.bin and expect.jsonl).
"""

import base64
import hashlib
import json
import os
import shutil
import sys

EXPECT_FIELDS = (
    "seq", "offset", "len", "body_len", "kind", "keys", "strict_json", "id_present",
    "id_raw", "id", "error_class", "error_desc", "event", "timestamp", "return_json_type",
)
CASE_FIELDS = ("index", "name", "session", "description", "writes", "messages")
WRITE_FIELDS = ("len", "delay_before_s", "b64")
ID_RAW_MAX = 4096
CASES_MAX = 700 * 1024
WRITES_MAX = 4096


def dumps(obj):
    # ASCII-only output keeps any lone surrogate or control character as an escape.
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=True)


def find_id_raw(body):
    """The raw bytes of the top-level "id" member of a compact QEMU message (the bytes between
    the member's ': ' and the next top-level ',' or '}')."""
    depth = 0
    i = 0
    in_str = False
    n = len(body)
    while i < n:
        c = body[i]
        if in_str:
            if c == 0x5C:
                i += 2
                continue
            if c == 0x22:
                in_str = False
        elif c == 0x22:
            if depth == 1 and body.startswith(b'"id"', i):
                j = i + 4
                while body[j] in b" \t\r\n:":
                    j += 1
                start = j
                d = 0
                s = False
                while j < n:
                    ch = body[j]
                    if s:
                        if ch == 0x5C:
                            j += 2
                            continue
                        if ch == 0x22:
                            s = False
                    elif ch == 0x22:
                        s = True
                    elif ch in b"[{":
                        d += 1
                    elif ch in b"]}":
                        if d == 0:
                            break
                        d -= 1
                    elif ch == 0x2C and d == 0:
                        break
                    j += 1
                return body[start:j].rstrip(b" \t\r\n")
            in_str = True
        elif c in b"[{":
            depth += 1
        elif c in b"]}":
            depth -= 1
        i += 1
    return None


def trim_expect(src, stream):
    out = []
    with open(src, encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            msg = json.loads(line)
            t = {k: msg[k] for k in EXPECT_FIELDS if k in msg}
            body = stream[msg["offset"]:msg["offset"] + msg["body_len"]]
            raw = None
            if msg.get("id_present"):
                if msg.get("id_raw") is not None:
                    raw = msg["id_raw"].encode("utf-8")
                else:
                    raw = find_id_raw(body)
            if raw is not None and len(raw) > ID_RAW_MAX:
                t.pop("id", None)
                t.pop("id_raw", None)
                t["id_raw_len"] = len(raw)
                t["id_raw_sha256"] = hashlib.sha256(raw).hexdigest()
                if "id_raw_len" in msg and msg["id_raw_len"] != len(raw):
                    sys.exit("seq %s: id_raw_len %s != %s" % (msg["seq"], msg["id_raw_len"], len(raw)))
                if "id_raw_sha256" in msg and msg["id_raw_sha256"] != t["id_raw_sha256"]:
                    sys.exit("seq %s: id_raw_sha256 mismatch" % msg["seq"])
            out.append(dumps(t))
    return out


def trim_cases(src):
    cases = []
    with open(src, encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            c = json.loads(line)
            t = {k: c[k] for k in CASE_FIELDS if k in c}
            t["writes"] = [{k: w[k] for k in WRITE_FIELDS if k in w} for w in c.get("writes", [])]
            for w in t["writes"]:
                assert len(base64.b64decode(w["b64"])) == w["len"], (c["index"], w)
            cases.append(t)
    lines = [dumps(c) for c in cases]
    dropped = []
    if sum(len(l) + 1 for l in lines) >= CASES_MAX:
        keep = []
        for c, l in zip(cases, lines):
            if sum(w["len"] for w in c["writes"]) > WRITES_MAX:
                dropped.append(c["name"])
            else:
                keep.append(l)
        lines = keep
    return lines, dropped


def write_lines(path, lines):
    with open(path, "w", encoding="ascii", newline="\n") as f:
        for l in lines:
            f.write(l + "\n")


def main(argv):
    if len(argv) not in (2, 3):
        sys.exit(__doc__)
    src = argv[1].rstrip("/")
    name = os.path.basename(src)
    here = os.path.dirname(os.path.abspath(__file__))
    dest = argv[2] if len(argv) == 3 else os.path.join(here, "corpus", name)
    os.makedirs(dest, exist_ok=True)

    if not os.path.exists(os.path.join(src, "expect.jsonl")):
        # A client capture: every file is small; copy them all as they are.
        for fn in sorted(os.listdir(src)):
            shutil.copyfile(os.path.join(src, fn), os.path.join(dest, fn))
            print("copied", fn)
        return

    for fn in ("stream.bin", "facts.json"):
        shutil.copyfile(os.path.join(src, fn), os.path.join(dest, fn))
        print("copied", fn)
    with open(os.path.join(src, "stream.bin"), "rb") as f:
        stream = f.read()

    expect = trim_expect(os.path.join(src, "expect.jsonl"), stream)
    write_lines(os.path.join(dest, "expect.jsonl"), expect)
    print("expect.jsonl: %d messages" % len(expect))

    # The trimmed expect.jsonl must cover stream.bin exactly, in order.
    pos = 0
    for l in expect:
        m = json.loads(l)
        assert m["offset"] == pos, (m["seq"], m["offset"], pos)
        assert stream[pos + m["body_len"]:pos + m["len"]] == b"\r\n", m["seq"]
        pos += m["len"]
    assert pos == len(stream), (pos, len(stream))

    if os.path.exists(os.path.join(src, "cases.jsonl")):
        cases, dropped = trim_cases(os.path.join(src, "cases.jsonl"))
        write_lines(os.path.join(dest, "cases.jsonl"), cases)
        print("cases.jsonl: %d cases" % len(cases))
        for d in dropped:
            print("  dropped case (writes > %d bytes): %s" % (WRITES_MAX, d))


if __name__ == "__main__":
    main(sys.argv)
