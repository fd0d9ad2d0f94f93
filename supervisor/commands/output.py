"""What every command writes, and how it ends.

Output goes through ``write``, which turns a stream that cannot take it (a full disk,
``/dev/full``, a closed pipe) into ``OutputError`` and exit 74 instead of a traceback; ``say`` is
for diagnostics, which are dropped rather than fail. ``Invocation.end`` exits at once from inside
the event loop when this is the real process (see there).
"""

import contextlib
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NoReturn, TextIO

from supervisor import exitcodes

if TYPE_CHECKING:
    import argparse

    from supervisor.pid1.signals import SignalInbox

PROG = "supervisor"


class OutputError(Exception):
    """Standard output cannot be written (a full disk, /dev/full, a closed pipe)."""


def write(stream: TextIO, text: str) -> None:
    try:
        stream.write(text)
        stream.flush()
    except (OSError, ValueError) as exc:
        raise OutputError(getattr(exc, "strerror", None) or str(exc)) from None


def say(text: str) -> None:
    """A line on stderr, when stderr can take it: a diagnostic must never become a traceback."""
    with contextlib.suppress(OutputError):
        write(sys.stderr, text + "\n")


def fail_config(problems: Sequence[str]) -> int:
    # each problem line is shown as it is: the values from outside in it are masked where the line
    # is made, and masking the whole line would mask our words ("expected")
    for problem in problems:
        say(f"{PROG}: {problem}")
    say(f"{PROG}: configuration invalid; see docs/configuration.md (exit {exitcodes.CONFIG_ERROR})")
    return exitcodes.CONFIG_ERROR


def exit_process(code: int) -> NoReturn:
    """``os._exit`` once output is flushed: a worker thread stuck in a system call (a gate on a
    hung filesystem, a name lookup whose resolver never answers) must never keep the process from
    exiting. The log lines still waiting get a bounded time, never an unbounded one."""
    logs = sys.modules.get("supervisor.logs")
    if logs is not None:
        logs.close()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            if stream is sys.stdout and code == exitcodes.OK:
                code = exitcodes.OUTPUT_ERROR
    os._exit(code)


@dataclass(frozen=True)
class Invocation:
    """One command as the command line gave it: its parsed options, the words after ``--``, and
    whether this is the supervisor's own process (the console script) or an in-process caller of
    ``cli.main`` (a test), which must get the exit code back instead of an exit."""

    args: "argparse.Namespace"
    command: tuple[str, ...] = ()
    standalone: bool = False
    inbox: "SignalInbox | None" = field(default=None, compare=False)  # signals caught before the imports

    def end(self, code: int) -> int:
        """Exit at once when standalone, from inside the event loop: closing the loop would join
        the default executor's threads, and one may be stuck in a system call."""
        if self.standalone:
            exit_process(code)
        return code
