"""The health server renders once per state version: a cached answer never outlives its state."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import anyio.abc
import h11
import pytest

from supervisor.core.checks import CheckState, record_failure, record_success
from supervisor.core.readiness import ChildInfo, ChildStatus
from supervisor.health.server import HealthServer, open_listener
from supervisor.runtime.state import StateStore
from tests.helpers import free_port

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def running_store() -> StateStore:
    store = StateStore([CheckState("db", "tcp", "tcp://db:1")])
    store.set_child(ChildInfo(ChildStatus.RUNNING, pid=1))
    return store


@asynccontextmanager
async def connected(server: HealthServer) -> AsyncIterator[tuple[anyio.abc.SocketStream, h11.Connection]]:
    """A keep-alive client connection to ``server``, served for the block's duration."""
    port = free_port()
    listener = await open_listener("127.0.0.1", port)
    with anyio.fail_after(20):
        async with anyio.create_task_group() as tg:
            tg.start_soon(server.serve, listener)
            stream = await anyio.connect_tcp("127.0.0.1", port)
            yield stream, h11.Connection(h11.CLIENT)
            await stream.aclose()
            tg.cancel_scope.cancel()


async def ask(stream: anyio.abc.SocketStream, conn: h11.Connection, method: str, target: str) -> tuple[int, bytes]:
    await stream.send(conn.send(h11.Request(method=method, target=target, headers=[("Host", "x")])))
    await stream.send(conn.send(h11.EndOfMessage()))
    status, body = 0, b""
    while True:
        event = conn.next_event()
        if event is h11.NEED_DATA:
            conn.receive_data(await stream.receive())
        elif isinstance(event, h11.Response):
            status = event.status_code
        elif isinstance(event, h11.Data):
            body += event.data
        elif isinstance(event, h11.EndOfMessage):
            conn.start_next_cycle()
            return status, body


async def test_every_state_change_is_seen_by_the_next_request_on_a_keep_alive_connection() -> None:
    store = running_store()
    async with connected(HealthServer(store.snapshot, version=lambda: store.version)) as (stream, conn):
        for i in range(60):
            db = store.get("db")
            passing = i % 3 != 0
            now = float(i)
            store.set(
                record_success(db, now=now, duration=0.001)
                if passing
                else record_failure(db, now=now, duration=0.001, error=f"refused #{i}")
            )
            status, body = await ask(stream, conn, "GET", "/readyz?verbose")
            assert status == (200 if passing else 503), (i, body)
            assert (f"refused #{i}".encode() in body) is not passing
            head_status, head_body = await ask(stream, conn, "HEAD", "/readyz?verbose")
            assert (head_status, head_body) == (status, b"")


async def test_without_a_version_nothing_is_cached() -> None:
    store = running_store()
    calls = 0

    def snapshot() -> object:
        nonlocal calls
        calls += 1
        return store.snapshot()

    async with connected(HealthServer(snapshot)) as (stream, conn):  # type: ignore[arg-type]
        for _ in range(3):
            await ask(stream, conn, "GET", "/readyz")
        assert calls == 3
