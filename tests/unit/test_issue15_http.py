"""Issue 15, the HTTP part, as pure functions: content negotiation with q-values, percent-decoded
paths, ``?format=`` values, listen addresses, ``wait``'s JSON report, and the degraded log line."""

import json
import logging

import pytest

from supervisor.commands import client
from supervisor.commands import wait as waitcmd
from supervisor.core import addresses
from supervisor.core.checks import APP_PROBE, CheckState, Role, record_failure, record_success
from supervisor.core.readiness import ChildInfo, ChildStatus, Phase, Snapshot
from supervisor.health.routes import METRICS_TYPES, READYZ_TYPES, negotiate, respond
from supervisor.runtime import observers

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


@pytest.mark.parametrize(
    ("host", "bare", "reachable", "url"),
    [
        ("0.0.0.0", "0.0.0.0", "127.0.0.1", "127.0.0.1"),
        ("::", "::", "::1", "[::1]"),
        ("[::]", "::", "::1", "[::1]"),
        ("0:0::0", "0:0::0", "::1", "[::1]"),
        ("[::1]", "::1", "::1", "[::1]"),
        ("::1", "::1", "::1", "[::1]"),
        ("localhost", "localhost", "localhost", "localhost"),
        ("", "", "127.0.0.1", "127.0.0.1"),
    ],
)
def test_listen_addresses(host: str, bare: str, reachable: str, url: str) -> None:
    assert addresses.bare(host) == bare
    assert addresses.reachable(host) == reachable
    assert addresses.url_host(host) == url
    assert client.address(host, "8081") == (reachable, 8081)


def test_wait_report_has_one_entry_per_target_in_order() -> None:
    states = tuple(
        record_success(CheckState(f"target{i}", "tcp", "tcp://db:5432"), now=1.0, duration=0.001) for i in (1, 2, 10)
    )
    doc = json.loads(waitcmd.report_json(Snapshot(Phase.GATING, states), True))
    assert list(doc["checks"]) == ["target1", "target2", "target10"]
    assert [e[0]["target"] for e in doc["checks"].values()] == ["tcp://db:5432"] * 3


def test_a_pending_app_probe_is_no_reason_to_be_degraded(caplog: pytest.LogCaptureFixture) -> None:
    probe = CheckState(APP_PROBE, "tcp", "tcp://127.0.0.1:8000", role=Role.APP_PROBE)
    gate = CheckState("db", "tcp", "tcp://db:5432")
    failing = record_failure(gate, now=1.0, duration=0.01, error="refused")
    passing = record_success(failing, now=2.0, duration=0.01)
    child = ChildInfo()
    gating = Snapshot(Phase.GATING, (failing, probe), child)
    degraded = Snapshot(Phase.DEGRADED, (failing, probe), child)
    recovered = Snapshot(Phase.DEGRADED, (passing, probe), child)
    spawned = Snapshot(Phase.DEGRADED, (passing, probe), RUNNING)
    with caplog.at_level(logging.INFO):
        observers.log_changes(gating, degraded)
        observers.log_changes(degraded, recovered)
        observers.log_changes(recovered, spawned)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [
        "degraded: not ready because db: refused",
        "degraded: every critical check passes now; starting the app",
    ]
    caplog.clear()
    answered = record_failure(probe, now=3.0, duration=0.01, error="refused")  # the app ran, then its probe failed
    with caplog.at_level(logging.INFO):
        observers.log_changes(spawned, Snapshot(Phase.DEGRADED, (passing, answered), RUNNING))
    assert "degraded: not ready because app-probe: refused" in caplog.text
