"""``supervisor run``: one anyio task group owns every long-lived task.

Order matters and is the point of this module: signal handlers first (as PID 1 nothing else will
handle them), then the health listener, then the gates, and the app only once the gates pass.
Stopping is cancellation: when the app exits, or a stop signal arrives before it exists, the task
group is cancelled and everything winds down with it.
"""

import signal
from collections.abc import AsyncIterator, Callable

import anyio
import anyio.abc

from supervisor import exitcodes, logs
from supervisor.backoff import Backoff
from supervisor.child import ChildProcess, SpawnError
from supervisor.durations import format_duration
from supervisor.engine import GateEngine
from supervisor.gatestate import Status
from supervisor.health.server import HealthServer, open_listener
from supervisor.observers import log_changes
from supervisor.readiness import (
    ChildInfo,
    ChildStatus,
    Event,
    Snapshot,
    failing_critical_gates,
    gate_reason,
)
from supervisor.settings import Config
from supervisor.state import StateStore

log = logs.get()

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT)
FORWARDED_SIGNALS = (
    signal.SIGHUP,
    signal.SIGUSR1,
    signal.SIGUSR2,
    signal.SIGTTIN,
    signal.SIGTTOU,
    signal.SIGWINCH,
)


class Supervisor:
    def __init__(self, config: Config) -> None:
        self.config = config
        s = config.settings
        self.store = StateStore(config.gates, config.app_probe)
        self.store.subscribe(log_changes)
        self.engine = GateEngine(self.store, Backoff(s.backoff_initial, s.backoff_max), s.check_interval)
        self.server = HealthServer(
            self.store.snapshot, idle_timeout=s.health_idle_timeout, max_connections=s.health_max_connections
        )
        self.child: ChildProcess | None = None
        self.exit_code: int | None = None
        self._spawning = False
        self._stop_signal: int | None = None
        self._tg: anyio.abc.TaskGroup | None = None

    # -- lifecycle -----------------------------------------------------------------------------

    async def run(self) -> int:
        with anyio.open_signal_receiver(*STOP_SIGNALS, *FORWARDED_SIGNALS) as signals:
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
            async with anyio.create_task_group() as tg:
                self._tg = tg
                tg.start_soon(self.server.serve, listener, name="health server")
                tg.start_soon(self._handle_signals, signals, name="signals")
                self._announce()
                tg.start_soon(self._load_metrics, name="metrics")
                tg.start_soon(self._main, name="main")
        return exitcodes.INTERNAL_ERROR if self.exit_code is None else self.exit_code

    def _announce(self) -> None:
        s, c = self.config.settings, self.config
        host = "127.0.0.1" if s.health_host in ("0.0.0.0", "") else s.health_host
        log.info(
            "health endpoints on http://%s:%d/healthz /readyz /metrics; %d gate(s): %s",
            host,
            s.health_port,
            len(c.gates),
            ", ".join(f"{g.name}={g.display}" for g in c.gates) or "none",
        )
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

    # -- the main line: gates, then the app ------------------------------------------------------

    async def _main(self) -> None:
        assert self._tg is not None
        s = self.config.settings
        self._tg.start_soon(self._run_gates, name="gate engine")

        def gates_pass(snap: Snapshot) -> bool:
            return not failing_critical_gates(snap.gates)

        with anyio.move_on_after(s.startup_timeout):
            await self._wait_for(gates_pass)
        if not gates_pass(self.store.snapshot()):
            self._startup_timed_out()
            await self._wait_for(gates_pass)
        if self._stop_signal is not None:
            return
        await self._start_app()

    async def _run_gates(self) -> None:
        await self.engine.run(self.config.gates, True)

    def _startup_timed_out(self) -> None:
        s = self.config.settings
        snap = self.store.snapshot()
        reasons = "; ".join(f"{g.name}: {gate_reason(g)}" for g in snap.gates if g.holds_readiness)
        if s.on_startup_timeout == "exit":
            log.error("gates did not pass within %s: %s; exiting", format_duration(s.startup_timeout), reasons)
            self._finish(exitcodes.UNAVAILABLE)
            return
        self.store.apply(Event.STARTUP_TIMED_OUT)

    async def _start_app(self) -> None:
        argv = self.config.command
        self._spawning = True
        try:
            with anyio.CancelScope(shield=True):
                child = self.child = await ChildProcess.spawn(argv)
        except SpawnError as exc:
            log.error("%s; check SUPERVISOR_COMMAND or the command after --", exc)
            self._finish(exitcodes.COMMAND_NOT_FOUND)
            return
        finally:
            self._spawning = False
        log.info("started %s (pid %d)", argv[0], child.pid)
        self.store.set_child(ChildInfo(ChildStatus.RUNNING, child.pid))
        self.store.apply(Event.SPAWNED)
        if self._stop_signal is not None:  # a stop signal arrived while spawning
            await self._stop_child(self._stop_signal)
        assert self._tg is not None
        if self.config.app_probe is not None:
            self._tg.start_soon(self._probe_app, name="app probe")
        code = await child.wait()
        self.store.set_child(ChildInfo(ChildStatus.EXITED, child.pid, exit_code=code))
        if self._stop_signal is None:
            log.error("the app (pid %d) exited on its own with code %d", child.pid, code)
        else:
            log.info("the app (pid %d) exited with code %d", child.pid, code)
        self._finish(code)

    async def _probe_app(self) -> None:
        spec = self.config.app_probe
        assert spec is not None and self._tg is not None
        self._tg.start_soon(self.engine.run_gate, spec, True, name="app probe loop")
        await self._wait_for(lambda snap: snap.app_probe is not None and snap.app_probe.status is Status.PASS)
        self.store.apply(Event.APP_ANSWERED)

    # -- signals -------------------------------------------------------------------------------

    async def _handle_signals(self, signals: AsyncIterator[signal.Signals]) -> None:
        async for signum in signals:
            name = signal.Signals(signum).name
            if signum in STOP_SIGNALS:
                await self._on_stop_signal(signum, name)
            elif self.child is not None and self.child.send_signal(signum):
                log.info("forwarded %s to the app (pid %d)", name, self.child.pid)
            else:
                log.info("%s received before the app runs: ignored", name)

    async def _on_stop_signal(self, signum: int, name: str) -> None:
        if self._stop_signal is not None:
            if self.child is not None and signum != signal.SIGQUIT:
                log.warning("second %s during the stop: killing the app now", name)
                self.child.kill_group()
            return
        self._stop_signal = signum
        self.store.apply(Event.STOP_REQUESTED)
        log.info("%s received: readiness off, stopping", name)
        if self.child is not None:
            await self._stop_child(signum)
        elif not self._spawning:
            self._finish(exitcodes.from_signal(signum))

    async def _stop_child(self, signum: int) -> None:
        child = self.child
        assert child is not None and self._tg is not None
        if child.send_signal(signum):
            log.info("forwarded %s to the app (pid %d)", signal.Signals(signum).name, child.pid)
        self._tg.start_soon(self._kill_after_timeout, child, name="stop timeout")

    async def _kill_after_timeout(self, child: ChildProcess) -> None:
        timeout = self.config.settings.stop_timeout
        await anyio.sleep(timeout)
        if child.returncode is None:
            log.warning(
                "the app did not stop within %s: sending SIGKILL to its process group",
                format_duration(timeout),
            )
            child.kill_group()
