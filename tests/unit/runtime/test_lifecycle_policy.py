"""The restart policy, the app's lifecycle and stopping, in-process with a fake process table."""

import random
import signal

import anyio
import pytest

from supervisor.config.models import OnRestartLimit, RestartMode
from supervisor.core.backoff import Backoff
from supervisor.core.checks import CheckState, record_success
from supervisor.core.readiness import ChildStatus, Phase
from supervisor.pid1.foreground import Foreground
from supervisor.runtime.engine import GateEngine
from supervisor.runtime.lifecycle import Action, AppLifecycle, RestartPolicy
from supervisor.runtime.state import StateStore
from supervisor.runtime.stopping import Stopper
from tests.unit.fakes import FakeTable, eventually

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def policy(
    mode: RestartMode = "on-failure", *, limit: int = 2, window: float = 10.0, on_limit: OnRestartLimit = "exit"
) -> RestartPolicy:
    return RestartPolicy(
        mode, limit=limit, window=window, on_limit=on_limit, backoff=Backoff(0.001, 0.002), rng=random.Random(0)
    )


class TestRestartPolicy:
    def test_never_and_clean_exits_on_failure_exit(self) -> None:
        assert policy("never").after_exit(1, 0.0).action is Action.FINISH
        assert policy("on-failure").after_exit(0, 0.0).action is Action.FINISH
        assert policy("always").after_exit(0, 0.0).action is Action.RESTART

    def test_the_limit_counts_restarts_within_the_window_only(self) -> None:
        p = policy(limit=2, window=10.0)
        for t in (0.0, 1.0):
            decision = p.after_exit(1, t)
            assert decision.action is Action.RESTART
            p.restarted(t)
        assert p.after_exit(1, 2.0).action is Action.LIMIT_FINISH
        assert p.recent(10.5) == 1  # the restart at 0.0 has left the window
        decision = p.after_exit(1, 11.5)  # both have: a stable app starts afresh
        assert decision.action is Action.RESTART and decision.attempt == 1

    @pytest.mark.parametrize("mode", ["never", "on-failure", "always"])
    def test_a_hang_restarts_whatever_the_mode_under_the_same_limit(self, mode: RestartMode) -> None:
        p = policy(mode, limit=1)
        decision = p.after_hang(0.0)
        assert decision.action is Action.RESTART and decision.attempt == 1
        p.restarted(0.0)
        assert p.after_hang(1.0).action is Action.LIMIT_FINISH
        assert p.after_exit(1, 1.0).action in (Action.LIMIT_FINISH, Action.FINISH)  # one count for both
        assert policy(mode, limit=0, on_limit="degraded").after_hang(0.0).action is Action.GIVE_UP

    def test_degraded_at_the_limit_gives_up(self) -> None:
        assert policy(limit=0, on_limit="degraded").after_exit(1, 0.0).action is Action.GIVE_UP


async def test_the_lifecycle_restarts_then_exits_with_the_apps_code_at_the_limit() -> None:
    store = StateStore([record_success(CheckState("db", "tcp", "t"), now=1, duration=0)])
    table, foreground, codes = FakeTable(), Foreground(), list[int]()
    engine = GateEngine(store, Backoff(0.001, 0.002), 1.0)
    async with anyio.create_task_group() as tg:
        app = AppLifecycle(
            ("app",),
            store=store,
            spawner=table,
            foreground=foreground,
            policy=policy(limit=2),
            engine=engine,
            app_probe=None,
            tg=tg,
            finish=codes.append,
        )
        tg.start_soon(app.run)
        for n in range(3):
            await eventually(lambda: len(table.spawned) > n)  # noqa: B023 - awaited within the iteration
            assert store.snapshot().child.status is ChildStatus.RUNNING
            table.spawned[n].exit(3)
    assert codes == [3] and len(table.spawned) == 3 and app.restarts == 2
    assert store.snapshot().child.exit_code == 3


async def test_a_stop_with_only_tasks_running_forwards_to_each_and_exits_128_plus_n() -> None:
    store = StateStore([])
    table, foreground, codes = FakeTable(), Foreground(), list[int]()
    async with anyio.create_task_group() as tg:
        stopper = Stopper(store, foreground, tg, codes.append, app_argv=("app",), drain_delay=5.0, stop_timeout=5.0)
        a, b = table.spawn(["a"]), table.spawn(["b"])
        foreground.add(a, is_app=False)
        foreground.add(b, is_app=False)
        stopper.on_signal(signal.SIGTERM)
        assert store.phase is Phase.STOPPING
        assert a.signals == [signal.SIGTERM] and b.signals == [signal.SIGTERM]  # no drain: not the app
        a.exit(-15)
        foreground.release(a, 143)
        await anyio.sleep(0.01)  # pacing: time for a wrong exit to happen
        assert codes == []  # b still runs
        stopper.on_signal(signal.SIGINT)  # a second stop signal kills what is left
        assert b.signals[-1] == signal.SIGKILL
        foreground.release(b, 137)
        await eventually(lambda: codes)
        tg.cancel_scope.cancel()
    assert codes == [143]


async def test_a_stop_with_nothing_running_exits_at_once() -> None:
    store = StateStore([])
    codes: list[int] = []
    async with anyio.create_task_group() as tg:
        Stopper(store, Foreground(), tg, codes.append, app_argv=(), drain_delay=0, stop_timeout=1).on_signal(
            signal.SIGINT
        )
    assert codes == [130] and store.phase is Phase.STOPPING


async def test_sigterm_drains_the_app_before_forwarding() -> None:
    store = StateStore([])
    table, foreground, codes = FakeTable(), Foreground(), list[int]()
    async with anyio.create_task_group() as tg:
        stopper = Stopper(store, foreground, tg, codes.append, app_argv=("app",), drain_delay=0.05, stop_timeout=5)
        app = table.spawn(["app"])
        foreground.add(app, is_app=True)
        stopper.on_signal(signal.SIGTERM)
        assert store.phase is Phase.STOPPING and app.signals == []  # readiness off, the app still serves
        await eventually(lambda: app.signals)
        app.exit(0)
        foreground.release(app, 0)
    assert app.signals == [signal.SIGTERM] and codes == [0]  # the app's own exit code


async def test_a_stop_finishes_with_the_code_the_apps_owner_recorded_and_only_once_it_is_released() -> None:
    store = StateStore([])
    table, foreground, codes = FakeTable(), Foreground(), list[int]()
    async with anyio.create_task_group() as tg:
        stopper = Stopper(store, foreground, tg, codes.append, app_argv=("app",), drain_delay=0, stop_timeout=5)
        app = table.spawn(["app"])
        foreground.add(app, is_app=True)
        stopper.on_signal(signal.SIGINT)
        app.exit(-signal.SIGINT)
        await anyio.sleep(0.01)  # pacing: time for a wrong, early finish to happen
        assert codes == []  # exited, but its owner has not dealt with the exit yet
        assert foreground.exit_code(app) is None
        foreground.release(app, 3)  # what the owner recorded is the code, not a second reading
        await eventually(lambda: codes)
    assert codes == [3] and foreground.exit_code(app) == 3
