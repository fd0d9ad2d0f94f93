"""``probe``, ``status`` and ``wait`` against real supervisors, servers and listeners."""

import http.server
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest

from tests.helpers import clean_env, cli, free_port, supervisor_argv, wait_until
from tests.integration.supervised import Launcher, http_server_argv
from tests.servers import RedisServer

pytestmark = pytest.mark.integration


@pytest.fixture
def degraded(supervise: Launcher) -> object:
    """A supervisor whose one gate can never pass: live, not ready."""
    s = supervise.run(
        "sleep",
        "60",
        env={"SUPERVISOR_GATE_CACHE": f"redis://127.0.0.1:{free_port()}/0", "SUPERVISOR_STARTUP_TIMEOUT": "300ms"},
    )
    s.wait_listening()
    wait_until(lambda: "degraded" in s.get("/readyz?format=json").text, 10, "degraded mode")
    return s


def test_probe_live_passes_in_degraded_mode_and_ready_fails_naming_the_gate(degraded: object) -> None:
    port = str(degraded.port)  # type: ignore[attr-defined]
    live = cli("probe", env={"SUPERVISOR_HEALTH_PORT": port})
    assert live.returncode == 0, live.stdout + live.stderr
    assert live.stdout.count("\n") == 1 and live.stdout.startswith("live:")
    ready = cli("probe", "ready", "--port", port)
    assert ready.returncode == 1
    assert ready.stdout.count("\n") == 1 and "cache" in ready.stdout and "503" in ready.stdout


def test_probe_reads_the_servers_wildcard_host_as_loopback(degraded: object) -> None:
    env = {"SUPERVISOR_HEALTH_PORT": str(degraded.port), "SUPERVISOR_HEALTH_HOST": "0.0.0.0"}  # type: ignore[attr-defined]
    assert cli("probe", env=env).returncode == 0


def test_probe_fails_when_nothing_answers_or_the_answer_is_late() -> None:
    assert cli("probe", "--port", str(free_port())).returncode == 1
    with socket.socket() as silent:  # accepts (the kernel does) and never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        started = time.monotonic()
        late = cli("probe", "--port", str(silent.getsockname()[1]), "--timeout", "300ms")
        assert late.returncode == 1 and "timeout" in late.stdout
        assert time.monotonic() - started < 5


def test_probe_and_status_import_nothing_heavy(degraded: object) -> None:
    code = (
        "import sys\n"
        "from supervisor import cli\n"
        f"assert cli.main(['probe', '--port', '{degraded.port}']) == 0\n"  # type: ignore[attr-defined]
        f"cli.main(['status', '--port', '{degraded.port}'])\n"  # type: ignore[attr-defined]
        "heavy = [m for m in sys.modules if m.split('.')[0] in "
        "('pydantic', 'pydantic_settings', 'psycopg', 'redis', 'prometheus_client', 'anyio')]\n"
        "assert not heavy, heavy\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30, env=clean_env())
    assert r.returncode == 0, r.stdout + r.stderr


def test_a_plain_probe_imports_only_the_cheap_path(degraded: object) -> None:
    """What a HEALTHCHECK runs every few seconds: the console script's probe, beside what a bare
    interpreter of the same environment imports anyway."""
    watch = ("h11", "argparse", "logging", "json", "dataclasses", "socket", "supervisor.cli", "encodings.idna")
    show = f"import sys; print(sorted(m for m in {watch!r} if m in sys.modules))"
    bare = subprocess.run([sys.executable, "-c", show], capture_output=True, text=True, env=clean_env())
    code = (
        "import sys, atexit\n"
        f"atexit.register(lambda: print(sorted(m for m in {watch!r} if m in sys.modules), file=sys.stderr))\n"
        f"sys.argv = ['supervisor', 'probe', 'live', '--port', '{degraded.port}']\n"  # type: ignore[attr-defined]
        "from supervisor.console import main\n"
        "main()\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30, env=clean_env())
    assert r.returncode == 0 and r.stdout.startswith("live: "), r.stdout + r.stderr
    assert r.stderr.strip() == bare.stdout.strip()  # nothing of ours added to the bare interpreter's


def test_probe_timeout_bounds_the_whole_answer_not_each_read() -> None:
    """A server that trickles its status line, one byte every 0.2 s: each read is quick, the answer
    is not. ``--timeout 1s`` must end the probe at 1 s, not after the 3 s the line takes."""
    with socket.socket() as srv:
        srv.bind(("127.0.0.1", 0))
        srv.listen()

        def trickle() -> None:
            for _ in range(2):  # the probe, then `status`
                conn, _ = srv.accept()
                with conn:
                    conn.recv(1024)
                    for byte in b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok":
                        try:
                            conn.sendall(bytes([byte]))
                        except OSError:
                            break
                        time.sleep(0.2)  # pacing: the server trickles its answer

        worker = threading.Thread(target=trickle, daemon=True)
        worker.start()
        port = str(srv.getsockname()[1])
        started = time.monotonic()
        r = cli("probe", "--port", port, "--timeout", "1s")
        took = time.monotonic() - started
        assert r.returncode == 1 and "no answer within the timeout" in r.stdout, r.stdout
        assert took < 2.5, took
        started = time.monotonic()
        s = cli("status", "--port", port, "--timeout", "1s")
        took = time.monotonic() - started
        assert s.returncode == 2 and "no answer within the timeout" in s.stdout + s.stderr, s.stdout + s.stderr
        assert took < 2.5, took


def test_status_shows_each_check_and_exits_by_readiness(degraded: object, supervise: Launcher) -> None:
    port = str(degraded.port)  # type: ignore[attr-defined]
    r = cli("status", "--port", port)
    assert r.returncode == 1, r.stderr
    assert "phase: degraded" in r.stdout and "ready: no" in r.stdout
    cache = next(line for line in r.stdout.splitlines() if line.startswith("cache"))
    assert "fail" in cache and "connect" in cache.lower()
    assert json.loads(cli("status", "--json", "--port", port).stdout)["phase"] == "degraded"
    ok = supervise.run("sleep", "60")
    ok.wait_ready()
    good = cli("status", "--port", str(ok.port))
    assert good.returncode == 0 and "ready: yes" in good.stdout and "app: running (pid" in good.stdout
    assert cli("status", "--port", str(free_port())).returncode == 2


def test_wait_passes_every_target_at_once_then_execs_the_command(redis_server: RedisServer, tmp_path: Path) -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    pid_file = tmp_path / "pid"
    proc = subprocess.Popen(
        [
            *supervisor_argv(),
            "wait",
            redis_server.url,
            f"tcp://127.0.0.1:{listener.getsockname()[1]}",
            "--",
            "sh",
            "-c",
            f"echo $$ > {pid_file}; exit 7",
        ],
        env=clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    out, err = proc.communicate(timeout=30)
    listener.close()
    assert proc.returncode == 7  # the command's own code: nothing stayed in between
    assert int(pid_file.read_text()) == proc.pid  # exec: the same process became the command
    assert err.count("ready: ") == 2 and out == ""  # stdout is the command's


def test_wait_times_out_with_124_and_does_not_run_the_command(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    started = time.monotonic()
    r = cli(
        "wait",
        "--timeout",
        "500ms",
        f"postgresql://app:s3cr%2Ft@127.0.0.1:{free_port()}/db",
        "--",
        "touch",
        str(marker),
    )
    assert r.returncode == 124
    assert time.monotonic() - started < 10
    assert not marker.exists()
    assert "s3cr" not in r.stdout + r.stderr and "***" in r.stderr
    assert "Connection refused" in r.stderr


def test_wait_waits_for_a_target_that_comes_later() -> None:
    port = free_port()
    proc = subprocess.Popen(
        [*supervisor_argv(), "wait", "--timeout", "20s", f"tcp://127.0.0.1:{port}"],
        env=clean_env(),
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(0.3)  # pacing: let a few attempts fail before the listener exists
        with socket.create_server(("127.0.0.1", port)):
            assert proc.wait(15) == 0
    finally:
        proc.kill()
    assert proc.stdout is not None and "ready: tcp://" in proc.stdout.read()


@pytest.mark.parametrize("target", ["redis://h:0", "cassandra://x", "env:UNSET_VARIABLE_XYZ", "config:1BAD"])
def test_wait_refuses_bad_targets_with_78(target: str) -> None:
    r = cli("wait", target)
    assert r.returncode == 78 and "target 1" in r.stderr and "Traceback" not in r.stderr


def test_wait_stops_on_sigterm_with_143() -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    proc = subprocess.Popen(
        [*supervisor_argv(), "wait", f"tcp://127.0.0.1:{listener.getsockname()[1]}", f"tcp://127.0.0.1:{free_port()}"],
        env=clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().startswith("ready: ")  # its handlers are in place by now
        os.kill(proc.pid, signal.SIGTERM)
        assert proc.wait(10) == 143
    finally:
        proc.kill()
        listener.close()


# -- wait keeps its targets' secrets; wait --json is one document; status on whatever answers ---


PASSWORD = "hunter2secret"


DB_URL = f"postgresql://app:{PASSWORD}@127.0.0.1:{free_port()}/db"


@pytest.mark.parametrize("as_json", [False, True])
def test_wait_never_shows_a_password_held_in_a_target(as_json: bool) -> None:
    json_flag = ["--json"] if as_json else []
    passing = cli("wait", *json_flag, "--timeout", "10s", f"cmd:true {DB_URL}", "--", "true")
    assert passing.returncode == 0, passing.stderr
    failing = cli(
        "wait",
        *json_flag,
        "--timeout",
        "500ms",
        f"cmd:true {DB_URL}",
        f"cmd:sh -c 'echo {DB_URL} >&2; exit 3'",  # its own output names the URL too
        DB_URL,  # and the password is another target's
    )
    assert failing.returncode == 124, failing.stderr
    for r in (passing, failing):
        assert PASSWORD not in r.stdout + r.stderr, r.stdout + r.stderr
        assert "app:***@127.0.0.1" in r.stdout + r.stderr
    if as_json:
        doc = json.loads(failing.stdout)
        assert doc["checks"]["target1"][0]["target"] == f"cmd:true {DB_URL.replace(PASSWORD, '***')}"


def test_wait_never_shows_the_password_of_a_bad_target_either() -> None:
    r = cli("wait", f"cmd:true {DB_URL}", f"redis://:{PASSWORD}@h:0")
    assert r.returncode == 78 and PASSWORD not in r.stdout + r.stderr


def test_wait_json_is_the_only_thing_on_stdout_with_one_entry_per_target() -> None:
    with socket.create_server(("127.0.0.1", 0)) as listener:
        target = f"tcp://127.0.0.1:{listener.getsockname()[1]}"
        r = cli("wait", "--json", "--timeout", "20s", target, "cmd:true", target)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)  # the whole of stdout is one JSON document
    entries = [entry for entries in doc["checks"].values() for entry in entries]
    assert [e["target"] for e in entries] == [target, "cmd:true", target]
    assert len(doc["checks"]) == 3 and doc["status"] == "pass"
    assert r.stderr.count("ready: ") == 3  # the progress lines went to stderr


def test_wait_json_at_the_deadline_is_one_document_too() -> None:
    r = cli("wait", "--json", "--timeout", "300ms", "cmd:true", f"tcp://127.0.0.1:{free_port()}")
    assert r.returncode == 124
    doc = json.loads(r.stdout)
    assert doc["status"] == "fail" and [e[0]["status"] for e in doc["checks"].values()] == ["pass", "fail"]
    assert "not ready: tcp://" in r.stderr and "ready: cmd:true" in r.stderr


class _Answers(http.server.BaseHTTPRequestHandler):
    answer: ClassVar[tuple[int, str, bytes]] = (200, "application/json", b"[]")

    def do_GET(self) -> None:
        status, content_type, body = self.answer
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def answering() -> Iterator[http.server.ThreadingHTTPServer]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Answers)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(5)


SHAPES = [
    (200, "application/json", b"[]"),
    (200, "application/json", b"null"),
    (200, "application/json", b'"ok"'),
    (200, "application/json", b"42"),
    (200, "application/json", b'{"checks": []}'),
    (200, "application/json", b'{"status": "pass", "checks": {"db": [1]}}'),
    (200, "application/json", b'{"status": "pass", "checks": {"db": []}}'),
    (200, "application/json", b'{"status": "fail", "checks": {"db": [{"status": 3, "after": "db"}]}}'),
    (200, "application/json", b'{"status": "fail", "checks": {"db": [{"after": [1]}]}}'),
    (503, "application/json", b'{"status": "fail", "checks": {}, "child": [], "timeline": 5}'),
    (200, "application/json", b'{"status": "pass", "checks": {}, "output": {"a": 1}}'),
    (404, "application/json", b'{"detail": "Not Found"}'),
    (200, "text/html", b"<!doctype html><html><body>Hello from the app</body></html>"),
    (200, "application/json", b"[" * 100000),
    (200, "application/json", b""),
]


@pytest.mark.parametrize("shape", SHAPES, ids=[s[2][:30].decode() or "empty" for s in SHAPES])
@pytest.mark.parametrize("as_json", [False, True])
def test_status_says_in_one_line_that_no_supervisor_answers(
    answering: http.server.ThreadingHTTPServer, shape: tuple[int, str, bytes], as_json: bool
) -> None:
    _Answers.answer = shape
    r = cli("status", "--port", str(answering.server_address[1]), *(["--json"] if as_json else []))
    assert r.returncode == 2, r.stdout + r.stderr
    assert r.stdout == "" and r.stderr.count("\n") == 1 and "Traceback" not in r.stderr, r.stderr
    assert r.stderr.startswith("no supervisor answers at 127.0.0.1:")


def test_status_still_reads_a_well_formed_report(answering: http.server.ThreadingHTTPServer) -> None:
    report = {
        "status": "fail",
        "phase": "degraded",
        "checks": {"db": [{"status": "fail", "attempts": 3, "output": "refused: no", "after": []}]},
        "child": {"state": "not-started", "pid": None},
    }
    _Answers.answer = (503, "application/health+json", json.dumps(report).encode())
    r = cli("status", "--port", str(answering.server_address[1]))
    assert r.returncode == 1 and "refused: no" in r.stdout and "phase: degraded" in r.stdout


def test_status_chain_names_the_checks_that_set_the_time_to_ready_in_order(supervise: Launcher) -> None:
    """Known delays: ``slow`` (0.6 s) waits for ``first`` (0.3 s); ``quick`` (0.1 s) runs beside
    them and has slack; the task waits for every gate, so the last to pass, ``slow``, set its start."""
    app_port = free_port()
    s = supervise.run(
        *http_server_argv(app_port),
        env={
            "SUPERVISOR_GATE_FIRST": "cmd:sleep 0.3",
            "SUPERVISOR_GATE_SLOW": "cmd:sleep 0.6",
            "SUPERVISOR_GATE_SLOW__AFTER": "first",
            "SUPERVISOR_GATE_QUICK": "cmd:sleep 0.1",
            "SUPERVISOR_PRESTART_MIGRATE": "sleep 0.2",
            "SUPERVISOR_APP_PROBE": f"http://127.0.0.1:{app_port}/",
        },
    )
    s.wait_ready()
    chain = json.loads(s.get("/readyz?format=json").body)["chain"]
    assert [link["name"] for link in chain] == ["first", "slow", "prestart-migrate", "app", "app-probe"]
    assert [link["waitedFor"] for link in chain] == [None, "first", "slow", "prestart-migrate", "app"]
    first, slow, task = chain[:3]
    assert slow["startedAfter"] >= first["passedAfter"] and task["startedAfter"] >= slow["passedAfter"]
    assert slow["passedAfter"] - slow["startedAfter"] >= 0.6 and slow["attempts"] == 1
    r = cli("status", "--chain", "--port", str(s.port))
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].startswith("ready after ") and "quick" not in r.stdout
    tree = [line.lstrip(" └─").split(" @")[0] for line in lines[1:6]]
    assert tree == ["app-probe", "app", "prestart-migrate", "slow", "first"]
    assert "[" not in r.stdout  # no chart: stdout is no terminal here
