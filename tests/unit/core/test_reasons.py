"""Reason classes from the libraries' own error types and codes: errno values, exception classes
(built by the libraries' own parsers from the server's error replies), SQLSTATEs."""

import errno
import socket
import sqlite3
import ssl
from contextlib import closing
from pathlib import Path

import anyio
import pytest
from redis import exceptions as errors
from redis._parsers.base import BaseParser

from supervisor.core.checks import CheckState, record_failure, record_success
from supervisor.core.reasons import ReasonClass, of_os_error, of_sqlstate
from supervisor.health.render import check_json
from supervisor.kinds.base import GateFailure, connect_failure
from supervisor.kinds.redis import reason_class as redis_class


def wrapped(inner: BaseException, outer: BaseException) -> BaseException:
    """``outer`` raised while handling ``inner``, as libraries wrap socket errors."""
    try:
        try:
            raise inner
        except BaseException:
            raise outer  # noqa: B904 - the implicit context is the point
    except BaseException as exc:
        return exc


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (ConnectionRefusedError(errno.ECONNREFUSED, "refused"), ReasonClass.REFUSED),
        (FileNotFoundError(errno.ENOENT, "no socket"), ReasonClass.REFUSED),
        (OSError(errno.EHOSTUNREACH, "no route"), ReasonClass.UNREACHABLE),
        (OSError(errno.ENETUNREACH, "no network"), ReasonClass.UNREACHABLE),
        (ConnectionResetError(errno.ECONNRESET, "reset"), ReasonClass.CONNECTION_LOST),
        (BrokenPipeError(errno.EPIPE, "pipe"), ReasonClass.CONNECTION_LOST),
        (TimeoutError("timed out"), ReasonClass.TIMEOUT),
        (socket.gaierror(socket.EAI_NONAME, "Name or service not known"), ReasonClass.DNS),
        (ssl.SSLError(1, "WRONG_VERSION_NUMBER"), ReasonClass.TLS),
        (OSError(errno.EACCES, "denied"), ReasonClass.ERROR),
        (ValueError("not an OSError"), ReasonClass.ERROR),
    ],
)
def test_socket_errors_by_type_and_errno(exc: BaseException, expected: ReasonClass) -> None:
    assert of_os_error(exc) is expected


def test_the_socket_error_is_found_behind_a_librarys_wrapping() -> None:
    anyio_style = OSError("All connection attempts failed")
    anyio_style.__cause__ = ConnectionRefusedError(errno.ECONNREFUSED, "refused")
    assert of_os_error(anyio_style) is ReasonClass.REFUSED
    redis_style = wrapped(OSError(errno.EHOSTUNREACH, "no route"), RuntimeError("Error 113 connecting"))
    assert of_os_error(redis_style) is ReasonClass.UNREACHABLE
    assert of_os_error(wrapped(TimeoutError(), anyio.BrokenResourceError())) is ReasonClass.TIMEOUT


def test_connect_failure_keeps_the_message_and_classifies() -> None:
    failure = connect_failure("cannot connect to db:5432", ConnectionRefusedError(errno.ECONNREFUSED, "x"))
    assert isinstance(failure, GateFailure)
    assert str(failure) == "cannot connect to db:5432: Connection refused"
    assert failure.reason_class is ReasonClass.REFUSED


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("LOADING Redis is loading the dataset in memory", ReasonClass.NOT_READY),
        ("MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.", ReasonClass.NOT_READY),
        ("NOAUTH Authentication required.", ReasonClass.AUTH),
        ("WRONGPASS invalid username-password pair or user is disabled.", ReasonClass.AUTH),
        ("NOPERM User x has no permissions to run the 'ping' command", ReasonClass.AUTH),
        ("ERR max number of clients reached", ReasonClass.REJECTED),
        ("DENIED Redis is running in protected mode", ReasonClass.REJECTED),
    ],
)
def test_redis_error_replies_by_the_class_redis_py_gives_them(reply: str, expected: ReasonClass) -> None:
    assert redis_class(BaseParser.parse_error(reply)) is expected  # type: ignore[no-untyped-call]


def test_redis_connection_errors_by_what_lies_behind_them() -> None:
    refused = wrapped(ConnectionRefusedError(errno.ECONNREFUSED, "x"), errors.ConnectionError("Error 111"))
    assert isinstance(refused, errors.RedisError)
    assert redis_class(refused) is ReasonClass.REFUSED
    assert redis_class(errors.ConnectionError("Connection closed by server.")) is ReasonClass.CONNECTION_LOST
    assert redis_class(errors.TimeoutError("Timeout reading")) is ReasonClass.TIMEOUT
    assert redis_class(errors.InvalidResponse("Protocol Error: b'S'")) is ReasonClass.PROTOCOL


@pytest.mark.parametrize(
    ("sqlstate", "expected"),
    [
        ("57P03", ReasonClass.NOT_READY),  # cannot_connect_now: starting up
        ("57P01", ReasonClass.NOT_READY),  # admin_shutdown
        ("53300", ReasonClass.NOT_READY),  # too_many_connections
        ("28P01", ReasonClass.AUTH),  # invalid_password
        ("42501", ReasonClass.AUTH),  # insufficient_privilege
        ("3D000", ReasonClass.REJECTED),  # invalid_catalog_name
        ("08006", ReasonClass.CONNECTION_LOST),
        (None, ReasonClass.CONNECTION_LOST),  # libpq lost the connection: no server error at all
        ("42601", ReasonClass.ERROR),  # syntax_error
    ],
)
def test_postgresql_errors_by_sqlstate(sqlstate: str | None, expected: ReasonClass) -> None:
    assert of_sqlstate(sqlstate) is expected


def test_the_class_is_part_of_the_reason_and_cleared_by_a_pass() -> None:
    state = CheckState("db", "postgresql", "db:5432")
    failed = record_failure(state, now=1.0, duration=0.1, error="cannot connect", reason_class=ReasonClass.REFUSED)
    assert failed.reason == "refused: cannot connect"
    assert check_json(failed)["reasonClass"] == "refused"
    passed = record_success(failed, now=2.0, duration=0.1)
    assert passed.reason_class is None and check_json(passed)["reasonClass"] is None


def _sqlite_class(path: str) -> ReasonClass | None:
    """The class the SQLite gate gives ``path`` (a file that must exist), None when it passes."""
    from supervisor.kinds import sqlite

    try:
        sqlite._probe(path, 1.0, True)
    except GateFailure as failure:
        return failure.reason_class
    return None


def test_sqlite_results_by_their_codes_and_file_types(tmp_path: Path) -> None:
    """Real files, read by SQLite itself: its result codes (``SQLITE_NOTADB``, ``SQLITE_CORRUPT``)
    and what ``stat`` says of the path, never the message."""
    valid, corrupt, damaged, empty = (tmp_path / name for name in ("valid.db", "corrupt.db", "damaged.db", "empty.db"))
    with closing(sqlite3.connect(valid)) as conn:
        conn.execute("CREATE TABLE t (x)")
    corrupt.write_bytes(b"\x00\xff not a database " * 300)
    damaged.write_bytes(valid.read_bytes()[:100] + b"\xa5" * 4000)
    empty.touch()  # SQLite's empty database
    assert _sqlite_class(str(valid)) is None and _sqlite_class(str(empty)) is None
    assert _sqlite_class(str(corrupt)) is ReasonClass.PROTOCOL  # SQLITE_NOTADB
    assert _sqlite_class(str(damaged)) is ReasonClass.ERROR  # SQLITE_CORRUPT
    assert _sqlite_class("/dev/zero") is ReasonClass.PROTOCOL  # size 0: an empty database to SQLite
    assert _sqlite_class(str(tmp_path)) is ReasonClass.MISSING  # a directory
    assert _sqlite_class(str(tmp_path / "none.db")) is ReasonClass.MISSING  # SQLITE_CANTOPEN
