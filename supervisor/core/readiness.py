"""The phase machine and the readiness decision: pure functions of the supervisor's state.

Kept apart from the engine and the server (as pebble keeps its checks manager apart from its
service manager) so that "are we ready, and if not, why" has exactly one answer, used by /readyz,
/metrics, ``check`` and the logs alike.
"""

import functools
import signal
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from supervisor.core.checks import APP_PROCESS, CheckState, Role, Status


class Phase(StrEnum):
    GATING = "gating"  # gates are running, nothing spawned yet
    DEGRADED = "degraded"  # startup timeout passed without the gates; still retrying
    STARTING = "starting"  # spawned, waiting for the app probe to answer
    RUNNING = "running"
    STOPPING = "stopping"


class Event(StrEnum):
    STARTUP_TIMED_OUT = "startup-timed-out"
    SPAWNED = "spawned"
    APP_ANSWERED = "app-answered"
    RESPAWNED = "respawned"  # the restart policy started the app again
    GAVE_UP = "gave-up"  # a pre-start task failed, or the restart limit was reached
    STOP_REQUESTED = "stop-requested"


class IllegalTransition(Exception):
    """An event the phase machine has no row for: a bug in whoever sent it, named loudly rather
    than absorbed, since a silently ignored event is how phases drift from what really runs."""

    def __init__(self, phase: Phase, event: Event, *, has_app_probe: bool) -> None:
        probe = "with" if has_app_probe else "without"
        super().__init__(f"event {event} is illegal in phase {phase} ({probe} an app probe)")
        self.phase = phase
        self.event = event


Transitions = dict[tuple[Phase, Event], Phase]

# Every (phase, event) the runtime can send, as h11's ``_state.py`` lists its own; a pair missing
# here is refused. Self-transitions are the events that may arrive but change nothing. The two
# tables differ only where the app is up: with an app probe it must answer first (``starting``);
# without one, ``starting`` is never entered and nothing can answer.
_START_UP: Transitions = {
    (Phase.GATING, Event.STARTUP_TIMED_OUT): Phase.DEGRADED,
    (Phase.GATING, Event.GAVE_UP): Phase.DEGRADED,  # a pre-start task failed
    (Phase.GATING, Event.STOP_REQUESTED): Phase.STOPPING,
    # the timeout and a gate failing for good may both judge; a second task may fail too
    (Phase.DEGRADED, Event.STARTUP_TIMED_OUT): Phase.DEGRADED,
    (Phase.DEGRADED, Event.GAVE_UP): Phase.DEGRADED,
    (Phase.DEGRADED, Event.STOP_REQUESTED): Phase.STOPPING,
    (Phase.RUNNING, Event.GAVE_UP): Phase.DEGRADED,  # the restart limit is reached
    (Phase.RUNNING, Event.STOP_REQUESTED): Phase.STOPPING,
    (Phase.STOPPING, Event.STOP_REQUESTED): Phase.STOPPING,
}
WITH_APP_PROBE: Transitions = {
    **_START_UP,
    (Phase.GATING, Event.SPAWNED): Phase.STARTING,
    (Phase.DEGRADED, Event.SPAWNED): Phase.STARTING,  # the gates passed late
    (Phase.STARTING, Event.APP_ANSWERED): Phase.RUNNING,
    (Phase.STARTING, Event.RESPAWNED): Phase.STARTING,
    (Phase.STARTING, Event.GAVE_UP): Phase.DEGRADED,
    (Phase.STARTING, Event.STOP_REQUESTED): Phase.STOPPING,
    (Phase.RUNNING, Event.RESPAWNED): Phase.STARTING,
    (Phase.STOPPING, Event.APP_ANSWERED): Phase.STOPPING,  # the app still serves while it drains
}
WITHOUT_APP_PROBE: Transitions = {
    **_START_UP,
    (Phase.GATING, Event.SPAWNED): Phase.RUNNING,
    (Phase.DEGRADED, Event.SPAWNED): Phase.RUNNING,
    (Phase.RUNNING, Event.RESPAWNED): Phase.RUNNING,
}


def transitions(*, has_app_probe: bool) -> Transitions:
    return WITH_APP_PROBE if has_app_probe else WITHOUT_APP_PROBE


def advance(phase: Phase, event: Event, *, has_app_probe: bool) -> Phase:
    """The next phase, by the table; ``IllegalTransition`` for a pair it does not list."""
    try:
        return transitions(has_app_probe=has_app_probe)[phase, event]
    except KeyError:
        raise IllegalTransition(phase, event, has_app_probe=has_app_probe) from None


class ChildStatus(StrEnum):
    NOT_STARTED = "not-started"
    RUNNING = "running"
    EXITED = "exited"


@dataclass(frozen=True)
class ChildInfo:
    status: ChildStatus = ChildStatus.NOT_STARTED
    pid: int | None = None
    restarts: int = 0
    exit_code: int | None = None  # 128+N for signal N
    note: str | None = None  # what happens next: "restarting in 0.4s", "restart limit reached"


@dataclass(frozen=True)
class Timeline:
    """Wall-clock milestones of the start-up (epoch seconds), for /readyz JSON and /metrics."""

    started: float = 0.0  # the supervisor began
    spawned: float | None = None  # the app was first spawned
    ready: float | None = None  # /readyz first answered 200


@dataclass(frozen=True)
class Snapshot:
    """Everything a probe may be told, captured at one instant."""

    phase: Phase
    checks: tuple[CheckState, ...]  # gates by name, then pre-start tasks, then the app probe
    child: ChildInfo = ChildInfo()
    now: float = 0.0  # wall-clock time of the snapshot
    timeline: Timeline = Timeline()

    def check(self, name: str) -> CheckState | None:
        """A gate, a pre-start task or the app probe, by its check name."""
        return self._by_name.get(name)

    @functools.cached_property
    def _by_name(self) -> dict[str, CheckState]:
        """Built once per snapshot: every state change compares two snapshots check by check, and
        a linear lookup made that quadratic in the number of checks (600 ``cmd:`` gates kept the
        event loop busy for seconds)."""
        return {c.name: c for c in self.checks}

    def of_role(self, role: Role) -> tuple[CheckState, ...]:
        return tuple(c for c in self.checks if c.role is role)

    @property
    def gates(self) -> tuple[CheckState, ...]:
        return self.of_role(Role.GATE)

    @property
    def app_probe(self) -> CheckState | None:
        return next((c for c in self.checks if c.role is Role.APP_PROBE), None)


@dataclass(frozen=True)
class Finding:
    """What a verdict says of one check (gate, task, app probe) or of the app process: a
    check's whole state is a ``CheckState``; this is the part that readiness reads."""

    name: str
    ok: bool
    critical: bool
    reason: str | None = None  # why not ok (already redacted)
    skipped: str | None = None  # ok because it is not checked at all, and why


@dataclass(frozen=True)
class Verdict:
    ready: bool
    checks: tuple[Finding, ...] = field(default_factory=tuple)

    @property
    def failing(self) -> tuple[Finding, ...]:
        return tuple(c for c in self.checks if not c.ok)


def finding_of(state: CheckState) -> Finding:
    if state.status is Status.SKIPPED:
        return Finding(state.name, True, state.critical, skipped=state.skipped_because)
    ok = state.status is Status.PASS
    return Finding(state.name, ok, state.critical, None if ok else state.reason)


def process_finding(snapshot: Snapshot) -> Finding:
    child, phase = snapshot.child, snapshot.phase
    if phase is Phase.STOPPING:
        return Finding(APP_PROCESS, False, True, "the supervisor is stopping")
    if child.status is ChildStatus.RUNNING:
        return Finding(APP_PROCESS, True, True)
    if child.status is ChildStatus.EXITED:
        note = f"; {child.note}" if child.note else ""
        return Finding(APP_PROCESS, False, True, f"the app exited with {describe_exit(child.exit_code)}{note}")
    return Finding(APP_PROCESS, False, True, f"not started yet: phase {phase}")


def decide(snapshot: Snapshot, exclude: Iterable[str] = ()) -> Verdict:
    """Ready when every critical check passes and the app process runs.

    The app process is listed after the checks that come before it (gates and pre-start tasks)
    and before the app probe, the order in which a reader follows the start-up.
    """
    excluded = set(exclude)
    checks = [finding_of(c) for c in snapshot.checks if c.role is not Role.APP_PROBE and c.name not in excluded]
    if APP_PROCESS not in excluded:
        checks.append(process_finding(snapshot))
    checks += [finding_of(c) for c in snapshot.of_role(Role.APP_PROBE) if c.name not in excluded]
    ready = snapshot.phase is not Phase.STOPPING and all(c.ok for c in checks if c.critical)
    return Verdict(ready, tuple(checks))


def is_ready(snapshot: Snapshot) -> bool:
    """``decide(snapshot).ready``, without building the verdict: the store and the metrics ask
    this on every state change, and building hundreds of ``Finding`` objects for one boolean made
    each change linear in the number of checks. ``tests/unit/core/test_readiness.py`` holds the two
    equal over generated snapshots."""
    if snapshot.phase is Phase.STOPPING or snapshot.child.status is not ChildStatus.RUNNING:
        return False
    return all(c.status in (Status.PASS, Status.SKIPPED) for c in snapshot.checks if c.critical)


def describe_exit(code: int | None) -> str:
    """ "code 3" or "signal 9 (SIGKILL)" from a shell-convention exit status."""
    if code is None:
        return "an unknown status"
    if code > 128:
        try:
            return f"signal {code - 128} ({signal.Signals(code - 128).name})"
        except ValueError:
            pass
    return f"code {code}"


def holding(checks: Iterable[CheckState]) -> tuple[CheckState, ...]:
    """The critical checks that hold readiness back, in order."""
    return tuple(c for c in checks if c.holds_readiness)


def prerequisites_pass(snapshot: Snapshot, state: CheckState) -> bool:
    """True when every check ``state`` waits for is satisfied (passed, or skipped)."""
    for name in state.after:
        needed = snapshot.check(name)
        if needed is None or not needed.satisfied:
            return False
    return True
