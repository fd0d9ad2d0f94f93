"""What a start-up or ``wait`` says it still waits for (``progress``)."""

from supervisor.core.checks import CheckState, Role, record_failure, record_start
from supervisor.core.progress import still_waiting
from supervisor.core.reasons import ReasonClass


def test_a_failing_check_with_its_attempts_and_time_tried() -> None:
    state = record_start(CheckState("cache", "redis", "redis://cache:6379/0"), now=100.0)
    for n in range(7):
        state = record_failure(
            state, now=100.0 + n, duration=0.01, error="PING failed", reason_class=ReasonClass.REFUSED
        )
    assert still_waiting([state], now=103.25) == ["still waiting for cache: refused: PING failed (attempt 7, 3.2 s)"]
    by_target = still_waiting([state], now=103.25, by_target=True)
    assert by_target == ["still waiting for redis://cache:6379/0: refused: PING failed (attempt 7, 3.2 s)"]


def test_a_task_or_first_attempt_still_running_says_so() -> None:
    task = record_start(CheckState("prestart-migrate", "prestart", "migrate", role=Role.TASK), now=10.0)
    assert still_waiting([task], now=22.0) == ["still waiting for prestart-migrate: running (12.0 s)"]
    gate = record_start(CheckState("db", "postgresql", "postgresql://db/app"), now=10.0)
    assert still_waiting([gate], now=11.0) == ["still waiting for db: its first attempt is running (1.0 s)"]


def test_a_check_not_started_says_what_it_waits_for() -> None:
    state = CheckState("prestart-migrate", "prestart", "migrate", after=("database",))
    assert still_waiting([state], now=5.0) == ["still waiting for prestart-migrate: waiting for database"]
