"""``supervisor run``: one anyio task group owns every long-lived task.

Order matters and is the point of this module: signal handlers first (as PID 1 nothing else will
handle them; ``cli`` already holds early ones from the first instant), then the reaper, the
health listener, the gates; pre-start tasks and the app only once the gates pass. Stopping is
cancellation: when the app exits for good, or a stop signal arrives before it exists, the task
group is cancelled and everything winds down with it.
"""

import os
import random
import signal
import subprocess
from collections.abc import AsyncIterator, Callable, Iterable

import anyio
import anyio.abc

from supervisor import exitcodes, logs, processes
from supervisor.addresses import reachable
from supervisor.backoff import Backoff
from supervisor.durations import format_duration
from supervisor.engine import GateEngine
from supervisor.gatespec import gunicorn_args
from supervisor.gatestate import Status, record_failure, record_success
from supervisor.health.server import HealthServer, open_listener
from supervisor.observers import log_changes
from supervisor.processes import ManagedProcess, ProcessTable, SpawnError
from supervisor.readiness import (
    ChildInfo,
    ChildStatus,
    Event,
    Snapshot,
    describe_exit,
    failing_critical_gates,
    gate_reason,
)
from supervisor.settings import Config
from supervisor.signals import HANDLED_SIGNALS, STOP_SIGNALS
from supervisor.state import StateStore

log = logs.get()

GUNICORN_EXIT_CODES = {3: "gunicorn: worker boot error", 4: "gunicorn: app load error"}


class Supervisor:
    def __init__(self, config: Config, *, early_signals: Callable[[], Iterable[int]] = tuple) -> None:
        self.config = config
        s = config.settings
        self.store = StateStore(config.gates, config.app_probe)
        self.store.subscribe(log_changes)
        self.backoff = Backoff(s.backoff_initial, s.backoff_max)
        self.engine = GateEngine(self.store, self.backoff, s.check_interval)
        self.server = HealthServer(
            self.store.snapshot, idle_timeout=s.health_idle_timeout, max_connections=s.health_max_connections
        )
        self.table: ProcessTable | None = None
        self.child: ManagedProcess | None = None  # the app, while it exists
        self.task: ManagedProcess | None = None  # the running pre-start task, if any
        self.exit_code: int | None = None
        self.restarts = 0
        self._early_signals = early_signals  # read once our own handlers are installed
        self._stop_signal: int | None = None
        self._kill_armed = False
        self._tg: anyio.abc.TaskGroup | None = None
        self._rng = random.Random()

    # -- lifecycle -----------------------------------------------------------------------------

    async def run(self) -> int:
        with anyio.open_signal_receiver(*HANDLED_SIGNALS) as signals:
            early = list(self._early_signals())  # from here on, every signal reaches `signals`
            processes.withhold_app_only_variables()  # before prometheus-client is imported
            s = self.config.settings
            try:
                listener = await open_listener(s.health_host, s.health_port)
            except OSError as exc:
                log.error(
                    "cannot listen on %s:%s: %s; set SUPERVISOR_HEALTH_HOST / SUPERVISOR_HEALTH_PORT to a free address",
                    s.health_host,
                    s.health_port,
                    exc.strerror or exc,
                )
                return exitcodes.OS_ERROR
            self.table = ProcessTable(adopt_orphans=processes.should_adopt_orphans(s.subreaper))
            processes.make_current(self.table)  # tasks started below inherit it
            async with anyio.create_task_group() as tg:
                self._tg = tg
                await tg.start(self.table.serve, name="reaper")
                tg.start_soon(self.server.serve, listener, name="health server")
                tg.start_soon(self._handle_signals, early, signals, name="signals")
                self._announce()
                tg.start_soon(self._load_metrics, name="metrics")
                tg.start_soon(self._main, name="main")
        return exitcodes.INTERNAL_ERROR if self.exit_code is None else self.exit_code

    def _announce(self) -> None:
        s, c = self.config.settings, self.config
        host = reachable(s.health_host)
        log.info(
            "health endpoints on http://%s:%d/healthz /readyz /metrics; %d gate(s): %s",
            host,
            s.health_port,
            len(c.gates),
            ", ".join(f"{g.name}={g.display}" for g in c.gates) or "none",
        )
        for g in c.gates:
            if g.skipped_because:
                log.info("gate %s skipped: %s (ONLY_IF_SET)", g.name, g.skipped_because, extra={"gate": g.name})
        if self.table is not None and self.table.adopt_orphans:
            log.info("reaping orphaned processes (%s)", "PID 1" if os.getpid() == 1 else "child subreaper")
        if c.app_probe is not None:
            log.info("the app is expected at %s (from %s)", c.app_probe.display, c.app_probe_source)

    async def _load_metrics(self) -> None:
        from supervisor.metrics import Metrics  # after listening: not needed for /healthz

        metrics = Metrics()
        current = self.store.snapshot()
        metrics.observe(current, current)
        self.store.subscribe(metrics.observe)
        self.server.metrics = metrics.render

    def _finish(self, code: int) -> None:
        if self.exit_code is None:
            self.exit_code = code
        assert self._tg is not None
        self._tg.cancel_scope.cancel()

    async def _wait_for(self, condition: Callable[[Snapshot], bool]) -> None:
        while not condition(self.store.snapshot()):
            await self.store.wait_changed()

    @staticmethod
    def _gates_pass(snap: Snapshot) -> bool:
        return not failing_critical_gates(snap.gates)

    # -- the main line: gates, pre-start tasks, then the app -----------------------------------

    async def _main(self) -> None:
        assert self._tg is not None
        s = self.config.settings
        self._tg.start_soon(self.engine.run, self.config.gates, True, name="gate engine")
        if self.config.prestart:
            self.store.add_prestart(
                [f"prestart-{t.name}" for t in self.config.prestart],
                [t.display for t in self.config.prestart],
            )
        with anyio.move_on_after(s.startup_timeout):
            await self._wait_for(self._gates_pass)
        if not self._gates_pass(self.store.snapshot()):
            if not self._startup_failed("gates did not pass within " + format_duration(s.startup_timeout)):
                return
            self.store.apply(Event.STARTUP_TIMED_OUT)
            await self._wait_for(self._gates_pass)
        if not await self._run_prestart_tasks():
            return
        await self._supervise_app()

    def _startup_failed(self, what: str) -> bool:
        """Exit (and return False) or degrade (and return True), per ON_STARTUP_TIMEOUT."""
        snap = self.store.snapshot()
        holding = [g for g in (*snap.gates, *snap.prestart) if g.holds_readiness]
        reasons = "; ".join(f"{g.name}: {gate_reason(g)}" for g in holding)
        if self.config.settings.on_startup_timeout == "exit":
            log.error("%s: %s; exiting (SUPERVISOR_ON_STARTUP_TIMEOUT=exit)", what, reasons)
            self._finish(exitcodes.UNAVAILABLE)
            return False
        return True

    async def _run_prestart_tasks(self) -> bool:
        """Run each pre-start task once, in name order; False when the startup cannot go on."""
        assert self.table is not None
        for task in self.config.prestart:
            name = f"prestart-{task.name}"
            if self._stop_signal is not None:
                return False
            log.info("pre-start task %s: %s", task.name, " ".join(task.argv))
            state = self.store.gate(name)
            started = anyio.current_time()
            error: str | None
            try:
                self.task = self.table.spawn(task.argv, stdin=subprocess.DEVNULL)
            except SpawnError as exc:
                error = str(exc)
            else:
                code = exitcodes.from_returncode(await self.task.wait())
                self.task = None
                error = None if code == 0 else f"exited with {describe_exit(code)}"
            duration = anyio.current_time() - started
            now = self.store.snapshot().now
            if self._stop_signal is not None:
                self._finish(exitcodes.from_signal(self._stop_signal))
                return False
            if error is None:
                self.store.set_gate(record_success(state, now=now, duration=duration))
                continue
            self.store.set_gate(record_failure(state, now=now, duration=duration, error=error))
            if self._startup_failed(f"pre-start task {task.name} failed"):
                log.warning("degraded: pre-start task %s %s; the app will not be started", task.name, error)
                self.store.apply(Event.GAVE_UP)
            return False
        return True

    async def _supervise_app(self) -> None:
        s = self.config.settings
        argv = self.config.command
        while True:
            code = await self._run_app_once(argv)
            if code is None or self._stop_signal is not None:
                return
            restart = s.restart == "always" or (s.restart == "on-failure" and code != 0)
            if not restart:
                self._finish(code)
                return
            if self.restarts >= s.restart_limit:
                if s.on_restart_limit == "exit":
                    log.error(
                        "restart limit (%d) reached; exiting with the app's %s", s.restart_limit, describe_exit(code)
                    )
                    self._finish(code)
                    return
                self._set_child(ChildStatus.EXITED, code, f"restart limit {s.restart_limit} reached")
                log.warning(
                    "degraded: restart limit (%d) reached; the app's last exit: %s",
                    s.restart_limit,
                    describe_exit(code),
                )
                self.store.apply(Event.GAVE_UP)
                return
            delay = self.backoff.delay(self.restarts, self._rng)
            self._set_child(ChildStatus.EXITED, code, f"restarting in {format_duration(round(delay, 3))}")
            log.info(
                "restarting the app in %s (restart %d of %d)",
                format_duration(round(delay, 3)),
                self.restarts + 1,
                s.restart_limit,
            )
            await anyio.sleep(delay)
            await self._wait_for(self._gates_pass)  # no point restarting against a missing database
            self.restarts += 1

    def _set_child(self, status: ChildStatus, code: int | None = None, note: str | None = None) -> None:
        pid = self.child.pid if self.child is not None else None
        self.store.set_child(ChildInfo(status, pid, self.restarts, code, note))

    async def _run_app_once(self, argv: tuple[str, ...]) -> int | None:
        """Spawn the app and wait for its exit status; None when it could not be started."""
        assert self.table is not None and self._tg is not None
        if self._stop_signal is not None:  # cancellation only lands at an await: check before spawning
            return None
        try:
            child = self.child = self.table.spawn(argv)
        except SpawnError as exc:
            log.error("%s; check SUPERVISOR_COMMAND or the command after --", exc)
            self._finish(exitcodes.COMMAND_NOT_FOUND)
            return None
        log.info("started %s (pid %d)", argv[0], child.pid)
        self._set_child(ChildStatus.RUNNING)
        self.store.reset_app_probe()
        self.store.apply(Event.RESPAWNED if self.restarts else Event.SPAWNED)
        probe_scope = anyio.CancelScope()  # entered by the probe task, cancelled when the app exits
        if self.config.app_probe is not None:
            self._tg.start_soon(self._probe_app, probe_scope, name="app probe")
        code = exitcodes.from_returncode(await child.wait())
        probe_scope.cancel()
        self._set_child(ChildStatus.EXITED, code)
        how = describe_exit(code)
        if code in GUNICORN_EXIT_CODES and gunicorn_args(argv) is not None:
            how += f" ({GUNICORN_EXIT_CODES[code]})"
        if self._stop_signal is None:
            log.error("the app (pid %d) exited on its own with %s", child.pid, how)
        else:
            log.info("the app (pid %d) exited with %s", child.pid, how)
            self._finish(code)
        return code

    async def _probe_app(self, scope: anyio.CancelScope) -> None:
        spec = self.config.app_probe
        assert spec is not None
        with scope:
            async with anyio.create_task_group() as tg:
                tg.start_soon(self.engine.run_gate, spec, True, name="app probe loop")
                await self._wait_for(lambda snap: snap.app_probe is not None and snap.app_probe.status is Status.PASS)
                self.store.apply(Event.APP_ANSWERED)

    # -- signals -------------------------------------------------------------------------------

    async def _handle_signals(self, early: list[int], signals: AsyncIterator[signal.Signals]) -> None:
        for signum in early:
            await self._on_signal(signum)
        async for signum in signals:
            await self._on_signal(signum)

    def _running(self) -> ManagedProcess | None:
        """The process a signal should go to: the app, or the pre-start task that runs now."""
        for process in (self.child, self.task):
            if process is not None and process.returncode is None:
                return process
        return None

    async def _on_signal(self, signum: int) -> None:
        name = signal.Signals(signum).name
        if signum in STOP_SIGNALS:
            self._on_stop_signal(signum, name)
            return
        target = self._running()
        if target is not None and target.send_signal(signum):
            log.info("forwarded %s to pid %d", name, target.pid)
            if signum == signal.SIGUSR2 and gunicorn_args(self.config.command) is not None:
                log.warning(
                    "gunicorn's USR2 re-exec is not supported: the supervisor follows the master it started; "
                    "use HUP to reload"
                )
        else:
            log.info("%s received before the app runs: ignored", name)

    def _on_stop_signal(self, signum: int, name: str) -> None:
        target = self._running()
        if self._stop_signal is not None:
            if target is not None and signum != signal.SIGQUIT:
                log.warning("second %s during the stop: killing pid %d's process group now", name, target.pid)
                target.kill_group()
            return
        self._stop_signal = signum
        if target is None:
            self.store.apply(Event.STOP_REQUESTED)
            log.info("%s received: nothing is running; exiting", name)
            self._finish(exitcodes.from_signal(signum))
            return
        assert self._tg is not None
        delay = self.config.settings.drain_delay
        if signum == signal.SIGTERM and delay > 0 and target is self.child:
            self.store.apply(Event.STOP_REQUESTED)  # readiness off now; the app keeps serving
            log.info("SIGTERM received: readiness off; the app keeps serving for %s", format_duration(delay))
            self._tg.start_soon(self._stop_after_drain, target, signum, delay, name="drain")
            return
        # Forward first, then turn readiness off: both happen before the event loop can answer any
        # probe, and the child gets its signal without waiting for logs and metrics.
        self._forward_stop(target, signum)
        self.store.apply(Event.STOP_REQUESTED)

    async def _stop_after_drain(self, target: ManagedProcess, signum: int, delay: float) -> None:
        await anyio.sleep(delay)
        self._forward_stop(target, signum)

    def _forward_stop(self, target: ManagedProcess, signum: int) -> None:
        if target.send_signal(signum):
            log.info("forwarded %s to pid %d", signal.Signals(signum).name, target.pid)
        if not self._kill_armed:
            self._kill_armed = True
            assert self._tg is not None
            self._tg.start_soon(self._kill_after_timeout, target, name="stop timeout")

    async def _kill_after_timeout(self, target: ManagedProcess) -> None:
        timeout = self.config.settings.stop_timeout
        with anyio.move_on_after(timeout):
            await target.wait()
            return
        log.warning("pid %d did not stop within %s: SIGKILL to its process group", target.pid, format_duration(timeout))
        target.kill_group()
