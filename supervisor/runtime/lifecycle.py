"""The app's lifecycle: spawn it, follow it, probe it, and the restart policy when it exits.

The policy is a plain object (``RestartPolicy``) so that what happens after the n-th exit is
tested without processes. Restarts are counted within ``RESTART_WINDOW``: an app that ran that
long without a restart starts again with a fresh count and the shortest backoff.

An app that answered its probe and then stops answering (``ON_APP_UNRESPONSIVE``) is stopped
here as a stop would stop it, and then restarted, or the supervisor exits 75: a hung master
does not exit, so nothing else would ever act on it (Docker never restarts an unhealthy
container).
"""

import random
import signal
from collections import deque
from dataclasses import dataclass
from enum import Enum

import anyio
import anyio.abc

from supervisor import exitcodes, gunicorn, logs
from supervisor.config.gatespec import GateSpec
from supervisor.config.models import OnAppUnresponsive, OnRestartLimit, RestartMode
from supervisor.core.backoff import Backoff
from supervisor.core.checks import Role, Status
from supervisor.core.durations import format_duration
from supervisor.core.readiness import ChildInfo, ChildStatus, Event, Phase, describe_exit, holding
from supervisor.pid1 import sessions
from supervisor.pid1.foreground import Finish, Foreground, Process, Spawner
from supervisor.pid1.held_sockets import HeldSockets
from supervisor.pid1.processes import SpawnError
from supervisor.runtime.engine import GateEngine
from supervisor.runtime.state import StateStore

log = logs.get()
SPAWN_RETRY = 1.0  # seconds between tries when spawning failed for want of descriptors


class Action(Enum):
    RESTART = "restart"
    FINISH = "finish"  # no restart wanted: finish with the app's code
    LIMIT_FINISH = "limit-finish"  # the restart limit is reached: finish with the app's code
    GIVE_UP = "give-up"  # the restart limit is reached: stay up, degraded, not ready


@dataclass(frozen=True)
class Decision:
    action: Action
    delay: float = 0.0  # before a restart
    attempt: int = 0  # which restart within the window this is (1-based)


class RestartPolicy:
    def __init__(
        self,
        mode: RestartMode,
        *,
        limit: int,
        window: float,
        on_limit: OnRestartLimit,
        backoff: Backoff,
        rng: random.Random | None = None,
    ) -> None:
        self.mode = mode
        self.limit = limit
        self.window = window
        self.on_limit = on_limit
        self._backoff = backoff
        self._rng = rng or random.Random()
        self._recent: deque[float] = deque()  # monotonic times of the restarts within the window

    def recent(self, now: float) -> int:
        while self._recent and now - self._recent[0] >= self.window:
            self._recent.popleft()
        return len(self._recent)

    def after_exit(self, code: int, now: float) -> Decision:
        """What to do now that the app exited with ``code`` (not because it was asked to stop)."""
        wanted = self.mode == "always" or (self.mode == "on-failure" and code != 0)
        if not wanted:
            return Decision(Action.FINISH)
        return self._within_limit(now)

    def after_hang(self, now: float) -> Decision:
        """What to do now that an unresponsive app was stopped to be restarted
        (``ON_APP_UNRESPONSIVE=restart``): a restart whatever ``RESTART`` says, since that was
        asked for, but under the same limit and window, so that an app that hangs after every
        start is not restarted for ever."""
        return self._within_limit(now)

    def _within_limit(self, now: float) -> Decision:
        count = self.recent(now)
        if count >= self.limit:
            return Decision(Action.LIMIT_FINISH if self.on_limit == "exit" else Action.GIVE_UP)
        return Decision(Action.RESTART, self._backoff.delay(count, self._rng), count + 1)

    def restarted(self, now: float) -> None:
        self._recent.append(now)


class AppLifecycle:
    def __init__(
        self,
        argv: tuple[str, ...],
        *,
        store: StateStore,
        spawner: Spawner,
        foreground: Foreground,
        policy: RestartPolicy,
        engine: GateEngine,
        app_probe: GateSpec | None,
        tg: anyio.abc.TaskGroup,
        finish: Finish,
        stop_timeout: float = 10.0,
        on_unresponsive: OnAppUnresponsive = "ignore",
        held: HeldSockets | None = None,
    ) -> None:
        self._held = held  # the app's sockets, handed to every app started (APP_LISTEN)
        self._argv = argv
        self._on_unresponsive = on_unresponsive
        self._hung = False  # the app stopping now, or just stopped, was stopped as unresponsive
        self._hang_deadline = 0.0  # when that stop's SIGKILL is due, for the app and what it left
        self._stop_timeout = stop_timeout
        self._store = store
        self._spawner = spawner
        self._foreground = foreground
        self._policy = policy
        self._engine = engine
        self._app_probe = app_probe
        self._tg = tg
        self._finish = finish
        self.restarts = 0  # in all, for /readyz and /metrics; the policy counts those in its window
        self._pid: int | None = None  # the app's, or the last one's

    def _stopping(self) -> bool:
        return self._store.phase is Phase.STOPPING

    async def run(self) -> None:
        """Run the app until it exits for good; every restart waits for the critical gates."""
        while True:
            self._hung = False
            code = await self._run_once()
            if code is None:
                return
            if self._hung and self._on_unresponsive == "exit":
                self._finish(exitcodes.APP_UNRESPONSIVE)  # before a stop signal's own finish
                return
            if self._stopping():
                return
            now = anyio.current_time()
            decision = self._policy.after_hang(now) if self._hung else self._policy.after_exit(code, now)
            # the code of a hung app is only how it took being stopped (gunicorn: 0 after a SIGTERM),
            # which would tell a restart policy that all went well
            final = exitcodes.APP_UNRESPONSIVE if self._hung else code
            if decision.action is Action.LIMIT_FINISH:
                log.error(
                    "restart limit (%d within %s) reached; exiting with %s",
                    self._policy.limit,
                    format_duration(self._policy.window),
                    f"{final} (unresponsive)" if self._hung else f"the app's {describe_exit(code)}",
                )
            if decision.action in (Action.FINISH, Action.LIMIT_FINISH):
                self._finish(final)
                return
            if decision.action is Action.GIVE_UP:
                note = f"restart limit {self._policy.limit} reached"
                if self._hung:
                    note = f"stopped as unresponsive; {note}"
                self._set_child(ChildStatus.EXITED, code, note)
                log.warning(
                    "degraded: restart limit (%d) reached; the app's last exit: %s",
                    self._policy.limit,
                    describe_exit(code),
                )
                self._store.apply(Event.GAVE_UP)
                return
            delay = round(decision.delay, 3)
            self._set_child(ChildStatus.EXITED, code, f"restarting in {format_duration(delay)}")
            log.info(
                "restarting the app in %s (restart %d of %d within %s)",
                format_duration(delay),
                decision.attempt,
                self._policy.limit,
                format_duration(self._policy.window),
            )
            await anyio.sleep(decision.delay)
            # no point restarting against a missing database
            await self._store.wait_for(lambda snap: not holding(snap.of_role(Role.GATE)))
            self._policy.restarted(anyio.current_time())
            self.restarts += 1

    def _set_child(self, status: ChildStatus, code: int | None = None, note: str | None = None) -> None:
        self._store.set_child(ChildInfo(status, self._pid, self.restarts, code, note))

    async def _run_once(self) -> int | None:
        """Spawn the app and wait for its exit status; None when it could not be started."""
        while True:
            if self._stopping():  # cancellation only lands at an await: check before spawning
                return None
            argv, fds = self._argv, tuple[int, ...]()
            if self._held is not None:
                try:
                    self._held.listen()  # from the first spawn on: before, a client is refused at once
                except OSError as exc:  # another socket bound the port too (SO_REUSEADDR) and listens
                    log.error(
                        "cannot listen on %s: %s; set SUPERVISOR_APP_LISTEN to a free address",
                        exc.filename,
                        exc.strerror,
                    )
                    self._finish(exitcodes.OS_ERROR)
                    return None
                argv, fds = tuple(self._held.handoff_argv(self._argv)), self._held.fds
            try:
                child = self._spawner.spawn(argv, pass_fds=fds)
                break
            except SpawnError as exc:
                if not exc.transient:
                    log.error("%s; check SUPERVISOR_COMMAND or the command after --", logs.Shown(exc))
                    self._finish(exitcodes.COMMAND_NOT_FOUND)
                    return None
                # out of descriptors or processes for a moment: that is no reason to give up
                log.error("%s; trying again in %s", logs.Shown(exc), format_duration(SPAWN_RETRY))
                await anyio.sleep(SPAWN_RETRY)
        self._foreground.add(child, is_app=True)
        self._pid = child.pid
        log.info("started %s (pid %d)", self._argv[0], child.pid)
        self._set_child(ChildStatus.RUNNING)
        self._store.restart_app_probe()
        self._store.apply(Event.RESPAWNED if self.restarts else Event.SPAWNED)
        probe_scope = anyio.CancelScope()  # entered by the probe task, cancelled when the app exits
        if self._app_probe is not None:
            self._tg.start_soon(self._probe, self._app_probe, probe_scope, child, name="app probe")
        code = exitcodes.from_returncode(await child.wait())
        probe_scope.cancel()
        self._set_child(ChildStatus.EXITED, code)
        how = describe_exit(code) + gunicorn.explain_exit(code, self._argv)
        fg = self._foreground
        if self._stopping():
            log.info("the app (pid %d) exited with %s", child.pid, how)
            # the stop is over only when what the app left in its session is gone too, within the
            # stop's own deadline (not a second STOP_TIMEOUT after the app's exit)
            deadline = fg.stop_deadline
            timeout = self._stop_timeout if deadline is None else max(0.0, deadline - anyio.current_time())
            await self._spawner.end_leftovers(child, signal.SIGTERM, timeout, fg.hurry)
        elif self._hung:
            log.error("the unresponsive app (pid %d) was stopped: %s", child.pid, how)
            # all of its session goes before a new app starts (a worker left holding the port would
            # make it fail), within the hang stop's one deadline
            timeout = max(0.0, self._hang_deadline - anyio.current_time())
            await self._spawner.end_leftovers(child, signal.SIGTERM, timeout, fg.hurry)
        else:
            (log.info if code == 0 else log.error)("the app (pid %d) exited on its own with %s", child.pid, how)
            # a restart need not wait for the leftovers: the new app gets a session of its own
            self._tg.start_soon(
                self._spawner.end_leftovers, child, signal.SIGTERM, self._stop_timeout, fg.hurry, name="app leftovers"
            )
        self._foreground.release(child, code)  # the exit dealt with: only now may a stop end
        return code

    async def _probe(self, spec: GateSpec, scope: anyio.CancelScope, child: Process) -> None:
        with scope:
            async with anyio.create_task_group() as tg:
                tg.start_soon(self._engine.run_gate, spec, True, name="app probe loop")
                await self._store.wait_for(lambda _snapshot: self._store.get(spec.name).satisfied)
                # wait_for reaches no await when the probe already passes: an app that exited
                # before this task first ran must not be reported as answering
                if scope.cancel_called:
                    return
                self._store.apply(Event.APP_ANSWERED)
                await self._watch_for_hang(spec.name, child)

    async def _watch_for_hang(self, name: str, child: Process) -> None:
        """Until the app exits (this task is then cancelled): act once it is unresponsive."""
        while True:
            await self._store.wait_for(lambda _snapshot: self._store.get(name).unresponsive)
            if self._stopping():
                return  # a stop is under way and ends the app its own way
            reason = self._store.get(name).reason
            if self._on_unresponsive == "ignore":
                log.warning("the app (pid %d) is %s; readiness is off until it answers again", child.pid, reason)
                await self._store.wait_for(lambda _snapshot: not self._store.get(name).unresponsive)
                if self._store.get(name).status is Status.PASS:
                    log.info("the app (pid %d) answers again", child.pid)
                continue
            self._hung = True
            self._hang_deadline = anyio.current_time() + self._stop_timeout
            then = "restarting it" if self._on_unresponsive == "restart" else f"exiting {exitcodes.APP_UNRESPONSIVE}"
            log.error("the app (pid %d) is %s; stopping it, then %s", child.pid, reason, then)
            if self._on_unresponsive == "exit":
                self._store.apply(Event.STOP_REQUESTED)  # readiness off for good, STOPPING=1
                self._foreground.stop_deadline = self._hang_deadline
            await self._stop_hung(child)
            return

    async def _stop_hung(self, child: Process) -> None:
        """As a stop would: SIGTERM to the app, SIGKILL to its whole session after
        ``STOP_TIMEOUT``. SIGKILL at once when a process of its session is stopped (SIGSTOP,
        SIGTSTP, a tracer): a SIGTERM would only wait there, pending, for the whole timeout."""
        stopped = await anyio.to_thread.run_sync(sessions.stopped_members, child.pid)
        if stopped:
            shown = ", ".join(map(str, stopped[:8])) + (", ..." if len(stopped) > 8 else "")
            log.warning("stopped by a signal in the app's session: pid(s) %s; SIGKILL to the session now", shown)
            await self._kill_session(child)
            return
        if child.send_signal(signal.SIGTERM):
            log.info("sent SIGTERM to pid %d", child.pid)
        with anyio.CancelScope(deadline=self._hang_deadline):
            await child.wait()
            return
        log.warning(
            "the app (pid %d) did not stop within %s: SIGKILL to its session",
            child.pid,
            format_duration(self._stop_timeout),
        )
        await self._kill_session(child)

    @staticmethod
    async def _kill_session(child: Process) -> None:
        """Every member, in the app's group or in one of its own (a stopped worker included)."""
        live = await anyio.to_thread.run_sync(sessions.live, [child.pid])
        sessions.signal(child.pid, live.get(child.pid, []), signal.SIGKILL)
