"""Every failure says why: a ``cmd:`` gate's findings reach ``check``, ``/readyz``, ``status``
and the log, with a real Django ``check --deploy``."""

import json
import sys
from pathlib import Path

import pytest

from tests.helpers import ROOT, cli, wait_until
from tests.integration.supervised import Launcher

pytestmark = pytest.mark.integration
django = pytest.importorskip("django", reason="the test extra installs Django")
MANAGE = ROOT / "examples/django/manage.py"
W009 = "?: (security.W009) Your SECRET_KEY has less than 50 characters"


def deploy_env(tmp_path: Path) -> dict[str, str]:
    return {
        "SECRET_KEY": "short",  # Django's security.W009: fails `check --deploy --fail-level WARNING`
        "DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3",
        "SUPERVISOR_GATE_DEPLOY": f"cmd:{sys.executable} {MANAGE} check --deploy --fail-level WARNING",
        "SUPERVISOR_GATE_DEPLOY__TIMEOUT": "30s",
    }


def test_check_shows_the_finding_above_djangos_summary_line(tmp_path: Path) -> None:
    r = cli("check", env={**deploy_env(tmp_path), "SUPERVISOR_STARTUP_TIMEOUT": "1s"})
    assert r.returncode == 1, r.stdout + r.stderr
    first = next(line for line in r.stdout.splitlines() if line.startswith("[-] deploy"))
    assert "exit status 1: ?: (security.W009)" in first  # the one line names the finding, not the summary
    assert f"| {W009}" in r.stdout and "| WARNINGS:" in r.stdout
    as_json = cli("check", "--json", env={**deploy_env(tmp_path), "SUPERVISOR_STARTUP_TIMEOUT": "1s"})
    output = json.loads(as_json.stdout)["checks"]["deploy"][0]["output"]
    assert output.splitlines()[0].startswith("exit-status: exit status 1: ?: (security.W009)")
    assert W009 in output.splitlines()[2]


def test_run_shows_it_in_readyz_status_and_the_log_once(supervise: Launcher, tmp_path: Path) -> None:
    s = supervise.run("sleep", "60", env={**deploy_env(tmp_path), "SUPERVISOR_STARTUP_TIMEOUT": "60s"})
    s.wait_listening()

    def deploy() -> dict[str, object]:
        entry: dict[str, object] = json.loads(s.get("/readyz?format=json").body)["checks"]["deploy"][0]
        return entry

    wait_until(lambda: deploy()["attempts"] >= 2, 30, "two failed attempts of the deploy check")  # type: ignore[operator]
    output = str(deploy()["output"])
    assert W009 in output and output.splitlines()[1] == "WARNINGS:"
    verbose = s.get("/readyz?verbose").text
    line = next(line for line in verbose.splitlines() if line.startswith("[-]deploy"))
    assert "(security.W009)" in line and len(verbose.splitlines()) == 3  # deploy, app-process, verdict
    status = cli("status", "--port", str(s.port))
    assert status.returncode == 1 and f"| {W009}" in status.stdout, status.stdout
    log = s.output()
    assert log.count(f"| {W009}") == 1, log  # when the failure first appears, not at every attempt
