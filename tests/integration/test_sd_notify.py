"""sd_notify against a real ``AF_UNIX`` datagram receiver, as podman's own sd_notify tests receive
with socat: nothing says ready before ``/readyz`` does, ``STOPPING=1`` on SIGTERM, watchdog pings
at their rate, and the app never sees ``NOTIFY_SOCKET``."""

import itertools
import os
import signal
import socket
import struct
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import wait_until
from tests.integration.supervised import Launcher, Supervised

pytestmark = pytest.mark.integration

APP = (
    "import os, sys, time; "
    "open(sys.argv[1], 'w').write(repr(sorted(k for k in os.environ if k in {names}))); time.sleep(60)"
)  # pacing: the app idles until the test stops it
SO_TIMESTAMP = 29  # Linux (asm-generic), which the socket module does not name
NAMES = ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID")


class Receiver:
    """The service manager's end: every datagram with the time the kernel took it in
    (``SO_TIMESTAMP``, wall clock), not the time this test got round to reading it."""

    def __init__(self, address: str) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMP, 1)
        self.sock.bind(address)
        self.sock.setblocking(False)
        self.got: list[tuple[float, str]] = []

    def drain(self) -> list[str]:
        while True:
            try:
                data, ancillary, _flags, _addr = self.sock.recvmsg(4096, socket.CMSG_SPACE(16))
            except BlockingIOError:
                return self.lines()
            arrived = time.time()
            for level, kind, value in ancillary:
                if level == socket.SOL_SOCKET and kind == SO_TIMESTAMP:
                    seconds, micro = struct.unpack("qq", value[:16])
                    arrived = seconds + micro / 1e6
            self.got += [(arrived, line) for line in data.decode().split("\n")]

    def lines(self) -> list[str]:
        return [line for _t, line in self.got]

    def when(self, line: str) -> float | None:
        return next((t for t, said in self.got if said == line), None)


@pytest.fixture(params=["path", "abstract"])
def receiver(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Receiver, str]]:
    if request.param == "path":
        where = str(tmp_path / "notify")
        r = Receiver(where)
    else:
        name = f"supervisor-test-{os.getpid()}-{time.monotonic_ns()}"
        r = Receiver("\0" + name)
        where = "@" + name
    yield r, where
    r.sock.close()


def start(supervise: Launcher, tmp_path: Path, where: str, **env: str) -> tuple[Supervised, Path, Path]:
    flag, seen = tmp_path / "db-up", tmp_path / "app-env"
    app = APP.replace("{names}", repr(set(NAMES)))
    s = supervise.run(
        sys.executable,
        "-c",
        app,
        str(seen),
        env={
            "NOTIFY_SOCKET": where,
            "SUPERVISOR_GATE_DB": f"cmd:test -f {flag}",
            "SUPERVISOR_BACKOFF_INITIAL": "20ms",
            "SUPERVISOR_BACKOFF_MAX": "50ms",
            **env,
        },
    )
    return s, flag, seen


def test_ready_only_once_readyz_is_200_and_stopping_on_sigterm(
    supervise: Launcher, tmp_path: Path, receiver: tuple[Receiver, str]
) -> None:
    r, where = receiver
    s, flag, seen = start(supervise, tmp_path, where)
    s.wait_listening()
    wait_until(lambda: "STATUS=waiting for db (exit-status)" in r.drain(), 10, "a status naming the gate")
    assert s.status("/readyz") == 503
    assert "READY=1" not in r.drain()
    flag.touch()
    ready_at = wait_until(lambda: s.status("/readyz") == 200 and time.time(), 10, "/readyz 200")
    wait_until(lambda: "READY=1" in r.drain(), 5, "READY=1")
    lines = r.lines()
    assert lines.count("READY=1") == 1
    assert lines.index("READY=1") > lines.index("STATUS=waiting for db (exit-status)")
    assert "STATUS=ready" in lines
    told = r.when("READY=1")
    assert told is not None and told <= ready_at + 1.0, (told, ready_at)  # polled every 20 ms: about as soon
    assert wait_until(lambda: seen.exists() and seen.read_text(), 5, "the app's report") == "[]"  # none inherited
    s.signal(signal.SIGTERM)
    assert s.wait(10) == 143
    lines = r.drain()
    assert lines[-2:] == ["STATUS=stopping", "STOPPING=1"]
    assert "READY=1" not in lines[lines.index("STOPPING=1") :]


def test_the_watchdog_is_pinged_at_half_its_interval(
    supervise: Launcher, tmp_path: Path, receiver: tuple[Receiver, str]
) -> None:
    r, where = receiver
    s, flag, _seen = start(supervise, tmp_path, where, WATCHDOG_USEC="400000")  # ping every 200 ms
    flag.touch()
    s.wait_ready()
    first = wait_until(lambda: r.drain().count("WATCHDOG=1") >= 1 and r.when("WATCHDOG=1"), 5, "a first ping")
    wait_until(lambda: r.drain().count("WATCHDOG=1") >= 6, 10, "six pings")
    pings = [t for t, line in r.got if line == "WATCHDOG=1"]
    gaps = [b - a for a, b in itertools.pairwise(pings)]
    assert min(gaps) >= 0.15, gaps  # never faster than asked (anyio.sleep sleeps at least that long)
    assert pings[0] == first
    s.stop()


def test_a_watchdog_meant_for_another_process_is_not_pinged(
    supervise: Launcher, tmp_path: Path, receiver: tuple[Receiver, str]
) -> None:
    r, where = receiver
    s, flag, seen = start(supervise, tmp_path, where, WATCHDOG_USEC="100000", WATCHDOG_PID="1")
    flag.touch()
    s.wait_ready()
    wait_until(lambda: "READY=1" in r.drain(), 5, "READY=1")
    assert wait_until(lambda: seen.exists() and seen.read_text(), 5, "the app's report") == "[]"
    assert "WATCHDOG=1" not in r.drain()  # at 50 ms it would have pinged many times by now
