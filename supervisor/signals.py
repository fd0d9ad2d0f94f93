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
