"""``supervisor run``: one anyio task group owns every long-lived task.

Order matters and is the point of this module: signal handlers first (as PID 1 nothing else will
handle them; ``cli`` already holds early ones from the first instant), then the reaper, the
health listener, the gates; the start-up sequence runs the pre-start tasks as their prerequisites
pass, and the app starts once everything it needs has passed. Each part is built whole, inside
the task group, with what it needs: ``startup`` (the sequence), ``lifecycle`` (the app and its
restart policy) and ``stopping`` (signals, drain, stop timeout). Stopping is cancellation: when
the app exits for good, or a stop signal ends the run, the task group is cancelled.
"""

import contextlib
import os
import random
import signal
from dataclasses import dataclass

import anyio
import anyio.abc

from supervisor import exitcodes, logs
from supervisor.config import assemble
from supervisor.config.settings import Config
from supervisor.core.addresses import url_host
from supervisor.core.backoff import Backoff
from supervisor.core.checks import CheckState, Role
from supervisor.core.readiness import Snapshot
from supervisor.health.server import HealthServer, open_listener
from supervisor.kinds.http_url import ANY_RESPONSE
from supervisor.pid1 import held_sockets, processes
from supervisor.pid1.foreground import Foreground
from supervisor.pid1.held_sockets import HeldSockets
from supervisor.pid1.processes import ProcessTable
from supervisor.pid1.signals import HANDLED_SIGNALS, STOP_SIGNALS, SignalInbox
from supervisor.runtime import lazyimport, sdnotify
from supervisor.runtime.engine import GateEngine
from supervisor.runtime.lifecycle import AppLifecycle, RestartPolicy
from supervisor.runtime.observers import ChangeLog
from supervisor.runtime.startup import StartupSequence, task_states
from supervisor.runtime.state import StateStore, spec_state
from supervisor.runtime.stopping import Stopper

log = logs.get()


def initial_checks(config: Config) -> list[CheckState]:
    """Every check of this configuration, in its initial state: gates, tasks, the app probe."""
    checks = [spec_state(g, after=g.after) for g in config.gates]
    checks += task_states(config.prestart)
    if config.app_probe is not None:
        checks.append(spec_state(config.app_probe, Role.APP_PROBE, act_after=config.settings.app_probe_threshold))
    return checks


def _stop_signal_in(inbox: SignalInbox) -> bool:
    return any(signum in STOP_SIGNALS for signum in inbox.take())


class _Finisher:
    """The supervisor's exit code: the first part to finish decides it, and the run ends."""

    def __init__(self, scope: anyio.CancelScope) -> None:
        self._scope = scope
        self.code: int | None = None

    def __call__(self, code: int) -> None:
        if self.code is None:
            self.code = code
        self._scope.cancel()


@dataclass(frozen=True)
class _Parts:
    """What the task group runs, built whole before any of it starts."""

    stopper: Stopper
    startup: StartupSequence
    app: AppLifecycle


def _settle_process() -> tuple[sdnotify.Target | None, int]:
    """The process-wide changes a run makes before anything else can observe them; where the
    service manager listens (``NOTIFY_SOCKET``), and how many sockets it gave us (``LISTEN_FDS``),
    both taken out of every child's environment."""
    processes.withhold_app_only_variables()  # before prometheus-client is imported
    notify = sdnotify.take_environment()  # before anything is spawned
    inherited = held_sockets.take_environment()
    lazyimport.settle()  # what start-up allocated stays: no collection walks it again
    return notify, inherited


class Supervisor:
    def __init__(
        self, config: Config, *, inbox: SignalInbox | None = None, child_nofile: tuple[int, int] | None = None
    ) -> None:
        self.config = config
        self._child_nofile = child_nofile  # the descriptor limits children get (``fdlimit``)
        s = config.settings
        self.store = StateStore(initial_checks(config))
        self.store.subscribe(ChangeLog())
        self.backoff = Backoff(s.backoff_initial, s.backoff_max)
        self.engine = GateEngine(self.store, self.backoff, s.check_interval)
        store = self.store
        self.server = HealthServer(
            store.snapshot,
            version=lambda: store.version,
            idle_timeout=s.health_idle_timeout,
            max_connections=s.health_max_connections,
            reasons_for_loopback_only=s.health_reasons == "loopback",
        )
        # ``cli`` installs its inbox at its first instant; in-process callers get one here
        self._inbox = inbox
        self.table: ProcessTable | None = None  # once running: what must not outlive us

    async def run(self) -> int:
        own_inbox = self._inbox is None
        inbox = SignalInbox() if self._inbox is None else self._inbox
        inbox.install((*HANDLED_SIGNALS, signal.SIGCHLD))
        try:
            return await self._serve(inbox)
        except Exception:
            log.critical("internal error; please report it", exc_info=True)
            return exitcodes.INTERNAL_ERROR
        finally:
            # no way out leaves the app (or a task) running: this runs after a bug too
            if self.table is not None:
                self.table.stop_everything(self.config.settings.stop_timeout, lambda: _stop_signal_in(inbox))
            if own_inbox:
                inbox.close()

    async def _serve(self, inbox: SignalInbox) -> int:
        """Build, start, wait: the order of the start is the point (see the module docstring)."""
        notify, inherited = _settle_process()
        listener = await self._listen()
        if listener is None:
            return exitcodes.OS_ERROR
        held, failed = self._hold(inherited)
        if failed is not None:
            return failed
        notifier = None if notify is None else await sdnotify.Notifier.open(notify)
        table = self.table = self._process_table()
        with processes.installed(table), contextlib.ExitStack() as closing:
            if held is not None:
                closing.callback(held.close)  # at the very end: after the app's stop and its drain
            async with anyio.create_task_group() as tg:
                if notifier is not None:
                    closing.callback(notifier.close)
                    self.store.subscribe(notifier.observe)
                    notifier.observe(self.store.snapshot(), self.store.snapshot())
                    tg.start_soon(notifier.run, name="sd_notify")
                finish = _Finisher(tg.cancel_scope)
                parts = self._build(tg, table, finish, held)
                # the inbox's one reader: reaps on SIGCHLD, acts on every other signal, early ones first
                await tg.start(table.serve, inbox, parts.stopper.on_signal, name="signals and reaper")
                tg.start_soon(self.server.serve, listener, name="health server")
                self._announce(table)
                tg.start_soon(self._load_metrics, name="metrics")
                tg.start_soon(self.engine.run, self.config.gates, True, name="gate engine")
                tg.start_soon(self._main, parts.startup, parts.app, name="main")
        return exitcodes.INTERNAL_ERROR if finish.code is None else finish.code

    async def _listen(self) -> anyio.abc.Listener[anyio.abc.SocketStream] | None:
        s = self.config.settings
        try:
            return await open_listener(s.health_host, s.health_port)
        except OSError as exc:
            log.error(
                "cannot listen on %s:%s: %s; set SUPERVISOR_HEALTH_HOST / SUPERVISOR_HEALTH_PORT to a free address",
                s.health_host,
                s.health_port,
                exc.strerror or exc,
            )
            return None

    def _hold(self, inherited: int) -> tuple[HeldSockets | None, int | None]:
        """The app's sockets bound now (APP_LISTEN), before any gate runs: a taken port is known
        at once; or those a service manager gave us (``LISTEN_FDS``), handed on the same way.
        With an exit code (71, 78) when the run cannot go on."""
        c = self.config
        given = None
        if inherited:
            try:
                given = HeldSockets.inherited(inherited)
            except (held_sockets.ListenError, OSError) as exc:
                log.warning("socket activation ignored: %s", exc)
        if given is not None and c.listen:
            log.warning(
                "LISTEN_FDS gave the supervisor %s, but SUPERVISOR_APP_LISTEN is set: those are closed",
                ", ".join(a.shown for a in given.addresses),
            )
            given.close()
        elif given is not None:
            shown = ", ".join(a.shown for a in given.addresses)
            where = f"LISTEN_FDS ({shown})"
            handoff = c.settings.app_listen_handoff
            problems = assemble.handoff_problems(given.addresses, c.command, os.environ, handoff, where)
            if problems:
                for line in problems:
                    log.error("%s", line)
                given.close()
                return None, exitcodes.CONFIG_ERROR
            log.info("holding %s for the app (given by LISTEN_FDS)", shown)
            return given, None
        if not c.listen:
            return None, None
        held = HeldSockets(c.listen)
        try:
            held.bind()
        except OSError as exc:
            log.error(
                "cannot bind %s: %s; set SUPERVISOR_APP_LISTEN to a free address",
                exc.filename,
                exc.strerror or exc,
            )
            return None, exitcodes.OS_ERROR
        log.info("holding %s for the app", ", ".join(a.shown for a in held.addresses))
        return held, None

    def _process_table(self) -> ProcessTable:
        """The table that every process of this run goes through (``processes.installed``)."""
        adopt = processes.should_adopt_orphans(self.config.settings.subreaper)
        table = ProcessTable(adopt_orphans=adopt, child_nofile=self._child_nofile)
        return table

    def _build(
        self, tg: anyio.abc.TaskGroup, table: ProcessTable, finish: _Finisher, held: HeldSockets | None
    ) -> _Parts:
        s, foreground = self.config.settings, Foreground()
        stopper = Stopper(
            self.store,
            foreground,
            tg,
            finish,
            app_argv=self.config.command,
            drain_delay=s.drain_delay,
            stop_timeout=s.stop_timeout,
        )
        startup = StartupSequence(
            store=self.store,
            tasks=self.config.prestart,
            spawner=table,
            foreground=foreground,
            finish=finish,
            startup_timeout=s.startup_timeout,
            on_startup_timeout=s.on_startup_timeout,
        )
        policy = RestartPolicy(
            s.restart,
            limit=s.restart_limit,
            window=s.restart_window,
            on_limit=s.on_restart_limit,
            backoff=self.backoff,
            rng=random.Random(),
        )
        app = AppLifecycle(
            self.config.command,
            store=self.store,
            spawner=table,
            foreground=foreground,
            policy=policy,
            engine=self.engine,
            app_probe=self.config.app_probe,
            tg=tg,
            finish=finish,
            stop_timeout=s.stop_timeout,
            on_unresponsive=s.on_app_unresponsive,
            held=held,
        )
        return _Parts(stopper, startup, app)

    @staticmethod
    async def _main(startup: StartupSequence, app: AppLifecycle) -> None:
        if await startup.run():
            await app.run()

    def _announce(self, table: ProcessTable) -> None:
        s, c = self.config.settings, self.config
        log.info(
            "health endpoints on http://%s:%d/healthz /readyz /metrics; %d gate(s): %s",
            url_host(s.health_host),
            s.health_port,
            len(c.gates),
            ", ".join(f"{g.name}={g.display}" for g in c.gates) or "none",
        )
        for g in c.gates:
            if g.skipped_because:
                log.info("gate %s skipped: %s (ONLY_IF_SET)", g.name, g.skipped_because, extra={"gate": g.name})
        if table.adopt_orphans:
            log.info("reaping orphaned processes (%s)", "PID 1" if os.getpid() == 1 else "child subreaper")
        if c.app_probe is not None:
            counts = "; any HTTP response counts" if ANY_RESPONSE in c.app_probe.options else ""
            log.info("the app is expected at %s (from %s%s)", c.app_probe.display, c.app_probe_source, counts)

    async def _load_metrics(self) -> None:
        """prometheus-client is imported in a worker thread (on the loop it would stall /healthz),
        after the gates' drivers: the metrics can wait, a gate's first attempt should not. Every
        change meanwhile is kept and replayed, so the metrics count it all."""
        pending: list[tuple[Snapshot, Snapshot]] = []

        def keep(before: Snapshot, after: Snapshot) -> None:
            pending.append((before, after))

        start = self.store.snapshot()
        self.store.subscribe(keep)
        await self.engine.wait_loaded()
        module = await lazyimport.import_retrying("supervisor.health.metrics", "/metrics")
        metrics = module.Metrics()
        metrics.observe(start, start)
        for before, after in pending:
            metrics.observe(before, after)
        # no await from here on: no change falls between the replay and the subscription
        self.store.unsubscribe(keep)
        self.store.subscribe(metrics.observe)
        self.server.metrics = metrics.render
