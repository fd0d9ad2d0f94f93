"""``supervisor config``: the configuration as it will be used, every secret masked, as text
(the file's own spelling of each value) or JSON; ``--schema`` prints the file's JSON schema."""

import json
import sys
from typing import Any

from supervisor import exitcodes
from supervisor.commands.loading import ConfigError, load
from supervisor.commands.output import Invocation, fail_config, say, write
from supervisor.config.settings import Config


def main(call: Invocation) -> int:
    if call.args.schema:
        from supervisor.config.settings import json_schema

        write(sys.stdout, json.dumps(json_schema(), indent=2) + "\n")
        return exitcodes.OK
    try:
        config = load(call, unresolved_ok=True)
    except ConfigError as exc:
        return fail_config(exc.problems)
    return show(config, as_json=call.args.json)


def effective(config: Config) -> dict[str, Any]:
    """The configuration as it will be used, every secret replaced by ***.

    Each string is masked on its own, before anything is rendered: masking rendered JSON could
    turn a password such as ``true`` into broken JSON.
    """
    from supervisor.config.settings import Settings
    from supervisor.core.durations import format_duration
    from supervisor.core.redaction import redact_text
    from supervisor.kinds.urls import mask_unparsed

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


def show(config: Config, *, as_json: bool) -> int:
    data = effective(config)
    if as_json:
        write(sys.stdout, json.dumps(data, indent=2) + "\n")
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
        write(sys.stdout, "\n".join(lines) + "\n")
    for warning in config.warnings:
        say(f"warning: {warning}")
    if config.unresolved:  # shown above as unresolved; still a configuration that cannot run
        return fail_config(config.unresolved)
    return exitcodes.OK
