"""The one place where the supervisor's live state is kept, and the only way to change it.

The gate engine and the child code write; the health server, metrics and logs read snapshots. All
of them run on the one event loop, so no lock is needed: a write is a plain assignment and readers
get an immutable ``Snapshot``.
"""

import time
from collections.abc import Callable, Sequence
from dataclasses import replace

import anyio

from supervisor.gatespec import GateSpec
from supervisor.gatestate import GateState, Status
from supervisor.readiness import ChildInfo, Event, Phase, Snapshot, advance

Listener = Callable[[Snapshot, Snapshot], None]  # (before, after)


def initial_state(spec: GateSpec) -> GateState:
    return GateState(
        name=spec.name,
        kind=spec.kind,
        target=spec.display,
        critical=spec.critical,
        startup_only=spec.startup_only,
        failure_threshold=spec.failure_threshold,
        status=Status.SKIPPED if spec.skipped_because else Status.PENDING,
        skipped_because=spec.skipped_because,
    )


class StateStore:
    def __init__(
        self,
        gates: Sequence[GateSpec],
        app_probe: GateSpec | None = None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._gates = {g.name: initial_state(g) for g in sorted(gates, key=lambda g: g.name)}
        self._prestart: dict[str, GateState] = {}
        self._app_probe = initial_state(app_probe) if app_probe is not None else None
        self._phase = Phase.GATING
        self._child = ChildInfo()
        self._clock = clock
        self._listeners: list[Listener] = []
        self._changed: anyio.Event | None = None
        self._current = self._build()

    def _build(self) -> Snapshot:
        return Snapshot(
            phase=self._phase,
            gates=tuple(self._gates.values()),
            child=self._child,
            app_probe=self._app_probe,
            now=self._clock(),
            prestart=tuple(self._prestart.values()),
        )

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def snapshot(self) -> Snapshot:
        """The current state, stamped with the current time."""

        return replace(self._current, now=self._clock())

    @property
    def phase(self) -> Phase:
        return self._phase

    def gate(self, name: str) -> GateState:
        if self._app_probe is not None and name == self._app_probe.name:
            return self._app_probe
        if name in self._prestart:
            return self._prestart[name]
        return self._gates[name]

    def add_prestart(self, names: Sequence[str], display: Sequence[str]) -> None:
        """Register pre-start tasks (pending) so /readyz lists them before they run."""
        for name, target in zip(names, display, strict=True):
            self._prestart[name] = GateState(name=name, kind="prestart", target=target, startup_only=True)
        self._commit()

    def reset_app_probe(self) -> None:
        """A restarted app must answer again before it counts as ready."""
        if self._app_probe is not None:
            self._app_probe = replace(self._app_probe, status=Status.PENDING, consecutive_failures=0, last_error=None)
            self._commit()

    def _commit(self) -> None:
        before, self._current = self._current, self._build()
        for listener in self._listeners:
            listener(before, self._current)
        if self._changed is not None:
            self._changed.set()
            self._changed = None

    def set_gate(self, state: GateState) -> None:
        if self._app_probe is not None and state.name == self._app_probe.name:
            self._app_probe = state
        elif state.name in self._prestart:
            self._prestart[state.name] = state
        else:
            self._gates[state.name] = state
        self._commit()

    def apply(self, event: Event) -> Phase:
        new = advance(self._phase, event, has_app_probe=self._app_probe is not None)
        if new is not self._phase:
            self._phase = new
            self._commit()
        return new

    def set_child(self, child: ChildInfo) -> None:
        self._child = child
        self._commit()

    async def wait_changed(self) -> None:
        """Return after the next change; callers re-read the snapshot and re-test their condition."""
        if self._changed is None:
            self._changed = anyio.Event()
        await self._changed.wait()
