"""Validated entries turned into what the supervisor runs: gates, pre-start tasks, the app's
command and probe, and the order among them.

Each step returns its value and its problem lines, so that ``load_config`` can report every
problem at once and no step reaches into another's results.
"""

import os
import shutil
import socket
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import TypedDict

from supervisor import gunicorn
from supervisor.config.gatespec import (
    GateSpec,
    GateUrlError,
    UnsetInUrl,
    build_gate,
    env_file_variable,
    expand_url,
    kind_of,
    resolve_env_url,
    shown_command,
    shown_form,
    skip_reason,
    skipped_gate,
)
from supervisor.config.models import GateSettings, Settings, TaskSettings, show, unknown_in, validate
from supervisor.config.secretfiles import SecretFileError
from supervisor.config.secretfiles import read as read_secret
from supervisor.config.sources import GATE_PREFIX, PRESTART_PREFIX, Entry, Value, origin
from supervisor.core import cmdline, graph
from supervisor.core.addresses import url_host
from supervisor.core.checks import task_check_name
from supervisor.core.redaction import redact_text
from supervisor.kinds import registry
from supervisor.kinds.http_url import ANY_RESPONSE
from supervisor.pid1 import held_sockets
from supervisor.pid1.held_sockets import ListenAddress


@dataclass(frozen=True)
class PrestartTask:
    """A command run once before the app starts, when every check it waits for has passed."""

    name: str
    argv: tuple[str, ...]
    source: str  # the variable or file key it came from
    display: str = ""  # the command line with every known secret masked
    after: tuple[str, ...] = ()  # check names it waits for (the graph's)
    timeout: float | None = None  # None: no limit
    written_after: tuple[str, ...] | None = None  # AFTER as configured; None when not given

    @property
    def check_name(self) -> str:
        return task_check_name(self.name)


@dataclass
class Gates:
    """Built gates and what the order and the app need from them besides the specs."""

    specs: list[GateSpec] = field(default_factory=list)
    written_after: dict[str, tuple[str, ...] | None] = field(default_factory=dict)  # AFTER as configured
    origins: dict[str, str] = field(default_factory=dict)  # where a graph problem about a gate points
    from_files: dict[str, str] = field(default_factory=dict)  # see ``Config.from_files``
    unresolved: list[str] = field(default_factory=list)  # see ``Config.unresolved``


def _is_set(environ: Mapping[str, str], name: str) -> bool:
    """Set and not empty: a value of blanks is a variable someone forgot to fill in."""
    return bool(environ.get(name, "").strip())


def _is_given(environ: Mapping[str, str], name: str) -> bool:
    """``name`` is set, or ``name_FILE`` is (the secret-file convention)."""
    return _is_set(environ, name) or _is_set(environ, name + "_FILE")


def _env_url_given(url: str, environ: Mapping[str, str]) -> bool:
    var = url[4:].strip()
    return bool(var) and _is_given(environ, var)


def _only_if_set(gate: str, variable: str) -> str:
    return f"{GATE_PREFIX}{gate.upper()}__ONLY_IF_SET={variable}"


class _Options(TypedDict):
    """What a gate's model says about how it is checked, passed alike to a built or skipped gate."""

    timeout: float
    critical: bool
    startup_only: bool | None
    failure_threshold: int


def _options(model: GateSettings) -> _Options:
    return _Options(
        timeout=model.timeout,
        critical=model.critical,
        startup_only=model.startup_only,
        failure_threshold=model.failure_threshold,
    )


@dataclass(frozen=True)
class _Built:
    """One gate as built, and what it adds to ``Gates`` besides its spec."""

    spec: GateSpec
    from_file: tuple[str, str] | None = None  # (VAR, the URL read from VAR_FILE)
    unresolved: str | None = None  # `config`: the problem line of a URL that needs an unset variable


def _gate(
    name: str, model: GateSettings, origins: Mapping[str, str], environ: Mapping[str, str], keep_unresolved: bool
) -> _Built:
    """One validated gate; its problem is raised (GateUrlError, SecretFileError) so that one
    place words it, naming the file rather than its content when a file held it."""
    # A skipped gate is read, validated and its secrets registered like any other; it is only
    # not checked. Only an env:VAR whose VAR is unset as well cannot be built (no URL at all).
    # VAR_FILE sets VAR as the official images read it (and as the app gets it: export_file_variables)
    given = model.only_if_set and _is_given(environ, model.only_if_set)
    skip = model.only_if_set if model.only_if_set and not given else None
    from_file = None
    if model.url_file is not None:
        url = read_secret(model.url_file)
        if url.startswith("env:"):
            raise GateUrlError("a URL file holds the URL itself, not an env: reference")
    else:
        assert model.url is not None
        if skip and model.url.startswith("env:") and not _env_url_given(model.url, environ):
            return _Built(skipped_gate(name, model.url, skip, **_options(model)))
        try:
            url = resolve_env_url(expand_url(model.url, environ), environ)
        except UnsetInUrl as exc:
            placeholder = skipped_gate(name, show(model.url), skip or exc.variable, **_options(model))
            if skip:
                return _Built(placeholder)
            hint = (
                str(exc)
                if model.url.startswith("env:")
                else f"{exc}, or skip the gate while it is unset with {_only_if_set(name, exc.variable)}"
            )
            if not keep_unresolved:
                raise GateUrlError(hint) from None
            # `config`: shown unresolved, and a problem all the same (a non-zero exit)
            unresolved = replace(placeholder, skipped_because=None, unresolved=f"{exc.variable} is not set")
            return _Built(unresolved, unresolved=f"{origins['url']}={show(model.url)}: {hint}")
        var = env_file_variable(model.url, environ)
        if var is not None:
            from_file = (var, url)
    spec = build_gate(name, url, **_options(model))
    return _Built(replace(spec, skipped_because=skip_reason(skip)) if skip else spec, from_file)


def build_gates(
    gathered: Mapping[str, Entry], environ: Mapping[str, str], file_path: str | None, keep_unresolved: bool
) -> tuple[Gates, list[str]]:
    """The gates, in name order. ``keep_unresolved`` (``config``): a URL that needs an unset
    variable is built unresolved and its problem kept in ``Gates.unresolved``, not refused."""
    built = Gates()
    problems: list[str] = []
    for name, entry in gathered.items():
        values, origins = entry.values, entry.origins
        built.origins[name] = origins.get("after", entry.where("url"))
        if "url" not in values and "url_file" not in values:
            problems.append(
                f"{entry.first} is set but the gate has no URL; set {GATE_PREFIX}{name.upper()} "
                f"(or {GATE_PREFIX}{name.upper()}__URL_FILE), or url in the file"
            )
            continue
        if "url" in values and "url_file" in values:
            problems.append(f"{origins['url']} and {origins['url_file']} both give the gate's URL; keep one")
            continue
        model, invalid = validate(
            GateSettings, values, origins, unknown=unknown_in("gate", GateSettings), file_path=file_path
        )
        problems += invalid
        if model is None:
            continue
        built.written_after[name] = tuple(model.after) if model.after is not None else None
        try:
            one = _gate(name, model, origins, environ, keep_unresolved)
        except SecretFileError as exc:
            problems.append(f"{origins['url_file']}: {exc}")
            continue
        except GateUrlError as exc:
            if model.url_file is not None:  # never show what the file holds
                problems.append(f"{origins['url_file']}={show(model.url_file)}: the URL in the file: {exc}")
            else:
                problems.append(f"{origins['url']}={show(model.url)}: {exc}")
            continue
        built.specs.append(one.spec)
        if one.from_file is not None:
            built.from_files[one.from_file[0]] = one.from_file[1]
        if one.unresolved is not None:
            built.unresolved.append(one.unresolved)
    return built, problems


def _split(command: str | list[str]) -> tuple[str, ...]:
    return tuple(command) if isinstance(command, list) else tuple(cmdline.split(command))


def build_tasks(gathered: Mapping[str, Entry], file_path: str | None) -> tuple[tuple[PrestartTask, ...], list[str]]:
    """The pre-start tasks, in name order: the order they run in unless AFTER says otherwise."""
    tasks: list[PrestartTask] = []
    problems: list[str] = []
    for name, entry in gathered.items():
        where = entry.where("command")
        if "command" not in entry.values:
            problems.append(f"{entry.first} is set but the task has no command; set {PRESTART_PREFIX}{name.upper()}")
            continue
        model, invalid = validate(
            TaskSettings,
            entry.values,
            entry.origins,
            unknown=unknown_in("pre-start task", TaskSettings),
            file_path=file_path,
        )
        problems += invalid
        if model is None:
            continue
        try:
            argv = _split(model.command)
        except ValueError as exc:
            problems.append(f"{where}: cannot split the command like a shell ({exc})")
            continue
        if not argv:
            problems.append(f"{where}: expected a command, e.g. python manage.py migrate --no-input")
            continue
        written = tuple(model.after) if model.after is not None else None
        tasks.append(PrestartTask(name, argv, where, timeout=model.timeout, written_after=written))
    return tuple(tasks), problems


def resolve_order(
    gates: Gates, prestart: tuple[PrestartTask, ...]
) -> tuple[tuple[list[GateSpec], tuple[PrestartTask, ...]], list[str]]:
    """Fill in what each gate and task waits for; an unknown name or a cycle is a problem."""
    written, specs = gates.written_after, gates.specs
    nodes = [
        graph.Node(g.name, False, written.get(g.name), critical=g.critical, skipped=g.skipped_because is not None)
        for g in specs
    ] + [graph.Node(t.name, True, t.written_after) for t in prestart]
    try:
        order = graph.resolve(nodes)
    except graph.GraphError as exc:
        origins = gates.origins | {t.name: t.source for t in prestart}
        return (specs, prestart), [f"{origins.get(exc.node, exc.node)}: {exc}"]
    return (
        [replace(g, after=order[g.name]) for g in specs],
        tuple(replace(t, after=order[t.check_name]) for t in prestart),
    ), []


def app_command(
    settings: Settings, merged: Mapping[str, Value], command: tuple[str, ...]
) -> tuple[tuple[tuple[str, ...], str], list[str]]:
    """The app's argv and where it came from: the words after ``--``, else the COMMAND setting."""
    argv, source = command, "the command after --"
    problems: list[str] = []
    if not argv and settings.command:
        source = origin(merged, "command")
        try:
            argv = tuple(cmdline.split(settings.command))
        except ValueError as exc:
            problems.append(f"{source}: cannot split it like a shell ({exc})")
    return (argv, source), problems


def gunicorn_daemon(argv: tuple[str, ...], source: str, environ: Mapping[str, str]) -> list[str]:
    """A daemonised gunicorn leaves at once: the supervisor would see its app exit while it
    serves on, unsupervised."""
    daemon = gunicorn.daemon_mode(argv, environ)
    if daemon is None:
        return []
    return [
        f"{source}: {daemon} runs gunicorn as a daemon, which leaves the supervisor at once "
        "and serves on unsupervised; remove it (gunicorn stays in the foreground)"
    ]


def app_probe(
    settings: Settings,
    merged: Mapping[str, Value],
    command: tuple[str, ...],
    environ: Mapping[str, str],
    held: Sequence[ListenAddress] = (),
) -> tuple[tuple[GateSpec | None, str | None], list[str]]:
    """The probe of the app itself, and where it came from: APP_PROBE, else gunicorn's --bind.

    From ``--bind`` it is a TCP connect, unless the app is to be acted on when it hangs: the
    kernel accepts connections for a frozen gunicorn (its backlog), so only an answer tells,
    and then any HTTP response counts (the app's ``/`` may well be a 404 or a redirect)."""
    url, source = settings.app_probe, origin(merged, "app_probe")
    if url is not None:
        try:
            url = expand_url(url, environ)
        except GateUrlError as exc:
            return (None, None), [f"{source}={show(url)}: {exc}"]
    acts = settings.on_app_unresponsive != "ignore"
    tcp = next((a for a in held if a.family is not socket.AF_UNIX), None)
    any_response = url is None and (acts or tcp is not None)
    if url is None and tcp is not None:
        # a held socket always connects (the kernel queues for it): only an answer tells
        url, source = f"http://{url_host(tcp.host)}:{tcp.port}/", "APP_LISTEN"
    if url is None:
        url = gunicorn.bind_probe(command, http=acts)
        source = "gunicorn --bind"
        if url is None:
            return (None, None), _unresponsive_without_probe(settings, merged)
        if acts and gunicorn.serves_tls(command):
            where = origin(merged, "on_app_unresponsive")
            return (None, None), [
                f"{where}={settings.on_app_unresponsive}: gunicorn serves TLS (--certfile), so the probe from "
                "its --bind cannot speak to it; set SUPERVISOR_APP_PROBE (--app-probe) to its https:// URL"
            ]
    try:
        spec = build_gate(
            "app-probe",
            url,
            timeout=settings.app_probe_timeout,
            critical=True,
            startup_only=False,
            failure_threshold=1,
        )
    except GateUrlError as exc:
        return (None, None), [f"{source}={show(url)}: {exc}"]
    if not registry.get(spec.kind).app_probe:
        return (None, None), [f"{source}={show(url)}: the app probe must be a tcp:// or http(s):// address"]
    if any_response:
        spec = replace(spec, options=MappingProxyType({**spec.options, ANY_RESPONSE: "1"}))
    return (spec, source), []


def unresponsive_warnings(settings: Settings, merged: Mapping[str, Value], probe: GateSpec | None) -> list[str]:
    """A TCP app probe cannot tell a hung app: the kernel completes the connection for it."""
    if probe is None or settings.on_app_unresponsive == "ignore" or probe.kind != "tcp":
        return []
    where = origin(merged, "on_app_unresponsive")
    return [
        f"{where}={settings.on_app_unresponsive} with a tcp:// app probe: a frozen app still accepts "
        "connections (the kernel queues them), so a hang goes unseen; "
        "set SUPERVISOR_APP_PROBE (--app-probe) to an http:// URL"
    ]


def app_listen(
    settings: Settings, merged: Mapping[str, Value], command: tuple[str, ...], environ: Mapping[str, str]
) -> tuple[tuple[ListenAddress, ...], list[str]]:
    """The app's sockets to hold (``APP_LISTEN``), and what cannot work with them: an address we
    cannot hold, an app we do not know to take them, gunicorn told to bind sockets of its own."""
    if settings.app_listen is None:
        return (), []
    where = origin(merged, "app_listen")
    try:
        held = held_sockets.parse_all(settings.app_listen)
    except held_sockets.ListenError as exc:
        return (), [f"{where}={show(settings.app_listen)}: {exc}"]
    problems = handoff_problems(held, command, environ, settings.app_listen_handoff, where)
    return (held if not problems else ()), problems


def handoff_problems(
    held: Sequence[ListenAddress], command: tuple[str, ...], environ: Mapping[str, str], handoff: str, where: str
) -> list[str]:
    """What keeps ``command`` from taking the ``held`` sockets: checked for APP_LISTEN at load,
    and for sockets given to the supervisor by ``LISTEN_FDS`` when it starts."""
    if handoff == "systemd":
        return []
    if gunicorn.args(command) is None:
        return [
            f"{where}: the app is not gunicorn, and how it takes the held sockets is not known; if it reads "
            "LISTEN_FDS or takes fd 3 (uvicorn --fd 3), set SUPERVISOR_APP_LISTEN_HANDOFF=systemd"
        ]
    problems = []
    reuse = gunicorn.reuse_port(command, environ)
    if reuse is not None:
        problems.append(
            f"{where}: {reuse} makes gunicorn bind fresh sockets in each worker and ignore the held ones; remove it"
        )
    shown = {a.shown for a in held}
    for bind in gunicorn.binds(command):
        try:
            same = held_sockets.parse(bind).shown in shown
        except held_sockets.ListenError:
            same = False
        if not same:
            problems.append(
                f"{where}: gunicorn --bind {show(bind)} is not one of the held addresses "
                f"({', '.join(sorted(shown))}), and gunicorn ignores it when it takes them; remove --bind"
            )
    return problems


def _unresponsive_without_probe(settings: Settings, merged: Mapping[str, Value]) -> list[str]:
    """Acting on a hung app needs a probe that tells it is hung."""
    if settings.on_app_unresponsive == "ignore":
        return []
    where = origin(merged, "on_app_unresponsive")
    return [
        f"{where}={settings.on_app_unresponsive}: there is no app probe to tell that the app hangs; "
        "set SUPERVISOR_APP_PROBE (--app-probe), or start gunicorn with --bind HOST:PORT"
    ]


def missing_program(argv: Sequence[str], origin: str) -> list[str]:
    """One problem line when ``argv[0]`` cannot be executed, looked up as the spawn will: a
    missing program found now is exit 78, not a failure after every gate has passed."""
    if not argv:
        return []
    program = argv[0]
    if "\x00" in program:
        return [f"{origin}: the command holds a NUL byte"]
    if "/" in program:
        if os.path.isfile(program) and os.access(program, os.X_OK):
            return []
        why = "is not an executable file" if os.path.exists(program) else "does not exist"
        return [f"{origin}: {redact_text(program)!r} {why}; fix the path"]
    if shutil.which(program) is not None:
        return []
    return [f"{origin}: {redact_text(program)!r} is not found on PATH; install it or give its full path"]


def gate_programs(gates: Sequence[GateSpec]) -> list[str]:
    return [
        p
        for g in gates
        if (kind := kind_of(g)) is not None and kind.runs_command
        for p in missing_program(g.argv, f"{GATE_PREFIX}{g.name.upper()} ({g.scheme}:)")
    ]


def tcp_level_warnings(gates: Sequence[GateSpec]) -> list[str]:
    """A gate that only knocks where a login was meant would pass wrongly: say so."""
    return [
        f"gate {gate.name}: {gate.url.partition(':')[0].lower()}:// has no driver here and is checked at TCP "
        f"level only (that something listens at {url_host(gate.host)}:{gate.port}, not a login); "
        "a cmd: gate can run its own client"
        for gate in gates
        if (kind := kind_of(gate)) is not None and kind.tcp_level_only
    ]


def masked(
    gates: Sequence[GateSpec], probe: GateSpec | None, prestart: Sequence[PrestartTask]
) -> tuple[tuple[GateSpec, ...], GateSpec | None, tuple[PrestartTask, ...]]:
    """The shown forms, masked once every secret is registered: a command line parsed before
    another gate's URL may still hold that URL's password, so no earlier masking will do."""
    shown = tuple(shown_form(g) for g in gates)
    if probe is not None:
        probe = replace(probe, display=redact_text(probe.display))
    return shown, probe, tuple(replace(t, display=shown_command(t.argv)) for t in prestart)
