"""deploy/ci/github-actions.yml's `minimal` job, run for real under each engine: its `run:` scripts
in order, with a `docker` on PATH that execs the engine (the real Docker client, or podman) and
adds what our machines need to build: the local base image, no registry, host network for pip.
The `full` job needs service containers pulled from a registry, which is not reachable here; it is
only validated (tests/test_deploy.py)."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.container.engines import Engine
from tests.helpers import free_port

pytestmark = [pytest.mark.container, pytest.mark.slow, pytest.mark.timeout(900)]
ROOT = Path(__file__).resolve().parents[2]
SHIM = """#!/bin/sh
case "$1" in
  build) shift; exec "$CS_ENGINE" $CS_BUILD_FLAGS --build-arg "PYTHON_IMAGE=$CS_BASE_IMAGE" "$@" ;;
  run) shift; exec "$CS_ENGINE" run --pull=never "$@" ;;
  *) exec "$CS_ENGINE" "$@" ;;
esac
"""


def test_the_minimal_job_of_the_ci_recipe_passes(engine: Engine, base_image: str, tmp_path: Path) -> None:
    workflow = yaml.safe_load((ROOT / "deploy" / "ci" / "github-actions.yml").read_text())
    job = workflow["jobs"]["minimal"]
    scripts = [step["run"] for step in job["steps"] if "run" in step and "if" not in step]
    shim = tmp_path / "bin" / "docker"
    shim.parent.mkdir()
    shim.write_text(SHIM)
    shim.chmod(0o755)
    env = {
        **engine.env,
        **job["env"],
        "PATH": f"{shim.parent}:{os.environ['PATH']}",
        "CS_ENGINE": str(shutil.which(engine.program)),  # found before the shim is on PATH
        "CS_BUILD_FLAGS": " ".join(engine.build_flags),
        "CS_BASE_IMAGE": base_image,
        "HEALTH_PORT": str(free_port()),
        "APP_PORT": str(free_port()),
    }
    if engine.run("inspect", "--type", "container", "app", check=False).returncode == 0:
        pytest.skip(f"{engine.name} already has a container named app, the job's own name: not ours to remove")
    kept = engine.run("image", "inspect", "--format", "{{.Id}}", "app:ci", check=False).stdout.strip()
    try:
        for script in scripts:
            r = subprocess.run(
                ["bash", "-e", "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
            )
            assert r.returncode == 0, f"{script}\n{r.stdout}\n{r.stderr}"
    finally:
        engine.remove("app")
        if kept:  # the job tags its build app:ci: an image of that name from before gets its name back
            engine.run("tag", kept, "app:ci", check=False)
        else:
            engine.run("rmi", "app:ci", check=False)
