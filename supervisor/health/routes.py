"""What each health endpoint answers: a pure function of the request and a state snapshot.

A probe never triggers a check: answers come from what the gate engine last recorded, so any
number of probes costs the dependencies nothing.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qs, unquote

from supervisor.core.checks import APP_PROCESS
from supervisor.core.readiness import Snapshot, decide, finding_of, process_finding
from supervisor.core.redaction import shorten
from supervisor.health import render

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


OPENMETRICS = "application/openmetrics-text"
FORMATS = ("json", "text")  # the values of ?format=
# what /readyz can answer, in the server's order of preference: a tie of q-values goes to text
READYZ_TYPES = ("text/plain", HEALTH_JSON, "application/json")
METRICS_TYPES = ("text/plain", OPENMETRICS)


def _ranges(accept: str) -> list[tuple[str, str, float, str]]:
    """The media ranges of an ``Accept`` value: (type, subtype, q, the range as written); a
    range that is not ``type/subtype`` or whose q is not a number from 0 to 1 is left out."""
    ranges = []
    for part in accept.split(","):
        media, *params = part.split(";")
        kind, slash, sub = media.strip().lower().partition("/")
        if not slash or not kind or not sub or (kind == "*" and sub != "*"):
            continue
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value.strip())
                except ValueError:
                    q = -1.0
        if 0.0 <= q <= 1.0:
            ranges.append((kind, sub, q, part.strip()))
    return ranges


def negotiate(accept: str, offers: tuple[str, ...]) -> tuple[str, str]:
    """(the offer to answer with, the range of ``accept`` that chose it, "" for a wildcard).

    Each offer takes the q of the most specific range that matches it (RFC 9110, section
    12.5.1); the highest q wins, a tie goes to the earlier offer (the server's preference), and
    q=0 means not acceptable. With no usable ``Accept``, or when it accepts none of the offers, the first
    offer (the header is disregarded, as the RFC allows, rather than a probe being refused).
    """
    ranges = _ranges(accept)
    best = 0.0
    chosen = (offers[0], "")
    for offer in offers:
        kind, _, sub = offer.partition("/")
        matches = [
            (2 if (k, s) == (kind, sub) else 1 if k == kind and s == "*" else 0, q, written)
            for k, s, q, written in ranges
            if (k, s) in ((kind, sub), (kind, "*"), ("*", "*"))
        ]
        if not matches:
            continue
        specificity, q, written = max(matches, key=lambda m: m[:2])  # the most specific range
        if q > best:  # strictly: on a tie the earlier offer stays
            best, chosen = q, (offer, written if specificity == 2 else "")
    return chosen


def wants_json(query: dict[str, list[str]], accept: str) -> bool:
    """``?format=`` first (its values are checked by ``bad_format``), else the ``Accept`` header."""
    if query.get("format"):
        return query["format"][-1] == "json"
    return negotiate(accept, READYZ_TYPES)[0] != "text/plain"


def bad_format(query: dict[str, list[str]]) -> Response | None:
    """400 for a ``?format=`` value we do not serve, naming those we do."""
    unknown = [value for value in query.get("format", []) if value not in FORMATS]
    if not unknown:
        return None
    shown = shorten(unknown[0], 40)  # from the request: masked whole, then cut
    return _text(400, f"bad request: format={shown!r} is not served; accepted: {', '.join(FORMATS)}\n")


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
        check = finding_of(state)
    elif name == APP_PROCESS:
        check = process_finding(snapshot)
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
    # each segment percent-decoded on its own (/readyz/%64b is /readyz/db), so that an encoded
    # slash stays inside its segment: /readyz%2Fdb is no path of ours
    segments = [unquote(segment, errors="replace") for segment in (split[0].rstrip("/") or "/").split("/")[1:]]
    path = "/" + segments[0]
    query = parse_qs(split[1], keep_blank_values=True)
    one = len(segments) == 2 and path == "/readyz"
    known = len(segments) == 1 and (path in LIVENESS_PATHS or path in ("/metrics", "/readyz"))
    if not known and not one:
        return _text(404, "not found: try /healthz, /readyz or /metrics\n")
    if method not in ("GET", "HEAD"):
        return Response(405, b"method not allowed\n", TEXT, (("Allow", "GET, HEAD"),))
    if path in LIVENESS_PATHS:
        return _text(200, "ok")
    if path == "/metrics":
        if metrics is None:
            return _text(503, "metrics are not ready yet\n")
        # prometheus-client reads the header without q-values: it is given the chosen range only
        body, content_type = metrics(negotiate(accept, METRICS_TYPES)[1])
        return Response(200, body, content_type)
    refused = bad_format(query)
    if refused is not None:
        return refused
    if not one:
        return _readyz(snapshot(), query, accept, withhold)
    return _one_check(snapshot(), segments[1], query, accept, withhold)
