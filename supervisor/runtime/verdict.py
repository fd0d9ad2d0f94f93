"""Gates run once to a verdict, for ``check`` and ``wait``: no re-checks, a deadline, and a stop
signal that cuts the run short. The process table reaps what the gates start, as under ``run``."""

import signal
from collections.abc import Callable

import anyio

from supervisor.config.gatespec import GateSpec
from supervisor.core.readiness import Snapshot
from supervisor.pid1 import processes
from supervisor.pid1.signals import STOP_SIGNALS, SignalInbox
from supervisor.runtime.engine import GateEngine
from supervisor.runtime.state import StateStore


async def run_to_verdict(
    store: StateStore,
    engine: GateEngine,
    gates: tuple[GateSpec, ...],
    done: Callable[[Snapshot], bool],
    deadline: float,
    *,
    adopt_orphans: bool,
) -> int | None:
    """Run ``gates`` once until ``done`` or the deadline; the stop signal that cut the run short,
    if any."""
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
            table = processes.ProcessTable(adopt_orphans=adopt_orphans)
            with processes.installed(table):
                async with anyio.create_task_group() as tg:
                    await tg.start(table.serve, inbox, stop_on_signal)
                    tg.start_soon(engine.run, gates, False)
                    with anyio.move_on_after(deadline):
                        while not done(store.snapshot()):
                            await store.wait_changed()
                    tg.cancel_scope.cancel()
    finally:
        inbox.close()
    return stopped_by
