"""The supervisor's file-descriptor budget, fitted to ``RLIMIT_NOFILE`` before anything starts.

Out of descriptors, ``accept()``, an import, a spawn and a ``/proc`` read all fail at once; the
health server survives that (it backs off), but the point is never to get there. So the budget is
decided at start: the health connections (``HEALTH_MAX_CONNECTIONS``), what each gate and task
may hold at once, and what the supervisor itself holds. When the soft limit is too low and the
hard one is enough, the supervisor raises its own soft limit; the app and every command it
starts get back the soft limit the supervisor was started with, because programs that use
``select()`` break above 1024 (systemd keeps services at 1024 for the same reason). When even
the hard limit is too low, an explicit ``HEALTH_MAX_CONNECTIONS`` is refused (exit 78); the
default is lowered to what fits, with a warning.

``plan`` is pure, so every case is tested without touching the process's limits.
"""

import os
import resource
from dataclasses import dataclass

BASE = 24  # the standard streams, the listener, epoll, wakeup pipes, a lookup, an import, a spawn
PER_CHECK = 4  # a gate's attempt: a socket or a pipe, a second connection, a lookup's socket, a file
MIN_CONNECTIONS = 8  # HEALTH_MAX_CONNECTIONS' own lower bound


@dataclass(frozen=True)
class Plan:
    max_connections: int  # the health connections to allow
    raise_soft_to: int | None = None  # the supervisor's new soft limit, when it must be raised
    problem: str | None = None  # the configuration cannot work: exit 78 with this line
    warning: str | None = None  # it works, with less than asked for


def needed(max_connections: int, checks: int, open_now: int) -> int:
    """Descriptors the supervisor may hold at once: one more connection than the bound, since
    the newest is accepted before the oldest is dropped."""
    return open_now + BASE + PER_CHECK * checks + max_connections + 1


def plan(*, max_connections: int, explicit: bool, checks: int, open_now: int, soft: int, hard: int) -> Plan:
    unlimited = resource.RLIM_INFINITY
    need = needed(max_connections, checks, open_now)
    if soft == unlimited or need <= soft:
        return Plan(max_connections)
    if hard == unlimited or need <= hard:
        return Plan(max_connections, raise_soft_to=need)
    room = hard - needed(0, checks, open_now)
    if explicit:
        fits = f"at most {room}" if room >= MIN_CONNECTIONS else "none"
        return Plan(
            max_connections,
            problem=f"SUPERVISOR_HEALTH_MAX_CONNECTIONS={max_connections}: needs {need} file descriptors with "
            f"{checks} check(s), over the hard limit of {hard} (ulimit -n, docker run --ulimit nofile=N:N); "
            f"{fits} fit: lower the setting or raise the limit",
        )
    if room < MIN_CONNECTIONS:
        return Plan(
            max_connections,
            problem=f"the file-descriptor limit (ulimit -n) of {hard} is too low for {checks} check(s): "
            f"the supervisor needs {needed(MIN_CONNECTIONS, checks, open_now)}; raise it "
            "(docker run --ulimit nofile=N:N, LimitNOFILE= under systemd)",
        )
    return Plan(
        room,
        raise_soft_to=hard if hard > soft else None,
        warning=f"the file-descriptor limit (ulimit -n) of {hard} leaves room for {room} health connection(s), "
        f"not the default {max_connections}; raise the limit to keep the default",
    )


def open_descriptors() -> int:
    try:
        return len(os.listdir("/proc/self/fd")) - 1  # less the one listdir itself opened
    except OSError:
        return 3


def current() -> tuple[int, int]:
    return resource.getrlimit(resource.RLIMIT_NOFILE)


def apply(result: Plan) -> tuple[int, int] | None:
    """Raise the soft limit as planned; the limits the supervisor was started with (for its
    children) when it did, else None."""
    if result.raise_soft_to is None:
        return None
    started_with = current()
    resource.setrlimit(resource.RLIMIT_NOFILE, (result.raise_soft_to, started_with[1]))
    return started_with
