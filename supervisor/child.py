"""The app process: spawned exactly as given, watched, signalled, killed as a group.

No shell, environment untouched, stdin/stdout/stderr inherited (so nothing is buffered or lost
on the way). The child leads its own session and process group, so that the supervisor decides
which signals reach it and a final SIGKILL takes the whole group (workers included).
"""

import os
import signal

import anyio
import anyio.abc

from supervisor import exitcodes


class SpawnError(Exception):
    """The command could not be started at all (not found, not executable)."""


class ChildProcess:
    def __init__(self, process: anyio.abc.Process) -> None:
        self._process = process
        self.pid = process.pid

    @classmethod
    async def spawn(cls, argv: tuple[str, ...]) -> "ChildProcess":
        try:
            process = await anyio.open_process(list(argv), stdin=None, stdout=None, stderr=None, start_new_session=True)
        except OSError as exc:
            raise SpawnError(f"cannot start {argv[0]!r}: {exc.strerror or exc}") from None
        return cls(process)

    @property
    def returncode(self) -> int | None:
        return self._process.returncode

    async def wait(self) -> int:
        """Wait for the exit; return the exit status in shell convention (128+N for signal N)."""
        return exitcodes.from_returncode(await self._process.wait())

    def send_signal(self, signum: int) -> bool:
        """Signal the child itself (gunicorn's master relays to its workers). False if it is gone."""
        if self._process.returncode is not None:
            return False
        try:
            os.kill(self.pid, signum)
        except ProcessLookupError:
            return False
        return True

    def kill_group(self) -> None:
        """SIGKILL everything in the child's process group, the child included."""
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            self.send_signal(signal.SIGKILL)
