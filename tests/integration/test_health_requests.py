"""How the health server reads a request, against a real supervisor through real sockets:
``Accept`` with q-values (``/readyz`` and ``/metrics``), percent-encoded paths, ``Expect:
100-continue`` answered at once with the final status, a body that is sent still read, and
``?format=`` values."""

import json
import socket
import time

import pytest

from tests.helpers import wait_until
from tests.integration.supervised import Launcher, Supervised

pytestmark = pytest.mark.integration


# --- q-values, percent-encoding, Expect: 100-continue, ?format= ------------------------------------


@pytest.fixture
def server(supervise: Launcher) -> Supervised:
    s = supervise.run("sleep", "60", env={"SUPERVISOR_GATE_DB": "cmd:true"})
    s.wait_ready()
    wait_until(lambda: s.get("/metrics").status == 200, 20, "/metrics to load")
    return s


@pytest.mark.parametrize(
    ("accept", "json_expected"),
    [
        ("application/json;q=0, text/plain", False),
        ("application/health+json;q=0, application/json;q=0, */*", False),
        ("text/plain;q=0.5, application/json", True),
        ("application/json;q=0.2, text/plain;q=0.9", False),
        ("*/*;q=0.1, application/health+json", True),
        ("application/json, text/plain", False),  # a tie: the server prefers text
        ("application/json", True),
        ("text/*;q=0.3, */*;q=0.5", True),
    ],
)
def test_accept_q_values_choose_the_answer(server: Supervised, accept: str, json_expected: bool) -> None:
    r = server.get("/readyz?verbose", headers={"Accept": accept})
    assert r.status == 200
    assert r.headers["content-type"].startswith("application/health+json" if json_expected else "text/plain"), accept
    one = server.get("/readyz/db", headers={"Accept": accept})
    assert one.headers["content-type"].startswith("application/health+json" if json_expected else "text/plain")


def test_metrics_honour_q_values_too(server: Supervised) -> None:
    refused = server.get("/metrics", headers={"Accept": "application/openmetrics-text;q=0, text/plain"})
    assert refused.headers["content-type"].startswith("text/plain")
    wanted = server.get("/metrics", headers={"Accept": "text/plain;q=0.5, application/openmetrics-text;version=1.0.0"})
    assert wanted.headers["content-type"].startswith("application/openmetrics-text")


def test_a_percent_encoded_path_means_the_decoded_one(server: Supervised) -> None:
    assert server.get("/readyz/%64b").text == "ok"
    assert server.get("/readyz/%64%62?verbose").text == "[+]db ok\n"
    assert server.get("/%72eadyz").status == 200 and server.get("/health%7A").text == "ok"
    assert server.get("/readyz%2Fdb").status == 404  # an encoded slash stays inside its segment
    assert server.get("/readyz/%ff").status == 404


def _exchange(port: int, head: bytes, host: str = "127.0.0.1") -> tuple[bytes, float, bool]:
    """Send a request head alone; (what came back, how soon the first byte came, whether the
    server closed the connection after it)."""
    with socket.create_connection((host, port), timeout=3) as sock:
        sock.sendall(head)
        started = time.monotonic()
        first = sock.recv(65536)
        took = time.monotonic() - started
        data, closed = first, False
        while not closed:
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                break
            closed = not chunk
            data += chunk
        return data, took, closed


@pytest.mark.parametrize(
    ("request_line", "status"),
    [(b"POST /healthz", b"405"), (b"PUT /readyz", b"405"), (b"GET /readyz", b"200"), (b"POST /nope", b"404")],
)
def test_expect_100_continue_gets_its_final_status_at_once(
    server: Supervised, request_line: bytes, status: bytes
) -> None:
    head = request_line + b" HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\nExpect: 100-continue\r\n\r\n"
    data, took, closed = _exchange(server.port, head)
    assert data.startswith(b"HTTP/1.1 " + status + b" "), data[:200]
    assert took < 0.9  # not after the idle timeout (5 s): the body is never waited for
    assert closed and b"connection: close" in data.lower()
    assert server.get("/healthz").status == 200


def test_a_body_that_is_sent_is_still_read_and_the_connection_kept(server: Supervised) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=3) as sock:
        sock.sendall(
            b"POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabcGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
        )
        data = b""
        while data.count(b"HTTP/1.1 ") < 2:
            chunk = sock.recv(65536)
            assert chunk, data
            data += chunk
    assert data.startswith(b"HTTP/1.1 405 ") and b"HTTP/1.1 200 " in data


@pytest.mark.parametrize(
    "path", ["/readyz?format=xml", "/readyz?format=", "/readyz/db?format=yaml", "/readyz?format=json&format=x"]
)
def test_an_unknown_format_is_400_naming_the_accepted_ones(server: Supervised, path: str) -> None:
    r = server.get(path)
    assert r.status == 400 and "json" in r.text and "text" in r.text, r.text


def test_format_text_and_json_are_served(server: Supervised) -> None:
    assert server.get("/readyz?format=text", headers={"Accept": "application/json"}).text == "ok"
    assert json.loads(server.get("/readyz?format=json").text)["status"] == "pass"
