"""``cmd:`` gates: run a command (no shell), exit status 0 passes.

The command gets its own session so that, on timeout or cancellation, its whole process group is
killed: anyio alone would kill only the direct child and leave a ``sh -c`` grandchild running.
It is started through the process table, so that the supervisor's single reaper collects its
exit status (a second waiter would steal it when the supervisor is PID 1).

The verdict is the exit status, the moment the command exits. Output is read until then, plus
whatever is already in the pipe; reading never waits for end-of-file, because a daemon the
command started may hold the pipe open forever. Then the process group is killed, and so is
any process that still holds the pipe's write end (a daemon that left the group with setsid):
each attempt would otherwise leave one more behind. Only a bounded tail of output (stdout and
stderr in one pipe, in order) is kept; it is masked whole, its cut-off start included, before
the lines that say why it failed are taken from it and cut to length (``command_output``), so
no cut shows a piece of a password.
"""

import os
import signal
import subprocess
from collections import deque

import anyio
import anyio.to_thread

from supervisor.config.gatespec import GateSpec
from supervisor.core.command_output import significant
from supervisor.core.durations import format_duration
from supervisor.core.reasons import ReasonClass
from supervisor.core.redaction import redact_tail, redact_text, shorten
from supervisor.kinds.base import GateFailure
from supervisor.pid1 import processes

KEEP_OUTPUT = 0.02  # seconds before the attempt's deadline that a hung command is given up, to keep its output
TAIL_BYTES = 65536  # enough for a long Django report: its findings sit far above its last line


class _Tail:
    """The last ``limit`` bytes of a stream, however much passes through."""

    def __init__(self, limit: int = TAIL_BYTES) -> None:
        self._chunks: deque[bytes] = deque()
        self._size = 0
        self._limit = limit
        self._cut = False

    def add(self, chunk: bytes) -> None:
        self._chunks.append(chunk)
        self._size += len(chunk)
        while self._size - len(self._chunks[0]) >= self._limit:
            self._size -= len(self._chunks.popleft())
            self._cut = True

    def text(self) -> str:
        """The tail, every secret masked (also what is left of one where the tail begins)."""
        data = b"".join(self._chunks)
        if len(data) <= self._limit and not self._cut:
            return redact_text(data.decode("utf-8", "replace"))
        data = data[-self._limit :].lstrip(bytes(range(0x80, 0xC0)))  # no half character first
        return redact_tail(data.decode("utf-8", "replace"))


async def _drain(fd: int, tail: _Tail) -> None:
    """Read a non-blocking pipe to EOF without blocking the event loop."""
    while True:
        await anyio.wait_readable(fd)
        if not _read_available(fd, tail):
            return


def _read_available(fd: int, tail: _Tail, chunks: int = 16) -> bool:
    """Read what the pipe holds now (a bounded amount: a writer may never stop); False at
    end-of-file, when nobody holds the write end any more."""
    for _ in range(chunks):
        try:
            chunk = os.read(fd, 65536)
        except BlockingIOError:
            return True
        if not chunk:
            return False
        tail.add(chunk)
    return True


def _kill_pipe_holders(fd: int) -> int:
    """SIGKILL every other process that holds the pipe behind ``fd``; how many there were."""
    link = f"pipe:[{os.fstat(fd).st_ino}]"
    me, killed = os.getpid(), 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit() or int(entry.name) == me:
            continue
        try:
            held = any(os.readlink(f"/proc/{entry.name}/fd/{n}") == link for n in os.listdir(f"/proc/{entry.name}/fd"))
            if held:
                os.kill(int(entry.name), signal.SIGKILL)
                killed += 1
        except OSError:  # gone meanwhile, or not ours to look at
            continue
    return killed


def last_line(text: str) -> str:
    """The last non-blank line of ``text`` (already masked: see ``_Tail.text``), 200 characters
    at most."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return shorten(lines[-1], 200) if lines else ""


async def check(spec: GateSpec) -> str | None:
    tail = _Tail()
    try:
        process = await processes.current().spawn_in_turn(
            spec.argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
    except processes.SpawnError as exc:
        # its message masks the program's name already (``processes.spawn``)
        raise GateFailure(str(exc), ReasonClass.MISSING if exc.not_found else ReasonClass.ERROR) from None
    fd = process.stdout_fd
    assert fd is not None
    os.set_blocking(fd, False)
    # the engine's deadline for this attempt, met here a moment before it: what the command printed
    # before it hung is shown with the timeout ("connecting to db:5432 ...") instead of being lost
    attempt = anyio.CancelScope(deadline=anyio.current_effective_deadline() - KEEP_OUTPUT)
    try:
        with attempt:
            async with anyio.create_task_group() as tg:
                tg.start_soon(_drain, fd, tail)
                returncode = await process.wait()
                tg.cancel_scope.cancel()  # the verdict is in; descendants may hold the pipe for ever
            process.kill_group()
            if _read_available(fd, tail):  # someone outside the group still holds the write end
                await anyio.to_thread.run_sync(_kill_pipe_holders, fd)
        if attempt.cancelled_caught:
            _read_available(fd, tail)
    finally:
        # on timeout or cancellation: the whole group goes; the reaper collects the status
        process.kill_group()
        process.close_pipes()
    text = tail.text()
    if attempt.cancelled_caught:
        found = significant(text)
        raise GateFailure(f"timed out after {format_duration(spec.timeout)}", ReasonClass.TIMEOUT, output=found.lines)
    if returncode != 0:
        how = f"killed by signal {-returncode}" if returncode < 0 else f"exit status {returncode}"
        found = significant(text)
        reason = how + (f": {found.headline}" if found.headline else "")
        raise GateFailure(reason, ReasonClass.EXIT_STATUS, output=found.lines)
    return last_line(text) or None
