"""The start-up sequence: pre-start tasks as their prerequisites pass, until the app may start.

Gates run from the first moment (the gate engine starts each one once what it waits for has
passed). Each pre-start task runs once, as soon as every check it waits for passes; tasks whose
prerequisites are independent run at the same time. A prerequisite that fails again before a
task starts makes the task wait for it again. The app may start once every critical gate and
every task has passed.

Three things end the start-up early. At ``STARTUP_TIMEOUT``, gates that are still failing on their
own account (``late_gates``) mean exit 69, or degraded: not ready, still trying. One of those
gates failing for good (``final``: a ``config:`` gate's variable is not set) means the same at
once, since waiting for the timeout would change nothing.
A task that fails (or outlives its ``TIMEOUT``) means exit 69, or degraded for good: the app is
not started; tasks already running are left to finish.
"""

import subprocess

import anyio

from supervisor import exitcodes, logs
from supervisor.config.models import OnStartupTimeout
from supervisor.config.settings import PrestartTask
from supervisor.core import progress
from supervisor.core.checks import CheckState, Role, Status, record_failure, record_start, record_success
from supervisor.core.durations import format_duration
from supervisor.core.readiness import Event, Phase, Snapshot, describe_exit, holding, prerequisites_pass
from supervisor.core.reasons import ReasonClass
from supervisor.pid1.foreground import Finish, Foreground, Spawner
from supervisor.pid1.processes import SpawnError
from supervisor.runtime.state import StateStore

log = logs.get()


def may_start_app(snapshot: Snapshot) -> bool:
    return not holding(c for c in snapshot.checks if c.role in (Role.GATE, Role.TASK))


def late_gates(snapshot: Snapshot) -> tuple[CheckState, ...]:
    """The gates the start-up waits on that fail on their own account (not merely waiting for a
    prerequisite): every critical one, and a non-critical one that a check not yet started
    waits for (it holds the start-up back as surely as a critical one)."""
    waited_for = {name for c in snapshot.checks if c.started is None for name in c.after}
    return tuple(
        g
        for g in snapshot.gates
        if not g.satisfied and (g.critical or g.name in waited_for) and not (g.after and g.started is None)
    )


class StartupSequence:
    def __init__(
        self,
        *,
        store: StateStore,
        tasks: tuple[PrestartTask, ...],
        spawner: Spawner,
        foreground: Foreground,
        finish: Finish,
        startup_timeout: float,
        on_startup_timeout: OnStartupTimeout,
    ) -> None:
        self._store = store
        self._tasks = tasks
        self._spawner = spawner
        self._foreground = foreground
        self._finish = finish
        self._startup_timeout = startup_timeout
        self._finish_on_failure = on_startup_timeout == "exit"
        self._gave_up = False

    def _over(self, snapshot: Snapshot) -> bool:
        return self._gave_up or snapshot.phase is Phase.STOPPING

    async def run(self) -> bool:
        """True when the app may start now; False when the start-up failed or a stop came."""
        timeout = anyio.CancelScope()
        async with anyio.create_task_group() as tg:
            for task in self._tasks:
                tg.start_soon(self._run_task, task, name=f"pre-start {task.name}")
            async with anyio.create_task_group() as judges:  # they end with the start-up
                judges.start_soon(self._judge_at_timeout, timeout, name="startup timeout")
                judges.start_soon(self._judge_final_failures, timeout, name="final failures")
                judges.start_soon(self._tell_progress, name="start-up progress")
                await self._store.wait_for(lambda s: self._over(s) or may_start_app(s))
                judges.cancel_scope.cancel()  # tasks still running (after a failure or a stop) finish
        return not self._over(self._store.snapshot())

    async def _judge_at_timeout(self, scope: anyio.CancelScope) -> None:
        with scope:
            await anyio.sleep(self._startup_timeout)
            snap = self._store.snapshot()
            late = late_gates(snap)
            # no await between this test and the event: a stop that came first is not judged
            if late and not self._over(snap):
                what = f"gates did not pass within {format_duration(self._startup_timeout)}"
                if self._startup_failed(what, late):
                    self._store.apply(Event.STARTUP_TIMED_OUT)

    async def _tell_progress(self) -> None:
        """Every few seconds until the app may start, what it still waits for and why; degraded
        mode has said so once, and logs each change after that."""
        while True:
            await anyio.sleep(progress.EVERY)
            snap = self._store.snapshot()
            if snap.phase is not Phase.GATING or self._over(snap):
                return
            waiting = holding(c for c in snap.checks if c.role in (Role.GATE, Role.TASK))
            for line in progress.still_waiting(waiting, snap.now):
                log.info("%s", logs.Shown(line))  # reasons masked where they were made

    async def _judge_final_failures(self, timeout: anyio.CancelScope) -> None:
        """A gate the start-up waits on that failed for good ends the start-up at once, as the
        timeout would later: waiting the whole STARTUP_TIMEOUT for it changes nothing."""
        snap = await self._store.wait_for(lambda s: self._over(s) or any(g.final for g in late_gates(s)))
        if self._over(snap):
            return
        final = tuple(g for g in late_gates(snap) if g.final)
        names = ", ".join(g.name for g in final)
        if self._startup_failed(f"gate(s) {names} cannot pass before a restart", final):
            timeout.cancel()  # degraded now: the timeout has nothing left to judge
            self._store.apply(Event.STARTUP_TIMED_OUT)

    def _startup_failed(self, what: str, culprits: tuple[CheckState, ...]) -> bool:
        """Finish (and return False) or go on degraded (and return True), per ON_STARTUP_TIMEOUT."""
        reasons = "; ".join(f"{c.name}: {c.reason}" for c in culprits)
        if self._finish_on_failure:
            # our words around reasons masked where they were made: shown as they are
            log.error("%s: %s; exiting (SUPERVISOR_ON_STARTUP_TIMEOUT=exit)", logs.Shown(what), logs.Shown(reasons))
            self._finish(exitcodes.UNAVAILABLE)
            return False
        return True

    async def _run_task(self, task: PrestartTask) -> None:
        name = task.check_name
        await self._store.wait_for(lambda s: self._over(s) or prerequisites_pass(s, self._store.get(name)))
        if self._over(self._store.snapshot()):  # no await between this test and the spawn
            return
        log.info("pre-start task %s: %s", task.name, task.display)
        self._store.set(record_start(self._store.get(name), now=self._store.snapshot().now))
        started = anyio.current_time()
        error, reason_class = await self._spawn_and_wait(task)
        duration = anyio.current_time() - started
        now = self._store.snapshot().now
        state = self._store.get(name)
        if error is None:
            self._store.set(record_success(state, now=now, duration=duration))
            return
        self._store.set(record_failure(state, now=now, duration=duration, error=error, reason_class=reason_class))
        if self._store.phase is Phase.STOPPING:
            return
        if self._startup_failed(f"pre-start task {task.name} failed", (self._store.get(name),)):
            log.warning("degraded: pre-start task %s %s; the app will not be started", task.name, logs.Shown(error))
            self._gave_up = True
            self._store.apply(Event.GAVE_UP)

    async def _spawn_and_wait(self, task: PrestartTask) -> tuple[str | None, ReasonClass]:
        """Run the task to its end; the reason it failed (None when it did not) and its class."""
        try:
            process = self._spawner.spawn(task.argv, stdin=subprocess.DEVNULL)
        except SpawnError as exc:
            return str(exc), ReasonClass.MISSING if exc.not_found else ReasonClass.ERROR
        self._foreground.add(process, is_app=False)
        code: int | None = None  # stays None when the task outlives its timeout
        try:
            with anyio.move_on_after(task.timeout if task.timeout is not None else float("inf")):
                code = exitcodes.from_returncode(await process.wait())
            if code is None:
                limit = format_duration(task.timeout or 0)
                log.warning("pre-start task %s still runs after %s: SIGKILL to its process group", task.name, limit)
                process.kill_group()
                await process.wait()
                return f"timed out after {limit}", ReasonClass.TIMEOUT
        finally:
            self._foreground.release(process, code)
        return (None if code == 0 else f"exited with {describe_exit(code)}"), ReasonClass.EXIT_STATUS


def task_states(tasks: tuple[PrestartTask, ...]) -> list[CheckState]:
    """The initial state of each pre-start task, so /readyz lists them from the first moment."""
    return [
        CheckState(
            name=t.check_name,
            kind="prestart",
            target=t.display,
            role=Role.TASK,
            startup_only=True,
            after=t.after,
            status=Status.PENDING,
        )
        for t in tasks
    ]
