"""A child that records every signal it receives, one name per line, and exits 0 on SIGTERM."""

import signal
import sys
from pathlib import Path

out = Path(sys.argv[1])
RECORDED = ("SIGHUP", "SIGUSR1", "SIGUSR2", "SIGTTIN", "SIGTTOU", "SIGWINCH", "SIGINT", "SIGQUIT")


def record(signum: int, _frame: object) -> None:
    with out.open("a") as fh:
        fh.write(signal.Signals(signum).name + "\n")
    if signum in (signal.SIGINT, signal.SIGQUIT):
        sys.exit(0)


for name in RECORDED:
    signal.signal(getattr(signal, name), record)
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
out.write_text("ready\n")
while True:
    signal.pause()
