"""Whatever hangs, an attempt ends at its timeout and /healthz keeps answering."""

import json
import subprocess
import time
from pathlib import Path

import pytest

from tests.helpers import free_port, get, wait_until
from tests.integration.supervised import Launcher

pytestmark = pytest.mark.integration


def test_silent_servers_are_cut_at_the_timeout_while_healthz_answers(silent_port: int, supervise: Launcher) -> None:
    s = supervise.run(
        "sleep",
        "60",
        env={
            "SUPERVISOR_GATE_PG": f"postgresql://postgres@127.0.0.1:{silent_port}/postgres",
            "SUPERVISOR_GATE_REDIS": f"redis://127.0.0.1:{silent_port}/0",
            "SUPERVISOR_GATE_WEB": f"http://127.0.0.1:{silent_port}/health",
            "SUPERVISOR_GATE_PG__TIMEOUT": "500ms",
            "SUPERVISOR_GATE_REDIS__TIMEOUT": "500ms",
            "SUPERVISOR_GATE_WEB__TIMEOUT": "500ms",
            "SUPERVISOR_BACKOFF_MAX": "200ms",
        },
    )
    s.wait_listening()
    latencies = []
    end = time.monotonic() + 2.5
    while time.monotonic() < end:
        t = time.monotonic()
        assert s.get("/healthz", timeout=1.0).status == 200
        latencies.append(time.monotonic() - t)
    doc = json.loads(s.get("/readyz?format=json").body)
    for name in ("pg", "redis", "web"):
        check = doc["checks"][name][0]
        assert check["status"] == "fail", check
        assert check["attempts"] >= 2, check
        # psycopg's own connect_timeout floor is 2 s and redis-py would retry: our deadline holds
        assert 480 <= check["observedValue"] < 1500, check
        assert "timed out after 500ms" in check["output"], check
    # every probe was answered while gates hung (the bench measures latency; this asserts no stall)
    assert len(latencies) > 20 and max(latencies) < 1.0


def test_hanging_command_gate_kills_its_whole_group(tmp_path: Path, supervise: Launcher) -> None:
    pidfile = tmp_path / "grandchild.pid"
    s = supervise.run(
        "sleep",
        "60",
        env={
            "SUPERVISOR_GATE_HANG": f"cmd:sh -c 'sleep 300 & echo $! > {pidfile}; wait'",
            "SUPERVISOR_GATE_HANG__TIMEOUT": "500ms",
            "SUPERVISOR_STARTUP_TIMEOUT": "30s",
        },
    )
    s.wait_listening()
    grandchild = int(wait_until(lambda: pidfile.exists() and pidfile.read_text().strip(), 10, "grandchild pid"))

    def gone() -> bool:
        try:
            state = Path(f"/proc/{grandchild}/stat").read_text().split(")")[-1].split()[0]
        except FileNotFoundError:
            return True
        return state == "Z"  # killed, waiting for its (non-supervisor) parent to reap it

    wait_until(gone, 5, "the backgrounded grandchild to be killed")
    doc = json.loads(s.get("/readyz?format=json").body)
    assert "timed out after 500ms" in doc["checks"]["hang"][0]["output"]


def test_four_one_second_gates_run_concurrently() -> None:
    env = {f"SUPERVISOR_GATE_G{i}": "cmd:sleep 1" for i in range(4)}
    from tests.helpers import clean_env, supervisor_argv

    started = time.monotonic()
    result = subprocess.run(
        [*supervisor_argv(), "check"], env=clean_env(**env), capture_output=True, text=True, timeout=30
    )
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("[+]") == 4
    # serially this takes 4 s; concurrently about 1 s plus interpreter start-up
    assert elapsed < 2.5, elapsed


def test_app_probe_http(supervise: Launcher) -> None:
    from tests.integration.supervised import gunicorn_argv

    app_port = free_port()
    s = supervise.run(*gunicorn_argv(app_port), env={"SUPERVISOR_APP_PROBE": f"http://127.0.0.1:{app_port}/"})
    s.wait_ready()
    assert get(app_port, "/").status == 200
    assert json.loads(s.get("/readyz?format=json").body)["checks"]["app-probe"][0]["status"] == "pass"
