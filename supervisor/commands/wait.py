"""``supervisor wait TARGET... [-- CMD]``: wait until every target passes, then (optionally)
become CMD.

What wait-for-it, dockerize and curl loops do, with the gate engine: the same URL forms as
gates, every target at once, each attempt under its own timeout, jittered backoff. It exits 124
at the deadline, as ``timeout(1)`` and wait4x do. With ``-- CMD`` it *replaces itself* with CMD
(``exec``): CMD's exit code is the result and no supervisor stays in between; at the deadline
CMD is not run. A target that fails for good (a ``config:`` variable not set) ends the wait at
once, exit 1. Every few seconds it says what it is still waiting for, and why.
"""

import json
import os
import signal
import sys
from collections.abc import Callable, Sequence

import anyio

from supervisor import exitcodes
from supervisor.commands.output import PROG, Invocation, fail_config, say, write
from supervisor.config.gatespec import GateSpec
from supervisor.core import progress
from supervisor.core.backoff import Backoff
from supervisor.core.checks import CheckState, Status
from supervisor.core.readiness import Snapshot
from supervisor.health.render import check_json
from supervisor.runtime.engine import GateEngine
from supervisor.runtime.state import StateStore
from supervisor.runtime.verdict import run_to_verdict


def _line(state: CheckState) -> str:
    took = "" if state.last_duration is None else f", {state.last_duration * 1000:.0f} ms"
    return f"ready: {state.target} (after {state.attempts} attempt(s){took})"


async def wait_for(
    targets: tuple[GateSpec, ...], *, deadline: float, backoff: Backoff, emit: Callable[[str], None]
) -> tuple[Snapshot, int | None, bool]:
    """(final state, the stop signal if one came, whether every target passed)."""
    store = StateStore.of_gates(targets)
    engine = GateEngine(store, backoff, check_interval=1.0)
    reported: set[str] = set()

    def report(_before: Snapshot, after: Snapshot) -> None:
        for state in after.gates:
            if state.status is Status.PASS and state.name not in reported:
                reported.add(state.name)
                emit(_line(state))

    store.subscribe(report)

    async def tell_progress() -> None:
        while True:
            await anyio.sleep(progress.EVERY)
            snap = store.snapshot()
            for line in progress.still_waiting(
                (g for g in sorted(snap.gates, key=_position) if g.name not in reported), snap.now, by_target=True
            ):
                emit(line)

    def done(snap: Snapshot) -> bool:
        return len(reported) == len(targets) or any(g.final for g in snap.gates)

    async with anyio.create_task_group() as tg:
        tg.start_soon(tell_progress)
        stopped_by = await run_to_verdict(store, engine, targets, done, deadline, adopt_orphans=False)
        tg.cancel_scope.cancel()
    return store.snapshot(), stopped_by, len(reported) == len(targets)


def report_json(snapshot: Snapshot, passed: bool) -> str:
    """One entry per target as given, in that order, keyed by its name (``target1``, ...): a
    target given twice is two entries, and two targets that show alike (``***``) stay apart."""
    doc = {
        "status": "pass" if passed else "fail",
        "checks": {g.name: [check_json(g)] for g in sorted(snapshot.gates, key=_position)},
    }
    return json.dumps(doc, indent=2) + "\n"


def _position(state: CheckState) -> int:
    """The place of a target on the command line, from its name ``target<N>``."""
    digits = state.name.removeprefix("target")
    return int(digits) if digits.isascii() and digits.isdigit() else 0


def failures(snapshot: Snapshot) -> list[str]:
    ordered = sorted(snapshot.gates, key=_position)
    return [f"not ready: {g.target}: {g.reason}" for g in ordered if g.status is not Status.PASS]


def become(command: Sequence[str]) -> int:
    """Replace this process with ``command``; returns only when that is impossible (127)."""
    sys.stdout.flush()
    sys.stderr.flush()
    for signum in (signal.SIGPIPE, signal.SIGXFSZ):  # Python ignores these; CMD must not inherit that
        signal.signal(signum, signal.SIG_DFL)
    try:
        os.execvp(command[0], list(command))
    except OSError as exc:
        print(f"supervisor: cannot run {command[0]!r}: {exc.strerror or exc}", file=sys.stderr)
    return exitcodes.COMMAND_NOT_FOUND


def main(call: Invocation) -> int:
    args, command = call.args, call.command

    import anyio

    from supervisor.config.gatespec import (
        GateSpec,
        GateUrlError,
        build_gate,
        env_file_variable,
        expand_url,
        resolve_env_url,
        shown_command,
        shown_form,
    )
    from supervisor.config.settings import export_file_variables
    from supervisor.core.backoff import Backoff
    from supervisor.core.durations import parse_duration
    from supervisor.core.redaction import redact_text, register
    from supervisor.kinds.urls import mask_unparsed, secrets_in_text

    bad_durations: list[tuple[str, str, str]] = []  # (flag, value, why)
    bad_targets: list[tuple[int, str, str]] = []  # (position, target, why)
    loose: tuple[int, list[str]] | None = None  # where a command without `--` begins, and its words
    specs: list[GateSpec] = []
    durations = {}
    for flag, text in (("--timeout", args.timeout), ("--attempt-timeout", args.attempt_timeout)):
        try:
            durations[flag] = parse_duration(text)
        except ValueError as exc:
            bad_durations.append((flag, text, str(exc)))
    from_files: dict[str, str] = {}
    for i, target in enumerate(args.targets, 1):
        try:
            url = resolve_env_url(expand_url(target, os.environ), os.environ)
            var = env_file_variable(target, os.environ)
            if var is not None:
                from_files[var] = url
            specs.append(
                build_gate(
                    f"target{i}",
                    url,
                    timeout=durations.get("--attempt-timeout", 5.0),
                    critical=True,
                    startup_only=True,
                    failure_threshold=1,
                )
            )
        except GateUrlError as exc:
            if ":" in target:
                bad_targets.append((i, target, str(exc)))
                continue
            # no URL has no colon: a command without the `--` before it (`wait tcp://db:5432 migrate`)
            loose = (i, list(args.targets[i - 1 :]))
            break
    register(s for arg in command for s in secrets_in_text(arg))  # as `load_config` does for the app's
    if loose is not None:
        register(s for arg in loose[1] for s in secrets_in_text(arg))

    def shown(text: str) -> str:  # a value from outside, masked on its own once every secret is known
        return redact_text(mask_unparsed(text))

    problems = [f"{flag}={shown(text)}: expected {why}" for flag, text, why in bad_durations]
    problems += [f"target {i} ({shown(target)}): {why}" for i, target, why in bad_targets]
    from supervisor.config.assemble import missing_program
    from supervisor.config.gatespec import kind_of

    for spec in specs:  # looked up now, as `run` and `check` do: a missing program is exit 78, not 124
        if (kind := kind_of(spec)) is not None and kind.runs_command:
            problems += missing_program(spec.argv, f"target {spec.name.removeprefix('target')} ({spec.scheme}:)")
    problems += missing_program(command, "the command after --")
    if loose is not None:
        i, words = loose
        problems.append(
            f"target {i} ({shown(words[0])}) is not a URL: put the command after --: "
            f"{PROG} wait [options] TARGET... -- {shown_command([mask_unparsed(w) for w in words])}"
        )
    if problems:
        return fail_config(problems)
    # Every secret is registered only now (a `cmd:` target may hold another target's password), so
    # the shown forms are masked here, once, for every line and the JSON, as `load_config` does:
    # a command word by word, behind our "cmd:"
    specs = [shown_form(spec) for spec in specs]
    # with --json, stdout carries the one JSON document, and with a command after --, that
    # command's output: wait's own lines (ready:, still waiting for) go to stderr then
    progress = sys.stderr if args.json or command else sys.stdout
    export_file_variables(from_files, os.environ)  # config: targets and CMD see VAR, as under `run`

    async def wait() -> int:
        snapshot, stopped_by, passed = await wait_for(
            tuple(specs),
            deadline=durations["--timeout"],
            backoff=Backoff(0.1, 2.0),
            emit=lambda line: write(progress, line + "\n"),
        )
        if args.json:
            write(sys.stdout, report_json(snapshot, passed))
        if stopped_by is not None:
            return call.end(exitcodes.from_signal(stopped_by))
        if not passed:
            for line in failures(snapshot):
                say(line)
            if any(g.final for g in snapshot.gates):
                say(f"{PROG}: wait: a target cannot pass before a restart (exit {exitcodes.CHECK_FAILED})")
                return call.end(exitcodes.CHECK_FAILED)
            say(f"{PROG}: wait: not every target passed within {args.timeout} (exit {exitcodes.TIMED_OUT})")
            return call.end(exitcodes.TIMED_OUT)
        if command:
            return become(command)
        return call.end(exitcodes.OK)

    return anyio.run(wait)
