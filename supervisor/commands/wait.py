"""``supervisor wait TARGET... [-- CMD]``: wait until every target passes, then (optionally)
become CMD.

What wait-for-it, dockerize and curl loops do, with the gate engine: the same URL forms as
gates, every target at once, each attempt under its own timeout, jittered backoff. It exits 124
at the deadline, as ``timeout(1)`` and wait4x do. With ``-- CMD`` it *replaces itself* with CMD
(``exec``): CMD's exit code is the result and no supervisor stays in between; at the deadline
CMD is not run. A target that fails for good (a ``config:`` variable not set) ends the wait at
once, exit 1. Every few seconds it says what it is still waiting for, and why.
"""

import json
import os
import signal
import sys
from collections.abc import Callable, Sequence

import anyio

from supervisor import exitcodes
from supervisor.commands.check import run_to_verdict
from supervisor.config.gatespec import GateSpec
from supervisor.core import progress
from supervisor.core.backoff import Backoff
from supervisor.core.checks import CheckState, Status
from supervisor.core.readiness import Snapshot
from supervisor.health.render import check_json
from supervisor.runtime.engine import GateEngine
from supervisor.runtime.state import StateStore


def _line(state: CheckState) -> str:
    took = "" if state.last_duration is None else f", {state.last_duration * 1000:.0f} ms"
    return f"ready: {state.target} (after {state.attempts} attempt(s){took})"


async def wait_for(
    targets: tuple[GateSpec, ...], *, deadline: float, backoff: Backoff, emit: Callable[[str], None]
) -> tuple[Snapshot, int | None, bool]:
    """(final state, the stop signal if one came, whether every target passed)."""
    store = StateStore.of_gates(targets)
    engine = GateEngine(store, backoff, check_interval=1.0)
    reported: set[str] = set()

    def report(_before: Snapshot, after: Snapshot) -> None:
        for state in after.gates:
            if state.status is Status.PASS and state.name not in reported:
                reported.add(state.name)
                emit(_line(state))

    store.subscribe(report)

    async def tell_progress() -> None:
        while True:
            await anyio.sleep(progress.EVERY)
            snap = store.snapshot()
            for line in progress.still_waiting(
                (g for g in sorted(snap.gates, key=_position) if g.name not in reported), snap.now, by_target=True
            ):
                emit(line)

    def done(snap: Snapshot) -> bool:
        return len(reported) == len(targets) or any(g.final for g in snap.gates)

    async with anyio.create_task_group() as tg:
        tg.start_soon(tell_progress)
        stopped_by = await run_to_verdict(store, engine, targets, done, deadline, adopt_orphans=False)
        tg.cancel_scope.cancel()
    return store.snapshot(), stopped_by, len(reported) == len(targets)


def report_json(snapshot: Snapshot, passed: bool) -> str:
    """One entry per target as given, in that order, keyed by its name (``target1``, ...): a
    target given twice is two entries, and two targets that show alike (``***``) stay apart."""
    doc = {
        "status": "pass" if passed else "fail",
        "checks": {g.name: [check_json(g)] for g in sorted(snapshot.gates, key=_position)},
    }
    return json.dumps(doc, indent=2) + "\n"


def _position(state: CheckState) -> int:
    """The place of a target on the command line, from its name ``target<N>``."""
    digits = state.name.removeprefix("target")
    return int(digits) if digits.isascii() and digits.isdigit() else 0


def failures(snapshot: Snapshot) -> list[str]:
    ordered = sorted(snapshot.gates, key=_position)
    return [f"not ready: {g.target}: {g.reason}" for g in ordered if g.status is not Status.PASS]


def become(command: Sequence[str]) -> int:
    """Replace this process with ``command``; returns only when that is impossible (127)."""
    sys.stdout.flush()
    sys.stderr.flush()
    for signum in (signal.SIGPIPE, signal.SIGXFSZ):  # Python ignores these; CMD must not inherit that
        signal.signal(signum, signal.SIG_DFL)
    try:
        os.execvp(command[0], list(command))
    except OSError as exc:
        print(f"supervisor: cannot run {command[0]!r}: {exc.strerror or exc}", file=sys.stderr)
    return exitcodes.COMMAND_NOT_FOUND
