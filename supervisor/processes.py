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
import errno
import os
import resource
import signal
import subprocess
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextvars import ContextVar
from functools import partial
from typing import IO, Any

import anyio
import anyio.abc
import anyio.lowlevel

from supervisor import logs
from supervisor.foreground import Process
from supervisor.redaction import redact_text
from supervisor.signals import SignalInbox

log = logs.get("processes")

PR_SET_CHILD_SUBREAPER = 36
# Variables meant for the app alone: the supervisor's own copy of a library would act on them too
# (prometheus-client would write its metrics into the app's multiprocess directory, or fail when
# it does not exist yet). They are taken out of the supervisor's environment and given back to
# every process it starts.
APP_ONLY_VARIABLES = ("PROMETHEUS_MULTIPROC_DIR", "prometheus_multiproc_dir")
_withheld: dict[str, str] = {}
TRANSIENT_ERRNOS = frozenset({errno.EMFILE, errno.ENFILE, errno.EAGAIN, errno.ENOMEM, errno.ENOBUFS})
GROUP_POLL = 0.02  # seconds between looks at a process group we cannot wait for
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

    def __init__(self, message: str, *, not_found: bool = False, transient: bool = False) -> None:
        super().__init__(message)
        self.not_found = not_found
        self.transient = transient  # out of descriptors or processes: may work a moment later


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

    def group_alive(self) -> bool:
        """Whether anything is left in the process group this process led (itself included)."""
        return group_alive(self.pid)


def _signal_group_quietly(pgid: int, signum: int) -> None:
    with contextlib.suppress(OSError):
        os.killpg(pgid, signum)


def group_alive(pgid: int) -> bool:
    """Whether a process of group ``pgid`` still runs. ``killpg(pgid, 0)`` alone counts zombies,
    which wait for whoever reaps them (us as PID 1, or an init that may take its time): they are
    looked up in ``/proc`` only when the kernel says the group is there at all."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # a member we may not signal (setuid): there, but out of our reach
        return True
    try:
        entries = os.listdir("/proc")
    except OSError:  # no /proc, or out of descriptors: trust the kernel's answer
        return True
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                fields = f.read().rpartition(b")")[2].split()
        except (FileNotFoundError, ProcessLookupError):  # gone meanwhile
            continue
        except OSError:  # out of descriptors, say: trust the kernel's answer
            return True
        if len(fields) > 2 and int(fields[2]) == pgid and fields[0] != b"Z":
            return True
    return False


async def end_group(process: Process, signum: int, timeout: float) -> int | None:
    """What the process left behind in its group, after it exited: ``signum`` to the group now,
    SIGKILL once ``timeout`` has passed. A shell's background job, a daemon that did not change
    its session: each would otherwise outlive the app, once per restart.

    Returns the signal that ended the group's last members (None when nothing was left). The
    members are not our children unless we are PID 1 or a subreaper, so there is no exit status
    to wait for: the group is polled until it is empty.
    """
    if not process.group_alive():
        return None
    log.warning(
        "pid %d exited but left processes in its group: %s to them", process.pid, signal.Signals(signum).name
    )
    process.signal_group(signum)
    with anyio.move_on_after(timeout):
        while process.group_alive():
            await anyio.sleep(GROUP_POLL)
        return signum
    if process.group_alive():
        log.warning("processes of pid %d's group still there after %s: SIGKILL", process.pid, f"{timeout:g}s")
        process.kill_group()
        return signal.SIGKILL
    return signum


class ProcessTable:
    def __init__(self, *, adopt_orphans: bool, child_nofile: tuple[int, int] | None = None) -> None:
        self.adopt_orphans = adopt_orphans
        # the descriptor limits to give back to every child, when the supervisor raised its own
        # (``fdlimit``); set between fork and exec, so that no child ever runs with ours
        self._preexec = partial(resource.setrlimit, resource.RLIMIT_NOFILE, child_nofile) if child_nofile else None
        self._managed: dict[int, ManagedProcess] = {}
        self._groups: set[int] = set()  # every group we started that may still have members
        self._turn = anyio.Lock()

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
                preexec_fn=self._preexec,  # a C function: nothing of Python runs in the child
            )
        except (OSError, subprocess.SubprocessError) as exc:  # out of descriptors too: reported, never raised
            not_found = isinstance(exc, FileNotFoundError)
            transient = isinstance(exc, OSError) and exc.errno in TRANSIENT_ERRNOS
            why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            # the program's name is from outside: masked on its own, our words and errno's text not
            shown = redact_text(argv[0]) if argv else ""
            raise SpawnError(f"cannot start {shown!r}: {why}", not_found=not_found, transient=transient) from None
        process = ManagedProcess(popen)
        self._managed[process.pid] = process
        self._groups.add(process.pid)
        return process

    async def spawn_in_turn(
        self,
        argv: Sequence[str],
        *,
        stdin: Redirect = None,
        stdout: Redirect = None,
        stderr: Redirect = None,
    ) -> ManagedProcess:
        """``spawn``, one caller at a time with a pass through the event loop before each.

        A fork and exec costs a millisecond or two on the loop; six hundred ``cmd:`` gates starting
        at once would spawn back to back for a second, and the signal reader (a SIGTERM) would
        wait behind all of them. In turn, at most one spawn runs between two looks at the loop's
        other work. Nothing awaits after the spawn: a cancelled caller never loses its process.
        """
        async with self._turn:
            await anyio.lowlevel.checkpoint()
            return self.spawn(argv, stdin=stdin, stdout=stdout, stderr=stderr)

    def stop_everything(self, timeout: float, stop_now: Callable[[], bool] = lambda: False) -> None:
        """The last act before the supervisor exits, whatever made it exit (a bug included): every
        process group it started that still has members gets SIGTERM, then SIGKILL after
        ``timeout`` or as soon as ``stop_now()`` says so (a second stop signal). Synchronous on
        purpose: it must work when the event loop itself has failed."""
        groups = [g for g in self._groups if group_alive(g)]
        if not groups:
            return
        log.warning("stopping %d process group(s) left running: SIGTERM, SIGKILL after %gs", len(groups), timeout)
        for pgid in groups:
            _signal_group_quietly(pgid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not stop_now():
            self.reap()
            groups = [g for g in groups if group_alive(g)]
            if not groups:
                return
            time.sleep(GROUP_POLL)
        for pgid in groups:
            _signal_group_quietly(pgid, signal.SIGKILL)
        self.reap()

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
                    self._delivered(process, status)
                else:
                    log.debug("reaped orphan pid %d (status %d)", pid, status)
        for pid, process in list(self._managed.items()):
            try:
                done, status = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:  # someone else waited for it: its status is lost
                log.warning("exit status of pid %d was taken by another waiter", pid)
                self._managed.pop(pid, None)
                self._delivered(process, 255 << 8)
                continue
            if done:
                self._managed.pop(pid, None)
                self._delivered(process, status)

    def _delivered(self, process: ManagedProcess, status: int) -> None:
        if not group_alive(process.pid):  # the usual case: nothing of it is left to stop later
            self._groups.discard(process.pid)
        process._deliver(status)

    async def serve(
        self,
        inbox: SignalInbox,
        other: Callable[[int], None],
        *,
        task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED,
    ) -> None:
        """Be the inbox's one reader for as long as the supervisor lives: every SIGCHLD reaps
        (one stands for any number of exits), every other kind goes to ``other``."""
        self.reap()  # whatever exited before: children inherited across exec, say
        task_status.started()
        async for batch in inbox.receive():
            for signum in batch:
                if signum == signal.SIGCHLD:
                    self.reap()
                else:
                    other(signum)


def make_current(table: ProcessTable) -> None:
    """Processes spawned from here (and from tasks started from here) go through ``table``."""
    _current.set(table)


def current() -> ProcessTable:
    table = _current.get()
    if table is None:
        raise RuntimeError("no process table: run inside processes.managed()")
    return table


@contextlib.asynccontextmanager
async def managed(
    *, adopt_orphans: bool, inbox: SignalInbox, other: Callable[[int], None]
) -> AsyncIterator[ProcessTable]:
    """A process table reading ``inbox`` (``serve``), current for every task started inside."""
    table = ProcessTable(adopt_orphans=adopt_orphans)
    token = _current.set(table)
    try:
        async with anyio.create_task_group() as tg:
            await tg.start(table.serve, inbox, other)
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
