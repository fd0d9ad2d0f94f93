"""Configuration: command-line flags > environment (``SUPERVISOR_*``) > TOML file > defaults.

Everything is validated before anything starts. A problem never becomes a traceback: it becomes
one line naming the environment variable (or file key, or flag) and what is accepted, and the
command exits 78. This module is the entry point and the order of the steps; where values come
from is ``sources``, what they must be is ``models``, and what is built of them is ``assemble``.
"""

import os
from collections.abc import Iterable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from supervisor.config import assemble, sources
from supervisor.config.assemble import PrestartTask
from supervisor.config.gatespec import GateSpec
from supervisor.config.models import ConfigError, GateSettings, Settings, TaskSettings, validate
from supervisor.core.redaction import register
from supervisor.kinds.urls import secrets_in_text
from supervisor.pid1.held_sockets import ListenAddress

__all__ = [
    "Config",
    "ConfigError",
    "GateSettings",
    "PrestartTask",
    "Settings",
    "TaskSettings",
    "export_file_variables",
    "json_schema",
    "load_config",
]


@dataclass(frozen=True)
class Config:
    """The whole validated configuration of one supervisor invocation."""

    settings: Settings
    gates: tuple[GateSpec, ...]
    command: tuple[str, ...] = ()
    app_probe: GateSpec | None = None
    app_probe_source: str | None = None  # "SUPERVISOR_APP_PROBE", "gunicorn --bind" or "APP_LISTEN"
    listen: tuple[ListenAddress, ...] = ()  # the app's sockets the supervisor holds (APP_LISTEN)
    config_file: str | None = None
    warnings: tuple[str, ...] = field(default_factory=tuple)
    prestart: tuple[PrestartTask, ...] = ()
    # ``env:VAR`` gates whose URL came from ``VAR_FILE``: the app gets ``VAR`` with the file's
    # content and no ``VAR_FILE``, as the official images' entrypoints do (``export_file_variables``)
    from_files: Mapping[str, str] = field(default_factory=dict)
    unresolved: tuple[str, ...] = ()  # `config`: problem lines of gates whose URL needs an unset variable
    # What load_config registered for masking (the gates' parsed secrets are registered by their
    # parser as well); kept so that a caller can see what is masked without the global registry.
    secrets: tuple[str, ...] = field(default=(), repr=False)


def _register(found: Iterable[str]) -> tuple[str, ...]:
    """Registration is process-wide and only grows: every problem line composed afterwards,
    in any module, is masked with it."""
    secrets = tuple(found)
    register(secrets)
    return secrets


def _argv_secrets(argvs: Iterable[Sequence[str]]) -> list[str]:
    return [s for argv in argvs for arg in argv for s in secrets_in_text(arg)]


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
    path = config_file or environ.get(sources.CONFIG_ENV) or None
    file = sources.split_file(sources.read_file(path) if path else {})
    # First of all: a line about one setting may quote another's password
    secrets = _register(sources.secrets_given(environ, cli, file, command))
    merged = sources.merge(cli, environ, path, file.settings)
    problems = sources.case_duplicates(environ)

    settings, invalid = validate(
        Settings,
        {name: v.value for name, v in merged.items()},
        {name: v.origin for name, v in merged.items()},
        unknown=lambda _origin, key: f"{path}: unknown key {key!r}; see `supervisor config --schema`",
        file_path=path,
    )
    problems += invalid

    gathered, invalid = sources.gather(sources.GATES, file.gates, path, environ)
    problems += invalid
    gates, invalid = assemble.build_gates(gathered, environ, path, unresolved_ok)
    problems += invalid
    gathered, invalid = sources.gather(sources.PRESTART, file.prestart, path, environ)
    problems += invalid
    prestart, invalid = assemble.build_tasks(gathered, path)
    problems += invalid
    specs = gates.specs
    if not problems:
        (specs, prestart), invalid = assemble.resolve_order(gates, prestart)
        problems += invalid
    secrets += _register(_argv_secrets(t.argv for t in prestart))
    if check_programs:
        problems += assemble.gate_programs(specs)
        problems += [p for t in prestart for p in assemble.missing_program(t.argv, t.source)]

    argv: tuple[str, ...] = tuple(command)
    app_probe: GateSpec | None = None
    probe_source: str | None = None
    held: tuple[ListenAddress, ...] = ()
    warnings: list[str] = []
    if settings is not None:
        if settings.backoff_max < settings.backoff_initial:
            where = sources.origin(merged, "backoff_max")
            problems.append(f"{where}: must not be shorter than backoff_initial ({settings.backoff_initial:g}s)")
        (argv, command_source), invalid = assemble.app_command(settings, merged, argv)
        problems += invalid
        secrets += _register(_argv_secrets([argv]))
        if check_programs:
            problems += assemble.missing_program(argv, command_source)
        problems += assemble.gunicorn_daemon(argv, command_source, environ)
        held, invalid = assemble.app_listen(settings, merged, argv, environ)
        problems += invalid
        (app_probe, probe_source), invalid = assemble.app_probe(settings, merged, argv, environ, held)
        problems += invalid
        warnings = sources.unknown_variables(environ) + assemble.tcp_level_warnings(specs)
        warnings += assemble.unresponsive_warnings(settings, merged, app_probe)
    if problems or settings is None:
        raise ConfigError([*problems, *gates.unresolved])
    shown_gates, app_probe, shown_prestart = assemble.masked(specs, app_probe, prestart)
    return Config(
        settings=settings,
        gates=shown_gates,
        command=argv,
        app_probe=app_probe,
        app_probe_source=probe_source,
        listen=held,
        config_file=str(Path(path)) if path else None,
        warnings=tuple(warnings),
        prestart=shown_prestart,
        from_files=gates.from_files,
        unresolved=tuple(gates.unresolved),
        secrets=tuple(dict.fromkeys(secrets)),
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
