"""The supervisor under test: a real ``supervisor run`` process (as PID 1 of a PID namespace
when asked), the launcher behind the ``supervise`` fixture, and the test app's gunicorn."""

import contextlib
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import Reply, children, clean_env, free_port, get, status_of, supervisor_argv, wait_until

APPS = Path(__file__).parent / "apps"


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


def http_server_argv(port: int) -> list[str]:
    """The smallest app that answers HTTP: the standard library's file server on loopback."""
    return [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", str(port)]


class Supervised:
    """``supervisor run`` (or any subcommand) as a real process, its output kept in a file."""

    def __init__(
        self,
        tmp_path: Path,
        args: list[str],
        env: dict[str, str],
        prefix: list[str] | None = None,
        stdin: int = subprocess.DEVNULL,
    ) -> None:
        env = {"SUPERVISOR_HEALTH_HOST": "127.0.0.1", "SUPERVISOR_LOG_FORMAT": "text", **env}
        self.port = int(env.setdefault("SUPERVISOR_HEALTH_PORT", str(free_port())))
        self.log_path = tmp_path / f"supervisor-{len(list(tmp_path.glob('supervisor-*.log')))}.log"
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        full_env = clean_env(**env)
        self.pid1 = bool(prefix) and prefix is not None and prefix[0] == "unshare"  # prlimit execs it instead
        self.proc = subprocess.Popen(
            [*(prefix or []), *supervisor_argv(), *args],
            env=full_env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=stdin,
        )

    def get(self, path: str, **kw: object) -> Reply:
        return get(self.port, path, **kw)  # type: ignore[arg-type]

    def status(self, path: str) -> int | None:
        return status_of(self.port, path)

    def wait_listening(self, timeout: float = 10) -> None:
        try:
            wait_until(lambda: self.status("/healthz") == 200, timeout, "/healthz to answer 200")
        except AssertionError as exc:
            raise AssertionError(f"{exc}\nlog:\n{self.output()}") from None

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

        def inner() -> int:
            try:
                kids = children(self.proc.pid)
            except FileNotFoundError:
                return 0
            return kids[0] if kids else 0

        return wait_until(inner, 10, "the namespace's PID 1")

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


class Launcher:
    """Starts ``supervisor run`` processes for one test; all are stopped when it ends."""

    def __init__(self, tmp_path: Path) -> None:
        self._tmp_path = tmp_path
        self._started: list[Supervised] = []

    def run(
        self,
        *command: str,
        env: dict[str, str] | None = None,
        args: tuple[str, ...] = (),
        prefix: list[str] | None = None,
        stdin: int = subprocess.DEVNULL,
    ) -> Supervised:
        argv = ["run", *args, *(["--", *command] if command else [])]
        s = Supervised(self._tmp_path, argv, env or {}, prefix, stdin)
        self._started.append(s)
        return s

    def stop_all(self) -> None:
        for s in self._started:
            s.stop()
