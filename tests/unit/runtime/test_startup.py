"""The start-up sequence with a fake process table: the graph's order, failures, timeouts."""

import anyio
import pytest

from supervisor.config.settings import PrestartTask
from supervisor.core.checks import CheckState, Role, Status, record_failure, record_success
from supervisor.core.readiness import Phase
from supervisor.pid1.foreground import Foreground
from supervisor.runtime.startup import StartupSequence, late_gates, task_states
from supervisor.runtime.state import StateStore
from tests.unit.fakes import FakeTable, eventually

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def gate(name: str, *, after: tuple[str, ...] = (), critical: bool = True) -> CheckState:
    return CheckState(name, "tcp", f"tcp://{name}:1", after=after, critical=critical)


def task(name: str, after: tuple[str, ...], timeout: float | None = None) -> PrestartTask:
    return PrestartTask(name, (name,), f"SUPERVISOR_PRESTART_{name.upper()}", name, after=after, timeout=timeout)


class World:
    def __init__(self, gates: list[CheckState], tasks: tuple[PrestartTask, ...], **kw: object) -> None:
        self.store = StateStore([*gates, *task_states(tasks)])
        self.table = FakeTable()
        self.foreground = Foreground()
        self.exit_codes: list[int] = []
        self.sequence = StartupSequence(
            store=self.store,
            tasks=tasks,
            spawner=self.table,
            foreground=self.foreground,
            finish=self.exit_codes.append,
            startup_timeout=float(kw.get("startup_timeout", 60.0)),  # type: ignore[arg-type]
            on_startup_timeout="exit" if kw.get("on_startup_timeout") == "exit" else "degraded",
        )
        self.result: bool | None = None

    def passes(self, name: str) -> None:
        self.store.set(record_success(self.store.get(name), now=1.0, duration=0.01))

    def fails(self, name: str, error: str = "refused") -> None:
        self.store.set(record_failure(self.store.get(name), now=1.0, duration=0.01, error=error))

    async def run(self) -> None:
        self.result = await self.sequence.run()

    async def settle(self) -> None:
        """Let every task that can run do so (the fake spawns synchronously)."""
        for _ in range(20):
            await anyio.sleep(0)  # pacing: yield to every task that is ready to run


async def test_a_task_starts_once_its_own_prerequisites_pass_not_every_gate() -> None:
    w = World(
        [gate("db"), gate("cache")],
        (task("migrate", ("db",)), task("static", ("cache", "db", "prestart-migrate"))),
    )
    async with anyio.create_task_group() as tg:
        tg.start_soon(w.run)
        await w.settle()
        assert w.table.spawned == []
        w.passes("db")
        migrate = await w.table.wait_spawned("migrate")
        await w.settle()
        assert w.table.names() == ["migrate"]  # cache is still pending: static waits
        assert w.store.get("prestart-static").reason == "waiting for cache, db, prestart-migrate"
        migrate.exit(0)
        await w.settle()
        assert w.table.names() == ["migrate"] and w.result is None
        w.passes("cache")
        (await w.table.wait_spawned("static")).exit(0)
    assert w.result is True
    assert w.store.get("prestart-migrate").status is Status.PASS


async def test_independent_tasks_run_at_the_same_time() -> None:
    w = World([gate("db")], (task("a", ("db",)), task("b", ("db",))))
    async with anyio.create_task_group() as tg:
        tg.start_soon(w.run)
        w.passes("db")
        a, b = await w.table.wait_spawned("a"), await w.table.wait_spawned("b")
        assert a.returncode is None and b.returncode is None
        assert len(w.foreground.running()) == 2
        a.exit(0)
        b.exit(0)
    assert w.result is True


async def test_a_prerequisite_that_fails_again_before_the_task_starts_is_waited_for() -> None:
    w = World([gate("db"), gate("cache")], (task("t", ("db", "cache")),))
    async with anyio.create_task_group() as tg:
        tg.start_soon(w.run)
        w.passes("db")
        w.fails("db")
        w.passes("cache")
        await w.settle()
        assert w.table.spawned == []
        w.passes("db")
        (await w.table.wait_spawned("t")).exit(0)
    assert w.result is True


async def test_the_app_waits_for_every_critical_gate_and_task_but_not_non_critical_ones() -> None:
    w = World([gate("db"), gate("mail", critical=False)], (task("t", ("db",)),))
    async with anyio.create_task_group() as tg:
        tg.start_soon(w.run)
        w.passes("db")
        (await w.table.wait_spawned("t")).exit(0)
    assert w.result is True and w.store.get("mail").status is Status.PENDING


async def test_a_failed_task_degrades_for_good_and_lets_running_tasks_finish() -> None:
    w = World([gate("db")], (task("a", ("db",)), task("b", ("db",)), task("c", ("prestart-a",))))
    async with anyio.create_task_group() as tg:
        tg.start_soon(w.run)
        w.passes("db")
        a, b = await w.table.wait_spawned("a"), await w.table.wait_spawned("b")
        b.exit(5)
        await w.settle()
        assert w.store.phase is Phase.DEGRADED
        assert a.signals == [] and a.returncode is None  # not killed half-way
        a.exit(0)
    assert w.result is False
    assert w.table.names() == ["a", "b"]  # c was never started
    assert w.store.get("prestart-b").reason == "exit-status: exited with code 5"
    assert w.exit_codes == []


async def test_a_failed_task_exits_69_with_on_startup_timeout_exit() -> None:
    w = World([gate("db")], (task("a", ("db",)),), on_startup_timeout="exit")
    async with anyio.create_task_group() as tg:
        tg.start_soon(w.run)
        w.passes("db")
        (await w.table.wait_spawned("a")).exit(1)
        await eventually(lambda: bool(w.exit_codes))
        tg.cancel_scope.cancel()  # the real finish cancels the run
    assert w.exit_codes == [69]


async def test_a_task_over_its_timeout_is_killed_and_fails() -> None:
    w = World([gate("db")], (task("slow", ("db",), timeout=0.05),))
    async with anyio.create_task_group() as tg:
        tg.start_soon(w.run)
        w.passes("db")
        slow = await w.table.wait_spawned("slow")
    assert slow.signals[-1] == 9
    assert w.result is False and w.store.get("prestart-slow").reason == "timeout: timed out after 50ms"


async def test_startup_timeout_judges_failing_gates_not_those_waiting_for_a_task() -> None:
    w = World([gate("db"), gate("schema", after=("prestart-m",))], (task("m", ("db",)),), startup_timeout=0.05)
    async with anyio.create_task_group() as tg:
        tg.start_soon(w.run)
        w.passes("db")
        m = await w.table.wait_spawned("m")
        await anyio.sleep(0.1)  # pacing: past the startup timeout while the task runs: not a failure
        assert w.store.phase is Phase.GATING
        assert late_gates(w.store.snapshot()) == ()
        m.exit(0)
        await w.settle()
        w.passes("schema")
    assert w.result is True


async def test_startup_timeout_with_a_failing_gate_degrades_and_keeps_waiting() -> None:
    w = World([gate("db")], (), startup_timeout=0.05)
    async with anyio.create_task_group() as tg:
        tg.start_soon(w.run)
        w.fails("db")
        await eventually(lambda: w.store.phase is Phase.DEGRADED)
        w.passes("db")
    assert w.result is True


async def test_no_task_starts_once_a_stop_was_requested() -> None:
    from supervisor.core.readiness import Event

    w = World([gate("db")], (task("a", ("db",)),))
    async with anyio.create_task_group() as tg:
        tg.start_soon(w.run)
        w.store.apply(Event.STOP_REQUESTED)
        w.passes("db")
    assert w.result is False and w.table.spawned == []


def test_roles_are_kept_apart_in_the_snapshot() -> None:
    w = World([gate("db")], (task("a", ("db",)),))
    snap = w.store.snapshot()
    assert [c.role for c in snap.checks] == [Role.GATE, Role.TASK]
    assert snap.check("prestart-a") is not None and snap.gates == (snap.check("db"),)


async def test_a_failing_non_critical_gate_that_a_task_waits_for_is_judged_at_the_startup_timeout() -> None:
    w = World([gate("mail", critical=False)], (task("t", ("mail",)),), startup_timeout=0.05, on_startup_timeout="exit")
    async with anyio.create_task_group() as tg:
        tg.start_soon(w.run)
        w.fails("mail")
        await eventually(lambda: bool(w.exit_codes))
        tg.cancel_scope.cancel()
    assert w.exit_codes == [69] and w.table.spawned == []


def test_a_non_critical_gate_nothing_waits_for_is_never_late() -> None:
    w = World([gate("mail", critical=False), gate("db")], (task("t", ("db",)),))
    w.fails("mail")
    w.fails("db")
    assert [g.name for g in late_gates(w.store.snapshot())] == ["db"]


@pytest.mark.parametrize("on_startup_timeout", ["exit", "degraded"])
async def test_a_startup_timeout_that_falls_after_a_stop_judges_nothing(on_startup_timeout: str) -> None:
    """The timeout's sleep may end in the same loop turn as the stop, before the start-up sees it:
    it must neither finish with 69 nor send an event the stopping phase refuses."""
    from supervisor.core.readiness import Event

    w = World([gate("db")], (), startup_timeout=0.0, on_startup_timeout=on_startup_timeout)
    w.fails("db")
    w.store.apply(Event.STOP_REQUESTED)
    await w.sequence._judge_at_timeout(anyio.CancelScope())
    assert w.exit_codes == [] and w.store.phase is Phase.STOPPING
