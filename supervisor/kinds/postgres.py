"""PostgreSQL: connect with psycopg's async API and run ``SELECT 1``.

psycopg's ``connect_timeout`` has a 2 s floor and there is no client-side query timeout, so the
engine's anyio deadline is what bounds an attempt; cancelling a query makes psycopg send a cancel
request to the server, so nothing is left running there.

A failed connect carries only libpq's message: libpq keeps the server's SQLSTATE to itself. So
the reason class of a failed connect is found the way ``pg_isready`` finds it, asked of the
libraries rather than read from the text: first whether anything listens where libpq last tried
(the socket's errno says refused or unreachable), then libpq's own ``PQping``, which tells a
server that is up from one that turns connections away because it is starting up, shutting down
or in recovery (SQLSTATE 57P03). A login that got as far as a password needs neither: the server
is up. But the password was asked for before everything that can fail after it (the database,
``options``, limits), so ``used_password`` alone cannot tell a wrong password (28P01) from a
database that does not exist (3D000): the same login (host, port, user, password, TLS settings)
is tried once more, to ``template1`` (which every cluster has), with no ``options`` and no
startup parameters of the URL's. Taken, the password is right and the server turned the URL's
own login away after it: ``rejected``, as a trust login is classed; refused after the password
again, ``auth``. When the URL asks for a primary (``target_session_attrs``), a server that is up
but a standby is found by the same login without that demand. All of it runs only after a
failure, at most once each, within the attempt's deadline.
"""

import math
import os
from collections.abc import Mapping

import anyio
import anyio.abc
import psycopg
import psycopg.errors
from psycopg import pq
from psycopg.conninfo import make_conninfo

from supervisor.config.gatespec import GateSpec
from supervisor.core.reasons import ReasonClass, of_os_error, of_sqlstate
from supervisor.kinds import blocking
from supervisor.kinds.base import GateFailure, one_line

MARGIN = 0.05  # seconds of the attempt kept for recording its outcome
_TLS_REQUIRED = ("require", "verify-ca", "verify-full")


def _connect_timeout(timeout: float) -> int:
    """libpq's connect_timeout for an attempt of ``timeout`` seconds: whole seconds, 2 at least
    (libpq's floor); the engine's deadline is what really bounds the attempt."""
    return max(2, math.ceil(timeout))


async def check(spec: GateSpec) -> str | None:
    try:
        conn = await psycopg.AsyncConnection.connect(
            spec.url, autocommit=True, connect_timeout=_connect_timeout(spec.timeout)
        )
    except psycopg.Error as exc:
        raise GateFailure(f"cannot connect: {one_line(exc)}", await _why_not_connected(spec, exc)) from None
    try:
        async with conn:
            await conn.execute("SELECT 1")
    except psycopg.Error as exc:
        raise GateFailure(f"SELECT 1 failed: {one_line(exc)}", of_sqlstate(exc.sqlstate)) from None
    return None


async def _why_not_connected(spec: GateSpec, exc: psycopg.Error) -> ReasonClass:
    if isinstance(exc, psycopg.errors.ConnectionTimeout):  # psycopg's own connect_timeout ran out
        return ReasonClass.TIMEOUT
    pgconn = exc.pgconn
    if pgconn is None:
        return ReasonClass.ERROR
    if pgconn.needs_password:  # the server asked for a password and the URL has none
        return ReasonClass.AUTH
    left = anyio.current_effective_deadline() - anyio.current_time() - MARGIN
    if pgconn.used_password:
        # the server asked for the password, so it is up and past its start-up (57P03 comes before
        # authentication); what failed, the password or what the server checks after it?
        with anyio.move_on_after(max(0.0, left)):
            if await _accepts_without_session_attrs(spec):
                return ReasonClass.NOT_READY
            return ReasonClass.REJECTED if await _takes_the_password(spec, pgconn) else ReasonClass.AUTH
        return ReasonClass.AUTH  # no time left to tell: as libpq's flag says
    with anyio.move_on_after(max(0.0, left)):
        try:
            await _connect_where_libpq_tried(pgconn.host.decode(), pgconn.hostaddr.decode(), pgconn.port.decode())
        except OSError as error:
            return of_os_error(error)
        try:
            verdict = await blocking.run(f"ping {spec.name}", _ping, spec.options, spec.timeout, what="libpq's ping")
        except GateFailure:  # an earlier ping is still stuck: no verdict to be had
            return ReasonClass.ERROR
        if verdict == pq.Ping.REJECT:  # 57P03: starting up, shutting down, or a standby not accepting
            return ReasonClass.NOT_READY
        if verdict == pq.Ping.OK:  # the server is up and said no to this login
            if await _accepts_without_session_attrs(spec):
                return ReasonClass.NOT_READY  # a standby, or read-only, where a primary is asked for
            return ReasonClass.REJECTED
        if verdict == pq.Ping.NO_RESPONSE:  # something listens there without answering as PostgreSQL
            # the URL's sslmode, else libpq's PGSSLMODE from the environment, as libpq reads them
            wanted = spec.options.get("sslmode") or os.environ.get("PGSSLMODE")
            return ReasonClass.TLS if wanted in _TLS_REQUIRED else ReasonClass.PROTOCOL
    return ReasonClass.ERROR


# what the probe of a password leaves out or sets: everything sent in the startup packet that the
# server checks only after authentication (unknown database, bad options or client_encoding),
# each set explicitly so that libpq takes no value from the environment (PGOPTIONS...) either
_PROBE_LOGIN = {"dbname": "template1", "options": "", "client_encoding": "", "target_session_attrs": "any"}
_PROBE_DROPS = ("replication", "hostaddr", "host", "port", "user", "password", "load_balance_hosts")


async def _takes_the_password(spec: GateSpec, failed: pq.abc.PGconn) -> bool:
    """True when the host libpq last tried takes the failed login's user and password for
    ``template1``, with a password asked for: the password is right, so the failure came after
    authentication. False when it is refused again, or nothing can be told."""
    params = {k: v for k, v in spec.options.items() if k not in _PROBE_DROPS}
    login = {"host": failed.host, "hostaddr": failed.hostaddr, "port": failed.port, "user": failed.user}
    params.update({k: v.decode() for k, v in login.items() if v})
    if failed.password:  # the one libpq used: from the URL, PGPASSWORD or the password file
        params["password"] = failed.password.decode()
    params.update(_PROBE_LOGIN)
    try:
        conn = await psycopg.AsyncConnection.connect(
            make_conninfo("", **params), connect_timeout=_connect_timeout(spec.timeout)
        )
    except psycopg.Error:
        return False
    try:
        return conn.pgconn.used_password  # taken without a password (trust for template1) proves nothing
    finally:
        await conn.close()


async def _connect_where_libpq_tried(host: str, hostaddr: str, port: str) -> None:
    """Connect to the address libpq last tried and hang up at once (the server logs nothing for a
    connection that sends no bytes); raises the socket's ``OSError``."""
    number = int(port) if port.isascii() and port.isdigit() else 5432
    if host.startswith(("/", "@")):  # a socket directory, or Linux's abstract namespace
        path = f"{host}/.s.PGSQL.{number}"
        stream: anyio.abc.ByteStream = await anyio.connect_unix("\0" + path[1:] if path.startswith("@") else path)
    else:
        stream = await anyio.connect_tcp(hostaddr or host, number)
    await stream.aclose()


async def _accepts_without_session_attrs(spec: GateSpec) -> bool:
    """True when the URL asks for a kind of server (``target_session_attrs=primary``,
    ``read-write``...) and the server, which is up, takes the same login without that demand: it
    is there, but not (yet) what is asked for, as a standby in recovery before its promotion."""
    params = dict(spec.options)  # libpq's conninfo of the URL, as the reader found it
    if params.pop("target_session_attrs", "any") == "any":
        return False
    try:
        conn = await psycopg.AsyncConnection.connect(
            make_conninfo("", **params), connect_timeout=_connect_timeout(spec.timeout)
        )
    except psycopg.Error:
        return False
    await conn.close()
    return True


def _ping(params: Mapping[str, str], timeout: float) -> int:
    conninfo = make_conninfo("", **{**params, "connect_timeout": str(_connect_timeout(timeout))})
    return int(pq.PGconn.ping(conninfo.encode()))
