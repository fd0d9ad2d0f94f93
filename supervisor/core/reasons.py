"""Reason classes: what kind of failure an attempt met, beside its one-line message.

The message says what happened in the library's words; the class says what to do about it, and
is what dashboards count (the ``reason`` label of ``supervisor_gate_checks_total``) and scripts
branch on (``reasonClass`` in ``/readyz`` JSON). Classes come from the libraries' own error types
and codes (errno values, exception classes, SQLSTATEs, libpq's ping verdict), never from matching
message text, which changes with versions and locales.
"""

import errno
import socket
import sys
from enum import StrEnum


class ReasonClass(StrEnum):
    DNS = "dns"  # the name does not resolve (yet), or the resolver did not answer
    REFUSED = "refused"  # nothing listens there (or a Unix socket that does not exist)
    UNREACHABLE = "unreachable"  # no route to the host or network
    TIMEOUT = "timeout"  # no answer within the timeout: a black hole, a tarpit, a stuck call
    TLS = "tls"  # the TLS handshake or the certificate's verification failed
    AUTH = "auth"  # the credentials were asked for and missing, or rejected
    REJECTED = "rejected"  # the server is up and turned this client away (role, database, pg_hba, limits)
    NOT_READY = "not-ready"  # the server answers but is not ready yet: starting, recovering, loading
    PROTOCOL = "protocol"  # something answered, but not in the protocol expected
    CONNECTION_LOST = "connection-lost"  # the connection was closed or reset in the middle
    HTTP_STATUS = "http-status"  # an HTTP status outside 2xx and 3xx
    EXIT_STATUS = "exit-status"  # a command exited non-zero or was killed
    MISSING = "missing"  # a variable is unset, a file or a command does not exist
    ERROR = "error"  # anything else: the message says what


_BY_ERRNO = {
    errno.ECONNREFUSED: ReasonClass.REFUSED,
    errno.ENOENT: ReasonClass.REFUSED,  # connect() to a Unix socket that is not there
    errno.ENETUNREACH: ReasonClass.UNREACHABLE,
    errno.EHOSTUNREACH: ReasonClass.UNREACHABLE,
    errno.ENETDOWN: ReasonClass.UNREACHABLE,
    errno.EHOSTDOWN: ReasonClass.UNREACHABLE,
    errno.EADDRNOTAVAIL: ReasonClass.UNREACHABLE,
    errno.ETIMEDOUT: ReasonClass.TIMEOUT,
    errno.ECONNRESET: ReasonClass.CONNECTION_LOST,
    errno.ECONNABORTED: ReasonClass.CONNECTION_LOST,
    errno.EPIPE: ReasonClass.CONNECTION_LOST,
}


def os_error_in(exc: BaseException | None) -> OSError | None:
    """The innermost useful ``OSError`` behind ``exc``: libraries wrap the socket's error
    (anyio's "all connection attempts failed", redis-py's ``ConnectionError``) as cause or context."""
    found: OSError | None = None
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, OSError):
            found = exc
            if (isinstance(exc.errno, int) and exc.errno > 0) or isinstance(exc, socket.gaierror):
                return exc
        exc = exc.__cause__ or exc.__context__
    return found


def of_os_error(exc: BaseException, otherwise: ReasonClass = ReasonClass.ERROR) -> ReasonClass:
    """The class of a socket-level failure, from its type and errno; ``otherwise`` when they say
    nothing (a library's own "connection closed", with no socket error behind it)."""
    found = os_error_in(exc)
    if found is None:
        return otherwise
    if isinstance(found, socket.gaierror):
        return ReasonClass.DNS
    ssl = sys.modules.get("ssl")  # an SSLError is an OSError whose errno is the SSL error code
    if ssl is not None and isinstance(found, ssl.SSLError):
        return ReasonClass.TLS
    if isinstance(found, TimeoutError):
        return ReasonClass.TIMEOUT
    return _BY_ERRNO.get(found.errno or 0, otherwise)


# SQLSTATE classes (the first two characters) that say what a failed query met
_BY_SQLSTATE_CLASS = {
    "08": ReasonClass.CONNECTION_LOST,  # connection exception
    "28": ReasonClass.AUTH,  # invalid authorization specification
    "53": ReasonClass.NOT_READY,  # insufficient resources: too many connections, out of memory
    "57": ReasonClass.NOT_READY,  # operator intervention: shutting down, starting up, cannot connect now
    "3D": ReasonClass.REJECTED,  # invalid catalog name: the database does not exist
}


def of_sqlstate(sqlstate: str | None) -> ReasonClass:
    """The class of a PostgreSQL error from its SQLSTATE; none means libpq lost the connection."""
    if not sqlstate:
        return ReasonClass.CONNECTION_LOST
    if sqlstate == "42501":  # insufficient privilege
        return ReasonClass.AUTH
    return _BY_SQLSTATE_CLASS.get(sqlstate[:2].upper(), ReasonClass.ERROR)
