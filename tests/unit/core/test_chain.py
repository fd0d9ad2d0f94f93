"""The start-up's critical chain, from snapshots with known times (seconds after a start at 100)."""

import pytest

from supervisor.core.chain import APP, Link, critical_chain
from supervisor.core.checks import CheckState, Role, Status
from supervisor.core.readiness import Phase, Snapshot, Timeline

T0 = 100.0


def check(
    name: str,
    started: float | None,
    passed: float | None,
    *,
    after: tuple[str, ...] = (),
    role: Role = Role.GATE,
    critical: bool = True,
    attempts: int = 1,
) -> CheckState:
    return CheckState(
        name=name,
        kind="tcp",
        target="t",
        role=role,
        critical=critical,
        after=after,
        status=Status.PASS if passed is not None else Status.FAIL,
        attempts=attempts,
        started=None if started is None else T0 + started,
        first_passed=None if passed is None else T0 + passed,
    )


def snapshot(*checks: CheckState, spawned: float | None, ready: float | None) -> Snapshot:
    timeline = Timeline(T0, None if spawned is None else T0 + spawned, None if ready is None else T0 + ready)
    return Snapshot(Phase.RUNNING, checks, timeline=timeline)


def names(chain: tuple[Link, ...]) -> list[str]:
    return [link.name for link in chain]


def test_the_chain_follows_the_last_to_pass_back_through_after() -> None:
    chain = critical_chain(
        snapshot(
            check("db", 0.0, 1.0, attempts=4),
            check("cache", 0.0, 0.3),
            check("search", 1.0, 1.5, after=("db",)),  # waited for db
            check("migrate", 1.5, 2.5, after=("db", "cache", "search"), role=Role.TASK),
            check("app-probe", 2.6, 3.0, role=Role.APP_PROBE, attempts=3),
            spawned=2.55,
            ready=3.0,
        )
    )
    assert names(chain) == ["db", "search", "migrate", APP, "app-probe"]
    assert [link.waited_for for link in chain] == [None, "db", "search", "migrate", APP]
    db, search, *_ = chain
    assert (db.started, db.passed, db.attempts) == (0.0, 1.0, 4)
    assert (search.started, search.took) == (1.0, 0.5)
    assert chain[-1].attempts == 3 and chain[-2].started == chain[-2].passed == pytest.approx(2.55)


def test_non_critical_gates_do_not_hold_the_spawn_and_are_not_in_the_chain() -> None:
    chain = critical_chain(
        snapshot(check("db", 0.0, 0.5), check("mail", 0.0, 2.0, critical=False), spawned=0.6, ready=0.6)
    )
    assert names(chain) == ["db", APP]


def test_skipped_and_never_passed_checks_are_no_link() -> None:
    skipped = CheckState("cache", "redis", "t", status=Status.SKIPPED, skipped_because="REDIS_URL is not set")
    chain = critical_chain(snapshot(check("db", 0.0, 0.5), skipped, spawned=0.5, ready=0.5))
    assert names(chain) == ["db", APP]


def test_before_the_spawn_there_is_no_chain_and_without_gates_the_spawn_is_all() -> None:
    assert critical_chain(snapshot(check("db", 0.0, None), spawned=None, ready=None)) == ()
    (only,) = critical_chain(snapshot(spawned=0.01, ready=0.01))
    assert only.name == APP and only.waited_for is None


def test_an_app_probe_not_passed_yet_ends_the_chain_at_the_spawn() -> None:
    chain = critical_chain(
        snapshot(check("db", 0.0, 0.5), check("app-probe", 0.6, None, role=Role.APP_PROBE), spawned=0.55, ready=None)
    )
    assert names(chain) == ["db", APP]


def test_the_attempts_of_a_link_are_those_its_first_pass_took() -> None:
    from supervisor.core.checks import record_failure, record_success

    probe = CheckState("app-probe", "http", "t", role=Role.APP_PROBE)
    for n in range(3):
        probe = record_failure(probe, now=T0 + 0.1 * n, duration=0.01, error="refused")
    probe = record_success(probe, now=T0 + 0.5, duration=0.01)
    for n in range(10):  # re-checked for as long as it runs
        probe = record_success(probe, now=T0 + 1 + n, duration=0.01)
    *_, last = critical_chain(snapshot(probe, spawned=0.0, ready=0.5))
    assert last.name == "app-probe" and last.attempts == 4 and probe.attempts == 14
