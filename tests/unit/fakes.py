"""A fake process table for in-process tests of the start-up, lifecycle and stopping policies."""

import signal
from collections.abc import Callable, Sequence

import anyio

from supervisor.pid1.foreground import Process


class FakeProcess:
    def __init__(self, pid: int, argv: Sequence[str]) -> None:
        self.pid = pid
        self.argv = tuple(argv)
        self.returncode: int | None = None
        self.signals: list[int] = []
        self._exited = anyio.Event()

    async def wait(self) -> int:
        await self._exited.wait()
        assert self.returncode is not None
        return self.returncode

    def exit(self, returncode: int) -> None:
        self.returncode = returncode
        self._exited.set()

    def send_signal(self, signum: int) -> bool:
        if self.returncode is not None:
            return False
        self.signals.append(signum)
        return True

    def kill_group(self) -> None:
        self.signals.append(signal.SIGKILL)
        if self.returncode is None:
            self.exit(-signal.SIGKILL)

    def signal_group(self, signum: int) -> bool:
        return self.send_signal(signum)


class FakeTable:
    def __init__(self) -> None:
        self.spawned: list[FakeProcess] = []
        self._changed = anyio.Event()

    def spawn(self, argv: Sequence[str], *, stdin: int | None = None, pass_fds: Sequence[int] = ()) -> FakeProcess:
        del stdin, pass_fds  # the Spawner's signature
        process = FakeProcess(1000 + len(self.spawned), argv)
        self.spawned.append(process)
        self._changed.set()
        self._changed = anyio.Event()
        return process

    async def end_leftovers(
        self,
        process: Process,  # noqa: ARG002 (the Spawner's signature, as below)
        signum: int,  # noqa: ARG002
        timeout: float,  # noqa: ARG002
        hurry: anyio.Event | None = None,  # noqa: ARG002
    ) -> int | None:
        return None  # a fake process leaves nothing behind

    def names(self) -> list[str]:
        return [p.argv[0] for p in self.spawned]

    async def wait_spawned(self, name: str) -> FakeProcess:
        with anyio.fail_after(5):
            while True:
                for process in self.spawned:
                    if process.argv[0] == name:
                        return process
                await self._changed.wait()


async def eventually(condition: Callable[[], object], deadline: float = 5.0) -> None:
    """Return once ``condition()`` is true; fail after ``deadline`` seconds."""
    with anyio.fail_after(deadline):
        while not condition():
            await anyio.sleep(0.001)  # pacing: the poll interval of a condition wait with a deadline
