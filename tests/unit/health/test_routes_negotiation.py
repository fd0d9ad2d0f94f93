"""``health/routes``, what a request asks for: content negotiation with q-values (``/readyz`` and
``/metrics``), percent-decoded paths, and ``?format=`` values, as pure functions."""

import json

import pytest

from supervisor.core.checks import CheckState, record_success
from supervisor.core.readiness import ChildInfo, ChildStatus, Phase, Snapshot
from supervisor.health.routes import METRICS_TYPES, READYZ_TYPES, negotiate, respond

RUNNING = ChildInfo(ChildStatus.RUNNING, pid=42)


def snap() -> Snapshot:
    db = record_success(CheckState("db", "postgresql", "postgresql://u:***@db/app"), now=1000.0, duration=0.01)
    return Snapshot(Phase.RUNNING, (db,), RUNNING, now=1001.0)


def call(path: str, accept: str = "") -> tuple[int, str, str]:
    r = respond("GET", path, accept, snap, lambda a: (a.encode(), "text/plain"))
    return r.status, r.body.decode(), r.content_type


@pytest.mark.parametrize(
    ("accept", "chosen"),
    [
        ("", "text/plain"),
        ("*/*", "text/plain"),
        ("application/json", "application/json"),
        ("application/health+json", "application/health+json"),
        ("application/json;q=0, text/plain", "text/plain"),
        ("application/json; q=0 , text/plain", "text/plain"),
        ("APPLICATION/JSON;Q=0, */*", "text/plain"),
        ("text/plain;q=0.5, application/json", "application/json"),
        ("application/json;q=0.2, text/plain;q=0.9", "text/plain"),
        ("application/json, text/plain", "text/plain"),  # a tie goes to the server's preference
        ("application/*", "application/health+json"),
        ("text/*;q=0.2, */*;q=0.5", "application/health+json"),  # text/* is the range text/plain takes
        ("text/html, application/health+json;q=0.9", "application/health+json"),
        ("text/html", "text/plain"),  # nothing acceptable: the header is disregarded
        ("application/json;q=nope", "text/plain"),  # a malformed range is left out
        ("application/json;q=2", "text/plain"),
        ("garbage, */json", "text/plain"),
    ],
)
def test_q_values_choose_the_readyz_type(accept: str, chosen: str) -> None:
    assert negotiate(accept, READYZ_TYPES)[0] == chosen
    expected = "application/health+json" if chosen != "text/plain" else "text/plain; charset=utf-8"
    assert call("/readyz", accept)[2] == expected


def test_metrics_get_the_chosen_range_only() -> None:
    prometheus = (
        "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,"
        "text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
    )
    assert negotiate(prometheus, METRICS_TYPES) == (
        "application/openmetrics-text",
        "application/openmetrics-text;version=1.0.0",
    )
    assert call("/metrics", "application/openmetrics-text;q=0, text/plain")[1] == "text/plain"
    assert call("/metrics", "application/openmetrics-text;q=0, */*")[1] == ""


def test_paths_are_percent_decoded_segment_by_segment() -> None:
    assert call("/readyz/%64b")[:2] == (200, "ok")
    assert call("/%72eadyz/db?verbose")[:2] == (200, "[+]db ok\n")
    assert call("/healthz%2F")[0] == 404
    assert call("/readyz%2Fdb")[0] == 404
    assert call("/readyz/d%2Fb")[0] == 404
    assert call("/readyz/%ff%fe")[0] == 404
    assert call("/readyz/db/extra")[0] == 404


@pytest.mark.parametrize("query", ["format=xml", "format=", "format=JSON", "format=json&format=x"])
def test_unknown_format_values_are_400_naming_the_accepted_ones(query: str) -> None:
    for path in ("/readyz", "/readyz/db"):
        status, body, _ = call(f"{path}?{query}")
        assert status == 400 and "accepted: json, text" in body


def test_format_wins_over_accept() -> None:
    assert call("/readyz?format=text", "application/json")[1] == "ok"
    assert json.loads(call("/readyz?format=json", "text/plain")[1])["status"] == "pass"
