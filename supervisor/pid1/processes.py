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
import errno
import os
import resource
import signal
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from contextvars import ContextVar
from typing import IO, Any

import anyio
import anyio.abc
import anyio.lowlevel

from supervisor import logs
from supervisor.core.redaction import redact_text
from supervisor.pid1 import sessions
from supervisor.pid1.foreground import Process
from supervisor.pid1.signals import SignalInbox

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
    import ctypes  # here: as PID 1 (in a container) it is never needed, and costs 2 ms to import

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
        """Signal the process itself. False when it was not delivered: the process has exited,
        or it is no longer ours to signal (EPERM: it exec'd a set-user-ID program, or took
        another user's credentials). The caller goes on either way, as a stop must."""
        if self.returncode is not None:
            return False
        try:
            os.kill(self.pid, signum)
        except ProcessLookupError:
            return False
        except PermissionError as exc:
            log.warning("cannot send %s to pid %d: %s", _signal_name(signum), self.pid, exc.strerror or exc)
            return False
        return True

    def signal_group(self, signum: int) -> bool:
        """Signal the process group this process leads (it was started in a new session); the
        leader alone when the group is gone or holds a process we may not signal."""
        try:
            os.killpg(self.pid, signum)
        except (ProcessLookupError, PermissionError):
            return self.send_signal(signum)
        return True

    def kill_group(self) -> None:
        self.signal_group(signal.SIGKILL)


def _signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


def _give_back_nofile(soft: int) -> Callable[[], None]:
    """Between fork and exec (``preexec_fn``): the child's soft descriptor limit back to what the
    supervisor was started with. Only the soft limit, under whatever hard limit holds now (one
    lowered from outside must not turn into EPERM), and never an exception: a child that cannot
    get its old limit back runs with ours rather than not at all. These few lines of Python run
    in the child (subprocess then forks instead of using vfork); they take no lock."""

    def give_back() -> None:
        try:
            _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
            wanted = soft if hard == resource.RLIM_INFINITY else min(soft, hard)
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
        except (OSError, ValueError):
            pass

    return give_back


class ProcessTable:
    def __init__(self, *, adopt_orphans: bool, child_nofile: tuple[int, int] | None = None) -> None:
        self.adopt_orphans = adopt_orphans
        # the descriptor limit to give back to every child, when the supervisor raised its own
        # (``fdlimit``): no child ever runs with ours
        self._preexec = _give_back_nofile(child_nofile[0]) if child_nofile else None
        self._managed: dict[int, ManagedProcess] = {}
        self._sessions: set[int] = set()  # of the app and tasks: what they leave is stopped at the end
        self._turn = anyio.Lock()

    def spawn(
        self,
        argv: Sequence[str],
        *,
        stdin: Redirect = None,
        stdout: Redirect = None,
        stderr: Redirect = None,
        track: bool = True,
        pass_fds: Sequence[int] = (),
    ) -> ManagedProcess:
        """Start ``argv`` (no shell) as the leader of a new session, and register it at once.

        ``track``: whatever the process leaves in its session is stopped before the supervisor
        exits (the app and pre-start tasks; a ``cmd:`` gate kills its own group after each attempt).
        ``pass_fds``: descriptors the process inherits (the held sockets), every other one closed.
        """
        try:
            popen = subprocess.Popen(
                list(argv),
                stdin=stdin,
                stdout=stdout,
                stderr=stderr,
                start_new_session=True,
                close_fds=True,
                pass_fds=tuple(pass_fds),
                env=child_environ() if _withheld else None,
                preexec_fn=self._preexec,
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
        if track:
            self._sessions.add(process.pid)
        return process

    async def spawn_in_turn(
        self,
        argv: Sequence[str],
        *,
        stdin: Redirect = None,
        stdout: Redirect = None,
        stderr: Redirect = None,
    ) -> ManagedProcess:
        """``spawn`` for ``cmd:`` gates, one caller at a time with a pass through the event loop
        before each.

        A fork and exec costs a millisecond or two on the loop; six hundred ``cmd:`` gates starting
        at once would spawn back to back for a second, and the signal reader (a SIGTERM) would
        wait behind all of them. In turn, at most one spawn runs between two looks at the loop's
        other work. Nothing awaits after the spawn: a cancelled caller never loses its process.
        """
        async with self._turn:
            await anyio.lowlevel.checkpoint()
            return self.spawn(argv, stdin=stdin, stdout=stdout, stderr=stderr, track=False)

    async def end_leftovers(
        self, process: Process, signum: int, timeout: float, hurry: anyio.Event | None = None
    ) -> int | None:
        """What ``process`` left in its session after it exited: ``signum`` to it now, SIGKILL once
        ``timeout`` has passed or ``hurry`` is set (a second stop signal). A shell's background
        job, a worker that outlived its master: each would otherwise outlive the app, once per
        restart. Returns the signal that ended the last of them (None when nothing was left).

        They are not our children unless we are PID 1 or a subreaper, so there is no exit status
        to wait for: the session is looked at every ``GROUP_POLL`` seconds until it is empty.
        """
        sid = process.pid
        live = sessions.live([sid])
        if not live:
            self._sessions.discard(sid)
            return None
        members = live[sid]
        count = f"{len(members)} process(es)" if members else "processes"  # none: /proc was unreadable
        log.warning("pid %d exited but left %s in its session: %s to them", sid, count, signal.Signals(signum).name)
        sessions.signal(sid, members, signum)
        with anyio.move_on_after(timeout):
            while sid in sessions.live([sid]):
                if hurry is not None and hurry.is_set():
                    break
                await anyio.sleep(GROUP_POLL)
            else:
                self._sessions.discard(sid)
                return signum
        live = sessions.live([sid])
        self._sessions.discard(sid)  # empty now, or SIGKILL below, which cannot be ignored
        if not live:
            return signum
        log.warning("what pid %d left in its session is still there: SIGKILL", sid)
        sessions.signal(sid, live[sid], signal.SIGKILL)
        return signal.SIGKILL

    def stop_everything(self, timeout: float, stop_now: Callable[[], bool] = lambda: False) -> None:
        """The last act before the supervisor exits, whatever made it exit (a bug included): every
        process it started that still runs, and whatever the app and tasks left in their sessions,
        gets SIGTERM, then SIGKILL after ``timeout`` or as soon as ``stop_now()`` says so (a
        second stop signal). Synchronous on purpose: it must work when the event loop itself has
        failed. One pass over ``/proc`` per look, whatever the number of sessions."""
        self.reap()  # exited gate commands are zombies until then: nothing to stop there
        live = sessions.live(self._sessions | set(self._managed))
        if not live:
            return
        log.warning("stopping %d process session(s) left running: SIGTERM, SIGKILL after %gs", len(live), timeout)
        for sid, members in live.items():
            sessions.signal(sid, members, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while live and time.monotonic() < deadline and not stop_now():
            time.sleep(GROUP_POLL)
            self.reap()
            live = sessions.live(live)
        for sid, members in sessions.live(live).items():
            sessions.signal(sid, members, signal.SIGKILL)
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


@contextlib.contextmanager
def installed(table: ProcessTable) -> Iterator[ProcessTable]:
    """Processes spawned from inside (and from tasks started inside) go through ``table``.

    A ``cmd:`` gate's driver gets only its spec (the driver contract, ``kinds/base.py``), so it
    finds the table here (``current``); the start-up sequence and the app's lifecycle get the
    same table passed as their ``Spawner``, so their tests pass a fake. ``run`` and the one-shot
    commands (``runtime/verdict``) install their table this one way."""
    token = _current.set(table)
    try:
        yield table
    finally:
        _current.reset(token)


def current() -> ProcessTable:
    table = _current.get()
    if table is None:
        raise RuntimeError("no process table: spawn inside processes.installed()")
    return table


def should_adopt_orphans(subreaper_setting: bool) -> bool:
    """PID 1 always reaps; elsewhere only when asked to, and only if the kernel agrees."""
    if os.getpid() == 1:
        return True
    if subreaper_setting:
        if become_subreaper():
            return True
        log.warning("SUPERVISOR_SUBREAPER=true but prctl(PR_SET_CHILD_SUBREAPER) failed; orphans are not reaped")
    return False
