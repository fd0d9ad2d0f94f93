"""PostgreSQL: connect with psycopg's async API and run ``SELECT 1``.

psycopg's ``connect_timeout`` has a 2 s floor and there is no client-side query timeout, so the
engine's anyio deadline is what bounds an attempt; cancelling a query makes psycopg send a cancel
request to the server, so nothing is left running there.
"""

import math

import psycopg

from supervisor.drivers import GateFailure, one_line
from supervisor.gatespec import GateSpec


async def check(spec: GateSpec) -> str | None:
    try:
        conn = await psycopg.AsyncConnection.connect(
            spec.url, autocommit=True, connect_timeout=max(2, math.ceil(spec.timeout))
        )
    except psycopg.Error as exc:
        raise GateFailure(f"cannot connect: {one_line(exc)}") from None
    try:
        async with conn:
            await conn.execute("SELECT 1")
    except psycopg.Error as exc:
        raise GateFailure(f"SELECT 1 failed: {one_line(exc)}") from None
    return None
