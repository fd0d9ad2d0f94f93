"""What the service manager is told (sd_notify), decided from the supervisor's state alone.

systemd, podman's ``--sdnotify=container`` and Quadlet's ``Notify=`` read ``READY=1`` as "the
service is up": it is sent once, the first time ``/readyz`` would answer 200, never before (the
app's own ``READY=1``, gunicorn's as soon as its arbiter has bound, would say it before any worker
answers). ``STATUS=`` is one line a person reads in ``systemctl status``: it changes with the
phase and with the checks that hold readiness back, named with the class of their failure
(``refused``), not its text, so that a retry with a new timestamp is not a new status.
``STOPPING=1`` is sent once, when a stop begins.
"""

from dataclasses import dataclass

from supervisor.core.checks import CheckState, Role, Status
from supervisor.core.readiness import ChildStatus, Phase, Snapshot, holding, is_ready

MOST_NAMED = 3  # checks a status line names before "and N more"


def _named(checks: tuple[CheckState, ...]) -> str:
    def one(c: CheckState) -> str:
        if c.status is Status.PENDING:
            return f"{c.name} (pending)"
        return f"{c.name} ({c.reason_class or 'failing'})"

    shown = ", ".join(one(c) for c in checks[:MOST_NAMED])
    more = len(checks) - MOST_NAMED
    return shown + (f" and {more} more" if more > 0 else "")


def status_line(snapshot: Snapshot) -> str:
    """The one line ``STATUS=`` carries for this state."""
    phase, child = snapshot.phase, snapshot.child
    if phase is Phase.STOPPING:
        return "stopping"
    if is_ready(snapshot):
        return "ready"
    blocking = holding(c for c in snapshot.checks if c.role is not Role.APP_PROBE)
    if phase is Phase.DEGRADED:
        if blocking:
            return f"degraded: not ready because of {_named(blocking)}"
        if child.status is ChildStatus.EXITED:
            return f"degraded: {child.note or 'the app exited'}"
        return "degraded"
    if child.status is ChildStatus.EXITED:
        return f"the app exited: {child.note}" if child.note else "the app exited"
    if blocking:
        return f"waiting for {_named(blocking)}"
    if phase is Phase.RUNNING and child.status is ChildStatus.RUNNING:
        probe = next((c for c in snapshot.checks if c.role is Role.APP_PROBE), None)
        if probe is None:
            return "not ready"
        what = "unresponsive" if probe.unresponsive else str(probe.reason_class or "failing")
        return f"the app does not answer ({what})"
    if phase is Phase.STARTING or child.status is ChildStatus.RUNNING:
        return "waiting for the app to answer"
    return "starting the app"


@dataclass(frozen=True)
class Told:
    """What the service manager has been told so far."""

    ready: bool = False
    status: str | None = None
    stopping: bool = False


def notifications(told: Told, snapshot: Snapshot) -> tuple[Told, tuple[str, ...]]:
    """The messages this state adds to what was told (each a ``KEY=value`` datagram), and what
    has been told with them. A state that changes nothing a manager reads adds nothing."""
    messages: list[str] = []
    status = status_line(snapshot)
    if status != told.status:
        messages.append(f"STATUS={status}")
    ready = told.ready or is_ready(snapshot)
    if ready and not told.ready:
        messages.append("READY=1")
    stopping = snapshot.phase is Phase.STOPPING
    if stopping and not told.stopping:
        messages.append("STOPPING=1")
    return Told(ready, status, told.stopping or stopping), tuple(messages)
