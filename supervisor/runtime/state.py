"""The one place where the supervisor's live state is kept, and the only way to change it.

The gate engine, the start-up sequence and the app's lifecycle write; the health server, metrics
and logs read snapshots. All of them run on the one event loop, so no lock is needed: a write is
a plain assignment and readers get an immutable ``Snapshot``. Every change bumps the store's
``version``, so a reader may keep what it rendered from one version until the next.
"""

import time
from collections.abc import Callable, Sequence
from dataclasses import replace

import anyio

from supervisor.config.gatespec import GateSpec
from supervisor.core.checks import CheckState, Role, Status, restarted
from supervisor.core.readiness import ChildInfo, ChildStatus, Event, Phase, Snapshot, Timeline, advance, is_ready

Listener = Callable[[Snapshot, Snapshot], None]  # (before, after)


def spec_state(spec: GateSpec, role: Role = Role.GATE, *, after: Sequence[str] = (), act_after: int = 0) -> CheckState:
    """The initial state of a gate or of the app probe (``act_after``: see ``CheckState``)."""
    return CheckState(
        name=spec.name,
        kind=spec.kind,
        target=spec.display,
        role=role,
        critical=spec.critical,
        startup_only=spec.startup_only,
        failure_threshold=spec.failure_threshold,
        after=tuple(after),
        status=Status.SKIPPED if spec.skipped_because else Status.PENDING,
        skipped_because=spec.skipped_because,
        act_after=act_after,
    )


class StateStore:
    def __init__(self, checks: Sequence[CheckState], *, clock: Callable[[], float] = time.time) -> None:
        order = {Role.GATE: 0, Role.TASK: 1, Role.APP_PROBE: 2}
        ordered = sorted(checks, key=lambda c: (order[c.role], c.name if c.role is Role.GATE else ""))
        self._checks = {c.name: c for c in ordered}
        if len(self._checks) != len(checks):
            raise ValueError("two checks share a name")
        self._phase = Phase.GATING
        self._child = ChildInfo()
        self._clock = clock
        self._timeline = Timeline(started=clock())
        self._version = 0
        self._listeners: list[Listener] = []
        self._changed: anyio.Event | None = None
        self._current = self._build()

    @classmethod
    def of_gates(cls, gates: Sequence[GateSpec], **kw: Callable[[], float]) -> "StateStore":
        return cls([spec_state(g) for g in gates], **kw)

    def _build(self) -> Snapshot:
        snap = Snapshot(
            phase=self._phase,
            checks=tuple(self._checks.values()),
            child=self._child,
            now=self._clock(),
            timeline=self._timeline,
        )
        if self._timeline.ready is None and is_ready(snap):
            self._timeline = replace(self._timeline, ready=snap.now)
            snap = replace(snap, timeline=self._timeline)
        return snap

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def unsubscribe(self, listener: Listener) -> None:
        self._listeners.remove(listener)

    def snapshot(self) -> Snapshot:
        """The current state, stamped with the current time."""
        return replace(self._current, now=self._clock())

    @property
    def version(self) -> int:
        """Bumped on every change: what was rendered for one version stays true until the next."""
        return self._version

    @property
    def phase(self) -> Phase:
        return self._phase

    @property
    def has_app_probe(self) -> bool:
        return any(c.role is Role.APP_PROBE for c in self._checks.values())

    def get(self, name: str) -> CheckState:
        return self._checks[name]

    def set(self, state: CheckState) -> None:
        if state.name not in self._checks:
            raise KeyError(state.name)
        self._checks[state.name] = state
        self._commit()

    def restart_app_probe(self) -> None:
        for state in self._checks.values():
            if state.role is Role.APP_PROBE:
                self.set(restarted(state))

    def _commit(self) -> None:
        self._version += 1
        before, self._current = self._current, self._build()
        for listener in self._listeners:
            listener(before, self._current)
        if self._changed is not None:
            self._changed.set()
            self._changed = None

    def apply(self, event: Event) -> Phase:
        new = advance(self._phase, event, has_app_probe=self.has_app_probe)
        if new is not self._phase:
            self._phase = new
            self._commit()
        return new

    def set_child(self, child: ChildInfo) -> None:
        self._child = child
        if child.status is ChildStatus.RUNNING and self._timeline.spawned is None:
            self._timeline = replace(self._timeline, spawned=self._clock())
        self._commit()

    async def wait_changed(self) -> None:
        """Return after the next change; callers re-read the snapshot and re-test their condition."""
        if self._changed is None:
            self._changed = anyio.Event()
        await self._changed.wait()

    async def wait_for(self, condition: Callable[[Snapshot], bool]) -> Snapshot:
        """The first snapshot for which ``condition`` holds."""
        while not condition(snap := self.snapshot()):
            await self.wait_changed()
        return snap
