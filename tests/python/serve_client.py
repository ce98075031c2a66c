#!/usr/bin/env python3
"""Drives `qmp serve` with the reference client `qemu.qmp` (needs `qemu.qmp`, see requirements.txt).

usage: serve_client.py SOCKET
stdout: one JSON object per step, in order:
    {"step": "greeting", "value": GREETING}        the greeting the client read
    {"step": NAME, "return": VALUE}                a command's return value
    {"step": NAME, "error": [CLASS, DESC]}         a command that raised ExecuteError
    {"step": "event", "value": EVENT}              an event (timestamp removed), after the
                                                   command that caused it
    {"step": "disconnect", ...}                    the end of the session
Every await is bounded by a timeout, so a server that does not answer fails the script
(a non-zero exit) instead of hanging.
"""

import asyncio
import json
import sys

from qemu.qmp import ExecuteError, QMPClient

TIMEOUT = 10


def out(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


async def run(socket):
    client = QMPClient("serve-test")
    await asyncio.wait_for(client.connect(socket), TIMEOUT)
    out({"step": "greeting", "value": dict(client.greeting._raw)})

    async def execute(name, arguments=None):
        try:
            value = await asyncio.wait_for(client.execute(name, arguments), TIMEOUT)
            out({"step": name, "return": value})
        except ExecuteError as err:
            out({"step": name, "error": [err.error_class, str(err)]})

    async def event():
        ev = await asyncio.wait_for(client.events.get(), TIMEOUT)
        ev = dict(ev)
        assert isinstance(ev.pop("timestamp").get("seconds"), int)
        out({"step": "event", "value": ev})

    await execute("query-version")
    await execute("query-status")
    await execute("stop")
    await event()
    await execute("query-status")
    await execute("cont")
    await event()
    await execute("query-commands")
    await execute("nope")
    await execute("query-status", {"verbose": True})
    await execute("quit")
    await event()
    # The server closes the connection after `quit`; the reference reports that as EOFError.
    try:
        await asyncio.wait_for(client.disconnect(), TIMEOUT)
        out({"step": "disconnect"})
    except EOFError:
        out({"step": "disconnect", "eof": True})


if __name__ == "__main__":
    asyncio.run(run(sys.argv[1]))
