"""The health server against hostile and broken clients, through real sockets, and where it
listens: the IPv6 "any" address takes IPv4 too, ``[::1]`` means ``::1`` to ``run``, ``probe`` and
``config`` alike."""

import socket
import time

import pytest

from tests.helpers import cli, get, wait_until
from tests.integration.supervised import Launcher

pytestmark = pytest.mark.integration


@pytest.fixture
def server(supervise: Launcher) -> object:
    s = supervise.run(
        "sleep", "60", env={"SUPERVISOR_HEALTH_IDLE_TIMEOUT": "1s", "SUPERVISOR_HEALTH_MAX_CONNECTIONS": "64"}
    )
    s.wait_ready()
    return s


def raw(port: int, data: bytes, timeout: float = 3.0) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        chunks = []
        while True:
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                break
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)


def test_status_codes_for_bad_requests(server: object) -> None:
    port = server.port  # type: ignore[attr-defined]
    assert get(port, "/nope").status == 404
    assert get(port, "/readyz", method="POST").status == 405
    assert get(port, "/healthz", method="DELETE").headers["allow"] == "GET, HEAD"
    assert raw(port, b"NOT HTTP AT ALL\r\n\r\n").startswith(b"HTTP/1.1 400 ")
    assert raw(port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n").startswith(
        b"HTTP/1.1 431 "
    )
    assert get(port, "/healthz").status == 200  # and the server is still fine


def test_head_has_no_body(server: object) -> None:
    reply = raw(server.port, b"HEAD /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")  # type: ignore[attr-defined]
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 ") and b"Content-Length: 2" in head and body == b""


def test_keep_alive_serves_several_requests_on_one_connection(server: object) -> None:
    req = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
    reply = raw(server.port, req * 3, timeout=2.5)  # type: ignore[attr-defined]
    assert reply.count(b"HTTP/1.1 200 ") == 3


def test_idle_connection_is_closed_after_the_idle_timeout(server: object) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:  # type: ignore[attr-defined]
        sock.sendall(b"GET /heal")  # a slow client that never finishes its request
        started = time.monotonic()
        assert sock.recv(1024) == b""  # closed by the server
        assert time.monotonic() - started < 4


def test_hundreds_of_stalled_connections_do_not_block_a_probe(server: object) -> None:
    port = server.port  # type: ignore[attr-defined]
    stalled = []
    try:
        for _ in range(300):
            sock = socket.create_connection(("127.0.0.1", port), timeout=5)
            sock.sendall(b"GET /readyz HTTP/1.1\r\n")  # never completes the head
            stalled.append(sock)
        for _ in range(20):
            assert get(port, "/healthz", timeout=2).status == 200
            assert get(port, "/readyz", timeout=2).status == 200
    finally:
        for sock in stalled:
            sock.close()


def test_garbage_bytes_do_not_disturb_other_clients(server: object) -> None:
    port = server.port  # type: ignore[attr-defined]
    for junk in (
        b"\x00\xff" * 100,
        b"GET / HTTP/9.9\r\n\r\n",
        b"\r\n\r\n\r\n",
        b"GET /readyz HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
    ):
        raw(port, junk, timeout=1.5)
        assert get(port, "/healthz").status == 200


def test_request_bodies_are_read_to_their_end_or_refused_when_too_large(server: object) -> None:
    port = server.port  # type: ignore[attr-defined]
    small = b"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
    reply = raw(port, small + b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert reply.count(b"HTTP/1.1 200 ") == 2  # the body was consumed, the next request answered
    with socket.create_connection(("127.0.0.1", port), timeout=3) as sock:  # the body arrives later
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nConnection: close\r\n\r\n")
        time.sleep(0.2)  # pacing: the body must come in a later segment than the head
        sock.sendall(b"hello")
        assert sock.recv(65536).startswith(b"HTTP/1.1 200 ")
    # just over the 64 KB limit: all of it is read before the answer, so the close sends no RST
    big = b"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 66000\r\n\r\n" + b"a" * 66000
    reply = raw(port, big)
    assert reply.startswith(b"HTTP/1.1 413 ") and b"connection: close" in reply.lower()
    assert get(port, "/healthz").status == 200


# -- the IPv6 "any" address takes IPv4 too; [::1] is ::1 -------------------------------------


def _has_ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
    except OSError:
        return False
    return True


needs_ipv6 = pytest.mark.skipif(not _has_ipv6_loopback(), reason="no IPv6 loopback here")


def _v6_get(port: int, path: str) -> int:
    return get(port, path, host="::1").status


@needs_ipv6
@pytest.mark.parametrize("any_v6", ["::", "[::]"])
def test_health_host_any_v6_answers_over_ipv4_and_ipv6(supervise: Launcher, any_v6: str) -> None:
    s = supervise.run("sleep", "60", env={"SUPERVISOR_HEALTH_HOST": any_v6})
    s.wait_ready()  # over 127.0.0.1: refused when the socket is IPv6-only
    assert get(s.port, "/readyz").status == 200
    assert _v6_get(s.port, "/readyz") == 200
    for host in ("::", "[::]", "127.0.0.1", "::1", "[::1]"):  # probe reads them as the server does
        r = cli("probe", "ready", "--host", host, "--port", str(s.port))
        assert r.returncode == 0, (host, r.stdout)


@needs_ipv6
def test_the_logged_health_url_brackets_ipv6(supervise: Launcher) -> None:
    s = supervise.run("sleep", "60", env={"SUPERVISOR_HEALTH_HOST": "::"})
    s.wait_listening()
    wait_until(lambda: "health endpoints on" in s.output(), 10, "the announce line")
    assert f"http://[::1]:{s.port}/healthz" in s.output()


@needs_ipv6
def test_bracketed_ipv6_host_means_the_same_to_run_probe_and_config(supervise: Launcher) -> None:
    config = cli("config", "--json", env={"SUPERVISOR_HEALTH_HOST": "[::1]"})
    assert config.returncode == 0, config.stderr
    s = supervise.run("sleep", "60", env={"SUPERVISOR_HEALTH_HOST": "[::1]"})
    wait_until(lambda: _v6_get(s.port, "/healthz") == 200 or s.proc.poll() is not None, 10, "::1 to answer")
    assert s.proc.poll() is None, s.output()  # it used to exit 71: "[::1]" is no name to resolve
    assert _v6_get(s.port, "/healthz") == 200
    env = {"SUPERVISOR_HEALTH_HOST": "[::1]", "SUPERVISOR_HEALTH_PORT": str(s.port)}
    assert cli("probe", env=env).returncode == 0
    assert cli("probe", "--host", "[::1]", "--port", str(s.port)).returncode == 0
    with pytest.raises(OSError):  # it listens on ::1 only, as asked
        get(s.port, "/healthz", timeout=1)


@pytest.mark.parametrize("host", ["0.0.0.0", "localhost"])
def test_ipv4_any_and_a_name_still_listen(supervise: Launcher, host: str) -> None:
    s = supervise.run("sleep", "60", env={"SUPERVISOR_HEALTH_HOST": host})
    s.wait_ready()
    assert cli("probe", "ready", "--host", host, "--port", str(s.port)).returncode == 0
