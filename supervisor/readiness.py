"""The phase machine and the readiness decision: pure functions of the supervisor's state.

Kept apart from the engine and the server (as pebble keeps its checks manager apart from its
service manager) so that "are we ready, and if not, why" has exactly one answer, used by /readyz,
/metrics, ``check`` and the logs alike.
"""

import signal
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from supervisor.gatestate import GateState, Status

APP_PROCESS = "app-process"  # hyphenated: no environment-defined gate name can collide
APP_PROBE = "app-probe"


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


def advance(phase: Phase, event: Event, *, has_app_probe: bool) -> Phase:
    """Next phase; an event that means nothing in the current phase leaves it unchanged."""
    if phase is Phase.STOPPING:
        return phase
    if event is Event.STOP_REQUESTED:
        return Phase.STOPPING
    if event is Event.STARTUP_TIMED_OUT and phase is Phase.GATING:
        return Phase.DEGRADED
    if event is Event.SPAWNED and phase in (Phase.GATING, Phase.DEGRADED):
        return Phase.STARTING if has_app_probe else Phase.RUNNING
    if event is Event.APP_ANSWERED and phase is Phase.STARTING:
        return Phase.RUNNING
    if event is Event.RESPAWNED and phase in (Phase.STARTING, Phase.RUNNING):
        return Phase.STARTING if has_app_probe else Phase.RUNNING
    if event is Event.GAVE_UP:
        return Phase.DEGRADED
    return phase


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
class Snapshot:
    """Everything a probe may be told, captured at one instant."""

    phase: Phase
    gates: tuple[GateState, ...]
    child: ChildInfo = ChildInfo()
    app_probe: GateState | None = None
    now: float = 0.0  # wall-clock time of the snapshot
    prestart: tuple[GateState, ...] = ()  # pre-start tasks, named "prestart-<name>"

    def gate(self, name: str) -> GateState | None:
        return next((g for g in self.gates if g.name == name), None)

    def find(self, name: str) -> GateState | None:
        """A gate, a pre-start task or the app probe, by its check name."""
        if self.app_probe is not None and name == self.app_probe.name:
            return self.app_probe
        return self.gate(name) or next((t for t in self.prestart if t.name == name), None)


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    critical: bool
    reason: str | None = None  # why not ok (already redacted)
    skipped: str | None = None  # ok because it is not checked at all, and why


@dataclass(frozen=True)
class Verdict:
    ready: bool
    checks: tuple[Check, ...] = field(default_factory=tuple)

    @property
    def failing(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if not c.ok)


def gate_reason(gate: GateState) -> str:
    if gate.status is Status.PENDING:
        return "pending: no attempt has finished yet"
    return gate.last_error or "failed"


def gate_check(gate: GateState) -> Check:
    if gate.status is Status.SKIPPED:
        return Check(gate.name, True, gate.critical, skipped=gate.skipped_because)
    ok = gate.status is Status.PASS
    return Check(gate.name, ok, gate.critical, None if ok else gate_reason(gate))


def process_check(snapshot: Snapshot) -> Check:
    child, phase = snapshot.child, snapshot.phase
    if phase is Phase.STOPPING:
        return Check(APP_PROCESS, False, True, "the supervisor is stopping")
    if child.status is ChildStatus.RUNNING:
        return Check(APP_PROCESS, True, True)
    if child.status is ChildStatus.EXITED:
        note = f"; {child.note}" if child.note else ""
        return Check(APP_PROCESS, False, True, f"the app exited with {describe_exit(child.exit_code)}{note}")
    return Check(APP_PROCESS, False, True, f"not started yet: phase {phase}")


def decide(snapshot: Snapshot, exclude: Iterable[str] = ()) -> Verdict:
    """Ready when every critical gate passes, the app process runs and (if set) the app answers."""
    excluded = set(exclude)
    checks = [gate_check(g) for g in snapshot.gates if g.name not in excluded]
    checks += [gate_check(t) for t in snapshot.prestart if t.name not in excluded]
    if APP_PROCESS not in excluded:
        checks.append(process_check(snapshot))
    if snapshot.app_probe is not None and APP_PROBE not in excluded:
        checks.append(gate_check(snapshot.app_probe))
    ready = snapshot.phase is not Phase.STOPPING and all(c.ok for c in checks if c.critical)
    return Verdict(ready, tuple(checks))


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


def failing_critical_gates(gates: Iterable[GateState]) -> tuple[str, ...]:
    """Names of critical gates that hold the startup back, in order; empty means spawn now."""
    return tuple(g.name for g in gates if g.holds_readiness)
