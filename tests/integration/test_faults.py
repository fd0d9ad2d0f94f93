"""Faults made to happen for real, each bounded in time; docs/reliability.md lists every fault
the supervisor makes a promise about, with the test that holds it to it (here or elsewhere)."""

import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers import children, free_port, get, wait_until
from tests.integration.supervised import Launcher, gunicorn_argv, pid1_prefix
from tests.servers import PgFactory, RedisFactory

pytestmark = [pytest.mark.integration, pytest.mark.faults]

SLACK = 2.0  # seconds on top of each promised bound: the suite runs on busy CI machines too


def rechecked(gate: str, url: str, interval: float, timeout: float, backoff_max: float) -> dict[str, str]:
    """One gate, re-checked every ``interval``, each attempt within ``timeout``, retries backing
    off up to ``backoff_max`` (the three bounds the recovery promises are made of)."""
    return {
        f"SUPERVISOR_GATE_{gate}": url,
        f"SUPERVISOR_GATE_{gate}__TIMEOUT": f"{timeout:g}s",
        "SUPERVISOR_CHECK_INTERVAL": f"{interval:g}s",
        "SUPERVISOR_BACKOFF_MAX": f"{backoff_max:g}s",
    }


def test_redis_lost_while_the_app_runs_turns_readiness_off_then_back(
    redis_factory: RedisFactory, supervise: Launcher
) -> None:
    redis = redis_factory.new()
    interval, timeout, backoff_max = 0.3, 0.3, 0.3
    s = supervise.run(
        "sleep",
        "60",
        env=rechecked("CACHE", redis.url, interval, timeout, backoff_max),
    )
    s.wait_ready()
    redis.stop()
    wait_until(lambda: s.status("/readyz") == 503, interval + timeout + SLACK, "readiness off")
    assert s.status("/healthz") == 200  # liveness never depends on the dependency
    redis.start()
    wait_until(lambda: s.status("/readyz") == 200, backoff_max + 0.5 + SLACK, "readiness back")
    assert s.proc.poll() is None  # the app was never touched


def test_a_cmd_gate_writing_100_mb_keeps_the_supervisors_memory_bounded(supervise: Launcher) -> None:
    write = "import sys; [sys.stdout.write('x' * 1_000_000 + chr(10)) for _ in range(100)]; print('done')"
    s = supervise.run("sleep", "60", env={"SUPERVISOR_GATE_BIG": f'cmd:python3 -c "{write}"'})
    s.wait_ready(30)
    status = Path(f"/proc/{s.pid}/status").read_text().splitlines()
    peak_kb = int(next(line for line in status if line.startswith("VmHWM")).split()[1])
    assert peak_kb < 120_000, peak_kb  # the output's last line is kept, not 100 MB of it
    assert '"detail": "done"' in s.get("/readyz?format=json").text


def test_the_gunicorn_master_killed_is_the_supervisors_exit_and_no_worker_lingers(supervise: Launcher) -> None:
    app_port = free_port()
    s = supervise.run(*gunicorn_argv(app_port, "--workers", "2"), prefix=pid1_prefix())
    s.wait_ready(30)
    master = children(s.pid)[0]
    workers = children(master)
    os.kill(master, signal.SIGKILL)
    assert s.wait(15) == 137
    assert "exited on its own with signal 9 (SIGKILL)" in s.output()
    for pid in workers:  # the PID namespace went with its init: nothing of the app is left
        assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text().lower()


def test_a_gunicorn_worker_crash_is_gunicorns_business_and_readiness_stays(supervise: Launcher) -> None:
    app_port = free_port()
    s = supervise.run(*gunicorn_argv(app_port, "--workers", "2"))
    s.wait_ready(30)
    master = children(s.proc.pid)[0]
    worker = children(master)[0]
    os.kill(worker, signal.SIGKILL)

    def replaced() -> bool:
        now = children(master)
        return len(now) == 2 and worker not in now

    wait_until(replaced, 15, "gunicorn to replace its worker")
    assert s.status("/readyz") == 200 and s.proc.poll() is None


def test_ten_sigterms_at_once_are_one_stop(supervise: Launcher) -> None:
    """The kernel keeps one pending SIGTERM, however many are sent: a burst may be seen as one
    stop signal or as two (the second kills at once); either way one stop, bounded in time."""
    s = supervise.run("sh", "-c", "trap '' TERM; while :; do sleep 0.05; done", env={"SUPERVISOR_STOP_TIMEOUT": "1s"})
    s.wait_ready()
    for _ in range(10):
        s.signal(signal.SIGTERM)
    assert s.wait(1 + SLACK) == 137  # killed: by a second signal, or at the stop timeout
    out = s.output()
    assert out.count("forwarded SIGTERM") == 1, out
    assert "SIGKILL" in out or "killing pid" in out
    assert "Traceback" not in out


def test_the_health_port_already_taken_is_exit_71_naming_the_setting(supervise: Launcher) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        started = time.monotonic()
        s = supervise.run("sleep", "60", env={"SUPERVISOR_HEALTH_PORT": str(port)})
        assert s.wait(10) == 71
        assert time.monotonic() - started < 10
        assert "SUPERVISOR_HEALTH_PORT" in s.output()


# -- generated malformed HTTP against the running server ------------------------------------

TOKENS = st.sampled_from(["GET", "HEAD", "POST", "PUT", "get", "G\x00T", "", "GET GET", "\xff", "OPTIONS"])
TARGETS = st.one_of(
    st.sampled_from(["/healthz", "/readyz", "/readyz?verbose", "/readyz/db", "/metrics", "*", "//[", "/%", ""]),
    st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=255), max_size=40),
)
VERSIONS = st.sampled_from(["HTTP/1.1", "HTTP/1.0", "HTTP/2", "HTTP/1.1x", "", "http/1.1"])
HEADERS = st.lists(
    st.tuples(
        st.sampled_from(["Host", "Accept", "Content-Length", "Transfer-Encoding", "X", "", "Bad Name", "\x01"]),
        st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=255), max_size=20),
    ),
    max_size=4,
)


def request_bytes(method: str, target: str, version: str, headers: list[tuple[str, str]]) -> bytes:
    head = f"{method} {target} {version}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers) + "\r\n"
    return head.encode("latin-1")


def status_of_reply(sock: socket.socket) -> int | None:
    data = b""
    while b"\r\n" not in data:
        try:
            chunk = sock.recv(4096)
        except OSError:
            return None
        if not chunk:
            return None  # closed without an answer: allowed
        data += chunk
    line = data.split(b"\r\n", 1)[0].split()
    return int(line[1]) if len(line) >= 2 and line[1].isdigit() else -1


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    from tests.integration.supervised import Supervised

    s = Supervised(
        tmp_path_factory.mktemp("fuzz"), ["run", "--", "sleep", "600"], {"SUPERVISOR_GATE_DB": "config:HOME"}
    )
    s.wait_ready()
    yield s.port
    s.stop()


@settings(max_examples=500, deadline=None, suppress_health_check=list(HealthCheck))
@given(batch=st.lists(st.tuples(TOKENS, TARGETS, VERSIONS, HEADERS), min_size=20, max_size=20))
def test_ten_thousand_generated_requests_are_4xx_or_close_never_5xx(
    running: int, batch: list[tuple[str, str, str, list[tuple[str, str]]]]
) -> None:
    for method, target, version, headers in batch:
        with socket.create_connection(("127.0.0.1", running), timeout=5) as sock:
            sock.sendall(request_bytes(method, target, version, headers))
            code = status_of_reply(sock)
        assert code is None or 200 <= code < 500, (method, target, version, headers, code)
    assert get(running, "/healthz").status == 200  # answering throughout


def _queued(port: int) -> int:
    """Connections waiting in the listen queue of ``port`` on loopback (its Recv-Q)."""
    out = subprocess.run(["ss", "-Hltn", f"sport = :{port}"], capture_output=True, text=True, check=True).stdout
    return sum(int(line.split()[1]) for line in out.splitlines() if line.strip())


def test_postgresql_killed_mid_attempt_then_restarted_then_stopped_for_good(
    pg_factory: PgFactory, supervise: Launcher
) -> None:
    """SIGKILL to the postmaster while an attempt waits for it: the attempt ends at once (not at
    its timeout), readiness goes off, comes back once the server is restarted, and stays off with
    the reason ``refused`` once it is stopped for good, the supervisor and the app untouched."""
    pg = pg_factory.new()
    interval, timeout, backoff_max = 0.3, 10.0, 0.3
    s = supervise.run(
        "sleep",
        "120",
        env=rechecked("DB", pg.url, interval, timeout, backoff_max),
    )
    s.wait_ready()
    postmaster = pg.postmaster()
    helpers = children(postmaster)
    os.kill(postmaster, signal.SIGSTOP)  # the next attempt's connect waits in its listen queue
    wait_until(lambda: _queued(pg.port) > 0, interval + SLACK, "an attempt waiting for the server")
    os.kill(postmaster, signal.SIGKILL)
    killed = time.monotonic()
    wait_until(lambda: s.status("/readyz") == 503, 1 + SLACK, "readiness off")
    assert time.monotonic() - killed < timeout  # the attempt ended with the server, not at its timeout
    first = json.loads(s.get("/readyz?format=json").body)["checks"]["db"][0]
    assert first["reasonClass"] in ("refused", "connection-lost"), first
    assert s.status("/healthz") == 200

    # its helper processes exit when they see the postmaster gone; then it can start again
    wait_until(lambda: not any(Path(f"/proc/{pid}").exists() for pid in helpers), 30, "the server's processes")
    pg.start()
    wait_until(lambda: s.status("/readyz") == 200, backoff_max + 0.5 + SLACK, "readiness back")

    pg.stop()
    wait_until(lambda: s.status("/readyz") == 503, interval + timeout + SLACK, "readiness off for good")

    def db() -> dict[str, object]:
        entry: dict[str, object] = json.loads(s.get("/readyz?format=json").body)["checks"]["db"][0]
        return entry

    before = int(str(db()["attempts"]))
    wait_until(lambda: int(str(db()["attempts"])) >= before + 3, 3 * backoff_max + SLACK, "three more attempts")
    later = db()
    assert later["reasonClass"] == "refused" and later["status"] == "fail", later
    assert s.status("/healthz") == 200 and s.proc.poll() is None  # still up, the app still running


def test_500_stalled_connections_while_probes_are_answered(supervise: Launcher) -> None:
    """Default settings: half-sent request heads pile up past the connection limit; every probe
    in between is answered within a kubelet's default timeout (1 s)."""
    s = supervise.run("sleep", "60")
    s.wait_ready()
    stalled: list[socket.socket] = []
    try:
        for i in range(500):
            sock = socket.create_connection(("127.0.0.1", s.port), timeout=5)
            sock.sendall(b"GET /readyz HTTP/1.1\r\nHost: x\r\n")  # the head is never finished
            stalled.append(sock)
            if i % 50 == 49:
                assert get(s.port, "/healthz", timeout=1).status == 200
                assert get(s.port, "/readyz", timeout=1).status == 200
    finally:
        for sock in stalled:
            sock.close()
    assert s.proc.poll() is None and "Traceback" not in s.output()
