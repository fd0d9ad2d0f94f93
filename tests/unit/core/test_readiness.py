import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from supervisor.core.checks import APP_PROBE, APP_PROCESS, CheckState, Role, Status, record_failure, record_success
from supervisor.core.readiness import (
    ChildInfo,
    ChildStatus,
    Event,
    IllegalTransition,
    Phase,
    Snapshot,
    advance,
    decide,
    finding_of,
    holding,
    is_ready,
)

RUNNING = ChildInfo(ChildStatus.RUNNING, pid=42)


def passing(name: str, critical: bool = True, role: Role = Role.GATE) -> CheckState:
    return record_success(CheckState(name, "tcp", "t", role=role, critical=critical), now=1, duration=0.01)


def failing(name: str, critical: bool = True, error: str = "refused", role: Role = Role.GATE) -> CheckState:
    state = CheckState(name, "tcp", "t", role=role, critical=critical)
    return record_failure(state, now=1, duration=0.01, error=error)


class TestPhaseMachine:
    def test_spawn_goes_to_running_without_app_probe(self) -> None:
        assert advance(Phase.GATING, Event.SPAWNED, has_app_probe=False) is Phase.RUNNING

    def test_spawn_goes_to_starting_with_app_probe_then_running(self) -> None:
        phase = advance(Phase.GATING, Event.SPAWNED, has_app_probe=True)
        assert phase is Phase.STARTING
        assert advance(phase, Event.APP_ANSWERED, has_app_probe=True) is Phase.RUNNING

    def test_a_startup_timeout_after_the_app_started_is_refused(self) -> None:
        with pytest.raises(IllegalTransition, match="startup-timed-out is illegal in phase running"):
            advance(Phase.RUNNING, Event.STARTUP_TIMED_OUT, has_app_probe=False)

    def test_degraded_recovers_by_spawning(self) -> None:
        assert advance(Phase.DEGRADED, Event.SPAWNED, has_app_probe=False) is Phase.RUNNING

    @pytest.mark.parametrize("phase", list(Phase))
    def test_stop_wins_from_everywhere_and_only_the_drain_s_events_follow(self, phase: Phase) -> None:
        stopping = advance(phase, Event.STOP_REQUESTED, has_app_probe=True)
        assert stopping is Phase.STOPPING
        for event in (Event.STOP_REQUESTED, Event.APP_ANSWERED):
            assert advance(stopping, event, has_app_probe=True) is Phase.STOPPING
        with pytest.raises(IllegalTransition):
            advance(stopping, Event.SPAWNED, has_app_probe=True)

    def test_events_that_cannot_happen_are_refused_not_absorbed(self) -> None:
        with pytest.raises(IllegalTransition):
            advance(Phase.GATING, Event.APP_ANSWERED, has_app_probe=True)
        with pytest.raises(IllegalTransition):
            advance(Phase.RUNNING, Event.SPAWNED, has_app_probe=False)


class TestDecision:
    def test_ready_when_gates_pass_and_child_runs(self) -> None:
        v = decide(Snapshot(Phase.RUNNING, (passing("db"), passing("cache")), RUNNING))
        assert v.ready
        assert [c.name for c in v.checks] == ["db", "cache", APP_PROCESS]

    def test_not_ready_before_spawn_even_if_gates_pass(self) -> None:
        v = decide(Snapshot(Phase.GATING, (passing("db"),)))
        assert not v.ready
        assert v.failing[0].name == APP_PROCESS and "not started" in (v.failing[0].reason or "")

    def test_failing_critical_gate_turns_readiness_off_with_reason(self) -> None:
        v = decide(Snapshot(Phase.RUNNING, (passing("db"), failing("cache", error="timed out")), RUNNING))
        assert not v.ready
        assert [(c.name, c.reason) for c in v.failing] == [("cache", "timed out")]

    def test_failing_non_critical_gate_is_reported_but_not_holding(self) -> None:
        v = decide(Snapshot(Phase.RUNNING, (passing("db"), failing("mail", critical=False)), RUNNING))
        assert v.ready
        assert [c.name for c in v.failing] == ["mail"]

    def test_pending_gate_has_a_reason(self) -> None:
        v = decide(Snapshot(Phase.GATING, (CheckState("db", "tcp", "t"),)))
        assert "pending" in (v.checks[0].reason or "")

    def test_app_probe_must_pass_when_configured(self) -> None:
        snap = Snapshot(Phase.STARTING, (passing("db"), failing(APP_PROBE, role=Role.APP_PROBE)), RUNNING)
        assert not decide(snap).ready
        assert [c.name for c in decide(snap).checks] == ["db", APP_PROCESS, APP_PROBE]
        snap = Snapshot(Phase.RUNNING, (passing("db"), passing(APP_PROBE, role=Role.APP_PROBE)), RUNNING)
        assert decide(snap).ready

    def test_stopping_is_never_ready(self) -> None:
        v = decide(Snapshot(Phase.STOPPING, (passing("db"),), RUNNING))
        assert not v.ready and "stopping" in (v.failing[0].reason or "")
        assert not decide(Snapshot(Phase.STOPPING, (), RUNNING), exclude=[APP_PROCESS]).ready

    def test_exited_child_is_named_with_its_code(self) -> None:
        v = decide(Snapshot(Phase.RUNNING, (), ChildInfo(ChildStatus.EXITED, 7, exit_code=3)))
        assert "code 3" in (v.failing[0].reason or "")

    def test_exclude_removes_checks_from_the_decision(self) -> None:
        snap = Snapshot(Phase.RUNNING, (passing("db"), failing("cache")), RUNNING)
        assert decide(snap, exclude=["cache"]).ready
        assert [c.name for c in decide(snap, exclude=["cache"]).checks] == ["db", APP_PROCESS]

    def test_holding_lists_only_critical_checks_that_do_not_pass(self) -> None:
        gates = (passing("a"), failing("b"), failing("c", critical=False), CheckState("d", "tcp", "t"))
        assert [c.name for c in holding(gates)] == ["b", "d"]
        assert gates[1].status is Status.FAIL


class TestRestartsAndGivingUp:
    def test_respawn_goes_back_to_starting_when_the_app_must_answer_again(self) -> None:
        assert advance(Phase.RUNNING, Event.RESPAWNED, has_app_probe=True) is Phase.STARTING
        assert advance(Phase.RUNNING, Event.RESPAWNED, has_app_probe=False) is Phase.RUNNING
        with pytest.raises(IllegalTransition):
            advance(Phase.GATING, Event.RESPAWNED, has_app_probe=True)

    @pytest.mark.parametrize("phase", [Phase.GATING, Phase.DEGRADED, Phase.STARTING, Phase.RUNNING])
    def test_giving_up_degrades(self, phase: Phase) -> None:
        assert advance(phase, Event.GAVE_UP, has_app_probe=True) is Phase.DEGRADED
        if phase is not Phase.STARTING:  # never entered without an app probe
            assert advance(phase, Event.GAVE_UP, has_app_probe=False) is Phase.DEGRADED

    def test_exit_descriptions(self) -> None:
        from supervisor.core.readiness import describe_exit

        assert describe_exit(3) == "code 3"
        assert describe_exit(137) == "signal 9 (SIGKILL)"
        assert describe_exit(143) == "signal 15 (SIGTERM)"
        assert describe_exit(None) == "an unknown status"

    def test_exited_child_reason_includes_what_happens_next(self) -> None:
        child = ChildInfo(ChildStatus.EXITED, 7, restarts=5, exit_code=139, note="restart limit 5 reached")
        v = decide(Snapshot(Phase.DEGRADED, (), child))
        assert v.failing[0].reason == "the app exited with signal 11 (SIGSEGV); restart limit 5 reached"

    def test_prestart_tasks_hold_readiness_until_they_pass(self) -> None:
        task = CheckState("prestart-migrate", "prestart", "python manage.py migrate", role=Role.TASK, startup_only=True)
        snap = Snapshot(Phase.GATING, (passing("db"), task))
        assert [c.name for c in decide(snap).failing] == ["prestart-migrate", APP_PROCESS]
        assert decide(snap).failing[0].reason == "pending: not started yet"
        done = record_success(task, now=1, duration=1)
        assert decide(Snapshot(Phase.RUNNING, (done,), RUNNING)).ready


def test_a_skipped_gate_never_holds_readiness_and_says_why() -> None:
    from supervisor.health.render import check_line

    skipped = CheckState(
        "cache", "redis", "env:REDIS_URL", status=Status.SKIPPED, skipped_because="REDIS_URL is not set"
    )
    assert not skipped.holds_readiness
    check = finding_of(skipped)
    assert check.ok and check_line(check) == "[+]cache skipped: REDIS_URL is not set"


_statuses = st.sampled_from(list(Status))
_check_states = st.builds(
    CheckState,
    name=st.text("abcdef", min_size=1, max_size=3),
    kind=st.just("tcp"),
    target=st.just("t"),
    role=st.sampled_from(list(Role)),
    critical=st.booleans(),
    status=_statuses,
)


@settings(max_examples=500, deadline=None)
@given(
    phase=st.sampled_from(list(Phase)),
    child=st.sampled_from(list(ChildStatus)),
    checks=st.lists(_check_states, max_size=6, unique_by=lambda c: c.name),
)
def test_is_ready_is_the_verdict_of_decide(phase: Phase, child: ChildStatus, checks: list[CheckState]) -> None:
    snapshot = Snapshot(phase, tuple(checks), ChildInfo(child, pid=42))
    assert is_ready(snapshot) is decide(snapshot).ready
