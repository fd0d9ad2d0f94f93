"""Every reason class, met for real: each failure is made to happen against a real listener or
server, and its class is read where users read it (/readyz JSON and verbose, ``check``,
``status``, the logs, /metrics). Among them the drivers' own cases: a PostgreSQL login with a
password (scram over TCP), a SQLite gate that reads the database (corrupt files, devices, locks
held by another process), ``rediss://`` against a Redis without TLS."""

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
import redis

from tests.helpers import cli, free_port, wait_until
from tests.integration.supervised import Launcher, Supervised
from tests.servers import PgFactory, RedisFactory

pytestmark = [pytest.mark.integration, pytest.mark.faults]


def checks_of(s: Supervised) -> dict[str, dict[str, Any]]:
    doc = json.loads(s.get("/readyz?format=json").body)
    return {name: entries[0] for name, entries in doc["checks"].items()}


def classes_when_all_failed(s: Supervised, names: set[str], timeout: float = 30) -> dict[str, str | None]:
    def failed() -> dict[str, str | None] | None:
        checks = checks_of(s)
        if all(checks[n]["attempts"] and checks[n]["status"] != "pass" for n in names):
            return {n: checks[n]["reasonClass"] for n in names}
        return None

    found = wait_until(failed, timeout, "every gate to fail once")
    assert found is not None
    return found


def test_network_failures_each_get_their_class(
    silent_port: int,
    hangup_port: int,
    babble_port: int,
    pg_factory: PgFactory,
    redis_factory: RedisFactory,
    supervise: Launcher,
) -> None:
    closed = free_port()  # nothing listens there
    health = free_port()  # the supervisor's own port: plain HTTP
    secured = pg_factory.new(start=False)
    secured.require_passwords()
    locked = redis_factory.new("--requirepass", "right")
    expected = {
        "REFUSED_TCP": (f"tcp://127.0.0.1:{closed}", "refused"),
        "REFUSED_PG": (f"postgresql://postgres@127.0.0.1:{closed}/postgres", "refused"),
        "REFUSED_REDIS": (f"redis://127.0.0.1:{closed}/0", "refused"),
        "REFUSED_SOCKET": (f"postgresql://postgres@/postgres?host={secured.root}/nothing", "refused"),
        "DNS": ("tcp://no-such-host.invalid:5432", "dns"),
        "TIMEOUT_REDIS": (f"redis://127.0.0.1:{silent_port}/0", "timeout"),
        "TIMEOUT_PG": (f"postgresql://postgres@127.0.0.1:{silent_port}/postgres", "timeout"),
        "TLS": (f"https://127.0.0.1:{health}/healthz", "tls"),
        "TLS_PG": (f"postgresql://postgres@127.0.0.1:{secured.port}/postgres?sslmode=require", "tls"),  # no SSL there
        "HTTP_STATUS": (f"http://127.0.0.1:{health}/no-such-page", "http-status"),
        "PROTOCOL_REDIS": (f"redis://127.0.0.1:{babble_port}/0", "protocol"),
        "PROTOCOL_PG": (f"postgresql://postgres@127.0.0.1:{babble_port}/postgres?sslmode=disable", "protocol"),
        "PROTOCOL_HTTP": (f"http://127.0.0.1:{babble_port}/", "protocol"),
        "LOST_REDIS": (f"redis://127.0.0.1:{hangup_port}/0", "connection-lost"),
        "LOST_HTTP": (f"http://127.0.0.1:{hangup_port}/", "connection-lost"),
        "AUTH_PG_NONE": (f"postgresql://postgres@127.0.0.1:{secured.port}/postgres", "auth"),
        "AUTH_PG_WRONG": (f"postgresql://postgres:wrong@127.0.0.1:{secured.port}/postgres", "auth"),
        "AUTH_REDIS_NONE": (locked.url, "auth"),
        "AUTH_REDIS_WRONG": (f"redis://:wrong@127.0.0.1:{locked.port}/0", "auth"),
        "REJECTED_ROLE": (f"postgresql://nobody@127.0.0.1:{secured.port}/postgres?host={secured.root}", "rejected"),
        "REJECTED_DB": (f"postgresql://postgres@/no_such_db?host={secured.root}&port={secured.port}", "rejected"),
        "EXIT": ("cmd:sh -c 'exit 3'", "exit-status"),
        "MISSING_VAR": ("config:SURELY_NOT_SET_ANYWHERE", "missing"),
    }
    env = {"SUPERVISOR_HEALTH_PORT": str(health), "SUPERVISOR_BACKOFF_MAX": "500ms", "SUPERVISOR_LOG_FORMAT": "json"}
    for name, (url, _) in expected.items():
        env[f"SUPERVISOR_GATE_{name}"] = url
        # long enough for a busy machine, except where running out of time is the point
        env[f"SUPERVISOR_GATE_{name}__TIMEOUT"] = "1s" if name.startswith("TIMEOUT") else "5s"
    s = supervise.run("sleep", "60", env=env)
    s.wait_listening()
    names = {name.lower() for name in expected}
    found = classes_when_all_failed(s, names)
    assert found == {name.lower(): cls for name, (_, cls) in expected.items()}, {
        n: c["output"] for n, c in checks_of(s).items() if found.get(n) != expected.get(n.upper(), ("", ""))[1]
    }

    # the same class wherever the failure is shown
    verbose = s.get("/readyz?verbose").text
    assert "[-]refused_tcp failed: refused: cannot connect to 127.0.0.1" in verbose
    assert "[-]dns failed: dns: the name no-such-host.invalid does not resolve" in verbose
    metrics = wait_until(lambda: s.get("/metrics").text if s.status("/metrics") == 200 else None, 10, "/metrics")
    assert metrics is not None
    assert 'supervisor_gate_checks_total{gate="timeout_pg",reason="timeout",result="fail"}' in metrics
    assert 'supervisor_gate_checks_total{gate="auth_redis_none",reason="auth",result="fail"}' in metrics
    status = cli("status", "--port", str(health))
    assert "exit-status: exit status 3" in status.stdout, status.stdout
    logged = [json.loads(line) for line in s.output().splitlines() if line.startswith("{")]
    failing = {entry["gate"]: entry["reason_class"] for entry in logged if "failing" in entry.get("message", "")}
    assert failing["refused_pg"] == "refused" and failing["rejected_db"] == "rejected", failing


def test_check_shows_the_class_of_each_failing_gate() -> None:
    closed = free_port()
    env = {
        "SUPERVISOR_GATE_DB": f"postgresql://postgres@127.0.0.1:{closed}/postgres",
        "SUPERVISOR_GATE_SECRET": "config:SURELY_NOT_SET_ANYWHERE",
        "SUPERVISOR_STARTUP_TIMEOUT": "1s",
    }
    text = cli("check", env=env)
    assert text.returncode == 1
    assert "refused: cannot connect" in text.stdout and "missing: not set or empty" in text.stdout, text.stdout
    doc = json.loads(cli("check", "--json", env=env).stdout)
    assert doc["checks"]["db"][0]["reasonClass"] == "refused"
    assert doc["checks"]["secret"][0]["reasonClass"] == "missing"


def test_postgresql_still_starting_up_is_not_ready_then_passes_once_it_accepts(
    pg_factory: PgFactory, supervise: Launcher
) -> None:
    """A server that turns connections away with SQLSTATE 57P03 (starting up, in crash recovery,
    a standby not accepting connections) is ``not-ready``, told apart from one that is down."""
    pg = pg_factory.new(start=False)
    pg.start_as_standby()
    backoff_max = 0.3
    s = supervise.run("sleep", "60", env={"SUPERVISOR_GATE_DB": pg.url, "SUPERVISOR_BACKOFF_MAX": f"{backoff_max}s"})
    s.wait_listening()
    found = classes_when_all_failed(s, {"db"})
    assert found == {"db": "not-ready"}
    assert s.status("/healthz") == 200 and s.status("/readyz") == 503
    assert "[-]db failed: not-ready: cannot connect" in s.get("/readyz?verbose").text
    pg.promote()
    s.wait_ready(backoff_max + 0.5 + 2.0)
    assert checks_of(s)["db"]["reasonClass"] is None  # a pass clears it


def test_postgresql_in_recovery_where_a_primary_is_asked_for_is_not_ready_until_promoted(
    pg_factory: PgFactory, supervise: Launcher
) -> None:
    pg = pg_factory.new(start=False)
    pg.start_as_standby(hot=True)
    env = {
        "SUPERVISOR_GATE_ANY": pg.url,
        "SUPERVISOR_GATE_PRIMARY": f"{pg.url}?target_session_attrs=read-write",
        "SUPERVISOR_GATE_PRIMARY__CRITICAL": "false",
        "SUPERVISOR_BACKOFF_MAX": "300ms",
    }
    s = supervise.run("sleep", "60", env=env)
    s.wait_ready()  # the standby takes read-only logins: the plain gate passes
    assert classes_when_all_failed(s, {"primary"}) == {"primary": "not-ready"}
    pg.promote()
    wait_until(lambda: checks_of(s)["primary"]["status"] == "pass", 0.3 + 0.5 + 2.0, "the primary gate to pass")


def test_redis_still_loading_its_dataset_is_not_ready_then_passes(
    redis_factory: RedisFactory, supervise: Launcher
) -> None:
    """Redis answers ``-LOADING`` while it reads its dataset at start (slowed down here with the
    server's own key-load-delay): ``not-ready``, then ready once it has loaded."""
    seed = redis_factory.new("--enable-debug-command", "yes", "--dbfilename", "loading.rdb")
    with redis.Redis(port=seed.port) as client:
        client.execute_command("DEBUG", "POPULATE", "4000")
        client.save()
    seed.stop()
    loading = redis_factory.new(
        "--dbfilename", "loading.rdb", "--key-load-delay", "1500", "--loading-process-events-interval-bytes", "1024"
    )  # about 6 s of loading, answering clients meanwhile
    s = supervise.run("sleep", "60", env={"SUPERVISOR_GATE_CACHE": loading.url, "SUPERVISOR_BACKOFF_MAX": "300ms"})
    s.wait_listening()
    assert classes_when_all_failed(s, {"cache"}, timeout=5) == {"cache": "not-ready"}
    s.wait_ready(20)


# -- PostgreSQL: scram over TCP ------------------------------------------------------------------


def test_postgresql_with_scram_over_tcp_tells_a_wrong_password_from_what_fails_after_it(
    pg_factory: PgFactory, supervise: Launcher, tmp_path: Path
) -> None:
    """libpq's ``used_password`` is set for every failure after the password was sent: a wrong
    password (28P01), but also an unknown database (3D000) or bad ``options`` (42704, 22023),
    which the server checks only after authentication. Those read ``rejected``, as over a trust
    login; a wrong password, or a role that does not exist (the server answers it as a wrong
    password, on purpose), ``auth``."""
    pg = pg_factory.new(start=False)
    pg.require_passwords()
    closed = free_port()
    at = f"127.0.0.1:{pg.port}"
    passfile = tmp_path / "pgpass"
    passfile.write_text(f"127.0.0.1:{pg.port}:*:postgres:secret\n")
    passfile.chmod(0o600)
    expected = {
        "WRONG_PASSWORD": (f"postgresql://postgres:wrong@{at}/postgres", "auth"),
        "UNKNOWN_ROLE": (f"postgresql://nobody:secret@{at}/postgres", "auth"),
        "WRONG_PASSWORD_UNKNOWN_DB": (f"postgresql://postgres:wrong@{at}/no_such_db", "auth"),
        "UNKNOWN_DB": (f"postgresql://postgres:secret@{at}/no_such_db", "rejected"),
        "UNKNOWN_PARAMETER": (f"postgresql://postgres:secret@{at}/postgres?options=-c%20foo%3Dbar", "rejected"),
        "BAD_VALUE": (f"postgresql://postgres:secret@{at}/postgres?options=-c%20work_mem%3Dbanana", "rejected"),
        "BAD_ENCODING": (f"postgresql://postgres:secret@{at}/postgres?client_encoding=banana", "rejected"),
        # the password from the password file (PGPASSFILE), not the URL
        "PASSFILE_UNKNOWN_DB": (f"postgresql://postgres@{at}/no_such_db", "rejected"),
        # several hosts: the class is that of the host libpq tried last
        "LAST_HOST_UNKNOWN_DB": (
            f"postgresql://postgres:secret@127.0.0.1:{closed},127.0.0.1:{pg.port}/no_such_db",
            "rejected",
        ),
    }
    env = {
        "SUPERVISOR_BACKOFF_MAX": "500ms",
        "PGPASSFILE": str(passfile),
        "SUPERVISOR_GATE_RIGHT": f"postgresql://postgres:secret@{at}/postgres",
    }
    for name, (url, _) in expected.items():
        env[f"SUPERVISOR_GATE_{name}"] = url
        env[f"SUPERVISOR_GATE_{name}__TIMEOUT"] = "5s"
        env[f"SUPERVISOR_GATE_{name}__CRITICAL"] = "false"
    s = supervise.run("sleep", "60", env=env)
    s.wait_ready()  # the right login passes: only the failures' classes are in question
    found = classes_when_all_failed(s, {name.lower() for name in expected})
    assert found == {name.lower(): cls for name, (_, cls) in expected.items()}, {
        n: c["output"] for n, c in checks_of(s).items() if c["status"] != "pass"
    }


def test_postgresql_not_ready_over_tcp_with_a_password_then_passes(pg_factory: PgFactory, supervise: Launcher) -> None:
    """57P03 comes before the password is asked for: ``not-ready``, with the right password and
    with a wrong one, over scram; the right one passes once the server accepts connections."""
    pg = pg_factory.new(start=False)
    pg.require_passwords()
    pg.stop()
    pg.start_as_standby()
    at = f"127.0.0.1:{pg.port}"
    env = {
        "SUPERVISOR_GATE_DB": f"postgresql://postgres:secret@{at}/postgres",
        "SUPERVISOR_GATE_WRONG": f"postgresql://postgres:wrong@{at}/postgres",
        "SUPERVISOR_GATE_WRONG__CRITICAL": "false",
        "SUPERVISOR_BACKOFF_MAX": "300ms",
    }
    s = supervise.run("sleep", "60", env=env)
    s.wait_listening()
    assert classes_when_all_failed(s, {"db", "wrong"}) == {"db": "not-ready", "wrong": "not-ready"}
    pg.promote()
    s.wait_ready(0.3 + 0.5 + 5.0)
    # the wrong password's last class may still be the standby's until its next attempt
    wait_until(lambda: classes_when_all_failed(s, {"wrong"}) == {"wrong": "auth"}, 10, "class auth after promote")


# -- SQLite: the file is read ---------------------------------------------------------------------

HOLD_LOCK = (
    "import sqlite3, sys\n"
    "conn = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
    "conn.execute('BEGIN EXCLUSIVE')\n"
    "print('held', flush=True)\n"
    "sys.stdin.read()\n"
)


@pytest.fixture
def locked_database(tmp_path: Path) -> Iterator[tuple[Path, subprocess.Popen[str]]]:
    """A valid database another process holds an exclusive lock on until its stdin closes."""
    path = tmp_path / "locked.db"
    make_database(path)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout is not None and holder.stdout.readline() == "held\n"
    try:
        yield path, holder
    finally:
        holder.kill()
        holder.wait()


def make_database(path: Path) -> None:
    subprocess.run(
        [sys.executable, "-c", f"import sqlite3; c = sqlite3.connect({str(path)!r}); c.execute('CREATE TABLE t (x)')"],
        check=True,
        timeout=30,
    )


def test_sqlite_gate_reads_the_database_and_meets_locks(
    tmp_path: Path, locked_database: tuple[Path, subprocess.Popen[str]], supervise: Launcher
) -> None:
    locked, holder = locked_database
    valid = tmp_path / "valid.db"
    make_database(valid)
    corrupt = tmp_path / "corrupt.db"
    corrupt.write_bytes(os.urandom(8192))
    damaged = tmp_path / "damaged.db"  # a database header, then garbage where the schema should be
    make_database(damaged)
    damaged.write_bytes(damaged.read_bytes()[:100] + b"\xa5" * 8092)
    folder = tmp_path / "a-directory.db"
    folder.mkdir()
    fifo = tmp_path / "fifo.db"
    os.mkfifo(fifo)
    expected = {
        "CORRUPT": (corrupt, "protocol"),
        "DAMAGED": (damaged, "error"),
        "ZERO": (Path("/dev/zero"), "protocol"),
        "FIFO": (fifo, "protocol"),
        "LOCKED": (locked, "not-ready"),
        "FOLDER": (folder, "missing"),
    }
    timeout = 5.0
    env = {"SUPERVISOR_GATE_VALID": f"sqlite:///{valid}?must_exist=true", "SUPERVISOR_BACKOFF_MAX": "300ms"}
    for name, (path, _) in expected.items():
        env[f"SUPERVISOR_GATE_{name}"] = f"sqlite:///{path}?must_exist=true"
        env[f"SUPERVISOR_GATE_{name}__TIMEOUT"] = f"{timeout}s"
        env[f"SUPERVISOR_GATE_{name}__CRITICAL"] = "false"
    s = supervise.run("sleep", "60", env=env)
    s.wait_ready()  # the valid database passes
    found = classes_when_all_failed(s, {name.lower() for name in expected})
    checks = checks_of(s)
    assert found == {name.lower(): cls for name, (_, cls) in expected.items()}, {
        n: c["output"] for n, c in checks.items() if c["status"] != "pass"
    }
    for name in expected:  # met, not waited on until the timeout
        assert checks[name.lower()]["observedValue"] < timeout * 1000 / 2, checks[name.lower()]
    assert holder.stdin is not None
    holder.stdin.close()  # the lock is released: the gate passes
    wait_until(lambda: checks_of(s)["locked"]["status"] == "pass", 0.3 + 0.5 + 5.0, "the locked gate to pass")


# -- Redis: rediss:// against a server without TLS -------------------------------------------------


def test_rediss_against_a_plain_redis_is_tls_at_once(redis_factory: RedisFactory, supervise: Launcher) -> None:
    plain = redis_factory.new()
    timeout = 5.0
    env = {
        "SUPERVISOR_GATE_CACHE": f"rediss://127.0.0.1:{plain.port}/0",
        "SUPERVISOR_GATE_CACHE__TIMEOUT": f"{timeout}s",
        "SUPERVISOR_BACKOFF_MAX": "200ms",
    }
    s = supervise.run("sleep", "60", env=env)
    s.wait_listening()

    def two_attempts() -> bool:
        return int(checks_of(s)["cache"]["attempts"]) >= 2

    wait_until(two_attempts, 2 * timeout, "two attempts")  # each one far shorter than the timeout
    cache = checks_of(s)["cache"]
    assert cache["reasonClass"] == "tls" and cache["consecutiveFailures"] == cache["attempts"], cache
    assert cache["observedValue"] < timeout * 1000 / 4, cache
    assert "plain Redis" in cache["output"], cache


@pytest.fixture
def tls_redis(redis_factory: RedisFactory, tmp_path: Path) -> tuple[int, Path]:
    """A Redis that speaks TLS only on the port returned (with the certificate to trust)."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1"),
            *("-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)),
        ],
        check=True,
        capture_output=True,
        timeout=30,
    )
    port = free_port()
    tls = ("--tls-port", str(port), "--tls-cert-file", str(cert), "--tls-key-file", str(key))
    redis_factory.new(*tls, "--tls-auth-clients", "no")
    return port, cert


def test_rediss_against_a_tls_redis_passes_and_is_never_taken_for_plain(
    tls_redis: tuple[int, Path], supervise: Launcher
) -> None:
    from supervisor.kinds.redis import _speaks_plain_redis

    port, cert = tls_redis
    assert anyio.run(_speaks_plain_redis, "127.0.0.1", port) is False  # a TLS server, asked in plain
    s = supervise.run("sleep", "60", env={"SUPERVISOR_GATE_CACHE": f"rediss://127.0.0.1:{port}/0?ssl_ca_certs={cert}"})
    s.wait_ready()
