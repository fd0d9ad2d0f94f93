"""deploy/ci/github-actions.yml's `minimal` job, run for real: its `run:` scripts in order, with a
`docker` on PATH that execs podman (adding what our machines need to build: the local base image,
no registry, host network for pip). The `full` job needs service containers pulled from a
registry, which is not reachable here; it is only validated (tests/test_deploy.py)."""

import os
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.container.conftest import Podman
from tests.helpers import free_port

pytestmark = [pytest.mark.container, pytest.mark.slow, pytest.mark.timeout(900)]
ROOT = Path(__file__).resolve().parents[2]
SHIM = """#!/bin/sh
case "$1" in
  build) shift; exec podman build --format docker --pull=never --network host \\
           --build-arg "PYTHON_IMAGE=$CS_BASE_IMAGE" "$@" ;;
  run) shift; exec podman run --pull=never "$@" ;;
  *) exec podman "$@" ;;
esac
"""


def test_the_minimal_job_of_the_ci_recipe_passes(podman: Podman, base_image: str, tmp_path: Path) -> None:
    workflow = yaml.safe_load((ROOT / "deploy" / "ci" / "github-actions.yml").read_text())
    job = workflow["jobs"]["minimal"]
    scripts = [step["run"] for step in job["steps"] if "run" in step and "if" not in step]
    shim = tmp_path / "bin" / "docker"
    shim.parent.mkdir()
    shim.write_text(SHIM)
    shim.chmod(0o755)
    env = {
        **podman.env,
        **job["env"],
        "PATH": f"{shim.parent}:{os.environ['PATH']}",
        "CS_BASE_IMAGE": base_image,
        "HEALTH_PORT": str(free_port()),
        "APP_PORT": str(free_port()),
    }
    podman.run("rm", "-f", "-t", "0", "app", check=False)
    try:
        for script in scripts:
            r = subprocess.run(
                ["bash", "-e", "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
            )
            assert r.returncode == 0, f"{script}\n{r.stdout}\n{r.stderr}"
    finally:
        podman.run("rm", "-f", "-t", "0", "app", check=False)
