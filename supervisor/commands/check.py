"""``supervisor check``: run the gates once to a verdict, for CI jobs and init containers.

Gates retry with the same backoff as under ``run`` until every critical gate passed (and every
non-critical one had an attempt), or ``STARTUP_TIMEOUT`` ran out. Exit 0 when every critical gate
passed, 1 otherwise.
"""

import json
import signal
from collections.abc import Callable

import anyio

from supervisor import exitcodes
from supervisor.config.gatespec import GateSpec
from supervisor.config.settings import Config
from supervisor.core.backoff import Backoff
from supervisor.core.checks import APP_PROCESS, Status
from supervisor.core.readiness import Snapshot, decide, holding
from supervisor.health.render import check_json
from supervisor.pid1 import processes
from supervisor.pid1.signals import STOP_SIGNALS, SignalInbox
from supervisor.runtime.engine import GateEngine
from supervisor.runtime.state import StateStore


def _done(snapshot: Snapshot) -> bool:
    """Every gate passed, or had its say: a non-critical one an attempt, a final failure its one."""
    return all(g.satisfied or g.final or (not g.critical and g.attempts > 0) for g in snapshot.gates)


async def run_to_verdict(
    store: StateStore,
    engine: GateEngine,
    gates: tuple[GateSpec, ...],
    done: Callable[[Snapshot], bool],
    deadline: float,
    *,
    adopt_orphans: bool,
) -> int | None:
    """Run ``gates`` once (no re-checks) until ``done`` or the deadline; the stop signal that cut
    the run short, if any. Shared by ``check`` and ``wait``."""
    stopped_by: int | None = None
    inbox = SignalInbox()
    inbox.install((*STOP_SIGNALS, signal.SIGCHLD))
    scope = anyio.CancelScope()

    def stop_on_signal(signum: int) -> None:
        nonlocal stopped_by
        if signum in STOP_SIGNALS:
            stopped_by = signum
            scope.cancel()

    try:
        with scope:
            async with (
                processes.managed(adopt_orphans=adopt_orphans, inbox=inbox, other=stop_on_signal),
                anyio.create_task_group() as tg,
            ):
                tg.start_soon(engine.run, gates, False)
                with anyio.move_on_after(deadline):
                    while not done(store.snapshot()):
                        await store.wait_changed()
                tg.cancel_scope.cancel()
    finally:
        inbox.close()
    return stopped_by


async def run_checks(config: Config, gates: tuple[GateSpec, ...]) -> tuple[Snapshot, int | None]:
    """The final state, and the stop signal that cut the run short (if any)."""
    s = config.settings
    store = StateStore.of_gates(gates)
    engine = GateEngine(store, Backoff(s.backoff_initial, s.backoff_max), s.check_interval)
    adopt = processes.should_adopt_orphans(s.subreaper)
    stopped_by = await run_to_verdict(store, engine, gates, _done, s.startup_timeout, adopt_orphans=adopt)
    return store.snapshot(), stopped_by


def report_text(snapshot: Snapshot) -> str:
    lines = []
    width = max((len(g.name) for g in snapshot.gates), default=4)
    for g in snapshot.gates:
        took = "" if g.last_duration is None else f"{g.last_duration * 1000:.0f} ms"
        mark = "+" if g.satisfied else "-"
        passed = "ok" + (f" ({g.detail})" if g.detail else "")
        detail = passed if g.status is Status.PASS else g.skipped_because or g.reason
        note = "" if g.critical else " (non-critical)"
        counts = f"{took:>8}  {g.attempts} attempt(s)"
        lines.append(f"[{mark}] {g.name:<{width}}  {g.status:<7} {counts}  {g.target}  {detail}{note}")
        if g.status is not Status.PASS:
            lines.extend(f"      | {line}" for line in g.output)  # what the failure printed
    ok = not holding(snapshot.gates)
    lines.append(f"check {'passed' if ok else 'failed'}")
    return "\n".join(lines) + "\n"


def report_json(snapshot: Snapshot) -> str:
    verdict = decide(snapshot, exclude=(APP_PROCESS,))
    report = {
        "status": "pass" if verdict.ready else "fail",
        "checks": {g.name: [check_json(g)] for g in snapshot.gates},
    }
    return json.dumps(report, indent=2) + "\n"


def exit_code(snapshot: Snapshot) -> int:
    return exitcodes.CHECK_FAILED if holding(snapshot.gates) else exitcodes.OK
