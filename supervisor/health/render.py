"""Readiness reports in the three shapes users ask for: Kubernetes-style text lines,
``application/health+json``, and the ``check`` command's table. Pure: snapshot in, text out.
"""

import json
import time
from typing import Any

from supervisor.gatestate import GateState, Status
from supervisor.readiness import Check, ChildStatus, Snapshot, Verdict, gate_reason


def _iso(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch)) + f".{int(epoch % 1 * 1000):03d}Z"


def check_line(check: Check) -> str:
    if check.skipped:
        return f"[+]{check.name} skipped: {check.skipped}"
    if check.ok:
        return f"[+]{check.name} ok"
    note = "" if check.critical else " (non-critical)"
    return f"[-]{check.name} failed: {check.reason}{note}"


def verbose_text(verdict: Verdict, endpoint: str = "readyz") -> str:
    lines = [check_line(c) for c in verdict.checks]
    lines.append(f"{endpoint} check {'passed' if verdict.ready else 'failed'}")
    return "\n".join(lines) + "\n"


def gate_json(gate: GateState, snapshot: Snapshot) -> dict[str, Any]:
    ok = gate.status in (Status.PASS, Status.SKIPPED)
    status = "pass" if ok else "fail" if gate.critical else "warn"
    entry: dict[str, Any] = {
        "componentId": gate.name,
        "componentType": gate.kind,
        "status": status,
        "time": _iso(gate.last_attempt or snapshot.now),
        "observedValue": None if gate.last_duration is None else round(gate.last_duration * 1000, 3),
        "observedUnit": "ms",
        "attempts": gate.attempts,
        "consecutiveFailures": gate.consecutive_failures,
        "critical": gate.critical,
        "target": gate.target,
        "lastSuccess": _iso(gate.last_success),
    }
    if gate.status is Status.SKIPPED:
        entry["skipped"] = True
        entry["output"] = f"skipped: {gate.skipped_because}"
    elif gate.status is not Status.PASS:
        entry["output"] = gate_reason(gate)
    elif gate.last_error:
        entry["output"] = f"last attempt failed (below the failure threshold): {gate.last_error}"
    return entry


def health_json(snapshot: Snapshot, verdict: Verdict) -> dict[str, Any]:
    shown = {c.name for c in verdict.checks}
    checks: dict[str, list[dict[str, Any]]] = {
        g.name: [gate_json(g, snapshot)] for g in snapshot.gates if g.name in shown
    }
    for task in snapshot.prestart:
        if task.name in shown:
            checks[task.name] = [gate_json(task, snapshot)]
    if snapshot.app_probe is not None and snapshot.app_probe.name in shown:
        checks[snapshot.app_probe.name] = [gate_json(snapshot.app_probe, snapshot)]
    child = snapshot.child
    report: dict[str, Any] = {
        "status": "pass" if verdict.ready else "fail",
        "phase": str(snapshot.phase),
        "checks": checks,
        "child": {
            "pid": child.pid,
            "state": str(child.status),
            "restarts": child.restarts,
            "exitCode": child.exit_code,
        },
    }
    if not verdict.ready:
        report["output"] = "; ".join(f"{c.name}: {c.reason}" for c in verdict.failing if c.critical)
    if child.status is ChildStatus.NOT_STARTED:
        report["child"]["pid"] = None
    return report


def dumps(report: dict[str, Any]) -> str:
    return json.dumps(report, indent=2) + "\n"
