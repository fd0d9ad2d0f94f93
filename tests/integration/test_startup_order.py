"""The start-up order on the real thing: AFTER, task timeouts, cycles, the timeline."""

import json
import re
from pathlib import Path

import pytest

from tests.helpers import cli, wait_until
from tests.integration.supervised import Launcher


def test_a_task_after_one_gate_runs_while_another_gate_still_fails(supervise: Launcher, tmp_path: Path) -> None:
    release, migrated, app = tmp_path / "release", tmp_path / "migrated", tmp_path / "app"
    s = supervise.run(
        "sh",
        "-c",
        f"test -e {migrated} && touch {app} && exec sleep 60",
        env={
            "SUPERVISOR_GATE_DB": "config:HOME",
            "SUPERVISOR_GATE_SLOW": f"cmd:test -e {release}",
            "SUPERVISOR_BACKOFF_MAX": "100ms",
            "SUPERVISOR_PRESTART_MIGRATE": f"touch {migrated}",
            "SUPERVISOR_PRESTART_MIGRATE__AFTER": "db",
        },
    )
    wait_until(migrated.exists, 10, "migrate to run while the slow gate fails")
    wait_until(lambda: "[+]prestart-migrate ok" in s.get("/readyz?verbose").text, 10, "migrate reported")
    body = s.get("/readyz?verbose").text
    assert "[-]slow failed: exit-status: exit status 1" in body and not app.exists()
    doc = json.loads(s.get("/readyz?format=json").body)
    assert doc["checks"]["prestart-migrate"][0]["after"] == ["db"]
    assert doc["checks"]["prestart-migrate"][0]["firstPassed"] is not None
    assert doc["timeline"]["spawned"] is None
    release.touch()
    s.wait_ready()
    wait_until(app.exists, 10, "the app to run")  # ready means running: its first command may lag
    doc = json.loads(s.get("/readyz?format=json").body)
    timeline = doc["timeline"]
    assert 0 < timeline["spawnedAfter"] <= timeline["readyAfter"]
    metrics = s.get("/metrics").text
    assert 'supervisor_startup_milestone_seconds{milestone="ready"}' in metrics
    assert 'supervisor_startup_check_seconds{gate="prestart-migrate"}' in metrics
    assert 'supervisor_gate_checks_total{gate="prestart-migrate",reason="",result="pass"} 1.0' in metrics
    for name, (entry,) in doc["checks"].items():  # every attempt counted, those before the metrics loaded too
        counted = sum(
            float(line.rsplit(" ", 1)[1])
            for line in metrics.splitlines()
            if line.startswith(f'supervisor_gate_checks_total{{gate="{name}",')
        )
        assert counted == entry["attempts"], (name, counted, entry["attempts"])
    status = cli("status", "--port", str(s.port), env={})
    assert status.returncode == 0, status.stdout + status.stderr
    row = next(line for line in status.stdout.splitlines() if line.startswith("prestart-migrate"))
    assert row.split()[5] == "db"  # the WAITS FOR column, after a two-word LAST PASS
    assert re.fullmatch(r"\+\d+\.\d{3}s\.\.\+\d+\.\d{3}s", row.split()[6]), row  # started..first passed
    assert "start-up: app spawned after" in status.stdout and ", ready after" in status.stdout


def test_a_gate_after_a_task_waits_for_it(supervise: Launcher, tmp_path: Path) -> None:
    marker = tmp_path / "schema"
    s = supervise.run(
        "sleep",
        "60",
        env={
            "SUPERVISOR_GATE_SCHEMA": f"cmd:test -e {marker}",
            "SUPERVISOR_GATE_SCHEMA__AFTER": "migrate",
            "SUPERVISOR_PRESTART_MIGRATE": f"touch {marker}",
            "SUPERVISOR_PRESTART_MIGRATE__AFTER": "",
        },
    )
    s.wait_ready()
    doc = json.loads(s.get("/readyz?format=json").body)
    schema = doc["checks"]["schema"][0]
    assert schema["attempts"] == 1 and schema["after"] == ["prestart-migrate"]  # never tried too early


def test_a_task_over_its_timeout_is_killed_and_the_startup_degrades(supervise: Launcher) -> None:
    s = supervise.run(
        "sleep",
        "60",
        env={"SUPERVISOR_PRESTART_SLOW": "sleep 30", "SUPERVISOR_PRESTART_SLOW__TIMEOUT": "200ms"},
    )
    wait_until(lambda: "timed out after 200ms" in s.get("/readyz?verbose").text, 10, "the task to time out")
    assert s.status("/readyz") == 503 and s.status("/healthz") == 200
    assert "[-]app-process failed: not started yet: phase degraded" in s.get("/readyz?verbose").text


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        (
            {
                "SUPERVISOR_GATE_A": "config:HOME",
                "SUPERVISOR_GATE_A__AFTER": "b",
                "SUPERVISOR_GATE_B": "config:HOME",
                "SUPERVISOR_GATE_B__AFTER": "a",
            },
            "the start-up order has a cycle: a -> b -> a",
        ),
        ({"SUPERVISOR_GATE_A": "config:HOME", "SUPERVISOR_GATE_A__AFTER": "nosuch"}, "no gate or pre-start task"),
        (
            {"SUPERVISOR_GATE_A": "config:HOME", "SUPERVISOR_PRESTART_T": "true", "SUPERVISOR_GATE_A__AFTER": "t"},
            "the start-up order has a cycle: a -> prestart-t -> a",
        ),
        ({"SUPERVISOR_PRESTART_T": "true", "SUPERVISOR_PRESTART_T__BOGUS": "1"}, "SUPERVISOR_PRESTART_T__BOGUS"),
        ({"SUPERVISOR_PRESTART_T": "true", "SUPERVISOR_PRESTART_T__TIMEOUT": "soon"}, "SUPERVISOR_PRESTART_T__TIMEOUT"),
        ({"SUPERVISOR_GATE_A": "config:HOME", "SUPERVISOR_GATE_A__AFTER": "a b"}, "SUPERVISOR_GATE_A__AFTER"),
    ],
)
def test_bad_orders_are_exit_78_with_one_line(env: dict[str, str], expected: str) -> None:
    r = cli("config", env=env)
    assert r.returncode == 78, r.stdout + r.stderr
    problems = [line for line in r.stderr.splitlines() if "configuration invalid" not in line]
    assert len(problems) == 1 and expected in problems[0], r.stderr
    assert "Traceback" not in r.stderr


def test_config_shows_what_each_check_waits_for(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_text(
        '[gates.db]\nurl = "config:HOME"\n'
        '[prestart.migrate]\ncommand = ["true"]\nafter = ["db"]\ntimeout = "5m"\n'
        '[prestart]\nstatic = "true"\n'
    )
    r = cli("config", "--json", "--config", str(path), env={})
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["prestart"]["migrate"] == {"command": ["true"], "after": ["db"], "timeout": "5m"}
    assert doc["prestart"]["static"]["after"] == ["db", "prestart-migrate"]
