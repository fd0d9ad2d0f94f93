"""Where a configuration comes from: the TOML file, then the environment, then flags.

Each value is kept with its origin (``--health-port``, ``SUPERVISOR_HEALTH_PORT``,
``file.toml: key 'health_port'``) so that a problem line names what to fix. Gates and pre-start
tasks are families of variables, ``SUPERVISOR_GATE_<NAME>[__FIELD]`` and
``SUPERVISOR_PRESTART_<NAME>[__FIELD]``, merged with their file tables by one gatherer, so the
two cannot drift apart in how they treat duplicates or name their origins.
"""

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from supervisor.config.models import ConfigError, Settings
from supervisor.config.secretfiles import NotRegularError, read_regular
from supervisor.kinds.urls import secrets_in_text

PREFIX = "SUPERVISOR_"
GATE_PREFIX = PREFIX + "GATE_"
PRESTART_PREFIX = PREFIX + "PRESTART_"
CONFIG_ENV = PREFIX + "CONFIG"


@dataclass(frozen=True)
class Value:
    """A setting's value as given, and where it was given, as an error line names it."""

    value: Any
    origin: str


def merge(
    cli: Mapping[str, Any], environ: Mapping[str, str], path: str | None, file_values: Mapping[str, Any]
) -> dict[str, Value]:
    """Flags over environment over file, per setting. Unknown file keys are kept, so that the
    model refuses them; unknown variables only earn a warning (``unknown_variables``)."""
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


def origin(merged: Mapping[str, Value], name: str) -> str:
    """A default has no origin of its own: the setting's name is the best a line can say."""
    return merged[name].origin if name in merged else name


def _scalar_variables(environ: Mapping[str, str]) -> Iterator[str]:
    """``SUPERVISOR_*`` variables that are not part of a gate or pre-start family."""
    for var in sorted(environ):
        up = var.upper()
        if up.startswith(PREFIX) and not up.startswith((GATE_PREFIX, PRESTART_PREFIX)):
            yield var


def case_duplicates(environ: Mapping[str, str]) -> list[str]:
    """Settings spelled twice with different case: which one wins would be an accident."""
    seen: dict[str, str] = {}
    problems = []
    for var in _scalar_variables(environ):
        up = var.upper()
        if up in seen:
            problems.append(f"{seen[up]} and {var} set the same setting (names are not case-sensitive); keep one")
        seen[up] = var
    return problems


def unknown_variables(environ: Mapping[str, str]) -> list[str]:
    """Only a warning: a variable meant for a newer or older supervisor must not stop this one."""
    known = {(PREFIX + n).upper() for n in Settings.model_fields} | {CONFIG_ENV}
    return [
        f"{var} is not a setting of this supervisor and is ignored"
        for var in _scalar_variables(environ)
        if var.upper() not in known
    ]


def _nul_keys(value: Any, key: str = "") -> list[str]:
    """Keys of the file whose string values hold a NUL byte (no program can take one)."""
    if isinstance(value, str):
        return [key] if "\x00" in value else []
    if isinstance(value, dict):
        return [k for name, item in value.items() for k in _nul_keys(item, f"{key}.{name}" if key else name)]
    if isinstance(value, list):
        return [k for item in value for k in _nul_keys(item, key)]
    return []


def read_file(path: str) -> dict[str, Any]:
    """The TOML file, or a ConfigError: a file that cannot be read leaves nothing to validate."""
    import tomllib  # only when a file is given: most containers configure by environment alone

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


@dataclass(frozen=True)
class FileParts:
    """The file split as it is validated: scalar settings by ``Settings``, the two families by
    the gatherer (each entry by its own model)."""

    settings: dict[str, Any] = field(default_factory=dict)
    gates: object = None
    prestart: object = None


def split_file(values: dict[str, Any]) -> FileParts:
    settings = dict(values)
    gates, prestart = settings.pop("gates", None), settings.pop("prestart", None)
    command = settings.get("command")
    if isinstance(command, list) and command and all(isinstance(a, str) for a in command):
        import shlex  # a TOML array is the unambiguous spelling; the setting itself is one line

        settings["command"] = shlex.join(command)
    return FileParts(settings, gates, prestart)


@dataclass(frozen=True)
class Family:
    """One family of variables and its file table: what differs between gates and tasks is
    only words and the field a bare value stands for."""

    prefix: str  # SUPERVISOR_GATE_
    table: str  # the file's key: gates
    noun: str  # gate
    main: str  # the field a bare value sets: url
    table_hint: str  # what the file's key must hold, in words
    entry: Callable[[str | None, str], str]  # (file path, name) -> how an entry of the file is named
    bare: Callable[[object], bool]  # whether a file entry that is not a table may stand for `main`
    bare_hint: str  # what a bare entry may be, in words
    separator: str  # between an entry's name and a field's in an origin
    bare_is_entry: bool  # a bare entry's origin is the entry's, not its `main` field's


GATES = Family(
    GATE_PREFIX,
    "gates",
    "gate",
    "url",
    "a table of [gates.NAME] tables",
    lambda path, name: f"{path}: [gates.{name}]",
    lambda value: isinstance(value, str),
    "a URL string",
    " ",
    False,
)
PRESTART = Family(
    PRESTART_PREFIX,
    "prestart",
    "pre-start task",
    "command",
    'a table of name = "command"',
    lambda path, name: f"{path}: [prestart] {name}",
    lambda _value: True,
    "a command",
    ".",
    True,
)


@dataclass
class Entry:
    """One gate or task as given: raw values, each value's origin, and the origin of the entry
    itself (its file entry, else its first variable) for lines about the entry as a whole."""

    values: dict[str, Any]
    origins: dict[str, str]
    first: str

    def where(self, main: str) -> str:
        return self.origins.get(main, self.first)


def _field_origin(family: Family, key: str, name: str, bare: bool) -> str:
    return key if bare and family.bare_is_entry else f"{key}{family.separator}{name}"


def _from_file(family: Family, entries: object, path: str | None) -> tuple[dict[str, Entry], list[str]]:
    gathered: dict[str, Entry] = {}
    if entries is None:
        return gathered, []
    if not isinstance(entries, dict):
        return gathered, [f"{path}: key '{family.table}' must be {family.table_hint}"]
    problems: list[str] = []
    for name, value in entries.items():
        key = family.entry(path, name)
        if name.lower() in gathered:
            problems.append(
                f"{key} and {gathered[name.lower()].first} name the same {family.noun} "
                "(names are not case-sensitive); keep one"
            )
            continue
        bare = not isinstance(value, dict)
        if bare and not family.bare(value):
            problems.append(f'{key} must be a table with at least {family.main} = "..." or {family.bare_hint}')
            continue
        table = {family.main: value} if bare else dict(value)
        gathered[name.lower()] = Entry(table, {k: _field_origin(family, key, k, bare) for k in table}, key)
    return gathered, problems


def gather(
    family: Family, file_entries: object, path: str | None, environ: Mapping[str, str]
) -> tuple[dict[str, Entry], list[str]]:
    """name -> entry, in name order (the default order of tasks); the environment overrides the
    file per field. A name spelled twice in different case is a problem, never a silent choice."""
    gathered, problems = _from_file(family, file_entries, path)
    from_env: dict[tuple[str, str], str] = {}
    for var in sorted(environ):
        if not var.upper().startswith(family.prefix):
            continue
        name, sep, attr = var[len(family.prefix) :].partition("__")
        name, attr = name.lower(), attr.lower() if sep else family.main
        if (name, attr) in from_env:
            problems.append(
                f"{from_env[name, attr]} and {var} set the same {family.noun} setting (variable names are not "
                "case-sensitive here); keep one"
            )
            continue
        from_env[name, attr] = var
        entry = gathered.setdefault(name, Entry({}, {}, var))
        entry.values[attr] = environ[var]
        entry.origins[attr] = var
    valid: dict[str, Entry] = {}
    for name in sorted(gathered):
        entry = gathered[name]
        if _valid_name(name):
            valid[name] = entry
        else:
            where = entry.where(family.main)
            problems.append(f"{where}: {family.noun} name {name!r} must use only letters, digits and _")
    return valid, problems


def _valid_name(name: str) -> bool:
    return bool(name) and all(c.isalnum() or c == "_" for c in name) and name.isascii()


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, Mapping):
        return [text for item in value.values() for text in _strings(item)]
    if isinstance(value, list | tuple):
        return [text for item in value for text in _strings(item)]
    return []


def secrets_given(
    environ: Mapping[str, str], cli: Mapping[str, Any], file: FileParts, command: Sequence[str]
) -> tuple[str, ...]:
    """Every secret in every value given, found before any problem line is composed: a line
    about one setting may quote a value that holds another setting's password (gate B's
    password written into gate A's bad value), and masking only what was found so far would
    show it. Read liberally and never judged here: validation comes after."""
    values = [v for k, v in environ.items() if k.upper().startswith(PREFIX)]
    values += [environ[v[4:]] for v in values if v.startswith("env:") and v[4:] in environ]  # env:VAR gates
    values += _strings(dict(cli)) + _strings(file.settings) + _strings(file.gates) + _strings(file.prestart)
    values += list(command)
    return tuple(secret for text in values for secret in secrets_in_text(text))
