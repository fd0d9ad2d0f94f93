"""The signals the supervisor handles, in one place for the early handler and the event loop.

Standard library only: ``cli`` imports this before anything heavy, to catch signals from the
first instant.
"""

import signal

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT)
# Forwarded to the app as they are; gunicorn gives each a meaning (reload, reopen logs, re-exec,
# add/remove a worker, stop workers when daemonised).
FORWARDED_SIGNALS = (
    signal.SIGHUP,
    signal.SIGUSR1,
    signal.SIGUSR2,
    signal.SIGTTIN,
    signal.SIGTTOU,
    signal.SIGWINCH,
)
HANDLED_SIGNALS = STOP_SIGNALS + FORWARDED_SIGNALS


class EarlySignals:
    """Signals caught before the event loop's own handlers exist, to be replayed by them.

    ``run`` installs this at its first instant (as PID 1, a signal without a handler is dropped
    by the kernel). The supervisor drains it only *after* its own receiver is in place, so a
    signal arriving in between lands in one of the two and is never lost.
    """

    def __init__(self) -> None:
        self._caught: list[int] = []

    def _remember(self, signum: int, _frame: object) -> None:
        self._caught.append(signum)

    def install(self) -> None:
        for signum in HANDLED_SIGNALS:
            signal.signal(signum, self._remember)

    def drain(self) -> list[int]:
        caught, self._caught = self._caught, []
        return caught
