"""The app's lifecycle under the supervisor: spawn after gates, exit codes, stop signals."""

import json
import signal
import time
from pathlib import Path

import pytest

from tests.helpers import free_port, get, wait_until
from tests.integration.supervised import Launcher, gunicorn_argv, http_server_argv

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(
    ("script", "code"), [("exit 0", 0), ("exit 3", 3), ("kill -TERM $$", 143), ("kill -KILL $$", 137)]
)
def test_exit_code_is_the_childs(supervise: Launcher, script: str, code: int) -> None:
    s = supervise.run("sh", "-c", script)
    assert s.wait(10) == code


def test_sigterm_while_gating_cancels_gates_and_spawns_nothing(tmp_path: Path, supervise: Launcher) -> None:
    marker = tmp_path / "spawned"
    s = supervise.run(
        "touch",
        str(marker),
        env={
            "SUPERVISOR_GATE_NEVER": f"tcp://127.0.0.1:{free_port()}",
            "SUPERVISOR_GATE_SLOW": "cmd:sleep 30",
            "SUPERVISOR_GATE_SLOW__TIMEOUT": "60s",
        },
    )
    s.wait_listening()
    sent = time.monotonic()
    s.signal(signal.SIGTERM)
    assert s.wait(5) == 143
    assert time.monotonic() - sent < 1.0
    assert not marker.exists()


def test_sigint_while_gating_exits_130(supervise: Launcher) -> None:
    s = supervise.run("true", env={"SUPERVISOR_GATE_NEVER": f"tcp://127.0.0.1:{free_port()}"})
    s.wait_listening()
    s.signal(signal.SIGINT)
    assert s.wait(5) == 130


def test_startup_timeout_exit_mode_exits_69_and_names_the_gate(supervise: Launcher) -> None:
    s = supervise.run(
        "true",
        env={
            "SUPERVISOR_GATE_NEVER": f"tcp://127.0.0.1:{free_port()}",
            "SUPERVISOR_STARTUP_TIMEOUT": "500ms",
            "SUPERVISOR_ON_STARTUP_TIMEOUT": "exit",
        },
    )
    assert s.wait(10) == 69
    assert "gates did not pass within 500ms: never:" in s.output()


def test_sigterm_is_forwarded_and_readiness_drops_at_once(supervise: Launcher, tmp_path: Path) -> None:
    got = tmp_path / "got-term"
    script = f"trap 'touch {got}; sleep 1; exit 0' TERM; while :; do sleep 0.05; done"
    s = supervise.run("sh", "-c", script)
    s.wait_ready()
    s.signal(signal.SIGTERM)
    wait_until(lambda: s.status("/readyz") == 503 or s.proc.poll() is not None, 2, "readiness off")
    wait_until(got.exists, 5, "the child's TERM handler")
    assert s.wait(10) == 0
    assert "phase running -> stopping" in s.output()


def test_child_ignoring_sigterm_is_killed_after_stop_timeout(supervise: Launcher, tmp_path: Path) -> None:
    trapped = tmp_path / "trapped"
    s = supervise.run(
        "sh",
        "-c",
        f"trap '' TERM; touch {trapped}; while :; do sleep 0.05; done",
        env={"SUPERVISOR_STOP_TIMEOUT": "500ms"},
    )
    s.wait_ready()
    wait_until(trapped.exists, 10, "the app's trap in place")  # a SIGTERM before it would end sh: 143
    s.signal(signal.SIGTERM)
    assert s.wait(10) == 137
    assert "did not stop within 500ms" in s.output()


def test_second_sigterm_kills_at_once(supervise: Launcher, tmp_path: Path) -> None:
    trapped = tmp_path / "trapped"
    script = f"trap '' TERM; touch {trapped}; while :; do sleep 0.05; done"
    s = supervise.run("sh", "-c", script, env={"SUPERVISOR_STOP_TIMEOUT": "60s"})
    s.wait_ready()
    wait_until(trapped.exists, 10, "the app's trap in place")
    s.signal(signal.SIGTERM)
    wait_until(lambda: "forwarded SIGTERM" in s.output(), 5, "the first SIGTERM forwarded")
    s.signal(signal.SIGTERM)
    assert s.wait(5) == 137


@pytest.mark.parametrize("program", ["/nonexistent/app", "no-such-program-anywhere", "not-executable"])
def test_a_missing_app_command_is_a_config_error_before_any_gate(
    supervise: Launcher, tmp_path: Path, program: str
) -> None:
    if program == "not-executable":
        program = str(tmp_path / "app.sh")
        Path(program).write_text("#!/bin/sh\n")
        Path(program).chmod(0o644)
    gate = {"SUPERVISOR_GATE_NEVER": f"tcp://127.0.0.1:{free_port()}"}  # would hold the start for ever
    s = supervise.run(program, env=gate)
    assert s.wait(10) == 78
    lines = [line for line in s.output().splitlines() if program in line]
    assert len(lines) == 1 and "the command after --" in lines[0], s.output()
    assert "Traceback" not in s.output()


def test_health_port_in_use_exits_71(supervise: Launcher) -> None:
    first = supervise.run("sleep", "30")
    first.wait_listening()
    second = supervise.run("sleep", "30", env={"SUPERVISOR_HEALTH_PORT": str(first.port)})
    assert second.wait(10) == 71
    assert "cannot listen on" in second.output()


def test_gunicorn_graceful_stop_exits_zero(supervise: Launcher) -> None:
    app_port = free_port()
    s = supervise.run(*gunicorn_argv(app_port))
    s.wait_ready()
    doc = json.loads(s.get("/readyz?format=json").body)
    assert doc["checks"]["app-probe"][0]["target"] == f"tcp://127.0.0.1:{app_port}"
    assert get(app_port, "/").status == 200
    s.signal(signal.SIGTERM)
    assert s.wait(15) == 0


def test_output_of_the_app_is_passed_through_unbuffered(supervise: Launcher) -> None:
    s = supervise.run("sh", "-c", "echo line-one; echo line-two >&2; exit 0")
    assert s.wait(10) == 0
    out = s.output()
    assert "line-one" in out and "line-two" in out


# -- no degraded warning for an app probe pending by design ---------------------------------------


def test_no_degraded_warning_for_the_app_probe_before_the_app_runs(supervise: Launcher, tmp_path: Path) -> None:
    flag, app_port = tmp_path / "go", free_port()
    s = supervise.run(
        *http_server_argv(app_port),
        env={
            "SUPERVISOR_GATE_FLAG": f"cmd:test -e {flag}",
            "SUPERVISOR_STARTUP_TIMEOUT": "300ms",
            "SUPERVISOR_APP_PROBE": f"tcp://127.0.0.1:{app_port}",
        },
    )
    s.wait_listening()
    wait_until(lambda: "degraded: not ready because flag" in s.output(), 10, "degraded on the gate")
    flag.touch()
    s.wait_ready(30)
    out = s.output()
    assert "degraded: every critical check passes now; starting the app" in out, out
    assert "app-probe: pending" not in out and "because app-probe" not in out, out
