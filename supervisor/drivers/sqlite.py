"""SQLite: open the file read-only and run ``SELECT 1``.

Read-only (``mode=ro``) so that a gate never creates an empty database where the app expects a
real one. sqlite3 blocks, so the attempt runs in a worker thread that is abandoned on timeout
(a locked database then cannot stall the event loop).
"""

import sqlite3
from pathlib import Path

import anyio.to_thread

from supervisor.drivers import GateFailure
from supervisor.gatespec import GateSpec


def _probe(path: str, timeout: float) -> None:
    uri = Path(path).absolute().as_uri() + "?mode=ro"
    try:
        conn = sqlite3.connect(uri, uri=True, timeout=timeout)
        try:
            conn.execute("SELECT 1").fetchone()
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise GateFailure(f"{path}: {exc}") from None


async def check(spec: GateSpec) -> str | None:
    await anyio.to_thread.run_sync(_probe, spec.path, spec.timeout, abandon_on_cancel=True)
    return None
