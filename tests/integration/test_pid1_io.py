"""PID 1 never blocks, dies or loses a signal because of its own I/O (docs/reliability.md, "PID 1
and its own I/O"): out of file descriptors, a stderr nobody reads, floods of SIGCHLD, an internal
error with the app running, and what the app leaves in its process group. Every case is real: real
descriptor limits (``prlimit``), a real pipe nobody reads, real signals in a real PID namespace."""

import contextlib
import json
import os
import resource
import select
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import clean_env, free_port, get, status_of, supervisor_argv, wait_until
from tests.integration.supervised import APPS, Launcher, Supervised, pid1_prefix

pytestmark = [pytest.mark.integration, pytest.mark.faults]


HARD = min(1 << 16, resource.getrlimit(resource.RLIMIT_NOFILE)[1])  # what this test may give its children


def prlimit(soft: int, hard: int) -> list[str]:
    if not shutil.which("prlimit"):
        pytest.skip("prlimit (util-linux) is not installed")
    return ["prlimit", f"--nofile={soft}:{hard}", "--"]


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rpartition(b")")[2].split()[0] != b"Z"
    except FileNotFoundError:
        return False


def pids_running(pattern: str) -> list[int]:
    out = subprocess.run(["pgrep", "-f", pattern], capture_output=True, text=True).stdout
    return [int(p) for p in out.split() if alive(int(p))]


@contextlib.contextmanager
def connections(port: int, count: int) -> Iterator[list[socket.socket]]:
    """``count`` connections that send nothing; the kernel completes them from the backlog even
    while the supervisor cannot accept them."""
    held: list[socket.socket] = []
    try:
        for _ in range(count):
            sock = socket.socket()
            sock.settimeout(5)
            try:
                sock.connect(("127.0.0.1", port))
            except OSError:
                sock.close()
                break
            held.append(sock)
        yield held
    finally:
        for sock in held:
            sock.close()


def exhaust(pid: int) -> tuple[int, int]:
    """Lower ``pid``'s soft limit to its lowest free descriptor number, so that every new
    descriptor fails with EMFILE while those it holds stay open; the limits it had before."""
    used = {int(fd) for fd in os.listdir(f"/proc/{pid}/fd")}
    lowest_free = next(n for n in range(len(used) + 1) if n not in used)
    before = nofile(pid)
    subprocess.run(["prlimit", f"--pid={pid}", f"--nofile={lowest_free}:{before[1]}"], check=True)
    return before


def restore(pid: int, limits: tuple[int, int]) -> None:
    subprocess.run(["prlimit", f"--pid={pid}", f"--nofile={limits[0]}:{limits[1]}"], check=True)


def backlog(port: int) -> int:
    """Connections waiting in the listening socket's accept queue (``ss``'s Recv-Q)."""
    out = subprocess.run(["ss", "-Hltn", f"sport = :{port}"], capture_output=True, text=True, check=True).stdout
    return int(out.split()[1])


def nofile(pid: int) -> tuple[int, int]:
    for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
        if line.startswith("Max open files"):
            soft, hard = line.split()[3:5]
            return int(soft), int(hard)
    raise AssertionError("no 'Max open files' line")


# -- 1. out of file descriptors -----------------------------------------------------------------


def test_accept_out_of_descriptors_backs_off_keeps_serving_and_answers_again(supervise: Launcher) -> None:
    """The limit is lowered under a running supervisor (prlimit on its PID) to what it holds, so
    every accept() fails with EMFILE: the open keep-alive connection is still answered, the
    server logs the burst once, and answers new connections as soon as the limit allows."""
    s = supervise.run("sleep", "300")
    s.wait_ready()
    s.wait_listening()
    metrics_loaded = lambda: s.status("/metrics") == 200  # noqa: E731
    wait_until(metrics_loaded, 10, "/metrics loaded")
    import http.client

    kept = http.client.HTTPConnection("127.0.0.1", s.port, timeout=2)
    kept.request("GET", "/healthz")
    assert kept.getresponse().read() == b"ok"
    limits = exhaust(s.pid)
    with connections(s.port, 200) as waiting:
        assert len(waiting) == 200  # in the backlog: the supervisor cannot take them
        wait_until(lambda: "cannot accept health connections" in s.output(), 10, "the burst logged")
        for _ in range(20):  # the connection it has is served all along
            kept.request("GET", "/healthz")
            assert kept.getresponse().read() == b"ok"
        assert s.proc.poll() is None
    kept.close()
    restore(s.pid, limits)
    wait_until(lambda: s.status("/healthz") == 200, 5, "/healthz answered again")
    wait_until(lambda: "accepting health connections again, after" in s.output(), 5, "the end of the burst")
    assert s.output().count("cannot accept health connections") == 1, "one line per burst, not per try"
    assert s.status("/readyz") == 200 and s.status("/metrics") == 200
    s.signal(signal.SIGTERM)
    assert s.wait(10) == 143


def test_descriptors_freed_one_at_a_time_are_still_one_burst(supervise: Launcher) -> None:
    """Each connection that closes frees one descriptor: one accept works, the next fails again.
    That is one burst, logged once when it starts and once when it is over, with its count."""
    import http.client

    s = supervise.run("sleep", "300")
    s.wait_ready()
    wait_until(lambda: s.status("/metrics") == 200, 10, "/metrics loaded")
    kept = []
    for _ in range(8):
        conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=2)
        conn.request("GET", "/healthz")
        assert conn.getresponse().read() == b"ok"
        kept.append(conn)
    limits = exhaust(s.pid)
    with connections(s.port, 40) as waiting:
        assert len(waiting) == 40
        wait_until(lambda: "cannot accept health connections" in s.output(), 10, "the burst logged")
        wait_until(lambda: backlog(s.port) == 40, 10, "40 connections in the accept queue")
        for i, conn in enumerate(kept, 1):  # one descriptor back at a time, taken by a waiting one
            conn.close()
            wait_until(lambda: backlog(s.port) == 40 - i, 10, "one more taken from the queue")  # noqa: B023
        assert "accepting health connections again" not in s.output(), "one taken is no end of the burst"
        restore(s.pid, limits)
        wait_until(lambda: "accepting health connections again, after" in s.output(), 10, "the end of the burst")
    assert s.output().count("cannot accept health connections") == 1, s.output()
    assert s.output().count("accepting health connections again") == 1, s.output()
    s.signal(signal.SIGTERM)
    assert s.wait(10) == 143


@pytest.mark.parametrize(
    ("soft", "hard", "env", "flood"),
    [
        (64, 64, {}, 200),  # the default lowered to what fits, with a warning
        # soft raised; a heavy import (redis-py) meanwhile
        (100, 4096, {"SUPERVISOR_GATE_CACHE": "redis://127.0.0.1:1/0", "SUPERVISOR_GATE_CACHE__CRITICAL": "no"}, 600),
        (1024, HARD, {"SUPERVISOR_HEALTH_MAX_CONNECTIONS": "2000"}, 1500),  # soft raised for the setting
    ],
)
def test_connections_past_the_fd_limit_never_kill_the_supervisor_nor_orphan_the_app(
    supervise: Launcher, soft: int, hard: int, env: dict[str, str], flood: int
) -> None:
    s = supervise.run("sleep", "301", env=env, prefix=prlimit(soft, hard))
    s.wait_listening()
    with connections(s.port, flood) as held:
        assert len(held) == flood
        wait_until(lambda: s.status("/healthz") == 200, 10, "/healthz answered during the flood")
        assert s.proc.poll() is None, s.output()
    wait_until(lambda: s.status("/metrics") == 200, 15, "/metrics loaded (prometheus-client imported)")
    wait_until(lambda: s.status("/readyz") in (200, 503), 5, "/readyz")
    if "SUPERVISOR_GATE_CACHE" in env:  # its driver (redis-py) was imported: it has a verdict
        wait_until(
            lambda: json.loads(s.get("/readyz?format=json").body)["checks"]["cache"][0]["reasonClass"] == "refused",
            15,
            "the cache gate's verdict",
        )
    own_soft, _ = nofile(s.pid)
    app = pids_running("^sleep 301")
    assert app and nofile(app[0]) == (soft, hard), "the app gets the limits the supervisor was started with"
    if soft == 64:
        assert own_soft == 64 and "leaves room for" in s.output()
    else:
        assert own_soft > soft  # raised toward the hard limit
    s.signal(signal.SIGTERM)
    assert s.wait(10) == 143
    assert "internal error" not in s.output()


def test_a_max_connections_setting_over_the_hard_limit_is_exit_78_in_one_line() -> None:
    env = clean_env(
        SUPERVISOR_HEALTH_HOST="127.0.0.1",
        SUPERVISOR_HEALTH_PORT=str(free_port()),
        SUPERVISOR_HEALTH_MAX_CONNECTIONS="2000",
    )
    r = subprocess.run(
        [*prlimit(1024, 1024), *supervisor_argv(), "run", "--", "sleep", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert r.returncode == 78
    first = r.stderr.splitlines()[0]
    assert first.startswith("supervisor: SUPERVISOR_HEALTH_MAX_CONNECTIONS=2000: needs ")
    assert "hard limit of 1024" in first and "lower the setting or raise the limit" in first
    assert "Traceback" not in r.stderr


EXHAUST_PARENT = textwrap.dedent(
    """
    import os, resource
    parent = os.getppid()
    soft, hard = resource.prlimit(parent, resource.RLIMIT_NOFILE)
    # nothing above the standard streams: a descriptor the supervisor closes later (this task's
    # pipes, a probe's connection) cannot make room for the app's spawn
    resource.prlimit(parent, resource.RLIMIT_NOFILE, (3, hard))
    """
)


def test_an_app_that_cannot_be_spawned_for_want_of_descriptors_is_tried_again(supervise: Launcher) -> None:
    """EMFILE at spawn is no 'command not found' (127): the supervisor reports it and tries again.
    A pre-start task takes the supervisor's last descriptors away (prlimit on its parent), so
    the app's spawn is the next thing to need one."""
    task = shlex.join([sys.executable, "-c", EXHAUST_PARENT])
    s = supervise.run("sleep", "302", env={"SUPERVISOR_PRESTART_EXHAUST": task})
    s.wait_listening()
    wait_until(lambda: "cannot start 'sleep'" in s.output(), 20, "the failed spawn reported")
    assert s.proc.poll() is None
    assert "trying again in 1s" in s.output()
    restore(s.pid, (1024, nofile(s.pid)[1]))
    s.wait_ready(20)
    s.signal(signal.SIGTERM)
    assert s.wait(10) == 143


def test_a_hard_limit_lowered_from_outside_never_stops_a_spawn(supervise: Launcher) -> None:
    """The supervisor raised its soft limit and gives children back the one it was started with;
    when the hard limit is lowered under that meanwhile, a child gets what the hard limit allows
    instead of failing to start (it was exit 127: 'Exception occurred in preexec_fn')."""
    env = {"SUPERVISOR_RESTART": "always", "SUPERVISOR_BACKOFF_INITIAL": "50ms", "SUPERVISOR_BACKOFF_MAX": "100ms"}
    s = supervise.run("sh", "-c", "sleep 0.3; exit 1", env=env, prefix=prlimit(100, 4096))
    s.wait_listening()
    wait_until(lambda: nofile(s.pid)[0] > 100, 10, "the raised soft limit")
    subprocess.run(["prlimit", f"--pid={s.pid}", "--nofile=90:90"], check=True)  # no CAP_SYS_RESOURCE needed
    before = s.output().count("started sh")
    wait_until(lambda: s.output().count("started sh") >= before + 2, 20, "two more restarts")
    assert s.proc.poll() is None
    assert "preexec_fn" not in s.output() and "cannot start" not in s.output()
    s.signal(signal.SIGTERM)
    s.wait(10)


def test_closed_standard_streams_reach_the_app_as_dev_null(tmp_path: Path) -> None:
    """Started with ``<&- >&- 2>&-``, the app's descriptors 0-2 are /dev/null, not closed: the
    first file the app opened would otherwise be its stderr."""
    seen = tmp_path / "fds"
    app = "import os, sys; links = [os.readlink(f'/proc/self/fd/{n}') for n in range(3)]; "
    app += "open(sys.argv[1], 'w').write(' '.join(links))"  # read before this open takes a descriptor
    env = clean_env(SUPERVISOR_HEALTH_HOST="127.0.0.1", SUPERVISOR_HEALTH_PORT=str(free_port()))
    # the interpreter itself, not a wrapper script (a shell wrapper opens the script as fd 2)
    argv = shlex.join([sys.executable, "-m", "supervisor", "run", "--", sys.executable, "-c", app, str(seen)])
    r = subprocess.run(["sh", "-c", f"exec {argv} <&- >&- 2>&-"], env=env, timeout=30)
    assert r.returncode == 0
    assert seen.read_text().split() == ["/dev/null"] * 3


# -- internal errors never leave the app running -------------------------------------------------

INJECT = textwrap.dedent(
    """
    import signal, sys
    from supervisor import cli
    from supervisor.runtime import stopping

    original = stopping.Stopper.on_signal

    def on_signal(self, signum):
        if signum == signal.SIGUSR1:
            raise RuntimeError("injected failure")
        original(self, signum)

    stopping.Stopper.on_signal = on_signal
    sys.argv = ["supervisor", *sys.argv[1:]]
    cli.entry()
    """
)


@pytest.mark.parametrize("app_obeys", [True, False], ids=["app obeys SIGTERM", "app ignores SIGTERM"])
def test_an_internal_error_stops_the_app_first_then_exits_70(tmp_path: Path, app_obeys: bool) -> None:
    trapped = tmp_path / "trapped"
    trap = "exit 0" if app_obeys else ""
    script = f"trap '{trap}' TERM; touch {trapped}; while :; do sleep 0.05; done"
    env = clean_env(
        SUPERVISOR_HEALTH_HOST="127.0.0.1",
        SUPERVISOR_HEALTH_PORT=str(free_port()),
        SUPERVISOR_STOP_TIMEOUT="1s",
        SUPERVISOR_LOG_FORMAT="text",
    )
    log = tmp_path / "log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-c", INJECT, "run", "--", "sh", "-c", script], env=env, stdout=out, stderr=out
        )
    try:
        wait_until(trapped.exists, 20, "the app's trap in place")
        app = [p for p in pids_running(f"touch {trapped}") if p != proc.pid]
        assert app, "the app runs"
        started = time.monotonic()
        proc.send_signal(signal.SIGUSR1)
        assert proc.wait(10) == 70
        took = time.monotonic() - started
        text = log.read_text()
        assert "internal error; please report it" in text and "injected failure" in text
        assert not [p for p in app if alive(p)], "the app outlived the supervisor"
        if app_obeys:
            assert took < 1.0, "an app that obeys SIGTERM is not held for the stop timeout"
        else:
            assert took >= 1.0 and "SIGKILL" in text, "killed after the stop timeout"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


# -- 7. what the app started does not outlive it ------------------------------------------------


def test_what_a_restarted_app_left_in_its_session_is_stopped_each_time(supervise: Launcher) -> None:
    s = supervise.run(
        "sh",
        "-c",
        "sleep 104 & sleep 0.2; exit 1",
        env={
            "SUPERVISOR_RESTART": "on-failure",
            "SUPERVISOR_BACKOFF_INITIAL": "50ms",
            "SUPERVISOR_BACKOFF_MAX": "100ms",
        },
    )
    wait_until(lambda: s.output().count("started sh") >= 4, 20, "three restarts")
    wait_until(lambda: len(pids_running("^sleep 104")) <= 1, 10, "leftovers stopped after each exit")
    assert s.output().count("in its session: SIGTERM to them") >= 3
    s.signal(signal.SIGTERM)
    s.wait(10)
    assert pids_running("^sleep 104") == []


def ignoring_term(seconds: int) -> str:
    """A background job that ignores SIGTERM, as ``sleep SECONDS``."""
    return f"sh -c 'trap \"\" TERM; exec sleep {seconds}'"


def app_with_a_leftover(
    supervise: Launcher, tmp_path: Path, leftover: str, *, stop_timeout: str, on_term: str = "exit 0"
) -> Supervised:
    """An app that runs ``leftover`` in the background and does ``on_term`` on SIGTERM (it does
    not pass the signal on): ready, with its background job started."""
    ready = tmp_path / "ready"
    script = f'trap "{on_term}" TERM; {leftover} & touch {ready}; wait'
    s = supervise.run("sh", "-c", script, env={"SUPERVISOR_STOP_TIMEOUT": stop_timeout})
    s.wait_ready()
    wait_until(ready.exists, 10, "the app and its background job")
    return s


@pytest.mark.parametrize("stubborn", [False, True], ids=["leftover obeys SIGTERM", "leftover ignores SIGTERM"])
def test_a_clean_stop_leaves_nothing_of_the_apps_session(supervise: Launcher, tmp_path: Path, stubborn: bool) -> None:
    leftover = "sh -c 'trap \"\" TERM; sleep 105; sleep 105'" if stubborn else "sleep 105"
    s = app_with_a_leftover(supervise, tmp_path, leftover, stop_timeout="1s")
    assert pids_running("sleep 105")
    s.signal(signal.SIGTERM)
    assert s.wait(10) == 0
    assert pids_running("sleep 105") == []
    if stubborn:
        assert "SIGKILL" in s.output()


def test_a_second_sigterm_kills_what_an_exited_app_left_at_once(supervise: Launcher, tmp_path: Path) -> None:
    s = app_with_a_leftover(supervise, tmp_path, ignoring_term(205), stop_timeout="30s")
    wait_until(lambda: pids_running("^sleep 205"), 10, "the leftover")
    s.signal(signal.SIGTERM)
    wait_until(lambda: "left 1 process(es) in its session" in s.output(), 10, "the app gone, its leftover not")
    started = time.monotonic()
    s.signal(signal.SIGTERM)
    assert s.wait(10) == 0
    assert time.monotonic() - started < 5, "a second SIGTERM means now, not after STOP_TIMEOUT"
    assert pids_running("^sleep 205") == []


def test_a_stop_takes_one_stop_timeout_leftovers_included(supervise: Launcher, tmp_path: Path) -> None:
    """The app takes most of STOP_TIMEOUT to exit; what it left gets the rest, not a fresh one."""
    s = app_with_a_leftover(supervise, tmp_path, ignoring_term(206), stop_timeout="2s", on_term="sleep 1.5; exit 0")
    started = time.monotonic()
    s.signal(signal.SIGTERM)
    assert s.wait(10) == 0
    assert time.monotonic() - started < 2 + 1.0, "within STOP_TIMEOUT (and a little slack)"
    assert pids_running("^sleep 206") == []


SETPGID = textwrap.dedent(
    """
    import os, signal, sys
    if os.fork() == 0:
        os.setpgid(0, 0)  # a group of its own, still in the app's session
        os.execvp("sleep", ["sleep", "115"])
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    open(sys.argv[1], "w").close()
    signal.pause()
    """
)


def test_a_leftover_in_a_group_of_its_own_is_stopped_too(supervise: Launcher, tmp_path: Path) -> None:
    ready = tmp_path / "ready"
    s = supervise.run(sys.executable, "-c", SETPGID, str(ready))
    s.wait_ready()
    wait_until(ready.exists, 10, "the app and its child")
    wait_until(lambda: pids_running("^sleep 115"), 10, "the child in its own group")
    s.signal(signal.SIGTERM)
    assert s.wait(10) == 0
    assert pids_running("^sleep 115") == []


# -- 2. a stderr nobody reads --------------------------------------------------------------------

FLAKY = 20  # gates failing every few milliseconds: a debug line each time
FILL_STDERR = str(APPS / "fill_stderr.py")


def _stalled(extra: dict[str, str]) -> tuple[subprocess.Popen[bytes], int, int]:
    """A supervisor whose stdout and stderr are a pipe nobody reads, filled by its app at once;
    debug logging and gates failing every few milliseconds keep it writing."""
    port = free_port()
    read_end, write_end = os.pipe()
    env = clean_env(
        SUPERVISOR_HEALTH_HOST="127.0.0.1",
        SUPERVISOR_HEALTH_PORT=str(port),
        SUPERVISOR_LOG_LEVEL="debug",
        **{f"SUPERVISOR_GATE_FLAKY{i}": "cmd:false" for i in range(FLAKY)},
        **{f"SUPERVISOR_GATE_FLAKY{i}__CRITICAL": "false" for i in range(FLAKY)},
        SUPERVISOR_BACKOFF_INITIAL="5ms",
        SUPERVISOR_BACKOFF_MAX="10ms",
        **extra,
    )
    proc = subprocess.Popen(
        [*supervisor_argv(), "run", "--", sys.executable, FILL_STDERR],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=write_end,
        stderr=write_end,
    )
    os.close(write_end)
    return proc, port, read_end


def test_a_stalled_stderr_never_stalls_probes_nor_signals() -> None:
    proc, port, read_end = _stalled({})
    try:
        wait_until(lambda: status_of(port, "/healthz") == 200, 10, "/healthz")
        slowest = 0.0
        deadline = time.monotonic() + 3  # long past the moment the pipe is full
        while time.monotonic() < deadline:
            started = time.monotonic()
            assert get(port, "/healthz", timeout=1).status == 200
            slowest = max(slowest, time.monotonic() - started)
        assert slowest < 1.0
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 143
        # the app's own stop is immediate; the lines still waiting get logs.DRAIN_TIMEOUT at most
        assert time.monotonic() - started < 2.0 + 2.0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(read_end)


def test_lines_dropped_while_stderr_is_stalled_are_counted_once_it_flows() -> None:
    proc, port, read_end = _stalled({"SUPERVISOR_LOG_FORMAT": "json"})
    output = bytearray()
    try:
        wait_until(lambda: status_of(port, "/healthz") == 200, 10, "/healthz")
        # the 4,096 waiting lines fill within seconds, at a gate attempt every few milliseconds
        wait_until(lambda: _dropped(port) > 0, 30, "lines dropped while nobody reads")

        stop = threading.Event()

        def read() -> None:
            while not stop.is_set():
                ready, _, _ = select.select([read_end], [], [], 0.1)
                if ready:
                    output.extend(os.read(read_end, 1 << 16))

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        wait_until(lambda: b"log line(s) dropped: stderr did not take them in time" in output, 15, "the notice")
        notice = next(line for line in bytes(output).splitlines() if b"dropped: stderr" in line)
        entry = json.loads(notice[notice.index(b"{") :])  # the app's bytes may come first on its line
        assert entry["level"] == "warning" and int(entry["message"].split()[0]) > 0
        assert status_of(port, "/healthz") == 200
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 143
        stop.set()
        reader.join(5)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(read_end)


def _dropped(port: int) -> float:
    for line in get(port, "/metrics").text.splitlines():
        if line.startswith("supervisor_log_lines_dropped_total "):
            return float(line.split()[1])
    return 0.0


# -- 3. floods of SIGCHLD never cost a signal ---------------------------------------------------


@pytest.mark.slow
@pytest.mark.timeout(120)
@pytest.mark.parametrize("command", ["run", "wait"])
def test_sigterm_among_600_gate_exits_stops_every_time(command: str) -> None:
    env = clean_env(SUPERVISOR_HEALTH_HOST="127.0.0.1", SUPERVISOR_HEALTH_PORT=str(free_port()))
    if command == "run":
        env |= {f"SUPERVISOR_GATE_T{i}": "cmd:true" for i in range(600)}
        env["SUPERVISOR_GATE_NEVER"] = "cmd:false"
        argv = [*supervisor_argv(), "run", "--", "sleep", "303"]
    else:
        argv = [*supervisor_argv(), "wait", "--timeout", "60s", *(["cmd:true"] * 600), "cmd:false"]
    for _ in range(3):
        proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            # in the flood: the gates' processes are being started (one at a time, each exiting at
            # once) and reaped, which goes on for a second or more
            wait_until(lambda: _children(proc.pid), 20, "the gates' processes")  # noqa: B023
            started = time.monotonic()
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(10) == 143
            assert time.monotonic() - started < 2
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def _children(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except FileNotFoundError:
        return []


ORPHANS = str(APPS / "orphans.py")


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_sigterm_while_1000_orphans_exit_at_once_with_stderr_stalled(tmp_path: Path) -> None:
    go, forked = tmp_path / "go", tmp_path / "forked"
    port = free_port()
    read_end, write_end = os.pipe()
    env = clean_env(SUPERVISOR_HEALTH_HOST="127.0.0.1", SUPERVISOR_HEALTH_PORT=str(port), SUPERVISOR_LOG_LEVEL="debug")
    proc = subprocess.Popen(
        [*pid1_prefix(), *supervisor_argv(), "run", "--", sys.executable, ORPHANS, str(go), "1000", str(forked)],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=write_end,
        stderr=write_end,
    )
    os.close(write_end)
    try:
        wait_until(forked.exists, 60, "1,000 orphans waiting")
        supervisor = wait_until(lambda: _children(proc.pid), 10, "the namespace's PID 1")[0]
        go.touch()
        wait_until(lambda: len(_children(int(supervisor))) < 900, 20, "the orphans exiting")
        started = time.monotonic()
        os.kill(int(supervisor), signal.SIGTERM)
        assert proc.wait(15) == 143
        assert time.monotonic() - started < 2.0 + 2.0  # the stop, then at most logs.DRAIN_TIMEOUT
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(read_end)
