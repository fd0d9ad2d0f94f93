"""What a gate kind is: the contract between the engine, the settings and each kind's modules.

A kind is a ``Kind`` (its schemes, its URL reader, its default ports, the module of its driver)
and a driver module that satisfies ``Driver``. Settings take a gate URL apart with the kind's
reader once, at configuration time; the engine imports the driver only when a gate of that kind
runs. Adding a kind is one module (its ``Kind`` and its ``check``, see tests/unit/kinds/test_new_kind.py)
and one line in ``registry.KINDS``, or a call to ``registry.register``. The built-in kinds keep
their definitions apart from their drivers (``postgres_url`` beside ``postgres``...) only because
the drivers import libraries that configuration must not load.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Protocol

from supervisor.core.reasons import ReasonClass, of_os_error
from supervisor.core.redaction import redact_text
from supervisor.kinds.urls import UrlParts

if TYPE_CHECKING:  # gatespec imports the registry, which imports every kind's definition
    from supervisor.config.gatespec import GateSpec

Reader = Callable[[str, Mapping[str, int]], UrlParts]  # (url, default port by scheme)


class Driver(Protocol):
    """A driver module: one ``async def check(spec)``, the one thing the engine calls.

    ``check`` receives a ``GateSpec`` built at configuration time by the kind's reader: the
    parts it needs are on it already (``host``, ``port``, ``path``, ``argv``, ``variables``,
    ``options``, ``scheme``), so it takes nothing apart again except where its library insists
    on the URL itself (libpq, redis-py). ``spec.url`` may hold a password: never show it.

    It returns when the dependency is there: ``None``, or one short line that says more
    (``"HTTP 204"``, ``"does not exist yet; its directory is writable"``), shown as it is, so
    anything in it from outside (a host name, a path) is masked with ``redact_text`` first.

    It fails by raising ``GateFailure(message, reason_class, output, final=...)``: ``message``
    is one line (``one_line`` makes one of a library's exception, masked and cut);
    ``reason_class`` the most specific ``ReasonClass`` that is *known*, not guessed (a
    refused connect is ``refused`` by its errno, ``connect_failure`` reads it; a login turned
    away ``auth``; anything unclear ``error``); ``output`` the lines that say more (a command's
    findings), masked; ``final=True`` only when nothing can change the outcome before a restart
    (the process's environment), which stops the retries. Any other exception is a driver bug:
    the engine reports it as ``error`` and retries.

    It owes clean-up on every way out, cancellation included: a connection closed
    (``aclose_forcefully`` when the answer is in), a process group killed, a blocking call left
    to a bounded worker (``blocking.run``). It must not bound itself by the gate's timeout
    alone: the engine runs every attempt under an anyio deadline of ``spec.timeout`` and
    cancels it there (as ``timeout``), because libraries have floors (psycopg's 2 s connect
    timeout) and retry loops (redis-py) of their own. Names in ``spec.lookups`` are resolved by
    the engine before ``check`` is called. A driver imports its library at module level: the
    engine imports a driver that is not ``light`` in a worker thread, so /healthz never stalls.
    """

    async def check(self, spec: GateSpec) -> str | None: ...


@dataclass(frozen=True)
class Kind:
    """One kind of gate: everything the settings, the engine and the app probe ask of it.

    ``reader`` must import nothing heavy (it runs before the health server listens);
    ``driver`` is the dotted name of the module whose ``check`` the engine runs."""

    name: str
    schemes: tuple[str, ...]
    example: str  # how the accepted-URL hint shows it
    driver: str  # the module with ``check``: the engine imports it only when a gate of this kind runs
    reader: Reader
    startup_only: bool = False  # default: not re-checked once it passed
    light: bool = True  # its driver imports nothing heavy: no need to import it off the event loop
    app_probe: bool = False  # may be the app probe
    runs_command: bool = False  # its gates run ``argv``: looked up on PATH, shown word by word
    tcp_level_only: bool = False  # a knock where a login was meant: configuration warns of it
    default_ports: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))

    def parse(self, url: str) -> UrlParts:
        """``url`` taken apart by this kind's reader, with this kind's default ports; raises
        ``urls.UrlError``."""
        return self.reader(url, self.default_ports)


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
