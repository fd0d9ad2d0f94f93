"""TCP: a connect is enough to know something listens.

anyio resolves names off the event loop and the connect is cancellable, so a slow DNS answer or
a black-holed address only ever costs this gate its own timeout.
"""

import anyio

from supervisor.config.gatespec import GateSpec
from supervisor.core.redaction import redact_text
from supervisor.kinds.base import connect_failure
from supervisor.kinds.tcp_url import TCP_LEVEL


async def check(spec: GateSpec) -> str | None:
    try:
        stream = await anyio.connect_tcp(spec.host, spec.port)
    except OSError as exc:
        raise connect_failure(f"cannot connect to {redact_text(spec.host)}:{spec.port}", exc) from None
    await stream.aclose()
    if spec.kind == TCP_LEVEL.name:  # mysql://, amqp://...: no driver here, and the report must say so
        return f"TCP level only: something listens ({spec.scheme} has no driver here)"
    return None
