"""Throwaway PostgreSQL and Redis servers on free ports in temporary directories, never the
machine's shared ones. Plain code (no pytest), so that ``bench/`` starts the same servers."""

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path
from typing import TypeVar

from tests.helpers import free_port, wait_until


class Unavailable(RuntimeError):
    """A server program is not installed; the message says what to install."""


def pg_bin(name: str) -> str:
    found = shutil.which(name) or next(iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None)
    if not found:
        raise Unavailable(f"PostgreSQL's {name} is not installed (.ci/run installs it)")
    return found


def _as_postgres(argv: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


def _own(path: Path) -> None:
    if os.geteuid() == 0:
        subprocess.run(["chown", "-R", "postgres:postgres", str(path)], check=True)


def pg_template() -> Path:
    """An initdb'd data directory to copy: one initdb per session, a copy per server."""
    root = Path(tempfile.mkdtemp(prefix="cs-pg-template-"))
    _own(root)
    initdb = [pg_bin("initdb"), "-D", str(root / "data"), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"]
    subprocess.run(_as_postgres(initdb), check=True, stdout=subprocess.DEVNULL)
    return root / "data"


class PgServer:
    """A throwaway PostgreSQL cluster that may be stopped and started at will."""

    def __init__(self, template: Path, root: Path | None = None) -> None:
        self.root = root or Path(tempfile.mkdtemp(prefix="cs-pg-"))
        self.data = self.root / "data"
        shutil.copytree(template, self.data, symlinks=True)
        self.port = free_port()
        _own(self.root)
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        opts = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        argv = [pg_bin("pg_ctl"), "-D", str(self.data), "-o", opts, "-l", str(self.root / "log"), "-w", "-t", "60"]
        subprocess.run(_as_postgres([*argv, "start"]), check=True, stdout=subprocess.DEVNULL)

    def start_as_standby(self, *, hot: bool = False) -> None:
        """Start as a standby with no primary to follow, in recovery until ``promote``. Not
        ``hot``: it accepts no connections, every connect is refused with SQLSTATE 57P03, as while
        a server is starting up or in crash recovery. ``hot``: read-only connections are taken."""
        (self.data / "standby.signal").touch()
        with (self.data / "postgresql.auto.conf").open("a") as conf:
            conf.write(f"hot_standby = {'on' if hot else 'off'}\n")
        _own(self.data)
        self.start()  # pg_ctl -w counts a standby as started

    def promote(self) -> None:
        subprocess.run(_as_postgres([pg_bin("pg_ctl"), "-D", str(self.data), "-w", "promote"]), check=True,
                       stdout=subprocess.DEVNULL)  # fmt: skip

    def require_passwords(self, password: str = "secret") -> None:
        """Before ``start``: every TCP login needs a password (the role ``postgres`` has ``password``)."""
        (self.data / "pg_hba.conf").write_text(
            "local all all trust\nhost all all 127.0.0.1/32 scram-sha-256\nhost all all ::1/128 scram-sha-256\n"
        )
        self.start()
        quoted = password.replace("'", "''")
        psql = [pg_bin("psql"), "-h", str(self.root), "-p", str(self.port), "-U", "postgres", "-q", "-c",
                f"ALTER ROLE postgres PASSWORD '{quoted}'"]  # fmt: skip
        subprocess.run(_as_postgres(psql), check=True, stdout=subprocess.DEVNULL)

    def postmaster(self) -> int:
        """The postmaster's PID (the first line of postmaster.pid)."""
        return int((self.data / "postmaster.pid").read_text().split()[0])

    def stop(self) -> None:
        subprocess.run(
            _as_postgres([pg_bin("pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop"]),
            check=False,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


class RedisServer:
    def __init__(self, root: Path, *extra: str) -> None:
        self.root, self.extra = root, extra
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        exe = shutil.which("redis-server")
        if not exe:
            raise Unavailable("redis-server is not installed (.ci/run installs it)")
        argv = [exe, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.proc = subprocess.Popen(
            [*argv, "--dir", str(self.root), *self.extra], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )

        def listening() -> bool:
            with socket.socket() as s:
                return s.connect_ex(("127.0.0.1", self.port)) == 0

        wait_until(listening, 10, "redis-server to listen")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)

    def remove(self) -> None:
        self.stop()


S = TypeVar("S", "PgServer", "RedisServer")


class _Pool:
    """Servers started for one test; all removed when it ends."""

    def __init__(self) -> None:
        self._servers: list[PgServer | RedisServer] = []

    def _keep(self, server: S, start: bool) -> S:
        self._servers.append(server)
        if start:
            server.start()
        return server

    def close(self) -> None:
        for server in self._servers:
            server.remove()


class PgFactory(_Pool):
    """New PostgreSQL servers for one test, started or not."""

    def __init__(self, template: Path) -> None:
        super().__init__()
        self._template = template

    def new(self, start: bool = True) -> PgServer:
        return self._keep(PgServer(self._template), start)


class RedisFactory(_Pool):
    """New Redis servers for one test (``extra``: redis-server flags)."""

    def __init__(self, root: Path) -> None:
        super().__init__()
        self._root = root

    def new(self, *extra: str, start: bool = True) -> RedisServer:
        return self._keep(RedisServer(self._root, *extra), start)
