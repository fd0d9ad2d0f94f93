"""Blocking library calls in worker threads, at most one per gate at any time.

A thread blocked in a system call cannot be cancelled: ``open()`` on a hung network filesystem
(or on a FIFO nobody writes) never returns. The engine's deadline abandons the thread, but
starting a fresh one for every attempt would pile up threads without end. So while an abandoned
call is still blocked, the gate's attempts fail at once with "still blocked since ..." instead of
starting another, and the late result of the stuck call is dropped. The process never waits for
such a thread at exit: ``supervisor.cli.entry`` ends with ``os._exit``.
"""

import time
from collections.abc import Callable
from typing import TypeVar

import anyio.to_thread

from supervisor.core.reasons import ReasonClass
from supervisor.kinds.base import GateFailure

T = TypeVar("T")

# gate name -> (token of the call in flight, wall-clock start). Written by the event loop when
# a call starts, and by the worker thread itself when it returns (a dict operation is atomic).
_in_flight: dict[str, tuple[object, float]] = {}


def in_flight(key: str) -> float | None:
    """When the call for ``key`` that is still running started, or None."""
    entry = _in_flight.get(key)
    return None if entry is None else entry[1]


async def run(key: str, func: Callable[..., T], *args: object, what: str = "a system call") -> T:
    """``func(*args)`` in a worker thread, unless the previous call for ``key`` (``what`` it is
    stuck in, for the message) still runs."""
    since = in_flight(key)
    if since is not None:
        stamp = time.strftime("%H:%M:%S", time.gmtime(since))
        message = f"still blocked since {stamp}Z: an earlier attempt is stuck in {what}; not starting another"
        raise GateFailure(message, ReasonClass.TIMEOUT)
    token = object()
    _in_flight[key] = (token, time.time())

    def call() -> T:
        try:
            return func(*args)
        finally:
            if _in_flight.get(key, (None, 0.0))[0] is token:
                del _in_flight[key]

    return await anyio.to_thread.run_sync(call, abandon_on_cancel=True)
