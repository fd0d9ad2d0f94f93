"""The configuration ``run``, ``check`` and ``config`` start from: flags, environment and file
merged and validated, with the problems of this command's own options added to the same list."""

import os

from supervisor.commands.output import Invocation
from supervisor.config.settings import Config, ConfigError, export_file_variables, load_config

# The settings a flag of the command line may set (the flags themselves: ``cli``)
FLAG_SETTINGS = (
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


def load(call: Invocation, *, check_programs: bool = False, unresolved_ok: bool = False) -> Config:
    """The validated configuration; ``ConfigError`` with every problem found."""
    return load_config(
        cli={name: getattr(call.args, name, None) for name in FLAG_SETTINGS},
        config_file=call.args.config,
        command=list(call.command),
        check_programs=check_programs,
        unresolved_ok=unresolved_ok,
    )


def export_secrets_read_from_files(config: Config) -> None:
    """``VAR`` for every ``VAR_FILE`` a gate URL was read from, for the gates and the app to see;
    while no thread runs yet, since it changes the environment."""
    export_file_variables(config.from_files, os.environ)


__all__ = ["FLAG_SETTINGS", "ConfigError", "export_secrets_read_from_files", "load"]
