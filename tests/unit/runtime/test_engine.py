"""The gate engine's loop with fake checks: retries, deadlines, startup-only, re-checks."""

import random
from collections.abc import Callable

import anyio
import pytest

from supervisor.config.gatespec import GateSpec
from supervisor.core.backoff import Backoff
from supervisor.core.checks import Status
from supervisor.kinds.base import GateFailure
from supervisor.runtime.engine import GateEngine
from supervisor.runtime.state import StateStore

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def spec(name: str = "g", *, timeout: float = 1.0, startup_only: bool = False) -> GateSpec:
    return GateSpec(
        name=name, kind="tcp", url="tcp://x:1", display="tcp://x:1", timeout=timeout, startup_only=startup_only
    )


def scripted(outcomes: list[str | None], calls: list[float]) -> Callable[[GateSpec], object]:
    """A check that fails with each string in turn and passes on None; the last outcome repeats."""

    async def check(_: GateSpec) -> None:
        calls.append(anyio.current_time())
        outcome = outcomes[min(len(calls) - 1, len(outcomes) - 1)]
        if outcome == "hang":
            await anyio.sleep_forever()
        if outcome is not None:
            raise GateFailure(outcome)

    return check


def engine(store: StateStore, interval: float = 0.05) -> GateEngine:
    return GateEngine(store, Backoff(0.01, 0.02), interval, rng=random.Random(0), wall_clock=lambda: 1000.0)


async def test_failures_retry_until_a_pass_and_startup_only_stops(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[float] = []
    s = spec(startup_only=True)
    store = StateStore.of_gates([s])
    check = scripted(["refused", "refused", None], calls)
    monkeypatch.setattr("supervisor.runtime.engine.load_driver", lambda _kind: _async(check))
    with anyio.fail_after(5):
        await engine(store).run_gate(s, True)
    g = store.get("g")
    assert g.status is Status.PASS and g.attempts == 3 and len(calls) == 3
    assert g.last_success == 1000.0


async def test_a_hanging_attempt_is_cut_at_the_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[float] = []
    s = spec(timeout=0.1, startup_only=True)
    store = StateStore.of_gates([s])
    monkeypatch.setattr("supervisor.runtime.engine.load_driver", lambda _kind: _async(scripted(["hang", None], calls)))
    with anyio.fail_after(5):
        await engine(store).run_gate(s, True)
    assert store.get("g").attempts == 2
    assert 0.1 <= calls[1] - calls[0] < 0.5


async def test_passing_gates_are_rechecked_and_a_failure_is_recorded(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[float] = []
    s = spec()
    store = StateStore.of_gates([s])
    monkeypatch.setattr(
        "supervisor.runtime.engine.load_driver", lambda _kind: _async(scripted([None, None, "down"], calls))
    )
    with anyio.move_on_after(5):
        async with anyio.create_task_group() as tg:
            tg.start_soon(engine(store).run_gate, s, True)
            while store.get("g").status is not Status.FAIL:
                await store.wait_changed()
            tg.cancel_scope.cancel()
    g = store.get("g")
    assert g.status is Status.FAIL and g.last_error == "down" and g.attempts == 3
    assert calls[1] - calls[0] >= 0.05  # re-checked after the interval, not at once


async def test_without_recheck_a_passing_gate_stops(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[float] = []
    s = spec()
    store = StateStore.of_gates([s])
    monkeypatch.setattr("supervisor.runtime.engine.load_driver", lambda _kind: _async(scripted([None], calls)))
    with anyio.fail_after(5):
        await engine(store).run([s], False)
    assert len(calls) == 1


async def test_unexpected_exceptions_become_failures() -> None:
    async def broken(_: GateSpec) -> None:
        raise KeyError("boom")

    s = spec()
    store = StateStore.of_gates([s])
    assert not await engine(store).attempt(s, broken)
    assert store.get("g").last_error == "KeyError: 'boom'"


def _async(check: Callable[[GateSpec], object]) -> object:
    async def load() -> object:
        return check

    return load()
