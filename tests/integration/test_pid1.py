"""The installed supervisor as real PID 1 of a new PID namespace, signalled from outside as Docker
does: reaping, signal forwarding, exit codes compared with tini, graceful drain with gunicorn."""

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from functools import partial
from pathlib import Path

import pytest

from tests.helpers import Reply, children, clean_env, free_port, get, supervisor_argv, wait_until
from tests.integration.supervised import APPS, Launcher, gunicorn_argv, pid1_prefix

pytestmark = pytest.mark.integration


def arrived(record: Path, name: str) -> bool:
    return name in record.read_text().split()


def proc_children(pid: int) -> list[tuple[int, str]]:
    """(pid, state) of every process whose parent is ``pid``, read from /proc."""
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except (FileNotFoundError, ProcessLookupError):
            continue
        fields = text.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid:
            out.append((int(stat.parent.name), fields[0]))
    return out


def test_runs_as_pid_1(supervise: Launcher, tmp_path: Path) -> None:
    out = tmp_path / "pid"
    s = supervise.run("sh", "-c", f"echo $PPID > {out}; sleep 30", prefix=pid1_prefix())
    s.wait_ready()
    wait_until(lambda: out.exists() and out.read_text().strip(), 10, "the app to write its parent's PID")
    assert out.read_text().strip() == "1"  # the app's parent is the supervisor, PID 1 in the namespace
    assert "reaping orphaned processes (PID 1)" in s.output()


def test_hundreds_of_orphans_are_reaped_and_gates_keep_their_exit_codes(supervise: Launcher) -> None:
    orphans = "for i in $(seq 150); do (setsid sleep 0.3 &); done"
    env = {
        "SUPERVISOR_LOG_LEVEL": "debug",
        "SUPERVISOR_GATE_ORPHANS": f"cmd:sh -c '{orphans}; exit 0'",
        "SUPERVISOR_GATE_SEVEN": "cmd:sh -c 'sleep 0.5; exit 7'",
        "SUPERVISOR_GATE_SEVEN__CRITICAL": "false",
        "SUPERVISOR_GATE_KILLED": "cmd:sh -c 'sleep 0.4; kill -TERM $$'",
        "SUPERVISOR_GATE_KILLED__CRITICAL": "false",
        **{f"SUPERVISOR_GATE_OK{i}": f"cmd:sh -c 'sleep 0.{i}; exit 0'" for i in range(1, 6)},
    }
    s = supervise.run("sh", "-c", f"{orphans}; sleep 60", env=env, prefix=pid1_prefix())
    s.wait_ready()

    def non_critical_settled() -> dict[str, dict[str, object]]:
        # readiness waits only for critical gates: the others may still be on their first attempt
        doc = json.loads(s.get("/readyz?format=json").body)
        checks = {name: c[0] for name, c in doc["checks"].items()}
        return checks if all(checks[n]["attempts"] for n in ("seven", "killed")) else {}

    checks = wait_until(non_critical_settled, 10, "the non-critical gates' first verdicts")
    assert checks["seven"]["status"] == "warn" and checks["seven"]["output"] == "exit-status: exit status 7"
    assert checks["killed"]["output"] == "exit-status: killed by signal 15"
    for i in range(1, 6):
        assert checks[f"ok{i}"]["status"] == "pass", checks[f"ok{i}"]
    assert checks["orphans"]["status"] == "pass"
    pid = s.pid

    def settled() -> bool:
        kids = proc_children(pid)
        return len(kids) == 1 and kids[0][1] != "Z"  # only the app, and no zombie

    wait_until(settled, 15, "every orphan to be reaped")
    assert s.output().count("reaped orphan pid") >= 300


def test_each_forwarded_signal_reaches_the_child(supervise: Launcher, tmp_path: Path) -> None:
    record = tmp_path / "signals"
    s = supervise.run(sys.executable, str(APPS / "signals.py"), str(record), prefix=pid1_prefix())
    wait_until(lambda: record.exists() and "ready" in record.read_text(), 10, "the child's handlers")
    for name in ("SIGHUP", "SIGUSR1", "SIGUSR2", "SIGTTIN", "SIGTTOU", "SIGWINCH"):
        s.signal(getattr(signal, name))
        wait_until(partial(arrived, record, name), 5, f"{name} at the child")
    assert s.proc.poll() is None and s.status("/readyz") == 200
    s.signal(signal.SIGQUIT)  # forwarded as it is; readiness off
    assert s.wait(10) == 0
    assert record.read_text().split()[-1] == "SIGQUIT"


def test_sigint_is_forwarded_as_it_is(supervise: Launcher, tmp_path: Path) -> None:
    record = tmp_path / "signals"
    s = supervise.run(sys.executable, str(APPS / "signals.py"), str(record), prefix=pid1_prefix())
    wait_until(lambda: record.exists() and "ready" in record.read_text(), 10, "the child's handlers")
    s.signal(signal.SIGINT)
    assert s.wait(10) == 0
    assert record.read_text().split()[-1] == "SIGINT"


def test_signals_before_the_app_exists(supervise: Launcher) -> None:
    s = supervise.run("true", env={"SUPERVISOR_GATE_NEVER": f"tcp://127.0.0.1:{free_port()}"}, prefix=pid1_prefix())
    s.wait_listening()
    s.signal(signal.SIGHUP)
    wait_until(lambda: "SIGHUP received before the app runs: ignored" in s.output(), 5, "SIGHUP logged")
    assert s.status("/healthz") == 200
    s.signal(signal.SIGTERM)
    assert s.wait(5) == 143


EXIT_CASES = {
    "exit 0": ("exit 0", None),
    "exit 3": ("exit 3", None),
    "SIGKILL": ("kill -KILL $$", None),
    "SIGTERM": ("kill -TERM $$", None),
    "SIGSEGV": ("kill -SEGV $$", None),
    "external SIGTERM": ("sleep 30", signal.SIGTERM),
}


@pytest.mark.parametrize("case", list(EXIT_CASES))
def test_exit_codes_match_tini(case: str, tmp_path: Path) -> None:
    tini = shutil.which("tini")
    if tini is None:
        pytest.skip("tini is not installed (.ci/run installs it from Debian)")
    script, sig = EXIT_CASES[case]
    ready = tmp_path / "ready"
    child = ["sh", "-c", f"touch {ready}; {script}"]
    codes = {}
    for name, argv in (("tini", [tini, "--", *child]), ("supervisor", [*supervisor_argv(), "run", "--", *child])):
        ready.unlink(missing_ok=True)
        env = clean_env(SUPERVISOR_HEALTH_PORT=str(free_port()), SUPERVISOR_HEALTH_HOST="127.0.0.1")
        proc = subprocess.Popen([*pid1_prefix(), *argv], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if sig is not None:
            wait_until(ready.exists, 10, "the child to start")
            inner = wait_until(partial(children, proc.pid), 5, "PID 1")
            os.kill(inner[0], sig)
        codes[name] = proc.wait(15)
    assert codes["supervisor"] == codes["tini"], codes


def test_graceful_stop_under_load_drains_and_completes_in_flight(supervise: Launcher, tmp_path: Path) -> None:
    app_port = free_port()
    s = supervise.run(
        *gunicorn_argv(app_port, "--workers", "2"),
        env={"SUPERVISOR_DRAIN_DELAY": "1500ms", "SUPERVISOR_STOP_TIMEOUT": "20s"},
        prefix=pid1_prefix(),
    )
    s.wait_ready()
    mark = tmp_path / "in-flight"
    results: dict[str, Reply] = {}

    def slow() -> None:
        results["slow"] = get(app_port, f"/slow?s=2&mark={mark}", timeout=10)

    thread = threading.Thread(target=slow)
    thread.start()
    wait_until(mark.exists, 10, "the slow request to be in flight")
    s.signal(signal.SIGTERM)
    sent = time.monotonic()
    wait_until(lambda: s.status("/readyz") == 503, 1.0, "/readyz 503 right after SIGTERM")
    served_during_drain = 0
    while time.monotonic() - sent < 1.0:  # well inside the drain delay
        assert get(app_port, "/", timeout=2).status == 200
        served_during_drain += 1
    assert served_during_drain > 0
    assert s.wait(20) == 0
    thread.join(10)
    assert results["slow"].status == 200 and results["slow"].text == "slow hello\n"
    out = s.output()
    assert "the app keeps serving for 1.5s" in out and "forwarded SIGTERM" in out


@pytest.mark.parametrize(
    ("policy", "script_exit", "expected_runs"),
    [("on-failure", 3, 3), ("on-failure", 0, 1), ("always", 0, 3), ("never", 3, 1)],
)
def test_restart_policy(supervise: Launcher, tmp_path: Path, policy: str, script_exit: int, expected_runs: int) -> None:
    runs = tmp_path / "runs"
    s = supervise.run(
        "sh",
        "-c",
        f"echo run >> {runs}; exit {script_exit}",
        env={"SUPERVISOR_RESTART": policy, "SUPERVISOR_RESTART_LIMIT": "2", "SUPERVISOR_BACKOFF_MAX": "200ms"},
        prefix=pid1_prefix(),
    )
    assert s.wait(15) == script_exit
    assert runs.read_text().count("run") == expected_runs
    if expected_runs == 3:
        assert f"restart limit (2 within 10m) reached; exiting with the app's code {script_exit}" in s.output()


def test_restart_limit_degraded_stays_up_and_names_the_exit(supervise: Launcher) -> None:
    app_port = free_port()
    s = supervise.run(
        *gunicorn_argv(app_port)[:-1],
        "no_such_module:app",  # workers fail to boot: gunicorn exits 3
        env={
            "SUPERVISOR_RESTART": "on-failure",
            "SUPERVISOR_RESTART_LIMIT": "1",
            "SUPERVISOR_ON_RESTART_LIMIT": "degraded",
            "SUPERVISOR_BACKOFF_MAX": "200ms",
        },
        prefix=pid1_prefix(),
    )
    s.wait_listening()
    wait_until(lambda: json.loads(s.get("/readyz?format=json").body)["phase"] == "degraded", 30, "degraded")
    assert s.status("/healthz") == 200
    reply = s.get("/readyz?verbose")
    assert reply.status == 503
    assert "[-]app-process failed: the app exited with code 3; restart limit 1 reached" in reply.text
    doc = json.loads(s.get("/readyz?format=json").body)
    assert doc["child"]["restarts"] == 1 and doc["child"]["exitCode"] == 3
    wait_until(lambda: s.status("/metrics") == 200, 10, "/metrics")
    assert "supervisor_child_restarts_total 1.0" in s.get("/metrics").text
    assert "(gunicorn: worker boot error)" in s.output()
    s.signal(signal.SIGTERM)
    assert s.wait(5) == 143


def test_prestart_tasks_run_in_name_order_before_the_app(supervise: Launcher, tmp_path: Path) -> None:
    order = tmp_path / "order"
    s = supervise.run(
        "sh",
        "-c",
        f"echo app >> {order}; sleep 30",
        env={
            "SUPERVISOR_PRESTART_2_STATIC": f"sh -c 'echo static >> {order}'",
            "SUPERVISOR_PRESTART_1_MIGRATE": f"sh -c 'echo migrate >> {order}; echo migrating-output'",
            "SUPERVISOR_GATE_CONFIG": "config:HOME",
        },
        prefix=pid1_prefix(),
    )
    s.wait_ready()
    wait_until(lambda: "app" in order.read_text().split(), 10, "the app to start")  # ready: running, not yet written
    assert order.read_text().split() == ["migrate", "static", "app"]
    assert "migrating-output" in s.output()  # output passed through
    body = s.get("/readyz?verbose").text
    assert "[+]prestart-1_migrate ok" in body and "[+]prestart-2_static ok" in body


def test_failing_prestart_task_exits_69_in_exit_mode(supervise: Launcher, tmp_path: Path) -> None:
    marker = tmp_path / "app-ran"
    s = supervise.run(
        "touch",
        str(marker),
        env={"SUPERVISOR_PRESTART_MIGRATE": "sh -c 'exit 5'", "SUPERVISOR_ON_STARTUP_TIMEOUT": "exit"},
        prefix=pid1_prefix(),
    )
    assert s.wait(10) == 69
    assert "pre-start task migrate failed: prestart-migrate: exit-status: exited with code 5" in s.output()
    assert not marker.exists()


def test_failing_prestart_task_degrades_and_reports(supervise: Launcher, tmp_path: Path) -> None:
    marker = tmp_path / "app-ran"
    s = supervise.run(
        "touch",
        str(marker),
        env={
            "SUPERVISOR_PRESTART_A": "true",
            "SUPERVISOR_PRESTART_B": "sh -c 'exit 5'",
            "SUPERVISOR_PRESTART_C": "true",
        },
        prefix=pid1_prefix(),
    )
    s.wait_listening()
    wait_until(
        lambda: s.status("/readyz/prestart-b") == 503 and "exited" in s.get("/readyz/prestart-b").text,
        10,
        "prestart-b failed",
    )
    body = s.get("/readyz?verbose").text
    assert "[+]prestart-a ok" in body
    assert "[-]prestart-b failed: exit-status: exited with code 5" in body
    assert "[-]prestart-c failed: waiting for prestart-b" in body  # never ran
    assert json.loads(s.get("/readyz?format=json").body)["phase"] == "degraded"
    assert s.status("/healthz") == 200 and not marker.exists()


def caught_signals(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("SigCgt:"):
            return int(line.split()[1], 16)
    return 0


def test_sigterm_during_start_up_is_not_lost(supervise: Launcher) -> None:
    """As PID 1 a signal without a handler is dropped: the handler must be there from the start."""
    s = supervise.run("sleep", "30", env={"SUPERVISOR_GATE_SLOW": "cmd:sleep 30"}, prefix=pid1_prefix())
    pid = s.pid
    term = 1 << (signal.SIGTERM - 1)
    wait_until(lambda: caught_signals(pid) & term, 10, "a SIGTERM handler")
    s.signal(signal.SIGTERM)  # most likely before the health server even listens
    assert s.wait(10) == 143
    assert "started sleep" not in s.output()


def test_subreaper_mode_adopts_and_reaps_orphans_without_pid_1(supervise: Launcher, tmp_path: Path) -> None:
    pids = tmp_path / "orphans"
    script = f"for i in $(seq 50); do (setsid sh -c 'echo $$ >> {pids}; sleep 0.5' &); done; sleep 60"
    s = supervise.run("sh", "-c", script, env={"SUPERVISOR_SUBREAPER": "true", "SUPERVISOR_LOG_LEVEL": "debug"})
    s.wait_ready()
    assert "reaping orphaned processes (child subreaper)" in s.output()
    wait_until(lambda: pids.exists() and len(pids.read_text().split()) == 50, 10, "50 orphans started")
    # they were adopted by the supervisor (not the machine's init), and reaped once they exited
    wait_until(lambda: s.output().count("reaped orphan pid") == 50, 15, "50 orphans reaped")
    kids = proc_children(s.pid)
    assert len(kids) == 1 and kids[0][1] != "Z", kids  # only the app is left
