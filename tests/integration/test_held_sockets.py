"""The app's sockets held by the supervisor (SUPERVISOR_APP_LISTEN): real gunicorn, a client
opening a new connection every few milliseconds, the master killed with SIGKILL three times."""

import json
import os
import signal
import socket
import stat
import sys
import threading
from collections import Counter
from pathlib import Path

import pytest

from tests.helpers import free_port, get, wait_until
from tests.integration.supervised import APPS, Launcher, Supervised

pytestmark = pytest.mark.integration


def _gunicorn(*extra: str) -> list[str]:
    return [sys.executable, "-m", "gunicorn", "--chdir", str(APPS), "--workers", "2", *extra, "hello:app"]


class Clients:
    """One client thread: a new connection per request, every 5 ms, each outcome counted."""

    def __init__(self, port: int) -> None:
        self.port, self.seen, self._stop = port, Counter[str](), threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=10) as conn:
                    conn.sendall(b"GET / HTTP/1.0\r\n\r\n")
                    answer = conn.recv(64)
                self.seen["answered" if answer.startswith(b"HTTP/1.") else "empty"] += 1
            except ConnectionRefusedError:
                self.seen["refused"] += 1
            except ConnectionResetError:
                self.seen["reset"] += 1
            except OSError as exc:
                self.seen[type(exc).__name__] += 1
            self._stop.wait(0.005)  # pacing: the clients' own rate

    def stop(self) -> Counter[str]:
        self._stop.set()
        self._thread.join(15)
        return self.seen


def _master(s: Supervised) -> int:
    doc = json.loads(s.get("/readyz?format=json").body)
    return int(doc["child"]["pid"]) if doc["status"] == "pass" else 0


def test_three_master_kills_refuse_and_reset_nothing(supervise: Launcher, tmp_path: Path) -> None:
    app_port, path = free_port(), tmp_path / "app.sock"
    s = supervise.run(
        *_gunicorn(),
        env={
            "SUPERVISOR_APP_LISTEN": f"127.0.0.1:{app_port},unix:{path}",
            "SUPERVISOR_RESTART": "on-failure",
            "SUPERVISOR_BACKOFF_INITIAL": "50ms",
            "SUPERVISOR_CHECK_INTERVAL": "200ms",
        },
    )
    s.wait_ready()
    clients = Clients(app_port)
    killed = []
    for n in range(3):
        master = wait_until(lambda: (m := _master(s)) not in killed and m, 20, f"master {n + 1} ready")
        wait_until(lambda: clients.seen["answered"] > 20 * (n + 1), 20, "answers")  # noqa: B023
        os.kill(master, signal.SIGKILL)
        killed.append(master)
    wait_until(lambda: _master(s) not in (0, *killed), 20, "the fourth master ready")
    wait_until(lambda: clients.seen["answered"] > 100, 20, "answers after the last restart")
    seen = clients.stop()
    assert set(seen) == {"answered"}, seen  # not one refused, reset or empty answer
    # the Unix socket's path outlives every restart: gunicorn never unlinks a socket it inherited
    assert path.is_socket() and stat.S_IMODE(path.stat().st_mode) == 0o777  # as gunicorn's own (umask 0)
    with socket.socket(socket.AF_UNIX) as conn:
        conn.connect(str(path))
        conn.sendall(b"GET / HTTP/1.0\r\n\r\n")
        assert conn.recv(16).startswith(b"HTTP/1.")
    assert json.loads(s.get("/readyz?format=json").body)["child"]["restarts"] == 3


def test_held_sockets_listen_only_from_the_first_spawn(supervise: Launcher, tmp_path: Path) -> None:
    app_port, flag = free_port(), tmp_path / "go"
    s = supervise.run(
        *_gunicorn(),
        env={"SUPERVISOR_APP_LISTEN": f"127.0.0.1:{app_port}", "SUPERVISOR_GATE_GO": f"cmd:test -e {flag}"},
    )
    s.wait_listening()
    with pytest.raises(ConnectionRefusedError):  # bound, not listening: refused at once, not queued
        socket.create_connection(("127.0.0.1", app_port), timeout=2).close()
    flag.touch()
    s.wait_ready()
    assert get(app_port, "/").status == 200


def test_a_taken_port_is_exit_71_at_once_naming_the_setting(supervise: Launcher) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        s = supervise.run(*_gunicorn(), env={"SUPERVISOR_APP_LISTEN": f"127.0.0.1:{port}"})
        assert s.wait(10) == 71
    assert f"cannot bind 127.0.0.1:{port}: Address already in use; set SUPERVISOR_APP_LISTEN" in s.output()


def test_the_app_sees_the_sockets_at_3_and_its_own_pid_as_listen_pid(supervise: Launcher, tmp_path: Path) -> None:
    report = tmp_path / "seen.json"
    script = (
        "import json, os, socket, sys\n"
        "fds = int(os.environ['LISTEN_FDS'])\n"
        "high = sorted(int(f) for f in os.listdir('/proc/self/fd') if int(f) > 2)[:-1]  # less listdir's own\n"
        "seen = dict(pid=int(os.environ['LISTEN_PID']) == os.getpid(), n=fds, names=os.environ['LISTEN_FDNAMES'],\n"
        "            socks=[socket.socket(fileno=3 + i).getsockname() for i in range(fds)], high=high)\n"
        "open(sys.argv[1], 'w').write(json.dumps(seen))\n"
    )
    port, path = free_port(), tmp_path / "s.sock"
    s = supervise.run(
        sys.executable,
        "-c",
        script,
        str(report),
        env={"SUPERVISOR_APP_LISTEN": f"127.0.0.1:{port},unix:{path}", "SUPERVISOR_APP_LISTEN_HANDOFF": "systemd"},
    )
    assert s.wait(10) == 0, s.output()
    seen = json.loads(report.read_text())
    assert seen["pid"] is True and seen["n"] == 2
    assert seen["socks"] == [["127.0.0.1", port], str(path)]
    assert seen["names"] == f"127.0.0.1_{port}:unix_{path}"
    assert seen["high"] == [3, 4]  # the held sockets, and none of ours beside them


def test_sockets_given_to_the_supervisor_by_socket_activation_are_handed_on(supervise: Launcher) -> None:
    """As systemd starts a socket-activated service: the listening socket at fd 3, LISTEN_FDS=1
    and LISTEN_PID the supervisor's own PID (set by a shell that then execs it)."""
    port = free_port()
    given = socket.socket()
    given.bind(("127.0.0.1", port))
    given.listen()
    # the socket comes in as stdin, and the shell moves it to 3, as a service manager places it
    s = supervise.run(*_gunicorn(), prefix=["sh", "-c", ACTIVATE.format(n=1), "sh"], stdin=given.fileno())
    given.close()
    s.wait_ready()
    assert get(port, "/").status == 200
    assert f"holding 127.0.0.1:{port} for the app (given by LISTEN_FDS)" in s.output()


def test_ipv6_wildcard_takes_ipv4_clients_too_as_gunicorn_binds_it(supervise: Launcher) -> None:
    if Path("/proc/sys/net/ipv6/bindv6only").read_text().strip() != "0" or not socket.has_ipv6:
        pytest.skip("this system binds IPv6 sockets v6-only by default")
    port = free_port()
    s = supervise.run(*_gunicorn(), env={"SUPERVISOR_APP_LISTEN": f"[::]:{port}"})
    s.wait_ready()
    assert get(port, "/").status == 200  # an IPv4 client on 127.0.0.1
    assert get(port, "/", host="::1").status == 200


def test_a_socket_that_took_the_port_while_gates_ran_is_exit_71_not_a_crash(
    supervise: Launcher, tmp_path: Path
) -> None:
    port, flag = free_port(), tmp_path / "go"
    s = supervise.run(
        *_gunicorn(), env={"SUPERVISOR_APP_LISTEN": f"127.0.0.1:{port}", "SUPERVISOR_GATE_GO": f"cmd:test -e {flag}"}
    )
    s.wait_listening()
    with socket.socket() as other:  # bound but not listening, ours lets SO_REUSEADDR in
        other.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        other.bind(("127.0.0.1", port))
        other.listen()
        flag.touch()
        assert s.wait(10) == 71
    out = s.output()
    assert f"cannot listen on 127.0.0.1:{port}: Address already in use" in out and "Traceback" not in out, out


ACTIVATE = 'exec 3<&0 0</dev/null; LISTEN_FDS={n} LISTEN_PID=$$ exec "$@"'


def test_sockets_given_by_activation_are_checked_as_app_listen_is(supervise: Launcher) -> None:
    with socket.socket() as given:
        given.bind(("127.0.0.1", 0))
        given.listen()
        s = supervise.run(
            *_gunicorn("--reuse-port"), prefix=["sh", "-c", ACTIVATE.format(n=1), "sh"], stdin=given.fileno()
        )
        assert s.wait(10) == 78
    assert "LISTEN_FDS (127.0.0.1:" in s.output() and "--reuse-port" in s.output()


def test_a_wrong_activation_count_takes_nothing_and_is_no_crash(supervise: Launcher) -> None:
    with socket.socket() as given:
        given.bind(("127.0.0.1", 0))
        given.listen()
        s = supervise.run("true", prefix=["sh", "-c", ACTIVATE.format(n=3), "sh"], stdin=given.fileno())
        assert s.wait(10) == 0
    assert "socket activation ignored: LISTEN_FDS=3, but fd 4 is" in s.output()
