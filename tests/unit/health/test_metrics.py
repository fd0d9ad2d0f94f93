"""``health/metrics``: the series docs/endpoints.md promises, read off (before, after) snapshots."""

from dataclasses import replace

import pytest
from prometheus_client.parser import text_string_to_metric_families

from supervisor.core.checks import APP_PROBE, CheckState, Role, record_failure, record_start, record_success
from supervisor.core.readiness import ChildInfo, ChildStatus, Phase, Snapshot, Timeline
from supervisor.core.reasons import ReasonClass
from supervisor.health.metrics import Metrics

RUNNING = ChildInfo(ChildStatus.RUNNING, pid=42)
NOT_STARTED = ChildInfo()
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def samples(metrics: Metrics) -> Samples:
    body, content_type = metrics.render("")
    assert content_type.startswith("text/plain")
    out: Samples = {}
    for family in text_string_to_metric_families(body.decode()):
        for s in family.samples:
            out[s.name, tuple(sorted(s.labels.items()))] = s.value
    return out


def value(metrics: Metrics, name: str, **labels: str) -> float | None:
    return samples(metrics).get((name, tuple(sorted(labels.items()))))


def gate(name: str = "db", **kw: object) -> CheckState:
    return CheckState(name, "tcp", f"tcp://{name}:5432", **kw)  # type: ignore[arg-type]


def snap(*checks: CheckState, phase: Phase = Phase.GATING, child: ChildInfo = NOT_STARTED, **kw: object) -> Snapshot:
    return Snapshot(phase, checks, child, **kw)  # type: ignore[arg-type]


def test_the_first_observation_lists_every_promised_series() -> None:
    m = Metrics()
    start = snap(gate())
    m.observe(start, start)
    names = {name for name, _ in samples(m)}
    assert {
        "supervisor_ready",
        "supervisor_gate_up",
        "supervisor_phase",
        "supervisor_child_restarts_total",
        "supervisor_log_lines_dropped_total",
    } <= names
    assert not any(name.endswith("_created") for name in names)  # switched off, as the docs say
    assert value(m, "supervisor_gate_up", gate="db") == 0.0  # pending: not passing
    assert value(m, "supervisor_ready") == 0.0
    assert value(m, "supervisor_child_restarts_total") == 0.0
    assert value(m, "supervisor_log_lines_dropped_total") == 0.0


def test_phase_gauge_is_one_for_the_current_phase_only() -> None:
    m = Metrics()
    before = snap(gate())
    after = snap(gate(), phase=Phase.DEGRADED)
    m.observe(before, after)
    phases = {dict(labels)["phase"]: v for (name, labels), v in samples(m).items() if name == "supervisor_phase"}
    assert phases == {p.value: (1.0 if p is Phase.DEGRADED else 0.0) for p in Phase}


def test_a_passing_attempt_counts_as_pass_with_an_empty_reason_and_its_duration() -> None:
    m = Metrics()
    g0 = record_start(gate(), now=100.0)
    g1 = record_success(g0, now=100.25, duration=0.02)
    m.observe(snap(g0), snap(g1))
    assert value(m, "supervisor_gate_up", gate="db") == 1.0
    assert value(m, "supervisor_gate_checks_total", gate="db", result="pass", reason="") == 1.0
    assert value(m, "supervisor_gate_check_duration_seconds_count", gate="db") == 1.0
    assert value(m, "supervisor_gate_check_duration_seconds_sum", gate="db") == pytest.approx(0.02)
    # 0.02 s falls in the 0.025 bucket, not in the 0.01 one
    assert value(m, "supervisor_gate_check_duration_seconds_bucket", gate="db", le="0.01") == 0.0
    assert value(m, "supervisor_gate_check_duration_seconds_bucket", gate="db", le="0.025") == 1.0
    # the start-up stage: from the first attempt's start to the first pass
    assert value(m, "supervisor_startup_check_seconds", gate="db") == pytest.approx(0.25)


def test_a_failed_attempt_counts_by_reason_class_and_error_when_there_is_none() -> None:
    m = Metrics()
    g0 = gate()
    g1 = record_failure(g0, now=1.0, duration=0.5, error="refused", reason_class=ReasonClass.REFUSED)
    g2 = record_failure(g1, now=2.0, duration=0.5, error="strange")
    m.observe(snap(g0), snap(g1))
    m.observe(snap(g1), snap(g2))
    assert value(m, "supervisor_gate_checks_total", gate="db", result="fail", reason="refused") == 1.0
    assert value(m, "supervisor_gate_checks_total", gate="db", result="fail", reason="error") == 1.0
    assert value(m, "supervisor_gate_checks_total", gate="db", result="pass", reason="") is None
    assert value(m, "supervisor_gate_up", gate="db") == 0.0
    assert value(m, "supervisor_gate_check_duration_seconds_count", gate="db") == 2.0
    assert value(m, "supervisor_startup_check_seconds", gate="db") is None  # never passed


def test_a_failure_under_the_threshold_is_a_failed_attempt_of_a_gate_still_up() -> None:
    m = Metrics()
    passing = record_success(gate(failure_threshold=3), now=1.0, duration=0.01)
    once = record_failure(passing, now=2.0, duration=0.01, error="t", reason_class=ReasonClass.TIMEOUT)
    m.observe(snap(passing), snap(once))
    assert value(m, "supervisor_gate_up", gate="db") == 1.0
    assert value(m, "supervisor_gate_checks_total", gate="db", result="fail", reason="timeout") == 1.0


def test_an_unchanged_check_is_not_counted_again() -> None:
    m = Metrics()
    db0, cache0 = gate("db"), gate("cache")
    db1 = record_success(db0, now=1.0, duration=0.01)
    m.observe(snap(db0, cache0), snap(db1, cache0))
    cache1 = record_success(cache0, now=2.0, duration=0.01)
    m.observe(snap(db1, cache0), snap(db1, cache1))  # db is the same object: the same state
    assert value(m, "supervisor_gate_checks_total", gate="db", result="pass", reason="") == 1.0
    assert value(m, "supervisor_gate_checks_total", gate="cache", result="pass", reason="") == 1.0
    # the very same snapshot on both sides (the first observation) counts no attempt at all
    s = snap(db1, cache1)
    m.observe(s, s)
    assert value(m, "supervisor_gate_checks_total", gate="db", result="pass", reason="") == 1.0


def test_a_skipped_check_has_no_series() -> None:
    m = Metrics()
    skipped = gate("mail", skipped_because="MAIL_URL is not set")
    s = snap(skipped)
    m.observe(s, s)
    assert value(m, "supervisor_gate_up", gate="mail") is None


def test_every_check_role_is_a_gate_label() -> None:
    m = Metrics()
    task = CheckState("prestart-migrate", "command", "migrate", role=Role.TASK)
    probe = CheckState(APP_PROBE, "tcp", "tcp://127.0.0.1:8000", role=Role.APP_PROBE)
    before = snap(task, probe)
    after = snap(record_success(task, now=1.0, duration=0.1), probe)
    m.observe(before, before)
    m.observe(before, after)
    assert value(m, "supervisor_gate_up", gate="prestart-migrate") == 1.0
    assert value(m, "supervisor_gate_up", gate=APP_PROBE) == 0.0  # pending until the app answers


def test_ready_follows_the_readiness_decision() -> None:
    m = Metrics()
    passed = record_success(gate(), now=1.0, duration=0.01)
    gating = snap(passed)
    running = snap(passed, phase=Phase.RUNNING, child=RUNNING)
    m.observe(gating, running)
    assert value(m, "supervisor_ready") == 1.0
    stopping = snap(passed, phase=Phase.STOPPING, child=RUNNING)
    m.observe(running, stopping)
    assert value(m, "supervisor_ready") == 0.0


def test_restarts_count_what_the_child_info_adds() -> None:
    m = Metrics()
    passed = record_success(gate(), now=1.0, duration=0.01)
    first = snap(passed, phase=Phase.RUNNING, child=RUNNING)
    second = snap(passed, phase=Phase.RUNNING, child=replace(RUNNING, restarts=2))
    third = snap(passed, phase=Phase.RUNNING, child=replace(RUNNING, restarts=3))
    m.observe(first, second)
    m.observe(second, third)
    m.observe(third, third)  # nothing new
    assert value(m, "supervisor_child_restarts_total") == 3.0


def test_milestones_are_seconds_since_the_start() -> None:
    m = Metrics()
    s0 = snap(gate(), timeline=Timeline(started=1000.0))
    s1 = snap(gate(), timeline=Timeline(started=1000.0, spawned=1002.5))
    m.observe(s0, s0)
    assert value(m, "supervisor_startup_milestone_seconds", milestone="spawned") is None
    m.observe(s0, s1)
    assert value(m, "supervisor_startup_milestone_seconds", milestone="spawned") == 2.5
    assert value(m, "supervisor_startup_milestone_seconds", milestone="ready") is None
    s2 = snap(gate(), timeline=Timeline(started=1000.0, spawned=1002.5, ready=1004.0))
    m.observe(s1, s2)
    assert value(m, "supervisor_startup_milestone_seconds", milestone="ready") == 4.0


def test_openmetrics_by_accept_and_separate_registries() -> None:
    a, b = Metrics(), Metrics()
    g1 = record_success(gate(), now=1.0, duration=0.01)
    a.observe(snap(gate()), snap(g1))
    body, content_type = a.render("application/openmetrics-text; version=1.0.0")
    assert content_type.startswith("application/openmetrics-text")
    assert body.rstrip().endswith(b"# EOF")
    assert b'supervisor_gate_checks_total{gate="db",reason="",result="pass"} 1.0' in body
    # each instance has a registry of its own: b saw nothing
    assert value(b, "supervisor_gate_checks_total", gate="db", result="pass", reason="") is None
