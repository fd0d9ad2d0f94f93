"""The gate engine: every gate in its own task, every attempt under its own deadline.

The loop per gate is: attempt, fold the outcome into the store, wait (jittered backoff after a
failure, ``check_interval`` after a success), repeat. A startup-only gate stops once it passed;
with ``recheck=False`` (the ``check`` command) every gate stops once it passed. The engine never
decides readiness: it only reports outcomes to the store.
"""

import random
import time
from collections.abc import Awaitable, Callable, Sequence

import anyio
import anyio.to_thread

from supervisor import lazyimport, logs
from supervisor.backoff import Backoff
from supervisor.checks import Status, record_failure, record_start, record_success
from supervisor.drivers import GateFailure, module_name, one_line
from supervisor.durations import format_duration
from supervisor.gatespec import GateSpec
from supervisor.readiness import Phase, prerequisites_pass
from supervisor.redaction import redact_text
from supervisor.state import StateStore

log = logs.get("gates")

Check = Callable[[GateSpec], Awaitable[str | None]]


async def load_driver(kind: str) -> Check:
    """Import a driver in a worker thread: psycopg and redis take long enough to import that doing
    it on the event loop would stall /healthz."""
    module = await lazyimport.import_module(module_name(kind))
    check: Check = module.check
    return check


class GateEngine:
    def __init__(
        self,
        store: StateStore,
        backoff: Backoff,
        check_interval: float,
        *,
        rng: random.Random | None = None,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._backoff = backoff
        self._interval = check_interval
        self._rng = rng or random.Random()
        self._wall = wall_clock

    async def attempt(self, spec: GateSpec, check: Check) -> bool:
        """One bounded attempt; its outcome goes to the store. True when it passed."""
        state = self._store.get(spec.name)
        if state.started is None:
            self._store.set(record_start(state, now=self._wall()))
        started = time.monotonic()
        error: str | None = None
        detail: str | None = None
        with anyio.move_on_after(spec.timeout) as deadline:
            try:
                detail = await check(spec)
            except GateFailure as exc:
                error = str(exc)
            except Exception as exc:  # a driver bug or an unexpected library error: report, keep going
                log.debug("gate %s raised", spec.name, exc_info=True)
                error = f"{type(exc).__name__}: {one_line(exc)}"
        if deadline.cancelled_caught:
            error = f"timed out after {format_duration(spec.timeout)}"
        duration = time.monotonic() - started
        state = self._store.get(spec.name)
        if error is None:
            shown = redact_text(detail) if detail else None
            self._store.set(record_success(state, now=self._wall(), duration=duration, detail=shown))
            return True
        self._store.set(record_failure(state, now=self._wall(), duration=duration, error=redact_text(error)))
        return False

    async def run_gate(self, spec: GateSpec, recheck: bool) -> None:
        check = await load_driver(spec.kind)  # at once, also when the gate has to wait
        if self._store.get(spec.name).after:  # the start-up order: wait for what it names first
            await self._store.wait_for(lambda snap: prerequisites_pass(snap, self._store.get(spec.name)))
        retry = 0
        while True:
            if await self.attempt(spec, check):
                retry = 0
                if spec.startup_only or not recheck:
                    return
                await anyio.sleep(self._interval)
                continue
            at_max = self._store.phase is Phase.DEGRADED
            delay = self._backoff.delay(retry, self._rng, at_maximum=at_max)
            if self._store.get(spec.name).status is Status.PASS:
                # below its failure threshold: keep the re-check rhythm, a blip is not an outage
                delay = min(delay, self._interval)
            retry += 1
            await anyio.sleep(delay)

    async def run(self, specs: Sequence[GateSpec], recheck: bool) -> None:
        """Run all gates at once until cancelled (or, without recheck, until every one passed)."""
        async with anyio.create_task_group() as tg:
            for spec in specs:
                if spec.skipped_because:
                    continue  # reported as skipped by the store; nothing to check
                tg.start_soon(self.run_gate, spec, recheck, name=f"gate {spec.name}")
