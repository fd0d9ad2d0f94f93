"""HTTP/1.1 for the health endpoints: h11 over anyio, one task per connection.

Robust against whatever arrives: every request head must arrive within the idle timeout, the
number of open connections is bounded, and when the bound is reached the *oldest* connection is
dropped to make room, so hundreds of stalled connections can never keep a fresh probe from being
answered. Malformed requests get 400, oversized heads 431, and never disturb other connections.

Fast because probes arrive often and the state changes rarely: a response is routed and
rendered once per state version and request shape, and its h11 event is built (and its headers
validated) once; the idle timeout is enforced by one watchdog task over all connections instead
of a cancel scope per request.
"""

import errno
import http
import ipaddress
import itertools
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import anyio
import anyio.abc
import h11
from anyio.streams.stapled import MultiListener

from supervisor import logs
from supervisor.core.readiness import Snapshot
from supervisor.health.routes import MetricsRenderer, Response, respond

log = logs.get("health")

MAX_HEAD = 8 * 1024
MAX_BODY = 64 * 1024


def _read_head(request: h11.Request) -> tuple[int, bytes, bool]:
    """One pass over the headers: the head's size, the Accept value, and whether the framing is
    ambiguous (both Content-Length and Transfer-Encoding: RFC 9112 section 6.1 says answer, then
    close, since a front proxy may have framed the body differently and the next request could
    be smuggled)."""
    size = len(request.target)
    accept = b""
    length = chunked = False
    for name, value in request.headers:
        size += len(name) + len(value) + 4
        if name == b"accept":
            accept = value
        elif name == b"content-length":
            length = True
        elif name == b"transfer-encoding":
            chunked = True
    return size, accept, length and chunked


_REASONS = {status.value: status.phrase.encode() for status in http.HTTPStatus}


def from_loopback(stream: anyio.abc.SocketStream) -> bool:
    """True when the peer is on this host's loopback (``probe``, ``status`` after ``docker
    exec``); an IPv4 peer of a dual-stack socket counts by its IPv4 address."""
    try:
        peer = stream.extra(anyio.abc.SocketAttribute.remote_address)
        address = ipaddress.ip_address(peer[0] if isinstance(peer, tuple) else peer)
    except (anyio.TypedAttributeLookupError, ValueError):
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


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


class _Conn:
    """One open connection: the scope that ends it, and when it must have made progress by."""

    __slots__ = ("deadline", "scope")

    def __init__(self, scope: anyio.CancelScope, deadline: float) -> None:
        self.scope = scope
        self.deadline = deadline


@dataclass(frozen=True)
class _Prepared:
    """A response ready to send: its h11 head (headers validated once) and its body."""

    head: h11.Response
    body: h11.Data | None


_END = h11.EndOfMessage()  # events are immutable: one will do for every response
CACHE_SIZE = 256  # distinct request shapes kept per state version
ACCEPT_RETRY = (0.005, 0.1)  # seconds: first and longest pause after a failed accept()
ACCEPT_QUIET = 1.0  # seconds without a failed accept() that end a burst of them


async def open_listener(host: str, port: int) -> anyio.abc.Listener[anyio.abc.SocketStream]:
    """The health listener on ``host`` (``[::1]`` is ``::1``, as in a URL).

    The IPv6 "any" address listens for IPv4 too, as gunicorn's ``[::]`` does: anyio's
    ``create_tcp_listener`` sets ``IPV6_V6ONLY`` on it, which would refuse an IPv4 kubelet probe,
    so that socket is made here, dual-stack, and handed to anyio.
    """
    import socket

    from supervisor.core import addresses

    backlog = 1024
    local = addresses.bare(host)
    if addresses.wildcard_family(local) != 6:
        return await anyio.create_tcp_listener(local_host=local, local_port=port, backlog=backlog)
    sock = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    try:
        sock.setblocking(False)
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((local, port))
        sock.listen(backlog)
        return await anyio.abc.SocketListener.from_socket(sock)
    except BaseException:
        sock.close()
        raise


class HealthServer:
    def __init__(
        self,
        snapshot: Callable[[], Snapshot],
        *,
        version: Callable[[], int] | None = None,
        idle_timeout: float = 5.0,
        max_connections: int = 256,
        reasons_for_loopback_only: bool = False,
    ) -> None:
        self._snapshot = snapshot
        self._loopback_only = reasons_for_loopback_only
        self._version = version  # None: nothing is cached (every request is routed afresh)
        self._idle_timeout = idle_timeout
        self._max_connections = max_connections
        self._open: OrderedDict[int, _Conn] = OrderedDict()
        self._ids = itertools.count()
        self.metrics: MetricsRenderer | None = None  # set once prometheus-client is loaded
        self._errors = _RateLimitedLog()
        self.accept_errors = 0  # failed accept() calls, in all
        self._burst_started: float | None = None  # the current burst of failed accept() calls
        self._burst_last = 0.0
        self._burst_count = 0
        self._cache: dict[tuple[bytes, bytes, bytes, bool], _Prepared] = {}
        self._cache_key: tuple[int, bool] | None = None  # (state version, metrics loaded)

    async def serve(self, listener: anyio.abc.Listener[anyio.abc.SocketStream]) -> None:
        listeners = listener.listeners if isinstance(listener, MultiListener) else [listener]
        async with listener, anyio.create_task_group() as tg:
            tg.start_soon(self._watchdog, name="health idle watchdog")
            for one in listeners:
                assert isinstance(one, anyio.abc.SocketListener)
                tg.start_soon(self._accept_forever, one, tg, name="health accept")

    async def _accept_forever(self, listener: anyio.abc.SocketListener, tg: anyio.abc.TaskGroup) -> None:
        """Accept for as long as the supervisor lives; no error of ``accept()`` ends the server.

        Out of descriptors (EMFILE, ENFILE), of buffers (ENOBUFS, ENOMEM), a connection aborted
        before it was taken (ECONNABORTED): the connection waits in the backlog, the connections
        already open go on being served, and accepting is tried again after a short, growing
        pause (``ACCEPT_RETRY``), so probes are answered again as soon as a descriptor is free.
        One line when a burst of failures starts, one when ``ACCEPT_QUIET`` seconds passed without
        a failure, with the count: never a line per try, also when descriptors come back one at
        a time and each accept that succeeds is followed by one that fails.
        """
        pause = ACCEPT_RETRY[0]
        while True:
            try:
                stream = await listener.accept()
            except OSError as exc:
                self._accept_failed(exc, tg)
                await anyio.sleep(pause)
                pause = min(pause * 2, ACCEPT_RETRY[1])
                continue
            pause = ACCEPT_RETRY[0]
            tg.start_soon(self._handle, stream)

    def _accept_failed(self, exc: OSError, tg: anyio.abc.TaskGroup) -> None:
        self.accept_errors += 1
        self._burst_last = anyio.current_time()
        self._burst_count += 1
        if self._burst_started is not None:
            return
        self._burst_started = self._burst_last
        log.warning(
            "cannot accept health connections: %s; serving the %d open ones, retrying",
            exc.strerror or exc,
            len(self._open),
            extra={"errno": errno.errorcode.get(exc.errno or 0, str(exc.errno))},
        )
        tg.start_soon(self._end_of_burst, name="health accept burst")

    async def _end_of_burst(self) -> None:
        while True:
            quiet_since = self._burst_last
            await anyio.sleep(max(0.0, quiet_since + ACCEPT_QUIET - anyio.current_time()))
            if self._burst_last == quiet_since:
                break
        assert self._burst_started is not None
        log.warning(
            "accepting health connections again, after %d failed accept(s) over %.1fs",
            self._burst_count,
            self._burst_last - self._burst_started,
        )
        self._burst_started, self._burst_count = None, 0

    async def _watchdog(self) -> None:
        """Close every connection that made no progress by its deadline."""
        tick = min(0.5, max(0.01, self._idle_timeout / 10))
        while True:
            await anyio.sleep(tick)
            now = anyio.current_time()
            for conn in [c for c in self._open.values() if c.deadline < now]:
                conn.scope.cancel()

    async def _handle(self, stream: anyio.abc.SocketStream) -> None:
        conn_id = next(self._ids)
        while len(self._open) >= self._max_connections:
            _, oldest = self._open.popitem(last=False)
            oldest.scope.cancel()
        with anyio.CancelScope() as scope:
            conn = self._open[conn_id] = _Conn(scope, anyio.current_time() + self._idle_timeout)
            try:
                await self._converse(stream, conn_id, conn)
            except (_Close, anyio.EndOfStream, anyio.BrokenResourceError, anyio.ClosedResourceError, OSError):
                pass
            except Exception:  # a bug must cost one connection, never the server
                self._errors.exception("health connection failed")
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

    async def _converse(self, stream: anyio.abc.SocketStream, conn_id: int, progress: _Conn) -> None:
        conn = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_HEAD)
        withhold = self._loopback_only and not from_loopback(stream)
        idle = self._idle_timeout
        clock = anyio.current_time
        while True:
            progress.deadline = clock() + idle  # the next request, read and answered within idle
            try:
                event = conn.next_event()  # no coroutine when the request is already buffered
                if event is h11.NEED_DATA:
                    event = await self._next_event(stream, conn)
                if isinstance(event, h11.ConnectionClosed):
                    return
                if not isinstance(event, h11.Request):
                    raise _Close
                size, accept, ambiguous = _read_head(event)
                if size > MAX_HEAD:  # h11 limits only *incomplete* heads
                    await self._send_error(stream, conn, 431, "request head too large")
                    return
                end = conn.next_event()  # a probe has no body: its end is already buffered
                if end is h11.NEED_DATA and conn.client_is_waiting_for_100_continue:
                    # no answer here depends on a body: the final status at once, never a wait for
                    # a body the client holds back; then close, since that body may follow anyway
                    prepared = self._answer(event, accept, True, withhold)
                elif isinstance(end, h11.EndOfMessage) or await self._body_fits(stream, conn, end):
                    prepared = self._answer(event, accept, ambiguous, withhold)
                else:
                    prepared = self._prepare(Response(413, b"request body too large\n"), close=True)
            except h11.RemoteProtocolError as exc:
                # h11 hints 501 for a transfer coding it does not know (RFC 9112 says SHOULD); a
                # probe endpoint answers every malformed request with a 4xx: a 5xx reads as an
                # outage of the supervisor on every dashboard that counts them
                status = exc.error_status_hint if exc.error_status_hint < 500 else 400
                await self._send_error(stream, conn, status, str(exc))
                return
            data = conn.send(prepared.head)
            if prepared.body is not None and event.method != b"HEAD":
                data += conn.send(prepared.body)
            data += conn.send(_END)
            await stream.send(data)
            if conn.our_state is h11.MUST_CLOSE or conn.their_state is not h11.DONE:
                return
            conn.start_next_cycle()
            self._open.move_to_end(conn_id)  # a live keep-alive client is the newest, not the oldest

    async def _body_fits(self, stream: anyio.abc.SocketStream, conn: h11.Connection, first: object) -> bool:
        """Read the request to its end (``first``: the event after the head); False when its body
        is over ``MAX_BODY``."""
        size = 0
        event = first
        while True:
            if event is h11.NEED_DATA:
                event = await self._next_event(stream, conn)
            if isinstance(event, h11.EndOfMessage):
                return True
            if isinstance(event, h11.Data):
                size += len(event.data)
                if size > MAX_BODY:
                    return False
            elif isinstance(event, h11.ConnectionClosed):
                raise _Close
            event = conn.next_event()

    def _answer(self, request: h11.Request, accept: bytes, close: bool, withhold: bool) -> _Prepared:
        """The response, from the cache when the state has not changed since it was rendered."""
        if self._version is None or close:
            return self._prepare(self._route(request, accept, withhold), close=close)
        current = (self._version(), self.metrics is not None)
        if current != self._cache_key or len(self._cache) >= CACHE_SIZE:
            self._cache.clear()
            self._cache_key = current
        key = (request.method, request.target, accept, withhold)
        prepared = self._cache.get(key)
        if prepared is None:
            prepared = self._cache[key] = self._prepare(self._route(request, accept, withhold), close=False)
        return prepared

    def _route(self, request: h11.Request, accept: bytes, withhold: bool) -> Response:
        try:
            return respond(
                request.method.decode("ascii", "replace"),
                request.target.decode("ascii", "replace"),
                accept.decode("latin-1"),
                self._snapshot,
                self.metrics,
                withhold=withhold,
            )
        except Exception:  # a bug must cost one request, never the server
            self._errors.exception("health request %.200s failed", request.target.decode("ascii", "replace"))
            return Response(500, b"internal error\n")

    @staticmethod
    def _prepare(response: Response, *, close: bool) -> _Prepared:
        headers = [
            ("Content-Type", response.content_type),
            ("Content-Length", str(len(response.body))),
            ("Cache-Control", "no-store"),
            *response.headers,
        ]
        if close:
            headers.append(("Connection", "close"))
        head = h11.Response(status_code=response.status, headers=headers, reason=_REASONS.get(response.status, b""))
        return _Prepared(head, h11.Data(data=response.body) if response.body else None)

    async def _send_error(self, stream: anyio.abc.SocketStream, conn: h11.Connection, status: int, why: str) -> None:
        if conn.our_state not in (h11.IDLE, h11.SEND_RESPONSE):
            return
        body = f"bad request: {why}\n".encode()
        try:
            data = conn.send(
                h11.Response(
                    status_code=status,
                    reason=_REASONS.get(status, b""),
                    headers=[
                        ("Content-Type", "text/plain; charset=utf-8"),
                        ("Content-Length", str(len(body))),
                        ("Connection", "close"),
                    ],
                )
            )
            data += conn.send(h11.Data(data=body)) + conn.send(h11.EndOfMessage())
        except h11.LocalProtocolError:
            return
        with anyio.move_on_after(self._idle_timeout):
            await stream.send(data)
