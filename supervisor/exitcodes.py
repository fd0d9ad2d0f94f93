"""Exit codes of the supervisor, in one place so that docs, CLI and tests agree.

The child's own exit code is passed through unchanged (128+N when it died of signal N, as a shell
and tini report it); the codes below are the supervisor's own and follow BSD ``sysexits.h``.
"""

OK = 0
CHECK_FAILED = 1
NOT_ANSWERING = 2  # `status`: no supervisor answers at the address (argparse also uses 2)
UNAVAILABLE = 69  # EX_UNAVAILABLE: gates did not pass before the startup timeout
INTERNAL_ERROR = 70  # EX_SOFTWARE: a bug in the supervisor
OS_ERROR = 71  # EX_OSERR: the health port cannot be bound
OUTPUT_ERROR = 74  # EX_IOERR: standard output could not be written (a full disk, /dev/full)
APP_UNRESPONSIVE = 75  # EX_TEMPFAIL: the app stopped answering (ON_APP_UNRESPONSIVE=exit); a restart may cure it
TIMED_OUT = 124  # `wait`: the deadline passed first, as timeout(1) and wait4x report it
COMMAND_NOT_FOUND = 127  # as a shell reports it: the app command could not be started
CONFIG_ERROR = 78  # EX_CONFIG: bad configuration, nothing was started


def from_signal(signum: int) -> int:
    """The shell convention for "terminated by signal N"."""
    return 128 + signum


def from_returncode(returncode: int) -> int:
    """Map a subprocess return code (negative for a signal) to an exit status."""
    return from_signal(-returncode) if returncode < 0 else returncode
