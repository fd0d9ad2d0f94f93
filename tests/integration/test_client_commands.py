"""``probe``, ``status`` and ``wait`` against real supervisors, servers and listeners."""

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.helpers import clean_env, cli, free_port, supervisor_argv, wait_until
from tests.integration.supervised import Launcher
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
