"""Gate drivers: one module per kind of dependency, each an ``async def check(spec)``.

A driver raises ``GateFailure`` with a one-line reason and its reason class (``reasons``), or
returns normally when the dependency is there. It never enforces the gate's timeout alone: the
engine wraps every attempt in an anyio deadline, because libraries have floors (psycopg's 2 s
connect timeout) and retry loops (redis-py) of their own. Driver modules import their libraries
lazily, so the health server can listen before psycopg or redis are even loaded.
"""

import os
import sys

from supervisor.reasons import ReasonClass, of_os_error


class GateFailure(Exception):
    """The dependency is not there; ``str(exc)`` is the one-line reason shown to users."""

    def __init__(self, message: str, reason_class: ReasonClass = ReasonClass.ERROR) -> None:
        super().__init__(message)
        self.reason_class = reason_class


def connect_failure(prefix: str, exc: BaseException, otherwise: ReasonClass = ReasonClass.ERROR) -> GateFailure:
    """A failed connect or exchange: the message from the exception, the class from its errno
    (``otherwise`` when it has none)."""
    return GateFailure(f"{prefix}: {one_line(exc)}", of_os_error(exc, otherwise))


def one_line(exc: BaseException, limit: int = 300) -> str:
    """Collapse an exception to one short line (redaction happens where it is recorded)."""
    if isinstance(exc, OSError) and isinstance(exc.__cause__, OSError):
        exc = exc.__cause__  # anyio's "All connection attempts failed" hides the useful errno
    ssl = sys.modules.get("ssl")  # TLS errors are OSErrors whose errno is the SSL error code
    if ssl is not None and isinstance(exc, ssl.SSLCertVerificationError):
        return f"the server's TLS certificate could not be verified ({exc.verify_message})"[:limit]
    if ssl is not None and isinstance(exc, ssl.SSLError):
        reason = (exc.reason or "").lower().replace("_", " ")  # "WRONG_VERSION_NUMBER": plain HTTP?
        return f"TLS failed: {reason or exc.strerror or type(exc).__name__}"[:limit]
    if isinstance(exc, OSError) and isinstance(exc.errno, int) and exc.errno > 0 and not isinstance(exc, TimeoutError):
        text = os.strerror(exc.errno)  # asyncio's "Connect call failed (...)" says less than errno
    else:
        text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"
