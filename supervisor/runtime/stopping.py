"""Stopping: stop signals, the drain delay, the stop timeout, and forwarding every other signal.

A stop signal turns readiness off at once (phase ``stopping``), reaches whatever runs in the
foreground (the app, or the pre-start tasks running now), and ends the supervisor once all of them
have exited: with the app's own exit code, or 128+N when only tasks ran. Nothing runs: finish at
once. After ``STOP_TIMEOUT`` the process groups still there get SIGKILL; a second stop signal does
that at once (SIGQUIT excepted: it asks for a quick stop, not a kill).

The signal path, from arrival to exit code:

1. ``SignalInbox``'s handler records the signal (``cli`` installs it at the first instant).
2. ``ProcessTable.serve``, the inbox's one reader, hands it to ``Stopper.on_signal``.
3. ``on_signal``: phase ``stopping``; the signal forwarded to the foreground (SIGTERM after the
   drain delay); the stop timeout armed.
4. The app exits; SIGCHLD makes ``ProcessTable.reap`` resolve its ``wait()``.
5. ``AppLifecycle`` logs the exit, ends the app's leftovers within the stop deadline, then
   ``Foreground.release(app, code)``: the one place the app's exit code is recorded.
6. ``Stopper._finish_when_gone`` sees the foreground empty and finishes with that code.
7. ``supervise``'s finish cancels the task group; ``Supervisor.run`` returns the code, after
   ``ProcessTable.stop_everything``; ``cli`` exits with it.
"""

import signal

import anyio
import anyio.abc

from supervisor import exitcodes, gunicorn, logs
from supervisor.core.durations import format_duration
from supervisor.core.readiness import Event
from supervisor.pid1.foreground import Finish, Foreground, Process
from supervisor.pid1.signals import STOP_SIGNALS
from supervisor.runtime.state import StateStore

log = logs.get()


class Stopper:
    def __init__(
        self,
        store: StateStore,
        foreground: Foreground,
        tg: anyio.abc.TaskGroup,
        finish: Finish,
        *,
        app_argv: tuple[str, ...],
        drain_delay: float,
        stop_timeout: float,
    ) -> None:
        self._store = store
        self._foreground = foreground
        self._tg = tg
        self._finish = finish
        self._argv = app_argv
        self._drain_delay = drain_delay
        self._stop_timeout = stop_timeout
        self.stop_signal: int | None = None

    def on_signal(self, signum: int) -> None:
        name = signal.Signals(signum).name
        if signum in STOP_SIGNALS:
            self._on_stop(signum, name)
            return
        targets = self._foreground.running()
        for process, _ in targets:
            if process.send_signal(signum):
                log.info("forwarded %s to pid %d", name, process.pid)
        warning = gunicorn.warning_for_signal(signum, self._argv) if self._foreground.app else None
        if warning:
            log.warning(warning)
        if not targets:
            log.info("%s received before the app runs: ignored", name)

    def _on_stop(self, signum: int, name: str) -> None:
        targets = [p for p, _ in self._foreground.running()]
        if self.stop_signal is not None:
            if signum != signal.SIGQUIT:
                for process in targets:
                    log.warning("second %s during the stop: killing pid %d's process group now", name, process.pid)
                    process.kill_group()
                self._foreground.hurry.set()  # and what an exited app left behind, at once too
            return
        self.stop_signal = signum
        app = self._foreground.app
        if not targets:
            self._store.apply(Event.STOP_REQUESTED)
            log.info("%s received: nothing is running; exiting", name)
            self._finish(exitcodes.from_signal(signum))
            return
        self._tg.start_soon(self._finish_when_gone, app, signum, name="stop")
        if signum == signal.SIGTERM and self._drain_delay > 0 and app is not None:
            self._store.apply(Event.STOP_REQUESTED)  # readiness off now; the app keeps serving
            log.info(
                "SIGTERM received: readiness off; the app keeps serving for %s", format_duration(self._drain_delay)
            )
            self._tg.start_soon(self._forward_after_drain, targets, signum, name="drain")
            return
        # Forward first, then turn readiness off: both happen before the event loop can answer any
        # probe, and the processes get their signal without waiting for logs and metrics.
        self._forward(targets, signum)
        self._store.apply(Event.STOP_REQUESTED)

    async def _forward_after_drain(self, targets: list[Process], signum: int) -> None:
        await anyio.sleep(self._drain_delay)
        self._forward(targets, signum)

    def _forward(self, targets: list[Process], signum: int) -> None:
        self._foreground.stop_deadline = anyio.current_time() + self._stop_timeout
        for process in targets:
            if process.send_signal(signum):
                log.info("forwarded %s to pid %d", signal.Signals(signum).name, process.pid)
        self._tg.start_soon(self._kill_after_timeout, targets, name="stop timeout")

    async def _kill_after_timeout(self, targets: list[Process]) -> None:
        with anyio.move_on_after(self._stop_timeout):
            for process in targets:
                await process.wait()
            return
        for process in targets:
            if process.returncode is None:
                log.warning(
                    "pid %d did not stop within %s: SIGKILL to its process group",
                    process.pid,
                    format_duration(self._stop_timeout),
                )
                process.kill_group()

    async def _finish_when_gone(self, app: Process | None, signum: int) -> None:
        """Once the owners have released every process: the code the app's owner recorded, else
        128+N (only tasks ran)."""
        await self._foreground.wait_empty()
        code = None if app is None else self._foreground.exit_code(app)
        self._finish(exitcodes.from_signal(signum) if code is None else code)
