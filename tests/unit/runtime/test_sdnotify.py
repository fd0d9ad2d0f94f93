"""``runtime/sdnotify``: the variables taken from the environment, and sending that never waits
(real datagram sockets: a manager whose queue is full, one that has gone away)."""

import logging
import os
import socket
from pathlib import Path

import anyio
import pytest

from supervisor.core.checks import CheckState
from supervisor.core.readiness import ChildInfo, ChildStatus, Phase, Snapshot
from supervisor.runtime import sdnotify


@pytest.fixture
def environ(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in sdnotify.VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_the_variables_are_taken_out_of_the_environment(environ: pytest.MonkeyPatch) -> None:
    environ.setenv("NOTIFY_SOCKET", "/run/systemd/notify")
    environ.setenv("WATCHDOG_USEC", "3000000")
    environ.setenv("WATCHDOG_PID", str(os.getpid()))
    target = sdnotify.take_environment()
    assert target == sdnotify.Target("/run/systemd/notify", "/run/systemd/notify", 1.5)
    assert not [name for name in sdnotify.VARIABLES if name in os.environ]


@pytest.mark.parametrize(
    ("given", "address", "watchdog"),
    [
        ({"NOTIFY_SOCKET": "@podman/notify"}, "\0podman/notify", None),
        ({"NOTIFY_SOCKET": "/n", "WATCHDOG_USEC": "200000", "WATCHDOG_PID": "1"}, "/n", None),  # another's
        ({"NOTIFY_SOCKET": "/n", "WATCHDOG_USEC": "0"}, "/n", None),
        ({"NOTIFY_SOCKET": "/n", "WATCHDOG_USEC": "200000"}, "/n", 0.1),
        ({"NOTIFY_SOCKET": "/n", "WATCHDOG_USEC": str(2**64 - 1)}, "/n", None),  # systemd's infinity
        ({"NOTIFY_SOCKET": "/n", "WATCHDOG_USEC": "9" * 400}, "/n", None),  # beyond any float
    ],
)
def test_addresses_and_watchdogs(
    environ: pytest.MonkeyPatch, given: dict[str, str], address: str, watchdog: float | None
) -> None:
    for name, value in given.items():
        environ.setenv(name, value)
    target = sdnotify.take_environment()
    assert target is not None
    assert (target.address, target.watchdog) == (address, watchdog)


@pytest.mark.parametrize(
    ("given", "said"),
    [
        ({"NOTIFY_SOCKET": "relative/path"}, "NOTIFY_SOCKET=relative/path is neither a path nor @name"),
        ({"NOTIFY_SOCKET": "/n", "WATCHDOG_USEC": "soon"}, "WATCHDOG_USEC=soon is not a number of microseconds"),
    ],
)
def test_what_cannot_be_used_is_said_once(
    environ: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, given: dict[str, str], said: str
) -> None:
    for name, value in given.items():
        environ.setenv(name, value)
    with caplog.at_level(logging.WARNING, logger="supervisor"):
        sdnotify.take_environment()
    assert [r.getMessage() for r in caplog.records if said in r.getMessage()], caplog.records
    assert not [name for name in sdnotify.VARIABLES if name in os.environ]


def test_nothing_set_means_nothing_to_tell(environ: pytest.MonkeyPatch) -> None:
    environ.setenv("NOTIFY_SOCKET", "")
    assert sdnotify.take_environment() is None


def snap(n: int) -> Snapshot:
    return Snapshot(Phase.GATING, (CheckState(f"g{n}", "tcp", "tcp://x:1"),))


def test_a_full_queue_drops_and_a_gone_manager_is_said_once(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    where = str(tmp_path / "n")
    manager = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    manager.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1)  # the kernel's smallest: a few datagrams
    manager.bind(where)

    async def main() -> sdnotify.Notifier | None:
        return await sdnotify.Notifier.open(sdnotify.Target(where, where))

    notifier = anyio.run(main)
    assert notifier is not None
    for n in range(2000):  # every change a new status; nobody reads
        notifier.observe(snap(n - 1), snap(n))
    assert notifier.dropped > 0 and notifier.sent > 0
    assert notifier.sent + notifier.dropped == 2000
    manager.close()
    os.unlink(where)
    with caplog.at_level(logging.WARNING, logger="supervisor"):
        for n in range(2000, 2010):
            notifier.observe(snap(n - 1), snap(n))
    complaints = [r for r in caplog.records if "notifications are dropped" in r.getMessage()]
    assert len(complaints) == 1
    notifier.close()


def test_a_manager_that_is_not_there_is_said_and_nothing_is_notified(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    where = str(tmp_path / "nobody")

    async def main() -> sdnotify.Notifier | None:
        return await sdnotify.Notifier.open(sdnotify.Target(where, where))

    with caplog.at_level(logging.WARNING, logger="supervisor"):
        assert anyio.run(main) is None
    assert any(f"NOTIFY_SOCKET={where}: cannot connect" in r.getMessage() for r in caplog.records)


def test_ready_refused_by_a_full_queue_is_said_once_the_manager_reads(tmp_path: Path) -> None:
    where = str(tmp_path / "n")
    manager = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    manager.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1)
    manager.bind(where)
    manager.setblocking(False)
    ready = Snapshot(Phase.RUNNING, (), ChildInfo(ChildStatus.RUNNING, pid=42))
    got: list[bytes] = []

    async def main() -> None:
        notifier = await sdnotify.Notifier.open(sdnotify.Target(where, where))
        assert notifier is not None
        async with anyio.create_task_group() as tg:
            tg.start_soon(notifier.run)
            n = 0
            while notifier.dropped == 0:  # fill the manager's queue
                notifier.observe(snap(n - 1), snap(n))
                n += 1
            notifier.observe(snap(n), ready)  # refused: the queue is full
            assert notifier.dropped == 2
            with anyio.fail_after(10):
                while not any(b"READY=1" in d for d in got):
                    try:
                        got.append(manager.recv(4096))
                    except BlockingIOError:
                        await anyio.sleep(0.01)  # pacing: the poll interval, under fail_after's deadline
            tg.cancel_scope.cancel()
        notifier.close()

    anyio.run(main)
    assert got[-1] == b"STATUS=ready\nREADY=1"
    manager.close()
