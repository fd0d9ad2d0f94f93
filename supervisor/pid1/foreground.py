"""The processes that signals go to: the app, or the pre-start tasks that run now.

Also the two small interfaces the start-up sequence, the app's lifecycle and stopping need from
the process table, so that their policies can be tested in-process with a fake table (as pebble
tests its service manager) beside the subprocess tests.
"""

from collections.abc import Callable, Sequence
from typing import Protocol

import anyio


class Process(Protocol):
    pid: int
    returncode: int | None  # None while it runs; negative -N when killed by signal N

    async def wait(self) -> int: ...

    def send_signal(self, signum: int) -> bool: ...

    def kill_group(self) -> None: ...

    def signal_group(self, signum: int) -> bool: ...


class Spawner(Protocol):
    def spawn(self, argv: Sequence[str], *, stdin: int | None = None, pass_fds: Sequence[int] = ()) -> Process: ...

    async def end_leftovers(
        self, process: Process, signum: int, timeout: float, hurry: anyio.Event | None = None
    ) -> int | None: ...


Finish = Callable[[int], None]  # end the supervisor with this exit code (the first call wins)


class Foreground:
    """The processes a signal goes to, and the one rule of the stop path: a process leaves the
    foreground only through ``release``, which its owner calls once it has dealt with the exit
    (logged it, recorded it, ended what it left during a stop) and which records the app's exit
    code before the process leaves. Whoever waits for an empty foreground therefore finds all of
    that done, and reads the app's code here instead of computing it a second time."""

    def __init__(self) -> None:
        self._processes: dict[int, tuple[Process, bool]] = {}  # pid -> (process, is the app)
        self._emptied: anyio.Event | None = None
        self._exit_codes: dict[int, int] = {}  # pid -> exit code, for each app released
        # a stop's shared clock, set by stopping and read by whoever ends what a process left:
        # when the stop timeout runs out (one deadline for the app and its leftovers alike), and
        # whether a second stop signal asked for SIGKILL at once
        self.stop_deadline: float | None = None
        self.hurry = anyio.Event()

    def add(self, process: Process, *, is_app: bool) -> None:
        self._processes[process.pid] = (process, is_app)

    def release(self, process: Process, exit_code: int | None) -> None:
        """The owner's last word on ``process``: its exit code (None when the owner gave up on it
        before it exited), recorded first, then the process leaves the foreground."""
        entry = self._processes.pop(process.pid, None)
        if entry is not None and entry[1] and exit_code is not None:
            self._exit_codes[process.pid] = exit_code
        if not self._processes and self._emptied is not None:
            self._emptied.set()
            self._emptied = None

    def exit_code(self, process: Process) -> int | None:
        """The code the app's owner recorded when it released ``process``; None before that."""
        return self._exit_codes.get(process.pid)

    async def wait_empty(self) -> None:
        while self._processes:
            if self._emptied is None:
                self._emptied = anyio.Event()
            await self._emptied.wait()

    def running(self) -> list[tuple[Process, bool]]:
        return [(p, app) for p, app in self._processes.values() if p.returncode is None]

    @property
    def app(self) -> Process | None:
        return next((p for p, app in self.running() if app), None)
