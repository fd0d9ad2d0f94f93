"""Every process the supervisor starts, and the one reaper that collects their exit statuses.

As PID 1 (or a child subreaper) the supervisor inherits every orphan in the container and must
reap it, but a blind ``waitpid(-1)`` beside another waiter steals exit statuses: asyncio's child
watcher would then report 255, ``subprocess`` a false 0. So there is exactly one waiter, here,
and a registry of the PIDs we started (as pebble and systemd keep one). Spawning and registering
happen in one synchronous step on the event loop, so the reaper, which runs on the same loop,
can never see a managed child's exit before it is registered. Each SIGCHLD drains every exited
child in a loop, because SIGCHLDs coalesce: one signal may stand for many exits (catatonit #4).

When the supervisor is neither PID 1 nor a subreaper, it only ever waits for its own PIDs, so it
cannot disturb anything else in the process (a test runner, say).
"""

import contextlib
import ctypes
import os
import signal
import subprocess
from collections.abc import AsyncIterator, Sequence
from contextvars import ContextVar
from typing import IO, Any

import anyio
import anyio.abc

from supervisor import logs

log = logs.get("processes")

PR_SET_CHILD_SUBREAPER = 36
# Variables meant for the app alone: the supervisor's own copy of a library would act on them too
# (prometheus-client would write its metrics into the app's multiprocess directory, or fail when
# it does not exist yet). They are taken out of the supervisor's environment and given back to
# every process it starts.
APP_ONLY_VARIABLES = ("PROMETHEUS_MULTIPROC_DIR", "prometheus_multiproc_dir")
_withheld: dict[str, str] = {}
_current: ContextVar["ProcessTable | None"] = ContextVar("process_table", default=None)

Redirect = int | IO[Any] | None


def withhold_app_only_variables() -> None:
    """Call before any thread starts: changing the environment races with readers of it."""
    for name in APP_ONLY_VARIABLES:
        if name in os.environ:
            _withheld[name] = os.environ.pop(name)


def child_environ() -> dict[str, str]:
    """The environment the app, gates and tasks get: the supervisor's, with nothing withheld."""
    return {**os.environ, **_withheld}


class SpawnError(Exception):
    """The command could not be started at all (not found, not executable)."""

    def __init__(self, message: str, *, not_found: bool = False) -> None:
        super().__init__(message)
        self.not_found = not_found


def become_subreaper() -> bool:
    """Ask the kernel to reparent orphaned descendants to us; False where it is not supported."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return bool(libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0)
    except (OSError, AttributeError):
        return False


class ManagedProcess:
    """A process we started; its exit status is delivered by the reaper, never waited for here."""

    def __init__(self, popen: subprocess.Popen[bytes]) -> None:
        self._popen = popen
        self.pid = popen.pid
        self.returncode: int | None = None  # negative -N when killed by signal N, like subprocess
        self._exited = anyio.Event()

    @property
    def stdout_fd(self) -> int | None:
        return self._popen.stdout.fileno() if self._popen.stdout is not None else None

    def close_pipes(self) -> None:
        for stream in (self._popen.stdin, self._popen.stdout, self._popen.stderr):
            if stream is not None:
                stream.close()

    def _deliver(self, status: int) -> None:
        self.returncode = os.waitstatus_to_exitcode(status)
        # Popen must never wait for this PID itself (ECHILD would read as a false success)
        self._popen.returncode = self.returncode
        self._exited.set()

    async def wait(self) -> int:
        await self._exited.wait()
        assert self.returncode is not None
        return self.returncode

    def send_signal(self, signum: int) -> bool:
        """Signal the process itself. False when it has already exited."""
        if self.returncode is not None:
            return False
        try:
            os.kill(self.pid, signum)
        except ProcessLookupError:
            return False
        return True

    def signal_group(self, signum: int) -> bool:
        """Signal the process group this process leads (it was started in a new session)."""
        try:
            os.killpg(self.pid, signum)
        except (ProcessLookupError, PermissionError):
            return self.send_signal(signum)
        return True

    def kill_group(self) -> None:
        self.signal_group(signal.SIGKILL)


class ProcessTable:
    def __init__(self, *, adopt_orphans: bool) -> None:
        self.adopt_orphans = adopt_orphans
        self._managed: dict[int, ManagedProcess] = {}

    def spawn(
        self,
        argv: Sequence[str],
        *,
        stdin: Redirect = None,
        stdout: Redirect = None,
        stderr: Redirect = None,
    ) -> ManagedProcess:
        """Start ``argv`` (no shell) as the leader of a new session, and register it at once."""
        try:
            popen = subprocess.Popen(
                list(argv),
                stdin=stdin,
                stdout=stdout,
                stderr=stderr,
                start_new_session=True,
                close_fds=True,
                env=child_environ() if _withheld else None,
            )
        except OSError as exc:
            not_found = isinstance(exc, FileNotFoundError)
            raise SpawnError(f"cannot start {argv[0]!r}: {exc.strerror or exc}", not_found=not_found) from None
        process = ManagedProcess(popen)
        self._managed[process.pid] = process
        return process

    def reap(self) -> None:
        """Collect every exited child now; deliver managed ones, discard orphans."""
        if self.adopt_orphans:
            while True:
                try:
                    pid, status = os.waitpid(-1, os.WNOHANG)
                except ChildProcessError:
                    return
                if pid == 0:
                    return
                process = self._managed.pop(pid, None)
                if process is not None:
                    process._deliver(status)
                else:
                    log.debug("reaped orphan pid %d (status %d)", pid, status)
        for pid, process in list(self._managed.items()):
            try:
                done, status = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:  # someone else waited for it: its status is lost
                log.warning("exit status of pid %d was taken by another waiter", pid)
                self._managed.pop(pid, None)
                process._deliver(255 << 8)
                continue
            if done:
                self._managed.pop(pid, None)
                process._deliver(status)

    async def serve(self, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Reap on every SIGCHLD, for as long as the supervisor lives."""
        with anyio.open_signal_receiver(signal.SIGCHLD) as signals:
            self.reap()  # whatever exited before the handler was in place
            task_status.started()
            async for _ in signals:
                self.reap()


def make_current(table: ProcessTable) -> None:
    """Processes spawned from here (and from tasks started from here) go through ``table``."""
    _current.set(table)


def current() -> ProcessTable:
    table = _current.get()
    if table is None:
        raise RuntimeError("no process table: run inside processes.managed()")
    return table


@contextlib.asynccontextmanager
async def managed(*, adopt_orphans: bool) -> AsyncIterator[ProcessTable]:
    """A process table with its reaper running, current for every task started inside."""
    table = ProcessTable(adopt_orphans=adopt_orphans)
    token = _current.set(table)
    try:
        async with anyio.create_task_group() as tg:
            await tg.start(table.serve)
            try:
                yield table
            finally:
                tg.cancel_scope.cancel()
    finally:
        _current.reset(token)


def should_adopt_orphans(subreaper_setting: bool) -> bool:
    """PID 1 always reaps; elsewhere only when asked to, and only if the kernel agrees."""
    if os.getpid() == 1:
        return True
    if subreaper_setting:
        if become_subreaper():
            return True
        log.warning("SUPERVISOR_SUBREAPER=true but prctl(PR_SET_CHILD_SUBREAPER) failed; orphans are not reaped")
    return False
