"""The configuration ``run``, ``check`` and ``config`` start from: flags, environment and file
merged and validated, with the problems of this command's own options added to the same list."""

import os

from supervisor.commands.output import Invocation
from supervisor.config.models import flags
from supervisor.config.settings import Config, ConfigError, export_file_variables, load_config


def load(call: Invocation, *, check_programs: bool = False, unresolved_ok: bool = False) -> Config:
    """The validated configuration; ``ConfigError`` with every problem found."""
    return load_config(
        cli={name: getattr(call.args, name, None) for name, _metavar, _help in flags(call.args.command)},
        config_file=call.args.config,
        command=list(call.command),
        check_programs=check_programs,
        unresolved_ok=unresolved_ok,
    )


def export_secrets_read_from_files(config: Config) -> None:
    """``VAR`` for every ``VAR_FILE`` a gate URL was read from, for the gates and the app to see;
    while no thread runs yet, since it changes the environment."""
    export_file_variables(config.from_files, os.environ)


__all__ = ["ConfigError", "export_secrets_read_from_files", "load"]
