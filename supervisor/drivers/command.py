"""``cmd:`` gates: run a command (no shell), exit status 0 passes.

The command gets its own session so that, on timeout or cancellation, its whole process group is
killed: anyio alone would kill only the direct child and leave a ``sh -c`` grandchild running.
Once the command has exited, anything it left behind in its group is killed too, so a stray
background process cannot hold the output pipe open. Output is captured, and only a bounded tail
is kept for the report.
"""

import contextlib
import os
import shlex
import signal
import subprocess
from collections import deque

import anyio
import anyio.abc

from supervisor.drivers import GateFailure
from supervisor.gatespec import GateSpec

TAIL_BYTES = 4096


class _Tail:
    """The last ``limit`` bytes of a stream, however much passes through."""

    def __init__(self, limit: int = TAIL_BYTES) -> None:
        self._chunks: deque[bytes] = deque()
        self._size = 0
        self._limit = limit

    def add(self, chunk: bytes) -> None:
        self._chunks.append(chunk)
        self._size += len(chunk)
        while self._size - len(self._chunks[0]) >= self._limit:
            self._size -= len(self._chunks.popleft())

    def text(self) -> str:
        data = b"".join(self._chunks)[-self._limit :]
        return data.decode("utf-8", "replace")


def kill_group(pid: int) -> None:
    """SIGKILL the process group led by ``pid``; it may already be gone."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


async def _drain(stream: anyio.abc.ByteReceiveStream | None, tail: _Tail) -> None:
    if stream is None:
        return
    try:
        async for chunk in stream:
            tail.add(chunk)
    except (anyio.BrokenResourceError, anyio.ClosedResourceError):
        pass


def last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1][:200] if lines else ""


async def check(spec: GateSpec) -> str | None:
    tail = _Tail()
    try:
        process = await anyio.open_process(
            list(spec.argv),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    except OSError as exc:
        raise GateFailure(f"cannot start {shlex.quote(spec.argv[0])}: {exc.strerror or exc}") from None
    try:
        async with anyio.create_task_group() as tg:
            tg.start_soon(_drain, process.stdout, tail)
            returncode = await process.wait()
            kill_group(process.pid)  # leftovers must not keep the pipe (or anything else) alive
    finally:
        # on timeout or cancellation: the whole group, then collect the exit status
        kill_group(process.pid)
        with anyio.CancelScope(shield=True):
            await process.aclose()
    output = last_line(tail.text())
    if returncode != 0:
        how = f"killed by signal {-returncode}" if returncode < 0 else f"exit status {returncode}"
        raise GateFailure(f"{how}" + (f": {output}" if output else ""))
    return output or None
