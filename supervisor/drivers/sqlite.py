"""SQLite: open the file read-only and run ``SELECT 1``.

Read-only (``mode=ro``) so that a gate never creates an empty database where the app expects a
real one. A file that does not exist yet passes when its directory is writable: with SQLite the
database is created by the app or its ``migrate`` task, which run only after the gates pass,
so requiring the file would keep a minimal configuration from ever becoming ready;
``?must_exist=true`` requires it. sqlite3 blocks, so the attempt runs in a worker thread that is
abandoned on timeout (a locked database cannot stall the event loop), at most one per gate.
"""

import os
import sqlite3
from pathlib import Path

from supervisor.drivers import GateFailure, blocking
from supervisor.gatespec import GateSpec
from supervisor.reasons import ReasonClass

# SQLite's primary result codes (sqlite3.h) that say more than "error"
_BY_CODE = {5: ReasonClass.NOT_READY, 6: ReasonClass.NOT_READY, 14: ReasonClass.MISSING, 23: ReasonClass.AUTH}
# SQLITE_BUSY, SQLITE_LOCKED: someone holds a lock; SQLITE_CANTOPEN; SQLITE_AUTH


def _probe(path: str, timeout: float, must_exist: bool) -> str | None:
    file = Path(path)
    if not must_exist and not file.exists():
        # the app (or its migrate task) creates it: what matters now is that it can
        folder = file.absolute().parent
        if folder.is_dir() and os.access(folder, os.W_OK | os.X_OK):
            return "does not exist yet; its directory is writable"
        raise GateFailure(f"{path}: does not exist, and {folder} is not a writable directory", ReasonClass.MISSING)
    uri = file.absolute().as_uri() + "?mode=ro"
    try:
        conn = sqlite3.connect(uri, uri=True, timeout=timeout)
        try:
            conn.execute("SELECT 1").fetchone()
        finally:
            conn.close()
    except sqlite3.Error as exc:
        code = getattr(exc, "sqlite_errorcode", None)  # the extended code; its low byte is the primary one
        cls = _BY_CODE.get(code & 0xFF, ReasonClass.ERROR) if isinstance(code, int) else ReasonClass.ERROR
        raise GateFailure(f"{path}: {exc}", cls) from None
    return None


async def check(spec: GateSpec) -> str | None:
    return await blocking.run(spec.name, _probe, spec.path, spec.timeout, spec.must_exist)
