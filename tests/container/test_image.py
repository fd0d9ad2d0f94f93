"""docker/Dockerfile's image, built by the suite and run with podman: PID 1, health checks,
degraded mode, stopping, reaping."""

import json
import socket
import subprocess
from pathlib import Path

import pytest

from tests.container.conftest import Container, Podman, wait_listening
from tests.helpers import free_port, get, status_of, wait_until

pytestmark = [pytest.mark.container, pytest.mark.slow, pytest.mark.timeout(900)]  # the first builds the image


def test_the_supervisor_is_pid_1_as_non_root_and_the_example_becomes_ready(image: str, start: object) -> None:
    c: Container = start(image)  # type: ignore[operator]
    wait_until(lambda: c.status("/readyz") == 200, 60, "the example's /readyz 200")
    top = c.podman.run("top", c.name, "pid", "user", "args").stdout.splitlines()
    pid1 = next(line.split(None, 2) for line in top[1:] if line.split()[0] == "1")
    assert pid1[1] == "app" and "/opt/supervisor/bin/supervisor run" in pid1[2], top
    assert "hello from behind container-supervisor" in get(c.app_port, "/").text
    verbose = get(c.health_port, "/readyz?verbose").text
    assert "[+]prestart-migrate ok" in verbose and "[+]database ok" in verbose
    assert c.podman.run("healthcheck", "run", c.name, check=False).returncode == 0


def test_degraded_mode_keeps_running_and_stays_healthy(image: str, start: object) -> None:
    c: Container = start(  # type: ignore[operator]
        image,
        env={"SUPERVISOR_GATE_CACHE": "redis://127.0.0.1:1/0", "SUPERVISOR_STARTUP_TIMEOUT": "1s"},
    )
    wait_listening(c)
    wait_until(
        lambda: json.loads(get(c.health_port, "/readyz?format=json").body)["phase"] == "degraded", 30, "degraded"
    )
    reply = get(c.health_port, "/readyz?verbose")
    assert reply.status == 503
    failing = [line for line in reply.text.splitlines() if line.startswith("[-]")]
    assert failing[0].startswith("[-]cache failed"), failing
    allowed = ("[-]cache", "[-]prestart-migrate failed: waiting for", "[-]app-process", "[-]app-probe")
    assert all(f.startswith(allowed) for f in failing), failing
    assert c.running()
    assert c.podman.run("healthcheck", "run", c.name, check=False).returncode == 0  # liveness: healthy
    status = c.exec("supervisor", "status", check=False)
    assert status.returncode == 1 and "phase: degraded" in status.stdout


def test_stop_is_graceful_where_a_plain_python_pid_1_is_killed(image: str, base_image: str, start: object) -> None:
    ours: Container = start(image)  # type: ignore[operator]
    wait_until(lambda: ours.status("/readyz") == 200, 60, "ready")
    plain: Container = start(base_image, "-m", "http.server", "8000", entrypoint="python3")  # type: ignore[operator]
    wait_until(lambda: plain.running(), 30, "the plain image to run")
    podman: Podman = ours.podman
    podman.run("stop", "-t", "5", ours.name)
    podman.run("stop", "-t", "2", plain.name)
    assert ours.inspect("{{.State.ExitCode}}") == "0"  # SIGTERM handled, forwarded, gunicorn drained
    assert plain.inspect("{{.State.ExitCode}}") == "137"  # PID 1 without a handler: SIGKILL at the timeout
    assert "exited with code 0" in ours.logs()


def test_two_hundred_orphans_leave_no_zombie(image: str, start: object) -> None:
    orphans = "for i in $(seq 200); do (sleep 0.2 &); done; exec sleep 120"
    c: Container = start(image, "sh", "-c", orphans)  # type: ignore[operator]
    wait_listening(c)

    def settled() -> bool:
        states = c.exec("sh", "-c", "cat /proc/[0-9]*/stat 2>/dev/null", check=False).stdout
        fields = [line.rsplit(")", 1)[1].split()[0] for line in states.splitlines() if ")" in line]
        return len(fields) > 0 and "Z" not in fields and len(fields) < 10

    wait_until(settled, 30, "every orphan reaped")


def test_podman_sdnotify_container_passes_on_ready_only_once_ready_and_the_app_sees_no_socket(
    image: str, podman: Podman, tmp_path: Path
) -> None:
    """``podman run --sdnotify=container`` (podman 4.3 here: it does not wait for it with -d)
    passes the container's ``READY=1`` on to its own NOTIFY_SOCKET, our receiver (podman's own
    tests use socat): not while a gate cannot pass, once it has. gunicorn's environment holds no
    NOTIFY_SOCKET."""
    where = tmp_path / "notify.sock"
    manager = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    manager.bind(str(where))
    manager.setblocking(False)
    health = free_port()
    name = f"cs-test-notify-{health}"
    args = ["podman", "run", "-d", "--pull=never", "--sdnotify=container", "--name", name]
    args += ["-p", f"127.0.0.1:{health}:8081", "-e", "SUPERVISOR_GATE_GO=cmd:test -f /tmp/go", image]
    said: list[bytes] = []
    try:
        subprocess.run(args, env={**podman.env, "NOTIFY_SOCKET": str(where)}, check=True, capture_output=True)
        wait_until(lambda: status_of(health, "/healthz") == 200, 60, "the container's /healthz")
        wait_until(lambda: _datagrams(manager, said) and status_of(health, "/readyz") == 503, 10, "MAINPID")
        assert any(d.startswith(b"MAINPID=") for d in said), said  # podman's own: the channel works
        assert not any(b"READY=1" in d for d in said), said
        podman.run("exec", name, "touch", "/tmp/go")
        wait_until(lambda: any(b"READY=1" in d for d in _datagrams(manager, said)), 30, "READY=1")
        assert status_of(health, "/readyz") == 200
        pid = json.loads(get(health, "/readyz?format=json").body)["child"]["pid"]
        environ = podman.run("exec", name, "cat", f"/proc/{pid}/environ").stdout.split("\0")
        assert any(v.startswith("SUPERVISOR_GATE_GO=") for v in environ), environ  # the app's own
        assert not [v for v in environ if v.startswith(("NOTIFY_SOCKET=", "WATCHDOG_"))], environ
    finally:
        podman.run("rm", "-f", "-t", "0", name, check=False, timeout=60)
        manager.close()


def _datagrams(sock: socket.socket, into: list[bytes]) -> list[bytes]:
    while True:
        try:
            into.append(sock.recv(4096))
        except BlockingIOError:
            return into


def test_podman_restart_on_failure_restarts_the_container_when_the_app_hangs(image: str, podman: Podman) -> None:
    """``SUPERVISOR_ON_APP_UNRESPONSIVE=exit``: gunicorn frozen with SIGSTOP inside the container,
    the supervisor exits 75, and podman's ``--restart=on-failure`` starts the container again."""
    health = free_port()
    name = f"cs-test-hang-{health}"
    args = ["run", "-d", "--pull=never", "--restart=on-failure", "--name", name, "-p", f"127.0.0.1:{health}:8081"]
    args += ["-e", "SUPERVISOR_ON_APP_UNRESPONSIVE=exit", "-e", "SUPERVISOR_CHECK_INTERVAL=500ms"]
    args += ["-e", "SUPERVISOR_APP_PROBE_TIMEOUT=500ms", image]

    def restarts() -> int:
        return int(podman.run("inspect", "--format", "{{.RestartCount}}", name).stdout.strip())

    try:
        podman.run(*args)
        wait_until(lambda: status_of(health, "/readyz") == 200, 60, "the container's /readyz")
        doc = json.loads(get(health, "/readyz?format=json").body)
        assert doc["checks"]["app-probe"][0]["target"] == "http://127.0.0.1:8000/"
        assert restarts() == 0
        pid = doc["child"]["pid"]
        freeze = f"import os, signal; os.killpg({pid}, signal.SIGSTOP)"  # gunicorn's whole group
        podman.run("exec", name, "python3", "-c", freeze)
        wait_until(lambda: restarts() >= 1, 60, "podman to restart the container")
        wait_until(lambda: status_of(health, "/readyz") == 200, 60, "the restarted container's /readyz")
        logs = podman.run("logs", name).stdout + podman.run("logs", name).stderr
        assert "then exiting 75" in logs, logs[-3000:]
    finally:
        podman.run("rm", "-f", "-t", "0", name, check=False, timeout=60)


def test_held_socket_in_the_image_refuses_nothing_across_three_master_kills(image: str, podman: Podman) -> None:
    """``-p`` to the app's port, the socket held by the supervisor inside the container
    (``SUPERVISOR_APP_LISTEN``), the master killed three times under ``RESTART=on-failure``."""
    from tests.integration.test_held_sockets import Clients

    health, app = free_port(), free_port()
    name = f"cs-test-held-{health}"
    args = ["run", "-d", "--pull=never", "--name", name, "-p", f"127.0.0.1:{health}:8081"]
    args += ["-p", f"127.0.0.1:{app}:8000", "-e", "SUPERVISOR_APP_LISTEN=0.0.0.0:8000"]
    args += ["-e", "SUPERVISOR_RESTART=on-failure", "-e", "SUPERVISOR_BACKOFF_INITIAL=50ms", image]

    def master() -> int:
        doc = json.loads(get(health, "/readyz?format=json").body)
        return int(doc["child"]["pid"]) if doc["status"] == "pass" else 0

    try:
        podman.run(*args)
        wait_until(lambda: status_of(health, "/readyz") == 200, 60, "the container's /readyz")
        clients = Clients(app)
        killed: list[int] = []
        for n in range(3):
            pid = wait_until(lambda: (m := master()) not in killed and m, 30, f"master {n + 1}")
            wait_until(lambda: clients.seen["answered"] > 20 * (n + 1), 20, "answers")  # noqa: B023
            podman.run("exec", name, "python3", "-c", f"import os, signal; os.kill({pid}, signal.SIGKILL)")
            killed.append(pid)
        wait_until(lambda: master() not in (0, *killed), 30, "the fourth master")
        wait_until(lambda: clients.seen["answered"] > 100, 20, "answers after the last restart")
        seen = clients.stop()
        assert set(seen) == {"answered"}, seen
    finally:
        podman.run("rm", "-f", "-t", "0", name, check=False, timeout=60)
