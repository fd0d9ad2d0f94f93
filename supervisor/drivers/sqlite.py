"""SQLite: open the file read-only and run ``SELECT 1``.

Read-only (``mode=ro``) so that a gate never creates an empty database where the app expects a
real one. sqlite3 blocks, so the attempt runs in a worker thread that is abandoned on timeout
(a locked database then cannot stall the event loop), at most one per gate (``blocking``).
"""

import sqlite3
from pathlib import Path

from supervisor.drivers import GateFailure, blocking
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
    await blocking.run(spec.name, _probe, spec.path, spec.timeout)
    return None
