"""``runtime/observers``: the log lines a state change makes (one per verdict change, not per attempt)."""

import itertools
import logging

import pytest

from supervisor.core.checks import APP_PROBE, CheckState, Role, record_failure, record_success
from supervisor.core.readiness import ChildInfo, ChildStatus, Phase, Snapshot
from supervisor.core.reasons import ReasonClass
from supervisor.runtime import observers

RUNNING = ChildInfo(ChildStatus.RUNNING, pid=42)
NOT_STARTED = ChildInfo()


@pytest.fixture
def log(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG, logger="supervisor")
    return caplog


def lines(log: pytest.LogCaptureFixture, level: int | None = None) -> list[str]:
    return [r.getMessage() for r in log.records if level is None or r.levelno == level]


def first(log: pytest.LogCaptureFixture, level: int) -> logging.LogRecord:
    return next(r for r in log.records if r.levelno == level)


def above_debug(log: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in log.records if r.levelno > logging.DEBUG]


def gate(name: str = "db", **kw: object) -> CheckState:
    return CheckState(name, "tcp", f"tcp://{name}:5432", **kw)  # type: ignore[arg-type]


def fail(state: CheckState, error: str = "cannot connect", **kw: object) -> CheckState:
    return record_failure(state, now=2.0, duration=0.5, error=error, reason_class=ReasonClass.REFUSED, **kw)  # type: ignore[arg-type]


def snap(*checks: CheckState, phase: Phase = Phase.GATING, child: ChildInfo = NOT_STARTED) -> Snapshot:
    return Snapshot(phase, checks, child)


def test_a_first_pass_is_one_info_line_beside_the_debug_attempt(log: pytest.LogCaptureFixture) -> None:
    g0 = gate()
    g1 = record_success(g0, now=1.0, duration=0.02)
    observers.ChangeLog()(snap(g0), snap(g1))
    assert lines(log, logging.DEBUG) == ["gate db attempt 1: passed (20 ms)"]
    assert lines(log, logging.INFO) == ["gate db passed after 1 attempt(s) (20 ms)"]
    info = first(log, logging.INFO)
    assert info.__dict__["gate"] == "db"
    assert "reason_class" not in info.__dict__  # a pass has no reason class


def test_a_first_failure_is_info_and_carries_its_reason_class(log: pytest.LogCaptureFixture) -> None:
    g0 = gate()
    observers.ChangeLog()(snap(g0), snap(fail(g0)))
    assert lines(log, logging.DEBUG) == ["gate db attempt 1: refused: cannot connect (500 ms)"]
    assert lines(log, logging.INFO) == ["gate db failing: refused: cannot connect"]
    assert lines(log, logging.WARNING) == []
    info = first(log, logging.INFO)
    assert info.__dict__["reason_class"] == "refused"
    assert "output" not in info.__dict__


def test_a_passing_check_that_fails_is_a_warning(log: pytest.LogCaptureFixture) -> None:
    passing = record_success(gate(), now=1.0, duration=0.01)
    observers.ChangeLog()(snap(passing), snap(fail(passing)))
    assert lines(log, logging.WARNING) == ["gate db failing: refused: cannot connect"]


def test_non_critical_checks_say_so_and_output_is_a_field(log: pytest.LogCaptureFixture) -> None:
    g0 = gate("mail", critical=False)
    failed = fail(g0, output=("line one", "line two"))
    observers.ChangeLog()(snap(g0), snap(failed))
    assert lines(log, logging.INFO) == ["gate mail failing: refused: cannot connect (non-critical)"]
    info = first(log, logging.INFO)
    assert info.__dict__["output"] == ["line one", "line two"]


def test_another_failed_attempt_alike_logs_only_at_debug(log: pytest.LogCaptureFixture) -> None:
    once = fail(gate(), output=("took 12 ms, pid 345",))
    twice = fail(once, output=("took 99 ms, pid 678",))  # only the numbers changed: no news
    observers.ChangeLog()(snap(once), snap(twice))
    assert lines(log, logging.DEBUG) == ["gate db attempt 2: refused: cannot connect (500 ms)"]
    assert above_debug(log) == []


def test_a_failure_for_another_reason_is_news(log: pytest.LogCaptureFixture) -> None:
    once = fail(gate(), output=("no such table: users",))
    twice = fail(once, output=("no such column: name",))
    observers.ChangeLog()(snap(once), snap(twice))
    assert lines(log, logging.INFO) == ["gate db still failing: refused: cannot connect"]
    info = first(log, logging.INFO)
    assert info.__dict__["output"] == ["no such column: name"]


def test_a_failure_for_another_reason_without_output_is_news_too(log: pytest.LogCaptureFixture) -> None:
    """Refused, then a login turned away: no command output either time, yet the reason changed
    (a re-check after start-up logs nothing else above debug for it)."""
    once = fail(gate(), "cannot connect to db:5432: Connection refused")
    twice = fail(once, "password authentication failed for user app")
    again = fail(twice, "password authentication failed for user app")
    observers.ChangeLog()(snap(once, phase=Phase.RUNNING), snap(twice, phase=Phase.RUNNING))
    assert above_debug(log) == ["gate db still failing: refused: password authentication failed for user app"]
    assert "output" not in first(log, logging.INFO).__dict__
    log.clear()
    observers.ChangeLog()(snap(twice, phase=Phase.RUNNING), snap(again, phase=Phase.RUNNING))
    assert above_debug(log) == []  # the same reason again is no news


@pytest.mark.parametrize(
    ("first_line", "second_line"),
    [
        ("<Connection object at 0x7f3a9c2b10d0> refused", "<Connection object at 0x7f11e04c9a30> refused"),
        ("request 550e8400-e29b-41d4-a716-446655440000 failed", "request 9f1c2bde-03aa-4c7f-bf21-8e2d0c6a7b19 failed"),
        ("build deadbeef42 is not deployed", "build c0ffee17ab is not deployed"),
        ("lock held by obj_7fa3bc91", "lock held by obj_e8d0c2f4"),
    ],
)
def test_what_changes_at_every_attempt_is_no_news(
    log: pytest.LogCaptureFixture, first_line: str, second_line: str
) -> None:
    once = fail(gate(), output=(first_line,))
    twice = fail(once, output=(second_line,))
    observers.ChangeLog()(snap(once), snap(twice))
    assert above_debug(log) == []


def test_words_are_news_even_when_made_of_hex_letters(log: pytest.LogCaptureFixture) -> None:
    once = fail(gate(), output=("table added",))
    twice = fail(once, output=("table faded",))
    observers.ChangeLog()(snap(once), snap(twice))
    assert lines(log, logging.INFO) == ["gate db still failing: refused: cannot connect"]


def test_reasons_taking_turns_are_each_news_once(log: pytest.LogCaptureFixture) -> None:
    changes = observers.ChangeLog()
    refused = "cannot connect to db:5432: Connection refused"
    timed_out = "timed out after 5s connecting to db:5432"
    states = [fail(gate(), refused)]
    for i in range(8):
        states.append(fail(states[-1], timed_out if i % 2 == 0 else refused))
    changes(snap(gate()), snap(states[0]))
    for old, new in itertools.pairwise(states):
        changes(snap(old), snap(new))
    assert above_debug(log) == [
        f"gate db failing: refused: {refused}",
        f"gate db still failing: refused: {timed_out}",
    ]


def test_a_failure_after_a_pass_is_news_whatever_it_said_before(log: pytest.LogCaptureFixture) -> None:
    changes = observers.ChangeLog()
    failed = fail(gate(), "cannot connect")
    other = fail(failed, "password authentication failed")
    passed = record_success(other, now=3.0, duration=0.01)
    again = fail(passed, "password authentication failed")
    again_first = fail(again, "cannot connect")
    for old, new in [(gate(), failed), (failed, other), (other, passed), (passed, again), (again, again_first)]:
        changes(snap(old, phase=Phase.RUNNING), snap(new, phase=Phase.RUNNING))
    assert [line for line in above_debug(log) if "db" in line] == [
        "gate db failing: refused: cannot connect",
        "gate db still failing: refused: password authentication failed",
        "gate db passed after 3 attempt(s) (10 ms)",
        "gate db failing: refused: password authentication failed",
        "gate db still failing: refused: cannot connect",
    ]


def test_a_still_passing_check_logs_nothing_above_debug(log: pytest.LogCaptureFixture) -> None:
    once = record_success(gate(), now=1.0, duration=0.01)
    twice = record_success(once, now=2.0, duration=0.01)
    observers.ChangeLog()(snap(once), snap(twice))
    assert above_debug(log) == []
    assert lines(log, logging.DEBUG) == ["gate db attempt 2: passed (10 ms)"]


def test_tasks_and_the_app_probe_are_named_by_their_role(log: pytest.LogCaptureFixture) -> None:
    task = CheckState("prestart-migrate", "command", "migrate", role=Role.TASK)
    probe = CheckState("app-probe", "tcp", "tcp://127.0.0.1:8000", role=Role.APP_PROBE)
    before = snap(task, probe)
    after = snap(record_success(task, now=1.0, duration=1.0), fail(probe))
    observers.ChangeLog()(before, after)
    assert lines(log, logging.INFO) == [
        "pre-start task prestart-migrate passed after 1 attempt(s) (1000 ms)",
        "app probe app-probe failing: refused: cannot connect",
    ]


def test_a_phase_change_is_one_info_line_with_the_phase_field(log: pytest.LogCaptureFixture) -> None:
    g = gate()
    observers.ChangeLog()(snap(g), snap(g, phase=Phase.STOPPING))
    assert lines(log) == ["phase gating -> stopping"]
    assert log.records[0].__dict__["phase"] == "stopping"
    log.clear()
    observers.ChangeLog()(snap(g, phase=Phase.STOPPING), snap(g, phase=Phase.STOPPING))
    assert lines(log) == []  # nothing changed: nothing logged


def test_degraded_warns_once_per_set_of_failing_checks(log: pytest.LogCaptureFixture) -> None:
    db, cache = fail(gate("db")), gate("cache")
    gating = snap(db, cache)
    degraded = snap(db, cache, phase=Phase.DEGRADED)
    observers.ChangeLog()(gating, degraded)
    assert lines(log, logging.WARNING) == [
        "degraded: not ready because db: refused: cannot connect; cache: pending: no attempt has finished yet"
    ]
    log.clear()
    observers.ChangeLog()(degraded, snap(db, cache, phase=Phase.DEGRADED))  # the same checks hold it back
    assert lines(log, logging.WARNING) == []
    cache_up = record_success(cache, now=3.0, duration=0.01)
    observers.ChangeLog()(degraded, snap(db, cache_up, phase=Phase.DEGRADED))  # fewer now: said again
    assert lines(log, logging.WARNING) == ["degraded: not ready because db: refused: cannot connect"]


def test_non_critical_failures_do_not_hold_a_degraded_supervisor(log: pytest.LogCaptureFixture) -> None:
    mail = fail(gate("mail", critical=False))
    degraded = snap(mail, phase=Phase.DEGRADED)
    observers.ChangeLog()(snap(mail), degraded)
    assert lines(log, logging.WARNING) == ["degraded: every critical check passes now; starting the app"]
    log.clear()
    # once the app runs, nothing more to say
    observers.ChangeLog()(degraded, snap(mail, phase=Phase.DEGRADED, child=RUNNING))
    assert lines(log, logging.WARNING) == []


def test_a_pending_app_probe_is_no_reason_to_be_degraded(caplog: pytest.LogCaptureFixture) -> None:
    probe = CheckState(APP_PROBE, "tcp", "tcp://127.0.0.1:8000", role=Role.APP_PROBE)
    gate = CheckState("db", "tcp", "tcp://db:5432")
    failing = record_failure(gate, now=1.0, duration=0.01, error="refused")
    passing = record_success(failing, now=2.0, duration=0.01)
    child = ChildInfo()
    gating = Snapshot(Phase.GATING, (failing, probe), child)
    degraded = Snapshot(Phase.DEGRADED, (failing, probe), child)
    recovered = Snapshot(Phase.DEGRADED, (passing, probe), child)
    spawned = Snapshot(Phase.DEGRADED, (passing, probe), RUNNING)
    with caplog.at_level(logging.INFO):
        observers.ChangeLog()(gating, degraded)
        observers.ChangeLog()(degraded, recovered)
        observers.ChangeLog()(recovered, spawned)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [
        "degraded: not ready because db: refused",
        "degraded: every critical check passes now; starting the app",
    ]
    caplog.clear()
    answered = record_failure(probe, now=3.0, duration=0.01, error="refused")  # the app ran, then its probe failed
    with caplog.at_level(logging.INFO):
        observers.ChangeLog()(spawned, Snapshot(Phase.DEGRADED, (passing, answered), RUNNING))
    assert "degraded: not ready because app-probe: refused" in caplog.text
