"""Fixtures of the integration tests: ``supervise`` starts real supervisors, stopped at the end."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.supervised import Launcher


@pytest.fixture
def supervise(tmp_path: Path) -> Iterator[Launcher]:
    launcher = Launcher(tmp_path)
    yield launcher
    launcher.stop_all()
