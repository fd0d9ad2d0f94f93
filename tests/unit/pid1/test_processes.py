"""``pid1/processes``: the process table with real, short-lived processes (``sh``, ``sleep``).

A test never sleeps to let a process exit: it waits on a pidfd (readable once the process has
exited, and it reaps nothing, so the table's own reaper still gets the status), always bounded.
"""

import contextlib
import logging
import os
import resource
import select
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import anyio
import pytest

from supervisor.pid1 import processes, sessions
from supervisor.pid1.processes import ManagedProcess, ProcessTable, SpawnError

pytestmark = pytest.mark.timeout(20)

# a shell that leaves `sleep` in its session and exits at once (as a shell's background job does)
LEAVES_A_SLEEP = ["sh", "-c", "sleep 30 & exit 0"]
# `sleep` that ignores SIGTERM (an ignored signal stays ignored across exec); it says when it does
DEAF = ["sh", "-c", "trap '' TERM; echo deaf; exec sleep 30"]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def exited(pid: int, timeout: float = 5.0) -> None:
    """Return once ``pid`` has exited (a zombie is enough); fail after ``timeout``."""
    fd = os.pidfd_open(pid)
    try:
        readable, _, _ = select.select([fd], [], [], timeout)
        assert readable, f"pid {pid} still runs after {timeout}s"
    finally:
        os.close(fd)


def collected(table: ProcessTable, *ps: ManagedProcess) -> None:
    """Every one of ``ps`` reaped by ``table`` (``stop_everything`` may have reaped them already)."""
    for p in ps:
        if p.returncode is None:
            exited(p.pid)
    table.reap()
    assert all(p.returncode is not None for p in ps)


def session_empty(sid: int, timeout: float = 5.0) -> bool:
    """Whether ``sid`` has no live member, looked at until ``timeout`` (an orphan's end is not ours
    to wait for: it is reparented)."""
    deadline = time.monotonic() + timeout
    while sessions.live([sid]):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)  # pacing of a bounded condition wait: nothing else to wait on for an orphan
    return True


def spawn_deaf(table: ProcessTable) -> ManagedProcess:
    """A process that ignores SIGTERM, returned once it does (a SIGTERM before its ``trap`` would
    still end it)."""
    p = table.spawn(DEAF, stdout=subprocess.PIPE)
    fd = p.stdout_fd
    assert fd is not None
    readable, _, _ = select.select([fd], [], [], 5)
    assert readable, "the deaf process never said it ignores SIGTERM"
    assert os.read(fd, 16) == b"deaf\n"
    p.close_pipes()
    return p


@pytest.fixture
def table() -> Iterator[ProcessTable]:
    t = ProcessTable(adopt_orphans=False)
    started: list[int] = []
    spawn = t.spawn

    def tracking_spawn(*args: object, **kw: object) -> ManagedProcess:
        process = spawn(*args, **kw)  # type: ignore[arg-type]
        started.append(process.pid)
        return process

    t.spawn = tracking_spawn  # type: ignore[method-assign]
    yield t
    for pid in started:  # whatever a failed test left behind: its whole session, then the status
        with contextlib.suppress(OSError):
            os.killpg(pid, signal.SIGKILL)
        for sid, members in sessions.live([pid]).items():
            sessions.signal(sid, members, signal.SIGKILL)
    for pid in started:
        with contextlib.suppress(OSError):
            exited(pid)
    t.reap()


def test_the_reaper_delivers_the_exit_code(table: ProcessTable) -> None:
    p = table.spawn(["sh", "-c", "exit 3"])
    assert p.returncode is None
    exited(p.pid)
    assert p.returncode is None  # nothing waits by itself: only the reaper delivers
    table.reap()
    assert p.returncode == 3

    async def wait() -> int:
        with anyio.fail_after(5):
            return await p.wait()

    assert anyio.run(wait) == 3


def test_a_signal_is_a_negative_returncode_and_nothing_after_exit(table: ProcessTable) -> None:
    p = table.spawn(["sleep", "30"])
    assert p.send_signal(signal.SIGTERM) is True
    exited(p.pid)
    table.reap()
    assert p.returncode == -signal.SIGTERM
    assert p.send_signal(signal.SIGTERM) is False  # exited: never a signal to a reused PID


def test_each_process_leads_a_session_of_its_own(table: ProcessTable) -> None:
    p = table.spawn(["sleep", "30"])
    assert os.getsid(p.pid) == p.pid
    assert os.getpgid(p.pid) == p.pid
    assert os.getsid(p.pid) != os.getsid(0)
    p.kill_group()
    exited(p.pid)
    table.reap()
    assert p.returncode == -signal.SIGKILL


def _output_of(table: ProcessTable, script: str) -> tuple[ManagedProcess, bytes]:
    """``sh -c script`` spawned with its stdout piped, and all it wrote (read to its end)."""
    p = table.spawn(["sh", "-c", script], stdout=subprocess.PIPE)
    fd = p.stdout_fd
    assert fd is not None
    with os.fdopen(os.dup(fd), "rb") as out:
        output = out.read()
    p.close_pipes()
    return p, output


def test_output_can_be_piped(table: ProcessTable) -> None:
    p, output = _output_of(table, "echo hello")
    assert output == b"hello\n"
    exited(p.pid)
    table.reap()
    assert p.returncode == 0


def test_a_missing_program_is_a_spawn_error(table: ProcessTable) -> None:
    with pytest.raises(SpawnError) as caught:
        table.spawn(["/nonexistent/surely-not-a-program", "x"])
    assert caught.value.not_found is True
    assert caught.value.transient is False
    assert "cannot start '/nonexistent/surely-not-a-program'" in str(caught.value)


def test_a_program_that_is_not_executable_is_not_a_not_found(table: ProcessTable, tmp_path: Path) -> None:
    script = tmp_path / "script"
    script.write_text("#!/bin/sh\nexit 0\n")
    script.chmod(0o644)  # no execute bit for anyone: EACCES, root included
    with pytest.raises(SpawnError) as caught:
        table.spawn([str(script)])
    assert caught.value.not_found is False
    assert caught.value.transient is False
    assert "Permission denied" in str(caught.value)


def test_the_reaper_never_takes_a_status_that_is_not_its_own(table: ProcessTable) -> None:
    other = subprocess.Popen(["sh", "-c", "exit 5"])
    exited(other.pid)
    table.reap()  # not PID 1 nor a subreaper: only its own PIDs are waited for
    assert other.wait(timeout=5) == 5


def test_a_status_taken_by_another_waiter_reads_255(table: ProcessTable, caplog: pytest.LogCaptureFixture) -> None:
    p = table.spawn(["sh", "-c", "exit 0"])
    os.waitpid(p.pid, 0)  # someone else's waitpid
    with caplog.at_level(logging.WARNING, logger="supervisor"):
        table.reap()
    assert p.returncode == 255  # never a false success
    assert f"exit status of pid {p.pid} was taken by another waiter" in caplog.text


# Run in a process of its own: an adopting reaper waits for any child (``waitpid(-1)``), which in
# the test runner would take the exit statuses of other tests' children.
ADOPTING = """
import os, select, signal, subprocess
from supervisor.pid1 import processes

def exited(pid):
    fd = os.pidfd_open(pid)
    assert select.select([fd], [], [], 5)[0], pid
    os.close(fd)

assert processes.should_adopt_orphans(True), "prctl(PR_SET_CHILD_SUBREAPER) failed"
t = processes.ProcessTable(adopt_orphans=True)
p = t.spawn(["sh", "-c", "sleep 30 </dev/null >/dev/null 2>&1 & echo $!; exit 7"], stdout=subprocess.PIPE)
orphan = int(os.read(p.stdout_fd, 64))
p.close_pipes()
exited(p.pid)
t.reap()
print("managed", p.returncode)
with open(f"/proc/{orphan}/stat") as f:
    print("adopted", int(f.read().rpartition(")")[2].split()[1]) == os.getpid())
os.kill(orphan, signal.SIGKILL)
exited(orphan)
t.reap()
try:
    os.waitpid(orphan, os.WNOHANG)
    print("orphan left")
except ChildProcessError:
    print("orphan reaped")
"""


def test_an_adopting_reaper_delivers_its_own_and_reaps_orphans() -> None:
    r = subprocess.run([sys.executable, "-c", ADOPTING], capture_output=True, text=True, timeout=20)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == ["managed 7", "adopted True", "orphan reaped"]


def test_stop_everything_terms_what_runs(table: ProcessTable) -> None:
    app = table.spawn(["sleep", "30"])
    gate = table.spawn(["sleep", "30"], track=False)  # a gate command still running is stopped too
    table.stop_everything(timeout=5)
    collected(table, app, gate)
    assert app.returncode == -signal.SIGTERM
    assert gate.returncode == -signal.SIGTERM


def test_stop_everything_kills_what_ignores_sigterm_after_the_timeout(table: ProcessTable) -> None:
    deaf = spawn_deaf(table)
    assert session_empty(deaf.pid, 0) is False
    started = time.monotonic()
    table.stop_everything(timeout=0.3)
    took = time.monotonic() - started
    collected(table, deaf)
    assert deaf.returncode == -signal.SIGKILL
    assert 0.3 <= took < 5


def test_stop_everything_kills_at_once_when_told_to(table: ProcessTable) -> None:
    deaf = spawn_deaf(table)
    started = time.monotonic()
    table.stop_everything(timeout=30, stop_now=lambda: True)  # a second stop signal
    assert time.monotonic() - started < 5
    collected(table, deaf)
    assert deaf.returncode == -signal.SIGKILL


def test_stop_everything_with_nothing_running_returns_at_once(table: ProcessTable) -> None:
    p = table.spawn(["sh", "-c", "exit 0"])
    exited(p.pid)
    started = time.monotonic()
    table.stop_everything(timeout=30)
    assert time.monotonic() - started < 5
    assert p.returncode == 0  # it reaps first: an exited child is not waited for


def test_stop_everything_stops_what_a_tracked_process_left_behind(table: ProcessTable) -> None:
    shell = table.spawn(LEAVES_A_SLEEP)
    exited(shell.pid)
    table.reap()
    assert shell.returncode == 0
    assert sessions.live([shell.pid])  # its sleep is still in the session
    table.stop_everything(timeout=5)
    assert session_empty(shell.pid)


def test_an_untracked_process_leaves_its_session_to_its_owner(table: ProcessTable) -> None:
    shell = table.spawn(LEAVES_A_SLEEP, track=False)  # a cmd: gate: it kills its own group
    exited(shell.pid)
    table.reap()
    table.stop_everything(timeout=5)
    assert sessions.live([shell.pid])  # not ours to stop
    os.killpg(shell.pid, signal.SIGKILL)  # the owner's part
    assert session_empty(shell.pid)


async def _end_leftovers(
    table: ProcessTable, process: ManagedProcess, timeout: float, hurry: anyio.Event | None = None
) -> int | None:
    with anyio.fail_after(10):
        return await table.end_leftovers(process, signal.SIGTERM, timeout, hurry)


@pytest.mark.anyio
async def test_end_leftovers_with_nothing_left(table: ProcessTable) -> None:
    p = table.spawn(["sh", "-c", "exit 0"])
    exited(p.pid)
    table.reap()
    assert await _end_leftovers(table, p, 5) is None


@pytest.mark.anyio
async def test_end_leftovers_terms_what_a_process_left(table: ProcessTable, caplog: pytest.LogCaptureFixture) -> None:
    shell = table.spawn(LEAVES_A_SLEEP)
    exited(shell.pid)
    table.reap()
    with caplog.at_level(logging.WARNING, logger="supervisor"):
        assert await _end_leftovers(table, shell, 5) == signal.SIGTERM
    assert not sessions.live([shell.pid])
    assert f"pid {shell.pid} exited but left 1 process(es) in its session: SIGTERM to them" in caplog.text


@pytest.mark.anyio
async def test_end_leftovers_kills_what_ignores_the_signal(table: ProcessTable) -> None:
    shell = table.spawn(["sh", "-c", "trap '' TERM; sleep 30 & exit 0"])
    exited(shell.pid)
    table.reap()
    started = time.monotonic()
    assert await _end_leftovers(table, shell, 0.3) == signal.SIGKILL
    assert time.monotonic() - started >= 0.3
    assert session_empty(shell.pid)


@pytest.mark.anyio
async def test_end_leftovers_hurries_on_a_second_stop(table: ProcessTable) -> None:
    shell = table.spawn(["sh", "-c", "trap '' TERM; sleep 30 & exit 0"])
    exited(shell.pid)
    table.reap()
    hurry = anyio.Event()
    hurry.set()
    started = time.monotonic()
    assert await _end_leftovers(table, shell, 30, hurry) == signal.SIGKILL
    assert time.monotonic() - started < 5
    assert session_empty(shell.pid)


@pytest.mark.anyio
async def test_spawn_in_turn_is_untracked_and_runs(table: ProcessTable) -> None:
    p = await table.spawn_in_turn(["sh", "-c", "exit 4"])
    exited(p.pid)
    table.reap()
    with anyio.fail_after(5):
        assert await p.wait() == 4
    assert p.pid not in table._sessions


class _Inbox:
    def __init__(self, batches: list[list[int]]) -> None:
        self.batches = batches

    async def receive(self) -> AsyncIterator[list[int]]:
        for batch in self.batches:
            yield batch


@pytest.mark.anyio
async def test_serve_reaps_on_sigchld_and_hands_other_signals_on(table: ProcessTable) -> None:
    p = table.spawn(["sh", "-c", "exit 9"])
    exited(p.pid)
    others: list[int] = []
    with anyio.fail_after(5):
        await table.serve(_Inbox([[signal.SIGHUP, signal.SIGCHLD], [signal.SIGUSR1]]), others.append)  # type: ignore[arg-type]
    assert p.returncode == 9
    assert others == [signal.SIGHUP, signal.SIGUSR1]


def test_the_childs_descriptor_limit_is_given_back() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = min(soft, 256) - 1
    t = ProcessTable(adopt_orphans=False, child_nofile=(wanted, hard))
    p, output = _output_of(t, "ulimit -n")
    assert output.strip() == str(wanted).encode()
    exited(p.pid)
    t.reap()
    assert p.returncode == 0
    assert resource.getrlimit(resource.RLIMIT_NOFILE) == (soft, hard)  # ours is untouched


def test_app_only_variables_are_withheld_from_us_and_given_to_children(
    monkeypatch: pytest.MonkeyPatch, table: ProcessTable
) -> None:
    monkeypatch.setattr(processes, "_withheld", {})
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", "/tmp/app-metrics")
    processes.withhold_app_only_variables()
    assert "PROMETHEUS_MULTIPROC_DIR" not in os.environ
    assert processes.child_environ()["PROMETHEUS_MULTIPROC_DIR"] == "/tmp/app-metrics"
    _, output = _output_of(table, 'echo "$PROMETHEUS_MULTIPROC_DIR"')
    assert output == b"/tmp/app-metrics\n"


def test_the_installed_table_is_current_only_inside() -> None:
    with pytest.raises(RuntimeError, match="no process table"):
        processes.current()
    t = ProcessTable(adopt_orphans=False)
    with processes.installed(t) as installed:
        assert installed is t
        assert processes.current() is t
    with pytest.raises(RuntimeError):
        processes.current()


def test_not_pid_1_and_not_asked_means_no_adoption() -> None:
    assert os.getpid() != 1
    assert processes.should_adopt_orphans(False) is False


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root, to become another user in a forked child")
def test_a_process_no_longer_ours_to_signal_is_a_warning_never_an_exception() -> None:
    """EPERM from the kernel (the app exec'd a set-user-ID program, or the supervisor runs as
    another user than it): a stop goes on. A forked child that has become ``nobody`` signals a
    group led by a process of root's, for real."""
    target = subprocess.Popen(["sleep", "30"], start_new_session=True)
    try:
        child = os.fork()
        if child == 0:  # pragma: no cover - the forked child, which reports by its exit code
            code = 12
            try:
                os.setgroups([])
                os.setresgid(65534, 65534, 65534)
                os.setresuid(65534, 65534, 65534)
                said: list[logging.LogRecord] = []
                catch = logging.Handler(logging.WARNING)
                catch.emit = said.append  # type: ignore[method-assign,assignment]
                processes.log.addHandler(catch)
                process = object.__new__(ManagedProcess)  # only what signalling reads
                process.pid, process.returncode = target.pid, None
                code = 10 if process.signal_group(signal.SIGTERM) is False else 11
                if code == 10 and [r.getMessage() for r in said] != [
                    f"cannot send SIGTERM to pid {target.pid}: Operation not permitted"
                ]:
                    code = 13  # refused without saying so
            finally:
                os._exit(code)
        _pid, status = os.waitpid(child, 0)
        assert os.waitstatus_to_exitcode(status) == 10  # refused, no exception: False, and one warning
        assert target.poll() is None  # and the kernel did refuse: it still runs
    finally:
        target.kill()
        target.wait()
