"""What a start-up or a ``wait`` is still waiting for, said every few seconds.

A wait that prints nothing for a minute looks like a hang; one line per check still holding
things back, with its reason, the attempt count and how long it has been tried, says it is not.
Pure: snapshot in, lines out; ``run`` logs them and ``wait`` prints them.
"""

from collections.abc import Iterable

from supervisor.core.checks import CheckState, Role

EVERY = 5.0  # seconds between two reports


def still_waiting(checks: Iterable[CheckState], now: float, *, by_target: bool = False) -> list[str]:
    """One line per check in ``checks``: ``still waiting for cache: refused: ... (attempt 7, 3.2 s)``.

    ``by_target``: named by what is checked (``wait``'s targets have no names of their own)."""
    lines = []
    for check in checks:
        what = check.target if by_target else check.name
        if check.started is None:
            lines.append(f"still waiting for {what}: {check.reason}")
            continue
        took = f"{max(0.0, now - check.started):.1f} s"
        if check.attempts == 0:  # nothing has finished yet: say it runs, not "pending"
            doing = "running" if check.role is Role.TASK else "its first attempt is running"
            lines.append(f"still waiting for {what}: {doing} ({took})")
            continue
        tried = f"attempt {check.attempts}, {took}"
        lines.append(f"still waiting for {what}: {check.reason} ({tried})")
    return lines
