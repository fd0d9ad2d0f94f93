"""The image from docker/Dockerfile, built and run for real, under podman and under Docker Engine.

A test that takes ``engine`` (or ``start``, ``image``, ``base_image``) runs once per engine:
``[podman]`` and ``[docker]``, each skipped with its reason where that engine is missing. The
rest are podman's own (``podman kube play``, ``--sdnotify``, README's first command).

No registry is reachable from our machines, so the base image (the stand-in for
``python:3.12-slim``) is made here: debootstrap of Debian's minimal system with python3,
imported into each engine with its own ``import``. It is cached in the engine's image store
under a tag that names its inputs (the package list and the machine's CA bundle, which pip
needs inside the build); a missing or stale tag rebuilds it. podman runs with its own
containers.conf: the runc runtime and no default ulimits, as these machines need.
"""

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

import pytest

from tests.container.engines import Docker, Engine, Health, Podman, instant
from tests.helpers import free_port, status_of, wait_until

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = "python3,python3-venv,ca-certificates"
CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
CONTAINERS_CONF = '[containers]\ndefault_ulimits = []\n\n[engine]\nruntime = "runc"\n'
ENGINES = ("podman", "docker")


@pytest.fixture(scope="session")
def podman(tmp_path_factory: pytest.TempPathFactory) -> Podman:
    missing = [tool for tool in ("podman", "runc") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed (.ci/run installs them)")
    conf = tmp_path_factory.mktemp("podman") / "containers.conf"
    conf.write_text(CONTAINERS_CONF)
    return Podman({**os.environ, "CONTAINERS_CONF": str(conf)})


@pytest.fixture(scope="session")
def docker() -> Docker:
    """Docker Engine as the ``docker`` client reaches it. .ci/run says in CI_DOCKER_PROBLEM why it
    could not provide one."""
    problem = os.environ.get("CI_DOCKER_PROBLEM")
    if shutil.which("docker") is None:
        pytest.skip(problem or "docker not installed (.ci/run installs Debian's docker.io)")
    engine = Docker(dict(os.environ))
    client = engine.run("--version", check=False, timeout=60).stdout.strip()
    if not client.startswith("Docker version "):
        pytest.skip(f"the docker on PATH is not Docker Engine's client ({client or 'no version'})")
    answer = engine.run("version", "--format", "{{.Server.Version}}", check=False, timeout=60)
    if answer.returncode != 0:
        where = engine.env.get("DOCKER_HOST", "the default socket")
        reason = (answer.stderr.strip().splitlines() or ["no answer"])[-1]
        pytest.skip(f"no Docker daemon answers at {where} ({reason}); {problem or '.ci/run starts one'}")
    return engine


@pytest.fixture(scope="session", params=ENGINES)
def engine(request: pytest.FixtureRequest) -> Engine:
    return request.getfixturevalue(request.param)  # type: ignore[no-any-return]


class Images:
    """The images each engine's store holds for this session, each made once at most: the base
    loaded from another engine's store that has it, else from one debootstrap by the engine's
    ``import``; ours and the Django example's built by the engine's ``build``."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.rootfs: Path | None = None
        self.made: dict[tuple[str, str], str] = {}
        self.engines: list[Engine] = []  # those asked for the base so far

    def base(self, engine: Engine) -> str:
        tag = base_tag()
        if (engine.name, tag) not in self.made and not engine.exists(tag):
            holder = next((other for other in self.engines if other.exists(tag)), None)
            if holder is not None:  # `podman save | docker load`: seconds, where debootstrap takes a minute
                saved = subprocess.Popen([holder.program, "save", tag], env=holder.env, stdout=subprocess.PIPE)
                engine.run("load", stdin=saved.stdout)
                assert saved.wait(timeout=300) == 0, f"{holder.name} save {tag} failed"
            else:
                changes = [
                    "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                    f"ENV PIP_CERT={CA_BUNDLE}",
                ]
                engine.run("import", *(f"--change={change}" for change in changes), str(self._rootfs()), tag)
        self.made[engine.name, tag] = tag
        if engine not in self.engines:
            self.engines.append(engine)
        return tag

    def supervisor(self, engine: Engine) -> str:
        return self._build(
            engine, "docker/Dockerfile", "localhost/container-supervisor:test", f"PYTHON_IMAGE={self.base(engine)}"
        )

    def django(self, engine: Engine) -> str:
        """examples/django/Dockerfile, FROM ours, as a user would build their app."""
        return self._build(
            engine,
            "examples/django/Dockerfile",
            "localhost/cs-django:test",
            f"SUPERVISOR_IMAGE={self.supervisor(engine)}",
        )

    def _build(self, engine: Engine, dockerfile: str, tag: str, build_arg: str) -> str:
        if (engine.name, tag) not in self.made:
            self.made[engine.name, tag] = engine.build(dockerfile, tag, build_arg)
        return tag

    def _rootfs(self) -> Path:
        if self.rootfs is None:
            if os.geteuid() != 0 or shutil.which("debootstrap") is None:
                pytest.skip("making the base image needs root and debootstrap (.ci/run installs it)")
            with tempfile.TemporaryDirectory(prefix="cs-base-") as tmp:
                root = Path(tmp) / "root"
                subprocess.run(
                    ["debootstrap", "--variant=minbase", f"--include={PACKAGES}", "bookworm", str(root)],
                    check=True,
                    capture_output=True,
                    timeout=900,
                )
                if CA_BUNDLE.exists():  # this machine's trust store, so that pip inside the build can reach the index
                    shutil.copy(CA_BUNDLE, root / "etc/ssl/certs/ca-certificates.crt")
                tar = self.workdir / "rootfs.tar"
                subprocess.run(["tar", "-C", str(root), "-cf", str(tar), "."], check=True, timeout=300)
            self.rootfs = tar
        return self.rootfs


def base_tag() -> str:
    digest = hashlib.sha256(PACKAGES.encode())
    if CA_BUNDLE.exists():
        digest.update(CA_BUNDLE.read_bytes())
    return f"localhost/cs-python-base:bookworm-{digest.hexdigest()[:12]}"


@pytest.fixture(scope="session")
def images(tmp_path_factory: pytest.TempPathFactory) -> Images:
    return Images(tmp_path_factory.mktemp("base"))


@pytest.fixture(scope="session")
def base_image(engine: Engine, images: Images) -> str:
    return images.base(engine)


@pytest.fixture(scope="session")
def image(engine: Engine, images: Images) -> str:
    return images.supervisor(engine)


@pytest.fixture(scope="session")
def django_image(engine: Engine, images: Images) -> str:
    return images.django(engine)


@pytest.fixture(scope="session")
def podman_base_image(podman: Podman, images: Images) -> str:
    return images.base(podman)


@pytest.fixture(scope="session")
def podman_image(podman: Podman, images: Images) -> str:
    return images.supervisor(podman)


@pytest.fixture(scope="session")
def podman_django_image(podman: Podman, images: Images) -> str:
    return images.django(podman)


class Container:
    def __init__(self, engine: Engine, name: str, health_port: int, app_port: int) -> None:
        self.engine, self.name, self.health_port, self.app_port = engine, name, health_port, app_port

    def status(self, path: str) -> int | None:
        return status_of(self.health_port, path)

    def inspect(self, fmt: str) -> str:
        return self.engine.run("inspect", self.name, "--format", fmt).stdout.strip()

    def started_at(self) -> datetime:
        """When the container last started (as JSON: podman's is a time, Docker's a string)."""
        return instant(json.loads(self.inspect("{{json .State.StartedAt}}")))

    def running(self) -> bool:
        return self.inspect("{{.State.Running}}") == "true"

    def exec(self, *argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self.engine.run("exec", self.name, *argv, check=check)

    def logs(self) -> str:
        r = self.engine.run("logs", self.name, check=False)
        return r.stdout + r.stderr

    def wait_healthy(self, since: datetime | None = None, timeout: float = 60) -> Health:
        """Healthy as the engine says it (under Docker, by the daemon's own checks), by a check
        that passed after ``since`` when given."""

        def healthy() -> Health | None:
            health = self.engine.health(self.name)
            fresh = since is None or any(when > since and code == 0 for when, code in health.results)
            return health if health.status == "healthy" and fresh else None

        found = wait_until(healthy, timeout, f"{self.name} healthy", 0.2)
        assert found is not None
        return found

    def stays_healthy(self, checks: int = 3, timeout: float = 60) -> None:
        """The next ``checks`` health checks from now all pass, and the container is still healthy."""
        since = datetime.now(UTC)
        seen: dict[datetime, int] = {}

        def enough() -> Health | None:
            health = self.engine.health(self.name)
            seen.update((when, code) for when, code in health.results if when > since)
            return health if len(seen) >= checks else None

        last = wait_until(enough, timeout, f"{checks} health checks of {self.name}", 0.2)
        assert last is not None and list(seen.values()) == [0] * len(seen) and last.status == "healthy", (
            last,
            self.logs()[-2000:],
        )


class Start(Protocol):
    def __call__(
        self,
        image: str,
        *command: str,
        env: dict[str, str] | None = None,
        entrypoint: str | None = None,
        host_network: bool = False,
        options: tuple[str, ...] = (),
    ) -> Container: ...


class Containers:
    """Containers a test starts, removed at its end whatever happened."""

    def __init__(self) -> None:
        self.started: list[Container] = []

    def start(
        self,
        engine: Engine,
        image: str,
        *command: str,
        env: dict[str, str] | None = None,
        entrypoint: str | None = None,
        host_network: bool = False,
        options: tuple[str, ...] = (),
    ) -> Container:
        health, app = free_port(), free_port()
        name = f"cs-test-{health}"
        args = ["run", "-d", "--pull=never", "--name", name, *engine.run_flags, *options]
        if host_network:  # reaches the tests' own servers on loopback; ports are the host's
            args += ["--network", "host", "-e", f"SUPERVISOR_HEALTH_PORT={health}", "-e", f"APP_PORT={app}"]
        else:  # loopback only: never the container's bridge address
            args += ["-p", f"127.0.0.1:{health}:8081", "-p", f"127.0.0.1:{app}:8000"]
        for key, value in (env or {}).items():
            args += ["-e", f"{key}={value}"]
        if entrypoint is not None:
            args += ["--entrypoint", entrypoint]
        container = Container(engine, name, health, app)
        self.started.append(container)
        engine.run(*args, image, *command)
        return container

    def remove_all(self) -> None:
        for container in self.started:
            container.engine.remove(container.name)


@pytest.fixture
def containers() -> Iterator[Containers]:
    kept = Containers()
    yield kept
    kept.remove_all()


@pytest.fixture
def start(engine: Engine, containers: Containers) -> Start:
    def run(image: str, *command: str, **kw: object) -> Container:
        return containers.start(engine, image, *command, **kw)  # type: ignore[arg-type]

    return run


def wait_listening(c: Container) -> None:
    wait_until(lambda: c.status("/healthz") == 200, 30, f"{c.name} /healthz")
