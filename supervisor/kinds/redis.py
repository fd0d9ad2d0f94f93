"""Redis: ``PING`` with redis.asyncio, with the client's own retries switched off.

redis-py retries connects and commands by itself (ten times by default since 6.0); inside a gate
that would multiply the attempt time and hide the real outcome, so the client gets
``Retry(NoBackoff(), 0)`` and our engine does the retrying, with jitter, under its own deadline.
It also sends no ``CLIENT SETINFO``: a gate has nothing to tell the server about itself, and
working out redis-py's own version (package metadata) would cost milliseconds on the event loop.

``rediss://`` against a Redis without TLS: the ClientHello reaches Redis as an inline command,
and Redis looks for its end with ``strchr``, which stops at the NUL bytes every ClientHello has
in its first few: Redis waits for the rest of the "line" and never answers, and the handshake
would only end at the attempt's timeout, as ``timeout``. So while a TLS handshake and ``PING``
have not finished after ``PLAIN_AFTER``, a second, plain connection sends ``PING`` in RESP; a
reply in RESP (``+PONG``, or an error line such as ``-NOAUTH``) means that the server speaks
plain Redis there: class ``tls`` at once. A TLS server answers that plain ``PING`` with an alert
or by closing, and the attempt goes on.
"""

import inspect

import anyio
from redis import exceptions as errors
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from supervisor.config.gatespec import GateSpec
from supervisor.core.reasons import ReasonClass, of_os_error
from supervisor.core.redaction import redact_text
from supervisor.kinds.base import GateFailure, connect_failure, one_line

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
        if not await _ping(client, spec):
            raise GateFailure("PING got no PONG", ReasonClass.PROTOCOL)
    except errors.RedisError as exc:
        raise GateFailure(f"PING failed: {one_line(exc)}", reason_class(exc)) from None
    except OSError as exc:
        raise connect_failure("cannot connect", exc) from None
    finally:
        await client.aclose()
    return None


PLAIN_AFTER = 0.2  # seconds of a rediss:// attempt (a quarter of the timeout at most) before asking in plain
_RESP_REPLY = (b"+", b"-")  # the first byte of a RESP simple string or error: a reply to PING


async def _ping(client: Redis, spec: GateSpec) -> bool:
    """``PING``; over TLS, watched for a server that speaks plain Redis (see the module's docstring)."""
    if spec.scheme != "rediss":
        return bool(await client.ping())
    kwargs = client.connection_pool.connection_kwargs
    host, port = str(kwargs.get("host", "localhost")), int(kwargs.get("port", 6379))
    plain = False
    failure: errors.RedisError | OSError | None = None
    pong = False
    async with anyio.create_task_group() as tg:

        async def watch() -> None:
            nonlocal plain
            await anyio.sleep(min(PLAIN_AFTER, spec.timeout / 4))
            plain = await _speaks_plain_redis(host, port)
            if plain:
                tg.cancel_scope.cancel()  # the handshake would wait until the attempt's end

        tg.start_soon(watch)
        try:
            pong = bool(await client.ping())
        except (errors.RedisError, OSError) as exc:
            failure = exc
        tg.cancel_scope.cancel()
    if plain:
        raise GateFailure(
            f"TLS failed: {redact_text(host)}:{port} answers in plain Redis, without TLS (a redis:// URL?)",
            ReasonClass.TLS,
        )
    if failure is not None:
        raise failure
    return pong


async def _speaks_plain_redis(host: str, port: int) -> bool:
    """True when ``host:port`` answers a plain RESP ``PING`` with a RESP reply."""
    try:
        async with await anyio.connect_tcp(host, port) as stream:
            await stream.send(b"*1\r\n$4\r\nPING\r\n")
            return (await stream.receive(1))[:1] in _RESP_REPLY
    except (OSError, anyio.EndOfStream, anyio.BrokenResourceError):
        return False  # nothing there, or a TLS server that hung up on plain text


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
