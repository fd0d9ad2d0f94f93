"""Gate drivers: one module per kind of dependency, each an ``async def check(spec)``.

A driver raises ``GateFailure`` with a one-line reason and its reason class (``reasons``), or
returns normally when the dependency is there. It never enforces the gate's timeout alone: the
engine wraps every attempt in an anyio deadline, because libraries have floors (psycopg's 2 s
connect timeout) and retry loops (redis-py) of their own. Driver modules import their libraries
lazily, so the health server can listen before psycopg or redis are even loaded.
"""

import os
import sys

from supervisor.core.reasons import ReasonClass, of_os_error
from supervisor.core.redaction import redact_text


class GateFailure(Exception):
    """The dependency is not there; ``str(exc)`` is the one-line reason shown to users."""

    def __init__(
        self,
        message: str,
        reason_class: ReasonClass = ReasonClass.ERROR,
        output: tuple[str, ...] = (),
        *,
        final: bool = False,
    ) -> None:
        super().__init__(message)
        self.reason_class = reason_class
        self.output = output  # lines that say more than the reason (a command's findings), masked
        self.final = final  # nothing can change it before a restart: no retry, no waiting for a timeout


def connect_failure(prefix: str, exc: BaseException, otherwise: ReasonClass = ReasonClass.ERROR) -> GateFailure:
    """A failed connect or exchange: the message from the exception, the class from its errno
    (``otherwise`` when it has none)."""
    return GateFailure(f"{prefix}: {one_line(exc)}", of_os_error(exc, otherwise))


def one_line(exc: BaseException, limit: int = 300) -> str:
    """Collapse an exception to one short line, ``limit`` characters at most (cut with ``…``).

    Its text from outside (the library's message, which may echo a URL or a server's reply) is
    masked whole before anything is cut; the words of ours and the system's errno text
    (``Connection refused``) are not masked, so a password that is one of them shows nothing."""
    if isinstance(exc, OSError) and isinstance(exc.__cause__, OSError):
        exc = exc.__cause__  # anyio's "All connection attempts failed" hides the useful errno
    ssl = sys.modules.get("ssl")  # TLS errors are OSErrors whose errno is the SSL error code
    number = exc.errno if isinstance(exc, OSError) and not isinstance(exc, TimeoutError) else None
    if ssl is not None and isinstance(exc, ssl.SSLCertVerificationError):
        text = f"the server's TLS certificate could not be verified ({redact_text(str(exc.verify_message))})"
    elif ssl is not None and isinstance(exc, ssl.SSLError):
        reason = (exc.reason or "").lower().replace("_", " ")  # "WRONG_VERSION_NUMBER": plain HTTP?
        text = f"TLS failed: {redact_text(reason or exc.strerror or '') or type(exc).__name__}"
    elif isinstance(number, int) and number > 0:
        text = os.strerror(number)  # asyncio's "Connect call failed (...)" says less than errno
    else:
        # masked before its blanks are collapsed: a password may hold a tab or two spaces
        text = " ".join(redact_text(str(exc)).split()) or type(exc).__name__
    return _cut(text, limit)


def _cut(text: str, limit: int) -> str:
    """``text`` (masked already) cut to ``limit`` characters, as ``redaction.shorten`` cuts."""
    return text if len(text) <= limit else text[: limit - 1] + "…"
