"""What the supervisor knows about one gate, and how an attempt's outcome changes it.

Pure and immutable: the gate engine produces outcomes, these functions fold them into state, and
the health server reads whatever state is current. Nothing here does I/O or reads a clock.
"""

from dataclasses import dataclass, replace
from enum import StrEnum


class Status(StrEnum):
    PENDING = "pending"  # no attempt has finished yet
    PASS = "pass"
    FAIL = "fail"
    SKIPPED = "skipped"  # not checked at all: its ONLY_IF_SET variable is not set


@dataclass(frozen=True)
class GateState:
    name: str
    kind: str
    target: str  # redacted description of what is checked
    critical: bool = True
    startup_only: bool = False
    failure_threshold: int = 1
    status: Status = Status.PENDING
    attempts: int = 0
    consecutive_failures: int = 0
    last_error: str | None = None
    last_success: float | None = None  # wall-clock time (epoch seconds)
    last_attempt: float | None = None
    last_duration: float | None = None  # seconds
    ever_passed: bool = False
    skipped_because: str | None = None  # why the gate is not checked ("REDIS_URL is not set")

    @property
    def holds_readiness(self) -> bool:
        """True when this gate keeps the supervisor from being ready."""
        return self.critical and self.status not in (Status.PASS, Status.SKIPPED)

    @property
    def settled(self) -> bool:
        """True when the engine has nothing more to do for this gate after startup."""
        return self.startup_only and self.ever_passed


def record_success(state: GateState, *, now: float, duration: float) -> GateState:
    return replace(
        state,
        status=Status.PASS,
        attempts=state.attempts + 1,
        consecutive_failures=0,
        last_error=None,
        last_success=now,
        last_attempt=now,
        last_duration=duration,
        ever_passed=True,
    )


def record_failure(state: GateState, *, now: float, duration: float, error: str) -> GateState:
    """A failure flips a passing gate only after ``failure_threshold`` consecutive failures.

    Before the first pass every failure counts at once: there is no earlier success to trust.
    """
    failures = state.consecutive_failures + 1
    status = Status.PASS if state.status is Status.PASS and failures < state.failure_threshold else Status.FAIL
    return replace(
        state,
        status=status,
        attempts=state.attempts + 1,
        consecutive_failures=failures,
        last_error=error,
        last_attempt=now,
        last_duration=duration,
    )
