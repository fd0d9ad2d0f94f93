"""``supervisor run``: the supervisor itself, as PID 1 in front of the app.

The configuration and the descriptor budget are settled before anything starts; then logging,
the file-descriptor limit, and the supervisor's one task group (``runtime/supervise.py``).
"""

import dataclasses

import anyio

from supervisor import exitcodes, logs
from supervisor.commands.loading import ConfigError, export_secrets_read_from_files, load
from supervisor.commands.output import Invocation, fail_config
from supervisor.config.settings import Config
from supervisor.pid1 import fdlimit
from supervisor.runtime.supervise import Supervisor


def main(call: Invocation) -> int:
    try:
        config = load(call, check_programs=True)
        if not config.command:
            raise ConfigError(
                ["no command to run: give one after `--` or set SUPERVISOR_COMMAND (or `command` in the file)"]
            )
        budget = _fit_descriptors(config)
    except ConfigError as exc:
        return fail_config(exc.problems)
    export_secrets_read_from_files(config)
    try:
        log = logs.setup(config.settings.log_level, config.settings.log_format)
        for warning in (*config.warnings, *([budget.warning] if budget.warning else [])):
            log.warning(warning)
        try:
            child_nofile = fdlimit.apply(budget)
        except (OSError, ValueError) as exc:  # a limit we may not raise after all: keep what we have
            log.warning("cannot raise the file-descriptor limit to %s: %s", budget.raise_soft_to, exc)
            child_nofile = None
        settings = config.settings.model_copy(update={"health_max_connections": budget.max_connections})
        return _supervise(call, dataclasses.replace(config, settings=settings), child_nofile)
    except KeyboardInterrupt:
        return exitcodes.from_signal(2)


def _fit_descriptors(config: Config) -> fdlimit.Plan:
    """The descriptor budget of ``run`` (``fdlimit``): a ConfigError when it cannot fit."""
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


def _supervise(call: Invocation, config: Config, child_nofile: tuple[int, int] | None) -> int:
    supervisor = Supervisor(config, inbox=call.inbox, child_nofile=child_nofile)

    async def supervise() -> int:
        return call.end(await supervisor.run())

    try:
        return anyio.run(supervise)
    except BaseException:  # the supervisor's own net failed: still, nothing it started stays
        logs.get().critical("internal error; please report it", exc_info=True)
        if supervisor.table is not None:
            supervisor.table.stop_everything(config.settings.stop_timeout)
        return exitcodes.INTERNAL_ERROR
