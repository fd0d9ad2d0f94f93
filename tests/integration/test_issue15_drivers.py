"""Issue 15, the drivers: the documented reason classes over a PostgreSQL login with a password
(scram over TCP), a SQLite gate that reads the database (corrupt files, devices, locks held by
another process), ``rediss://`` against a Redis without TLS. Every one against the real thing."""

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest

from tests.helpers import free_port, wait_until
from tests.integration.supervised import Launcher
from tests.integration.test_reason_classes import checks_of, classes_when_all_failed
from tests.servers import PgFactory, RedisFactory

pytestmark = [pytest.mark.integration, pytest.mark.faults]


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
