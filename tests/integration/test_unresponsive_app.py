"""An app that answered and then stops answering (SUPERVISOR_ON_APP_UNRESPONSIVE), on real gunicorn
frozen with real SIGSTOP, and on an app that hangs while still running and ignores SIGTERM."""

import json
import os
import signal
import socket
import sys
from pathlib import Path
from typing import Any

import pytest

from supervisor.pid1 import sessions
from tests.helpers import free_port, get, status_of, wait_until
from tests.integration.supervised import Launcher, Supervised, gunicorn_argv

pytestmark = pytest.mark.integration

FAST = {
    "SUPERVISOR_CHECK_INTERVAL": "200ms",
    "SUPERVISOR_APP_PROBE_TIMEOUT": "300ms",
    "SUPERVISOR_STOP_TIMEOUT": "3s",
}


def _probe(s: Supervised) -> dict[str, Any]:
    doc = json.loads(s.get("/readyz?format=json").body)
    probe: dict[str, Any] = doc["checks"]["app-probe"][0]
    probe["restarts"] = doc["child"]["restarts"]
    probe["pid"] = doc["child"]["pid"]
    return probe


def _session(sid: int) -> list[int]:
    """Live members of session ``sid`` (zombies left out), read from /proc."""
    return (sessions.session_members([sid]) or {}).get(sid, [])


def _freeze(sid: int) -> list[int]:
    wait_until(lambda: len(_session(sid)) >= 3, 10, "the master and its two workers")
    members = _session(sid)
    for pid in members:
        os.kill(pid, signal.SIGSTOP)
    return members


def _metric(s: Supervised, name: str) -> float:
    for line in s.get("/metrics").text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"{name} not in /metrics")


def test_a_frozen_gunicorn_is_killed_and_restarted_and_serves_again(supervise: Launcher) -> None:
    app_port = free_port()
    s = supervise.run(
        *gunicorn_argv(app_port, "--workers", "2"),
        env={**FAST, "SUPERVISOR_ON_APP_UNRESPONSIVE": "restart"},
    )
    s.wait_ready()
    first = _probe(s)
    assert first["target"] == f"http://127.0.0.1:{app_port}/"  # any HTTP response, not a TCP connect
    assert (first["failures"], first["threshold"], first["unresponsive"]) == (0, 3, False)
    frozen = _freeze(first["pid"])
    # a TCP connect still succeeds: the kernel queues it for the frozen master
    with socket.create_connection(("127.0.0.1", app_port), timeout=1):
        pass
    wait_until(lambda: _probe(s)["restarts"] == 1, 15, "the restart")
    wait_until(lambda: status_of(app_port, "/") == 200, 15, "the new gunicorn to answer")
    s.wait_ready()
    again = _probe(s)
    assert again["pid"] != first["pid"] and again["unresponsive"] is False
    assert not any(pid in _session(first["pid"]) for pid in frozen)  # nothing of the frozen app is left
    out = s.output()
    assert "is unresponsive (failures 3/3)" in out and "then restarting it" in out
    assert "SIGKILL to the session now" in out  # stopped processes: no SIGTERM waiting in vain
    assert _metric(s, "supervisor_app_unresponsive_total") == 1
    assert _metric(s, "supervisor_child_restarts_total") == 1


def test_failures_count_toward_the_threshold_in_readyz(supervise: Launcher) -> None:
    app_port = free_port()
    s = supervise.run(
        *gunicorn_argv(app_port, "--workers", "2"),
        env={
            **FAST,
            "SUPERVISOR_CHECK_INTERVAL": "1s",
            "SUPERVISOR_APP_PROBE_THRESHOLD": "30",
            "SUPERVISOR_APP_PROBE": f"http://127.0.0.1:{app_port}/",  # ignore keeps a TCP probe from --bind
        },
    )
    s.wait_ready()
    pid = _probe(s)["pid"]
    frozen = _freeze(pid)
    try:
        wait_until(lambda: _probe(s)["failures"] >= 2, 20, "two failures counted")
        seen = _probe(s)
        assert seen["threshold"] == 30 and seen["unresponsive"] is False
        text = s.get("/readyz?verbose").text
        assert "(failures " in text and "/30)" in text
        assert _metric(s, "supervisor_app_probe_failures") >= 2
    finally:
        for p in frozen:
            os.kill(p, signal.SIGCONT)
    wait_until(lambda: _probe(s)["failures"] == 0, 15, "the count back to 0 once it answers")
    assert _probe(s)["restarts"] == 0  # ignore (the default) never restarts


def test_exit_mode_exits_75_and_leaves_nothing_of_the_app(supervise: Launcher) -> None:
    app_port = free_port()
    s = supervise.run(
        *gunicorn_argv(app_port, "--workers", "2"), env={**FAST, "SUPERVISOR_ON_APP_UNRESPONSIVE": "exit"}
    )
    s.wait_ready()
    pid = _probe(s)["pid"]
    _freeze(pid)
    assert s.wait(20) == 75
    assert _session(pid) == []
    assert "then exiting 75" in s.output()


HANGS = """
import http.server, os, signal, sys
signal.signal(signal.SIGTERM, signal.SIG_IGN)
flag = sys.argv[2]
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if os.path.exists(flag):
            signal.pause()  # hangs while running: no SIGSTOP to see
        self.send_response(404)  # any response counts
        self.end_headers()
    def log_message(self, *args):
        pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
"""


def _script_app(supervise: Launcher, tmp_path: Path, source: str, **env: str) -> tuple[Supervised, int, Path]:
    """``source`` run as the app with its port and a flag file (its hang, or its boot) as
    arguments, probed by HTTP at that port; ON_APP_UNRESPONSIVE=exit unless ``env`` says."""
    app_port, flag = free_port(), tmp_path / "flag"
    script = tmp_path / "app.py"
    script.write_text(source)
    settings = {
        **FAST,
        "SUPERVISOR_APP_PROBE": f"http://127.0.0.1:{app_port}/",
        "SUPERVISOR_ON_APP_UNRESPONSIVE": "exit",
        "SUPERVISOR_STOP_TIMEOUT": "1s",
        **env,
    }
    return supervise.run(sys.executable, str(script), str(app_port), str(flag), env=settings), app_port, flag


def test_an_explicit_http_probe_keeps_its_own_rule(supervise: Launcher, tmp_path: Path) -> None:
    s, app_port, _flag = _script_app(supervise, tmp_path, HANGS)
    wait_until(lambda: get(app_port, "/").status == 404, 10, "the app")
    # an explicit http:// probe keeps its own rule: a 404 is no pass, so the app never answered
    assert _probe(s)["failures"] == 0 and status_of(s.port, "/readyz") == 503
    s.stop()


def test_a_hung_app_that_ignores_sigterm_is_killed_after_the_stop_timeout(supervise: Launcher, tmp_path: Path) -> None:
    s, _port, flag = _script_app(supervise, tmp_path, HANGS.replace("send_response(404)", "send_response(200)"))
    s.wait_ready()
    pid = _probe(s)["pid"]
    flag.touch()
    assert s.wait(20) == 75
    out = s.output()
    assert "sent SIGTERM to pid" in out and "did not stop within 1s: SIGKILL to its session" in out
    assert _session(pid) == []


def test_a_slow_boot_is_not_a_hang(supervise: Launcher, tmp_path: Path) -> None:
    """Failures before the app first answered do not count: it is still booting."""
    boot = "import os, sys, time\nwhile not os.path.exists(sys.argv[2] + '.go'):\n    time.sleep(0.05)  # pacing\n"
    source = boot + HANGS.replace("send_response(404)", "send_response(200)")
    s, _port, flag = _script_app(supervise, tmp_path, source, SUPERVISOR_APP_PROBE_THRESHOLD="1")
    s.wait_listening()
    wait_until(lambda: _probe(s)["consecutiveFailures"] >= 3, 10, "failed probes while booting")
    assert s.proc.poll() is None and _probe(s)["failures"] == 0
    flag.with_name(flag.name + ".go").touch()
    s.wait_ready()
    assert _probe(s)["restarts"] == 0


def test_the_probe_from_gunicorns_bind_takes_any_http_response(supervise: Launcher, tmp_path: Path) -> None:
    (tmp_path / "notfound.py").write_text(
        "def app(environ, start_response):\n"
        "    start_response('404 Not Found', [('Content-Length', '0')])\n"
        "    return [b'']\n"
    )
    app_port = free_port()
    argv = gunicorn_argv(app_port, "--chdir", str(tmp_path))
    argv[-1] = "notfound:app"
    s = supervise.run(*argv, env={**FAST, "SUPERVISOR_ON_APP_UNRESPONSIVE": "restart"})
    s.wait_ready()
    assert get(app_port, "/").status == 404
    assert _probe(s)["detail"] == "HTTP 404"


LEAVES_A_WORKER = """
import http.server, os, signal, sys, time
server = http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), http.server.BaseHTTPRequestHandler)
flag = sys.argv[2]
if os.fork() == 0:  # a worker in a group of its own that holds the port and ignores SIGTERM
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    os.setpgid(0, 0)
    signal.pause()
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if os.path.exists(flag):
            signal.pause()
        self.send_response(200)
        self.end_headers()
    def log_message(self, *args):
        pass
server.RequestHandlerClass = H
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # a graceful exit, code 0, as gunicorn's
server.serve_forever()
"""


def _leaves_a_worker(supervise: Launcher, tmp_path: Path, **env: str) -> tuple[Supervised, Path]:
    s, _port, flag = _script_app(supervise, tmp_path, LEAVES_A_WORKER, SUPERVISOR_ON_APP_UNRESPONSIVE="restart", **env)
    s.wait_ready()
    return s, flag


def test_a_restart_waits_until_nothing_of_the_hung_app_holds_its_port(supervise: Launcher, tmp_path: Path) -> None:
    s, flag = _leaves_a_worker(supervise, tmp_path)
    first = _probe(s)["pid"]
    flag.touch()
    wait_until(lambda: "then restarting it" in s.output(), 15, "the hang to be seen")
    flag.unlink()
    wait_until(lambda: _probe(s)["restarts"] == 1, 15, "the restart")
    s.wait_ready()
    out = s.output()
    assert "Address already in use" not in out and "exited on its own" not in out, out
    assert _session(first) == []  # the leftover worker was killed at the stop's deadline


def test_a_hang_at_the_restart_limit_exits_75_not_the_code_of_its_graceful_stop(
    supervise: Launcher, tmp_path: Path
) -> None:
    s, flag = _leaves_a_worker(supervise, tmp_path, SUPERVISOR_RESTART_LIMIT="0")
    flag.touch()
    assert s.wait(20) == 75
    assert "restart limit (0 within 10m) reached; exiting with 75 (unresponsive)" in s.output()
