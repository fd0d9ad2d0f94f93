"""HTTP/1.1 for the health endpoints: h11 over anyio, one task per connection.

Robust against whatever arrives: every request head must arrive within the idle timeout, the
number of open connections is bounded, and when the bound is reached the *oldest* connection is
dropped to make room, so hundreds of stalled connections can never keep a fresh probe from being
answered. Malformed requests get 400, oversized heads 431, and never disturb other connections.
"""

import http
import itertools
import time
from collections import OrderedDict
from collections.abc import Callable

import anyio
import anyio.abc
import h11

from supervisor import __version__, logs
from supervisor.health.routes import MetricsRenderer, Response, respond
from supervisor.readiness import Snapshot

log = logs.get("health")

MAX_HEAD = 8 * 1024
MAX_BODY = 64 * 1024
SERVER_HEADER = f"container-supervisor/{__version__}"


def _head_size(request: h11.Request) -> int:
    return len(request.target) + sum(len(name) + len(value) + 4 for name, value in request.headers)


def _reason(status: int) -> bytes:
    try:
        return http.HTTPStatus(status).phrase.encode()
    except ValueError:
        return b""


def _ambiguous_framing(request: h11.Request) -> bool:
    """Both Content-Length and Transfer-Encoding: RFC 9112 section 6.1 says answer, then close
    (a front proxy may have framed the body differently: the next request could be smuggled)."""
    names = {name for name, _ in request.headers}
    return b"content-length" in names and b"transfer-encoding" in names


class _RateLimitedLog:
    """At most one traceback per interval, with a count of the ones held back."""

    def __init__(self, interval: float = 60.0) -> None:
        self._interval = interval
        self._last = -interval
        self._held = 0

    def exception(self, message: str, *args: object) -> None:
        now = time.monotonic()
        if now - self._last < self._interval:
            self._held += 1
            return
        held, self._held, self._last = self._held, 0, now
        suffix = f" ({held} more since the last report)" if held else ""
        log.error(message + suffix, *args, exc_info=True)


class _Close(Exception):
    """End this connection quietly."""


async def open_listener(host: str, port: int) -> anyio.abc.Listener[anyio.abc.SocketStream]:
    return await anyio.create_tcp_listener(local_host=host, local_port=port, backlog=1024)


class HealthServer:
    def __init__(
        self,
        snapshot: Callable[[], Snapshot],
        *,
        idle_timeout: float = 5.0,
        max_connections: int = 256,
    ) -> None:
        self._snapshot = snapshot
        self._idle_timeout = idle_timeout
        self._max_connections = max_connections
        self._open: OrderedDict[int, anyio.CancelScope] = OrderedDict()
        self._ids = itertools.count()
        self.metrics: MetricsRenderer | None = None  # set once prometheus-client is loaded
        self._errors = _RateLimitedLog()

    async def serve(self, listener: anyio.abc.Listener[anyio.abc.SocketStream]) -> None:
        async with listener:
            await listener.serve(self._handle)

    async def _handle(self, stream: anyio.abc.SocketStream) -> None:
        conn_id = next(self._ids)
        while len(self._open) >= self._max_connections:
            _, oldest = self._open.popitem(last=False)
            oldest.cancel()
        with anyio.CancelScope() as scope:
            self._open[conn_id] = scope
            try:
                await self._converse(stream, conn_id)
            except (_Close, anyio.EndOfStream, anyio.BrokenResourceError, anyio.ClosedResourceError, OSError):
                pass
            except TimeoutError:
                pass
            finally:
                self._open.pop(conn_id, None)
        with anyio.CancelScope(shield=True), anyio.move_on_after(1):
            await stream.aclose()

    async def _receive_into(self, stream: anyio.abc.SocketStream, conn: h11.Connection) -> None:
        try:
            data = await stream.receive(65536)
        except anyio.EndOfStream:
            data = b""
        conn.receive_data(data)

    async def _next_event(self, stream: anyio.abc.SocketStream, conn: h11.Connection) -> h11.Event:
        while True:
            event = conn.next_event()
            if event is not h11.NEED_DATA:
                return event  # type: ignore[return-value]
            await self._receive_into(stream, conn)

    async def _converse(self, stream: anyio.abc.SocketStream, conn_id: int) -> None:
        conn = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_HEAD)
        while True:
            try:
                with anyio.fail_after(self._idle_timeout):
                    event = await self._next_event(stream, conn)
                    if isinstance(event, h11.ConnectionClosed):
                        return
                    if not isinstance(event, h11.Request):
                        raise _Close
                    if _head_size(event) > MAX_HEAD:  # h11 limits only *incomplete* heads
                        await self._send_error(stream, conn, 431, "request head too large")
                        return
                    response = await self._read_body_and_route(stream, conn, event)
                    if _ambiguous_framing(event):
                        response = Response(
                            response.status,
                            response.body,
                            response.content_type,
                            (*response.headers, ("Connection", "close")),
                        )
            except h11.RemoteProtocolError as exc:
                await self._send_error(stream, conn, exc.error_status_hint, str(exc))
                return
            with anyio.fail_after(self._idle_timeout):
                await self._send(stream, conn, response, head_only=event.method == b"HEAD")
            if conn.our_state is h11.MUST_CLOSE or conn.their_state is not h11.DONE:
                return
            conn.start_next_cycle()
            self._open.move_to_end(conn_id)  # a live keep-alive client is the newest, not the oldest

    async def _read_body_and_route(
        self, stream: anyio.abc.SocketStream, conn: h11.Connection, request: h11.Request
    ) -> Response:
        size = 0
        while True:
            event = await self._next_event(stream, conn)
            if isinstance(event, h11.EndOfMessage):
                break
            if isinstance(event, h11.Data):
                size += len(event.data)
                if size > MAX_BODY:
                    return Response(413, b"request body too large\n")
            elif isinstance(event, h11.ConnectionClosed):
                raise _Close
        accept = ""
        for name, value in request.headers:
            if name == b"accept":
                accept = value.decode("latin-1")
        try:
            return respond(
                request.method.decode("ascii", "replace"),
                request.target.decode("ascii", "replace"),
                accept,
                self._snapshot,
                self.metrics,
            )
        except Exception:  # a bug must cost one request, never the server
            self._errors.exception("health request %.200s failed", request.target.decode("ascii", "replace"))
            return Response(500, b"internal error\n")

    async def _send(
        self, stream: anyio.abc.SocketStream, conn: h11.Connection, response: Response, *, head_only: bool
    ) -> None:
        headers = [
            ("Content-Type", response.content_type),
            ("Content-Length", str(len(response.body))),
            ("Cache-Control", "no-store"),
            ("Server", SERVER_HEADER),
            *response.headers,
        ]
        if response.status == 413:
            headers.append(("Connection", "close"))
        data = conn.send(h11.Response(status_code=response.status, headers=headers, reason=_reason(response.status)))
        if not head_only and response.body:
            data += conn.send(h11.Data(data=response.body))
        data += conn.send(h11.EndOfMessage())
        await stream.send(data)

    async def _send_error(self, stream: anyio.abc.SocketStream, conn: h11.Connection, status: int, why: str) -> None:
        if conn.our_state not in (h11.IDLE, h11.SEND_RESPONSE):
            return
        body = f"bad request: {why}\n".encode()
        try:
            data = conn.send(
                h11.Response(
                    status_code=status,
                    reason=_reason(status),
                    headers=[
                        ("Content-Type", "text/plain; charset=utf-8"),
                        ("Content-Length", str(len(body))),
                        ("Connection", "close"),
                        ("Server", SERVER_HEADER),
                    ],
                )
            )
            data += conn.send(h11.Data(data=body)) + conn.send(h11.EndOfMessage())
        except h11.LocalProtocolError:
            return
        with anyio.move_on_after(self._idle_timeout):
            await stream.send(data)
