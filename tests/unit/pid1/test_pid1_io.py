"""The pure and in-process parts of PID 1's own I/O: the descriptor budget (``fdlimit.plan``),
the log writer's bounded queue over a real pipe nobody reads, the signal inbox under a real flood
of signals, and imports retried when they fail for want of descriptors."""

import contextlib
import errno
import importlib
import logging
import os
import resource
import signal
import sys
import threading
import time
from collections.abc import Iterator

import anyio
import pytest

from supervisor.logs import LineWriter
from supervisor.pid1 import fdlimit
from supervisor.pid1.signals import SignalInbox
from supervisor.runtime import lazyimport

INF = resource.RLIM_INFINITY


def plan(max_connections: int = 256, *, explicit: bool = False, checks: int = 2, soft: int, hard: int) -> fdlimit.Plan:
    return fdlimit.plan(
        max_connections=max_connections, explicit=explicit, checks=checks, open_now=3, soft=soft, hard=hard
    )


class TestDescriptorBudget:
    def test_enough_already_changes_nothing(self) -> None:
        assert plan(soft=1024, hard=4096) == fdlimit.Plan(256)
        assert plan(soft=INF, hard=INF) == fdlimit.Plan(256)

    def test_a_low_soft_limit_is_raised_to_what_is_needed_not_to_the_hard_one(self) -> None:
        need = fdlimit.needed(256, 2, 3)
        assert plan(soft=100, hard=4096) == fdlimit.Plan(256, raise_soft_to=need)
        assert plan(soft=100, hard=INF).raise_soft_to == need
        assert need < 4096

    def test_an_explicit_setting_over_the_hard_limit_is_refused_naming_it(self) -> None:
        result = plan(2000, explicit=True, soft=1024, hard=1024)
        assert result.problem is not None
        assert result.problem.startswith("SUPERVISOR_HEALTH_MAX_CONNECTIONS=2000: needs ")
        room = 1024 - fdlimit.needed(0, 2, 3)
        assert f"at most {room} fit" in result.problem

    def test_the_default_is_lowered_to_what_fits_with_a_warning(self) -> None:
        result = plan(soft=64, hard=64)
        assert result.problem is None and result.warning is not None
        assert result.max_connections == 64 - fdlimit.needed(0, 2, 3)
        assert fdlimit.needed(result.max_connections, 2, 3) <= 64
        assert result.raise_soft_to is None  # soft is hard already

    def test_the_default_takes_the_whole_hard_limit_when_soft_is_lower(self) -> None:
        result = plan(soft=32, hard=64)
        assert result.raise_soft_to == 64 and fdlimit.needed(result.max_connections, 2, 3) <= 64

    def test_a_limit_too_low_for_the_checks_themselves_is_refused(self) -> None:
        result = plan(checks=100, soft=64, hard=64)
        assert result.problem is not None and "too low for 100 check(s)" in result.problem

    @pytest.mark.parametrize("checks", [0, 1, 10, 600])
    def test_every_plan_that_works_fits_its_limit(self, checks: int) -> None:
        for soft, hard in ((64, 64), (100, 4096), (1024, 1024), (1024, 1 << 20), (50, 300)):
            for explicit in (False, True):
                result = plan(256, explicit=explicit, checks=checks, soft=soft, hard=hard)
                if result.problem:
                    continue
                limit = result.raise_soft_to or soft
                assert fdlimit.needed(result.max_connections, checks, 3) <= limit <= hard
                assert result.max_connections >= fdlimit.MIN_CONNECTIONS


def _drain_until_closed(writer: LineWriter, read_end: int) -> None:
    os.set_blocking(read_end, False)
    deadline = time.monotonic() + 10
    while not writer.close(timeout=0.01, stalled=0.01):
        assert time.monotonic() < deadline, "the writer never finished"
        with contextlib.suppress(BlockingIOError):
            os.read(read_end, 1 << 20)


class TestLineWriter:
    @pytest.fixture
    def pipe(self) -> Iterator[tuple[int, int]]:
        read_end, write_end = os.pipe()
        yield read_end, write_end
        for fd in (read_end, write_end):
            with contextlib.suppress(OSError):
                os.close(fd)

    def test_a_pipe_nobody_reads_costs_dropped_lines_never_a_blocked_caller(self, pipe: tuple[int, int]) -> None:
        read_end, write_end = pipe
        with os.fdopen(os.dup(write_end), "w") as stream:
            writer = LineWriter(stream, lambda n: f"dropped {n}", capacity=100)
            started = time.monotonic()
            for i in range(5000):  # far more than the pipe (64 KiB) and the queue hold
                writer.put(f"line {i} " + "x" * 2000)
            assert time.monotonic() - started < 1.0, "put() blocked"
            assert writer.dropped_total > 0
            started = time.monotonic()
            assert writer.close(timeout=0.3) is False  # still blocked: the wait is bounded
            assert time.monotonic() - started < 1.0
            _drain_until_closed(writer, read_end)  # its thread must not outlive this pipe's descriptors

    def test_the_count_of_dropped_lines_is_written_once_output_flows(self, pipe: tuple[int, int]) -> None:
        read_end, write_end = pipe
        os.set_blocking(read_end, False)
        with os.fdopen(os.dup(write_end), "w") as stream:
            writer = LineWriter(stream, lambda n: f"NOTICE {n} dropped", capacity=50)
            for i in range(3000):
                writer.put(f"line {i} " + "x" * 100)
            dropped = writer.dropped_total
            assert dropped > 0
            received = bytearray()
            deadline = time.monotonic() + 10
            while b"NOTICE" not in received and time.monotonic() < deadline:
                try:
                    received.extend(os.read(read_end, 1 << 16))
                except BlockingIOError:
                    time.sleep(0.01)  # pacing: the poll interval of a read with a deadline
            assert writer.close(timeout=5)
            lines = bytes(received).decode().splitlines()
            notices = [line for line in lines if line.startswith("NOTICE")]
            assert notices and sum(int(n.split()[1]) for n in notices) <= dropped
            assert lines[0] == "line 0 " + "x" * 100, "the first lines are kept, in order"

    def test_a_closed_stderr_is_never_an_error(self, pipe: tuple[int, int]) -> None:
        read_end, write_end = pipe
        os.close(read_end)  # EPIPE on every write (Python ignores SIGPIPE)
        with os.fdopen(os.dup(write_end), "w") as stream:
            writer = LineWriter(stream, str)
            writer.put("nobody reads this")
            assert writer.close(timeout=2)


class TestSignalInbox:
    def test_every_kind_that_arrived_is_taken_whatever_the_flood(self) -> None:
        """100,000 signals from another thread, of three kinds, while the main thread keeps
        busy: each kind is taken, and the wakeup pipe never warns about a full buffer."""
        inbox = SignalInbox()
        inbox.install((signal.SIGUSR1, signal.SIGUSR2, signal.SIGCHLD))
        try:
            done = threading.Event()

            def flood() -> None:
                for _ in range(50_000):
                    os.kill(os.getpid(), signal.SIGCHLD)
                os.kill(os.getpid(), signal.SIGUSR1)
                for _ in range(50_000):
                    os.kill(os.getpid(), signal.SIGCHLD)
                os.kill(os.getpid(), signal.SIGUSR2)
                done.set()

            thread = threading.Thread(target=flood)
            thread.start()
            seen: set[int] = set()
            while not done.is_set() or thread.is_alive():
                seen.update(inbox.take())
            thread.join()
            seen.update(inbox.take())
            assert seen == {signal.SIGUSR1, signal.SIGUSR2, signal.SIGCHLD}
        finally:
            inbox.close()

    def test_receive_yields_what_came_before_it_listened_then_every_later_kind(self) -> None:
        inbox = SignalInbox()
        inbox.install((signal.SIGUSR1, signal.SIGHUP))
        os.kill(os.getpid(), signal.SIGUSR1)  # before the event loop exists
        batches: list[list[int]] = []

        async def main() -> None:
            with anyio.fail_after(5):
                async for batch in inbox.receive():
                    batches.append(batch)
                    if batch == [signal.SIGUSR1]:
                        os.kill(os.getpid(), signal.SIGHUP)
                    else:
                        return

        try:
            anyio.run(main)
        finally:
            inbox.close()
        assert batches == [[signal.SIGUSR1], [signal.SIGHUP]]


def test_an_import_that_fails_for_want_of_descriptors_is_tried_again(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """prometheus-client's import of ``mmap`` fails this way when the descriptors run out: the
    import is tried again, with one log line, until it works."""
    calls = 0
    real = importlib.import_module

    def flaky(name: str) -> object:
        nonlocal calls
        calls += 1
        if calls <= 3:
            raise ImportError("cannot import mmap") from OSError(errno.EMFILE, os.strerror(errno.EMFILE))
        return real(name)

    monkeypatch.setattr(importlib, "import_module", flaky)
    monkeypatch.setattr(lazyimport, "RETRY", (0.001, 0.002))
    monkeypatch.delitem(sys.modules, "colorsys", raising=False)
    with caplog.at_level(logging.ERROR, logger="supervisor.imports"):
        module = anyio.run(lazyimport.import_retrying, "colorsys", "a test")
    assert module.__name__ == "colorsys" and calls == 4
    assert len([r for r in caplog.records if "cannot load colorsys" in r.getMessage()]) == 1
