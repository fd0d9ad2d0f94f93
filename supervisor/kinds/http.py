"""HTTP(S): ``GET`` the URL; any 2xx or 3xx status passes (as a kubelet httpGet probe does), any
status at all for the app probe derived from gunicorn's ``--bind`` (``ANY_RESPONSE``).

Spoken through h11 over an anyio stream, the same parser the health server uses, instead of a
hand-rolled one; redirects are not followed, a 3xx already proves the server answers. TLS is
not "standard compatible" in anyio's sense: a server that sends a complete response and closes
without a close_notify alert has answered, and many do. The TLS context is built once, when this
module is imported (in a worker thread, see ``lazyimport``): loading the CA bundle costs about
15 ms of CPU, which on the event loop would stall /healthz.
"""

import base64
import ssl

import anyio
import anyio.abc
import h11

from supervisor import __version__
from supervisor.config.gatespec import GateSpec
from supervisor.core.reasons import ReasonClass
from supervisor.core.redaction import redact_text
from supervisor.kinds.base import GateFailure, connect_failure, one_line
from supervisor.kinds.http_url import ANY_RESPONSE

_MAX_HEAD = 64 * 1024


_TLS = ssl.create_default_context()


def _tls() -> ssl.SSLContext:
    return _TLS


def _request(spec: GateSpec) -> h11.Request:
    headers = [
        ("Host", spec.options["host_header"]),
        ("User-Agent", f"container-supervisor/{__version__}"),
        ("Accept", "*/*"),
        ("Connection", "close"),
    ]
    if "basic_auth" in spec.options:  # the URL's user:password, decoded by the reader
        token = spec.options["basic_auth"].encode()
        headers.append(("Authorization", "Basic " + base64.b64encode(token).decode()))
    return h11.Request(method="GET", target=spec.path or "/", headers=headers)


async def _exchange(stream: anyio.abc.ByteStream, request: h11.Request) -> int:
    conn = h11.Connection(h11.CLIENT, max_incomplete_event_size=_MAX_HEAD)
    await stream.send(conn.send(request))
    await stream.send(conn.send(h11.EndOfMessage()))
    received = False
    while True:
        event = conn.next_event()
        if event is h11.NEED_DATA:
            try:
                data = await stream.receive(65536)
            except (anyio.EndOfStream, anyio.BrokenResourceError):
                # closed or reset before a whole response head came (h11 would call either a
                # protocol error): after bytes that were no response, something else answered
                if received:
                    raise GateFailure(
                        "the server closed the connection before a complete HTTP response head",
                        ReasonClass.PROTOCOL,
                    ) from None
                raise GateFailure(
                    "the server closed the connection without a response", ReasonClass.CONNECTION_LOST
                ) from None
            received = True
            conn.receive_data(data)
            continue
        if isinstance(event, h11.Response):
            return event.status_code


async def check(spec: GateSpec) -> str | None:
    tls = spec.scheme == "https"
    try:
        stream: anyio.abc.ByteStream
        if tls:
            stream = await anyio.connect_tcp(
                spec.host,
                spec.port,
                tls=True,
                ssl_context=_tls(),
                tls_hostname=spec.host,
                tls_standard_compatible=False,
            )
        else:
            stream = await anyio.connect_tcp(spec.host, spec.port)
    except (OSError, ssl.SSLError) as exc:
        raise connect_failure(f"cannot connect to {redact_text(spec.host)}:{spec.port}", exc) from None
    try:
        status = await _exchange(stream, _request(spec))
    except h11.ProtocolError as exc:
        raise GateFailure(f"invalid HTTP response: {one_line(exc)}", ReasonClass.PROTOCOL) from None
    except (OSError, ssl.SSLError) as exc:
        raise connect_failure("connection failed", exc) from None
    except anyio.BrokenResourceError as exc:  # anyio's wrapping of a failed TLS record or a reset
        raise connect_failure("connection failed", exc, ReasonClass.CONNECTION_LOST) from None
    finally:
        await anyio.aclose_forcefully(stream)  # the answer is in: how the server closes is its business
    if not 200 <= status < 400 and ANY_RESPONSE not in spec.options:
        raise GateFailure(f"HTTP {status}", ReasonClass.HTTP_STATUS)
    return f"HTTP {status}"
