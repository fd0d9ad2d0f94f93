"""``supervisor check``: run the gates once to a verdict, for CI jobs and init containers.

Gates retry with the same backoff as under ``run`` until every critical gate passed (and every
non-critical one had an attempt), or ``STARTUP_TIMEOUT`` ran out. Exit 0 when every critical gate
passed, 1 otherwise.
"""

import json
import sys
from collections.abc import Sequence

import anyio

from supervisor import exitcodes, logs
from supervisor.commands.loading import ConfigError, export_secrets_read_from_files, load
from supervisor.commands.output import PROG, Invocation, fail_config, say, write
from supervisor.config.gatespec import GateSpec
from supervisor.config.settings import Config
from supervisor.core.backoff import Backoff
from supervisor.core.checks import APP_PROCESS, Status
from supervisor.core.readiness import Snapshot, decide, holding
from supervisor.health.render import check_json
from supervisor.pid1 import processes
from supervisor.runtime.engine import GateEngine
from supervisor.runtime.state import StateStore
from supervisor.runtime.verdict import run_to_verdict


def _settled(snapshot: Snapshot) -> bool:
    """Every gate passed, or had its say: a non-critical one an attempt, a final failure its one."""
    return all(g.satisfied or g.final or (not g.critical and g.attempts > 0) for g in snapshot.gates)


async def run_checks(config: Config, gates: tuple[GateSpec, ...]) -> tuple[Snapshot, int | None]:
    """The final state, and the stop signal that cut the run short (if any)."""
    s = config.settings
    store = StateStore.of_gates(gates)
    engine = GateEngine(store, Backoff(s.backoff_initial, s.backoff_max), s.check_interval)
    adopt = processes.should_adopt_orphans(s.subreaper)
    stopped_by = await run_to_verdict(store, engine, gates, _settled, s.startup_timeout, adopt_orphans=adopt)
    return store.snapshot(), stopped_by


def report_text(snapshot: Snapshot) -> str:
    lines = []
    width = max((len(g.name) for g in snapshot.gates), default=4)
    for g in snapshot.gates:
        took = "" if g.last_duration is None else f"{g.last_duration * 1000:.0f} ms"
        mark = "+" if g.satisfied else "-"
        passed = "ok" + (f" ({g.detail})" if g.detail else "")
        detail = passed if g.status is Status.PASS else g.skipped_because or g.reason
        note = "" if g.critical else " (non-critical)"
        counts = f"{took:>8}  {g.attempts} attempt(s)"
        lines.append(f"[{mark}] {g.name:<{width}}  {g.status:<7} {counts}  {g.target}  {detail}{note}")
        if g.status is not Status.PASS:
            lines.extend(f"      | {line}" for line in g.output)  # what the failure printed
    ok = not holding(snapshot.gates)
    lines.append(f"check {'passed' if ok else 'failed'}")
    return "\n".join(lines) + "\n"


def report_json(snapshot: Snapshot) -> str:
    verdict = decide(snapshot, exclude=(APP_PROCESS,))
    report = {
        "status": "pass" if verdict.ready else "fail",
        "checks": {g.name: [check_json(g)] for g in snapshot.gates},
    }
    return json.dumps(report, indent=2) + "\n"


def exit_code(snapshot: Snapshot) -> int:
    return exitcodes.CHECK_FAILED if holding(snapshot.gates) else exitcodes.OK


def main(call: Invocation) -> int:
    only: Sequence[str] = call.args.gate
    try:
        config = load(call, check_programs=True)
        unknown = sorted(set(only) - {g.name for g in config.gates})
        if unknown:
            configured = ", ".join(g.name for g in config.gates) or "none"
            raise ConfigError([f"--gate {', '.join(unknown)}: no such gate; configured: {configured}"])
    except ConfigError as exc:
        return fail_config(exc.problems)
    export_secrets_read_from_files(config)
    log = logs.setup(config.settings.log_level, config.settings.log_format)
    for warning in config.warnings:
        log.warning(warning)
    gates = tuple(g for g in config.gates if not only or g.name in only)
    if not gates:
        say(f"{PROG}: no gates configured; set SUPERVISOR_GATE_<NAME>=URL")
        return exitcodes.OK

    async def check() -> int:
        snapshot, stopped_by = await run_checks(config, gates)
        write(sys.stdout, report_json(snapshot) if call.args.json else report_text(snapshot))
        return call.end(exitcodes.from_signal(stopped_by) if stopped_by is not None else exit_code(snapshot))

    try:
        return anyio.run(check)
    except KeyboardInterrupt:
        return exitcodes.from_signal(2)
