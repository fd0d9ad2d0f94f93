"""Signals that arrive before the event loop's handlers exist are caught and replayed, not lost,
whenever they arrive: before the configuration is read, or after the supervisor is built."""

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest

from supervisor.config.settings import load_config
from supervisor.pid1.signals import HANDLED_SIGNALS, SignalInbox
from supervisor.runtime.supervise import Supervisor
from tests.helpers import free_port

pytestmark = pytest.mark.integration


@pytest.fixture
def early() -> Iterator[SignalInbox]:
    saved = {s: signal.getsignal(s) for s in HANDLED_SIGNALS}
    early = SignalInbox()
    early.install()
    try:
        yield early
    finally:
        early.close()
        assert {s: signal.getsignal(s) for s in HANDLED_SIGNALS} == saved


def test_early_handler_records_signals(early: SignalInbox) -> None:
    os.kill(os.getpid(), signal.SIGUSR1)
    os.kill(os.getpid(), signal.SIGTERM)
    os.kill(os.getpid(), signal.SIGUSR1)  # one kind pending at a time, as the kernel keeps them
    assert early.take() == [signal.SIGUSR1, signal.SIGTERM]
    assert early.take() == []


@pytest.mark.parametrize("when", ["before the supervisor is built", "after it is built, before it runs"])
def test_an_early_sigterm_is_replayed_and_nothing_is_spawned(tmp_path: Path, early: SignalInbox, when: str) -> None:
    marker = tmp_path / "spawned"
    config = load_config(
        environ={"SUPERVISOR_HEALTH_HOST": "127.0.0.1", "SUPERVISOR_HEALTH_PORT": str(free_port())},
        command=["touch", str(marker)],
    )
    if when.startswith("before"):
        os.kill(os.getpid(), signal.SIGHUP)
        os.kill(os.getpid(), signal.SIGTERM)
    supervisor = Supervisor(config, inbox=early)
    if when.startswith("after"):
        os.kill(os.getpid(), signal.SIGTERM)  # a real signal, in the window cli leaves open
    code = anyio.run(supervisor.run)
    assert code == 143
    assert not marker.exists()
