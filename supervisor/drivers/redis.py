"""Redis: ``PING`` with redis.asyncio, with the client's own retries switched off.

redis-py retries connects and commands by itself (ten times by default since 6.0); inside a gate
that would multiply the attempt time and hide the real outcome, so the client gets
``Retry(NoBackoff(), 0)`` and our engine does the retrying, with jitter, under its own deadline.
It also sends no ``CLIENT SETINFO``: a gate has nothing to tell the server about itself, and
working out redis-py's own version (package metadata) would cost milliseconds on the event loop.
"""

import inspect

from redis import exceptions as errors
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from supervisor.drivers import GateFailure, connect_failure, one_line
from supervisor.gatespec import GateSpec
from supervisor.reasons import ReasonClass, of_os_error

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
            raise GateFailure("PING got no PONG", ReasonClass.PROTOCOL)
    except errors.RedisError as exc:
        raise GateFailure(f"PING failed: {one_line(exc)}", reason_class(exc)) from None
    except OSError as exc:
        raise connect_failure("cannot connect", exc) from None
    finally:
        await client.aclose()
    return None


# redis-py's exception classes, most specific first (each maps a server error code: LOADING, NOAUTH...)
_BY_TYPE: tuple[tuple[type[errors.RedisError], ReasonClass], ...] = (
    (errors.BusyLoadingError, ReasonClass.NOT_READY),  # LOADING: the dataset is being loaded
    (errors.MasterDownError, ReasonClass.NOT_READY),  # MASTERDOWN: a replica lost its primary
    (errors.TryAgainError, ReasonClass.NOT_READY),
    (errors.AuthenticationError, ReasonClass.AUTH),  # NOAUTH, WRONGPASS, invalid password
    (errors.AuthenticationWrongNumberOfArgsError, ReasonClass.AUTH),  # a password for a server without one
    (errors.AuthorizationError, ReasonClass.AUTH),
    (errors.NoPermissionError, ReasonClass.AUTH),  # NOPERM: the ACL user may not PING
    (errors.MaxConnectionsError, ReasonClass.REJECTED),
    (errors.TimeoutError, ReasonClass.TIMEOUT),
    (errors.InvalidResponse, ReasonClass.PROTOCOL),
    (errors.ResponseError, ReasonClass.REJECTED),  # any other error reply: the server said no
)


def reason_class(exc: errors.RedisError) -> ReasonClass:
    for kind, cls in _BY_TYPE:
        if isinstance(exc, kind):
            return cls
    if isinstance(exc, errors.ConnectionError):
        if getattr(exc, "status_code", None):  # an error reply: "ERR max number of clients reached"
            return ReasonClass.REJECTED
        # a failed connect carries the socket's error as its context; without one the server closed
        return of_os_error(exc, ReasonClass.CONNECTION_LOST)
    return ReasonClass.ERROR
