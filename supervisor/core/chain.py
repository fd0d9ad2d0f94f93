"""The start-up's critical chain: which checks set the time to ready, as ``systemd-analyze
critical-chain`` shows which units set the boot time.

Walked back from the end: the app probe's first pass (or the spawn, without a probe); the spawn
waited for every check that holds the app back (the critical gates and the pre-start tasks), so
the one of those that passed last set it; each check waited for its ``__AFTER`` names, so the one
of those that passed last set when it could start. Whatever passed earlier had slack: making it
faster would not have made the start-up faster.
"""

from dataclasses import dataclass

from supervisor.core.checks import CheckState, Role
from supervisor.core.readiness import Snapshot

APP = "app"  # the link of the spawn, named as /readyz names the process (app-process)


@dataclass(frozen=True)
class Link:
    name: str
    role: str  # gate, task, app-probe, or app (the spawn)
    started: float  # seconds after the supervisor started
    passed: float  # when it first passed (for the app: when it was spawned)
    attempts: int  # that its first pass took (0 for the spawn)
    waited_for: str | None  # the link before this one; None for the first

    @property
    def took(self) -> float:
        return self.passed - self.started


def _holds_the_spawn(check: CheckState) -> bool:
    return check.role is Role.TASK or (check.role is Role.GATE and check.critical)


def _last_passed(candidates: list[CheckState]) -> CheckState | None:
    passed = [c for c in candidates if c.first_passed is not None and c.skipped_because is None]
    return max(passed, key=lambda c: c.first_passed or 0.0, default=None)


def critical_chain(snapshot: Snapshot) -> tuple[Link, ...]:
    """The chain, first link first; empty until the app was spawned. Times are wall-clock, as
    the snapshot keeps them (``started``, ``first_passed``), relative to the supervisor's start."""
    timeline = snapshot.timeline
    if timeline.spawned is None:
        return ()
    t0 = timeline.started
    links: list[Link] = []
    probe = next((c for c in snapshot.checks if c.role is Role.APP_PROBE), None)
    if probe is not None and probe.first_passed is not None and timeline.ready is not None:
        began = probe.started if probe.started is not None else timeline.spawned
        tries = probe.attempts_to_pass or probe.attempts
        links.append(Link(probe.name, str(probe.role), began - t0, probe.first_passed - t0, tries, APP))
    before = _last_passed([c for c in snapshot.checks if _holds_the_spawn(c)])
    spawned = timeline.spawned - t0
    links.append(Link(APP, APP, spawned, spawned, 0, None if before is None else before.name))
    seen = {APP}
    while before is not None and before.name not in seen:
        seen.add(before.name)
        prior = _last_passed([c for name in before.after if (c := snapshot.check(name)) is not None])
        assert before.first_passed is not None
        began = before.started if before.started is not None else before.first_passed
        links.append(
            Link(
                before.name,
                str(before.role),
                began - t0,
                before.first_passed - t0,
                before.attempts_to_pass or before.attempts,
                None if prior is None else prior.name,
            )
        )
        before = prior
    return tuple(reversed(links))
