"""Issue 15, the HTTP and command-line part, against real processes and sockets: ``wait`` keeps
its targets' secrets and prints one JSON document; the health listener on ``::`` takes IPv4 too
and ``[::1]`` means ``::1`` everywhere; ``status`` refuses whatever is not a supervisor; q-values,
percent-encoded paths, ``Expect: 100-continue`` and ``?format=``; no degraded warning for an app
probe that is pending by design; a hint for a command given without ``--``."""

import http.server
import json
import socket
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest

from tests.helpers import cli, free_port, get, wait_until
from tests.integration.supervised import Launcher, Supervised

pytestmark = pytest.mark.integration

PASSWORD = "hunter2secret"
DB_URL = f"postgresql://app:{PASSWORD}@127.0.0.1:{free_port()}/db"


def _has_ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
    except OSError:
        return False
    return True


needs_ipv6 = pytest.mark.skipif(not _has_ipv6_loopback(), reason="no IPv6 loopback here")


# --- 5: wait keeps its targets' secrets ---------------------------------------------------------


@pytest.mark.parametrize("as_json", [False, True])
def test_wait_never_shows_a_password_held_in_a_target(as_json: bool) -> None:
    json_flag = ["--json"] if as_json else []
    passing = cli("wait", *json_flag, "--timeout", "10s", f"cmd:true {DB_URL}", "--", "true")
    assert passing.returncode == 0, passing.stderr
    failing = cli(
        "wait",
        *json_flag,
        "--timeout",
        "500ms",
        f"cmd:true {DB_URL}",
        f"cmd:sh -c 'echo {DB_URL} >&2; exit 3'",  # its own output names the URL too
        DB_URL,  # and the password is another target's
    )
    assert failing.returncode == 124, failing.stderr
    for r in (passing, failing):
        assert PASSWORD not in r.stdout + r.stderr, r.stdout + r.stderr
        assert "app:***@127.0.0.1" in r.stdout + r.stderr
    if as_json:
        doc = json.loads(failing.stdout)
        assert doc["checks"]["target1"][0]["target"] == f"cmd:true {DB_URL.replace(PASSWORD, '***')}"


def test_wait_never_shows_the_password_of_a_bad_target_either() -> None:
    r = cli("wait", f"cmd:true {DB_URL}", f"redis://:{PASSWORD}@h:0")
    assert r.returncode == 78 and PASSWORD not in r.stdout + r.stderr


# --- 10: wait --json is one document, one entry per target as given ---------------------------


def test_wait_json_is_the_only_thing_on_stdout_with_one_entry_per_target() -> None:
    with socket.create_server(("127.0.0.1", 0)) as listener:
        target = f"tcp://127.0.0.1:{listener.getsockname()[1]}"
        r = cli("wait", "--json", "--timeout", "20s", target, "cmd:true", target)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)  # the whole of stdout is one JSON document
    entries = [entry for entries in doc["checks"].values() for entry in entries]
    assert [e["target"] for e in entries] == [target, "cmd:true", target]
    assert len(doc["checks"]) == 3 and doc["status"] == "pass"
    assert r.stderr.count("ready: ") == 3  # the progress lines went to stderr


def test_wait_json_at_the_deadline_is_one_document_too() -> None:
    r = cli("wait", "--json", "--timeout", "300ms", "cmd:true", f"tcp://127.0.0.1:{free_port()}")
    assert r.returncode == 124
    doc = json.loads(r.stdout)
    assert doc["status"] == "fail" and [e[0]["status"] for e in doc["checks"].values()] == ["pass", "fail"]
    assert "not ready: tcp://" in r.stderr and "ready: cmd:true" in r.stderr


# --- 6: the IPv6 "any" address takes IPv4 too; [::1] is ::1 -------------------------------------


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


# --- status on whatever answers -------------------------------------------------------------------


class _Answers(http.server.BaseHTTPRequestHandler):
    answer: ClassVar[tuple[int, str, bytes]] = (200, "application/json", b"[]")

    def do_GET(self) -> None:
        status, content_type, body = self.answer
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def answering() -> Iterator[http.server.ThreadingHTTPServer]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Answers)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(5)


SHAPES = [
    (200, "application/json", b"[]"),
    (200, "application/json", b"null"),
    (200, "application/json", b'"ok"'),
    (200, "application/json", b"42"),
    (200, "application/json", b'{"checks": []}'),
    (200, "application/json", b'{"status": "pass", "checks": {"db": [1]}}'),
    (200, "application/json", b'{"status": "pass", "checks": {"db": []}}'),
    (200, "application/json", b'{"status": "fail", "checks": {"db": [{"status": 3, "after": "db"}]}}'),
    (200, "application/json", b'{"status": "fail", "checks": {"db": [{"after": [1]}]}}'),
    (503, "application/json", b'{"status": "fail", "checks": {}, "child": [], "timeline": 5}'),
    (200, "application/json", b'{"status": "pass", "checks": {}, "output": {"a": 1}}'),
    (404, "application/json", b'{"detail": "Not Found"}'),
    (200, "text/html", b"<!doctype html><html><body>Hello from the app</body></html>"),
    (200, "application/json", b"[" * 100000),
    (200, "application/json", b""),
]


@pytest.mark.parametrize("shape", SHAPES, ids=[s[2][:30].decode() or "empty" for s in SHAPES])
@pytest.mark.parametrize("as_json", [False, True])
def test_status_says_in_one_line_that_no_supervisor_answers(
    answering: http.server.ThreadingHTTPServer, shape: tuple[int, str, bytes], as_json: bool
) -> None:
    _Answers.answer = shape
    r = cli("status", "--port", str(answering.server_address[1]), *(["--json"] if as_json else []))
    assert r.returncode == 2, r.stdout + r.stderr
    assert r.stdout == "" and r.stderr.count("\n") == 1 and "Traceback" not in r.stderr, r.stderr
    assert r.stderr.startswith("no supervisor answers at 127.0.0.1:")


def test_status_still_reads_a_well_formed_report(answering: http.server.ThreadingHTTPServer) -> None:
    report = {
        "status": "fail",
        "phase": "degraded",
        "checks": {"db": [{"status": "fail", "attempts": 3, "output": "refused: no", "after": []}]},
        "child": {"state": "not-started", "pid": None},
    }
    _Answers.answer = (503, "application/health+json", json.dumps(report).encode())
    r = cli("status", "--port", str(answering.server_address[1]))
    assert r.returncode == 1 and "refused: no" in r.stdout and "phase: degraded" in r.stdout


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


# --- no degraded warning for an app probe pending by design ---------------------------------------


def test_no_degraded_warning_for_the_app_probe_before_the_app_runs(supervise: Launcher, tmp_path: Path) -> None:
    flag, app_port = tmp_path / "go", free_port()
    s = supervise.run(
        sys.executable,
        "-m",
        "http.server",
        "--bind",
        "127.0.0.1",
        str(app_port),
        env={
            "SUPERVISOR_GATE_FLAG": f"cmd:test -e {flag}",
            "SUPERVISOR_STARTUP_TIMEOUT": "300ms",
            "SUPERVISOR_APP_PROBE": f"tcp://127.0.0.1:{app_port}",
        },
    )
    s.wait_listening()
    wait_until(lambda: "degraded: not ready because flag" in s.output(), 10, "degraded on the gate")
    flag.touch()
    s.wait_ready(30)
    out = s.output()
    assert "degraded: every critical check passes now; starting the app" in out, out
    assert "app-probe: pending" not in out and "because app-probe" not in out, out


# --- a command without -- ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "hint"),
    [
        (["run", "sleep", "1"], "supervisor run [options] -- sleep 1"),
        (
            ["run", "--log-level", "debug", "gunicorn", "-b", ":8000", "app"],
            "supervisor run [options] -- gunicorn -b :8000 app",
        ),
        (
            ["wait", "tcp://127.0.0.1:1", "--timeout", "5s", "sleep", "1"],
            "supervisor wait [options] TARGET... -- sleep 1",
        ),
    ],
)
def test_a_command_without_dashes_gets_a_one_line_hint(args: list[str], hint: str) -> None:
    r = cli(*args, timeout=20)
    assert r.returncode == 2
    assert r.stderr == f"supervisor: put the command after --: {hint}\n"


def test_wait_with_a_command_in_the_targets_names_it_once() -> None:
    r = cli("wait", "--timeout", "1s", "tcp://127.0.0.1:1", "sleep", "1")
    assert r.returncode == 78 and "Traceback" not in r.stderr
    assert r.stderr.count("put the command after --: supervisor wait [options] TARGET... -- sleep 1") == 1


def test_unknown_options_still_read_as_unknown() -> None:
    r = cli("run", "--bogus")
    assert r.returncode == 2 and "unrecognized arguments: --bogus" in r.stderr
