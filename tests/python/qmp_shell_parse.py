"""Oracle for `qmp shell`'s input syntax: qmp-shell's own `_build_cmd` (PyPI `qemu.qmp`).

stdin: one JSON object per line, {"lines": [...], "mine": [...]}, where each entry of
"mine" is what `qmp shell` made of the matching line: {"none": true}, {"error": "..."} or
{"json": "..."}. Every line of a case runs through one QMPShell, so `transaction(` state
carries over. Prints one JSON line per disagreement, then a line "checked N lines (M where the root fix
matters)" (see `Rooted`).
"""

import json
import sys
import warnings

from qemu.qmp.qmp_shell import QMPShell, QMPShellError

warnings.simplefilter("ignore")


def no_duplicates(pairs):
    names = [k for k, _ in pairs]
    if len(names) != len(set(names)):
        raise ValueError("duplicate member names: %r" % names)
    return dict(pairs)


class Rooted(QMPShell):
    """qmp-shell with one fix: each `key=value` starts at the arguments' root.

    qmp-shell 0.0.6's `_cli_expr` keeps the object a dotted key walked into for the next
    arguments, so `file.driver=file file.filename=a` builds `file.file.filename`. `qmp shell`
    does not copy that; calling the original once per argument gives the intended meaning.
    """

    def _cli_expr(self, tokens, parent):
        for token in tokens:
            QMPShell._cli_expr(self, [token], parent)


def refuse_constant(name):
    raise ValueError("not JSON: " + name)


def sendable(obj):
    """obj as JSON, or None where qmp-shell would send what no JSON parser (and not QEMU)
    takes: NaN, Infinity, lone surrogates; or raise where qmp-shell itself fails."""
    text = json.dumps(obj)
    try:
        # What is sent, read back: surrogate pairs written as two escapes join up.
        sent = json.loads(text, parse_constant=refuse_constant)
        json.dumps(sent, ensure_ascii=False).encode("utf-8")
    except (ValueError, UnicodeEncodeError):
        return None
    return text


def oracle(shell, line):
    """What qmp-shell makes of the line: ("none",), ("error", why), ("crash", why),
    ("unsendable",) or ("json", text)."""
    last = shell._actions[-1] if shell._actions else None
    try:
        cmd = shell._build_cmd(line)
    except QMPShellError as err:
        return ("error", str(err))
    except Exception as err:  # qmp-shell itself fails on these
        return ("crash", repr(err))
    try:
        if cmd is None:
            if shell._transmode and shell._actions and shell._actions[-1] is not last:
                # An action was gathered: it must be sendable, else `qmp shell` refuses
                # the line (and does not gather it).
                try:
                    ok = sendable(shell._actions[-1]) is not None
                except Exception:  # qmp-shell would fail at the closing `)`
                    ok = False
                if not ok:
                    shell._actions.pop()
                    return ("unsendable",)
            return ("none",)
        text = sendable(cmd)
    except Exception as err:  # qmp-shell fails when it sends these
        return ("crash", repr(err))
    return ("unsendable",) if text is None else ("json", text)


def main():
    checked = 0
    rooted = 0
    for raw in sys.stdin:
        case = json.loads(raw)
        shell = Rooted.__new__(Rooted)
        shell._transmode = False
        shell._actions = []
        original = QMPShell.__new__(QMPShell)
        original._transmode = False
        original._actions = []
        for line, mine in zip(case["lines"], case["mine"]):
            checked += 1
            want = oracle(shell, line)
            if want != oracle(original, line):
                rooted += 1
            ok = False
            if want[0] == "none":
                ok = mine.get("none") is True
            elif want[0] == "error":
                ok = "error" in mine
            elif want[0] in ("crash", "unsendable"):
                # qmp-shell fails, or sends what is not JSON: `qmp shell` refuses it.
                ok = "error" in mine
            elif "json" in mine:
                try:
                    got = json.dumps(json.loads(mine["json"], object_pairs_hook=no_duplicates))
                    ok = got == want[1]
                except ValueError as err:
                    got = "invalid: %s" % err
            if not ok:
                print(json.dumps({"lines": case["lines"], "line": line, "qmp-shell": want, "mine": mine}))
    print("checked %d lines (%d where the root fix matters)" % (checked, rooted))


main()
