"""Name lookups before a network attempt, bounded by the attempt's deadline, one per gate.

psycopg, redis-py and anyio all resolve names with ``loop.getaddrinfo``, in asyncio's shared
executor (6 threads on 2 cores). A lookup cannot be cancelled: when the resolver never answers,
every attempt of every gate leaves one more thread blocked until the C library gives up, the
executor fills, and the lookups of gates whose names do resolve queue behind them. So each name
is looked up here first, in a thread of the gate's own, at most one at a time per gate and name
(``blocking``): a hung resolver costs a gate its attempts, never another gate's, and never more
than one thread per name. When the name resolves, the driver's own lookup is answered as quickly.
"""

import socket

import anyio

from supervisor.config.gatespec import GateSpec
from supervisor.core.reasons import ReasonClass
from supervisor.core.redaction import redact_text
from supervisor.kinds import blocking
from supervisor.kinds.base import GateFailure

MARGIN = 0.01  # seconds left of the attempt for the message, when the lookup takes it all


def _lookup(host: str) -> None:
    socket.getaddrinfo(host, None, 0, socket.SOCK_STREAM)


async def resolve(spec: GateSpec) -> None:
    """Every host name of ``spec`` resolves now, or ``GateFailure`` says which does not."""
    for host in spec.lookups:
        shown = redact_text(host)  # from the URL: masked on its own, never with our words around it
        deadline = anyio.current_effective_deadline() - MARGIN
        with anyio.move_on_after(max(0.0, deadline - anyio.current_time())) as scope:
            try:
                await blocking.run(f"lookup {spec.name} {host}", _lookup, host, what=f"the lookup of {shown}")
            except socket.gaierror as exc:
                why = exc.strerror or redact_text(str(exc))  # the C library's own text, else the exception's
                raise GateFailure(f"the name {shown} does not resolve: {why}", ReasonClass.DNS) from None
            except UnicodeError:
                raise GateFailure(f"the name {shown} is not a valid host name", ReasonClass.DNS) from None
        if scope.cancelled_caught:
            raise GateFailure(f"no answer from the resolver for {shown} within the attempt's timeout", ReasonClass.DNS)
