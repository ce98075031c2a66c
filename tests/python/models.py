#!/usr/bin/env python3
"""Oracle: what the `qemu.qmp` models say about a message (needs `qemu.qmp`, see requirements.txt).

stdin: one JSON object per line: {"model": NAME, "msg": TEXT} where NAME is a model class of
`qemu.qmp.models` ("Greeting", "ErrorResponse", also "QMPGreeting", "ErrorInfo") and TEXT is the
message's JSON text as a string (it is encoded as UTF-8). {"model": NAME, "b64": BASE64} passes
raw bytes instead.
stdout: one line per input line: `null` when `models.NAME(qemu.qmp.Message(bytes))` succeeds,
otherwise a JSON string with the exception's message.

The message printed is `exc.args[0]`, not `str(exc)`:
- the models raise `KeyError("'Greeting' object requires 'QMP' member")` and
  `TypeError("'Greeting' member 'QMP' must be a JSON object")`; `str()` of a KeyError is the
  repr of its argument, in quotes, so `args[0]` is the plain text;
- `Message` raises `DeserializationError` ("Failed to deserialize QMP message.") or
  `UnexpectedTypeError` ("QMP message is not a JSON object."), whose `str()` appends a second
  line with the raw bytes or value; `args[0]` is the first line only.
`Message` lets two exceptions of `json.loads` escape unwrapped (a fault of the reference):
invalid UTF-8 raises `UnicodeDecodeError` and nesting deeper than Python's recursion limit
(about 1,000 levels) raises `RecursionError`. For those the line is
"<ExceptionType>: <str(exc)>", e.g. "UnicodeDecodeError: 'utf-8' codec can't decode byte 0xff
in position 0: invalid start byte".
Any other exception is a bug and ends the script.
A malformed input line (not an object with a known model) exits with status 2.
"""

import base64
import json
import sys

from qemu.qmp import models
from qemu.qmp.message import DeserializationError, Message, UnexpectedTypeError


def check(req):
    name = req.get("model")
    cls = getattr(models, name, None) if isinstance(name, str) else None
    if not (isinstance(cls, type) and issubclass(cls, models.Model) and cls is not models.Model):
        raise SystemExit("models.py: unknown model %r" % (name,))
    if "b64" in req:
        raw = base64.b64decode(req["b64"])
    else:
        raw = req["msg"].encode("utf-8", "surrogatepass")
    try:
        cls(Message(raw))
    except (KeyError, TypeError, DeserializationError, UnexpectedTypeError) as exc:
        return json.dumps(str(exc.args[0]))
    except (UnicodeDecodeError, RecursionError) as exc:
        return json.dumps("%s: %s" % (type(exc).__name__, exc))
    return "null"


def main():
    out = sys.stdout
    for line in sys.stdin.buffer.read().split(b"\n"):
        if not line.strip():
            continue
        try:
            req = json.loads(line)
        except ValueError as exc:
            raise SystemExit("models.py: bad input line %r: %s" % (line[:80], exc))
        if not isinstance(req, dict):
            raise SystemExit("models.py: input line is not an object: %r" % (line[:80],))
        out.write(check(req))
        out.write("\n")
    out.flush()


if __name__ == "__main__":
    main()
