"""``supervisor probe`` and ``supervisor status``: ask a running supervisor over its health port.

``probe``'s answer is read in ``probe`` (without h11, for its start-up cost) and comes here only
when it is not a plain 200; ``status`` reads the whole report with h11. Only the standard
library and h11: no pydantic, anyio, psycopg, redis or prometheus-client. The address is read as
the server reads it: flags, else ``SUPERVISOR_HEALTH_HOST``/``_PORT``; a wildcard listen address
(``0.0.0.0``, ``::``) is reached on loopback.
"""

import json
import os
import socket
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import h11

from supervisor import exitcodes
from supervisor.core.addresses import reachable
from supervisor.core.redaction import shorten

DEFAULT_PORT = 8081


class UsageError(ValueError):
    """A bad flag or variable value; the message names it."""


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    took: float  # seconds


def address(host: str | None, port: str | None, environ: dict[str, str] | None = None) -> tuple[str, int]:
    env = os.environ if environ is None else environ
    host = host if host is not None else env.get("SUPERVISOR_HEALTH_HOST", "127.0.0.1")
    host = reachable(host)
    raw = port if port is not None else env.get("SUPERVISOR_HEALTH_PORT", str(DEFAULT_PORT))
    origin = "--port" if port is not None else "SUPERVISOR_HEALTH_PORT"
    number = raw.strip()
    if not (number.isascii() and number.isdigit()) or not 1 <= int(number) <= 65535:  # no "٨٠٨١"
        raise UsageError(f"{origin}={raw}: expected a port number from 1 to 65535")
    return host, int(number)


def get(host: str, port: int, path: str, timeout: float) -> Answer:
    """One GET over a fresh connection, within ``timeout`` in all; raises OSError or
    h11.ProtocolError (a late or broken answer is no answer)."""
    started = time.monotonic()
    deadline = started + timeout

    def left() -> float:  # every step gets what is left of the one deadline
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("timed out")
        return remaining

    conn = h11.Connection(h11.CLIENT)
    with socket.create_connection((host, port), timeout=timeout) as sock:
        request = h11.Request(
            method="GET",
            target=path,
            headers=[("Host", f"[{host}]" if ":" in host else host), ("Connection", "close")],
        )
        sock.settimeout(left())
        sock.sendall(conn.send(request) + conn.send(h11.EndOfMessage()))
        status, body = 0, bytearray()
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                sock.settimeout(left())
                conn.receive_data(sock.recv(65536))
            elif isinstance(event, h11.Response):
                status = event.status_code
            elif isinstance(event, h11.Data):
                body += event.data
            elif isinstance(event, h11.EndOfMessage | h11.ConnectionClosed):
                return Answer(status, bytes(body), time.monotonic() - started)


def _why(exc: Exception) -> str:
    return (exc.strerror if isinstance(exc, OSError) else None) or str(exc) or type(exc).__name__


def parse_answer(data: bytes) -> tuple[int, bytes]:
    """(status, body) of a whole answer to a GET, read to its end; raises h11.ProtocolError."""
    conn = h11.Connection(h11.CLIENT)
    conn.send(h11.Request(method="GET", target="/", headers=[("Host", "probe")]))
    conn.send(h11.EndOfMessage())
    conn.receive_data(data)
    conn.receive_data(b"")  # the end of the connection: the server closed it (Connection: close)
    status, body = 0, bytearray()
    while True:
        event = conn.next_event()
        if isinstance(event, h11.Response):
            status = event.status_code
        elif isinstance(event, h11.Data):
            body += event.data
        elif event is h11.NEED_DATA or isinstance(event, h11.EndOfMessage | h11.ConnectionClosed):
            if not status:
                raise h11.RemoteProtocolError("the connection closed before a whole answer")
            return status, bytes(body)


def describe_failure(kind: str, url: str, data: bytes, took: str) -> tuple[int, str]:
    """The probe's line for an answer that is not a plain 200 (``probe``): h11 reads it whole."""
    try:
        status, body = parse_answer(data)
    except h11.ProtocolError as exc:
        return exitcodes.CHECK_FAILED, f"not {kind}: {url}: the answer is not HTTP ({shorten(_why(exc), 120)})"
    if status == 200:
        return exitcodes.OK, f"{kind}: {url} answered 200 in {took}"
    lines = [line for line in body.decode("utf-8", "replace").splitlines() if line.startswith("[-]")]
    detail = f": {'; '.join(line[3:] for line in lines)}" if lines else ""
    return exitcodes.CHECK_FAILED, f"not {kind}: {url} answered {status} in {took}{detail}"


def _since(epoch: str | None) -> str:
    return "-" if not epoch else epoch.replace("T", " ").rstrip("Z").rsplit(".", 1)[0] + "Z"


def _epoch(iso: object) -> float | None:
    if not isinstance(iso, str):
        return None
    try:
        return datetime.fromisoformat(iso).timestamp()
    except (ValueError, OverflowError, OSError):
        return None


def _stage(origin: float | None, started: float | None, passed: float | None) -> str:
    """``+0.085s..+0.481s``: when a check started and first passed, in seconds since the start."""
    if origin is None or started is None:
        return "-"
    end = f"+{passed - origin:.3f}s" if passed is not None else "..."
    return f"+{started - origin:.3f}s..{end}"


def render_status(doc: dict[str, Any]) -> str:
    """The state as a table a person reads after ``docker exec``."""
    child = doc.get("child", {})
    lines = [
        f"phase: {doc.get('phase', '?')}   ready: {'yes' if doc.get('status') == 'pass' else 'no'}   "
        f"app: {child.get('state', '?')}"
        + (f" (pid {child['pid']})" if child.get("pid") else "")
        + (f", exit code {child['exitCode']}" if child.get("exitCode") is not None else "")
        + (f", {child['restarts']} restart(s)" if child.get("restarts") else ""),
    ]
    started = _epoch((doc.get("timeline") or {}).get("started"))
    rows = [("CHECK", "STATUS", "ATTEMPTS", "LAST PASS", "WAITS FOR", "START-UP", "TARGET / LAST ERROR")]
    for name, entries in doc.get("checks", {}).items():
        entry = entries[0]
        note = entry.get("output") or entry.get("target") or ""
        status = "skipped" if entry.get("skipped") else entry.get("status") or "?"
        status += "" if entry.get("critical", True) else " (non-critical)"
        after = ",".join(entry.get("after") or []) or "-"
        stage = _stage(started, _epoch(entry.get("started")), _epoch(entry.get("firstPassed")))
        rows.append((name, status, str(entry.get("attempts", 0)), _since(entry.get("lastSuccess")), after, stage, note))
    if len(rows) == 1:
        return "\n".join([*lines, "no gates or pre-start tasks configured"]) + "\n"
    widths = [max(len(r[i]) for r in rows) for i in range(6)]
    for row in rows:
        first, *more = row[6].split("\n")  # a failure's output: the reason, then what it printed
        lines.append("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:6])) + "  " + first)
        lines.extend(f"    | {line}" for line in more)
    timeline = doc.get("timeline") or {}
    steps = [
        f"{label} after {timeline[key]:.3f} s"
        for key, label in (("spawnedAfter", "app spawned"), ("readyAfter", "ready"))
        if isinstance(timeline.get(key), int | float)
    ]
    if steps:
        lines.append("start-up: " + ", ".join(steps))
    if doc.get("status") != "pass" and doc.get("output"):
        lines.append(f"not ready: {doc['output']}")
    return "\n".join(lines) + "\n"


CHART_WIDTH = 48  # at most; narrower on a narrow terminal
_LINK_NUMBERS = ("startedAfter", "passedAfter")


def _printable(text: str) -> str:
    """A name from the wire, safe to print: a control character could clear or fake lines."""
    return "".join(c if c.isprintable() else "?" for c in text)


def _seconds(value: object) -> bool:
    """A time as a supervisor reports it: a finite, non-negative number (JSON's true is no number)."""
    return not isinstance(value, bool) and isinstance(value, int | float) and 0 <= value < 1e9


def _chain_problem(chain: object) -> str | None:
    """Why ``chain`` is not one a supervisor reports, or None: every value the tree and the chart
    read is checked, as ``_not_a_report`` checks the table's."""
    if not isinstance(chain, list):
        return "chain is not a list"
    for n, link in enumerate(chain):
        if not isinstance(link, dict):
            return f"chain link {n} is not an object"
        if not isinstance(link.get("name"), str) or not isinstance(link.get("role"), str):
            return f"chain link {n}: name or role is not a string"
        for key in _LINK_NUMBERS:
            if not _seconds(link.get(key)):
                return f"chain link {n}: {key} is not a number of seconds"
        if link["passedAfter"] < link["startedAfter"]:
            return f"chain link {n}: it passed before it started"
        attempts = link.get("attempts")
        if isinstance(attempts, bool) or not isinstance(attempts, int) or attempts < 0:
            return f"chain link {n}: attempts is not a count"
        if link.get("waitedFor") is not None and not isinstance(link["waitedFor"], str):
            return f"chain link {n}: waitedFor is not a name"
    return None


def render_chain(doc: dict[str, Any], *, chart: bool, columns: int = 80) -> str:
    """The start-up's critical chain as ``systemd-analyze critical-chain`` prints it: the end
    first, each line what the one above waited for, ``@`` when it started and ``+`` how long it
    took to pass (seconds after the supervisor started). ``chart``: below it, one bar per link
    on a common time axis (text only, for a terminal of ``columns``). ``doc`` has passed
    ``_not_a_report``."""
    chain: list[dict[str, Any]] = doc.get("chain") or []
    if not chain:
        return "no critical chain yet: the app has not been spawned\n"
    ready = (doc.get("timeline") or {}).get("readyAfter")
    ready = ready if _seconds(ready) else None
    head = (
        f"ready after {ready:.3f} s; the chain that set it" if ready is not None else "not ready yet; the chain so far"
    )
    lines = [f"{head} (@ started, + took to pass):"]
    for depth, link in enumerate(reversed(chain)):
        took = link["passedAfter"] - link["startedAfter"]
        what = "spawned" if link["role"] == "app" else f"+{took:.3f}s, {link['attempts']} attempt(s) to pass"
        indent = "  " * (depth - 1) + "└─" if depth else ""
        lines.append(f"{indent}{_printable(link['name'])} @{link['startedAfter']:.3f}s {what}")
    restarts = (doc.get("child") or {}).get("restarts")
    if isinstance(restarts, int) and not isinstance(restarts, bool) and restarts > 0:
        lines.append(
            f"(the app was restarted {restarts} time(s): the chain is of the first start-up, from the first spawn)"
        )
    if chart:
        lines.append("")
        lines += _chart(chain, ready, columns)
    return "\n".join(lines) + "\n"


def _chart(chain: list[dict[str, Any]], ready: float | None, columns: int) -> list[str]:
    names = [_printable(link["name"]) for link in chain]
    width = max(len(name) for name in names)
    bars = max(10, min(CHART_WIDTH, columns - width - 4))
    end = max([ready or 0.0, *(link["passedAfter"] for link in chain)]) or 1.0
    lines = []
    for name, link in zip(names, chain, strict=True):
        first = min(bars - 1, round(link["startedAfter"] / end * bars))
        last = max(first + 1, min(bars, round(link["passedAfter"] / end * bars)))
        bar = " " * first + ("|" if link["role"] == "app" else "#" * (last - first))
        lines.append(f"{name.ljust(width)} [{bar.ljust(bars)}]")
    lines.append(f"{''.ljust(width)}  0 s{f'{end:.3f} s'.rjust(bars - 3)}")
    return lines


def _not_a_report(status: int, doc: object) -> str | None:
    """Why ``doc`` (answered with ``status``) is not a supervisor's readiness report, or None.

    Every value the table reads is checked here, so that whatever answers on the port (the app,
    a proxy's error page, another service's JSON) is told apart in one line, never a traceback.
    """
    if status not in (200, 503):
        return f"HTTP {status}"
    if not isinstance(doc, dict):
        return f"a JSON {type(doc).__name__}, not an object"
    if doc.get("status") not in ("pass", "fail") or not isinstance(doc.get("checks"), dict):
        return "no status and checks"
    for key in ("phase", "output"):
        if not isinstance(doc.get(key, ""), str):
            return f"{key} is not a string"
    for key in ("child", "timeline"):
        if not isinstance(doc.get(key, {}), dict):
            return f"{key} is not an object"
    for name, entries in doc["checks"].items():
        if not isinstance(entries, list) or not entries or not isinstance(entries[0], dict):
            return f"check {shorten(name, 40)!r} is not a list of objects"
        entry = entries[0]
        for key in ("output", "target", "status", "lastSuccess", "started", "firstPassed"):
            if entry.get(key) is not None and not isinstance(entry[key], str):
                return f"check {shorten(name, 40)!r}: {key} is not a string"
        after = entry.get("after")
        if after is not None and (not isinstance(after, list) or not all(isinstance(a, str) for a in after)):
            return f"check {shorten(name, 40)!r}: after is not a list of names"
    return _chain_problem(doc["chain"]) if "chain" in doc else None


def status(
    host: str,
    port: int,
    timeout: float,
    *,
    as_json: bool,
    chain: bool = False,
    chart: bool = False,
    columns: int = 80,
) -> tuple[int, str]:
    """(exit code, text): 0 ready, 1 not ready, 2 nothing answers (or not a supervisor)."""
    try:
        answer = get(host, port, "/readyz?format=json", timeout)
        doc = json.loads(answer.body)
    except (OSError, h11.ProtocolError, ValueError, RecursionError) as exc:
        why = "no answer within the timeout" if isinstance(exc, TimeoutError) else _why(exc)
        if isinstance(exc, ValueError | RecursionError):
            why = f"the answer is not a supervisor's readiness report (not JSON: {shorten(_why(exc), 80)})"
        return exitcodes.NOT_ANSWERING, f"no supervisor answers at {host}:{port}: {why}\n"
    problem = _not_a_report(answer.status, doc)
    if problem is not None:
        return exitcodes.NOT_ANSWERING, (
            f"no supervisor answers at {host}:{port}: the answer is not a supervisor's readiness report ({problem})\n"
        )
    code = exitcodes.OK if answer.status == 200 else exitcodes.CHECK_FAILED
    if as_json:
        return code, json.dumps(doc, indent=2) + "\n"
    return code, render_chain(doc, chart=chart, columns=columns) if chain else render_status(doc)
