"""Readiness reports in the three shapes users ask for: Kubernetes-style text lines,
``application/health+json``, and the ``check`` command's table. Pure: snapshot in, text out.
"""

import json
import time
from dataclasses import replace
from typing import Any

from supervisor.core.chain import critical_chain
from supervisor.core.checks import CheckState, Status
from supervisor.core.readiness import ChildStatus, Finding, Snapshot, Timeline, Verdict


def _iso(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch)) + f".{int(epoch % 1 * 1000):03d}Z"


def check_line(check: Finding) -> str:
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


def check_json(check: CheckState) -> dict[str, Any]:
    ok = check.status in (Status.PASS, Status.SKIPPED)
    status = "pass" if ok else "fail" if check.critical else "warn"
    entry: dict[str, Any] = {
        "componentId": check.name,
        "componentType": check.kind,
        "role": str(check.role),
        "status": status,
        "time": _iso(check.last_attempt),  # None before the first attempt: nothing was observed
        "observedValue": None if check.last_duration is None else round(check.last_duration * 1000, 3),
        "observedUnit": "ms",
        "attempts": check.attempts,
        "consecutiveFailures": check.consecutive_failures,
        "critical": check.critical,
        "target": check.target,
        "after": list(check.after),
        "started": _iso(check.started),
        "firstPassed": _iso(check.first_passed),
        "lastSuccess": _iso(check.last_success),
    }
    # the kind of failure of the last failed attempt; null once it passes again
    entry["reasonClass"] = None if check.reason_class is None else str(check.reason_class)
    if check.detail:
        entry["detail"] = check.detail
    if check.act_after:  # the app probe: the count toward ON_APP_UNRESPONSIVE, as pebble shows it
        entry["failures"] = check.hang_failures
        entry["threshold"] = check.act_after
        entry["unresponsive"] = check.unresponsive
    if check.status is Status.SKIPPED:
        entry["skipped"] = True
        entry["output"] = f"skipped: {check.skipped_because}"
    elif check.status is not Status.PASS:
        entry["output"] = check.report  # the reason, then what the failure printed, one line each
    elif check.last_error:
        below = f"last attempt failed (below the failure threshold): {check.error_line}"
        entry["output"] = "\n".join((below, *check.output))
    return entry


def timeline_json(timeline: Timeline) -> dict[str, Any]:
    """Each milestone as a time and as seconds since the supervisor started."""

    def since(at: float | None) -> float | None:
        return None if at is None else round(at - timeline.started, 3)

    return {
        "started": _iso(timeline.started),
        "spawned": _iso(timeline.spawned),
        "ready": _iso(timeline.ready),
        "spawnedAfter": since(timeline.spawned),
        "readyAfter": since(timeline.ready),
    }


def chain_json(snapshot: Snapshot) -> list[dict[str, Any]]:
    """The start-up's critical chain (``core/chain``), first link first, seconds after start."""
    return [
        {
            "name": link.name,
            "role": link.role,
            "startedAfter": round(link.started, 3),
            "passedAfter": round(link.passed, 3),
            "attempts": link.attempts,
            "waitedFor": link.waited_for,
        }
        for link in critical_chain(snapshot)
    ]


def health_json(snapshot: Snapshot, verdict: Verdict) -> dict[str, Any]:
    shown = {c.name for c in verdict.checks}
    checks = {c.name: [check_json(c)] for c in snapshot.checks if c.name in shown}
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
        "timeline": timeline_json(snapshot.timeline),
        "chain": chain_json(snapshot),
    }
    if not verdict.ready:
        report["output"] = "; ".join(f"{c.name}: {c.reason}" for c in verdict.failing if c.critical)
    if child.status is ChildStatus.NOT_STARTED:
        report["child"]["pid"] = None
    return report


WITHHELD = "reason withheld"  # what the Kubernetes API server answers callers it does not trust


def withheld_check(check: Finding) -> Finding:
    """The same check, with no reason said: that it fails, not why."""
    return replace(check, reason=None if check.ok else WITHHELD, skipped=WITHHELD if check.skipped else None)


def withheld_verdict(verdict: Verdict) -> Verdict:
    return replace(verdict, checks=tuple(withheld_check(c) for c in verdict.checks))


def withheld(report: dict[str, Any]) -> dict[str, Any]:
    """A JSON report with every reason, detail and target replaced: they name hosts, users,
    commands and errors, which a caller from the network is not told. The reason class stays:
    it names none of them, and /metrics carries it as a label anyway."""
    out = dict(report)
    if "output" in out:
        out["output"] = WITHHELD
    out["checks"] = {
        name: [
            {k: (WITHHELD if k in ("output", "detail", "target") else v) for k, v in entry.items()} for entry in entries
        ]
        for name, entries in report.get("checks", {}).items()
    }
    return out


def dumps(report: dict[str, Any]) -> str:
    return json.dumps(report, indent=2) + "\n"
