"""Prometheus metrics from the supervisor's own registry (never the global one, so an app that
imports us cannot mix its metrics in, nor we ours into it).

Metrics follow the state store: every change is a (before, after) pair of snapshots, from which
attempts, verdicts and phases are read off. prometheus-client is imported only when the
supervisor is already listening, since it is not needed to answer /healthz.
"""

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, disable_created_metrics
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import Collector

from supervisor import logs
from supervisor.core.checks import CheckState
from supervisor.core.readiness import Phase, Snapshot, is_ready

_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class _DroppedLogLines(Collector):
    """Read when /metrics is rendered: the log writer counts on its own, beside the state store."""

    def collect(self) -> Iterator[Metric]:
        yield CounterMetricFamily(
            "supervisor_log_lines_dropped",
            "log lines dropped because stderr did not take them in time (a stalled log pipe)",
            value=logs.dropped_lines(),
        )


class Metrics:
    def __init__(self) -> None:
        # `_created` gauges (a timestamp beside every counter) mean nothing for one process
        disable_created_metrics()  # type: ignore[no-untyped-call]
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.ready = Gauge("supervisor_ready", "1 when /readyz answers 200", registry=r)
        r.register(_DroppedLogLines())
        self.gate_up = Gauge("supervisor_gate_up", "1 when the gate passes", ["gate"], registry=r)
        self.checks = Counter(
            "supervisor_gate_checks",
            "gate attempts by result, and by reason class when they failed",
            ["gate", "result", "reason"],
            registry=r,
        )
        self.duration = Histogram(
            "supervisor_gate_check_duration_seconds",
            "duration of gate attempts",
            ["gate"],
            buckets=_BUCKETS,
            registry=r,
        )
        self.phase = Gauge("supervisor_phase", "1 for the current phase", ["phase"], registry=r)
        self.restarts = Counter("supervisor_child_restarts", "restarts of the app process", registry=r)
        self.app_failures = Gauge(
            "supervisor_app_probe_failures",
            "failed app probes in a row since the app answered (unresponsive at SUPERVISOR_APP_PROBE_THRESHOLD)",
            registry=r,
        )
        self.unresponsive = Counter(
            "supervisor_app_unresponsive", "times the app answered, then stopped answering its probe", registry=r
        )
        self.stage = Gauge(
            "supervisor_startup_check_seconds",
            "how long each check took from its first attempt to its first pass (a start-up stage)",
            ["gate"],
            registry=r,
        )
        self.milestone = Gauge(
            "supervisor_startup_milestone_seconds",
            "seconds from the supervisor's start to each milestone: spawned, ready",
            ["milestone"],
            registry=r,
        )

    def observe(self, before: Snapshot, after: Snapshot) -> None:
        """One change of the state store, as the store delivers them (an attempt is one change,
        the replay at load keeps every one), so an attempt counted here is exactly one."""
        checks: list[tuple[CheckState | None, CheckState]] = [(before.check(c.name), c) for c in after.checks]
        for old, new in checks:
            if old is new and before is not after:
                continue  # states are immutable: the same object is the same state (one change: one check)
            if new.skipped_because:
                continue  # not checked: neither up nor down
            self.gate_up.labels(new.name).set(1 if new.status == "pass" else 0)
            if old is not None and new.attempts > old.attempts:
                failed = new.consecutive_failures > 0
                reason = str(new.reason_class or "error") if failed else ""  # "": the label is absent
                self.checks.labels(new.name, "fail" if failed else "pass", reason).inc()
                if new.last_duration is not None:
                    self.duration.labels(new.name).observe(new.last_duration)
            if new.first_passed is not None:
                self.stage.labels(new.name).set(new.first_passed - (new.started or new.first_passed))
            if new.act_after:
                self.app_failures.set(new.hang_failures)
                if new.unresponsive and not (old is not None and old.unresponsive):
                    self.unresponsive.inc()
        timeline = after.timeline
        for milestone, at in (("spawned", timeline.spawned), ("ready", timeline.ready)):
            if at is not None:
                self.milestone.labels(milestone).set(at - timeline.started)
        for phase in Phase:
            self.phase.labels(phase.value).set(1 if phase is after.phase else 0)
        self.ready.set(1 if is_ready(after) else 0)
        if after.child.restarts > before.child.restarts:
            self.restarts.inc(after.child.restarts - before.child.restarts)

    def render(self, accept: str) -> tuple[bytes, str]:
        encoder, content_type = choose_encoder(accept)
        return encoder(self.registry), content_type
