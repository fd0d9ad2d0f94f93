"""What each health endpoint answers: a pure function of the request and a state snapshot.

A probe never triggers a check: answers come from what the gate engine last recorded, so any
number of probes costs the dependencies nothing.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qs

from supervisor.checks import APP_PROCESS
from supervisor.health import render
from supervisor.readiness import Snapshot, decide, process_check, state_check

TEXT = "text/plain; charset=utf-8"
HEALTH_JSON = "application/health+json"
LIVENESS_PATHS = ("/healthz", "/livez")

MetricsRenderer = Callable[[str], tuple[bytes, str]]


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes
    content_type: str = TEXT
    headers: tuple[tuple[str, str], ...] = field(default_factory=tuple)


def _text(status: int, body: str) -> Response:
    return Response(status, body.encode())


def wants_json(query: dict[str, list[str]], accept: str) -> bool:
    if query.get("format", [""])[-1] == "json":
        return True
    accepted = [part.split(";")[0].strip().lower() for part in accept.split(",")]
    return "application/json" in accepted or HEALTH_JSON in accepted


def _readyz(snapshot: Snapshot, query: dict[str, list[str]], accept: str, withhold: bool) -> Response:
    exclude = [name for value in query.get("exclude", []) for name in value.split(",") if name]
    verdict = decide(snapshot, exclude)
    status = 200 if verdict.ready else 503
    if wants_json(query, accept):
        report = render.health_json(snapshot, verdict)
        return Response(status, render.dumps(render.withheld(report) if withhold else report).encode(), HEALTH_JSON)
    if "verbose" in query or not verdict.ready:
        return _text(status, render.verbose_text(render.withheld_verdict(verdict) if withhold else verdict))
    return _text(status, "ok")


def _one_check(snapshot: Snapshot, name: str, query: dict[str, list[str]], accept: str, withhold: bool) -> Response:
    state = snapshot.check(name)
    if state is not None:
        check = state_check(state)
    elif name == APP_PROCESS:
        check = process_check(snapshot)
    else:
        return _text(404, f"no check named {name!r}\n")
    status = 200 if check.ok else 503
    if wants_json(query, accept) and state is not None:
        report = {"status": "pass" if check.ok else "fail", "checks": {name: [render.check_json(state)]}}
        return Response(status, render.dumps(render.withheld(report) if withhold else report).encode(), HEALTH_JSON)
    if withhold:
        check = render.withheld_check(check)
    return _text(status, "ok" if check.ok and "verbose" not in query else render.check_line(check) + "\n")


def split_target(target: str) -> tuple[str, str] | None:
    """(path, query) of a request target in origin form (``/readyz?verbose``) or absolute form
    (``http://host/readyz``); None for anything else.

    No URL parser: a probe's target is a path, and a general parser has opinions (``//[`` is an
    unclosed IPv6 host to urllib) that would turn a client's typo into a server error. h11 has
    already checked that the target is visible ASCII.
    """
    if not target.startswith("/"):
        scheme, sep, rest = target.partition("://")
        if not sep or scheme.lower() not in ("http", "https"):
            return None
        cut = min((i for i in (rest.find("/"), rest.find("?")) if i >= 0), default=len(rest))
        if rest[:cut].count("[") != rest[:cut].count("]"):  # the host part is malformed
            return None
        target = rest[cut:] if rest[cut:].startswith("/") else "/" + rest[cut:]
    target = target.partition("#")[0]
    path, _, query = target.partition("?")
    return path, query


def respond(
    method: str,
    target: str,
    accept: str,
    snapshot: Callable[[], Snapshot],
    metrics: MetricsRenderer | None,
    *,
    withhold: bool = False,
) -> Response:
    """The response to one request; ``snapshot`` is called only by endpoints that need state.
    ``withhold``: the caller is told that checks fail, not why (``SUPERVISOR_HEALTH_REASONS``)."""
    split = split_target(target)
    if split is None:
        return _text(400, "bad request: the target must be a path such as /readyz\n")
    path = split[0].rstrip("/") or "/"
    query = parse_qs(split[1], keep_blank_values=True)
    known = path in LIVENESS_PATHS or path == "/metrics" or path == "/readyz" or path.startswith("/readyz/")
    if not known:
        return _text(404, "not found: try /healthz, /readyz or /metrics\n")
    if method not in ("GET", "HEAD"):
        return Response(405, b"method not allowed\n", TEXT, (("Allow", "GET, HEAD"),))
    if path in LIVENESS_PATHS:
        return _text(200, "ok")
    if path == "/metrics":
        if metrics is None:
            return _text(503, "metrics are not ready yet\n")
        body, content_type = metrics(accept)
        return Response(200, body, content_type)
    if path == "/readyz":
        return _readyz(snapshot(), query, accept, withhold)
    return _one_check(snapshot(), path[len("/readyz/") :], query, accept, withhold)
