"""Redis: ``PING`` with redis.asyncio, with the client's own retries switched off.

redis-py retries connects and commands by itself (ten times by default since 6.0); inside a gate
that would multiply the attempt time and hide the real outcome, so the client gets
``Retry(NoBackoff(), 0)`` and our engine does the retrying, with jitter, under its own deadline.
It also sends no ``CLIENT SETINFO``: a gate has nothing to tell the server about itself, and
working out redis-py's own version (package metadata) would cost milliseconds on the event loop.
"""

import inspect

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from supervisor.drivers import GateFailure, one_line
from supervisor.gatespec import GateSpec

# redis-py 8 replaced lib_name/lib_version (now deprecated) with driver_info
_NO_CLIENT_INFO: dict[str, None] = (
    {"driver_info": None}
    if "driver_info" in inspect.signature(Redis.__init__).parameters
    else {"lib_name": None, "lib_version": None}
)


async def check(spec: GateSpec) -> str | None:
    client = Redis.from_url(
        spec.url,
        socket_timeout=spec.timeout,
        socket_connect_timeout=spec.timeout,
        retry=Retry(NoBackoff(), 0),
        single_connection_client=True,
        **_NO_CLIENT_INFO,
    )
    try:
        if not await client.ping():
            raise GateFailure("PING got no PONG")
    except RedisError as exc:
        raise GateFailure(f"PING failed: {one_line(exc)}") from None
    except OSError as exc:
        raise GateFailure(f"cannot connect: {one_line(exc)}") from None
    finally:
        await client.aclose()
    return None
