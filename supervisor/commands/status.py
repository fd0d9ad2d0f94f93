"""``supervisor probe`` and ``supervisor status``: ask a running supervisor, by its health port.

What a HEALTHCHECK runs all day: only the standard library and h11 on this path, no
configuration, pydantic, anyio or driver (a test looks at ``sys.modules``). ``probe`` reads the
answer's first line itself (``probe.py``); ``status`` reads the whole report (``client.py``).
"""

import contextlib
import os
import sys

from supervisor import exitcodes
from supervisor.commands import client
from supervisor.commands.output import PROG, Invocation, say, write


def main(call: Invocation) -> int:
    args = call.args
    from supervisor.core.durations import parse_duration

    try:
        host, port = client.address(args.host, args.port)
        timeout = parse_duration(args.timeout)
    except client.UsageError as exc:
        say(f"{PROG}: {exc}")
        return exitcodes.CONFIG_ERROR
    except ValueError as exc:
        say(f"{PROG}: --timeout={args.timeout}: expected {exc}")
        return exitcodes.CONFIG_ERROR
    from supervisor.commands.probe import MAX_TIMEOUT

    if timeout > MAX_TIMEOUT:
        say(f"{PROG}: --timeout={args.timeout}: expected at most 24h")
        return exitcodes.CONFIG_ERROR
    if args.command == "probe":
        from supervisor.commands import probe

        code, line = probe.probe(args.kind, host, port, timeout)
        write(sys.stdout, line + "\n")
        return code
    chart, columns = args.chain and sys.stdout.isatty(), 80
    if chart:
        with contextlib.suppress(OSError):  # not a terminal after all
            columns = os.get_terminal_size(sys.stdout.fileno()).columns
    code, text = client.status(host, port, timeout, as_json=args.json, chain=args.chain, chart=chart, columns=columns)
    write(sys.stdout if code != exitcodes.NOT_ANSWERING else sys.stderr, text)
    return code
