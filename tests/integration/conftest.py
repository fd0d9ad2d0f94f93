"""Fixtures of the integration tests: ``supervise`` starts real supervisors, stopped at the end;
misbehaving listeners (one that never answers, one that hangs up at once) for the drivers."""

import socket
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import free_port, wait_until
from tests.integration.supervised import Launcher


@pytest.fixture
def supervise(tmp_path: Path) -> Iterator[Launcher]:
    launcher = Launcher(tmp_path)
    yield launcher
    launcher.stop_all()


LISTENER = textwrap.dedent(
    """
    import socket, sys, time
    srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", int(sys.argv[1]))); srv.listen(512)
    held = []
    deadline = time.monotonic() + 120
    srv.settimeout(0.5)
    while time.monotonic() < deadline:
        try:
            conn, _ = srv.accept()
        except socket.timeout:
            continue
        if sys.argv[2] == "silent":
            held.append(conn)  # accept, never answer
        elif sys.argv[2] == "babble":
            try:
                conn.sendall(b"SSH-2.0-OpenSSH_9.2\\r\\n")  # another protocol's greeting, then its end
                conn.shutdown(socket.SHUT_WR)  # a FIN after the greeting; kept open, so never a reset
            except OSError:
                pass  # that client is gone already
            held.append(conn)
        else:
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\\1\\0\\0\\0\\0\\0\\0\\0")
            conn.close()  # hang up at once, with a reset
    """
)


def _listener(how: str) -> Iterator[int]:
    """A listener on loopback that behaves ``how`` (bounded: it exits after 120 s)."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-c", LISTENER, str(port), how])

    def listening() -> bool:
        with socket.socket() as s:
            return s.connect_ex(("127.0.0.1", port)) == 0

    wait_until(listening, 10, f"the {how} listener")
    yield port
    proc.kill()
    proc.wait()


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A listener that accepts connections and never says a word."""
    yield from _listener("silent")


@pytest.fixture
def hangup_port() -> Iterator[int]:
    """A listener that accepts each connection and resets it at once."""
    yield from _listener("hangup")


@pytest.fixture
def babble_port() -> Iterator[int]:
    """A listener that greets each connection in another protocol (SSH's) and says no more."""
    yield from _listener("babble")
