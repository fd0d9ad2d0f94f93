"""Command line: ``supervisor run|check|config``.

Every command validates the whole configuration first; problems print one line each on stderr
and exit 78, never a traceback. Heavy imports (anyio, drivers, prometheus-client) happen only in
the branch that needs them.
"""

import argparse
import contextlib
import gc
import json
import logging
import os
import signal
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NoReturn, TextIO

from supervisor import __version__, exitcodes
from supervisor.pid1.signals import HANDLED_SIGNALS, SignalInbox

if TYPE_CHECKING:
    from supervisor.config.settings import Config
    from supervisor.pid1 import fdlimit

PROG = "supervisor"

# Signals `run` handles are caught from the first instant, before the heavy imports: as PID 1 a
# signal without a handler is simply dropped by the kernel. The supervisor acts on them later.
_inbox: SignalInbox | None = None


class OutputError(Exception):
    """Standard output cannot be written (a full disk, /dev/full, a closed pipe)."""


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


def _write(stream: TextIO, text: str) -> None:
    try:
        stream.write(text)
        stream.flush()
    except (OSError, ValueError) as exc:
        raise OutputError(getattr(exc, "strerror", None) or str(exc)) from None


def _say(text: str) -> None:
    """A line on stderr, when stderr can take it: a diagnostic must never become a traceback."""
    with contextlib.suppress(OutputError):
        _write(sys.stderr, text + "\n")


class _Parser(argparse.ArgumentParser):
    """argparse, with a hint for a command given without ``--`` before it (``run sleep 1``)."""

    def parse_known_args(self, *args: Any, **kwargs: Any) -> Any:
        parsed, extras = super().parse_known_args(*args, **kwargs)
        command = getattr(parsed, "command", None)
        if extras and not extras[0].startswith("-") and command in ("run", "wait"):
            import shlex

            from supervisor.config.urlparts import secrets_in_text
            from supervisor.core.redaction import redact_text, register

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


# Help of the flags that set a setting: what it does and its default, as settings.py has them
# (a test holds the two together; settings is not imported here, `probe` parses these too)
FLAG_HELP = {
    "health_host": ("address the health endpoints listen on", "0.0.0.0"),
    "health_port": ("port of the health endpoints", "8081"),
    "startup_timeout": ("how long the gates may take before the start-up verdict", "1m"),
    "on_startup_timeout": ("degraded: stay up, not ready, keep trying; exit: exit 69", "degraded"),
    "check_interval": ("how often gates are re-checked once the app runs", "10s"),
    "stop_timeout": ("after a stop signal, how long the app may take before SIGKILL", "30s"),
    "app_probe": ("tcp:// or http(s):// address of the app (default: from gunicorn --bind)", None),
    "log_level": ("the supervisor's log level", "info"),
    "log_format": ("json or text", "json when stderr is not a terminal, else text"),
}


def _flag(p: argparse.ArgumentParser, name: str, metavar: str | None = None, **kw: Any) -> None:
    text, default = FLAG_HELP[name]
    shown = f"; default {default}" if default is not None else ""
    p.add_argument(
        "--" + name.replace("_", "-"),
        metavar=metavar,
        help=f"{text} (SUPERVISOR_{name.upper()}{shown})",
        **kw,
    )


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description="Health supervisor for Python web containers: readiness gates, /healthz and /readyz, "
        "then the app. Settings come from flags, SUPERVISOR_* variables and an optional TOML file.",
    )
    parser.add_argument("--version", action="version", version=f"container-supervisor {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="{run,check,config,probe,status,wait}")

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--config", metavar="PATH", help="TOML configuration file (SUPERVISOR_CONFIG; default none)")
        _flag(p, "log_level", choices=["debug", "info", "warning", "error"])
        _flag(p, "log_format", choices=["json", "text"])

    run = sub.add_parser(
        "run",
        help="run the gates, serve health endpoints, then run the app: run [options] -- CMD ...",
        usage=f"{PROG} run [options] [-- CMD [ARG...]]",
        description="The command comes after --; without one, SUPERVISOR_COMMAND (or command in the file) "
        "is run. Every flag has a SUPERVISOR_* variable; the other settings have only their variable "
        "(docs/configuration.md).",
    )
    common(run)
    _flag(run, "health_host", "HOST")
    _flag(run, "health_port", "PORT")
    _flag(run, "startup_timeout", "DURATION")
    _flag(run, "on_startup_timeout", "degraded|exit")
    _flag(run, "check_interval", "DURATION")
    _flag(run, "stop_timeout", "DURATION")
    _flag(run, "app_probe", "URL")

    check = sub.add_parser("check", help="run the gates until they pass or the startup timeout; exit 0 or 1")
    common(check)
    check.add_argument("--json", action="store_true", help="print application/health+json")
    check.add_argument("--gate", action="append", default=[], metavar="NAME", help="only this gate (repeatable)")
    _flag(check, "startup_timeout", "DURATION")

    config = sub.add_parser("config", help="print the effective configuration, secrets redacted")
    common(config)
    config.add_argument("--json", action="store_true")
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


_CLI_SETTINGS = (
    "health_host",
    "health_port",
    "startup_timeout",
    "on_startup_timeout",
    "check_interval",
    "stop_timeout",
    "app_probe",
    "log_level",
    "log_format",
)


def _fail_config(problems: Sequence[str]) -> int:
    # each problem line is shown as it is: the values from outside in it are masked where the line
    # is made (settings' _show), and masking the whole line would mask our words ("expected")
    for problem in problems:
        _say(f"{PROG}: {problem}")
    _say(f"{PROG}: configuration invalid; see docs/configuration.md (exit {exitcodes.CONFIG_ERROR})")
    return exitcodes.CONFIG_ERROR


def _split_command(argv: Sequence[str]) -> tuple[list[str], list[str]]:
    if "--" in argv:
        i = list(argv).index("--")
        return list(argv[:i]), list(argv[i + 1 :])
    return list(argv), []


_standalone = False  # set by `entry`: this is the supervisor process, not a caller of `main`


def entry() -> NoReturn:
    """The console script. Exits with ``os._exit`` once output is flushed: a worker thread stuck
    in a system call (a gate on a hung filesystem) must never keep the process from exiting."""
    global _standalone
    _standalone = True
    _ensure_standard_streams()  # first: the inbox's pipe must not become descriptor 0, 1 or 2
    if sys.argv[1:2] == ["run"]:  # `run` is the only way to start the supervisor itself
        _catch_signals()  # as early as it can be: PID 1 drops a signal it has no handler for
    logging.raiseExceptions = False  # a full stderr must not turn each log line into a traceback
    try:
        code = main()
    except SystemExit as exc:  # argparse: --help, --version, usage errors
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    _finish(code)


def _finish(code: int) -> NoReturn:
    logs = sys.modules.get("supervisor.logs")
    if logs is not None:
        logs.close()  # the lines still waiting get a bounded time, never an unbounded one
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            if stream is sys.stdout and code == exitcodes.OK:
                code = exitcodes.OUTPUT_ERROR
    os._exit(code)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return _main(argv)
    except OutputError as exc:
        _say(f"{PROG}: cannot write the output: {exc}")
        return exitcodes.OUTPUT_ERROR
    finally:
        logs = sys.modules.get("supervisor.logs")
        if logs is not None:
            logs.close()  # an in-process caller reads the log lines once main returns


def _main(argv: Sequence[str] | None) -> int:
    args_list, command = _split_command(sys.argv[1:] if argv is None else argv)
    args = _parser().parse_args(args_list)
    if command and args.command not in ("run", "wait"):
        _say(f"{PROG}: only `run` and `wait` take a command after --")
        return 2
    if args.command in ("probe", "status"):
        return _ask(args)  # before anything heavy is imported: HEALTHCHECK runs this all day
    if args.command in ("run", "check", "wait"):
        _find_programs_installed_beside_us()
    if args.command == "wait":
        return _wait(args, command)
    if args.command == "run":
        _catch_signals()
        # Start-up allocates what lives as long as the process (modules, classes, the
        # configuration): collecting meanwhile is wasted work. ``lazyimport.settle`` freezes it
        # all and turns collection back on, before the health port listens.
        gc.disable()
    from supervisor.config.settings import ConfigError, json_schema, load_config

    if args.command == "config" and args.schema:
        _write(sys.stdout, json.dumps(json_schema(), indent=2) + "\n")
        return exitcodes.OK
    cli = {name: getattr(args, name, None) for name in _CLI_SETTINGS}
    try:
        config = load_config(
            cli=cli,
            config_file=args.config,
            command=command,
            check_programs=args.command in ("run", "check"),
            unresolved_ok=args.command == "config",
        )
        if args.command == "check" and args.gate:
            unknown = sorted(set(args.gate) - {g.name for g in config.gates})
            if unknown:
                raise ConfigError(
                    [
                        f"--gate {', '.join(unknown)}: no such gate; configured: "
                        f"{', '.join(g.name for g in config.gates) or 'none'}"
                    ]
                )
        if args.command == "run" and not config.command:
            raise ConfigError(
                ["no command to run: give one after `--` or set SUPERVISOR_COMMAND (or `command` in the file)"]
            )
        budget = _fit_descriptors(config) if args.command == "run" else None
    except ConfigError as exc:
        return _fail_config(exc.problems)
    if args.command in ("run", "check"):
        from supervisor.config.settings import export_file_variables

        export_file_variables(config.from_files, os.environ)  # no thread runs yet
    try:
        if args.command == "config":
            return _config(config, as_json=args.json)
        from supervisor import logs

        log = logs.setup(config.settings.log_level, config.settings.log_format)
        for warning in config.warnings:
            log.warning(warning)
        if args.command == "check":
            return _check(config, args.gate, as_json=args.json)
        assert budget is not None
        if budget.warning:
            log.warning(budget.warning)
        import dataclasses

        from supervisor.pid1 import fdlimit

        try:
            child_nofile = fdlimit.apply(budget)
        except (OSError, ValueError) as exc:  # a limit we may not raise after all: keep what we have
            log.warning("cannot raise the file-descriptor limit to %s: %s", budget.raise_soft_to, exc)
            child_nofile = None
        settings = config.settings.model_copy(update={"health_max_connections": budget.max_connections})
        return _run(dataclasses.replace(config, settings=settings), child_nofile)
    except KeyboardInterrupt:
        return exitcodes.from_signal(2)


def _fit_descriptors(config: "Config") -> "fdlimit.Plan":
    """The descriptor budget of ``run`` (``fdlimit``): a ConfigError when it cannot fit."""
    from supervisor.config.settings import ConfigError
    from supervisor.pid1 import fdlimit

    s = config.settings
    soft, hard = fdlimit.current()
    budget = fdlimit.plan(
        max_connections=s.health_max_connections,
        explicit="health_max_connections" in s.model_fields_set,
        checks=len(config.gates) + len(config.prestart) + (config.app_probe is not None),
        open_now=fdlimit.open_descriptors(),
        soft=soft,
        hard=hard,
    )
    if budget.problem:
        raise ConfigError([budget.problem])
    return budget


def _run(config: "Config", child_nofile: tuple[int, int] | None = None) -> int:
    import anyio

    from supervisor import logs
    from supervisor.runtime.supervise import Supervisor

    supervisor = Supervisor(config, inbox=_inbox, child_nofile=child_nofile)

    async def supervise() -> int:
        return _done(await supervisor.run())

    try:
        return anyio.run(supervise)
    except BaseException:  # the supervisor's own net failed: still, nothing it started stays
        logs.get().critical("internal error; please report it", exc_info=True)
        if supervisor.table is not None:
            supervisor.table.stop_everything(config.settings.stop_timeout)
        return exitcodes.INTERNAL_ERROR


def _check(config: "Config", only: Sequence[str], *, as_json: bool) -> int:
    import anyio

    from supervisor.commands import check as checkcmd

    gates = tuple(g for g in config.gates if not only or g.name in only)
    if not gates:
        _say(f"{PROG}: no gates configured; set SUPERVISOR_GATE_<NAME>=URL")
        return exitcodes.OK

    async def check() -> int:
        snapshot, stopped_by = await checkcmd.run_checks(config, gates)
        _write(sys.stdout, checkcmd.report_json(snapshot) if as_json else checkcmd.report_text(snapshot))
        return _done(exitcodes.from_signal(stopped_by) if stopped_by is not None else checkcmd.exit_code(snapshot))

    return anyio.run(check)


def _ask(args: argparse.Namespace) -> int:
    from supervisor.commands import client
    from supervisor.core.durations import parse_duration

    try:
        host, port = client.address(args.host, args.port)
        timeout = parse_duration(args.timeout)
    except client.UsageError as exc:
        _say(f"{PROG}: {exc}")
        return exitcodes.CONFIG_ERROR
    except ValueError as exc:
        _say(f"{PROG}: --timeout={args.timeout}: expected {exc}")
        return exitcodes.CONFIG_ERROR
    from supervisor.commands.probe import MAX_TIMEOUT

    if timeout > MAX_TIMEOUT:
        _say(f"{PROG}: --timeout={args.timeout}: expected at most 24h")
        return exitcodes.CONFIG_ERROR
    if args.command == "probe":
        from supervisor.commands import probe

        code, line = probe.probe(args.kind, host, port, timeout)
        _write(sys.stdout, line + "\n")
        return code
    code, text = client.status(host, port, timeout, as_json=args.json)
    _write(sys.stdout if code != exitcodes.NOT_ANSWERING else sys.stderr, text)
    return code


def _wait(args: argparse.Namespace, command: Sequence[str]) -> int:
    from dataclasses import replace

    import anyio

    from supervisor.commands import wait as waitcmd
    from supervisor.config.gatespec import (
        GateSpec,
        GateUrlError,
        build_gate,
        env_file_variable,
        expand_url,
        resolve_env_url,
        shown_command,
    )
    from supervisor.config.settings import export_file_variables
    from supervisor.config.urlparts import mask_unparsed, secrets_in_text
    from supervisor.core.backoff import Backoff
    from supervisor.core.durations import parse_duration
    from supervisor.core.redaction import redact_text, register

    bad_durations: list[tuple[str, str, str]] = []  # (flag, value, why)
    bad_targets: list[tuple[int, str, str]] = []  # (position, target, why)
    loose: tuple[int, list[str]] | None = None  # where a command without `--` begins, and its words
    specs: list[GateSpec] = []
    durations = {}
    for flag, text in (("--timeout", args.timeout), ("--attempt-timeout", args.attempt_timeout)):
        try:
            durations[flag] = parse_duration(text)
        except ValueError as exc:
            bad_durations.append((flag, text, str(exc)))
    from_files: dict[str, str] = {}
    for i, target in enumerate(args.targets, 1):
        try:
            url = resolve_env_url(expand_url(target, os.environ), os.environ)
            var = env_file_variable(target, os.environ)
            if var is not None:
                from_files[var] = url
            specs.append(
                build_gate(
                    f"target{i}",
                    url,
                    timeout=durations.get("--attempt-timeout", 5.0),
                    critical=True,
                    startup_only=True,
                    failure_threshold=1,
                )
            )
        except GateUrlError as exc:
            if ":" in target:
                bad_targets.append((i, target, str(exc)))
                continue
            # no URL has no colon: a command without the `--` before it (`wait tcp://db:5432 migrate`)
            loose = (i, list(args.targets[i - 1 :]))
            break
    register(s for arg in command for s in secrets_in_text(arg))  # as `load_config` does for the app's
    if loose is not None:
        register(s for arg in loose[1] for s in secrets_in_text(arg))

    def shown(text: str) -> str:  # a value from outside, masked on its own once every secret is known
        return redact_text(mask_unparsed(text))

    problems = [f"{flag}={shown(text)}: expected {why}" for flag, text, why in bad_durations]
    problems += [f"target {i} ({shown(target)}): {why}" for i, target, why in bad_targets]
    if loose is not None:
        i, words = loose
        problems.append(
            f"target {i} ({shown(words[0])}) is not a URL: put the command after --: "
            f"{PROG} wait [options] TARGET... -- {shown_command([mask_unparsed(w) for w in words])}"
        )
    if problems:
        return _fail_config(problems)
    # Every secret is registered only now (a `cmd:` target may hold another target's password), so
    # the shown forms are masked here, once, for every line and the JSON, as `load_config` does:
    # a command word by word, behind our "cmd:"
    specs = [
        replace(spec, display="cmd:" + shown_command(spec.argv) if spec.kind == "cmd" else redact_text(spec.display))
        for spec in specs
    ]
    # with --json, stdout carries the one JSON document, and with a command after --, that
    # command's output: wait's own lines (ready:, still waiting for) go to stderr then
    progress = sys.stderr if args.json or command else sys.stdout
    export_file_variables(from_files, os.environ)  # config: targets and CMD see VAR, as under `run`

    async def wait() -> int:
        snapshot, stopped_by, passed = await waitcmd.wait_for(
            tuple(specs),
            deadline=durations["--timeout"],
            backoff=Backoff(0.1, 2.0),
            emit=lambda line: _write(progress, line + "\n"),
        )
        if args.json:
            _write(sys.stdout, waitcmd.report_json(snapshot, passed))
        if stopped_by is not None:
            return _done(exitcodes.from_signal(stopped_by))
        if not passed:
            for line in waitcmd.failures(snapshot):
                _say(line)
            if any(g.final for g in snapshot.gates):
                _say(f"{PROG}: wait: a target cannot pass before a restart (exit {exitcodes.CHECK_FAILED})")
                return _done(exitcodes.CHECK_FAILED)
            _say(f"{PROG}: wait: not every target passed within {args.timeout} (exit {exitcodes.TIMED_OUT})")
            return _done(exitcodes.TIMED_OUT)
        if command:
            return waitcmd.become(command)
        return _done(exitcodes.OK)

    return anyio.run(wait)


def _done(code: int) -> int:
    """Exit at once when running as the real process, from inside the event loop: closing the
    loop would join the default executor's threads, and one may be stuck in a system call (a
    name lookup whose resolver never answers). In-process callers get the code back."""
    if _standalone:
        _finish(code)
    return code


def effective(config: "Config") -> dict[str, Any]:
    """The configuration as it will be used, every secret replaced by ***.

    Each string is masked on its own, before anything is rendered: masking rendered JSON could
    turn a password such as ``true`` into broken JSON.
    """
    from supervisor.config.settings import Settings
    from supervisor.config.urlparts import mask_unparsed
    from supervisor.core.durations import format_duration
    from supervisor.core.redaction import redact_text

    def shown(value: str | None) -> str | None:
        return None if value is None else redact_text(mask_unparsed(value))

    settings: dict[str, Any] = {}
    for name, field in Settings.model_fields.items():
        value = getattr(config.settings, name)
        if isinstance(value, float) and field.annotation is float:
            value = format_duration(value)
        elif isinstance(value, str):
            value = shown(value)
        settings[name] = value
    settings["command"] = [redact_text(a) for a in config.command] or None
    gates = {
        g.name: {
            "url": g.display,
            "kind": g.kind,
            "timeout": format_duration(g.timeout),
            "critical": g.critical,
            "startup_only": g.startup_only,
            "failure_threshold": g.failure_threshold,
            "after": list(g.after),
            **({"skipped": g.skipped_because} if g.skipped_because else {}),
            **({"unresolved": g.unresolved} if g.unresolved else {}),
        }
        for g in config.gates
    }
    out: dict[str, Any] = {"config_file": shown(config.config_file), **settings, "gates": gates}
    out["prestart"] = {
        t.name: {
            "command": [redact_text(a) for a in t.argv],
            "after": list(t.after),
            "timeout": format_duration(t.timeout) if t.timeout is not None else None,
        }
        for t in config.prestart
    }
    out["app_probe"] = config.app_probe.display if config.app_probe else None
    out["app_probe_source"] = config.app_probe_source
    return out


def _shown_value(key: str, value: object) -> str:
    """A value of ``config``'s text form as the file would hold it: ``true``, ``30s``, a command
    quoted as a shell would read it, ``-`` for none."""
    import shlex

    if value is None or value == []:
        return "-"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        words = [str(v) for v in value]
        return shlex.join(words) if key == "command" else ", ".join(words)
    return str(value)


def _config(config: "Config", *, as_json: bool) -> int:
    data = effective(config)
    if as_json:
        _write(sys.stdout, json.dumps(data, indent=2) + "\n")
    else:
        lines = []
        for key, value in data.items():
            if key in ("gates", "prestart"):
                continue
            lines.append(f"{key:<24} {_shown_value(key, value)}")
        for name, task in data["prestart"].items():
            lines.append(f"prestart {name}:")
            lines += [f"  {key:<22} {_shown_value(key, value)}" for key, value in task.items()]
        for name, gate in data["gates"].items():
            lines.append(f"gate {name}:")
            lines += [f"  {key:<22} {_shown_value(key, value)}" for key, value in gate.items()]
        _write(sys.stdout, "\n".join(lines) + "\n")
    for warning in config.warnings:
        _say(f"warning: {warning}")
    if config.unresolved:  # shown above as unresolved; still a configuration that cannot run
        return _fail_config(config.unresolved)
    return exitcodes.OK
