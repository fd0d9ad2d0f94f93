"""The app's listening sockets, held by the supervisor across every restart of the app.

When gunicorn binds its own port, the port is closed from the old master's exit to the new
master's bind: every connection in between is refused. Held here, the sockets outlive every app
process: the kernel queues connections while no app runs, and each new app takes over the same
sockets by socket activation (``LISTEN_FDS``/``LISTEN_PID``, as systemd hands them; gunicorn reads
them in ``systemd.py``). They are bound at start (a taken port is exit 71 at once) but listen
only from the first spawn, so that while gates fail a client is refused at once rather than left
in a backlog nobody accepts.

``LISTEN_PID`` must be the app's own PID, which ``subprocess`` cannot know before the exec. A
``preexec_fn`` could set it, but it runs Python between fork and exec in a process with threads
(a lock held by another thread at the fork is held for ever in the child). Instead a small shim
is exec'd first (``handoff_argv``): our own interpreter, isolated and without ``site`` (about
10 ms), moves the sockets to 3, 4, ..., sets ``LISTEN_PID`` to its PID and execs the app, which
keeps that PID. ``/bin/sh`` cannot do it: dash takes no descriptor above 9, and a distroless
image has no shell. Our own copies sit at 256 and up (``F_DUPFD_CLOEXEC``), out of the way of
the low numbers the hand-off needs.

Written ``HOST:PORT`` (an IP literal: no name lookup), ``[V6]:PORT`` or ``unix:/path``.
"""

import contextlib
import fcntl
import ipaddress
import os
import socket
import stat
import sys
from collections.abc import Sequence
from dataclasses import dataclass

SD_LISTEN_FDS_START = 3
HELD_FDS_FROM = 256
BACKLOG = 2048  # gunicorn's default
UNIX_PATH_MAX = 107  # sun_path less its terminating NUL
UNIX_MODE = 0o777  # as gunicorn leaves its own socket with its default --umask 0
# run by ``python -I -S -c``: argv[1] the held descriptors, comma-separated, argv[2] the names,
# argv[3:] the app; every name and number comes from us, none from the command line's user
_SHIM = (
    "import os, sys\n"
    "fds = [int(fd) for fd in sys.argv[1].split(',')]\n"
    "for n, fd in enumerate(fds):\n"
    "    os.dup2(fd, 3 + n)\n"
    "for fd in fds:\n"
    "    if fd >= 3 + len(fds):\n"
    "        os.close(fd)\n"
    "os.environ.update(LISTEN_PID=str(os.getpid()), LISTEN_FDS=str(len(fds)), LISTEN_FDNAMES=sys.argv[2])\n"
    "try:\n"
    "    os.execvp(sys.argv[3], sys.argv[3:])\n"
    "except OSError as e:\n"
    "    sys.stderr.write(f'cannot start {sys.argv[3]!r}: {e.strerror}\\n')\n"
    "    os._exit(127)\n"
)


class ListenError(ValueError):
    """An address the supervisor cannot hold: the problem line's text."""


@dataclass(frozen=True)
class ListenAddress:
    family: socket.AddressFamily
    host: str = ""  # TCP: an IP literal, without brackets
    port: int = 0
    path: str = ""  # a Unix socket's path

    @property
    def shown(self) -> str:
        if self.family is socket.AF_UNIX:
            return f"unix:{self.path}"
        return f"[{self.host}]:{self.port}" if self.family is socket.AF_INET6 else f"{self.host}:{self.port}"


def parse(text: str) -> ListenAddress:
    text = text.strip()
    if text.startswith("unix:"):
        path = text[5:]
        if not path.startswith("/"):
            raise ListenError("a Unix socket needs an absolute path (unix:/run/app.sock)")
        path = os.path.normpath(path)
        if len(os.fsencode(path)) > UNIX_PATH_MAX:
            raise ListenError(f"a Unix socket's path holds at most {UNIX_PATH_MAX} bytes")
        return ListenAddress(socket.AF_UNIX, path=path)
    host, sep, port = text.rpartition(":")
    if not sep or not (port.isascii() and port.isdigit()) or not 0 < int(port) < 65536:
        raise ListenError("expected HOST:PORT, [IPv6]:PORT or unix:/path, with a port from 1 to 65535")
    bare = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    try:
        ip = ipaddress.ip_address(bare)
    except ValueError:
        raise ListenError("the host must be an IP address (0.0.0.0, 127.0.0.1, [::]), not a name") from None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        raise ListenError(f"write the IPv4 address as such: {ip.ipv4_mapped}:{port}")
    family = socket.AF_INET6 if ip.version == 6 else socket.AF_INET
    return ListenAddress(family, host=str(ip), port=int(port))


def parse_all(text: str) -> tuple[ListenAddress, ...]:
    """Comma-separated addresses, each held once."""
    parts = [part.strip() for part in text.split(",") if part.strip()]
    found = []
    for part in parts:
        try:
            found.append(parse(part))
        except ListenError as exc:
            raise ListenError(f"{part}: {exc}" if len(parts) > 1 else str(exc)) from None
    if not found:
        raise ListenError("no address given")
    shown = [a.shown for a in found]
    twice = sorted({s for s in shown if shown.count(s) > 1})
    if twice:
        raise ListenError(f"{', '.join(twice)} given twice")
    return tuple(found)


ACTIVATION_VARIABLES = ("LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES")


def take_environment(environ: dict[str, str] | None = None) -> int:
    """The number of sockets handed to the supervisor itself by socket activation (systemd,
    podman), 0 for none; the variables are taken out of the environment either way, since they
    describe descriptors of this process and would mislead any child. Call before any thread
    starts."""
    env = os.environ if environ is None else environ
    values = {name: env.pop(name, None) for name in ACTIVATION_VARIABLES}
    count, pid = values["LISTEN_FDS"] or "", values["LISTEN_PID"] or ""
    if not (count.isascii() and count.isdigit() and pid.isascii() and pid.isdigit()) or int(pid) != os.getpid():
        return 0
    return min(int(count), 64)


class HeldSockets:
    """The bound sockets, ours until ``close``; the app's from ``listen`` on."""

    def __init__(self, addresses: Sequence[ListenAddress]) -> None:
        self.addresses = tuple(addresses)
        self._sockets: list[socket.socket] = []
        self.listening = False

    @classmethod
    def inherited(cls, count: int) -> "HeldSockets":
        """The ``count`` sockets at 3, 4, ... that a service manager gave us, moved up to our
        own range (the low numbers are the hand-off's), already listening as systemd gives them."""
        held = cls(())
        addresses = []
        fds = range(SD_LISTEN_FDS_START, SD_LISTEN_FDS_START + count)
        for fd in fds:  # all of them, or none: a wrong count must not take our own descriptors
            try:
                if not stat.S_ISSOCK(os.fstat(fd).st_mode):
                    raise ListenError(f"LISTEN_FDS={count}, but fd {fd} is no socket; none taken")
            except OSError:
                raise ListenError(f"LISTEN_FDS={count}, but fd {fd} is not open; none taken") from None
        for fd in fds:
            high = _moved_up(fd, count)
            os.close(fd)
            sock = socket.socket(fileno=high)
            held._sockets.append(sock)
            addresses.append(_address_of(sock))
        held.addresses = tuple(addresses)
        held.listening = True
        return held

    def bind(self) -> None:
        """Bind each address; ``OSError`` (naming the address in its ``filename``) on the first
        that cannot be, after closing those already bound."""
        try:
            for address in self.addresses:
                self._sockets.append(_bound(address, len(self.addresses)))
        except OSError:
            self.close()
            raise

    def listen(self) -> None:
        """``OSError`` naming the address when another socket, bound since, listens there."""
        if not self.listening:
            for address, sock in zip(self.addresses, self._sockets, strict=True):
                try:
                    sock.listen(BACKLOG)
                except OSError as exc:
                    exc.filename = address.shown
                    raise
            self.listening = True

    @property
    def fds(self) -> tuple[int, ...]:
        return tuple(s.fileno() for s in self._sockets)

    def handoff_argv(self, argv: Sequence[str]) -> list[str]:
        """``argv`` behind the shim that puts our sockets at 3, 4, ... and sets ``LISTEN_FDS``,
        ``LISTEN_FDNAMES`` and ``LISTEN_PID`` (its own PID, which the exec keeps). Spawn it with
        ``pass_fds=self.fds``."""
        names = ":".join(_fdname(a) for a in self.addresses)
        fds = ",".join(map(str, self.fds))
        return [sys.executable, "-I", "-S", "-c", _SHIM, fds, names, *argv]

    def close(self) -> None:
        for sock in self._sockets:
            sock.close()
        self._sockets.clear()


def _address_of(sock: socket.socket) -> ListenAddress:
    name = sock.getsockname()
    if sock.family == socket.AF_UNIX:
        return ListenAddress(socket.AF_UNIX, path=name if isinstance(name, str) else name.decode(errors="replace"))
    return ListenAddress(socket.AddressFamily(sock.family), host=name[0], port=name[1])


def _fdname(address: ListenAddress) -> str:
    """A name for ``LISTEN_FDNAMES``: no colon (its separator), no space (the shell's)."""
    return "".join(c if c.isalnum() or c in "._-/" else "_" for c in address.shown)


def _moved_up(fd: int, count: int) -> int:
    """A close-on-exec copy of ``fd`` at ``HELD_FDS_FROM`` or above; under a descriptor limit
    that low, just above the hand-off's own 3..3+count-1, where the shim cannot overwrite it."""
    try:
        return fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, HELD_FDS_FROM)
    except OSError:
        return fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, SD_LISTEN_FDS_START + count)


def _bound(address: ListenAddress, count: int) -> socket.socket:
    sock = socket.socket(address.family, socket.SOCK_STREAM)
    try:
        if address.family is socket.AF_UNIX:
            _remove_stale(address.path)
            sock.bind(address.path)
            os.chmod(address.path, UNIX_MODE)
        else:
            # as gunicorn binds: SO_REUSEADDR, and [::] dual-stack (IPv4 clients too) where the
            # system's default says so
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((address.host, address.port))
        high = _moved_up(sock.fileno(), count)
    except OSError as exc:
        sock.close()
        exc.filename = address.shown
        raise
    sock.close()
    return socket.socket(fileno=high)


def _remove_stale(path: str) -> None:
    """A socket file left by an earlier run that nothing listens on any more; never another file."""
    with contextlib.suppress(FileNotFoundError):
        if not stat.S_ISSOCK(os.lstat(path).st_mode):
            return  # bind fails with EADDRINUSE, and says so
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            probe.connect(path)
        except ConnectionRefusedError:
            os.unlink(path)
        except OSError:
            pass
        finally:
            probe.close()
