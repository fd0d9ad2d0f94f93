"""The image from docker/Dockerfile, built and run for real with podman.

No registry is reachable from our machines, so the base image (the stand-in for
``python:3.12-slim``) is made here: debootstrap of Debian's minimal system with python3, imported
into podman. It is cached in podman's image store under a tag that names its inputs (the
package list and the machine's CA bundle, which pip needs inside the build); a missing or stale
tag rebuilds it. podman runs with its own containers.conf: the runc runtime and no default
ulimits, as these machines need.
"""

import contextlib
import hashlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import free_port, status_of, wait_until

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = "python3,python3-venv,ca-certificates"
CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
CONTAINERS_CONF = '[containers]\ndefault_ulimits = []\n\n[engine]\nruntime = "runc"\n'


class Podman:
    def __init__(self, conf: Path) -> None:
        self.env = {**os.environ, "CONTAINERS_CONF": str(conf)}

    def run(
        self, *args: str, check: bool = True, timeout: float = 600, **kw: object
    ) -> subprocess.CompletedProcess[str]:
        r = subprocess.run(
            ["podman", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            **kw,  # type: ignore[call-overload]
        )
        if check and r.returncode != 0:
            raise AssertionError(f"podman {' '.join(args[:3])} failed ({r.returncode}):\n{r.stdout}\n{r.stderr}")
        return r  # type: ignore[no-any-return]

    def exists(self, image: str) -> bool:
        return self.run("image", "exists", image, check=False).returncode == 0


@pytest.fixture(scope="session")
def podman(tmp_path_factory: pytest.TempPathFactory) -> Podman:
    missing = [tool for tool in ("podman", "runc") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed (.ci/run installs them)")
    conf = tmp_path_factory.mktemp("podman") / "containers.conf"
    conf.write_text(CONTAINERS_CONF)
    return Podman(conf)


def _base_tag() -> str:
    digest = hashlib.sha256(PACKAGES.encode())
    if CA_BUNDLE.exists():
        digest.update(CA_BUNDLE.read_bytes())
    return f"localhost/cs-python-base:bookworm-{digest.hexdigest()[:12]}"


@pytest.fixture(scope="session")
def base_image(podman: Podman) -> str:
    tag = _base_tag()
    if podman.exists(tag):
        return tag
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
        tar = subprocess.Popen(["tar", "-C", str(root), "-c", "."], stdout=subprocess.PIPE)
        podman.run(
            "import",
            "--change",
            "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "--change",
            f"ENV PIP_CERT={CA_BUNDLE}",
            "-",
            tag,
            stdin=tar.stdout,
        )
        tar.wait()
    return tag


def build(podman: Podman, dockerfile: str, tag: str, build_arg: str) -> str:
    """``dockerfile`` built as users build it (``--format docker`` keeps the HEALTHCHECK)."""
    podman.run(
        *("build", "--format", "docker", "--network", "host", "--pull=never"),
        *("--build-arg", build_arg, "-f", dockerfile, "-t", tag, "."),
        cwd=ROOT,
        timeout=900,
    )
    return tag


@pytest.fixture(scope="session")
def image(podman: Podman, base_image: str) -> str:
    """docker/Dockerfile on the local base."""
    return build(podman, "docker/Dockerfile", "localhost/container-supervisor:test", f"PYTHON_IMAGE={base_image}")


@pytest.fixture(scope="session")
def django_image(podman: Podman, image: str) -> str:
    """examples/django/Dockerfile, FROM the image above, as a user would build their app."""
    return build(podman, "examples/django/Dockerfile", "localhost/cs-django:test", f"SUPERVISOR_IMAGE={image}")


class Container:
    def __init__(self, podman: Podman, name: str, health_port: int, app_port: int) -> None:
        self.podman, self.name, self.health_port, self.app_port = podman, name, health_port, app_port

    def status(self, path: str) -> int | None:
        return status_of(self.health_port, path)

    def inspect(self, fmt: str) -> str:
        return self.podman.run("inspect", self.name, "--format", fmt).stdout.strip()

    def running(self) -> bool:
        return self.inspect("{{.State.Running}}") == "true"

    def exec(self, *argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self.podman.run("exec", self.name, *argv, check=check)

    def logs(self) -> str:
        r = self.podman.run("logs", self.name, check=False)
        return r.stdout + r.stderr


@pytest.fixture
def start(podman: Podman) -> Iterator[object]:
    started: list[str] = []

    def run(
        image: str,
        *command: str,
        env: dict[str, str] | None = None,
        entrypoint: str | None = None,
        host_network: bool = False,
    ) -> Container:
        health, app = free_port(), free_port()
        name = f"cs-test-{health}"
        args = ["run", "-d", "--pull=never", "--name", name]
        if host_network:  # reaches the tests' own servers on loopback; ports are the host's
            args += ["--network", "host", "-e", f"SUPERVISOR_HEALTH_PORT={health}", "-e", f"APP_PORT={app}"]
        else:
            args += ["-p", f"127.0.0.1:{health}:8081", "-p", f"127.0.0.1:{app}:8000"]
        for key, value in (env or {}).items():
            args += ["-e", f"{key}={value}"]
        if entrypoint is not None:
            args += ["--entrypoint", entrypoint]
        podman.run(*args, image, *command)
        started.append(name)
        return Container(podman, name, health, app)

    yield run
    for name in started:
        with contextlib.suppress(AssertionError, subprocess.TimeoutExpired):
            podman.run("rm", "-f", "-t", "0", name, check=False, timeout=60)


def wait_listening(c: Container) -> None:
    wait_until(lambda: c.status("/healthz") == 200, 30, f"{c.name} /healthz")
