"""sd_notify: tell systemd, podman (``--sdnotify=container``) or Quadlet (``Notify=``) what the
supervisor knows, over the datagram socket ``NOTIFY_SOCKET`` names. Plain standard library.

The variables are the supervisor's alone: they are taken out of the environment before anything
is spawned, so the app never sees ``NOTIFY_SOCKET`` (gunicorn would send its own ``READY=1`` as
soon as its arbiter has bound, before any worker answers) and no child pings the watchdog for us.
What is said is decided in ``core/notifications``; this module only carries it.

No datagram ever waits: the socket is non-blocking, connected once at start-up in a worker thread
(``connect`` resolves a path), and what the manager's queue cannot take now is said again, as it
then stands, a moment later. The watchdog is pinged from the
event loop at half of ``WATCHDOG_USEC``: a ping proves the loop that answers ``/healthz`` runs.
"""

import os
import socket
from dataclasses import dataclass

import anyio

from supervisor import logs
from supervisor.core.notifications import Told, notifications
from supervisor.core.readiness import Snapshot

log = logs.get()

VARIABLES = ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID")


@dataclass(frozen=True)
class Target:
    """Where to send, from the environment the supervisor was started with."""

    address: str  # a path, or "\0name" for the abstract namespace ("@name" in NOTIFY_SOCKET)
    shown: str  # as NOTIFY_SOCKET gave it
    watchdog: float | None = None  # seconds between pings (half of WATCHDOG_USEC)


def take_environment() -> Target | None:
    """Take the sd_notify variables out of ``os.environ`` (call it before any thread starts and
    before anything is spawned); what they ask for, or None when nobody listens."""
    given = {name: os.environ.pop(name) for name in VARIABLES if name in os.environ}
    where = given.get("NOTIFY_SOCKET", "")
    if not where:
        return None
    if where.startswith("@"):
        address = "\0" + where[1:]
    elif where.startswith("/"):
        address = where
    else:
        log.warning("NOTIFY_SOCKET=%s is neither a path nor @name: nothing is notified", where)
        return None
    return Target(address, where, _watchdog_interval(given))


USEC_INFINITY = 2**64 - 1  # systemd's USEC_INFINITY: a watchdog that never fires


def _watchdog_interval(given: dict[str, str]) -> float | None:
    usec, pid = given.get("WATCHDOG_USEC", ""), given.get("WATCHDOG_PID", "")
    if not usec:
        return None
    if pid and pid != str(os.getpid()):  # meant for another process of the service
        return None
    try:
        value = int(usec)
    except ValueError:
        log.warning("WATCHDOG_USEC=%s is not a number of microseconds: the watchdog is not pinged", usec)
        return None
    if value <= 0 or value >= USEC_INFINITY:  # systemd's "infinity" (and beyond): no watchdog
        return None
    return value / 2e6


def _connect(address: str) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC | socket.SOCK_NONBLOCK)
    try:
        sock.connect(address)
    except OSError:
        sock.close()
        raise
    return sock


RETRY = 0.1  # seconds between tries to say what the manager's full queue could not take


class Notifier:
    """Sends what each state change adds (a ``StateStore`` listener), and the watchdog pings.

    What could not be sent is not forgotten: a ``READY=1`` the manager's full queue refused is
    tried again (with the status of that moment) until it is taken, since a manager waiting for
    it would otherwise time out a ready service."""

    def __init__(self, target: Target, sock: socket.socket) -> None:
        self.target = target
        self._sock = sock
        self._told = Told()
        self._latest: Snapshot | None = None
        self._owed = False  # something was not taken: ``run`` tries again
        self._wake: anyio.Event | None = None
        self.sent = 0  # datagrams
        self.dropped = 0
        self._complained = False

    @classmethod
    async def open(cls, target: Target) -> "Notifier | None":
        try:
            sock = await anyio.to_thread.run_sync(_connect, target.address)
        except OSError as exc:
            log.warning("NOTIFY_SOCKET=%s: cannot connect: %s; nothing is notified", target.shown, exc.strerror or exc)
            return None
        return cls(target, sock)

    def observe(self, _before: Snapshot, after: Snapshot) -> None:
        self._latest = after
        self._flush()

    def _flush(self) -> None:
        if self._latest is None:
            return
        told, messages = notifications(self._told, self._latest)
        if messages and not self._send("\n".join(messages)):
            self._owed = True
            if self._wake is not None:
                self._wake.set()
            return
        self._told, self._owed = told, False

    def _send(self, text: str) -> bool:
        try:
            self._sock.send(text.encode())
        except BlockingIOError:
            self.dropped += 1  # the manager's queue is full
            return False
        except OSError as exc:
            self.dropped += 1
            if not self._complained:
                self._complained = True
                log.warning("NOTIFY_SOCKET=%s: %s; notifications are dropped", self.target.shown, exc.strerror or exc)
            return False
        self.sent += 1
        return True

    async def run(self) -> None:
        """Until cancelled: the watchdog pings, and what a full queue refused, tried again."""
        async with anyio.create_task_group() as tg:
            tg.start_soon(self._watchdog)
            while True:
                self._wake = anyio.Event()
                if not self._owed:
                    await self._wake.wait()
                await anyio.sleep(RETRY)
                self._flush()

    async def _watchdog(self) -> None:
        """Ping at half of ``WATCHDOG_USEC``, from the event loop."""
        interval = self.target.watchdog
        if interval is None:
            return
        while True:
            self._send("WATCHDOG=1")
            await anyio.sleep(interval)

    def close(self) -> None:
        self._sock.close()
