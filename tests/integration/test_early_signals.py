"""Signals that arrive before the event loop runs are caught at once and replayed, not lost."""

import os
import signal

import anyio
import pytest

from supervisor import cli
from supervisor.settings import load_config
from supervisor.supervise import Supervisor
from tests.helpers import free_port

pytestmark = pytest.mark.integration


def test_early_handler_records_signals() -> None:
    saved = {s: signal.getsignal(s) for s in cli.HANDLED_SIGNALS}
    try:
        cli._early.clear()
        cli._catch_early_signals()
        os.kill(os.getpid(), signal.SIGUSR1)
        os.kill(os.getpid(), signal.SIGTERM)
        assert cli._early == [signal.SIGUSR1, signal.SIGTERM]
    finally:
        for s, handler in saved.items():
            signal.signal(s, handler)
        cli._early.clear()


def test_an_early_sigterm_is_replayed_and_nothing_is_spawned(tmp_path: object) -> None:
    marker = f"{tmp_path}/spawned"
    config = load_config(
        environ={"SUPERVISOR_HEALTH_HOST": "127.0.0.1", "SUPERVISOR_HEALTH_PORT": str(free_port())},
        command=["touch", marker],
    )
    supervisor = Supervisor(config, early_signals=[signal.SIGHUP, signal.SIGTERM])
    code = anyio.run(supervisor.run)
    assert code == 143
    assert not os.path.exists(marker)
