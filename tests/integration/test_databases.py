"""Real PostgreSQL and Redis servers, real gunicorn: the scenarios the supervisor exists for."""

import json
import signal
import time
from typing import Any

import pytest

from tests.helpers import free_port, get, status_of, wait_until
from tests.integration.supervised import Launcher, Supervised, gunicorn_argv
from tests.servers import PgFactory, PgServer, RedisFactory, RedisServer

pytestmark = pytest.mark.integration


def readyz_json(s: Supervised) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(s.get("/readyz?format=json").body)
    return doc


def test_gates_pass_and_the_app_serves(pg: PgServer, redis_server: RedisServer, supervise: Launcher) -> None:
    app_port = free_port()
    s = supervise.run(
        *gunicorn_argv(app_port),
        env={"SUPERVISOR_GATE_DATABASE": pg.url, "SUPERVISOR_GATE_CACHE": redis_server.url},
    )
    s.wait_ready()
    assert get(app_port, "/").text == "hello\n"
    doc = readyz_json(s)
    assert doc["status"] == "pass" and doc["phase"] == "running"
    assert set(doc["checks"]) == {"database", "cache", "app-probe"}
    assert doc["child"]["state"] == "running" and doc["child"]["pid"] > 0
    wait_until(lambda: s.status("/metrics") == 200, 10, "/metrics")  # loaded after the drivers
    metrics = s.get("/metrics").text
    assert "supervisor_ready 1.0" in metrics
    assert 'supervisor_gate_up{gate="database"} 1.0' in metrics
    assert 'supervisor_phase{phase="running"} 1.0' in metrics
    assert 'supervisor_gate_checks_total{gate="cache",reason="",result="pass"}' in metrics
    assert "supervisor_gate_check_duration_seconds_bucket" in metrics
    assert "supervisor_child_restarts_total 0.0" in metrics
    assert "_created" not in metrics  # prometheus-client's creation-time gauges are noise here
    s.signal(signal.SIGTERM)
    assert s.wait(15) == 0


@pytest.mark.slow
def test_database_down_at_start_degrades_then_recovers(pg_factory: PgFactory, supervise: Launcher) -> None:
    pg: PgServer = pg_factory.new(start=False)
    app_port = free_port()
    s = supervise.run(
        *gunicorn_argv(app_port),
        env={
            "SUPERVISOR_GATE_DATABASE": pg.url,
            "SUPERVISOR_GATE_DATABASE__TIMEOUT": "1s",
            "SUPERVISOR_STARTUP_TIMEOUT": "1s",
            "SUPERVISOR_BACKOFF_MAX": "500ms",
        },
    )
    s.wait_listening()
    wait_until(lambda: readyz_json(s)["phase"] == "degraded", 10, "phase degraded")
    assert s.status("/healthz") == 200
    reply = s.get("/readyz?verbose")
    assert reply.status == 503 and "[-]database failed:" in reply.text
    assert status_of(app_port, "/") is None  # nothing spawned while the database is missing
    assert "degraded: not ready because database:" in s.output()
    pg.start()
    s.wait_ready(20)
    assert get(app_port, "/").status == 200


@pytest.mark.slow
def test_database_lost_after_ready_turns_readiness_off_and_back(pg: PgServer, supervise: Launcher) -> None:
    app_port = free_port()
    interval, timeout = 1.0, 1.0
    s = supervise.run(
        *gunicorn_argv(app_port),
        env={
            "SUPERVISOR_GATE_DATABASE": pg.url,
            "SUPERVISOR_GATE_DATABASE__TIMEOUT": "1s",
            "SUPERVISOR_CHECK_INTERVAL": "1s",
            "SUPERVISOR_BACKOFF_MAX": "500ms",
        },
    )
    s.wait_ready()
    pg.stop()
    stopped = time.monotonic()
    # interval + timeout, plus slack for process scheduling on a loaded CI machine
    wait_until(lambda: s.status("/readyz") == 503, interval + timeout + 1.5, "/readyz 503 after the database stopped")
    assert time.monotonic() - stopped <= interval + timeout + 1.5
    assert s.status("/healthz") == 200
    assert get(app_port, "/").status == 200  # the app keeps serving
    assert "[-]database failed" in s.get("/readyz?verbose").text
    pg.start()
    s.wait_ready(15)
    assert s.proc.poll() is None


def test_redis_with_wrong_password_fails_with_a_reason(redis_factory: RedisFactory, supervise: Launcher) -> None:
    r: RedisServer = redis_factory.new("--requirepass", "right-one-7")
    s = supervise.run(
        "sleep",
        "30",
        env={"SUPERVISOR_GATE_CACHE": f"redis://:wrong-pass-5@127.0.0.1:{r.port}/0", "SUPERVISOR_LOG_LEVEL": "debug"},
    )
    s.wait_listening()
    wait_until(lambda: readyz_json(s)["checks"]["cache"][0].get("attempts", 0) >= 2, 10, "two attempts")
    out = readyz_json(s)["checks"]["cache"][0]["output"]
    assert "PING failed" in out or "invalid" in out.lower() or "auth" in out.lower(), out
