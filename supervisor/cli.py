"""Command line: ``supervisor run|check|config|wait|probe|status``; it parses and dispatches.

Each command is a module of ``commands/`` (``COMMANDS``), imported only when it is the one
given, so heavy imports (anyio, drivers, prometheus-client) happen only where they are needed.
Bad input prints one line naming the setting and exits 78 (``commands/output.fail_config``),
never a traceback.
"""

import argparse
import gc
import logging
import os
import signal
import sys
import types
from collections.abc import Sequence
from typing import Any, NoReturn

from supervisor import __version__, exitcodes
from supervisor.commands.output import PROG, Invocation, OutputError, exit_process, say
from supervisor.pid1.signals import HANDLED_SIGNALS, SignalInbox

# Signals `run` handles are caught from the first instant, before the heavy imports: as PID 1 a
# signal without a handler is simply dropped by the kernel. The supervisor acts on them later.
_inbox: SignalInbox | None = None


def _ensure_standard_streams() -> None:
    """Point closed descriptors 0-2 at /dev/null, as init systems do.

    Started with ``2>&-``, the next file the supervisor opens would become descriptor 2, and the
    health socket or a gate's pipe would be the app's stderr; the app, every gate and task get
    the same ``/dev/null`` for it.
    """
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            null = os.open(os.devnull, os.O_RDWR)
            if null != fd:
                os.dup2(null, fd)  # inheritable, as dup2 makes it
                os.close(null)
            else:  # os.open makes descriptors close-on-exec: the app would get it closed again
                os.set_inheritable(fd, True)
    if sys.stdin is None:
        sys.stdin = open(0, closefd=False)  # noqa: SIM115 - lives as long as the process
    if sys.stdout is None:
        sys.stdout = open(1, "w", closefd=False)  # noqa: SIM115
    if sys.stderr is None:
        sys.stderr = open(2, "w", closefd=False)  # noqa: SIM115


class _Parser(argparse.ArgumentParser):
    """argparse, with a hint for a command given without ``--`` before it (``run sleep 1``), and a
    value that starts with a dash taken as the value (``--startup-timeout -1s``: argparse would
    take ``-1s`` for an unknown flag and say "expected one argument" instead of what is wrong with
    the value)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._valued: set[str] = set()  # the flags that take a value
        self._flags: set[str] = set()
        super().__init__(*args, **kwargs)

    def add_argument(self, *args: Any, **kwargs: Any) -> argparse.Action:
        action = super().add_argument(*args, **kwargs)
        self._flags.update(action.option_strings)
        if action.option_strings and action.nargs is None:
            self._valued.update(action.option_strings)
        return action

    def _with_dashed_values(self, words: list[str]) -> list[str]:
        out: list[str] = []
        i = 0
        while i < len(words):
            word = words[i]
            following = words[i + 1] if i + 1 < len(words) else None
            if (
                word in self._valued
                and following is not None
                and following.startswith("-")
                and following.split("=", 1)[0] not in self._flags
            ):
                out.append(f"{word}={following}")
                i += 2
                continue
            out.append(word)
            i += 1
        return out

    def parse_known_args(self, args: Any = None, namespace: Any = None) -> Any:
        words = list(sys.argv[1:] if args is None else args)
        if self.prog == PROG and words and words[0].startswith("-") and words[0] not in self._flags:
            named = next((w for w in words if w in COMMANDS), None)
            if named is not None:  # `supervisor --log-level debug run`: argparse would call debug a bad command
                rest = " ".join(w for w in words if w != named)
                self.exit(2, f"{PROG}: options go after the command: {PROG} {named} {rest}\n")
        parsed, extras = super().parse_known_args(self._with_dashed_values(words), namespace)
        command = getattr(parsed, "command", None)
        if extras and not extras[0].startswith("-") and command in ("run", "wait"):
            import shlex

            from supervisor.core.redaction import redact_text, register
            from supervisor.kinds.urls import secrets_in_text

            register(secret for word in extras for secret in secrets_in_text(word))  # nothing is yet
            shown = " ".join(redact_text(shlex.quote(word)) for word in extras)
            usage = f"{PROG} {command} [options] {'TARGET... ' if command == 'wait' else ''}-- "
            self.exit(2, f"{PROG}: put the command after --: {usage}{shown}\n")
        return parsed, extras


def _find_programs_installed_beside_us() -> None:
    """Put the scripts directory of the supervisor's own install last on ``PATH``.

    ``.venv/bin/supervisor run`` typed without activating the venv would otherwise not find the
    ``gunicorn`` installed in that same venv. Last, so that whatever ``PATH`` already names (the
    app's own venv in an image) wins. Done before any thread starts, since it changes the
    environment: the app, gates and tasks (and a shell they start) see the same ``PATH`` the
    configuration's program check looked things up on.
    """
    import sysconfig

    scripts = sysconfig.get_path("scripts")
    path = os.environ.get("PATH", os.defpath)
    entries = [os.path.normpath(entry) for entry in path.split(os.pathsep) if entry]
    if scripts and os.path.isdir(scripts) and os.path.normpath(scripts) not in entries:
        os.environ["PATH"] = f"{path}{os.pathsep}{scripts}" if path else scripts


def _catch_signals() -> None:
    global _inbox
    if _inbox is None:
        _inbox = SignalInbox()
        _inbox.install((*HANDLED_SIGNALS, signal.SIGCHLD))


def _setting_flags(p: argparse.ArgumentParser, command: str) -> None:
    """The flags that set settings, generated from the settings' model (``config.models.flags``)
    and only for the command given: `probe` and `status` (a HEALTHCHECK, all day) never import
    pydantic to parse their own few options."""
    from supervisor.config.models import flags

    for name, metavar, text in flags(command):
        p.add_argument("--" + name.replace("_", "-"), metavar=metavar, help=text)


def _chosen(argv: Sequence[str]) -> str | None:
    """The command named in ``argv`` (its first word that is not an option), before parsing."""
    return next((word for word in argv if not word.startswith("-")), None)


def _parser(chosen: str | None = None) -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description="Health supervisor for Python web containers: readiness gates, /healthz and /readyz, "
        "then the app. Settings come from flags, SUPERVISOR_* variables and an optional TOML file.",
    )
    parser.add_argument("--version", action="version", version=f"container-supervisor {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="{run,check,config,probe,status,wait}")

    def common(p: argparse.ArgumentParser, command: str) -> None:
        p.add_argument("--config", metavar="PATH", help="TOML configuration file (SUPERVISOR_CONFIG; default none)")
        if command == chosen:
            _setting_flags(p, command)

    run = sub.add_parser(
        "run",
        help="run the gates, serve health endpoints, then run the app: run [options] -- CMD ...",
        usage=f"{PROG} run [options] [-- CMD [ARG...]]",
        description="The command comes after --; without one, SUPERVISOR_COMMAND (or command in the file) "
        "is run. Every flag has a SUPERVISOR_* variable; the other settings have only their variable "
        "(docs/configuration.md).",
    )
    common(run, "run")

    check = sub.add_parser("check", help="run the gates until they pass or the startup timeout; exit 0 or 1")
    common(check, "check")
    check.add_argument("--json", action="store_true", help="print application/health+json")
    check.add_argument("--gate", action="append", default=[], metavar="NAME", help="only this gate (repeatable)")

    config = sub.add_parser("config", help="print the effective configuration, secrets redacted")
    common(config, "config")
    config.add_argument("--json", action="store_true", help="print the configuration as JSON")
    config.add_argument("--schema", action="store_true", help="print the JSON schema of the configuration")

    def address(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--host", metavar="HOST", help="the supervisor's health host (SUPERVISOR_HEALTH_HOST; default 127.0.0.1)"
        )
        p.add_argument("--port", metavar="PORT", help="its health port (or SUPERVISOR_HEALTH_PORT, default 8081)")
        p.add_argument("--timeout", metavar="DURATION", default="2s", help="for the whole answer (default 2s)")

    probe = sub.add_parser("probe", help="ask a running supervisor: exit 0 when live (or ready), 1 otherwise")
    probe.add_argument("kind", nargs="?", choices=["live", "ready"], default="live")
    address(probe)
    status = sub.add_parser("status", help="a running supervisor's state: exit 0 ready, 1 not, 2 no answer")
    address(status)
    status.add_argument("--json", action="store_true", help="print its application/health+json report")
    status.add_argument(
        "--chain",
        action="store_true",
        help="print the start-up's critical chain: the checks that set the time to ready (a chart on a terminal)",
    )
    wait = sub.add_parser(
        "wait",
        help="wait until every TARGET passes, then exit 0 or run: wait TARGET... [-- CMD]",
        usage=f"{PROG} wait [options] TARGET... [-- CMD [ARG...]]",
    )
    wait.add_argument("targets", nargs="+", metavar="TARGET", help="a gate URL (postgresql://, tcp://, http://, ...)")
    wait.add_argument("--timeout", metavar="DURATION", default="60s", help="give up after this: exit 124 (60s)")
    wait.add_argument("--attempt-timeout", metavar="DURATION", default="5s", help="limit for one attempt (5s)")
    wait.add_argument("--json", action="store_true", help="print an application/health+json report at the end")
    return parser


def _split_command(argv: Sequence[str]) -> tuple[list[str], list[str]]:
    if "--" in argv:
        i = list(argv).index("--")
        return list(argv[:i]), list(argv[i + 1 :])
    return list(argv), []


def entry() -> NoReturn:
    """The console script: the supervisor's own process, which ends with ``os._exit``
    (``commands/output.exit_process``)."""
    _ensure_standard_streams()  # first: the inbox's pipe must not become descriptor 0, 1 or 2
    if sys.argv[1:2] == ["run"]:  # `run` is the only way to start the supervisor itself
        _catch_signals()  # as early as it can be: PID 1 drops a signal it has no handler for
    logging.raiseExceptions = False  # a full stderr must not turn each log line into a traceback
    _without_pydantic_plugins()
    try:
        code = main(standalone=True)
    except SystemExit as exc:  # argparse: --help, --version, usage errors
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    exit_process(code)


def _without_pydantic_plugins() -> None:
    """pydantic looks for plugins in every installed package's metadata when it builds its first
    model: importing ``importlib.metadata`` and scanning the environment cost about 20 ms of CPU
    at every start of a container (more than Python's own start-up). The supervisor's models use
    no plugin, so in its own process (never in a caller's: this is the console script only) the
    loader is replaced by one that finds none, as ``PYDANTIC_DISABLE_PLUGINS=__all__`` would
    decide after the import. tests/unit/commands/test_startup_cost.py notices when pydantic stops
    loading plugins from this module."""
    if "pydantic.plugin._loader" in sys.modules:
        return
    loader = types.ModuleType("pydantic.plugin._loader")
    loader.get_plugins = lambda: ()  # type: ignore[attr-defined]
    sys.modules[loader.__name__] = loader


def main(argv: Sequence[str] | None = None, *, standalone: bool = False) -> int:
    try:
        return _dispatch(argv, standalone)
    except OutputError as exc:
        say(f"{PROG}: cannot write the output: {exc}")
        return exitcodes.OUTPUT_ERROR
    finally:
        logs = sys.modules.get("supervisor.logs")
        if logs is not None:
            logs.close()  # an in-process caller reads the log lines once main returns


# The module of each command, whose ``main(Invocation)`` runs it; imported only when chosen, so
# that `probe` and `status` (a HEALTHCHECK, all day) load none of the others' imports
COMMANDS = {
    "run": "supervisor.commands.run",
    "check": "supervisor.commands.check",
    "config": "supervisor.commands.config",
    "wait": "supervisor.commands.wait",
    "probe": "supervisor.commands.status",
    "status": "supervisor.commands.status",
}
TAKES_A_COMMAND = ("run", "wait")
RUNS_PROGRAMS = ("run", "check", "wait")  # they look programs up on PATH: ours must be on it


def _dispatch(argv: Sequence[str] | None, standalone: bool) -> int:
    args_list, command = _split_command(sys.argv[1:] if argv is None else argv)
    args = _parser(_chosen(args_list)).parse_args(args_list)
    if command and args.command not in TAKES_A_COMMAND:
        say(f"{PROG}: only `run` and `wait` take a command after --")
        return 2
    if args.command in RUNS_PROGRAMS:
        _find_programs_installed_beside_us()
    if args.command == "run":
        _catch_signals()
        # Start-up allocates what lives as long as the process (modules, classes, the
        # configuration): collecting meanwhile is wasted work. ``lazyimport.settle`` freezes it
        # all and turns collection back on, before the health port listens.
        gc.disable()
    import importlib

    module = importlib.import_module(COMMANDS[args.command])
    call = Invocation(args, tuple(command), standalone=standalone, inbox=_inbox)
    code: int = module.main(call)
    return code
