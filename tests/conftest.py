"""Fixtures that start real servers: PostgreSQL and Redis instances of the tests' own, on free
ports in temporary directories (never the machine's shared ones), and the installed supervisor."""

import contextlib
import glob
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings

from tests.helpers import Reply, free_port, get, status_of, wait_until

APPS = Path(__file__).parent / "integration" / "apps"

# Property tests draw the same examples on every run: the suite is deterministic, in CI too.
hypothesis_settings.register_profile("deterministic", derandomize=True, database=None)
hypothesis_settings.load_profile("deterministic")


def supervisor_argv() -> list[str]:
    exe = shutil.which("supervisor")
    return [exe] if exe else [sys.executable, "-m", "supervisor"]


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("SUPERVISOR_")}
    env.update(extra)
    return env


def gunicorn_argv(port: int, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "-b",
        f"127.0.0.1:{port}",
        "--chdir",
        str(APPS),
        "--no-control-socket",
        "--workers",
        "1",
        *extra,
        "hello:app",
    ]


# -- PostgreSQL -------------------------------------------------------------------------------


def _pg_bin(name: str) -> str:
    found = shutil.which(name) or next(iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None)
    if not found:
        pytest.skip(f"PostgreSQL's {name} is not installed (.ci/run installs it)")
    return found


def _as_postgres(argv: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


class PgServer:
    """A throwaway PostgreSQL cluster the test may stop and start at will."""

    def __init__(self, template: Path, root: Path) -> None:
        self.root = root
        self.data = root / "data"
        shutil.copytree(template, self.data, symlinks=True)
        self.port = free_port()
        if os.geteuid() == 0:
            shutil.chown(root, "postgres", "postgres")
            subprocess.run(["chown", "-R", "postgres:postgres", str(root)], check=True)
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        opts = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        subprocess.run(
            _as_postgres(
                [
                    _pg_bin("pg_ctl"),
                    "-D",
                    str(self.data),
                    "-o",
                    opts,
                    "-l",
                    str(self.root / "log"),
                    "-w",
                    "-t",
                    "60",
                    "start",
                ]
            ),
            check=True,
            stdout=subprocess.DEVNULL,
        )

    def stop(self) -> None:
        subprocess.run(
            _as_postgres([_pg_bin("pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop"]),
            check=False,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )


@pytest.fixture(scope="session")
def pg_template() -> Iterator[Path]:
    root = Path(tempfile.mkdtemp(prefix="cs-pg-template-"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    subprocess.run(
        _as_postgres(
            [_pg_bin("initdb"), "-D", str(root / "data"), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"]
        ),
        check=True,
        stdout=subprocess.DEVNULL,
    )
    yield root / "data"
    shutil.rmtree(root, ignore_errors=True)


class ServerPool:
    """Servers a test started; all are stopped (and their files removed) when it ends."""

    def __init__(self) -> None:
        self.servers: list[PgServer | RedisServer] = []

    def add(self, server: "PgServer | RedisServer", start: bool) -> None:
        self.servers.append(server)
        if start:
            server.start()

    def close(self) -> None:
        for server in self.servers:
            server.stop()
            if isinstance(server, PgServer):
                shutil.rmtree(server.root, ignore_errors=True)


@pytest.fixture
def pg_factory(pg_template: Path) -> Iterator[type]:
    pool = ServerPool()

    class Factory:
        @staticmethod
        def new(start: bool = True) -> PgServer:
            server = PgServer(pg_template, Path(tempfile.mkdtemp(prefix="cs-pg-")))
            pool.add(server, start)
            return server

    yield Factory
    pool.close()


@pytest.fixture
def pg(pg_factory: type) -> PgServer:
    server: PgServer = pg_factory.new()
    return server


# -- Redis ------------------------------------------------------------------------------------


class RedisServer:
    def __init__(self, root: Path, *extra: str) -> None:
        self.root, self.extra = root, extra
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        exe = shutil.which("redis-server")
        if not exe:
            pytest.skip("redis-server is not installed (.ci/run installs it)")
        self.proc = subprocess.Popen(
            [
                exe,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.root),
                *self.extra,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        import socket

        def listening() -> bool:
            with socket.socket() as s:
                return s.connect_ex(("127.0.0.1", self.port)) == 0

        wait_until(listening, 10, "redis-server to listen")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


@pytest.fixture
def redis_factory(tmp_path: Path) -> Iterator[type]:
    pool = ServerPool()

    class Factory:
        @staticmethod
        def new(*extra: str, start: bool = True) -> RedisServer:
            server = RedisServer(tmp_path, *extra)
            pool.add(server, start)
            return server

    yield Factory
    pool.close()


@pytest.fixture
def redis_server(redis_factory: type) -> RedisServer:
    server: RedisServer = redis_factory.new()
    return server


# -- the supervisor under test -------------------------------------------------------------


class Supervised:
    """``supervisor run`` (or any subcommand) as a real process, its output kept in a file."""

    def __init__(self, tmp_path: Path, args: list[str], env: dict[str, str], prefix: list[str] | None = None) -> None:
        env = {"SUPERVISOR_HEALTH_HOST": "127.0.0.1", "SUPERVISOR_LOG_FORMAT": "text", **env}
        self.port = int(env.setdefault("SUPERVISOR_HEALTH_PORT", str(free_port())))
        self.log_path = tmp_path / f"supervisor-{len(list(tmp_path.glob('supervisor-*.log')))}.log"
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        full_env = clean_env(**env)
        self.pid1 = bool(prefix)
        self.proc = subprocess.Popen(
            [*(prefix or []), *supervisor_argv(), *args],
            env=full_env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )

    def get(self, path: str, **kw: object) -> Reply:
        return get(self.port, path, **kw)  # type: ignore[arg-type]

    def status(self, path: str) -> int | None:
        return status_of(self.port, path)

    def wait_listening(self, timeout: float = 10) -> None:
        wait_until(lambda: self.status("/healthz") == 200, timeout, "/healthz to answer 200")

    def wait_ready(self, timeout: float = 20) -> None:
        try:
            wait_until(lambda: self.status("/readyz") == 200, timeout, "/readyz 200")
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n/readyz: {self.get('/readyz?verbose').text}\nlog:\n{self.output()}") from None

    @property
    def pid(self) -> int:
        """The supervisor's PID as seen from here (inside ``unshare`` it is PID 1 of its namespace)."""
        if not self.pid1:
            return self.proc.pid

        def inner() -> int | None:
            try:
                children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text().split()
            except FileNotFoundError:
                return None
            return int(children[0]) if children else None

        return int(wait_until(inner, 10, "the namespace's PID 1"))

    def signal(self, signum: int) -> None:
        os.kill(self.pid, signum)

    def wait(self, timeout: float = 10) -> int:
        return self.proc.wait(timeout)

    def output(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError, AssertionError):
                self.signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()


PID1_PREFIX = ["unshare", "--pid", "--fork", "--mount-proc", "--kill-child"]


def pid1_prefix() -> list[str]:
    """Run as PID 1 of a new PID namespace, as in a container (needs root or user namespaces)."""
    if not shutil.which("unshare"):
        pytest.skip("unshare (util-linux) is not installed")
    probe = subprocess.run([*PID1_PREFIX, "true"], capture_output=True, timeout=10)
    if probe.returncode != 0:
        pytest.skip(f"cannot create a PID namespace here: {probe.stderr.decode().strip()}")
    return list(PID1_PREFIX)


@pytest.fixture
def supervise(tmp_path: Path) -> Iterator[type]:
    started: list[Supervised] = []

    class Launcher:
        @staticmethod
        def run(
            *command: str,
            env: dict[str, str] | None = None,
            args: tuple[str, ...] = (),
            prefix: list[str] | None = None,
        ) -> Supervised:
            argv = ["run", *args, *(["--", *command] if command else [])]
            s = Supervised(tmp_path, argv, env or {}, prefix)
            started.append(s)
            return s

    yield Launcher
    for s in started:
        s.stop()
