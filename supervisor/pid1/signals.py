"""The signals the supervisor handles, and how they reach the event loop without ever being lost.

Standard library only: ``cli`` installs the inbox at its first instant, before anything heavy,
because as PID 1 a signal without a handler is simply dropped by the kernel.

Why not asyncio's ``add_signal_handler`` (which ``anyio.open_signal_receiver`` uses): it tells
signals apart by the *byte* the C-level handler writes into the loop's wakeup socket, one byte
per signal. A Unix socket charges each one-byte write a whole buffer's overhead, so a few
hundred SIGCHLDs fill it while the loop is busy; the next write fails, the byte is dropped (with
"Exception ignored when trying to write to the signal wakeup fd" on stderr), and a SIGTERM among
them is lost for good.

Here the wakeup descriptor only wakes the loop; it carries no meaning and may overflow freely
(``warn_on_full_buffer=False``). What arrived is recorded by the Python-level handler in a set
of kinds (the kernel keeps one pending signal per kind, so a set loses nothing the kernel did
not already merge), which is bounded by the number of kinds whatever the load. The handler then
writes a byte itself, after recording, so every record is followed by a wakeup or meets a full
pipe, which is readable. The reader drains the pipe *before* it takes the set, and also looks at
the set every ``SWEEP`` seconds, so no order of these steps can leave a recorded signal unread.
"""

import contextlib
import os
import signal
from collections.abc import AsyncIterator, Iterable
from types import FrameType

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT)
# Forwarded to the app as they are; gunicorn gives each a meaning (reload, reopen logs, re-exec,
# add/remove a worker, stop workers when daemonised).
FORWARDED_SIGNALS = (
    signal.SIGHUP,
    signal.SIGUSR1,
    signal.SIGUSR2,
    signal.SIGTTIN,
    signal.SIGTTOU,
    signal.SIGWINCH,
)
HANDLED_SIGNALS = STOP_SIGNALS + FORWARDED_SIGNALS
SWEEP = 0.5  # seconds: the longest a recorded signal could wait if every wakeup were lost


class SignalInbox:
    """Every handled signal, recorded by kind from the moment ``install`` runs.

    ``take`` returns the kinds that arrived since the last call, in order of first arrival;
    ``receive`` yields them as batches on the event loop. Only the main thread may install.
    """

    def __init__(self) -> None:
        self._pending: dict[int, None] = {}  # an ordered set: first arrival first
        self._read_fd, self._write_fd = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        self._saved: dict[int, object] = {}
        self._saved_wakeup: int | None = None

    def install(self, signums: Iterable[int] = HANDLED_SIGNALS) -> None:
        """Handle ``signums`` from now on (more kinds may be added by a later call)."""
        for signum in signums:
            if signum not in self._saved:
                self._saved[signum] = signal.signal(signum, self._record)
        if self._saved_wakeup is None:
            self._saved_wakeup = signal.set_wakeup_fd(self._write_fd, warn_on_full_buffer=False)

    def uninstall(self) -> None:
        """Put back what was there before (for in-process callers such as the tests)."""
        for signum, handler in self._saved.items():
            signal.signal(signum, handler)  # type: ignore[arg-type]
        self._saved.clear()
        if self._saved_wakeup is not None:
            signal.set_wakeup_fd(self._saved_wakeup)
            self._saved_wakeup = None

    def close(self) -> None:
        self.uninstall()
        for fd in (self._read_fd, self._write_fd):
            with contextlib.suppress(OSError):
                os.close(fd)

    def _record(self, signum: int, _frame: FrameType | None) -> None:
        self._pending[signum] = None
        with contextlib.suppress(OSError):  # full: then it is readable, which is all we need
            os.write(self._write_fd, b"\0")

    def take(self) -> list[int]:
        """The kinds recorded since the last call (a handler running meanwhile lands in one of
        the two sets, and its byte wakes the reader again)."""
        pending = self._pending
        self._pending = {}
        return list(pending)

    def _drain(self) -> None:
        with contextlib.suppress(OSError):
            while os.read(self._read_fd, 4096):
                pass

    async def receive(self) -> AsyncIterator[list[int]]:
        """Batches of signal kinds, for as long as the caller iterates."""
        import anyio  # not at module level: ``cli`` imports this module before anything heavy

        while True:
            batch = self.take()  # what came before the loop listened, then every later arrival
            if batch:
                yield batch
            with anyio.move_on_after(SWEEP):
                await anyio.wait_readable(self._read_fd)
            self._drain()
