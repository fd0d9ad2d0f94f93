"""Heavy imports (psycopg, redis, prometheus-client) off the event loop, one at a time, and out
of the garbage collector's way once done.

Importing on the loop would stall /healthz for as long as the import takes (prometheus-client:
about 30 ms; psycopg: 70 ms). In a worker thread the import's work runs beside the loop, which
gets the GIL back at every switch interval; one import at a time keeps a single thread competing
with the loop for it (``bench/startup_stall.py`` measures the result).
"""

import gc
import importlib
import logging
import sys
from types import ModuleType

import anyio
import anyio.to_thread

_limiter: anyio.CapacityLimiter | None = None
RETRY = (0.1, 2.0)  # seconds: first and longest pause between tries of a failed import
log = logging.getLogger("supervisor.imports")


async def import_module(name: str) -> ModuleType:
    global _limiter
    if name in sys.modules:
        return sys.modules[name]
    if _limiter is None:
        _limiter = anyio.CapacityLimiter(1)
    module = await anyio.to_thread.run_sync(importlib.import_module, name, limiter=_limiter)
    settle()
    return module


async def import_retrying(name: str, what: str) -> ModuleType:
    """``import_module`` until it works. An import opens files; out of descriptors it fails
    (``ImportError: ... Too many open files``) and would work a moment later: that costs
    ``what`` a delay and one log line, never the supervisor."""
    delay, failed = RETRY[0], 0
    while True:
        try:
            return await import_module(name)
        except (ImportError, OSError) as exc:
            if failed == 0:
                log.error("cannot load %s for %s yet: %s; trying again", name, what, exc)
            failed += 1
            await anyio.sleep(delay)
            delay = min(delay * 2, RETRY[1])


def settle() -> None:
    """Exempt everything allocated so far (modules, classes, the configuration) from garbage
    collection, and collect from now on (``run`` starts with collection off). They live as long
    as the process; without this, the next full collection walks all of them, holding the GIL
    for 10-20 ms, and /healthz waits (``bench/startup_stall.py``)."""
    gc.freeze()
    gc.enable()
