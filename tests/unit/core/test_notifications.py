"""``core/notifications``: what a service manager is told for each state, and only once."""

from dataclasses import replace

from supervisor.core.checks import APP_PROBE, CheckState, Role, record_failure, record_success
from supervisor.core.notifications import Told, notifications, status_line
from supervisor.core.readiness import ChildInfo, ChildStatus, Phase, Snapshot
from supervisor.core.reasons import ReasonClass

RUNNING = ChildInfo(ChildStatus.RUNNING, pid=42)


def gate(name: str, **kw: object) -> CheckState:
    return CheckState(name, "tcp", f"tcp://{name}:1", **kw)  # type: ignore[arg-type]


def failing(name: str, why: ReasonClass = ReasonClass.REFUSED, error: str = "cannot connect") -> CheckState:
    return record_failure(gate(name), now=1.0, duration=0.1, error=error, reason_class=why)


def passing(name: str) -> CheckState:
    return record_success(gate(name), now=1.0, duration=0.1)


def probe(passed: bool) -> CheckState:
    state = CheckState(APP_PROBE, "http", "http://127.0.0.1:8000/", role=Role.APP_PROBE)
    return record_success(state, now=2.0, duration=0.01) if passed else state


def test_the_status_names_what_holds_readiness_back_by_class() -> None:
    snap = Snapshot(Phase.GATING, (failing("db"), gate("cache"), passing("config")))
    assert status_line(snap) == "waiting for db (refused), cache (pending)"


def test_a_retry_with_other_words_is_not_a_new_status() -> None:
    told, first = notifications(Told(), Snapshot(Phase.GATING, (failing("db", error="refused at 12:00:01"),)))
    assert first == ("STATUS=waiting for db (refused)",)
    told, again = notifications(told, Snapshot(Phase.GATING, (failing("db", error="refused at 12:00:02"),)))
    assert again == ()
    _told, other = notifications(told, Snapshot(Phase.GATING, (failing("db", ReasonClass.TIMEOUT),)))
    assert other == ("STATUS=waiting for db (timeout)",)


def test_many_checks_are_summed_up() -> None:
    snap = Snapshot(Phase.DEGRADED, tuple(failing(f"g{i}") for i in range(5)))
    assert status_line(snap) == "degraded: not ready because of g0 (refused), g1 (refused), g2 (refused) and 2 more"


def test_ready_is_told_once_when_readyz_would_first_answer_200() -> None:
    states = [
        Snapshot(Phase.GATING, (failing("db"), probe(False))),
        Snapshot(Phase.STARTING, (passing("db"), probe(False)), RUNNING),  # spawned, not answering yet
        Snapshot(Phase.RUNNING, (passing("db"), probe(True)), RUNNING),
        Snapshot(Phase.RUNNING, (failing("db"), probe(True)), RUNNING),  # a re-check fails
        Snapshot(Phase.RUNNING, (passing("db"), probe(True)), RUNNING),
        Snapshot(Phase.STOPPING, (passing("db"), probe(True)), RUNNING),
        Snapshot(Phase.STOPPING, (passing("db"), probe(True)), replace(RUNNING, status=ChildStatus.EXITED)),
    ]
    told, said = Told(), []
    for snap in states:
        told, messages = notifications(told, snap)
        said.append(messages)
    assert said == [
        ("STATUS=waiting for db (refused)",),
        ("STATUS=waiting for the app to answer",),
        ("STATUS=ready", "READY=1"),
        ("STATUS=waiting for db (refused)",),
        ("STATUS=ready",),
        ("STATUS=stopping", "STOPPING=1"),
        (),
    ]


def test_nothing_before_ready_says_ready() -> None:
    """Every state short of ready, whatever its phase: READY=1 is never among its messages."""
    not_ready = [
        Snapshot(phase, checks, child)
        for phase in Phase
        for checks in [(failing("db"),), (gate("db"),), (passing("db"), probe(False))]
        for child in [ChildInfo(), RUNNING, ChildInfo(ChildStatus.EXITED, 42, 0, 1, "restarting in 1s")]
        if not (phase is not Phase.STOPPING and child is RUNNING and checks[0].satisfied and len(checks) == 1)
    ]
    for snap in not_ready:
        _told, messages = notifications(Told(), snap)
        assert "READY=1" not in messages, snap


def test_a_degraded_supervisor_says_why_and_an_exited_app_says_what_next() -> None:
    exited = ChildInfo(ChildStatus.EXITED, 42, 1, 3, "restart limit 5 reached")
    assert status_line(Snapshot(Phase.DEGRADED, (passing("db"),), exited)) == "degraded: restart limit 5 reached"
    restarting = ChildInfo(ChildStatus.EXITED, 42, 1, 3, "restarting in 1s")
    assert status_line(Snapshot(Phase.RUNNING, (passing("db"),), restarting)) == "the app exited: restarting in 1s"
    assert status_line(Snapshot(Phase.GATING, (passing("db"),))) == "starting the app"


def test_an_app_that_stops_answering_is_said_so_not_waited_for() -> None:
    answered = record_success(
        CheckState(APP_PROBE, "http", "http://127.0.0.1:8000/", role=Role.APP_PROBE, act_after=2), now=1, duration=0
    )
    once = record_failure(answered, now=2, duration=1, error="timed out", reason_class=ReasonClass.TIMEOUT)
    twice = record_failure(once, now=3, duration=1, error="timed out", reason_class=ReasonClass.TIMEOUT)
    lines = [status_line(Snapshot(Phase.RUNNING, (passing("db"), p), RUNNING)) for p in (once, twice)]
    assert lines == ["the app does not answer (timeout)", "the app does not answer (unresponsive)"]
