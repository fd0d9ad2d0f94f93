"""Log lines derived from state changes: one line per gate verdict change, not per attempt.

Attempts themselves are logged at debug level; a gate flipping, the phase changing and the set of
gates holding readiness back changing are what an operator needs to read.
"""

from supervisor import logs
from supervisor.gatestate import GateState, Status
from supervisor.readiness import Phase, Snapshot, failing_critical_gates, gate_reason

log = logs.get()


def _gate_line(old: GateState | None, new: GateState) -> None:
    took = f"{(new.last_duration or 0) * 1000:.0f} ms"
    if old is not None and new.attempts > old.attempts:
        log.debug(
            "gate %s attempt %d: %s (%s)",
            new.name,
            new.attempts,
            new.last_error or "passed",
            took,
            extra={"gate": new.name},
        )
    if old is not None and old.status is new.status:
        return
    if new.status is Status.PASS:
        log.info("gate %s passed after %d attempt(s) (%s)", new.name, new.attempts, took, extra={"gate": new.name})
    elif new.status is Status.FAIL:
        level = log.warning if (old is not None and old.status is Status.PASS) else log.info
        level(
            "gate %s failing: %s%s",
            new.name,
            gate_reason(new),
            "" if new.critical else " (non-critical)",
            extra={"gate": new.name},
        )


def log_changes(before: Snapshot, after: Snapshot) -> None:
    for new in after.gates:
        _gate_line(before.gate(new.name), new)
    if after.app_probe is not None:
        _gate_line(before.app_probe, after.app_probe)
    if before.phase is not after.phase:
        log.info("phase %s -> %s", before.phase, after.phase, extra={"phase": str(after.phase)})
    if after.phase is Phase.DEGRADED:
        now_failing = failing_critical_gates(after.gates)
        if before.phase is not Phase.DEGRADED or failing_critical_gates(before.gates) != now_failing:
            if now_failing:
                reasons = "; ".join(f"{n}: {gate_reason(after.gate(n))}" for n in now_failing)  # type: ignore[arg-type]
                log.warning("degraded: not ready because %s", reasons)
            else:
                log.warning("degraded: every critical gate passes now; starting the app")
