"""README's commands and snippet, taken from README.md as they stand, run where a new user runs them.

The first command on a bare Debian 12 (python3 and python3-venv, no pip); the image snippet built
on top of the Django example. Nothing here rewrites what README.md says: a change there is what
these tests run.
"""

import contextlib
import json
import secrets
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

from tests.container.conftest import Container, Containers
from tests.container.engines import Podman
from tests.helpers import copy_checkout, get, readme_block, wait_until

pytestmark = [pytest.mark.container, pytest.mark.slow, pytest.mark.timeout(900)]


def port_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def test_the_first_command_runs_the_example_on_a_bare_debian(
    podman: Podman, podman_base_image: str, tmp_path: Path
) -> None:
    base_image = podman_base_image
    command = readme_block("**Run the example**", "sh")
    # the premise: a stock Debian 12 with python3 and python3-venv has no pip
    bare = podman.run("run", "--rm", "--pull=never", base_image, "sh", "-c", "python3 -m pip --version", check=False)
    assert bare.returncode != 0, bare.stdout
    context = tmp_path
    copy_checkout(context / "src")
    (context / "Containerfile").write_text(f"FROM {base_image}\nCOPY src /src\nWORKDIR /src\n")
    tag = "localhost/cs-readme-checkout:test"
    podman.run("build", "--pull=never", "-t", tag, "-f", str(context / "Containerfile"), str(context), timeout=900)
    # the command binds 127.0.0.1:8081 and :8000 as it stands, so it runs on the host's network
    busy = [port for port in (8081, 8000) if not port_free(port)]
    if busy:
        pytest.fail(f"ports {busy} are taken on this machine: README's first command needs them")
    name = "cs-readme-first-command"
    podman.remove(name)
    started = time.monotonic()
    podman.run("run", "-d", "--pull=never", "--network", "host", "--name", name, tag, "sh", "-c", command)
    c = Container(podman, name, 8081, 8000)
    try:
        deadline = started + 600  # pip downloads the dependencies from the index

        def ready() -> bool:
            if not c.running():
                raise AssertionError(f"README's first command ended:\n{c.logs()[-4000:]}")
            return c.status("/readyz") == 200

        wait_until(ready, deadline - time.monotonic(), "the example ready")
        print(f"README's first command: ready {time.monotonic() - started:.1f} s after the container started")
        reply = get(8000, "/")
        assert reply.status == 200
        assert json.loads(reply.body)["greeting"] == "hello from behind container-supervisor"
        verbose = get(8081, "/readyz?verbose").text
        assert "[+]database ok" in verbose and "[+]prestart-migrate ok" in verbose, verbose
        assert "not found on PATH" not in c.logs()
    finally:
        with contextlib.suppress(AssertionError, subprocess.TimeoutExpired):
            podman.remove(name)


def test_the_image_snippet_builds_on_the_django_example_and_runs(
    podman: Podman, podman_base_image: str, tmp_path: Path, containers: Containers
) -> None:
    base_image = podman_base_image
    snippet = readme_block("## Using it in an image", "dockerfile")
    stock = "python:3.12-slim"
    assert stock in snippet, "the snippet names the official image it builds on"
    # no registry here: the local Debian base stands in for the official image, under its name
    podman.run("tag", base_image, f"docker.io/library/{stock}")
    try:
        _build_and_run_the_snippet(podman, snippet, tmp_path, containers)
    finally:
        podman.run("untag", base_image, f"docker.io/library/{stock}", check=False)


def _build_and_run_the_snippet(podman: Podman, snippet: str, tmp_path: Path, containers: Containers) -> None:
    context = tmp_path
    # the user's project: the Django example is their app, this repository a checkout beside it
    checkout = copy_checkout(context / "container-supervisor")
    shutil.copytree(checkout / "examples/django", context / "app")  # as a clone has it: no local venv
    (context / "Dockerfile").write_text(snippet + "\n")
    tag = "localhost/cs-readme-snippet:test"
    podman.build("Dockerfile", tag, context=context)
    env = {"DATABASE_URL": "sqlite:////app/data/db.sqlite3", "SECRET_KEY": secrets.token_urlsafe(50)}
    c = containers.start(podman, tag, env=env)
    wait_until(lambda: c.status("/readyz") == 200, 180, "the snippet's image ready")
    doc = json.loads(get(c.health_port, "/readyz?format=json").body)
    assert doc["checks"]["cache"][0]["skipped"] is True, doc  # REDIS_URL unset: skipped, not exit 78
    assert doc["checks"]["deploy"][0]["status"] == "pass" and doc["checks"]["prestart-migrate"][0]["status"] == "pass"
    reply = get(c.app_port, "/", headers={"X-Forwarded-Proto": "https"})
    assert reply.status == 200, reply.text
    c.wait_healthy()
