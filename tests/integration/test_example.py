"""README's first command: the supervisor in front of gunicorn and the bundled example app."""

import json
import signal
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.helpers import clean_env, free_port, get, wait_until

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


def test_the_example_runs_with_its_embedded_defaults(tmp_path: Path) -> None:
    config = tomllib.loads((ROOT / "examples/supervisor.toml").read_text())
    app_port, health_port = free_port(), free_port()
    db = tmp_path / "example.db"
    env = clean_env(
        SUPERVISOR_HEALTH_PORT=str(health_port),
        # the same command with a free port, so the test never collides with a running example
        SUPERVISOR_COMMAND=config["command"].replace("127.0.0.1:8000", f"127.0.0.1:{app_port}"),
        SUPERVISOR_GATE_DATABASE=f"sqlite:///{db}",
        EXAMPLE_DATABASE=str(db),
        SUPERVISOR_LOG_FORMAT="text",
    )
    log = tmp_path / "out.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "supervisor", "run", "--config", "examples/supervisor.toml"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_until(lambda: get(health_port, "/readyz").status == 200, 30, "the example to be ready")
            reply = get(app_port, "/")
            assert reply.status == 200
            assert json.loads(reply.body)["greeting"] == "hello from behind container-supervisor"
            text = log.read_text()
            assert f"health endpoints on http://127.0.0.1:{health_port}/healthz" in text
            assert f"the app is expected at tcp://127.0.0.1:{app_port}" in text
            # the recommended shape: the gate checks, the pre-start task migrates once, then the app
            assert text.index("gate database passed") < text.index("pre-start task prestart-migrate passed")
            assert text.index("pre-start task prestart-migrate passed") < text.index("started gunicorn")
        finally:
            proc.send_signal(signal.SIGINT)
            assert proc.wait(20) == 0
