"""One kind of thing for everything the supervisor checks: gates, pre-start tasks and the app probe.

Each is a ``CheckState`` tagged with its ``Role``, so the readiness decision, the reports, the logs
and the metrics iterate one collection the same way and find a check by name in one place. The
state is pure and immutable: the engine and the start-up sequence produce outcomes, the functions
here fold them in, and readers get whatever state is current. Nothing here does I/O or reads a clock.
"""

from dataclasses import dataclass, replace
from enum import StrEnum

from supervisor.core.reasons import ReasonClass


class Role(StrEnum):
    GATE = "gate"  # a dependency, checked by the gate engine (re-checked unless startup-only)
    TASK = "task"  # a pre-start task: a command run once before the app starts
    APP_PROBE = "app-probe"  # the app itself answering, once it runs

    @property
    def noun(self) -> str:
        return {Role.GATE: "gate", Role.TASK: "pre-start task", Role.APP_PROBE: "app probe"}[self]


# Check names that no configured gate can take: gate names use only letters, digits and _.
APP_PROBE = "app-probe"
APP_PROCESS = "app-process"  # not a CheckState: derived from the child process by the decision
TASK_PREFIX = "prestart-"


def task_check_name(task: str) -> str:
    """The check name of the pre-start task called ``task`` in the configuration."""
    return TASK_PREFIX + task


class Status(StrEnum):
    PENDING = "pending"  # no attempt has finished yet
    PASS = "pass"
    FAIL = "fail"
    SKIPPED = "skipped"  # not checked at all: its ONLY_IF_SET variable is not set


@dataclass(frozen=True)
class CheckState:
    name: str
    kind: str
    target: str  # redacted description of what is checked
    role: Role = Role.GATE
    critical: bool = True
    startup_only: bool = False
    failure_threshold: int = 1
    after: tuple[str, ...] = ()  # check names this one waits for before its first attempt
    status: Status = Status.PENDING
    attempts: int = 0
    consecutive_failures: int = 0
    last_error: str | None = None
    reason_class: ReasonClass | None = None  # the kind of failure the last failed attempt met
    detail: str | None = None  # what the last passing attempt reported ("HTTP 200")
    last_success: float | None = None  # wall-clock time (epoch seconds)
    last_attempt: float | None = None
    last_duration: float | None = None  # seconds
    started: float | None = None  # when the first attempt began (the start-up timeline)
    first_passed: float | None = None
    skipped_because: str | None = None  # why the check is not run ("REDIS_URL is not set")
    output: tuple[str, ...] = ()  # what the last failed attempt said beyond its reason (a command's findings)
    final: bool = False  # failed in a way nothing changes before a restart: never retried
    # the app probe: consecutive failures, once the app has answered since it was (re)started,
    # that make the app unresponsive (ON_APP_UNRESPONSIVE); 0 for every other check
    act_after: int = 0
    attempts_to_pass: int | None = None  # the attempts its first pass took (the start-up's chain)
    answered_since_start: bool = False  # passed since the app was (re)started

    @property
    def ever_passed(self) -> bool:
        return self.first_passed is not None

    @property
    def satisfied(self) -> bool:
        """True when whatever waits for this check may go ahead."""
        return self.status in (Status.PASS, Status.SKIPPED)

    @property
    def holds_readiness(self) -> bool:
        """True when this check keeps the supervisor from being ready."""
        return self.critical and not self.satisfied

    @property
    def settled(self) -> bool:
        """True when the engine has nothing more to do for this check after start-up."""
        return self.startup_only and self.ever_passed

    @property
    def hang_failures(self) -> int:
        """Failures toward ``act_after``: counted only once the app has answered since it was
        started, so that a slow boot is never taken for a hang."""
        return self.consecutive_failures if self.act_after and self.answered_since_start else 0

    @property
    def unresponsive(self) -> bool:
        """The app answered, then failed ``act_after`` probes in a row."""
        return self.act_after > 0 and self.hang_failures >= self.act_after

    @property
    def reason(self) -> str:
        """Why the check does not pass, in one line (already redacted)."""
        if self.hang_failures and self.status is Status.FAIL:
            said = self.error_line or "failed"
            count = f"failures {self.hang_failures}/{self.act_after}"
            return f"unresponsive ({count}): {said}" if self.unresponsive else f"{said} ({count})"
        if self.status is Status.PENDING:
            if self.started is None and self.after:
                return f"waiting for {', '.join(self.after)}"
            if self.started is None and self.role is Role.TASK:
                return "pending: not started yet"
            return "pending: no attempt has finished yet"
        return self.error_line or "failed"

    @property
    def report(self) -> str:
        """The reason, and beneath it the lines the failure printed (``output``): what /readyz
        JSON calls ``output``."""
        return "\n".join((self.reason, *self.output)) if self.output else self.reason

    @property
    def error_line(self) -> str | None:
        """The last failure as users read it everywhere: ``refused: cannot connect: ...``."""
        if self.last_error is None:
            return None
        return f"{self.reason_class}: {self.last_error}" if self.reason_class else self.last_error


def record_start(state: CheckState, *, now: float) -> CheckState:
    """The first attempt begins (later ones change nothing here)."""
    return state if state.started is not None else replace(state, started=now)


def record_success(state: CheckState, *, now: float, duration: float, detail: str | None = None) -> CheckState:
    return replace(
        state,
        status=Status.PASS,
        attempts=state.attempts + 1,
        consecutive_failures=0,
        last_error=None,
        reason_class=None,
        output=(),
        detail=detail,
        last_success=now,
        last_attempt=now,
        last_duration=duration,
        started=now - duration if state.started is None else state.started,
        first_passed=now if state.first_passed is None else state.first_passed,
        attempts_to_pass=state.attempts + 1 if state.attempts_to_pass is None else state.attempts_to_pass,
        answered_since_start=True,
    )


def record_failure(
    state: CheckState,
    *,
    now: float,
    duration: float,
    error: str,
    reason_class: ReasonClass | None = None,
    output: tuple[str, ...] = (),
    final: bool = False,
) -> CheckState:
    """A failure flips a passing check only after ``failure_threshold`` consecutive failures.

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
        reason_class=reason_class,
        output=output,
        final=final,
        last_attempt=now,
        last_duration=duration,
        started=now - duration if state.started is None else state.started,
    )


def restarted(state: CheckState) -> CheckState:
    """A restarted app must answer again before it counts as ready."""
    return replace(
        state,
        status=Status.PENDING,
        consecutive_failures=0,
        last_error=None,
        reason_class=None,
        output=(),
        detail=None,
        answered_since_start=False,
    )
