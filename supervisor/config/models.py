"""The shapes a configuration must have, and what each setting accepts in words.

Every hint in an error line is read off the field it concerns (``accepted``), so a bound or a
choice changed here changes its message too; nothing here knows where a value came from beyond
the origin it is handed, so the same models judge flags, variables and the TOML file.
"""

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Annotated, Any, Literal, TypeVar, get_args, get_origin

import annotated_types
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, ValidationInfo, WithJsonSchema

from supervisor.core.durations import ACCEPTED as DURATION_ACCEPTED
from supervisor.core.durations import ACCEPTED_OR_ZERO as DURATION_OR_ZERO_ACCEPTED
from supervisor.core.durations import format_duration, parse_duration, parse_duration_or_zero
from supervisor.core.redaction import shorten
from supervisor.kinds.registry import ACCEPTED_URLS
from supervisor.kinds.urls import mask_unparsed

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


# The choices of the settings that the runtime acts on, one type from the model to the code that
# reads them (mypy then refuses a comparison with a word that is not one of them)
OnStartupTimeout = Literal["degraded", "exit"]
RestartMode = Literal["never", "on-failure", "always"]
OnRestartLimit = Literal["exit", "degraded"]
OnAppUnresponsive = Literal["ignore", "restart", "exit"]
ListenHandoff = Literal["gunicorn", "systemd"]
HealthReasons = Literal["all", "loopback"]


class Flag:
    """Marks a setting that is also a flag (``--health-port``) of the commands named. The flag is
    generated from the field (``flags``): its help is the field's description, its default the
    field's, so a setting is declared once. Every setting is a variable and a file key; a flag
    is for what one invocation is likely to change."""

    def __init__(self, *commands: str, metavar: str | None = None) -> None:
        self.commands = commands
        self.metavar = metavar  # default: the choices of a Literal, a|b|c


RUN_CHECK, EVERY = ("run", "check"), ("run", "check", "config")


class Settings(BaseModel):
    """The supervisor's scalar settings; each field is ``SUPERVISOR_<FIELD>`` in the environment."""

    model_config = ConfigDict(extra="forbid")

    health_host: Annotated[str, Flag("run", metavar="HOST")] = Field(
        "0.0.0.0",
        min_length=1,
        pattern=r"^[^\s]+$",
        description="address the health endpoints listen on",
        json_schema_extra={"accepted": "an address such as 0.0.0.0, 127.0.0.1 or ::"},
    )
    health_port: Annotated[WholeNumber, Flag("run", metavar="PORT")] = Field(
        8081, ge=1, le=65535, description="port of the health endpoints"
    )
    health_max_connections: WholeNumber = Field(
        256,
        ge=8,
        le=10000,
        description="open health connections kept at most; the oldest idle one is dropped",
    )
    health_idle_timeout: Duration = Field(5.0, description="an idle or slow health connection is closed after this")
    health_reasons: HealthReasons = Field(
        "all",
        description="who is told why checks fail: `all` callers, or `loopback` ones only (others read "
        "`reason withheld`, as from the Kubernetes API server)",
    )
    command: str | None = Field(None, description="command to spawn when none follows `--`; split like a shell")
    startup_timeout: Annotated[Duration, Flag(*RUN_CHECK, metavar="DURATION")] = Field(
        60.0, description="how long the gates may take before the startup verdict"
    )
    on_startup_timeout: Annotated[OnStartupTimeout, Flag("run")] = Field(
        "degraded", description="`degraded`: stay up, not ready, keep retrying; `exit`: exit 69"
    )
    backoff_initial: Duration = Field(0.1, description="first retry delay")
    backoff_max: Duration = Field(2.0, description="longest retry delay")
    check_interval: Annotated[Duration, Flag("run", metavar="DURATION")] = Field(
        10.0, description="how often gates are re-checked once the app runs"
    )
    stop_timeout: Annotated[Duration, Flag("run", metavar="DURATION")] = Field(
        30.0, description="after a stop signal, how long the child may take before SIGKILL"
    )
    drain_delay: DurationOrZero = Field(
        0.0, description="after SIGTERM, readiness is off at once but the app keeps serving this long"
    )
    restart: RestartMode = Field(
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
    on_restart_limit: OnRestartLimit = Field(
        "exit", description="`exit` with the app's last code, or `degraded`: stay up, not ready"
    )
    subreaper: Boolean = Field(
        False, description="reap orphans as a child subreaper even when not PID 1 (PR_SET_CHILD_SUBREAPER)"
    )
    app_probe: Annotated[str | None, Flag("run", metavar="URL")] = Field(
        None, description="tcp:// or http(s):// address of the app; ready also means the app answers it"
    )
    app_probe_timeout: Duration = Field(2.0, description="limit for one app probe attempt")
    app_listen: str | None = Field(
        None,
        description="addresses the supervisor binds at start and holds across app restarts, handed to the app "
        "as LISTEN_FDS (fd 3, 4, ...): HOST:PORT, [IPv6]:PORT or unix:/path, comma-separated",
    )
    app_listen_handoff: ListenHandoff = Field(
        "gunicorn",
        description="who takes APP_LISTEN's sockets: `gunicorn` (checked: no --reuse-port, no other --bind), "
        "or `systemd` for any app that reads LISTEN_FDS or takes fd 3 (uvicorn --fd 3)",
    )
    on_app_unresponsive: OnAppUnresponsive = Field(
        "ignore",
        description="when the app answered its probe, then failed APP_PROBE_THRESHOLD in a row: `ignore` "
        "(readiness off until it answers again), `restart` it (under RESTART_LIMIT), or stop it and `exit` 75",
    )
    app_probe_threshold: WholeNumber = Field(
        3, ge=1, description="failed app probes in a row, after it first answered, that make the app unresponsive"
    )
    log_level: Annotated[Literal["debug", "info", "warning", "error"], Flag(*EVERY)] = Field(
        "info", description="the supervisor's log level"
    )
    log_format: Annotated[Literal["json", "text"] | None, Flag(*EVERY)] = Field(
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


def _bases(annotation: Any) -> tuple[Any, ...]:
    """The types an annotation stands for: ``int`` for ``int``, ``bool`` for ``Boolean | None``."""
    found = [annotation, *get_args(annotation)]
    return tuple(get_args(t)[0] if get_origin(t) is Annotated else t for t in found)


def _listed(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def _documented(metadata: Sequence[object]) -> str | None:
    for meta in metadata:
        if isinstance(meta, WithJsonSchema) and meta.json_schema and "description" in meta.json_schema:
            return str(meta.json_schema["description"])
    return None


def flags(command: str) -> list[tuple[str, str, str]]:
    """(setting, metavar, help) of each flag ``command`` takes, in the model's order."""
    found = []
    for name, field in Settings.model_fields.items():
        mark = next((m for m in field.metadata if isinstance(m, Flag)), None)
        if mark is None or command not in mark.commands:
            continue
        metavar = mark.metavar or "|".join(_choices(field.annotation))
        default = field.default
        shown = (
            ""
            if default is None
            else f"; default {format_duration(default) if isinstance(default, float) else default}"
        )
        found.append((name, metavar, f"{field.description} (SUPERVISOR_{name.upper()}{shown})"))
    return found


def _choices(annotation: Any) -> list[str]:
    """The words of a ``Literal`` annotation, also of an optional one (``Literal[...] | None``)."""
    if get_origin(annotation) is Literal:
        return [str(c) for c in get_args(annotation)]
    literal = next((a for a in get_args(annotation) if get_origin(a) is Literal), None)
    return [] if literal is None else [str(c) for c in get_args(literal)]


def accepted(model: type[BaseModel], name: str, pydantic_msg: str = "a valid value") -> str:
    """What the field ``name`` of ``model`` accepts, in words, read off the field itself: an
    ``accepted`` note, a documented type (durations, name lists), its literals, its bounds."""
    field = model.model_fields.get(name)
    if field is None:
        return pydantic_msg
    extra = field.json_schema_extra
    if isinstance(extra, dict) and isinstance(extra.get("accepted"), str):
        return str(extra["accepted"])
    annotation = field.annotation
    choices = [a for a in get_args(annotation) if a is not type(None)]
    bases = [get_args(c)[0] if get_origin(c) is Annotated else c for c in choices]  # Boolean | None
    # a documented type (Duration), or an optional one (Duration | None)
    for metadata in [field.metadata, *(getattr(choice, "__metadata__", ()) for choice in choices)]:
        documented = _documented(metadata)
        if documented is not None:
            return documented
    if _choices(annotation):
        return _listed(_choices(annotation))
    if annotation is bool or bool in bases:
        return "true or false"
    if annotation is int:
        low = next((m.ge for m in field.metadata if isinstance(m, annotated_types.Ge)), None)
        high = next((m.le for m in field.metadata if isinstance(m, annotated_types.Le)), None)
        if low is not None and high is not None:
            return f"a whole number from {low} to {high}"
        return f"a whole number >= {low}" if low is not None else "a whole number"
    return pydantic_msg


M = TypeVar("M", bound=BaseModel)


def unknown_in(noun: str, model: type[BaseModel]) -> Callable[[str, str], str]:
    known = ", ".join(model.model_fields)
    return lambda origin, key: f"{origin}: unknown {noun} setting {key!r}; accepted: {known}"


def validate(
    model: type[M],
    values: Mapping[str, Any],
    origins: Mapping[str, str],
    *,
    unknown: Callable[[str, str], str],
    file_path: str | None = None,
) -> tuple[M | None, list[str]]:
    """``values`` validated by ``model``, or None and one problem line per setting: where it was
    given, what it was, and what the field accepts (``unknown(origin, key)`` words an extra key).
    Values whose origin is in the file at ``file_path`` must have the field's TOML type."""
    file_keys = frozenset(k for k, o in origins.items() if file_path and o.startswith(f"{file_path}: "))
    try:
        return model.model_validate(values, context={"file_keys": file_keys}), []
    except ValidationError as exc:
        problems: list[str] = []
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
                problems.append(f"{origin}={show(values.get(attr))}: expected {wanted}")
        return None, problems


def show(value: Any) -> str:
    """A value for an error line: every known secret and any URL password masked, kept short."""
    text = value if isinstance(value, str) else repr(value)
    return shorten(mask_unparsed(text), 200)  # masked whole, then cut
