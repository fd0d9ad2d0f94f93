from supervisor.core.checks import CheckState, Status, record_failure, record_success, restarted


def gate(**kw: object) -> CheckState:
    return CheckState(name="db", kind="postgresql", target="postgresql://db", **kw)  # type: ignore[arg-type]


def test_new_gate_is_pending_and_holds_readiness() -> None:
    g = gate()
    assert g.status is Status.PENDING
    assert g.holds_readiness


def test_success_records_everything() -> None:
    g = record_success(gate(), now=100.0, duration=0.02)
    assert g.status is Status.PASS
    assert (g.attempts, g.consecutive_failures, g.last_error) == (1, 0, None)
    assert g.last_success == 100.0 and g.last_duration == 0.02 and g.ever_passed
    assert not g.holds_readiness


def test_failure_before_first_pass_fails_at_once_even_with_threshold() -> None:
    g = record_failure(gate(failure_threshold=3), now=1.0, duration=0.1, error="refused")
    assert g.status is Status.FAIL
    assert g.last_error == "refused" and g.consecutive_failures == 1 and g.attempts == 1


def test_threshold_keeps_a_passing_gate_up_until_reached() -> None:
    g = record_success(gate(failure_threshold=3), now=1.0, duration=0.1)
    g = record_failure(g, now=2.0, duration=0.1, error="blip")
    assert g.status is Status.PASS and g.consecutive_failures == 1
    g = record_failure(g, now=3.0, duration=0.1, error="blip")
    assert g.status is Status.PASS
    g = record_failure(g, now=4.0, duration=0.1, error="down")
    assert g.status is Status.FAIL and g.last_error == "down"
    assert g.last_success == 1.0


def test_success_resets_failures_and_error() -> None:
    g = record_failure(gate(), now=1.0, duration=0.1, error="x")
    g = record_success(g, now=2.0, duration=0.1)
    assert g.consecutive_failures == 0 and g.last_error is None and g.attempts == 2


def test_non_critical_gate_never_holds_readiness() -> None:
    g = record_failure(gate(critical=False), now=1.0, duration=0.1, error="x")
    assert g.status is Status.FAIL and not g.holds_readiness


def test_settled_only_for_startup_only_gates_that_passed() -> None:
    assert not gate(startup_only=True).settled
    assert record_success(gate(startup_only=True), now=1, duration=0).settled
    assert not record_success(gate(), now=1, duration=0).settled


def probe(**kw: object) -> CheckState:
    return CheckState(name="app-probe", kind="http", target="http://127.0.0.1:8000/", act_after=3, **kw)  # type: ignore[arg-type]


def _fail(state: CheckState, times: int) -> CheckState:
    for n in range(times):
        state = record_failure(state, now=10.0 + n, duration=0.1, error="timed out after 2s")
    return state


def test_failures_before_the_app_first_answered_never_make_it_unresponsive() -> None:
    booting = _fail(probe(), 10)
    assert booting.consecutive_failures == 10 and booting.hang_failures == 0 and not booting.unresponsive
    assert "failures" not in booting.reason


def test_the_app_is_unresponsive_at_the_threshold_after_it_answered() -> None:
    answered = record_success(probe(), now=1.0, duration=0.01)
    two = _fail(answered, 2)
    assert (two.hang_failures, two.unresponsive) == (2, False)
    assert two.reason == "timed out after 2s (failures 2/3)"
    three = _fail(answered, 3)
    assert three.unresponsive and three.reason == "unresponsive (failures 3/3): timed out after 2s"
    assert not record_success(three, now=20.0, duration=0.01).unresponsive  # answering again ends it


def test_a_restart_forgets_that_the_app_had_answered() -> None:
    hung = _fail(record_success(probe(), now=1.0, duration=0.01), 3)
    again = _fail(restarted(hung), 5)
    assert again.hang_failures == 0 and not again.unresponsive


def test_a_gate_is_never_unresponsive() -> None:
    g = _fail(record_success(gate(), now=1.0, duration=0.01), 50)
    assert g.hang_failures == 0 and not g.unresponsive and "failures" not in g.reason
