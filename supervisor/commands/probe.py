"""``supervisor probe``: what a Docker HEALTHCHECK runs every few seconds, for a container's life.

It must cost little more than starting Python (``bench/probe_startup.py``: at most 2x a bare
interpreter of the same venv), so this module and what it imports are the cheapest parts of the
standard library: no argparse, logging, json, re or dataclasses, not even ``socket.py`` (its
enums); and not h11, whose import (dataclasses, inspect, re) costs three times Python's own
start-up. The verdict needs only the status line of the answer, checked against RFC 9112's
grammar (``HTTP/1.1 200 ...``); every other answer (another status, or bytes that are not a
status line) is read to its end and given to h11 (``client.parse_answer``), which then says
what it is and reads the failing checks from the body. This is the one place that reads HTTP
without h11, and it reads one line.

Only the plain forms are read here (``probe [live|ready] [--host H] [--port P] [--timeout D]``);
anything else (``--help``, a typo, a bad value) goes to the full command line, whose messages
and exit codes it then gets. ``--timeout`` bounds the whole answer, from the connect to the
last byte (a name lookup is the C library's, as for every client).
"""

import _socket
import os
import sys
import time

from supervisor import exitcodes
from supervisor.core.addresses import reachable

DEFAULT_PORT = 8081
DEFAULT_TIMEOUT = 2.0
MAX_TIMEOUT = 86400.0  # a day: more is a typo (and past what a socket timeout takes)
STATUS_LINE_MAX = 1024  # bytes before the first CRLF; past that it is not a status line
ANSWER_MAX = 1 << 20  # a failing answer is read to its end, this much at most
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def _seconds(text: str) -> float | None:
    """``durations.parse_duration`` without ``re``: ASCII digits, one optional dot, a unit."""
    text = text.strip()
    unit = next((u for u in ("ms", "s", "m", "h") if text.endswith(u)), "")
    number = text[: len(text) - len(unit)].strip()
    digits = number.replace(".", "", 1)  # 5, 5.5 and .5, as durations.py reads them; not "5."
    if not (digits.isascii() and digits.isdigit()) or number.endswith("."):
        return None
    seconds = float(number) * _UNITS[unit or "s"]
    return seconds if seconds > 0 else None


def _plain_arguments(args: list[str]) -> tuple[str, dict[str, str]] | None:
    """(kind, flags) of a plain probe command line; None for anything else."""
    kind, flags = "live", {}
    rest = list(args)
    if rest and not rest[0].startswith("-"):
        kind = rest.pop(0)
        if kind not in ("live", "ready"):
            return None
    while rest:
        word = rest.pop(0)
        name, eq, value = word.partition("=")
        if name not in ("--host", "--port", "--timeout") or name in flags:
            return None
        if not eq:
            if not rest:
                return None
            value = rest.pop(0)
        flags[name] = value
    return kind, flags


def main(args: list[str]) -> int | None:
    """Run a plain ``probe`` (``args``: the words after ``probe``) and return its exit code;
    None when the command line is not a plain one (the caller parses it in full)."""
    plain = _plain_arguments(args)
    if plain is None:
        return None
    kind, flags = plain
    host = reachable(flags.get("--host", os.environ.get("SUPERVISOR_HEALTH_HOST", "127.0.0.1")))
    raw_port = flags.get("--port", os.environ.get("SUPERVISOR_HEALTH_PORT", str(DEFAULT_PORT))).strip()
    timeout = _seconds(flags["--timeout"]) if "--timeout" in flags else DEFAULT_TIMEOUT
    if not (raw_port.isascii() and raw_port.isdigit() and 1 <= int(raw_port) <= 65535):
        return None  # the full command line says what is wrong, as it does for `status`
    if timeout is None or timeout > MAX_TIMEOUT:
        return None
    code, line = probe(kind, host, int(raw_port), timeout)
    if sys.stdout is None:  # started with stdout closed: the verdict is the exit code
        return code
    try:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()
    except (OSError, ValueError) as exc:
        if sys.stderr is not None:
            try:
                sys.stderr.write(f"supervisor: cannot write the output: {getattr(exc, 'strerror', None) or exc}\n")
                sys.stderr.flush()
            except (OSError, ValueError):
                pass
        return exitcodes.OUTPUT_ERROR
    return code


def probe(kind: str, host: str, port: int, timeout: float) -> tuple[int, str]:
    """(exit code, the one line to print)."""
    path = "/livez" if kind == "live" else "/readyz"
    url = f"http://[{host}]:{port}{path}" if ":" in host else f"http://{host}:{port}{path}"
    started = time.monotonic()
    try:
        status, data = _ask(host, port, path, started + timeout)
    except OSError as exc:
        why = "no answer within the timeout" if isinstance(exc, TimeoutError) else (exc.strerror or str(exc))
        return exitcodes.CHECK_FAILED, f"not {kind}: {url}: {why or type(exc).__name__}"
    ms = f"{(time.monotonic() - started) * 1000:.1f} ms"
    if status == 200:
        return exitcodes.OK, f"{kind}: {url} answered 200 in {ms}"
    from supervisor.commands import client  # h11: only for an answer that is not a plain 200

    return client.describe_failure(kind, url, data, ms)


def _ask(host: str, port: int, path: str, deadline: float) -> tuple[int | None, bytes]:
    """(the status when the answer starts with a valid status line, else None; the bytes read:
    the status line alone for a 200, else the whole answer). Raises OSError, TimeoutError past
    ``deadline``."""
    # an ASCII name as bytes: a str would load the idna codec (and with it re and unicodedata)
    name: str | bytes = host.encode() if host.isascii() else host
    sock = _connect(name, port, deadline)
    try:
        host_header = f"[{host}]" if ":" in host else host
        request = f"GET {path} HTTP/1.1\r\nHost: {host_header}\r\nConnection: close\r\n\r\n".encode()
        sock.settimeout(_left(deadline))
        sock.sendall(request)
        data = b""
        while b"\r\n" not in data and len(data) < STATUS_LINE_MAX:
            chunk = _receive(sock, deadline)
            if not chunk:
                break
            data += chunk
        status = status_of(data)
        if status == 200:
            return 200, data
        while len(data) < ANSWER_MAX:  # the rest, for h11 to read whole
            chunk = _receive(sock, deadline)
            if not chunk:
                break
            data += chunk
        return status, data
    finally:
        sock.close()


def _connect(name: str | bytes, port: int, deadline: float) -> "_socket.socket":
    """A connected socket to the first address of ``name`` that takes the connection, as
    ``socket.create_connection`` tries them (``localhost`` may be ``::1`` first, and the server
    listen on IPv4 only)."""
    error: OSError | None = None
    for family, kind, proto, _, address in _socket.getaddrinfo(name, port, 0, _socket.SOCK_STREAM):
        sock = _socket.socket(family, kind, proto)
        try:
            sock.settimeout(_left(deadline))
            sock.connect(address)
            return sock
        except OSError as exc:
            sock.close()
            error = exc
            if isinstance(exc, TimeoutError):
                break
    raise error or OSError("the name resolves to no address")


def _left(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError("timed out")
    return left


def _receive(sock: "_socket.socket", deadline: float) -> bytes:
    sock.settimeout(_left(deadline))
    chunk: bytes = sock.recv(65536)
    return chunk


def status_of(data: bytes) -> int | None:
    """The status code of ``data``'s first line when it is an RFC 9112 status line
    (``HTTP/1.1 200 OK``, ``HTTP/1.0 503 ``, reason optional), else None."""
    end = data.find(b"\r\n")
    if end < 0:
        return None
    line = data[:end]
    digits = b"0123456789"
    if not (
        len(line) >= 12
        and line[:5] == b"HTTP/"
        and line[5] in digits
        and line[6:7] == b"."
        and line[7] in digits
        and line[8:9] == b" "
        and all(c in digits for c in line[9:12])
        and (len(line) == 12 or line[12:13] == b" ")
        and all(c == 9 or 32 <= c < 127 or c >= 128 for c in line[13:])  # reason: HTAB, SP, VCHAR, obs-text
    ):
        return None
    return int(line[9:12])
