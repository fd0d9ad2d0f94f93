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
    def spawn(self, argv: Sequence[str], *, stdin: int | None = None) -> Process: ...

    async def end_leftovers(
        self, process: Process, signum: int, timeout: float, hurry: anyio.Event | None = None
    ) -> int | None: ...


Finish = Callable[[int], None]  # end the supervisor with this exit code (the first call wins)


class Foreground:
    """Owners add a process when they spawn it and remove it once they have dealt with its exit
    (logged it, recorded it), so that whoever waits for an empty foreground sees all of that done."""

    def __init__(self) -> None:
        self._processes: dict[int, tuple[Process, bool]] = {}  # pid -> (process, is the app)
        self._emptied: anyio.Event | None = None
        # a stop's shared clock, set by stopping and read by whoever ends what a process left:
        # when the stop timeout runs out (one deadline for the app and its leftovers alike), and
        # whether a second stop signal asked for SIGKILL at once
        self.stop_deadline: float | None = None
        self.hurry = anyio.Event()

    def add(self, process: Process, *, is_app: bool) -> None:
        self._processes[process.pid] = (process, is_app)

    def remove(self, process: Process) -> None:
        self._processes.pop(process.pid, None)
        if not self._processes and self._emptied is not None:
            self._emptied.set()
            self._emptied = None

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
