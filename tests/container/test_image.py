"""docker/Dockerfile's image, built by the suite and run with podman: PID 1, health checks,
degraded mode, stopping, reaping."""

import json

import pytest

from tests.container.conftest import Container, Podman, wait_listening
from tests.helpers import get, wait_until

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
