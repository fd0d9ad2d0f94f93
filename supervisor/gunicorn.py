"""What the supervisor knows about gunicorn, in one place.

gunicorn is the app server we are built in front of, so a few of its conventions are worth
knowing: its ``--bind`` address is where the app will answer (the default app probe), exit codes
3 and 4 mean a worker or the app failed to load, and USR2 re-executes the master as a child of
the old one, which a supervisor that follows the master it started cannot follow.
"""

import signal

from supervisor.addresses import reachable

EXIT_CODES = {3: "gunicorn: worker boot error", 4: "gunicorn: app load error"}

USR2_WARNING = (
    "gunicorn's USR2 re-exec is not supported: the supervisor follows the master it started; use HUP to reload"
)


def args(argv: tuple[str, ...]) -> tuple[str, ...] | None:
    """gunicorn's own arguments when ``argv`` runs gunicorn (``gunicorn ...`` or
    ``python -m gunicorn ...``), else None."""
    first = argv[0].rsplit("/", 1)[-1] if argv else ""
    if first == "gunicorn":
        return argv[1:]
    if first.startswith("python") and argv[1:3] == ("-m", "gunicorn"):
        return argv[3:]
    return None


def bind_probe(argv: tuple[str, ...]) -> str | None:
    """``tcp://host:port`` of gunicorn's first ``--bind``/``-b`` when given as host:port.

    Wildcard addresses are probed on loopback, which is where the supervisor can reach them.
    """
    own = args(argv)
    if own is None:
        return None
    bind: str | None = None
    for i, arg in enumerate(own):
        if arg in ("-b", "--bind") and i + 1 < len(own):
            bind = own[i + 1]
        elif arg.startswith("--bind="):
            bind = arg.split("=", 1)[1]
        elif arg.startswith("-b") and len(arg) > 2:
            bind = arg[2:]
        if bind is not None:
            break
    if bind is None or bind.startswith(("unix:", "fd://")) or "/" in bind:
        return None
    host, sep, port = bind.rpartition(":")
    if not sep or not port.isdigit():
        return None
    host = reachable(host)
    return f"tcp://[{host}]:{port}" if ":" in host else f"tcp://{host}:{port}"


def explain_exit(code: int, argv: tuple[str, ...]) -> str:
    """What gunicorn means by ``code``, when ``argv`` runs gunicorn and the code is one of its own."""
    if code in EXIT_CODES and args(argv) is not None:
        return f" ({EXIT_CODES[code]})"
    return ""


def warning_for_signal(signum: int, argv: tuple[str, ...]) -> str | None:
    """A warning to log when ``signum`` is forwarded to gunicorn and will not do what was meant."""
    if signum == signal.SIGUSR2 and args(argv) is not None:
        return USR2_WARNING
    return None
