"""The gate engine: every gate in its own task, every attempt under its own deadline.

The loop per gate is: attempt, fold the outcome into the store, wait (jittered backoff after a
failure, ``check_interval`` after a success), repeat. A failure the driver calls final (nothing
can change it before a restart) ends the loop. A startup-only gate stops once it passed;
with ``recheck=False`` (the ``check`` command) every gate stops once it passed. The engine never
decides readiness: it only reports outcomes to the store.
"""

import importlib
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from functools import partial

import anyio
import anyio.to_thread

from supervisor import logs
from supervisor.config.gatespec import GateSpec
from supervisor.core.backoff import Backoff
from supervisor.core.checks import Status, record_failure, record_start, record_success
from supervisor.core.durations import format_duration
from supervisor.core.readiness import Phase, prerequisites_pass
from supervisor.core.reasons import ReasonClass
from supervisor.kinds import names, registry
from supervisor.kinds.base import GateFailure, one_line
from supervisor.runtime import lazyimport
from supervisor.runtime.state import StateStore

log = logs.get("gates")

# one attempt at a gate: a driver's ``check`` (the contract in kinds/base.py)
Attempt = Callable[[GateSpec], Awaitable[str | None]]


async def load_driver(kind: str) -> Attempt:
    """A light driver is imported at once; one that loads psycopg or redis-py (70 ms or so) in a
    worker thread, since on the event loop it would stall /healthz."""
    name = registry.driver_module(kind)
    if registry.get(kind).light:
        module = importlib.import_module(name)
    else:
        module = await lazyimport.import_retrying(name, f"{kind} gates")
    check: Attempt = module.check
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
        self._unloaded: int | None = None  # gates of ``run`` still importing their driver
        self._loaded: anyio.Event | None = None

    async def wait_loaded(self) -> None:
        """Return once every gate given to ``run`` has its driver (imports one at a time: whatever
        else imports after this does not delay a gate's first attempt)."""
        while self._unloaded != 0:
            if self._loaded is None:
                self._loaded = anyio.Event()
            await self._loaded.wait()

    def _driver_ready(self) -> None:
        assert self._unloaded is not None
        self._unloaded -= 1
        if self._unloaded == 0 and self._loaded is not None:
            self._loaded.set()

    async def attempt(self, spec: GateSpec, check: Attempt) -> bool:
        """One bounded attempt; its outcome goes to the store. True when it passed."""
        state = self._store.get(spec.name)
        if state.started is None:
            self._store.set(record_start(state, now=self._wall()))
        started = time.monotonic()
        error: str | None = None
        reason_class = ReasonClass.ERROR
        output: tuple[str, ...] = ()
        final = False
        detail: str | None = None
        with anyio.move_on_after(spec.timeout) as deadline:
            try:
                if spec.lookups:
                    await names.resolve(spec)
                detail = await check(spec)
            except GateFailure as exc:
                error, reason_class, output, final = str(exc), exc.reason_class, exc.output, exc.final
            except Exception as exc:  # a driver bug or an unexpected library error: report, keep going
                log.debug("gate %s raised", spec.name, exc_info=True)
                error = f"{type(exc).__name__}: {one_line(exc)}"
        if deadline.cancelled_caught:
            error, reason_class = f"timed out after {format_duration(spec.timeout)}", ReasonClass.TIMEOUT
        duration = time.monotonic() - started
        state = self._store.get(spec.name)
        # error and detail are shown as they are: the drivers masked their pieces from outside (a
        # library's message, a command's output, the URL), and masking the whole line here would
        # mask our own words ("exit status", "timed out") where a password is one of them
        if error is None:
            self._store.set(record_success(state, now=self._wall(), duration=duration, detail=detail or None))
            return True
        failed = record_failure(
            state,
            now=self._wall(),
            duration=duration,
            error=error,
            reason_class=reason_class,
            output=output,
            final=final,
        )
        self._store.set(failed)
        return False

    async def run_gate(self, spec: GateSpec, recheck: bool, *, listed: bool = False) -> None:
        check = await load_driver(spec.kind)  # at once, also when the gate has to wait
        if listed:
            self._driver_ready()
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
            if self._store.get(spec.name).final:
                return  # nothing changes it before a restart (a config: gate's environment)
            at_max = self._store.phase is Phase.DEGRADED
            delay = self._backoff.delay(retry, self._rng, at_maximum=at_max)
            if self._store.get(spec.name).status is Status.PASS:
                # below its failure threshold: keep the re-check rhythm, a blip is not an outage
                delay = min(delay, self._interval)
            retry += 1
            await anyio.sleep(delay)

    async def run(self, specs: Sequence[GateSpec], recheck: bool) -> None:
        """Run all gates at once until cancelled (or, without recheck, until every one passed)."""
        checked = [spec for spec in specs if not spec.skipped_because]  # skipped: nothing to check
        # drivers import one at a time: those of gates that something waits for go first
        needed = {name for check in self._store.snapshot().checks for name in check.after}
        checked.sort(key=lambda spec: spec.name not in needed)
        self._unloaded = len(checked)
        if not checked and self._loaded is not None:
            self._loaded.set()
        async with anyio.create_task_group() as tg:
            for spec in checked:
                tg.start_soon(partial(self.run_gate, spec, recheck, listed=True), name=f"gate {spec.name}")
