"""Hostile input against the real thing: raw sockets, real FIFOs, real signals, full and closed
streams, and configurations that used to pass validation only to fail at run time."""

import contextlib
import json
import os
import shlex
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import clean_env, free_port, get, status_of, supervisor_argv, wait_until
from tests.integration.supervised import Launcher

pytestmark = pytest.mark.integration


def exchange(port: int, raw: bytes, timeout: float = 5.0) -> bytes:
    """Send ``raw`` and read until the server closes (or the timeout)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(raw)
        chunks = []
        try:
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        except TimeoutError:
            pass
        return b"".join(chunks)


def status_line(reply: bytes) -> str:
    return reply.split(b"\r\n", 1)[0].decode("latin-1")


def run_cli(*args: str, env: dict[str, str] | None = None, **kw: object) -> subprocess.CompletedProcess[str]:
    kw.setdefault("stdout", subprocess.PIPE)
    kw.setdefault("stderr", subprocess.PIPE)
    result: subprocess.CompletedProcess[str] = subprocess.run(
        [*supervisor_argv(), *args],
        env=clean_env(**(env or {})),
        text=True,
        timeout=60,
        **kw,  # type: ignore[call-overload]
    )
    return result


# -- 1. no request reaches a 5xx by its shape -------------------------------------------------

MALFORMED_TARGETS = [
    b"//[",
    b"http://[::1/healthz",
    b"http://[/readyz",
    b"https://[::1]]/readyz",
    b"//[::1]:99999999/x",
    b"*",
    b"healthz",
    b"/readyz?exclude=%ZZ&verbose=%",
    b"/readyz/%00",
    b"/readyz?" + b"&" * 4000,
    b"/readyz?" + b"a=" * 2000,
    b"/" + b"[" * 7000,
    b"http://" + b"[" * 7000,
    b"/metrics?%%%%",
]


def test_malformed_targets_are_client_errors_and_never_logged_as_tracebacks(supervise: Launcher) -> None:
    s = supervise.run("sleep", "60", env={"SUPERVISOR_LOG_LEVEL": "debug"})
    s.wait_listening()
    # /metrics answers 503 until prometheus-client is loaded, later on a busy machine: not this test's point
    wait_until(lambda: s.status("/metrics") == 200, 20, "/metrics to be loaded")
    for target in MALFORMED_TARGETS:
        reply = exchange(s.port, b"GET " + target + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        status = int(status_line(reply).split()[1])
        assert 400 <= status < 500 or status == 200, (target[:40], reply[:200])
        assert s.status("/healthz") == 200
    assert "Traceback" not in s.output() and "request" not in s.output(), s.output()


def test_floods_of_8_kb_malformed_targets_do_not_stall_healthz(supervise: Launcher) -> None:
    s = supervise.run("sleep", "60", env={"SUPERVISOR_GATE_DB": f"postgresql://u:pw{'x' * 40}@127.0.0.1:1/db"})
    s.wait_listening()
    head = b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    requests = [b"GET //[" + b"a" * 8000 + head, b"GET http://[::1/" + b"b:" * 4000 + head]
    stop = threading.Event()
    statuses: list[str] = []

    def flood(request: bytes) -> None:
        while not stop.is_set():
            with contextlib.suppress(OSError):
                statuses.append(status_line(exchange(s.port, request, timeout=2)))

    flooders = [threading.Thread(target=flood, args=(requests[i % 2],)) for i in range(24)]
    for t in flooders:
        t.start()
    try:
        probes = [s.status("/healthz") for _ in range(30)]  # each with a 1 s timeout, as kubelet's default
    finally:
        stop.set()
        for t in flooders:
            t.join(10)
    assert probes == [200] * 30
    assert statuses and not [line for line in statuses if line.split()[1].startswith("5")]


def test_reason_phrases_are_sent(supervise: Launcher) -> None:
    s = supervise.run("sleep", "60", env={"SUPERVISOR_GATE_NEVER": f"tcp://127.0.0.1:{free_port()}"})
    s.wait_listening()
    assert (
        status_line(exchange(s.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"))
        == "HTTP/1.1 200 OK"
    )
    assert status_line(exchange(s.port, b"GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")) == (
        "HTTP/1.1 503 Service Unavailable"
    )
    assert status_line(exchange(s.port, b"GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")) == (
        "HTTP/1.1 404 Not Found"
    )


def test_content_length_with_transfer_encoding_is_answered_then_closed(supervise: Launcher) -> None:
    s = supervise.run("sleep", "60")
    s.wait_listening()
    smuggle = (
        b"POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"0\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
    )
    started = time.monotonic()
    reply = exchange(s.port, smuggle, timeout=4)
    assert time.monotonic() - started < 3, "the connection was kept open"
    assert reply.count(b"HTTP/1.1 ") == 1, reply  # the second request is never answered
    assert b"connection: close" in reply.lower()


# -- 2. secrets with reserved characters --------------------------------------------------------


@pytest.mark.parametrize("password", ["ab/cd+ef==", "pa#ss?word", "p@ss@word", "a/b?c#d@e:f", "postgres"])
def test_reserved_characters_in_passwords_never_reach_any_output(supervise: Launcher, password: str) -> None:
    port = free_port()
    env = {
        "SUPERVISOR_LOG_LEVEL": "debug",
        "SUPERVISOR_GATE_PG": f"postgresql://postgres:{password}@127.0.0.1:{port}/postgres",
        "SUPERVISOR_GATE_CACHE": f"redis://:{password}@127.0.0.1:{port}/0",
        "SUPERVISOR_GATE_WEB": f"http://u:{password}@127.0.0.1:{port}/x",
        "SUPERVISOR_GATE_Q": f"postgresql://u@127.0.0.1:{port}/db?password={password.replace('#', '%23')}",
        "SUPERVISOR_STARTUP_TIMEOUT": "300ms",
    }
    outputs = []
    for args in (["config"], ["config", "--json"], ["check"], ["check", "--json"]):
        r = run_cli(*args, env=env)
        assert "Traceback" not in r.stderr
        outputs.append(r.stdout + r.stderr)
    valid = run_cli("config", env=env).returncode == 0
    s = supervise.run("sleep", "60", env=env)
    if not valid:
        assert s.wait(10) == 78
    else:
        s.wait_listening()
        wait_until(lambda: s.status("/metrics") == 200, 10, "/metrics")  # else its text says nothing
        for path in ("/readyz", "/readyz?verbose", "/readyz?format=json", "/readyz/pg?verbose", "/metrics"):
            outputs.append(s.get(path).text)
    s.stop()
    outputs.append(s.log_path.read_text(errors="replace"))
    everything = "\n".join(outputs)
    if password != "postgres":  # the user name is postgres too
        assert password not in everything
    assert "***ql" not in everything  # "postgresql" is not mangled by a password "postgres"


# -- 3. a gate blocked inside a system call -----------------------------------------------------


def thread_count(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/task"))


def test_a_gate_blocked_in_a_system_call_holds_one_thread_and_never_delays_exit(
    supervise: Launcher, tmp_path: Path
) -> None:
    database = tmp_path / "hung.db"
    sqlite3.connect(database).execute("CREATE TABLE t (x)")
    # SQLite opens the journal to look for a hot one, and open() blocks on a FIFO until a writer
    # comes: a hung network filesystem in miniature
    os.mkfifo(tmp_path / "hung.db-journal")
    env = {
        "SUPERVISOR_GATE_DB": f"sqlite:///{database}",
        "SUPERVISOR_GATE_DB__TIMEOUT": "100ms",
        "SUPERVISOR_BACKOFF_INITIAL": "10ms",
        "SUPERVISOR_BACKOFF_MAX": "20ms",
    }
    s = supervise.run("sleep", "60", env=env)
    s.wait_listening()

    def attempts() -> int:
        doc = json.loads(s.get("/readyz?format=json").body)
        return int(doc["checks"]["db"][0]["attempts"])

    wait_until(lambda: attempts() >= 40, 20, "40 attempts")
    output = json.loads(s.get("/readyz?format=json").body)["checks"]["db"][0]["output"]
    assert output.startswith("timeout: still blocked since"), output
    assert thread_count(s.proc.pid) <= 8, "a thread per attempt"
    s.signal(signal.SIGTERM)
    assert s.wait(5) == 143


# -- 4. config renders secrets structurally -----------------------------------------------------


@pytest.mark.parametrize("password", ["true", "null", "false", "1234", '{"a":', "\\u0000x", "[1]"])
@pytest.mark.parametrize("where", ["userinfo", "query"])
def test_config_json_stays_json_whatever_the_password(password: str, where: str) -> None:
    from urllib.parse import quote

    encoded = quote(password, safe="")
    url = (
        f"postgresql://u:{encoded}@db/app"
        if where == "userinfo"
        else f"postgresql://u@db/app?password={encoded}&sslmode=require"
    )
    env = {"SUPERVISOR_GATE_DB": url, "SUPERVISOR_GATE_CACHE": f"redis://:{encoded}@cache:6379/0"}
    r = run_cli("config", "--json", env=env)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["gates"]["db"]["critical"] is True
    assert doc["gates"]["db"]["url"].count("***") == 1
    text = run_cli("config", env=env)
    assert text.returncode == 0 and "Traceback" not in text.stderr
    assert password not in doc["gates"]["db"]["url"] and encoded not in doc["gates"]["db"]["url"]


# -- 5. PROMETHEUS_MULTIPROC_DIR is the app's ---------------------------------------------------


@pytest.mark.parametrize("exists", [True, False])
def test_prometheus_multiproc_dir_is_left_to_the_app(supervise: Launcher, tmp_path: Path, exists: bool) -> None:
    multiproc = tmp_path / "metrics"
    if exists:
        multiproc.mkdir()
    seen = tmp_path / "seen"
    s = supervise.run(
        "sh",
        "-c",
        f'echo "$PROMETHEUS_MULTIPROC_DIR" > {seen}; exec sleep 60',
        env={"PROMETHEUS_MULTIPROC_DIR": str(multiproc)},
    )
    s.wait_ready()
    wait_until(lambda: s.status("/metrics") == 200, 10, "/metrics")
    assert "supervisor_ready 1.0" in s.get("/metrics").text
    assert s.proc.poll() is None
    assert seen.read_text().strip() == str(multiproc)
    assert not exists or list(multiproc.iterdir()) == []


# -- 6. cmd: gates and daemons --------------------------------------------------------------------


def processes_with(marker: str) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
            except OSError:
                continue
            if marker.encode() in cmdline and b"sh\x00-c" not in cmdline:
                found.append(int(entry))
    return found


# Each command exits only once its daemon has detached (it waits for the daemon's READY file),
# so the daemon is out of the command's process group when the verdict comes.
DAEMONS = {
    "setsid": "setsid sh -c 'touch {r}; exec sleep {m}' & {wait}; echo started; exit 0",
    "double-fork": "( setsid sh -c 'touch {r}; exec sleep {m}' & ) ; {wait}; echo started; exit 0",
    "same-group": "sh -c 'touch {r}; exec sleep {m}' & {wait}; echo started; exit 0",
    "python-daemon": (
        "python3 -c 'import os,time,pathlib\nif os.fork(): os._exit(0)\nos.setsid()\nif os.fork(): os._exit(0)\n"
        'pathlib.Path("{r}").touch()\ntime.sleep({m})\' & {wait}; echo started; exit 0'  # pacing: its lifetime
    ),  # the sleep is the daemon's own lifetime, not a wait in the test
}


@pytest.mark.parametrize("kind", sorted(DAEMONS))
def test_a_cmd_gate_that_leaves_a_daemon_passes_on_its_exit_status_and_leaks_nothing(kind: str, tmp_path: Path) -> None:
    marker, ready = f"{300 + time.monotonic_ns() % 1000}.{os.getpid()}", tmp_path / "ready"
    wait = f"while [ ! -e {ready} ]; do sleep 0.01; done"
    command = DAEMONS[kind].format(m=marker, r=ready, wait=wait)
    env = {"SUPERVISOR_GATE_D": "cmd:sh -c " + shlex.quote(command), "SUPERVISOR_GATE_D__TIMEOUT": "3s"}
    started = time.monotonic()
    r = run_cli("check", env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    assert time.monotonic() - started < 3, "the verdict waited for the daemon"
    assert "pass" in r.stdout
    wait_until(lambda: not processes_with(marker), 5, "no daemon left behind")


# -- 7. closed and full standard streams ----------------------------------------------------------


@pytest.mark.parametrize("fmt", ["auto", "text", "json"])
@pytest.mark.parametrize("closed", ["2>&-", "1>&- 2>&-", "0<&- 1>&- 2>&-", "2>/dev/full"])
def test_run_works_with_closed_standard_streams(tmp_path: Path, fmt: str, closed: str) -> None:
    port, marker = free_port(), tmp_path / "started"
    argv = " ".join(supervisor_argv())
    env = clean_env(SUPERVISOR_HEALTH_HOST="127.0.0.1", SUPERVISOR_HEALTH_PORT=str(port))
    if fmt != "auto":  # auto: json unless stderr is a terminal, which asks the closed stream
        env["SUPERVISOR_LOG_FORMAT"] = fmt
    proc = subprocess.Popen(["sh", "-c", f"exec {argv} run -- sh -c 'touch {marker}; exec sleep 60' {closed}"], env=env)
    try:
        wait_until(marker.exists, 10, "the app to start")
        wait_until(lambda: status_of(port, "/readyz") == 200, 10, "/readyz 200")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 143
    finally:
        proc.kill()
        proc.wait()


def test_full_streams_exit_with_their_documented_codes() -> None:
    with open("/dev/full", "w") as full:
        bad = run_cli("config", env={"SUPERVISOR_HEALTH_PORT": "x"}, stderr=full, stdout=full)
        assert bad.returncode == 78
        out = run_cli("config", stdout=full, stderr=subprocess.PIPE)
        assert out.returncode == 74
        assert "Traceback" not in out.stderr and out.stderr.count("\n") == 1, out.stderr
        assert "cannot write" in out.stderr
        schema = run_cli("config", "--schema", stdout=full, stderr=subprocess.PIPE)
        assert schema.returncode == 74 and "Traceback" not in schema.stderr
        check = run_cli(
            "check",
            env={"SUPERVISOR_GATE_OK": "config:PATH"},
            stdout=full,
            capture_output=False,
            stderr=subprocess.PIPE,
        )
        assert check.returncode == 74 and "Traceback" not in check.stderr


# -- 8. values that used to fail only at run time -------------------------------------------------


BAD_VALUES = {
    "SUPERVISOR_GATE_DB=postgresql://[::1/db": "SUPERVISOR_GATE_DB",
    "SUPERVISOR_GATE_DB=postgresql://h:abc/db": "SUPERVISOR_GATE_DB",
    "SUPERVISOR_GATE_DB=postgresql://h:0/db": "SUPERVISOR_GATE_DB",
    "SUPERVISOR_GATE_DB=postgresql://h/db?nosuch=1": "SUPERVISOR_GATE_DB",
    "SUPERVISOR_GATE_C=redis://h:0/0": "SUPERVISOR_GATE_C",
    "SUPERVISOR_GATE_C=redis://h/0?db=abc": "SUPERVISOR_GATE_C",
    "SUPERVISOR_GATE_C=redis://h/0?socket_timeout=soon": "SUPERVISOR_GATE_C",
    "SUPERVISOR_GATE_C=redis://h/0?bogus=1": "SUPERVISOR_GATE_C",
    "SUPERVISOR_GATE_T=tcp://h:0": "SUPERVISOR_GATE_T",
    "SUPERVISOR_GATE_W=http://h/a b": "SUPERVISOR_GATE_W",
    "SUPERVISOR_GATE_W=http://h/é": "SUPERVISOR_GATE_W",
    "SUPERVISOR_GATE_K=config:SECRET-KEY": "SUPERVISOR_GATE_K",
    "SUPERVISOR_GATE_K=config:1ABC": "SUPERVISOR_GATE_K",
    "SUPERVISOR_HEALTH_HOST=": "SUPERVISOR_HEALTH_HOST",
    "SUPERVISOR_PRESTART_X__TIMEOUT=5s": "SUPERVISOR_PRESTART_X__TIMEOUT",
    "SUPERVISOR_GATE_X=cmd:no-such-program-here --flag": "SUPERVISOR_GATE_X",
}


@pytest.mark.parametrize("assignment", sorted(BAD_VALUES))
def test_bad_values_are_exit_78_with_one_line_naming_the_setting(assignment: str) -> None:
    name, _, value = assignment.partition("=")
    r = run_cli("run", "--", "sleep", "60", env={name: value, "SUPERVISOR_HEALTH_PORT": str(free_port())})
    assert r.returncode == 78, r.stderr
    problems = [line for line in r.stderr.splitlines() if "configuration invalid" not in line]
    assert len(problems) == 1 and BAD_VALUES[assignment] in problems[0], r.stderr
    assert "Traceback" not in r.stderr


def test_two_gate_names_that_differ_only_by_case_are_an_error() -> None:
    env = {"SUPERVISOR_GATE_DB": "tcp://a:1", "SUPERVISOR_GATE_db": "tcp://b:1"}
    r = run_cli("config", env=env)
    assert r.returncode == 78
    assert "SUPERVISOR_GATE_DB" in r.stderr and "SUPERVISOR_GATE_db" in r.stderr


TOML_CASES = {
    "health_port = true": "'health_port'",
    "restart_limit = false": "'restart_limit'",
    "[gates.db]\nurl = 'tcp://h:1'\nfailure_threshold = true": "failure_threshold",
    "command = 5": "'command'",
    "[prestart]\nmigrate = 5": "[prestart] migrate",
    "[prestart]\nmigrate = ['ok', 3]": "[prestart] migrate",
    'health_host = "a\\u0000b"': "health_host",
    "[gates.db]\nurl = 'tcp://h:1'\n[gates.DB]\nurl = 'tcp://h:2'": "[gates.DB]",
}


@pytest.mark.parametrize("body", sorted(TOML_CASES))
def test_bad_toml_values_are_exit_78_with_one_line_naming_the_key(tmp_path: Path, body: str) -> None:
    path = tmp_path / "s.toml"
    path.write_text(body + "\n")
    r = run_cli("config", "--config", str(path))
    assert r.returncode == 78, r.stdout + r.stderr
    problems = [line for line in r.stderr.splitlines() if "configuration invalid" not in line]
    assert len(problems) == 1 and TOML_CASES[body] in problems[0], r.stderr
    assert "Traceback" not in r.stderr


def test_a_non_utf8_toml_file_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_bytes(b"command = '\xff\xfe'\n")
    r = run_cli("config", "--config", str(path))
    assert r.returncode == 78 and "UTF-8" in r.stderr and "Traceback" not in r.stderr


def test_a_toml_command_array_is_taken_as_the_command(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_text("command = ['sleep', '60 seconds']\n")
    r = run_cli("config", "--json", "--config", str(path))
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["command"] == ["sleep", "60 seconds"]


# -- 9. HTTPS gates -------------------------------------------------------------------------------

TLS_SERVER = r"""
import socket, ssl, sys
from tests.integration.supervised import Launcher
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(sys.argv[1], sys.argv[2])
srv = socket.create_server(("127.0.0.1", 0))
print(srv.getsockname()[1], flush=True)
while True:
    conn, _ = srv.accept()
    try:
        tls = ctx.wrap_socket(conn, server_side=True)
        tls.recv(65536)
        tls.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
        tls.close()  # no close_notify: CPython's close() does not call SSL_shutdown
    except (OSError, ssl.SSLError):
        conn.close()
"""


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1"),
            *("-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)),
        ],
        check=True,
        capture_output=True,
    )
    proc = subprocess.Popen([sys.executable, "-c", TLS_SERVER, str(cert), str(key)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        yield int(proc.stdout.readline()), cert
    finally:
        proc.kill()
        proc.wait()


def test_https_gate_says_the_certificate_could_not_be_verified(tls_server: tuple[int, Path]) -> None:
    port, _ = tls_server
    r = run_cli("check", env={"SUPERVISOR_GATE_WEB": f"https://127.0.0.1:{port}/", "SUPERVISOR_STARTUP_TIMEOUT": "1s"})
    assert r.returncode == 1
    assert "tls: cannot connect to 127.0.0.1:" in r.stdout and "certificate could not be verified" in r.stdout, r.stdout
    assert "Operation not permitted" not in r.stdout, r.stdout


def test_https_gate_passes_when_the_server_closes_without_close_notify(tls_server: tuple[int, Path]) -> None:
    port, cert = tls_server
    env = {"SUPERVISOR_GATE_WEB": f"https://127.0.0.1:{port}/", "SSL_CERT_FILE": str(cert)}
    r = run_cli("check", env=env)
    assert r.returncode == 0, r.stdout + r.stderr


# -- 10. long values ------------------------------------------------------------------------------


@pytest.mark.timeout(20)  # the quadratic redaction this replaced took minutes here
def test_config_with_300_kb_values_is_quick(tmp_path: Path) -> None:
    path = tmp_path / "long.toml"
    path.write_text(
        f"command = 'sleep {'x' * 300_000}'\n"
        f"[gates.cmd]\nurl = 'cmd:echo {'a:' * 150_000}'\n"
        f"[gates.pg]\nurl = 'postgresql://u:{'p' * 300_000}@h/db'\n"
    )
    for args in (["config", "--json"], ["config"]):
        r = run_cli(*args, "--config", str(path))
        assert r.returncode == 0, r.stderr[:500]
        assert ("p" * 300_000) not in r.stdout


def test_readyz_json_target_masks_the_password(supervise: Launcher) -> None:
    port = free_port()
    s = supervise.run("sleep", "60", env={"SUPERVISOR_GATE_PG": f"postgresql://u:se%2Fcr%23et@127.0.0.1:{port}/db"})
    s.wait_listening()
    doc = json.loads(get(s.port, "/readyz?format=json").body)
    assert doc["checks"]["pg"][0]["target"] == f"postgresql://u:***@127.0.0.1:{port}/db"
