"""Every failure says why: a ``cmd:`` gate's findings reach ``check``, ``/readyz``, ``status``
and the log, with a real Django ``check --deploy``."""

import json
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers import ROOT, clean_env, cli, free_port, supervisor_argv, wait_until
from tests.integration.supervised import Launcher

pytestmark = pytest.mark.integration
django = pytest.importorskip("django", reason="the test extra installs Django")
MANAGE = ROOT / "examples/django/manage.py"
W009 = "?: (security.W009) Your SECRET_KEY has less than 50 characters"


def deploy_env(tmp_path: Path) -> dict[str, str]:
    return {
        "SECRET_KEY": "short",  # Django's security.W009: fails `check --deploy --fail-level WARNING`
        "DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3",
        "SUPERVISOR_GATE_DEPLOY": f"cmd:{sys.executable} {MANAGE} check --deploy --fail-level WARNING",
        "SUPERVISOR_GATE_DEPLOY__TIMEOUT": "30s",
    }


def test_check_shows_the_finding_above_djangos_summary_line(tmp_path: Path) -> None:
    once = {**deploy_env(tmp_path), "SUPERVISOR_STARTUP_TIMEOUT": "4s"}  # a cold Django start fits, also when busy
    r = cli("check", env=once)
    assert r.returncode == 1, r.stdout + r.stderr
    first = next(line for line in r.stdout.splitlines() if line.startswith("[-] deploy"))
    assert "exit status 1: ?: (security.W009)" in first  # the one line names the finding, not the summary
    assert f"| {W009}" in r.stdout and "| WARNINGS:" in r.stdout
    as_json = cli("check", "--json", env=once)
    output = json.loads(as_json.stdout)["checks"]["deploy"][0]["output"]
    assert output.splitlines()[0].startswith("exit-status: exit status 1: ?: (security.W009)")
    assert W009 in output.splitlines()[2]


def test_run_shows_it_in_readyz_status_and_the_log_once(supervise: Launcher, tmp_path: Path) -> None:
    s = supervise.run("sleep", "60", env={**deploy_env(tmp_path), "SUPERVISOR_STARTUP_TIMEOUT": "60s"})
    s.wait_listening()

    def deploy() -> dict[str, object]:
        entry: dict[str, object] = json.loads(s.get("/readyz?format=json").body)["checks"]["deploy"][0]
        return entry

    wait_until(lambda: deploy()["attempts"] >= 2, 30, "two failed attempts of the deploy check")  # type: ignore[operator]
    output = str(deploy()["output"])
    assert W009 in output and output.splitlines()[1] == "WARNINGS:"
    verbose = s.get("/readyz?verbose").text
    line = next(line for line in verbose.splitlines() if line.startswith("[-]deploy"))
    assert "(security.W009)" in line and len(verbose.splitlines()) == 3  # deploy, app-process, verdict
    status = cli("status", "--port", str(s.port))
    assert status.returncode == 1 and f"| {W009}" in status.stdout, status.stdout
    log = s.output()
    assert log.count(f"| {W009}") == 1, log  # when the failure first appears, not at every attempt


def test_a_config_gate_that_fails_is_final_check_and_wait_return_at_once() -> None:
    env = {"SUPERVISOR_GATE_CONF": "config:CS_NOT_SET_ANYWHERE", "SUPERVISOR_STARTUP_TIMEOUT": "60s"}
    started = time.monotonic()
    r = cli("check", env=env, timeout=30)
    assert r.returncode == 1 and "set it and restart" in r.stdout, r.stdout + r.stderr
    w = cli("wait", "--timeout", "60s", "config:CS_NOT_SET_ANYWHERE", timeout=30)
    assert w.returncode == 1 and "cannot pass before a restart" in w.stderr, w.stdout + w.stderr
    assert time.monotonic() - started < 20  # neither waited for its 60 s deadline


def test_run_degrades_at_once_on_a_final_failure_or_exits_69(supervise: Launcher) -> None:
    env = {"SUPERVISOR_GATE_CONF": "config:CS_NOT_SET_ANYWHERE", "SUPERVISOR_STARTUP_TIMEOUT": "120s"}
    s = supervise.run("sleep", "60", env=env)
    s.wait_listening()
    wait_until(lambda: json.loads(s.get("/readyz?format=json").body)["phase"] == "degraded", 20, "degraded at once")
    entry = json.loads(s.get("/readyz?format=json").body)["checks"]["conf"][0]
    assert entry["attempts"] == 1 and "set it and restart" in entry["output"]  # tried once, never again
    quits = supervise.run("sleep", "60", env={**env, "SUPERVISOR_ON_STARTUP_TIMEOUT": "exit"})
    assert quits.wait(20) == 69
    assert "cannot pass before a restart" in quits.output()


def test_long_waits_say_what_they_still_wait_for(supervise: Launcher) -> None:
    target = f"tcp://127.0.0.1:{free_port()}"  # nothing listens there
    s = supervise.run("sleep", "60", env={"SUPERVISOR_GATE_SLOW": target, "SUPERVISOR_GATE_SLOW__TIMEOUT": "1s"})
    w = subprocess.Popen(
        [*supervisor_argv(), "wait", "--timeout", "8s", "--attempt-timeout", "1s", target],
        env=clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    out, err = w.communicate(timeout=30)
    assert w.returncode == 124
    lines = [line for line in out.splitlines() if line.startswith(f"still waiting for {target}: refused")]
    assert lines and re.search(r"\(attempt \d+, \d+\.\d s\)$", lines[0]), out + err
    wait_until(lambda: "still waiting for slow: refused" in s.output(), 15, "run's progress line")


def test_a_command_that_hangs_keeps_what_it_printed() -> None:
    env = {
        "SUPERVISOR_GATE_X": "cmd:sh -c 'echo connecting to db.internal:5432; exec sleep 60'",
        "SUPERVISOR_GATE_X__TIMEOUT": "1s",
        "SUPERVISOR_STARTUP_TIMEOUT": "5s",  # past the first attempt's timeout, also on a busy machine
    }
    r = cli("check", "--json", env=env, timeout=30)
    output = json.loads(r.stdout)["checks"]["x"][0]["output"]
    assert output.splitlines() == ["timeout: timed out after 1s", "connecting to db.internal:5432"], output


def test_output_that_changes_only_in_its_numbers_is_logged_once(supervise: Launcher) -> None:
    noisy = "cmd:sh -c 'echo failed at $(date +%s%N) pid $$; exit 1'"
    s = supervise.run("sleep", "60", env={"SUPERVISOR_GATE_N": noisy})
    s.wait_listening()
    wait_until(lambda: json.loads(s.get("/readyz?format=json").body)["checks"]["n"][0]["attempts"] >= 6, 30, "attempts")
    assert "still failing" not in s.output(), s.output()


def test_wait_with_a_command_leaves_stdout_to_it() -> None:
    with socket.socket() as srv:
        srv.bind(("127.0.0.1", 0))
        srv.listen()
        target = f"tcp://127.0.0.1:{srv.getsockname()[1]}"
        w = cli("wait", target, "--", sys.executable, "-c", "print('{\"data\": 1}')")
    assert w.returncode == 0 and w.stdout == '{"data": 1}\n', w.stdout
    assert f"ready: {target}" in w.stderr


def test_probe_with_stdout_closed_or_a_huge_timeout(supervise: Launcher) -> None:
    s = supervise.run("sleep", "60")
    s.wait_listening()
    closed = subprocess.run(
        [*supervisor_argv(), "probe", "--port", str(s.port)], stdout=subprocess.DEVNULL, env=clean_env()
    )
    assert closed.returncode == 0
    shut = subprocess.run(
        ["sh", "-c", f"exec {' '.join(supervisor_argv())} probe --port {s.port} >&-"],
        capture_output=True,
        env=clean_env(),
    )
    assert shut.returncode == 0 and b"Traceback" not in shut.stderr, shut.stderr
    huge = cli("probe", "--port", str(s.port), "--timeout", "999999999999h")
    assert huge.returncode == 78 and "at most 24h" in huge.stderr


def test_config_shows_every_problem_at_once() -> None:
    env = {
        "SUPERVISOR_GATE_X": "cassandra://x",
        "SUPERVISOR_GATE_DB": "env:CS_UNSET_DB",
        "SUPERVISOR_GATE_Y": "tcp://${CS_NOPE}:1",
    }
    r = cli("config", env=env)
    assert r.returncode == 78
    assert "cassandra://" in r.stderr and "CS_UNSET_DB" in r.stderr and "${CS_NOPE}" in r.stderr, r.stderr
