"""docker/Dockerfile's image, built by the suite and run under podman and under Docker Engine:
PID 1, health as the engine sees it (under Docker, the daemon's own HEALTHCHECK runs), degraded
mode, stopping with and without a drain delay, restart policies, reaping."""

import json
import os
import socket
import subprocess
import time
from pathlib import Path

import pytest

from tests.container.conftest import Container, Containers, Images, Start, wait_listening
from tests.container.engines import Docker, Engine, Podman
from tests.helpers import free_port, get, status_of, wait_until

pytestmark = [pytest.mark.container, pytest.mark.slow, pytest.mark.timeout(900)]  # the first builds the image
PID_1 = (  # who PID 1 is, seen from inside: the same under every engine (`top` differs)
    "import pathlib, pwd; p = pathlib.Path('/proc/1'); "
    "print(pwd.getpwuid(p.stat().st_uid).pw_name, p.joinpath('cmdline').read_bytes().replace(b'\\0', b' ').decode())"
)


def test_the_supervisor_is_pid_1_as_non_root_and_the_example_becomes_ready(image: str, start: Start) -> None:
    c = start(image)
    wait_until(lambda: c.status("/readyz") == 200, 60, "the example's /readyz 200")
    user, cmdline = c.exec("python3", "-c", PID_1).stdout.split(None, 1)
    assert user == "app" and cmdline.startswith(
        "/opt/supervisor/bin/python3 /opt/supervisor/bin/supervisor run -- gunicorn"
    ), cmdline
    assert "hello from behind container-supervisor" in get(c.app_port, "/").text
    verbose = get(c.health_port, "/readyz?verbose").text
    assert "[+]prestart-migrate ok" in verbose and "[+]database ok" in verbose
    c.wait_healthy()  # under Docker: the daemon's own HEALTHCHECK, every second
    c.stays_healthy(checks=2)


def test_degraded_mode_keeps_running_and_stays_healthy(image: str, start: Start) -> None:
    c = start(image, env={"SUPERVISOR_GATE_CACHE": "redis://127.0.0.1:1/0", "SUPERVISOR_STARTUP_TIMEOUT": "1s"})
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
    c.stays_healthy(checks=3)  # liveness: healthy while not ready, check after check
    assert c.running() and c.status("/readyz") == 503
    status = c.exec("supervisor", "status", check=False)
    assert status.returncode == 1 and "phase: degraded" in status.stdout


def test_stop_is_graceful_where_a_plain_python_pid_1_is_killed(image: str, base_image: str, start: Start) -> None:
    ours = start(image)
    wait_until(lambda: ours.status("/readyz") == 200, 60, "ready")
    plain = start(base_image, "-m", "http.server", "8000", entrypoint="python3")
    wait_until(lambda: plain.running(), 30, "the plain image to run")
    engine: Engine = ours.engine
    engine.run("stop", "-t", "5", ours.name)
    engine.run("stop", "-t", "2", plain.name)
    assert ours.inspect("{{.State.ExitCode}}") == "0"  # SIGTERM handled, forwarded, gunicorn drained
    assert plain.inspect("{{.State.ExitCode}}") == "137"  # PID 1 without a handler: SIGKILL at the timeout
    assert "exited with code 0" in ours.logs()


def test_stop_with_a_drain_delay_turns_readiness_off_keeps_serving_then_exits_0(image: str, start: Start) -> None:
    """``SUPERVISOR_DRAIN_DELAY=3s`` under ``stop -t 20``: /readyz 503 at once while the app still
    answers, then gunicorn gets SIGTERM and the container exits 0 (docs/exit-codes.md: the app's
    own code), never the engine's SIGKILL (137)."""
    c = start(image, env={"SUPERVISOR_DRAIN_DELAY": "3s"})
    wait_until(lambda: c.status("/readyz") == 200, 60, "ready")
    began = time.monotonic()
    stop = subprocess.Popen([c.engine.program, "stop", "-t", "20", c.name], env=c.engine.env, stdout=subprocess.DEVNULL)
    try:
        wait_until(lambda: c.status("/readyz") == 503, 10, "readiness off once the stop arrived")
        assert get(c.app_port, "/").status == 200  # still serving during the drain
        assert stop.wait(timeout=30) == 0
    finally:
        if stop.poll() is None:
            stop.kill()
    took = time.monotonic() - began
    assert took >= 3.0, f"the stop took {took:.2f} s: shorter than the drain delay"  # a bound load cannot break
    assert c.inspect("{{.State.ExitCode}}") == "0"
    logs = c.logs()
    assert "exited with code 0" in logs, logs[-2000:]


def test_two_hundred_orphans_leave_no_zombie(image: str, start: Start) -> None:
    orphans = "for i in $(seq 200); do (sleep 0.2 &); done; exec sleep 120"
    c = start(image, "sh", "-c", orphans)
    wait_listening(c)

    def settled() -> bool:
        states = c.exec("sh", "-c", "cat /proc/[0-9]*/stat 2>/dev/null", check=False).stdout
        fields = [line.rsplit(")", 1)[1].split()[0] for line in states.splitlines() if ")" in line]
        return len(fields) > 0 and "Z" not in fields and len(fields) < 10

    wait_until(settled, 30, "every orphan reaped")


def restarts(c: Container) -> int:
    return int(c.inspect("{{.RestartCount}}"))


def app_pid(c: Container) -> int:
    doc = json.loads(get(c.health_port, "/readyz?format=json").body)
    return int(doc["child"]["pid"]) if doc["status"] == "pass" else 0


def test_restart_on_failure_counts_each_crash_and_health_follows_the_new_container(image: str, start: Start) -> None:
    """gunicorn's master killed (the app dies of SIGKILL: the supervisor exits 137 under
    ``SUPERVISOR_RESTART=never``), twice: the engine's ``--restart on-failure`` starts the
    container again each time, and the health check passes on the new run."""
    c = start(image, options=("--restart", "on-failure"))
    for crash in range(2):
        pid = wait_until(lambda: app_pid(c), 60, f"ready before crash {crash + 1}")
        started = c.started_at()
        assert restarts(c) == crash
        # the container ends with the app, maybe before the engine has the exec's own status (podman: 255)
        c.exec("python3", "-c", f"import os, signal; os.kill({pid}, signal.SIGKILL)", check=False)
        # a restarting container is "running" with the old start time until the new start
        wait_until(lambda: c.started_at() > started, 60, f"restart {crash + 1}")  # noqa: B023
        assert restarts(c) == crash + 1
        wait_until(lambda: c.status("/readyz") == 200, 60, "ready again")
        c.wait_healthy(since=c.started_at())  # the check ran, and passed, on the new run
    assert "exited on its own with signal 9 (SIGKILL)" in c.logs()


def test_restart_on_failure_restarts_the_container_when_the_app_hangs(image: str, start: Start) -> None:
    """``SUPERVISOR_ON_APP_UNRESPONSIVE=exit``: gunicorn frozen with SIGSTOP inside the container,
    the supervisor exits 75, and the engine's ``--restart on-failure`` starts the container again."""
    env = {"SUPERVISOR_ON_APP_UNRESPONSIVE": "exit", "SUPERVISOR_CHECK_INTERVAL": "500ms"}
    c = start(image, env={**env, "SUPERVISOR_APP_PROBE_TIMEOUT": "500ms"}, options=("--restart", "on-failure"))
    pid = wait_until(lambda: app_pid(c), 60, "the container's /readyz")
    doc = json.loads(get(c.health_port, "/readyz?format=json").body)
    assert doc["checks"]["app-probe"][0]["target"] == "http://127.0.0.1:8000/"
    assert restarts(c) == 0
    c.exec("python3", "-c", f"import os, signal; os.killpg({pid}, signal.SIGSTOP)")  # gunicorn's whole group
    wait_until(lambda: restarts(c) >= 1, 60, "the engine to restart the container")
    wait_until(lambda: c.status("/readyz") == 200, 60, "the restarted container's /readyz")
    logs = c.logs()
    assert "then exiting 75" in logs, logs[-3000:]
    c.wait_healthy()


def buildkit_client(docker: Docker) -> Docker:
    """A Docker client on PATH that builds with BuildKit: one with buildx (the default builder since
    Docker 23), or an older one with ``DOCKER_BUILDKIT=1`` (the daemon's own BuildKit)."""
    seen: set[Path] = set()
    for directory in os.environ.get("PATH", "").split(os.pathsep):
        path = Path(directory) / "docker"
        if not os.access(path, os.X_OK) or path.resolve() in seen:
            continue
        seen.add(path.resolve())
        client = Docker({**docker.env, "DOCKER_BUILDKIT": "1"}, str(path))
        if client.run("buildx", "version", check=False).returncode == 0:
            return client
        version = client.run("version", "--format", "{{.Client.Version}}", check=False).stdout.strip()
        if version.split(".")[0].isdigit() and int(version.split(".")[0]) < 23:
            return client
    pytest.skip("no docker client on PATH builds with BuildKit (it needs buildx, or a client before 23.0)")


def test_docker_buildkit_builds_the_image_the_legacy_builder_does(
    docker: Docker, images: Images, containers: Containers
) -> None:
    """The suite's ``docker build`` is the legacy builder here (Engine 20.10, no buildx); users of
    Docker 23+ build with BuildKit. Both give the same HEALTHCHECK, user, entry point and stop
    signal, and BuildKit's image turns healthy by the daemon's check."""
    legacy = images.supervisor(docker)
    client = buildkit_client(docker)
    tag = client.build(
        "docker/Dockerfile", "localhost/container-supervisor:buildkit", f"PYTHON_IMAGE={images.base(docker)}"
    )

    def config(image: str) -> dict[str, object]:
        found: dict[str, object] = json.loads(
            docker.run("image", "inspect", "--format", "{{json .Config}}", image).stdout
        )
        return {
            key: found.get(key)
            for key in ("Healthcheck", "User", "Entrypoint", "Cmd", "StopSignal", "ExposedPorts", "WorkingDir", "Env")
        }

    built = config(tag)
    assert built == config(legacy)
    assert built["Healthcheck"] == {
        "Test": ["CMD", "/opt/supervisor/bin/supervisor", "probe", "live"],
        "Interval": 10_000_000_000,
        "Timeout": 3_000_000_000,
        "StartPeriod": 30_000_000_000,
        "Retries": 3,
    }
    c = containers.start(docker, tag)
    wait_until(lambda: c.status("/readyz") == 200, 60, "BuildKit's image ready")
    c.wait_healthy()


def test_podman_sdnotify_container_passes_on_ready_only_once_ready_and_the_app_sees_no_socket(
    podman_image: str, podman: Podman, tmp_path: Path
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
    args += ["-p", f"127.0.0.1:{health}:8081", "-e", "SUPERVISOR_GATE_GO=cmd:test -f /tmp/go", podman_image]
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
        podman.remove(name)
        manager.close()


def _datagrams(sock: socket.socket, into: list[bytes]) -> list[bytes]:
    while True:
        try:
            into.append(sock.recv(4096))
        except BlockingIOError:
            return into


def test_held_socket_in_the_image_refuses_nothing_across_three_master_kills(
    podman_image: str, podman: Podman, containers: Containers
) -> None:
    """``-p`` to the app's port, the socket held by the supervisor inside the container
    (``SUPERVISOR_APP_LISTEN``), the master killed three times under ``RESTART=on-failure``."""
    from tests.integration.test_held_sockets import Clients

    env = {"SUPERVISOR_APP_LISTEN": "0.0.0.0:8000", "SUPERVISOR_RESTART": "on-failure"}
    c = containers.start(podman, podman_image, env={**env, "SUPERVISOR_BACKOFF_INITIAL": "50ms"})
    wait_until(lambda: c.status("/readyz") == 200, 60, "the container's /readyz")
    clients = Clients(c.app_port)
    killed: list[int] = []
    for n in range(3):
        pid = wait_until(lambda: (m := app_pid(c)) not in killed and m, 30, f"master {n + 1}")
        wait_until(lambda: clients.seen["answered"] > 20 * (n + 1), 20, "answers")  # noqa: B023
        c.exec("python3", "-c", f"import os, signal; os.kill({pid}, signal.SIGKILL)")
        killed.append(pid)
    wait_until(lambda: app_pid(c) not in (0, *killed), 30, "the fourth master")
    wait_until(lambda: clients.seen["answered"] > 100, 20, "answers after the last restart")
    seen = clients.stop()
    assert set(seen) == {"answered"}, seen
