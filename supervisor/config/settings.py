"""Configuration: command-line flags > environment (``SUPERVISOR_*``) > TOML file > defaults.

Everything is validated before anything starts. A problem never becomes a traceback: it becomes
one line naming the environment variable (or file key, or flag) and what is accepted, and the
command exits 78. The three sources are merged here into values that each know their origin
(``--health-port``, ``SUPERVISOR_HEALTH_PORT``, ``file.toml: key 'health_port'``), then validated
by plain pydantic models; every hint in an error line is derived from the field it concerns. Gates
and pre-start tasks are families of variables (``SUPERVISOR_GATE_<NAME>[__FIELD]``), gathered
the same way and validated by their own models.
"""

import os
import re
import shlex
import shutil
import tomllib
from collections.abc import Callable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar, get_args, get_origin

import annotated_types
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, ValidationInfo, WithJsonSchema

from supervisor import gunicorn
from supervisor.config.gatespec import (
    GateSpec,
    GateUrlError,
    UnsetInUrl,
    build_gate,
    env_file_variable,
    expand_url,
    resolve_env_url,
    shown_command,
    skip_reason,
    skipped_gate,
)
from supervisor.config.secretfiles import NotRegularError, SecretFileError, read_regular
from supervisor.config.secretfiles import read as read_secret
from supervisor.core import cmdline, graph
from supervisor.core.addresses import url_host
from supervisor.core.checks import task_check_name
from supervisor.core.durations import ACCEPTED as DURATION_ACCEPTED
from supervisor.core.durations import ACCEPTED_OR_ZERO as DURATION_OR_ZERO_ACCEPTED
from supervisor.core.durations import parse_duration, parse_duration_or_zero
from supervisor.core.redaction import redact_text, register, shorten
from supervisor.kinds import registry
from supervisor.kinds.registry import ACCEPTED_URLS
from supervisor.kinds.urls import mask_unparsed, secrets_in_text

PREFIX = "SUPERVISOR_"
GATE_PREFIX = PREFIX + "GATE_"
PRESTART_PREFIX = PREFIX + "PRESTART_"
CONFIG_ENV = PREFIX + "CONFIG"

Duration = Annotated[
    float,
    BeforeValidator(parse_duration),
    WithJsonSchema({"type": ["string", "number"], "description": DURATION_ACCEPTED}),
]


_ASCII_WHOLE = re.compile(r"\s*[0-9]+\s*", re.ASCII)


def _from_file(info: ValidationInfo) -> bool:
    context = info.context or {}
    return info.field_name in context.get("file_keys", ())


def _whole_number(value: object, info: ValidationInfo) -> object:
    """One rule for every number: a TOML integer in the file (not 9000.0, not "9000", not true),
    ASCII digits in a string (not Arabic-Indic digits, 9_000 or +9000, which int() would take)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and not _from_file(info) and _ASCII_WHOLE.fullmatch(value):
        return int(value)
    raise ValueError("a whole number")


def _boolean(value: object, info: ValidationInfo) -> object:
    """A TOML boolean in the file (not "yes", not 1); a string elsewhere, read by pydantic."""
    if value is None or isinstance(value, bool) or (isinstance(value, str) and not _from_file(info)):
        return value
    raise ValueError("true or false")


WholeNumber = Annotated[int, BeforeValidator(_whole_number)]
Boolean = Annotated[bool, BeforeValidator(_boolean)]
_TOML_TYPES = {int: "a TOML integer", bool: "a TOML boolean, unquoted"}


def _name_list(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


NameList = Annotated[
    list[Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]+$")]] | None,
    BeforeValidator(_name_list),
    WithJsonSchema(
        {
            "anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}],
            "description": "comma-separated gate and pre-start task names, e.g. db,cache",
        }
    ),
]
DurationOrZero = Annotated[
    float,
    BeforeValidator(parse_duration_or_zero),
    WithJsonSchema({"type": ["string", "number"], "description": DURATION_OR_ZERO_ACCEPTED}),
]


_CONTROLS = {c: f"\\x{c:02x}" for c in (*range(0x20), 0x7F)} | {0x0A: "\\n", 0x0D: "\\r", 0x09: "\\t"}


class ConfigError(Exception):
    """One or more configuration problems, each one line: a value quoted in it may hold a
    newline or another control character (an environment variable can), shown escaped."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = [p.translate(_CONTROLS) for p in problems]
        super().__init__("\n".join(self.problems))


class Settings(BaseModel):
    """The supervisor's scalar settings; each field is ``SUPERVISOR_<FIELD>`` in the environment."""

    model_config = ConfigDict(extra="forbid")

    health_host: str = Field(
        "0.0.0.0",
        min_length=1,
        pattern=r"^[^\s]+$",
        description="address the health endpoints listen on",
        json_schema_extra={"accepted": "an address such as 0.0.0.0, 127.0.0.1 or ::"},
    )
    health_port: WholeNumber = Field(8081, ge=1, le=65535, description="port of the health endpoints")
    health_max_connections: WholeNumber = Field(
        256,
        ge=8,
        le=10000,
        description="open health connections kept at most; the oldest idle one is dropped",
    )
    health_idle_timeout: Duration = Field(5.0, description="an idle or slow health connection is closed after this")
    health_reasons: Literal["all", "loopback"] = Field(
        "all",
        description="who is told why checks fail: `all` callers, or `loopback` ones only (others read "
        "`reason withheld`, as from the Kubernetes API server)",
    )
    command: str | None = Field(None, description="command to spawn when none follows `--`; split like a shell")
    startup_timeout: Duration = Field(60.0, description="how long the gates may take before the startup verdict")
    on_startup_timeout: Literal["degraded", "exit"] = Field(
        "degraded", description="`degraded`: stay up, not ready, keep retrying; `exit`: exit 69"
    )
    backoff_initial: Duration = Field(0.1, description="first retry delay")
    backoff_max: Duration = Field(2.0, description="longest retry delay")
    check_interval: Duration = Field(10.0, description="how often gates are re-checked once the app runs")
    stop_timeout: Duration = Field(30.0, description="after a stop signal, how long the child may take before SIGKILL")
    drain_delay: DurationOrZero = Field(
        0.0, description="after SIGTERM, readiness is off at once but the app keeps serving this long"
    )
    restart: Literal["never", "on-failure", "always"] = Field(
        "never", description="restart the app when it exits: never, on-failure (non-zero exit) or always"
    )
    restart_limit: WholeNumber = Field(
        5, ge=0, description="restarts at most within RESTART_WINDOW, then ON_RESTART_LIMIT"
    )
    restart_window: Duration = Field(
        600.0,
        description="restarts older than this no longer count against RESTART_LIMIT: an app that ran "
        "this long without one starts with a fresh count",
    )
    on_restart_limit: Literal["exit", "degraded"] = Field(
        "exit", description="`exit` with the app's last code, or `degraded`: stay up, not ready"
    )
    subreaper: Boolean = Field(
        False, description="reap orphans as a child subreaper even when not PID 1 (PR_SET_CHILD_SUBREAPER)"
    )
    app_probe: str | None = Field(
        None, description="tcp:// or http(s):// address of the app; ready also means the app answers it"
    )
    app_probe_timeout: Duration = Field(2.0, description="limit for one app probe attempt")
    log_level: Literal["debug", "info", "warning", "error"] = Field("info", description="the supervisor's log level")
    log_format: Literal["json", "text"] | None = Field(
        None, description="`json` or `text`; default: json when stderr is not a terminal"
    )


class GateSettings(BaseModel):
    """One ``[gates.NAME]`` table, or the ``SUPERVISOR_GATE_<NAME>*`` variables."""

    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(None, description=f"what to check: {ACCEPTED_URLS}")
    url_file: str | None = Field(
        None,
        min_length=1,
        description="a file holding the URL (a Docker or Kubernetes secret), instead of url",
        json_schema_extra={"accepted": "the path of a file that holds the URL"},
    )
    timeout: Duration = Field(5.0, description="limit for one attempt, whatever hangs")
    critical: Boolean = Field(True, description="a non-critical gate is reported but never holds readiness")
    startup_only: Boolean | None = Field(
        None, description="not re-checked once it passed; default true for cmd: and config:, else false"
    )
    failure_threshold: WholeNumber = Field(
        1, ge=1, description="consecutive failed re-checks before a passing gate fails"
    )
    only_if_set: str | None = Field(
        None,
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
        description="check the gate only when this environment variable is set and not empty; else it is skipped",
        json_schema_extra={"accepted": "an environment variable name, e.g. REDIS_URL"},
    )
    after: NameList = Field(
        None, description="gates and pre-start tasks to wait for before the first attempt (comma-separated)"
    )


class TaskSettings(BaseModel):
    """One pre-start task: ``[prestart.NAME]``, or the ``SUPERVISOR_PRESTART_<NAME>*`` variables."""

    model_config = ConfigDict(extra="forbid")

    command: str | list[str] = Field(
        description="the command, split like a shell; or a list of arguments",
        json_schema_extra={"accepted": "a command line, or a list of arguments"},
    )
    after: NameList = Field(
        None,
        description="gates and pre-start tasks to wait for (comma-separated); "
        "default: every critical gate and the task before this one",
    )
    timeout: Duration | None = Field(None, description="the task is killed and fails after this; default: no limit")


class FileSchema(BaseModel):
    """The TOML file's shape, for ``supervisor config --schema``."""

    model_config = ConfigDict(extra="forbid", title="container-supervisor configuration")


def _bases(annotation: Any) -> tuple[Any, ...]:
    """The types an annotation stands for: ``int`` for ``int``, ``bool`` for ``Boolean | None``."""
    found = [annotation, *get_args(annotation)]
    return tuple(get_args(t)[0] if get_origin(t) is Annotated else t for t in found)


def _listed(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def accepted(model: type[BaseModel], name: str, pydantic_msg: str = "a valid value") -> str:
    """What the field ``name`` of ``model`` accepts, in words, read off the field itself: an
    ``accepted`` note, a documented type (durations, name lists), its literals, its bounds."""
    field = model.model_fields.get(name)
    if field is None:
        return pydantic_msg
    extra = field.json_schema_extra
    if isinstance(extra, dict) and isinstance(extra.get("accepted"), str):
        return str(extra["accepted"])
    for meta in field.metadata:
        if isinstance(meta, WithJsonSchema) and meta.json_schema and "description" in meta.json_schema:
            return str(meta.json_schema["description"])
    annotation = field.annotation
    choices = [a for a in get_args(annotation) if a is not type(None)]
    bases = [get_args(c)[0] if get_origin(c) is Annotated else c for c in choices]  # Boolean | None
    for choice in choices:  # an optional documented type: Duration | None
        for meta in getattr(choice, "__metadata__", ()):
            if isinstance(meta, WithJsonSchema) and meta.json_schema and "description" in meta.json_schema:
                return str(meta.json_schema["description"])
    if get_origin(annotation) is Literal:
        return _listed([str(c) for c in choices])
    literal = next((c for c in choices if get_origin(c) is Literal), None)
    if literal is not None:
        return _listed([str(c) for c in get_args(literal)])
    if annotation is bool or bool in bases:
        return "true or false"
    if annotation is int:
        low = next((m.ge for m in field.metadata if isinstance(m, annotated_types.Ge)), None)
        high = next((m.le for m in field.metadata if isinstance(m, annotated_types.Le)), None)
        if low is not None and high is not None:
            return f"a whole number from {low} to {high}"
        return f"a whole number >= {low}" if low is not None else "a whole number"
    return pydantic_msg


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


@dataclass(frozen=True)
class Config:
    """The whole validated configuration of one supervisor invocation."""

    settings: Settings
    gates: tuple[GateSpec, ...]
    command: tuple[str, ...] = ()
    app_probe: GateSpec | None = None
    app_probe_source: str | None = None  # "SUPERVISOR_APP_PROBE" or "gunicorn --bind"
    config_file: str | None = None
    warnings: tuple[str, ...] = field(default_factory=tuple)
    prestart: tuple[PrestartTask, ...] = ()
    # ``env:VAR`` gates whose URL came from ``VAR_FILE``: the app gets ``VAR`` with the file's
    # content and no ``VAR_FILE``, as the official images' entrypoints do (``export_file_variables``)
    from_files: Mapping[str, str] = field(default_factory=dict)
    unresolved: tuple[str, ...] = ()  # `config`: problem lines of gates whose URL needs an unset variable


@dataclass(frozen=True)
class Value:
    """A setting's value as given, and where it was given, as an error line names it."""

    value: Any
    origin: str


def merge(
    cli: Mapping[str, Any], environ: Mapping[str, str], path: str | None, file_values: Mapping[str, Any]
) -> dict[str, Value]:
    """Flags over environment over file, per setting. Unknown file keys are kept, so that the
    model refuses them; unknown variables only earn a warning (see ``load_config``)."""
    env_names = {name.upper(): name for name in environ}
    merged: dict[str, Value] = {}
    for key, value in file_values.items():
        merged[key] = Value(value, f"{path}: key '{key}'")
    for name in Settings.model_fields:
        var = env_names.get((PREFIX + name).upper())
        if name in cli:
            merged[name] = Value(cli[name], "--" + name.replace("_", "-"))
        elif var is not None:
            merged[name] = Value(environ[var], var)
    return merged


def _origin(merged: Mapping[str, Value], name: str) -> str:
    return merged[name].origin if name in merged else name


M = TypeVar("M", bound=BaseModel)


def _unknown_in(noun: str, model: type[BaseModel]) -> Callable[[str, str], str]:
    known = ", ".join(model.model_fields)
    return lambda origin, key: f"{origin}: unknown {noun} setting {key!r}; accepted: {known}"


def _validate(
    model: type[M],
    values: Mapping[str, Any],
    origins: Mapping[str, str],
    problems: list[str],
    *,
    unknown: Callable[[str, str], str],
    file_path: str | None = None,
) -> M | None:
    """``values`` validated by ``model``, or None with one problem line per setting: where it was
    given, what it was, and what the field accepts (``unknown(origin, key)`` words an extra key).
    Values whose origin is in the file at ``file_path`` must have the field's TOML type."""
    file_keys = frozenset(k for k, o in origins.items() if file_path and o.startswith(f"{file_path}: "))
    try:
        return model.model_validate(values, context={"file_keys": file_keys})
    except ValidationError as exc:
        reported: set[str] = set()
        for err in exc.errors():
            attr = str(err["loc"][0]) if err["loc"] else "?"
            if attr in reported:  # one line per setting, also when several types were tried
                continue
            reported.add(attr)
            origin = origins.get(attr, attr)
            if err["type"] == "extra_forbidden":
                problems.append(unknown(origin, attr))
            else:
                wanted = accepted(model, attr, err["msg"])
                field = model.model_fields.get(attr)
                base = next((t for t in _TOML_TYPES if field and t in _bases(field.annotation)), None)
                if attr in file_keys and base is not None:
                    wanted += f" ({_TOML_TYPES[base]})"
                problems.append(f"{origin}={_show(values.get(attr))}: expected {wanted}")
        return None


def _show(value: Any) -> str:
    """A value for an error line: every known secret and any URL password masked, kept short."""
    text = value if isinstance(value, str) else repr(value)
    return shorten(mask_unparsed(text), 200)  # masked whole, then cut


def _nul_keys(value: Any, key: str = "") -> list[str]:
    """Keys of the file whose string values hold a NUL byte (no program can take one)."""
    if isinstance(value, str):
        return [key] if "\x00" in value else []
    if isinstance(value, dict):
        return [k for name, item in value.items() for k in _nul_keys(item, f"{key}.{name}" if key else name)]
    if isinstance(value, list):
        return [k for item in value for k in _nul_keys(item, key)]
    return []


def _read_file(path: str) -> dict[str, Any]:
    try:
        values = tomllib.loads(read_regular(path).decode("utf-8"))  # a FIFO must not hang us
    except FileNotFoundError:
        raise ConfigError(
            [f"{CONFIG_ENV} / --config: file {path} does not exist; give an existing TOML file"]
        ) from None
    except NotRegularError as exc:
        raise ConfigError([f"{CONFIG_ENV} / --config: {exc}; give a TOML file"]) from None
    except OSError as exc:
        raise ConfigError([f"{CONFIG_ENV} / --config: cannot read {path}: {exc.strerror}"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{path}: not valid TOML ({exc}); see docs/configuration.md"]) from None
    except UnicodeDecodeError as exc:
        raise ConfigError([f"{path}: not UTF-8 text (byte {exc.start}); TOML files must be UTF-8"]) from None
    bad = _nul_keys(values)
    if bad:
        raise ConfigError([f"{path}: key '{k}' holds a NUL byte; remove it" for k in bad])
    return values


def _gather_gates(
    file_gates: Any, file_path: str | None, environ: Mapping[str, str], problems: list[str]
) -> dict[str, tuple[dict[str, Any], dict[str, str]]]:
    """name -> (raw values, where each value came from); environment overrides the file per key."""
    gates: dict[str, tuple[dict[str, Any], dict[str, str], str]] = {}
    if file_gates is not None:
        if not isinstance(file_gates, dict):
            problems.append(f"{file_path}: key 'gates' must be a table of [gates.NAME] tables")
        else:
            for name, table in file_gates.items():
                key = f"{file_path}: [gates.{name}]"
                if isinstance(table, str):
                    table = {"url": table}
                if not isinstance(table, dict) or not table:
                    problems.append(f'{key} must be a table with at least url = "..." or a URL string')
                    continue
                if name.lower() in gates:
                    problems.append(
                        f"{key} and [gates.{gates[name.lower()][2]}] name the same gate "
                        f"(names are not case-sensitive); keep one"
                    )
                    continue
                gates[name.lower()] = (dict(table), {k: f"{key} {k}" for k in table}, name)
    from_env: dict[tuple[str, str], str] = {}
    for var in sorted(environ):
        if not var.upper().startswith(GATE_PREFIX):
            continue
        rest = var[len(GATE_PREFIX) :]
        name, sep, attr = rest.partition("__")
        name, attr = name.lower(), attr.lower() if sep else "url"
        if (name, attr) in from_env:
            problems.append(
                f"{from_env[name, attr]} and {var} set the same gate setting (variable names are not "
                "case-sensitive here); keep one"
            )
            continue
        from_env[name, attr] = var
        values, origins, _ = gates.setdefault(name, ({}, {}, name))
        values[attr] = environ[var]
        origins[attr] = var
    return {name: (values, origins) for name, (values, origins, _) in gates.items()}


def _gather_prestart(
    file_tasks: Any, file_path: str | None, environ: Mapping[str, str], problems: list[str]
) -> tuple[PrestartTask, ...]:
    """``SUPERVISOR_PRESTART_<NAME>[__FIELD]`` and ``[prestart]`` (``name = "command"`` or a
    ``[prestart.NAME]`` table); the environment wins per key. Tasks run in name order by default."""
    raw: dict[str, tuple[dict[str, Any], dict[str, str], str]] = {}
    if file_tasks is not None:
        if not isinstance(file_tasks, dict):
            problems.append(f"{file_path}: key 'prestart' must be a table of name = \"command\"")
        else:
            for name, value in file_tasks.items():
                key = f"{file_path}: [prestart] {name}"
                if name.lower() in raw:
                    problems.append(
                        f"{key} and {raw[name.lower()][2]} name the same task (names are not case-sensitive); keep one"
                    )
                    continue
                table = value if isinstance(value, dict) else {"command": value}
                origins = {k: key if k == "command" and not isinstance(value, dict) else f"{key}.{k}" for k in table}
                raw[name.lower()] = (dict(table), origins, key)
    from_env: dict[tuple[str, str], str] = {}
    for var in sorted(environ):
        if not var.upper().startswith(PRESTART_PREFIX):
            continue
        name, sep, attr = var[len(PRESTART_PREFIX) :].partition("__")
        name, attr = name.lower(), attr.lower() if sep else "command"
        if (name, attr) in from_env:
            problems.append(f"{from_env[name, attr]} and {var} set the same pre-start task setting; keep one")
            continue
        from_env[name, attr] = var
        values, origins, _ = raw.setdefault(name, ({}, {}, var))
        values[attr] = environ[var]
        origins[attr] = var
    tasks = []
    for name in sorted(raw):
        values, origins, first = raw[name]
        where = origins.get("command", first)
        if not _valid_name(name):
            problems.append(f"{where}: pre-start task name {name!r} must use only letters, digits and _")
            continue
        if "command" not in values:
            problems.append(f"{first} is set but the task has no command; set {PRESTART_PREFIX}{name.upper()}")
            continue
        model = _validate(
            TaskSettings,
            values,
            origins,
            problems,
            unknown=_unknown_in("pre-start task", TaskSettings),
            file_path=file_path,
        )
        if model is None:
            continue
        command = model.command
        try:
            argv = tuple(command) if isinstance(command, list) else tuple(cmdline.split(command))
        except ValueError as exc:
            problems.append(f"{where}: cannot split the command like a shell ({exc})")
            continue
        if not argv:
            problems.append(f"{where}: expected a command, e.g. python manage.py migrate --no-input")
            continue
        written = tuple(model.after) if model.after is not None else None
        tasks.append(PrestartTask(name, argv, where, timeout=model.timeout, written_after=written))
    return tuple(tasks)


def _resolve_order(
    gates: list[GateSpec],
    written: Mapping[str, tuple[str, ...] | None],
    prestart: tuple[PrestartTask, ...],
    origins: Mapping[str, str],
    problems: list[str],
) -> tuple[list[GateSpec], tuple[PrestartTask, ...]]:
    """Fill in what each gate and task waits for; an unknown name or a cycle is a problem."""
    nodes = [
        graph.Node(g.name, False, written.get(g.name), critical=g.critical, skipped=g.skipped_because is not None)
        for g in gates
    ] + [graph.Node(t.name, True, t.written_after) for t in prestart]
    try:
        order = graph.resolve(nodes)
    except graph.GraphError as exc:
        problems.append(f"{origins.get(exc.node, exc.node)}: {exc}")
        return gates, prestart
    return (
        [replace(g, after=order[g.name]) for g in gates],
        tuple(replace(t, after=order[t.check_name]) for t in prestart),
    )


def _valid_name(name: str) -> bool:
    return bool(name) and all(c.isalnum() or c == "_" for c in name) and name.isascii()


def _build_gates(
    gathered: dict[str, tuple[dict[str, Any], dict[str, str]]],
    environ: Mapping[str, str],
    problems: list[str],
    written_after: dict[str, tuple[str, ...] | None],
    after_origins: dict[str, str],
    file_path: str | None = None,
    from_files: dict[str, str] | None = None,
    unresolved: list[str] | None = None,
) -> list[GateSpec]:
    specs: list[GateSpec] = []
    for name in sorted(gathered):
        values, origins = gathered[name]
        where = origins.get("url") or next(iter(origins.values()), name)
        after_origins[name] = origins.get("after", where)
        if not _valid_name(name):
            problems.append(f"{where}: gate name {name!r} must use only letters, digits and _")
            continue
        if "url" not in values and "url_file" not in values:
            first = next(iter(origins.values()))
            problems.append(
                f"{first} is set but the gate has no URL; set {GATE_PREFIX}{name.upper()} "
                f"(or {GATE_PREFIX}{name.upper()}__URL_FILE), or url in the file"
            )
            continue
        if "url" in values and "url_file" in values:
            problems.append(f"{origins['url']} and {origins['url_file']} both give the gate's URL; keep one")
            continue
        model = _validate(
            GateSettings, values, origins, problems, unknown=_unknown_in("gate", GateSettings), file_path=file_path
        )
        if model is None:
            continue
        written_after[name] = tuple(model.after) if model.after is not None else None
        # A skipped gate is read, validated and its secrets registered like any other; it is only
        # not checked. Only an env:VAR whose VAR is unset as well cannot be built (no URL at all).
        # VAR_FILE sets VAR as the official images read it (and as the app gets it: export_file_variables)
        given = model.only_if_set and _is_given(environ, model.only_if_set)
        skip = model.only_if_set if model.only_if_set and not given else None
        try:
            if model.url_file is not None:
                url = read_secret(model.url_file)
                if url.startswith("env:"):
                    raise GateUrlError("a URL file holds the URL itself, not an env: reference")
            else:
                assert model.url is not None
                if skip and model.url.startswith("env:") and not _env_url_given(model.url, environ):
                    specs.append(
                        skipped_gate(
                            name,
                            model.url,
                            skip,
                            timeout=model.timeout,
                            critical=model.critical,
                            startup_only=model.startup_only,
                            failure_threshold=model.failure_threshold,
                        )
                    )
                    continue
                try:
                    url = resolve_env_url(expand_url(model.url, environ), environ)
                except UnsetInUrl as exc:
                    placeholder = skipped_gate(
                        name,
                        _show(model.url),
                        skip or exc.variable,
                        timeout=model.timeout,
                        critical=model.critical,
                        startup_only=model.startup_only,
                        failure_threshold=model.failure_threshold,
                    )
                    if skip:
                        specs.append(placeholder)
                        continue
                    hint = (
                        str(exc)
                        if model.url.startswith("env:")
                        else f"{exc}, or skip the gate while it is unset with {_only_if_set(name, exc.variable)}"
                    )
                    if unresolved is None:
                        raise GateUrlError(hint) from None
                    # `config`: shown unresolved, and a problem all the same (a non-zero exit)
                    unresolved.append(f"{origins['url']}={_show(model.url)}: {hint}")
                    specs.append(replace(placeholder, skipped_because=None, unresolved=f"{exc.variable} is not set"))
                    continue
                var = env_file_variable(model.url, environ)
                if var is not None and from_files is not None:
                    from_files[var] = url
            spec = build_gate(
                name,
                url,
                timeout=model.timeout,
                critical=model.critical,
                startup_only=model.startup_only,
                failure_threshold=model.failure_threshold,
            )
            specs.append(replace(spec, skipped_because=skip_reason(skip)) if skip else spec)
        except SecretFileError as exc:
            problems.append(f"{origins['url_file']}: {exc}")
        except GateUrlError as exc:
            if model.url_file is not None:  # never show what the file holds
                problems.append(f"{origins['url_file']}={_show(model.url_file)}: the URL in the file: {exc}")
            else:
                problems.append(f"{origins['url']}={_show(model.url)}: {exc}")
    return specs


def _only_if_set(gate: str, variable: str) -> str:
    return f"{GATE_PREFIX}{gate.upper()}__ONLY_IF_SET={variable}"


def _is_set(environ: Mapping[str, str], name: str) -> bool:
    """Set and not empty: a value of blanks is a variable someone forgot to fill in."""
    return bool(environ.get(name, "").strip())


def _is_given(environ: Mapping[str, str], name: str) -> bool:
    """``name`` is set, or ``name_FILE`` is (the secret-file convention)."""
    return _is_set(environ, name) or _is_set(environ, name + "_FILE")


def _env_url_given(url: str, environ: Mapping[str, str]) -> bool:
    var = url[4:].strip()
    return bool(var) and _is_given(environ, var)


def _app_probe(
    settings: Settings,
    merged: Mapping[str, Value],
    command: tuple[str, ...],
    problems: list[str],
    environ: Mapping[str, str],
) -> tuple[GateSpec | None, str | None]:
    url, source = settings.app_probe, _origin(merged, "app_probe")
    if url is not None:
        try:
            url = expand_url(url, environ)
        except GateUrlError as exc:
            problems.append(f"{source}={_show(url)}: {exc}")
            return None, None
    if url is None:
        url = gunicorn.bind_probe(command)
        source = "gunicorn --bind"
        if url is None:
            return None, None
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
        problems.append(f"{source}={_show(url)}: {exc}")
        return None, None
    if not registry.get(spec.kind).app_probe:
        problems.append(f"{source}={_show(url)}: the app probe must be a tcp:// or http(s):// address")
        return None, None
    return spec, source


def _case_duplicates(environ: Mapping[str, str]) -> list[str]:
    """Settings spelled twice with different case: which one wins would be an accident."""
    seen: dict[str, str] = {}
    problems = []
    for var in sorted(environ):
        up = var.upper()
        if not up.startswith(PREFIX) or up.startswith((GATE_PREFIX, PRESTART_PREFIX)):
            continue
        if up in seen:
            problems.append(f"{seen[up]} and {var} set the same setting (names are not case-sensitive); keep one")
        seen[up] = var
    return problems


def _missing_program(argv: Sequence[str], origin: str) -> list[str]:
    """One problem line when ``argv[0]`` cannot be executed, looked up as the spawn will."""
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


def _register_every_secret_first(
    environ: Mapping[str, str],
    cli: Mapping[str, Any],
    file_values: Mapping[str, Any],
    file_gates: object,
    file_prestart: object,
    command: Sequence[str],
) -> None:
    """Every secret in every value given, registered before any problem line is composed: a
    line about one setting may quote a value that holds another setting's password (gate B's
    password written into gate A's bad value), and masking only what was registered so far would
    show it. Read liberally and never judged here: validation comes after."""

    def strings(value: object) -> list[str]:
        if isinstance(value, str):
            return [value]
        if isinstance(value, Mapping):
            return [text for item in value.values() for text in strings(item)]
        if isinstance(value, list | tuple):
            return [text for item in value for text in strings(item)]
        return []

    values = [v for k, v in environ.items() if k.upper().startswith(PREFIX)]
    values += [environ[v[4:]] for v in values if v.startswith("env:") and v[4:] in environ]  # env:VAR gates
    values += strings(dict(cli)) + strings(dict(file_values)) + strings(file_gates) + strings(file_prestart)
    values += list(command)
    register(secret for text in values for secret in secrets_in_text(text))


def load_config(
    *,
    environ: Mapping[str, str] | None = None,
    cli: Mapping[str, Any] | None = None,
    config_file: str | None = None,
    command: Sequence[str] = (),
    check_programs: bool = False,
    unresolved_ok: bool = False,
) -> Config:
    """Validate everything and return it, or raise ``ConfigError`` with every problem found.

    ``check_programs`` (``run`` and ``check``): the programs of the app, of ``cmd:`` gates and of
    pre-start tasks must exist now, not only when their turn comes after the gates.
    ``unresolved_ok`` (``config``): a gate whose URL needs a variable that is not set is built
    unresolved and its problem put in ``Config.unresolved``, so that the rest can be shown (CI
    lints a configuration without the real secrets).
    """
    environ = dict(os.environ if environ is None else environ)
    cli = {k: v for k, v in (cli or {}).items() if v is not None}
    path = config_file or environ.get(CONFIG_ENV) or None
    file_values: dict[str, Any] = _read_file(path) if path else {}
    file_gates = file_values.pop("gates", None)
    file_prestart = file_values.pop("prestart", None)
    problems: list[str] = []
    file_command = file_values.get("command")
    if isinstance(file_command, list) and file_command and all(isinstance(a, str) for a in file_command):
        file_values["command"] = shlex.join(file_command)  # a TOML array is the unambiguous spelling
    _register_every_secret_first(environ, cli, file_values, file_gates, file_prestart, command)
    merged = merge(cli, environ, path, file_values)
    problems += _case_duplicates(environ)

    settings = _validate(
        Settings,
        {name: v.value for name, v in merged.items()},
        {name: v.origin for name, v in merged.items()},
        problems,
        unknown=lambda _origin, key: f"{path}: unknown key {key!r}; see `supervisor config --schema`",
        file_path=path,
    )

    written_after: dict[str, tuple[str, ...] | None] = {}
    graph_origins: dict[str, str] = {}
    gathered = _gather_gates(file_gates, path, environ, problems)
    from_files: dict[str, str] = {}
    unresolved: list[str] | None = [] if unresolved_ok else None
    gates = _build_gates(gathered, environ, problems, written_after, graph_origins, path, from_files, unresolved)
    prestart = _gather_prestart(file_prestart, path, environ, problems)
    graph_origins.update({t.name: t.source for t in prestart})
    if not problems:
        gates, prestart = _resolve_order(gates, written_after, prestart, graph_origins, problems)
    for gate in gates:
        if gate.kind == "cmd" and check_programs:
            problems += _missing_program(gate.argv, f"{GATE_PREFIX}{gate.name.upper()} (cmd:)")
    for task in prestart:
        register(s for arg in task.argv for s in secrets_in_text(arg))
        if check_programs:
            problems += _missing_program(task.argv, task.source)

    argv: tuple[str, ...] = tuple(command)
    app_probe: GateSpec | None = None
    probe_source: str | None = None
    warnings: list[str] = []
    if settings is not None:
        if settings.backoff_max < settings.backoff_initial:
            where = _origin(merged, "backoff_max")
            problems.append(f"{where}: must not be shorter than backoff_initial ({settings.backoff_initial:g}s)")
        command_source = "the command after --"
        if not argv and settings.command:
            command_source = _origin(merged, "command")
            try:
                argv = tuple(cmdline.split(settings.command))
            except ValueError as exc:
                problems.append(f"{command_source}: cannot split it like a shell ({exc})")
        register(s for arg in argv for s in secrets_in_text(arg))
        if check_programs and argv:
            problems += _missing_program(argv, command_source)
        daemon = gunicorn.daemon_mode(argv, environ)
        if daemon is not None:
            problems.append(
                f"{command_source}: {daemon} runs gunicorn as a daemon, which leaves the supervisor at once "
                "and serves on unsupervised; remove it (gunicorn stays in the foreground)"
            )
        app_probe, probe_source = _app_probe(settings, merged, argv, problems, environ)
        known = {(PREFIX + n).upper() for n in Settings.model_fields} | {CONFIG_ENV}
        for var in sorted(environ):
            up = var.upper()
            if up.startswith(PREFIX) and not up.startswith((GATE_PREFIX, PRESTART_PREFIX)) and up not in known:
                warnings.append(f"{var} is not a setting of this supervisor and is ignored")
        for gate in gates:
            if gate.kind == "tcp-level":
                scheme = gate.url.partition(":")[0].lower()
                warnings.append(
                    f"gate {gate.name}: {scheme}:// has no driver here and is checked at TCP level only (that "
                    f"something listens at {url_host(gate.host)}:{gate.port}, not a login); "
                    "a cmd: gate can run its own client"
                )
    if problems or settings is None:
        raise ConfigError([*problems, *(unresolved or ())])
    # Every secret is registered only now: a command line parsed before another gate's URL may
    # still hold that URL's password, so the shown forms are masked here, once, for all outputs.
    gates = [
        replace(g, display="cmd:" + shown_command(g.argv) if g.kind == "cmd" else redact_text(g.display)) for g in gates
    ]
    if app_probe is not None:
        app_probe = replace(app_probe, display=redact_text(app_probe.display))
    prestart = tuple(replace(t, display=shown_command(t.argv)) for t in prestart)
    return Config(
        settings=settings,
        gates=tuple(gates),
        command=argv,
        app_probe=app_probe,
        app_probe_source=probe_source,
        config_file=str(Path(path)) if path else None,
        warnings=tuple(warnings),
        prestart=prestart,
        from_files=from_files,
        unresolved=tuple(unresolved or ()),
    )


def export_file_variables(from_files: Mapping[str, str], environ: MutableMapping[str, str]) -> None:
    """``VAR`` set to the content of ``VAR_FILE``, and ``VAR_FILE`` unset, for every ``env:VAR``
    gate that read a file: the app reads ``os.environ["DATABASE_URL"]`` as it would without the
    supervisor in front. Call before any thread starts (it changes the environment)."""
    for var, value in from_files.items():
        environ[var] = value
        environ.pop(var + "_FILE", None)


def json_schema() -> dict[str, Any]:
    """JSON schema of the TOML file (the environment takes the same names, upper-cased)."""
    schema = Settings.model_json_schema()
    gate_schema = GateSettings.model_json_schema()
    schema["title"] = "container-supervisor configuration"
    schema["additionalProperties"] = False
    task_schema = TaskSettings.model_json_schema()
    schema["properties"]["prestart"] = {
        "type": "object",
        "description": 'pre-start tasks, run once before the app starts: name = "command", a list of arguments, '
        "or a [prestart.NAME] table; or SUPERVISOR_PRESTART_<NAME>[__FIELD] variables",
        "additionalProperties": {
            "anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}, task_schema]
        },
    }
    schema.setdefault("properties", {})["gates"] = {
        "type": "object",
        "description": "one table per gate: [gates.NAME]; or SUPERVISOR_GATE_<NAME>[__FIELD] variables",
        "additionalProperties": {"anyOf": [gate_schema, {"type": "string", "description": "the gate URL"}]},
    }
    return schema
