"""``cmd:`` gates: run a command (no shell), exit status 0 passes.

The command gets its own session so that, on timeout or cancellation, its whole process group is
killed: anyio alone would kill only the direct child and leave a ``sh -c`` grandchild running.
It is started through the process table, so that the supervisor's single reaper collects its
exit status (a second waiter would steal it when the supervisor is PID 1).
Once the command has exited, anything it left behind in its group is killed too, so a stray
background process cannot hold the output pipe open. Output is captured, and only a bounded tail
is kept for the report.
"""

import os
import subprocess
from collections import deque

import anyio

from supervisor import processes
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


async def _drain(fd: int, tail: _Tail) -> None:
    """Read a non-blocking pipe to EOF without blocking the event loop."""
    while True:
        await anyio.wait_readable(fd)
        try:
            chunk = os.read(fd, 65536)
        except BlockingIOError:
            continue
        if not chunk:
            return
        tail.add(chunk)


def last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1][:200] if lines else ""


async def check(spec: GateSpec) -> str | None:
    tail = _Tail()
    try:
        process = processes.current().spawn(
            spec.argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
    except processes.SpawnError as exc:
        raise GateFailure(str(exc)) from None
    fd = process.stdout_fd
    assert fd is not None
    os.set_blocking(fd, False)
    try:
        async with anyio.create_task_group() as tg:
            tg.start_soon(_drain, fd, tail)
            returncode = await process.wait()
            process.kill_group()  # leftovers must not keep the pipe (or anything else) alive
    finally:
        # on timeout or cancellation: the whole group goes; the reaper collects the status
        process.kill_group()
        process.close_pipes()
    output = last_line(tail.text())
    if returncode != 0:
        how = f"killed by signal {-returncode}" if returncode < 0 else f"exit status {returncode}"
        raise GateFailure(f"{how}" + (f": {output}" if output else ""))
    return output or None
