"""The minimal CI configuration: SQLite whose file a migration creates later, and a cache that
is configured only when its variable is set."""

import json
import sqlite3
import subprocess
from pathlib import Path

import pytest

from tests.helpers import clean_env, free_port, supervisor_argv, wait_until
from tests.integration.supervised import Launcher

pytestmark = pytest.mark.integration


def check(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*supervisor_argv(), "check", "--json"],
        env=clean_env(SUPERVISOR_STARTUP_TIMEOUT="1s", **env),
        capture_output=True,
        text=True,
        timeout=30,
    )


def verdicts(r: subprocess.CompletedProcess[str]) -> dict[str, dict[str, object]]:
    return {name: entries[0] for name, entries in json.loads(r.stdout)["checks"].items()}


def test_a_missing_sqlite_file_in_a_writable_directory_passes(tmp_path: Path) -> None:
    r = check({"SUPERVISOR_GATE_DB": f"sqlite:///{tmp_path}/app.db"})
    assert r.returncode == 0, r.stdout + r.stderr
    assert not (tmp_path / "app.db").exists()  # the gate never creates it


@pytest.mark.parametrize(
    "url, reason",
    [
        ("sqlite:///{tmp}/missing-dir/app.db", "not a writable directory"),
        ("sqlite:///{tmp}/app.db?must_exist=true", "unable to open database file"),
    ],
)
def test_sqlite_gates_that_cannot_pass(tmp_path: Path, url: str, reason: str) -> None:
    r = check({"SUPERVISOR_GATE_DB": url.format(tmp=tmp_path)})
    assert r.returncode == 1
    assert reason in str(verdicts(r)["db"]["output"])


def test_an_existing_database_passes_with_must_exist(tmp_path: Path) -> None:
    sqlite3.connect(tmp_path / "app.db").close()
    assert check({"SUPERVISOR_GATE_DB": f"sqlite:///{tmp_path}/app.db?must_exist=true"}).returncode == 0


def test_a_gate_whose_variable_is_unset_is_skipped_not_passed(supervise: Launcher) -> None:
    env = {"SUPERVISOR_GATE_CACHE": "env:REDIS_URL", "SUPERVISOR_GATE_CACHE__ONLY_IF_SET": "REDIS_URL"}
    r = check(env)
    assert r.returncode == 0, r.stdout + r.stderr
    cache = verdicts(r)["cache"]
    assert cache["skipped"] is True and cache["output"] == "skipped: REDIS_URL is not set" and cache["attempts"] == 0
    s = supervise.run("sleep", "60", env=env)
    s.wait_ready()
    assert "[+]cache skipped: REDIS_URL is not set" in s.get("/readyz?verbose").text
    wait_until(lambda: s.status("/metrics") == 200, 10, "/metrics")  # loaded after the drivers
    metrics = s.get("/metrics").text
    assert "supervisor_ready 1.0" in metrics and 'gate="cache"' not in metrics


def test_a_gate_whose_variable_is_set_is_checked() -> None:
    env = {
        "SUPERVISOR_GATE_CACHE": "env:REDIS_URL",
        "SUPERVISOR_GATE_CACHE__ONLY_IF_SET": "REDIS_URL",
        "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0",
    }
    r = check(env)
    assert r.returncode == 1
    assert verdicts(r)["cache"]["status"] == "fail"


def test_only_if_set_takes_a_variable_name() -> None:
    r = check({"SUPERVISOR_GATE_CACHE": "tcp://h:1", "SUPERVISOR_GATE_CACHE__ONLY_IF_SET": "not a name"})
    assert r.returncode == 78 and "SUPERVISOR_GATE_CACHE__ONLY_IF_SET" in r.stderr
