"""SQLite: open the file read-only and read its schema.

``SELECT 1`` never touches the file, so it would pass a corrupt file, ``/dev/zero`` or a database
another process holds an exclusive lock on. Reading ``sqlite_master`` makes SQLite take a shared
lock, read page 1 and check the header: a lock is met (with a short busy timeout: ``not-ready``,
retried by the engine, never waited on until the attempt's end), and a file that is not a
database says so (``SQLITE_NOTADB``: ``protocol``, as a gate pointed at the wrong port). Only a
regular file can be a database: a directory at the path is ``missing``, anything else (a device,
a FIFO, a socket) ``protocol``, told by ``stat`` before anything is opened, so neither a FIFO's
``open`` (which waits for a writer) nor a device's size of 0 (an empty database to SQLite) is met.

Read-only (``mode=ro``) so that a gate never creates an empty database where the app expects a
real one. A file that does not exist yet passes when its directory is writable: with SQLite the
database is created by the app or its ``migrate`` task, which run only after the gates pass,
so requiring the file would keep a minimal configuration from ever becoming ready;
``?must_exist=true`` requires it. sqlite3 blocks, so the attempt runs in a worker thread that is
abandoned on timeout (a locked database cannot stall the event loop), at most one per gate.
"""

import os
import sqlite3
import stat
from pathlib import Path

from supervisor.config.gatespec import GateSpec
from supervisor.core.reasons import ReasonClass
from supervisor.core.redaction import redact_text
from supervisor.kinds import blocking
from supervisor.kinds.base import GateFailure, one_line

# SQLite's primary result codes (sqlite3.h) that say more than "error" (SQLITE_CORRUPT, 11, stays
# "error": a database, damaged)
_BY_CODE = {
    5: ReasonClass.NOT_READY,  # SQLITE_BUSY: another connection holds a lock
    6: ReasonClass.NOT_READY,  # SQLITE_LOCKED
    14: ReasonClass.MISSING,  # SQLITE_CANTOPEN
    23: ReasonClass.AUTH,  # SQLITE_AUTH
    26: ReasonClass.PROTOCOL,  # SQLITE_NOTADB: the file is not a SQLite database
}
BUSY_WAIT = 0.2  # seconds SQLite waits for a lock before SQLITE_BUSY (a quarter of the timeout at most)


def _not_a_file(path: str) -> GateFailure | None:
    """Why ``path`` (which exists) cannot be a database, from its type alone; None for a regular file."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return None  # SQLite's open says why, with its own code
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return GateFailure(f"{redact_text(path)}: is a directory, not a database file", ReasonClass.MISSING)
    return GateFailure(
        f"{redact_text(path)}: not a regular file (a device, FIFO or socket): no database", ReasonClass.PROTOCOL
    )


def _probe(path: str, timeout: float, must_exist: bool) -> str | None:
    file = Path(path)
    if not must_exist and not file.exists():
        # the app (or its migrate task) creates it: what matters now is that it can
        folder = file.absolute().parent
        if folder.is_dir() and os.access(folder, os.W_OK | os.X_OK):
            return "does not exist yet; its directory is writable"
        raise GateFailure(
            f"{redact_text(path)}: does not exist, and {redact_text(str(folder))} is not a writable directory",
            ReasonClass.MISSING,
        )
    refusal = _not_a_file(path)
    if refusal is not None:
        raise refusal
    uri = file.absolute().as_uri() + "?mode=ro"
    try:
        conn = sqlite3.connect(uri, uri=True, timeout=min(BUSY_WAIT, timeout / 4))
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()  # a shared lock, page 1, the schema
        finally:
            conn.close()
    except sqlite3.Error as exc:
        code = getattr(exc, "sqlite_errorcode", None)  # the extended code; its low byte is the primary one
        cls = _BY_CODE.get(code & 0xFF, ReasonClass.ERROR) if isinstance(code, int) else ReasonClass.ERROR
        raise GateFailure(f"{redact_text(path)}: {one_line(exc)}", cls) from None
    return None


async def check(spec: GateSpec) -> str | None:
    return await blocking.run(spec.name, _probe, spec.path, spec.timeout, spec.must_exist)
